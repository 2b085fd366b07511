"""View > High contrast: the palette, the application sheet, the greys in widgets' own
sheets, the accessors views draw with, and the choice kept in the window's settings."""

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel

from convplay.qt import style, theme
from convplay.qt.theme import SETTINGS_KEY, themed_sheet
from small_window import close_window, normal_look, open_window, settings_file  # noqa: F401 (normal_look: a fixture)

pytestmark = pytest.mark.usefixtures("normal_look")
ROLES = QPalette.ColorRole


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    colour = QColor(hex_colour)
    r, g, b = (channel(v / 255) for v in (colour.red(), colour.green(), colour.blue()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_white(hex_colour: str) -> float:
    return 1.05 / (luminance(hex_colour) + 0.05)


def test_high_contrast_sets_black_on_white_and_a_strong_selection(qapp):
    before = QPalette(QApplication.palette())
    changes = []
    theme.theme().theme_changed.connect(changes.append)
    try:
        theme.theme().set_high_contrast(True)
        palette = QApplication.palette()
        assert palette.color(ROLES.WindowText) == QColor("#000000")
        assert palette.color(ROLES.Text) == QColor("#000000")
        assert palette.color(ROLES.Base) == QColor("#ffffff")
        assert palette.color(ROLES.Highlight) == QColor(style.HC_SELECTION)
        assert palette.color(QPalette.ColorGroup.Inactive, ROLES.Highlight) == QColor(style.HC_SELECTION)
        assert contrast_on_white(palette.color(QPalette.ColorGroup.Disabled, ROLES.Text).name()) > 7
        assert "QMainWindow::separator" in QApplication.instance().styleSheet()
        theme.theme().set_high_contrast(False)
        assert QApplication.palette() == before
        assert QApplication.instance().styleSheet() == ""
        assert changes == [True, False]
    finally:
        theme.theme().theme_changed.disconnect(changes.append)


def test_the_accessors_follow_the_theme(qapp):
    assert style.colour("MUTED") == style.MUTED and style.line_width(2) == 2
    theme.theme().set_high_contrast(True)
    assert style.colour("MUTED") == style.HIGH_CONTRAST["MUTED"]
    assert style.colour("WINDOW") == style.HIGH_CONTRAST["WINDOW"]
    assert style.colour("CELL_BACKGROUND") == style.CELL_BACKGROUND  # not themed: as it is
    assert style.line_width(2) == 4
    assert style.muted_text_style() == f"color: {style.HIGH_CONTRAST['MUTED']};"


def test_themed_colours_are_real_names_and_darker_on_white():
    normal_values = {}
    for name, colour in style.HIGH_CONTRAST.items():
        normal = getattr(style, name)  # a name style.py writes
        normal_values.setdefault(normal.lower(), set()).add(colour)
        assert QColor(colour).isValid()
        if name != "THUMBNAIL_TEXT":  # drawn on black: lighter is stronger there
            assert contrast_on_white(colour) >= contrast_on_white(normal), name
    # Each normal colour has one high-contrast colour: a sheet can be recoloured by value.
    assert all(len(v) == 1 for v in normal_values.values())
    assert contrast_on_white(style.HIGH_CONTRAST["MUTED"]) >= 7  # WCAG AAA for text


def test_greys_in_a_widgets_own_sheet_are_darkened_and_come_back(qtbot):
    note = QLabel("a note")
    qtbot.addWidget(note)
    note.setStyleSheet(style.MUTED_TEXT_STYLE)
    theme.theme().set_high_contrast(True)
    assert note.styleSheet() == f"color: {style.HIGH_CONTRAST['MUTED']};"
    assert themed_sheet(style.STALE_BANNER_STYLE).count("#000000") == 1
    theme.theme().set_high_contrast(False)
    assert note.styleSheet() == style.MUTED_TEXT_STYLE


def test_a_sheet_its_owner_sets_while_on_is_taken_as_the_normal_one(qtbot):
    label = QLabel("x")
    qtbot.addWidget(label)
    label.setStyleSheet(style.OK_TEXT_STYLE)
    theme.theme().set_high_contrast(True)
    label.setStyleSheet(style.ERROR_TEXT_STYLE)  # the owner changed it: normal colours
    theme.theme().set_high_contrast(False)
    assert label.styleSheet() == style.ERROR_TEXT_STYLE
    theme.theme().set_high_contrast(True)
    assert label.styleSheet() == f"color: {style.HIGH_CONTRAST['ERROR']};"


def test_the_menu_switches_it_at_once_and_the_settings_keep_it(qtbot, tmp_path):
    settings = settings_file(tmp_path)
    window = open_window(qtbot, settings, closed_by_test=True)
    action = window.actions_by_id["high_contrast"]
    assert action.isCheckable() and not action.isChecked()
    action.trigger()
    assert style.high_contrast() and action.isChecked()
    assert window.palette().color(ROLES.WindowText) == QColor("#000000")  # applied, no restart
    assert settings.value(SETTINGS_KEY) in (True, "true")
    close_window(window)
    theme.theme().set_high_contrast(False)  # as a new process starts
    again = open_window(qtbot, settings)
    assert style.high_contrast()
    assert again.actions_by_id["high_contrast"].isChecked()
    again.actions_by_id["high_contrast"].trigger()
    assert not style.high_contrast()
    assert settings.value(SETTINGS_KEY) in (False, "false")


def test_every_colour_a_view_asks_for_by_name_exists():
    """``style.colour("NAME")`` is looked up when drawn: a misspelt name would raise there,
    in a paint event; every name asked for in the package is one style.py writes."""
    import re
    from pathlib import Path

    import convplay

    asked = set()
    for path in Path(convplay.__file__).parent.rglob("*.py"):
        asked |= set(re.findall(r"""style\.colour\(\s*["']([A-Z_]+)["']""", path.read_text(encoding="utf-8")))
    assert asked  # the views do ask
    assert {name for name in asked if not isinstance(getattr(style, name, None), str)} == set()


def test_dock_titles_keep_the_zoom_through_a_theme_switch(qtbot, tmp_path):
    """A new application sheet resets the fonts of the widgets it polishes: the zoomed
    dock titles would fall back to the size they had when the docks were made."""
    from convplay.qt.zoom import text_zoom

    window = open_window(qtbot, settings_file(tmp_path))
    dock = window.docks["kernel"]
    text_zoom().set_factor(1.5)
    for on in (True, False):
        theme.theme().set_high_contrast(on)
        assert dock.font() != QApplication.font("QDockWidget")  # drawn in its own font
        assert dock.font().pointSizeF() == QApplication.font().pointSizeF()
    theme.theme().set_high_contrast(True)
    text_zoom().reset()
    assert dock.font() == QApplication.font("QDockWidget")  # the platform's title again
