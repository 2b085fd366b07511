"""A vector as bars: class scores as labelled horizontal bars, a long vector (a Flatten's
800 values) as a thin strip of columns around a zero line.

Painted with QPainter from the values alone (no scene, no items), so a new run redraws in
well under a millisecond.  Bars start at 0: a score below 0 goes left of the zero line,
one above goes right, so raw scores and probabilities read the same way.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from convplay.core.formatting import format_readout, format_tick
from convplay.qt import style
from convplay.qt.zoom import scaled, text_zoom

QWIDGETSIZE_MAX = 16777215  # Qt's "no maximum"
MAX_BARS = 32  # more values than this are a strip
ROW_PX = 22  # a bar's row when there is room
MIN_ROW_PX = 14  # the least a row gets before the chart asks for more room
STRIP_PX = 90
TEXT_PX = 12
PAD = 6
STALE_OPACITY = 0.4


class BarChart(QWidget):
    """``set_bars(values, labels, texts, highlight)``; ``hovered(str)``."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._values = np.zeros(0)
        self._labels: list[str] = []
        self._texts: list[str] = []
        self._highlight: int | None = None
        self._stale = False
        self._range = (0.0, 1.0)
        self.painted = 0  # paint passes done: the benchmark waits for the one after new bars
        text_zoom().changed.connect(self._refit)

    # -- model -> view ---------------------------------------------------------------
    @property
    def values(self) -> np.ndarray:
        return self._values

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def texts(self) -> list[str]:
        return list(self._texts)

    @property
    def highlight(self) -> int | None:
        return self._highlight

    @property
    def strip(self) -> bool:
        return len(self._values) > MAX_BARS

    def set_bars(self, values, labels=None, texts=None, highlight: int | None = None,
                 value_range: tuple[float, float] | None = None) -> None:
        """Bars for ``values`` (1-D), named by ``labels`` (default 0..n−1), with ``texts``
        printed beside them (default the values), the bar ``highlight`` drawn strong.
        ``value_range`` fixes the axis (0..1 for probabilities); default the values' own,
        always with 0 in it."""
        values = np.asarray(values, dtype=np.float64).ravel()
        self._values = values
        n = len(values)
        self._labels = [str(v) for v in labels] if labels is not None and len(labels) == n else [str(i) for i in range(n)]
        self._texts = list(texts) if texts is not None and len(texts) == n else [format_tick(v) for v in values]
        self._highlight = highlight
        finite = values[np.isfinite(values)]
        if value_range is not None:
            self._range = value_range
        elif finite.size:
            self._range = (min(0.0, float(finite.min())), max(0.0, float(finite.max())))
        else:
            self._range = (0.0, 1.0)
        if self._range[1] <= self._range[0]:
            self._range = (self._range[0], self._range[0] + 1.0)
        self._refit()

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.update()

    # -- geometry --------------------------------------------------------------------
    def _font(self) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(scaled(TEXT_PX))
        return font

    def _min_row(self) -> int:
        return max(scaled(MIN_ROW_PX), math.ceil(scaled(TEXT_PX) * 1.15))

    def _row_h(self) -> float:
        """Rows share the height the chart is given, between the least and the preferred."""
        n = max(1, len(self._values))
        room = (self.height() - 2 * PAD) / n
        return max(self._min_row(), min(max(scaled(ROW_PX), self._min_row()), room))

    def sizeHint(self) -> QSize:
        # The least room as the preferred: a dock's scroll area sizes a panel with wrapped
        # labels by its preferred height, and the chart grows into any room left (Expanding).
        if self.strip:
            return QSize(300, scaled(STRIP_PX))
        return self.minimumSizeHint().expandedTo(QSize(300, 0))

    def minimumSizeHint(self) -> QSize:
        if self.strip:
            return QSize(160, scaled(STRIP_PX) // 2)
        return QSize(160, max(1, len(self._values)) * self._min_row() + 2 * PAD)

    def _refit(self, *_args) -> None:
        self.setMinimumHeight(self.minimumSizeHint().height())
        # A long vector is a thin strip; bars take the room they are given.
        self.setMaximumHeight(scaled(STRIP_PX) if self.strip else QWIDGETSIZE_MAX)
        self.updateGeometry()
        self.update()

    def _columns(self) -> tuple[float, float, float]:
        """(label width, bar area left, bar area right) of the horizontal bars."""
        # The highlighted row is drawn bold: measured bold, so "automobile" is never clipped.
        bold = self._font()
        bold.setBold(True)
        metrics = QFontMetricsF(bold)
        label_w = max((metrics.horizontalAdvance(t) for t in self._labels), default=0.0) + PAD
        text_w = max((metrics.horizontalAdvance(t) for t in self._texts), default=0.0) + PAD
        # A narrow chart gives the bars at least a third of it: long labels are elided instead.
        room = self.width() - 2 * PAD - text_w
        label_w = min(label_w, max(room * 2 / 3, metrics.horizontalAdvance("M\u2026") + PAD))
        left = PAD + label_w
        right = max(left + 20, self.width() - PAD - text_w)
        return label_w, left, right

    def _x_of(self, value: float, left: float, right: float) -> float:
        lo, hi = self._range
        value = min(max(value, lo), hi)
        return left + (value - lo) / (hi - lo) * (right - left)

    def bar_rect(self, index: int, columns: tuple[float, float, float] | None = None) -> QRectF:
        """Where bar ``index`` is drawn (widget coordinates); ``columns`` (``_columns()``),
        when given, saves measuring every label again."""
        value = float(self._values[index]) if np.isfinite(self._values[index]) else 0.0
        if self.strip:
            left, right = PAD, self.width() - PAD
            width = (right - left) / len(self._values)
            top, bottom = PAD, self.height() - PAD
            lo, hi = self._range
            y0 = bottom - (0 - lo) / (hi - lo) * (bottom - top)
            y1 = bottom - (min(max(value, lo), hi) - lo) / (hi - lo) * (bottom - top)
            return QRectF(left + index * width, min(y0, y1), max(width, 1.0), abs(y1 - y0)).normalized()
        _, left, right = columns or self._columns()
        row = self._row_h()
        x0, x1 = self._x_of(0.0, left, right), self._x_of(value, left, right)
        return QRectF(min(x0, x1), PAD + index * row + 3, abs(x1 - x0), row - 6)

    def index_at(self, pos: QPointF) -> int | None:
        n = len(self._values)
        if n == 0:
            return None
        if self.strip:
            width = (self.width() - 2 * PAD) / n
            index = int((pos.x() - PAD) // width) if width > 0 else -1
        else:
            index = int((pos.y() - PAD) // self._row_h())
        return index if 0 <= index < n else None

    # -- Qt events -------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.Base))
        if self._stale:
            painter.setOpacity(STALE_OPACITY)
        painter.setFont(self._font())
        text = palette.color(QPalette.ColorRole.Text)
        strong = QColor(style.colour("WINDOW"))
        plain = QColor(style.colour("PENDING"))
        negative = QColor(style.colour("NEGATIVE"))
        n = len(self._values)
        if self.strip:
            for i in range(n):
                value = self._values[i]
                colour = strong if i == self._highlight else (negative if value < 0 else plain)
                painter.fillRect(self.bar_rect(i), colour)
            lo, hi = self._range
            top, bottom = PAD, self.height() - PAD
            y0 = bottom - (0 - lo) / (hi - lo) * (bottom - top)
            painter.setPen(QPen(text, style.line_width(1)))
            painter.drawLine(QPointF(PAD, y0), QPointF(self.width() - PAD, y0))
        else:
            columns = self._columns()
            label_w, left, right = columns
            row = self._row_h()
            font, bold = self._font(), self._font()
            bold.setBold(True)
            for i in range(n):
                y = PAD + i * row
                painter.setFont(bold if i == self._highlight else font)
                painter.setPen(text)
                label = QFontMetricsF(painter.font()).elidedText(self._labels[i], Qt.TextElideMode.ElideRight,
                                                                  label_w - PAD / 2)
                painter.drawText(QRectF(PAD, y, label_w - PAD / 2, row),
                                 Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
                value = self._values[i]
                colour = strong if i == self._highlight else (negative if value < 0 else plain)
                painter.fillRect(self.bar_rect(i, columns), colour)
                painter.setPen(text)
                painter.drawText(QRectF(right + PAD / 2, y, self.width() - right, row),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._texts[i])
            zero = self._x_of(0.0, left, right)
            painter.setPen(QPen(text, style.line_width(1)))
            painter.drawLine(QPointF(zero, PAD), QPointF(zero, PAD + n * row))
        painter.end()
        self.painted += 1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.index_at(event.position())
        if index is None:
            self.hovered.emit("")
        else:
            self.hovered.emit(f"{self._labels[index]}: {format_readout(float(self._values[index]))}")
        super().mouseMoveEvent(event)

    def event(self, event) -> bool:
        # The tooltip names the bar under the pointer in full: a long label may be elided.
        if event.type() == QEvent.Type.ToolTip and not self.strip:
            index = self.index_at(event.position() if hasattr(event, "position") else QPointF(event.pos()))
            if index is not None:
                text = f"{self._labels[index]}: {self._texts[index]}"
                QToolTip.showText(event.globalPos(), f"{text}\n{self.toolTip()}" if self.toolTip() else text, self)
                return True
        return super().event(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)
