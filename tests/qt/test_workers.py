"""The one worker mechanism (LatestWorker) and the compute controller built on it.

Newest wins, replaced jobs never start, stale results are dropped, every failure reaches
the UI thread with its text, generator jobs report and stop once stale; the controller
turns session edits into PyTorch jobs and writes the answers into Results.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLineEdit

from convplay.core.compute_settings import ComputeSettings
from convplay.core.results import Results, reference_outcome
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.compute_controller import ComputeController, run_request
from convplay.qt.workers import GIL_SWITCH_INTERVAL_S, LatestWorker, apply_thread_switch_policy
from oracles import session_output, torch_conv


@pytest.fixture
def make_worker(qtbot):
    workers = []

    def make(fn, **kwargs) -> LatestWorker:
        worker = LatestWorker(fn, "convplay-test", **kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.shutdown()


@pytest.fixture
def make_controller(qtbot):
    controllers = []

    def make(session: Session, settings: ComputeSettings | None = None, **kwargs) -> ComputeController:
        controller = ComputeController(session, settings or ComputeSettings(), Results(),
                                       lister=lambda: [("cpu", "CPU")], **kwargs)
        controllers.append(controller)
        return controller

    yield make
    for controller in controllers:
        controller.shutdown()


# -- LatestWorker ----------------------------------------------------------------------------
def test_the_newest_job_wins_and_replaced_jobs_never_start(qtbot, make_worker):
    gate = threading.Event()
    ran = []

    def fn(tag):
        ran.append(tag)
        if tag == "first":
            gate.wait(30)
        return tag

    worker = make_worker(fn)
    returned = []
    worker.returned.connect(lambda g, r: returned.append(r))
    worker.submit("first")  # runs, then is made stale by the next ones
    for tag in ("second", "third", "newest"):
        worker.submit(tag)
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy, timeout=30_000)
    assert ran == ["first", "newest"]  # second and third were replaced before they began
    assert returned == ["newest"] and worker.dropped == 1 and worker.started_jobs == 2


@pytest.mark.parametrize("error, text", [(ValueError("cannot show that"), "cannot show that"),
                                         (KeyError("weight"), "'weight'"),
                                         (RuntimeError(), "RuntimeError")])
def test_every_failure_reaches_the_ui_thread_with_its_text(qtbot, make_worker, error, text, capsys):
    def fn(_job):
        raise error

    worker = make_worker(fn)
    with qtbot.waitSignal(worker.errored, timeout=30_000) as blocker:
        worker.submit(None)
    assert blocker.args[1] == text
    qtbot.waitUntil(lambda: not worker.busy)
    if not isinstance(error, ValueError):  # an unexpected one is a bug: its trace is printed too
        assert type(error).__name__ in capsys.readouterr().err


def test_cancel_makes_the_running_job_stale(qtbot, make_worker):
    gate = threading.Event()
    worker = make_worker(lambda job: gate.wait(30) and job)
    returned = []
    worker.returned.connect(lambda g, r: returned.append(r))
    worker.submit("stale")
    worker.cancel()
    assert worker.busy  # still running; its result will be dropped
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy, timeout=30_000)
    assert returned == [] and worker.dropped == 1


def test_a_generator_job_reports_each_item_and_stops_once_stale(qtbot, make_worker):
    gate = threading.Event()
    produced = []

    def count(n):
        for k in range(n):
            produced.append(k)
            yield k
            if k == 2:
                gate.wait(30)

    worker = make_worker(count)
    yielded = []
    worker.yielded.connect(lambda g, item: yielded.append(item))
    worker.submit(1000)
    qtbot.waitUntil(lambda: yielded == [0, 1, 2], timeout=30_000)
    worker.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy, timeout=30_000)
    assert len(produced) <= 4  # stopped after the item in hand: nothing ran on to 1000
    assert yielded == [0, 1, 2]


def test_an_idle_worker_starts_inside_submit(qtbot, make_worker):
    """No timer hop: the job starts even while the UI thread processes no events."""
    started = threading.Event()
    worker = make_worker(lambda job: started.set())
    worker.submit(None)
    assert started.wait(30)  # the UI thread is blocked here, not running its event loop
    qtbot.waitUntil(lambda: not worker.busy)


def test_submit_hands_over_until_the_job_has_begun(qtbot, make_worker):
    begun, gate = threading.Event(), threading.Event()

    def fn(_job):
        begun.set()
        gate.wait(30)

    # A generous limit, so that a busy test machine cannot make this flaky.
    worker = make_worker(fn, start_wait_ms=60_000)
    worker.submit(None)
    assert worker._runner.started.is_set()  # set just before fn is called; fn follows at once
    assert begun.wait(30)
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy)


def test_deleting_the_owner_stops_the_thread(qtbot):
    owner = QObject()
    worker = LatestWorker(lambda job: job, "convplay-test", parent=owner)
    thread = worker._thread
    with qtbot.waitSignal(worker.returned, timeout=30_000):
        worker.submit(1)
    assert thread.isRunning()
    finished = []
    thread.finished.connect(lambda: finished.append(True), Qt.ConnectionType.DirectConnection)
    owner.deleteLater()
    qtbot.waitUntil(lambda: bool(finished), timeout=10_000)


def test_the_gil_switch_policy_is_the_applications_not_a_constructors(make_worker):
    import sys

    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        make_worker(lambda job: job)
        assert sys.getswitchinterval() == 0.005  # constructing a worker changes nothing
        apply_thread_switch_policy()
        assert sys.getswitchinterval() <= GIL_SWITCH_INTERVAL_S
    finally:
        sys.setswitchinterval(before)


# -- the compute controller --------------------------------------------------------------------
def _session(c=3, size=17, out=4) -> Session:
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=c, out_channels=out, kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    return Session(rng.normal(size=(c, size, size + 3)), spec, rng.normal(size=spec.weight_shape), rng.normal(size=out))


def test_pytorchs_answer_lands_in_the_results(qtbot, make_controller):
    session = _session()
    controller = make_controller(session, ComputeSettings(dtype="float64"))
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        controller.start()
    results = controller.results
    assert results.fresh and results.stale == ""
    np.testing.assert_allclose(results.output, session_output(session), rtol=1e-12, atol=1e-12)
    assert results.outcome.max_diff_cpu64 is None  # only compared on CUDA


def test_float32_on_the_cpu_reads_a_channels_last_image_made_once_and_keeps_its_output_strided(
        qtbot, make_controller):
    session = _session()
    controller = make_controller(session)  # float32 on the CPU: channels_last wins there
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        controller.start()
    request = controller.results.request
    assert request.image.transpose(1, 2, 0).flags.c_contiguous and request.image.dtype == np.float32
    output = controller.results.output
    assert output.transpose(1, 2, 0).flags.c_contiguous and not output.flags.c_contiguous
    np.testing.assert_allclose(output, session_output(session), rtol=1e-5, atol=1e-5)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        session.set_weight(session.weight * 2)
    assert controller.results.request.image is request.image  # converted once per image
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        controller.settings.set_dtype("float64")
    assert controller.results.request.image.flags.c_contiguous
    assert controller.results.output.flags.c_contiguous


def test_invalid_settings_make_the_results_stale_and_run_nothing(qtbot, make_controller):
    session = _session()
    controller = make_controller(session)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        controller.start()
    started = controller.torch.started_jobs
    with qtbot.waitSignal(controller.results.stale_changed, timeout=5_000) as blocker:
        session.set_spec(session.spec.replace(groups=2))  # 3 input channels: not divisible
    assert "groups" in blocker.args[0]
    assert controller.torch.started_jobs == started and not controller.results.fresh


def test_the_preparer_runs_in_the_worker_thread(qtbot, make_controller):
    threads = []

    def preparer(output):
        threads.append(threading.current_thread())
        return ("prepared", output.shape)

    session = _session()
    controller = make_controller(session)
    controller.set_preparer(preparer)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000) as blocker:
        controller.start()
    assert blocker.args[0].display == ("prepared", blocker.args[0].output.shape)
    assert threads and threads[0] is not threading.main_thread()


def test_a_failing_preparer_makes_the_output_stale_with_its_words(qtbot, make_controller):
    def preparer(output):
        raise ValueError("cannot show that")

    controller = make_controller(_session())
    controller.set_preparer(preparer)
    with qtbot.waitSignal(controller.results.stale_changed, timeout=60_000) as blocker:
        controller.start()
    assert "cannot show that" in blocker.args[0]


def test_the_reference_runs_only_while_wanted_and_after_pytorch(qtbot, make_controller):
    session = _session()
    controller = make_controller(session)
    results = controller.results
    with qtbot.waitSignal(results.outcome_changed, timeout=60_000):
        controller.start()
    qtbot.wait(50)
    assert controller.reference.started_jobs == 0 and results.reference is None
    with qtbot.waitSignal(results.reference_changed, timeout=60_000):
        results.want_reference("test")
    assert results.match is not None and results.match.matches
    np.testing.assert_allclose(results.reference.reference, session_output(session), rtol=0, atol=1e-12)


def test_ten_quick_edits_start_at_most_two_reference_computations(qtbot, make_controller):
    """3x1024² -> 16 channels, the reference wanted (the sliding window on screen)."""
    rng = np.random.default_rng(1)
    spec = ConvSpec(in_channels=3, out_channels=16, kernel_size=3, padding=1)
    session = Session(rng.random((3, 1024, 1024)), spec, rng.normal(size=spec.weight_shape))
    counted = []

    def counting_reference(request, output):
        counted.append(1)
        return reference_outcome(request, output)

    controller = make_controller(session, reference=counting_reference)
    results = controller.results
    results.want_reference("test")
    controller.start()
    for k in range(10):
        session.set_weight(session.weight * 1.01)
    qtbot.waitUntil(lambda: results.match is not None, timeout=240_000)
    assert controller.reference.started_jobs <= 2 and len(counted) <= 2
    assert results.match.matches
    np.testing.assert_allclose(results.output, session_output(session), rtol=1e-4, atol=1e-3)


def test_the_ui_handles_events_while_a_long_convolution_runs(qtbot, make_controller):
    """A 1024x1024 RGB input convolved to 16 channels, over and over until the test has seen
    the UI thread tick a timer and take key presses meanwhile."""
    spec = ConvSpec(in_channels=3, out_channels=16, kernel_size=3, padding=1)
    session = Session(np.ones((3, 1024, 1024)), spec, np.ones(spec.weight_shape))
    stop, runs = threading.Event(), []

    def runner(request):
        outcome = run_request(request)
        runs.append(1)
        while not stop.is_set():
            outcome = run_request(request)
            runs.append(1)
        return outcome

    controller = make_controller(session, runner=runner)
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(controller.results.busy))
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    controller.start()
    timer.start()
    qtbot.waitUntil(lambda: len(runs) >= 1, timeout=120_000)  # PyTorch is really running
    qtbot.waitUntil(lambda: sum(ticks) >= 5, timeout=60_000)
    qtbot.keyClicks(edit, "ok")
    assert edit.text() == "ok" and controller.results.busy
    stop.set()
    timer.stop()
    qtbot.waitUntil(lambda: not controller.results.busy, timeout=120_000)
    expected = torch_conv(session.image, session.weight, None, spec)
    np.testing.assert_allclose(controller.results.output, expected, rtol=1e-5)


def test_pytorch_runs_with_the_policys_thread_count_in_the_worker(qtbot, make_controller):
    import torch

    from convplay.compute.allocator import compute_threads

    seen = []

    def runner(request):
        outcome = run_request(request)
        seen.append(torch.get_num_threads())  # in the worker's own thread
        return outcome

    controller = make_controller(_session(), runner=runner)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        controller.start()
    assert seen == [compute_threads()]


def test_while_an_animation_plays_pytorch_leaves_a_core_to_the_window(qtbot, make_controller, monkeypatch):
    import torch

    import convplay.compute.allocator as allocator

    monkeypatch.setattr(allocator, "_usable_cpus", lambda: 3)  # a 3-core machine: 3 threads, 2 while playing
    seen = []

    def runner(request):
        outcome = run_request(request)
        seen.append(torch.get_num_threads())  # in the worker's own thread
        return outcome

    session = _session()
    controller = make_controller(session, runner=runner)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        controller.start()
    controller.set_spare_core(True)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        session.set_weight(session.weight * 2)
    controller.set_spare_core(False)
    with qtbot.waitSignal(controller.results.outcome_changed, timeout=60_000):
        session.set_weight(session.weight * 2)
    assert seen == [3, 2, 3]
    assert allocator.animation_threads(1) == 1 and allocator.animation_threads(2) == 1
    assert allocator.animation_threads(16) == 15
