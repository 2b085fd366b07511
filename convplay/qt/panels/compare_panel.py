"""Compare kernels: a pinned kernel A against the session's kernel B, side by side.

A is a copy (Pin current kernel as A, or A from preset); B is the session's kernel, live.
For the output channel of the selected pair the panel shows both outputs and their
difference B − A, both frequency-response magnitudes and the kernels' difference, and the
kernels' numbers in two columns with the differing ones marked.

B's output is the window's own PyTorch run (``results``); A's is PyTorch run on exactly the
request B came from (the same image array, spec, device and dtype), in a ``LatestWorker``,
so the two see identical pixels and the newest request wins.  Nothing is drawn from
outputs that do not belong together: while B is being computed or A's run is pending, the
pictures give way to a line that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.compute.compare import difference
from convplay.core import kernel_edits as edits
from convplay.core.display import finite_abs_max, finite_range
from convplay.core.formatting import format_readout
from convplay.core.kernel_analysis import (
    frequency_response,
    is_rounding_zero,
    kernel_properties,
)
from convplay.core.presets import PRESETS
from convplay.qt import style
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.style import DIVERGING, SEQUENTIAL
from convplay.qt.theme import theme
from convplay.qt.widgets.colorbar import HeatMap
from convplay.qt.workers import LatestWorker
from convplay.qt.zoom import scaled, text_zoom

RESPONSE_SIZE = 32  # the small response pictures: 32×32 frequencies are plenty at ~100 px
PICTURE_SIZE = QSize(96, 54)  # one picture with its colour bar, at zoom 1: two rows fit a 300 px tab
VIEWS = (
    ("all", "All", "Both rows: the outputs, and the responses with the kernels' difference"),
    ("outputs", "Outputs", "Only the outputs A, B and B − A, larger"),
    ("kernels", "|H| · kernels", "Only the frequency responses |H| of A and B and the kernels' difference B − A, larger"),
)
SETTINGS_VIEW = "compare/view"
NO_PRESET = "A from preset…"
# (key, label, tooltip) of the numbers compared
NUMBERS = (
    ("sum", "sum", "The sum of the weights: the gain at frequency 0 (1 keeps brightness, 0 ignores flat areas)"),
    ("rank", "rank", "The SVD rank: 1 means the kernel is a column times a row (two 1-D passes)"),
    ("l1", "L1", "Σ|w|: the largest gain any input can see"),
    ("l2", "L2", "√Σw²: the gain for white noise"),
    ("min", "min", "The smallest weight"),
    ("max", "max", "The largest weight"),
    ("symmetry_x", "left-right", ("How the kernel mirrors left to right: sym. (symmetric), antisym. "
     "(antisymmetric: mirrored and negated) or neither")),
    ("symmetry_y", "top-bottom", "How the kernel mirrors top to bottom: sym., antisym. or neither"),
)
SAME_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class PinnedKernel:
    """Kernel A: a copy of a whole weight (and bias) with the name it had."""

    weight: np.ndarray
    bias: np.ndarray
    name: str


def _size_text(shape) -> str:
    return f"{shape[-2]}×{shape[-1]}"


def _run_a(job):
    """The worker's job: A's output for B's request (imports torch here, off the UI thread)."""
    from convplay.compute.compare import run_against

    key, request, weight, bias = job
    return key, run_against(request, weight, bias)


