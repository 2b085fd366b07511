"""Pools of graphics items for the sliding window: made once, then only moved, shown,
hidden or relabelled per frame, so a frame costs O(taps) item updates and never a new
item (pyqtgraph's advice for fast scenes).

``RectPool``: outlined (and filled) cells.  ``CellGrid``: thin lines between a block of
cells and round it, one path item rebuilt when the block changes.  ``LabelPool``: centred text labels that keep
their pixel size at any zoom, sized by ``widgets.cell_labels``' one rule.  ``TagPool``: the
kernel's weights, a small tag in the top-left corner of each cell under the window (as
CNN Explainer draws them).

Font sizes follow the application's text zoom (``qt.zoom``): it raises the labels' cap
and their share of a cell, never past the cell.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from convplay.qt import style
from convplay.qt.widgets.cell_labels import MIN_LABEL_PX, label_px
from convplay.qt.zoom import scaled, text_zoom

LABEL_MAX_PX = 34.0  # big cells on a projector: large numbers, but not shouting
# A value label leaves room in its cell for the outlines and, on a copied pad cell, for
# the small "(r,c)" of the pixel it copies below it.
LABEL_HEIGHT_SHARE = 0.36
START_PX = 12  # a new pool's font, until the first ``fit``
MAX_HEIGHT_SHARE = 0.5  # however far the text is zoomed, a label stays inside its cell
# Weight tags: a corner of the cell, clear of the value label centred below it.
TAG_HEIGHT_SHARE = 0.27
TAG_MAX_SHARE = 0.32  # zoomed in, a tag stays a corner note, smaller than the value below it
TAG_MAX_PX = 22.0
TAG_MIN_PX = 7.0  # a tag that would need a smaller font to fit across its cell is hidden
TAG_BOLD_DIGIT = 0.68  # a bold digit's advance per pixel of font size (DejaVu Sans Bold, measured)
TAG_WIDTH_SHARE = 0.92  # of its cell's width a tag may take
TAG_HIDE_BELOW_CELL_PX = 22.0  # smaller cells would be covered by their tag: the arithmetic shows the weights
TAG_INSET_PX, TAG_PAD_PX = 1.0, 2.0
LINE_HEIGHT = 1.2  # a line of text's height per pixel of font size
BELOW_TAG_SHARE = 0.8  # of a cell's height below its tag's band, what its value label may take
TAG_BACKGROUND_ALPHA = 225
TAG_TEXT_DARKER = 185  # QColor.darker's percent: the window's orange as legible text
GRID_MIN_CELL_PX = 6.0  # smaller cells get no grid lines (an overview): lines would grey the picture


def zoomed_share(share: float) -> float:
    """A label's share of its cell at the current text zoom (never more than half the cell)."""
    return min(share * max(text_zoom().factor, 1.0), MAX_HEIGHT_SHARE)


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

    @property
    def pen(self) -> QPen:
        return self._pen

    def set_style(self, pen: QPen, brush: QBrush | None = None) -> None:
        """A new pen (and brush) for every rect, made or to be made (a theme switch)."""
        self._pen = pen
        if brush is not None:
            self._brush = brush
        for item in self.items:
            item.setPen(self._pen)
            item.setBrush(self._brush)

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


