"""``--kernel NAME[:p=v,...]``: a kernel made from parameters on every channel pair, a
gradient pair as two output channels, refusals with the reason (and a non-zero exit from
the command itself), and ``--describe``'s ``kernel`` and ``weight`` objects, checked
against closed forms and against PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.cli import parse_args
from convplay.describe import describe_session
from convplay.startup import StartupError, initial_session

ROOT = Path(__file__).resolve().parents[1]
SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def session_of(*argv):
    session, _ = initial_session(parse_args([*argv, "--size", "32"]))
    return session


def test_a_gaussian_from_parameters_is_the_closed_form_on_every_pair():
    session = session_of("--sample", "camera", "--kernel", "gaussian:size=5,sigma=1.2", "--out-channels", "2")
    y, x = np.mgrid[-2:3, -2:3]
    g = np.exp(-(x**2 + y**2) / (2 * 1.2**2))
    g /= g.sum()
    assert session.weight.shape == (2, 1, 5, 5)
    np.testing.assert_allclose(session.weight[0, 0], g, atol=1e-15)
    np.testing.assert_allclose(session.weight[1, 0], g, atol=1e-15)
    assert session.kernel_recipe is not None and session.kernel_recipe.text() == "gaussian:size=5,sigma=1.2"
    assert session.kernel_name == "Gaussian 5×5, σ 1.2"


def test_a_blur_over_colour_channels_keeps_its_brightness():
    session = session_of("--sample", "chelsea", "--kernel", "box:size=3")
    assert session.weight.shape == (1, 3, 3, 3)
    assert session.weight.sum() == pytest.approx(1.0)


def test_a_sobel_pair_is_two_output_channels_gx_and_gy():
    session = session_of("--sample", "camera", "--kernel", "sobel_pair")
    assert session.spec.out_channels == 2 and session.weight.shape == (2, 1, 3, 3)
    x = torch.from_numpy(np.array(session.image))[None]
    torch_x = F.conv2d(x, torch.from_numpy(SOBEL_X)[None, None])
    torch_y = F.conv2d(x, torch.from_numpy(SOBEL_X.T.copy())[None, None])
    got = F.conv2d(x, torch.from_numpy(np.array(session.weight)))
    np.testing.assert_allclose(got[0, 0], torch_x[0, 0])
    np.testing.assert_allclose(got[0, 1], torch_y[0, 0])


@pytest.mark.parametrize("argv, words", [
    (["--kernel", "gaussian:sigma=99"], "sigma must be a number from 0.1 to 10"),
    (["--kernel", "nope"], "no preset or kernel family 'nope'"),
    (["--kernel", "gausian:sigma=2"], "(did you mean gaussian"),
    (["--kernel", "sobel_x:size=5"], "is a preset: it takes no parameters"),
    (["--kernel", "gabor:wavelength=6"], "no parameter 'wavelength'"),
    (["--kernel", "sobel_pair", "--out-channels", "3"], "gradient pair: it has out_channels 2"),
])
def test_refused_kernels_say_why(argv, words):
    with pytest.raises(StartupError, match="kernel") as caught:
        session_of(*argv)
    assert words in str(caught.value)
    assert caught.value.field == "kernel"


@pytest.mark.parametrize("option", ["--describe", "--save-session"])
def test_the_command_exits_non_zero_with_the_reason(option, tmp_path):
    extra = [str(tmp_path / "x.convplay")] if option == "--save-session" else []
    done = subprocess.run([sys.executable, "-m", "convplay", "--kernel", "gabor:theta=45,lambda=1", option, *extra],
                          capture_output=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode != 0
    assert "lambda must be a number from 2 to 30" in done.stderr.decode()


def test_help_lists_the_families_and_their_parameters():
    done = subprocess.run([sys.executable, "-m", "convplay", "--help"], capture_output=True, cwd=ROOT, timeout=60,
                          check=True)
    text = " ".join(done.stdout.decode().split())
    for words in ("gaussian:size=5,sigma=1.2", "gabor: size=9 (1..15), theta=0 (-180..180), lambda=4 (2..30)",
                  "sobel_pair: size=3 (3..7)", "disk: radius=5"):
        assert words in text


def test_describe_gives_the_kernel_object_and_the_weight():
    d = describe_session(session_of("--sample", "camera", "--kernel", "sobel_x"))
    k = d["kernel"]
    assert k["name"] == "Sobel x" and k["family"] is None and k["parameters"] is None
    assert k["sum"] == 0 and k["zero_mean"] and k["rank"] == 1
    assert k["symmetry_x"] == "antisymmetric" and k["symmetry_y"] == "symmetric"
    assert k["factors"] == {"column": [1, 2, 1], "row": [-1, 0, 1]}
    assert k["l1"] == 8 and k["l2"] == pytest.approx(np.sqrt(12)) and (k["min"], k["max"]) == (-2, 2)
    assert d["weight"] == [[SOBEL_X.astype(int).tolist()]]


def test_describe_of_a_recipe_names_its_parameters_and_a_laplacian_has_no_factors():
    d = describe_session(session_of("--sample", "camera", "--kernel", "gaussian:size=3,sigma=1"))
    assert d["kernel"]["family"] == "gaussian" and d["kernel"]["parameters"] == {"size": 3, "sigma": 1.0}
    col, row = np.array(d["kernel"]["factors"]["column"]), np.array(d["kernel"]["factors"]["row"])
    np.testing.assert_allclose(np.outer(col, row), np.array(d["weight"])[0, 0], atol=1e-15)
    lap = describe_session(session_of("--sample", "camera", "--kernel", "laplacian4"))["kernel"]
    assert lap["rank"] == 2 and "factors" not in lap


def test_describe_of_a_pair_lists_each_pair_and_the_json_is_valid():
    done = subprocess.run([sys.executable, "-m", "convplay", "--kernel", "sobel_pair:size=5", "--describe"],
                          capture_output=True, cwd=ROOT, timeout=60, check=True)
    d = json.loads(done.stdout)
    assert [(p["out"], p["sum"], p["rank"]) for p in d["kernel"]["pairs"]] == [(0, 0, 1), (1, 0, 1)]
    assert np.array(d["weight"]).shape == (2, 1, 5, 5)


def test_the_output_views_of_the_command_line_are_the_panels():
    from convplay.cli import OUTPUT_VIEWS
    from convplay.core.gradients import VIEWS

    assert OUTPUT_VIEWS == VIEWS
    assert parse_args(["--kernel", "sobel_pair", "--output-view", "magnitude"]).output_view == "magnitude"
