"""The sliding window drawn: padded input panels, the kernel's footprint and weights, the
output filling in.

Every graphics item is made when the geometry changes and only moved, shown, hidden or
relabelled per frame (the pools in ``pools.py``, owned by the panels in ``plots.py``), so
a frame costs O(taps) item updates plus one ``setImage`` of the output's cells on screen.

Two ways to show a convolution:

- whole (``core.neighbourhood.shows_whole``: the tutorial samples): every cell of the
  padded input and of the output, each labelled with its value;
- a neighbourhood (a photo): a tile of about a dozen output cells and exactly the input
  cells their windows read, labelled; the tile moves a whole tile at a time as the window
  walks, so labels change only when the tile does.  ``tile`` says which cells are shown;
  ``tile_changed`` tells the overview beside the view.

Coordinates: an input panel is drawn in padded coordinates (cell (r, c) of the padded
input at x=c, y=r), so padding cells are real cells of the picture; the output panel in
output coordinates.  Not-yet-computed output cells are NaN, which pyqtgraph leaves empty.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape as html_escape

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QTextDocumentFragment
from PySide6.QtWidgets import QWidget

from convplay.core.display import cell_text
from convplay.core.formatting import format_cell, format_readout
from convplay.core.neighbourhood import MAX_TARGET_CELLS, MIN_TARGET_CELLS, TARGET_CELLS, Neighbourhood, Tiling, shows_whole, tiling
from convplay.core.padding import NO_SOURCE
from convplay.core.walk import ConvWalk, Stamp, Step
from convplay.qt import style
from convplay.qt.theme import theme
from convplay.qt.animation.group_diagram import group_colour
from convplay.qt.animation.plots import CellPlot, InputPlot, OutputPlot
from convplay.qt.animation.pools import weight_text
from convplay.qt.widgets.cell_labels import DIGIT_WIDTH, MIN_LABEL_PX, TEXT_SHARE
from convplay.qt.zoom import scaled, text_zoom

MAX_INPUT_PANELS = 4
LABEL_CELLS = 32  # a shown rectangle up to this many cells a side gets a label in every cell
TITLE_PT = 11
TITLE_ROOM_PX = 30  # of a panel's height, what its title line takes from the cells
PANEL_MARGIN_PX = 12  # of a panel's width, what its frame takes from the cells
# The output moves below several input panels unless that makes the cells smaller than
# this share of what one row gives them: a row of several narrow panels cuts their titles.
BELOW_GAIN = 0.95
PAD_SOURCE_BELOW = 0.3  # a pad cell's "(r,c)" sits this far below its value, in cells
TITLE_SLACK_PX = 14  # a title label's margins, and room for the rounding of its width
TITLE_DARKER = 140  # a group's hue darkened for title text (QColor.darker's percent)
CONTENT_MARGIN = 2
UNBOUNDED = 16_777_215  # Qt's QWIDGETSIZE_MAX
# A neighbourhood shrinks from TARGET_CELLS towards MIN_TARGET_CELLS until its cells get
# this many pixels: room for a value and its weight tag.
READABLE_CELL_PX = 34.0
MIN_TILE = 2  # windows a neighbourhood holds a side, unless one window is what keeps its numbers readable

Rect = tuple[tuple[int, int], tuple[int, int]]  # ((row start, stop), (col start, stop))


def _cell_size(width: float, height: float, panels: list[tuple[int, int]]) -> float:
    """Screen pixels per cell when ``panels`` ((rows, cols) each) share one row of ``width`` × ``height``."""
    if not panels:
        return float("inf")
    # Each panel's width in proportion to its columns (``_arrange`` sets the stretch), so
    # every panel's cells are the same size.
    across = (width - PANEL_MARGIN_PX * len(panels)) / sum(max(cols, 1) for _, cols in panels)
    return min(across, min((height - TITLE_ROOM_PX) / max(rows, 1) for rows, _ in panels))


def _rect_shape(rect: Rect) -> tuple[int, int]:
    (r0, r1), (c0, c1) = rect
    return r1 - r0, c1 - c0


class AnimationView(pg.GraphicsLayoutWidget):
    """Signals: ``output_clicked(i, j)``, ``input_clicked(r, c)`` (a cell of the first
    input panel: padded coordinates, or input pixels for a transposed conv),
    ``output_hovered(i, j)`` ((-1, -1) off the output), ``hovered(str)``: what the cell
    under the pointer is (a pad cell names the pixel it copies), ``tile_changed()``: the
    neighbourhood on screen moved (or the view became whole)."""

    output_clicked = Signal(int, int)
    input_clicked = Signal(int, int)
    output_hovered = Signal(int, int)
    hovered = Signal(str)
    tile_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        # pyqtgraph resizes the view inside its own __init__, before ours has run: the
        # state ``_arrange`` reads must exist first.
        self._walk: ConvWalk | None = None
        self._whole = True
        self._tiling: Tiling | None = None
        self._target = (TARGET_CELLS, TARGET_CELLS)
        self._label_chars = 1  # the longest value label of the input (a sample of it)
        self._short_chars = 1  # the same, rounded as narrow cells print it
        self._in_scale = 1.0  # max |x|: what the rounded labels keep three digits of
        self._short = False  # cells too narrow for the full values: rounded labels
        super().__init__(parent)
        # The titles are fitted once the layout has given the panels their widths.  A timer
        # the view owns dies with it: a one-shot timer of its own (QTimer.singleShot with a
        # callable) outlived the view at exit and reached PlotItems already deleted.
        self._title_timer = QTimer(self)
        self._title_timer.setSingleShot(True)
        self._title_timer.setInterval(0)
        self._title_timer.timeout.connect(self._fit_titles)
        # White behind the cells: an output cell not computed yet (NaN) shows as empty.
        self.setBackground(style.VIEW_BACKGROUND)
        self.ci.setContentsMargins(*(CONTENT_MARGIN,) * 4)
        self.inputs = [InputPlot(self.ci, 0, p) for p in range(MAX_INPUT_PANELS)]
        self.output = OutputPlot(self.ci, 0, MAX_INPUT_PANELS)
        self._x: np.ndarray | None = None
        self._padded: np.ndarray | None = None
        self._levels = (0.0, 1.0)
        self._out_levels = (-1.0, 1.0)
        self._values: np.ndarray | None = None  # the whole output, for filling in
        # float64: the labels print the values as the walk and the reference computed them.
        self._fill = np.zeros((0, 0), dtype=np.float64)
        self._fill_channel = -1
        self._last_k = -2
        self._channels: tuple[int, ...] = ()
        self._hover_hint: tuple[int, int] = (-1, -1)
        self._prev_origin: tuple[int, int] = (0, 0)
        self._titled_channel = -1
        self._output_below = False
        self.tile: Neighbourhood | None = None  # the neighbourhood on screen (None: drawn whole)
        self._in_rect: Rect = ((0, 0), (0, 0))  # input cells shown (padded coordinates)
        self._out_rect: Rect = ((0, 0), (0, 0))  # output cells shown
        self._gap_offsets = (np.zeros(0), np.zeros(0))  # (rows, cols) a dilated window skips, from its origin
        self._tags_for: tuple[object, int] | None = None  # (walk, out channel) the weight texts belong to
        self._tag_texts: list[str] = []
        self._redraw: Callable[[], None] | None = None  # draws the last frame again (new tiling or zoom)
        # Each panel's titles, longest first, and the group whose hue colours them (None: none).
        self._titles: dict[int, tuple[pg.PlotItem, tuple[str, ...], int | None]] = {}
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        for panel in (*self.inputs, self.output):
            panel.view_box.sigRangeChanged.connect(self._fit_labels)
            panel.view_box.sigResized.connect(self._fit_labels)
            # A column's width changes without the view being resized (a zoom, a new layout).
            panel.plot.geometryChanged.connect(self._refit_titles_later)
        text_zoom().changed.connect(self._on_text_zoom)  # Qt disconnects it when the view goes
        theme().theme_changed.connect(self._on_theme)

    # -- what is shown -------------------------------------------------------------------
    @property
    def whole(self) -> bool:
        """True when every cell is drawn (a small input); False for a neighbourhood."""
        return self._whole

    @property
    def tiling(self) -> Tiling | None:
        return self._tiling

    @property
    def input_rect(self) -> Rect:
        """((row start, stop), (col start, stop)) of the input cells on screen (padded coordinates)."""
        return self._in_rect

    @property
    def output_rect(self) -> Rect:
        return self._out_rect

    def _reached_and_driver(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(reached shape, driver shape): the padded input and the output for a direct
        convolution, the output and the input for a transposed one's scatter view."""
        walk = self._walk
        out_hw = walk.output_shape[1:]
        if walk.spec.transposed:
            return out_hw, self._x.shape[1:]
        return walk.geometry.padded_shape, out_hw

    def _make_tiling(self, target: tuple[int, int]) -> Tiling:
        walk = self._walk
        reached, driver = self._reached_and_driver()
        extent = walk.spec.dilated_kernel_hw
        if walk.spec.transposed:
            top, _, left, _ = walk.spec.pads()
            return tiling(driver, reached, walk.spec.stride_hw, extent, (-top, -left), target)
        return tiling(driver, reached, walk.spec.stride_hw, extent, (0, 0), target)

    def driver_at(self, r: float, c: float) -> tuple[int, int]:
        """The cell the animation steps over (an output cell; a transposed conv's input
        pixel) whose window is centred nearest reached cell (r, c) (padded input; output)."""
        t = self._tiling if self._tiling is not None else self._make_tiling(self._target)
        return t.driver_at(r, c)

    # -- geometry (once per input, kernel or parameter change) ----------------------------
    def set_walk(self, walk: ConvWalk | None, x: np.ndarray | None) -> None:
        """A new convolution to draw; ``x`` is the (C, H, W) input it reads.

        The same input under the same padding (a kernel edit) keeps what was made from the
        input: its levels, its padded copy and the images already in the input panels, so
        a live kernel edit on a large photo costs no scan or copy of it.
        """
        old = self._walk
        same_input = (walk is not None and old is not None and x is self._x
                      and walk.spec.transposed == old.spec.transposed and walk.geometry == old.geometry)
        self._walk, self._x = walk, x
        self._values, self._fill_channel, self._last_k = None, -1, -2
        self._redraw, self._tags_for = None, None
        self.tile = None
        if not same_input:
            self._channels, self._titled_channel = (), -1
        if walk is None or x is None:
            for panel in (*self.inputs, self.output):
                panel.plot.setVisible(False)
            self._tiling = None
            self.tile_changed.emit()
            return
        if not same_input:
            self._levels = _finite_range(x)
            self._padded = None if walk.spec.transposed else walk.geometry.build(x)
            self._in_scale = max(abs(self._levels[0]), abs(self._levels[1]))
            self._label_chars = _longest_label(x)
            self._short_chars = _longest_label(x, scale=self._in_scale)
        n_panels = 1 if walk.spec.transposed else min(walk.taps_shape[0], MAX_INPUT_PANELS)
        for p, panel in enumerate(self.inputs):
            panel.plot.setVisible(p < n_panels)
            panel.plot.setMinimumWidth(0)
            panel.plot.setMaximumWidth(UNBOUNDED if p < n_panels else 0)  # a hidden panel takes no room
            if same_input:
                panel.clear_window()
            else:
                panel.clear()
        reached, driver = self._reached_and_driver()
        self._whole = shows_whole(reached, driver)
        self._target, self._short = self._choose(self.width(), self.height())
        self._tiling = None if self._whole else self._make_tiling(self._target)
        self._gap_offsets = _gap_offsets(walk)
        c_out, h_out, w_out = walk.output_shape
        out = self.output
        out.plot.setVisible(True)
        self._fill = np.full((h_out, w_out), np.nan, dtype=np.float64)
        out.clear()
        if self._whole:
            out.set_image(self._fill, self._out_levels)
            in_shape = x.shape[1:] if walk.spec.transposed else walk.geometry.padded_shape
            self._in_rect = ((0, in_shape[0]), (0, in_shape[1]))
            self._out_rect = ((0, h_out), (0, w_out))
            self._outline_output_cells()
            self._grid_inputs()
        else:
            # Nothing is framed until the first step enters its tile.
            self._in_rect = self._out_rect = ((0, 0), (0, 0))
            for panel in self.inputs:
                panel.labels.finish(0)
                panel.pad_labels.finish(0)
            out.set_region_image(self._fill[:1, :1], (0, 0), (h_out, w_out), self._out_levels)
        self._draw_pads(n_panels)
        self._arrange()
        self.tile_changed.emit()

    def _outline_output_cells(self) -> None:
        """A grid line round each output cell on screen (one outline round a large block)
        and the empty mesh behind them."""
        (r0, r1), (c0, c1) = self._out_rect
        h, w = r1 - r0, c1 - c0
        cx, cy = np.array([c0 + (w - 1) / 2]), np.array([r0 + (h - 1) / 2])
        out = self.output
        if 0 < h <= LABEL_CELLS and 0 < w <= LABEL_CELLS:
            jj, ii = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
            out.cells.show(jj.ravel(), ii.ravel())
        else:
            out.cells.show(cx, cy, w, h)
        out.empty.show(cx, cy, w, h)

    def _grid_inputs(self) -> None:
        """Grid lines round the input cells on screen (and a cell beyond a neighbourhood's
        edge, which the framing's margin shows), padding included: a white cell keeps its
        edge on the white background.  Once per geometry or neighbourhood, not per frame."""
        walk = self._walk
        h, w = self._x.shape[1:] if walk.spec.transposed else walk.geometry.padded_shape
        (r0, r1), (c0, c1) = self._in_rect
        margin = 0 if self._whole else 1
        rows = (max(r0 - margin, 0), min(r1 + margin, h))
        cols = (max(c0 - margin, 0), min(c1 + margin, w))
        for panel in self.inputs:
            if panel.plot.isVisible():
                panel.grid.set_cells(rows, cols)
            else:
                panel.grid.hide()

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

    def _source(self) -> np.ndarray:
        return self._x if self._walk.spec.transposed else self._padded

    def _show_channels(self, channels: tuple[int, ...], group: int) -> None:
        """Put input channels ``channels`` (padded) into the input panels."""
        if channels == self._channels:
            return
        self._channels = channels
        source = self._source()
        for panel, ch in zip(self.inputs, channels):
            panel.set_image(source[ch], self._levels, fit=self._whole)
            self._title(panel.plot, f"input channel {ch} (group {group})", f"input channel {ch}", f"input {ch}",
                        f"in {ch}", group=group)
        self._label_inputs()

    def _label_inputs(self, fit: bool = True) -> None:
        """A value label on every input cell on screen, and "(r,c)" under each copied pad cell;
        fitted to the cells unless ``fit`` is False (cells of the size they had) and no text
        grew longer."""
        source = self._source()
        (r0, r1), (c0, c1) = self._in_rect
        small = 0 < r1 - r0 <= LABEL_CELLS and 0 < c1 - c0 <= LABEL_CELLS
        # A cell's label keeps its slot (its row and column modulo the neighbourhood's
        # size) while the neighbourhood moves: a tile one column further on sets the
        # texts of the column it brings in, not of every cell (a cramped view's tile
        # moves every step).
        rows, cols = self._label_slots()
        for panel, ch in zip(self.inputs, self._channels):
            filled: set[int] = set()
            if small:
                block = source[ch, r0:r1, c0:c1]
                for r in range(r1 - r0):
                    for c in range(c1 - c0):
                        n = ((r0 + r) % rows) * cols + (c0 + c) % cols
                        filled.add(n)
                        key = (ch, r0 + r, c0 + c, self._short)
                        if panel.labels.holds(n, key):
                            continue
                        value = block[r, c]
                        panel.labels.set(n, c0 + c, r0 + r, self._in_text(value), light=panel.is_dark(value, self._levels),
                                         key=key)
            panel.labels.finish_slots(rows * cols if small else 0, filled)
            self._label_pad_sources(panel, source[ch], small)
        if fit or any(panel.labels.refit or panel.pad_labels.refit for panel in self.inputs):
            self._fit_labels()

    def _label_slots(self) -> tuple[int, int]:
        """(rows, cols) of the input labels' slots: the input cells a whole neighbourhood
        shows (every cell on screen when drawn whole)."""
        (r0, r1), (c0, c1) = self._in_rect
        rows, cols = r1 - r0, c1 - c0
        if self._tiling is not None and not self._whole:
            t = self._tiling
            full = t.driver_cells if self._walk.spec.transposed else t.reached_cells
            rows, cols = max(rows, full[0]), max(cols, full[1])
        return max(rows, 1), max(cols, 1)

    def _in_text(self, value: float) -> str:
        """An input cell's label: the value, or, where the cells are too narrow for it
        (several channels side by side), rounded as a colour bar reads (the hover and the
        arithmetic keep every digit)."""
        return short_text(value, self._in_scale) if self._short else format_cell(value)

    def _label_pad_sources(self, panel: InputPlot, padded: np.ndarray, small: bool) -> None:
        """A small "(r,c)" under each copied pad cell on screen: the real pixel it repeats."""
        walk = self._walk
        geometry = walk.geometry
        n = 0
        if small and not walk.spec.transposed and geometry.mode != "zeros":
            (r0, r1), (c0, c1) = self._in_rect
            for r in range(r0, r1):
                for c in range(c0, c1):
                    if geometry.rows.on_pad(r) or geometry.cols.on_pad(c):
                        sr, sc = int(geometry.rows.source(r)), int(geometry.cols.source(c))
                        light = panel.is_dark(padded[r, c], self._levels)
                        panel.pad_labels.set(n, c, r + PAD_SOURCE_BELOW, f"({sr},{sc})", light=light)
                        n += 1
        panel.pad_labels.finish(n)

    def set_output_values(self, values: np.ndarray | None, levels: tuple[float, float]) -> None:
        """The whole output (C, H, W) that cells fill in from; None while it is not known."""
        self._values = values
        self._out_levels = levels
        self._last_k = -2  # refill on the next frame

    # -- neighbourhoods -------------------------------------------------------------------
    def _enter_tile(self, tile: Neighbourhood) -> None:
        """Frame the neighbourhood ``tile``: its input and output cells, labelled."""
        self.tile = tile
        # A tile of the same size as the last one (the usual move) keeps the cells' size on
        # screen: the labels need no refit.
        old = (_rect_shape(self._in_rect), _rect_shape(self._out_rect))
        if self._walk.spec.transposed:
            self._in_rect = (tile.driver_rows, tile.driver_cols)
            self._out_rect = (tile.reached_rows, tile.reached_cols)
        else:
            self._in_rect = (tile.reached_rows, tile.reached_cols)
            self._out_rect = (tile.driver_rows, tile.driver_cols)
        # Each panel's new range asks for a refit of every panel's labels: one, once all are framed.
        self._fit_held = True
        try:
            for panel in self.inputs[: len(self._channels)]:
                panel.show_region(*self._in_rect)
            self.output.show_region(*self._out_rect)
        finally:
            self._fit_held = False
        self._outline_output_cells()
        self._grid_inputs()
        self._label_inputs(fit=old != (_rect_shape(self._in_rect), _rect_shape(self._out_rect)))
        self._relabel_output()
        self.tile_changed.emit()

    def _follow(self, i: int, j: int) -> None:
        """Enter the tile holding driver cell (i, j) if it is not the one on screen."""
        if self._whole:
            return
        tile = self._tiling.at(i, j)
        if tile != self.tile:
            self._enter_tile(tile)

    # -- per frame ----------------------------------------------------------------------
    def show_step(self, step: Step) -> None:
        """Draw step ``step``: its window and weights on each input channel, its output cell, the fill."""
        self._redraw = lambda: self.show_step(step)
        walk = self._walk
        self._show_channels(tuple(int(c) for c in step.in_channels[:MAX_INPUT_PANELS]), step.group)
        oc, (i, j) = step.out_channel, step.position
        self._follow(i, j)
        taps = step.taps
        _, kh, kw = step.taps_shape
        per = kh * kw
        dkh, dkw = walk.spec.dilated_kernel_hw
        top, left = step.window_origin
        prev_origin = self._prev_origin if self._last_k == step.k - 1 else None
        texts = self._weight_texts(step)
        gap_rows, gap_cols = self._gap_offsets
        for p, panel in enumerate(self.inputs[: len(self._channels)]):
            sl = slice(p * per, (p + 1) * per)
            panel.taps.show(taps.padded_col[sl], taps.padded_row[sl])
            panel.weights.show(taps.padded_col[sl], taps.padded_row[sl], texts[sl])
            if len(gap_rows):
                panel.gaps.show(left + gap_cols, top + gap_rows)
            panel.extent.show(left + (dkw - 1) / 2, top + (dkh - 1) / 2, dkw, dkh)
            if prev_origin is not None and prev_origin != (top, left):
                panel.ghost.show(prev_origin[1] + (dkw - 1) / 2, prev_origin[0] + (dkh - 1) / 2, dkw, dkh)
            else:
                panel.ghost.hide()
        self._prev_origin = (top, left)
        first = self.inputs[0]
        if first.labels.shift_px * 2 != first.weights.band_px():  # the tags came or changed size
            self._fit_labels()
        self._fill_to(step.k, oc, i, j, step.total)
        self.output.current.show(j, i)
        if oc != self._titled_channel:  # a title change re-lays out the scene: not per frame
            self._titled_channel = oc
            self._title(self.output.plot, f"output channel {oc}, filling in row by row", f"output channel {oc}", f"out {oc}")

    def _weight_texts(self, step: Step) -> list[str]:
        """The tags' texts: the weights this step's taps multiply by, in the orientation the
        window applies them (flipped for a true convolution: what PyTorch receives)."""
        key = (self._walk, step.out_channel)
        if self._tags_for != key:
            weights = step.taps.weight
            scale = float(np.abs(weights).max()) if weights.size else 0.0
            self._tag_texts = [weight_text(float(w), scale) for w in weights]
            self._tags_for = key
        return self._tag_texts

    def _fill_to(self, k: int, oc: int, i: int, j: int, total: float) -> None:
        """Output cells up to (i, j) of channel ``oc`` filled, later ones empty."""
        if k == self._last_k + 1 and oc == self._fill_channel:
            self._fill[i, j] = total
            self._label_output_cell(i, j)
        else:
            # Row by row, not through a flat copy of the channel: a channels_last output's
            # channel is strided, and reshaping it would copy all of it.
            fill = self._fill
            if self._values is not None:
                fill[:i] = self._values[oc, :i]
                fill[i, :j] = self._values[oc, i, :j]
            else:
                fill[:i] = np.nan
                fill[i, :j] = np.nan
            fill[i, j] = total
            fill[i, j + 1:] = np.nan
            fill[i + 1:] = np.nan
            self._fill_channel = oc
            self._relabel_output()
        self._last_k = k
        self._show_fill()

    def _show_fill(self) -> None:
        """The output's cells on screen, coloured: the whole output, or the neighbourhood's."""
        if self._whole:
            self.output.image.setImage(self._fill, autoLevels=False, levels=self._out_levels)
        else:
            (r0, r1), (c0, c1) = self._out_rect
            self.output.set_region_image(self._fill[r0:r1, c0:c1], (r0, c0), self._fill.shape, self._out_levels)
        if self.output.labels.refit:
            self._fit_labels()

    def _labelled_output(self) -> bool:
        h, w = _rect_shape(self._out_rect)
        return 0 < h <= LABEL_CELLS and 0 < w <= LABEL_CELLS

    def _label_output_cell(self, i: int, j: int) -> None:
        """Relabel one output cell, if it is on screen."""
        (r0, r1), (c0, c1) = self._out_rect
        if self._labelled_output() and r0 <= i < r1 and c0 <= j < c1:
            self._set_output_label((i - r0) * (c1 - c0) + (j - c0), i, j)

    def _set_output_label(self, n: int, i: int, j: int) -> None:
        value = float(self._fill[i, j])
        if np.isnan(value):
            text = ""
        elif self._short:
            text = short_text(value, max(abs(self._out_levels[0]), abs(self._out_levels[1])))
        else:
            text = format_cell(value)
        self.output.labels.set(n, j, i, text, self.output.is_dark(value, self._out_levels))

    def _relabel_output(self) -> None:
        """A label on every output cell on screen (empty while not computed yet)."""
        if not self._labelled_output():
            self.output.labels.finish(0)
            return
        (r0, r1), (c0, c1) = self._out_rect
        n = 0
        for i in range(r0, r1):
            for j in range(c0, c1):
                self._set_output_label(n, i, j)
                n += 1
        self.output.labels.finish(n)

    def show_stamp(self, stamp: Stamp, out_channel: int, accumulated: np.ndarray) -> None:
        """A transposed conv's scatter step: the input pixel, where its products land and
        the weights they were multiplied by."""
        self._redraw = lambda: self.show_stamp(stamp, out_channel, accumulated)
        c_in, (r, c) = stamp.in_channel, stamp.position
        self._show_channels((c_in,), stamp.group)
        self._follow(r, c)
        panel = self.inputs[0]
        panel.taps.show(c, r)
        mask = (stamp.out_channel == out_channel) & stamp.inside
        self._fill = accumulated
        self._last_k = -2
        if self._whole:
            self.output.image.setImage(np.ascontiguousarray(accumulated, dtype=np.float32), autoLevels=False,
                                       levels=self._out_levels)
        else:
            (r0, r1), (c0, c1) = self._out_rect
            self.output.set_region_image(accumulated[r0:r1, c0:c1], (r0, c0), accumulated.shape, self._out_levels)
        self.output.stamp.show(stamp.out_col[mask], stamp.out_row[mask])
        weights = stamp.weight[mask]
        scale = float(np.abs(stamp.weight).max()) if stamp.weight.size else 0.0
        self.output.weights.show(stamp.out_col[mask], stamp.out_row[mask], [weight_text(float(w), scale) for w in weights])
        if self.output.labels.shift_px * 2 != self.output.weights.band_px():
            self._fit_labels()
        self._relabel_output()
        if self.output.labels.refit:
            self._fit_labels()
        if out_channel != self._titled_channel:
            self._titled_channel = out_channel
            self._title(self.output.plot, f"output channel {out_channel}: sum of the stamps so far",
                        f"output {out_channel}: stamps", f"out {out_channel}")

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
        shown = cells[cells[:, 0] == out_channel] if len(cells) else cells
        self.output.show_mismatches(shown[:, 1:] if len(shown) else np.zeros((0, 2), int))

    # -- layout and labels --------------------------------------------------------------
    def _fit_labels(self, *_) -> None:
        """Value labels and weight tags sized to the cells on screen (called when the zoom
        or the size changes)."""
        if self._fit_held:
            return
        # The tags first: a value label fits below the band its cell's tag takes.
        for panel in self.inputs:
            px = panel.cell_pixels()
            panel.weights.fit(px)
            panel.labels.fit(px, panel.weights.band_px())
            panel.pad_labels.fit(px)
            panel.grid.fit(px)
        px = self.output.cell_pixels()
        self.output.weights.fit(px)
        self.output.labels.fit(px, self.output.weights.band_px())

    def _title(self, plot: pg.PlotItem, *titles: str, group: int | None = None) -> None:
        """A panel's title: the longest of ``titles`` (plain text) its panel is wide enough
        for, the shortest elided when none is; in ``group``'s hue, darkened for text."""
        self._titles[id(plot)] = (plot, titles, group)
        self._fit_title(plot, titles, group)

    def _fit_title(self, plot: pg.PlotItem, titles: tuple[str, ...], group: int | None) -> None:
        width = plot.geometry().width()
        text = fitted_title(titles, width)
        if group is None:
            colour = style.colour("DIAGRAM_TEXT")
        else:  # the diagram's hue, dark enough for text (darker still in high contrast)
            darker = TITLE_DARKER * (2 if style.high_contrast() else 1)
            colour = group_colour(group).darker(darker).name()
        weight = "bold" if style.high_contrast() else "normal"
        html = f"<span style='color:{colour}; font-weight:{weight}'>{html_escape(text)}</span>"
        size = f"{scaled(TITLE_PT)}pt"
        if html != plot.titleLabel.text or plot.titleLabel.opts.get("size") != size:
            plot.setTitle(html, size=size)

    def _fit_titles(self) -> None:
        for plot, titles, group in self._titles.values():
            self._fit_title(plot, titles, group)

    def title_text(self, plot: pg.PlotItem) -> str:
        """The plain text of a panel's title as shown (tests read it)."""
        return QTextDocumentFragment.fromHtml(plot.titleLabel.text).toPlainText()

    def _on_theme(self, _high_contrast: bool) -> None:
        """Pens, label colours and titles in the theme that is on."""
        for panel in (*self.inputs, self.output):
            panel.restyle()
        self._fit_titles()

    def _on_text_zoom(self, _factor: float) -> None:
        """Titles, labels and tags at the new text size."""
        self._channels, self._titled_channel = (), -1  # titles set again at the new size
        self._arrange()  # a neighbourhood of larger cells (redrawn if it changed)
        if self._redraw is not None:
            self._redraw()
        self._fit_labels()

    def _panel_cells(self, target: tuple[int, int]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(rows, cols) on screen of each visible input panel, and of the output panel, with
        neighbourhoods of ``target`` cells."""
        walk = self._walk
        n = sum(panel.plot.isVisible() for panel in self.inputs) or 1
        reached, driver = self._reached_and_driver()
        if not shows_whole(reached, driver):
            t = self._make_tiling(target)
            reached, driver = t.reached_cells, t.driver_cells
        inputs, output = (driver, reached) if walk.spec.transposed else (reached, driver)
        return [inputs] * n, [output]

    def _layout(self, width: float, height: float, target: tuple[int, int]) -> tuple[bool, float]:
        """(output below the inputs?, screen pixels per cell) in a view ``width`` × ``height``."""
        inputs, output = self._panel_cells(target)
        width, height = max(width, 1.0), max(height, 1.0)
        beside = _cell_size(width, height, inputs + output)
        below = min(_cell_size(width, height / 2, inputs), _cell_size(width, height / 2, output))
        if len(inputs) > 1 and below > BELOW_GAIN * beside:
            return True, below
        return False, beside

    def _readable_px(self, chars: int) -> float:
        """Cell pixels that hold the input's long values (``chars`` characters) at the
        smallest label size, times the text zoom: zoomed in, the neighbourhood shows fewer,
        larger cells."""
        px = max(READABLE_CELL_PX, MIN_LABEL_PX * DIGIT_WIDTH * chars / TEXT_SHARE)
        return px * text_zoom().factor

    def _target_for(self, width: float, height: float) -> tuple[int, int]:
        return self._choose(width, height)[0]

    def _choose(self, width: float, height: float) -> tuple[tuple[int, int], bool]:
        """((rows, cols) of the neighbourhood, rounded labels?): the largest square (up to
        TARGET_CELLS a side) whose cells are readable, then longer along a panel's long side
        while the cells keep their size.  Where no neighbourhood's cells hold the full
        values (three channels side by side at 1280x720), the values rounded as a colour bar
        reads them, in the largest cells: a tile of one window."""
        if self._walk is None or self._whole:
            return (TARGET_CELLS, TARGET_CELLS), False
        spec = self._walk.spec
        # MIN_TILE windows a side where the numbers stay readable so: a tile of one window
        # moves (and relabels every cell) on every step.
        smallest = max(MIN_TARGET_CELLS, *(e + (MIN_TILE - 1) * st for e, st in zip(spec.dilated_kernel_hw, spec.stride_hw)))
        one = max(MIN_TARGET_CELLS, *spec.dilated_kernel_hw)
        side, short = None, False
        for short, chars in ((False, self._label_chars), (True, self._short_chars)):
            readable = self._readable_px(chars)
            for t in range(max(TARGET_CELLS, smallest), smallest - 1, -1):
                if self._layout(width, height, (t, t))[1] >= readable:
                    side = t
                    break
            else:
                # Not readable even so: a tile of one window, if that lets the numbers show
                # (the tile then moves every step; the numbers are what the view is for).
                if self._layout(width, height, (one, one))[1] >= readable:
                    side = one
            if side is not None or chars <= self._short_chars:
                break
        if side is None:
            side, short = one, self._short_chars < self._label_chars
        cell = self._layout(width, height, (side, side))[1]
        rows, cols = side, side
        for axis in (0, 1):
            while (rows, cols)[axis] < MAX_TARGET_CELLS:
                grown = (rows + 1, cols) if axis == 0 else (rows, cols + 1)
                if self._layout(width, height, grown)[1] < cell - 0.5:
                    break
                rows, cols = grown
        return (rows, cols), short

    def cell_size_for(self, width: float, height: float) -> float:
        """Screen pixels per cell the panels would get in a view ``width`` × ``height``
        (for the dock, to place its other widgets where they cost the cells least)."""
        if self._walk is None:
            return 0.0
        return self._layout(width, height, self._target_for(width, height))[1]

    def _arrange(self) -> None:
        """The output beside the inputs, or below them when that shows bigger cells (several
        channels); a neighbourhood as large as keeps its cells readable."""
        if self._walk is None:
            return
        if not self._whole:
            target, short = self._choose(self.width(), self.height())
            if short != self._short:
                self._short = short
                for panel in (*self.inputs, self.output):
                    panel.labels.longest = 0  # the font fits the texts of the new form
                if self.tile is not None:
                    self._label_inputs()
                    self._relabel_output()
            if target != self._target:
                self._target = target
                self._tiling = self._make_tiling(target)
                self.tile = None
                if self._redraw is not None:
                    self._redraw()
        width = max(self.width() - 2 * CONTENT_MARGIN, 1)
        want_below, cell = self._layout(width, self.height(), self._target)
        grid = self.ci.layout
        grid.setHorizontalSpacing(0)
        inputs, (output,) = self._panel_cells(self._target)
        # Column widths that give every panel the same cell size: the inputs as wide as
        # their cells, the output the rest of the row (or, below them, the whole row).
        each = width / len(inputs) if want_below else min(cell * inputs[0][1] + PANEL_MARGIN_PX,
                                                          (width - cell * output[1]) / len(inputs))
        for p in range(MAX_INPUT_PANELS):
            grid.setColumnFixedWidth(p, each if p < len(inputs) else 0)
        grid.setColumnFixedWidth(MAX_INPUT_PANELS, 0 if want_below else max(width - each * len(inputs), 1))
        if want_below == self._output_below:
            return
        self._output_below = want_below
        # Straight on the Qt grid layout: pyqtgraph's removeItem would take the plot out of the scene.
        grid.removeItem(self.output.plot)
        if want_below:
            grid.addItem(self.output.plot, 1, 0, 1, MAX_INPUT_PANELS)
        else:
            grid.addItem(self.output.plot, 0, MAX_INPUT_PANELS)

    _fit_held = False  # a neighbourhood is being framed: ``_enter_tile`` fits the labels once it is
    _title_timer: QTimer | None = None  # pyqtgraph resizes the view before ``__init__`` makes it

    def _refit_titles_later(self) -> None:
        if self._title_timer is not None and not self._title_timer.isActive():
            self._title_timer.start()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()
        # The panels get their widths when the layout runs: fit the titles to them then.
        self._refit_titles_later()

    # -- the pointer ------------------------------------------------------------------------
    @staticmethod
    def _cell_at(panel: CellPlot, scene_pos) -> tuple[int, int] | None:
        return panel.cell_at(scene_pos)

    def _on_mouse_moved(self, scene_pos) -> None:
        cell = self.output.cell_at(scene_pos)
        hint = cell if cell is not None else (-1, -1)
        if hint != self._hover_hint:
            self._hover_hint = hint
            self.output_hovered.emit(*hint)
        self.hovered.emit(self.describe(scene_pos))

    def describe(self, scene_pos) -> str:
        """What the pointer is over, in words ("" when nothing)."""
        if self._walk is None:
            return ""
        cell = self.output.cell_at(scene_pos)
        if cell is not None:
            value = self._fill[cell]
            shown = "not computed yet" if np.isnan(value) else format_readout(value)
            return f"output ({cell[0]}, {cell[1]}): {shown}; click to jump there"
        for panel, ch in zip(self.inputs, self._channels):
            cell = panel.cell_at(scene_pos)
            if cell is not None:
                return self.describe_input_cell(ch, *cell) + "; click to move the window here"
        return ""

    def describe_input_cell(self, channel: int, r: int, c: int) -> str:
        """An input panel's cell: a real pixel, or a pad cell and the pixel it copies."""
        walk = self._walk
        if walk.spec.transposed:
            return f"input ({channel}, {r}, {c}) = {format_readout(self._x[channel, r, c])}"
        geometry = walk.geometry
        sr, sc = int(geometry.rows.source(r)), int(geometry.cols.source(c))
        if not (geometry.rows.on_pad(r) or geometry.cols.on_pad(c)):
            return f"input ({channel}, {sr}, {sc}) = {format_readout(self._x[channel, sr, sc])}"
        if sr == NO_SOURCE or sc == NO_SOURCE:
            return f"padding ({r}, {c}): zero"
        value = format_readout(self._x[channel, sr, sc])
        return f"padding ({r}, {c}), {geometry.mode}: copies pixel ({sr}, {sc}) = {value}"

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._walk is None:
            return
        cell = self.output.cell_at(event.scenePos())
        if cell is not None:
            self.output_clicked.emit(*cell)
            return
        for panel in self.inputs[: len(self._channels)]:
            cell = panel.cell_at(event.scenePos())
            if cell is not None:
                self.input_clicked.emit(*cell)
                return


def _title_font() -> QFont:
    font = QFont()
    font.setPointSize(scaled(TITLE_PT))
    font.setBold(style.high_contrast())
    return font


def _title_width(text: str) -> float:
    """Pixels a title (plain text) takes at the zoomed title size, with the label's margins."""
    return QFontMetricsF(_title_font()).horizontalAdvance(text) + TITLE_SLACK_PX


def fitted_title(titles: tuple[str, ...], width: float) -> str:
    """The longest of ``titles`` that fits ``width`` pixels; the shortest elided to fit when
    none does (a title cut at both ends reads as another word: "utput channel")."""
    if width <= 0:
        return titles[0]
    for text in titles:
        if _title_width(text) <= width:
            return text
    room = max(width - TITLE_SLACK_PX, 0.0)
    return QFontMetricsF(_title_font()).elidedText(titles[-1], Qt.TextElideMode.ElideRight, room) or "\u2026"


def short_text(value: float, scale: float) -> str:
    """A value for a narrow cell: rounded as a colour bar reads it (``display.cell_text``),
    without the leading zero (".573", "-.25"), as the weight tags print theirs."""
    text = cell_text(value, scale, short=True)
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def _gap_offsets(walk: ConvWalk) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols), from the window's origin, of the cells a dilated window spans but no
    weight reads (none without dilation)."""
    dh, dw = walk.spec.dilation_hw
    if walk.spec.transposed or (dh == 1 and dw == 1):
        return np.zeros(0), np.zeros(0)
    dkh, dkw = walk.spec.dilated_kernel_hw
    rows, cols = np.mgrid[0:dkh, 0:dkw]
    skipped = (rows % dh != 0) | (cols % dw != 0)
    return rows[skipped].astype(float), cols[skipped].astype(float)


def _longest_label(x: np.ndarray, sample: int = 4096, scale: float | None = None) -> int:
    """Characters of a long value label of ``x``: the 90th percentile over a spread-out
    sample (a photo's rare "0.003922" beside its usual "0.3206" would make every
    neighbourhood smaller for a few cells; the labels' font fits the longest on screen)."""
    flat = x.reshape(-1)
    step = max(1, flat.size // sample)
    if scale is None:
        lengths = [len(format_cell(float(v))) for v in flat[::step]]
    else:  # rounded, as narrow cells print them
        lengths = [len(short_text(float(v), scale)) for v in flat[::step]]
    return int(np.percentile(lengths, 90)) if lengths else 1


def _finite_range(x: np.ndarray) -> tuple[float, float]:
    """(lo, hi) of the finite values, hi > lo; one pass over ``x`` unless it holds NaN or inf."""
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        finite = x[np.isfinite(x)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return lo, (hi if hi > lo else lo + 1.0)