class CellGrid:
    """Grid lines between the cells of a block, and its outline: one QGraphicsPathItem with
    a cosmetic pen one device pixel wide, so that a white cell keeps its edge on the white
    background.  ``set_cells`` rebuilds the path (a new block: a geometry change or a new
    neighbourhood, never per frame); ``fit`` hides it while cells are smaller than
    ``GRID_MIN_CELL_PX`` on screen.  Cells centre on integer coordinates."""

    def __init__(self, view_box: pg.ViewBox, z: float):
        self.item = QGraphicsPathItem()
        self.item.setZValue(z)
        self.item.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.item.setVisible(False)
        view_box.addItem(self.item, ignoreBounds=True)
        self.lines = 0  # lines in the path: rows + 1 across plus cols + 1 down (0: none)
        self._large_enough = False

    @property
    def pen(self) -> QPen:
        return self.item.pen()

    def set_pen(self, pen: QPen) -> None:
        self.item.setPen(pen)

    def set_cells(self, rows: tuple[int, int], cols: tuple[int, int]) -> None:
        """Lines round and between cells rows[0]..rows[1]-1 by cols[0]..cols[1]-1."""
        (r0, r1), (c0, c1) = rows, cols
        path = QPainterPath()
        self.lines = 0
        if r1 > r0 and c1 > c0:
            top, bottom, left, right = r0 - 0.5, r1 - 0.5, c0 - 0.5, c1 - 0.5
            for r in range(r0, r1 + 1):
                path.moveTo(left, r - 0.5)
                path.lineTo(right, r - 0.5)
            for c in range(c0, c1 + 1):
                path.moveTo(c - 0.5, top)
                path.lineTo(c - 0.5, bottom)
            self.lines = (r1 - r0 + 1) + (c1 - c0 + 1)
        self.item.setPath(path)
        self._update_visible()

    def fit(self, cell_px: float) -> None:
        """Shown while a cell spans at least ``GRID_MIN_CELL_PX`` screen pixels."""
        self._large_enough = cell_px >= GRID_MIN_CELL_PX
        self._update_visible()

    def _update_visible(self) -> None:
        shown = self._large_enough and self.lines > 0
        if shown != self.item.isVisible():
            self.item.setVisible(shown)

    def hide(self) -> None:
        self.set_cells((0, 0), (0, 0))


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
        self._font.setPixelSize(scaled(START_PX))
        self.items: list[QGraphicsSimpleTextItem] = []
        self.used = 0
        self._vacant: set[int] = set()  # slots below ``used`` that hold no label this frame
        self._keys: list[object] = []  # what each label in use shows (``set``'s key), None: unknown
        self.visible = True
        self.longest = 0  # characters in the longest text so far: what the font must fit
        self.refit = False  # a longer text arrived: ``fit`` again
        self.shift_px = 0.0  # labels sit this far below their cell's centre (below a weight tag's band)

    def set_colours(self, colour: str, light: str) -> None:
        """The text colours on light and on dark cells (a theme switch)."""
        old_dark = self._dark_text
        self._dark_text, self._light_text = QBrush(QColor(colour)), QBrush(QColor(light))
        for item in self.items:
            item.setBrush(self._dark_text if item.brush() == old_dark else self._light_text)

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

    def _centre(self, item: QGraphicsSimpleTextItem) -> None:
        rect = item.boundingRect()
        item.setTransform(QTransform.fromTranslate(-rect.width() / 2, -rect.height() / 2 + self.shift_px))

    def holds(self, n: int, key: object) -> bool:
        """Whether label ``n`` is in use and was last ``set`` with ``key``: showing it again costs nothing."""
        return n < len(self._keys) and self._keys[n] == key and n < self.used and n not in self._vacant

    def set(self, n: int, x: float, y: float, text: str, light: bool = False, key: object = None) -> None:
        """Label ``n`` at cell (x, y), in use from now on; ``light`` text for a dark cell;
        ``key`` names what it shows, for ``holds``."""
        item = self._item(n)
        if len(self._keys) <= n:
            self._keys.extend([None] * (n + 1 - len(self._keys)))
        self._keys[n] = key
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
        self._vacant.discard(n)
        self.used = max(self.used, n + 1)

    def finish(self, used: int) -> None:
        """Only labels 0 to ``used`` - 1 stay in use: hide the rest."""
        for item in self.items[used : self.used]:
            item.setVisible(False)
        self._keys[used:] = []
        self.used = used
        self._vacant = set()

    def finish_slots(self, size: int, filled: set[int]) -> None:
        """Labels 0 to ``size`` - 1 are this frame's slots and ``filled`` those ``set``:
        hide the others (a neighbourhood cut short by the image's edge leaves slots empty)."""
        vacant = set(range(min(size, len(self.items)))) - filled
        for n in vacant:
            self.items[n].setVisible(False)
            if n < len(self._keys):
                self._keys[n] = None
        for item in self.items[size : self.used]:
            item.setVisible(False)
        self._keys[size:] = []
        self.used = size
        self._vacant = vacant

    def shown(self) -> dict[tuple[float, float], str]:
        """(x, y) -> text of each label in use (tests read it)."""
        return {(item.pos().x(), item.pos().y()): item.text()
                for n, item in enumerate(self.items[: self.used]) if n not in self._vacant}

    def reset(self) -> None:
        """No labels; the next texts decide the font again (a new convolution)."""
        self.finish(0)
        self.longest = 0

    def set_visible(self, visible: bool) -> None:
        if visible == self.visible:
            return
        self.visible = visible
        for n, item in enumerate(self.items[: self.used]):
            item.setVisible(visible and n not in self._vacant)

    def pixel_size(self) -> int:
        """The labels' font size in pixels (tests read it)."""
        return self._font.pixelSize()

    def fit(self, cell_px: float, reserved_px: float = 0.0) -> None:
        """Size the font for cells ``cell_px`` screen pixels wide; hide labels that would be
        too small.  ``reserved_px`` of the cell's top are a weight tag's band: the label
        fits below it and is centred in the rest, so that neither covers the other."""
        self.refit = False
        px = self._scale * label_px(cell_px, self.longest, height_share=zoomed_share(LABEL_HEIGHT_SHARE),
                                    max_px=scaled(LABEL_MAX_PX))
        if reserved_px > 0:
            px = min(px, BELOW_TAG_SHARE * (cell_px - reserved_px) / LINE_HEIGHT)
        self.set_visible(px >= self._min_px)
        px = int(max(px, self._min_px))
        shift = reserved_px / 2
        if px == self._font.pixelSize() and shift == self.shift_px:
            return
        self.shift_px = shift
        self._font.setPixelSize(px)
        for item in self.items:
            item.setFont(self._font)
            self._centre(item)


