"""The one way convplay runs work off the UI thread: a ``LatestWorker``.

Each worker owns one thread and runs one job at a time.  Jobs submitted while one runs
collapse into the newest: a job replaced before it began never starts, and the result of
a job that newer work has made stale is dropped, so only the latest answer reaches the
screen.  Every failure reaches the UI thread as ``errored`` with its text: none is
swallowed.  A job function that returns a generator reports each item it yields
(``yielded``) and stops early once a newer job has made it stale.

The PyTorch call, the float64 reference, the transposed view's accumulation and kernel
learning all run on workers of this kind.  torch itself is first imported inside a
worker, after the window has painted.
"""

from __future__ import annotations

import sys
import threading
import traceback
import types
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

Job = Any
JobFunction = Callable[[Job], Any]

# How often (seconds) a thread waiting for the GIL may take it from a busy one.  Python's
# default, 5 ms, would let a job sit behind the UI thread's redraw for up to 5 ms before
# PyTorch starts (its preamble is Python), and a finished job wait as long to hand over its
# result; 0.5 ms lets both go at once (measured here: PyTorch started 2 ms after an edit
# instead of right away).  PyTorch itself runs without the GIL.
GIL_SWITCH_INTERVAL_S = 0.0005
SHUTDOWN_WAIT_MS = 3000  # closing the window never waits longer for a running job


