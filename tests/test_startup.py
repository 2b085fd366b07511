"""The session the command line asks for (convplay.startup), without Qt: choices refused
with their reason, the working size and the original, kernel-file notes as values."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convplay.cli import parse_args
from convplay.core.image_io import (
    DEFAULT_WORKING_SIZE,
    MAX_WORKING_SIZE,
    MIN_WORKING_SIZE,
)
from convplay.startup import StartupError, initial_session, working_size_from

ROOT = Path(__file__).resolve().parents[1]


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


def test_a_device_or_dtype_this_machine_cannot_run_is_refused_with_the_reason(monkeypatch):
    import torch

    from convplay.startup import compute_choice

    assert compute_choice(parse_args([])) == ("cpu", "float32")
    assert compute_choice(parse_args(["--dtype", "float64"])) == ("cpu", "float64")
    with pytest.raises(StartupError, match="--dtype: float16 runs on CUDA only"):
        compute_choice(parse_args(["--dtype", "float16"]))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(StartupError, match="--device: cannot run on cuda"):
        compute_choice(parse_args(["--device", "cuda"]))


def test_the_cpu_choice_imports_no_torch():
    code = (
        "import sys\n"
        "from convplay.cli import parse_args\n"
        "from convplay.startup import compute_choice\n"
        "assert compute_choice(parse_args(['--dtype', 'float64'])) == ('cpu', 'float64')\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
