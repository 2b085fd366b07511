"""Pen stroke -> class scores painted, through the real window, against the raw torch forward.

Measures, in one run on this machine, with the digits CNN (the window's default network)
in the Network workspace at 1280×720:
- the median time from a drawn image reaching the session (``Session.set_image``, what
  the input panel's stroke push calls) to the class scores painted: the controller's
  run on its worker (the image resized to 8×8, PyTorch's forward, every layer's output
  kept), the network model, and the paint of the scores panel's bars (which the window's
  paint pass does); ``stroke_to_scores_ms``;
- the same from a real canvas stroke segment (``DrawingCanvas.paint_segment``): this adds
  the input panel's push throttle (``STROKE_PUSH_MS``, at most one image per 30 ms reaches
  the session while the pen moves); ``canvas_stroke_to_scores_ms``;
- the median raw forward of the same model as a torch module (``build_model``), with the
  app's thread count, interleaved with the strokes so that both see the same load: the
  last of a few back-to-back calls; ``raw_forward_ms``, and ``ratio`` = stroke / raw.
The last line is one JSON object with those figures.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/stack_scores.py [--strokes 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from convplay.core.session import Session
from convplay.qt.main_window import MainWindow
from convplay.qt.workers import apply_thread_switch_policy

import live_update  # noqa: E402 - its wait for a paint, and the app's allocator setting

apply_thread_switch_policy()  # the app's process policy, as convplay's start-up applies it

STROKES = 50
WARM = 3
RAW_PER_STROKE = 3


class Waiter(live_update.Waiter):
    """live_update's wait, also polling: a worker's answer arrives as an event, and the
    scores' paint calls no ``check()``."""

    def wait_until(self, done, timeout_s: float = 120.0) -> None:
        super().wait_until(done, timeout_s, poll_ms=5, late="the scores were not painted in time")


def measure(strokes: int) -> dict[str, list[float]]:
    import torch

    from convplay.compute.stack import build_model
    from convplay.core.network import network_input

    session = Session(np.zeros((1, 32, 32)))
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, settings=settings, remember_layout=False)
    window.resize(1280, 720)
    window.set_workspace("network")
    window.docks["scores"].raise_()
    window.show()
    network, controller, bars = window.network, window.network_controller, window.scores_panel.bars
    waiter = Waiter()
    painted_at = [0.0]
    original = bars.paintEvent

    def timed_paint(event):
        original(event)
        painted_at[0] = time.perf_counter()
        waiter.check()

    bars.paintEvent = timed_paint
    waiter.wait_until(lambda: controller.is_settled and network.run_is_fresh and bars.painted > 0)
    model = build_model(network.stack, network.weights)

    def scores_painted(after: float):
        return lambda: network.run_is_fresh and painted_at[0] > after and bars.values.size == 10

    figures: dict[str, list[float]] = {"set_image": [], "canvas": [], "raw": [], "forward_in_app": []}
    rng = np.random.default_rng(0)
    canvas = window.input_panel.canvas
    for i in range(strokes + WARM):
        image = session.image.copy()
        r, c = rng.integers(2, 30, size=2)
        image[0, r - 2:r + 2, c - 2:c + 2] = 1.0 - image[0, r, c]
        x = torch.from_numpy(network_input(image, network.input_shape)[None])
        with torch.inference_mode():
            for _ in range(RAW_PER_STROKE):  # the last of a few back-to-back calls: PyTorch at its best
                r0 = time.perf_counter()
                model(x)
                raw = time.perf_counter() - r0
        # The image the input panel pushes while the pen moves.
        t0 = time.perf_counter()
        session.set_image(image)
        waiter.wait_until(scores_painted(t0))
        done = painted_at[0] - t0
        # A real pen segment on the canvas: the input panel's throttle, then the same path.
        canvas.begin_stroke()
        a, b = rng.uniform(1, 31, size=2), rng.uniform(1, 31, size=2)
        t1 = time.perf_counter()
        canvas.paint_segment((a[0], a[1]), (b[0], b[1]))
        waiter.wait_until(scores_painted(t1))
        stroke = painted_at[0] - t1
        canvas.end_stroke()
        waiter.wait_until(lambda: controller.is_settled and network.run_is_fresh)
        if i >= WARM:
            figures["set_image"].append(done)
            figures["canvas"].append(stroke)
            figures["raw"].append(raw)
            figures["forward_in_app"].append(network.run.seconds)
    controller.shutdown()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=STROKES, help=f"strokes to time (default {STROKES})")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from convplay.compute.allocator import apply_thread_policy

    threads = apply_thread_policy()
    figures = measure(max(1, args.strokes))
    ms = {k: statistics.median(v) * 1000 for k, v in figures.items()}
    ratio = ms["set_image"] / ms["raw"] if ms["raw"] > 0 else float("inf")
    print(f"digits CNN, {len(figures['raw'])} strokes, torch threads {threads}, load average "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"  image pushed -> scores painted   {ms['set_image']:8.3f} ms  (median)")
    print(f"  canvas stroke -> scores painted  {ms['canvas']:8.3f} ms  (adds the input panel's push throttle)")
    print(f"  PyTorch's forward inside the app {ms['forward_in_app']:8.3f} ms  (run_stack, every output kept)")
    print(f"  raw torch forward, same model    {ms['raw']:8.3f} ms")
    print(f"  ratio (pushed -> painted / raw)  {ratio:8.1f}")
    app.processEvents()
    print(json.dumps({
        "stroke_to_scores_ms": round(ms["set_image"], 3),
        "canvas_stroke_to_scores_ms": round(ms["canvas"], 3),
        "forward_in_app_ms": round(ms["forward_in_app"], 3),
        "raw_forward_ms": round(ms["raw"], 4),
        "ratio": round(ratio, 1),
        "strokes": len(figures["raw"]),
    }))


if __name__ == "__main__":
    main()
