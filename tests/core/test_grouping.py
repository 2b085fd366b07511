"""The group model: which input channels feed which output channels, checked against
PyTorch's own grouping (nn.Conv2d / nn.ConvTranspose2d built from the spec's arguments)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import torch_module

from convplay.core.grouping import MAX_BOXES, GroupModel, Slot, build_model, choose_slots
from convplay.core.spec import ConvSpec


def feeds_by_torch(spec: ConvSpec) -> np.ndarray:
    """feeds[i, o]: whether input channel i reaches output channel o, found by running the
    spec's PyTorch layer (1x1 kernel, all-ones weights, no bias) on one-hot inputs."""
    pointwise = spec.replace(kernel_size=1, stride=1, padding=0, dilation=1, output_padding=0,
                             padding_mode="zeros")
    module = torch_module(pointwise, bias=False)
    eye = torch.eye(spec.in_channels, dtype=torch.float64).reshape(spec.in_channels, spec.in_channels, 1, 1)
    with torch.no_grad():
        module.weight.fill_(1.0)
        out = module(eye)  # batch b = one-hot input channel b
    return out[:, :, 0, 0].numpy() != 0


def _check_against_torch(model: GroupModel, spec: ConvSpec) -> None:
    feeds = feeds_by_torch(spec)
    for slots, n in ((model.inputs, spec.in_channels), (model.outputs, spec.out_channels)):
        assert len(slots) <= MAX_BOXES
        assert [s.first for s in slots] == [0] + [s.last + 1 for s in slots[:-1]] and slots[-1].last == n - 1
        for s in slots:  # a slot names its group only when all its channels share it
            per = n // spec.groups
            assert (s.group is not None) == (s.first // per == s.last // per)
    assert sum(s.holds(model.current_out) and not s.is_ellipsis for s in model.outputs) == 1
    links = {(link.source, link.target): link for link in model.links}
    for a, src in enumerate(model.inputs):
        for b, dst in enumerate(model.outputs):
            block = feeds[src.first : src.last + 1, dst.first : dst.last + 1]
            assert ((a, b) in links) == bool(block.any())
            if (a, b) in links:
                hot = dst.holds(model.current_out) and feeds[src.first : src.last + 1, model.current_out].any()
                assert links[(a, b)].highlighted == hot
    assert list(np.flatnonzero(feeds[:, model.current_out])) == list(model.read_by(model.current_out))


@pytest.mark.parametrize(
    ("spec", "current", "n_links", "reads"),
    [
        (ConvSpec(in_channels=3, out_channels=4), 2, 12, [0, 1, 2]),  # groups=1: all to all
        (ConvSpec(in_channels=6, out_channels=4, groups=2), 3, 12, [3, 4, 5]),
        (ConvSpec(in_channels=6, out_channels=6, groups=3), 1, 12, [0, 1]),
        (ConvSpec(in_channels=3, out_channels=3, groups=3), 2, 3, [2]),  # depthwise
        (ConvSpec(in_channels=3, out_channels=6, groups=3), 4, 6, [2]),  # depthwise, multiplier 2
        (ConvSpec(in_channels=4, out_channels=6, groups=2, transposed=True), 5, 12, [2, 3]),
        (ConvSpec(in_channels=2, out_channels=2, groups=2, transposed=True), 0, 2, [0]),
    ],
)
def test_links_and_highlights_match_the_weight_shape(spec, current, n_links, reads):
    model = build_model(spec, current)
    _check_against_torch(model, spec)
    assert len(model.links) == n_links and not any(s.is_ellipsis for s in (*model.inputs, *model.outputs))
    hot = sorted(model.inputs[link.source].first for link in model.links if link.highlighted)
    assert hot == reads
    assert all(model.outputs[link.target].first == current for link in model.links if link.highlighted)
    # Each output reads in/groups inputs: the weight's second axis (first, transposed, per group).
    assert len(reads) == spec.in_channels // spec.groups
    assert f"groups={spec.groups}" in model.caption


def test_captions_say_what_each_channel_reads():
    assert build_model(ConvSpec(in_channels=6, out_channels=4, groups=2), 0).caption.startswith(
        "groups=2: each output channel reads 3 of the 6 input channels")
    assert "reads all 3 input channels" in build_model(ConvSpec(in_channels=3, out_channels=4)).caption
    assert "(depthwise)" in build_model(ConvSpec(in_channels=3, out_channels=3, groups=3)).caption
    transposed = build_model(ConvSpec(in_channels=4, out_channels=6, groups=2, transposed=True), 4).caption
    assert "each input channel feeds 3 of the 6 output channels" in transposed and "Output 4 reads inputs 2\u20133" in transposed


def test_64_channels_are_capped_with_ellipses_and_the_current_channel_kept():
    spec = ConvSpec(in_channels=64, out_channels=64)
    model = build_model(spec, 37)
    _check_against_torch(model, spec)
    assert len(model.inputs) == len(model.outputs) == MAX_BOXES
    assert any(s.is_ellipsis for s in model.inputs) and any(s.is_ellipsis for s in model.outputs)
    assert sum(link.highlighted for link in model.links) == MAX_BOXES  # every input box into output 37
    assert len(model.links) == MAX_BOXES**2
    depthwise = ConvSpec(in_channels=64, out_channels=64, groups=64)
    model = build_model(depthwise, 37)
    _check_against_torch(model, depthwise)
    hot = [(model.inputs[link.source].label(), model.outputs[link.target].label()) for link in model.links if link.highlighted]
    assert hot == [("37", "37")]
    # Few groups: every group's first and last channel get a box, so no ellipsis spans two groups.
    grouped = ConvSpec(in_channels=64, out_channels=128, groups=4)
    model = build_model(grouped, 70)
    _check_against_torch(model, grouped)
    assert all(s.group is not None for s in (*model.inputs, *model.outputs))


@settings(max_examples=150, deadline=None)
@given(ipg=st.integers(1, 6), opg=st.integers(1, 6), groups=st.integers(1, 12), transposed=st.booleans(),
       where=st.floats(0, 1), stamping=st.floats(0, 1))
def test_any_grouping_draws_exactly_pytorchs_connections(ipg, opg, groups, transposed, where, stamping):
    spec = ConvSpec(in_channels=ipg * groups, out_channels=opg * groups, groups=groups, transposed=transposed)
    current = min(int(where * spec.out_channels), spec.out_channels - 1)
    current_in = min(int(stamping * spec.in_channels), spec.in_channels - 1) if transposed else None
    model = build_model(spec, current, current_in)
    _check_against_torch(model, spec)
    if current_in is not None:
        assert any(s.holds(current_in) and not s.is_ellipsis for s in model.inputs)


@pytest.mark.parametrize("spec", [
    ConvSpec(in_channels=6, out_channels=4, groups=4),  # does not divide the inputs
    ConvSpec(in_channels=4, out_channels=6, groups=4),  # nor the outputs
    ConvSpec(in_channels=4, groups=0),
    ConvSpec(in_channels=4, groups="2"),
    ConvSpec(in_channels=True, out_channels=2),
    ConvSpec(in_channels=-3),
])
def test_invalid_groupings_give_no_model(spec):
    assert build_model(spec, 0) is None and build_model(spec, 99, 7) is None


def test_out_of_range_channels_are_clamped_or_dropped():
    spec = ConvSpec(in_channels=4, out_channels=6, groups=2, transposed=True)
    model = build_model(spec, 99, 17)
    assert model.current_out == 5 and model.current_in is None
    assert build_model(spec, -3).current_out == 0


def test_slots_cover_every_channel_once_with_the_current_ones_alone():
    slots = choose_slots(64, 64, [37], [], cap=MAX_BOXES)
    assert len(slots) <= MAX_BOXES and Slot(37, 37, 0) in slots
    covered = [c for s in slots for c in range(s.first, s.last + 1)]
    assert covered == list(range(64))
    assert [s.label() for s in choose_slots(3, 1, [0], [])] == ["0", "1", "2"]
    assert Slot(3, 60, None).label() == "3\u201360" and Slot(3, 60, None).is_ellipsis
