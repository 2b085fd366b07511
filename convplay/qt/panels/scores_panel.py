"""Class scores: the last layer's output as labelled bars, live as the user draws.

For a classifier (the stack has class labels) the bars are softmax probabilities by
default, the top class written large ("7 · 96.3 %"); "Raw scores" shows the logits the
last layer returns.  With the digits CNN, "Draw a digit" clears the input to a blank
32×32 canvas (the pen at its defaults, value 1 and brush 3, then draws digits the
network reads as its training digits were made: 4×4 blocks averaged to 8×8), and
"Digit examples" puts one of its held-out test digits on the canvas; both are one undo
step.  A thumbnail shows the 8×8 input the network actually sees.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.formatting import format_tick
from convplay.core.history import push_change
from convplay.core.layer_trace import shape_text
from convplay.core.layers import ACTIVATION_KINDS
from convplay.core.network import Network
from convplay.qt import style
from convplay.qt.network_controller import controller_for
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.widgets.bar_chart import BarChart
from convplay.qt.widgets.map_grid import MapView
from convplay.qt.zoom import scaled, text_zoom

DIGITS_KEY = "digits"
CANVAS = 32  # the blank canvas "Draw a digit" makes: 4× the digits' 8×8
STALE_DELAY_MS = 150
TOP_PX = 22
MIN_TOP_PX = 14
BARS_MIN_PX = 60  # the least the bars get before they scroll
DIGITS_ONLY_TIP = "For the digits CNN: choose it in the Layer stack panel to draw digits for it"
DRAW_TIP = ("Clear the input to a blank 32×32 canvas: draw a digit on the Input panel with the pen "
            "(value 1, brush 3) and watch the scores change (undo: Ctrl+Z)")
EXAMPLES_TIP = "Put one of the digits CNN's held-out test digits on the input (scaled ×4 to 32×32; undo: Ctrl+Z)"
# The values each trained built-in saw in training: an input far outside them gets a word.
TRAINED_RANGES = {DIGITS_KEY: ("the digits CNN", 0.0, 1.0)}
OUT_OF_RANGE = 2.0  # times the training range past its ends before the warning
PASS_THROUGH = ("Dropout", "Flatten", *ACTIVATION_KINDS)  # layers after a classifier's Linear


def ends_in_linear(stack) -> bool:
    """True when the stack's last layer, activations and dropout after it aside, is a Linear."""
    for layer in reversed(stack.layers):
        if layer.kind == "Linear":
            return True
        if layer.kind not in PASS_THROUGH:
            return False
    return False


def range_warning(key: str, x: np.ndarray | None) -> str:
    """"the digits CNN was trained on values 0…1; this input reaches 25" for an input far
    outside the training values of built-in ``key`` ("" when it is not, or not known)."""
    if key not in TRAINED_RANGES or x is None or not np.size(x):
        return ""
    name, lo, hi = TRAINED_RANGES[key]
    finite = np.asarray(x)[np.isfinite(x)]
    if not finite.size:
        return ""
    low, high = float(finite.min()), float(finite.max())
    margin = OUT_OF_RANGE * (hi - lo)
    if high <= hi + margin and low >= lo - margin:
        return ""
    reach = high if high - hi >= lo - low else low
    return (f"{name} was trained on values {format_tick(lo)}\u2026{format_tick(hi)}; this input reaches "
            f"{format_tick(reach)}".replace("-", "\u2212"))


def channels_note(session, channels: int) -> str:
    """How the session image's channels became the network's ("" when they are the same)."""
    image = getattr(session, "image", None)
    have = image.shape[0] if image is not None and np.ndim(image) == 3 else channels
    if have == channels:
        return ""
    if have == 1:
        return f", the one-channel image repeated in its {channels} channels"
    if channels == 1 and have == 3:
        return ", the colours made gray (luma)"
    return f", its {have} channels averaged and repeated in {channels}"


