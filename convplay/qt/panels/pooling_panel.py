"""The Pooling panel: max, average and adaptive pooling stepped window by window.

The controls set the model's ``PoolSpec`` (PyTorch's arguments, stride "= kernel" by
default as nn.MaxPool2d has it); the picture (``widgets.pool_grid``) draws the model's last
good state; under it the window's arithmetic, the formula with the numbers, the PyTorch
check (on a ``LatestWorker``, over the whole input) and the ``nn.MaxPool2d(...)`` line.
A refused setting is said in red beside the controls and its field framed red, while the
picture keeps the last settings that worked.
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.pooling import (
    MAX_POOL_KERNEL,
    PoolSpec,
    PoolSpecError,
    axis_formula,
    formula_lines,
    pool_reference,
)
from convplay.core.pooling_model import (
    ADAPTIVE_EXAMPLE,
    EXAMPLE,
    EXAMPLE_SPECS,
    LESSON_INPUT_NAME,
    MAX_SPEED,
    MIN_SPEED,
    OTHER,
    SESSION,
    PoolingModel,
)
from convplay.qt import style
from convplay.qt.animation.player import ElidedLabel
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.theme import theme
from convplay.qt.widgets.flow import FlowRow
from convplay.qt.widgets.pool_grid import PoolGrid, cell_text, too_large
from convplay.qt.workers import LatestWorker
from convplay.qt.zoom import text_zoom

KINDS = (("Max", "max"), ("Average", "avg"), ("Adaptive max", "adaptive_max"), ("Adaptive average", "adaptive_avg"))
KIND_TIPS = {
    "max": "nn.MaxPool2d: each window's largest value; the gradient goes to that one cell",
    "avg": "nn.AvgPool2d: each window's mean (its sum divided by the divisor)",
    "adaptive_max": "nn.AdaptiveMaxPool2d: you give the output size, PyTorch finds windows of uneven size",
    "adaptive_avg": "nn.AdaptiveAvgPool2d: you give the output size, PyTorch finds windows of uneven size",
}
MAX_PADDING = MAX_POOL_KERNEL // 2
MAX_STEP = 64
MAX_OUTPUT_SIDE = 4096
WIDE_PX = 600  # from this width the controls' first row holds the input's whole name
TERMS_SHOWN = 12  # a window's sum writes out this many terms, then "…"
FIELD_LABELS = {"kernel_size": "kernel_size", "stride": "stride", "padding": "padding", "dilation": "dilation",
                "divisor_override": "divisor_override", "output_size": "output_size", "kind": "kind", "input": "input"}
HOVER_HINT = "Hover a cell to see which outputs read it; click an output cell to see its window."
PLAY_TIP = "Play the windows one after another (Space when the picture has focus)"
COPY_TIP = "Copy the layer's code to the clipboard"
GRID_MIN_HEIGHT = 120
ZOOMED_GRID_HEIGHT = 300  # px at 100 %: the picture's height in a 1280×720 window, about


def check_against_pytorch(job) -> tuple[bool | None, str]:
    """The badge: PyTorch's pooling of the whole input against core.pooling's (worker thread)."""
    spec, x = job
    from convplay.compute.pooling import run_pool  # torch: after the window has painted

    try:
        ours = pool_reference(spec, x)
        our_error = ""
    except PoolSpecError as exc:
        ours, our_error = None, str(exc)
    try:
        theirs = run_pool(spec, x)
        their_error = ""
    except (RuntimeError, ValueError, TypeError) as exc:
        theirs, their_error = None, (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if ours is None and theirs is None:
        return None, f"PyTorch refuses these settings too: {their_error}"
    if theirs is None:
        return False, f"\u2717 PyTorch refuses what convplay runs: {their_error}"
    if ours is None:
        return False, f"\u2717 PyTorch runs what convplay refuses ({our_error})"
    (values, indices), (t_values, t_indices) = ours, theirs
    if values.shape != t_values.shape:
        return False, f"\u2717 PyTorch gives {'×'.join(map(str, t_values.shape))}, convplay {'×'.join(map(str, values.shape))}"
    if spec.is_max:
        same = np.array_equal(values, t_values, equal_nan=True)
        if not same:
            where = tuple(int(i) for i in np.argwhere(~((values == t_values) | (np.isnan(values) & np.isnan(t_values))))[0])
            return False, f"\u2717 differs from PyTorch at {where}: {values[where]:.6g} here, {t_values[where]:.6g} in PyTorch"
        if not np.array_equal(indices, t_indices):
            where = tuple(int(i) for i in np.argwhere(indices != t_indices)[0])
            return False, f"\u2717 argmax differs from PyTorch's at {where}: index {indices[where]} here, {t_indices[where]} in PyTorch"
        return True, "\u2713 matches PyTorch: values equal, argmax indices equal"
    with np.errstate(invalid="ignore"):
        both_nan = np.isnan(values) & np.isnan(t_values)
        diff = np.where(both_nan | (values == t_values), 0.0, np.abs(values - t_values))
    worst = float(np.max(diff)) if diff.size else 0.0
    if worst == 0.0:
        return True, "\u2713 matches PyTorch: values equal"
    finite = np.abs(x[np.isfinite(x)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    if worst <= 1e-13 * scale:
        return True, f"\u2713 matches PyTorch: values agree to {worst:.0e} (float64 sums in another order)"
    where = tuple(int(i) for i in np.argwhere(diff == worst)[0])
    return False, f"\u2717 differs from PyTorch at {where}: {values[where]:.17g} here, {t_values[where]:.17g} in PyTorch"


class PairField(QFrame):
    """A named pair of spin boxes (rows × columns); equal sides give one number, as PyTorch
    writes ``kernel_size=2``."""

    def __init__(self, name: str, low: int, high: int, tip: str, parent: QWidget | None = None,
                 special: str = ""):
        super().__init__(parent)
        self.setObjectName(f"pool_{name}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 1)
        layout.setSpacing(2)
        self.label = QLabel(name)
        layout.addWidget(self.label)
        self.h, self.w = QSpinBox(), QSpinBox()
        for spin, side in ((self.h, "rows"), (self.w, "columns")):
            spin.setRange(low, high)
            spin.setAccelerated(True)
            spin.setKeyboardTracking(False)
            if special:
                spin.setSpecialValueText(special)
            spin.setToolTip(f"{tip} ({side})")
        layout.addWidget(self.h)
        self.times = QLabel("×")
        layout.addWidget(self.times)
        layout.addWidget(self.w)
        self.label.setToolTip(tip)
        self.setToolTip(tip)

    def value(self):
        h, w = self.h.value(), self.w.value()
        return h if h == w else (h, w)

    def set_value(self, value) -> None:
        h, w = value if isinstance(value, (tuple, list)) and len(value) == 2 else (value, value)
        for spin, v in ((self.h, h), (self.w, w)):
            with QSignalBlocker(spin):
                try:
                    spin.setValue(spin.minimum() if v is None else int(v))
                except (TypeError, ValueError):
                    pass

    def connect(self, slot) -> None:
        self.h.valueChanged.connect(slot)
        self.w.valueChanged.connect(slot)

    def set_invalid(self, on: bool) -> None:
        self.setStyleSheet(style.invalid_frame_style(self.objectName()) if on else "")


def _labelled(text: str, widget: QWidget, tip: str) -> QFrame:
    frame = QFrame()
    layout = QHBoxLayout(frame)
    layout.setContentsMargins(2, 1, 2, 1)
    layout.setSpacing(4)
    label = QLabel(text)
    label.setToolTip(tip)
    widget.setToolTip(tip)
    layout.addWidget(label)
    layout.addWidget(widget)
    frame.setToolTip(tip)
    return frame


class PoolingPanel(QWidget):
    def __init__(self, model: PoolingModel, session=None, parent: QWidget | None = None, network=None):
        super().__init__(parent)
        self.model = model
        self.session = session
        self.network = None
        self.last_check: tuple[bool | None, str] = (None, "")
        self._build()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.worker = LatestWorker(check_against_pytorch, "pooling-check", debounce_ms=40, parent=self)
        self.worker.returned.connect(self._on_check)
        self.worker.errored.connect(self._on_check_error)
        self._check_key = None
        self._when_shown = WhenShown(self, self._refresh)
        self._steady_heights()
        hear_while_alive(self, (model.changed, self._request), (model.playing_changed, self._on_playing),
                         (model.speed_changed, self._on_speed))
        if session is not None and hasattr(session, "image_changed"):
            hear_while_alive(self, (session.image_changed, self._on_session_image))
        theme().theme_changed.connect(self._restyle)
        text_zoom().changed.connect(self._restyle)
        self.set_network(network)
        self._refresh()

    def set_network(self, network) -> None:
        """Follow ``network``: a layer's input offered here goes when its stack is replaced."""
        if network is None or network is self.network:
            return
        self.network = network
        if hasattr(network, "stack_changed"):
            hear_while_alive(self, (network.stack_changed, self._on_stack_changed))

    def _on_stack_changed(self, *_args) -> None:
        # A layer's input from a stack that is no longer there would be pooled as if it were:
        # the example takes its place.  A lesson's input is not the stack's.
        if self.model.source == OTHER and self.model.input_name != LESSON_INPUT_NAME:
            self.model.use_example()

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # A narrow tab or a large text zoom scrolls the panel rather than squeezing the
        # picture or asking the window for more room.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll)
        content = QWidget()
        self.scroll.setWidget(content)
        root = QVBoxLayout(content)
        root.setContentsMargins(4, 4, 4, 4)
        root.setSpacing(4)

        self.kind_combo = QComboBox()
        for text, key in KINDS:
            self.kind_combo.addItem(text, key)
            self.kind_combo.setItemData(self.kind_combo.count() - 1, KIND_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.kind_frame = _labelled("Pooling", self.kind_combo, "Which pooling layer: max, average, or their adaptive kinds")
        self.kind_frame.setObjectName("pool_kind")

        self.input_combo = QComboBox()
        self.input_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.input_combo.setMinimumContentsLength(12)  # a long layer name is elided, its tooltip whole
        self.input_combo.addItem("The 4×4 max-pooling example", EXAMPLE)
        self.input_combo.addItem("The current input", SESSION)
        self.input_combo.addItem("The 5×5 adaptive-pooling example", ADAPTIVE_EXAMPLE)
        self.input_combo.setItemData(0, "The 4×4 matrix [[7, 3, 5, 2], [8, 7, 1, 6], [4, 9, 3, 9], [0, 8, 4, 5]] "
                                     "with its own settings, nn.MaxPool2d(2): the padding, ceil_mode and other "
                                     "settings chosen before do not carry over", Qt.ItemDataRole.ToolTipRole)
        self.input_combo.setItemData(2, "A 5×5 (the digits of π) with its own settings, nn.AdaptiveMaxPool2d(3): "
                                     "windows of 2, 3 and 2 cells that overlap. The settings chosen before do not "
                                     "carry over", Qt.ItemDataRole.ToolTipRole)
        self.input_combo.setItemData(1, "The image in the Input panel (it follows your edits)", Qt.ItemDataRole.ToolTipRole)
        self.input_frame = _labelled("Input", self.input_combo, "What is pooled: the example, the current input, or "
                                                                  "the layer picked in the stack")
        self.input_frame.setObjectName("pool_input")
        self.channel_spin = QSpinBox()
        self.channel_spin.setRange(0, 0)
        self.channel_spin.setKeyboardTracking(False)
        self.channel_frame = _labelled("channel", self.channel_spin, "The channel shown, counted from 0 as the "
                                                                       "feature maps are (pooling treats each channel "
                                                                       "on its own)")

        self.kernel = PairField("kernel_size", 1, MAX_POOL_KERNEL, "The window's size, kernel_size")
        self.stride_auto = QCheckBox("= kernel")
        self.stride_auto.setToolTip("PyTorch's default: stride=None moves the window by its own size, so windows "
                                    "do not overlap")
        self.stride = PairField("stride", 1, MAX_STEP, "How far the window moves each step")
        self.stride.layout().addWidget(self.stride_auto)  # one field: they wrap together
        self.padding = PairField("padding", 0, MAX_PADDING, "Cells added on every side: −∞ for max pooling, 0 for "
                                 "average pooling. PyTorch allows at most half the kernel")
        self.dilation = PairField("dilation", 1, MAX_STEP, "Spacing between a max-pooling window's taps")
        self.ceil_mode = QCheckBox("ceil_mode")
        self.ceil_mode.setToolTip("Round the output size up: a last window may hang over the edge, but PyTorch drops "
                                  "one that would start in the right padding")
        self.count_pad = QCheckBox("count_include_pad")
        self.count_pad.setToolTip("Average pooling: padded cells count in the divisor")
        self.divisor_check = QCheckBox("divisor_override")
        self.divisor_check.setToolTip("Average pooling: divide every window's sum by this number instead")
        self.divisor_spin = QSpinBox()
        self.divisor_spin.setRange(-1024, 1024)
        self.divisor_spin.setValue(1)
        self.divisor_spin.setKeyboardTracking(False)
        self.divisor_spin.setToolTip("The divisor every window's sum is divided by (PyTorch refuses 0)")
        self.divisor_frame = QFrame()
        self.divisor_frame.setObjectName("pool_divisor_override")
        lay = QHBoxLayout(self.divisor_frame)
        lay.setContentsMargins(2, 1, 2, 1)
        lay.addWidget(self.divisor_check)
        lay.addWidget(self.divisor_spin)
        self.output_size = PairField("output_size", 0, MAX_OUTPUT_SIDE, "The output's size; None keeps that side "
                                     "of the input", special="None")
        self.controls = FlowRow(self.kind_frame, self.input_frame, self.channel_frame, self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode, self.count_pad,
                                self.divisor_frame, self.output_size, gap=8)
        root.addWidget(self.controls)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.RichText)
        self.error_label.setToolTip("Why PyTorch refuses these settings; the picture keeps the last settings that worked")
        root.addWidget(self.error_label)

        self.grid = PoolGrid(self.model)
        root.addWidget(self.grid, 1)

        player = QHBoxLayout()
        player.setSpacing(2)
        self.first_button = self._tool("|\u25c0\u25c0", "First window (Home)", self.model.first)
        self.back_button = self._tool("\u25c0|", "Previous window (Left)", lambda: self.model.step(-1))
        self.play_button = self._tool("\u25b6", PLAY_TIP, lambda: self.model.set_playing(not self.model.playing))
        self.next_button = self._tool("|\u25b6", "Next window (Right)", lambda: self.model.step(1))
        self.last_button = self._tool("\u25b6\u25b6|", "Last window (End)", self.model.last)
        for button in (self.first_button, self.back_button, self.play_button, self.next_button, self.last_button):
            player.addWidget(button)
        self.speed_spin = QDoubleSpinBox()
        self.speed_spin.setRange(MIN_SPEED, MAX_SPEED)
        self.speed_spin.setDecimals(2)
        self.speed_spin.setSingleStep(0.5)
        self.speed_spin.setSuffix(" /s")
        self.speed_spin.setValue(self.model.speed)
        self.speed_spin.setToolTip("Windows per second while playing")
        player.addWidget(self.speed_spin)
        self.step_label = ElidedLabel()
        self.step_label.setToolTip("The window on screen and the output cell it gives")
        player.addWidget(self.step_label, 1)
        root.addLayout(player)

        self.arithmetic = QLabel()
        self.arithmetic.setWordWrap(True)
        self.arithmetic.setTextFormat(Qt.TextFormat.RichText)
        self.arithmetic.setToolTip("What the window on screen computes")
        self.arithmetic.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.arithmetic)
        self.hover_label = QLabel()
        self.hover_label.setToolTip("The cell under the mouse")
        self.hover_label.setWordWrap(True)
        root.addWidget(self.hover_label)
        self._on_hover("")

        self.formula = QLabel()
        self.formula.setWordWrap(True)
        self.formula.setToolTip("PyTorch's output-size rule, with the numbers, the floor or ceil written out")
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.formula)

        self.badge = QLabel()
        self.badge.setWordWrap(True)
        self.badge.setToolTip("PyTorch's own pooling (float64, CPU) of the whole input, compared value by value and "
                              "argmax by argmax")
        root.addWidget(self.badge)

        code = QHBoxLayout()
        self.code_line = QLineEdit()
        self.code_line.setReadOnly(True)
        self.code_line.setToolTip("These settings as a PyTorch layer")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip(COPY_TIP)
        self.copy_button.clicked.connect(self.copy_code)
        code.addWidget(self.code_line, 1)
        code.addWidget(self.copy_button)
        root.addLayout(code)

        self.kind_combo.currentIndexChanged.connect(self._on_kind)
        self.input_combo.activated.connect(self._on_input_choice)
        self.channel_spin.valueChanged.connect(self.model.set_channel)
        for field in (self.kernel, self.stride, self.padding, self.dilation, self.output_size):
            field.connect(self._on_fields)
        for box in (self.stride_auto, self.ceil_mode, self.count_pad, self.divisor_check):
            box.toggled.connect(self._on_fields)
        self.divisor_spin.valueChanged.connect(self._on_fields)
        self.speed_spin.valueChanged.connect(self.model.set_speed)
        self.grid.hover_text.connect(self._on_hover)

    def _tool(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda *_: slot())
        return button

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # The input's name whole where the row has room; a narrow tab shortens it (tooltip whole).
        wanted = 27 if self.width() >= WIDE_PX else 12
        if self.input_combo.minimumContentsLength() != wanted:
            self.input_combo.setMinimumContentsLength(wanted)

    # -- view -> model -------------------------------------------------------------------------
    def _spec_from_fields(self) -> PoolSpec:
        kind = self.kind_combo.currentData()
        if kind in ("adaptive_max", "adaptive_avg"):
            h, w = self.output_size.h.value() or None, self.output_size.w.value() or None
            return PoolSpec(kind, output_size=h if h == w and h is not None else (h, w))
        stride = None if self.stride_auto.isChecked() else self.stride.value()
        spec = self.model.spec
        dilation = self.dilation.value() if kind == "max" else (spec.dilation if spec.kind == "max" else 1)
        divisor = self.divisor_spin.value() if self.divisor_check.isChecked() else None
        return PoolSpec(kind, self.kernel.value(), stride, self.padding.value(), dilation if kind == "max" else 1,
                        self.ceil_mode.isChecked(), self.count_pad.isChecked(), divisor if kind == "avg" else None,
                        spec.output_size)

    def _on_fields(self, *_args) -> None:
        self.model.set_spec(self._spec_from_fields())

    def _on_kind(self, *_args) -> None:
        kind = self.kind_combo.currentData()
        spec = self.model.spec
        if kind.startswith("adaptive"):
            self.model.set_spec(PoolSpec(kind, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                                         spec.ceil_mode, spec.count_include_pad, spec.divisor_override, spec.output_size))
        else:
            self.model.set_spec(self._spec_from_fields())

    def _on_input_choice(self, *_args) -> None:
        choice = self.input_combo.currentData()
        if choice in EXAMPLE_SPECS:
            self.model.use_example(choice)
        elif choice == SESSION:
            self.use_session_input()

    def use_session_input(self) -> None:
        image = getattr(self.session, "image", None)
        if image is not None:
            self.model.set_input(image, "the input", SESSION)

    def _on_session_image(self, *_args) -> None:
        if self.model.source == SESSION:
            self.use_session_input()

    def copy_code(self) -> None:
        QApplication.clipboard().setText(self.code_line.text())

    # -- playing --------------------------------------------------------------------------------
    def _on_playing(self, on: bool) -> None:
        self.play_button.setText("||" if on else "\u25b6")
        self.play_button.setToolTip("Pause" if on else PLAY_TIP)
        if on:
            self.timer.start(round(1000 / self.model.speed))
        else:
            self.timer.stop()

    def _on_speed(self, speed: float) -> None:
        with QSignalBlocker(self.speed_spin):
            self.speed_spin.setValue(speed)
        if self.timer.isActive():
            self.timer.setInterval(round(1000 / speed))

    def _tick(self) -> None:
        if not self.model.step(1):
            self.timer.stop()

    # -- model -> view ----------------------------------------------------------------------------
    def _request(self, *_args) -> None:
        self._when_shown.request()

    def _restyle(self, *_args) -> None:
        self._steady_heights()
        self._refresh()

    def _steady_heights(self) -> None:
        """The lines that change with every step keep their height (three for the window's
        arithmetic, two for the hover), so the picture is not resized, and redrawn whole, per step."""
        line = QFontMetrics(self.arithmetic.font()).lineSpacing()
        self.arithmetic.setMinimumHeight(3 * line + 2)
        self.hover_label.setMinimumHeight(2 * line + 2)
        # Larger text takes room from the picture: zoomed, the picture keeps at least its
        # normal height, grown with the text, and the panel scrolls instead.
        factor = text_zoom().factor
        self.grid.setMinimumHeight(GRID_MIN_HEIGHT if factor <= 1.0 else round(ZOOMED_GRID_HEIGHT * factor))

    def _refresh(self) -> None:
        model = self.model
        spec = model.spec
        self._show_fields(spec)
        self._show_input_choice()
        self._show_error()
        self._show_code()
        shown = model.shown
        self._show_step()
        self.formula.setText("\n".join(shown_formula(spec, model.input.shape, model.error)))
        self.formula.setStyleSheet(style.muted_text_style() if not model.error else "")
        self._submit_check()
        self.grid.update()
        self.grid.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        del shown

    def _show_code(self) -> None:
        """The settings as code; refused ones show the last code that worked, greyed, and
        cannot be copied: pasted into a model, they would fail there."""
        model = self.model
        if not model.error:
            self.code_line.setText(self._code(model.spec))
            self.code_line.setStyleSheet("")
            self.code_line.setToolTip("These settings as a PyTorch layer")
            self.copy_button.setEnabled(bool(self.code_line.text()))
            self.copy_button.setToolTip(COPY_TIP)
            return
        last = self._code(model.shown.spec) if model.shown is not None else ""
        self.code_line.setText(last)
        self.code_line.setStyleSheet(style.muted_text_style())
        self.code_line.setToolTip("The last settings that worked (greyed): PyTorch refuses the ones set now")
        self.copy_button.setEnabled(False)
        self.copy_button.setToolTip(f"Nothing to copy: PyTorch refuses these settings ({model.error})")

    @staticmethod
    def _code(spec: PoolSpec) -> str:
        try:
            return spec.code()
        except Exception:  # noqa: BLE001 - a spec no layer can hold: the error line says why
            return ""

    def _show_fields(self, spec: PoolSpec) -> None:
        kind = spec.kind if spec.kind in {k for _, k in KINDS} else "max"
        with QSignalBlocker(self.kind_combo):
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        adaptive = kind.startswith("adaptive")
        for widget in (self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode):
            widget.setVisible(not adaptive)
        for widget in (self.count_pad, self.divisor_frame):  # average pooling's own
            widget.setVisible(kind == "avg")
        self.output_size.setVisible(adaptive)
        self.kernel.set_value(spec.kernel_size)
        auto = spec.stride is None
        with QSignalBlocker(self.stride_auto):
            self.stride_auto.setChecked(auto)
        self.stride.set_value(spec.kernel_size if auto else spec.stride)
        for spin in (self.stride.h, self.stride.w, self.stride.times):
            spin.setEnabled(not auto)
        self.stride.setToolTip("How far the window moves each step" + (": now the kernel's size (uncheck "
                                                                         "'= kernel' to set it)" if auto else ""))
        self.padding.set_value(spec.padding)
        self.dilation.set_value(spec.dilation if kind == "max" else 1)
        self.dilation.setEnabled(kind == "max")
        self.dilation.setToolTip("Spacing between a max-pooling window's taps" if kind == "max" else
                                 "Average pooling has no dilation: nn.AvgPool2d takes no such argument")
        with QSignalBlocker(self.ceil_mode):
            self.ceil_mode.setChecked(bool(spec.ceil_mode))
        avg = kind == "avg"
        with QSignalBlocker(self.count_pad):
            self.count_pad.setChecked(bool(spec.count_include_pad))
        self.count_pad.setEnabled(avg)
        self.divisor_frame.setEnabled(avg)
        off_tip = "Average pooling only: max pooling has no divisor"
        self.count_pad.setToolTip("Average pooling: padded cells count in the divisor" if avg else off_tip)
        self.divisor_check.setToolTip("Average pooling: divide every window's sum by this number instead" if avg
                                      else off_tip)
        with QSignalBlocker(self.divisor_check), QSignalBlocker(self.divisor_spin):
            self.divisor_check.setChecked(spec.divisor_override is not None)
            if isinstance(spec.divisor_override, int):
                self.divisor_spin.setValue(spec.divisor_override)
        self.divisor_spin.setEnabled(avg and spec.divisor_override is not None)
        self.output_size.set_value(spec.output_size)
        c = self.model.n_channels
        with QSignalBlocker(self.channel_spin):
            self.channel_spin.setRange(0, c - 1)
            self.channel_spin.setValue(self.model.channel)
        self.channel_frame.setVisible(c > 1)
        self.channel_spin.setSuffix(f" of {c}")

    def _show_input_choice(self) -> None:
        model = self.model
        combo = self.input_combo
        other = combo.findData(OTHER)
        if model.source == OTHER:
            text = model.input_name[:1].upper() + model.input_name[1:] if model.input_name.startswith("the ") \
                else model.input_name
            if other < 0:
                combo.addItem(text, OTHER)
                other = combo.count() - 1
            combo.setItemText(other, text)
            combo.setItemData(other, f"Set from elsewhere: {model.input_name}", Qt.ItemDataRole.ToolTipRole)
        elif other >= 0:
            combo.removeItem(other)
        with QSignalBlocker(combo):
            combo.setCurrentIndex(max(combo.findData(model.source), 0))

    def _show_error(self) -> None:
        model = self.model
        fields = {"kernel_size": self.kernel, "stride": self.stride, "padding": self.padding,
                  "dilation": self.dilation, "output_size": self.output_size}
        for name, field in fields.items():
            field.set_invalid(bool(model.error) and model.error_field == name)
        for name, frame in (("divisor_override", self.divisor_frame), ("kind", self.kind_frame),
                            ("input", self.input_frame)):
            frame.setStyleSheet(style.invalid_frame_style(frame.objectName())
                                if model.error and model.error_field == name else "")
        if model.error:
            where = FIELD_LABELS.get(model.error_field, "")
            prefix = f"<b>{html.escape(where)}</b>: " if where else ""
            self.error_label.setText(f"{prefix}{html.escape(model.error)}. <i>The picture keeps the last settings "
                                     "that worked.</i>")
            self.error_label.setStyleSheet(f"color: {style.colour('ERROR')};")
            self.error_label.show()
        else:
            self.error_label.clear()
            self.error_label.hide()

    def _show_step(self) -> None:
        model = self.model
        shown = model.shown
        for button in (self.first_button, self.back_button, self.play_button, self.next_button, self.last_button):
            button.setEnabled(model.n_steps > 1 and not too_large(shown))
        if shown is None or model.cell is None:
            self.step_label.set_full_text("")
            self.arithmetic.setText("")
            return
        oh, ow = model.cell
        self.step_label.set_full_text(f"window {model.position + 1} of {model.n_steps}  ·  output ({oh}, {ow})")
        if too_large(shown):
            self.arithmetic.setText("")
            return
        if model.answer_hidden:
            self.arithmetic.setText("<i>The lesson asks for the output: the window's arithmetic waits for the "
                                    "Reveal (Ctrl+R).</i>")
            return
        window = model.window()
        self.arithmetic.setText(window_text(shown, window))

    def _on_hover(self, text: str) -> None:
        self.hover_label.setText(text or HOVER_HINT)
        self.hover_label.setStyleSheet("" if text else style.muted_text_style())

    # -- the PyTorch check ----------------------------------------------------------------------------
    def _submit_check(self) -> None:
        spec, x = self.model.spec, self.model.input
        if self._check_key is not None and self._check_key[0] == spec and self._check_key[1] is x:
            return
        self._check_key = (spec, x)  # the array itself: ids are reused
        self.badge.setText("checking with PyTorch…")
        self.badge.setStyleSheet(style.muted_text_style())
        self.worker.submit((self.model.spec, self.model.input))

    def _on_check(self, _generation: int, result) -> None:
        ok, text = result
        self.last_check = (ok, text)
        colour = style.colour("OK") if ok else style.colour("ERROR") if ok is False else style.colour("MUTED")
        self.badge.setText(text)
        self.badge.setStyleSheet(f"color: {colour}; font-weight: bold;" if ok is not None else f"color: {colour};")

    def _on_check_error(self, _generation: int, text: str) -> None:
        self.last_check = (False, text)
        self.badge.setText(f"the PyTorch check failed: {text}")
        self.badge.setStyleSheet(f"color: {style.colour('ERROR')};")


