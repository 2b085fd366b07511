"""A table of numbers the user can type into: kernel weights, biases, small input images.

Typed text is parsed by ``core.formatting.parse_value`` (floats and simple fractions such
as 1/9); text that is not a finite number is put back to the previous value and reported
through ``rejected`` so the panel can show the reason beside the grid.  Cells print
``core.formatting.format_cell``; the tooltip holds the exact value.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSizePolicy, QTableWidget, QTableWidgetItem, QWidget

from convplay.core.formatting import format_cell, parse_value
from convplay.qt import style

ROW_HEIGHT = 24  # pixels: one line of text and its margins
MIN_COLUMN_WIDTH = 20


class ValueGrid(QTableWidget):
    """A 2-D array shown and edited cell by cell.

    Signals: ``value_edited(row, col, value)`` after a valid edit; ``rejected(message)``
    when the typed text was refused (the cell shows the previous value again).
    """

    value_edited = Signal(int, int, float)
    rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, cell_width: int = 48, tint: bool = True):
        super().__init__(parent)
        self._values = np.zeros((0, 0))
        self._cell_width = cell_width
        self._tint = tint
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setDefaultSectionSize(cell_width)
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.horizontalHeader().setMinimumSectionSize(MIN_COLUMN_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.itemChanged.connect(self._on_item_changed)

    def values(self) -> np.ndarray:
        return self._values.copy()

    def set_values(self, values: np.ndarray) -> None:
        """Show ``values`` (2-D); emits nothing."""
        values = np.array(values, dtype=np.float64, ndmin=2)
        if values.shape == self._values.shape and np.array_equal(values, self._values):
            return  # e.g. the bias grid after a weight edit: nothing to lay out again
        with QSignalBlocker(self):
            if values.shape != self._values.shape:
                self.setRowCount(values.shape[0])
                self.setColumnCount(values.shape[1])
                self.setHorizontalHeaderLabels([str(c) for c in range(values.shape[1])])
                self.setVerticalHeaderLabels([str(r) for r in range(values.shape[0])])
            scale = float(np.abs(values).max()) if values.size else 0.0
            for (r, c), v in np.ndenumerate(values):
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.setItem(r, c, item)
                item.setText(format_cell(float(v)))
                item.setToolTip(repr(float(v)))
                if self._tint:
                    item.setBackground(_sign_tint(float(v), scale))
                    item.setForeground(QColor(style.LABEL_TEXT))  # readable on the pale tint in a dark theme too
            self.resizeColumnsToContents()
            for c in range(values.shape[1]):
                self.setColumnWidth(c, max(self._cell_width, self.columnWidth(c)))
        self._values = values

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        r, c = item.row(), item.column()
        previous = float(self._values[r, c])
        try:
            value = parse_value(item.text())
        except ValueError as exc:
            with QSignalBlocker(self):
                item.setText(format_cell(previous))
            self.rejected.emit(str(exc))
            return
        with QSignalBlocker(self):
            item.setText(format_cell(value))
            item.setToolTip(repr(value))
        if value != previous:
            self._values[r, c] = value
            self.value_edited.emit(r, c, value)


def _sign_tint(value: float, scale: float) -> QColor:
    """Pale red for positive, pale blue for negative, white for zero: the sign at a glance."""
    if scale == 0 or value == 0:
        return QColor(style.CELL_BACKGROUND)
    strength = min(1.0, abs(value) / scale)
    end = QColor(style.POSITIVE_TINT if value > 0 else style.NEGATIVE_TINT)
    white = QColor(style.CELL_BACKGROUND)
    return QColor.fromRgbF(*(w + (e - w) * strength for w, e in zip(white.getRgbF()[:3], end.getRgbF()[:3])))
