"""The OpenCV and scipy code the Formula panel offers computes what PyTorch computes.

Each generated program is run in a fresh namespace and its ``y`` compared with nn.Conv2d
built from the same arguments (PyTorch is the oracle).  The OpenCV half runs where cv2
imports.
"""

import contextlib
import io
import itertools
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from convplay.core.codegen import LIBRARIES, library_code, pytorch_code
from convplay.core.spec import ConvSpec

PADDINGS = (0, 1, "same")
MODES = ("zeros", "reflect", "replicate", "circular")
KERNELS = (3, 4, (2, 3))
CHANNELS = ((1, 1, 1), (2, 2, 2), (2, 3, 1))  # (in, out, groups)


def torch_output(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias, flip: bool = False) -> np.ndarray:
    conv = nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, stride=spec.stride,
                     padding=spec.padding, dilation=spec.dilation, groups=spec.groups,
                     bias=bias is not None, padding_mode=spec.padding_mode)
    w = torch.tensor(weight, dtype=torch.float32)
    with torch.no_grad():
        conv.weight.copy_(torch.flip(w, dims=(2, 3)) if flip else w)
        if bias is not None:
            conv.bias.copy_(torch.tensor(bias, dtype=torch.float32))
        with warnings.catch_warnings():  # even kernel, 'same': PyTorch notes the padded copy it makes
            warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
            return conv(torch.tensor(x, dtype=torch.float32)[None])[0].numpy()


def run(code, folder=None) -> np.ndarray:
    if code.arrays:
        for name, values in code.arrays.items():
            np.save(folder / name, values)
    return _exec(code.text)["y"]


def specs():
    combinations = itertools.product(PADDINGS, MODES, (1, 2), (1, 2), KERNELS, CHANNELS)
    for n, (padding, mode, stride, dilation, kernel, channels) in enumerate(combinations):
        if padding == "same" and stride != 1:
            continue  # PyTorch refuses it
        bias = n % 2 == 0  # with and without, across every other setting
        c_in, c_out, groups = channels
        yield ConvSpec(in_channels=c_in, out_channels=c_out, kernel_size=kernel, stride=stride,
                       padding=padding, dilation=dilation, groups=groups, bias=bias, padding_mode=mode)


def case(spec: ConvSpec, seed: int, size=(7, 8)):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((spec.in_channels, *size))
    weight = rng.standard_normal(spec.weight_shape)
    bias = rng.standard_normal(spec.out_channels) if spec.bias else None
    return x, weight, bias


ALL_SPECS = list(specs())


def check_grid(library: str) -> None:
    for seed, spec in enumerate(ALL_SPECS):
        x, weight, bias = case(spec, seed)
        expected = torch_output(spec, x, weight, bias)
        got = run(library_code(library, spec, x, weight, bias))
        assert got.shape == expected.shape, spec
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0, err_msg=str(spec))


def test_grid_covers_the_brief():
    assert len(ALL_SPECS) > 200
    assert {s.bias for s in ALL_SPECS} == {True, False}
    assert {s.padding for s in ALL_SPECS} == set(PADDINGS)
    assert {s.padding_mode for s in ALL_SPECS} == set(MODES)


def test_scipy_code_computes_what_pytorch_computes():
    pytest.importorskip("scipy.ndimage")
    check_grid("scipy")


def test_opencv_code_computes_what_pytorch_computes():
    pytest.importorskip("cv2")
    check_grid("opencv")


@pytest.mark.parametrize("library", ["scipy", "opencv"])
@pytest.mark.parametrize("spec", [
    ConvSpec(kernel_size=3, padding=2, padding_mode="reflect"),  # larger than the input: padded by hand
    ConvSpec(kernel_size=2, padding=1, padding_mode="replicate", stride=2),
    ConvSpec(kernel_size=(1, 5), padding=(3, 0), padding_mode="zeros"),
    ConvSpec(kernel_size=5, padding="same", dilation=3, padding_mode="circular"),  # a 13×13 footprint
    ConvSpec(kernel_size=(3, 2), padding=(1, 2), stride=(2, 3), dilation=(2, 1), padding_mode="circular"),
], ids=str)
def test_paddings_beyond_the_kernel_and_odd_pairs(library, spec):
    pytest.importorskip("cv2" if library == "opencv" else "scipy.ndimage")
    x, weight, bias = case(spec, 3, size=(9, 10))
    np.testing.assert_allclose(run(library_code(library, spec, x, weight, bias)),
                               torch_output(spec, x, weight, bias), atol=1e-5, rtol=0)


