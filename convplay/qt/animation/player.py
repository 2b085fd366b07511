"""Playing the animation: the QTimer that drives ``AnimationState.advance``, the controls, the keys.

The state machine (``convplay.core.animation``) knows nothing of time; ``Player`` measures
the real time between ticks and hands it to ``advance``, so the speed holds even when a
frame comes late.  The timer runs only while the state is playing.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QSignalBlocker, QSize, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.animation import MAX_SPEED, MIN_SPEED, AnimationState

TICK_MS = 16  # one frame at 60 Hz: 60 steps/s is one step per tick
CONTENT_MARGIN = 2
# The scrubber keeps at least this width; when the row cannot also hold the whole step
# text, the text moves to a line of its own above the row.
SCRUBBER_MIN_PX = 160
SCRUBBER_INLINE_PX = 240  # ... and shares the row with the text only if it keeps this much
SEPARATOR = "  \u00b7  "


def step_text(subject: str, cell: tuple[int, int, int], k: int, n: int) -> str:
    """"output (channel 0, row 1, column 45)  ·  step 300 / 64,516": the position first."""
    if n <= 0:
        return "no steps"
    c, r, q = cell
    return f"{subject} (channel {c}, row {r}, column {q}){SEPARATOR}step {k + 1:,} / {n:,}"


class ElidedLabel(QLabel):
    """A one-line label that elides its end to the width it gets (the whole text in its
    tooltip), so that a long text never clips and never widens its row."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.preferred_width = 0  # what sizeHint asks for (0: a modest default)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        if text != self._full:
            self._full = text
            self.setToolTip(text)
            self._elide()

    def full_width(self, text: str | None = None) -> int:
        """Pixels the whole of ``text`` (default: the current text) takes in this font."""
        return QFontMetrics(self.font()).horizontalAdvance(self._full if text is None else text) + 4

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._elide()

    def _elide(self) -> None:
        metrics = QFontMetrics(self.font())
        shown = metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width() - 2, 0))
        if shown != self.text():
            self.setText(shown)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.preferred_width or min(hint.width(), 200), hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())


class Player(QObject):
    """Owns the timer; ``tick(dt)`` is what a timer tick does, callable directly in tests."""

    def __init__(self, state: AnimationState, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timeout)
        self._clock = QElapsedTimer()
        state.playing_changed.connect(self._on_playing_changed)

    def _on_playing_changed(self, playing: bool) -> None:
        if playing:
            self._clock.start()
            self.timer.start()
        else:
            self.timer.stop()

    def _on_timeout(self) -> None:
        dt = self._clock.nsecsElapsed() * 1e-9
        self._clock.restart()
        self.tick(dt)

    def tick(self, dt: float) -> int:
        return self.state.advance(dt)

    def disconnect_state(self) -> None:
        self.timer.stop()
        self.state.playing_changed.disconnect(self._on_playing_changed)


