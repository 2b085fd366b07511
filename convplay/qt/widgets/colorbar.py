"""Colour bars: the colour map from the low level to the high one, with its values.

``ColorBar`` stands beside an image in a pyqtgraph layout (the output view);
``HeatMap`` is a small matrix (a kernel) painted as square cells beside its own bar.
Both print ``COLORBAR_TICKS`` values with ``core.formatting.format_tick``, in a font that
follows the text zoom (``zoom.scaled``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QStyleOptionGraphicsItem, QWidget

from convplay.core.display import argb_table, coloured
from convplay.core.formatting import format_tick
from convplay.qt import style
from convplay.qt.style import DIVERGING
from convplay.qt.zoom import scaled, text_zoom

COLORBAR_TICKS = 5  # values printed beside the bar: both ends, the middle and the quarters
LUT_SIZE = 256  # colours in a bar's strip (pyqtgraph's lookup-table size)
TICK_POINT_SIZE = 8
TICK_TEXT_HEIGHT = 16  # pixels: one line of tick text, centred on its tick
TICK_LENGTH = 3  # pixels from the bar's edge to the text
END_MARGIN = 8  # pixels above and below the strip: room for half an end label, as an axis leaves
TEXT_GAP = 2  # pixels between a tick's line and its text
TEXT_SPARE = 2  # pixels right of the widest text: antialiasing and rounding


def tick_labels(levels: tuple[float, float]) -> list[tuple[float, str]]:
    """(fraction of the bar from the bottom, text) for each value printed beside a bar."""
    lo, hi = levels
    fractions = [k / (COLORBAR_TICKS - 1) for k in range(COLORBAR_TICKS)]
    return [(f, format_tick(lo + (hi - lo) * f)) for f in fractions]


def tick_font(base: QFont) -> QFont:
    """``base`` at the ticks' size, which follows the text zoom."""
    font = QFont(base)
    font.setPointSize(scaled(TICK_POINT_SIZE))
    return font


def labels_width(labels: list[tuple[float, str]], base: QFont) -> int:
    """Pixels the widest tick text takes in the ticks' font: "-1.19e+03" needs more room
    than "0.25", and a fixed width cut it to "-1.19e+0", a different number."""
    metrics = QFontMetrics(tick_font(base))
    return max((metrics.horizontalAdvance(text) for _fraction, text in labels), default=0)


