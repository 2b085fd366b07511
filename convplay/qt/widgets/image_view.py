"""A pyqtgraph view for one image: cells centred on integer coordinates, fixed levels.

Usage::

    view = ImageView(name="output", colorbar=True)      # diverging 'CET-D1' by default
    view.set_image(array_2d, levels=(-m, m))              # (H, W), or (H, W, 3) for RGB
    view.hovered.connect(status_label.setText)            # "output  row 3, col 7: -0.25"

Pixel (row r, col c) covers [c-0.5, c+0.5] x [r-0.5, r+0.5], so item coordinates are
the array indices.  The image is never auto-levelled: every ``set_image`` names its
levels, which keeps a frame's cost to one lookup-table pass (DESIGN.md's recipes).
Two views share zoom and pan through ``view_link.ProportionalLink``.

Small images read as numbers: with ``cell_values=True`` the values of the cells in sight
are printed on them (``value_labels.ValueLabels``) when at most 24 x 24 cells are, and the
axes tick whole cells only.  The view's ground is the window's own colour, so a tiny map
sits in the panel rather than in a wide black frame.  ``set_caption`` writes a line under
the colour bar (which mapping it shows).
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette, QPen, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from convplay.core.display import argb_table
from convplay.core.formatting import format_readout
from convplay.qt import style
from convplay.qt.style import DIVERGING
from convplay.qt.theme import theme
from convplay.qt.widgets.colorbar import LUT_SIZE, ColorBar
from convplay.qt.widgets.lookup import argb_image, colour_map
from convplay.qt.widgets.value_labels import ValueLabels
from convplay.qt.zoom import scaled, text_zoom

CONTENT_MARGIN = 2  # pixels around the plot
FIT_PADDING = 0.02  # the view fitted to a new image leaves this fraction of it as a margin
AXIS_POINT_SIZE = 8  # the axes' tick numbers, at zoom 1
CAPTION_POINT_SIZE = 8  # the line under the colour bar, at zoom 1


class CellAxis(pg.AxisItem):
    """An axis whose ticks fall on whole cells: a 3 x 3 map is ticked 0, 1, 2, never -0.5
    or 0.5 (a cell's centre is its index; a half is the edge between two cells), and
    never beside the map (no -1 where the view is wider than the map).

    pyqtgraph spaces the ticks for the whole axis, but only the map's cells are ticked: in a
    view much wider (or taller) than its map that put "0 20 40 ... 240" into the map's
    100 pixels, one smear.  A level of ticks is labelled only where the widest label fits
    between its ticks at the axis's pixel scale (its width along x, a line's height along y);
    where even the coarsest does not, a round whole-cell spacing (1, 2, 5, 10, 20, 50 ...)
    that fits is labelled instead, and the finer levels stay as unlabelled marks."""

    cells = 0  # cells along this axis: ticks on 0 .. cells - 1 only (0: no limit)
    LABEL_GAP = 6  # pixels kept between two labels side by side
    LINE_GAP = 2  # pixels kept between two labels one above the other

    def tickValues(self, minVal: float, maxVal: float, size: float):
        levels = super().tickValues(minVal, maxVal, size)
        self._unlabelled: set[float] = set()
        if self.cells <= 0:
            return levels
        last = self.cells - 1
        levels = [(spacing, [v for v in values if -1e-9 <= v <= last + 1e-9]) for spacing, values in levels]
        low, high = sorted((minVal, maxVal))
        if not levels or not high > low or size <= 0:
            return levels
        labelled = self._fitted(levels, size / (high - low), low, high)
        # The finer levels whose labels would collide still mark their cells, unlabelled.
        shown = [v for _, values in labelled for v in values]
        marks = []
        for spacing, values in levels:
            if any(spacing == s for s, _ in labelled):
                continue
            values = [v for v in values if all(abs(v - u) > 1e-6 for u in shown)]
            if values:
                marks.append((spacing, values))
                shown += values
                self._unlabelled.add(spacing)
        return labelled + marks

    def tickStrings(self, values, scale, spacing):
        if spacing in getattr(self, "_unlabelled", ()):
            return [""] * len(values)
        return super().tickStrings(values, scale, spacing)

    def label_room(self, values: list[float], spacing: float) -> float:
        """The pixels two neighbouring tick labels need between their ticks: the widest
        label's width and a gap along a horizontal axis, a line's height along a vertical one."""
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() + self.LINE_GAP
        strings = super().tickStrings(values, self.autoSIPrefixScale * self.scale, spacing) if values else []
        return max((metrics.horizontalAdvance(s) for s in strings), default=0.0) + self.LABEL_GAP

    def _fitted(self, levels, px: float, low: float, high: float):
        """The labelled ones of ``levels`` (coarsest first): those whose labels do not
        collide at ``px`` pixels a cell.  Where the coarsest alone collides, or what fits
        labels a single cell, a round spacing that fits is labelled instead."""
        first_spacing, first_values = levels[0]
        # The widest label any spacing could put there: the cells at the ends of the range.
        ends = [max(0.0, float(math.ceil(low))), float(max(0, min(self.cells - 1, math.floor(high))))]
        room = self.label_room(ends, 1.0)
        if len(first_values) > 1 and _smallest_gap(first_values) * px < room:
            return [self._round_level(room / px, low, high) or (first_spacing, first_values[:1])]
        kept = [levels[0]]
        shown = list(first_values)
        for spacing, values in levels[1:]:
            union = sorted(shown + list(values))
            if len(union) > 1 and _smallest_gap(union) * px < room:
                break  # finer levels only come closer
            kept.append((spacing, values))
            shown = union
        if len(shown) < 2:  # e.g. 0 alone, where 0 and 200 would fit
            rounded = self._round_level(room / px, low, high)
            if rounded is not None and len(rounded[1]) > 1:
                return [rounded]
        return kept

    def _round_level(self, cells: float, low: float, high: float):
        """(spacing, values): the cells on ``low`` .. ``high`` at the smallest round spacing
        of at least ``cells``; None if no cell of the map is there."""
        spacing = _round_spacing(cells)
        start = max(0.0, math.ceil(low / spacing - 1e-9) * spacing)
        stop = min(float(self.cells - 1), high)
        if start > stop + 1e-9:
            return None
        return spacing, [float(v) for v in np.arange(start, stop + 1e-9, spacing)]

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        levels: list[tuple[float, float]] = []
        for spacing, _offset in super().tickSpacing(minVal, maxVal, size):
            whole = max(1.0, float(math.ceil(spacing - 1e-9)))
            if all(whole != s for s, _ in levels):
                levels.append((whole, 0.0))
        return levels


def _smallest_gap(values: list[float]) -> float:
    ordered = sorted(values)
    return min(b - a for a, b in pairwise(ordered))


def _round_spacing(cells: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50 ... cells that is at least ``cells``."""
    power = 1.0
    while True:
        for step in (1.0, 2.0, 5.0):
            if step * power >= cells - 1e-9:
                return step * power
        power *= 10.0


