"""Undo and redo within a byte budget, without Qt.

``History`` is a linear list of steps.  A step is anything with ``text``, ``undo()``,
``redo()`` and ``arrays()`` (the numpy arrays it keeps alive); the history counts those
bytes, each array once however many steps share it, and when a push takes it over its
budget it drops the oldest steps and says so (``steps_dropped``).

``SessionStep`` is the step of a session change.  It keeps only what the change touched:
the fields that differ, and for an edit of the pixels (a stroke, a typed value) the
bounding box of the changed pixels before and after, not two whole images.  A stroke on a
1024 x 1024 RGB input costs its box, where two float64 images would cost 48 MiB.

``push_change`` runs a change and records it; ``record_change`` records a change that
was made step by step (a stroke pushes its pixels while the pen moves).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Iterable, Protocol

import numpy as np
from psygnal import Signal

from convplay.core.input_source import InputSource
from convplay.core.session import Session, SessionSnapshot

DEFAULT_BUDGET_BYTES = 256 * 2**20


class Step(Protocol):
    text: str

    def undo(self) -> None: ...

    def redo(self) -> None: ...

    def arrays(self) -> Iterable[np.ndarray]: ...


class History:
    """Undo/redo steps, newest last; ``index`` of them are applied (the rest can be redone).

    Signals: ``changed`` after every push, undo, redo, clear or drop; ``steps_dropped(str)``
    with a sentence for the user when the budget dropped old steps.
    """

    changed = Signal()
    steps_dropped = Signal(str)

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        if budget_bytes < 0:
            raise ValueError(f"the budget must be at least 0 bytes, not {budget_bytes}")
        self._budget = int(budget_bytes)
        self._steps: list[Step] = []
        self._index = 0
        self._held: dict[int, list] = {}  # id(array) -> [array, number of steps holding it]
        self._nbytes = 0
        self._applying = False

    # -- state ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._steps)

    def count(self) -> int:
        """How many steps are kept (applied and undone)."""
        return len(self._steps)

    @property
    def index(self) -> int:
        """How many of the steps are applied: the next undo takes back step index - 1."""
        return self._index

    def text(self, i: int) -> str:
        return self._steps[i].text

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._steps)

    @property
    def undo_text(self) -> str:
        """What Undo would take back ("" when nothing)."""
        return self._steps[self._index - 1].text if self.can_undo else ""

    @property
    def redo_text(self) -> str:
        return self._steps[self._index].text if self.can_redo else ""

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the steps keep alive, each shared array counted once."""
        return self._nbytes

    @property
    def budget_bytes(self) -> int:
        return self._budget

    def set_budget(self, budget_bytes: int) -> None:
        if budget_bytes < 0:
            raise ValueError(f"the budget must be at least 0 bytes, not {budget_bytes}")
        self._budget = int(budget_bytes)
        if self._enforce_budget():
            self.changed.emit()

    # -- changes ----------------------------------------------------------------------
    def push(self, step: Step) -> None:
        """Add ``step``, already applied; the steps that could be redone are dropped.

        A push made while a step is being undone or redone (a view reacting to the
        restored state) is ignored: it would record the history's own work.
        """
        if self._applying:
            return
        for old in self._steps[self._index :]:
            self._release(old)
        del self._steps[self._index :]
        self._steps.append(step)
        self._index = len(self._steps)
        self._hold(step)
        self._enforce_budget()
        self.changed.emit()

    def undo(self) -> None:
        if not self.can_undo or self._applying:
            return
        self._apply(self._steps[self._index - 1].undo)
        self._index -= 1
        self.changed.emit()

    def redo(self) -> None:
        if not self.can_redo or self._applying:
            return
        self._apply(self._steps[self._index].redo)
        self._index += 1
        self.changed.emit()

    def clear(self) -> None:
        """Forget every step; the memory they held is free afterwards."""
        self._steps.clear()
        self._held.clear()
        self._index = 0
        self._nbytes = 0
        self.changed.emit()

    # -- inside --------------------------------------------------------------------------
    def _apply(self, action: Callable[[], None]) -> None:
        self._applying = True
        try:
            action()
        finally:
            self._applying = False

    def _hold(self, step: Step) -> None:
        for array in _unique(step.arrays()):
            entry = self._held.get(id(array))
            if entry is None:
                self._held[id(array)] = [array, 1]
                self._nbytes += array.nbytes
            else:
                entry[1] += 1

    def _release(self, step: Step) -> None:
        for array in _unique(step.arrays()):
            entry = self._held.get(id(array))
            if entry is None:
                continue
            entry[1] -= 1
            if entry[1] == 0:
                del self._held[id(array)]
                self._nbytes -= array.nbytes

    def _enforce_budget(self) -> bool:
        """Drop the oldest steps until the bytes fit; the newest step always stays (the
        change just made can be taken back).  True when steps were dropped."""
        dropped = 0
        while self._nbytes > self._budget and len(self._steps) > 1:
            self._release(self._steps.pop(0))
            self._index = max(0, self._index - 1)
            dropped += 1
        if dropped:
            what = "the oldest step was" if dropped == 1 else f"the oldest {dropped} steps were"
            self.steps_dropped.emit(
                f"Undo history full ({_mib(self._budget)}): {what} dropped and can no longer be undone"
            )
        return bool(dropped)


