"""How fast the numpy reference is, against the raw PyTorch call measured in the same run.

A 3 -> 16 channel 3x3 conv (padding 1) at 64², 256² and 1024²: medians of
conv2d_reference (float64) and F.conv2d on CPU in float32 and float64, and the cost of one
walk step (what the animation pays per frame).  The last line is one JSON object.

    python benchmarks/reference_speed.py [--threads N] [--sizes 64 256 1024]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from convplay.compute.allocator import tune_allocator

tune_allocator()  # as the app does: fresh pages on every large allocation would cost more than the conv

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from convplay.core.reference import conv2d_reference  # noqa: E402
from convplay.core.spec import ConvSpec  # noqa: E402
from convplay.core.walk import ConvWalk  # noqa: E402

SIZES = (64, 256, 1024)
REPEATS = {64: 60, 256: 20, 1024: 5}


def median_ms(fn, repeats: int) -> float:
    fn()  # warm caches and the allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def step_us(walk: ConvWalk, count: int = 2000) -> float:
    ks = np.random.default_rng(0).integers(0, len(walk), count)
    start = time.perf_counter()
    for k in ks:
        walk.step(int(k))
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="input sides (default 64 256 1024)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    spec = ConvSpec(3, 16, 3, padding=1)
    weight = rng.normal(size=spec.weight_shape)
    bias = rng.normal(size=16)
    results = {"torch_threads": args.threads, "sizes": {}}
    print(f"3 -> 16 channels, 3x3, padding 1; torch threads {args.threads}; medians in ms")
    print(f"{'size':>6} {'reference':>10} {'torch f32':>10} {'torch f64':>10} {'ratio f32':>10} {'ratio f64':>10}")
    for n in args.sizes:
        x = rng.normal(size=(3, n, n))
        tx32, tw32, tb32 = (torch.from_numpy(a).float() for a in (x[None], weight, bias))
        tx64, tw64, tb64 = (torch.from_numpy(a) for a in (x[None], weight, bias))
        ref = median_ms(lambda: conv2d_reference(x, weight, bias, spec), REPEATS.get(n, 5))
        t32 = median_ms(lambda: F.conv2d(tx32, tw32, tb32, padding=1), REPEATS.get(n, 5))
        t64 = median_ms(lambda: F.conv2d(tx64, tw64, tb64, padding=1), REPEATS.get(n, 5))
        print(f"{n:>5}² {ref:>10.2f} {t32:>10.2f} {t64:>10.2f} {ref / t32:>10.1f} {ref / t64:>10.1f}")
        results["sizes"][f"{n}x{n}"] = {
            "reference_ms": round(ref, 3),
            "torch_f32_ms": round(t32, 3),
            "torch_f64_ms": round(t64, 3),
            "ratio_f32": round(ref / t32, 2),
            "ratio_f64": round(ref / t64, 2),
        }
    walk_side = max(args.sizes)
    x = rng.normal(size=(3, walk_side, walk_side))
    for k in (3, 5, 15):
        walk_spec = ConvSpec(3, 16, k, padding=k // 2)
        walk = ConvWalk(x, rng.normal(size=walk_spec.weight_shape), bias, walk_spec)
        us = step_us(walk)
        print(f"walk step, 3 channels x {k}x{k} = {3 * k * k} taps: {us:.1f} µs")
        results[f"walk_step_us_{3 * k * k}_taps"] = round(us, 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
