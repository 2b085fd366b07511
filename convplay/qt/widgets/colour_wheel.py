"""The legend of the orientation view: a hue wheel, 0 degrees to the right, anticlockwise.

Each point of the disc is coloured as a pixel whose brightness increases in that
point's direction from the centre (``gradients.hue_rgb``, the picture's own formula), so
the wheel tells the truth about the angle drawn: hue is the direction, anticlockwise on
screen from +x, and the distance from the centre is the magnitude (the centre is a flat
area: dark).  The angle labels follow the text zoom and the theme's text colour.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from convplay.core.gradients import hue_rgb
from convplay.qt.widgets.lookup import argb_image
from convplay.qt.zoom import scaled, text_zoom

LABEL_POINT_SIZE = 8  # the angle labels, at zoom 1
WHEEL_MIN_PX = 48
WHEEL_MAX_PX = 140
LABELS = ((0, "0\u00b0"), (90, "90\u00b0"), (180, "180\u00b0"), (270, "270\u00b0"))


def wheel_pixels(size: int) -> np.ndarray:
    """(size, size) premultiplied ARGB32 words: the disc (transparent outside it).

    Screen row r is y = -(r - centre): up is +90 degrees, as the picture's hue says."""
    c = (size - 1) / 2.0
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    x, y = cols - c, c - rows
    radius = np.hypot(x, y) / max(c, 1.0)
    angle = np.degrees(np.arctan2(y, x))
    rgb = hue_rgb(angle, np.clip(radius, 0, 1))
    channels = np.clip(rgb * 256, 0, 255).astype(np.uint32)
    words = np.uint32(0xFF000000) | (channels[..., 0] << 16) | (channels[..., 1] << 8) | channels[..., 2]
    words[radius > 1.0] = 0
    return np.ascontiguousarray(words, dtype=np.uint32)


def wheel_colour_at(angle_degrees: float) -> tuple[int, int, int]:
    """The RGB (0-255) the wheel shows at its rim in direction ``angle_degrees`` (test hook)."""
    rgb = hue_rgb(np.float32(angle_degrees), 1.0)
    return tuple(int(v) for v in np.clip(rgb * 256, 0, 255).astype(int))


class ColourWheel(QWidget):
    """The hue wheel with its angle labels; ``title`` is a short line above it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._pixmap_size = 0
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setToolTip(
            "Orientation legend: the colour of a pixel is the direction in which the image gets "
            "brighter there, anticlockwise on screen from the right (0\u00b0 = brighter to the right, "
            "90\u00b0 = brighter upwards).  Distance from the centre is the magnitude: dark = flat."
        )
        self._apply_zoom()
        text_zoom().changed.connect(self._apply_zoom)

    def _apply_zoom(self, *_) -> None:
        font = QFont(self.font())
        font.setPointSize(scaled(LABEL_POINT_SIZE))
        self.setFont(font)
        self.updateGeometry()
        self.update()

    def _label_room(self) -> tuple[float, float]:
        metrics = self.fontMetrics()
        return float(metrics.horizontalAdvance("180\u00b0")), float(metrics.height())

    def sizeHint(self) -> QSize:
        w, h = self._label_room()
        side = 64
        return QSize(int(side + 2 * w + 8), int(side + 4 * h + 8))

    def minimumSizeHint(self) -> QSize:
        w, h = self._label_room()
        return QSize(int(WHEEL_MIN_PX + 2 * w + 8), int(WHEEL_MIN_PX + 4 * h + 8))

    def wheel_rect(self) -> QRectF:
        """Where the disc is painted, widget pixels."""
        w, h = self._label_room()
        side = min(self.width() - 2 * w - 8, self.height() - 4 * h - 8, WHEEL_MAX_PX)
        side = max(float(side), 8.0)
        centre = QPointF(self.width() / 2.0, self.height() / 2.0)
        return QRectF(centre.x() - side / 2, centre.y() - side / 2, side, side)

    def paintEvent(self, event) -> None:
        rect = self.wheel_rect()
        ratio = self.devicePixelRatioF()
        size = max(8, round(rect.width() * ratio))
        if self._pixmap is None or self._pixmap_size != size:
            words = wheel_pixels(size)
            self._pixmap = QPixmap.fromImage(argb_image(words).copy())
            self._pixmap.setDevicePixelRatio(ratio)
            self._pixmap_size = size
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.drawPixmap(rect.topLeft(), self._pixmap)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        metrics = self.fontMetrics()
        gap = 3.0
        r = rect.width() / 2
        c = rect.center()
        for angle, text in LABELS:
            tw, th = metrics.horizontalAdvance(text), metrics.height()
            if angle == 0:
                box = QRectF(c.x() + r + gap, c.y() - th / 2, tw, th)
            elif angle == 90:
                box = QRectF(c.x() - tw / 2, c.y() - r - gap - th, tw, th)
            elif angle == 180:
                box = QRectF(c.x() - r - gap - tw, c.y() - th / 2, tw, th)
            else:
                box = QRectF(c.x() - tw / 2, c.y() + r + gap, tw, th)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self.update()
        super().changeEvent(event)