def shown_formula(spec: PoolSpec, input_shape, error: str = "") -> list[str]:
    """The output-size lines: the rule once, then each axis with its numbers (one axis when
    both read the same), then the shape; a refusal already said beside the fields is left out."""
    lines = formula_lines(spec, input_shape)
    if error and lines and lines[0] == error:
        return []
    try:
        h_lines = axis_formula(spec, 0, int(input_shape[1])).lines()
        w_lines = axis_formula(spec, 1, int(input_shape[2])).lines()
    except Exception:  # noqa: BLE001 - settings no formula can be written for: the refusal says why
        return [line for line in lines if line != error]
    as_h = [line.replace("W_out", "H_out").replace("(W_in ", "(H_in ").replace("W/", "H/") for line in w_lines]
    out = [f"{h_lines[0]}   (W_out likewise)"] + h_lines[1:]
    if as_h != h_lines:
        out += w_lines[1:]
    out += lines[len(h_lines) + len(w_lines):]
    return [line for line in out if line != error]


def _terms(values: list[str]) -> str:
    if len(values) <= TERMS_SHOWN:
        return " + ".join(values)
    return " + ".join(values[:TERMS_SHOWN - 2]) + " + … + " + values[-1]


def _outside_taps(shown, window) -> tuple[int, int]:
    """(taps in the padding ring, taps past it: ceil_mode's overhang) of ``window``."""
    spec = shown.spec
    if spec.adaptive:
        return 0, 0
    _, h, w = shown.input.shape
    ph, pw = spec.padding_hw
    ring = past = 0
    for r in window.rows:
        for c in window.cols:
            if 0 <= r < h and 0 <= c < w:
                continue
            if -ph <= r < h + ph and -pw <= c < w + pw:
                ring += 1
            else:
                past += 1
    return ring, past


