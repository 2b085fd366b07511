"""The four transposed views (scatter, gather, zero insertion, Cᵀx) against
F.conv_transpose2d / nn.ConvTranspose2d, in float64, and the guide's zero-insertion numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings

from convplay.core.spec import ConvSpec, ConvSpecError
from convplay.core.transposed_views import VIEW_NAMES, four_views, zero_insertion_axes
from oracles import torch_conv
from strategies import conv_cases

TOLERANCE = 1e-9


def assert_views_equal_torch(spec, x, weight, bias):
    views = four_views(spec, x, weight, bias)
    expected = torch_conv(x, weight, bias, spec)
    outputs = views.outputs()
    assert tuple(outputs) == VIEW_NAMES
    for name, out in outputs.items():
        assert out.shape == expected.shape, name
        np.testing.assert_allclose(out, expected, rtol=0, atol=TOLERANCE, err_msg=name)
    assert views.largest_disagreement() < TOLERANCE
    return views


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_cases(transposed=True))
def test_four_views_equal_conv_transpose2d(case):
    assert_views_equal_torch(*case)


@pytest.mark.parametrize(
    ("stride", "dilation", "output_padding", "padding"),
    [
        (1, 2, 1, 0),  # output_padding ≥ stride, allowed by the dilation
        (2, 3, 2, 1),
        ((1, 2), (3, 1), (2, 0), (0, 1)),
        (2, 1, 1, 3),  # padding > d(k − 1): the zero-inserted input is cropped
        (3, 1, 0, 4),
        ((2, 3), (1, 2), (1, 2), (4, 5)),
    ],
)
def test_output_padding_and_crop_cases_with_groups(stride, dilation, output_padding, padding):
    spec = ConvSpec(4, 6, 3, stride=stride, padding=padding, dilation=dilation, groups=2,
                    output_padding=output_padding, transposed=True)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 4, 5))
    views = assert_views_equal_torch(spec, x, rng.normal(size=spec.weight_shape), rng.normal(size=6))
    rows, cols = views.axes
    assert views.stretched_input.shape[1:] == (rows.padded, cols.padded)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(conv_cases(transposed=True))
def test_the_stretched_input_convolved_with_the_flipped_kernel_is_the_transposed_convolution(case):
    """The zero-insertion picture as torch computes it: a stride-1 conv2d of the stretched,
    padded input with the kernel flipped and its channel axes swapped within each group."""
    spec, x, weight, bias = case
    views = four_views(spec, x, weight, bias)
    g = spec.groups
    c_in, per_group_out, kh, kw = weight.shape
    w = torch.from_numpy(weight).reshape(g, c_in // g, per_group_out, kh, kw).transpose(1, 2)
    w = w.reshape(g * per_group_out, c_in // g, kh, kw).flip(2, 3)
    out = F.conv2d(torch.from_numpy(views.stretched_input)[None], w, None if bias is None else torch.from_numpy(bias),
                   stride=1, dilation=spec.dilation, groups=g)[0].numpy()
    expected = torch_conv(x, weight, bias, spec)
    # Output padding ≥ stride leaves the stretched input a little longer than the output needs.
    np.testing.assert_allclose(out[:, :expected.shape[1], :expected.shape[2]], expected, rtol=0, atol=TOLERANCE)
    rows, cols = views.axes
    assert (rows.output, cols.output) == expected.shape[1:]


def test_the_stretched_input_holds_x_s_apart_with_zeros_between():
    spec = ConvSpec(1, 1, 3, stride=2, padding=1, output_padding=1, transposed=True)
    x = np.arange(1.0, 10.0).reshape(1, 3, 3)
    views = four_views(spec, x, np.ones((1, 1, 3, 3)), None)
    stretched = views.stretched_input[0]
    assert stretched.shape == (1 + 5 + 1 + 1, 1 + 5 + 1 + 1)  # p′ + ĩ′ + p′ + a
    np.testing.assert_array_equal(stretched[1:6:2, 1:6:2], x[0])
    assert np.count_nonzero(stretched) == 9


def test_the_guides_axes_for_i3_k3_s2_p1_a1():
    spec = ConvSpec(1, 1, 3, stride=2, padding=1, output_padding=1, transposed=True)
    rows, cols = zero_insertion_axes(spec, (3, 3))
    for axis in (rows, cols):
        assert (axis.i, axis.k, axis.s, axis.p, axis.a) == (3, 3, 2, 1, 1)
        assert axis.stretched == 5
        assert axis.p_prime == 1
        assert axis.output == 6
        text = "\n".join(axis.lines())
        assert "i′ = 3" in text
        assert "ĩ′ = (i′ − 1)·s + 1 = (3 − 1)·2 + 1 = 5" in text
        assert "p′ = (k − 1) − p = (3 − 1) − 1 = 1" in text
        assert "a = 1" in text
        assert text.splitlines()[-1].endswith("= 6")
        assert "crop" not in text


def test_relationship_14_a_stride_2_conv_of_6_and_its_transpose():
    """The guide's relationship 14: i = 6, k = 3, s = 2, p = 1 gives 3; the transposed
    convolution with output_padding 1 takes those 3 back to 6."""
    direct = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False, dtype=torch.float64)
    assert direct(torch.zeros(1, 1, 6, 6, dtype=torch.float64)).shape[2:] == (3, 3)
    spec = ConvSpec(1, 1, 3, stride=2, padding=1, output_padding=1, transposed=True, bias=False)
    rng = np.random.default_rng(14)
    x, weight = rng.normal(size=(1, 3, 3)), rng.normal(size=(1, 1, 3, 3))
    views = assert_views_equal_torch(spec, x, weight, None)
    assert views.scatter.shape == (1, 6, 6)
    assert [a.output for a in views.axes] == [6, 6]
    # Without output_padding the same transposed convolution gives 5: two sizes map to 3.
    assert torch_conv(x, weight, None, spec.replace(output_padding=0)).shape == (1, 5, 5)


def test_a_crop_says_so():
    spec = ConvSpec(1, 1, 2, stride=2, padding=2, transposed=True)
    rows, _ = zero_insertion_axes(spec, (4, 4))
    assert rows.p_prime == -1
    assert "(a crop)" in rows.lines()[2]
    rng = np.random.default_rng(3)
    assert_views_equal_torch(spec, rng.normal(size=(1, 4, 4)), rng.normal(size=(1, 1, 2, 2)), rng.normal(size=1))


def test_a_direct_spec_is_refused():
    spec = ConvSpec(1, 1, 3)
    with pytest.raises(ConvSpecError) as error:
        four_views(spec, np.zeros((1, 5, 5)), np.zeros((1, 1, 3, 3)), None)
    assert error.value.field == "transposed"
    with pytest.raises(ConvSpecError):
        zero_insertion_axes(spec, (5, 5))


def test_a_wrong_weight_is_refused():
    spec = ConvSpec(2, 3, 3, transposed=True)
    with pytest.raises(ConvSpecError) as error:
        four_views(spec, np.zeros((2, 4, 4)), np.zeros((3, 2, 3, 3)), None)
    assert error.value.field == "weight"
