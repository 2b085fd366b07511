"""Kernel edits as pure functions: the weight shape a spec allows, centred resizing, the
selected-pair and all-pairs scopes (the per-filter axis of transposed weights), and
nn.Conv2d's initialisation; and, through the session, no edit raises or is lost in any
spec state, however refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.core import kernel_edits as edits
from convplay.core.kernel_edits import (
    ALL,
    SELECTED,
    centred_resize,
    filter_axis,
    kaiming_uniform,
    kernel_size_arg,
    usable_weight_shape,
)
from convplay.core.presets import get_preset
from convplay.core.session import Session
from convplay.core.spec import PADDING_MODES, ConvSpec

SOBEL = get_preset("sobel_x").weights


def test_usable_weight_shape_takes_every_part_the_spec_defines():
    assert usable_weight_shape(ConvSpec(3, 4, (5, 3)), (1, 1, 1, 1)) == (4, 3, 5, 3)
    assert usable_weight_shape(ConvSpec(4, 6, 3, groups=2, transposed=True), (1, 1, 1, 1)) == (4, 3, 3, 3)
    # refused for other reasons, the shape is still defined
    assert usable_weight_shape(ConvSpec(3, 2, 5, stride=2, padding="same"), (1, 1, 3, 3)) == (2, 3, 5, 5)
    # groups that do not divide: the channels stay as they were, the window follows
    assert usable_weight_shape(ConvSpec(1, 3, 5, groups=3), (3, 1, 3, 3)) == (3, 1, 5, 5)
    assert usable_weight_shape(ConvSpec(2, 2, 0), (2, 2, 3, 3)) == (2, 2, 3, 3)


def test_filter_axis_and_kernel_size_arg():
    assert filter_axis(False) == 0 and filter_axis(True) == 1
    assert kernel_size_arg(3, 3) == 3 and kernel_size_arg(3, 5) == (3, 5)


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 7), kw=st.integers(1, 7))
def test_centred_resize_round_trips_when_growing(h, w, kh, kw):
    weight = np.random.default_rng(h * 7 + w).random((2, 1, h, w))
    grown = centred_resize(weight, max(h, kh), max(w, kw))
    np.testing.assert_array_equal(centred_resize(grown, h, w), weight)
    assert grown.sum() == pytest.approx(weight.sum())


def test_a_preset_fills_the_selected_pair_or_all_pairs():
    weight = np.ones((2, 3, 1, 1))
    one = edits.with_kernel(weight, SOBEL, SELECTED, (1, 2))
    assert one.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(one[1, 2], SOBEL)
    assert one[0, 0, 1, 1] == 1 and one[0, 0].sum() == 1  # the others resized around their centre
    every = edits.with_kernel(weight, SOBEL, ALL, (0, 0))
    assert all(np.array_equal(every[a, b], SOBEL) for a in range(2) for b in range(3))
    with pytest.raises(ValueError, match="no channel pair"):
        edits.with_kernel(weight, SOBEL, SELECTED, (2, 0))


def test_normalise_per_filter_follows_the_transposed_layout():
    weight = np.ones((2, 3, 2, 2))  # conv: 2 filters of 3 inputs; transposed: 3 filters of 2 inputs
    conv = edits.normalise_weight(weight, ALL, (0, 0), transposed=False)
    assert [conv[o].sum() for o in range(2)] == pytest.approx([1, 1])
    transposed = edits.normalise_weight(weight, ALL, (0, 0), transposed=True)
    assert [transposed[:, o].sum() for o in range(3)] == pytest.approx([1, 1, 1])
    pair = edits.normalise_weight(weight, SELECTED, (1, 2), transposed=False)
    assert pair[1, 2].sum() == pytest.approx(1) and pair[0, 0].sum() == 4
    with pytest.raises(ValueError, match="sums to 0"):
        edits.normalise_weight(np.broadcast_to(SOBEL, (1, 1, 3, 3)), SELECTED, (0, 0), False)


def test_flip_transpose_clear_and_typed_values_leave_the_input_untouched():
    weight = np.arange(2 * 1 * 2 * 3, dtype=float).reshape(2, 1, 2, 3)
    weight.setflags(write=False)  # as the session hands it out
    np.testing.assert_array_equal(edits.flip_weight(weight, 3, SELECTED, (1, 0))[1, 0], weight[1, 0, :, ::-1])
    np.testing.assert_array_equal(edits.flip_weight(weight, 2, ALL, (0, 0)), weight[:, :, ::-1])
    transposed = edits.transpose_weight(weight, SELECTED, (0, 0))  # not square: every pair
    assert transposed.shape == (2, 1, 3, 2)
    np.testing.assert_array_equal(transposed[1, 0], weight[1, 0].T)
    square = np.arange(8, dtype=float).reshape(2, 1, 2, 2)
    only = edits.transpose_weight(square, SELECTED, (1, 0))
    np.testing.assert_array_equal(only[1, 0], square[1, 0].T)
    np.testing.assert_array_equal(only[0, 0], square[0, 0])
    assert not edits.cleared_weight(weight, ALL, (0, 0)).any()
    cleared = edits.cleared_weight(weight, SELECTED, (1, 0))
    assert not cleared[1].any() and np.array_equal(cleared[0], weight[0])
    assert edits.with_value(weight, (1, 0), 1, 2, -7.5)[1, 0, 1, 2] == -7.5


def test_kaiming_bound_is_torchs_own():
    """The bound itself, against nn.Conv2d's: torch's draws reach it, and so do ours."""
    torch = pytest.importorskip("torch")
    for spec in (
        ConvSpec(in_channels=4, out_channels=6, kernel_size=(3, 5), groups=2),
        ConvSpec(in_channels=4, out_channels=6, kernel_size=2, groups=2, transposed=True),
        ConvSpec(in_channels=3, out_channels=64, kernel_size=3),
    ):
        torch.manual_seed(0)
        cls = torch.nn.ConvTranspose2d if spec.transposed else torch.nn.Conv2d
        layer = cls(spec.in_channels, spec.out_channels, spec.kernel_hw, groups=spec.groups)
        # torch.nn.init's bound for this weight: gain(leaky_relu, a=sqrt(5)) * sqrt(3 / fan_in)
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(layer.weight)
        bound = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3.0 / fan_in)
        assert layer.weight.abs().max().item() <= bound
        weight, bias = kaiming_uniform(spec.weight_shape, spec.out_channels, np.random.default_rng(0))
        assert weight.shape == tuple(layer.weight.shape) and bias.shape == tuple(layer.bias.shape)
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        # the samples fill the interval: a bound too small (1/fan_in, say) cannot pass this
        assert np.abs(weight).max() > 0.9 * bound
        assert np.abs(weight).max() == pytest.approx(layer.weight.abs().max().item(), rel=0.15)


# -- no edit raises or is lost, in any spec state ------------------------------------------------
@st.composite
def any_spec(draw):
    """Settings a user can reach in the panels, refused ones included."""
    return ConvSpec(
        in_channels=draw(st.sampled_from((1, 3))),
        out_channels=draw(st.integers(1, 6)),
        kernel_size=(draw(st.integers(1, 5)), draw(st.integers(1, 5))),
        stride=draw(st.integers(1, 3)),
        padding=draw(st.sampled_from((0, 1, 4, "same", "valid"))),
        dilation=draw(st.integers(1, 3)),
        groups=draw(st.integers(1, 4)),
        padding_mode=draw(st.sampled_from(PADDING_MODES)),
        transposed=draw(st.booleans()),
        output_padding=draw(st.integers(0, 2)),
    )


EDITS = ("preset_selected", "preset_all", "random", "size", "normalise_all", "flip", "transpose", "clear")


@settings(max_examples=150, deadline=None)
@given(specs=st.lists(any_spec(), min_size=1, max_size=4), edit=st.sampled_from(EDITS),
       kh=st.integers(1, 5), kw=st.integers(1, 5))
def test_every_kernel_edit_applies_whatever_the_settings(specs, edit, kh, kw):
    session = Session(np.ones((1, 6, 6)))
    for spec in specs:  # settings come one after another, refused or not, as in the panels
        if spec.in_channels != session.image.shape[0]:
            session.set_image(np.ones((spec.in_channels, 6, 6)))
        session.set_spec(spec.replace(in_channels=session.image.shape[0]))
    weight, spec = session.weight, session.spec
    assert weight.shape == usable_weight_shape(spec, weight.shape)  # the session's invariant
    assert min(weight.shape) >= 1
    rng = np.random.default_rng(0)
    box = np.arange(kh * kw, dtype=float).reshape(kh, kw) + 1
    if edit == "preset_selected":
        new = edits.with_kernel(weight, box, SELECTED, (weight.shape[0] - 1, weight.shape[1] - 1))
        session.set_kernel(spec.replace(kernel_size=kernel_size_arg(kh, kw)), new, session.bias_values)
    elif edit == "preset_all":
        new = edits.with_kernel(weight, box, ALL, (0, 0))
        session.set_kernel(spec.replace(kernel_size=kernel_size_arg(kh, kw)), new, session.bias_values)
    elif edit == "random":
        new, bias = kaiming_uniform(weight.shape, len(session.bias_values), rng)
        session.set_kernel(spec, new, bias)
        assert np.abs(session.weight).max() > 0
    elif edit == "size":
        session.set_spec(spec.replace(kernel_size=kernel_size_arg(kh, kw)))
    elif edit == "normalise_all":
        session.set_weight(edits.normalise_weight(np.ones(weight.shape), ALL, (0, 0), bool(spec.transposed)))
    elif edit == "flip":
        session.set_weight(edits.flip_weight(weight, 3, ALL, (0, 0)))
    elif edit == "transpose":
        new = edits.transpose_weight(weight, ALL, (0, 0))
        session.set_kernel(spec.replace(kernel_size=kernel_size_arg(*new.shape[2:])), new, session.bias_values)
    else:
        session.set_weight(edits.cleared_weight(weight, ALL, (0, 0)))
    if edit.startswith("preset") or edit == "size":
        assert session.weight.shape[2:] == (kh, kw) == session.spec.kernel_hw  # not lost
    assert session.weight.shape == usable_weight_shape(session.spec, session.weight.shape)
    assert len(session.bias_values) == session.spec.out_channels
