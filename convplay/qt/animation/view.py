"""The sliding window drawn: padded input panels, the kernel's footprint, the output filling in.

Every graphics item is made when the geometry changes and only moved, shown, hidden or
relabelled per frame (the pools in ``pools.py``, owned by the panels in ``plots.py``), so
a frame costs O(taps) item updates plus one ``setImage`` of the output.

Coordinates: an input panel is drawn in padded coordinates (cell (r, c) of the padded
input at x=c, y=r), so padding cells are real cells of the picture; the output panel in
output coordinates.  Not-yet-computed output cells are NaN, which pyqtgraph leaves empty.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from convplay.core.formatting import format_cell, format_readout
from convplay.core.padding import NO_SOURCE
from convplay.core.walk import ConvWalk, Stamp, Step
from convplay.qt import style
from convplay.qt.animation.group_diagram import group_colour
from convplay.qt.animation.plots import FOLLOW_CELLS, CellPlot, InputPlot, OutputPlot

MAX_INPUT_PANELS = 4
LABEL_CELLS = 16  # padded inputs / outputs up to this size get a label in every cell
TITLE_SIZE = "11pt"
TITLE_ROOM_PX = 30  # of a panel's height, what its title line takes from the cells
# The output moves below several input panels only when that makes the cells at least
# this much bigger: a near tie keeps the scene where it is.
BELOW_GAIN = 1.1
PAD_SOURCE_BELOW = 0.3  # a pad cell's "(r,c)" sits this far below its value, in cells
TITLE_DARKER = 140  # a group's hue darkened for title text (QColor.darker's percent)
CONTENT_MARGIN = 2


def _cell_size(width: float, height: float, panels: list[tuple[int, int]]) -> float:
    """Screen pixels per cell when ``panels`` ((rows, cols) each) share one row of ``width`` × ``height``."""
    if not panels:
        return float("inf")
    each = width / len(panels)
    return min(min(each / cols, (height - TITLE_ROOM_PX) / rows) for rows, cols in panels)


class AnimationView(pg.GraphicsLayoutWidget):
    """Signals: ``output_clicked(i, j)``, ``output_hovered(i, j)`` ((-1, -1) off the output),
    ``hovered(str)``: what the cell under the pointer is (a pad cell names the pixel it copies)."""

    output_clicked = Signal(int, int)
    output_hovered = Signal(int, int)
    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        # pyqtgraph resizes the view inside its own __init__, before ours has run: the
        # state ``_arrange`` reads must exist first.
        self._walk: ConvWalk | None = None
        super().__init__(parent)
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
        self._fill = np.zeros((0, 0), dtype=np.float32)
        self._fill_channel = -1
        self._last_k = -2
        self._channels: tuple[int, ...] = ()
        self._hover_hint: tuple[int, int] = (-1, -1)
        self._prev_origin: tuple[int, int] = (0, 0)
        self._titled_channel = -1
        self._output_below = False
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        for panel in (*self.inputs, self.output):
            panel.view_box.sigRangeChanged.connect(self._fit_labels)
            panel.view_box.sigResized.connect(self._fit_labels)

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
        if not same_input:
            self._channels, self._titled_channel = (), -1
        if walk is None or x is None:
            for panel in (*self.inputs, self.output):
                panel.plot.setVisible(False)
            return
        if not same_input:
            self._levels = _finite_range(x)
            self._padded = None if walk.spec.transposed else walk.geometry.build(x)
        n_panels = 1 if walk.spec.transposed else min(walk.taps_shape[0], MAX_INPUT_PANELS)
        for p, panel in enumerate(self.inputs):
            panel.plot.setVisible(p < n_panels)
            if same_input:
                panel.clear_window()
            else:
                panel.clear()
        c_out, h_out, w_out = walk.output_shape
        out = self.output
        out.plot.setVisible(True)
        self._fill = np.full((h_out, w_out), np.nan, dtype=np.float32)
        out.set_image(self._fill, self._out_levels)
        centre_x, centre_y = np.array([(w_out - 1) / 2]), np.array([(h_out - 1) / 2])
        if h_out <= LABEL_CELLS and w_out <= LABEL_CELLS:
            jj, ii = np.meshgrid(np.arange(w_out), np.arange(h_out))
            out.cells.show(jj.ravel(), ii.ravel())
        else:
            out.cells.show(centre_x, centre_y, w_out, h_out)
        out.empty.show(centre_x, centre_y, w_out, h_out)
        out.clear()
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
        colour = group_colour(group).darker(TITLE_DARKER).name()  # the diagram's hue, dark enough for text
        for panel, ch in zip(self.inputs, channels):
            panel.set_image(source[ch], self._levels)
            panel.plot.setTitle(f"<span style='color:{colour}'>input channel {ch} (group {group})</span>", size=TITLE_SIZE)
            n = 0
            if small:
                for r in range(ph):
                    for c in range(pw):
                        value = source[ch, r, c]
                        panel.labels.set(n, c, r, format_cell(value), light=panel.is_dark(value, self._levels))
                        n += 1
            panel.labels.finish(n)
            self._label_pad_sources(panel, source[ch], small)
        self._fit_labels()

    def _label_pad_sources(self, panel: InputPlot, padded: np.ndarray, small: bool) -> None:
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
                        light = panel.is_dark(padded[r, c], self._levels)
                        panel.pad_labels.set(n, c, r + PAD_SOURCE_BELOW, f"({sr},{sc})", light=light)
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
        self._show_channels(tuple(int(c) for c in step.in_channels[:MAX_INPUT_PANELS]), step.group)
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

    def _labelled_output(self) -> bool:
        h, w = self._fill.shape
        return h <= LABEL_CELLS and w <= LABEL_CELLS

    def _set_output_label(self, n: int, i: int, j: int) -> None:
        value = float(self._fill[i, j])
        text = "" if np.isnan(value) else format_cell(value)
        self.output.labels.set(n, j, i, text, self.output.is_dark(value, self._out_levels))

    def _label_output(self, n: int, i: int, j: int) -> None:
        if self._labelled_output():
            self._set_output_label(n, i, j)

    def _relabel_output(self, last: int) -> None:
        """Labels on output cells 0 to ``last`` (row-major), none after it."""
        if not self._labelled_output():
            self.output.labels.finish(0)
            return
        w = self._fill.shape[1]
        for n in range(last + 1):
            self._set_output_label(n, *divmod(n, w))
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
        if self._labelled_output():
            self._relabel_output(self._fill.size - 1)
            if self.output.labels.refit:
                self._fit_labels()
        if mask.any():
            rows, cols = stamp.out_row[mask], stamp.out_col[mask]
            self.output.follow(int(cols.min()), int(rows.min()), int(cols.max() - cols.min() + 1),
                               int(rows.max() - rows.min() + 1))
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
        shown = cells[cells[:, 0] == out_channel] if len(cells) else cells
        self.output.show_mismatches(shown[:, 1:] if len(shown) else np.zeros((0, 2), int))

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

    def _layout(self, width: float, height: float) -> tuple[bool, float]:
        """(output below the inputs?, screen pixels per cell) in a view ``width`` × ``height``."""
        inputs, output = self._panel_cells()
        width, height = max(width, 1.0), max(height, 1.0)
        beside = _cell_size(width, height, inputs + output)
        below = min(_cell_size(width, height / 2, inputs), _cell_size(width, height / 2, output))
        if len(inputs) > 1 and below > BELOW_GAIN * beside:
            return True, below
        return False, beside

    def cell_size_for(self, width: float, height: float) -> float:
        """Screen pixels per cell the panels would get in a view ``width`` × ``height``
        (for the dock, to place its other widgets where they cost the cells least)."""
        if self._walk is None:
            return 0.0
        return self._layout(width, height)[1]

    def _arrange(self) -> None:
        """The output beside the inputs, or below them when that shows bigger cells (several channels)."""
        if self._walk is None:
            return
        want_below, _ = self._layout(self.width(), self.height())
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
                return self.describe_input_cell(ch, *cell)
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
        cell = self.output.cell_at(event.scenePos())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.output_clicked.emit(*cell)


def _finite_range(x: np.ndarray) -> tuple[float, float]:
    """(lo, hi) of the finite values, hi > lo; one pass over ``x`` unless it holds NaN or inf."""
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        finite = x[np.isfinite(x)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return lo, (hi if hi > lo else lo + 1.0)
