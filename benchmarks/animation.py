"""Frame rate of the sliding-window animation, offscreen, at 60 steps/s.

A 5x5 kernel (25 taps per input channel) on a 64x64 RGB input with 8 output channels,
played by the real QTimer: frames per second, the 95th-percentile interval between
frames, and the frame rate while a 1024x1024 convolution runs over and over in a
background thread.  Each figure is the median of ``--repeats`` runs of ``--seconds``.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

LOAD_SIZE = 1024  # the background convolution's input side


def _play(app, dock, seconds: float) -> list[float]:
    """Play for ``seconds``; the intervals between frames, in seconds.

    A frame is stamped when the dock has drawn a step; the event loop is single-threaded,
    so each interval also holds the paint of the previous frame.
    """
    stamps: list[float] = []

    def stamp(_k: int) -> None:
        stamps.append(time.perf_counter())

    dock.state.position_changed.connect(stamp)  # after the dock's own handler
    dock.state.set_loop(True)
    dock.state.set_speed(60.0)
    dock.state.play()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)
    dock.state.pause()
    dock.state.position_changed.disconnect(stamp)
    return list(np.diff(stamps))


def _background_convolutions(stop: threading.Event, count: list[int], size: int = LOAD_SIZE) -> None:
    import torch
    import torch.nn.functional as F

    x = torch.rand(1, 3, size, size)
    w = torch.rand(16, 3, 3, 3)
    while not stop.is_set():
        F.conv2d(x, w, padding=1)
        count[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load-size", type=int, default=LOAD_SIZE, help="background conv input side (default 1024)")
    args = parser.parse_args()

    import torch
    from PySide6.QtWidgets import QApplication

    from convplay.compute.allocator import apply_thread_policy
    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec
    from convplay.qt.animation.dock import AnimationDock

    apply_thread_policy()
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5, padding=2)
    session = Session(rng.random((3, 64, 64)), spec, rng.normal(size=spec.weight_shape), rng.normal(size=8))
    dock = AnimationDock(session)
    dock.resize(1280, 720)
    dock.show()
    app.processEvents()

    def figures(intervals: list[float]) -> tuple[float, float]:
        return 1.0 / statistics.fmean(intervals), float(np.percentile(intervals, 95)) * 1e3

    idle = [figures(_play(app, dock, args.seconds)) for _ in range(args.repeats)]
    loaded, convs = [], 0
    for _ in range(args.repeats):
        stop, count = threading.Event(), [0]
        thread = threading.Thread(target=_background_convolutions, args=(stop, count, args.load_size))
        thread.start()
        time.sleep(0.5)  # torch warmed up in the thread
        loaded.append(figures(_play(app, dock, args.seconds)))
        stop.set()
        thread.join()
        convs += count[0]
    fps = statistics.median(f for f, _ in idle)
    p95 = statistics.median(p for _, p in idle)
    fps_load = statistics.median(f for f, _ in loaded)
    p95_load = statistics.median(p for _, p in loaded)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.repeats} x {args.seconds:g} s each")
    print(f"idle:       {fps:.1f} fps, p95 frame interval {p95:.1f} ms")
    print(f"under load: {fps_load:.1f} fps, p95 frame interval {p95_load:.1f} ms ({convs} background 1024x1024 convs)")
    dock.shutdown()
    print(json.dumps({"fps": round(fps, 2), "p95_frame_ms": round(p95, 2), "fps_under_load": round(fps_load, 2),
                      "p95_frame_ms_under_load": round(p95_load, 2)}))


if __name__ == "__main__":
    main()
