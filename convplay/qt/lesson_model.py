"""The lesson open in the window: its steps, the step on screen, the "ask the class" pause,
and the edits made to it since it was opened or saved.

Going to a step puts its state into the window as one undo step (``session_io``), hides
the panels the step lists (and shows again those the step before hid), and, for a step
with a question, covers PyTorch's output until ``reveal``.  The lesson panel and the
Lesson menu are views and commands of this model; nothing here draws.

Steps are the file format's ``LessonStep`` values; an edit replaces a step with a changed
copy, so the document read from a file is never changed behind the reader's back.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from convplay.core import session_file
from convplay.qt import session_io, workspaces
from convplay.qt.lesson_cover import AskCovers

if TYPE_CHECKING:
    from convplay.qt.main_window import MainWindow

# The panels a step may hide (the file's "hide" names are the window's dock keys).
HIDEABLE = ("input", "output", "kernel", "params", "formula", "device", "animation")
HIDE_LABELS = {
    "input": "Input", "output": "Output", "kernel": "Kernel", "params": "Parameters",
    "formula": "Formula", "device": "Device", "animation": "Sliding window",
}


def _step_fields() -> set[str]:
    return {f.name for f in dataclasses.fields(session_file.LessonStep)}


def make_step(**values) -> "session_file.LessonStep":
    """A step from the fields this version of the format has (the others left out)."""
    known = _step_fields()
    return session_file.LessonStep(**{k: v for k, v in values.items() if k in known})


def step_hide(step) -> tuple[str, ...]:
    return tuple(getattr(step, "hide", None) or ())


def step_text(step, name: str) -> str:
    return str(getattr(step, name, "") or "")


def apply_pooling(window, step) -> bool:
    """A pooling step's settings and input into the window's pooling view (``window.pooling_model``);
    False when the step has none or the window no pooling view."""
    spec = getattr(step, "pooling", None)
    model = getattr(window, "pooling_model", None)
    state = getattr(step, "state", None)
    if spec is None or model is None or state is None:
        return False
    from convplay.core.pooling_model import (
        EXAMPLE,
        EXAMPLE_NAME,
        LESSON_INPUT_NAME,
        OTHER,
    )

    snap = state.snapshot
    source = getattr(snap.source, "sample", None)
    if getattr(source, "key", "") == "tutorial_pool":
        model.set_input(snap.image, EXAMPLE_NAME, EXAMPLE)
    else:
        model.set_input(snap.image, LESSON_INPUT_NAME, OTHER)
    model.set_spec(spec)
    model.set_playing(False)
    model.first()
    return True


class LessonModel(QObject):
    """``opened`` when a lesson opens or closes; ``steps_changed`` when the list of steps is
    edited; ``step_changed(index)``; ``asking_changed(bool)``; ``modified_changed(bool)``."""

    opened = Signal()
    steps_changed = Signal()
    step_changed = Signal(int)
    asking_changed = Signal(bool)
    modified_changed = Signal(bool)

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self.document = None
        self.path = ""
        self.steps: list = []
        self.index = -1
        self._modified = False
        self._asking = False
        self._hidden_by_step: list[str] = []  # docks this lesson hid that were on screen
        self.covers = AskCovers(window, self.reveal)

    # -- state ------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.document is not None

    @property
    def title(self) -> str:
        return str(getattr(self.document, "title", "") or "") if self.document is not None else ""

    @property
    def modified(self) -> bool:
        return self._modified

    @property
    def asking(self) -> bool:
        """True while the step's question covers the output (until revealed)."""
        return self._asking

    @property
    def current(self):
        return self.steps[self.index] if 0 <= self.index < len(self.steps) else None

    def __len__(self) -> int:
        return len(self.steps)

    def _set_modified(self, on: bool) -> None:
        if on != self._modified:
            self._modified = on
            self.modified_changed.emit(on)
        self._title()

    def _title(self) -> None:
        tracker = getattr(self.window, "session_file", None)
        if tracker is not None:
            tracker.update_title()

    # -- opening and closing ------------------------------------------------------------------
    def open(self, document, path: str = "", step: int = 0) -> bool:
        """Show ``document``'s steps, at ``step`` (0-based, kept within the steps)."""
        steps = session_io.steps_of(document)
        if not steps:
            return False
        self.close()
        self.document, self.path, self.steps = document, str(path or ""), steps
        self.index = -1
        self._modified = False
        self.opened.emit()
        self.steps_changed.emit()
        self.place_dock(raise_it=True)
        self.go_to(min(max(int(step), 0), len(steps) - 1))
        self._title()
        return True

    def new(self, title: str = "Untitled lesson") -> None:
        """An empty lesson to author: its first step is added next."""
        self.close()
        self.document = session_file.SessionDocument(kind="lesson", title=title)
        self.path, self.steps, self.index = "", [], -1
        self._modified = True
        self.opened.emit()
        self.steps_changed.emit()
        self.place_dock(raise_it=True)
        self._title()

    def close(self) -> None:
        if not self.is_open:
            return
        self._cover(False)
        self._unhide()
        self.document, self.path, self.steps, self.index = None, "", [], -1
        self._modified = False
        self.opened.emit()
        self.steps_changed.emit()
        self.step_changed.emit(-1)
        self.place_dock()
        self._title()

    def place_dock(self, raise_it: bool = False) -> None:
        """The lesson panel on screen while a lesson is open, except in the focus view."""
        dock = self.window.docks.get("lesson")
        if dock is None:
            return
        wanted = self.is_open and self.window.workspace != workspaces.FOCUS
        if dock.isHidden() == wanted:
            dock.setVisible(wanted)
        if wanted and raise_it:
            dock.raise_()

    # -- moving between steps -------------------------------------------------------------------
    def go_to(self, index: int) -> bool:
        """Put step ``index`` on screen: its state (one undo step), its hidden panels, its
        question.  False if there is no such step."""
        if not 0 <= index < len(self.steps):
            return False
        step = self.steps[index]
        self.index = index
        state = getattr(step, "state", None)
        if state is not None:
            title = step_text(step, "title")
            session_io.apply_state(self.window, state, f"Lesson step {index + 1}" + (f": {title}" if title else ""))
        apply_pooling(self.window, step)
        self._apply_hide(step_hide(step))
        self._cover(bool(step_text(step, "ask").strip()))
        self.step_changed.emit(index)
        return True

    def next(self) -> bool:
        return self.go_to(self.index + 1)

    def previous(self) -> bool:
        return self.go_to(self.index - 1)

    def advance(self) -> bool:
        """A clicker's next: the pending question revealed first, the next step after."""
        if self._asking:
            self.reveal()
            return True
        return self.next()

    def reveal(self) -> None:
        was_asking = self._asking
        self._cover(False)
        model = getattr(self.window, "pooling_model", None)
        if was_asking and model is not None and getattr(self.current, "pooling", None) is not None:
            model.last()  # every window done: the whole output is the answer revealed

    def _cover(self, on: bool) -> None:
        question = step_text(self.current, "ask") if on and self.current is not None else ""
        if on:
            self.covers.show(question)
        else:
            self.covers.hide()
        # A pooling step's question asks for its output: the pooling view hides it too.
        pooling = getattr(self.window, "pooling_model", None)
        if pooling is not None:
            pooling.set_answer_hidden(on and getattr(self.current, "pooling", None) is not None)
        if on != self._asking:
            self._asking = on
            self.asking_changed.emit(on)

    def _unhide(self) -> None:
        for key in self._hidden_by_step:
            dock = self.window.docks.get(key)
            if dock is not None and dock.isHidden():
                dock.show()
        self._hidden_by_step = []

    def _apply_hide(self, names: tuple[str, ...]) -> None:
        """Hide ``names``; show again what the step before hid and this one does not."""
        window = self.window
        keep = [k for k in self._hidden_by_step if k in names]
        for key in self._hidden_by_step:
            if key not in names:
                dock = window.docks.get(key)
                if dock is not None and dock.isHidden() and window.workspace != workspaces.FOCUS:
                    dock.show()
        presenting = getattr(getattr(window, "presenter", None), "active", False)
        for key in names:
            dock = window.docks.get(key)
            if dock is None or key in keep or (presenting and key == "animation"):
                continue
            if not dock.isHidden():
                dock.hide()
                keep.append(key)
        self._hidden_by_step = keep

    @property
    def hidden_panels(self) -> tuple[str, ...]:
        """The panels the lesson has hidden now."""
        return tuple(self._hidden_by_step)

    # -- authoring --------------------------------------------------------------------------------
    def _replace_step(self, index: int, **changes) -> None:
        known = _step_fields()
        changes = {k: v for k, v in changes.items() if k in known}
        step = self.steps[index]
        if all(getattr(step, k) == v for k, v in changes.items()):
            return
        self.steps[index] = dataclasses.replace(step, **changes)
        self._set_modified(True)
        self.steps_changed.emit()

    def set_field(self, name: str, value) -> None:
        """An edit of the current step (title, caption, ask, hide) from the panel."""
        if self.current is None:
            return
        if name == "hide":
            value = tuple(k for k in HIDEABLE if k in value)
        self._replace_step(self.index, **{name: value})
        if name == "hide" and self.current is not None:
            self._apply_hide(step_hide(self.current))

    def set_title(self, title: str) -> None:
        if self.document is not None and title != self.title:
            self.document = dataclasses.replace(self.document, title=str(title))
            self._set_modified(True)
            self.steps_changed.emit()

    def add_current(self) -> None:
        """The window's state as a new step after the current one (a new lesson if none)."""
        if not self.is_open:
            self.new()
        state = session_io.current_state(self.window)
        step = make_step(title=f"Step {len(self.steps) + 1}", caption="", ask="", hide=(), formula=(),
                         expected_output_shape=None, expected_output=None, state=state)
        at = self.index + 1
        self.steps.insert(at, step)
        self.index = at
        self._set_modified(True)
        self.steps_changed.emit()
        self._apply_hide(())
        self._cover(False)
        self.place_dock(raise_it=True)
        self.step_changed.emit(at)

    def update_current(self) -> None:
        """The current step takes the window's state (its words stay)."""
        if self.current is not None:
            self.steps[self.index] = dataclasses.replace(self.current, state=session_io.current_state(self.window))
            self._set_modified(True)
            self.steps_changed.emit()

    def remove_current(self) -> None:
        if self.current is None:
            return
        del self.steps[self.index]
        self._set_modified(True)
        self.steps_changed.emit()
        if self.steps:
            self.go_to(min(self.index, len(self.steps) - 1))
        else:
            self.index = -1
            self._cover(False)
            self._unhide()
            self.step_changed.emit(-1)

    def move_current(self, delta: int) -> bool:
        """Move the current step up (-1) or down (+1) the list; it stays the current one."""
        i, j = self.index, self.index + delta
        if self.current is None or not 0 <= j < len(self.steps):
            return False
        self.steps[i], self.steps[j] = self.steps[j], self.steps[i]
        self.index = j
        self._set_modified(True)
        self.steps_changed.emit()
        self.step_changed.emit(j)
        return True

    def to_document(self):
        """The lesson as it is now, ready to write."""
        return dataclasses.replace(self.document, kind="lesson", steps=tuple(self.steps))

    def save_to(self, path: str) -> None:
        """Write the lesson to ``path``; SessionFileError with the reason if it cannot."""
        if not self.steps:
            raise session_io.SessionFileError("a lesson needs at least one step: add the current state as a step")
        session_io.write_document(path, self.to_document())
        self.path = str(path)
        self._set_modified(False)

    @property
    def file_name(self) -> str:
        return Path(self.path).name if self.path else ""