def window_text(shown, window) -> str:
    """The window's arithmetic, as rich text: "max(7, 3, 8, 7) = 8" or "(7 + 3 + 8 + 7) / 4 = 6.25"."""
    spec = shown.spec
    plane = shown.plane
    values = [cell_text(float(plane[r, c])) for r, c in window.cells]
    result = f"<b>{html.escape(cell_text(window.value))}</b>"
    rows, cols = window.rows, window.cols
    where = ""
    if spec.adaptive:
        where = (f" (rows {rows[0]}–{rows[-1]}, columns {cols[0]}–{cols[-1]}: a window of {len(rows)}×{len(cols)})")
    if spec.is_max:
        listed = ", ".join(values) if len(values) <= TERMS_SHOWN else ", ".join(values[:TERMS_SHOWN - 2]) + ", …, " + values[-1]
        text = f"max({html.escape(listed)}) = {result}{where}"
        ring, past = _outside_taps(shown, window)
        if ring:
            text += f"; {ring} tap{'s' if ring != 1 else ''} in the padding count as −∞"
        if past:
            text += (f"; {past} tap{'s' if past != 1 else ''} past the edge: ceil_mode keeps this window, which "
                     "starts inside, and reads only its cells inside")
        if window.cells and not math.isnan(window.value):
            text += f"<br>the winner is input ({window.winner[0]}, {window.winner[1]}): the gradient goes there"
        elif window.cells:
            text += f"<br>a NaN wins, as in PyTorch: the last NaN, input ({window.winner[0]}, {window.winner[1]})"
        else:
            text += "<br>every tap is padding: the result is −∞"
        if window.ties > 1:
            text += (f"<br>{window.ties} cells tie at {html.escape(cell_text(window.value))}: PyTorch takes the "
                     "first in row order")
        return text
    divisor = window.divisor
    terms = list(values)
    note = ""
    if not spec.adaptive:
        if spec.divisor_override:
            note = f" (divisor_override={spec.divisor_override})"
        elif spec.count_include_pad:
            counted = divisor - len(window.cells)
            terms += ["0"] * max(counted, 0)
            if counted:
                note = f" ({counted} padded cell{'s' if counted != 1 else ''} counted: count_include_pad=True)"
        elif window.padded:
            note = " (only the cells inside the input: count_include_pad=False)"
        if _outside_taps(shown, window)[1]:
            note += " (the taps past the edge, ceil_mode's overhang, are not counted)"
    total = html.escape(_terms(terms) or "0")
    return f"({total}) / {divisor} = {result}{html.escape(note)}{where}"
