"""The walk: every step's taps sum to the reference value; pads copy what torch pads copy.

The oracle for values is conv2d_reference (proven equal to PyTorch in test_reference.py)
and torch's F.pad for the padded cells.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convplay.core.animation import AnimationState
from convplay.core.padding import NO_SOURCE
from convplay.core.reference import conv2d_reference
from convplay.core.spec import ConvSpec
from convplay.core.walk import ConvWalk
from oracles import SAME_PADDING_WARNING, torch_conv
from strategies import conv_cases

pytestmark = pytest.mark.filterwarnings(SAME_PADDING_WARNING)

TOLERANCE = 1e-9
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def _sample_steps(data, walk: ConvWalk, n: int = 12) -> list[int]:
    """A few random steps plus the first and the last, where padding is most likely."""
    last = len(walk) - 1
    return [0, last] + [data.draw(st.integers(0, last)) for _ in range(n)]


def _stored_weight(walk: ConvWalk, weight: np.ndarray, step) -> np.ndarray:
    """The stored weight entries each tap claims to read (weight_ki, weight_kj)."""
    taps = step.taps
    if walk.spec.transposed:
        out_local = step.out_channel - step.group * (walk.spec.out_channels // walk.spec.groups)
        return weight[taps.in_channel, out_local, taps.weight_ki, taps.weight_kj]
    in_local = taps.in_channel - step.group * (walk.spec.in_channels // walk.spec.groups)
    return weight[step.out_channel, in_local, taps.weight_ki, taps.weight_kj]


@HYPOTHESIS
@given(conv_cases(), st.booleans(), st.data())
def test_every_step_sums_to_its_output_value(case, flip, data):
    spec, x, weight, bias = case
    walk = ConvWalk(x, weight, bias, spec, flip=flip)
    reference = conv2d_reference(x, weight, bias, spec, flip=flip)
    assert len(walk) == reference.size
    for k in _sample_steps(data, walk):
        step = walk.step(k)
        oc, i, j = walk.cell(k)
        assert (step.k, step.out_channel, step.position) == (k, oc, (i, j))
        taps = step.taps
        np.testing.assert_array_equal(taps.product, taps.value * taps.weight)
        per_channel = taps.product.reshape(step.taps_shape).sum(axis=(1, 2))
        np.testing.assert_allclose(step.partial_sums, per_channel, rtol=0, atol=TOLERANCE)
        expected_bias = 0.0 if bias is None else bias[oc]
        assert step.bias == expected_bias
        assert step.total == pytest.approx(step.partial_sums.sum() + step.bias, abs=TOLERANCE)
        assert step.total == pytest.approx(reference[oc, i, j], abs=TOLERANCE)
        np.testing.assert_array_equal(taps.weight, _stored_weight(walk, weight, step))
        np.testing.assert_array_equal(np.unique(taps.in_channel), step.in_channels)


@HYPOTHESIS
@given(conv_cases(transposed=False), st.data())
def test_padding_taps_copy_what_torch_pads_copy(case, data):
    spec, x, weight, bias = case
    walk = ConvWalk(x, weight, bias, spec)
    top, bottom, left, right = spec.pads()
    torch_mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    padded = F.pad(torch.from_numpy(x)[None], (left, right, top, bottom), mode=torch_mode)[0].numpy()
    assert walk.geometry.pads == (top, bottom, left, right)
    assert walk.geometry.padded_shape == padded.shape[1:]
    h, w = x.shape[1:]
    for k in _sample_steps(data, walk):
        step = walk.step(k)
        taps = step.taps
        (sh, sw), (dh, dw) = spec.stride_hw, spec.dilation_hw
        i, j = step.position
        assert step.window_origin == (i * sh, j * sw)
        np.testing.assert_array_equal(taps.padded_row, i * sh + taps.ki * dh)
        np.testing.assert_array_equal(taps.padded_col, j * sw + taps.kj * dw)
        np.testing.assert_array_equal(taps.value, padded[taps.in_channel, taps.padded_row, taps.padded_col])
        outside = (taps.padded_row < top) | (taps.padded_row >= top + h)
        outside |= (taps.padded_col < left) | (taps.padded_col >= left + w)
        np.testing.assert_array_equal(taps.on_pad, outside)
        copies = taps.source_row != NO_SOURCE
        if spec.padding_mode == "zeros":
            np.testing.assert_array_equal(copies, ~taps.on_pad)
            assert np.all(taps.value[taps.on_pad] == 0)
        else:
            assert copies.all()
        np.testing.assert_array_equal(copies, taps.source_col != NO_SOURCE)
        # Every real or copied pixel: the input value at the source is the padded value.
        sources = x[taps.in_channel[copies], taps.source_row[copies], taps.source_col[copies]]
        np.testing.assert_array_equal(sources, taps.value[copies])
        # Inside the input, the source is the pixel itself.
        inside = ~taps.on_pad
        np.testing.assert_array_equal(taps.source_row[inside], taps.padded_row[inside] - top)
        np.testing.assert_array_equal(taps.source_col[inside], taps.padded_col[inside] - left)


@HYPOTHESIS
@given(conv_cases(transposed=True), st.booleans(), st.data())
def test_transposed_gather_taps_are_the_scatter_stamps_that_reach_the_pixel(case, flip, data):
    spec, x, weight, bias = case
    walk = ConvWalk(x, weight, bias, spec, flip=flip)
    (sh, sw), (dh, dw) = spec.stride_hw, spec.dilation_hw
    top, _, left, _ = spec.pads()
    for k in _sample_steps(data, walk, n=6):
        step = walk.step(k)
        taps = step.taps
        real = ~taps.on_pad
        np.testing.assert_array_equal(real, taps.source_row != NO_SOURCE)
        assert np.all(taps.product[taps.on_pad] == 0)
        gathered = set()
        for c, r, col, wki, wkj in zip(
            taps.in_channel[real], taps.source_row[real], taps.source_col[real],
            taps.weight_ki[real], taps.weight_kj[real],
        ):
            assert (r * sh + (wki if not flip else spec.kernel_hw[0] - 1 - wki) * dh - top) == step.position[0]
            assert (col * sw + (wkj if not flip else spec.kernel_hw[1] - 1 - wkj) * dw - left) == step.position[1]
            gathered.add((int(c), int(r), int(col), int(wki), int(wkj)))
        stamped = set()
        for c in step.in_channels:
            for r in range(x.shape[1]):
                for col in range(x.shape[2]):
                    stamp = walk.scatter(int(c), r, col)
                    hit = (stamp.out_channel == step.out_channel) & (stamp.out_row == step.position[0])
                    hit &= stamp.out_col == step.position[1]
                    stamped |= {(int(c), r, col, int(a), int(b)) for a, b in zip(stamp.weight_ki[hit], stamp.weight_kj[hit])}
        assert gathered == stamped


@HYPOTHESIS
@given(conv_cases(transposed=True, max_extra=3), st.booleans())
def test_scatter_stamps_add_up_to_the_transposed_output(case, flip):
    spec, x, weight, bias = case
    walk = ConvWalk(x, weight, bias, spec, flip=flip)
    accumulated = np.zeros(walk.output_shape) if bias is None else np.tile(bias[:, None, None], (1, *walk.output_shape[1:]))
    kernel = weight[:, :, ::-1, ::-1] if flip else weight
    assert walk.scatter_count == x.size
    for k in range(walk.scatter_count):
        c, r, col = walk.scatter_pixel(k)
        stamp = walk.scatter(c, r, col)
        assert (stamp.in_channel, stamp.position, stamp.value) == (c, (r, col), x[c, r, col])
        out_local = stamp.out_channel - stamp.group * len(stamp.out_channels)
        np.testing.assert_array_equal(stamp.weight, kernel[c, out_local, stamp.ki, stamp.kj])
        np.testing.assert_array_equal(stamp.weight, weight[c, out_local, stamp.weight_ki, stamp.weight_kj])
        inside = stamp.inside
        np.add.at(accumulated, (stamp.out_channel[inside], stamp.out_row[inside], stamp.out_col[inside]), stamp.product[inside])
    np.testing.assert_allclose(accumulated, torch_conv(x, kernel.copy(), bias, spec), rtol=0, atol=TOLERANCE)


def test_scatter_of_a_stride_two_transposed_conv_crops_by_padding():
    """One pixel of a 3x3, stride 2, padding 1 transposed conv: its stamp's rim falls off the edge."""
    spec = ConvSpec(1, 2, 3, stride=2, padding=1, transposed=True, bias=False)
    x = np.arange(1.0, 10.0).reshape(1, 3, 3)
    weight = np.arange(18.0).reshape(1, 2, 3, 3)
    walk = ConvWalk(x, weight, None, spec)
    stamp = walk.scatter(0, 0, 0)
    assert walk.output_shape == (2, 5, 5)
    assert len(stamp.product) == 2 * 9
    np.testing.assert_array_equal(np.unique(stamp.out_channel), [0, 1])
    np.testing.assert_array_equal(stamp.out_row.reshape(2, 3, 3)[0, :, 0], [-1, 0, 1])
    np.testing.assert_array_equal(stamp.inside.reshape(2, 3, 3)[0], [[False] * 3, [False, True, True], [False, True, True]])
    np.testing.assert_array_equal(stamp.product, 1.0 * weight[0].ravel())


