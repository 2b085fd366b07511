"""conv2d_reference against nn.Conv2d / nn.ConvTranspose2d in float64, over random specs.

``conv_cases`` and ``torch_conv`` are shared with test_walk.py, whose oracle is the
reference proven here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from convplay.core.padding import PaddedAxis, PaddedGeometry, padded_geometry
from convplay.core.reference import conv2d_reference
from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError

# torch warns (once per process) that 'same' with an even kernel copies the input.
SAME_PADDING_WARNING = "ignore:Using padding='same' with even kernel lengths:UserWarning"
pytestmark = pytest.mark.filterwarnings(SAME_PADDING_WARNING)

TOLERANCE = 1e-9


def _hw(value) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def _int_or_pair(draw, low: int, high: int):
    """An int, or a pair that may differ per axis: PyTorch takes both."""
    a, b = draw(st.integers(low, high)), draw(st.integers(low, high))
    return a if a == b and draw(st.booleans()) else (a, b)


@st.composite
def conv_cases(draw, transposed: bool | None = None, max_extra: int = 6):
    """(spec, x, weight, bias) that output_shape accepts: random channels, groups,
    non-square kernels, stride, dilation, padding (incl. 'same'/'valid') and every mode."""
    if transposed is None:
        transposed = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 3))
    kernel = _int_or_pair(draw, 1, 4)
    stride = 1 if draw(st.booleans()) else _int_or_pair(draw, 1, 3)  # stride 1 allows 'same'
    dilation = _int_or_pair(draw, 1, 3)
    if transposed:
        padding_mode = "zeros"
        padding = _int_or_pair(draw, 0, 3)
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(_hw(stride), _hw(dilation)))
    else:
        padding_mode = draw(st.sampled_from(PADDING_MODES))
        choices = [st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)), st.just("valid")]
        if _hw(stride) == (1, 1):
            choices.append(st.just("same"))
        padding = draw(st.one_of(choices))
        output_padding = 0
    spec = ConvSpec(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=padding_mode,
        transposed=transposed,
        output_padding=output_padding,
    )
    # Start at the smallest input that can fit the dilated kernel, so few draws are rejected.
    reach_h, reach_w = (1, 1) if transposed else spec.dilated_kernel_hw
    h = draw(st.integers(max(1, reach_h - 2), reach_h + max_extra))
    w = draw(st.integers(max(1, reach_w - 2), reach_w + max_extra))
    try:
        spec.output_shape((in_channels, h, w))
    except ConvSpecError:
        reject()
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(in_channels, h, w))
    weight = rng.normal(size=spec.weight_shape)
    bias = rng.normal(size=out_channels) if spec.bias else None
    return spec, x, weight, bias


def torch_conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, spec: ConvSpec) -> np.ndarray:
    """The oracle: PyTorch's own module for ``spec``, in float64."""
    common = dict(
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
        kernel_size=spec.kernel_size,
        stride=spec.stride,
        padding=spec.padding,
        dilation=spec.dilation,
        groups=spec.groups,
        bias=bias is not None,
        padding_mode=spec.padding_mode,
        dtype=torch.float64,
    )
    if spec.transposed:
        module = torch.nn.ConvTranspose2d(output_padding=spec.output_padding, **common)
    else:
        module = torch.nn.Conv2d(**common)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weight))
        if bias is not None:
            module.bias.copy_(torch.from_numpy(bias))
        return module(torch.from_numpy(x)[None])[0].numpy()


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