def _paint_ticks(painter: QPainter, bar: QRectF, labels: list[tuple[float, str]], text_width: float) -> None:
    """A short line and the value at each tick, right of ``bar``."""
    painter.setFont(tick_font(painter.font()))
    x = bar.right() + TICK_LENGTH
    line = scaled(TICK_TEXT_HEIGHT)
    half = line / 2
    for fraction, text in labels:
        y = bar.bottom() - fraction * bar.height()
        painter.drawLine(QPointF(bar.right(), y), QPointF(x, y))
        painter.drawText(QRectF(x + TEXT_GAP, y - half, text_width, line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


class ColorBar(pg.GraphicsWidget):
    """The colour map from the low level (bottom) to the high one (top), with values.

    Why not pg.ColorBarItem: its axis is laid out again whenever the levels change, about
    1.5 ms per output here, and building it costs 13 ms at start-up; this bar paints a
    256-colour strip and five numbers.  It is painted again only when a printed number
    changes (most edits move the levels by less than the three digits shown), and its
    strip is kept as a pixmap of the bar's size, not scaled on every paint.
    """

    def __init__(self, colormap: pg.ColorMap, bar_width: int = 14, text_width: int = 52):
        super().__init__()
        self._bar_width = bar_width
        self._text_width = text_width
        self._levels = (-1.0, 1.0)
        self._labels: list[tuple[float, str]] = []
        self._strip = QImage()
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self._fit_width()
        self._strip_pixmap = QPixmap()  # the strip scaled to the bar, made when first painted
        self.setColorMap(colormap)
        self.setLevels(self._levels)
        text_zoom().changed.connect(self._fit_width)

    def _fit_width(self, *_) -> None:
        """Room for the tick numbers at the current text zoom: the usual width, or the
        widest number's where that is wider (the bar widens for 1.06e+03, not for 0.25)."""
        # The strip starts 2 px in (_bar_rect); the text TICK_LENGTH + TEXT_GAP after it.
        measured = 2 + TICK_LENGTH + TEXT_GAP + labels_width(self._labels, self.font()) + TEXT_SPARE
        width = self._bar_width + max(scaled(self._text_width), measured)
        if width == self.maximumWidth() == self.minimumWidth():
            return
        self.setPreferredWidth(width)
        self.setMinimumWidth(width)
        self.setMaximumWidth(width)
        self.update()

    def levels(self) -> tuple[float, float]:
        return self._levels

    def tick_texts(self) -> list[str]:
        """The values printed beside the bar, from the bottom (low) to the top (high)."""
        return [text for _fraction, text in self._labels]

    def text_room(self) -> float:
        """Pixels the tick texts have: from where they start to the bar's right edge."""
        return self.boundingRect().width() - self._bar_rect().right() - TICK_LENGTH - TEXT_GAP

    def setLevels(self, levels: tuple[float, float]) -> None:
        lo, hi = float(levels[0]), float(levels[1])
        if (lo, hi) == self._levels and self._labels:
            return
        self._levels = (lo, hi)
        labels = tick_labels(self._levels)
        if labels != self._labels:
            self._labels = labels
            self._fit_width()
            self.update()

    def setColorMap(self, colormap: pg.ColorMap) -> None:
        lut = np.ascontiguousarray(colormap.getLookupTable(nPts=LUT_SIZE, alpha=True)[::-1])  # high at the top
        self._lut = lut  # the strip below shares this memory
        self._strip = QImage(lut.data, 1, LUT_SIZE, 4, QImage.Format.Format_RGBA8888)
        self._strip_pixmap = QPixmap()
        self.update()

    def _bar_rect(self) -> QRectF:
        rect = self.boundingRect()
        return QRectF(rect.left() + 2, rect.top() + END_MARGIN, self._bar_width,
                      max(1.0, rect.height() - 2 * END_MARGIN))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        bar = self._bar_rect()
        size = bar.size().toSize()
        if self._strip_pixmap.size() != size:
            self._strip_pixmap = QPixmap.fromImage(self._strip.scaled(size))
        painter.drawPixmap(bar.topLeft(), self._strip_pixmap)
        painter.setPen(QPen(QColor(style.colour("COLORBAR_FRAME")), style.line_width(1.0)))
        painter.drawRect(bar)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        _paint_ticks(painter, bar, self._labels, self.boundingRect().width() - bar.right() - TICK_LENGTH)


class HeatMap(QWidget):
    """A small matrix (a kernel) as square coloured cells beside a colour bar with values.

    A plain painted widget: no graphics scene, axis or layout, so a new matrix costs one
    colour lookup and a repaint of this widget alone (about 0.2 ms, where a pyqtgraph
    view with a ColorBarItem took 2.5 ms per kernel edit).
    """

    BAR_WIDTH = 12
    TEXT_WIDTH = 44
    MARGIN = 4
    BAR_INSET = 6  # pixels between the margin and the strip's ends: room for half an end label

    def __init__(self, colormap: str = DIVERGING, parent: QWidget | None = None):
        super().__init__(parent)
        # paintEvent fills every pixel: Qt need not repaint the group box and dock beneath
        # it on each edit (1.3 ms here).
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        lut = pg.colormap.get(colormap).getLookupTable(nPts=LUT_SIZE, alpha=True)
        self._table = argb_table(lut)
        self._strip_pixels = np.ascontiguousarray(self._table[::-1].reshape(LUT_SIZE, 1))  # high at the top
        self._strip = QImage(self._strip_pixels.data, 1, LUT_SIZE, 4, QImage.Format.Format_ARGB32_Premultiplied)
        self._values = np.zeros((0, 0))
        self._pixels = np.zeros((0, 0), np.uint32)
        self._cells = QImage()
        self._levels = (-1.0, 1.0)
        self._labels = tick_labels(self._levels)
        text_zoom().changed.connect(self.update)

    def _text_width(self) -> int:
        # The text starts TICK_LENGTH + TEXT_GAP right of the strip, which ends 2 px before
        # this width does: the widest number fits inside the widget.
        measured = labels_width(self._labels, self.font()) + TICK_LENGTH + TEXT_GAP - 2 + TEXT_SPARE
        return max(scaled(self.TEXT_WIDTH), measured)

    def text_room(self) -> float:
        """Pixels the tick texts have inside the widget."""
        return self._text_width() + 2 - TICK_LENGTH - TEXT_GAP

    @property
    def values(self) -> np.ndarray:
        return self._values

    def levels(self) -> tuple[float, float]:
        return self._levels

    def tick_texts(self) -> list[str]:
        """The values printed beside the bar, from the bottom (low) to the top (high)."""
        return [text for _fraction, text in self._labels]

    def set_values(self, values: np.ndarray, levels: tuple[float, float]) -> None:
        """Show ``values`` (h, w) coloured over ``levels`` (low, high)."""
        values = np.array(values, dtype=np.float32, ndmin=2)
        lo, hi = float(levels[0]), float(levels[1])
        if not hi > lo:
            hi = lo + 1.0
        self._values = values
        self._pixels = np.ascontiguousarray(coloured(values, (lo, hi), self._table))
        h, w = self._pixels.shape
        self._cells = QImage(self._pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        if (lo, hi) != self._levels:
            self._levels = (lo, hi)
            self._labels = tick_labels(self._levels)
        self.update()

    def cells_rect(self) -> QRectF:
        """Where the cells are drawn: square cells, as large as the room allows, centred."""
        h, w = self._pixels.shape if self._pixels.size else (1, 1)
        room = QRectF(self.rect()).adjusted(
            self.MARGIN, self.MARGIN, -(self.MARGIN + self.BAR_WIDTH + self._text_width()), -self.MARGIN
        )
        cell = max(0.0, min(room.width() / w, room.height() / h))
        return QRectF(
            room.x() + (room.width() - cell * w) / 2, room.y() + (room.height() - cell * h) / 2, cell * w, cell * h
        )

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if not self._cells.isNull():
            painter.drawImage(self.cells_rect(), self._cells)
        inset = self.MARGIN + self.BAR_INSET
        bar = QRectF(self.width() - self.BAR_WIDTH - self._text_width() - 2, inset,
                     self.BAR_WIDTH, max(1.0, self.height() - 2 * inset))
        painter.drawImage(bar, self._strip)
        painter.setPen(self.palette().mid().color())
        painter.drawRect(bar)
        painter.setPen(self.palette().windowText().color())
        _paint_ticks(painter, bar, self._labels, self._text_width())
        painter.end()
