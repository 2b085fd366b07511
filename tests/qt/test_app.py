"""Start-up: ``convplay.startup`` in process (no Qt), and ``convplay --screenshot`` end to
end, in a subprocess as a user would run it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convplay.cli import parse_args
from convplay.core.image_io import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE
from convplay.startup import StartupError, initial_session, working_size_from

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


def test_an_unknown_sample_lists_the_samples():
    with pytest.raises(StartupError, match="tutorial_x"):
        initial_session(parse_args(["--sample", "nope"]))


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--kernel", "nonsense"], "nonsense"),
        (["missing.png"], "missing.png"),
        (["a.png", "--sample", "camera"], "not both"),
        (["--size", str(MAX_WORKING_SIZE + 1)], f"between {MIN_WORKING_SIZE} and {MAX_WORKING_SIZE}"),
        (["--size", str(MIN_WORKING_SIZE - 1)], "--size"),
    ],
)
def test_bad_choices_raise_a_reason(tmp_path, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StartupError, match=words):
        initial_session(parse_args(argv))


def test_the_session_holds_the_working_size_and_the_original(tmp_path):
    assert working_size_from(parse_args([])) == DEFAULT_WORKING_SIZE == 256
    Image.fromarray((np.random.default_rng(0).random((300, 400)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    session, notes = initial_session(parse_args([str(tmp_path / "p.png"), "--size", "40"]))
    assert session.image.shape == (1, 30, 40) and session.working_size == 40 and notes == []
    session.set_working_size(400)  # from the file itself, read at up to the largest working size
    assert session.image.shape == (1, 300, 400) and len(np.unique(session.image)) > 200
    session, _ = initial_session(parse_args(["--sample", "tutorial_x"]))
    assert session.image.shape == (1, 5, 5) and session.keeps_own_size


def test_impossible_groups_start_with_a_kernel_that_can_be_edited():
    session, _ = initial_session(parse_args(["--sample", "camera", "--size", "16", "--groups", "3", "--out-channels", "3"]))
    assert session.weight.shape == (1, 1, 3, 3)  # one channel pair until the groups are fixed
    session.set_spec(session.spec.replace(groups=1))
    assert session.weight.shape == (3, 1, 3, 3)


def test_kernel_file_notes_come_back_as_values(tmp_path):
    np.savez(tmp_path / "k.npz", first=np.ones((2, 1, 3, 3)), second=np.ones((4, 1, 5, 5)))
    session, notes = initial_session(parse_args(["--sample", "disk", "--size", "16", "--kernel-file", str(tmp_path / "k.npz")]))
    assert session.weight.shape == (2, 1, 3, 3)
    assert any("first of 2" in note for note in notes)  # printed by the caller, not by start-up


def test_a_refused_kernel_file_is_a_startup_error(tmp_path):
    (tmp_path / "evil.pth").write_bytes(os.urandom(2000))
    with pytest.raises(StartupError, match="evil.pth"):
        initial_session(parse_args(["--sample", "disk", "--size", "16", "--kernel-file", str(tmp_path / "evil.pth")]))


def test_startup_imports_no_qt():
    code = (
        "import sys\n"
        "import convplay.startup\n"
        "from convplay.cli import parse_args\n"
        "convplay.startup.initial_session(parse_args(['--sample', 'disk', '--size', '16']))\n"
        "heavy = [m for m in ('PySide6', 'pyqtgraph', 'superqt', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
