"""The output-size formula: exact renderings, and its numbers agree with output_shape."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import torch_module

from convplay.core import AxisFormula, ConvSpec, ConvSpecError, output_size_formula
from convplay.core.formula import weight_shape_of


def test_issue_example_renders_exactly():
    h, w = output_size_formula(ConvSpec(kernel_size=3, padding=1), (1, 28, 28))
    assert h.numeric == "H_out = ⌊(28 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = 28"
    assert h.symbolic == "H_out = ⌊(H_in + 2·p − d·(k−1) − 1) / s⌋ + 1"
    assert w.numeric == "W_out = ⌊(28 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = 28"
    assert (h.axis, h.result, h.value, h.remainder, h.error) == ("H", 28, 28, 0, "")
    assert h.valid and h.text() == h.numeric


def test_same_with_even_kernel_shows_one_before_two_after():
    h, w = output_size_formula(ConvSpec(kernel_size=4, padding="same"), (1, 28, 28))
    assert h.symbolic == "H_out = ⌊(H_in + pad_top + pad_bottom − d·(k−1) − 1) / s⌋ + 1"
    assert h.numeric == "H_out = ⌊(28 + 1 + 2 − 1·(4−1) − 1) / 1⌋ + 1 = 28"
    assert w.symbolic == "W_out = ⌊(W_in + pad_left + pad_right − d·(k−1) − 1) / s⌋ + 1"


def test_transposed_formula_with_numbers():
    spec = ConvSpec(kernel_size=3, stride=2, padding=1, output_padding=1, transposed=True)
    h, _ = output_size_formula(spec, (1, 5, 5))
    assert h.symbolic == "H_out = (H_in−1)·s − 2·p + d·(k−1) + output_padding + 1"
    assert h.numeric == "H_out = (5−1)·2 − 2·1 + 1·(3−1) + 1 + 1 = 10"
    assert h.result == 10 and h.remainder == 0


def test_seed_000_strided_example():
    h, _ = output_size_formula(ConvSpec(3, 64, 5, stride=2, padding=2), (3, 224, 224))
    assert h.numeric == "H_out = ⌊(224 + 2·2 − 1·(5−1) − 1) / 2⌋ + 1 = 112"
    assert h.remainder == 1
    assert h.remainder_note == ("the floor drops a remainder of 1: the last 1 row of the padded "
                                "input is never under the kernel (only padding: no input is lost)")


def test_remainder_says_when_real_rows_are_skipped():
    h, w = output_size_formula(ConvSpec(kernel_size=3, stride=3), (1, 8, 9))
    assert (h.remainder, w.remainder) == (2, 0)
    assert "2 rows of the padded input are never under the kernel (real input, never used)" in h.text()
    assert w.remainder_note == ""


def test_impossible_kernel_still_shows_numbers_and_reason():
    h, w = output_size_formula(ConvSpec(kernel_size=(3, 9)), (1, 8, 6))
    assert h.valid and h.result == 6
    assert not w.valid and w.result is None and w.value == -2
    assert w.numeric == "W_out = ⌊(6 + 2·0 − 1·(9−1) − 1) / 1⌋ + 1 = (−2) ✗"
    assert w.error_field == "kernel_size" and "width" in w.error
    assert w.text() == w.numeric + "\n" + w.error


def test_reflect_refusal_shows_on_its_axis_only():
    h, w = output_size_formula(ConvSpec(padding=(3, 1), padding_mode="reflect"), (1, 3, 6))
    assert not h.valid and h.error_field == "padding" and "reflect" in h.error
    assert h.value == 7  # what the arithmetic alone would give
    assert w.valid and w.result == 6


def test_input_wide_refusals_show_on_both_axes():
    for formula in output_size_formula(ConvSpec(in_channels=3), (1, 8, 8)):
        assert formula.error_field == "input" and "in_channels" in formula.error
        assert formula.value == 6 and formula.result is None


def test_malformed_values_render_question_marks():
    h, w = output_size_formula(ConvSpec(kernel_size=2.5, padding=-1), (1, 8, 6))
    assert h.numeric == "H_out = ⌊(8 + 2·(−1) − 1·(?−1) − 1) / 1⌋ + 1 = ? ✗"
    assert h.error_field == "kernel_size" and h.value is None


@pytest.mark.parametrize(
    ("spec", "shape", "layout"),
    [
        (ConvSpec(3, 64, 3), (64, 3, 3, 3), "out, in/groups, kH, kW"),
        (ConvSpec(6, 4, (3, 5), groups=2), (4, 3, 3, 5), "out, in/groups, kH, kW"),
        (ConvSpec(4, 6, 3, groups=2, transposed=True), (4, 3, 3, 3), "in, out/groups, kH, kW"),
        (ConvSpec(3, 4, 3, stride=0, padding="same"), (4, 3, 3, 3), "out, in/groups, kH, kW"),  # the weight is fine
    ],
)
def test_weight_shape_as_pytorch_stores_it(spec, shape, layout):
    weight = weight_shape_of(spec)
    assert (weight.shape, weight.layout, weight.reason, weight.defined) == (shape, layout, "", True)
    assert weight.text() == str(shape)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        # the issue's case: 1 input channel in 2 groups gave "(2, 0, 3, 3)"
        (ConvSpec(1, 2, 3, groups=2), "1 input channel can't be split into 2 equal groups (1 / 2 is not a whole number)"),
        (ConvSpec(3, 4, 3, groups=2), "3 input channels can't be split into 2 equal groups (3 / 2 is not a whole number)"),
        (ConvSpec(4, 6, 3, groups=4), "6 output channels can't be split into 4 equal groups (6 / 4 is not a whole number)"),
        (ConvSpec(2, 3, 3, groups=2, transposed=True),
         "3 output channels can't be split into 2 equal groups (3 / 2 is not a whole number)"),
        (ConvSpec(3, 4, 3, groups=0), "groups must be at least 1, but got 0"),
        (ConvSpec(3, 4, 0), "kernel_size must be at least 1 on each axis, but got 0"),
        (ConvSpec(3, 4, 3, transposed="yes"), "transposed must be True or False, not 'yes'"),
    ],
)
def test_an_undefined_weight_shape_says_why_in_words(spec, reason):
    weight = weight_shape_of(spec)
    assert weight.shape is None and not weight.defined and weight.reason == reason
    assert weight.text() == f"undefined: {reason}"


def _evaluate(formula: AxisFormula) -> int:
    """Evaluate the numeric form's arithmetic as written, floor brackets included."""
    expression = formula.numeric.split(" = ")[1]
    for symbol, python in (("⌊", "("), ("⌋", ")"), ("/", "//"), ("·", "*"), ("−", "-")):
        expression = expression.replace(symbol, python)
    assert set(expression) <= set("0123456789+-*/() "), expression
    return eval(expression, {"__builtins__": {}})  # digits and operators only, checked above