def _unique(arrays: Iterable[np.ndarray]) -> list[np.ndarray]:
    seen: dict[int, np.ndarray] = {}
    for array in arrays:
        seen.setdefault(id(array), array)
    return list(seen.values())


def _mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


# -- session changes ---------------------------------------------------------------------------
# Every snapshot field but the image, which is stored as a patch where it can be.
_FIELDS = tuple(f.name for f in fields(SessionSnapshot) if f.name != "image")


@dataclass(frozen=True, eq=False)
class _Patch:
    """The pixels of one box before and after an edit of an image's values."""

    shape: tuple[int, ...]
    rows: slice
    cols: slice
    before: np.ndarray
    after: np.ndarray

    def image(self, current: np.ndarray, side: str) -> np.ndarray:
        if current.shape != self.shape:  # the session was changed outside the history
            return current
        out = np.array(current)
        out[:, self.rows, self.cols] = self.before if side == "before" else self.after
        out.setflags(write=False)
        return out

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.before, self.after)


@dataclass(frozen=True, eq=False)
class _Whole:
    """Two images of different shapes (a resize, a new file): both kept as they are."""

    before: np.ndarray
    after: np.ndarray

    def image(self, current: np.ndarray, side: str) -> np.ndarray:
        return self.before if side == "before" else self.after

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.before, self.after)


def image_delta(before: np.ndarray, after: np.ndarray) -> _Patch | _Whole | None:
    """What an image change touched: the box of changed pixels when the shape stayed, the
    two images when it did not, None when no value changed."""
    if before is after:
        return None
    if before.shape != after.shape:
        return _Whole(before, after)
    changed = np.any(before != after, axis=0)
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed.any(axis=0))
    r, c = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
    box_before, box_after = before[:, r, c].copy(), after[:, r, c].copy()
    box_before.setflags(write=False)
    box_after.setflags(write=False)
    return _Patch(before.shape, r, c, box_before, box_after)


def _differs(a, b) -> bool:
    if isinstance(a, (np.ndarray, InputSource)) or isinstance(b, (np.ndarray, InputSource)):
        return a is not b
    return a != b


class SessionStep:
    """One undoable change of ``session``, stored as what differs between two snapshots.

    Undo and redo rebuild the other snapshot from the session's state, which in a linear
    history is this step's ``after`` (or ``before``) state.
    """

    def __init__(self, session: Session, text: str, before: SessionSnapshot, after: SessionSnapshot):
        self.text = text
        self._session = session
        self._image = image_delta(before.image, after.image)
        changed = [f for f in _FIELDS if _differs(getattr(before, f), getattr(after, f))]
        self._before = {f: getattr(before, f) for f in changed}
        self._after = {f: getattr(after, f) for f in changed}

    def undo(self) -> None:
        self._go(self._before, "before")

    def redo(self) -> None:
        self._go(self._after, "after")

    def _go(self, values: dict, side: str) -> None:
        now = self._session.snapshot()
        state = {f: getattr(now, f) for f in _FIELDS}
        state.update(values)
        image = now.image if self._image is None else self._image.image(now.image, side)
        self._session.restore(SessionSnapshot(image=image, **state))

    def arrays(self) -> list[np.ndarray]:
        found = list(self._image.arrays()) if self._image is not None else []
        for values in (self._before, self._after):
            for value in values.values():
                if isinstance(value, np.ndarray):
                    found.append(value)
                elif isinstance(value, InputSource):
                    found.extend(value.arrays())
        return found


def record_change(history: History | None, session: Session, text: str, before: SessionSnapshot) -> None:
    """Record, as ``text``, everything that changed in ``session`` since ``before``."""
    after = session.snapshot()
    if history is not None and not after.same_as(before):
        history.push(SessionStep(session, text, before, after))


def push_change(history: History | None, session: Session, text: str, change: Callable[[], None]) -> None:
    """Run ``change`` (which calls the session's setters) and make it undoable as ``text``.

    If ``change`` raises, the session is left as it was, nothing is pushed, and the
    exception goes on to the caller (which shows its message).
    """
    before = session.snapshot()
    try:
        change()
    except Exception:
        session.restore(before)
        raise
    record_change(history, session, text, before)
