"""Each refusal PyTorch makes, one by one: the field convplay marks and its words.

Every case is also run through torch, so the table cannot drift from what torch does.
"""

from __future__ import annotations

import pytest

from convplay.core import ConvSpec, ConvSpecError
from oracles import torch_output_shape

S = ConvSpec  # the tables read better short

REFUSED_LIKE_TORCH = [
    # (spec, input shape, field, words in the message)
    (S(in_channels=3, out_channels=4, groups=2), (3, 5, 5), "groups", "in_channels must be divisible by groups"),
    (S(in_channels=4, out_channels=3, groups=2), (4, 5, 5), "groups", "out_channels must be divisible by groups"),
    (S(groups=0), (1, 5, 5), "groups", "at least 1"),
    (S(groups=-1), (1, 5, 5), "groups", "at least 1"),
    (S(in_channels=0), (0, 5, 5), "in_channels", "at least 1"),
    (S(out_channels=0), (1, 5, 5), "out_channels", "at least 1"),
    (S(kernel_size=0), (1, 5, 5), "kernel_size", "at least 1"),
    (S(kernel_size=(0, 3)), (1, 5, 5), "kernel_size", "(0, 3)"),
    (S(kernel_size=-1), (1, 5, 5), "kernel_size", "at least 1"),
    (S(stride=0), (1, 5, 5), "stride", "at least 1"),
    (S(dilation=0), (1, 5, 5), "dilation", "at least 1"),
    (S(padding=-1), (1, 5, 5), "padding", "negative padding"),
    (S(padding=(1, -1)), (1, 5, 5), "padding", "negative padding"),
    (S(kernel_size=3), (1, 2, 5), "kernel_size", "can't be greater than the padded input"),
    (S(kernel_size=3, padding="valid"), (1, 5, 2), "kernel_size", "width axis"),
    (S(kernel_size=2, dilation=3), (1, 3, 5), "dilation", "dilated by 3 spans 4 pixels"),
    (S(kernel_size=4, dilation=3), (1, 3, 5), "kernel_size", "dilated by 3"),
    (S(kernel_size=(1, 5), padding=(1, 0), padding_mode="replicate"), (1, 5, 3), "kernel_size", "padded input"),
    (S(padding="same", stride=2), (1, 5, 5), "padding", "not supported for strided"),
    (S(padding="same", stride=(1, 2)), (1, 5, 5), "padding", "strided"),
    (S(padding="full"), (1, 5, 5), "padding", "'same' or 'valid'"),
    (S(padding=2, padding_mode="reflect"), (1, 2, 5), "padding", "reflect padding must be smaller"),
    (S(kernel_size=1, padding=1, padding_mode="reflect"), (1, 1, 5), "padding", "only 1 pixel high"),
    (S(padding=(0, 5), padding_mode="reflect"), (1, 5, 5), "padding", "width axis"),
    (S(kernel_size=5, padding="same", padding_mode="reflect"), (1, 2, 5), "padding", "reflect"),
    (S(padding=3, padding_mode="circular"), (1, 2, 5), "padding", "wrap around at most once"),
    (S(kernel_size=8, padding="same", padding_mode="circular"), (1, 3, 5), "padding", "padding 4"),
    (S(padding_mode="foo"), (1, 5, 5), "padding_mode", "'zeros', 'reflect', 'replicate', 'circular'"),
    (S(), (2, 5, 5), "input", "the input has 2 channels but in_channels is 1"),
    (S(), (1, 0, 5), "input", "at least one channel, row and column"),
    (S(in_channels=0), (0, 5, 5), "in_channels", "at least 1"),
    (S(kernel_size=2.5), (1, 5, 5), "kernel_size", "int or a pair"),
    (S(kernel_size=None), (1, 5, 5), "kernel_size", "None"),
    (S(kernel_size=(3, 3, 3)), (1, 5, 5), "kernel_size", "(3, 3, 3)"),
    (S(stride=1.0), (1, 5, 5), "stride", "1.0"),
    (S(padding=1.0), (1, 5, 5), "padding", "1.0"),
    (S(groups=1.0), (1, 5, 5), "groups", "whole number"),
    # transposed
    (S(stride=2, output_padding=2, transposed=True), (1, 5, 5), "output_padding",
     "smaller than either stride or dilation"),
    (S(stride=2, dilation=2, output_padding=2, transposed=True), (1, 5, 5), "output_padding", "height"),
    (S(output_padding=-1, transposed=True), (1, 5, 5), "output_padding", "negative output_padding"),
    (S(output_padding=1.0, stride=2, transposed=True), (1, 5, 5), "output_padding", "1.0"),
    (S(padding_mode="reflect", transposed=True), (1, 5, 5), "padding_mode", "only 'zeros'"),
    (S(padding="same", transposed=True), (1, 5, 5), "padding", "takes a number"),
    (S(padding="valid", transposed=True), (1, 5, 5), "padding", "takes a number"),
    (S(padding=-1, transposed=True), (1, 5, 5), "padding", "negative padding"),
    (S(padding=3, transposed=True), (1, 3, 5), "padding", "output size is too small"),
    (S(kernel_size=1, padding=1, transposed=True), (1, 2, 5), "padding", "would give 0"),
    (S(in_channels=4, out_channels=6, groups=4, transposed=True), (4, 5, 5), "groups", "out_channels"),
    (S(transposed=True), (2, 5, 5), "input", "in_channels is 1"),
]


