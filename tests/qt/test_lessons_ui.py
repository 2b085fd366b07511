"""Lessons in the window: next / previous / a click in the list apply each step's state as
one undo step, hide and show the panels the steps name, the "ask the class" cover hides
PyTorch's output until revealed, the presenter's PgDown reveals and then advances, the
step's claim is checked against PyTorch, and a lesson authored in the app saves and
reopens with the same steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from convplay.core.lessons import builtin_lessons
from convplay.core.session import Session
from convplay.core.session_file import LessonStep, SessionDocument, ViewState, state_of
from convplay.core.spec import ConvSpec
from convplay.qt import session_commands
from small_window import normal_look, open_window, settings_file  # noqa: F401 (normal_look: a fixture)

pytestmark = pytest.mark.usefixtures("normal_look")
KEY = Qt.Key


@pytest.fixture
def window(qtbot, tmp_path):
    return open_window(qtbot, settings_file(tmp_path))


def torch_output(image, weight, stride=1, padding=0) -> np.ndarray:
    out = F.conv2d(torch.from_numpy(image)[None], torch.from_numpy(weight), stride=stride, padding=padding)
    return out[0].numpy()


def case(size: int, stride: int = 1, padding: int = 0, *, title: str, ask: str = "", hide=(), shape=None,
         values=None, workspace: str | None = None) -> LessonStep:
    image = np.arange(size * size, dtype=np.float64).reshape(1, size, size)
    weight = np.ones((1, 1, 3, 3))
    spec = ConvSpec(in_channels=1, out_channels=1, kernel_size=3, stride=stride, padding=padding, bias=False)
    state = state_of(Session(image, spec, weight), ViewState(workspace=workspace))
    return LessonStep(title=title, caption=f"the caption of {title}", ask=ask, hide=tuple(hide),
                      formula=(f"o = ({size} - 3) + 1",), expected_output_shape=shape,
                      expected_output=values, state=state)


def lesson() -> SessionDocument:
    x4 = np.arange(16, dtype=np.float64).reshape(1, 4, 4)
    return SessionDocument(kind="lesson", title="A test lesson", steps=(
        case(4, title="four", shape=(1, 2, 2), values=torch_output(x4, np.ones((1, 1, 3, 3)))[0]),
        case(5, stride=2, title="five, stride 2", hide=("formula", "kernel"), shape=(1, 3, 3)),  # wrong on purpose
        case(6, padding=1, title="six, padded", ask="What size is the output?", shape=(1, 6, 6)),
    ))


def wait_for(qtbot, window, shape):
    qtbot.waitUntil(lambda: window.results.current_output is not None
                    and window.results.current_output.shape == tuple(shape), timeout=30_000)


def test_next_previous_and_a_click_apply_each_steps_state(window, qtbot):
    model = window.lesson
    assert session_commands.open_document(window, lesson())
    assert model.is_open and model.index == 0 and len(model) == 3
    assert window.docks["lesson"].isVisible()
    assert window.session.image.shape == (1, 4, 4)
    window.actions_by_id["lesson_next"].trigger()
    assert model.index == 1 and window.session.image.shape == (1, 5, 5) and window.session.spec.stride == 2
    window.actions_by_id["lesson_previous"].trigger()
    assert model.index == 0 and window.session.image.shape == (1, 4, 4)
    window.lesson_panel.step_list.setCurrentRow(2)  # a click on the third step
    assert model.index == 2 and window.session.spec.padding == 1
    assert window.lesson_panel.step_list.currentRow() == 2
    assert window.undo_stack.undo_text == "Lesson step 3: six, padded"
    window.actions_by_id["undo"].trigger()
    assert window.session.image.shape == (1, 4, 4)  # the step before, back


def test_a_step_hides_its_panels_and_the_next_shows_them_again(window, qtbot):
    docks = window.docks
    assert not docks["kernel"].isHidden() and not docks["params"].isHidden()
    session_commands.open_document(window, lesson(), step=1)
    assert docks["kernel"].isHidden() and docks["formula"].isHidden()
    # Explore does not show the formula: only the kernel was hidden by the step, and only it comes back.
    assert window.lesson.hidden_panels == ("kernel",)
    window.lesson.next()
    assert not docks["kernel"].isHidden() and docks["formula"].isHidden()
    window.lesson.close()
    assert docks["lesson"].isHidden() and not docks["kernel"].isHidden()


def test_the_ask_cover_hides_the_output_until_revealed(window, qtbot):
    model = window.lesson
    session_commands.open_document(window, lesson(), step=2)
    covers = model.covers.covers
    assert model.asking and all(not c.isHidden() for c in covers)
    output_cover = covers[0]
    scroll = window.docks["output"].widget()
    assert output_cover.parentWidget() is scroll and output_cover.geometry() == scroll.rect()
    assert output_cover.label.text() == "What size is the output?"
    assert window.lesson_panel.formula.isHidden()  # its lines end in the answer
    assert window.lesson_panel.check_text == ""
    window.resize(1100, 700)
    qtbot.waitUntil(lambda: output_cover.geometry() == scroll.rect())
    window.actions_by_id["lesson_reveal"].trigger()  # Ctrl+R
    assert not model.asking and all(c.isHidden() for c in covers)
    assert not window.lesson_panel.formula.isHidden()
    model.previous()
    model.next()  # coming back asks again
    assert model.asking
    covers[1].button.click()
    assert not model.asking


def test_the_steps_claim_is_checked_against_pytorch(window, qtbot):
    panel = window.lesson_panel
    session_commands.open_document(window, lesson())
    wait_for(qtbot, window, (1, 2, 2))
    qtbot.waitUntil(lambda: "\u2713" in panel.check_text)
    assert panel.check_text.startswith("PyTorch gives 1\u00d72\u00d72")
    window.lesson.next()
    wait_for(qtbot, window, (1, 2, 2))
    qtbot.waitUntil(lambda: "\u2717" in panel.check_text)
    assert panel.check_text == "\u2717 PyTorch gives 1\u00d72\u00d72, the step says 1\u00d73\u00d73"


def test_presenter_pgdown_reveals_then_advances_and_pgup_goes_back(window, qtbot):
    model = window.lesson
    first = lesson()
    steps = first.steps[:2] + (first.steps[2], first.steps[0])
    session_commands.open_document(window, SessionDocument(kind="lesson", title="t", steps=steps), step=1)
    qtbot.keyClick(window, KEY.Key_F5)
    assert window.presenter.active
    note = window.presenter.note
    assert "Lesson 2 / 4: five, stride 2 \u00b7 animation step 1 of 4" in note.text()
    assert "o = (5 - 3) + 1" in note.text()  # the step's formula, no question pending
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert model.index == 2 and model.asking
    assert "Lesson 3 / 4: six, padded \u00b7 What size is the output?" in note.text()
    assert "animation" not in note.text() and "o = " not in note.text()  # nothing of the answer
    qtbot.keyClick(window, KEY.Key_PageDown)  # the first press reveals
    assert model.index == 2 and not model.asking
    assert "animation step 1 of 36" in note.text()
    qtbot.keyClick(window, KEY.Key_PageDown)  # the next goes on
    assert model.index == 3
    assert "Lesson 4 / 4: four" in window.presenter.note.text()
    qtbot.keyClick(window, KEY.Key_PageUp)
    assert model.index == 2
    state = window.animation_panel.state
    position = state.position
    qtbot.keyClick(window, KEY.Key_Right)  # the arrows still step the animation
    assert state.position == position + 1 and model.index == 2
    qtbot.keyClick(window, KEY.Key_PageUp)
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert model.index == 2 and model.asking  # back at the question: covered again
    qtbot.keyClick(window, KEY.Key_R, Qt.KeyboardModifier.ControlModifier)  # the menu's key, menus hidden
    assert not model.asking
    qtbot.keyClick(window, KEY.Key_Escape)
    assert not window.presenter.active and not window.docks["lesson"].isHidden()


def test_without_a_lesson_pgdown_steps_the_animation(window, qtbot):
    state = window.animation_panel.state
    qtbot.keyClick(window, KEY.Key_F5)
    start = state.position
    qtbot.keyClick(window, KEY.Key_PageDown)
    assert state.position == start + 1
    assert "Lesson" not in window.presenter.note.text()


def test_a_lesson_authored_in_the_app_saves_and_reopens_with_the_same_steps(window, qtbot, tmp_path, monkeypatch):
    model, session, panel = window.lesson, window.session, window.lesson_panel
    window.actions_by_id["lesson_add"].trigger()  # no lesson yet: a new one, this state its first step
    assert model.is_open and len(model) == 1 and model.modified
    session.set_spec(session.spec.replace(stride=2))
    window.actions_by_id["lesson_add"].trigger()
    session.set_spec(session.spec.replace(stride=1, padding=0))
    window.actions_by_id["lesson_add"].trigger()
    assert len(model) == 3 and model.index == 2
    window.actions_by_id["lesson_up"].trigger()  # the unpadded step before the strided one
    assert model.index == 1 and model.steps[1].state.snapshot.spec.padding == 0
    panel.caption.setPlainText("Padding 0: the output shrinks by k - 1.")
    panel.step_title.setText("No padding")
    panel.step_title.editingFinished.emit()
    panel.hide_checks["device"].setChecked(True)
    panel.ask_text.setText("How big?")
    panel.ask_text.editingFinished.emit()
    assert model.steps[1].caption == "Padding 0: the output shrinks by k - 1."
    assert model.steps[1].title == "No padding" and model.steps[1].hide == ("device",)
    assert model.steps[1].ask == "How big?" and panel.ask_check.isChecked()
    model.go_to(0)
    window.actions_by_id["lesson_remove"].trigger()
    assert len(model) == 2 and model.steps[0].title == "No padding"
    expected = [(s.title, s.caption, s.ask, s.hide, s.state.snapshot.spec) for s in model.steps]
    path = tmp_path / "authored.convplay"
    assert session_commands.save_lesson_to(window, str(path))
    assert not model.modified
    window.actions_by_id["lesson_close"].trigger()
    assert not model.is_open
    assert session_commands.open_path(window, str(path))
    assert [(s.title, s.caption, s.ask, s.hide, s.state.snapshot.spec) for s in model.steps] == expected
    assert model.index == 0 and model.asking  # its first step asks


def test_closing_a_changed_lesson_asks_first(window, qtbot, monkeypatch):
    session_commands.open_document(window, lesson())
    window.lesson_panel.caption.setPlainText("edited")
    assert window.lesson.modified and window.isWindowModified()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Cancel)
    window.actions_by_id["lesson_close"].trigger()
    assert window.lesson.is_open
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.actions_by_id["lesson_close"].trigger()
    assert not window.lesson.is_open


def _answer(monkeypatch, button, asked: list | None = None):
    def question(parent, title, text, *args, **kwargs):
        if asked is not None:
            asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)


def test_quitting_or_closing_with_a_changed_lesson_asks_save_discard_or_cancel(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QApplication

    from convplay.qt import files

    buttons = QMessageBox.StandardButton
    session_commands.open_document(window, lesson())
    window.lesson_panel.caption.setPlainText("edited")
    asked: list[str] = []
    _answer(monkeypatch, buttons.Cancel, asked)
    window.actions_by_id["quit"].trigger()  # Ctrl+Q
    assert window.isVisible() and window.lesson.is_open and len(asked) == 1
    assert "A test lesson" in asked[0] and "Save" in asked[0]
    from PySide6.QtGui import QCloseEvent

    class TitleBarClose(QCloseEvent):  # the window manager's close button: a spontaneous event
        def spontaneous(self) -> bool:
            return True

    event = TitleBarClose()
    window.closeEvent(event)
    QApplication.processEvents()
    assert not event.isAccepted() and window.isVisible() and len(asked) == 2
    # Opening another lesson asks too, and Cancel keeps this one.
    assert not session_commands.open_document(window, SessionDocument(kind="lesson", title="other", steps=lesson().steps[:1]))
    assert window.lesson.title == "A test lesson" and len(asked) == 3
    # Save: the lesson is written (a save dialog names the file), then the window closes.
    path = tmp_path / "saved.convplay"
    monkeypatch.setattr(files, "ask_save_path", lambda *a, **k: (str(path), ""))
    _answer(monkeypatch, buttons.Save)
    window.actions_by_id["quit"].trigger()
    assert path.is_file() and not window.lesson.modified and not window.isVisible()


def test_closing_with_a_changed_session_file_asks_and_discard_closes(window, qtbot, monkeypatch, tmp_path):
    buttons = QMessageBox.StandardButton
    path = tmp_path / "mine.convplay"
    assert session_commands.save_session_to(window, str(path))
    window.session.set_spec(window.session.spec.replace(stride=2))
    assert window.session_file.modified
    asked: list[str] = []
    _answer(monkeypatch, buttons.Cancel, asked)
    window.actions_by_id["quit"].trigger()
    assert window.isVisible() and "mine.convplay" in asked[0]
    _answer(monkeypatch, buttons.Discard)
    window.actions_by_id["quit"].trigger()
    assert not window.isVisible()


def test_the_builtin_lessons_are_in_the_menu_with_their_step_counts(window, qtbot):
    menu = window.actions_by_id["builtin_lessons"]
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if not a.isSeparator()]
    infos = builtin_lessons()
    assert [a.text() for a in entries] == [f"{i.title} ({i.n_steps} steps)" for i in infos]
    entries[0].trigger()
    assert window.lesson.is_open and len(window.lesson) == infos[0].n_steps
    assert window.lesson.title == infos[0].title


@pytest.mark.parametrize("size", [(1280, 720), (1024, 640)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_window_keeps_its_size_with_a_lesson_open_in_every_workspace(qtbot, tmp_path, size):
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    from convplay.qt.workspaces import WORKSPACE_NAMES

    window = open_window(qtbot, settings_file(tmp_path), size)
    session_commands.open_builtin_lesson(window, builtin_lessons()[0].id)
    for name in WORKSPACE_NAMES:
        window.set_workspace(name)
        for _ in range(4):
            QApplication.processEvents()
        assert window.size() == QSize(*size), name
        needed = window.layout().minimumSize()
        assert needed.width() <= size[0] and needed.height() <= size[1], (name, needed.toTuple())
        assert window.docks["lesson"].isHidden() == (name == "focus"), name


def test_the_focus_view_stays_while_going_through_the_steps(window, qtbot):
    window.set_focus_mode(True)
    doc = lesson()
    steps = tuple(case(4 + n, title=f"s{n}", workspace="explore") for n in range(2))
    session_commands.open_document(window, SessionDocument(kind="lesson", title="t", steps=doc.steps[:1] + steps))
    window.lesson.next()
    window.lesson.next()
    assert window.in_focus and window.docks["lesson"].isHidden()
    assert window.session.image.shape == (1, 5, 5)
    window.set_focus_mode(False)
    assert not window.docks["lesson"].isHidden()


def test_the_lesson_commands_are_enabled_where_they_can_act(window, qtbot):
    actions = window.actions_by_id
    assert not actions["lesson_next"].isEnabled() and not actions["lesson_close"].isEnabled()
    assert actions["lesson_add"].isEnabled()  # starts a lesson
    session_commands.open_document(window, lesson())
    assert actions["lesson_next"].isEnabled() and not actions["lesson_previous"].isEnabled()
    assert not actions["lesson_reveal"].isEnabled()
    window.lesson.go_to(2)
    assert actions["lesson_reveal"].isEnabled() and not actions["lesson_next"].isEnabled()
    window.lesson.reveal()
    assert not actions["lesson_reveal"].isEnabled()


def test_the_check_line_says_which_value_differs():
    from convplay.qt.panels.lesson_panel import expect_verdict

    output = np.array([[[4.0, 3.0], [2.0, 4.0]]], dtype=np.float32)
    assert expect_verdict(None, None, output) == (None, "")
    assert expect_verdict((1, 2, 2), [[4, 3], [2, 4]], output)[0] is True
    ok, text = expect_verdict((1, 2, 2), [[4, 3], [2, 5]], output)
    assert ok is False and "(1, 1)" in text and "says 5" in text
    assert expect_verdict((1, 2, 2), None, None) == (None, "PyTorch's output: waiting\u2026")
    ok, text = expect_verdict((1, 2, 2), None, None, "Kernel size can't be greater than actual input size")
    assert ok is False and "refuses" in text


@pytest.mark.parametrize("size", [(1280, 720), (1024, 640)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_steps_workspace_switch_gives_that_workspaces_own_layout(qtbot, tmp_path, size):
    """As `convplay --lesson arithmetic --workspace explore`, then on to a step in the sliding
    window: the animation's view keeps its room, also once the lesson is closed."""
    from PySide6.QtWidgets import QApplication

    from convplay.core.session_file import session_from_state
    from convplay.qt.main_window import MainWindow

    document = session_commands.load_builtin_lesson("arithmetic")
    window = MainWindow(session_from_state(document.steps[0].state), settings=settings_file(tmp_path))
    qtbot.addWidget(window)
    session_commands.open_document(window, document)
    window.set_workspace("explore")  # before the window is shown, as the command line does
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        window.resize(*size)
        window.show()
    assert window.workspace == "explore"
    view = window.animation_panel.view
    window.lesson.go_to(5)
    assert window.workspace == "sliding"
    qtbot.waitUntil(lambda: view.height() >= 0.45 * window.height(), timeout=3000)
    assert window.docks["lesson"].isVisible()
    window.actions_by_id["lesson_close"].trigger()
    for _ in range(4):
        QApplication.processEvents()
    qtbot.wait(100)
    assert view.height() >= 0.45 * window.height()


