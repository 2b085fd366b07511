"""How edit -> painted grows with the work, against the best raw PyTorch call.

For RGB inputs of 128 to 2048 px, 1, 16 and 64 output channels and 3x3, 7x7 and 15x15
kernels (padding k // 2), through the real window as benchmarks/live_update.py measures
it (the clock stops at the window's flushed paint pass): the median edit -> painted, the
PyTorch call inside the app, and the raw F.conv2d in each setup (NCHW and channels_last,
the app's thread count and torch's default), interleaved with the edits.  Printed per row:
GMAC, the times, edit -> painted over the best raw call, and the app's GMAC/s.  Rows whose
raw call takes over a second get fewer edits (``--budget-s`` bounds each row's time).
The last line is one JSON object: {"rows": [...]} with one object per row.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/scaling.py [--sizes 128 512] [--outs 16] [--kernels 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

import live_update  # noqa: E402 - the window's edit -> painted clock, and the app's allocator setting

from PySide6.QtWidgets import QApplication  # noqa: E402

SIZES = (128, 256, 512, 1024, 2048)
OUTS = (1, 16, 64)
KERNELS = (3, 7, 15)


def probe_s(size: int, out: int, kernel: int) -> float:
    """One warm raw call's time, to size the row's number of edits."""
    import torch
    import torch.nn.functional as F

    x = torch.rand(1, 3, size, size).contiguous(memory_format=torch.channels_last)
    w = torch.randn(out, 3, kernel, kernel)
    with torch.inference_mode():
        F.conv2d(x, w, None, 1, kernel // 2)
        t0 = time.perf_counter()
        F.conv2d(x, w, None, 1, kernel // 2)
    return time.perf_counter() - t0


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--outs", type=int, nargs="+", default=list(OUTS))
    parser.add_argument("--kernels", type=int, nargs="+", default=list(KERNELS))
    parser.add_argument("--edits", type=int, default=8, help="edits per row when the call is quick (default 8)")
    parser.add_argument("--budget-s", type=float, default=20.0, help="about how long one row may take (default 20)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    default_threads = torch.get_num_threads()
    app_threads = live_update.apply_thread_policy()
    setups = live_update.raw_setups(app_threads, default_threads)
    rows = []
    print(f"torch threads: the app's {app_threads}, default {default_threads}; medians in ms")
    print(f"{'px':>5} {'out':>3} {'k':>2} {'GMAC':>7} {'edit->painted':>13} {'in app':>8} "
          + " ".join(f"{name[:22]:>22}" for name, _c, _t in setups) + f" {'/ best':>7} {'GMAC/s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for out in args.outs:
                for kernel in args.kernels:
                    call = probe_s(size, out, kernel)
                    # each edit costs about the app's call and every setup's raw calls
                    per_edit = call * (1 + 2 * len(setups))
                    edits = max(1, min(args.edits, int(args.budget_s / max(per_edit, 1e-3))))
                    raw_calls = 1 if call > 0.5 else 2
                    figures = live_update.edit_to_painted(
                        app, size, tmp, edits, out_channels=out, kernel=kernel, setups=setups,
                        raw_calls=raw_calls, warm_edits=1)
                    medians = {key: statistics.median(values) for key, values in figures.items()}
                    best_name, best = live_update.best_raw(medians)
                    gmac = 3 * out * kernel * kernel * size * size / 1e9
                    row = {"size": size, "out": out, "kernel": kernel, "gmac": round(gmac, 4), "edits": edits,
                           "edit_to_painted_ms": round(medians["live"] * 1e3, 3),
                           "conv_in_app_ms": round(medians["conv_in_app"] * 1e3, 3),
                           "best_raw": best_name, "ratio_best": round(medians["live"] / best, 3),
                           "app_gmac_per_s": round(gmac / medians["live"], 2)}
                    for name, _c, _t in setups:
                        row[f"raw_{name}_ms"] = round(medians[f"raw_{name}"] * 1e3, 3)
                    rows.append(row)
                    raws = " ".join(f"{row[f'raw_{name}_ms']:>22.2f}" for name, _c, _t in setups)
                    print(f"{size:>5} {out:>3} {kernel:>2} {gmac:>7.3f} {row['edit_to_painted_ms']:>13.2f} "
                          f"{row['conv_in_app_ms']:>8.2f} {raws} {row['ratio_best']:>7.2f} {row['app_gmac_per_s']:>7.1f}",
                          flush=True)
    print(json.dumps({"rows": rows, "torch_threads": app_threads, "torch_default_threads": default_threads}))


if __name__ == "__main__":
    main()