@pytest.mark.parametrize("library", ["scipy", "opencv"])
def test_large_arrays_load_from_the_npy_files(library, tmp_path, monkeypatch):
    pytest.importorskip("cv2" if library == "opencv" else "scipy.ndimage")
    spec = ConvSpec(in_channels=3, out_channels=2, kernel_size=7, padding=3, padding_mode="reflect")
    x, weight, bias = case(spec, 4, size=(20, 24))
    weight = weight / 7  # sums of 147 terms: keep them near 1, where float32 holds 1e-5
    code = library_code(library, spec, x, weight, bias)
    assert set(code.arrays) == {"input.npy", "weight.npy", "bias.npy"}
    monkeypatch.chdir(tmp_path)
    np.testing.assert_allclose(run(code, tmp_path), torch_output(spec, x, weight, bias), atol=1e-5, rtol=0)


@pytest.mark.parametrize("library", ["scipy", "opencv"])
def test_true_convolution_flips_the_kernel(library):
    pytest.importorskip("cv2" if library == "opencv" else "scipy.ndimage")
    spec = ConvSpec(kernel_size=(2, 3), padding=1, padding_mode="replicate")
    x, weight, bias = case(spec, 5)
    got = run(library_code(library, spec, x, weight, bias, true_convolution=True))
    np.testing.assert_allclose(got, torch_output(spec, x, weight, bias, flip=True), atol=1e-5, rtol=0)


@pytest.mark.parametrize("library", ["scipy", "opencv"])
def test_a_transposed_convolution_is_said_to_have_no_translation(library):
    spec = ConvSpec(kernel_size=3, stride=2, transposed=True)
    x, weight, bias = case(spec, 6)
    code = library_code(library, spec, x, weight, bias)
    assert "no faithful" in code.text and "transposed" in code.text
    assert "y" not in _exec(code.text)  # it computes nothing rather than something else
    assert all(line.startswith("#") for line in code.text.splitlines() if line)


@pytest.mark.parametrize("library", ["scipy", "opencv"])
def test_refused_settings_give_pytorchs_reason(library):
    spec = ConvSpec(kernel_size=3, padding="same", stride=2)
    code = library_code(library, spec, np.zeros((1, 6, 6)), np.zeros((1, 1, 3, 3)), None)
    assert code.error and code.error in code.text
    assert "y" not in _exec(code.text)


def _exec(text: str) -> dict:
    """Run our own generated snippet in a fresh namespace, its print quiet."""
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(text, "<generated>", "exec"), namespace)  # noqa: S102 (our own generated code)
    return namespace


def test_the_names_in_the_code_are_the_table_of_borders():
    x, weight, bias = case(ConvSpec(), 1)
    names = {"zeros": ("cv2.BORDER_CONSTANT", "'constant'"), "reflect": ("cv2.BORDER_REFLECT_101", "'mirror'"),
             "replicate": ("cv2.BORDER_REPLICATE", "'nearest'"), "circular": ("cv2.BORDER_WRAP", "'wrap'")}
    for mode, (opencv, scipy_mode) in names.items():
        spec = ConvSpec(padding=1, padding_mode=mode)
        assert opencv in library_code("opencv", spec, x, weight, bias).text
        assert f"mode = {scipy_mode}" in library_code("scipy", spec, x, weight, bias).text


def test_pytorch_is_the_same_code_as_before():
    spec, (x, weight, bias) = ConvSpec(padding=1), case(ConvSpec(), 2)
    assert library_code("pytorch", spec, x, weight, bias) == pytorch_code(spec, x, weight, bias)
    assert set(LIBRARIES) == {"pytorch", "opencv", "scipy"}
    with pytest.raises(ValueError):
        library_code("matlab", spec, x, weight, bias)


def test_the_code_reads_well():
    """Lines fit a code view; the even kernel's anchor is explained."""
    spec = ConvSpec(in_channels=2, out_channels=2, kernel_size=4, padding="same", groups=2)
    x, weight, bias = case(spec, 7)
    for library in ("opencv", "scipy"):
        text = library_code(library, spec, x, weight, bias).text
        long = [line for line in text.splitlines() if len(line) > 100 and "np.array" not in line
                and not line.lstrip().startswith(("[", "0", "-"))]
        assert not long, long
        prose = " ".join(line.lstrip("# ") for line in text.splitlines())  # comments as one text
        assert "would not give all of PyTorch's output" in prose and "one less before than after" in prose
