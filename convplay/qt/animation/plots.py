"""The sliding window's image panels: one PlotItem each, with the item pools it draws with
declared as its own attributes.

``InputPlot`` shows one (padded) input channel, the kernel's taps and their weights, the
cells a dilated kernel skips, the grid between its cells, the window's extent, the previous window, the hovered
cell's window and the padding; ``OutputPlot`` the output channel filling in, the current
cell, the mismatches and a transposed conv's stamp (with its weights).
Cells centre on integer coordinates: cell (r, c) spans [c-0.5, c+0.5] x [r-0.5, r+0.5].

A large image is shown a neighbourhood at a time (``core.neighbourhood``): ``show_region``
frames the neighbourhood's cells, and the output draws only its own cells of the image
(``set_region_image``), so a frame's ``setImage`` costs the neighbourhood, not the output.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem

from convplay.qt import style
from convplay.qt.animation.pools import CellGrid, LabelPool, RectPool, TagPool, cosmetic_pen, translucent
from convplay.qt.widgets.cell_labels import dark_table, is_dark

FIT_PADDING = 0.02  # a new image's range leaves this fraction of it as a margin
LUT_SIZE = 256
# Translucent fills (alpha, 0-255): the taps and the stamp tint their cells, the padding
# hatch and the previous window stay visible without hiding the values under them.
TAPS_ALPHA, STAMP_ALPHA, PAD_HATCH_ALPHA, GHOST_ALPHA, GAP_ALPHA = 60, 50, 190, 150, 110
PAD_LABEL_SCALE = 0.55  # the "(r,c)" under a copied pad cell, smaller than its value
PAD_LABEL_MIN_PX = 8.0
# Stacking order, back to front.
Z_GRID = 3  # the input's grid lines: over its cells, under the padding's border and the window
Z_EMPTY, Z_CELLS, Z_PADS, Z_GHOST, Z_TAPS, Z_PREVIEW, Z_CURRENT, Z_MISMATCH, Z_TAGS = -1, 4, 5, 9, 10, 11, 12, 13, 25


class CellPlot:
    """A PlotItem with an ImageItem whose cells centre on integer coordinates; no axes."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, colormap: str):
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=col)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        _let_title_be_cut(self.plot.titleLabel)
        self.view_box: pg.ViewBox = self.plot.getViewBox()
        self.view_box.setAspectLocked(True)
        self.view_box.invertY(True)
        self.view_box.setMouseEnabled(x=True, y=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setTransform(QTransform().translate(-0.5, -0.5))
        colours = pg.colormap.get(colormap)
        self.image.setColorMap(colours)
        self.plot.addItem(self.image)
        self.shape = (0, 0)  # (rows, cols) of the whole image, in the cells this panel counts
        self._region: tuple[int, int] = (0, 0)  # top-left cell of what the image item holds
        self._fitted = False  # the range frames the whole image (a new one is framed again)
        self._dark = dark_table(colours.getLookupTable(nPts=LUT_SIZE, alpha=False))
        self.labels = LabelPool(self.view_box, style.LABEL_TEXT)

    def restyle(self) -> None:
        """Pens, brushes and label colours from ``style.colour`` / ``style.line_width``:
        called when made and on every theme switch."""
        self.labels.set_colours(style.colour("LABEL_TEXT"), style.colour("LIGHT_LABEL_TEXT"))

    def is_dark(self, value: float, levels: tuple[float, float]) -> bool:
        """Whether the colour map paints ``value`` dark (its label then is white)."""
        return is_dark(float(value), levels, self._dark)

    def set_image(self, array: np.ndarray, levels: tuple[float, float], fit: bool = True) -> None:
        """The whole image; ``fit`` frames all of it when its shape is new (a small image,
        drawn whole)."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        self._place_region((0, 0))
        self.image.setImage(array, autoLevels=False, levels=_levels(levels))
        if array.shape != self.shape or not self._fitted:
            self.shape = array.shape
            self._fitted = fit
            if fit:
                h, w = array.shape
                self.view_box.setRange(QRectF(-0.5, -0.5, w, h), padding=FIT_PADDING)

    def set_region_image(self, array: np.ndarray, origin: tuple[int, int], shape: tuple[int, int],
                         levels: tuple[float, float]) -> None:
        """Only the cells ``array`` of a ``shape`` image, its top-left at cell ``origin``
        (row, col): a neighbourhood's worth of pixels to colour per frame."""
        self.shape = tuple(shape)
        self._fitted = False
        self._place_region(origin)
        self.image.setImage(np.ascontiguousarray(array, dtype=np.float32), autoLevels=False, levels=_levels(levels))

    def _place_region(self, origin: tuple[int, int]) -> None:
        if origin != self._region:
            self._region = origin
            self.image.setTransform(QTransform().translate(origin[1] - 0.5, origin[0] - 0.5))

    def show_region(self, rows: tuple[int, int], cols: tuple[int, int]) -> None:
        """Frame cells rows[0]..rows[1]-1 by cols[0]..cols[1]-1 (a neighbourhood)."""
        (r0, r1), (c0, c1) = rows, cols
        self.view_box.setRange(QRectF(c0 - 0.5, r0 - 0.5, max(c1 - c0, 1), max(r1 - r0, 1)), padding=FIT_PADDING)
        # The view's transform now, not in the paint: pyqtgraph would move the items while
        # the scene paints them, and Qt would paint the whole view a second time.
        self.view_box.updateMatrix()

    def cell_pixels(self) -> float:
        """How many screen pixels one cell spans."""
        size = self.view_box.viewPixelSize()
        return 1.0 / size[0] if size[0] > 0 else 0.0

    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """(row, col) of the cell under a scene point, or None off the image (or hidden)."""
        if not self.plot.isVisible() or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.view_box.mapSceneToView(scene_pos)
        r, c = int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5))
        h, w = self.shape
        return (r, c) if 0 <= r < h and 0 <= c < w else None