def test_scatter_belongs_to_transposed_convolutions():
    walk = ConvWalk(np.zeros((1, 4, 4)), np.zeros((1, 1, 3, 3)), None, ConvSpec(1, 1, 3))
    assert walk.scatter_count == 0
    with pytest.raises(ValueError, match="transposed"):
        walk.scatter(0, 0, 0)


def test_steps_are_numbered_like_the_animation():
    spec = ConvSpec(2, 3, (2, 3), stride=(1, 2), padding=1)
    walk = ConvWalk(np.ones((2, 6, 7)), np.ones(spec.weight_shape), np.zeros(3), spec)
    animation = AnimationState(walk.output_shape)
    assert len(walk) == animation.n_steps
    for k in (0, 1, 17, len(walk) - 1):
        assert walk.cell(k) == animation.cell(k)
        assert walk.index_of(*walk.cell(k)) == k


@pytest.mark.parametrize("k", [-1, "len"])
def test_steps_outside_the_walk_raise_index_error(k):
    walk = ConvWalk(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), None, ConvSpec(1, 1, 3))
    with pytest.raises(IndexError):
        walk.step(len(walk) if k == "len" else k)
    with pytest.raises(IndexError):
        walk.index_of(0, 2, 0)


def test_true_convolution_reads_the_weight_mirrored():
    spec = ConvSpec(1, 1, 3, bias=False)
    weight = np.arange(9.0).reshape(1, 1, 3, 3)
    step = ConvWalk(np.ones((1, 3, 3)), weight, None, spec, flip=True).step(0)
    np.testing.assert_array_equal(step.taps.ki, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(step.taps.weight_ki, [2, 2, 2, 1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(step.taps.weight, np.arange(9.0)[::-1])


def test_reflect_padding_names_the_pixel_each_pad_cell_copies():
    """The top-left window of a reflect-padded 4x4 input: the corner copies pixel (1, 1)."""
    spec = ConvSpec(1, 1, 3, padding=1, padding_mode="reflect", bias=False)
    x = np.arange(16.0).reshape(1, 4, 4)
    step = ConvWalk(x, np.ones((1, 1, 3, 3)), None, spec).step(0)
    rows = step.taps.source_row.reshape(3, 3)
    cols = step.taps.source_col.reshape(3, 3)
    np.testing.assert_array_equal(rows, [[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(cols, [[1, 0, 1], [1, 0, 1], [1, 0, 1]])
    np.testing.assert_array_equal(step.taps.on_pad.reshape(3, 3), [[1, 1, 1], [1, 0, 0], [1, 0, 0]])
    assert step.geometry.padded_shape == (6, 6)


def test_walk_over_a_megapixel_input_allocates_no_per_step_table():
    x = np.random.default_rng(0).normal(size=(3, 1024, 1024))
    spec = ConvSpec(3, 16, 5, padding=2, padding_mode="circular")
    weight = np.ones(spec.weight_shape)
    tracemalloc.start()
    try:
        walk = ConvWalk(x, weight, np.zeros(16), spec)
        for k in (0, len(walk) // 2, len(walk) - 1):
            walk.step(k)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(walk) == 16 * 1024 * 1024
    # One float64 per step would be 128 MiB; the input itself is 24 MiB.  Allow 1 MiB.
    assert peak < 1 << 20


def test_a_caller_cannot_corrupt_the_tap_grid_shared_by_every_step():
    walk = ConvWalk(np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), None, ConvSpec(1, 1, 3))
    taps = walk.step(0).taps
    with pytest.raises(ValueError):
        taps.ki[0] = 5
    np.testing.assert_array_equal(walk.step(1).taps.ki, [0, 0, 0, 1, 1, 1, 2, 2, 2])
