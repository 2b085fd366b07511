"""Edit -> painted latency of the convplay window, against the raw F.conv2d call.

Measures, in one run on this machine:
- the median time from a kernel edit (Session.set_weight) to the output image being
  painted, through the real window: worker thread, PyTorch, OutputPanel, pyqtgraph paint;
- the median raw ``F.conv2d`` time for the same shapes in the same process;
- process start -> first painted window (``convplay --screenshot`` in a subprocess with
  CONVPLAY_REPORT_FIRST_PAINT set; the median of a few runs).
The last line is one JSON object: ratio_512, ratio_1024, first_paint_s and the raw figures.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/live_update.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convplay.compute.allocator import tune_allocator

tune_allocator()  # as the app does, before any large allocation

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from convplay.core.session import Session  # noqa: E402
from convplay.core.spec import ConvSpec  # noqa: E402
from convplay.qt.main_window import MainWindow  # noqa: E402

EDITS = 30
OUT_CHANNELS = 16
FIRST_PAINT_RUNS = 3


def wait_until(app: QApplication, done, timeout_s: float = 120.0) -> None:
    end = time.perf_counter() + timeout_s
    while not done():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        if time.perf_counter() > end:
            raise TimeoutError("the window did not paint the output in time")


def edit_to_painted(app: QApplication, size: int, settings_dir: str) -> list[float]:
    rng = np.random.default_rng(size)
    spec = ConvSpec(in_channels=3, out_channels=OUT_CHANNELS, kernel_size=3, padding=1)
    session = Session(rng.random((3, size, size)), spec, rng.normal(size=spec.weight_shape))
    settings = QSettings(str(Path(settings_dir) / f"bench{size}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, remember_layout=False)
    window.resize(1600, 1000)
    item = window.output_panel.view.image_item
    painted = {"at": 0.0, "shape": None}
    original_paint = item.paint

    def timed_paint(*args):
        original_paint(*args)
        painted["at"] = time.perf_counter()

    item.paint = timed_paint
    shown = []
    window.output_shown.connect(lambda: shown.append(time.perf_counter()))
    window.show()
    wait_until(app, lambda: shown and painted["at"] > shown[-1])
    samples = []
    for i in range(EDITS + 3):
        weight = session.weight * (1.0 + 1e-3 * ((-1) ** i))
        count = len(shown)
        t0 = time.perf_counter()
        session.set_weight(weight)
        wait_until(app, lambda: len(shown) > count and painted["at"] > shown[-1])
        if i >= 3:  # the first edits warm caches
            samples.append(painted["at"] - t0)
    window.close()
    window.deleteLater()
    app.processEvents()
    return samples


def raw_conv(size: int) -> list[float]:
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(size)
    x = torch.from_numpy(rng.random((1, 3, size, size)).astype(np.float32))
    w = torch.from_numpy(rng.normal(size=(OUT_CHANNELS, 3, 3, 3)).astype(np.float32))
    samples = []
    with torch.inference_mode():
        for i in range(EDITS + 3):
            t0 = time.perf_counter()
            F.conv2d(x, w, None, 1, 1)
            if i >= 3:
                samples.append(time.perf_counter() - t0)
    return samples


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


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (512, 1024):
            live = statistics.median(edit_to_painted(app, size, tmp))
            raw = statistics.median(raw_conv(size))
            print(f"{size}x{size} RGB -> {OUT_CHANNELS} ch 3x3: edit->painted {live * 1e3:.2f} ms, "
                  f"raw F.conv2d {raw * 1e3:.2f} ms, ratio {live / raw:.2f}")
            figures[f"edit_to_painted_{size}_ms"] = round(live * 1e3, 3)
            figures[f"raw_conv_{size}_ms"] = round(raw * 1e3, 3)
            figures[f"ratio_{size}"] = round(live / raw, 3)
        paints = [first_paint(tmp) for _ in range(FIRST_PAINT_RUNS)]
        print("process start -> first paint: " + ", ".join(f"{p:.3f} s" for p in paints))
        figures["first_paint_s"] = round(statistics.median(paints), 3)
    import torch

    figures["torch_threads"] = torch.get_num_threads()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
