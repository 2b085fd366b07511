"""Numbers as convplay prints them, and numbers as a user types them.

One formatter per purpose, each named for where its text appears.  They share one rule:
a whole number prints as that integer when it has at most ``MAX_WHOLE_DIGITS`` digits
(12345.0 is ``12345`` in the kernel grid, the input canvas, the animation and the colour
bar alike), -0 prints as ``0``, and non-finite values as ``nan``, ``inf`` and ``-inf``.
Everything else gets the purpose's significant digits.

Formatting is for the eye: a tooltip or a saved file carries the exact value.
"""

from __future__ import annotations

import math
import re

MAX_WHOLE_DIGITS = 6  # up to 999 999 a whole number is shorter written out than as 1.23e+05
CELL_DIGITS = 4  # a number inside a cell: 1/9 -> 0.1111
READOUT_DIGITS = 6  # a hover readout or a sum: enough to compare with PyTorch by eye
COMPARED_DIGITS = 8  # PyTorch's float32 value set beside the float64 sum it is checked against
TICK_DIGITS = 3  # a colour bar's values: the scale, not the data
TICK_ZERO = 1e-300  # a tick this close to 0 is the 0 of a symmetric scale, not 1e-17

_FRACTION = re.compile(r"^([+-]?[^/]+)/([^/]+)$")


def _significant(value: float, digits: int) -> str:
    """The shared rule: whole numbers written out, others with ``digits`` significant digits."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 10**MAX_WHOLE_DIGITS:
        return str(int(value))  # int(-0.0) is 0: no "-0"
    return f"{value:.{digits}g}"


def format_cell(value: float) -> str:
    """A number printed inside a cell, four significant digits: ``0.1111``, ``-2``, ``12345``.

    Used by the kernel, bias and input value grids (``qt/widgets/value_grid.py``), the
    input canvas's cell labels (``qt/widgets/canvas.py``), the sliding window's cell
    labels (``qt/animation/view.py``) and the product grid and equation terms of the
    arithmetic (``qt/animation/arithmetic.py``).
    """
    return _significant(value, CELL_DIGITS)


def format_readout(value: float) -> str:
    """A value reported in words, six significant digits: ``0.111111``, ``-2``, ``1.23457e+06``.

    Used by the hover readouts (the output view, the feature-map grid, the input canvas,
    the sliding window) and by the arithmetic's sums, bias and result.
    """
    return _significant(value, READOUT_DIGITS)


def format_compared(value: float) -> str:
    """PyTorch's value in the arithmetic's check line, eight significant digits, so that a
    float32 rounding difference from the float64 sum shows: ``0.11111111``."""
    return _significant(value, COMPARED_DIGITS)


def format_difference(value: float) -> str:
    """A difference or a tolerance between PyTorch and the reference, three significant
    digits, the same on the badge and in the arithmetic: ``0``, ``3.58e-06``."""
    return f"{value:.3g}"


def format_tick(value: float) -> str:
    """A colour-bar value, three significant digits: ``-0.25``, ``1.23e-05``, ``12345``.

    Used by the colour bars (``qt/widgets/colorbar.py``) and the feature-map grid's
    per-thumbnail scale.  A value within ``TICK_ZERO`` of 0 prints as ``0``: the middle
    of a symmetric scale computed as ``lo + (hi - lo) / 2`` can come out as 1e-17.
    """
    value = float(value)
    if abs(value) < TICK_ZERO:
        return "0"
    return _significant(value, TICK_DIGITS)


def format_seconds(seconds: float) -> str:
    """A duration as the Device panel and the status bar show it: ``12.35 ms``, ``1.50 s``."""
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def parse_value(text: str) -> float:
    """A finite float from what a user typed: "0.5", "-2", "1e-3", "1/9", "-1 / 8", "0,5".

    A typographic minus (−) and a decimal comma are accepted.  Raises ValueError with a
    message a user can read; NaN and infinity are refused.
    """
    cleaned = text.strip().replace("\u2212", "-").replace(",", ".")
    if not cleaned:
        raise ValueError("Type a number (e.g. 0.5, -2 or 1/9).")
    fraction = _FRACTION.match(cleaned)
    try:
        if fraction:
            numerator, denominator = float(fraction.group(1)), float(fraction.group(2))
        else:
            numerator, denominator = float(cleaned), 1.0
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number (e.g. 0.5, -2 or 1/9).") from None
    if denominator == 0:
        raise ValueError(f"{text.strip()!r} divides by zero.")
    value = numerator / denominator
    if not math.isfinite(value):
        raise ValueError(f"{text.strip()!r} is not a finite number: NaN and infinity are not allowed.")
    return value