def test_with_a_question_pending_no_text_on_screen_states_the_output_size(window, qtbot):
    from PySide6.QtWidgets import QApplication, QLabel

    window.set_workspace("explore")
    session_commands.open_document(window, lesson())
    window.lesson.go_to(2)  # six, padded: the output is (1, 6, 6), 36 steps
    wait_for(qtbot, window, (1, 6, 6))
    window.docks["params"].raise_()
    for _ in range(4):
        QApplication.processEvents()
    assert window.lesson.asking

    def visible_texts() -> list[str]:
        return [label.text() for label in window.findChildren(QLabel) if label.isVisible() and label.text()
                and not label.visibleRegion().isEmpty()]

    secrets = ("(1, 6, 6)", "1\u00d76\u00d76", "36 steps", "/ 36")
    shown = visible_texts()
    assert not [t for t in shown if any(s in t for s in secrets)], shown
    assert any("What size is the output?" in t for t in shown)  # the question where the caption was
    assert any("hidden until the reveal" in t for t in shown)
    assert not window.lesson_panel.caption.isVisible()
    assert "/ ?" in window.animation_panel.controls.step_label.toolTip() + window.animation_panel.controls.step_label.text() \
        or window.animation_panel.controls.answer_hidden
    window.lesson.reveal()
    for _ in range(4):
        QApplication.processEvents()
    assert "output (C, H, W) = (1, 6, 6)" in window.params_panel.summary.text()
    assert window.lesson_panel.caption.isVisible() and not window.lesson_panel.covered_note.isVisible()


