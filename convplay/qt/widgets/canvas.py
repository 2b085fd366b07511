"""A drawable image: pen and eraser strokes on a (C, H, W) float array, shown by pyqtgraph.

The canvas owns a working copy of the image and paints into it; it tells the panel when a
stroke starts, moves and ends, and the panel decides what reaches the session (throttled
during the stroke, one undo step per stroke).  Left-drag paints; middle-drag pans and the
wheel zooms, as in every pyqtgraph view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QTransform
from PySide6.QtWidgets import QWidget

from convplay.core.formatting import format_cell, format_readout
from convplay.qt import style
from convplay.qt.widgets.cell_labels import is_dark_rgb, label_px
from convplay.qt.zoom import scaled, text_zoom

PEN, ERASER = "pen", "eraser"
MAX_LABELLED_SIDE = 16  # inputs up to 16 x 16 show their values in the cells
LABEL_MAX_PX = 16  # at the normal text zoom: read up close while drawing; the zoom raises it
LABEL_HEIGHT_SHARE = 0.6  # one number per cell: it may take most of the cell's height
# Read up close while drawing, not from the back of a room (cell_labels.MIN_LABEL_PX):
# "1/0/2" stays legible down to here, and hides below.
LABEL_MIN_PX = 6
CONTENT_MARGIN = 2  # pixels around the view
FIT_PADDING = 0.02  # the view fitted to a new image leaves this fraction of it as a margin


class _PaintableImage(pg.ImageItem):
    """An ImageItem that turns left-button drags and clicks into calls on its canvas."""

    def __init__(self, canvas: "DrawingCanvas"):
        super().__init__(axisOrder="row-major")
        self._canvas = canvas

    def mouseDragEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or _picking(ev):
            ev.ignore()  # the view box pans; a Ctrl+drag draws nothing
            return
        ev.accept()
        pos = ev.pos()
        if ev.isStart():
            self._canvas.begin_stroke()
            self._canvas.paint_segment(_cell(ev.buttonDownPos()), _cell(pos))
        else:
            self._canvas.paint_segment(_cell(ev.lastPos()), _cell(pos))
        if ev.isFinish():
            self._canvas.end_stroke()

    def mouseClickEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if _picking(ev):  # Ctrl+click picks a pixel (the sliding window goes there) and draws nothing
            pos = ev.pos()
            self._canvas.picked.emit(int(np.floor(pos.y())), int(np.floor(pos.x())))
            return
        point = _cell(ev.pos())
        self._canvas.begin_stroke()
        self._canvas.paint_segment(point, point)
        self._canvas.end_stroke()


def _picking(ev) -> bool:
    return bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)


def _cell(pos: QPointF) -> tuple[float, float]:
    """(row, col) in cell units from item coordinates (cell (r, c) spans [c, c+1) x [r, r+1))."""
    return (pos.y() - 0.5, pos.x() - 0.5)


class DrawingCanvas(pg.GraphicsLayoutWidget):
    """Shows a (C, H, W) image (gray, or RGB when C == 3) and paints strokes into it.

    Signals: ``stroke_started``, ``stroke_painted`` (the working image changed),
    ``stroke_finished``, ``hovered(str)`` (a readout of the cell under the pointer),
    ``picked(row, col)`` (a Ctrl+click: a pixel picked, nothing drawn).
    """

    stroke_started = Signal()
    stroke_painted = Signal()
    stroke_finished = Signal()
    hovered = Signal(str)
    picked = Signal(int, int)  # Ctrl+click on pixel (row, col): pick it (the sliding window's position)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tool = PEN
        self.brush_size = 3
        self.value = 1.0
        self._image = np.zeros((1, 8, 8))
        self._levels = (0.0, 1.0)
        self._in_stroke = False
        self._labels: list[pg.TextItem] = []
        self._labelled = 0  # labels in use: one per cell of a small image, else none
        self.ci.setContentsMargins(*(CONTENT_MARGIN,) * 4)
        self.setBackground(QColor(style.CANVAS_BACKGROUND))
        self.view_box: pg.ViewBox = self.addViewBox(lockAspect=True, invertY=True)
        self.view_box.setMenuEnabled(False)
        self.image_item = _PaintableImage(self)
        # Cells centred on integer coordinates: pixel (r, c) covers [c-0.5, c+0.5].
        self.image_item.setTransform(QTransform().translate(-0.5, -0.5))
        self.view_box.addItem(self.image_item)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._label_px = 0
        self.view_box.sigRangeChanged.connect(self._fit_labels)
        self.view_box.sigResized.connect(self._fit_labels)
        text_zoom().changed.connect(self._on_text_zoom)  # Qt disconnects it when the canvas goes
        self._show(fit=True)

    # -- state -------------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        """The working image (C, H, W); the canvas paints into it in place."""
        return self._image

    @property
    def in_stroke(self) -> bool:
        return self._in_stroke

    def set_image(self, image: np.ndarray) -> None:
        """Show a copy of ``image``; the display range is fixed here, not per stroke."""
        image = np.array(image, dtype=np.float64)
        reshaped = image.shape[1:] != self._image.shape[1:]
        self._image = image
        lo, hi = float(image.min(initial=0.0)), float(image.max(initial=1.0))
        self._levels = (min(lo, 0.0), max(hi, 1.0))
        self._show(fit=reshaped)

    # -- painting ----------------------------------------------------------------------
    def begin_stroke(self) -> None:
        self._in_stroke = True
        self.stroke_started.emit()

    def paint_segment(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Paint every cell within brush_size / 2 of the segment start-end (row, col units)."""
        _, h, w = self._image.shape
        radius = self.brush_size / 2
        (r0, c0), (r1, c1) = start, end
        top = max(0, int(np.floor(min(r0, r1) - radius)))
        bottom = min(h, int(np.ceil(max(r0, r1) + radius)) + 1)
        left = max(0, int(np.floor(min(c0, c1) - radius)))
        right = min(w, int(np.ceil(max(c0, c1) + radius)) + 1)
        if top >= bottom or left >= right:
            return
        rows, cols = np.mgrid[top:bottom, left:right]
        mask = _distance_to_segment(rows, cols, (r0, c0), (r1, c1)) <= radius
        if not mask.any():
            return
        value = 0.0 if self.tool == ERASER else self.value
        self._image[:, top:bottom, left:right][:, mask] = value
        if value < self._levels[0] or value > self._levels[1]:
            self._levels = (min(self._levels[0], value), max(self._levels[1], value))
        self._show(fit=False)
        self.stroke_painted.emit()

    def end_stroke(self) -> None:
        if self._in_stroke:
            self._in_stroke = False
            self.stroke_finished.emit()

    # -- view ------------------------------------------------------------------------
    def cell_text(self, row: int, col: int) -> str:
        """The values at (row, col) as shown in the hover readout; "" outside the image."""
        c, h, w = self._image.shape
        if not (0 <= row < h and 0 <= col < w):
            return ""
        values = self._image[:, row, col]
        text = format_readout(values[0]) if c == 1 else "(" + ", ".join(format_readout(v) for v in values) + ")"
        return f"input  row {row}, col {col}: {text}"

    def labels(self) -> list[str]:
        """The texts printed in the cells (none when the image is larger than 16 x 16 or
        its cells are too small on screen for legible text)."""
        return [label.toPlainText() for label in self._labels if label.isVisible()]

    def _show(self, fit: bool) -> None:
        c, h, w = self._image.shape
        shown = np.moveaxis(self._image, 0, -1) if c == 3 else self._image[0]
        self.image_item.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False, levels=self._levels)
        self._update_labels()
        if fit:
            self.view_box.autoRange(padding=FIT_PADDING)

    def _update_labels(self) -> None:
        c, h, w = self._image.shape
        labelled = max(h, w) <= MAX_LABELLED_SIDE
        needed = h * w if labelled else 0
        self._labelled = needed
        while len(self._labels) < needed:
            label = pg.TextItem(anchor=(0.5, 0.5))
            self.view_box.addItem(label, ignoreBounds=True)
            self._labels.append(label)
            self._label_px = 0  # the new labels get the fitted font below
        for n, label in enumerate(self._labels):
            if n >= needed:
                label.setVisible(False)
                continue
            r, col = divmod(n, w)
            values = self._image[:, r, col]
            # One number per cell: the value itself, or for RGB the channels separated by "/".
            label.setText("/".join(format_cell(v) for v in values))
            dark = is_dark_rgb(values if c == 3 else values[:1], self._levels)  # the colour drawn
            label.setColor(QColor(style.LIGHT_LABEL_TEXT if dark else style.LABEL_TEXT))
            label.setPos(col, r)
            label.setVisible(True)
        self._fit_labels()

    def _on_text_zoom(self, _factor: float) -> None:
        self._label_px = 0  # the same cells may now take a larger font
        self._fit_labels()

    def label_pixel_size(self) -> int:
        """The cell labels' font size in pixels (0 before any is sized)."""
        return self._label_px

    def _fit_labels(self, *_) -> None:
        """Size the cell labels to the cells on screen, so "1/0/2" stays inside its cell."""
        shown = [label.toPlainText() for label in self._labels[: self._labelled]]
        (x0, x1), _ = self.view_box.viewRange()
        width = self.view_box.width()
        if not shown or x1 <= x0 or width <= 0:
            return
        cell_px = width / (x1 - x0)
        longest = max(len(text) for text in shown)
        fitted = label_px(cell_px, longest, height_share=LABEL_HEIGHT_SHARE, max_px=scaled(LABEL_MAX_PX))
        legible = fitted >= LABEL_MIN_PX  # else hidden until the view zooms in
        for label in self._labels[: self._labelled]:
            label.setVisible(legible)
        px = int(max(fitted, LABEL_MIN_PX))
        if px != self._label_px:
            self._label_px = px
            font = QFont()
            font.setPixelSize(px)
            for label in self._labels:
                label.setFont(font)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")  # the pointer left: no cell is under it any more
        super().leaveEvent(event)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        point = self.view_box.mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y() + 0.5)), int(np.floor(point.x() + 0.5))
        inside = self.view_box.sceneBoundingRect().contains(scene_pos)
        self.hovered.emit(self.cell_text(row, col) if inside else "")


def _distance_to_segment(rows: np.ndarray, cols: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    """Distance from each cell centre (rows, cols) to the segment a-b."""
    (ar, ac), (br, bc) = a, b
    dr, dc = br - ar, bc - ac
    length2 = dr * dr + dc * dc
    if length2 == 0:
        t = np.zeros_like(rows, dtype=np.float64)
    else:
        t = np.clip(((rows - ar) * dr + (cols - ac) * dc) / length2, 0.0, 1.0)
    return np.hypot(rows - (ar + t * dr), cols - (ac + t * dc))
