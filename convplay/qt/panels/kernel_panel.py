"""The Kernel panel: the weights of each (out, in) channel pair, the bias, presets and edits.

Every edit goes through ``push_change`` so that Edit > Undo takes it back.  The edits
themselves are core's (``kernel_edits``): the panel picks the scope (the selected pair or
all pairs) and hands the result to the session.  A kernel-size edit is a settings edit,
``session.set_spec(spec.replace(kernel_size=...))``, exactly as in the parameters panel.
The panel reads the session and redraws on its events; the widgets hold no state of
their own beyond which pair is selected.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convplay.core import kernel_edits as edits
from convplay.core.history import History, push_change
from convplay.core.kernel_edits import ALL, SELECTED, kernel_size_arg
from convplay.core.presets import PRESETS, Preset
from convplay.core.session import Session
from convplay.qt import style
from convplay.qt.style import DIVERGING
from convplay.qt.widgets.colorbar import HeatMap
from convplay.qt.widgets.value_grid import ValueGrid

MAX_KERNEL_SIDE = 15
__all__ = ["ALL", "MAX_KERNEL_SIDE", "SELECTED", "KernelPanel"]


class KernelPanel(QWidget):
    """Edit the weights of ``session`` pair by pair; undoable through ``history``."""

    def __init__(self, session: Session, history: History | None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self._history = history
        self._rng = np.random.default_rng()

        self.kh_spin = _spin(1, MAX_KERNEL_SIDE, "Kernel height (rows), 1 to 15. Changes kernel_size.")
        self.kw_spin = _spin(1, MAX_KERNEL_SIDE, "Kernel width (columns), 1 to 15. Changes kernel_size.")
        self.out_spin = _spin(0, 0, "Which output channel's kernel to show and edit.")
        self.in_spin = _spin(0, 0, "Which input channel (within its group) of that output channel.")
        self.out_label = QLabel("out")
        self.in_label = QLabel("in")
        self.scope_combo = QComboBox()
        self.scope_combo.addItem("selected pair", SELECTED)
        self.scope_combo.addItem("all pairs", ALL)
        self.scope_combo.setToolTip(
            "What presets, normalise, flip, transpose and clear change: the kernel shown, or every "
            "(out, in) pair."
        )
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("Load a named kernel; it sets the kernel size to the preset's.")
        self.preset_combo.addItem("Load a preset…", None)
        for preset in PRESETS:
            self.preset_combo.addItem(preset.name, preset.key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)

        self.normalise_button = _button("Normalise", "Scale so the weights sum to 1 (for all pairs: each output channel's filter).")
        self.flip_h_button = _button("Flip ↔", "Mirror left-right.")
        self.flip_v_button = _button("Flip ↕", "Mirror top-bottom.")
        self.transpose_button = _button(
            "Transpose", "Swap rows and columns. A non-square kernel swaps kernel_size, so every pair is transposed."
        )
        self.random_button = _button(
            "Random", "Every weight and bias drawn as nn.Conv2d initialises them: U(-1/√fan_in, 1/√fan_in)."
        )
        self.clear_button = _button("Clear", "Set the weights to 0.")

        self.grid = ValueGrid()
        self.grid.setToolTip("The weights of the selected pair. Type a number or a fraction such as 1/9.")
        self.bias_grid = ValueGrid()
        self.bias_grid.setToolTip("One bias per output channel, added after the sum.")
        self.bias_grid.verticalHeader().setVisible(False)
        self.bias_grid.setFixedHeight(52)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(style.MUTED_TEXT_STYLE)

        self.heatmap = HeatMap(DIVERGING)
        self.heatmap.setToolTip("The selected kernel: red positive, blue negative, white 0 (levels symmetric about 0).")
        self.heatmap.setMinimumSize(120, 120)

        self._build_layout()
        self._connect()
        self._refresh()

    # -- layout ------------------------------------------------------------------------
    def _build_layout(self) -> None:
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

        buttons = QGridLayout()
        for n, b in enumerate(
            (self.normalise_button, self.flip_h_button, self.flip_v_button,
             self.transpose_button, self.random_button, self.clear_button)
        ):
            buttons.addWidget(b, n // 3, n % 3)

        weights_box = QGroupBox("Weights")
        weights_layout = QHBoxLayout(weights_box)
        weights_layout.addWidget(self.grid, 1)
        weights_layout.addWidget(self.heatmap, 1)

        bias_box = QGroupBox("Bias (per output channel)")
        bias_layout = QVBoxLayout(bias_box)
        bias_layout.addWidget(self.bias_grid)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(weights_box, 1)
        layout.addWidget(bias_box)
        layout.addWidget(self.note)
        layout.addWidget(self.message)

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
        self.grid.value_edited.connect(self._on_weight_typed)
        self.grid.rejected.connect(self._show_error)
        self.bias_grid.value_edited.connect(self._on_bias_typed)
        self.bias_grid.rejected.connect(self._show_error)
        session = self._session
        handlers = ((session.kernel_changed, self._refresh), (session.spec_changed, self._refresh))
        for signal, handler in handlers:
            signal.connect(handler)
        # The session outlives the panel: stop hearing it once the widget is gone.
        self.destroyed.connect(lambda *_: [signal.disconnect(handler) for signal, handler in handlers])

    # -- public actions (buttons call these; so can menus and tests) ----------------------
    @property
    def pair(self) -> tuple[int, int]:
        return self.out_spin.value(), self.in_spin.value()

    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    def set_scope(self, scope: str) -> None:
        self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))

    def apply_preset(self, preset: Preset) -> None:
        """Set the kernel size to the preset's and fill the selected pair or every pair."""
        kernel = np.asarray(preset.weights, dtype=np.float64)
        kh, kw = kernel.shape

        def change() -> None:
            session = self._session
            weight = edits.with_kernel(session.weight, kernel, self.scope, self.pair)
            spec = session.spec.replace(kernel_size=kernel_size_arg(kh, kw))
            session.set_kernel(spec, weight, session.bias_values)

        self._edit(f"Preset {preset.name}", change)

    def normalise(self) -> None:
        transposed = bool(self._session.spec.transposed)
        self._edit_weight("Normalise kernel", lambda w: edits.normalise_weight(w, self.scope, self.pair, transposed))

    def flip(self, axis: int) -> None:
        self._edit_weight("Flip kernel", lambda w: edits.flip_weight(w, axis, self.scope, self.pair))

    def transpose(self) -> None:
        def change() -> None:
            session = self._session
            weight = edits.transpose_weight(session.weight, self.scope, self.pair)
            if weight.shape == session.weight.shape:
                session.set_weight(weight)
            else:  # a non-square window: kernel_size swaps
                spec = session.spec.replace(kernel_size=kernel_size_arg(*weight.shape[2:]))
                session.set_kernel(spec, weight, session.bias_values)

        self._edit("Transpose kernel", change)

    def randomise(self) -> None:
        def change() -> None:
            session = self._session
            weight, bias = edits.kaiming_uniform(session.weight.shape, len(session.bias_values), self._rng)
            session.set_kernel(session.spec, weight, bias)

        self._edit("Random kernel", change)

    def clear(self) -> None:
        self._edit_weight("Clear kernel", lambda w: edits.cleared_weight(w, self.scope, self.pair))

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
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(0)  # a menu of actions, not a state
        for preset in PRESETS:
            if preset.key == key:
                self.apply_preset(preset)

    def _on_weight_typed(self, row: int, col: int, value: float) -> None:
        pair = self.pair
        self._edit_weight("Edit weight", lambda w: edits.with_value(w, pair, row, col, value))

    def _on_bias_typed(self, _row: int, col: int, value: float) -> None:
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
        weight = self._session.weight
        o_count, i_count, kh, kw = weight.shape
        transposed = self._session.spec.transposed
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
        self.bias_grid.set_values(self._session.bias_values[None, :])
        self.bias_grid.setEnabled(self._session.spec.bias)
        notes = []
        if not self._session.spec.bias:
            notes.append("Bias is off in the parameters: the values are kept but not used.")
        if self._session.true_convolution:
            notes.append("True convolution is on: PyTorch receives this kernel flipped in both axes.")
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))
        self._refresh_kernel()

    def _refresh_kernel(self) -> None:
        o, i = self.pair
        kernel = self._session.weight[o, i]
        self.grid.set_values(kernel)
        m = float(np.abs(kernel).max()) or 1.0
        self.heatmap.set_values(kernel, (-m, m))


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
