"""Start-up: ``convplay.startup`` in process (no Qt), and ``convplay --screenshot`` end to
end, in a subprocess as a user would run it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def run_convplay(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run(
        [sys.executable, "-m", "convplay", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_screenshot_writes_a_non_blank_png(tmp_path):
    out = tmp_path / "shot.png"
    result = run_convplay(
        "--screenshot", str(out), "--kernel", "sobel_y", "--size", "64", "--stride", "2", "--padding", "1",
        "--padding-mode", "reflect", "--out-channels", "4", "--dtype", "float64", tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (1000, 1600, 3)
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 200  # photo, colour map, widgets: far from a blank window
    assert not (tmp_path / "config" / "convplay").exists()  # a screenshot leaves settings alone


def test_impossible_options_print_the_reason(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((40, 50, 3)) * 255).astype(np.uint8)).save(tmp_path / "in.png")
    out = tmp_path / "shot.png"
    result = run_convplay(
        str(tmp_path / "in.png"), "--stride", "2", "--padding", "same", "--padding-mode", "reflect",
        "--out-channels", "4", "--screenshot", str(out), tmp_path=tmp_path,
    )
    # 'same' is refused for strided convolutions, as PyTorch refuses it: a reason, exit 1
    assert result.returncode == 1
    assert "same" in result.stderr and not out.exists()


def test_kernel_file_works_with_screenshot(tmp_path):
    laplacian = np.array([[[[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]]])
    np.save(tmp_path / "lap.npy", laplacian)
    out = tmp_path / "shot.png"
    result = run_convplay("--kernel-file", str(tmp_path / "lap.npy"), "--size", "48", "--screenshot", str(out), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_a_refused_kernel_file_prints_the_reason_and_exits_non_zero(tmp_path):
    hostile = tmp_path / "evil.pth"
    hostile.write_bytes(os.urandom(2000))
    out = tmp_path / "shot.png"
    result = run_convplay("--kernel-file", str(hostile), "--screenshot", str(out), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "evil.pth" in result.stderr
    assert not out.exists()


def test_screenshot_at_an_animation_step(tmp_path):
    out = tmp_path / "anim.png"
    result = run_convplay(
        "--sample", "tutorial_x", "--kernel", "x_shape", "--step", "5", "--screenshot", str(out), tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_a_step_past_the_end_is_refused_with_the_count(tmp_path):
    out = tmp_path / "anim.png"
    result = run_convplay(
        "--sample", "tutorial_x", "--kernel", "x_shape", "--step", "10", "--screenshot", str(out), tmp_path=tmp_path
    )
    assert result.returncode == 2
    assert "9 steps" in result.stderr
    assert not out.exists()
