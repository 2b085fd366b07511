"""The compute worker: newest request wins, stale results are dropped, errors become
messages, and the UI thread keeps handling events while PyTorch runs."""

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLineEdit

from convplay.core.spec import ConvSpec
from convplay.qt.workers import ComputeOutcome, ComputeRequest, ComputeWorker, run_request


def request(tag: float, spec: ConvSpec | None = None) -> ComputeRequest:
    spec = spec or ConvSpec(in_channels=1, out_channels=1, kernel_size=1, bias=False)
    return ComputeRequest(spec, np.full((1, 2, 2), tag), np.ones((1, 1, 1, 1)), None)


@pytest.fixture
def make_worker(qtbot):
    workers = []

    def make(runner, **kwargs) -> ComputeWorker:
        worker = ComputeWorker(runner=runner, lister=lambda: [("cpu", "CPU")], **kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.shutdown()


def test_stale_results_are_dropped_and_the_newest_wins(qtbot, make_worker):
    started = []
    gate = threading.Event()

    def runner(req: ComputeRequest) -> ComputeOutcome:
        tag = float(req.image[0, 0, 0])
        started.append(tag)
        if tag == 1.0:
            gate.wait(30)  # the first job holds the thread while newer requests arrive
        return ComputeOutcome(req, req.image.copy(), 0.0, "fake")

    worker = make_worker(runner)
    results = []
    worker.result_ready.connect(results.append)
    worker.submit(request(1.0))
    qtbot.waitUntil(lambda: started == [1.0])
    worker.submit(request(2.0))
    last = worker.submit(request(3.0))
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 1 and not worker.busy)
    assert started == [1.0, 3.0]  # 2.0 was replaced before it ever ran
    assert results[0].output[0, 0, 0] == 3.0 and results[0].generation == last
    assert worker.dropped == 1  # job 1 finished after newer settings had arrived


def test_a_burst_of_requests_runs_once(qtbot, make_worker):
    ran = []

    def runner(req):
        ran.append(float(req.image[0, 0, 0]))
        return ComputeOutcome(req, req.image, 0.0, "fake")

    worker = make_worker(runner, debounce_ms=5)
    with qtbot.waitSignal(worker.result_ready) as blocker:
        for tag in range(20):
            worker.submit(request(float(tag)))
    assert ran == [19.0]
    assert blocker.args[0].output[0, 0, 0] == 19.0


def test_errors_become_messages(qtbot, make_worker):
    def runner(req):
        raise RuntimeError("no such luck")

    worker = make_worker(runner)
    with qtbot.waitSignal(worker.failed) as blocker:
        worker.submit(request(1.0))
    assert blocker.args == ["no such luck"]
    qtbot.waitUntil(lambda: not worker.busy)


def test_cancel_makes_the_running_job_stale(qtbot, make_worker):
    gate = threading.Event()

    def runner(req):
        gate.wait(30)
        return ComputeOutcome(req, req.image, 0.0, "fake")

    worker = make_worker(runner)
    results = []
    worker.result_ready.connect(results.append)
    worker.submit(request(1.0))
    qtbot.waitUntil(lambda: worker._running)
    worker.cancel_pending()
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy)
    assert results == [] and worker.dropped == 1


def test_real_pytorch_result_matches_the_oracle(qtbot, make_worker):
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=3, out_channels=4, kernel_size=(3, 2), stride=(2, 1), padding=1, dilation=(1, 2))
    image, weight, bias = rng.normal(size=(3, 17, 13)), rng.normal(size=spec.weight_shape), rng.normal(size=4)
    worker = make_worker(run_request)
    with qtbot.waitSignal(worker.result_ready, timeout=60_000) as blocker:
        worker.submit(ComputeRequest(spec, image, weight, bias, dtype="float64"))
    expected = F.conv2d(torch.from_numpy(image)[None], torch.from_numpy(weight), torch.from_numpy(bias),
                        stride=(2, 1), padding=1, dilation=(1, 2))[0].numpy()
    np.testing.assert_allclose(blocker.args[0].output, expected, rtol=1e-12, atol=1e-12)
    assert blocker.args[0].max_diff_cpu64 is None  # only compared on CUDA


