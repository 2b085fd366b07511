"""two_pass_conv: a column pass then a row pass give torch's own 2-D conv2d, for every
setting a rank-1 layer can have; rank 2 and transposed layers are refused with the reason."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.compute.two_pass import two_pass_conv, two_pass_macs
from convplay.core.spec import ConvSpec


def _oracle(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias, dtype) -> np.ndarray:
    """nn.Conv2d's forward, built from its constructor arguments by hand (not convplay's)."""
    tdtype = getattr(torch, dtype)
    xt = torch.tensor(x, dtype=tdtype)[None]
    wt = torch.tensor(weight, dtype=tdtype)
    bt = None if bias is None else torch.tensor(bias, dtype=tdtype)
    kh, kw = weight.shape[2:]
    dh, dw = (spec.dilation, spec.dilation) if isinstance(spec.dilation, int) else spec.dilation
    if spec.padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)  # PyTorch: the smaller half before
    else:
        p = spec.padding
        pads = (p, p, p, p)
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    xt = F.pad(xt, pads, mode=mode)
    return F.conv2d(xt, wt, bt, spec.stride, 0, spec.dilation, spec.groups)[0].numpy()


def _rank1_weight(rng, out_c, per_group, kh, kw) -> np.ndarray:
    cols = rng.standard_normal((out_c, per_group, kh, 1))
    rows = rng.standard_normal((out_c, per_group, 1, kw))
    return cols * rows


GRID = list(itertools.product(
    (1, 2),  # stride
    (1, 2),  # dilation
    (1, 2),  # groups
    ("zeros", "reflect", "replicate", "circular"),
    (True, False),  # bias
))


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("stride, dilation, groups, mode, bias", GRID)
def test_two_passes_equal_conv2d(stride, dilation, groups, mode, bias, dtype, tol):
    rng = np.random.default_rng(GRID.index((stride, dilation, groups, mode, bias)))
    c_in, c_out = 2 * groups, 2 * groups
    kh, kw = 3, 2 + stride  # non-square too
    spec = ConvSpec(c_in, c_out, (kh, kw), stride, 1, dilation, groups, bias, mode)
    x = rng.uniform(-1, 1, (c_in, 11, 12))
    weight = _rank1_weight(rng, c_out, c_in // groups, kh, kw)
    b = rng.standard_normal(c_out) if bias else None
    out, note = two_pass_conv(spec, x, weight, b, "cpu", dtype)
    expected = _oracle(spec, x, weight, b, dtype)
    assert out.shape == expected.shape
    assert out.dtype == (np.float64 if dtype == "float64" else np.float32)
    assert np.max(np.abs(out.astype(np.float64) - expected)) < tol
    assert "column pass" in note and "row pass" in note


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dilation", [1, 2])
def test_same_padding_with_an_even_kernel(mode, dilation):
    """A 4×2 kernel under 'same' pads unevenly: 1 before and 2 after down the rows."""
    rng = np.random.default_rng(7)
    spec = ConvSpec(3, 2, (4, 2), 1, "same", dilation, 1, True, mode)
    x = rng.uniform(0, 1, (3, 9, 10))
    weight = _rank1_weight(rng, 2, 3, 4, 2)
    b = rng.standard_normal(2)
    for dtype, tol in (("float32", 1e-5), ("float64", 1e-12)):
        out, _ = two_pass_conv(spec, x, weight, b, "cpu", dtype)
        expected = _oracle(spec, x, weight, b, dtype)
        assert out.shape == (2, 9, 10)
        assert np.max(np.abs(out - expected)) < tol


def test_sobel_x_and_a_zero_pair():
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)
    weight = np.stack([sobel, np.zeros((3, 3))])[:, None]  # out 1 is all zeros: rank 0
    spec = ConvSpec(1, 2, 3, padding=1)
    x = np.random.default_rng(1).uniform(0, 1, (1, 8, 8))
    out, _ = two_pass_conv(spec, x, weight, np.array([0.5, -1.0]), "cpu", "float64")
    expected = _oracle(spec, x, weight, np.array([0.5, -1.0]), "float64")
    assert np.max(np.abs(out - expected)) < 1e-12
    assert np.all(out[1] == -1.0)


def test_rank_2_is_refused_naming_the_pair():
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], float)
    weight = np.stack([np.ones((3, 3)), laplacian])[:, None]
    with pytest.raises(ValueError, match=r"out 1, in 0 has rank 2"):
        two_pass_conv(ConvSpec(1, 2, 3), np.zeros((1, 6, 6)), weight, None)


def test_transposed_is_refused_with_the_reason():
    spec = ConvSpec(1, 1, 3, transposed=True)
    with pytest.raises(ValueError, match="transposed convolution"):
        two_pass_conv(spec, np.zeros((1, 6, 6)), np.ones((1, 1, 3, 3)), None)


def test_macs_counted_as_run():
    spec = ConvSpec(1, 2, 3)  # 64×64 -> 62×62
    two_d, column, row = two_pass_macs(spec, (1, 64, 64))
    assert two_d == 2 * 62 * 62 * 9
    assert column == 2 * 62 * 64 * 3 and row == 2 * 62 * 62 * 3


def test_output_channels_in_blocks_give_the_same(monkeypatch):
    """A large layer runs its output channels in blocks: one output channel per block here."""
    from convplay.compute import two_pass

    monkeypatch.setattr(two_pass, "BLOCK_ELEMENTS", 1)
    rng = np.random.default_rng(3)
    spec = ConvSpec(4, 6, 3, 2, 1, 1, 2, True, "reflect")
    x = rng.uniform(-1, 1, (4, 10, 9))
    weight = _rank1_weight(rng, 6, 2, 3, 3)
    b = rng.standard_normal(6)
    out, _ = two_pass_conv(spec, x, weight, b, "cpu", "float64")
    assert np.max(np.abs(out - _oracle(spec, x, weight, b, "float64"))) < 1e-12
