"""A layer's feature maps: every channel as a small tile with its index under it, and one
map large with the probe pixel marked.

Both widgets paint QImages coloured once per new output (numpy binning as
``display.coloured`` does, then one ``drawImage`` per tile): no scene items, so a
run of 128 maps costs a few milliseconds.  Levels are shared across the grid (maps
compare with each other) or each map's own (every map uses the whole colour range);
the colour map is diverging for signed values and sequential for values that are never
negative (after a ReLU).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from convplay.core.display import (
    argb_table,
    coloured,
    finite_range,
    has_sign,
    mapping_levels,
)
from convplay.core.formatting import format_readout, format_tick
from convplay.qt import style
from convplay.qt.widgets.lookup import lookup_table
from convplay.qt.zoom import scaled, text_zoom

MAX_DRAWN = 128  # maps drawn at most; the panel says how many there are
MIN_TILE = 34  # px: a tile smaller than this is not worth looking at, the grid scrolls instead
MAX_TILE = 120
GAP = 6
LABEL_PX = 11
STALE_OPACITY = 0.35

_TABLES: dict[str, np.ndarray] = {}


def colour_table(name: str) -> np.ndarray:
    """The ARGB32 table of a ``style`` colour map, made once."""
    if name not in _TABLES:
        _TABLES[name] = argb_table(lookup_table(name))
    return _TABLES[name]


def decide_signed(maps: np.ndarray) -> bool:
    return has_sign(*finite_range(np.asarray(maps)))


def map_levels(maps: np.ndarray, shared: bool, signed: bool) -> list[tuple[float, float]]:
    """Each map's (low, high): one pair for all when ``shared``, else each map's own."""
    mapping = "diverging" if signed else "sequential"
    if shared:
        lo, hi = finite_range(maps)
        return [mapping_levels(lo, hi, mapping)] * len(maps)
    return [mapping_levels(*finite_range(m), mapping) for m in maps]


def map_image(values: np.ndarray, levels: tuple[float, float], signed: bool,
              colour_map: str | None = None) -> tuple[QImage, np.ndarray]:
    """(H, W) values as a QImage, and the pixel array it shares memory with (keep it).
    ``colour_map`` (a ``style`` name) overrides the diverging / sequential choice."""
    table = colour_table(colour_map or (style.DIVERGING if signed else style.SEQUENTIAL))
    pixels = np.ascontiguousarray(coloured(np.asarray(values, dtype=np.float32), levels, table))
    h, w = pixels.shape
    return QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied), pixels


class MapGrid(QWidget):
    """Tiles of every map (up to ``MAX_DRAWN``); ``map_clicked(int)``, ``hovered(str)``.

    The tiles are as large as the room allows (``room_height``: the height the grid may
    fill before it scrolls); below ``MIN_TILE`` the grid grows taller and its scroll area
    scrolls."""

    map_clicked = Signal(int)
    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Every feature map of the layer, its channel under it: click one to show it large "
                        "and probe its centre pixel")
        self._maps: np.ndarray | None = None
        self._images: list[QImage] = []
        self._pixels: list[np.ndarray] = []
        self._levels: list[tuple[float, float]] = []
        self._signed = False
        self._selected = -1
        self._stale = False
        self._rects: list[QRectF] = []
        self._laid_for: tuple = ()
        self._need = 0
        self.room_height = 400
        text_zoom().changed.connect(self._relayout)

    def sizeHint(self) -> QSize:
        return QSize(300, 300)

    # -- model -> view ---------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self._images)

    @property
    def levels(self) -> list[tuple[float, float]]:
        return list(self._levels)

    @property
    def signed(self) -> bool:
        return self._signed

    def set_maps(self, maps: np.ndarray | None, shared: bool = True) -> None:
        """Show ``maps`` (C, H, W), the first ``MAX_DRAWN`` of them; None shows nothing."""
        if maps is None or maps.ndim != 3 or maps.shape[0] == 0:
            self._maps, self._images, self._pixels, self._levels = None, [], [], []
        else:
            shown = np.asarray(maps[:MAX_DRAWN], dtype=np.float32)
            self._maps = shown
            self._signed = decide_signed(maps)
            self._levels = map_levels(shown, shared, self._signed)
            made = [map_image(m, lv, self._signed) for m, lv in zip(shown, self._levels)]
            self._images = [image for image, _ in made]
            self._pixels = [pixels for _, pixels in made]
        self._relayout()

    def set_selected(self, channel: int) -> None:
        if channel != self._selected:
            self._selected = channel
            self.update()

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.update()

    def set_room_height(self, height: int) -> None:
        if height != self.room_height:
            self.room_height = max(60, int(height))
            self._relayout()

    # -- geometry --------------------------------------------------------------------------
    def _label_h(self) -> int:
        return math.ceil(scaled(LABEL_PX) * 1.3)

    def _choose(self, width: float, height: float) -> tuple[int, float]:
        """(columns, tile size): the largest tiles that fit ``height``, else ``MIN_TILE`` ones."""
        n = self.count
        if n == 0:
            return 1, 0.0
        label = self._label_h()
        best = None
        for cols in range(1, n + 1):
            tile = min(MAX_TILE, (width - GAP * (cols + 1)) / cols)
            if tile < MIN_TILE and cols > 1:
                break
            rows = math.ceil(n / cols)
            if rows * (tile + label + GAP) + GAP <= height and (best is None or tile > best[1]):
                best = (cols, tile)
        if best is not None:
            return best
        cols = max(1, min(n, int((width - GAP) // (MIN_TILE + GAP))))
        return cols, max(8.0, min(MAX_TILE, (width - GAP * (cols + 1)) / cols))

    def _ensure_layout(self) -> None:
        key = (self.width(), self.room_height, self.count, scaled(LABEL_PX))
        if key == self._laid_for:
            return
        self._laid_for = key
        cols, tile = self._choose(self.width(), self.room_height)
        label = self._label_h()
        self._rects = []
        used = cols * tile + (cols - 1) * GAP
        x0 = max(GAP, (self.width() - used) / 2)
        for c, image in enumerate(self._images):
            row, col = divmod(c, cols)
            h, w = image.height(), image.width()
            scale = tile / max(h, w, 1)
            iw, ih = w * scale, h * scale
            x = x0 + col * (tile + GAP) + (tile - iw) / 2
            y = GAP + row * (tile + label + GAP) + (tile - ih) / 2
            self._rects.append(QRectF(x, y, iw, ih))
        rows = math.ceil(self.count / cols) if self.count else 0
        self._need = int(GAP + rows * (tile + label + GAP))

    def tile_rect(self, channel: int) -> QRectF:
        self._ensure_layout()
        return QRectF(self._rects[channel])

    def _relayout(self, *_args) -> None:
        self._laid_for = ()
        self._ensure_layout()
        # Taller than the room when the tiles would be too small: the scroll area scrolls.
        if self.minimumHeight() != self._need:
            self.setMinimumHeight(self._need)
        self.update()

    def channel_at(self, pos: QPointF) -> int | None:
        self._ensure_layout()
        label = self._label_h()
        for c, rect in enumerate(self._rects):
            if rect.adjusted(-GAP / 2, -GAP / 2, GAP / 2, label).contains(pos):
                return c
        return None

    def cell_at(self, pos: QPointF) -> tuple[int, int, int] | None:
        self._ensure_layout()
        if self._maps is None:
            return None
        for c, rect in enumerate(self._rects):
            if rect.contains(pos):
                h, w = self._maps.shape[1:]
                row = min(int((pos.y() - rect.y()) / rect.height() * h), h - 1)
                col = min(int((pos.x() - rect.x()) / rect.width() * w), w - 1)
                return c, row, col
        return None

    # -- Qt events -----------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.Base))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if self._stale:
            painter.setOpacity(STALE_OPACITY)
        font = QFont(self.font())
        font.setPixelSize(scaled(LABEL_PX))
        painter.setFont(font)
        label = self._label_h()
        text = palette.color(QPalette.ColorRole.Text)
        frame = QPen(QColor(style.colour("SELECTED_FRAME")), style.line_width(2))
        clip = QRectF(event.rect())
        for c, image in enumerate(self._images):
            rect = self._rects[c]
            if not clip.intersects(rect.adjusted(0, 0, 0, label)):
                continue
            painter.drawImage(rect, image)
            painter.setPen(text)
            painter.drawText(QRectF(rect.x() - GAP, rect.bottom(), rect.width() + 2 * GAP, label),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, str(c))
            if c == self._selected:
                painter.setPen(frame)
                painter.drawRect(rect.adjusted(-2, -2, 2, 2))
        painter.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell is None or self._maps is None:
            self.hovered.emit("")
        else:
            c, row, col = cell
            self.hovered.emit(f"map {c}  row {row}, col {col}: {format_readout(float(self._maps[c, row, col]))}")
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        channel = self.channel_at(event.position())
        if channel is not None and event.button() == Qt.MouseButton.LeftButton:
            self.map_clicked.emit(channel)
            return
        super().mousePressEvent(event)


class MapView(QWidget):
    """One map large, the probe pixel framed; ``pixel_clicked(row, col)``, ``hovered(str)``."""

    pixel_clicked = Signal(int, int)
    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None, hint: int = 180):
        super().__init__(parent)
        self._hint = hint
        self.setMouseTracking(True)
        self.setMinimumSize(min(80, hint), min(80, hint))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("The chosen feature map large: click a pixel to probe it (its receptive field is "
                        "drawn in the Receptive field panel)")
        self._values: np.ndarray | None = None
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None
        self._levels = (0.0, 1.0)
        self._signed = False
        self._marked: tuple[int, int] | None = None
        self._box: tuple[int, int, int, int] | None = None
        self._stale = False
        self.name = ""

    def sizeHint(self) -> QSize:
        return QSize(self._hint, self._hint)

    @property
    def levels(self) -> tuple[float, float]:
        return self._levels

    def set_map(self, values: np.ndarray | None, levels: tuple[float, float] | None = None,
                signed: bool | None = None, name: str = "", colour_map: str | None = None) -> None:
        self.name = name
        if values is None or np.ndim(values) != 2:
            self._values = self._image = self._pixels = None
        else:
            values = np.asarray(values, dtype=np.float32)
            self._signed = decide_signed(values) if signed is None else signed
            self._levels = levels or map_levels(values[None], True, self._signed)[0]
            self._values = values
            self._image, self._pixels = map_image(values, self._levels, self._signed, colour_map)
        self.update()

    def set_marked(self, cell: tuple[int, int] | None) -> None:
        if cell != self._marked:
            self._marked = cell
            self.update()

    def set_stale(self, stale: bool) -> None:
        if stale != self._stale:
            self._stale = stale
            self.update()

    def set_box(self, box: tuple[int, int, int, int] | None) -> None:
        """Frame the cells (top, left, bottom, right), inclusive; the part outside the map
        (padding) is drawn dashed."""
        if box != self._box:
            self._box = box
            self.update()

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        return self._box

    def box_margins(self) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) cells of the box beyond the map (in its padding) that
        the view makes room for, at most half the map a side (a bigger box is cut there)."""
        if self._box is None or self._image is None:
            return 0, 0, 0, 0
        h, w = self._image.height(), self._image.width()
        top, left, bottom, right = self._box

        def room(n: int, size: int) -> int:
            return min(max(0, n), max(1, size // 2))

        return room(-top, h), room(-left, w), room(bottom - (h - 1), h), room(right - (w - 1), w)

    def image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        h, w = self._image.height(), self._image.width()
        mt, ml, mb, mr = self.box_margins()
        # A framed box keeps its pen inside the widget: a box on the edge is not cut in half.
        pen = style.line_width(2.5) if self._box is not None else 0.0
        room_w, room_h = max(1.0, self.width() - 2 * pen), max(1.0, self.height() - 2 * pen)
        scale = min(room_w / (w + ml + mr), room_h / (h + mt + mb))
        iw, ih = w * scale, h * scale
        x = (self.width() - (w + ml + mr) * scale) / 2 + ml * scale
        y = (self.height() - (h + mt + mb) * scale) / 2 + mt * scale
        return QRectF(x, y, iw, ih)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        rect = self.image_rect()
        if self._values is None or not rect.contains(pos):
            return None
        h, w = self._values.shape
        return (min(int((pos.y() - rect.y()) / rect.height() * h), h - 1),
                min(int((pos.x() - rect.x()) / rect.width() * w), w - 1))

    def position_of(self, row: int, col: int) -> QPointF:
        rect = self.image_rect()
        h, w = self._values.shape
        return QPointF(rect.x() + (col + 0.5) * rect.width() / w, rect.y() + (row + 0.5) * rect.height() / h)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self._image is not None:
            if self._stale:
                painter.setOpacity(STALE_OPACITY)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            rect = self.image_rect()
            painter.drawImage(rect, self._image)
            if self._marked is not None:
                h, w = self._values.shape
                r, c = self._marked
                cw, ch = rect.width() / w, rect.height() / h
                painter.setOpacity(1.0)
                painter.setPen(QPen(QColor(style.colour("WINDOW")), style.line_width(2.5)))
                painter.drawRect(QRectF(rect.x() + c * cw, rect.y() + r * ch, cw, ch))
            if self._box is not None:
                self._paint_box(painter, rect)
        painter.end()

    def _paint_box(self, painter: QPainter, rect: QRectF) -> None:
        h, w = self._values.shape
        top, left, bottom, right = self._box
        cw, ch = rect.width() / w, rect.height() / h
        full = QRectF(rect.x() + left * cw, rect.y() + top * ch, (right - left + 1) * cw, (bottom - top + 1) * ch)
        inside = full.intersected(rect)
        painter.setOpacity(1.0)
        colour = QColor(style.colour("WINDOW"))
        if inside != full:
            # The padding the box reaches: shaded and framed dashed, outside the map.
            padding = QPainterPath()
            padding.addRect(full)
            image = QPainterPath()
            image.addRect(rect)
            shade = QColor(colour)
            shade.setAlpha(60)
            painter.fillPath(padding.subtracted(image), shade)
            dashed = QPen(colour, style.line_width(1.5), Qt.PenStyle.DashLine)
            painter.setPen(dashed)
            painter.drawRect(full)
        painter.setPen(QPen(colour, style.line_width(2.5)))
        painter.drawRect(inside)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell is None:
            self.hovered.emit("")
        else:
            r, c = cell
            self.hovered.emit(f"{self.name}  row {r}, col {c}: {format_readout(float(self._values[r, c]))}")
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.pixel_clicked.emit(*cell)
            return
        super().mousePressEvent(event)


def levels_text(levels: tuple[float, float], signed: bool) -> str:
    lo, hi = levels
    if signed:
        return f"\u00b1{format_tick(hi)}"
    return f"{format_tick(lo)} \u2026 {format_tick(hi)}"