def softmax(x: np.ndarray) -> np.ndarray:
    """exp(x) / Σ exp(x), computed in float64 without overflow (as torch.softmax)."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - np.max(x))
    return e / e.sum()


def percent_text(p: float) -> str:
    """A probability as a percentage; one that rounds to 0 but is not 0 says so."""
    if 0 < p < 0.0005:
        return "<0.1 %"
    return f"{100 * p:.1f} %"


def blank_canvas() -> np.ndarray:
    return np.zeros((1, CANVAS, CANVAS))


def example_canvas(label: int) -> np.ndarray:
    """The digits CNN's typical test image of ``label``, each pixel 4×4 on a 32×32 canvas
    (so averaging 4×4 blocks gives the network exactly its test image back)."""
    from convplay.core.builtin_stacks import digit_example

    scale = CANVAS // 8
    return np.kron(digit_example(label), np.ones((scale, scale)))[None]


class ScoresPanel(QWidget):
    """``hovered(str)``: the bar under the pointer and its value (for the window's status bar)."""

    hovered = Signal(str)

    def __init__(self, network: Network, parent: QWidget | None = None, *, session=None, history=None,
                 controller=None):
        super().__init__(parent)
        self.network = network
        self.session = session
        self.history = history
        self.controller = controller if controller is not None else controller_for(network)
        self._drawn = None
        self._head = ""

        self.top_label = QLabel("")
        self.top_label.setToolTip("The class the network scores highest, and its probability (or score)")
        self.top_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # One line, elided to the dock's width with the whole text in the tooltip: a wrapped
        # "automobile · 10.5 %" pushed the bars down by a line.
        self.top_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.top_label.installEventFilter(self)
        self.softmax_check = QCheckBox("Softmax")
        self.softmax_check.setChecked(True)
        self.softmax_check.setToolTip("On: the scores as probabilities, softmax of the last layer's output "
                                      "(they add up to 100 %). Off: the raw scores (logits) the last layer returns.")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setToolTip("Which layer the scores come from, and whether they are up to date")
        self.bars = BarChart()
        self.bars.setToolTip("One bar per class: the last layer's output for the current input")

        self.draw_button = QPushButton("Draw a digit")
        self.draw_button.setToolTip(DRAW_TIP)
        self.examples_button = QToolButton()
        self.examples_button.setText("Digit examples")
        self.examples_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.examples_button.setToolTip(EXAMPLES_TIP)
        menu = QMenu(self.examples_button)
        for label in range(10):
            action = QAction(f"Digit {label}", menu)
            action.setToolTip(f"A typical test image of the digit {label}")
            action.triggered.connect(lambda _checked=False, k=label: self.put_example(k))
            menu.addAction(action)
        self.examples_button.setMenu(menu)
        self.seen = MapView()
        self.seen.setFixedSize(36, 36)
        self.seen.setToolTip("What the network sees: the input resized to the network's input size")
        self.seen_label = QLabel("sees")
        self.seen_label.setStyleSheet(style.muted_text_style())
        self.seen_label.setToolTip(self.seen.toolTip())
        seen_box = QVBoxLayout()
        seen_box.setSpacing(0)
        seen_box.addWidget(self.seen, 0, Qt.AlignmentFlag.AlignHCenter)
        seen_box.addWidget(self.seen_label, 0, Qt.AlignmentFlag.AlignHCenter)
        top = QHBoxLayout()
        top.addWidget(self.top_label, 1)
        top.addLayout(seen_box)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.softmax_check, 0, Qt.AlignmentFlag.AlignTop)
        bottom = QHBoxLayout()
        bottom.addWidget(self.draw_button)
        bottom.addWidget(self.examples_button)
        bottom.addStretch(1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.message.hide()
        self.held_label = QLabel("")
        self.held_label.setWordWrap(True)
        self.held_label.setStyleSheet(style.muted_text_style())
        self.held_label.setToolTip("Opening a layer in the sliding window puts that layer's input in the Input "
                                   "panel; the network goes on with the input it had")
        self.held_label.hide()
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(style.muted_text_style())
        self.warning.setToolTip("A trained network's scores mean little for inputs unlike its training data")
        self.warning.hide()

        self.status.setStyleSheet(style.muted_text_style())
        layout = QVBoxLayout(self)
        layout.setSpacing(4)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.held_label)
        layout.addWidget(self.warning)
        layout.addLayout(status_row)
        # The bars scroll inside the panel, so the digit buttons under them stay in view at a
        # large text zoom or in a short dock.
        self.bars_scroll = QScrollArea()
        self.bars_scroll.setWidgetResizable(True)
        self.bars_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.bars_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.bars_scroll.setWidget(self.bars)
        self.bars_scroll.setMinimumHeight(scaled(BARS_MIN_PX))
        self.bars_scroll.setToolTip(self.bars.toolTip())
        layout.addWidget(self.bars_scroll, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.message)

        self._stale_timer = QTimer(self)
        self._stale_timer.setSingleShot(True)
        self._stale_timer.setInterval(STALE_DELAY_MS)
        self._stale_timer.timeout.connect(self._show_stale)
        self.draw_button.clicked.connect(self.draw_digit)
        self.bars.hovered.connect(self.hovered)
        self.softmax_check.toggled.connect(self._redraw)
        self._when_shown = WhenShown(self, self.refresh)
        hear_while_alive(self, (network.stack_changed, self._when_shown.request),
                         (network.run_changed, self._when_shown.request))
        if self.controller is not None and hasattr(self.controller, "follows_changed"):
            self.controller.follows_changed.connect(self._show_held)
        text_zoom().changed.connect(self._apply_zoom)
        self._apply_zoom()
        self.refresh()

    # -- view ------------------------------------------------------------------------
    @property
    def classifier(self) -> bool:
        """A stack with class names, or one that ends in a Linear (its outputs are the classes 0…n−1)."""
        return bool(self.network.labels) or ends_in_linear(self.network.stack)

    @property
    def showing_softmax(self) -> bool:
        return self.classifier and self.softmax_check.isChecked()

    def _apply_zoom(self, *_args) -> None:
        font = QFont(self.font())
        font.setPixelSize(scaled(TOP_PX))
        font.setBold(True)
        self.top_label.setFont(font)
        if hasattr(self, "bars_scroll"):
            self.bars_scroll.setMinimumHeight(scaled(BARS_MIN_PX))
        self._elide_head()

    def _redraw(self, *_args) -> None:
        self._drawn = None
        self._when_shown.request()

    def refresh(self) -> None:
        network = self.network
        digits = network.key == DIGITS_KEY and self.session is not None
        for button, tip in ((self.draw_button, DRAW_TIP), (self.examples_button, EXAMPLES_TIP)):
            button.setEnabled(digits)
            button.setVisible(self.session is not None)
            button.setToolTip(tip if digits else DIGITS_ONLY_TIP)
        self.softmax_check.setEnabled(self.classifier)
        self.softmax_check.setToolTip(
            "On: the scores as probabilities, softmax of the last layer's output (they add up to 100 %). "
            "Off: the raw scores (logits) the last layer returns." if self.classifier else
            "Softmax needs a classifier: this stack does not end in a Linear layer, so its raw outputs are shown")
        self._follow_staleness()
        self._show_held()
        run = network.run
        trace = network.trace
        if not trace.rows:
            self._show_nothing("The stack has no layers yet.")
            return
        last = len(trace.rows) - 1
        if trace.failed is not None:
            self._show_nothing(f"No scores: {trace.error}")
            return
        if run is not None and run.error and network.run_is_fresh:
            where = f" at layer {run.failed}" if run.failed is not None else ""
            self._show_nothing(f"No scores: PyTorch stopped{where}: {run.error}")
            return
        out = run.output_of(last) if run is not None else None
        want = trace.rows[last].output_shape
        if out is None or want is None or tuple(out.shape) != tuple(want):
            self._set_head("")
            self.status.setText("running\u2026")
            return
        if out.ndim != 1:
            self._show_nothing(f"The last layer gives {shape_text(out.shape)} feature maps, not scores: "
                               "see them in the Feature maps panel.")
            return
        key = (run, self.showing_softmax)
        if key == self._drawn:
            return
        self._drawn = key
        self._show_scores(out, run)

    def _show_held(self, *_args) -> None:
        text = self.controller.held_text() if self.controller is not None and hasattr(self.controller,
                                                                                        "held_text") else ""
        self.held_label.setText(text)
        self.held_label.setVisible(bool(text))

    def _set_head(self, text: str) -> None:
        self._head = text
        self.top_label.setToolTip(text or "The class the network scores highest, and its probability (or score)")
        self._elide_head()

    def _elide_head(self) -> None:
        # The large type shrinks (to the body text's size at least) before any text is elided:
        # "3 · 100.0 %" keeps its number in a narrow dock at 150 %.
        width = max(10, self.top_label.width())
        font = QFont(self.top_label.font())
        px = scaled(TOP_PX)
        font.setPixelSize(px)
        while px > scaled(MIN_TOP_PX) and QFontMetrics(font).horizontalAdvance(self._head) > width:
            px -= 1
            font.setPixelSize(px)
        if font.pixelSize() != self.top_label.font().pixelSize():
            self.top_label.setFont(font)
        self.top_label.setText(QFontMetrics(font).elidedText(self._head, Qt.TextElideMode.ElideRight, width))

    def eventFilter(self, watched, event) -> bool:
        # The label's own new width (the panel's resize comes before its layout's).
        if watched is self.top_label and event.type() == QEvent.Type.Resize:
            self._elide_head()
        return False

    @property
    def head(self) -> str:
        """The top line in full (the label may show it elided)."""
        return self._head

    def _show_nothing(self, text: str) -> None:
        self._drawn = None
        self._set_head("")
        self.warning.hide()
        self.status.setText(text)
        self.bars.set_bars(np.zeros(0))
        self._show_seen()

    def _show_scores(self, out: np.ndarray, run) -> None:
        labels = self.network.labels if self.network.labels and len(self.network.labels) == out.size else None
        names = list(labels) if labels else [str(i) for i in range(out.size)]
        top = int(np.argmax(out)) if np.isfinite(out).any() else None
        if self.showing_softmax:
            p = softmax(out)
            texts = [percent_text(v) for v in p]
            self.bars.set_bars(p, names, texts, top, value_range=(0.0, 1.0))
            head = f"{names[top]} \u00b7 {100 * p[top]:.1f}\u00a0%" if top is not None else "\u2014"
            what = "softmax"
        else:
            self.bars.set_bars(out, names, [format_tick(v) for v in out], top)
            head = f"{names[top]} \u00b7 score {format_tick(out[top])}" if top is not None else "\u2014"
            what = "raw scores (logits)" if self.classifier else "raw output"
        x = run.input
        if x is not None and np.size(x) and not np.any(x):
            # Every class is "confident" for a blank input: what to do instead.
            head = "Draw a digit with the pen" if self.network.key == DIGITS_KEY else "The input is blank (all 0)"
        self._set_head(head)
        warning = range_warning(self.network.key, x)
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        layer = self.network.trace.rows[-1].layer.label
        self.status.setText(f"{what} of {layer} \u00b7 forward {run.seconds * 1000:.2f} ms")
        self.status.setToolTip(f"The bars are the {what} of the last layer ({layer}); PyTorch's forward pass "
                               f"through the whole stack took {run.seconds * 1000:.3f} ms")
        self._show_seen()

    def _show_seen(self) -> None:
        run = self.network.run
        x = run.input if run is not None else None
        if x is None or x.ndim != 3:
            self.seen.set_map(None)
            return
        image = x[0] if x.shape[0] != 3 else x.mean(axis=0)
        self.seen.set_map(image, (0.0, max(1.0, float(np.nanmax(image)) if image.size else 1.0)), False,
                          "the network's input", colour_map=style.GREY_IMAGE)
        _c, h, w = x.shape
        self.seen_label.setText(f"sees {w}×{h}")
        self.seen.setToolTip(f"What the network sees: the input resized to {w}×{h}{channels_note(self.session, _c)}, "
                             "as the network's input")

    # -- staleness ---------------------------------------------------------------------
    def _follow_staleness(self) -> None:
        if self.network.run_is_fresh or self.network.run is None:
            self._stale_timer.stop()
            self.bars.set_stale(False)
            self.seen.set_stale(False)
        elif not self._stale_timer.isActive():
            self._stale_timer.start()

    def _show_stale(self) -> None:
        if not self.network.run_is_fresh and self.network.run is not None:
            self.bars.set_stale(True)
            self.seen.set_stale(True)

    # -- the digits on the canvas ---------------------------------------------------------
    def _put(self, text: str, image_maker) -> None:
        if self.session is None:
            return
        try:
            image = image_maker()
            push_change(self.history, self.session, text, lambda: self.session.set_image(image))
        except (ValueError, OSError, KeyError) as exc:
            self.message.setText(str(exc))
            self.message.show()
            return
        self.message.hide()

    def draw_digit(self) -> None:
        """A blank 32×32 input to draw a digit on (one undo step)."""
        self._put("Draw a digit", blank_canvas)

    def put_example(self, label: int) -> None:
        """The digits CNN's typical test digit ``label`` on the input (one undo step)."""
        self._put(f"Digit example {label}", lambda: example_canvas(label))

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(min(hint.width(), 420))
        return hint

