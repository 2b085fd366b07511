"""ConvSpec.output_shape against PyTorch itself, over random and wild settings.

The oracle builds nn.Conv2d / nn.ConvTranspose2d in float64 and runs it on a zero
tensor; any exception from torch, or an empty output, is a refusal.  convplay refuses a
little more than torch, on purpose (each case below says why):
- a bool where a number belongs: torch reads True as 1, convplay calls it a mistake;
- negative padding: torch refuses it for 'zeros', but for the other padding modes F.pad
  silently crops the input instead; convplay refuses it for every mode, as the issue asks;
- bias / transposed that are not bools (torch only tests their truth);
- a one-element sequence for stride, padding, dilation or output_padding: ATen stretches
  it to both axes, but not for kernel_size and not for padding with the non-zeros modes;
  convplay takes an int or a pair, everywhere.
"""

from __future__ import annotations


import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convplay.core import ConvSpec, ConvSpecError
from oracles import torch_output_shape

FIELDS = {"in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
          "groups", "padding_mode", "output_padding", "input", "bias", "transposed"}


def _contains_bool(value) -> bool:
    if isinstance(value, bool):
        return True
    return isinstance(value, (tuple, list)) and any(isinstance(v, bool) for v in value)


def _negative_padding(padding) -> bool:
    if isinstance(padding, int) and not isinstance(padding, bool):
        return padding < 0
    return (isinstance(padding, (tuple, list))
            and any(isinstance(v, int) and not isinstance(v, bool) and v < 0 for v in padding))


def convplay_refuses_on_purpose(spec: ConvSpec) -> bool:
    ints = (spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
            spec.dilation, spec.groups, spec.output_padding if spec.transposed else 0)
    return (any(_contains_bool(v) for v in ints)
            or any(isinstance(v, (tuple, list)) and len(v) == 1 for v in ints)
            or _negative_padding(spec.padding)
            or not isinstance(spec.bias, bool)
            or not isinstance(spec.transposed, bool))


def expected_shape(spec: ConvSpec, input_shape):
    if convplay_refuses_on_purpose(spec):
        return None
    return torch_output_shape(spec, input_shape)


def convplay_shape(spec: ConvSpec, input_shape):
    try:
        shape = spec.output_shape(input_shape)
    except ConvSpecError as error:
        assert error.field in FIELDS, error.field
        assert str(error)
        return None
    assert all(isinstance(n, int) for n in shape)
    return shape


small = st.integers(1, 4)
pair = st.tuples(small, small)
int_or_pair = st.one_of(small, pair)
wild_scalar = st.one_of(st.integers(-2, 0), st.booleans(), st.none(),
                        st.floats(-2, 4), st.just(float("nan")), st.text(max_size=3),
                        st.tuples(small, small, small), st.tuples(small),
                        st.lists(st.integers(-1, 3), max_size=3))


# numpy scalars and arrays reach a spec from loaded files; they must not slip past either
wild_anything = st.one_of(wild_scalar, st.just(np.array([1, 2])), st.just(np.int64(2)),
                          st.just(np.int64(-1)), st.just(np.bool_(True)), st.just(np.float64(2.0)))


@st.composite
def spec_and_input(draw, wild: bool):
    def pick(strategy):
        # one field in ten goes wild, so that each kind of wildness is met on its own
        if wild and draw(st.integers(0, 9)) == 0:
            return draw(wild_scalar)
        return draw(strategy)

    groups = pick(st.sampled_from([1, 1, 1, 2, 3]))
    g = groups if isinstance(groups, int) and not isinstance(groups, bool) and groups > 0 else 1
    # channels are mostly multiples of groups, so that groups errors are not the only ones.
    in_channels = pick(st.integers(1, 3).map(lambda n: n * g) | st.integers(1, 6))
    out_channels = pick(st.integers(1, 3).map(lambda n: n * g) | st.integers(1, 6))
    padding = pick(st.one_of(st.integers(0, 4), st.tuples(st.integers(0, 4), st.integers(0, 4)),
                             st.sampled_from(["same", "valid"])))
    transposed = pick(st.booleans())
    # a transposed conv refuses every mode but 'zeros': mostly give it that one
    modes = ["zeros"] * 6 + ["reflect", "replicate", "circular"] if transposed is True else \
        ["zeros", "reflect", "replicate", "circular"]
    spec = ConvSpec(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=pick(int_or_pair),
        stride=pick(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))),
        padding=padding,
        dilation=pick(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))),
        groups=groups,
        bias=pick(st.booleans()),
        padding_mode=pick(st.sampled_from(modes)),
        transposed=transposed,
        output_padding=pick(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)))),
    )
    c = draw(st.one_of(st.just(in_channels), st.just(in_channels), st.integers(1, 6)))
    if not (isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 12):
        c = 1
    side = st.one_of(st.integers(1, 4), st.integers(1, 12))  # small inputs meet the limits
    shape = (c, draw(side), draw(side))
    return spec, shape


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_and_input(wild=False))
def test_output_shape_matches_torch(case):
    spec, shape = case
    assert convplay_shape(spec, shape) == expected_shape(spec, shape)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_and_input(wild=True))
