"""View > Zoom in / out / reset: the application font and ``scaled`` follow, widgets with a
style sheet too, the status bar says it, and the factor is kept in the window's settings."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel

from convplay.qt import zoom
from convplay.qt.zoom import SETTINGS_KEY, STEPS, scaled, text_zoom
from small_window import close_window, normal_look, open_window, settings_file  # noqa: F401 (normal_look: a fixture)

pytestmark = pytest.mark.usefixtures("normal_look")


def font_size(font: QFont) -> float:
    return font.pointSizeF() if font.pointSizeF() > 0 else float(font.pixelSize())


def test_zoom_in_out_and_reset_scale_the_application_font_and_scaled(qapp):
    base = font_size(QApplication.font())
    text_zoom().zoom_in()
    assert text_zoom().factor == 1.15
    assert font_size(QApplication.font()) == pytest.approx(base * 1.15)
    text_zoom().zoom_in()
    assert text_zoom().factor == 1.3
    assert font_size(QApplication.font()) == pytest.approx(base * 1.3)
    assert scaled(10) == 13 and scaled(20) == 26
    text_zoom().zoom_out()
    assert text_zoom().factor == 1.15 and scaled(20) == 23
    text_zoom().reset()
    assert font_size(QApplication.font()) == pytest.approx(base)
    assert scaled(10) == 10


def test_the_zoom_stops_at_its_ends(qapp):
    for _ in range(len(STEPS) + 2):
        text_zoom().zoom_out()
    assert text_zoom().factor == STEPS[0]
    for _ in range(len(STEPS) + 2):
        text_zoom().zoom_in()
    assert text_zoom().factor == STEPS[-1]


def test_widgets_with_a_style_sheet_take_the_zoomed_font(qtbot):
    plain, styled = QLabel("plain"), QLabel("styled")
    styled.setStyleSheet("color: #757575;")
    for label in (plain, styled):
        qtbot.addWidget(label)
        label.show()
    base = font_size(styled.font())
    text_zoom().set_factor(2.0)
    assert font_size(plain.font()) == pytest.approx(2 * base)
    assert font_size(styled.font()) == pytest.approx(2 * base)  # Qt alone leaves it at base
    QApplication.instance().setStyleSheet("QToolTip { color: black; }")
    try:
        text_zoom().set_factor(1.5)
        assert font_size(plain.font()) == pytest.approx(1.5 * base)  # an application sheet: the same
        assert font_size(styled.font()) == pytest.approx(1.5 * base)
    finally:
        QApplication.instance().setStyleSheet("")


def test_the_window_keys_zoom_and_the_status_bar_says_it(qtbot, tmp_path):
    window = open_window(qtbot, settings_file(tmp_path))
    base = font_size(QApplication.font())
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert text_zoom().factor == 1.15
    assert window.statusBar().currentMessage() == "Text 115 %"
    qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert text_zoom().factor == 1.3
    assert font_size(window.hover_label.font()) == pytest.approx(base * 1.3)
    assert window.statusBar().currentMessage() == "Text 130 %"
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert text_zoom().factor == 1.15
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert text_zoom().factor == 1.0
    assert window.statusBar().currentMessage() == "Text 100 %"


def test_the_status_bars_pytorch_line_grows_with_the_zoom(qtbot, tmp_path):
    window = open_window(qtbot, settings_file(tmp_path))
    label = window.compute_label
    label.show_text("PyTorch 99.9 ms on CPU")
    text_zoom().set_factor(2.0)
    assert label.width() >= label.fontMetrics().horizontalAdvance(label.text())
    assert label.height() >= label.fontMetrics().height()


def test_the_factor_is_kept_in_the_settings_and_restored_at_start(qtbot, tmp_path):
    settings = settings_file(tmp_path)
    window = open_window(qtbot, settings, closed_by_test=True)
    window.actions_by_id["zoom_in"].trigger()
    window.actions_by_id["zoom_in"].trigger()
    window.actions_by_id["zoom_in"].trigger()
    assert float(settings.value(SETTINGS_KEY)) == 1.5
    close_window(window)
    text_zoom().reset()  # as a new process starts
    assert float(settings.value(SETTINGS_KEY)) == 1.5  # no window heard the reset
    base = font_size(QApplication.font())
    again = open_window(qtbot, settings)
    assert text_zoom().factor == 1.5
    assert font_size(QApplication.font()) == pytest.approx(base * 1.5)
    assert again.statusBar().isVisible()


def test_nonsense_in_the_settings_is_ignored(qapp, tmp_path):
    settings = settings_file(tmp_path)
    for value in ("big", "40", ""):
        settings.setValue(SETTINGS_KEY, value)
        zoom.restore(settings)
        assert text_zoom().factor == 1.0


def test_a_screenshot_window_neither_reads_nor_writes_the_zoom(qtbot, tmp_path):
    from convplay.qt.main_window import MainWindow
    from small_window import make_session

    settings = settings_file(tmp_path)
    settings.setValue(SETTINGS_KEY, 2.0)
    window = MainWindow(make_session(), settings=settings, remember_layout=False)
    qtbot.addWidget(window)
    assert text_zoom().factor == 1.0
    window.actions_by_id["zoom_in"].trigger()
    assert float(settings.value(SETTINGS_KEY)) == 2.0


def test_the_view_menu_and_f1_list_the_zoom_commands(qtbot, tmp_path):
    window = open_window(qtbot, settings_file(tmp_path))
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    titles = [a.text().replace("&", "") for a in view.actions()]
    for title in ("Zoom in", "Zoom out", "Reset zoom", "High contrast", "Presenter view"):
        assert title in titles
    table = dict(window.shortcut_table())
    assert table["Zoom in"] == "Ctrl+=, Ctrl++"
    assert table["Zoom out"] == "Ctrl+-"
    assert table["Reset zoom"] == "Ctrl+0"
    assert table["High contrast"] == "Ctrl+Shift+H"
    assert table["Presenter view"] == "F5, Shift+F5"
    assert any("blank" in name and "B" in keys for name, keys in table.items())


def test_dock_titles_follow_the_zoom(qtbot, tmp_path):
    """Qt draws a dock's title in the title font it took when it was made unless the dock
    has a font of its own: the zoom gives each one."""
    window = open_window(qtbot, settings_file(tmp_path))
    dock = window.docks["input"]
    text_zoom().set_factor(2.0)
    assert dock.font() != QApplication.font()  # its own: the title is drawn in it
    assert font_size(dock.font()) == pytest.approx(font_size(QApplication.font()))
    assert font_size(window.input_panel.font()) == pytest.approx(font_size(QApplication.font()))
    text_zoom().reset()
    assert dock.font() == QApplication.font()
