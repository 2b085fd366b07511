"""The high-contrast theme for projectors (View > High contrast), one per application.

Switching it sets the application's palette (pure black on white, a strong selection,
dark frames) and a small application style sheet (thick separators and splitter handles,
black grid lines), and darkens the greys written in widgets' own style sheets.  Views
that draw with their own colours and pens read ``style.colour(name)`` and
``style.line_width(px)`` and redraw on ``theme().theme_changed``.  The colours come from
``style``; none is written here.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from convplay.qt import style
from convplay.qt.zoom import every_widget, text_zoom

SETTINGS_KEY = "view/high_contrast"
SEPARATOR_PX = 4  # the main window's separators and splitter handles: easy to see and to grab
# A widget's own sheet before the theme changed its colours, and the sheet the theme wrote:
# a sheet that differs from the one written was set by its owner since, in normal colours.
_NORMAL_SHEET = "convplay_normal_style_sheet"
_THEMED_SHEET = "convplay_themed_style_sheet"
_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def high_contrast_palette(normal: QPalette) -> QPalette:
    """``normal`` with black text on white, dark frames and a strong selection."""
    palette = QPalette(normal)
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, style.HC_BACKGROUND),
        (roles.WindowText, style.HC_TEXT),
        (roles.Base, style.HC_BACKGROUND),
        (roles.AlternateBase, style.HC_ALTERNATE_BACKGROUND),
        (roles.Text, style.HC_TEXT),
        (roles.Button, style.HC_BUTTON),
        (roles.ButtonText, style.HC_TEXT),
        (roles.BrightText, style.HC_BACKGROUND),
        (roles.Highlight, style.HC_SELECTION),
        (roles.HighlightedText, style.HC_SELECTION_TEXT),
        (roles.ToolTipBase, style.HC_TOOLTIP),
        (roles.ToolTipText, style.HC_TEXT),
        (roles.PlaceholderText, style.HC_DISABLED_TEXT),
        (roles.Link, style.HC_LINK),
        (roles.LinkVisited, style.HC_LINK),
        (roles.Light, style.HC_BACKGROUND),
        (roles.Midlight, style.HC_BUTTON),
        (roles.Mid, style.HC_MID),
        (roles.Dark, style.HC_MID),
        (roles.Shadow, style.HC_FRAME),
    ):
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor(style.HC_DISABLED_TEXT))
    # The selection stays as strong when the window is not the active one (a projector's
    # window often is not: the presenter's notes are).
    for role in (roles.Highlight, roles.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Inactive, role, palette.color(QPalette.ColorGroup.Active, role))
    return palette


def high_contrast_style_sheet() -> str:
    """The application sheet of the theme: what the palette cannot make thicker."""
    frame, text = style.HC_FRAME, style.HC_TEXT
    return (
        f"QMainWindow::separator {{ background: {frame}; width: {SEPARATOR_PX}px; height: {SEPARATOR_PX}px; }}\n"
        f"QSplitter::handle {{ background: {frame}; }}\n"
        f"QSplitter::handle:horizontal {{ width: {SEPARATOR_PX}px; }}\n"
        f"QSplitter::handle:vertical {{ height: {SEPARATOR_PX}px; }}\n"
        f"QTableView {{ gridline-color: {frame}; }}\n"
        f"QStatusBar {{ border-top: 2px solid {frame}; color: {text}; }}\n"
        f"QToolTip {{ color: {text}; background: {style.HC_TOOLTIP}; border: 2px solid {frame}; padding: 3px; }}\n"
    )


def themed_sheet(sheet: str) -> str:
    """``sheet`` (written in normal colours) with each colour of ``style.HIGH_CONTRAST``
    replaced by its high-contrast colour."""
    swaps = {getattr(style, name).lower(): colour for name, colour in style.HIGH_CONTRAST.items()}
    return _HEX.sub(lambda m: swaps.get(m.group(0).lower(), m.group(0)), sheet)


class Theme(QObject):
    """``high_contrast`` and ``theme_changed(high_contrast)``."""

    theme_changed = Signal(bool)

    def __init__(self) -> None:
        super().__init__()
        self._normal_palette: QPalette | None = None
        self._normal_app_sheet = ""

    @property
    def high_contrast(self) -> bool:
        return style.high_contrast()

    def set_high_contrast(self, on: bool) -> None:
        on = bool(on)
        if on == style.high_contrast():
            return
        app = QApplication.instance()
        if app is not None and on:  # what to go back to, as it is just before the switch
            self._normal_palette = QPalette(app.palette())
            self._normal_app_sheet = app.styleSheet()
        style.set_high_contrast(on)
        if app is not None:
            self._apply(app, on)
        self.theme_changed.emit(on)

    def _apply(self, app: QApplication, on: bool) -> None:
        if on:
            app.setPalette(high_contrast_palette(app.palette()))
            app.setStyleSheet(f"{self._normal_app_sheet}\n{high_contrast_style_sheet()}".strip())
        else:
            if self._normal_palette is not None:
                app.setPalette(self._normal_palette)
            app.setStyleSheet(self._normal_app_sheet)
        for widget in every_widget(app):
            _recolour_sheet(widget, on)
        text_zoom().refit_dock_titles()


def set_sheet(widget, sheet: str) -> None:
    """``widget.setStyleSheet(sheet)`` (written in the normal colours), in the colours of the
    theme that is on now: a sheet set while high contrast is on is recoloured at once, and
    goes back with the theme."""
    widget.setStyleSheet(sheet)
    if style.high_contrast() and sheet:
        _recolour_sheet(widget, True)


def _recolour_sheet(widget: QWidget, on: bool) -> None:
    sheet = widget.styleSheet()
    themed = widget.property(_THEMED_SHEET)
    if themed is None and not (sheet and on):
        return
    normal = widget.property(_NORMAL_SHEET) if themed == sheet else sheet
    wanted = themed_sheet(normal) if on else normal
    widget.setProperty(_NORMAL_SHEET, normal)
    widget.setProperty(_THEMED_SHEET, wanted)
    if wanted != sheet:
        widget.setStyleSheet(wanted)


_THEME: Theme | None = None


def theme() -> Theme:
    """The application's theme (made on first use)."""
    global _THEME
    if _THEME is None:
        _THEME = Theme()
    return _THEME


def restore(settings: QSettings) -> None:
    """Take the theme remembered in ``settings``; nothing remembered leaves it as it is."""
    stored = settings.value(SETTINGS_KEY)
    if stored is None:
        return
    theme().set_high_contrast(str(stored).lower() in ("true", "1"))


def remember(settings: QSettings, high_contrast: bool) -> None:
    settings.setValue(SETTINGS_KEY, bool(high_contrast))
