"""The Kernel panel: the weights of each (out, in) channel pair, the bias, presets and edits.

Every edit goes through ``push_change`` so that Edit > Undo takes it back.  The edits
themselves are core's (``kernel_edits``): the panel picks the scope (every input channel of
the selected output channel by default, so that a preset on a photo reads all of its
colours; the selected pair; or all pairs) and hands the result to the session.  A
kernel-size edit is a settings edit, ``session.set_spec(spec.replace(kernel_size=...))``,
exactly as in the parameters panel.

What the kernel is (its name in the preset box, "Sobel x, edited") and what the last fill
put where (the note under the grid) are the session's, so undo and loads restore them.
The panel keeps only view state: the selected pair, which orientation the grid shows
under true convolution, and the text typed into cells (1/9 keeps showing as 1/9).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QSignalBlocker, QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from convplay.core import kernel_edits as edits
from convplay.core.history import History, push_change
from convplay.core.kernel_edits import ALL, FILTER, SELECTED, kernel_size_arg
from convplay.core.presets import PRESETS, Preset
from convplay.core.session import Session, edited_name
from convplay.qt import style
from convplay.qt.output_first import OUTPUT_FIRST
from convplay.qt.shown import hear_while_alive
from convplay.qt.panels.analysis_panel import properties_summary
from convplay.qt.style import DIVERGING
from convplay.qt.widgets.colorbar import HeatMap
from convplay.qt.widgets.value_grid import ValueGrid

MAX_KERNEL_SIDE = 15
NO_NAME = "Load a preset…"
RANDOM_NAME = "Random (nn.Conv2d's initialisation)"
ZEROS_NAME = "All zeros"
AS_TYPED, FLIPPED = "as typed", "flipped"
HEATMAP_WIDTH = 140  # pixels: the heat map beside the grid (cells of ~25 px), shown only where both fit
MAX_TYPED = 512  # typed cell texts remembered (a few kernels' worth)
__all__ = ["ALL", "FILTER", "MAX_KERNEL_SIDE", "SELECTED", "KernelPanel"]


class KernelPanel(QWidget):
    """Edit the weights of ``session`` pair by pair; undoable through ``history``."""

    def __init__(self, session: Session, history: History | None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self._history = history
        self._rng = np.random.default_rng()
        # Text typed into cells, by (a, b, row, col) of the stored weight: shown while the
        # cell still holds the value it gave ("1/9" stays "1/9", "0.5" stays "0.5").
        self._typed: dict[tuple[int, int, int, int], tuple[float, str]] = {}
        self._typed_bias: dict[int, tuple[float, str]] = {}
        self._orientation = AS_TYPED

        self.kh_spin = _spin(1, MAX_KERNEL_SIDE, "Kernel height (rows), 1 to 15. Changes kernel_size.")
        self.kw_spin = _spin(1, MAX_KERNEL_SIDE, "Kernel width (columns), 1 to 15. Changes kernel_size.")
        self.out_spin = _spin(0, 0, "Which output channel's kernel to show and edit.")
        self.in_spin = _spin(0, 0, "Which input channel (within its group) of that output channel.")
        self.out_label = QLabel("out")
        self.in_label = QLabel("in")
        self.scope_combo = ElidingComboBox()
        # As narrow as a few words: at a large text zoom the dock is narrower than the whole item.
        self.scope_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scope_combo.setMinimumContentsLength(12)
        self.scope_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.scope_combo.addItem("all inputs of this output", FILTER)
        self.scope_combo.addItem("selected pair", SELECTED)
        self.scope_combo.addItem("all pairs", ALL)
        self.scope_combo.setToolTip(
            "What presets, normalise, flip, transpose and clear change: every input channel of the "
            "selected output channel (nn.Conv2d adds their responses), the one (out, in) pair shown, "
            "or every pair."
        )
        self.preset_combo = ElidingComboBox()
        self.preset_combo.setToolTip("The kernel now; pick a preset to load it (it sets the kernel size to the preset's).")
        self.preset_combo.addItem(NO_NAME, None)
        for preset in PRESETS:
            self.preset_combo.addItem(preset.name, preset.key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(12)
        self.preset_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # the field's width

        self.normalise_button = _button("Normalise", "Scale so the weights sum to 1 (for a filter or all pairs: each output channel's filter).")
        self.flip_h_button = _button("Flip ↔", "Mirror left-right.")
        self.flip_v_button = _button("Flip ↕", "Mirror top-bottom.")
        self.transpose_button = _button(
            "Transpose", "Swap rows and columns. A non-square kernel swaps kernel_size, so every pair is transposed."
        )
        self.random_button = _button(
            "Random", "Every weight and bias drawn as nn.Conv2d initialises them: U(-1/√fan_in, 1/√fan_in)."
        )
        self.clear_button = _button("Clear", "Set the weights to 0.")

        self.orientation_caption = QLabel()
        self.orientation_caption.setWordWrap(True)
        self.as_typed_button = _toggle("As typed", "Show the kernel as it is stored and typed.")
        self.flipped_button = _toggle(
            "Flipped (PyTorch)",
            "Show the kernel flipped in both axes: the weights conv2d multiplies with the pixels "
            "(row 0, column 0 on the top-left pixel). You can type into either view.",
        )
        self.orientation_group = QButtonGroup(self)
        self.orientation_group.setExclusive(True)
        self.orientation_group.addButton(self.as_typed_button)
        self.orientation_group.addButton(self.flipped_button)
        self.as_typed_button.setChecked(True)

        self.grid = ValueGrid(fractions=True, fit_content=True)
        self.grid.setToolTip("The weights of the selected pair. Type a number or a fraction such as 1/9.")
        self.bias_grid = ValueGrid(fractions=True, fit_content=True)
        self.bias_grid.setToolTip("One bias per output channel, added after the sum.")
        self.bias_grid.verticalHeader().setVisible(False)
        self.bias_grid.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # The selected kernel's numbers in one muted line: one line, so the panel still fits
        # 1280x720; cut to the panel's width, whole in the tooltip.
        self.properties_line = QLabel()
        self.properties_line.setStyleSheet(style.MUTED_TEXT_STYLE)
        self.properties_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.fill_note = QLabel()
        self.fill_note.setWordWrap(True)
        self.fill_note.setStyleSheet(style.MUTED_TEXT_STYLE)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(style.MUTED_TEXT_STYLE)

        self.heatmap = HeatMap(DIVERGING)
        self.heatmap.setToolTip("The selected kernel: red positive, blue negative, white 0 (levels symmetric about 0).")
        self.heatmap.setMinimumSize(HEATMAP_WIDTH, HEATMAP_WIDTH)
        self.heatmap.setMaximumWidth(HEATMAP_WIDTH + 40)

        self._build_layout()
        self._connect()
        self._refresh()

    # -- layout ------------------------------------------------------------------------
    def _build_layout(self) -> None:
        # Thin margins everywhere: at 1280x720 the Kernel dock is about 340 px wide, and a
        # 5x5 of learned weights needs most of it; at 1024x640 it is 270.
        size_row = QHBoxLayout()
        size_row.addWidget(self.kh_spin)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.kw_spin)
        size_row.addStretch(1)
        pair_row = QHBoxLayout()
        pair_row.addWidget(self.out_label)
        pair_row.addWidget(self.out_spin)
        pair_row.addWidget(self.in_label)
        pair_row.addWidget(self.in_spin)
        pair_row.addStretch(1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Kernel size", size_row)
        form.addRow("Pair", pair_row)
        form.addRow("Apply to", self.scope_combo)
        form.addRow("Preset", self.preset_combo)

        self.buttons = ButtonRows(
            self.normalise_button, self.flip_h_button, self.flip_v_button,
            self.transpose_button, self.random_button, self.clear_button,
        )

        orientation_row = QHBoxLayout()
        orientation_row.setContentsMargins(0, 0, 0, 0)
        orientation_row.setSpacing(0)
        orientation_row.addWidget(self.as_typed_button)
        orientation_row.addWidget(self.flipped_button)
        orientation_row.addStretch(1)
        self.orientation_row = QWidget()
        self.orientation_row.setLayout(orientation_row)

        # A title line, not a group box: the box's frame and margins cost the 10 px that a
        # fifth column of learned weights needs.
        self.weights_title = QLabel("Weights")
        self.weights_title.setStyleSheet("font-weight: bold;")
        self.weights_title.setWordWrap(True)  # at a large text zoom the title is wider than the dock
        self.weights_box = QWidget()
        weights_layout = QVBoxLayout(self.weights_box)
        weights_layout.setContentsMargins(0, 0, 0, 0)
        weights_layout.setSpacing(3)
        weights_layout.addWidget(self.weights_title)
        weights_layout.addWidget(self.orientation_row)
        weights_layout.addWidget(self.orientation_caption)
        grid_row = QHBoxLayout()
        grid_row.addWidget(self.grid, 0, Qt.AlignmentFlag.AlignTop)
        grid_row.addWidget(self.heatmap, 0, Qt.AlignmentFlag.AlignTop)
        grid_row.addStretch(1)
        weights_layout.addLayout(grid_row)
        weights_layout.addWidget(self.properties_line)
        weights_layout.addWidget(self.fill_note)

        bias_row = QHBoxLayout()
        bias_row.addWidget(QLabel("Bias"))
        bias_row.addWidget(self.bias_grid)
        bias_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 4, 2, 4)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        layout.addWidget(self.weights_box)
        layout.addLayout(bias_row)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        layout.addStretch(1)  # spare height below everything, not between the title and the grid

    def _connect(self) -> None:
        self.kh_spin.valueChanged.connect(self._on_size_changed)
        self.kw_spin.valueChanged.connect(self._on_size_changed)
        self.out_spin.valueChanged.connect(self._refresh_kernel)
        self.in_spin.valueChanged.connect(self._refresh_kernel)
        self.preset_combo.activated.connect(self._on_preset_activated)
        self.normalise_button.clicked.connect(self.normalise)
        self.flip_h_button.clicked.connect(lambda: self.flip(axis=3))
        self.flip_v_button.clicked.connect(lambda: self.flip(axis=2))
        self.transpose_button.clicked.connect(self.transpose)
        self.random_button.clicked.connect(self.randomise)
        self.clear_button.clicked.connect(self.clear)
        self.as_typed_button.clicked.connect(lambda: self.set_orientation(AS_TYPED))
        self.flipped_button.clicked.connect(lambda: self.set_orientation(FLIPPED))
        self.grid.value_typed.connect(self._on_weight_typed)
        self.grid.rejected.connect(self._show_error)
        self.bias_grid.value_typed.connect(self._on_bias_typed)
        self.bias_grid.rejected.connect(self._show_error)
        session = self._session
        follow = OUTPUT_FIRST.follow(self._refresh)
        hear_while_alive(self, (session.kernel_changed, follow), (session.spec_changed, follow))
        self.destroyed.connect(lambda *_args, refresh=self._refresh: OUTPUT_FIRST.discard(refresh))

    # -- public actions (buttons call these; so can menus and tests) ----------------------
    @property
    def pair(self) -> tuple[int, int]:
        return self.out_spin.value(), self.in_spin.value()

    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    def set_scope(self, scope: str) -> None:
        self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))

    @property
    def orientation(self) -> str:
        """What the grid shows: AS_TYPED, or FLIPPED (only while true convolution is on)."""
        return self._orientation if self._session.true_convolution else AS_TYPED

    def set_orientation(self, orientation: str) -> None:
        """Show the kernel as typed or flipped as PyTorch receives it (under true convolution)."""
        if orientation not in (AS_TYPED, FLIPPED):
            raise ValueError(f"the grid shows the kernel {AS_TYPED!r} or {FLIPPED!r}, not {orientation!r}")
        self._orientation = orientation
        self._refresh()

    def _spec_layout(self) -> dict:
        spec = self._session.spec
        return {"transposed": bool(spec.transposed), "groups": spec.groups}

    def apply_preset(self, preset: Preset) -> None:
        """Set the kernel size to the preset's and fill the scope's pairs with it."""
        kernel = np.asarray(preset.weights, dtype=np.float64)
        kh, kw = kernel.shape
        scope, pair, layout = self.scope, self.pair, self._spec_layout()

        def change() -> None:
            session = self._session
            weight = edits.with_kernel(session.weight, kernel, scope, pair, **layout)
            spec = session.spec.replace(kernel_size=kernel_size_arg(kh, kw))
            note = edits.fill_note(preset.name, kernel, session.weight.shape, scope, pair, **layout)
            session.set_kernel(spec, weight, session.bias_values, name=preset.name, note=note)

        self._edit(f"Preset {preset.name}", change)

    def normalise(self) -> None:
        layout = self._spec_layout()
        self._edit_weight(
            "Normalise kernel",
            lambda w: edits.normalise_weight(w, self.scope, self.pair, layout["transposed"], layout["groups"]),
        )

    def flip(self, axis: int) -> None:
        self._edit_weight("Flip kernel", lambda w: edits.flip_weight(w, axis, self.scope, self.pair, **self._spec_layout()))

    def transpose(self) -> None:
        def change() -> None:
            session = self._session
            weight = edits.transpose_weight(session.weight, self.scope, self.pair, **self._spec_layout())
            if weight.shape == session.weight.shape:
                session.set_weight(weight)
            else:  # a non-square window: kernel_size swaps
                spec = session.spec.replace(kernel_size=kernel_size_arg(*weight.shape[2:]))
                name = edited_name(session.kernel_name)
                session.set_kernel(spec, weight, session.bias_values, name=name)

        self._edit("Transpose kernel", change)

    def randomise(self) -> None:
        def change() -> None:
            session = self._session
            weight, bias = edits.kaiming_uniform(session.weight.shape, len(session.bias_values), self._rng)
            session.set_kernel(session.spec, weight, bias, name=RANDOM_NAME)

        self._edit("Random kernel", change)

    def clear(self) -> None:
        scope = self.scope

        def change() -> None:
            session = self._session
            weight = edits.cleared_weight(session.weight, scope, self.pair, **self._spec_layout())
            session.set_weight(weight, name=ZEROS_NAME if not weight.any() else None)

        self._edit("Clear kernel", change)

    def set_kernel_size(self, kh: int, kw: int) -> None:
        """Resize every kernel to kh x kw around its centre: a settings edit, as in the
        parameters panel (the session fits the weight to the new kernel_size)."""
        spec = self._session.spec.replace(kernel_size=kernel_size_arg(kh, kw))
        self._edit(f"Kernel size {kh}×{kw}", lambda: self._session.set_spec(spec))

    # -- widget -> model ---------------------------------------------------------------
    def _edit(self, text: str, change: Callable[[], None]) -> None:
        try:
            push_change(self._history, self._session, text, change)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.message.clear()

    def _edit_weight(self, text: str, edit: Callable[[np.ndarray], np.ndarray]) -> None:
        self._edit(text, lambda: self._session.set_weight(edit(self._session.weight)))

    def _on_size_changed(self) -> None:
        kh, kw = self.kh_spin.value(), self.kw_spin.value()
        if (kh, kw) != self._session.weight.shape[2:]:
            self.set_kernel_size(kh, kw)

    def _on_preset_activated(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        preset = next((p for p in PRESETS if p.key == key), None)
        if preset is not None:
            self.apply_preset(preset)
        self._refresh_name()  # the box names the kernel there is, whatever happened

    def _stored_cell(self, row: int, col: int) -> tuple[int, int]:
        """The stored weight's (row, col) behind a grid cell (the flipped view mirrors both)."""
        if self.orientation == FLIPPED:
            kh, kw = self._session.weight.shape[2:]
            return kh - 1 - row, kw - 1 - col
        return row, col

    def _on_weight_typed(self, row: int, col: int, value: float, text: str) -> None:
        pair = self.pair
        r, c = self._stored_cell(row, col)
        self._typed.pop((*pair, r, c), None)
        self._typed[(*pair, r, c)] = (value, text)
        while len(self._typed) > MAX_TYPED:  # the oldest first: a dict keeps insertion order
            self._typed.pop(next(iter(self._typed)))
        if self._session.weight[(*pair, r, c)] == value:
            self._refresh_kernel()  # the same number written another way: only the text changes
            return
        self._edit_weight("Edit weight", lambda w: edits.with_value(w, pair, r, c, value))

    def _on_bias_typed(self, _row: int, col: int, value: float, text: str) -> None:
        self._typed_bias[col] = (value, text)
        if self._session.bias_values[col] == value:
            self._refresh_bias()
            return

        def change() -> None:
            bias = np.array(self._session.bias_values)
            bias[col] = value
            self._session.set_bias(bias)

        self._edit("Edit bias", change)

    def _show_error(self, text: str) -> None:
        """Why an edit did not apply; every control shows the session's kernel again."""
        self.message.setText(text)
        self._refresh()

    # -- model -> widget ---------------------------------------------------------------
    def _refresh(self) -> None:
        session = self._session
        weight = session.weight
        o_count, i_count, kh, kw = weight.shape
        transposed = session.spec.transposed
        with QSignalBlocker(self.kh_spin), QSignalBlocker(self.kw_spin):
            for spin, value in ((self.kh_spin, kh), (self.kw_spin, kw)):
                if value > spin.maximum():  # a loaded layer may be larger than the usual range
                    spin.setMaximum(value)
                spin.setValue(value)
        with QSignalBlocker(self.out_spin), QSignalBlocker(self.in_spin):
            # A spin box lays its parent out again whenever its range is set: only on change.
            for spin, last in ((self.out_spin, o_count - 1), (self.in_spin, i_count - 1)):
                if spin.maximum() != last:
                    spin.setMaximum(last)
        # weight[a, b] is (out, in/groups) for conv2d and (in, out/groups) for conv_transpose2d.
        self.out_label.setText("in" if transposed else "out")
        self.in_label.setText("out" if transposed else "in")
        self._refresh_bias()
        self.bias_grid.setEnabled(session.spec.bias)
        notes = []
        if not session.spec.bias:
            notes.append("Bias is off in the parameters: the values are kept but not used.")
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))
        self.fill_note.setText(session.kernel_note)
        self.fill_note.setVisible(bool(session.kernel_note))
        self._refresh_orientation()
        self._refresh_name()
        self._refresh_kernel()

    def _refresh_bias(self) -> None:
        bias = self._session.bias_values
        typed = {(0, c): text for c, (value, text) in self._typed_bias.items() if c < len(bias) and bias[c] == value}
        self.bias_grid.set_values(bias[None, :], typed)

    def _refresh_orientation(self) -> None:
        """The box's title says which orientation the grid shows; under true convolution a
        toggle picks it and a line says what PyTorch receives."""
        on = self._session.true_convolution
        self.orientation_row.setVisible(on)
        self.orientation_caption.setVisible(on)
        with QSignalBlocker(self.as_typed_button), QSignalBlocker(self.flipped_button):
            self.as_typed_button.setChecked(self.orientation == AS_TYPED)
            self.flipped_button.setChecked(self.orientation == FLIPPED)
        if not on:
            title = "Weights, as PyTorch gets them"
            caption = ""
        elif self.orientation == AS_TYPED:
            title = "Weights, as typed"
            caption = "True convolution: PyTorch receives this kernel flipped in both axes."
        else:
            title = "Weights, flipped as PyTorch gets them"
            caption = "True convolution: the typed kernel turned 180°; typing here edits it too."
        self.weights_title.setText(title)
        self.orientation_caption.setText(caption)
        self.orientation_caption.setStyleSheet(style.WARNING_TEXT_STYLE)

    def _refresh_name(self) -> None:
        name = self._session.kernel_name
        index = next((n + 1 for n, p in enumerate(PRESETS) if p.name == name), 0)
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setItemText(0, NO_NAME if index or not name else name)
            self.preset_combo.setCurrentIndex(index)
        self.preset_combo.setToolTip(
            (f"The kernel now: {name}. " if name else "")
            + "Pick a preset to load it (it sets the kernel size to the preset's)."
        )

    def _refresh_kernel(self) -> None:
        o, i = self.pair
        kernel = np.asarray(self._session.weight[o, i])
        kh, kw = kernel.shape
        flipped = self.orientation == FLIPPED
        typed = {}
        for (a, b, r, c), (value, text) in self._typed.items():
            if (a, b) == (o, i) and r < kh and c < kw and kernel[r, c] == value:
                typed[(kh - 1 - r, kw - 1 - c) if flipped else (r, c)] = text
        shown = kernel[::-1, ::-1] if flipped else kernel
        self.grid.set_values(shown, typed)
        m = float(np.abs(kernel).max()) or 1.0
        self.heatmap.set_values(np.ascontiguousarray(shown), (-m, m))
        self._refresh_properties_line(kernel)
        self._place_heatmap()


    def _refresh_properties_line(self, kernel=None) -> None:
        if kernel is None:
            weight = self._session.weight
            o, i = self.pair
            if o >= weight.shape[0] or i >= weight.shape[1]:
                return  # the spin boxes follow the new shape in _refresh, which comes here again
            kernel = np.asarray(weight[o, i])
        line = self.properties_line
        width = max(line.width(), self.weights_box.contentsRect().width())
        line.setText(line.fontMetrics().elidedText(properties_summary(kernel, short=True), Qt.TextElideMode.ElideRight, width))
        line.setToolTip(properties_summary(kernel) + " (sum: the DC gain; the Kernel numbers panel has every number)")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_heatmap()
        self._refresh_properties_line()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ParentChange:  # the dock's viewport: hear its resizes
            self._watch_parent()
        return super().event(event)

    def _watch_parent(self) -> None:
        parent = self.parentWidget()
        if parent is not None and parent is not getattr(self, "_watched", None):
            self._watched = parent
            parent.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            # The dock narrower than a panel the heat map widened: no resize reaches the
            # panel itself, so the heat map goes from here.
            self._place_heatmap()
        return False

    def _place_heatmap(self) -> None:
        """The heat map beside the grid only while the whole grid still fits beside it: the
        numbers come first (a 5×5 of learned weights needs the panel's width)."""
        # The room the dock gives (its scroll area's viewport), not the panel's own width: a
        # panel the heat map made wider than the dock would keep it there, scrolled sideways
        # with its buttons cut.
        outer = self.layout().contentsMargins()
        available = self.parentWidget().width() if self.parentWidget() is not None else self.width()
        room = min(self.weights_box.contentsRect().width(), available - outer.left() - outer.right())
        margins = self.weights_box.layout().contentsMargins()
        room -= margins.left() + margins.right()
        needed = self.grid.sizeHint().width() + self.weights_box.layout().spacing() + HEATMAP_WIDTH
        fits = room >= needed
        if fits != self.heatmap.isVisibleTo(self):
            self.heatmap.setVisible(fits)


