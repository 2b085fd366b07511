"""Numbers as convplay prints them (one formatter per purpose, one integer rule) and as a
user types them."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convplay.core.formatting import (
    format_cell,
    format_compared,
    format_readout,
    format_seconds,
    format_tick,
    parse_value,
)

FORMATTERS = (format_cell, format_readout, format_compared, format_tick)


@pytest.mark.parametrize(
    ("value", "cell", "readout", "compared", "tick"),
    [
        (12345.0, "12345", "12345", "12345", "12345"),  # the example: one rule everywhere
        (-2.0, "-2", "-2", "-2", "-2"),
        (-0.0, "0", "0", "0", "0"),
        (999999.0, "999999", "999999", "999999", "999999"),
        (1e6, "1e+06", "1e+06", "1000000", "1e+06"),  # seven digits: the purpose's digits decide
        (1 / 9, "0.1111", "0.111111", "0.11111111", "0.111"),
        (-1 / 3, "-0.3333", "-0.333333", "-0.33333333", "-0.333"),
        (2 / 3, "0.6667", "0.666667", "0.66666667", "0.667"),
        (12345.6, "1.235e+04", "12345.6", "12345.6", "1.23e+04"),
        (1.5e-5, "1.5e-05", "1.5e-05", "1.5e-05", "1.5e-05"),
        (0.0625, "0.0625", "0.0625", "0.0625", "0.0625"),
        (float("nan"), "nan", "nan", "nan", "nan"),
        (float("inf"), "inf", "inf", "inf", "inf"),
        (float("-inf"), "-inf", "-inf", "-inf", "-inf"),
    ],
)
def test_each_purpose_prints_its_digits_and_integers_whole(value, cell, readout, compared, tick):
    assert (format_cell(value), format_readout(value), format_compared(value), format_tick(value)) == (
        cell, readout, compared, tick)


def test_numpy_scalars_print_as_python_floats():
    np = pytest.importorskip("numpy")
    assert format_cell(np.float32(4.0)) == "4"
    assert format_cell(np.float32(0.1)) == "0.1"
    assert format_readout(np.float64(-1.25)) == "-1.25"
    assert format_tick(np.int64(3)) == "3"


def test_a_symmetric_scales_rounding_middle_prints_as_zero():
    assert format_tick(1e-317) == "0" and format_tick(-1e-310) == "0"
    lo, hi = -0.3, 0.3
    assert [format_tick(lo + (hi - lo) * k / 4) for k in range(5)] == ["-0.3", "-0.15", "0", "0.15", "0.3"]


@given(st.integers(-(10**6) + 1, 10**6 - 1))
def test_every_whole_number_up_to_six_digits_prints_as_the_integer(n):
    for formatter in FORMATTERS:
        assert formatter(float(n)) == str(n)


FINITE = st.floats(min_value=-1e300, max_value=1e300)  # 1.798e+308 rounds up past the largest float


@given(FINITE)
def test_readouts_read_back_within_their_digits(value):
    assert float(format_readout(value)) == pytest.approx(value, rel=5e-6, abs=0)
    assert float(format_cell(value)) == pytest.approx(value, rel=5e-4, abs=0)


@pytest.mark.parametrize(("seconds", "text"), [(0.012345, "12.35 ms"), (0.0, "0.00 ms"), (0.9999, "999.90 ms"),
                                               (1.0, "1.00 s"), (12.5, "12.50 s")])
def test_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.5", 0.5), ("-2", -2.0), ("1e-3", 1e-3), ("1/9", 1 / 9), ("-1 / 8", -0.125), (" 3 ", 3.0),
     ("\u22120.25", -0.25), ("0,5", 0.5), ("+4/2", 2.0), ("1/-4", -0.25)],
)
def test_parse_value_reads_numbers_and_fractions(text, value):
    assert parse_value(text) == value


@given(st.fractions(min_value=-1000, max_value=1000).filter(lambda f: f.denominator <= 1000))
def test_parse_value_fractions(fraction: Fraction):
    text = f"{fraction.numerator}/{fraction.denominator}"
    assert parse_value(text) == pytest.approx(float(fraction))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_value_floats_round_trip(value):
    assert parse_value(repr(value)) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "Type a number"), ("   ", "Type a number"), ("abc", "'abc' is not a number"),
     ("1/0", "'1/0' divides by zero"), ("1/2/3", "is not a number"), ("nan", "NaN and infinity"),
     ("inf", "NaN and infinity"), ("1e400", "NaN and infinity"), ("1e300/1e-300", "NaN and infinity")],
)
def test_parse_value_refuses_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_value(text)


@given(FINITE)
def test_what_a_cell_shows_parses_back(value):
    assert math.isfinite(parse_value(format_cell(value)))


@pytest.mark.parametrize("value, text", [(0.0, "0"), (1.1424e-05, "1.14e-05"), (3.58e-06, "3.58e-06"), (0.5, "0.5")])
def test_differences_and_tolerances_print_alike_everywhere(value, text):
    from convplay.core.formatting import format_difference
    from convplay.core.match import Match

    assert format_difference(value) == text
    match = Match(value, value, 0, np.zeros((0, 3), int), "float32")
    assert f"= {text} (tolerance {text}, float32)" in match.summary()