def _button(text: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.clicked.connect(slot)
    return button


class PlayerControls(QWidget):
    """Start, back, play/pause, forward, end; a scrubber over every step; speed; loop; and
    the step text, led by the position it computes ("output (channel c, row r, column q)",
    then "step k / N").

    The scrubber stretches and keeps ``SCRUBBER_MIN_PX``; the step text shares its row when
    the row holds it whole beside a scrubber of ``SCRUBBER_INLINE_PX``, else it takes a line
    above (eliding its end, never the position, at the narrowest).  The widgets call the
    state's methods; the state's events update the widgets inside signal blockers, so
    neither side loops back on the other.
    """

    def __init__(self, state: AnimationState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.subject = "output"  # what a step is the position of (a transposed conv steps over input pixels)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(*(CONTENT_MARGIN,) * 4)
        outer.setSpacing(1)
        self._text_row = QHBoxLayout()
        self._text_row.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._text_row)
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(layout)
        self._row = layout
        self._inline = True
        self.start_button = _button("|\u25c0\u25c0", "Go to the first step (Home)", state.to_start)
        self.back_button = _button("\u25c0|", "One step back (\u2190)", state.step_back)
        self.play_button = _button("\u25b6", "Play or pause (Space)", state.toggle)
        self.forward_button = _button("|\u25b6", "One step forward (\u2192)", state.step_forward)
        self.end_button = _button("\u25b6\u25b6|", "Go to the last step (End)", state.to_end)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setToolTip("Drag to any step of the animation")
        self.scrubber.setMinimum(0)
        self.scrubber.valueChanged.connect(state.seek)
        self.scrubber.setMinimumWidth(SCRUBBER_MIN_PX)
        self.scrubber.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.step_label = ElidedLabel()
        self.step_label.setToolTip("The output cell this step computes, then the step and the number of steps")
        self.speed = QDoubleSpinBox()
        self.speed.setRange(MIN_SPEED, MAX_SPEED)
        self.speed.setDecimals(1)
        self.speed.setSingleStep(1.0)
        self.speed.setSuffix(" steps/s")
        self.speed.setToolTip(f"Playing speed, {MIN_SPEED:g} to {MAX_SPEED:g} steps per second")
        self.speed.valueChanged.connect(state.set_speed)
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setToolTip("Start again from the first step after the last one")
        self.loop_box.toggled.connect(state.set_loop)
        for widget in (self.start_button, self.back_button, self.play_button, self.forward_button, self.end_button):
            layout.addWidget(widget)
        layout.addWidget(self.scrubber, 1)
        layout.addWidget(self.step_label, 0)
        layout.addWidget(self.speed)
        layout.addWidget(self.loop_box)
        state.position_changed.connect(self._on_position)
        state.geometry_changed.connect(self._on_geometry)
        state.playing_changed.connect(self._on_playing)
        state.speed_changed.connect(self._on_speed)
        state.loop_changed.connect(self._on_loop)
        self._on_geometry()
        self._on_playing(state.playing)
        self._on_speed(state.speed)
        self._on_loop(state.loop)

    def set_subject(self, subject: str) -> None:
        """What the steps walk over: "output" (a cell it computes) or "input pixel" (a
        transposed conv's stamps)."""
        if subject != self.subject:
            self.subject = subject
            self._on_geometry()

    def _on_geometry(self) -> None:
        with QSignalBlocker(self.scrubber):
            self.scrubber.setMaximum(max(self.state.n_steps - 1, 0))
        self.setEnabled(self.state.n_steps > 0)
        self._on_position(self.state.position)
        self._place_text()

    def _on_position(self, k: int) -> None:
        with QSignalBlocker(self.scrubber):
            self.scrubber.setValue(k)
        n = self.state.n_steps
        if n and self.answer_hidden:  # the count and the cell tell the output's size: "step 1 / ?"
            self.step_label.set_full_text(f"{self.subject}{SEPARATOR}step {k + 1:,} / ?")
            return
        self.step_label.set_full_text(step_text(self.subject, self.state.cell(k), k, n) if n else "no steps")

    answer_hidden = False  # a lesson's question pending: the number of steps is part of the answer

    def set_answer_hidden(self, on: bool) -> None:
        self.answer_hidden = bool(on)
        self._on_position(self.state.position)

    def _widest_text(self) -> str:
        """The step text at its widest for this geometry: the row is laid out for it once,
        so that it does not jump as the numbers grow."""
        c, h, w = self.state.shape
        n = self.state.n_steps
        return step_text(self.subject, (max(c - 1, 0), max(h - 1, 0), max(w - 1, 0)), max(n - 1, 0), n)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_text()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:  # the text zoom: the text's width changed
            self._place_text()

    def _place_text(self) -> None:
        """The step text in the transport row when the row holds it whole, else above it."""
        others = sum(w.sizeHint().width() for w in (self.start_button, self.back_button, self.play_button,
                                                     self.forward_button, self.end_button, self.speed, self.loop_box))
        spacing = self._row.spacing() * 8 + 2 * CONTENT_MARGIN
        text = self.step_label.full_width(self._widest_text())
        inline = self.width() >= others + spacing + SCRUBBER_INLINE_PX + text
        if inline != self._inline:
            self._inline = inline
            if inline:
                self._text_row.removeWidget(self.step_label)
                self._row.insertWidget(self._row.indexOf(self.scrubber) + 1, self.step_label, 0)
            else:
                self._row.removeWidget(self.step_label)
                self._text_row.addWidget(self.step_label, 1)
        # Inline it asks for the whole text (the scrubber takes the rest) but may be squeezed,
        # so that it never holds the window wider than it is; above, it takes the line.
        label = self.step_label
        policy = QSizePolicy.Policy.Preferred if inline else QSizePolicy.Policy.Ignored
        if label.sizePolicy().horizontalPolicy() != policy or label.preferred_width != (text if inline else 0):
            label.setSizePolicy(policy, QSizePolicy.Policy.Preferred)
            label.preferred_width = text if inline else 0
            label.updateGeometry()

    def _on_playing(self, playing: bool) -> None:
        self.play_button.setText("||" if playing else "\u25b6")

    def _on_speed(self, speed: float) -> None:
        with QSignalBlocker(self.speed):
            self.speed.setValue(speed)

    def _on_loop(self, loop: bool) -> None:
        with QSignalBlocker(self.loop_box):
            self.loop_box.setChecked(loop)

    def disconnect_state(self) -> None:
        for signal, slot in (
            (self.state.position_changed, self._on_position),
            (self.state.geometry_changed, self._on_geometry),
            (self.state.playing_changed, self._on_playing),
            (self.state.speed_changed, self._on_speed),
            (self.state.loop_changed, self._on_loop),
        ):
            signal.disconnect(slot)


# (key, AnimationState method name, what it does): the table the dock installs and the
# README lists.
SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("Space", "toggle", "play / pause"),
    ("Right", "step_forward", "one step forward"),
    ("Left", "step_back", "one step back"),
    ("Down", "next_row", "next output row"),
    ("Up", "previous_row", "previous output row"),
    ("Home", "to_start", "first step"),
    ("End", "to_end", "last step"),
)


def install_shortcuts(widget: QWidget, state: AnimationState) -> list[QShortcut]:
    """The animation keys, active while the focus is anywhere inside ``widget``.

    Scoped to the widget (not the window) so that typing in the kernel editor keeps its
    arrow keys and spaces.
    """
    shortcuts = []
    for key, method, _ in SHORTCUTS:
        shortcut = QShortcut(QKeySequence(key), widget)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(getattr(state, method))
        shortcuts.append(shortcut)
    return shortcuts
