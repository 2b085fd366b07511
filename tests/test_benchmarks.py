"""Every benchmark script still runs: each once, on tiny sizes, in its own process.

They print figures, not pass/fail verdicts (DESIGN.md); this only keeps them from rotting
as the app changes under them.  Each must end with one JSON line holding its key figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SMOKE = {
    "live_update.py": (["--sizes", "24", "--edits", "2", "--small-size", "16", "--no-first-paint"],
                       {"ratio_best_24", "ratio_24", "edit_to_painted_24_ms", "small_edit_ms"}),
    "scaling.py": (["--sizes", "24", "--outs", "1", "--kernels", "3", "--edits", "2"], {"rows"}),
    "animation.py": (["--seconds", "0.2", "--repeats", "1", "--load-size", "32"], {"fps", "p95_frame_ms", "fps_under_load"}),
    "timer_gaps.py": (["--size", "24", "--out", "2", "--edits", "2"], {"max_gap_ms", "max_gap_ms_sliding_window"}),
    "reference_speed.py": (["--sizes", "16"], {"sizes", "torch_threads"}),
    "raw_conv.py": (["--sizes", "16", "--repeats", "2"], None),
    "export.py": (["--runs", "1", "--size", "160x90", "--cases", "tutorial"], {"tutorial_9_gif_s", "tutorial_9_webp_s"}),
    "conv_matrix.py": (["--dense-sizes", "8", "--coo-sizes", "8", "--im2col-size", "16", "--repeats", "1",
                        "--view-sizes", "4", "12"],
                       {"dense_8x8_rgb8_ms", "coo_8x8_rgb8_ms", "refuse_ms", "frame_ms"}),
    "stack_scores.py": (["--strokes", "2"], {"stroke_to_scores_ms", "raw_forward_ms", "ratio"}),
}


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs_on_tiny_sizes(script, tmp_path):
    args, keys = SMOKE[script]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    last = result.stdout.strip().splitlines()[-1]
    figures = json.loads(last)
    if keys is not None:
        assert keys <= set(figures), f"{script}: missing {keys - set(figures)} in {last}"


def test_every_benchmark_has_a_smoke_run():
    assert {p.name for p in (ROOT / "benchmarks").glob("*.py")} == set(SMOKE)
