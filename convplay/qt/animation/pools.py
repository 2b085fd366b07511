"""Pools of graphics items for the sliding window: made once, then only moved, shown,
hidden or relabelled per frame, so a frame costs O(taps) item updates and never a new
item (pyqtgraph's advice for fast scenes).

``RectPool``: outlined (and filled) cells.  ``LabelPool``: centred text labels that keep
their pixel size at any zoom, sized by ``widgets.cell_labels``' one rule.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from convplay.qt import style
from convplay.qt.widgets.cell_labels import MIN_LABEL_PX, label_px

LABEL_MAX_PX = 34.0  # big cells on a projector: large numbers, but not shouting
# A value label leaves room in its cell for the outlines and, on a copied pad cell, for
# the small "(r,c)" of the pixel it copies below it.
LABEL_HEIGHT_SHARE = 0.36
START_PX = 12  # a new pool's font, until the first ``fit``


def cosmetic_pen(colour: QColor | str, width: float = 1.0, line: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A pen whose width is in screen pixels at any zoom."""
    pen = QPen(QColor(colour), width, line)
    pen.setCosmetic(True)
    return pen


def translucent(colour: str, alpha: int, pattern: Qt.BrushStyle = Qt.BrushStyle.SolidPattern) -> QBrush:
    """A brush of ``colour`` at ``alpha`` (0-255)."""
    tint = QColor(colour)
    tint.setAlpha(alpha)
    return QBrush(tint, pattern)


class RectPool:
    """QGraphicsRectItems in one view box, grown on demand and never destroyed.

    ``items`` are the rects made so far; the first ``used`` are the ones shown.
    """

    def __init__(self, view_box: pg.ViewBox, pen: QPen, brush: QBrush | None = None, z: float = 10):
        self._view_box, self._pen, self._z = view_box, pen, z
        self._brush = brush if brush is not None else QBrush(Qt.BrushStyle.NoBrush)
        self.items: list[QGraphicsRectItem] = []
        self.used = 0

    def show(self, xs, ys, ws=1.0, hs=1.0) -> None:
        """One rect per (x, y) centre; cells are 1 wide unless ``ws``/``hs`` say otherwise."""
        xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
        ws, hs = np.broadcast_to(ws, xs.shape), np.broadcast_to(hs, xs.shape)
        while len(self.items) < len(xs):
            item = QGraphicsRectItem()
            item.setPen(self._pen)
            item.setBrush(self._brush)
            item.setZValue(self._z)
            self._view_box.addItem(item, ignoreBounds=True)
            self.items.append(item)
        for item, x, y, w, h in zip(self.items, xs, ys, ws, hs):
            item.setRect(float(x) - w / 2, float(y) - h / 2, float(w), float(h))
            item.setVisible(True)
        for item in self.items[len(xs) : self.used]:
            item.setVisible(False)
        self.used = len(xs)

    def hide(self) -> None:
        self.show(np.zeros(0), np.zeros(0))


class LabelPool:
    """Centred text labels that keep their pixel size at any zoom.

    ``fit`` sizes the font to the cells on screen (numbers legible from the back of a
    lecture hall when cells are big) and hides the labels when cells are too small to
    hold them.  The font changes only when the zoom does, never per frame.  The pool
    keeps its own count: ``used`` labels from the first are in use (``set`` raises it,
    ``finish`` lowers it); ``visible`` says whether they show at the current size.
    """

    def __init__(self, view_box: pg.ViewBox, colour: str, scale: float = 1.0, min_px: float = MIN_LABEL_PX,
                 z: float = 20):
        self._view_box, self._z = view_box, z
        self._dark_text, self._light_text = QBrush(QColor(colour)), QBrush(QColor(style.LIGHT_LABEL_TEXT))
        self._scale, self._min_px = scale, min_px
        self._font = QFont()
        self._font.setPixelSize(START_PX)
        self.items: list[QGraphicsSimpleTextItem] = []
        self.used = 0
        self.visible = True
        self.longest = 0  # characters in the longest text so far: what the font must fit
        self.refit = False  # a longer text arrived: ``fit`` again

    def _item(self, n: int) -> QGraphicsSimpleTextItem:
        while len(self.items) <= n:
            item = QGraphicsSimpleTextItem()
            item.setFont(self._font)
            item.setBrush(self._dark_text)
            item.setZValue(self._z)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            item.setVisible(False)
            self._view_box.addItem(item, ignoreBounds=True)
            self.items.append(item)
        return self.items[n]

    @staticmethod
    def _centre(item: QGraphicsSimpleTextItem) -> None:
        rect = item.boundingRect()
        item.setTransform(QTransform.fromTranslate(-rect.width() / 2, -rect.height() / 2))

    def set(self, n: int, x: float, y: float, text: str, light: bool = False) -> None:
        """Label ``n`` at cell (x, y), in use from now on; ``light`` text for a dark cell."""
        item = self._item(n)
        brush = self._light_text if light else self._dark_text
        if item.brush() != brush:
            item.setBrush(brush)
        if item.text() != text:
            item.setText(text)
            self._centre(item)
            if len(text) > self.longest:
                self.longest, self.refit = len(text), True
        item.setPos(QPointF(x, y))
        item.setVisible(self.visible)
        self.used = max(self.used, n + 1)

    def finish(self, used: int) -> None:
        """Only labels 0 to ``used`` - 1 stay in use: hide the rest."""
        for item in self.items[used : self.used]:
            item.setVisible(False)
        self.used = used

    def reset(self) -> None:
        """No labels; the next texts decide the font again (a new convolution)."""
        self.finish(0)
        self.longest = 0

    def set_visible(self, visible: bool) -> None:
        if visible == self.visible:
            return
        self.visible = visible
        for item in self.items[: self.used]:
            item.setVisible(visible)

    def pixel_size(self) -> int:
        """The labels' font size in pixels (tests read it)."""
        return self._font.pixelSize()

    def fit(self, cell_px: float) -> None:
        """Size the font for cells ``cell_px`` screen pixels wide; hide labels that would be too small."""
        self.refit = False
        px = self._scale * label_px(cell_px, self.longest, height_share=LABEL_HEIGHT_SHARE, max_px=LABEL_MAX_PX)
        self.set_visible(px >= self._min_px)
        px = int(max(px, self._min_px))
        if px == self._font.pixelSize():
            return
        self._font.setPixelSize(px)
        for item in self.items:
            item.setFont(self._font)
            self._centre(item)
