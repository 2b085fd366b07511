"""Raw F.conv2d and run_conv on the CPU: threads 1 vs all, with and without tune_allocator.

Each variant runs in a fresh subprocess, because glibc's mallopt only helps when it runs
before the allocations it is meant to affect.  Shapes: 3xNxN -> 16 channels, 3x3,
padding 1, float32, as the live view computes them.  Prints a table of medians (ms) and,
as its last line, one JSON object with every figure.

    python benchmarks/raw_conv.py [--sizes 64 256 512 1024] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

OUT_CHANNELS = 16


def _median_min_ms(fn, repeats: int) -> tuple[float, float]:
    """Median and fastest call; the fastest shows the cost when no one else wants the cores."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, min(times) * 1e3


def child(threads: int, mallopt: bool, sizes: list[int], repeats: int) -> dict:
    """One variant, measured in this (fresh) process."""
    from convplay.compute import tune_allocator

    tuned = tune_allocator() if mallopt else False
    import numpy as np
    import torch
    import torch.nn.functional as F

    from convplay.compute import run_conv
    from convplay.core.spec import ConvSpec

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    figures = {}
    for n in sizes:
        image = rng.random((3, n, n))  # float64, as the session holds it
        weight = rng.standard_normal((OUT_CHANNELS, 3, 3, 3))
        bias = rng.standard_normal(OUT_CHANNELS)
        spec = ConvSpec(3, OUT_CHANNELS, 3, padding=1)
        x_t = torch.from_numpy(image.astype(np.float32))[None]
        w_t = torch.from_numpy(weight.astype(np.float32))
        b_t = torch.from_numpy(bias.astype(np.float32))
        with torch.inference_mode():
            raw, raw_min = _median_min_ms(lambda: F.conv2d(x_t, w_t, b_t, 1, 1), repeats)
        op_times = []  # keep the times only: holding outputs would defeat the allocator
        total, total_min = _median_min_ms(
            lambda: op_times.append(run_conv(spec, image, weight, bias).elapsed_s), repeats)
        figures[n] = {
            "raw_ms": raw,
            "raw_min_ms": raw_min,
            "run_conv_total_ms": total,
            "run_conv_total_min_ms": total_min,
            "run_conv_op_ms": statistics.median(op_times) * 1e3,
        }
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"threads": threads, "mallopt": mallopt, "tuned": tuned, "sizes": figures,
            "peak_rss_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--child", nargs=2, metavar=("THREADS", "MALLOPT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        threads, mallopt = int(args.child[0]), args.child[1] == "1"
        print(json.dumps(child(threads, mallopt, args.sizes, args.repeats)))
        return

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    thread_counts = sorted({1, cores or 1})
    results = []
    for mallopt in (False, True):
        for threads in thread_counts:
            cmd = [sys.executable, __file__, "--child", str(threads), "1" if mallopt else "0",
                   "--repeats", str(args.repeats), "--sizes", *map(str, args.sizes)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"3xNxN -> {OUT_CHANNELS} ch, 3x3, float32, ms, median (min) ({cores} cores)")
    print(f"{'threads':>7} {'mallopt':>7} {'N':>5} {'raw':>17} {'run_conv op':>12} "
          f"{'run_conv total':>17} {'total/raw':>9} {'peak MiB':>9}")
    for r in results:
        for n, f in r["sizes"].items():
            raw = f"{f['raw_ms']:.2f} ({f['raw_min_ms']:.2f})"
            total = f"{f['run_conv_total_ms']:.2f} ({f['run_conv_total_min_ms']:.2f})"
            print(f"{r['threads']:>7} {str(r['tuned']):>7} {n:>5} {raw:>17} "
                  f"{f['run_conv_op_ms']:>12.2f} {total:>17} "
                  f"{f['run_conv_total_ms'] / f['raw_ms']:>9.2f} {r['peak_rss_mib']:>9.0f}")
    print(json.dumps({"cores": cores, "variants": results}))


if __name__ == "__main__":
    main()