class ButtonRows(QWidget):
    """Buttons in rows of three, equal columns; in a dock too narrow for three (a small
    window, a large text zoom) rows of two, or one: no button is ever cut to "Fli"."""

    COLUMNS = 3

    def __init__(self, *buttons: QPushButton, parent: QWidget | None = None):
        super().__init__(parent)
        self._buttons = buttons
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        # The widget's own hints say how narrow it may go: the grid must not pin it at three.
        self._grid.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._columns = 0
        self._arrange(self.COLUMNS)

    @property
    def columns(self) -> int:
        return self._columns

    def _widest(self) -> int:
        return max(b.sizeHint().width() for b in self._buttons)

    def _width_for(self, columns: int) -> int:
        return columns * self._widest() + (columns - 1) * self._grid.horizontalSpacing()

    def _arrange(self, columns: int) -> None:
        if columns == self._columns:
            return
        self._columns = columns
        for b in self._buttons:
            self._grid.removeWidget(b)
        for c in range(self.COLUMNS):
            self._grid.setColumnStretch(c, 1 if c < columns else 0)
        for n, b in enumerate(self._buttons):
            self._grid.addWidget(b, n // columns, n % columns)
        self.updateGeometry()

    def _fitting(self, width: int) -> int:
        return next((c for c in range(self.COLUMNS, 1, -1) if self._width_for(c) <= width), 1)

    def sizeHint(self) -> QSize:
        rows = -(-len(self._buttons) // self.COLUMNS)
        height = rows * self._buttons[0].sizeHint().height() + (rows - 1) * self._grid.verticalSpacing()
        return QSize(self._width_for(self.COLUMNS), height)

    def minimumSizeHint(self) -> QSize:
        # As narrow as one button; as tall as the rows it has at the width it was given.
        rows = -(-len(self._buttons) // self._columns)
        height = rows * max(b.sizeHint().height() for b in self._buttons) + (rows - 1) * self._grid.verticalSpacing()
        return QSize(self._widest(), height)

    def resizeEvent(self, event) -> None:
        self._arrange(self._fitting(event.size().width()))
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and self.width() > 0:  # the text zoom
            self._arrange(self._fitting(self.width()))


class ElidingComboBox(QComboBox):
    """A combo box whose current text ends in "…" when it is too long for the box (Qt cuts
    it mid-letter): "Gaussian 3×3, σ 5.7" never reads as "σ 5."."""

    def paintEvent(self, event) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        option.currentText = self.fontMetrics().elidedText(option.currentText, Qt.TextElideMode.ElideRight, field.width())
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)  # typing "12" must not pass through kernel size 1
    return spin


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


def _toggle(text: str, tip: str) -> QPushButton:
    button = _button(text, tip)
    button.setCheckable(True)
    return button
