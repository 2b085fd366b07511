"""A table of numbers the user can type into: kernel weights, biases, small input images.

Typed text is parsed by ``core.formatting.parse_value`` (floats and simple fractions such
as 1/9); text that is not a finite number is put back to the previous value and reported
through ``rejected`` so the panel can show the reason beside the grid.  Cells print
``core.formatting.format_cell``, or with ``fractions=True`` (the kernel and the bias)
``kernel_cell_texts``: exact fractions as fractions, what was typed as typed, tiny weights
as 0.  The tooltip always holds the exact value.

Columns are as wide as their texts in the grid's own font (QFontMetrics), so no number is
cut; the text zoom (View > Zoom) changes that font, and the grid measures again.  The size
hint (``fit_content``) asks for the whole table up to ``FULL_SIDE`` cells a side; larger
kernels scroll.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from PySide6.QtCore import QEvent, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QHeaderView,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from convplay.core.formatting import format_cell, kernel_cell_texts, kernel_cell_tooltip, parse_value, typed_text
from convplay.qt import style
from convplay.qt.zoom import text_zoom

FULL_SIDE = 7  # up to 7x7 the size hint asks for every cell; 11x11 scrolls
# The minimum height shows up to 5 rows (a 5x5 is never cut; the panel scrolls in its dock
# instead, so nothing reaches the window); the minimum width stays small: wide kernels scroll.
MIN_ROWS = 5
MIN_WIDTH = 160
MIN_CELL_TEXT = "-0.000"  # every column at least this wide: an all-zero grid is not a strip


class ValueGrid(QTableWidget):
    """A 2-D array shown and edited cell by cell.

    Signals: ``value_typed(row, col, value, text)`` then ``value_edited(row, col, value)``
    after a valid edit (``text`` is what the cell should keep showing, e.g. "1/9");
    ``rejected(message)`` when the typed text was refused (the cell shows the previous
    value again).
    """

    value_typed = Signal(int, int, float, str)
    value_edited = Signal(int, int, float)
    rejected = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, tint: bool = True, fractions: bool = False, fit_content: bool = False
    ):
        super().__init__(parent)
        self._values = np.zeros((0, 0))
        self._typed: dict[tuple[int, int], str] = {}
        self._tint = tint
        self._fractions = fractions
        self._fit_content = fit_content  # size hints from the cells (the kernel), or Qt's own
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setMinimumSectionSize(1)
        self.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.itemChanged.connect(self._on_item_changed)
        # A slot of this QObject: Qt drops the connection when the grid is destroyed.
        text_zoom().changed.connect(self._remeasure)
        self._measure()

    # -- values ----------------------------------------------------------------------------
    def values(self) -> np.ndarray:
        return self._values.copy()

    def texts(self) -> list[list[str]]:
        """What every cell shows, row by row."""
        return [[self.item(r, c).text() for c in range(self.columnCount())] for r in range(self.rowCount())]

    def set_values(self, values: np.ndarray, typed: Mapping[tuple[int, int], str] | None = None) -> None:
        """Show ``values`` (2-D); ``typed`` maps cells to the text the user typed there
        (fraction grids keep showing it while the value is unchanged).  Emits nothing."""
        values = np.array(values, dtype=np.float64, ndmin=2)
        typed = dict(typed or {})
        if values.shape == self._values.shape and np.array_equal(values, self._values) and typed == self._typed:
            return  # e.g. the bias grid after a weight edit: nothing to lay out again
        with QSignalBlocker(self):
            if values.shape != self._values.shape:
                self.setRowCount(values.shape[0])
                self.setColumnCount(values.shape[1])
                self.setHorizontalHeaderLabels([str(c) for c in range(values.shape[1])])
                self.setVerticalHeaderLabels([str(r) for r in range(values.shape[0])])
            texts = self._texts(values, typed)
            scale = float(np.abs(values[np.isfinite(values)]).max()) if np.isfinite(values).any() else 0.0
            for (r, c), v in np.ndenumerate(values):
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.setItem(r, c, item)
                item.setText(texts[r][c])
                item.setToolTip(self._tooltip(float(v), texts[r][c]))
                if self._tint:
                    item.setBackground(_sign_tint(float(v), scale))
                    item.setForeground(QColor(style.LABEL_TEXT))  # readable on the pale tint in a dark theme too
        self._values, self._typed = values, typed
        self._measure()

    def _texts(self, values: np.ndarray, typed: Mapping[tuple[int, int], str]) -> list[list[str]]:
        if self._fractions:
            return kernel_cell_texts(values, typed)
        return [[format_cell(float(v)) for v in row] for row in values]

    def _tooltip(self, value: float, text: str) -> str:
        return kernel_cell_tooltip(value, text) if self._fractions else repr(value)

    # -- sizes -----------------------------------------------------------------------------
    def column_padding(self) -> int:
        """Pixels a column keeps beside its widest text (both sides together)."""
        # The item delegate keeps a 3 px text margin a side inside each cell (Fusion's focus
        # frame margin + 1), the grid line takes 1 px, and glyph widths round: 8 leaves the
        # text its own width, so Qt never elides it ("-0.00…").
        return 8

    def _measure(self) -> None:
        """Column widths and row heights from the texts in the grid's font."""
        metrics = QFontMetrics(self.font())
        pad = self.column_padding()
        floor = metrics.horizontalAdvance(MIN_CELL_TEXT) + pad
        for c in range(self.columnCount()):
            widths = [metrics.horizontalAdvance(self.item(r, c).text()) for r in range(self.rowCount()) if self.item(r, c)]
            self.setColumnWidth(c, max([floor, *(w + pad for w in widths)]))
        row_height = metrics.height() + max(6, metrics.height() // 2)
        self.verticalHeader().setDefaultSectionSize(row_height)
        for r in range(self.rowCount()):
            self.setRowHeight(r, row_height)
        header_height = metrics.height() + 8
        self.horizontalHeader().setFixedHeight(header_height)
        self.verticalHeader().setFixedWidth(metrics.horizontalAdvance(str(max(self.rowCount() - 1, 9))) + 6)
        self._update_maximum()
        self.updateGeometry()

    def _update_maximum(self) -> None:
        """Never larger than the whole table (spare room goes elsewhere), plus a scroll bar's
        room where the other side is too short for it: a one-row bias of 8 channels in a
        narrow panel keeps its row above the horizontal scroll bar."""
        if not self._fit_content:
            return
        full = self.content_size(self.rowCount(), self.columnCount())
        bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        width = full.width() + (bar if full.height() > self.height() else 0)
        height = full.height() + (bar if full.width() > self.width() else 0)
        if (width, height) != (self.maximumWidth(), self.maximumHeight()):
            self.setMaximumSize(width, height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_maximum()

    def _remeasure(self, *_args) -> None:
        with QSignalBlocker(self):
            self._measure()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._remeasure()

    def content_size(self, rows: int, cols: int) -> QSize:
        """Pixels that show ``rows`` x ``cols`` cells (the first ones) with headers and frame."""
        frame = 2 * self.frameWidth()
        width = frame + self.verticalHeader().width() + sum(self.columnWidth(c) for c in range(min(cols, self.columnCount())))
        height = frame + self.horizontalHeader().height() + sum(self.rowHeight(r) for r in range(min(rows, self.rowCount())))
        bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        if self.columnCount() > cols:
            height += bar
        if self.rowCount() > rows:
            width += bar
        return QSize(width, height)

    def sizeHint(self) -> QSize:
        if not self._fit_content:
            return super().sizeHint()
        return self.content_size(FULL_SIDE, FULL_SIDE)

    def minimumSizeHint(self) -> QSize:
        if not self._fit_content:
            return super().minimumSizeHint()
        size = self.content_size(MIN_ROWS, self.columnCount())
        return QSize(min(size.width(), MIN_WIDTH), size.height())

    def shows_every_cell(self) -> bool:
        """True when the whole table is in view: no cell is cut or scrolled away."""
        viewport = self.viewport()
        width = sum(self.columnWidth(c) for c in range(self.columnCount()))
        height = sum(self.rowHeight(r) for r in range(self.rowCount()))
        return width <= viewport.width() and height <= viewport.height()

    # -- editing ---------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        r, c = item.row(), item.column()
        previous = float(self._values[r, c])
        typed = item.text()
        try:
            value = parse_value(typed)
        except ValueError as exc:
            with QSignalBlocker(self):
                item.setText(self._texts(self._values, self._typed)[r][c])
            self.rejected.emit(str(exc))
            return
        shown = typed_text(typed) if self._fractions else format_cell(value)
        with QSignalBlocker(self):
            item.setText(shown)
            item.setToolTip(self._tooltip(value, shown))
        self.value_typed.emit(r, c, value, shown)
        if value != previous:
            self._values[r, c] = value
            self._typed[(r, c)] = shown
            self.value_edited.emit(r, c, value)
        else:
            self._remeasure()


def _sign_tint(value: float, scale: float) -> QColor:
    """Pale red for positive, pale blue for negative, white for zero: the sign at a glance."""
    if scale == 0 or value == 0:
        return QColor(style.CELL_BACKGROUND)
    strength = min(1.0, abs(value) / scale)
    end = QColor(style.POSITIVE_TINT if value > 0 else style.NEGATIVE_TINT)
    white = QColor(style.CELL_BACKGROUND)
    return QColor.fromRgbF(*(w + (e - w) * strength for w, e in zip(white.getRgbF()[:3], end.getRgbF()[:3])))
