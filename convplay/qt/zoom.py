"""The text zoom of the whole window (View > Zoom in / out / reset), one per application.

Widgets that inherit the application font follow it by themselves: the zoom scales the
application font.  A view that sets its own font (cell labels, the formula, the colour
bar's ticks) sizes it with ``scaled(px)`` and redraws on ``text_zoom().changed``.
Widgets with a style sheet are given their sheet again on each change: Qt does not pass
a new application font on to them (nor to any widget once the application has a sheet).
The factor is remembered in the window's settings (``restore`` / ``remember``).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0)
SETTINGS_KEY = "view/text_zoom"


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
        # Qt posts the change to each widget; delivered now, every widget has its new font
        # before ``changed`` is emitted, so a view measuring its text then measures the new one.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange.value)
        # The sheets first: polishing a widget under an application sheet resets its font.
        _restyle_sheets(app)
        self.refit_dock_titles()

    def refit_dock_titles(self) -> None:
        """Dock titles at the zoom again (the theme calls it after a new application sheet,
        which resets the fonts of the widgets it polishes)."""
        app = QApplication.instance()
        if app is not None and self._base_font is not None:
            _zoom_dock_titles(app, None if self._factor == 1.0 else app.font())


def _zoom_dock_titles(app: QApplication, font: QFont | None) -> None:
    """Dock titles in ``font`` (None: as the platform draws them).

    A dock whose font is the application's draws its title in the title font it took when
    it was made, whatever the zoom; one with a font of its own draws it in that.  The one
    given differs from the application's only in its style hint (which face to fall back
    on), so the panel inside, which inherits it, looks the same.
    """
    own = None
    if font is not None:
        own = QFont(font)
        hint = QFont.StyleHint.SansSerif
        own.setStyleHint(hint if font.styleHint() != hint else QFont.StyleHint.AnyStyle)
    for widget in every_widget(app):
        if isinstance(widget, QDockWidget):
            widget.setFont(own if own is not None else QFont())


def every_widget(app: QApplication) -> list[QWidget]:
    """Every window and what it holds, found from the windows down.  Not app.allWidgets():
    that also lists widgets in the middle of their deletion, reachable from no window, and
    wrapping one of those crashed the interpreter (the random user met it in the zoom and in
    the high-contrast switch, a few windows into a run)."""
    return [w for top in app.topLevelWidgets() for w in (top, *top.findChildren(QWidget))]


def _restyle_sheets(app: QApplication) -> None:
    """Set every style sheet again, so that the widgets that have one take the new font."""
    if app.styleSheet():
        app.setStyleSheet(app.styleSheet())
    for widget in every_widget(app):
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet(sheet)


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


def percent(factor: float | None = None) -> str:
    """The zoom as the status bar and the presenter's note say it: "130 %"."""
    return f"{round(100 * (text_zoom().factor if factor is None else factor))} %"


def restore(settings: QSettings) -> None:
    """Take the factor remembered in ``settings``; nothing remembered (or nonsense) leaves it."""
    stored = settings.value(SETTINGS_KEY)
    if stored is None:
        return
    try:
        factor = float(stored)
    except (TypeError, ValueError):
        return
    if STEPS[0] <= factor <= STEPS[-1]:
        text_zoom().set_factor(factor)


def remember(settings: QSettings, factor: float) -> None:
    settings.setValue(SETTINGS_KEY, float(factor))
