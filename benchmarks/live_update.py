"""Edit -> painted latency of the convplay window, against the raw F.conv2d call.

Measures, in one run on this machine:
- the median time from a kernel edit (Session.set_weight) to the output being painted,
  through the real window: the panels that follow the edit, the worker thread, PyTorch,
  the display preparation, OutputPanel, and the paint of both the large output view and
  the feature-map grid (the later of the two paints ends the measurement);
- the median raw ``F.conv2d`` time for the same shapes, with the thread count the app
  uses, interleaved with the edits so that both see the same load on a shared machine:
  before each edit a few back-to-back calls, of which the last (warm) one counts;
- process start -> first painted window (``convplay --screenshot`` in a subprocess with
  CONVPLAY_REPORT_FIRST_PAINT set; the median of a few runs).
It also prints where an edit's time goes (PyTorch's own time inside the app, the time
from the edit to the result reaching the UI thread, which adds the worker's start and its
display preparation, and from there to the last paint) and the load average.
``--runs N`` repeats the edit measurements N times (the machine is shared: each run's
ratios are printed, the JSON holds the medians over the runs).  ``--sizes``, ``--edits``
and ``--no-first-paint`` make the smoke run the test suite does on tiny inputs.
The last line is one JSON object: ratio_512, ratio_1024, first_paint_s and the figures.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/live_update.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convplay.compute.allocator import apply_thread_policy, tune_allocator

tune_allocator()  # as the app does, before any large allocation

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from convplay.core.session import Session  # noqa: E402
from convplay.core.spec import ConvSpec  # noqa: E402
from convplay.qt.main_window import MainWindow  # noqa: E402
from convplay.qt.workers import apply_thread_switch_policy  # noqa: E402

apply_thread_switch_policy()  # the app's process policy, as convplay's start-up applies it

EDITS = 30
OUT_CHANNELS = 16
FIRST_PAINT_RUNS = 3
RAW_PER_EDIT = 3


class Waiter:
    """Runs the event loop, as the app does, until a condition holds.

    Why not a loop of ``processEvents`` calls: between events that loop spins in Python,
    holding the GIL, and the compute worker's Python (its start and the display
    preparation) then waits for the GIL again and again; the app's own event loop sleeps
    between events.  ``check()`` (called after every timed paint) ends the wait.
    """

    def __init__(self) -> None:
        self._loop: QEventLoop | None = None
        self._done = None

    def check(self) -> None:
        if self._loop is not None and self._done():
            self._loop.quit()

    def wait_until(self, done, timeout_s: float = 120.0, poll_ms: int = 0,
                   late: str = "the window did not paint the output in time") -> None:
        """``poll_ms``: also check that often, for a ``done`` no paint calls ``check()`` for."""
        if done():
            return
        self._loop, self._done = QEventLoop(), done
        timed_out: list[bool] = []
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: (timed_out.append(True), self._loop.quit()))
        poll = QTimer()
        poll.timeout.connect(self.check)
        if poll_ms:
            poll.start(poll_ms)
        timer.start(int(timeout_s * 1000))
        self._loop.exec()
        timer.stop()
        poll.stop()
        self._loop = None
        if timed_out and not done():
            raise TimeoutError(late)


class PaintClock:
    """Records when an item last finished painting (the method is wrapped on the instance)."""

    def __init__(self, obj, method: str = "paint", after=None):
        self.at = 0.0
        original = getattr(obj, method)

        def timed(*args):
            original(*args)
            self.at = time.perf_counter()
            if after is not None:
                after()

        setattr(obj, method, timed)


def edit_to_painted(app: QApplication, size: int, settings_dir: str, edits: int = EDITS) -> dict[str, list[float]]:
    """Per edit: edit -> painted, the raw conv just before it, PyTorch inside the app,
    edit -> result on the UI thread, and result -> painted (all in seconds)."""
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(size)
    spec = ConvSpec(in_channels=3, out_channels=OUT_CHANNELS, kernel_size=3, padding=1)
    session = Session(rng.random((3, size, size)), spec, rng.normal(size=spec.weight_shape))
    settings = QSettings(str(Path(settings_dir) / f"bench{size}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, remember_layout=False)
    window.resize(1600, 1000)
    panel = window.output_panel
    waiter = Waiter()
    clocks = [PaintClock(panel.view.image_item, after=waiter.check),
              PaintClock(panel.grid, "paintEvent", after=waiter.check)]
    shown: list[float] = []
    results: list[tuple[float, float]] = []  # (arrival on the UI thread, PyTorch's elapsed_s)
    window.results.outcome_changed.connect(lambda outcome: results.append((time.perf_counter(), outcome.elapsed_s)))
    window.output_shown.connect(lambda: shown.append(time.perf_counter()))

    def painted() -> bool:
        return bool(shown) and all(clock.at > shown[-1] for clock in clocks)

    window.show()
    waiter.wait_until(painted)
    x = torch.from_numpy(np.ascontiguousarray(session.image, dtype=np.float32))[None]
    figures: dict[str, list[float]] = {
        "live": [], "raw": [], "conv_in_app": [], "edit_to_result": [], "result_to_painted": [],
    }
    for i in range(edits + 3):
        w = torch.from_numpy(session.weight.astype(np.float32))
        with torch.inference_mode():
            for _ in range(RAW_PER_EDIT):  # the last of a few back-to-back calls: PyTorch at its best
                r0 = time.perf_counter()
                F.conv2d(x, w, None, 1, 1)
                raw = time.perf_counter() - r0
        weight = session.weight * (1.0 + 1e-3 * ((-1) ** i))
        count = len(shown)
        t0 = time.perf_counter()
        session.set_weight(weight)
        waiter.wait_until(lambda: len(shown) > count and painted())
        done = max(clock.at for clock in clocks)
        if i >= 3:  # the first edits warm caches
            figures["live"].append(done - t0)
            figures["raw"].append(raw)
            figures["conv_in_app"].append(results[-1][1])
            figures["edit_to_result"].append(results[-1][0] - t0)
            figures["result_to_painted"].append(done - results[-1][0])
    window.close()
    window.deleteLater()
    app.processEvents()
    return figures


def first_paint(tmp: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CONVPLAY_REPORT_FIRST_PAINT="1", XDG_CONFIG_HOME=tmp)
    start = time.time()
    result = subprocess.run(
        [sys.executable, "-m", "convplay", "--screenshot", str(Path(tmp) / "first.png")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    for line in result.stderr.splitlines():
        if line.startswith("convplay-first-paint "):
            return float(line.split()[1]) - start
    raise RuntimeError(f"no first-paint line from convplay: {result.stderr}")


def raw_default_threads(size: int, edits: int = EDITS) -> tuple[int, float]:
    """torch's default thread count and the median warm F.conv2d time with it (for comparison)."""
    import torch
    import torch.nn.functional as F

    threads = torch.get_num_threads()
    x = torch.rand(1, 3, size, size)
    w = torch.randn(OUT_CHANNELS, 3, 3, 3)
    samples = []
    with torch.inference_mode():
        for _ in range(edits + 3):
            t0 = time.perf_counter()
            F.conv2d(x, w, None, 1, 1)
            samples.append(time.perf_counter() - t0)
    return threads, statistics.median(samples[3:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat the edit measurements (medians over runs)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024], help="input sizes (default 512 1024)")
    parser.add_argument("--edits", type=int, default=EDITS, help=f"edits per size and run (default {EDITS})")
    parser.add_argument("--no-first-paint", action="store_true", help="skip the start-up measurement")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    default_threads = {size: raw_default_threads(size, args.edits) for size in args.sizes}
    # The app's worker runs PyTorch with this many threads; the raw calls use the same.
    app_threads = apply_thread_policy()
    figures: dict[str, float | list[float]] = {"load_average_1min": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            per_run = []
            for run in range(max(1, args.runs)):
                measured = edit_to_painted(app, size, tmp, args.edits)
                medians = {key: statistics.median(values) for key, values in measured.items()}
                per_run.append(medians)
                print(f"{size}x{size} RGB -> {OUT_CHANNELS} ch 3x3, run {run + 1}: "
                      f"edit->painted {medians['live'] * 1e3:.2f} ms, raw F.conv2d {medians['raw'] * 1e3:.2f} ms, "
                      f"ratio {medians['live'] / medians['raw']:.2f}  (PyTorch in the app "
                      f"{medians['conv_in_app'] * 1e3:.2f} ms, edit->result {medians['edit_to_result'] * 1e3:.2f} ms, "
                      f"result->painted {medians['result_to_painted'] * 1e3:.2f} ms; load {os.getloadavg()[0]:.2f})")
            runs = {key: statistics.median(m[key] for m in per_run) for key in per_run[0]}
            ratios = [m["live"] / m["raw"] for m in per_run]
            figures[f"edit_to_painted_{size}_ms"] = round(runs["live"] * 1e3, 3)
            figures[f"raw_conv_{size}_ms"] = round(runs["raw"] * 1e3, 3)
            figures[f"ratio_{size}"] = round(statistics.median(ratios), 3)
            if len(ratios) > 1:
                figures[f"ratio_{size}_runs"] = [round(r, 3) for r in ratios]
            figures[f"conv_in_app_{size}_ms"] = round(runs["conv_in_app"] * 1e3, 3)
            figures[f"edit_to_result_{size}_ms"] = round(runs["edit_to_result"] * 1e3, 3)
            figures[f"result_to_painted_{size}_ms"] = round(runs["result_to_painted"] * 1e3, 3)
            threads, raw_default = default_threads[size]
            figures[f"raw_conv_{size}_default_threads_ms"] = round(raw_default * 1e3, 3)
            print(f"    raw F.conv2d with torch's default {threads} threads: {raw_default * 1e3:.2f} ms "
                  f"(edit->painted is {runs['live'] / raw_default:.2f} times that)")
        if not args.no_first_paint:
            paints = [first_paint(tmp) for _ in range(FIRST_PAINT_RUNS)]
            print("process start -> first paint: " + ", ".join(f"{p:.3f} s" for p in paints))
            figures["first_paint_s"] = round(statistics.median(paints), 3)
    figures["torch_threads"] = app_threads
    figures["torch_default_threads"] = default_threads[args.sizes[0]][0]
    figures["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