class CaptionItem(pg.LabelItem):
    """A label that never makes the scene wider: pyqtgraph's LabelItem makes its text's
    width its minimum and preferred size hints on every text change and resize, and the
    layout obeys the hints, so a long caption in a narrow view pushed the colour bar out of
    sight.  Here only the height is asked for; a text wider than the label is shortened
    with an ellipsis at its end (the tooltip holds all of it)."""

    _full = ""  # the whole text; ``text`` is what is drawn
    _eliding = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setFlag(self.GraphicsItemFlag.ItemClipsChildrenToShape, True)

    def setText(self, text, **args) -> None:
        self._full = text
        super().setText(text, **args)

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[hint] = (0, self._sizeHint[hint][1])
        self.updateGeometry()

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        if not self._eliding:
            shown = self._elided()
            if shown != self.text:
                self._eliding = True
                try:
                    super().setText(shown)
                finally:
                    self._eliding = False
        overhang = self.rect().left() - self.itemRect().left()
        if overhang > 0:  # still wider than the label: show the start, cut the end
            self.item.moveBy(overhang, 0)

    def _elided(self) -> str:
        width = self.rect().width() - 2 * self.item.document().documentMargin()
        if width <= 0:
            return self._full
        font = QFont(self.item.font())
        size = str(self.opts.get("size") or "")
        if size.endswith("pt"):
            font.setPointSizeF(float(size[:-2]))
        return QFontMetricsF(font).elidedText(self._full, Qt.TextElideMode.ElideRight, width)


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
        self._drawn_pixels = self._pixels  # QImage shares this memory: keep it alive
        self.qimage = argb_image(self._pixels)
        self._renderRequired = False
        self._unrenderable = False


