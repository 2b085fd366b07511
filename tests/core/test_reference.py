"""conv2d_reference against nn.Conv2d / nn.ConvTranspose2d in float64, over random specs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings

from convplay.core.padding import PaddedAxis, PaddedGeometry, padded_geometry
from convplay.core.reference import conv2d_reference
from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError
from oracles import SAME_PADDING_WARNING, torch_conv
from strategies import conv_cases

pytestmark = pytest.mark.filterwarnings(SAME_PADDING_WARNING)

TOLERANCE = 1e-9


def assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_cases())
def test_reference_equals_torch(case):
    spec, x, weight, bias = case
    out = conv2d_reference(x, weight, bias, spec)
    assert out.dtype == np.float64
    assert out.shape == spec.output_shape(x.shape)
    assert_close(out, torch_conv(x, weight, bias, spec))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_cases())
def test_true_convolution_is_torch_on_the_flipped_kernel(case):
    spec, x, weight, bias = case
    flipped = weight[:, :, ::-1, ::-1].copy()
    assert_close(conv2d_reference(x, weight, bias, spec, flip=True), torch_conv(x, flipped, bias, spec))


def test_true_convolution_differs_from_cross_correlation():
    spec = ConvSpec(1, 1, 3, bias=False)
    x = np.arange(25, dtype=float).reshape(1, 5, 5)
    weight = np.arange(9, dtype=float).reshape(1, 1, 3, 3)
    correlation = conv2d_reference(x, weight, None, spec)
    convolution = conv2d_reference(x, weight, None, spec, flip=True)
    assert not np.allclose(correlation, convolution)
    # Top-left output by hand: cross-correlation pairs x[0,0] with w[0,0], convolution with w[2,2].
    window = x[0, :3, :3]
    assert correlation[0, 0, 0] == pytest.approx((window * weight[0, 0]).sum())
    assert convolution[0, 0, 0] == pytest.approx((window * weight[0, 0, ::-1, ::-1]).sum())


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("pads", [(1, 1, 2, 2), (0, 2, 3, 1), (2, 1, 0, 0)])
def test_padding_modes_build_what_torch_pads(mode, pads):
    """np.pad's constant / reflect / edge / wrap are torch's zeros / reflect / replicate / circular."""
    top, bottom, left, right = pads
    geometry = PaddedGeometry(PaddedAxis(4, top, bottom, 1, mode), PaddedAxis(5, left, right, 1, mode))
    x = np.random.default_rng(1).normal(size=(2, 4, 5))
    torch_mode = "constant" if mode == "zeros" else mode
    expected = F.pad(torch.from_numpy(x)[None], (left, right, top, bottom), mode=torch_mode)[0].numpy()
    assert geometry.padded_shape == expected.shape[1:]
    np.testing.assert_array_equal(geometry.build(x), expected)


def test_same_padding_with_an_even_kernel_pads_one_before_two_after():
    spec = ConvSpec(1, 1, 4, padding="same", padding_mode="replicate", bias=False)
    geometry = padded_geometry(spec, (6, 6))
    assert geometry.pads == (1, 2, 1, 2)
    x = np.random.default_rng(2).normal(size=(1, 6, 6))
    weight = np.random.default_rng(3).normal(size=(1, 1, 4, 4))
    assert_close(conv2d_reference(x, weight, None, spec), torch_conv(x, weight, None, spec))


@pytest.mark.parametrize(
    ("spec", "hw"),
    [
        (ConvSpec(3, 16, 3, padding=1, padding_mode="reflect"), (300, 300)),
        (ConvSpec(3, 16, 3, padding=1), (6, 1500)),  # rows wider than a block: split across columns
        (ConvSpec(4, 8, (3, 2), stride=2, dilation=2, padding=(2, 1), groups=2, padding_mode="circular"), (200, 200)),
        (ConvSpec(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, transposed=True), (120, 120)),
    ],
)
def test_large_inputs_match_torch_across_blocks(spec, hw):
    """Inputs this large split into many blocks of unrolled windows; every block must be right."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(spec.in_channels, *hw))
    weight = rng.normal(size=spec.weight_shape)
    bias = rng.normal(size=spec.out_channels)
    assert_close(conv2d_reference(x, weight, bias, spec), torch_conv(x, weight, bias, spec))


def test_integer_inputs_are_computed_in_float64():
    spec = ConvSpec(1, 1, 2, bias=False)
    out = conv2d_reference(np.ones((1, 3, 3), dtype=np.int64), np.ones((1, 1, 2, 2), dtype=np.int32), None, spec)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.full((1, 2, 2), 4.0))


@pytest.mark.parametrize(
    ("weight_shape", "bias_shape", "field"),
    [((2, 1, 3, 3), (2,), "weight"), ((2, 3, 3, 2), (2,), "weight"), ((2, 3, 3, 3), (3,), "bias")],
)
def test_operands_of_the_wrong_shape_are_named(weight_shape, bias_shape, field):
    spec = ConvSpec(3, 2, 3)
    with pytest.raises(ConvSpecError) as error:
        conv2d_reference(np.zeros((3, 5, 5)), np.zeros(weight_shape), np.zeros(bias_shape), spec)
    assert error.value.field == field
    assert str(error.value)


def test_settings_torch_refuses_raise_conv_spec_error():
    with pytest.raises(ConvSpecError):
        conv2d_reference(np.zeros((1, 2, 2)), np.zeros((1, 1, 3, 3)), None, ConvSpec(1, 1, 3))
    with pytest.raises(ConvSpecError) as error:
        conv2d_reference(np.zeros((2, 5, 5)), np.zeros((1, 1, 3, 3)), None, ConvSpec(1, 1, 3))
    assert error.value.field == "input"