class InputPlot(CellPlot):
    """One input channel, padded, under the kernel's window."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int):
        super().__init__(layout, row, col, style.GREYS)
        box = self.view_box
        no_pen = QPen(Qt.PenStyle.NoPen)
        self.grid = CellGrid(box, z=Z_GRID)
        self.pads = RectPool(box, no_pen, z=Z_PADS)
        self.taps = RectPool(box, no_pen, z=Z_TAPS)
        self.extent = RectPool(box, no_pen, z=Z_TAPS)
        self.ghost = RectPool(box, no_pen, z=Z_GHOST)
        self.preview = RectPool(box, no_pen, z=Z_PREVIEW)
        self.pad_labels = LabelPool(box, style.PAD_LABEL_TEXT, scale=PAD_LABEL_SCALE, min_px=PAD_LABEL_MIN_PX)
        self.gaps = RectPool(box, no_pen, z=Z_TAPS)
        self.weights = TagPool(box, z=Z_TAGS)
        self.restyle()

    def restyle(self) -> None:
        super().restyle()
        colour, width = style.colour, style.line_width
        # The grid: one device pixel in either theme, quiet grey (black in high contrast).
        self.grid.set_pen(cosmetic_pen(colour("GRID_LINE"), 1.0))
        # Padding: a blue hatch and a dashed border, visible on black and on white cells alike.
        self.pads.set_style(cosmetic_pen(colour("PADDING"), width(1.5), Qt.PenStyle.DashLine),
                            translucent(colour("PADDING"), PAD_HATCH_ALPHA, Qt.BrushStyle.BDiagPattern))
        self.taps.set_style(cosmetic_pen(colour("WINDOW"), width(3)), translucent(colour("WINDOW"), TAPS_ALPHA))
        self.extent.set_style(cosmetic_pen(colour("WINDOW"), width(1.5), Qt.PenStyle.DashLine))
        # The previous window: thin and grey, so that the jump reads without competing with the window.
        ghost = translucent(colour("GHOST"), GHOST_ALPHA).color()
        self.ghost.set_style(cosmetic_pen(ghost, width(1.5), Qt.PenStyle.DotLine))
        self.preview.set_style(cosmetic_pen(colour("PREVIEW"), width(2), Qt.PenStyle.DashLine))
        self.pad_labels.set_colours(colour("PAD_LABEL_TEXT"), colour("LIGHT_LABEL_TEXT"))
        # A dilated kernel's gaps: the cells inside its extent that no weight reads, crossed
        # out faintly so that "skipped" reads at a glance.
        self.gaps.set_style(QPen(Qt.PenStyle.NoPen), translucent(colour("GHOST"), GAP_ALPHA, Qt.BrushStyle.DiagCrossPattern))
        self.weights.restyle()

    def clear(self) -> None:
        """Nothing drawn over the image: a new convolution."""
        self.clear_window()
        self.pads.hide()
        self.grid.hide()
        self.labels.reset()
        self.pad_labels.reset()

    def clear_window(self) -> None:
        """No window over the image; the image, its labels and its padding stay (a new
        kernel on the same input)."""
        for pool in (self.taps, self.extent, self.ghost, self.preview, self.gaps):
            pool.hide()
        self.weights.reset()


class OutputPlot(CellPlot):
    """The output channel filling in, cell by cell."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int):
        super().__init__(layout, row, col, style.DIVERGING)
        box = self.view_box
        # Behind the output image: cells not computed yet (NaN, transparent) read as an empty mesh,
        # distinct from the near-white that the colour map gives a zero.
        no_pen = QPen(Qt.PenStyle.NoPen)
        self.empty = RectPool(box, no_pen, z=Z_EMPTY)
        self.cells = RectPool(box, no_pen, z=Z_CELLS)
        self.current = RectPool(box, no_pen, z=Z_CURRENT)
        self.preview = RectPool(box, no_pen, z=Z_PREVIEW)
        self.bad = RectPool(box, no_pen, z=Z_MISMATCH)
        self.stamp = RectPool(box, no_pen, z=Z_TAPS)
        self.weights = TagPool(box, z=Z_TAGS)  # a transposed conv's stamp: the kernel as applied
        self.restyle()

    def restyle(self) -> None:
        super().restyle()
        colour, width = style.colour, style.line_width
        self.empty.set_style(QPen(Qt.PenStyle.NoPen), QBrush(QColor(colour("PENDING")), Qt.BrushStyle.Dense6Pattern))
        self.cells.set_style(cosmetic_pen(colour("GRID_LINE"), width(1)))
        self.current.set_style(cosmetic_pen(colour("WINDOW"), width(4)))
        self.preview.set_style(cosmetic_pen(colour("PREVIEW"), width(2), Qt.PenStyle.DashLine))
        self.bad.set_style(cosmetic_pen(colour("MISMATCH"), width(2)))
        self.stamp.set_style(cosmetic_pen(colour("WINDOW"), width(2)), translucent(colour("WINDOW"), STAMP_ALPHA))
        self.weights.restyle()

    def clear(self) -> None:
        for pool in (self.current, self.preview, self.bad, self.stamp):
            pool.hide()
        self.weights.reset()
        self.labels.reset()

    def show_mismatches(self, cells: np.ndarray) -> None:
        """Outline the cells (rows of (i, j)) that disagree with PyTorch."""
        if len(cells):
            self.bad.show(cells[:, 1], cells[:, 0])
        else:
            self.bad.hide()


def _let_title_be_cut(label: pg.LabelItem) -> None:
    """pyqtgraph makes a title's width its panel's minimum (on every text and resize),
    which would push the output panel out of a narrow view: let the title be cut instead."""
    measure = label.updateMin

    def relaxed() -> None:
        measure()
        label.setMinimumWidth(0)
        hints = getattr(label, "_sizeHint", None)  # what LabelItem.sizeHint answers from
        if isinstance(hints, dict) and Qt.SizeHint.MinimumSize in hints:
            hints[Qt.SizeHint.MinimumSize] = (0, hints[Qt.SizeHint.MinimumSize][1])

    label.updateMin = relaxed
    # A cut title is cut at its panel's edge, not drawn over the next panel's.
    label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)


def _levels(levels: tuple[float, float]) -> tuple[float, float]:
    lo, hi = float(levels[0]), float(levels[1])
    return (lo, hi) if hi > lo else (lo, lo + 1.0)
