"""How long an export of the sliding window takes: GIF, WebP and MP4, offscreen.

Two animations, set up exactly as the command line sets them up:

- the tutorial's 5×5 X with the X-shaped kernel (``--sample tutorial_x --kernel x_shape``):
  9 steps;
- a crop of the camera photo, 10 px wide, with a 3×3 Sobel kernel (``--sample camera
  --size 10 --kernel sobel_x``): 8×8 = 64 steps.

Each export runs in this process, the way ``convplay --export`` runs it once PyTorch's
output is in (PyTorch's start-up is not counted): the time from ``start()`` to the file
in place, the median of ``--runs`` runs, one frame per step.  The last line is one JSON
object.
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

CASES = {
    "tutorial": ["--sample", "tutorial_x", "--kernel", "x_shape"],
    "photo": ["--sample", "camera", "--size", "10", "--kernel", "sobel_x"],
}
FORMATS = ("gif", "webp", "mp4")


def _session_and_results(argv: list[str]):
    import numpy as np
    import torch
    import torch.nn.functional as F

    from convplay.cli import parse_args
    from convplay.core.compute_settings import ComputeSettings
    from convplay.core.results import ComputeOutcome, Results, reference_outcome
    from convplay.startup import initial_session

    session, _ = initial_session(parse_args(argv))
    spec = session.spec
    weight = session.weight[:, :, ::-1, ::-1].copy() if session.true_convolution else session.weight
    bias = torch.tensor(session.bias) if spec.bias else None
    out = F.conv2d(torch.tensor(session.image[None]), torch.tensor(np.ascontiguousarray(weight)), bias,
                   stride=spec.stride, padding=spec.padding, dilation=spec.dilation, groups=spec.groups)
    results = Results()
    request = results.begin(session, ComputeSettings(dtype="float64"))
    output = out[0].numpy()
    results.set_outcome(results.generation, ComputeOutcome(request, output, 0.0, "CPU"))
    results.set_reference(results.generation, reference_outcome(request, output))
    return session, results


def _export_once(app, session, results, path: Path, size: tuple[int, int]) -> tuple[float, int, int]:
    """(seconds from start to the file in place, steps, bytes)."""
    from PySide6.QtCore import QEventLoop

    from convplay.qt.export.job import ExportJob, ExportOptions

    job = ExportJob(session, results, ExportOptions(str(path), size=size))
    loop = QEventLoop()
    outcome: list[str] = []
    job.finished.connect(lambda *_: (outcome.append(""), loop.quit()))
    job.failed.connect(lambda reason: (outcome.append(reason), loop.quit()))
    start = time.perf_counter()
    problem = job.start()
    if problem:
        raise SystemExit(f"export refused: {problem}")
    loop.exec()
    seconds = time.perf_counter() - start
    if outcome[0]:
        raise SystemExit(f"export failed: {outcome[0]}")
    steps = job.total_steps
    job.deleteLater()
    return seconds, steps, path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="exports of each case and format (the median is kept)")
    parser.add_argument("--size", default="960x540", help="frame size WxH (default 960x540)")
    parser.add_argument("--cases", default=",".join(CASES), help="tutorial, photo")
    parser.add_argument("--formats", default=",".join(FORMATS), help="gif, webp, mp4")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6.QtWidgets import QApplication

    from convplay.core.encoders import video_problem

    app = QApplication.instance() or QApplication(sys.argv[:1])
    formats = [f for f in args.formats.split(",") if f]
    if "mp4" in formats and video_problem():
        print(f"skipping MP4: {video_problem()}")
        formats.remove("mp4")
    figures: dict[str, object] = {"size": f"{width}x{height}", "runs": args.runs}
    print(f"export at {width}x{height}, median of {args.runs} runs (from start() to the file in place)")
    print(f"{'case':<10} {'format':<6} {'steps':>5} {'seconds':>8} {'ms/step':>8} {'size':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for case in [c for c in args.cases.split(",") if c]:
            session, results = _session_and_results(CASES[case])
            for kind in formats:
                runs = [_export_once(app, session, results, Path(folder) / f"{case}.{kind}", (width, height))
                        for _ in range(args.runs)]
                seconds = statistics.median(r[0] for r in runs)
                steps, size = runs[-1][1], runs[-1][2]
                print(f"{case:<10} {kind:<6} {steps:>5} {seconds:>8.2f} {1000 * seconds / steps:>8.1f} "
                      f"{size / 1024:>8.0f} KB")
                figures[f"{case}_{steps}_{kind}_s"] = round(seconds, 3)
                figures[f"{case}_{steps}_{kind}_kb"] = round(size / 1024, 1)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
