"""Edit -> painted latency of the convplay window, against the best raw PyTorch call.

Measures, in one run on this machine:
- the median time from a kernel edit (Session.set_weight) to the window's paint pass that
  shows the new output being done and flushed: the panels that follow the edit, the worker
  thread, PyTorch, the display preparation, OutputPanel, and the whole paint pass of the
  window (the clock stops when the window's UpdateRequest has returned after both the large
  output view and the feature-map grid have painted the new output);
- the raw PyTorch call for the same shapes in four setups, interleaved with the edits so
  that all see the same load on a shared machine: NCHW and channels_last tensors (converted
  once, the output left in its own layout), each with the app's thread count and torch's
  default; before each edit a few back-to-back calls of each, of which the last (warm) one
  counts.  ``ratio_best_N`` is edit -> painted over the best of the four medians,
  ``ratio_N`` over NCHW with the app's thread count;
- ``small_edit_ms``: edit -> painted of a convolution that PyTorch runs in well under
  0.5 ms (``--small-size``, RGB -> 16 channels 3x3), the app's fixed cost per edit;
- process start -> first painted window (``convplay --screenshot`` in a subprocess with
  CONVPLAY_REPORT_FIRST_PAINT set; the median of a few runs).
It also prints where an edit's time goes (PyTorch's own time inside the app, edit -> the
result on the UI thread, and from there to the flushed paint) and the load average.
``--runs N`` repeats the edit measurements N times (the JSON holds the medians over runs).
``--sizes``, ``--edits``, ``--small-size 0`` and ``--no-first-paint`` make the smoke run
the test suite does on tiny inputs.  The last line is one JSON object.
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
from PySide6.QtCore import QEvent, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from convplay.core.session import Session  # noqa: E402
from convplay.core.spec import ConvSpec  # noqa: E402
from convplay.qt.main_window import MainWindow  # noqa: E402
from convplay.qt.workers import apply_thread_switch_policy  # noqa: E402

apply_thread_switch_policy()  # the app's process policy, as convplay's start-up applies it

EDITS = 30
OUT_CHANNELS = 16
SMALL_SIZE = 128
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


class FlushClock:
    """Records when the window last finished a paint pass: its UpdateRequest, in which Qt
    paints every dirty widget of the window and flushes the backing store."""

    def __init__(self, window, after=None):
        self.at = 0.0
        original = window.event

        def timed(event):
            handled = original(event)
            if event.type() == QEvent.Type.UpdateRequest:
                self.at = time.perf_counter()
                if after is not None:
                    after()
            return handled

        window.event = timed


def raw_setups(app_threads: int, default_threads: int) -> list[tuple[str, bool, int]]:
    """(name, channels_last, threads) for each raw setup timed, the app's first."""
    setups = [("nchw_app_threads", False, app_threads), ("channels_last_app_threads", True, app_threads)]
    if default_threads != app_threads:
        setups += [("nchw_default_threads", False, default_threads),
                   ("channels_last_default_threads", True, default_threads)]
    return setups


class RawCalls:
    """The raw F.conv2d for one shape in every setup: each setup's tensors converted once."""

    def __init__(self, image: np.ndarray, weight: np.ndarray, padding: int, setups, calls: int = RAW_PER_EDIT):
        import torch

        self.setups, self.calls, self.padding = setups, calls, padding
        x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
        self._x = {False: x, True: x.contiguous(memory_format=torch.channels_last)}
        self.samples: dict[str, list[float]] = {name: [] for name, _cl, _t in setups}
        self.set_weight(weight)

    def set_weight(self, weight: np.ndarray) -> None:
        import torch

        w = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
        self._w = {False: w, True: w.contiguous(memory_format=torch.channels_last)}

    def time_once(self, keep: bool = True) -> None:
        """Each setup: a few back-to-back calls, the last one's time kept (PyTorch at its best)."""
        import torch
        import torch.nn.functional as F

        threads = torch.get_num_threads()
        with torch.inference_mode():
            for name, channels_last, n in self.setups:
                torch.set_num_threads(n)
                x, w = self._x[channels_last], self._w[channels_last]
                for _ in range(self.calls):
                    r0 = time.perf_counter()
                    F.conv2d(x, w, None, 1, self.padding)
                    raw = time.perf_counter() - r0
                if keep:
                    self.samples[name].append(raw)
        torch.set_num_threads(threads)

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.samples.items() if values}


