"""Playing the animation: the QTimer that drives ``AnimationState.advance``, the controls, the keys.

The state machine (``convplay.core.animation``) knows nothing of time; ``Player`` measures
the real time between ticks and hands it to ``advance``, so the speed holds even when a
frame comes late.  The timer runs only while the state is playing.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QWidget,
)

from convplay.core.animation import MAX_SPEED, MIN_SPEED, AnimationState

TICK_MS = 16  # one frame at 60 Hz: 60 steps/s is one step per tick
STEP_LABEL_WIDTH = 90  # pixels: "step 1000 / 1000" without the row jumping as it grows
CONTENT_MARGIN = 2


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
    """Start, back, play/pause, forward, end; a scrubber over every step; speed; loop.

    The widgets call the state's methods; the state's events update the widgets inside
    signal blockers, so neither side loops back on the other.
    """

    def __init__(self, state: AnimationState, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        layout = QHBoxLayout(self)
        layout.setContentsMargins(*(CONTENT_MARGIN,) * 4)
        self.start_button = _button("|\u25c0\u25c0", "Go to the first step (Home)", state.to_start)
        self.back_button = _button("\u25c0|", "One step back (\u2190)", state.step_back)
        self.play_button = _button("\u25b6", "Play or pause (Space)", state.toggle)
        self.forward_button = _button("|\u25b6", "One step forward (\u2192)", state.step_forward)
        self.end_button = _button("\u25b6\u25b6|", "Go to the last step (End)", state.to_end)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setToolTip("Drag to any step of the animation")
        self.scrubber.setMinimum(0)
        self.scrubber.valueChanged.connect(state.seek)
        self.step_label = QLabel()
        self.step_label.setToolTip("The current step and the number of steps")
        self.step_label.setMinimumWidth(STEP_LABEL_WIDTH)
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
        layout.addWidget(self.step_label)
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

    def _on_geometry(self) -> None:
        with QSignalBlocker(self.scrubber):
            self.scrubber.setMaximum(max(self.state.n_steps - 1, 0))
        self.setEnabled(self.state.n_steps > 0)
        self._on_position(self.state.position)

    def _on_position(self, k: int) -> None:
        with QSignalBlocker(self.scrubber):
            self.scrubber.setValue(k)
        n = self.state.n_steps
        self.step_label.setText(f"step {k + 1} / {n}" if n else "no steps")

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
