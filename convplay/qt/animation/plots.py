"""The sliding window's image panels: one PlotItem each, with the item pools it draws with
declared as its own attributes.

``InputPlot`` shows one (padded) input channel, the kernel's taps, the window's extent,
the previous window, the hovered cell's window and the padding; ``OutputPlot`` the output
channel filling in, the current cell, the mismatches and a transposed conv's stamp.
Cells centre on integer coordinates: cell (r, c) spans [c-0.5, c+0.5] x [r-0.5, r+0.5].
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QTransform

from convplay.qt import style
from convplay.qt.animation.pools import LabelPool, RectPool, cosmetic_pen, translucent
from convplay.qt.widgets.cell_labels import dark_table, is_dark

FOLLOW_CELLS = 24  # beyond this many cells per axis the view zooms in and follows the window
FIT_PADDING = 0.02  # a new image's range leaves this fraction of it as a margin
LUT_SIZE = 256
# Translucent fills (alpha, 0-255): the taps and the stamp tint their cells, the padding
# hatch and the previous window stay visible without hiding the values under them.
TAPS_ALPHA, STAMP_ALPHA, PAD_HATCH_ALPHA, GHOST_ALPHA = 60, 50, 190, 150
PAD_LABEL_SCALE = 0.55  # the "(r,c)" under a copied pad cell, smaller than its value
PAD_LABEL_MIN_PX = 8.0
# Stacking order, back to front.
Z_EMPTY, Z_CELLS, Z_PADS, Z_GHOST, Z_TAPS, Z_PREVIEW, Z_CURRENT, Z_MISMATCH = -1, 4, 5, 9, 10, 11, 12, 13


class CellPlot:
    """A PlotItem with an ImageItem whose cells centre on integer coordinates; no axes."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, colormap: str):
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=col)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.view_box: pg.ViewBox = self.plot.getViewBox()
        self.view_box.setAspectLocked(True)
        self.view_box.invertY(True)
        self.view_box.setMouseEnabled(x=True, y=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setTransform(QTransform().translate(-0.5, -0.5))
        colours = pg.colormap.get(colormap)
        self.image.setColorMap(colours)
        self.plot.addItem(self.image)
        self.shape = (0, 0)
        self._dark = dark_table(colours.getLookupTable(nPts=LUT_SIZE, alpha=False))
        self.labels = LabelPool(self.view_box, style.LABEL_TEXT)

    def is_dark(self, value: float, levels: tuple[float, float]) -> bool:
        """Whether the colour map paints ``value`` dark (its label then is white)."""
        return is_dark(float(value), levels, self._dark)

    def set_image(self, array: np.ndarray, levels: tuple[float, float]) -> None:
        array = np.ascontiguousarray(array, dtype=np.float32)
        lo, hi = levels
        if not hi > lo:
            hi = lo + 1.0
        self.image.setImage(array, autoLevels=False, levels=(lo, hi))
        if array.shape != self.shape:
            self.shape = array.shape
            h, w = array.shape
            span_h, span_w = min(h, FOLLOW_CELLS), min(w, FOLLOW_CELLS)
            self.view_box.setRange(QRectF(-0.5, -0.5, span_w, span_h), padding=FIT_PADDING)

    def follow(self, left: float, top: float, width: float, height: float) -> None:
        """Pan so that the box (cell coordinates) is inside the visible range."""
        h, w = self.shape
        if h <= FOLLOW_CELLS and w <= FOLLOW_CELLS:
            return
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        if left - 0.5 >= x0 and left + width - 0.5 <= x1 and top - 0.5 >= y0 and top + height - 0.5 <= y1:
            return
        span_x, span_y = max(x1 - x0, width + 1), max(y1 - y0, height + 1)
        cx, cy = left + width / 2 - 0.5, top + height / 2 - 0.5
        self.view_box.setRange(QRectF(cx - span_x / 2, cy - span_y / 2, span_x, span_y), padding=0)

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
        # Padding: a blue hatch and a dashed border, visible on black and on white cells alike.
        self.pads = RectPool(box, cosmetic_pen(style.PADDING, 1.5, Qt.PenStyle.DashLine),
                             translucent(style.PADDING, PAD_HATCH_ALPHA, Qt.BrushStyle.BDiagPattern), z=Z_PADS)
        self.taps = RectPool(box, cosmetic_pen(style.WINDOW, 3), translucent(style.WINDOW, TAPS_ALPHA), z=Z_TAPS)
        self.extent = RectPool(box, cosmetic_pen(style.WINDOW, 1.5, Qt.PenStyle.DashLine), z=Z_TAPS)
        # The previous window: thin and grey, so that the jump reads without competing with the window.
        ghost = translucent(style.GHOST, GHOST_ALPHA).color()
        self.ghost = RectPool(box, cosmetic_pen(ghost, 1.5, Qt.PenStyle.DotLine), z=Z_GHOST)
        self.preview = RectPool(box, cosmetic_pen(style.PREVIEW, 2, Qt.PenStyle.DashLine), z=Z_PREVIEW)
        self.pad_labels = LabelPool(box, style.PAD_LABEL_TEXT, scale=PAD_LABEL_SCALE, min_px=PAD_LABEL_MIN_PX)

    def clear(self) -> None:
        """Nothing drawn over the image: a new convolution."""
        self.clear_window()
        self.pads.hide()
        self.labels.reset()
        self.pad_labels.reset()

    def clear_window(self) -> None:
        """No window over the image; the image, its labels and its padding stay (a new
        kernel on the same input)."""
        for pool in (self.taps, self.extent, self.ghost, self.preview):
            pool.hide()


class OutputPlot(CellPlot):
    """The output channel filling in, cell by cell."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int):
        super().__init__(layout, row, col, style.DIVERGING)
        box = self.view_box
        # Behind the output image: cells not computed yet (NaN, transparent) read as an empty mesh,
        # distinct from the near-white that the colour map gives a zero.
        self.empty = RectPool(box, QPen(Qt.PenStyle.NoPen), QBrush(QColor(style.PENDING), Qt.BrushStyle.Dense6Pattern),
                              z=Z_EMPTY)
        self.cells = RectPool(box, cosmetic_pen(style.GRID_LINE, 1), z=Z_CELLS)
        self.current = RectPool(box, cosmetic_pen(style.WINDOW, 4), z=Z_CURRENT)
        self.preview = RectPool(box, cosmetic_pen(style.PREVIEW, 2, Qt.PenStyle.DashLine), z=Z_PREVIEW)
        self.bad = RectPool(box, cosmetic_pen(style.MISMATCH, 2), z=Z_MISMATCH)
        self.stamp = RectPool(box, cosmetic_pen(style.WINDOW, 2), translucent(style.WINDOW, STAMP_ALPHA), z=Z_TAPS)

    def clear(self) -> None:
        for pool in (self.current, self.preview, self.bad, self.stamp):
            pool.hide()
        self.labels.reset()

    def show_mismatches(self, cells: np.ndarray) -> None:
        """Outline the cells (rows of (i, j)) that disagree with PyTorch."""
        if len(cells):
            self.bad.show(cells[:, 1], cells[:, 0])
        else:
            self.bad.hide()
