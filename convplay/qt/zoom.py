"""The text zoom of the whole window (View > Zoom in / out / reset), one per application.

Widgets that inherit the application font follow it by themselves: the zoom scales the
application font.  A view that sets its own font (cell labels, the formula, the colour
bar's ticks) sizes it with ``scaled(px)`` and redraws on ``text_zoom().changed``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0)


class TextZoom(QObject):
    """``factor`` (1.0 is the normal size) and ``changed(factor)``."""

    changed = Signal(float)

    def __init__(self) -> None:
        super().__init__()
        self._factor = 1.0
        self._base_font: QFont | None = None

    @property
    def factor(self) -> float:
        return self._factor

    def set_factor(self, factor: float) -> None:
        factor = min(max(float(factor), STEPS[0]), STEPS[-1])
        if factor == self._factor:
            return
        self._factor = factor
        self._apply_to_application()
        self.changed.emit(factor)

    def zoom_in(self) -> None:
        self.set_factor(next((s for s in STEPS if s > self._factor + 1e-9), STEPS[-1]))

    def zoom_out(self) -> None:
        self.set_factor(next((s for s in reversed(STEPS) if s < self._factor - 1e-9), STEPS[0]))

    def reset(self) -> None:
        self.set_factor(1.0)

    def _apply_to_application(self) -> None:
        app = QApplication.instance()
        if app is None:
            return
        if self._base_font is None:
            self._base_font = QFont(app.font())
        font = QFont(self._base_font)
        if self._base_font.pointSizeF() > 0:
            font.setPointSizeF(self._base_font.pointSizeF() * self._factor)
        else:
            font.setPixelSize(max(1, round(self._base_font.pixelSize() * self._factor)))
        app.setFont(font)


_ZOOM: TextZoom | None = None


def text_zoom() -> TextZoom:
    """The application's zoom (made on first use)."""
    global _ZOOM
    if _ZOOM is None:
        _ZOOM = TextZoom()
    return _ZOOM


def scaled(size: float) -> int:
    """A font size (pixels or points) at the current zoom, at least 1."""
    return max(1, round(size * text_zoom().factor))