def test_the_formula_lines_are_never_broken_and_fit_the_panel_at_1024x640(qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    window = open_window(qtbot, settings_file(tmp_path), (1024, 640))
    document = session_commands.load_builtin_lesson("arithmetic")
    longest = max(range(len(document.steps)), key=lambda i: max((len(x) for x in document.steps[i].formula), default=0))
    session_commands.open_document(window, document, step=longest)
    window.lesson.reveal()
    for _ in range(6):
        QApplication.processEvents()
    label = window.lesson_panel.formula
    assert not label.wordWrap()
    assert label.text().split("\n") == [str(x) for x in document.steps[longest].formula]  # one line each
    assert label.widest_line_fits() or label.font().pointSize() == 8
    assert label.height() <= (len(document.steps[longest].formula) + 1) * label.fontMetrics().lineSpacing()


def test_a_builtin_lesson_folds_the_editing_away_and_the_list_follows_the_step_steadily(window, qtbot):
    from PySide6.QtWidgets import QApplication

    panel = window.lesson_panel
    session_commands.open_builtin_lesson(window, "arithmetic", step=7)
    for _ in range(4):
        QApplication.processEvents()
    assert not panel.edit_toggle.isChecked() and panel.edit_section.isHidden()
    item = panel.step_list.item(7)
    assert panel.step_list.visualItemRect(item).intersects(panel.step_list.viewport().rect())  # scrolled to it
    height = panel.step_list.height()
    window.lesson.reveal()
    for _ in range(4):
        QApplication.processEvents()
    assert panel.step_list.height() == height  # no jump on the reveal
    panel.edit_toggle.click()
    assert not panel.edit_section.isHidden()
    window.lesson.close()
    window.actions_by_id["lesson_add"].trigger()  # a lesson being written: the fields open
    assert panel.edit_toggle.isChecked()


def test_the_matrix_lessons_steps_keep_their_own_view_in_front(window, qtbot):
    from PySide6.QtWidgets import QApplication

    session_commands.open_builtin_lesson(window, "matrix", step=0)
    for _ in range(4):
        QApplication.processEvents()
    assert window.workspace == "matrix"
    assert not window.docks["matrix"].visibleRegion().isEmpty()
    assert window.animation_panel.state.position == 0
    window.lesson.go_to(5)  # the four ways
    for _ in range(4):
        QApplication.processEvents()
    assert window.workspace == "transposed"
    assert not window.docks["transposed"].visibleRegion().isEmpty()
    assert window.docks["animation"].visibleRegion().isEmpty()
