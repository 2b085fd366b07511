"""The whole image beside the sliding window's neighbourhood: where the window is, and a
place to click.

Two thumbnails, painted with one QPainter pass: the whole input (in colour for an RGB
image) and the whole output channel (the reference's values as they are known, the
cells not computed yet veiled).  On each: the neighbourhood on screen (blue) and the
window (orange).  A click or a drag on a thumbnail asks to move there:
``input_picked(r, c)`` (input pixels), ``output_picked(i, j)``.

The thumbnails are made when the image, the settings or the results change (a strided
view of at most ``THUMB_PX`` pixels a side, coloured in numpy); a frame only moves two
rectangles and repaints this small widget.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from convplay.qt import style
from convplay.qt.zoom import scaled, text_zoom

THUMB_PX = 256  # a thumbnail keeps at most this many pixels a side (every n-th pixel)
COLUMN_WIDTH = 160  # pixels: the column beside the view (thumbnails one above the other)
STRIP_HEIGHT = 124  # pixels: the strip below the view (thumbnails side by side)
UNBOUNDED = 16_777_215  # Qt's QWIDGETSIZE_MAX
CAPTION_PX = 11
CAPTION_H = 18.0  # pixels above each thumbnail for its caption
GAP = 6.0
VEIL_ALPHA = 150  # the output's cells not computed yet, veiled in white
MIN_MARK_PX = 9.0  # a window smaller than this on the thumbnail is drawn this big (visible on a projector)

Rect = tuple[tuple[int, int], tuple[int, int]]


def corner_width(height: int) -> int:
    """The width of the overview beside a strip ``height`` tall: two thumbnails about as
    wide as they are tall."""
    return int(2 * (height - CAPTION_H) * 1.25 + GAP + 8)


def _grey_argb(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    lo, hi = levels
    g = np.clip((values - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint32)
    return (0xFF000000 | (g << 16) | (g << 8) | g).astype(np.uint32)


def _rgb_argb(values: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
    lo, hi = levels
    c = np.clip((values - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint32)
    return (0xFF000000 | (c[0] << 16) | (c[1] << 8) | c[2]).astype(np.uint32)


def thumb_step(shape: tuple[int, ...]) -> int:
    """Every how many pixels a thumbnail of an image ``shape`` (h, w) keeps one."""
    return max(1, -(-max(shape) // THUMB_PX))


def inset(rect: QRectF, by: float) -> QRectF:
    """``rect`` shrunk by ``by`` on each side, never below a pixel."""
    if rect.isEmpty():
        return rect
    dx, dy = min(by, (rect.width() - 1) / 2), min(by, (rect.height() - 1) / 2)
    return rect.adjusted(max(dx, 0), max(dy, 0), -max(dx, 0), -max(dy, 0))


class Thumbnail:
    """One picture of a whole image: its pixels, its size in cells, and where it is painted."""

    def __init__(self, caption: str):
        self.caption = caption
        self.shape = (0, 0)  # (rows, cols) in cells
        self.image: QImage | None = None
        self._pixels: np.ndarray | None = None  # the QImage's memory
        self.rect = QRectF()  # where the picture is painted, widget pixels
        self._scaled: QPixmap | None = None  # the picture at the size it is painted (made once per size)

    def set_pixels(self, pixels: np.ndarray | None, shape: tuple[int, int]) -> None:
        self.shape = tuple(shape)
        if pixels is None:
            self.image, self._pixels = None, None
            return
        self._pixels = np.ascontiguousarray(pixels, dtype=np.uint32)
        h, w = self._pixels.shape
        self.image = QImage(self._pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32)
        self._scaled = None

    def pixmap(self) -> QPixmap | None:
        """The picture scaled to ``rect`` once, so that a frame's repaint copies pixels."""
        if self.image is None or self.rect.isEmpty():
            return None
        size = self.rect.size().toSize()
        if self._scaled is None or self._scaled.size() != size:
            self._scaled = QPixmap.fromImage(self.image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                               Qt.TransformationMode.FastTransformation))
        return self._scaled

    def cell_rect(self, rows: tuple[float, float], cols: tuple[float, float], mark: bool = True) -> QRectF:
        """Widget pixels of cells rows[0]..rows[1] x cols[0]..cols[1] (half-open), the part
        on the picture; a ``mark`` is at least MIN_MARK_PX a side, inside the picture."""
        h, w = self.shape
        if not h or not w:
            return QRectF()
        sy, sx = self.rect.height() / h, self.rect.width() / w
        # Only the part on the image: a window over the padding is drawn where it reads pixels.
        r0, r1 = max(rows[0], 0), min(rows[1], h)
        c0, c1 = max(cols[0], 0), min(cols[1], w)
        if r1 <= r0 or c1 <= c0:
            return QRectF()
        rect = QRectF(self.rect.left() + c0 * sx, self.rect.top() + r0 * sy, (c1 - c0) * sx, (r1 - r0) * sy)
        if mark and (rect.width() < MIN_MARK_PX or rect.height() < MIN_MARK_PX):
            # A window a few pixels wide on a large image: drawn larger round its centre,
            # moved back inside the picture so that none of it falls off its edge.
            centre = rect.center()
            rect = QRectF(0, 0, min(max(rect.width(), MIN_MARK_PX), self.rect.width()),
                          min(max(rect.height(), MIN_MARK_PX), self.rect.height()))
            rect.moveCenter(centre)
            rect.moveLeft(min(max(rect.left(), self.rect.left()), self.rect.right() - rect.width()))
            rect.moveTop(min(max(rect.top(), self.rect.top()), self.rect.bottom() - rect.height()))
        return rect

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(row, col) of the cell under a widget point, or None off the picture."""
        h, w = self.shape
        if not h or not w or not self.rect.contains(pos):
            return None
        r = int((pos.y() - self.rect.top()) / self.rect.height() * h)
        c = int((pos.x() - self.rect.left()) / self.rect.width() * w)
        return min(max(r, 0), h - 1), min(max(c, 0), w - 1)


class Overview(QWidget):
    """The whole input and the whole output channel, with the neighbourhood and the window."""

    input_picked = Signal(int, int)
    output_picked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.input = Thumbnail("whole input")
        self.output = Thumbnail("whole output")
        # Marks, in cells: the neighbourhood and the window on the input; on the output,
        # the neighbourhood, the current cell(s), and the first cell not computed yet.
        self.input_tile: Rect | None = None
        self.input_window: Rect | None = None
        self.output_tile: Rect | None = None
        self.output_window: Rect | None = None
        self.filled_to: tuple[int, int] | None = None  # (i, j): cells after it are veiled; None: none veiled
        self._font = QFont()
        self._on_zoom()
        self.orientation = Qt.Orientation.Horizontal
        self.corner_height = 0
        self.set_orientation(Qt.Orientation.Vertical)
        self.setMouseTracking(False)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("The whole image: the blue frame is the neighbourhood shown, orange the window.\n"
                        "Click or drag to move the window there.")
        text_zoom().changed.connect(self._on_zoom)

    def set_orientation(self, orientation: Qt.Orientation, corner_height: int = 0) -> None:
        """Vertical: a column of two thumbnails (beside the view); Horizontal: a strip of
        two side by side (below it), or, with ``corner_height``, a block that height beside
        the channel diagram's strip above the view."""
        if (orientation, corner_height) == (self.orientation, self.corner_height):
            return
        self.orientation, self.corner_height = orientation, corner_height
        self.setMinimumSize(0, 0)
        self.setMaximumSize(UNBOUNDED, UNBOUNDED)
        if orientation == Qt.Orientation.Vertical:
            self.setFixedWidth(COLUMN_WIDTH)
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        elif corner_height:
            self.setFixedSize(corner_width(corner_height), corner_height)
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        else:
            self.setFixedHeight(STRIP_HEIGHT)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._place()
        self.update()

    def sizeHint(self) -> QSize:
        if self.orientation == Qt.Orientation.Vertical:
            return QSize(COLUMN_WIDTH, 2 * COLUMN_WIDTH)
        return QSize(2 * STRIP_HEIGHT, STRIP_HEIGHT)

    def minimumSizeHint(self) -> QSize:
        if self.orientation == Qt.Orientation.Vertical:
            return QSize(COLUMN_WIDTH, 120)
        return QSize(160, STRIP_HEIGHT)

    def _on_zoom(self, *_) -> None:
        self._font.setPixelSize(scaled(CAPTION_PX))
        self.update()

    # -- content -------------------------------------------------------------------------
    def set_input(self, x: np.ndarray | None, levels: tuple[float, float], caption: str = "whole input") -> None:
        """The input (C, H, W): RGB when it has 3 channels, else its first channel in grey."""
        self.input.caption = caption
        if x is None:
            self.input.set_pixels(None, (0, 0))
        else:
            step = thumb_step(x.shape[1:])
            small = x[:, ::step, ::step]
            pixels = _rgb_argb(small, levels) if x.shape[0] == 3 else _grey_argb(small[0], levels)
            self.input.set_pixels(pixels, x.shape[1:])
        self._place()
        self.update()

    def set_output(self, pixels: np.ndarray | None, shape: tuple[int, int], caption: str) -> None:
        """One output channel's thumbnail: (h, w) ARGB32 words already coloured as the
        output panel colours it (``display.channel_view`` of a decimated output), for an
        output channel of ``shape``; None while it is not known."""
        self.output.caption = caption
        self.output.set_pixels(pixels, shape)
        self._place()
        self.update()

    def set_marks(self, input_tile: Rect | None, input_window: Rect | None, output_tile: Rect | None,
                  output_window: Rect | None, filled_to: tuple[int, int] | None) -> None:
        marks = (input_tile, input_window, output_tile, output_window, filled_to)
        if marks != (self.input_tile, self.input_window, self.output_tile, self.output_window, self.filled_to):
            self.input_tile, self.input_window, self.output_tile, self.output_window, self.filled_to = marks
            self.update()

    # -- geometry --------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        """Each thumbnail in half the widget (less its caption), aspect kept, centred."""
        w, h = float(self.width()), float(self.height())
        column = self.orientation == Qt.Orientation.Vertical
        for n, thumb in enumerate((self.input, self.output)):
            if column:
                half = (h - GAP) / 2
                left, top, room_w, room_h = 0.0, n * (half + GAP), w, half
            else:
                half = (w - GAP) / 2
                left, top, room_w, room_h = n * (half + GAP), 0.0, half, h
            room_w, room_h = max(room_w - 4, 1.0), max(room_h - CAPTION_H, 1.0)
            rows, cols = thumb.shape
            if not rows or not cols:
                thumb.rect = QRectF(left + 2, top + CAPTION_H, room_w, room_h)
                continue
            scale = min(room_w / cols, room_h / rows)
            pw, ph = cols * scale, rows * scale
            thumb.rect = QRectF(left + 2 + (room_w - pw) / 2, top + CAPTION_H, pw, ph)

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setFont(self._font)
        for thumb, tile, window in ((self.input, self.input_tile, self.input_window),
                                    (self.output, self.output_tile, self.output_window)):
            painter.setPen(QColor(style.colour('DIAGRAM_TEXT')))
            caption = QRectF(thumb.rect.center().x() - 150, thumb.rect.top() - CAPTION_H, 300, CAPTION_H)
            painter.drawText(caption, int(Qt.AlignmentFlag.AlignCenter | Qt.AlignmentFlag.AlignVCenter),
                             thumb.caption)
            pixmap = thumb.pixmap()
            if pixmap is None:
                painter.fillRect(thumb.rect, QColor(style.colour('PENDING')).lighter(150))
            else:
                painter.drawPixmap(thumb.rect.topLeft(), pixmap)
            if thumb is self.output and self.filled_to is not None and thumb.image is not None:
                self._veil(painter, thumb, *self.filled_to)
            painter.save()
            painter.setClipRect(thumb.rect.adjusted(-3, -3, 3, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            # Each outline drawn inside its rect (a pen straddles its line): at the image's
            # edge, all of the mark is on the picture.
            for rect, name in ((tile, "PADDING"), (window, "WINDOW")):
                if rect is not None:
                    width = style.line_width(2)
                    painter.setPen(QPen(QColor(style.colour(name)), width))
                    painter.drawRect(inset(thumb.cell_rect(*rect), width / 2))
            painter.restore()
        painter.end()

    @staticmethod
    def _veil(painter: QPainter, thumb: Thumbnail, i: int, j: int) -> None:
        """White over the cells after (i, j), row-major: not computed yet."""
        rows, cols = thumb.shape
        veil = QColor(style.VIEW_BACKGROUND)
        veil.setAlpha(VEIL_ALPHA)
        rest_of_row = thumb.cell_rect((i, i + 1), (j + 1, cols), mark=False) if j + 1 < cols else QRectF()
        below = thumb.cell_rect((i + 1, rows), (0, cols), mark=False) if i + 1 < rows else QRectF()
        for rect in (rest_of_row, below):
            if not rect.isEmpty():
                painter.fillRect(rect.intersected(thumb.rect), veil)

    # -- the pointer -------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pick(event.position())
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._pick(event.position())
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def _pick(self, pos: QPointF) -> None:
        cell = self.input.cell_at(pos)
        if cell is not None:
            self.input_picked.emit(*cell)
            return
        cell = self.output.cell_at(pos)
        if cell is not None:
            self.output_picked.emit(*cell)