def apply_thread_switch_policy() -> None:
    """Process policy, applied once by the application at start-up (see GIL_SWITCH_INTERVAL_S)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))


def describe_error(exc: BaseException) -> str:
    """An exception as one line for the screen: its text, or its type when it has none."""
    text = str(exc).strip()
    return text or type(exc).__name__


def _stop(thread: QThread) -> None:
    try:
        if thread.isRunning():
            thread.quit()
            thread.wait(SHUTDOWN_WAIT_MS)
    except RuntimeError:  # already deleted along with its owner: nothing left to stop
        pass


class _Runner(QObject):
    """Lives in the worker thread; ``run`` executes there."""

    finished = Signal(int, object, str)  # generation, result, error text ("" when it worked)
    yielded = Signal(int, object)

    def __init__(self, is_current: Callable[[int], bool]):
        super().__init__()
        self._is_current = is_current
        self.started = threading.Event()  # set as a job begins in the worker thread

    @Slot(int, object, object)
    def run(self, generation: int, fn: JobFunction, job: Job) -> None:
        self.started.set()
        try:
            result = fn(job)
            if isinstance(result, types.GeneratorType):
                last = None
                for last in result:
                    if not self._is_current(generation):
                        result.close()
                        break
                    self._tell(self.yielded, generation, last)
                result = last
        except Exception as exc:  # every failure reaches the screen as text
            message = describe_error(exc)
            if not isinstance(exc, (ValueError, MemoryError, OSError)):
                # An unexpected exception is a bug: its trace goes to stderr as well.
                traceback.print_exc()
            self._tell(self.finished, generation, None, message)
        else:
            self._tell(self.finished, generation, result, "")

    def _tell(self, signal, *args) -> None:
        # A job still running when its window closed (a first torch import outlasting the
        # shutdown wait) ends after this object is gone: nobody is left to tell.
        try:
            signal.emit(*args)
        except RuntimeError:
            pass


class LatestWorker(QObject):
    """Runs ``fn(job)`` in its own thread, newest job first; signals arrive on the UI thread.

    ``returned(generation, result)`` for the current job; ``errored(generation, text)``
    when it raised; ``yielded(generation, item)`` for a generator job's items while it is
    current; ``busy_changed(bool)``.

    ``start_wait_ms`` > 0 makes ``submit`` hand the GIL to the worker until the job has
    begun (at most that long), so it starts before the UI thread goes on redrawing: the
    PyTorch worker uses it, since the edit's output is what the user waits for.
    """

    returned = Signal(int, object)
    errored = Signal(int, str)
    yielded = Signal(int, object)
    busy_changed = Signal(bool)
    _run_job = Signal(int, object, object)

    def __init__(
        self,
        fn: JobFunction,
        name: str,
        *,
        debounce_ms: int = 0,
        start_wait_ms: float = 0.0,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._fn = fn
        self._generation = 0
        self._pending: tuple[int, JobFunction, Job] | None = None
        self._running: int | None = None  # the generation of the job running, if any
        self._start_wait_s = start_wait_ms / 1000
        self.started_jobs = 0  # jobs that began (a replaced job never does)
        self.dropped = 0  # results thrown away because newer work had been submitted
        self._thread = QThread(self)  # a child: deleted after ``destroyed`` has stopped it
        self._thread.setObjectName(name)
        self._runner = _Runner(self.is_current)
        self._runner.moveToThread(self._thread)
        self._run_job.connect(self._runner.run)
        self._runner.finished.connect(self._on_finished)
        self._runner.yielded.connect(self._on_yielded)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._dispatch)
        # A QThread destroyed while it runs aborts the process: whoever owns this worker
        # (a window, a panel, a test) stops its thread by deleting it, shutdown or not.
        self.destroyed.connect(lambda *_args, thread=self._thread: _stop(thread))
        self._thread.start()

    # -- state -------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._running is not None or self._pending is not None

    @property
    def running(self) -> bool:
        return self._running is not None

    @property
    def generation(self) -> int:
        """The generation of the newest job submitted (or cancelled)."""
        return self._generation

    def is_current(self, generation: int) -> bool:
        """True while no newer job has been submitted and nothing was cancelled (any thread)."""
        return generation == self._generation

    # -- commands ----------------------------------------------------------------------
    def submit(self, job: Job, fn: JobFunction | None = None) -> int:
        """Queue ``job`` (for ``fn``, else the worker's function), replacing any job not
        yet started; returns its generation."""
        self._generation += 1
        was_busy = self.busy
        self._pending = (self._generation, fn or self._fn, job)
        if self._debounce.interval() == 0:
            self._dispatch()  # no timer hop: the worker starts before any repaint
        elif self._running is None and not self._debounce.isActive():
            self._debounce.start()
        if not was_busy:  # after the dispatch: its listeners must not delay the job
            self.busy_changed.emit(True)
        return self._generation

    def cancel(self) -> None:
        """Forget the queued job and make a running one stale: neither result will arrive."""
        self._generation += 1
        self._pending = None
        self._debounce.stop()
        if self._running is None:
            self.busy_changed.emit(False)

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop the thread; waits at most ``wait_ms`` for a running job (False if it
        was still running: its thread then ends on its own, its result unread)."""
        self.cancel()
        if not self._thread.isRunning():
            return True
        self._thread.quit()
        return bool(self._thread.wait(wait_ms))


    # -- internals ---------------------------------------------------------------------
    @Slot()
    def _dispatch(self) -> None:
        if self._running is not None or self._pending is None:
            return
        generation, fn, job = self._pending
        self._pending = None
        self._running = generation
        self.started_jobs += 1
        self._runner.started.clear()
        self._run_job.emit(generation, fn, job)
        if self._start_wait_s > 0:
            # Hand the GIL to the worker until the job has begun: else it waits for the UI
            # thread's next switch (the panels' redraw is Python) before it can start.
            self._runner.started.wait(self._start_wait_s)

    @Slot(int, object, str)
    def _on_finished(self, generation: int, result: object, error: str) -> None:
        self._running = None
        if generation != self._generation:
            self.dropped += 1
        elif error:
            self.errored.emit(generation, error)
        else:
            self.returned.emit(generation, result)
        if self._pending is not None:
            self._dispatch()
        elif self._running is None:
            self.busy_changed.emit(False)

    @Slot(int, object)
    def _on_yielded(self, generation: int, item: object) -> None:
        if generation == self._generation:
            self.yielded.emit(generation, item)
