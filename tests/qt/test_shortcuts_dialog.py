"""Help > Keyboard shortcuts: every row, in columns when the screen is wide enough, and a
dialog that stays on the screen at any zoom."""

import pytest
from PySide6.QtGui import QGuiApplication

from convplay.qt.dialogs.shortcuts_dialog import ShortcutsDialog, columns_for, table_html
from convplay.qt.zoom import text_zoom
from small_window import normal_look, open_window, settings_file  # noqa: F401 (normal_look: a fixture)

pytestmark = pytest.mark.usefixtures("normal_look")
ROWS = [(f"command {i}", f"Ctrl+{i}") for i in range(10)]


def test_rows_go_down_then_across():
    text = table_html(ROWS[:5], 2)
    assert text.count("<tr>") == 3  # 5 rows in 2 columns: 3 lines
    first_line = text.split("<tr>")[1]
    assert "command 0" in first_line and "command 3" in first_line
    assert text.index("command 1") < text.index("command 4")


def test_columns_follow_the_room(qapp):
    font = QGuiApplication.font()
    assert columns_for(ROWS, font, 10_000) == 3  # never more than three
    assert columns_for(ROWS, font, 50) == 1
    assert columns_for([], font, 50) == 1


def test_f1_lists_every_command_and_stays_on_the_screen(qtbot, tmp_path):
    window = open_window(qtbot, settings_file(tmp_path))
    rows = window.shortcut_table()
    room = window.screen().availableGeometry()
    for factor in (1.0, 2.0, 3.0):
        text_zoom().set_factor(factor)
        dialog = ShortcutsDialog(rows, window)
        qtbot.addWidget(dialog)
        text = dialog.browser.toPlainText()
        for name, keys in rows:
            assert name in text and keys in text
        assert "Presenter view" in text and "Zoom in" in text and "High contrast" in text
        assert dialog.width() <= room.width() and dialog.height() <= room.height()
