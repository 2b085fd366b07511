"""The Edit menu's undo actions follow the Qt-free history; clearing it trims memory."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from convplay.core.history import History, push_change
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt import undo


def test_undo_actions_follow_the_history(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    session, history = Session(np.zeros((1, 8, 8)), ConvSpec()), History()
    undo_action, redo_action = undo.undo_actions(history, parent)
    assert not undo_action.isEnabled() and not redo_action.isEnabled() and undo_action.text() == "&Undo"
    assert undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert [k.toString() for k in redo_action.shortcuts()] == ["Ctrl+Shift+Z", "Ctrl+Y"]
    undo.push_change(history, session, "Set stride", lambda: session.set_spec(session.spec.replace(stride=2)))
    assert undo_action.isEnabled() and undo_action.text() == "&Undo Set stride"
    undo_action.trigger()
    assert session.spec.stride == 1 and redo_action.text() == "&Redo Set stride" and not undo_action.isEnabled()
    redo_action.trigger()
    assert session.spec.stride == 2


def test_clear_history_action_forgets_and_trims(qtbot, monkeypatch):
    trims = []
    monkeypatch.setattr(undo, "release_memory", lambda: trims.append(1) or True)
    parent = QWidget()
    qtbot.addWidget(parent)
    session, history = Session(np.zeros((1, 8, 8)), ConvSpec()), History()
    action = undo.clear_history_action(history, parent)
    assert not action.isEnabled()
    push_change(history, session, "Fill", lambda: session.set_image(np.ones((1, 8, 8))))
    assert action.isEnabled() and history.nbytes > 0
    action.trigger()
    assert len(history) == 0 and history.nbytes == 0 and trims == [1] and not action.isEnabled()


def test_actions_deleted_before_the_history_stop_following(qtbot):
    history = History()
    parent = QWidget()
    undo.undo_actions(history, parent)
    undo.clear_history_action(history, parent)
    parent.deleteLater()
    qtbot.waitUntil(lambda: len(history.changed) == 0)
    history.clear()  # no slot of a deleted action is called


def test_undo_waits_while_the_pen_is_down(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    session, history = Session(np.zeros((1, 8, 8)), ConvSpec()), History()
    pen_down = [True]
    undo_action, _redo = undo.undo_actions(history, parent, busy=lambda: pen_down[0])
    undo.push_change(history, session, "Set stride", lambda: session.set_spec(session.spec.replace(stride=2)))
    undo_action.trigger()
    assert session.spec.stride == 2 and history.can_undo  # mid-stroke: nothing undone under the pen
    pen_down[0] = False
    undo_action.trigger()
    assert session.spec.stride == 1
