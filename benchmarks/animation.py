"""Painted frames per second of the sliding-window animation, offscreen, at 60 steps/s.

A 5x5 kernel (25 taps per input channel) on a 64x64 RGB input with 8 output channels,
played by the dock's own QTimer inside the app's own event loop (a ``QEventLoop`` that a
second timer quits after ``--seconds``).  A frame counts when the dock's window has
finished a paint pass (its ``UpdateRequest``: every widget painted, the backing store
flushed) that drew a step not painted before; a pass that repaints the same step, or a
step drawn but never painted, does not count.

Figures: ``fps`` = painted frames / seconds played, ``p95_frame_ms`` = the 95th
percentile of the intervals between painted frames; the same while a background thread
runs 1024x1024 RGB -> 16 channel 3x3 ``F.conv2d`` back to back (``_under_load``), with
the app's allocator setting, channels_last, and the threads the app's convolutions use
while it animates (or ``--load-threads``).  Each figure is the median of
``--repeats`` runs.  The last line is one JSON object.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/animation.py [--seconds 3 --repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time

from convplay.compute.allocator import animation_threads, apply_thread_policy, tune_allocator

tune_allocator()  # as the app does, before any large allocation
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from convplay.core.session import Session  # noqa: E402
from convplay.core.spec import ConvSpec  # noqa: E402
from convplay.qt.animation.dock import AnimationDock  # noqa: E402

LOAD_SIZE = 1024  # the background convolution's input side
STEPS_PER_S = 60.0


class PaintedDock(AnimationDock):
    """The dock as a window of its own, stamping the end of each paint pass that shows a new step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.painted: list[float] = []
        self.drawn = -1  # the step show_step last drew
        self._painted = -1  # the step the last stamped paint pass showed

    def show_step(self, k: int) -> None:
        super().show_step(k)
        self.drawn = k

    def event(self, event) -> bool:
        handled = super().event(event)
        # The top-level widget paints every dirty child and flushes in this one event.
        if event.type() == QEvent.Type.UpdateRequest and self.drawn != self._painted:
            self._painted = self.drawn
            self.painted.append(time.perf_counter())
        return handled


def _play(dock: PaintedDock, seconds: float) -> list[float]:
    """Play for ``seconds`` in a QEventLoop; the times of the painted frames."""
    dock.painted.clear()
    dock.state.set_loop(True)
    dock.state.set_speed(STEPS_PER_S)
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    dock.state.play()
    loop.exec()
    dock.state.pause()
    return list(dock.painted)


def _figures(stamps: list[float], seconds: float) -> tuple[float, float]:
    """(painted frames per second, 95th-percentile interval in ms)."""
    intervals = np.diff(stamps) if len(stamps) > 1 else np.array([seconds])
    return len(stamps) / seconds, float(np.percentile(intervals, 95)) * 1e3


def _background_convolutions(stop: threading.Event, count: list[int], size: int, threads: int) -> None:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)  # in this thread: OpenMP's count is per thread
    x = torch.rand(1, 3, size, size).contiguous(memory_format=torch.channels_last)  # as the app runs it
    w = torch.rand(16, 3, 3, 3)
    with torch.no_grad():
        while not stop.is_set():
            F.conv2d(x, w, padding=1)
            count[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load-size", type=int, default=LOAD_SIZE, help="background conv input side (default 1024)")
    parser.add_argument("--load-threads", type=int, default=0,
                        help="torch threads of the background conv (default 0: the app's while it animates)")
    args = parser.parse_args()

    import torch

    apply_thread_policy()
    # While the sliding window plays, the app's convolutions leave a core to the window.
    threads = args.load_threads if args.load_threads > 0 else animation_threads()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5, padding=2)
    session = Session(rng.random((3, 64, 64)), spec, rng.normal(size=spec.weight_shape), rng.normal(size=8))
    dock = PaintedDock(session)
    dock.resize(1280, 720)
    dock.show()
    app.processEvents()

    idle = [_figures(_play(dock, args.seconds), args.seconds) for _ in range(args.repeats)]
    loaded, convs, conv_s = [], 0, 0.0
    for _ in range(args.repeats):
        stop, count = threading.Event(), [0]
        thread = threading.Thread(target=_background_convolutions, args=(stop, count, args.load_size, threads))
        thread.start()
        time.sleep(0.5)  # torch warmed up in the thread
        before, start = count[0], time.perf_counter()
        loaded.append(_figures(_play(dock, args.seconds), args.seconds))
        conv_s += time.perf_counter() - start
        convs += count[0] - before
        stop.set()
        thread.join()
    dock.shutdown()
    fps = statistics.median(f for f, _ in idle)
    p95 = statistics.median(p for _, p in idle)
    fps_load = statistics.median(f for f, _ in loaded)
    p95_load = statistics.median(p for _, p in loaded)
    print(f"torch {torch.__version__}, {threads} thread(s); {args.repeats} x {args.seconds:g} s each, "
          f"{STEPS_PER_S:g} steps/s; a frame = a paint pass of the window that shows a new step")
    print(f"idle:       {fps:.1f} painted fps, p95 frame interval {p95:.1f} ms")
    print(f"under load: {fps_load:.1f} painted fps, p95 frame interval {p95_load:.1f} ms "
          f"({convs} background {args.load_size}x{args.load_size} RGB->16 convs, "
          f"{convs / max(conv_s, 1e-9):.1f}/s)")
    print(json.dumps({"fps": round(fps, 2), "p95_frame_ms": round(p95, 2), "fps_under_load": round(fps_load, 2),
                      "p95_frame_ms_under_load": round(p95_load, 2), "torch_threads": threads,
                      "background_convs_per_s": round(convs / max(conv_s, 1e-9), 1)}))


if __name__ == "__main__":
    main()
