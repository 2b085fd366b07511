"""The sliding window drawn: padded input panels, the kernel's footprint, the output filling in.

Every graphics item is made when the geometry changes and only moved, shown, hidden or
relabelled per frame (pools of QGraphicsRectItem and QGraphicsSimpleTextItem), so a
frame costs O(taps) item updates plus one ``setImage`` of the output.

Coordinates: an input panel is drawn in padded coordinates (cell (r, c) of the padded
input at x=c, y=r), so padding cells are real cells of the picture; the output panel in
output coordinates.  Not-yet-computed output cells are NaN, which pyqtgraph leaves empty.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem, QWidget

from convplay.core.padding import NO_SOURCE
from convplay.core.walk import ConvWalk, Stamp, Step
from convplay.qt.animation.arithmetic import format_number
from convplay.qt.animation.group_diagram import group_colour

MAX_INPUT_PANELS = 4
FOLLOW_CELLS = 24  # beyond this many cells per axis the view zooms in and follows the window
LABEL_CELLS = 16  # padded inputs / outputs up to this size get a label in every cell
LABEL_MIN_PX = 9.0  # smaller value labels are unreadable: hidden instead
LABEL_MAX_PX = 34.0  # big cells on a projector: large numbers, but not shouting
DIGIT_WIDTH = 0.55  # a label character's mean width as a fraction of the font's pixel size
TITLE_SIZE = "11pt"


def _pen(colour: QColor | str, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(QColor(colour), width, style)
    pen.setCosmetic(True)  # width in screen pixels at any zoom
    return pen


class _RectPool:
    """QGraphicsRectItems in one view box, grown on demand and never destroyed."""

    def __init__(self, view_box: pg.ViewBox, pen: QPen, brush: QBrush | None = None, z: float = 10):
        self._view_box, self._pen, self._brush, self._z = view_box, pen, brush or QBrush(Qt.BrushStyle.NoBrush), z
        self.items: list[QGraphicsRectItem] = []
        self.used = 0

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


class _LabelPool:
    """Centred text labels that keep their pixel size at any zoom.

    ``fit`` sizes the font to the cells on screen (numbers legible from the back of a
    lecture hall when cells are big) and hides the labels when cells are too small to
    hold them.  The font changes only when the zoom does, never per frame.
    """

    def __init__(self, view_box: pg.ViewBox, colour: QColor | str, scale: float = 1.0, min_px: float = LABEL_MIN_PX,
                 z: float = 20):
        self._view_box, self._colour, self._z = view_box, QBrush(QColor(colour)), z
        self._light = QBrush(QColor("#ffffff"))
        self._scale, self._min_px = scale, min_px
        self._font = QFont()
        self._font.setPixelSize(12)
        self.items: list[QGraphicsSimpleTextItem] = []
        self.used = 0
        self.visible = True
        self.longest = 0  # characters in the longest text so far: what the font must fit
        self.refit = False  # a longer text arrived: ``fit`` again

    def _item(self, n: int) -> QGraphicsSimpleTextItem:
        while len(self.items) <= n:
            item = QGraphicsSimpleTextItem()
            item.setFont(self._font)
            item.setBrush(self._colour)
            item.setZValue(self._z)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            item.setVisible(False)
            self._view_box.addItem(item, ignoreBounds=True)
            self.items.append(item)
        return self.items[n]

    @staticmethod
    def _centre(item: QGraphicsSimpleTextItem) -> None:
        rect = item.boundingRect()
        item.setTransform(QTransform.fromTranslate(-rect.width() / 2, -rect.height() / 2))

    def set(self, n: int, x: float, y: float, text: str, light: bool = False) -> None:
        """Label ``n`` at cell (x, y); ``light`` text for a dark cell."""
        item = self._item(n)
        brush = self._light if light else self._colour
        if item.brush() != brush:
            item.setBrush(brush)
        if item.text() != text:
            item.setText(text)
            self._centre(item)
            if len(text) > self.longest:
                self.longest, self.refit = len(text), True
        item.setPos(QPointF(x, y))
        item.setVisible(self.visible)

    def finish(self, used: int) -> None:
        """Hide labels ``used`` onwards."""
        for item in self.items[used : self.used]:
            item.setVisible(False)
        self.used = used

    def reset(self) -> None:
        """No labels; the next texts decide the font again (a new convolution)."""
        self.finish(0)
        self.longest = 0

    def set_visible(self, visible: bool) -> None:
        if visible == self.visible:
            return
        self.visible = visible
        for item in self.items[: self.used]:
            item.setVisible(visible)

    def pixel_size(self) -> int:
        return self._font.pixelSize()

    def fit(self, cell_px: float) -> None:
        """Size the font for cells ``cell_px`` screen pixels wide; hide labels that would be too small."""
        self.refit = False
        chars = max(self.longest, 2)
        px = self._scale * min(0.36 * cell_px, 0.9 * cell_px / (DIGIT_WIDTH * chars))
        self.set_visible(px >= self._min_px)
        px = int(min(max(px, self._min_px), LABEL_MAX_PX * self._scale))
        if px == self._font.pixelSize():
            return
        self._font.setPixelSize(px)
        for item in self.items:
            item.setFont(self._font)
            self._centre(item)


def _dark_table(colormap: pg.ColorMap) -> np.ndarray:
    """For 256 steps along ``colormap``: True where the colour is dark enough for white text."""
    rgb = colormap.getLookupTable(nPts=256, alpha=False).astype(float)
    return rgb @ np.array([0.299, 0.587, 0.114]) < 150


class _Panel:
    """One image panel: a PlotItem with an ImageItem whose cells centre on integer coordinates."""

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
        self._dark = _dark_table(colours)

    def is_dark(self, value: float, levels: tuple[float, float]) -> bool:
        """Whether the colour map paints ``value`` dark (its label then is white)."""
        lo, hi = levels
        if not np.isfinite(value) or not hi > lo:
            return False
        t = min(max((value - lo) / (hi - lo), 0.0), 1.0)
        return bool(self._dark[int(t * 255)])

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
            self.view_box.setRange(QRectF(-0.5, -0.5, span_w, span_h), padding=0.02)

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


def _cell_size(width: float, height: float, panels: list[tuple[int, int]]) -> float:
    """Screen pixels per cell when ``panels`` ((rows, cols) each) share one row of ``width`` × ``height``."""
    if not panels:
        return float("inf")
    each = width / len(panels)
    return min(min(each / cols, (height - 30) / rows) for rows, cols in panels)


class AnimationView(pg.GraphicsLayoutWidget):
    """Signals: ``output_clicked(i, j)``, ``output_hovered(i, j)`` ((-1, -1) off the output),
    ``hovered(str)``: what the cell under the pointer is (a pad cell names the pixel it copies)."""

    output_clicked = Signal(int, int)
    output_hovered = Signal(int, int)
    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # White behind the cells: an output cell not computed yet (NaN) shows as empty.
        self.setBackground("w")
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.inputs = [_Panel(self.ci, 0, p, "CET-L1") for p in range(MAX_INPUT_PANELS)]
        self.output = _Panel(self.ci, 0, MAX_INPUT_PANELS, "CET-D1")
        self._x: np.ndarray | None = None
        self._walk: ConvWalk | None = None
        self._padded: np.ndarray | None = None
        self._levels = (0.0, 1.0)
        self._out_levels = (-1.0, 1.0)
        self._values: np.ndarray | None = None  # the whole output, for filling in
        self._fill = np.zeros((0, 0), dtype=np.float32)
        self._fill_channel = -1
        self._last_k = -2
        self._channels: tuple[int, ...] = ()
        self._hover_hint: tuple[int, int] = (-1, -1)
        self._prev_origin: tuple[int, int] = (0, 0)
        self._titled_channel = -1
        self._output_below = False
        orange, cyan = QColor("#ff8c00"), QColor("#00b7eb")
        for panel in self.inputs:
            # Padding: a blue hatch and a dashed border, visible on black and on white cells alike.
            panel.pads = _RectPool(panel.view_box, _pen("#1f5fbf", 1.5, Qt.PenStyle.DashLine),
                                   QBrush(QColor(31, 95, 191, 190), Qt.BrushStyle.BDiagPattern), z=5)
            panel.taps = _RectPool(panel.view_box, _pen(orange, 3), QBrush(QColor(255, 140, 0, 60)))
            panel.extent = _RectPool(panel.view_box, _pen(orange, 1.5, Qt.PenStyle.DashLine))
            # The previous window: thin and grey, so that the jump reads without competing with the window.
            panel.ghost = _RectPool(panel.view_box, _pen(QColor(90, 90, 90, 150), 1.5, Qt.PenStyle.DotLine), z=9)
            panel.preview = _RectPool(panel.view_box, _pen(cyan, 2, Qt.PenStyle.DashLine), z=11)
            panel.labels = _LabelPool(panel.view_box, "#111111")
            panel.pad_labels = _LabelPool(panel.view_box, "#303030", scale=0.55, min_px=8.0)
        out = self.output
        # Behind the output image: cells not computed yet (NaN, transparent) read as an empty mesh,
        # distinct from the near-white that the colour map gives a zero.
        out.empty = _RectPool(out.view_box, QPen(Qt.PenStyle.NoPen), QBrush(QColor("#9a9a9a"), Qt.BrushStyle.Dense6Pattern), z=-1)
        out.cells = _RectPool(out.view_box, _pen("#b0b0b0", 1), z=4)
        out.current = _RectPool(out.view_box, _pen(orange, 4), z=12)
        out.preview = _RectPool(out.view_box, _pen(cyan, 2, Qt.PenStyle.DashLine), z=11)
        out.bad = _RectPool(out.view_box, _pen("#e00000", 2), z=13)
        out.stamp = _RectPool(out.view_box, _pen(orange, 2), QBrush(QColor(255, 140, 0, 50)))
        out.labels = _LabelPool(out.view_box, "#111111")
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        for panel in (*self.inputs, out):
            panel.view_box.sigRangeChanged.connect(self._fit_labels)
            panel.view_box.sigResized.connect(self._fit_labels)

    # -- geometry (once per input, kernel or parameter change) ----------------------------
    def set_walk(self, walk: ConvWalk | None, x: np.ndarray | None) -> None:
        """A new convolution to draw; ``x`` is the (C, H, W) input it reads."""
        self._walk, self._x = walk, x
        self._values, self._fill_channel, self._last_k, self._channels = None, -1, -2, ()
        self._titled_channel = -1
        if walk is None or x is None:
            for panel in (*self.inputs, self.output):
                panel.plot.setVisible(False)
            return
        finite = x[np.isfinite(x)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self._levels = (lo, hi if hi > lo else lo + 1.0)
        transposed = walk.spec.transposed
        self._padded = None if transposed else walk.geometry.build(x)
        n_panels = 1 if transposed else min(walk.taps_shape[0], MAX_INPUT_PANELS)
        for p, panel in enumerate(self.inputs):
            panel.plot.setVisible(p < n_panels)
            for pool in (panel.taps, panel.extent, panel.ghost, panel.preview, panel.pads):
                pool.hide()
            panel.labels.reset()
            panel.pad_labels.reset()
        c_out, h_out, w_out = walk.output_shape
        self.output.plot.setVisible(True)
        self._fill = np.full((h_out, w_out), np.nan, dtype=np.float32)
        self.output.set_image(self._fill, self._out_levels)
        if h_out <= LABEL_CELLS and w_out <= LABEL_CELLS:
            jj, ii = np.meshgrid(np.arange(w_out), np.arange(h_out))
            self.output.cells.show(jj.ravel(), ii.ravel())
        else:
            self.output.cells.show(np.array([(w_out - 1) / 2]), np.array([(h_out - 1) / 2]), w_out, h_out)
        self.output.empty.show(np.array([(w_out - 1) / 2]), np.array([(h_out - 1) / 2]), w_out, h_out)
        for pool in (self.output.current, self.output.preview, self.output.bad, self.output.stamp):
            pool.hide()
        self.output.labels.reset()
        self._draw_pads(n_panels)
        self._arrange()

    def _draw_pads(self, n_panels: int) -> None:
        walk = self._walk
        if walk.spec.transposed:
            return
        geometry = walk.geometry
        top, bottom, left, right = geometry.pads
        ph, pw = geometry.padded_shape
        bands = [(0, 0, pw, top), (0, ph - bottom, pw, bottom), (0, top, left, ph - top - bottom),
                 (pw - right, top, right, ph - top - bottom)]
        bands = [b for b in bands if b[2] > 0 and b[3] > 0]
        xs = np.array([b[0] + (b[2] - 1) / 2 for b in bands])
        ys = np.array([b[1] + (b[3] - 1) / 2 for b in bands])
        for panel in self.inputs[:n_panels]:
            panel.pads.show(xs, ys, np.array([b[2] for b in bands]), np.array([b[3] for b in bands]))

    def _show_channels(self, channels: tuple[int, ...], group: int) -> None:
        """Put input channels ``channels`` (padded) into the input panels."""
        if channels == self._channels:
            return
        self._channels = channels
        walk = self._walk
        source = self._x if walk.spec.transposed else self._padded
        ph, pw = source.shape[1:]
        small = ph <= LABEL_CELLS and pw <= LABEL_CELLS
        for panel, ch in zip(self.inputs, channels):
            panel.set_image(source[ch], self._levels)
            colour = group_colour(group).darker(140).name()  # the diagram's hue, dark enough for text
            panel.plot.setTitle(f"<span style='color:{colour}'>input channel {ch} (group {group})</span>", size=TITLE_SIZE)
            n = 0
            if small:
                for r in range(ph):
                    for c in range(pw):
                        value = source[ch, r, c]
                        panel.labels.set(n, c, r, format_number(value, 3), light=panel.is_dark(value, self._levels))
                        n += 1
            panel.labels.finish(n)
            self._label_pad_sources(panel, source[ch], small)
        self._fit_labels()

    def _label_pad_sources(self, panel: _Panel, padded: np.ndarray, small: bool) -> None:
        """A small "(r,c)" under each copied pad cell: the real pixel it repeats."""
        walk = self._walk
        geometry = walk.geometry
        n = 0
        if small and not walk.spec.transposed and geometry.mode != "zeros":
            ph, pw = geometry.padded_shape
            for r in range(ph):
                for c in range(pw):
                    if geometry.rows.on_pad(r) or geometry.cols.on_pad(c):
                        sr, sc = int(geometry.rows.source(r)), int(geometry.cols.source(c))
                        panel.pad_labels.set(n, c, r + 0.3, f"({sr},{sc})", light=panel.is_dark(padded[r, c], self._levels))
                        n += 1
        panel.pad_labels.finish(n)

    def set_output_values(self, values: np.ndarray | None, levels: tuple[float, float]) -> None:
        """The whole output (C, H, W) that cells fill in from; None while it is not known."""
        self._values = values
        self._out_levels = levels
        self._last_k = -2  # refill on the next frame

    # -- per frame ----------------------------------------------------------------------
    def show_step(self, step: Step) -> None:
        """Draw step ``step``: its window on each input channel, its output cell, the fill."""
        walk = self._walk
        group = step.group
        self._show_channels(tuple(int(c) for c in step.in_channels[: MAX_INPUT_PANELS]), group)
        taps = step.taps
        _, kh, kw = step.taps_shape
        per = kh * kw
        dkh, dkw = walk.spec.dilated_kernel_hw
        top, left = step.window_origin
        prev_origin = self._prev_origin if self._last_k == step.k - 1 else None
        for p, panel in enumerate(self.inputs[: len(self._channels)]):
            sl = slice(p * per, (p + 1) * per)
            panel.taps.show(taps.padded_col[sl], taps.padded_row[sl])
            panel.extent.show(left + (dkw - 1) / 2, top + (dkh - 1) / 2, dkw, dkh)
            if prev_origin is not None and prev_origin != (top, left):
                panel.ghost.show(prev_origin[1] + (dkw - 1) / 2, prev_origin[0] + (dkh - 1) / 2, dkw, dkh)
            else:
                panel.ghost.hide()
            panel.follow(left, top, dkw, dkh)
        self._prev_origin = (top, left)
        oc, (i, j) = step.out_channel, step.position
        self._fill_to(step.k, oc, i, j, step.total)
        self.output.current.show(j, i)
        self.output.follow(j, i, 1, 1)
        if oc != self._titled_channel:  # a title change re-lays out the scene: not per frame
            self._titled_channel = oc
            self.output.plot.setTitle(f"output channel {oc}, filling in row by row", size=TITLE_SIZE)

    def _fill_to(self, k: int, oc: int, i: int, j: int, total: float) -> None:
        """Output cells up to (i, j) of channel ``oc`` filled, later ones empty."""
        _, h, w = self._walk.output_shape
        if k == self._last_k + 1 and oc == self._fill_channel:
            self._fill[i, j] = total
            self._label_output(i * w + j, i, j)
        else:
            self._fill[:] = np.nan
            flat = self._fill.reshape(-1)
            n = i * w + j
            if self._values is not None:
                flat[:n] = self._values[oc].reshape(-1)[:n]
            flat[n] = total
            self._fill_channel = oc
            self._relabel_output(n)
        self._last_k = k
        self.output.image.setImage(self._fill, autoLevels=False, levels=self._out_levels)
        if self.output.labels.refit:
            self._fit_labels()

    def _label_output(self, n: int, i: int, j: int) -> None:
        h, w = self._fill.shape
        if h <= LABEL_CELLS and w <= LABEL_CELLS:
            labels = self.output.labels
            labels.set(n, j, i, format_number(self._fill[i, j], 3), self._dark_output(self._fill[i, j]))
            labels.used = max(labels.used, n + 1)

    def _dark_output(self, value: float) -> bool:
        """True where the output's colour map is dark enough for white text."""
        return self.output.is_dark(float(value), self._out_levels)

    def _relabel_output(self, last: int) -> None:
        h, w = self._fill.shape
        if h > LABEL_CELLS or w > LABEL_CELLS:
            self.output.labels.finish(0)
            return
        n = 0
        for n in range(last + 1):
            i, j = divmod(n, w)
            value = self._fill[i, j]
            self.output.labels.set(n, j, i, "" if np.isnan(value) else format_number(value, 3), self._dark_output(value))
        self.output.labels.finish(last + 1)

    def show_stamp(self, stamp: Stamp, out_channel: int, accumulated: np.ndarray) -> None:
        """A transposed conv's scatter step: the input pixel and where its products land."""
        c_in, (r, c) = stamp.in_channel, stamp.position
        self._show_channels((c_in,), stamp.group)
        panel = self.inputs[0]
        panel.taps.show(c, r)
        panel.follow(c, r, 1, 1)
        mask = (stamp.out_channel == out_channel) & stamp.inside
        self._fill = np.ascontiguousarray(accumulated, dtype=np.float32)
        self.output.image.setImage(self._fill, autoLevels=False, levels=self._out_levels)
        self.output.stamp.show(stamp.out_col[mask], stamp.out_row[mask])
        h, w = self._fill.shape
        if h <= LABEL_CELLS and w <= LABEL_CELLS:
            for n in range(h * w):
                i, j = divmod(n, w)
                self.output.labels.set(n, j, i, format_number(self._fill[i, j], 3), self._dark_output(self._fill[i, j]))
            self.output.labels.finish(h * w)
            if self.output.labels.refit:
                self._fit_labels()
        if mask.any():
            rows, cols = stamp.out_row[mask], stamp.out_col[mask]
            self.output.follow(int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1), int(rows.max() - rows.min() + 1))
        if out_channel != self._titled_channel:
            self._titled_channel = out_channel
            self.output.plot.setTitle(f"output channel {out_channel}: sum of the stamps so far", size=TITLE_SIZE)

    def preview(self, step: Step | None) -> None:
        """Outline ``step``'s window (a hovered output cell), or clear the preview."""
        if step is None:
            for panel in self.inputs:
                panel.preview.hide()
            self.output.preview.hide()
            return
        _, kh, kw = step.taps_shape
        per = kh * kw
        for p, panel in enumerate(self.inputs[: len(self._channels)]):
            if int(step.in_channels[0]) + p in self._channels:
                sl = slice(p * per, (p + 1) * per)
                panel.preview.show(step.taps.padded_col[sl], step.taps.padded_row[sl])
        i, j = step.position
        self.output.preview.show(j, i)

    def set_mismatches(self, cells: np.ndarray, out_channel: int) -> None:
        """Outline output cells (rows of (oc, i, j)) that disagree with PyTorch, on the shown channel."""
        cells = cells[cells[:, 0] == out_channel] if len(cells) else cells
        self.output.bad.show(cells[:, 2], cells[:, 1]) if len(cells) else self.output.bad.hide()

    # -- layout and labels --------------------------------------------------------------
    def _fit_labels(self, *_) -> None:
        """Value labels sized to the cells on screen (called when the zoom or the size changes)."""
        for panel in self.inputs:
            px = panel.cell_pixels()
            panel.labels.fit(px)
            panel.pad_labels.fit(px)
        self.output.labels.fit(self.output.cell_pixels())

    def _panel_cells(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(rows, cols) on screen of each visible input panel, and of the output panel."""
        walk = self._walk
        n = sum(panel.plot.isVisible() for panel in self.inputs)
        h_in, w_in = (self._x.shape[1:] if walk.spec.transposed else walk.geometry.padded_shape)
        _, h_out, w_out = walk.output_shape
        inputs = [(min(h_in, FOLLOW_CELLS), min(w_in, FOLLOW_CELLS))] * n
        return inputs, [(min(h_out, FOLLOW_CELLS), min(w_out, FOLLOW_CELLS))]

    @staticmethod
    def _layouts(width: float, height: float, inputs, output) -> tuple[float, float]:
        """Cell pixels with the output beside the inputs, and with it below them."""
        beside = _cell_size(width, height, inputs + output)
        below = min(_cell_size(width, height / 2, inputs), _cell_size(width, height / 2, output))
        return beside, below

    def cell_size_for(self, width: float, height: float) -> float:
        """Screen pixels per cell the panels would get in a view ``width`` × ``height``
        (for the dock, to place its other widgets where they cost the cells least)."""
        if getattr(self, "_walk", None) is None:
            return 0.0
        inputs, output = self._panel_cells()
        beside, below = self._layouts(max(width, 1.0), max(height, 1.0), inputs, output)
        return below if len(inputs) > 1 and below > 1.1 * beside else beside

    def _arrange(self) -> None:
        """The output beside the inputs, or below them when that shows bigger cells (several channels)."""
        walk = getattr(self, "_walk", None)  # pyqtgraph resizes the view inside its own __init__
        if walk is None:
            return
        inputs, output = self._panel_cells()
        beside, below = self._layouts(max(self.width(), 1), max(self.height(), 1), inputs, output)
        want_below = len(inputs) > 1 and below > 1.1 * beside
        if want_below == self._output_below:
            return
        self._output_below = want_below
        # Straight on the Qt grid layout: pyqtgraph's removeItem would take the plot out of the scene.
        grid = self.ci.layout
        grid.removeItem(self.output.plot)
        if want_below:
            grid.addItem(self.output.plot, 1, 0, 1, MAX_INPUT_PANELS)
        else:
            grid.addItem(self.output.plot, 0, MAX_INPUT_PANELS)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    # -- the pointer ------------------------------------------------------------------------

    def _cell_at(self, panel: _Panel, scene_pos) -> tuple[int, int] | None:
        if not panel.plot.isVisible() or not panel.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        point = panel.view_box.mapSceneToView(scene_pos)
        r, c = int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5))
        h, w = panel.shape
        return (r, c) if 0 <= r < h and 0 <= c < w else None

    def _on_mouse_moved(self, scene_pos) -> None:
        cell = self._cell_at(self.output, scene_pos)
        hint = cell if cell is not None else (-1, -1)
        if hint != self._hover_hint:
            self._hover_hint = hint
            self.output_hovered.emit(*hint)
        self.hovered.emit(self.describe(scene_pos))

    def describe(self, scene_pos) -> str:
        """What the pointer is over, in words ("" when nothing)."""
        if self._walk is None:
            return ""
        cell = self._cell_at(self.output, scene_pos)
        if cell is not None:
            value = self._fill[cell]
            shown = "not computed yet" if np.isnan(value) else format_number(float(value), 6)
            return f"output ({cell[0]}, {cell[1]}): {shown}; click to jump there"
        for panel, ch in zip(self.inputs, self._channels):
            cell = self._cell_at(panel, scene_pos)
            if cell is not None:
                return self.describe_input_cell(ch, *cell)
        return ""

    def describe_input_cell(self, channel: int, r: int, c: int) -> str:
        """An input panel's cell: a real pixel, or a pad cell and the pixel it copies."""
        walk = self._walk
        if walk.spec.transposed:
            return f"input ({channel}, {r}, {c}) = {format_number(self._x[channel, r, c], 6)}"
        geometry = walk.geometry
        sr, sc = int(geometry.rows.source(r)), int(geometry.cols.source(c))
        if not (geometry.rows.on_pad(r) or geometry.cols.on_pad(c)):
            return f"input ({channel}, {sr}, {sc}) = {format_number(self._x[channel, sr, sc], 6)}"
        if sr == NO_SOURCE or sc == NO_SOURCE:
            return f"padding ({r}, {c}): zero"
        value = format_number(self._x[channel, sr, sc], 6)
        return f"padding ({r}, {c}), {geometry.mode}: copies pixel ({sr}, {sc}) = {value}"

    def _on_mouse_clicked(self, event) -> None:
        cell = self._cell_at(self.output, event.scenePos())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.output_clicked.emit(*cell)