def edit_to_painted(app: QApplication, size: int, settings_dir: str, edits: int = EDITS, *,
                    out_channels: int = OUT_CHANNELS, kernel: int = 3, setups=None,
                    raw_calls: int = RAW_PER_EDIT, warm_edits: int = 3) -> dict[str, list[float]]:
    """Per edit (seconds): edit -> painted, edit -> result on the UI thread, result -> painted,
    PyTorch inside the app, and ``raw_<setup>`` for each raw setup, timed just before it."""
    rng = np.random.default_rng(size)
    spec = ConvSpec(in_channels=3, out_channels=out_channels, kernel_size=kernel, padding=kernel // 2)
    session = Session(rng.random((3, size, size)), spec, rng.normal(size=spec.weight_shape))
    settings = QSettings(str(Path(settings_dir) / f"bench{size}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, remember_layout=False)
    window.resize(1600, 1000)
    panel = window.output_panel
    waiter = Waiter()
    view_clock = PaintClock(panel.view.image_item, after=waiter.check)
    grid_clock = PaintClock(panel.grid, "paintEvent", after=waiter.check)
    flush = FlushClock(window, after=waiter.check)
    shown: list[float] = []
    results: list[tuple[float, float]] = []  # (arrival on the UI thread, PyTorch's elapsed_s)
    window.results.outcome_changed.connect(lambda outcome: results.append((time.perf_counter(), outcome.elapsed_s)))
    window.output_shown.connect(lambda: shown.append(time.perf_counter()))

    def painted() -> bool:
        if not shown:
            return False
        # the grid of feature maps is shown for two channels or more
        items = [view_clock.at] + ([grid_clock.at] if panel.grid.isVisible() else [])
        return min(items) > shown[-1] and flush.at >= max(items)

    window.show()
    waiter.wait_until(painted)
    raw = RawCalls(session.image, session.weight, kernel // 2, setups or [("nchw_app_threads", False, 1)], raw_calls)
    figures: dict[str, list[float]] = {
        "live": [], "conv_in_app": [], "edit_to_result": [], "result_to_painted": [],
    }
    for i in range(edits + warm_edits):
        raw.set_weight(session.weight)
        raw.time_once(keep=i >= warm_edits)
        weight = session.weight * (1.0 + 1e-3 * ((-1) ** i))
        count = len(shown)
        t0 = time.perf_counter()
        session.set_weight(weight)
        waiter.wait_until(lambda: len(shown) > count and painted())
        done = flush.at
        if i >= warm_edits:  # the first edits warm caches
            figures["live"].append(done - t0)
            figures["conv_in_app"].append(results[-1][1])
            figures["edit_to_result"].append(results[-1][0] - t0)
            figures["result_to_painted"].append(done - results[-1][0])
    for name, values in raw.samples.items():
        figures[f"raw_{name}"] = values
    window.close()
    window.deleteLater()
    app.processEvents()
    return figures


def best_raw(medians: dict[str, float]) -> tuple[str, float]:
    """The fastest raw setup: (its name, its median)."""
    raws = {key[4:]: value for key, value in medians.items() if key.startswith("raw_")}
    name = min(raws, key=raws.get)
    return name, raws[name]


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


def measure(app, size: int, tmp: str, runs: int, edits: int, setups, label: str) -> dict[str, float]:
    """The medians over ``runs`` runs of edit_to_painted, with each run's line printed."""
    per_run = []
    for run in range(max(1, runs)):
        medians = {key: statistics.median(values) for key, values in
                   edit_to_painted(app, size, tmp, edits, setups=setups).items()}
        per_run.append(medians)
        best_name, best = best_raw(medians)
        raws = ", ".join(f"{key[4:]} {value * 1e3:.2f}" for key, value in medians.items() if key.startswith("raw_"))
        print(f"{label} {size}x{size} RGB -> {OUT_CHANNELS} ch 3x3, run {run + 1}: "
              f"edit->painted {medians['live'] * 1e3:.2f} ms = {medians['live'] / best:.2f} x the best raw call "
              f"({best_name} {best * 1e3:.2f} ms); raw ms: {raws}; PyTorch in the app "
              f"{medians['conv_in_app'] * 1e3:.2f} ms, edit->result {medians['edit_to_result'] * 1e3:.2f} ms, "
              f"result->painted {medians['result_to_painted'] * 1e3:.2f} ms; load {os.getloadavg()[0]:.2f}")
    out = {key: statistics.median(m[key] for m in per_run) for key in per_run[0]}
    out["ratio_best"] = statistics.median(m["live"] / best_raw(m)[1] for m in per_run)
    out["ratio_app"] = statistics.median(m["live"] / m["raw_nchw_app_threads"] for m in per_run)
    out["best_setup"] = best_raw(out)[0]
    return out


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat the edit measurements (medians over runs)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024], help="input sizes (default 512 1024)")
    parser.add_argument("--small-size", type=int, default=SMALL_SIZE,
                        help=f"the input side of the small edit (default {SMALL_SIZE}; 0 skips it)")
    parser.add_argument("--edits", type=int, default=EDITS, help=f"edits per size and run (default {EDITS})")
    parser.add_argument("--no-first-paint", action="store_true", help="skip the start-up measurement")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    default_threads = torch.get_num_threads()
    # The app's worker runs PyTorch with this many threads (set in its own thread).
    app_threads = apply_thread_policy()
    setups = raw_setups(app_threads, default_threads)
    figures: dict[str, object] = {"load_average_1min": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            m = measure(app, size, tmp, args.runs, args.edits, setups, "")
            figures[f"edit_to_painted_{size}_ms"] = round(m["live"] * 1e3, 3)
            figures[f"ratio_best_{size}"] = round(m["ratio_best"], 3)
            figures[f"ratio_{size}"] = round(m["ratio_app"], 3)
            figures[f"best_raw_{size}"] = m["best_setup"]
            for name, _cl, _t in setups:
                figures[f"raw_{name}_{size}_ms"] = round(m[f"raw_{name}"] * 1e3, 3)
            for key in ("conv_in_app", "edit_to_result", "result_to_painted"):
                figures[f"{key}_{size}_ms"] = round(m[key] * 1e3, 3)
        if args.small_size:
            m = measure(app, args.small_size, tmp, args.runs, args.edits, setups, "small edit:")
            figures["small_edit_ms"] = round(m["live"] * 1e3, 3)
            figures["small_edit_size"] = args.small_size
            figures["small_edit_conv_in_app_ms"] = round(m["conv_in_app"] * 1e3, 3)
            figures["small_edit_ratio_best"] = round(m["ratio_best"], 3)
        if not args.no_first_paint:
            paints = [first_paint(tmp) for _ in range(FIRST_PAINT_RUNS)]
            print("process start -> first paint: " + ", ".join(f"{p:.3f} s" for p in paints))
            figures["first_paint_s"] = round(statistics.median(paints), 3)
    figures["torch_threads"] = app_threads
    figures["torch_default_threads"] = default_threads
    figures["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