def test_wild_values_refused_exactly_when_torch_refuses(case):
    spec, shape = case
    assert convplay_shape(spec, shape) == expected_shape(spec, shape)


@settings(max_examples=200, deadline=None)
@given(st.builds(
    ConvSpec,
    in_channels=st.one_of(st.integers(-3, 5), wild_anything),
    out_channels=st.one_of(st.integers(-3, 5), wild_anything),
    kernel_size=st.one_of(int_or_pair, wild_anything),
    stride=st.one_of(int_or_pair, wild_anything),
    padding=st.one_of(int_or_pair, st.text(max_size=6), wild_anything),
    dilation=st.one_of(int_or_pair, wild_anything),
    groups=st.one_of(st.integers(-3, 5), wild_anything),
    bias=st.one_of(st.booleans(), wild_anything),
    padding_mode=st.one_of(st.text(max_size=9), wild_anything),
    transposed=st.one_of(st.booleans(), wild_anything),
    output_padding=st.one_of(int_or_pair, wild_anything),
), st.one_of(st.tuples(st.integers(-1, 9), st.integers(-1, 9), st.integers(-1, 9)),
             st.lists(st.integers(0, 5), max_size=4), wild_anything, st.none()))
def test_nothing_but_conv_spec_error_escapes(spec, input_shape):
    """Every public entry point either answers or raises ConvSpecError with a field."""
    for call in (lambda: spec.validate(), lambda: spec.validate(input_shape),
                 lambda: spec.is_valid(input_shape), lambda: spec.output_shape(input_shape),
                 lambda: spec.param_count(), lambda: spec.macs(input_shape),
                 lambda: spec.fc_param_count(input_shape), lambda: spec.receptive_field):
        try:
            call()
        except ConvSpecError as error:
            assert error.field in FIELDS


@settings(max_examples=150, deadline=None)
@given(spec_and_input(wild=False))
def test_weight_shape_and_param_count_match_torch(case):
    spec, shape = case
    if not spec.is_valid():
        return
    cls = torch.nn.ConvTranspose2d if spec.transposed else torch.nn.Conv2d
    kwargs = dict(stride=spec.stride, padding=spec.padding, dilation=spec.dilation,
                  groups=spec.groups, bias=spec.bias, padding_mode=spec.padding_mode)
    if spec.transposed:
        kwargs["output_padding"] = spec.output_padding
    module = cls(spec.in_channels, spec.out_channels, spec.kernel_size, **kwargs)
    assert spec.weight_shape == tuple(module.weight.shape)
    assert spec.param_count() == sum(p.numel() for p in module.parameters())
    assert spec.param_count(with_bias=False) == module.weight.numel()


def _max_dependency_span(spec: ConvSpec, input_shape) -> tuple[int, int]:
    """The widest input span any one output pixel depends on, as torch computes it."""
    cls = torch.nn.ConvTranspose2d if spec.transposed else torch.nn.Conv2d
    kwargs = dict(stride=spec.stride, padding=spec.padding, dilation=spec.dilation, bias=False)
    if spec.transposed:
        kwargs["output_padding"] = spec.output_padding
    module = cls(1, 1, spec.kernel_size, dtype=torch.float64, **kwargs)
    with torch.no_grad():
        module.weight.fill_(1.0)
    _, h, w = input_shape
    # the op is linear: stamping each input pixel alone (one batch) shows what it reaches
    impulses = torch.eye(h * w, dtype=torch.float64).reshape(h * w, 1, h, w)
    with torch.no_grad():
        reach = module(impulses)[:, 0] != 0  # (input pixel, H_out, W_out)
    index = torch.arange(h * w)
    spans = []
    for coordinate in (index // w, index % w):
        where = coordinate[:, None, None]
        highest = torch.where(reach, where, -1).amax(0)
        lowest = torch.where(reach, where, h * w).amin(0)
        spans.append(int((highest - lowest + 1)[reach.any(0)].max()))
    return (spans[0], spans[1])


@settings(max_examples=60, deadline=None)
@given(kernel=pair, stride=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)), transposed=st.booleans())
def test_receptive_field_is_the_widest_dependency(kernel, stride, dilation, transposed):
    spec = ConvSpec(kernel_size=kernel, stride=stride, dilation=dilation, transposed=transposed,
                    output_padding=(min(stride[0], dilation[0]) - 1, min(stride[1], dilation[1]) - 1)
                    if transposed else 0)
    # large enough that the widest window fits away from the borders
    assert spec.receptive_field == _max_dependency_span(spec, (1, 12, 12))


@pytest.mark.parametrize("transposed", [False, True])
def test_macs_count_every_product(transposed):
    spec = ConvSpec(4, 6, (3, 2), stride=2, padding=1, groups=2, transposed=transposed,
                    output_padding=1 if transposed else 0)
    c_out, h_out, w_out = spec.output_shape((4, 7, 9))
    if transposed:
        assert spec.macs((4, 7, 9)) == 4 * 7 * 9 * (6 // 2) * 3 * 2
    else:
        assert spec.macs((4, 7, 9)) == c_out * h_out * w_out * (4 // 2) * 3 * 2
