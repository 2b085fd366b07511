"""Undo on the Qt side: the Edit menu's actions, which follow a ``History``.

The history itself (steps, budget, session changes) is Qt-free, in
``convplay.core.history``; ``push_change`` is re-exported here for the panels.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

from convplay.compute.allocator import release_memory
from convplay.core.history import History, push_change, record_change

__all__ = [
    "History", "UndoKeysFromFields", "clear_history", "clear_history_action", "push_change", "record_change",
    "undo_actions",
]


def undo_actions(
    history: History, parent: QWidget, busy: Callable[[], bool] = lambda: False
) -> tuple[QAction, QAction]:
    """Undo (Ctrl+Z) and Redo (Ctrl+Shift+Z, Ctrl+Y) actions whose text ("Undo Draw") and
    enabled state follow ``history``.  While ``busy()`` (a stroke in progress: the pen is
    down) they do nothing, so a step is never undone under a half-drawn stroke."""
    undo = QAction("&Undo", parent)
    undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
    redo = QAction("&Redo", parent)
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    undo.triggered.connect(lambda _=False: busy() or history.undo())
    redo.triggered.connect(lambda _=False: busy() or history.redo())

    def follow() -> None:
        for action, word, text, enabled in (
            (undo, "&Undo", history.undo_text, history.can_undo),
            (redo, "&Redo", history.redo_text, history.can_redo),
        ):
            action.setText(f"{word} {text}" if text else word)
            action.setEnabled(enabled)

    follow()
    history.changed.connect(follow)
    # The history can outlive the actions (a test's window): stop following once they go.
    undo.destroyed.connect(lambda *_: history.changed.disconnect(follow))
    return undo, redo


def clear_history(history: History) -> None:
    """Forget every undo step and give the memory they held back to the system."""
    history.clear()
    release_memory()


def clear_history_action(history: History, parent: QWidget) -> QAction:
    """Edit > Clear undo history, enabled while there is something to forget."""
    action = QAction("C&lear undo history", parent)
    tip = "Forget every undo step and give the memory they held back to the system"
    action.setStatusTip(tip)
    action.setToolTip(tip)
    action.triggered.connect(lambda _=False: clear_history(history))

    def follow() -> None:
        action.setEnabled(len(history) > 0)

    follow()
    history.changed.connect(follow)
    action.destroyed.connect(lambda *_: history.changed.disconnect(follow))
    return action


class UndoKeysFromFields(QObject):
    """Lets Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y in a spin box or combo box undo the session.

    Their line edits claim the keys for undoing typed text, so a user who typed 128 into
    the working size, pressed Enter and then Ctrl+Z saw nothing happen.  The value was
    already given to the session by then: the keys belong to the session's history.
    The window installs it on its spin and combo boxes; free text fields keep their own undo.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, (QAbstractSpinBox, QComboBox)):
            if isinstance(event, QKeyEvent) and _is_undo_key(event):
                return True  # not claimed: the Edit menu's shortcut runs
        return False


def _is_undo_key(event: QKeyEvent) -> bool:
    if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo):
        return True
    pressed = QKeySequence(event.keyCombination())
    return any(pressed.matches(QKeySequence(k)) == QKeySequence.SequenceMatch.ExactMatch for k in ("Ctrl+Shift+Z", "Ctrl+Y"))
