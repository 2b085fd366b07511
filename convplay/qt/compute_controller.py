"""From session edits to PyTorch jobs, and from the workers' answers into ``Results``.

Every edit (``Session.edited``, emitted before the panels follow it, so PyTorch starts
while they redraw) and every change of device or dtype becomes one request to the
PyTorch worker; settings that cannot run make the results stale instead.  The float64
reference runs only while a view on screen wants it (``Results.want_reference``), after
PyTorch's answer is in, so it never competes with the output the user waits for; it
compares the two in the same job, off the UI thread.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from convplay.compute.run import channels_last_copy, channels_last_wins
from convplay.core.compute_settings import ComputeSettings
from convplay.core.results import ComputeOutcome, ComputeRequest, ReferenceOutcome, Results, reference_outcome
from convplay.core.session import Session
from convplay.qt.output_first import OUTPUT_FIRST
from convplay.qt.workers import LatestWorker

Runner = Callable[[ComputeRequest], ComputeOutcome]
DeviceLister = Callable[[], list]
Preparer = Callable[[np.ndarray], object]
ReferenceRunner = Callable[[ComputeRequest, "np.ndarray | None"], ReferenceOutcome]

# How long a submit may wait (ms) for the PyTorch worker to pick the job up, so that the
# convolution starts before the UI thread goes on redrawing; a worker slow to wake costs
# the UI thread no more than this.
START_WAIT_MS = 2.0


_thread_state = threading.local()


def run_request(request: ComputeRequest) -> ComputeOutcome:
    """The real thing: ``convplay.compute.run_conv`` (imports torch on first use).

    The thread policy is applied in the thread that runs the convolution, before its
    first one: OpenMP keeps the thread count a thread started its first parallel region
    with, so a policy set only in another thread (the device listing's) may come too late.
    The controller's ``set_spare_core`` changes it there the same way, per job.
    """
    from convplay.compute.run import run_conv

    if getattr(_thread_state, "threads", None) is None:
        from convplay.compute.allocator import apply_thread_policy

        _thread_state.threads = apply_thread_policy()
    wanted = getattr(_thread_state, "wanted_threads", None)  # fewer while an animation plays
    if wanted is not None and wanted != _thread_state.threads:
        import torch

        torch.set_num_threads(wanted)
        _thread_state.threads = wanted
    result = run_conv(
        request.spec, request.image, request.weight, request.bias,
        device=request.device, dtype=request.dtype, tf32=request.tf32,
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
    from convplay.compute.devices import devices

    return [(dev.id, dev.name) for dev in devices()]


class ComputeController(QObject):
    """Owns the PyTorch, reference and device workers of one window.

    ``devices_ready(list, str)`` once torch is loaded (the device list, an error text).
    Nothing runs before ``start()``: the window calls it after its first paint.
    """

    devices_ready = Signal(object, str)

    def __init__(
        self,
        session: Session,
        settings: ComputeSettings,
        results: Results,
        *,
        runner: Runner = run_request,
        lister: DeviceLister = list_devices,
        reference: ReferenceRunner = reference_outcome,
        debounce_ms: int = 0,
        start_wait_ms: float = START_WAIT_MS,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.results = results
        self._runner = runner
        self._reference = reference
        self._lister = lister
        self.preparer: Preparer | None = None  # read by the PyTorch worker, once per job
        self._threads: int | None = None  # PyTorch's threads for the next job (None: the policy's)
        self._started = False
        self._host_image_cache: tuple[np.ndarray, tuple[np.dtype, bool], np.ndarray] | None = None

        self.torch = LatestWorker(self._run_torch, "convplay-compute", debounce_ms=debounce_ms,
                                  start_wait_ms=start_wait_ms, parent=self)
        self.reference = LatestWorker(self._run_reference, "convplay-reference", parent=self)
        self.devices = LatestWorker(lambda _job: self._lister(), "convplay-devices", parent=self)

        self.torch.returned.connect(self._on_torch)
        self.torch.errored.connect(self._on_torch_failed)
        self.torch.busy_changed.connect(self._on_busy)
        self.reference.returned.connect(self._on_reference)
        self.reference.errored.connect(self._on_reference_failed)
        self.devices.returned.connect(lambda _g, found: self.devices_ready.emit(found, ""))
        self.devices.errored.connect(
            lambda _g, error: self.devices_ready.emit([("cpu", "CPU")], f"PyTorch could not start: {error}")
        )
        results.reference_wanted_changed.connect(self._on_reference_wanted)
        session.edited.connect(self.request)
        settings.changed.connect(self.request)

    @property
    def started(self) -> bool:
        return self._started

    def set_preparer(self, preparer: Preparer | None) -> None:
        """``preparer(output)`` runs in the PyTorch worker after each call; its result is
        ``outcome.display``."""
        self.preparer = preparer

    def start(self) -> None:
        """Load torch and list the devices in a worker, then compute the session."""
        self._started = True
        self.devices.submit(None)
        self.request()

    def request(self) -> None:
        """Ask PyTorch for the current session's output, or mark the results stale."""
        if not self._started:
            return  # the first paint starts the backend and computes
        self.reference.cancel()
        request = self.results.begin(self.session, self.settings, self._host_image())
        if request is None:
            self.torch.cancel()
        else:
            self.torch.submit((self.results.generation, request))
            OUTPUT_FIRST.hold()  # the panels that follow the edit redraw after its output

    def shutdown(self) -> None:
        """Stop every worker (the window is closing); a long call is not waited for long."""
        for worker in (self.torch, self.reference, self.devices):
            worker.shutdown()
        self._disconnect()

    # -- jobs (worker threads) --------------------------------------------------------------
    def set_spare_core(self, spare: bool) -> None:
        """Leave a core to the window (while an animation plays) or give PyTorch its
        policy's threads; the next convolution runs so."""
        from convplay.compute.allocator import animation_threads, compute_threads

        self._threads = animation_threads() if spare else compute_threads()

    def _run_torch(self, job: tuple[int, ComputeRequest]) -> tuple[int, ComputeOutcome]:
        generation, request = job
        _thread_state.wanted_threads = self._threads  # read by run_request, in this thread
        outcome = self._runner(request)
        preparer = self.preparer
        if preparer is not None:
            outcome = replace(outcome, display=preparer(outcome.output))
        return generation, outcome

    def _run_reference(self, job: tuple[int, ComputeRequest, np.ndarray]) -> tuple[int, ReferenceOutcome]:
        generation, request, torch_output = job
        return generation, self._reference(request, torch_output)

    # -- answers (UI thread) ---------------------------------------------------------------
    def _on_torch(self, _worker_generation: int, answer: tuple[int, ComputeOutcome]) -> None:
        generation, outcome = answer
        if self.results.set_outcome(generation, outcome):
            self._maybe_reference()

    def _on_torch_failed(self, worker_generation: int, error: str) -> None:
        OUTPUT_FIRST.release()
        if self.torch.is_current(worker_generation):
            self.results.set_failed(self.results.generation, error)

    def _on_busy(self, busy: bool) -> None:
        self.results.set_busy(busy)

    def _on_reference_wanted(self, wanted: bool) -> None:
        if wanted:
            self._maybe_reference()

    def _maybe_reference(self) -> None:
        results = self.results
        if results.needs_reference and results.request is not None:
            self.reference.submit((results.generation, results.request, results.output))

    def _on_reference(self, _worker_generation: int, answer: tuple[int, ReferenceOutcome]) -> None:
        generation, reference = answer
        self.results.set_reference(generation, reference)

    def _on_reference_failed(self, worker_generation: int, error: str) -> None:
        if self.reference.is_current(worker_generation):
            self.results.set_reference_error(self.results.generation, error)

    def _host_image(self) -> np.ndarray:
        """The session's image as PyTorch will read it, converted once per image: in the
        host dtype, and laid out channels_last where the call runs on that layout."""
        image, settings = self.session.image, self.settings
        dtype = settings.dtype
        host = np.dtype(np.float64 if dtype == "float64" else np.float32)
        channels_last = channels_last_wins(self.session.spec, settings.device, dtype)
        cache = self._host_image_cache
        if cache is None or cache[0] is not image or cache[1] != (host, channels_last):
            if channels_last:
                converted = channels_last_copy(image, host)
            else:
                converted = np.ascontiguousarray(image, dtype=host)
                if not converted.flags.writeable:  # torch reads a writeable array without a copy per call
                    converted = converted.copy()
            cache = (image, (host, channels_last), converted)
            self._host_image_cache = cache
        return cache[2]

    def _disconnect(self) -> None:
        for signal, slot in (
            (self.session.edited, self.request),
            (self.settings.changed, self.request),
            (self.results.reference_wanted_changed, self._on_reference_wanted),
        ):
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
