"""conv_matrix and im2col build times, against one 60 Hz frame (16.7 ms).

Shapes: 3xNxN -> 8 channels, 3x3, padding 1, float64 (as the matrix view builds them).
Dense C for the small sizes, COO for all, im2col for a large picture, and how long the
refusal (MatrixTooLarge) takes for a 1024x1024 RGB -> 64 input: it must come before any
O(input) work.  A raw F.conv2d (float64) of the smallest case runs in the same process for scale.
Prints a table of medians (ms) and, as its last line, one JSON object with every figure.

The matrix view itself (offscreen Qt): how long it takes to show a new input, drawn as C
whole at 8x8 and, above its limit, as the im2col window of a large input (the dense view
declining it must cost no O(input) work), each painted once (the
session's own copy of the input is left out: every view pays it).

    python benchmarks/conv_matrix.py [--dense-sizes 8 16 32] [--coo-sizes 8 16 32 64]
                                     [--im2col-size 256] [--refuse-size 1024] [--repeats 20]
                                     [--view-sizes 8 1024]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from reference_speed import median_ms  # the same warm-up and median (and the app's allocator setting)

FRAME_MS = 1000 / 60
IN_CHANNELS, OUT_CHANNELS = 3, 8


def _view_ms(rng, n: int, repeats: int) -> tuple[float, str]:
    """The matrix view showing a new 3xnxn input (its rebuild and one paint, once the session
    holds the input), median ms, and what it drew ("dense" or "im2col")."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec
    from convplay.qt.animation.dock import AnimationDock
    from convplay.qt.panels.matrix_panel import MatrixPanel

    app = QApplication.instance() or QApplication([])
    spec = ConvSpec(IN_CHANNELS, OUT_CHANNELS, 3, padding=1)
    images = [rng.random((IN_CHANNELS, n, n)) for _ in range(2)]
    session = Session(images[0], spec, rng.standard_normal(spec.weight_shape), None)
    dock = AnimationDock(session)
    # In the matrix workspace the sliding window is a hidden tab, which does not rebuild: only
    # the matrix view's own work is timed.
    dock._disconnect_models()
    panel = MatrixPanel(session, dock)
    panel.resize(900, 550)
    panel.show()
    app.processEvents()
    times = []
    for k in range(repeats + 1):
        session.set_image(images[k % 2])  # the session's own copy is not the view's cost
        start = time.perf_counter()
        panel._refresh()
        panel.repaint()  # the paint the frame would do
        times.append(time.perf_counter() - start)
    ms = statistics.median(times[1:]) * 1e3
    mode = panel.mode
    panel.shutdown()
    dock.shutdown()
    panel.close()
    return ms, mode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense-sizes", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--coo-sizes", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--im2col-size", type=int, default=256)
    parser.add_argument("--refuse-size", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--view-sizes", type=int, nargs="*", default=[8, 1024],
                        help="input sizes at which to time the matrix view (none: skip it)")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    from convplay.core.conv_matrix import MatrixTooLarge, conv_matrix, im2col
    from convplay.core.spec import ConvSpec

    rng = np.random.default_rng(0)
    spec = ConvSpec(IN_CHANNELS, OUT_CHANNELS, 3, padding=1)
    weight = rng.standard_normal(spec.weight_shape)
    figures: dict = {"frame_ms": FRAME_MS, "repeats": args.repeats}
    rows = []

    # torch first: right after large numpy work its thread pool takes a few calls (tens of
    # ms on a busy machine) to wake, which is not the cost of the convolution.
    small = min(args.dense_sizes)
    x_t = torch.from_numpy(rng.random((1, IN_CHANNELS, small, small)))
    w_t = torch.from_numpy(weight)
    with torch.inference_mode():
        ms = median_ms(lambda: F.conv2d(x_t, w_t, None, 1, 1), args.repeats)
    figures[f"torch_conv2d_{small}x{small}_ms"] = figures["torch_conv2d_ms"] = ms
    torch_row = (f"torch F.conv2d {small}x{small}", ms)

    for n in args.dense_sizes:
        ms = median_ms(lambda: conv_matrix(spec, weight, (IN_CHANNELS, n, n)), args.repeats)
        figures[f"dense_{n}x{n}_rgb8_ms"] = ms
        rows.append((f"conv_matrix dense {n}x{n}", ms))
    for n in args.coo_sizes:
        ms = median_ms(lambda: conv_matrix(spec, weight, (IN_CHANNELS, n, n), dense=False), args.repeats)
        figures[f"coo_{n}x{n}_rgb8_ms"] = ms
        rows.append((f"conv_matrix COO {n}x{n}", ms))

    n = args.im2col_size
    image = rng.random((IN_CHANNELS, n, n))
    ms = median_ms(lambda: im2col(spec, image), args.repeats)
    figures[f"im2col_{n}x{n}_ms"] = figures["im2col_ms"] = ms
    rows.append((f"im2col {n}x{n}", ms))

    big = ConvSpec(IN_CHANNELS, 64, 3, padding=1)
    big_weight = rng.standard_normal(big.weight_shape)
    size = args.refuse_size

    def refuse():
        try:
            conv_matrix(big, big_weight, (IN_CHANNELS, size, size))
        except MatrixTooLarge:
            return
        raise SystemExit(f"conv_matrix built {size}x{size} -> 64 instead of refusing it")

    ms = median_ms(refuse, args.repeats)
    figures["refuse_ms"] = ms
    rows.append((f"refuse {size}x{size} -> 64", ms))

    rows.append(torch_row)
    for n in args.view_sizes:
        ms, mode = _view_ms(rng, n, args.repeats)
        figures[f"view_{n}x{n}_ms"] = ms
        figures[f"view_{n}x{n}_mode"] = mode
        rows.append((f"matrix view {n}x{n} ({mode})", ms))

    # The headline case under its own names, whatever sizes were asked for.
    if "dense_8x8_rgb8_ms" not in figures:
        figures["dense_8x8_rgb8_ms"] = median_ms(lambda: conv_matrix(spec, weight, (3, 8, 8)), args.repeats)
    if "coo_8x8_rgb8_ms" not in figures:
        figures["coo_8x8_rgb8_ms"] = median_ms(lambda: conv_matrix(spec, weight, (3, 8, 8), dense=False),
                                                args.repeats)

    print(f"3xNxN -> {OUT_CHANNELS} ch, 3x3, padding 1, float64, median of {args.repeats}, "
          f"ms (one frame = {FRAME_MS:.1f} ms)")
    for name, ms in rows:
        print(f"{name:>28} {ms:9.3f} {ms / FRAME_MS:8.3f} frames")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