def weight_text(weight: float, scale: float) -> str:
    """A weight as its tag shows it: "×" and three significant digits; "×0" for a weight
    that is zero next to the kernel's largest (|w| below 1e-6 of ``scale``), e.g. -1.178e-09."""
    if not np.isfinite(weight):
        return f"\u00d7{weight}"
    if abs(weight) <= 1e-6 * scale or weight == 0:
        return "\u00d70"
    text = f"{weight:.3g}"
    if "e" not in text and "." in text:
        text = text.rstrip("0").rstrip(".")
    if text.startswith(("0.", "-0.")):
        text = text.replace("0.", ".", 1)  # "×.0013", "×-.25": a tag has a corner of a cell, not a line
    return f"\u00d7{text}"


class TagPool:
    """Weight tags: a white chip with the weight in the window's dark orange, pinned to the
    top-left corner of a cell, the same pixel size at any zoom.

    Texts change only with the kernel (or the output channel); a frame moves the tags.
    ``texts()`` and ``corners()`` say what is shown where (tests read them).
    """

    def __init__(self, view_box: pg.ViewBox, z: float = 25):
        self._view_box, self._z = view_box, z
        self._font = QFont()
        self._font.setBold(True)
        self._font.setPixelSize(scaled(START_PX))
        self._set_theme_brushes()
        self.items: list[QGraphicsRectItem] = []
        self._texts: list[QGraphicsSimpleTextItem] = []
        self._corners: list[tuple[float, float]] = []
        self.used = 0
        self.visible = True
        self.longest = 0  # characters of the longest tag so far: the font must fit it across a cell
        self._cell_px = 0.0
        self.in_use = False  # tags shown since the last reset: the values make room for them
        self._band = QFontMetricsF(self._font).height() + TAG_INSET_PX

    def _set_theme_brushes(self) -> None:
        self._border = cosmetic_pen(style.colour("WINDOW"), style.line_width(1))
        background = QColor(style.CELL_BACKGROUND)
        background.setAlpha(255 if style.high_contrast() else TAG_BACKGROUND_ALPHA)
        self._background = QBrush(background)
        # The window's orange, darkened until it reads as text on the white chip.
        self._text_brush = QBrush(QColor(style.colour("WINDOW")).darker(TAG_TEXT_DARKER))

    @property
    def border(self) -> QPen:
        return self._border

    def restyle(self) -> None:
        """The chips' border, ground and text in the theme that is on."""
        self._set_theme_brushes()
        for chip, text in zip(self.items, self._texts):
            chip.setPen(self._border)
            chip.setBrush(self._background)
            text.setBrush(self._text_brush)

    def _grow(self, n: int) -> None:
        while len(self.items) < n:
            chip = QGraphicsRectItem()
            chip.setPen(self._border)
            chip.setBrush(self._background)
            chip.setZValue(self._z)
            chip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            text = QGraphicsSimpleTextItem(chip)
            text.setFont(self._font)
            text.setBrush(self._text_brush)
            chip.setVisible(False)
            self._view_box.addItem(chip, ignoreBounds=True)
            self.items.append(chip)
            self._texts.append(text)
            self._corners.append((0.0, 0.0))

    def _fit_chip(self, n: int) -> None:
        text = self._texts[n]
        metrics = QFontMetricsF(self._font)
        w = metrics.horizontalAdvance(text.text()) + 2 * TAG_PAD_PX
        h = metrics.height()
        self.items[n].setRect(QRectF(TAG_INSET_PX, TAG_INSET_PX, w, h))
        text.setPos(TAG_INSET_PX + TAG_PAD_PX, TAG_INSET_PX)

    def show(self, xs, ys, texts) -> None:
        """One tag per cell (xs[n], ys[n]) (cell centres) saying ``texts[n]``; the rest hidden."""
        xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
        self.in_use = self.in_use or len(xs) > 0
        self._grow(len(xs))
        for n, (x, y, t) in enumerate(zip(xs, ys, texts)):
            item, label = self.items[n], self._texts[n]
            if label.text() != t:
                label.setText(t)
                self._fit_chip(n)
                if len(t) > self.longest:
                    self.longest = len(t)
                    self.fit(self._cell_px)
            corner = (float(x) - 0.5, float(y) - 0.5)
            if self._corners[n] != corner:
                item.setPos(*corner)
                self._corners[n] = corner
            item.setVisible(self.visible)
        for item in self.items[len(xs) : self.used]:
            item.setVisible(False)
        self.used = len(xs)

    def hide(self) -> None:
        self.show(np.zeros(0), np.zeros(0), [])

    def reset(self) -> None:
        """No tags; the next kernel's texts decide the font again."""
        self.hide()
        self.longest = 0
        self.in_use = False

    def texts(self) -> list[str]:
        return [t.text() for t in self._texts[: self.used]]

    def corners(self) -> list[tuple[float, float]]:
        """The top-left corner (cell coordinates) each tag in use is pinned to."""
        return self._corners[: self.used]

    def pixel_size(self) -> int:
        return self._font.pixelSize()

    def band_px(self) -> float:
        """Pixels at the top of a cell the tags take (0 when they are hidden or none is shown)."""
        if not self.visible or not self.in_use:
            return 0.0
        return self._band

    def fit(self, cell_px: float) -> None:
        """Size the tags for cells ``cell_px`` screen pixels wide: a quarter of the cell's
        height (the zoom raises it), hidden on cells too small to hold a tag and a value."""
        self._cell_px = cell_px
        across = TAG_WIDTH_SHARE * cell_px / (TAG_BOLD_DIGIT * max(self.longest, 1))
        px = min(min(zoomed_share(TAG_HEIGHT_SHARE), TAG_MAX_SHARE) * cell_px, across, scaled(TAG_MAX_PX))
        # Hidden, too, where the value would not fit below the tag's band at a readable size.
        below = cell_px - (int(max(px, TAG_MIN_PX)) * LINE_HEIGHT + TAG_INSET_PX)
        visible = (cell_px >= TAG_HIDE_BELOW_CELL_PX and px >= TAG_MIN_PX
                   and BELOW_TAG_SHARE * below / LINE_HEIGHT >= MIN_LABEL_PX)
        if visible != self.visible:
            self.visible = visible
            for item in self.items[: self.used]:
                item.setVisible(visible)
        px = int(max(px, TAG_MIN_PX))
        if px == self._font.pixelSize():
            return
        self._font.setPixelSize(px)
        self._band = QFontMetricsF(self._font).height() + TAG_INSET_PX
        for n, text in enumerate(self._texts):
            text.setFont(self._font)
            self._fit_chip(n)
