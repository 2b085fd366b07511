"""The undo history without Qt: push, undo, redo, clear, texts, the byte budget, and session
steps that keep only what a change touched."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

from convplay.core.history import DEFAULT_BUDGET_BYTES, History, SessionStep, push_change, record_change
from convplay.core.input_source import InputSource
from convplay.core.session import Session
from convplay.core.spec import ConvSpec

MiB = 2**20


@dataclass
class Counter:
    """A step that adds to a list on redo and takes it back on undo; ``size`` bytes held."""

    text: str
    log: list
    size: int = 0
    data: np.ndarray = field(init=False)

    def __post_init__(self):
        self.data = np.zeros(self.size, dtype=np.uint8)

    def undo(self):
        self.log.remove(self.text)

    def redo(self):
        self.log.append(self.text)

    def arrays(self):
        return (self.data,)


def _push(history, log, text, size=0):
    log.append(text)  # the change is made, then recorded
    history.push(Counter(text, log, size))


def test_push_undo_redo_and_texts():
    history, log, changes = History(), [], []
    history.changed.connect(lambda: changes.append(1))
    assert not history.can_undo and not history.can_redo and history.undo_text == ""
    _push(history, log, "a")
    _push(history, log, "b")
    assert history.can_undo and history.undo_text == "b" and len(history) == 2
    history.undo()
    assert log == ["a"] and history.redo_text == "b" and history.undo_text == "a"
    history.redo()
    assert log == ["a", "b"] and not history.can_redo
    history.undo()
    _push(history, log, "c")  # a new change drops what could have been redone
    assert [history.text(i) for i in range(len(history))] == ["a", "c"] and not history.can_redo
    assert len(changes) == 6
    history.undo()
    history.undo()
    history.undo()  # nothing left: no error, no event
    assert log == [] and len(changes) == 8


def test_clear_forgets_everything():
    history, log, changed = History(), [], []
    _push(history, log, "a", 1000)
    history.changed.connect(lambda: changed.append(1))
    history.clear()
    assert len(history) == 0 and history.nbytes == 0 and not history.can_undo and changed == [1]


def test_the_budget_drops_the_oldest_steps_and_says_so():
    assert DEFAULT_BUDGET_BYTES == 256 * MiB
    history, log, said = History(budget_bytes=10 * MiB), [], []
    history.steps_dropped.connect(said.append)
    for n in range(3):
        _push(history, log, f"s{n}", 3 * MiB)
    assert len(history) == 3 and history.nbytes == 9 * MiB and said == []
    _push(history, log, "big", 7 * MiB)
    assert [history.text(i) for i in range(len(history))] == ["s2", "big"]
    assert history.nbytes == 10 * MiB
    assert len(said) == 1 and "Undo history full" in said[0] and "oldest 2 steps" in said[0]
    history.undo()
    history.undo()
    assert not history.can_undo and log == ["s0", "s1"]
    _push(history, log, "huge", 50 * MiB)  # alone over the budget: kept, the change can be undone
    assert [history.text(i) for i in range(len(history))] == ["huge"] and len(said) == 1
    _push(history, log, "small", 1)
    assert [history.text(i) for i in range(len(history))] == ["small"] and "oldest step was" in said[-1]


def test_an_array_shared_by_steps_is_counted_once():
    history = History()
    shared = np.zeros(1000)

    class Holder:
        text = "x"

        def undo(self):
            pass

        def redo(self):
            pass

        def arrays(self):
            return (shared, shared)

    history.push(Holder())
    history.push(Holder())
    assert history.nbytes == shared.nbytes
    history.undo()
    history.push(Holder())  # the undone step is dropped; the array is still held by the first
    assert history.nbytes == shared.nbytes


def _session(h=64, w=64, c=3) -> Session:
    image = np.random.default_rng(0).random((c, h, w))
    return Session(image, ConvSpec(c, 2, 3), np.ones((2, c, 3, 3)))


def _stroke(session: Session, rows: slice, cols: slice, value: float = 1.0) -> None:
    image = np.array(session.image)
    image[:, rows, cols] = value
    session.set_image(image)


def test_a_stroke_keeps_only_the_box_it_touched():
    session, history = _session(1024, 1024), History()
    before = session.snapshot()
    original = session.image
    for col in range(100, 140, 5):  # a stroke pushes the image as the pen moves
        _stroke(session, slice(200, 210), slice(col, col + 5))
    record_change(history, session, "Draw", before)
    box = 3 * 10 * 40 * 8  # channels x rows x columns x float64
    assert history.nbytes == 2 * box  # before and after patches, not two 24 MiB images
    drawn = session.image
    history.undo()
    np.testing.assert_array_equal(session.image, original)
    history.redo()
    np.testing.assert_array_equal(session.image, drawn)


def test_a_hundred_strokes_at_1024_rgb_fit_in_a_few_mib():
    session, history = _session(1024, 1024), History()
    first = session.image
    for n in range(100):
        r = (n * 37) % 1000
        push_change(history, session, "Draw", lambda r=r: _stroke(session, slice(r, r + 8), slice(r, r + 24)))
    # Two full float64 images per stroke would be 4.8 GiB; the patches are kilobytes each.
    assert history.nbytes < 2 * MiB
    for _ in range(100):
        history.undo()
    np.testing.assert_array_equal(session.image, first)


def test_session_steps_restore_spec_kernel_and_the_input_source():
    session, history = _session(16, 16, 1), History()
    first = session.snapshot()
    push_change(history, session, "Stride", lambda: session.set_spec(session.spec.replace(stride=2)))
    push_change(history, session, "Weight", lambda: session.set_weight(session.weight * 2))
    source = InputSource.from_array(np.ones((1, 40, 20)), "tall.png")
    push_change(history, session, "Open", lambda: session.set_source(source))
    assert session.image.shape == (1, 16, 8)
    push_change(history, session, "Size", lambda: session.set_working_size(40))
    assert session.image.shape == (1, 40, 20)
    for _ in range(4):
        history.undo()
    assert session.snapshot().same_as(first)
    for _ in range(4):
        history.redo()
    assert session.source is source and session.working_size == 40 and session.spec.stride == 2
    np.testing.assert_array_equal(session.weight, 2 * np.ones((2, 1, 3, 3)))


def test_a_failed_change_is_rolled_back_and_not_recorded():
    session, history = _session(8, 8, 1), History()
    before = session.snapshot()

    def change():
        session.set_spec(session.spec.replace(stride=2))
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        push_change(history, session, "Bad", change)
    assert session.snapshot().same_as(before) and len(history) == 0


def test_nothing_changed_records_nothing():
    session, history = _session(8, 8, 1), History()
    push_change(history, session, "Same", lambda: session.set_spec(session.spec))
    assert len(history) == 0


def test_a_push_while_undoing_is_ignored():
    session, history = _session(8, 8, 1), History()
    push_change(history, session, "Stride", lambda: session.set_spec(session.spec.replace(stride=2)))
    # A view that reacts to the restored state by pushing must not rewrite the history.
    session.spec_changed.connect(lambda: history.push(SessionStep(session, "echo", session.snapshot(), session.snapshot())))
    history.undo()
    assert len(history) == 1 and history.can_redo


def test_clearing_gives_memory_back_to_the_system():
    """After clearing 100 strokes' worth of full images the process shrinks (glibc trim)."""
    code = r"""
import numpy as np
from convplay.compute.allocator import release_memory, tune_allocator
tune_allocator()  # as at start-up: freed memory stays mapped unless trimmed

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

held = [np.ones((3, 512, 512)) for _ in range(60)]  # 360 MiB
peak = rss()
del held
kept = rss()
release_memory()
print(peak, kept, rss())
"""
    if not sys.platform.startswith("linux"):
        pytest.skip("malloc_trim is glibc's")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak, kept, trimmed = map(int, result.stdout.split())
    assert kept > peak - 100 * MiB  # without the trim the pages stay with the process
    assert trimmed < peak - 250 * MiB
