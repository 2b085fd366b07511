"""The values of an image view's cells printed on them, when few enough cells are on screen.

One graphics item paints every number of the cells in sight (at most ``MAX_VISIBLE_SIDE``
rows and columns of them): a small output fitted in its view shows all its numbers, a
large one shows them once zoomed in far enough, and nothing is made for the cells out of
sight.  One item and no per-cell objects: a new output or a pan costs one paint of a few
hundred short texts, and the texts of the visible block are kept until it changes.

Each text takes the colour that reads on its cell: the cell's colour is the one actually
drawn (the same binning as ``display.coloured``, from the view's lookup table at its
levels), light text on a dark cell, dark text on a light one (``cell_labels``).  The font
is sized to the cell on screen (``cell_labels.label_px``), its cap follows the text zoom
(``zoom.scaled``); four significant digits where they fit, else rounded to the scale's
third digit (``display.cell_text``), and the labels hide when the cells are too small even
for those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from convplay.core.display import cell_text, coloured, finite_abs_max
from convplay.qt import style
from convplay.qt.widgets.cell_labels import TEXT_SHARE, dark_words, is_dark_rgb, label_px
from convplay.qt.theme import theme
from convplay.qt.zoom import scaled, text_zoom

MAX_VISIBLE_SIDE = 24  # cells in sight per row and per column, at most, for numbers to show
LABEL_MAX_PX = 22  # at zoom 1: large enough for the back row, small enough to look tidy
LABEL_HEIGHT_SHARE = 0.42  # of a cell's height one number may take
# The user zoomed in to read these: a size below the back row's (cell_labels.MIN_LABEL_PX)
# still reads at a desk; below this the labels hide.
LABEL_MIN_PX = 8
MEASURE_PX = 100  # texts are measured at this size and scaled to the cell


@dataclass(frozen=True)
class CellLabel:
    """One number on screen: its cell, its text and whether the cell is dark."""

    row: int
    col: int
    text: str
    on_dark: bool


class ValueLabels(QGraphicsObject):
    """The numbers of the cells in sight, painted over an ImageItem (a child of it, so that
    it follows the item's opacity, e.g. the dimmed stale output).

    ``set_values(values, levels, table)``: ``values`` (H, W) are printed; the cell colours
    are ``table`` (``display.argb_table``) at ``levels``, or, with no table, ``values`` as
    grey or RGB (H, W, 3) levels as pyqtgraph draws them.
    """

    def __init__(self, image_item: pg.ImageItem, view_box: pg.ViewBox):
        super().__init__()
        self._view_box = view_box
        self._values: np.ndarray | None = None
        self._levels = (0.0, 1.0)
        self._table: np.ndarray | None = None
        self._pixels: np.ndarray | None = None
        self._scale: float | None = None  # max |value|, found when first needed
        # For the four-digit and the short texts: (block, labels, widest text's advance).
        self._blocks: dict[bool, tuple[tuple, list[CellLabel], float]] = {}
        measure = QFont()
        measure.setPixelSize(MEASURE_PX)
        self._metrics = QFontMetricsF(measure)
        self.setParentItem(image_item)
        self.setZValue(1)
        view_box.sigRangeChanged.connect(self._repaint)
        view_box.sigResized.connect(self._repaint)
        text_zoom().changed.connect(self._repaint)  # the font's cap follows the zoom
        theme().theme_changed.connect(self._repaint)  # the text colours follow the theme

    def _repaint(self, *_) -> None:
        self.update()

    # -- data ------------------------------------------------------------------------------
    def set_values(
        self,
        values: np.ndarray | None,
        levels: tuple[float, float],
        table: np.ndarray | None,
        pixels: np.ndarray | None = None,
    ) -> None:
        """``pixels``, when given, are the (H, W) premultiplied ARGB32 words drawn: the
        text colours are read from them rather than coloured again."""
        self.prepareGeometryChange()
        self._values = values
        self._levels = (float(levels[0]), float(levels[1]))
        self._table = table
        self._pixels = pixels if pixels is not None and values is not None and pixels.shape == values.shape[:2] else None
        self._scale = None
        self._blocks = {}
        self.update()

    # -- what is shown ---------------------------------------------------------------------
    def cell_px(self) -> float:
        """Screen pixels per cell in the view now (0 when it has no size)."""
        (x0, x1), _ = self._view_box.viewRange()
        width = self._view_box.width()
        return width / (x1 - x0) if x1 > x0 and width > 0 else 0.0

    def visible_block(self) -> tuple[int, int, int, int] | None:
        """(first row, last row, first col, last col) of the cells in sight, inclusive, or
        None when none is or when more than ``MAX_VISIBLE_SIDE`` per side are."""
        values = self._values
        if values is None or values.size == 0:
            return None
        (x0, x1), (y0, y1) = self._view_box.viewRange()
        h, w = values.shape[:2]
        # Cell c covers [c - 0.5, c + 0.5]: it is in sight when that overlaps the range.
        c0, c1 = max(0, math.floor(x0 + 0.5)), min(w - 1, math.ceil(x1 - 0.5))
        r0, r1 = max(0, math.floor(y0 + 0.5)), min(h - 1, math.ceil(y1 - 0.5))
        if c1 < c0 or r1 < r0 or c1 - c0 + 1 > MAX_VISIBLE_SIDE or r1 - r0 + 1 > MAX_VISIBLE_SIDE:
            return None
        return r0, r1, c0, c1

    def labels(self) -> tuple[list[CellLabel], int]:
        """The numbers painted now and their font's pixel size; ([], 0) when none is (too
        many cells in sight, or cells too small for legible text)."""
        block = self.visible_block()
        if block is None:
            return [], 0
        cell = self.cell_px()
        for short in (False, True):  # four digits if they fit, else three
            shown, widest = self._block_labels(block, short)
            # The widest text (measured in the font drawn: "-" and "." are narrower than a
            # digit) fits across its cell, within the height share.
            px = label_px(cell, 1, height_share=LABEL_HEIGHT_SHARE, max_px=scaled(LABEL_MAX_PX))
            if widest > 0:
                px = min(px, TEXT_SHARE * cell * MEASURE_PX / widest)
            if px >= LABEL_MIN_PX:
                return shown, int(px)
        return [], 0

    def _block_labels(self, block: tuple[int, int, int, int], short: bool = False) -> tuple[list[CellLabel], float]:
        """The labels of ``block``'s cells and the advance of the widest at ``MEASURE_PX``,
        kept until the block or the values change (a repaint reuses them)."""
        known = self._blocks.get(short)
        if known is not None and known[0] == block:
            return known[1], known[2]
        r0, r1, c0, c1 = block
        values = self._values
        part = values[r0 : r1 + 1, c0 : c1 + 1]
        if self._scale is None:
            self._scale = finite_abs_max(np.asarray(values, dtype=np.float64))
        if self._pixels is not None:
            dark = dark_words(self._pixels[r0 : r1 + 1, c0 : c1 + 1], background_dark=_dark_background(self._view_box))
        else:
            dark = self._dark(part)
        scalar = part.ndim == 2
        labels = []
        for i in range(part.shape[0]):
            for j in range(part.shape[1]):
                v = part[i, j]
                if scalar:
                    text = cell_text(v, self._scale, short=short)
                else:
                    text = "/".join(cell_text(x, self._scale, short=short) for x in v)
                labels.append(CellLabel(r0 + i, c0 + j, text, bool(dark[i, j])))
        # Digits share one width, so the widest text is among the longest two lengths.
        texts = {label.text for label in labels}
        longest = max((len(t) for t in texts), default=0)
        widest = max((self._metrics.horizontalAdvance(t) for t in texts if len(t) >= longest - 1), default=0.0)
        self._blocks[short] = (block, labels, widest)
        return labels, widest

    def _dark(self, part: np.ndarray) -> np.ndarray:
        """Whether each cell of ``part`` is drawn dark, from the colour drawn there."""
        if self._table is not None and part.ndim == 2:
            words = coloured(np.ascontiguousarray(part, dtype=np.float32), self._levels, self._table)
            return dark_words(words, background_dark=_dark_background(self._view_box))
        cells = part if part.ndim == 3 else part[..., None]
        return np.array([[is_dark_rgb(cell, self._levels) for cell in row] for row in cells], dtype=bool).reshape(part.shape[:2])

    # -- QGraphicsItem ---------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        # In the image item's coordinates: cell (r, c) spans [c, c + 1] x [r, r + 1].
        if self._values is None:
            return QRectF()
        h, w = self._values.shape[:2]
        return QRectF(0, 0, w, h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        shown, px = self.labels()
        if not shown:
            return
        to_screen = painter.transform()
        cell = self.cell_px()
        painter.save()
        painter.resetTransform()  # text in screen pixels, upright whatever the view's flips
        # A cell cut by the view's edge: its text stops there too, off the axes.
        (x0, x1), (y0, y1) = self._view_box.viewRange()
        sight = to_screen.mapRect(QRectF(x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0))  # item coordinates: +0.5
        painter.setClipRect(sight, Qt.ClipOperation.IntersectClip)
        font = QFont()  # the font the texts were measured in
        font.setPixelSize(px)
        painter.setFont(font)
        light, dark = QColor(style.colour("LIGHT_LABEL_TEXT")), QColor(style.colour("LABEL_TEXT"))
        inner = sight.adjusted(cell / 4, cell / 4, -cell / 4, -cell / 4)
        for label in shown:
            centre = to_screen.map(QPointF(label.col + 0.5, label.row + 0.5))
            if not inner.contains(centre):
                continue  # a cell mostly out of sight: a cut number would misread
            painter.setPen(light if label.on_dark else dark)
            painter.drawText(QRectF(centre.x() - cell / 2, centre.y() - cell / 2, cell, cell),
                             Qt.AlignmentFlag.AlignCenter, label.text)
        painter.restore()


def _dark_background(view_box: pg.ViewBox) -> bool:
    """Whether what shows through a transparent (NaN) cell is dark."""
    scene = view_box.scene()
    views = scene.views() if scene is not None else []
    if not views:
        return False
    colour = views[0].backgroundBrush().color()
    return is_dark_rgb([colour.red(), colour.green(), colour.blue()], (0.0, 255.0))