@pytest.mark.parametrize("spec, shape, field, words", REFUSED_LIKE_TORCH)
def test_refused_with_field_and_words_as_torch_refuses(spec, shape, field, words):
    assert torch_output_shape(spec, shape) is None, "torch accepts this: the table is wrong"
    with pytest.raises(ConvSpecError) as caught:
        spec.output_shape(shape)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert not spec.is_valid(shape)


ACCEPTED_AT_THE_EDGE = [
    (S(padding=1, padding_mode="reflect"), (1, 2, 5), (1, 2, 5)),  # reflect: pad = size - 1
    (S(padding=2, padding_mode="circular"), (1, 2, 5), (1, 4, 7)),  # circular: pad = size
    (S(kernel_size=1, padding=1, padding_mode="circular"), (1, 1, 5), (1, 3, 7)),
    (S(padding=10, padding_mode="replicate"), (1, 2, 5), (1, 20, 23)),  # replicate: no limit
    (S(kernel_size=4, padding="same", padding_mode="reflect"), (1, 3, 5), (1, 3, 5)),  # pads 1, 2
    (S(kernel_size=7, padding="same", padding_mode="circular"), (1, 3, 5), (1, 3, 5)),
    (S(kernel_size=9, padding="same"), (1, 3, 5), (1, 3, 5)),  # zeros: 'same' never too small
    (S(kernel_size=2, dilation=2, padding="same", padding_mode="reflect"), (1, 2, 5), (1, 2, 5)),
    (S(kernel_size=3), (1, 3, 3), (1, 1, 1)),  # kernel exactly the input
    (S(padding=[1, 2]), (1, 5, 5), (1, 5, 7)),  # a list works as a pair
    (S(stride=2, output_padding=1, transposed=True), (1, 5, 5), (1, 12, 12)),
    (S(dilation=2, output_padding=1, transposed=True), (1, 5, 5), (1, 10, 10)),  # op < dilation
    (S(kernel_size=1, padding=1, transposed=True), (1, 3, 5), (1, 1, 3)),  # output exactly 1
    (S(padding=3, transposed=True), (1, 5, 5), (1, 1, 1)),
    (S(in_channels=4, out_channels=6, groups=2, transposed=True), (4, 5, 5), (6, 7, 7)),
]