specs = st.builds(
    ConvSpec,
    in_channels=st.just(2),
    out_channels=st.integers(1, 4),
    kernel_size=st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5))),
    stride=st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    padding=st.one_of(st.integers(0, 4), st.tuples(st.integers(0, 4), st.integers(0, 4)),
                      st.sampled_from(["same", "valid"])),
    dilation=st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))),
    padding_mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    transposed=st.booleans(),
    output_padding=st.integers(0, 2),
)


@settings(max_examples=300, deadline=None)
@given(specs, st.integers(1, 12), st.integers(1, 12))
def test_formula_agrees_with_output_shape(spec, height, width):
    formulas = output_size_formula(spec, (2, height, width))
    try:
        _, h_out, w_out = spec.output_shape((2, height, width))
    except ConvSpecError as error:
        assert not all(f.valid for f in formulas)
        assert error.field in {f.error_field for f in formulas}
        return
    assert [f.result for f in formulas] == [h_out, w_out]
    for formula in formulas:
        assert formula.value == formula.result == _evaluate(formula)
        assert formula.numeric.endswith(f" = {formula.result}")


wild = st.one_of(st.integers(-3, 6), st.booleans(), st.none(), st.floats(allow_nan=True),
                 st.text(max_size=4), st.tuples(st.integers(-2, 4), st.integers(-2, 4)),
                 st.lists(st.integers(-1, 3), max_size=3),
                 st.just(np.array([1, 2])), st.just(np.int64(2)))


@settings(max_examples=300, deadline=None)
@given(st.builds(ConvSpec, in_channels=wild, out_channels=wild, kernel_size=wild, stride=wild,
                 padding=wild, dilation=wild, groups=wild, bias=wild, padding_mode=wild,
                 transposed=wild, output_padding=wild),
       st.one_of(wild, st.tuples(wild, wild, wild)))
def test_formula_never_raises(spec, input_shape):
    formulas = output_size_formula(spec, input_shape)
    assert [f.axis for f in formulas] == ["H", "W"]
    for formula in formulas:
        assert formula.valid != bool(formula.error)
        assert formula.text() and formula.symbolic
    weight = weight_shape_of(spec)
    assert (weight.shape is None) == bool(weight.reason)
    assert weight.shape is None or min(weight.shape) >= 1  # never a zero dimension


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 2, 3)])
def test_tiny_inputs(shape):
    formulas = output_size_formula(ConvSpec(kernel_size=1), shape)
    assert [f.result for f in formulas] == list(shape[1:])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 8), st.integers(1, 4), st.booleans())
def test_weight_shape_is_pytorchs_or_undefined_where_pytorch_refuses(c_in, c_out, groups, k, transposed):
    spec = ConvSpec(c_in, c_out, k, groups=groups, transposed=transposed)
    weight = weight_shape_of(spec)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch_module(spec)
    except ValueError:  # nn.Conv2d refuses channels that groups does not divide
        assert not weight.defined and "can't be split into" in weight.reason
        return
    assert weight.shape == tuple(module.weight.shape)
