"""The feature-map grid: every output channel small, each with its own scale.

A plain QWidget that paints ready-coloured thumbnails (``display.Thumbnails``,
made in the compute worker) with one ``drawImage`` each: no per-thumbnail scene items,
layouts or colour lookups on the UI thread, so a new output costs well under a
millisecond here however large it is.  Clicking a thumbnail selects that channel; the
hover readout reports the raw output value under the pointer.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from convplay.core.display import Thumbnails
from convplay.core.formatting import format_readout, format_tick
from convplay.qt import style

TITLE_PX = 14  # height of each thumbnail's title line
TITLE_MIN_WIDTH = 90  # pixels: a title is not cut to a narrow thumbnail's width
TITLE_POINT_SIZE = 8
GAP_PX = 4
FRAME_WIDTH = 2  # the selected thumbnail's frame
MIN_SIZE = (120, 80)


class ChannelGrid(QWidget):
    """Thumbnails of every output channel; ``channel_clicked(int)``, ``hovered(str)``."""

    channel_clicked = Signal(int)
    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(
            "Every output channel.  Each thumbnail has its own symmetric scale (its title "
            "gives +-max); click one to show it large."
        )
        self.setMouseTracking(True)
        self.setMinimumSize(*MIN_SIZE)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills every pixel
        self._thumbs: Thumbnails | None = None
        self._images: list[QImage] = []
        self._output: np.ndarray | None = None
        self._selected = 0
        self._rects: list[QRectF] = []  # image_rect of each thumbnail, until a resize or a new shape

    # -- model -> view -------------------------------------------------------------------
    @property
    def thumbnails(self) -> Thumbnails | None:
        return self._thumbs

    @property
    def count(self) -> int:
        return len(self._images)

    def show_thumbnails(self, thumbs: Thumbnails, output: np.ndarray, selected: int) -> None:
        """Show ``thumbs`` (made from ``output``, whose raw values the readout reports)."""
        self._thumbs = thumbs
        self._output = output
        self._selected = selected
        n, h, w = thumbs.rgba.shape[:3]
        if n != self.count or not self._images or (self._images[0].height(), self._images[0].width()) != (h, w):
            self._rects = []
        # QImage shares the array's memory: ``thumbs`` is kept alive beside the images.
        self._images = [QImage(thumbs.rgba[c].data, w, h, 4 * w, QImage.Format.Format_RGBA8888) for c in range(n)]
        self.update()

    def set_selected(self, channel: int) -> None:
        if channel != self._selected:
            self._selected = channel
            self.update()

    def title(self, channel: int) -> str:
        """The text above thumbnail ``channel``: its index and its scale."""
        thumbs = self._thumbs
        if thumbs is None or not 0 <= channel < self.count:
            return ""
        scale = thumbs.scales[channel]
        if thumbs.zero is not None and thumbs.zero[channel]:
            text = "all 0"  # its scale of 1 only bins the colours
        elif thumbs.mode == "raw":
            text = f"\u00b1{format_tick(scale)}"
        else:
            text = f"max {format_tick(scale)}"
        mark = "\u25b6 " if channel == self._selected else ""
        return f"{mark}ch {channel}  {text}"

    # -- geometry ------------------------------------------------------------------------
    def _columns(self) -> int:
        return max(1, math.ceil(math.sqrt(self.count)))

    def image_rect(self, channel: int) -> QRectF:
        """Where thumbnail ``channel`` is drawn, in widget coordinates (aspect kept)."""
        if len(self._rects) != self.count:
            self._rects = [self._layout_rect(c) for c in range(self.count)]
        return QRectF(self._rects[channel])

    def _layout_rect(self, channel: int) -> QRectF:
        cols = self._columns()
        rows = max(1, math.ceil(self.count / cols))
        cell_w, cell_h = self.width() / cols, self.height() / rows
        row, col = divmod(channel, cols)
        h, w = self._images[channel].height(), self._images[channel].width()
        room_w = max(1.0, cell_w - GAP_PX)
        room_h = max(1.0, cell_h - TITLE_PX - GAP_PX)
        scale = min(room_w / max(w, 1), room_h / max(h, 1))
        x = col * cell_w + (cell_w - w * scale) / 2
        y = row * cell_h + TITLE_PX + (cell_h - TITLE_PX - h * scale) / 2
        return QRectF(x, y, w * scale, h * scale)

    def cell_at(self, pos: QPointF) -> tuple[int, int, int] | None:
        """(channel, row, col) of the output pixel under ``pos``, or None off every thumbnail."""
        thumbs, output = self._thumbs, self._output
        if thumbs is None or output is None:
            return None
        for channel in range(self.count):
            rect = self.image_rect(channel)
            if rect.contains(pos):
                h, w = thumbs.rgba.shape[1:3]
                u = (pos.x() - rect.x()) / rect.width() * w
                v = (pos.y() - rect.y()) / rect.height() * h
                row = min(int(v * thumbs.step), output.shape[1] - 1)
                col = min(int(u * thumbs.step), output.shape[2] - 1)
                return channel, row, col
        return None

    def position_of(self, channel: int, row: int, col: int) -> QPointF:
        """The widget point over output pixel (row, col) of thumbnail ``channel``."""
        thumbs = self._thumbs
        if thumbs is None:
            raise ValueError("no thumbnails are shown")
        rect = self.image_rect(channel)
        h, w = thumbs.rgba.shape[1:3]
        return QPointF(
            rect.x() + (col + 0.5) / thumbs.step / w * rect.width(),
            rect.y() + (row + 0.5) / thumbs.step / h * rect.height(),
        )

    def hover_at(self, pos: QPointF) -> None:
        """Emit the readout for ``pos`` ("" off the thumbnails)."""
        cell = self.cell_at(pos)
        if cell is None or self._output is None:
            self.hovered.emit("")
            return
        ch, row, col = cell
        self.hovered.emit(f"output ch {ch}  row {row}, col {col}: {format_readout(float(self._output[ch, row, col]))}")

    # -- Qt events -----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor(style.THUMBNAIL_BACKGROUND))  # as pyqtgraph's views, beside them
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # show the pixels
        font = painter.font()
        font.setPointSize(TITLE_POINT_SIZE)
        painter.setFont(font)
        frame = QPen(QColor(style.SELECTED_FRAME), FRAME_WIDTH)
        text = QColor(style.THUMBNAIL_TEXT)
        clip = QRectF(event.rect())
        for channel, image in enumerate(self._images):
            rect = self.image_rect(channel)
            title = QRectF(rect.x() - GAP_PX, rect.y() - TITLE_PX, max(rect.width() + 2 * GAP_PX, TITLE_MIN_WIDTH), TITLE_PX)
            if not clip.intersects(rect.united(title)):
                continue
            painter.drawImage(rect, image)
            painter.setPen(text)
            painter.drawText(title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title(channel))
            if channel == self._selected:
                painter.setPen(frame)
                painter.drawRect(rect.adjusted(-1, -1, 1, 1))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._rects = []
        super().resizeEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.hover_at(event.position())
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.channel_clicked.emit(cell[0])
            return
        super().mousePressEvent(event)
