"""The presenter view: F5 enters, clicker keys step the animation, B / . blank the screen,
Esc puts the layout and the window back exactly; no two commands share a key."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from convplay.qt import presenter as presenter_module
from convplay.qt.animation.player import SHORTCUTS
from convplay.qt.zoom import text_zoom
from small_window import normal_look, open_window, settings_file  # noqa: F401 (normal_look: a fixture)

pytestmark = pytest.mark.usefixtures("normal_look")
KEY = Qt.Key


@pytest.fixture
def window(qtbot, tmp_path):
    return open_window(qtbot, settings_file(tmp_path))


def snapshot(window) -> dict:
    return {
        "docks": {key: dock.isVisible() for key, dock in window.docks.items()},
        "state": bytes(window.saveState()),
        "window_state": window.windowState(),
        "geometry": window.geometry(),
        "menu": window.menuBar().isVisible(),
        "status": window.statusBar().isVisible(),
        "title": window.docks["animation"].titleBarWidget(),
        "focus": window.focus_action.isChecked(),
    }


def test_f5_shows_only_the_animation_full_screen_without_menus(window, qtbot):
    qtbot.keyClick(window, KEY.Key_F5)
    assert window.presenter.active
    assert window.actions_by_id["presenter"].isChecked()
    assert {key for key, dock in window.docks.items() if dock.isVisible()} == {"animation"}
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    dock = window.docks["animation"]
    title = dock.titleBarWidget()
    assert title is not None and not title.children()  # an empty title bar: none drawn
    assert dock.widget().geometry().top() <= 2
    assert window.presenter.note.isVisible()


def test_page_down_and_up_step_the_animation_as_the_arrows_do(window, qtbot):
    state = window.animation_panel.state
    assert state.n_steps > 3
    qtbot.keyClick(window, KEY.Key_F5)
    start = state.position
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert state.position == start + 1
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert state.position == start + 2
    qtbot.keyClick(window, KEY.Key_PageUp)
    assert state.position == start + 1
    qtbot.keyClick(window, KEY.Key_Right)
    assert state.position == start + 2
    qtbot.keyClick(window, KEY.Key_Left)
    assert state.position == start + 1
    qtbot.keyClick(window, KEY.Key_End)
    assert state.position == state.n_steps - 1


def test_the_keys_step_wherever_the_keyboard_focus_is(window, qtbot):
    """A clicker cannot click into the animation first: a spin box with the focus does not
    take PgDn or →."""
    state = window.animation_panel.state
    qtbot.keyClick(window, KEY.Key_F5)
    speed = window.animation_panel.controls.speed
    speed.setFocus()
    before_speed = speed.value()
    start = state.position
    qtbot.keyClick(speed, KEY.Key_PageDown)
    qtbot.keyClick(speed, KEY.Key_Down)  # next output row
    assert state.position > start + 1
    assert speed.value() == before_speed


def test_the_note_says_how_to_leave_the_step_and_the_zoom(window, qtbot):
    state = window.animation_panel.state
    qtbot.keyClick(window, KEY.Key_F5)
    note = window.presenter.note
    assert note.text() == f"Presenter \u00b7 Esc to leave \u00b7 step {state.position + 1} of {state.n_steps} \u00b7 text 100 %"
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert f"step {state.position + 1} of" in note.text()
    qtbot.keyClick(window, KEY.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # the zoom keys work here too
    assert text_zoom().factor == 1.15 and note.text().endswith("text 115 %")
    assert note.geometry().bottomRight().x() <= window.width() and window.rect().contains(note.geometry())
    assert note.opacity.opacity() == 1.0
    qtbot.waitUntil(lambda: note.opacity.opacity() == pytest.approx(presenter_module.NOTE_FAINT), timeout=6000)
    qtbot.keyClick(window, KEY.Key_PageDown)  # a step changes the text, not the strength
    assert f"step {state.position + 1} of" in note.text()
    assert note.opacity.opacity() == pytest.approx(presenter_module.NOTE_FAINT)
    qtbot.keyClick(window, KEY.Key_B)
    qtbot.keyClick(window, KEY.Key_B)  # back from the blank screen: full strength again
    assert note.opacity.opacity() == 1.0


@pytest.mark.parametrize("blank_key", [KEY.Key_B, KEY.Key_Period])
def test_b_or_dot_blanks_and_any_key_brings_it_back(window, qtbot, blank_key):
    state = window.animation_panel.state
    qtbot.keyClick(window, KEY.Key_F5)
    qtbot.keyClick(window, blank_key)
    blank = window.presenter.blank
    assert window.presenter.blanked and blank.isVisible()
    assert blank.geometry() == window.rect()
    assert blank.grab().toImage().pixelColor(5, 5).name() == "#000000"
    position = state.position
    qtbot.keyClick(window, KEY.Key_PageDown)  # brings the view back; does not step
    assert not blank.isVisible() and state.position == position
    assert window.presenter.active
    qtbot.keyClick(window, blank_key)
    qtbot.keyClick(window, KEY.Key_Escape)  # also only brings it back
    assert not blank.isVisible() and window.presenter.active


def test_a_click_on_the_blank_screen_brings_the_view_back(window, qtbot):
    qtbot.keyClick(window, KEY.Key_F5)
    qtbot.keyClick(window, KEY.Key_B)
    qtbot.mouseClick(window.presenter.blank, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert not window.presenter.blanked


def test_esc_restores_the_layout_and_the_window_exactly(window, qtbot):
    window.docks["device"].raise_()
    window.docks["kernel"].hide()  # a layout of the user's own
    qtbot.wait(20)  # laid out
    before = snapshot(window)
    qtbot.keyClick(window, KEY.Key_F5)
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert snapshot(window) != before
    qtbot.keyClick(window, KEY.Key_Escape)
    assert not window.presenter.active
    assert not window.actions_by_id["presenter"].isChecked()
    assert snapshot(window) == before
    assert not window.presenter.note.isVisible()


def test_a_maximised_window_comes_back_maximised(window, qtbot):
    window.showMaximized()
    qtbot.wait(20)
    before = snapshot(window)
    qtbot.keyClick(window, KEY.Key_F5)
    qtbot.keyClick(window, KEY.Key_Escape)
    assert window.windowState() == before["window_state"]
    assert snapshot(window)["docks"] == before["docks"]


def test_from_the_focus_view_esc_goes_back_to_the_focus_view(window, qtbot):
    window.set_focus_mode(True)
    qtbot.wait(20)  # laid out
    before = snapshot(window)
    qtbot.keyClick(window, KEY.Key_F5)
    assert not window.focus_action.isEnabled()  # under the presenter view: left with it
    qtbot.keyClick(window, KEY.Key_Escape)
    assert snapshot(window) == before and window.focus_action.isEnabled()


def test_f5_again_leaves_and_esc_outside_does_nothing(window, qtbot):
    before = snapshot(window)
    qtbot.keyClick(window, KEY.Key_Escape)
    assert snapshot(window) == before
    qtbot.keyClick(window, KEY.Key_F5)
    qtbot.keyClick(window, KEY.Key_F5)
    assert not window.presenter.active and snapshot(window) == before
    qtbot.keyClick(window, KEY.Key_F5, Qt.KeyboardModifier.ShiftModifier)  # a clicker's other start key
    assert window.presenter.active


def test_closing_in_the_presenter_view_leaves_it_first(window, qtbot):
    before = snapshot(window)
    qtbot.keyClick(window, KEY.Key_F5)
    window.close()
    assert not window.presenter.active
    assert {k: not d.isHidden() for k, d in window.docks.items()} == before["docks"]
    assert not window.menuBar().isHidden()


def test_no_key_is_given_to_two_commands(window):
    """Every shortcut of the menus, the animation's keys and the presenter's: each key once
    (a clash makes Qt run neither)."""
    owners: dict[str, list[str]] = {}
    for name, action in window.actions_by_id.items():
        if hasattr(action, "shortcuts"):
            for key in action.shortcuts():
                owners.setdefault(key.toString(), []).append(name)
    menu_keys = set(owners)
    for key, method, _ in SHORTCUTS:
        owners.setdefault(QKeySequence(key).toString(), []).append(f"animation {method}")
    for key, method in presenter_module.CLICKER_KEYS:
        owners.setdefault(QKeySequence(key).toString(), []).append(f"presenter {method}")
    for key in (*presenter_module.BLANK_KEYS, presenter_module.LEAVE_KEY):
        owners.setdefault(QKeySequence(key).toString(), []).append("presenter")
    assert {key: names for key, names in owners.items() if len(names) > 1} == {}
    assert {"F5", "Shift+F5", "Ctrl+=", "Ctrl++", "Ctrl+-", "Ctrl+0", "Ctrl+Shift+H"} <= menu_keys


def test_settings_that_cannot_be_animated_are_said_in_the_note(window, qtbot):
    window.session.set_spec(window.session.spec.replace(kernel_size=40, padding=0))
    qtbot.keyClick(window, KEY.Key_F5)
    assert window.animation_panel.state.n_steps == 0
    assert "nothing to animate" in window.presenter.note.text()
    qtbot.keyClick(window, KEY.Key_PageDown)  # nothing to step: nothing happens, nothing raises
    assert window.presenter.active


def test_the_pointer_hides_while_the_mouse_is_still_and_comes_back(window, qtbot, monkeypatch):
    monkeypatch.setattr(presenter_module, "CURSOR_IDLE_MS", 50)
    qtbot.keyClick(window, KEY.Key_F5)
    qtbot.waitUntil(lambda: window.presenter.cursor_hidden, timeout=3000)
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BlankCursor
    qtbot.mouseMove(window, QPoint(200, 200))
    qtbot.mouseMove(window, QPoint(240, 220))
    assert not window.presenter.cursor_hidden and QApplication.overrideCursor() is None
    qtbot.waitUntil(lambda: window.presenter.cursor_hidden, timeout=3000)
    qtbot.keyClick(window, KEY.Key_Escape)
    assert not window.presenter.cursor_hidden and QApplication.overrideCursor() is None
