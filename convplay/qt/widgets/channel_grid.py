"""The feature-map grid: every output channel small, each with its own scale.

A plain QWidget that paints ready-coloured thumbnails (``display.Thumbnails``,
made in the compute worker) with one ``drawImage`` each: no per-thumbnail scene items,
layouts or colour lookups on the UI thread, so a new output costs well under a
millisecond here however large it is.  Clicking a thumbnail selects that channel; the
hover readout reports the raw output value under the pointer.

The columns are chosen for the widget's shape (the thumbnails as large as they can be).
Each thumbnail's title ("ch 12" and its scale) stays inside its own column and above its
own picture: on one line when every title fits, else on two ("ch 12" over "max 2.88"),
in a smaller font when needed, "ch 12" alone when there is room for one short line only,
none when there is not even that; the tooltip over a thumbnail always gives the whole
title.  The font follows the text zoom (``zoom.scaled``).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from convplay.core.display import Thumbnails
from convplay.core.formatting import format_readout, format_tick
from convplay.qt import style
from convplay.qt.zoom import scaled, text_zoom

TITLE_PX = 12  # the titles' font (pixels) at zoom 1, when they fit
TITLE_MIN_PX = 9  # smaller is unreadable: titles are cut with an ellipsis instead
TITLE_LEADING = 1.15  # a title line's height as a multiple of the font's size
GAP_PX = 6  # between thumbnails, and between a title and its neighbour's
TITLE_ROOM_SHARE = 0.4  # of a thumbnail's cell its title may take, the rest is the picture
FRAME_WIDTH = 2  # the selected thumbnail's frame
MIN_SIZE = (120, 80)
GRID_TIP = (
    "Every output channel.  Each thumbnail has its own scale (its title gives it); "
    "click one to show it large."
)


class ChannelGrid(QWidget):
    """Thumbnails of every output channel; ``channel_clicked(int)``, ``hovered(str)``."""

    channel_clicked = Signal(int)
    hovered = Signal(str)
    resized = Signal()  # a grid shown again gets its size late: what waits for it may draw now

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(GRID_TIP)
        self.setMouseTracking(True)
        self.setMinimumSize(*MIN_SIZE)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills every pixel
        self._thumbs: Thumbnails | None = None
        self._images: list[QImage] = []
        self._output: np.ndarray | None = None
        self._selected: frozenset[int] = frozenset({0})  # the channels the large view shows
        self._rects: list[QRectF] = []  # image_rect of each thumbnail, until a resize or a new shape
        self._title_rects: list[QRectF] = []
        self._title_lines: list[list[str]] = []  # the (elided) lines drawn in each title
        self._title_font = QFont()
        text_zoom().changed.connect(self._relayout)

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
        self._selected = frozenset({selected})
        n, h, w = thumbs.rgba.shape[:3]
        # QImage shares the array's memory: ``thumbs`` is kept alive beside the images.
        self._images = [QImage(thumbs.rgba[c].data, w, h, 4 * w, QImage.Format.Format_RGBA8888) for c in range(n)]
        self._rects = []  # the titles' texts changed: their lines and room are found again
        self.update()

    def set_selected(self, channel: int | tuple[int, ...]) -> None:
        """Mark the channel the large view shows (several: a colour picture of channels 0-2)."""
        chosen = frozenset((channel,) if isinstance(channel, int) else channel)
        if chosen != self._selected:
            self._selected = chosen
            self._rects = []  # the mark moves: a title may need another line
            self.update()

    def title_parts(self, channel: int) -> tuple[str, str]:
        """The title's two parts: the channel ("▶ ch 3" when shown large) and its scale."""
        thumbs = self._thumbs
        if thumbs is None or not 0 <= channel < self.count:
            return "", ""
        mark = "\u25b6 " if channel in self._selected else ""
        return f"{mark}ch {channel}", self._scale_text(thumbs, channel)

    @staticmethod
    def _scale_text(thumbs: Thumbnails, channel: int) -> str:
        if thumbs.zero is not None and thumbs.zero[channel]:
            return "all 0"  # its levels only bin the colours
        if thumbs.levels is None or thumbs.mapping == "diverging":
            scale = thumbs.scales[channel]
            return f"\u00b1{format_tick(scale)}" if thumbs.mapping == "diverging" else f"max {format_tick(scale)}"
        if thumbs.mapping in ("image_clip", "image_rgb") and thumbs.ranges is not None:
            lo, hi = thumbs.ranges[channel]  # the data's own range: what is beyond 0..1 is clipped
        else:
            lo, hi = thumbs.levels[channel]
        if thumbs.mapping == "sequential" and lo == 0:
            return f"max {format_tick(hi)}"
        return f"{format_tick(lo)}\u2026{format_tick(hi)}"

    def title(self, channel: int) -> str:
        """The text above thumbnail ``channel``: its index and its scale, in full."""
        head, scale = self.title_parts(channel)
        return f"{head}  {scale}" if head else ""

    # -- geometry ------------------------------------------------------------------------
    def _columns(self) -> int:
        """The number of columns that shows the thumbnails largest in this widget's shape
        (a wide, short grid puts 64 channels in 16 x 4, not 8 x 8), leaving each a title line."""
        n = self.count
        if n == 0 or not self._images:
            return 1
        h, w = self._images[0].height(), self._images[0].width()
        line = math.ceil(TITLE_MIN_PX * TITLE_LEADING)
        best, best_scale = 1, -1.0
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            cell_w, cell_h = self.width() / cols, self.height() / rows
            scale = min((cell_w - GAP_PX) / max(w, 1), (cell_h - GAP_PX - line) / max(h, 1))
            if scale > best_scale + 1e-9:
                best, best_scale = cols, scale
        return best

    def image_rect(self, channel: int) -> QRectF:
        """Where thumbnail ``channel`` is drawn, in widget coordinates (aspect kept)."""
        self._ensure_layout()
        return QRectF(self._rects[channel])

    def title_rect(self, channel: int) -> QRectF:
        """The room of thumbnail ``channel``'s title: within its column, above its image
        (empty when there is no room for a title: the tooltip gives it)."""
        self._ensure_layout()
        return QRectF(self._title_rects[channel])

    def title_lines(self, channel: int) -> list[str]:
        """The lines drawn as thumbnail ``channel``'s title (cut with "…" if they must be)."""
        self._ensure_layout()
        return list(self._title_lines[channel])

    def title_font(self) -> QFont:
        """The font the titles are drawn in."""
        self._ensure_layout()
        return QFont(self._title_font)

    def _relayout(self, *_) -> None:
        self._rects = []
        self.update()

    def _ensure_layout(self) -> None:
        if len(self._rects) == self.count:
            return
        n = self.count
        cols = self._columns()
        rows = max(1, math.ceil(n / cols))
        cell_w, cell_h = self.width() / cols, self.height() / rows
        room = max(1.0, cell_w - GAP_PX)
        parts = [self.title_parts(c) for c in range(n)]
        font, lines = self._fit_titles(parts, room, TITLE_ROOM_SHARE * cell_h)
        metrics = QFontMetricsF(font)
        line_h = math.ceil(font.pixelSize() * TITLE_LEADING)
        title_h = line_h * len(lines)
        self._title_font = font
        self._rects, self._title_rects, self._title_lines = [], [], []
        elide = Qt.TextElideMode.ElideRight
        for c in range(n):
            row, col = divmod(c, cols)
            h, w = self._images[c].height(), self._images[c].width()
            room_h = max(1.0, cell_h - title_h - GAP_PX)
            scale = min(room / max(w, 1), room_h / max(h, 1))
            x = col * cell_w + (cell_w - w * scale) / 2
            y = row * cell_h + title_h + (cell_h - title_h - h * scale) / 2
            self._rects.append(QRectF(x, y, w * scale, h * scale))
            self._title_rects.append(QRectF(col * cell_w + GAP_PX / 2, y - title_h, room if lines else 0.0, title_h))
            texts = [line(*parts[c]) for line in lines]
            self._title_lines.append([metrics.elidedText(t, elide, room) for t in texts])

    def _fit_titles(self, parts: list[tuple[str, str]], room: float, height: float):
        """The largest font (from the zoomed ``TITLE_PX`` down to ``TITLE_MIN_PX``) and the
        fewest lines in which every title fits ``room`` pixels across and ``height`` down:
        "ch 3  max 2.88" on one line, else "ch 3" over "max 2.88", else "ch 3" alone, else
        "3", else no title (the tooltip gives it).  Returns the font and each line's maker."""
        font = QFont(self.font())
        start = scaled(TITLE_PX)
        low = min(start, TITLE_MIN_PX)
        one = [lambda head, scale: f"{head}  {scale}"]
        two = [lambda head, scale: head, lambda head, scale: scale]
        heads = [lambda head, scale: head.lstrip("\u25b6 ")]  # the frame marks the one shown large
        numbers = [lambda head, scale: head.lstrip("\u25b6 ").removeprefix("ch ")]
        sizes = list(range(start, low - 1, -1))
        # One line barely smaller, else two lines at a larger font (they read better than
        # one line squeezed), else one line small, else the channel alone, else its number.
        tries = [(one, px) for px in sizes[:3]] + [(two, px) for px in sizes]
        tries += [(one, px) for px in sizes[3:]] + [(heads, px) for px in sizes] + [(numbers, px) for px in sizes]
        for choice, px in tries:
            if math.ceil(px * TITLE_LEADING) * len(choice) > height:
                continue
            font.setPixelSize(px)
            metrics = QFontMetricsF(font)
            if all(metrics.horizontalAdvance(line(*p)) <= room for p in parts for line in choice):
                return QFont(font), choice
        font.setPixelSize(low)
        return QFont(font), []

    def channel_at(self, pos: QPointF) -> int | None:
        """The thumbnail (image or title) under ``pos``, or None."""
        for channel in range(self.count):
            if self.image_rect(channel).united(self.title_rect(channel)).contains(pos):
                return channel
        return None

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

    def tooltip_at(self, pos: QPointF) -> str:
        """The tooltip for ``pos``: over a thumbnail its whole title, else what the grid is."""
        channel = self.channel_at(pos)
        if channel is None:
            return GRID_TIP
        return f"{self.title(channel).lstrip(chr(0x25B6)).strip()}: click to show it large.\n{GRID_TIP}"

    # -- Qt events -----------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            QToolTip.showText(event.globalPos(), self.tooltip_at(QPointF(event.pos())), self)
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.Window))  # as the output view beside it
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # show the pixels
        painter.setFont(self._title_font)
        frame = QPen(QColor(style.colour("SELECTED_FRAME")), style.line_width(FRAME_WIDTH))
        text = palette.color(QPalette.ColorRole.WindowText)
        clip = QRectF(event.rect())
        line_h = math.ceil(self._title_font.pixelSize() * TITLE_LEADING)
        for channel, image in enumerate(self._images):
            rect = self._rects[channel]
            title = self._title_rects[channel]
            if not clip.intersects(rect.united(title)):
                continue
            painter.drawImage(rect, image)
            painter.setPen(text)
            for k, line in enumerate(self._title_lines[channel]):
                painter.drawText(QRectF(title.x(), title.y() + k * line_h, title.width(), line_h),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, line)
            if channel in self._selected:
                painter.setPen(frame)
                painter.drawRect(rect.adjusted(-1, -1, 1, 1))
        painter.end()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._relayout()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._rects = []
        super().resizeEvent(event)
        self.resized.emit()

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
