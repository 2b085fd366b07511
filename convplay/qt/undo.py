"""Undo/redo of any change to the session, as snapshots of the state before and after."""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from convplay.core.session import Session, SessionSnapshot


class SessionChange(QUndoCommand):
    def __init__(self, session: Session, text: str, before: SessionSnapshot, after: SessionSnapshot):
        super().__init__(text)
        self._session = session
        self._before = before
        self._after = after
        self._first = True

    def redo(self) -> None:
        if self._first:  # the change was already made when the command was pushed
            self._first = False
            return
        self._session.restore(self._after)

    def undo(self) -> None:
        self._session.restore(self._before)


def push_change(stack: QUndoStack | None, session: Session, text: str, change: Callable[[], None]) -> None:
    """Run ``change`` (which calls the session's setters) and make it undoable as ``text``.

    If ``change`` raises, the session is left as it was and nothing is pushed.
    """
    before = session.snapshot()
    try:
        change()
    except Exception:
        session.restore(before)
        raise
    after = session.snapshot()
    if stack is not None and not after.same_as(before):
        stack.push(SessionChange(session, text, before, after))