class ImageView(pg.GraphicsLayoutWidget):
    """One image in a PlotItem with aspect locked, y pointing down, and a hover readout.

    Signals: ``hovered(str)`` the readout text ("" when the pointer leaves the image);
    ``cell_hovered(int, int)`` the (row, col) under the pointer, (-1, -1) off the image;
    ``cell_clicked(int, int)`` the (row, col) of a left click on the image.
    """

    hovered = Signal(str)
    cell_hovered = Signal(int, int)
    cell_clicked = Signal(int, int)  # a left click on cell (row, col) of the image

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        name: str = "",
        colormap: str = DIVERGING,
        colorbar: bool = False,
        axes: bool = True,
        title: str | None = None,
        cell_values: bool = False,
    ):
        super().__init__(parent)
        self.name = name
        self._image: np.ndarray | None = None
        self._values: np.ndarray | None = None
        self._levels = (0.0, 1.0)
        self.ci.setContentsMargins(*(CONTENT_MARGIN,) * 4)
        axis_items = {"left": CellAxis("left"), "bottom": CellAxis("bottom")}
        self.plot_item: pg.PlotItem = self.addPlot(title=title, axisItems=axis_items)
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
        # The image's edge, where a light cell meets the window's light ground.
        self.frame = QGraphicsRectItem(self.image_item)
        self.frame.setZValue(2)
        self._apply_theme()
        theme().theme_changed.connect(self._apply_theme)
        self._colormap = colour_map(colormap)
        self._colormap_name = colormap
        self._table = argb_table(self._colormap.getLookupTable(nPts=LUT_SIZE, alpha=True))
        self.image_item.setColorMap(self._colormap)
        self.colorbar: ColorBar | None = None
        self.caption: CaptionItem | None = None
        if colorbar:
            self.colorbar = ColorBar(self._colormap)
            self.addItem(self.colorbar, row=0, col=1)
            self.caption = CaptionItem("", justify="right")
            self.addItem(self.caption, row=1, col=0, colspan=2)
            self.caption.hide()
        self.value_labels: ValueLabels | None = ValueLabels(self.image_item, self.view_box) if cell_values else None
        self._apply_palette()
        self._apply_zoom()
        text_zoom().changed.connect(self._apply_zoom)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

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
        what is drawn (e.g. the raw output behind an |x| view).  ``pixels`` is the image
        already coloured (premultiplied ARGB32 words, (H, W)): for an (H, W) image with this
        view's colour map at ``levels`` (``display.coloured``), for an RGB one each channel
        at ``levels`` (``display.rgb_pixels``); drawn as is, nothing is coloured here.
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
            self.image_item.setLookupTable(None if colour else self._colormap.getLookupTable(nPts=LUT_SIZE))
        lo, hi = float(levels[0]), float(levels[1])
        if not hi > lo:
            hi = lo + 1.0
            pixels = None  # coloured for other levels
        self._levels = (lo, hi)
        if self.colorbar is not None:
            self.colorbar.setLevels((lo, hi))
        self.image_item.setImage(image, autoLevels=False, levels=(lo, hi))
        self.image_item.set_pixels(pixels, (lo, hi))
        if self.value_labels is not None:
            self.value_labels.set_values(image, (lo, hi), None if colour else self._table, pixels)
        if reshaped:
            self.frame.setRect(QRectF(0, 0, image.shape[1], image.shape[0]))
            self.plot_item.getAxis("bottom").cells = image.shape[1]
            self.plot_item.getAxis("left").cells = image.shape[0]
            self.view_box.autoRange(padding=FIT_PADDING)

    @property
    def colormap_name(self) -> str:
        return self._colormap_name

    def set_colormap(self, name: str) -> None:
        """Change the colour map by its ``style`` name (e.g. 'CET-D1' for signed values,
        'viridis' for |x|, ``style.GREY_IMAGE`` for an output shown as an image)."""
        self._colormap = colour_map(name)
        self._colormap_name = name
        self._table = argb_table(self._colormap.getLookupTable(nPts=LUT_SIZE, alpha=True))
        self.image_item.drop_pixels()  # coloured with the previous map
        if self.colorbar is not None:
            self.colorbar.setColorMap(self._colormap)
        if self._image is None or self._image.ndim == 2:
            self.image_item.setColorMap(self._colormap)
            if self.value_labels is not None and self._image is not None:
                self.value_labels.set_values(self._image, self._levels, self._table)

    @property
    def caption_text(self) -> str:
        """The line under the colour bar ("" without one)."""
        return self._caption_text if self.caption is not None else ""

    def set_caption(self, text: str) -> None:
        """The line under the colour bar: which mapping its colours show."""
        if self.caption is None:
            return
        self._caption_text = text
        self.caption.setText(text, size=f"{scaled(CAPTION_POINT_SIZE)}pt", color=self._text_colour())
        self.caption.setToolTip(text)
        self.caption.setVisible(bool(text))

    def clear(self) -> None:
        self._image = self._values = None
        self.image_item.clear()
        self.frame.setRect(QRectF())
        if self.value_labels is not None:
            self.value_labels.set_values(None, (0.0, 1.0), None)

    def readout(self, row: int, col: int) -> str:
        """The hover text for a cell, or "" outside the image."""
        image = self._values
        if image is None or not (0 <= row < image.shape[0] and 0 <= col < image.shape[1]):
            return ""
        value = image[row, col]
        if np.ndim(value) == 0:
            text = format_readout(float(value))
        else:
            text = "(" + ", ".join(format_readout(float(v)) for v in value) + ")"
        prefix = f"{self.name}  " if self.name else ""
        return f"{prefix}row {row}, col {col}: {text}"

    # -- internals -------------------------------------------------------------------
    _caption_text = ""

    def _text_colour(self):
        return self.palette().color(QPalette.ColorRole.WindowText)

    def _apply_palette(self) -> None:
        """The window's colours for the ground and the axes: no black frame around a map."""
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))
        text = self._text_colour()
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)
        if self._caption_text:
            self.set_caption(self._caption_text)

    def _apply_theme(self, *_) -> None:
        pen = QPen(QColor(style.colour("COLORBAR_FRAME")), style.line_width(1.0))
        pen.setCosmetic(True)
        self.frame.setPen(pen)
        if getattr(self, "colorbar", None) is not None:  # made after the frame
            self.colorbar.update()

    def _apply_zoom(self, *_) -> None:
        font = QFont(self.font())
        font.setPointSize(scaled(AXIS_POINT_SIZE))
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).setStyle(tickFont=font)
        if self._caption_text:
            self.set_caption(self._caption_text)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plot_item"):
            self._apply_palette()
        super().changeEvent(event)

    def leaveEvent(self, event) -> None:
        self._emit_hover(-1, -1)  # the pointer left: no cell is under it any more
        super().leaveEvent(event)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            self._emit_hover(-1, -1)
            return
        point = self.view_box.mapSceneToView(scene_pos)
        self._emit_hover(int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5)))

    def _on_mouse_clicked(self, event) -> None:
        image = self._image
        if event.button() != Qt.MouseButton.LeftButton or image is None:
            return
        scene_pos = event.scenePos()
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            return
        point = self.view_box.mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5))
        if 0 <= row < image.shape[0] and 0 <= col < image.shape[1]:
            self.cell_clicked.emit(row, col)

    def _emit_hover(self, row: int, col: int) -> None:
        text = self.readout(row, col)
        if not text:
            row, col = -1, -1
        self.cell_hovered.emit(row, col)
        self.hovered.emit(text)
