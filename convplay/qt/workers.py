"""Runs PyTorch off the UI thread: coalesced requests, one job at a time, newest wins.

``submit`` never waits for a result.  With no debounce an idle worker starts at once,
inside ``submit`` (which returns once the worker has picked the job up, START_WAIT_MS at
most), so PyTorch runs while the UI thread repaints the panels the edit touched.
Requests arriving while a job runs (or within ``debounce_ms``) collapse into the newest
one; a result whose generation is older than the newest request is dropped, so the
screen only ever shows the latest settings.  A ``preparer`` (``set_preparer``) turns each
output into what the views show, in the worker thread too.  torch itself is first
imported inside the worker thread (``start_backend``), after the window has painted.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from convplay.core.spec import ConvSpec
from convplay.core.display import OutputDisplay


@dataclass(frozen=True, eq=False)
class ComputeRequest:
    """Everything one PyTorch call needs; arrays are shared, never written to."""

    spec: ConvSpec
    image: np.ndarray  # (C, H, W)
    weight: np.ndarray  # spec.weight_shape, already flipped for true convolution
    bias: np.ndarray | None
    device: str = "cpu"
    dtype: str = "float32"
    tf32: bool = False

    @property
    def compare_with_cpu64(self) -> bool:
        """On CUDA the result is checked against a CPU float64 run of the same conv."""
        return self.device.startswith("cuda")


@dataclass(frozen=True, eq=False)
class ComputeOutcome:
    request: ComputeRequest
    output: np.ndarray  # (out_channels, H_out, W_out)
    elapsed_s: float
    device_name: str
    max_diff_cpu64: float | None = None
    generation: int = 0
    display: OutputDisplay | None = None  # the preparer's ready-to-show arrays


Runner = Callable[[ComputeRequest], ComputeOutcome]
DeviceLister = Callable[[], list]
Preparer = Callable[[np.ndarray], OutputDisplay]


def run_request(request: ComputeRequest) -> ComputeOutcome:
    """The real thing: ``convplay.compute.run_conv`` (imports torch on first use)."""
    from convplay.compute.run import run_conv

    result = run_conv(
        request.spec,
        request.image,
        request.weight,
        request.bias,
        device=request.device,
        dtype=request.dtype,
        tf32=request.tf32,
    )
    output = np.asarray(result.output)
    max_diff = None
    if request.compare_with_cpu64:
        reference = run_conv(request.spec, request.image, request.weight, request.bias, device="cpu", dtype="float64")
        ref = np.asarray(reference.output)
        max_diff = float(np.max(np.abs(output.astype(np.float64) - ref))) if ref.size else 0.0
    return ComputeOutcome(request, output, float(result.elapsed_s), str(result.device_name), max_diff)


def list_devices() -> list[tuple[str, str]]:
    """(id, label) for every device PyTorch can use; the first import of torch happens here."""
    from convplay.compute.allocator import apply_thread_policy
    from convplay.compute.devices import devices

    apply_thread_policy()
    return [(dev.id, dev.name) for dev in devices()]


# How often (seconds) a thread waiting for the GIL may take it from a busy one.  Python's
# default, 5 ms, would let a job sit behind the UI thread's redraw for up to 5 ms before
# PyTorch starts (its preamble is Python), and a finished job wait as long to hand over its
# result; 0.5 ms lets both go at once (measured here: PyTorch started 2 ms after an edit
# instead of right away).  PyTorch itself runs without the GIL.
GIL_SWITCH_INTERVAL_S = 0.0005
# How long ``submit`` waits (ms) for the worker thread to pick the job up, so that PyTorch
# starts before the UI thread goes on (see ``ComputeWorker._dispatch``); a worker that
# is slow to wake costs the UI thread no more than this.
START_WAIT_MS = 2.0


class _Runner(QObject):
    """Lives in the worker thread; every slot runs there."""

    finished = Signal(int, object, str)  # generation, ComputeOutcome | None, error text
    devices_found = Signal(object, str)  # list of (id, label), error text

    def __init__(self, runner: Runner, lister: DeviceLister):
        super().__init__()
        self._runner = runner
        self._lister = lister
        self.preparer: Preparer | None = None  # set from the UI thread, read here
        self.started = threading.Event()  # set as a job begins in the worker thread

    @Slot()
    def warm_up(self) -> None:
        try:
            self.devices_found.emit(self._lister(), "")
        except Exception as exc:  # a broken torch install is shown, not raised
            self.devices_found.emit([("cpu", "CPU")], f"PyTorch could not start: {exc}")

    @Slot(int, object)
    def run(self, generation: int, request: ComputeRequest) -> None:
        self.started.set()
        try:
            outcome = self._runner(request)
            preparer = self.preparer
            if preparer is not None:
                outcome = replace(outcome, display=preparer(outcome.output))
        except Exception as exc:  # every failure becomes a message on screen
            self.finished.emit(generation, None, str(exc) or type(exc).__name__)
        else:
            self.finished.emit(generation, outcome, "")


class ComputeWorker(QObject):
    """Owns the worker thread.  Signals arrive on the UI thread.

    ``result_ready(ComputeOutcome)`` for the newest request; ``failed(str)`` when it
    raised; ``busy_changed(bool)``; ``devices_ready(list, str)`` once torch is loaded.
    """

    result_ready = Signal(object)
    failed = Signal(str)
    busy_changed = Signal(bool)
    devices_ready = Signal(object, str)
    _run_job = Signal(int, object)
    _warm_up = Signal()

    def __init__(
        self,
        runner: Runner = run_request,
        lister: DeviceLister = list_devices,
        debounce_ms: int = 0,
        parent: QObject | None = None,
        start_wait_ms: float = START_WAIT_MS,
    ):
        super().__init__(parent)
        self._generation = 0
        self._pending: tuple[int, ComputeRequest] | None = None
        self._running = False
        self._start_wait_s = start_wait_ms / 1000
        self.dropped = 0  # results thrown away because newer settings had arrived
        self._thread = QThread()
        self._thread.setObjectName("convplay-compute")
        self._runner = _Runner(runner, lister)
        self._runner.moveToThread(self._thread)
        self._run_job.connect(self._runner.run)
        self._warm_up.connect(self._runner.warm_up)
        self._runner.finished.connect(self._on_finished)
        self._runner.devices_found.connect(self.devices_ready)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._dispatch)
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._running or self._pending is not None

    @property
    def generation(self) -> int:
        return self._generation

    def set_preparer(self, preparer: Preparer | None) -> None:
        """Run ``preparer(output)`` in the worker after each job; its result is ``outcome.display``."""
        self._runner.preparer = preparer

    def start_backend(self) -> None:
        """Import torch and list the devices, in the worker thread."""
        self._warm_up.emit()

    def submit(self, request: ComputeRequest) -> int:
        """Queue ``request``, replacing any not yet started; returns its generation."""
        self._generation += 1
        was_busy = self.busy
        self._pending = (self._generation, request)
        if self._debounce.interval() == 0:
            self._dispatch()  # no timer hop: the worker starts before any repaint
        elif not self._running and not self._debounce.isActive():
            self._debounce.start()
        if not was_busy:  # after the dispatch: its listeners must not delay PyTorch
            self.busy_changed.emit(True)
        return self._generation

    def cancel_pending(self) -> None:
        """Forget the queued request and make any running one stale (invalid settings)."""
        self._generation += 1
        self._pending = None
        self._debounce.stop()
        if not self._running:
            self.busy_changed.emit(False)

    def shutdown(self) -> None:
        """Stop the thread (waits for a running PyTorch call to return)."""
        self._debounce.stop()
        self._pending = None
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()

    @Slot()
    def _dispatch(self) -> None:
        if self._running or self._pending is None:
            return
        generation, request = self._pending
        self._pending = None
        self._running = True
        self._runner.started.clear()
        self._run_job.emit(generation, request)
        # Hand the GIL to the worker until the job has begun: else it waits for the UI
        # thread's next switch (the panels' redraw is Python) before PyTorch can start.
        self._runner.started.wait(self._start_wait_s)

    @Slot(int, object, str)
    def _on_finished(self, generation: int, outcome: ComputeOutcome | None, error: str) -> None:
        self._running = False
        if generation != self._generation:
            self.dropped += 1
        elif outcome is None:
            self.failed.emit(error)
        else:
            self.result_ready.emit(replace(outcome, generation=generation))
        if self._pending is not None:
            self._dispatch()
        else:
            self.busy_changed.emit(False)
