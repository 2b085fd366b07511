"""A centred 2-D spectrum in cycles per pixel, with a line through the origin the user turns.

The view's coordinates are frequencies: x is fx, y is fy, and y points down the screen
(``invertY``), as ``core.kernel_analysis`` lays the spectrum out (fy runs down the rows).
So an angle anticlockwise on screen from +fx, the module's convention, is the direction
(cos a, -sin a) in (fx, fy): 45 degrees points up and right.

Pixel (row i, col j) of an N x N spectrum is centred on (fx, fy) = ((j - N/2) / N,
(i - N/2) / N): the image item covers [-0.5 - 0.5/N, 0.5 - 0.5/N] on both axes.

Dragging anywhere on the picture (or clicking) turns the line to the pointer, so the
handle at its end need not be hit exactly; with Shift held the angle snaps to 15° steps.
The view does not pan or zoom (the whole spectrum always fits).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QPen
from PySide6.QtWidgets import QWidget

from convplay.qt import style
from convplay.qt.theme import theme
from convplay.qt.widgets.colorbar import ColorBar
from convplay.qt.widgets.lookup import colour_map
from convplay.qt.zoom import scaled, text_zoom

FREQUENCY_TICKS = (-0.5, -0.25, 0.0, 0.25, 0.5)
AXIS_POINT_SIZE = 8
HANDLE_RADIUS = 0.45  # cycles per pixel: where the handle sits on the line
HANDLE_SIZE = 11  # pixels
LUT_SIZE = 256
SNAP_DEGREES = 15  # Shift while dragging the cut


def tick_text(value: float) -> str:
    return "0" if value == 0 else f"{value:g}".replace("-", "−")


def frequency_ticks() -> list[list[tuple[float, str]]]:
    """-0.5, 0 and 0.5 always; the quarters as minor ticks, labelled when there is room."""
    major = [(v, tick_text(v)) for v in FREQUENCY_TICKS if v in (-0.5, 0.0, 0.5)]
    minor = [(v, tick_text(v)) for v in FREQUENCY_TICKS if v not in (-0.5, 0.0, 0.5)]
    return [major, minor]


def screen_angle(fx: float, fy: float) -> float:
    """The angle of (fx, fy) in degrees anticlockwise on screen from +fx (fy points down)."""
    return math.degrees(math.atan2(-fy, fx))


def direction(angle_degrees: float) -> tuple[float, float]:
    """(fx, fy) of a unit step at ``angle_degrees`` on screen."""
    a = math.radians(angle_degrees)
    return math.cos(a), -math.sin(a)


def drag_angle(fx: float, fy: float, snap: bool = False) -> float | None:
    """The cut's angle for a pointer at (fx, fy): whole degrees in [0, 180), or steps of
    SNAP_DEGREES with ``snap`` (Shift held: a hand aiming at 45° lands on 46°); None at the
    origin, which has no direction."""
    if math.hypot(fx, fy) < 1e-3:
        return None
    angle = screen_angle(fx, fy)
    step = SNAP_DEGREES if snap else 1
    return float(round(angle / step) * step % 180)


class _TurningViewBox(pg.ViewBox):
    """A view box whose left drags and clicks report the point under the pointer (view
    coordinates) instead of panning; the wheel does nothing."""

    def __init__(self, on_point):
        super().__init__(enableMenu=False)
        self._on_point = on_point
        self.setMouseEnabled(False, False)

    def _report(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        snap = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self._on_point(self.mapToView(ev.pos()), snap)

    def mouseDragEvent(self, ev, axis=None) -> None:
        self._report(ev)

    def mouseClickEvent(self, ev) -> None:
        self._report(ev)

    def wheelEvent(self, ev, axis=None) -> None:
        ev.ignore()


class SpectrumView(pg.GraphicsLayoutWidget):
    """An image of a centred spectrum with a colour bar and the cut's line.

    Signals: ``angle_dragged(float)`` the angle (degrees, in [0, 180)) the user turned
    the line to; ``hovered(float, float)`` the (fx, fy) under the pointer, NaN off the picture.
    """

    angle_dragged = Signal(float)
    hovered = Signal(float, float)

    def __init__(self, parent: QWidget | None = None, colormap: str = style.SEQUENTIAL):
        super().__init__(parent)
        self._size = 0
        self._angle = 0.0
        self._caption_text = ""
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.view_box = _TurningViewBox(self._on_point)
        self.plot_item = pg.PlotItem(viewBox=self.view_box)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.addItem(self.plot_item, row=0, col=0)
        self.view_box.setAspectLocked(True)
        self.view_box.invertY(True)
        for name in ("left", "bottom"):
            self.plot_item.getAxis(name).setTicks(frequency_ticks())
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image_item)
        # The line in two strokes, dark under light, so it shows on every colour of a map.
        self._line_under = pg.PlotCurveItem()
        self._line_over = pg.PlotCurveItem()
        self._handle = pg.ScatterPlotItem(size=HANDLE_SIZE, pxMode=True)
        for item in (self._line_under, self._line_over, self._handle):
            self.plot_item.addItem(item, ignoreBounds=True)
        self._line_under.setZValue(10)
        self._line_over.setZValue(11)
        self._handle.setZValue(12)
        self._colormap_name = ""
        self.colorbar = ColorBar(colour_map(colormap))
        self.addItem(self.colorbar, row=0, col=1)
        self.set_colormap(colormap)
        self.set_size(64)
        self._apply_theme()
        self._apply_palette()
        self._apply_zoom()
        theme().theme_changed.connect(self._apply_theme)
        text_zoom().changed.connect(self._apply_zoom)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # -- public API ------------------------------------------------------------------
    @property
    def angle(self) -> float:
        return self._angle

    @property
    def caption_text(self) -> str:
        return self._caption_text

    @property
    def colormap_name(self) -> str:
        return self._colormap_name

    def set_size(self, size: int) -> None:
        """Lay the image out for an ``size`` x ``size`` spectrum."""
        size = int(size)
        if size == self._size:
            return
        self._size = size
        half = 0.5 / size
        if self.image_item.image is not None:
            self.image_item.setRect(QRectF(-0.5 - half, -0.5 - half, 1.0, 1.0))
        self.view_box.setRange(xRange=(-0.5 - half, 0.5 + half), yRange=(-0.5 - half, 0.5 + half), padding=0)

    def set_image(self, image: np.ndarray, levels: tuple[float, float]) -> None:
        """Show ``image`` (size, size) with fixed ``levels``; never auto-levelled."""
        image = np.ascontiguousarray(image, dtype=np.float32)
        reshaped = self.image_item.image is None or self.image_item.image.shape != image.shape
        lo, hi = float(levels[0]), float(levels[1])
        if not hi > lo:
            hi = lo + 1.0
        self.image_item.setImage(image, autoLevels=False, levels=(lo, hi))
        if reshaped:  # setRect scales by the image's own size: it needs the new one set first
            self._size = 0
        self.set_size(image.shape[0])
        self.colorbar.setLevels((lo, hi))

    def set_colormap(self, name: str) -> None:
        if name == self._colormap_name:
            return
        self._colormap_name = name
        cmap = colour_map(name)
        self.image_item.setColorMap(cmap)
        self.colorbar.setColorMap(cmap)

    def set_caption(self, text: str) -> None:
        """What the colours show ("|H|, the magnitude"): the colour bar's tooltip."""
        self._caption_text = text
        self.colorbar.setToolTip(text)

    def set_angle(self, angle_degrees: float) -> None:
        """Turn the line to ``angle_degrees`` (anticlockwise on screen from +fx)."""
        self._angle = float(angle_degrees)
        dx, dy = direction(self._angle)
        xs = np.array([-0.5 * dx, 0.5 * dx])
        ys = np.array([-0.5 * dy, 0.5 * dy])
        self._line_under.setData(xs, ys)
        self._line_over.setData(xs, ys)
        self._handle.setData([HANDLE_RADIUS * dx], [HANDLE_RADIUS * dy])

    def handle_position(self) -> tuple[float, float]:
        """(fx, fy) of the handle's centre."""
        x, y = self._handle.getData()
        return float(x[0]), float(y[0])

    def pixel_frequency(self, row: int, col: int) -> tuple[float, float]:
        """(fx, fy) at the centre of pixel (row, col), as the image item places it."""
        p = self.image_item.mapToParent(QPointF(col + 0.5, row + 0.5))
        return p.x(), p.y()

    def sizeHint(self) -> QSize:
        return QSize(280, 220)  # pyqtgraph's hint is large; in a scroll area it would be the height

    # -- internals -------------------------------------------------------------------
    def _on_point(self, point: QPointF, snap: bool = False) -> None:
        angle = drag_angle(point.x(), point.y(), snap)
        if angle is not None:
            self.angle_dragged.emit(angle)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            self.hovered.emit(math.nan, math.nan)
            return
        p = self.view_box.mapSceneToView(scene_pos)
        self.hovered.emit(p.x(), p.y())

    def leaveEvent(self, event) -> None:
        self.hovered.emit(math.nan, math.nan)
        super().leaveEvent(event)

    def _apply_theme(self, *_) -> None:
        width = style.line_width(1.5)
        under = QPen(QColor("#000000"), width + 2)
        under.setCosmetic(True)
        over = QPen(QColor("#ffffff"), width)
        over.setCosmetic(True)
        self._line_under.setPen(under)
        self._line_over.setPen(over)
        self._handle.setPen(pg.mkPen("#000000", width=style.line_width(1.5)))
        self._handle.setBrush(pg.mkBrush("#ffffff"))
        self.colorbar.update()

    def _apply_palette(self) -> None:
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))
        text = self.palette().color(QPalette.ColorRole.WindowText)
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)

    def _apply_zoom(self, *_) -> None:
        font = QFont(self.font())
        font.setPointSize(scaled(AXIS_POINT_SIZE))
        for name, label in (("left", "fy ↓"), ("bottom", "fx, cycles/pixel")):
            axis = self.plot_item.getAxis(name)
            axis.enableAutoSIPrefix(False)
            axis.setStyle(tickFont=font, hideOverlappingLabels=scaled(30))  # end ticks may reach past the axis
            axis.setLabel(label, **{"font-size": f"{scaled(AXIS_POINT_SIZE)}pt"})

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plot_item"):
            self._apply_palette()
        super().changeEvent(event)