@pytest.mark.parametrize("spec, shape, expected", ACCEPTED_AT_THE_EDGE)
def test_accepted_at_the_edge_as_torch_accepts(spec, shape, expected):
    assert torch_output_shape(spec, shape) == expected
    assert spec.output_shape(shape) == expected
    spec.validate()
    spec.validate(shape)
    assert spec.is_valid(shape)


REFUSED_ON_PURPOSE = [
    # torch reads True as 1; here it is a mistake
    (S(kernel_size=True), "kernel_size"),
    (S(in_channels=True), "in_channels"),
    # torch crops with negative pads for the non-zeros modes (F.pad); here it is refused
    (S(padding=-1, padding_mode="reflect"), "padding"),
    (S(padding=-1, padding_mode="replicate"), "padding"),
    (S(padding=-1, padding_mode="circular"), "padding"),
    # ATen stretches a one-element sequence to both axes (not for kernel_size, nor for
    # padding with the non-zeros modes); here a value is an int or a pair
    (S(padding=(1,)), "padding"),
    (S(stride=[2]), "stride"),
    (S(dilation=(2,)), "dilation"),
    (S(transposed=True, stride=2, output_padding=(1,)), "output_padding"),
    # torch only tests these for truth
    (S(bias="yes"), "bias"),
    (S(transposed=1), "transposed"),
]


@pytest.mark.parametrize("spec, field", REFUSED_ON_PURPOSE)
def test_refused_where_torch_is_lenient(spec, field):
    assert torch_output_shape(spec, (1, 5, 5)) is not None
    with pytest.raises(ConvSpecError) as caught:
        spec.validate()
    assert caught.value.field == field


def test_validate_without_input_checks_only_the_settings():
    spec = S(kernel_size=9)
    spec.validate()  # fine until an input is too small
    with pytest.raises(ConvSpecError, match="padded input"):
        spec.validate((1, 5, 5))
    with pytest.raises(ConvSpecError) as caught:
        S(groups=2).validate()
    assert caught.value.field == "groups"


def test_output_padding_is_ignored_unless_transposed():
    assert S(output_padding=7).output_shape((1, 5, 5)) == (1, 3, 3)


def test_axis_output_size_checks_one_axis():
    spec = S(kernel_size=(3, 9))
    assert spec.axis_output_size(0, 8) == 6
    with pytest.raises(ConvSpecError) as caught:
        spec.axis_output_size(1, 6)
    assert caught.value.field == "kernel_size"
    for axis, size in ((2, 5), (0, 0), (1, None)):
        with pytest.raises(ConvSpecError):
            spec.axis_output_size(axis, size)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_negative_padding_that_pytorch_would_crop_is_refused_with_what_pytorch_would_do(mode):
    import torch

    spec = S(kernel_size=3, padding=(-1, -2), padding_mode=mode)
    module = torch.nn.Conv2d(1, 1, 3, padding=(-1, -2), padding_mode=mode)
    assert tuple(module(torch.zeros(1, 1, 9, 9)).shape[2:]) == (5, 3)  # PyTorch crops, then convolves
    with pytest.raises(ConvSpecError) as refused:
        spec.output_shape((1, 9, 9))
    assert refused.value.field == "padding"
    text = str(refused.value)
    assert f"padding_mode='{mode}'" in text and "crop (1, 2) from each side" in text and "padding 0" in text


@pytest.mark.parametrize("c_in, c_out, groups, transposed", [(3, 4, 2, False), (4, 3, 2, False), (1, 2, 2, True),
                                                             (2, 3, 2, True)])
def test_there_is_no_weight_shape_where_groups_do_not_divide(c_in, c_out, groups, transposed):
    import torch

    module = torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d
    with pytest.raises(ValueError, match="divisible by groups"):
        module(c_in, c_out, 3, groups=groups)  # PyTorch has no weight for it either
    spec = S(in_channels=c_in, out_channels=c_out, groups=groups, transposed=transposed)
    with pytest.raises(ConvSpecError) as refused:
        spec.weight_shape
    assert refused.value.field == "groups" and "divisible by groups" in str(refused.value)