class _Picture(QWidget):
    """A caption over one coloured matrix (a diverging or a sequential map), or a line that
    says why there is nothing to show."""

    def __init__(self, caption: str, tooltip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel(caption)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.caption.setWordWrap(True)
        self.maps = {DIVERGING: HeatMap(DIVERGING), SEQUENTIAL: HeatMap(SEQUENTIAL)}
        self.empty = QLabel("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        for heat in self.maps.values():
            heat.setMinimumSize(PICTURE_SIZE)
            heat.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            heat.setToolTip(tooltip)
            self.stack.addWidget(heat)
        self.empty.setToolTip(tooltip)
        self.caption.setToolTip(tooltip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)
        self.values: np.ndarray | None = None  # what is drawn (float64), None when nothing is

    def show_values(self, values: np.ndarray, levels: tuple[float, float], colormap: str) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        heat = self.maps[colormap]
        heat.set_values(self.values, levels)
        self.stack.setCurrentWidget(heat)

    def show_nothing(self, text: str) -> None:
        self.values = None
        self.empty.setText(text)
        self.empty.setStyleSheet(style.muted_text_style())
        self.stack.setCurrentWidget(self.empty)

    @property
    def shown(self) -> bool:
        return self.values is not None


def _output_levels(a: np.ndarray | None, b: np.ndarray) -> tuple[tuple[float, float], str]:
    """One colour mapping for both outputs: ±max|x| on the diverging map when either has a
    sign, else 0 .. max on the sequential one."""
    arrays = [b] if a is None else [a, b]
    lo = min(finite_range(x)[0] for x in arrays)
    hi = max(finite_range(x)[1] for x in arrays)
    if lo < 0:
        m = max(finite_abs_max(x) for x in arrays)
        return ((-m, m) if m > 0 else (-1.0, 1.0)), DIVERGING
    return (0.0, hi if hi > 0 else 1.0), SEQUENTIAL


def _symmetric(values: np.ndarray) -> tuple[float, float]:
    m = finite_abs_max(values)
    return (-m, m) if m > 0 else (-1.0, 1.0)


class ComparePanel(QWidget):
    """Kernel A (pinned) against kernel B (the session's), for the selected pair's output channel."""

    def __init__(self, session, results=None, compute_settings=None, parent: QWidget | None = None, *,
                 settings: QSettings | None = None):
        super().__init__(parent)
        self._session = session
        self._results = results
        self._settings = compute_settings
        self._pair = (0, 0)
        self._a: PinnedKernel | None = None
        self._a_version = 0
        self._a_output: tuple[object, int, np.ndarray] | None = None  # (B's request, A's version, output)
        self._a_asked: tuple[object, int] | None = None  # what the worker was last given
        self._a_failed: tuple[tuple[object, int], str] | None = None  # (key, PyTorch's words)
        self.difference = None  # the shown OutputDifference, or None
        self._worker = LatestWorker(_run_a, "convplay-compare", parent=self)
        self._worker.returned.connect(self._on_a_output)
        self._worker.errored.connect(self._on_a_failed)

        self.pin_button = QPushButton("Pin current kernel as A")
        self.pin_button.setToolTip(
            "Copy the kernel as it is now (every pair, the bias and its name) as A; "
            "then edit the kernel (B) and compare it with A here.")
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("Make A a preset, put into every pair of the layer as it is now")
        self.preset_combo.addItem(NO_PRESET, None)
        for preset in PRESETS:
            self.preset_combo.addItem(preset.name, preset.key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, preset.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(10)
        self.names_label = QLabel("")
        self.names_label.setWordWrap(True)
        self.names_label.setToolTip("A: the kernel pinned; B: the kernel now, following every edit")
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setToolTip("Why A cannot be compared with the layer as it is now")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip("Whether the outputs shown belong to the kernels as they are now")
        self.channel_label = QLabel("")
        self.channel_label.setToolTip("The output channel compared: the one the Kernel panel's selected pair feeds")

        self.a_output = _Picture("A", "A's output, computed by PyTorch on the same input and settings as B; "
                                 "the same colours as B's")
        self.b_output = _Picture("B", "B's output: the Output panel's PyTorch output, this channel; "
                                 "the same colours as A's")
        self.diff_output = _Picture("B − A", "B's output minus A's, on a map centred on 0 "
                                    "(blue: B lower, red: B higher)")
        self.max_label = QLabel("")
        self.max_label.setWordWrap(True)
        self.max_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.max_label.setToolTip("The largest difference between the outputs and where it is, and "
                                  "‖B − A‖ / ‖A‖ over the channel")
        self.a_response = _Picture("|H| of A", "A's frequency response magnitude (the DFT of the "
                                   "kernel, zero-padded, centred; −0.5 to 0.5 cycles/pixel); the same colours as B's")
        self.b_response = _Picture("|H| of B", "B's frequency response magnitude; the same colours as A's")
        self.kernel_diff = _Picture("kernel B − A", "The weights of B minus those of A, this pair, "
                                    "centred on 0")

        top = QHBoxLayout()
        top.addWidget(self.pin_button)
        top.addWidget(self.preset_combo, 1)
        # What to show: a short tab has room for both rows of small pictures, or one row large.
        self.view_buttons: dict[str, QToolButton] = {}
        self._view_group = QButtonGroup(self)
        self._view_group.setExclusive(True)
        views = QHBoxLayout()
        views.setSpacing(2)
        show = QLabel("Show")
        show.setToolTip("Which pictures to show: both rows, or one row with more room")
        views.addWidget(show)
        for key, text, tip in VIEWS:
            button = QToolButton()  # as wide as its text: the row fits a 400 px column
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            self._view_group.addButton(button)
            self.view_buttons[key] = button
            views.addWidget(button)
        views.addStretch(1)
        views.addWidget(self.channel_label)
        self._qsettings = settings if settings is not None else QSettings("convplay", "convplay")
        saved = str(self._qsettings.value(SETTINGS_VIEW, "all"))
        self.view_buttons.get(saved, self.view_buttons["all"]).setChecked(True)
        self.outputs_row = QWidget()
        outputs = QHBoxLayout(self.outputs_row)
        outputs.setContentsMargins(0, 0, 0, 0)
        for picture in (self.a_output, self.b_output, self.diff_output):
            outputs.addWidget(picture, 1)
        self.responses_row = QWidget()
        responses = QHBoxLayout(self.responses_row)
        responses.setContentsMargins(0, 0, 0, 0)
        for picture in (self.a_response, self.b_response, self.kernel_diff):
            responses.addWidget(picture, 1)

        self.numbers = QGridLayout()
        self.numbers.setHorizontalSpacing(12)
        self.numbers.setVerticalSpacing(0)
        self._number_labels: dict[str, tuple[QLabel, QLabel, QLabel]] = {}
        per_block = (len(NUMBERS) + 1) // 2
        for block in range(2):
            for col, head in enumerate(("", "A", "B")):
                label = QLabel(f"<b>{head}</b>")
                label.setAlignment(Qt.AlignmentFlag.AlignRight if col else Qt.AlignmentFlag.AlignLeft)
                self.numbers.addWidget(label, 0, 4 * block + col)
        for index, (key, text, tip) in enumerate(NUMBERS):
            row, base = index % per_block + 1, 4 * (index // per_block)
            name, a, b = QLabel(text), QLabel(""), QLabel("")
            for label in (name, a, b):
                label.setToolTip(tip)
            for label in (a, b):
                label.setAlignment(Qt.AlignmentFlag.AlignRight)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.numbers.addWidget(name, row, base)
            self.numbers.addWidget(a, row, base + 1)
            self.numbers.addWidget(b, row, base + 2)
            self._number_labels[key] = (name, a, b)
        # A gap between the two blocks, and the room left over after them.
        self.numbers.setColumnMinimumWidth(3, 16)
        self.numbers.setColumnStretch(7, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(views)
        layout.addWidget(self.names_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.outputs_row, 3)
        layout.addWidget(self.max_label)
        layout.addWidget(self.responses_row, 2)
        layout.addLayout(self.numbers)
        layout.addStretch(0)

        self._apply_view()
        self._view_group.buttonToggled.connect(self._on_view)
        self.pin_button.clicked.connect(self.pin_current)
        self.preset_combo.activated.connect(self._on_preset)
        self._shown = WhenShown(self, self.refresh)
        models = [(session.changed, self._shown.request)]
        if results is not None:
            models += [(results.outcome_changed, self._shown.request), (results.stale_changed, self._shown.request)]
        if compute_settings is not None:
            models.append((compute_settings.changed, self._shown.request))
        hear_while_alive(self, *models)
        theme().theme_changed.connect(self._shown.request)
        text_zoom().changed.connect(self._on_zoom)
        self.refresh()

    # -- reading (for the window and the tests) ----------------------------------------------
    @property
    def pair(self) -> tuple[int, int]:
        return self._pair

    @property
    def kernel_a(self) -> PinnedKernel | None:
        return self._a

    @property
    def a_pending(self) -> bool:
        """A's run for the current B output has been asked for and has not answered yet."""
        return self._a_asked is not None and (self._a_output is None or self._a_output[:2] != self._a_asked)

    def number_texts(self, key: str) -> tuple[str, str, bool]:
        """(A's text, B's text, marked as differing) of one of ``NUMBERS``."""
        _name, a, b = self._number_labels[key]
        return a.text(), b.text(), bool(a.property("differs"))

    @property
    def view(self) -> str:
        """"all", "outputs" or "kernels": which rows of pictures are shown."""
        return next((key for key, b in self.view_buttons.items() if b.isChecked()), "all")

    # -- commands ----------------------------------------------------------------------------
    def set_view(self, key: str) -> None:
        if key in self.view_buttons:
            self.view_buttons[key].setChecked(True)

    def _on_view(self, _button, checked: bool) -> None:
        if checked:
            self._qsettings.setValue(SETTINGS_VIEW, self.view)
            self._apply_view()

    def _apply_view(self) -> None:
        view = self.view
        self.outputs_row.setVisible(view in ("all", "outputs"))
        self.max_label.setVisible(view in ("all", "outputs") and bool(self.max_label.text()))
        self.responses_row.setVisible(view in ("all", "kernels"))

    def set_pair(self, out_index: int, in_index: int) -> None:
        self._pair = self._clamped((int(out_index), int(in_index)))
        self._shown.request()

    def pin_current(self) -> None:
        """A becomes a copy of the session's kernel as it is now."""
        s = self._session
        self._set_a(PinnedKernel(np.array(s.weight, dtype=np.float64), np.array(s.bias_values, dtype=np.float64),
                                 s.kernel_name or "the kernel"))

    def pin_preset(self, key: str) -> bool:
        """A becomes the preset ``key`` in every pair of the layer's weight as it is now;
        False (with the reason shown) when it does not fit the layer."""
        preset = next((p for p in PRESETS if p.key == key), None)
        if preset is None:
            self._say(f"There is no preset called {key!r}.")
            return False
        s = self._session
        weight = s.weight
        kernel = np.asarray(preset.weights, dtype=np.float64)
        kh, kw = weight.shape[2:]
        if kernel.shape[0] > kh or kernel.shape[1] > kw:
            self._say(f"{preset.name} is {_size_text(kernel.shape)}, larger than the layer's "
                      f"{kh}×{kw}: set the kernel size first.")
            return False
        try:
            filled = edits.with_kernel(weight, kernel, edits.ALL, self._pair,
                                       transposed=bool(s.spec.transposed), groups=_groups(s.spec))
        except ValueError as exc:
            self._say(f"{preset.name} cannot be A: {exc}")
            return False
        if filled.shape[2:] != (kh, kw):  # a smaller preset sits in the middle of the layer's window
            filled = edits.centred_resize(filled, kh, kw)
        self._set_a(PinnedKernel(filled, np.array(s.bias_values, dtype=np.float64), preset.name))
        return True

    # -- drawing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        s = self._session
        weight = s.weight
        self._pair = self._clamped(self._pair)
        o, i = self._pair
        a = self._a
        b_name = s.kernel_name or "the kernel"
        self.names_label.setText(
            f"<b>A</b>: {a.name if a else 'none yet: pin one'} &nbsp; <b>B</b>: {b_name} (now)")
        fits = a is not None and a.weight.shape == weight.shape and a.bias.shape == s.bias_values.shape
        if a is not None and not fits:
            self._say(self._misfit_text(a.weight.shape, weight.shape))
        elif self._a_failed is not None and self._a_failed[0] == self._current_key():
            self._say(f"A's output could not be computed: {self._a_failed[1]}")
        else:
            self._say("")
        channel = self._channel()
        self.channel_label.setText(f"Output channel {channel}" if channel is not None else "")
        self.channel_label.setToolTip(
            "The output channel compared: the one the Kernel panel's selected pair feeds"
            + (f" (the pair out {o}, in {i})" if channel is not None else ""))

        b_kernel = weight[o, i] if weight.ndim == 4 and weight.size else np.zeros((1, 1))
        a_kernel = a.weight[o, i] if fits else None
        self._draw_kernels(a_kernel, b_kernel)
        self._draw_outputs(a if fits else None, channel)

    def _draw_kernels(self, a_kernel: np.ndarray | None, b_kernel: np.ndarray) -> None:
        b_resp, a_resp = _magnitude(b_kernel), None if a_kernel is None else _magnitude(a_kernel)
        tops = [finite_abs_max(r) for r in (a_resp, b_resp) if r is not None]
        levels = (0.0, max(tops) if tops and max(tops) > 0 else 1.0)
        for picture, resp, kernel in ((self.a_response, a_resp, a_kernel), (self.b_response, b_resp, b_kernel)):
            if resp is not None:
                picture.show_values(resp, levels, SEQUENTIAL)
            else:
                picture.show_nothing("no A" if kernel is None else "weights not finite")
        if a_kernel is not None:
            kernel_diff = b_kernel - a_kernel
            self.kernel_diff.show_values(kernel_diff, _symmetric(kernel_diff), DIVERGING)
        else:
            self.kernel_diff.show_nothing("no A")
        b_props = _properties(b_kernel)
        a_props = _properties(a_kernel) if a_kernel is not None else None
        highlight = f"font-weight: bold; color: {style.colour('WARNING')};"
        for key, (_name, a_label, b_label) in self._number_labels.items():
            b_label.setText(_number(b_props[key]) if b_props else "–")
            a_label.setText(_number(a_props[key]) if a_props else "–")
            differs = bool(a_props and b_props) and _differs(a_props[key], b_props[key])
            for label in (a_label, b_label):
                label.setProperty("differs", differs)
                label.setStyleSheet(highlight if differs else "")

    def _draw_outputs(self, a: PinnedKernel | None, channel: int | None) -> None:
        results = self._results
        self.difference = None
        self.max_label.setText("")
        self.max_label.setVisible(False)
        if results is None or channel is None:
            for picture in (self.a_output, self.b_output, self.diff_output):
                picture.show_nothing("no output")
            self._status("")
            return
        if not results.fresh:
            reason = results.stale or "B's output is being computed…"
            self._status(f"Waiting for B's output: {reason}" if results.stale else reason)
            for picture in (self.a_output, self.b_output, self.diff_output):
                picture.show_nothing("waiting for B")
            return
        outcome = results.outcome
        b_all = np.asarray(outcome.output)
        if channel >= b_all.shape[0]:
            for picture in (self.a_output, self.b_output, self.diff_output):
                picture.show_nothing("no such channel")
            self._status("")
            return
        b = b_all[channel]
        a_out = None
        if a is not None:
            key = (outcome.request, self._a_version)
            if self._a_output is not None and self._a_output[:2] == key:
                a_all = self._a_output[2]
                a_out = a_all[channel] if channel < a_all.shape[0] and a_all.shape[1:] == b_all.shape[1:] else None
            elif self._a_asked != key:
                self._a_asked = key
                self._a_failed = None
                self._worker.submit((key, outcome.request, self._effective(a.weight), a.bias))
        levels, colormap = _output_levels(a_out, b)
        self.b_output.show_values(b, levels, colormap)
        if a is None:
            self._status("Pin a kernel as A to compare B with it.")
            self.a_output.show_nothing("no A")
            self.diff_output.show_nothing("no A")
            return
        if a_out is None:
            if self._a_failed is not None and self._a_failed[0] == key:
                self._status("")
                self.a_output.show_nothing("A failed")
            else:
                self._status("A's output is being computed…")
                self.a_output.show_nothing("computing A…")
            self.diff_output.show_nothing("waiting for A")
            return
        self._status("")
        self.a_output.show_values(a_out, levels, colormap)
        diff = difference(a_out, b)
        self.difference = diff
        self.diff_output.show_values(diff.values, _symmetric(diff.values), DIVERGING)
        row, col = diff.where
        relative = "—" if diff.relative is None else f"{100 * diff.relative:.3g} %"
        if diff.max_abs == 0.0:
            self.max_label.setText("A and B give identical outputs")
        else:
            self.max_label.setText(
                f"max |B − A| {format_readout(diff.max_abs)} at (row {row}, col {col}) · "
                f"‖B − A‖/‖A‖ {relative}")
        self.max_label.setVisible(self.view in ("all", "outputs"))

    # -- internals --------------------------------------------------------------------------
    def _set_a(self, pinned: PinnedKernel) -> None:
        self._a = pinned
        self._a_version += 1
        self._a_failed = None
        self._a_output = None
        self._a_asked = None
        self._shown.request()

    def _effective(self, weight: np.ndarray) -> np.ndarray:
        """A's weight as PyTorch is given it: flipped like B's when true convolution is on."""
        w = weight[..., ::-1, ::-1] if self._session.true_convolution else weight
        return np.ascontiguousarray(w)

    def _on_a_output(self, _generation: int, answer) -> None:
        key, output = answer
        if key[1] != self._a_version:
            return
        self._a_output = (key[0], key[1], np.asarray(output))
        self._shown.request()

    def _on_a_failed(self, generation: int, error: str) -> None:
        if self._worker.is_current(generation) and self._a_asked is not None:
            self._a_failed = (self._a_asked, error or "PyTorch failed")
            self._shown.request()

    def _current_key(self) -> tuple[object, int] | None:
        """What A's output must belong to now: B's request and A's version."""
        results = self._results
        if results is None or not results.fresh:
            return None
        return (results.outcome.request, self._a_version)

    def _on_preset(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        self.preset_combo.setCurrentIndex(0)  # the box is a command, not a state
        if key is not None:
            self.pin_preset(key)

    def _on_zoom(self, *_args) -> None:
        size = QSize(scaled(PICTURE_SIZE.width()), scaled(PICTURE_SIZE.height()))
        for picture in (self.a_output, self.b_output, self.diff_output,
                        self.a_response, self.b_response, self.kernel_diff):
            for heat in picture.maps.values():
                heat.setMinimumSize(size)

    def _say(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(f"color: {style.colour('ERROR')};" if text else "")
        self.message_label.setVisible(bool(text))

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(style.STALE_BANNER_STYLE if text else "")
        self.status_label.setVisible(bool(text))

    def _misfit_text(self, a_shape, now_shape) -> str:
        if tuple(a_shape[2:]) != tuple(now_shape[2:]):
            return f"A is {_size_text(a_shape)}, the layer is now {_size_text(now_shape)}: pin A again."
        if tuple(a_shape) != tuple(now_shape):
            return (f"A's weight is {tuple(int(v) for v in a_shape)}, the layer now needs "
                    f"{tuple(int(v) for v in now_shape)}: pin A again.")
        return "A's bias does not fit the layer's output channels now: pin A again."

    def _clamped(self, pair: tuple[int, int]) -> tuple[int, int]:
        shape = self._session.weight.shape
        if len(shape) != 4 or 0 in shape[:2]:
            return (0, 0)
        return (min(max(pair[0], 0), shape[0] - 1), min(max(pair[1], 0), shape[1] - 1))

    def _channel(self) -> int | None:
        """The output channel the selected pair's kernel writes to."""
        s = self._session
        shape = s.weight.shape
        if len(shape) != 4:
            return None
        o, i = self._pair
        if not s.spec.transposed:
            return o
        groups = _groups(s.spec)
        per_group_in = max(1, shape[0] // groups)
        return (o // per_group_in) * shape[1] + i



def _magnitude(kernel: np.ndarray) -> np.ndarray | None:
    """|H| of a kernel, or None when it cannot have one (weights not finite)."""
    try:
        return frequency_response(kernel, max(RESPONSE_SIZE, *kernel.shape)).magnitude
    except ValueError:
        return None


def _properties(kernel: np.ndarray) -> dict | None:
    try:
        numbers = kernel_properties(kernel).as_dict()
    except ValueError:
        return None
    for key in ("sum", "min", "max"):  # rounding crumbs (1.7e-16) read as the 0 they are
        if is_rounding_zero(numbers[key], numbers["l1"]):
            numbers[key] = 0.0
    return numbers


def _groups(spec) -> int:
    g = spec.groups
    return int(g) if isinstance(g, (int, np.integer)) and not isinstance(g, bool) and g >= 1 else 1


SHORT_WORDS = {"symmetric": "sym.", "antisymmetric": "antisym."}  # two columns in a 400 px tab


def _number(value) -> str:
    if isinstance(value, str):
        return SHORT_WORDS.get(value, value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value.is_integer() and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.5g}"


def _differs(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a != b
    return not np.isclose(float(a), float(b), rtol=0, atol=SAME_TOLERANCE)