def test_ui_handles_events_while_a_long_convolution_runs(qtbot, make_worker):
    """A 1024x1024 RGB input convolved to 64 channels, over and over until the test has seen
    the UI thread tick a timer and take key presses meanwhile."""
    spec = ConvSpec(in_channels=3, out_channels=64, kernel_size=3, padding=1)
    big = ComputeRequest(spec, np.ones((3, 1024, 1024), np.float32), np.ones(spec.weight_shape, np.float32), None)
    stop = threading.Event()
    runs = []

    def runner(req):
        outcome = run_request(req)
        runs.append(1)
        while not stop.is_set():
            outcome = run_request(req)
            runs.append(1)
        return outcome

    worker = make_worker(runner)
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(worker.busy))
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    worker.submit(big)
    timer.start()
    qtbot.waitUntil(lambda: len(runs) >= 1, timeout=120_000)  # PyTorch is really running
    qtbot.waitUntil(lambda: sum(ticks) >= 5, timeout=60_000)
    qtbot.keyClicks(edit, "ok")
    assert edit.text() == "ok"
    assert worker.busy
    stop.set()
    timer.stop()
    with qtbot.waitSignal(worker.busy_changed, timeout=120_000):
        pass
    assert not worker.busy


def test_an_idle_worker_starts_inside_submit(qtbot, make_worker):
    """No timer hop: the job starts even while the UI thread processes no events."""
    started = threading.Event()

    def runner(req):
        started.set()
        return ComputeOutcome(req, req.image, 0.0, "fake")

    worker = make_worker(runner)
    worker.submit(request(1.0))
    assert started.wait(30)  # the UI thread is blocked here, not running its event loop
    qtbot.waitUntil(lambda: not worker.busy)


def test_the_preparer_runs_in_the_worker_thread(qtbot, make_worker):
    threads = []

    def preparer(output):
        threads.append(threading.current_thread())
        return ("prepared", output.shape)

    worker = make_worker(lambda req: ComputeOutcome(req, req.image, 0.0, "fake"))
    worker.set_preparer(preparer)
    with qtbot.waitSignal(worker.result_ready) as blocker:
        worker.submit(request(2.0))
    assert blocker.args[0].display == ("prepared", (1, 2, 2))
    assert threads and threads[0] is not threading.main_thread()


def test_a_failing_preparer_becomes_a_message(qtbot, make_worker):
    def preparer(output):
        raise ValueError("cannot show that")

    worker = make_worker(lambda req: ComputeOutcome(req, req.image, 0.0, "fake"))
    worker.set_preparer(preparer)
    with qtbot.waitSignal(worker.failed) as blocker:
        worker.submit(request(1.0))
    assert blocker.args == ["cannot show that"]


def test_submit_returns_once_the_worker_has_begun_the_job(qtbot, make_worker):
    """PyTorch starts before the UI thread goes on to redraw the panels."""
    begun = threading.Event()
    gate = threading.Event()

    def runner(req):
        begun.set()
        gate.wait(30)
        return ComputeOutcome(req, req.image, 0.0, "fake")

    # A generous limit, so that a busy test machine cannot make this flaky.
    worker = make_worker(runner, start_wait_ms=60_000)
    worker.submit(request(4.0))
    # ``started`` is set just before the runner is called; the runner follows at once.
    assert worker._runner.started.is_set()
    assert begun.wait(30)
    gate.set()
    qtbot.waitUntil(lambda: not worker.busy)


def test_a_worker_lets_its_thread_take_the_gil_promptly(make_worker):
    import sys

    from convplay.qt.workers import GIL_SWITCH_INTERVAL_S

    make_worker(lambda req: ComputeOutcome(req, req.image, 0.0, "fake"))
    assert sys.getswitchinterval() <= GIL_SWITCH_INTERVAL_S
