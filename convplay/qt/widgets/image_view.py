"""A pyqtgraph view for one image: cells centred on integer coordinates, fixed levels.

Usage::

    view = ImageView(name="output", colorbar=True)      # diverging 'CET-D1' by default
    view.set_image(array_2d, levels=(-m, m))              # (H, W), or (H, W, 3) for RGB
    view.hovered.connect(status_label.setText)            # "output  row 3, col 7: -0.25"
    view.link_view(other_view)                            # shared zoom and pan

Pixel (row r, col c) covers [c-0.5, c+0.5] x [r-0.5, r+0.5], so item coordinates are
the array indices.  The image is never auto-levelled: every ``set_image`` names its
levels, which keeps a frame's cost to one lookup-table pass (DESIGN.md's recipes).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QSizePolicy, QStyleOptionGraphicsItem, QWidget

from convplay.core.display import argb_table, coloured

DIVERGING = "CET-D1"
COLORBAR_TICKS = 5  # values printed beside the bar: both ends, the middle and the quarters


def qt_lookup(index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[index]`` (``display.Lookup``) done by Qt: an indexed QImage converted
    to premultiplied ARGB32 in C++, 0.44 ms for 1024x1024 against numpy's 0.8 ms.  QImage
    is safe in any thread, so the compute worker can call this."""
    index = np.ascontiguousarray(index, dtype=np.uint8)
    h, w = index.shape
    if index.size == 0:
        return np.zeros((h, w), np.uint32)
    source = QImage(index.data, w, h, w, QImage.Format.Format_Indexed8)
    source.setColorTable(table.tolist())
    image = source.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    words = np.frombuffer(image.constBits(), np.uint32, count=h * image.bytesPerLine() // 4)
    return words.reshape(h, -1)[:, :w].copy()  # a copy: ``image`` goes away with this call


def format_value(value: float) -> str:
    """Short but exact enough to compare with PyTorch: 6 significant digits."""
    return f"{value:.6g}"


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
        self._levels = (-1.0, 1.0)
        self._labels: list[tuple[float, str]] = []
        self._strip = QImage()
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setPreferredWidth(bar_width + text_width)
        self.setMinimumWidth(bar_width + text_width)
        self._strip_pixmap = QPixmap()  # the strip scaled to the bar, made when first painted
        self.setColorMap(colormap)
        self.setLevels(self._levels)

    def levels(self) -> tuple[float, float]:
        return self._levels

    def tick_texts(self) -> list[str]:
        """The values printed beside the bar, from the bottom (low) to the top (high)."""
        return [text for _fraction, text in self._labels]

    def setLevels(self, levels: tuple[float, float]) -> None:
        lo, hi = float(levels[0]), float(levels[1])
        if (lo, hi) == self._levels and self._labels:
            return
        self._levels = (lo, hi)
        labels = tick_labels(self._levels)
        if labels != self._labels:
            self._labels = labels
            self.update()

    def setColorMap(self, colormap: pg.ColorMap) -> None:
        lut = np.ascontiguousarray(colormap.getLookupTable(nPts=256, alpha=True)[::-1])  # high at the top
        self._lut = lut  # the strip below shares this memory
        self._strip = QImage(lut.data, 1, 256, 4, QImage.Format.Format_RGBA8888)
        self._strip_pixmap = QPixmap()
        self.update()

    def _bar_rect(self) -> QRectF:
        rect = self.boundingRect()
        # Leave room for the half-height of the end labels, as an axis would.
        return QRectF(rect.left() + 2, rect.top() + 8, self._bar_width, max(1.0, rect.height() - 16))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        bar = self._bar_rect()
        size = bar.size().toSize()
        if self._strip_pixmap.size() != size:
            self._strip_pixmap = QPixmap.fromImage(self._strip.scaled(size))
        painter.drawPixmap(bar.topLeft(), self._strip_pixmap)
        painter.setPen(QColor("#969696"))
        painter.drawRect(bar)
        font = painter.font()
        font.setPointSize(8)
        painter.setFont(font)
        x = bar.right() + 3
        for fraction, text in self._labels:
            y = bar.bottom() - fraction * bar.height()
            painter.drawLine(QPointF(bar.right(), y), QPointF(x, y))
            painter.drawText(QRectF(x + 2, y - 8, self.boundingRect().width() - x, 16),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


def format_tick(value: float) -> str:
    """A colour-bar value: 3 significant digits, and 0 printed as 0 (not -0 or 1e-17)."""
    return "0" if abs(value) < 1e-300 else f"{value:.3g}"


def tick_labels(levels: tuple[float, float]) -> list[tuple[float, str]]:
    """(fraction of the bar from the bottom, text) for each value printed beside a bar."""
    lo, hi = levels
    fractions = [k / (COLORBAR_TICKS - 1) for k in range(COLORBAR_TICKS)]
    return [(f, format_tick(lo + (hi - lo) * f)) for f in fractions]


class HeatMap(QWidget):
    """A small matrix (a kernel) as square coloured cells beside a colour bar with values.

    A plain painted widget: no graphics scene, axis or layout, so a new matrix costs one
    colour lookup and a repaint of this widget alone (about 0.2 ms, where a pyqtgraph
    view with a ColorBarItem took 2.5 ms per kernel edit).
    """

    BAR_WIDTH = 12
    TEXT_WIDTH = 44
    MARGIN = 4

    def __init__(self, colormap: str = DIVERGING, parent: QWidget | None = None):
        super().__init__(parent)
        # paintEvent fills every pixel: Qt need not repaint the group box and dock beneath
        # it on each edit (1.3 ms here).
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        lut = pg.colormap.get(colormap).getLookupTable(nPts=256, alpha=True)
        self._table = argb_table(lut)
        self._strip_pixels = np.ascontiguousarray(self._table[::-1].reshape(256, 1))  # high at the top
        self._strip = QImage(self._strip_pixels.data, 1, 256, 4, QImage.Format.Format_ARGB32_Premultiplied)
        self._values = np.zeros((0, 0))
        self._pixels = np.zeros((0, 0), np.uint32)
        self._cells = QImage()
        self._levels = (-1.0, 1.0)
        self._labels = tick_labels(self._levels)

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
            self.MARGIN, self.MARGIN, -(self.MARGIN + self.BAR_WIDTH + self.TEXT_WIDTH), -self.MARGIN
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
        bar = QRectF(
            self.width() - self.BAR_WIDTH - self.TEXT_WIDTH - 2, self.MARGIN + 6,
            self.BAR_WIDTH, max(1.0, self.height() - 2 * self.MARGIN - 12),
        )
        painter.drawImage(bar, self._strip)
        painter.setPen(self.palette().mid().color())
        painter.drawRect(bar)
        font = painter.font()
        font.setPointSize(8)
        painter.setFont(font)
        painter.setPen(self.palette().windowText().color())
        x = bar.right() + 3
        for fraction, text in self._labels:
            y = bar.bottom() - fraction * bar.height()
            painter.drawLine(QPointF(bar.right(), y), QPointF(x, y))
            painter.drawText(QRectF(x + 2, y - 8, self.TEXT_WIDTH, 16),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class ColouredImageItem(pg.ImageItem):
    """An ImageItem that can be handed its pixels already coloured (``set_pixels``).

    Why: pyqtgraph colours a float image on the UI thread when it paints, into an indexed
    image that Qt converts again on every draw: 1.6 ms at 512x512 and 2.1 ms at 1024x1024
    here.  Pixels coloured in the compute worker (``display.coloured``) draw in
    0.15 ms.  ``image`` and the levels stay the float data, as for any ImageItem; the
    pixels are used only while the image and levels they were made for are still set.
    """

    def __init__(self, *args, **kwargs):
        self._pixels: np.ndarray | None = None
        self._pixels_for: tuple[np.ndarray, tuple[float, float]] | None = None
        self._drawn_pixels: np.ndarray | None = None  # the memory the QImage shows
        super().__init__(*args, **kwargs)

    def set_pixels(self, pixels: np.ndarray | None, levels: tuple[float, float]) -> None:
        """``pixels`` (H, W) premultiplied ARGB32 words: the current image coloured with
        this item's lookup table at ``levels``; None to let pyqtgraph colour it."""
        if pixels is None or self.image is None or pixels.shape != self.image.shape[:2]:
            self._pixels = self._pixels_for = None
        else:
            self._pixels = np.ascontiguousarray(pixels, dtype=np.uint32)
            self._pixels_for = (self.image, (float(levels[0]), float(levels[1])))
        self._renderRequired = True
        self.update()

    def drop_pixels(self) -> None:
        """Forget the ready pixels (the lookup table changed); pyqtgraph colours again."""
        if self._pixels is not None:
            self.set_pixels(None, (0.0, 1.0))

    def _pixels_current(self) -> bool:
        if self._pixels is None or self._pixels_for is None:
            return False
        image, levels = self._pixels_for
        current = self.levels
        return (
            image is self.image
            and current is not None
            and np.shape(current) == (2,)
            and (float(current[0]), float(current[1])) == levels
        )

    def render(self) -> None:
        if not self._pixels_current():
            super().render()
            return
        pixels = self._pixels
        h, w = pixels.shape
        self._drawn_pixels = pixels  # QImage shares this memory: keep it alive
        self.qimage = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        self._renderRequired = False
        self._unrenderable = False


class ImageView(pg.GraphicsLayoutWidget):
    """One image in a PlotItem with aspect locked, y pointing down, and a hover readout.

    Signals: ``hovered(str)`` the readout text ("" when the pointer leaves the image);
    ``cell_hovered(int, int)`` the (row, col) under the pointer, (-1, -1) off the image.
    """

    hovered = Signal(str)
    cell_hovered = Signal(int, int)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        name: str = "",
        colormap: str = DIVERGING,
        colorbar: bool = False,
        axes: bool = True,
        title: str | None = None,
    ):
        super().__init__(parent)
        self.name = name
        self._image: np.ndarray | None = None
        self._values: np.ndarray | None = None
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.plot_item: pg.PlotItem = self.addPlot(title=title)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        if not axes:
            self.plot_item.hideAxis("left")
            self.plot_item.hideAxis("bottom")
        self.view_box: pg.ViewBox = self.plot_item.getViewBox()
        self.view_box.setAspectLocked(True)
        self.view_box.invertY(True)
        self.image_item = ColouredImageItem(axisOrder="row-major")
        self.image_item.setTransform(QTransform().translate(-0.5, -0.5))
        self.plot_item.addItem(self.image_item)
        self._colormap = pg.colormap.get(colormap)
        self._colormap_name = colormap
        self.image_item.setColorMap(self._colormap)
        self.colorbar: ColorBar | None = None
        if colorbar:
            self.colorbar = ColorBar(self._colormap)
            self.addItem(self.colorbar, row=0, col=1)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # -- public API ------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray | None:
        """The array last given to ``set_image`` (read the values under the pointer)."""
        return self._image

    def set_image(
        self,
        image: np.ndarray,
        levels: tuple[float, float],
        values: np.ndarray | None = None,
        pixels: np.ndarray | None = None,
    ) -> None:
        """Show ``image`` (H, W) or (H, W, 3|4) with fixed ``levels``.

        float32 C-contiguous arrays go to pyqtgraph without a copy; others are converted.
        ``values`` (same H, W) is what the hover readout reports, when it differs from
        what is drawn (e.g. the raw output behind an |x| view).  ``pixels``, for an
        (H, W) image, is that image already coloured with this view's colour map at
        ``levels`` (``display.coloured``): drawn as is, nothing is coloured here.
        The view is fitted to the image when its shape changes.
        """
        if image.ndim not in (2, 3):
            raise ValueError(f"an image must be (H, W) or (H, W, C), not {image.shape}")
        if image.dtype != np.float32 or not image.flags.c_contiguous:
            image = np.ascontiguousarray(image, dtype=np.float32)
        reshaped = self._image is None or self._image.shape[:2] != image.shape[:2]
        colour = image.ndim == 3
        was_colour = self._image is not None and self._image.ndim == 3
        self._image = image
        self._values = image if values is None else values
        if colour != was_colour:
            # A colour image is shown as is; a lookup table would be applied per channel.
            self.image_item.setLookupTable(None if colour else self._colormap.getLookupTable(nPts=256))
        lo, hi = float(levels[0]), float(levels[1])
        if not hi > lo:
            hi = lo + 1.0
            pixels = None  # coloured for other levels
        if self.colorbar is not None:
            self.colorbar.setLevels((lo, hi))
        self.image_item.setImage(image, autoLevels=False, levels=(lo, hi))
        self.image_item.set_pixels(None if colour else pixels, (lo, hi))
        if reshaped:
            self.view_box.autoRange(padding=0.02)

    @property
    def colormap_name(self) -> str:
        return self._colormap_name

    def set_colormap(self, name: str) -> None:
        """Change the colour map (e.g. 'CET-D1' for signed values, 'CET-L1' for |x|)."""
        self._colormap = pg.colormap.get(name)
        self._colormap_name = name
        self.image_item.drop_pixels()  # coloured with the previous map
        if self.colorbar is not None:
            self.colorbar.setColorMap(self._colormap)
        if self._image is None or self._image.ndim == 2:
            self.image_item.setColorMap(self._colormap)

    def clear(self) -> None:
        self._image = self._values = None
        self.image_item.clear()

    def link_view(self, other: "ImageView") -> None:
        """Share zoom and pan with ``other`` (both axes)."""
        self.view_box.setXLink(other.view_box)
        self.view_box.setYLink(other.view_box)

    def readout(self, row: int, col: int) -> str:
        """The hover text for a cell, or "" outside the image."""
        image = self._values
        if image is None or not (0 <= row < image.shape[0] and 0 <= col < image.shape[1]):
            return ""
        value = image[row, col]
        if np.ndim(value) == 0:
            text = format_value(float(value))
        else:
            text = "(" + ", ".join(format_value(float(v)) for v in value) + ")"
        prefix = f"{self.name}  " if self.name else ""
        return f"{prefix}row {row}, col {col}: {text}"

    # -- internals -------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            self._emit_hover(-1, -1)
            return
        point = self.view_box.mapSceneToView(scene_pos)
        self._emit_hover(int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5)))

    def _emit_hover(self, row: int, col: int) -> None:
        text = self.readout(row, col)
        if not text:
            row, col = -1, -1
        self.cell_hovered.emit(row, col)
        self.hovered.emit(text)
