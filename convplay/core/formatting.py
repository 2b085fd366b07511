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
from fractions import Fraction
from typing import Mapping

import numpy as np

MAX_WHOLE_DIGITS = 6  # up to 999 999 a whole number is shorter written out than as 1.23e+05
CELL_DIGITS = 4  # a number inside a cell: 1/9 -> 0.1111
# A weight that is no short fraction: three digits keep a 5x5 of learned weights
# (-0.00229) inside a 1280x720 window's Kernel panel; the tooltip holds every digit.
KERNEL_DIGITS = 3
READOUT_DIGITS = 6  # a hover readout or a sum: enough to compare with PyTorch by eye
COMPARED_DIGITS = 8  # PyTorch's float32 value set beside the float64 sum it is checked against
TICK_DIGITS = 3  # a colour bar's values: the scale, not the data
TICK_ZERO = 1e-300  # a tick this close to 0 is the 0 of a symmetric scale, not 1e-17
MAX_DENOMINATOR = 1024  # 1/256 and 1/9 are how kernels are written; 1/1033 is not
# A weight this much smaller than the grid's largest changes no printed digit of any sum
# it enters: -1.178e-09 beside 0.25 is a learned 0, shown as 0 (the tooltip is exact).
TINY_RATIO = 1e-6

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

    Used by the input's value grid (``qt/widgets/value_grid.py``; the kernel and bias
    grids use ``kernel_cell_texts``), the input canvas's cell labels
    (``qt/widgets/canvas.py``), the sliding window's cell labels (``qt/animation/view.py``)
    and the product grid and equation terms of the arithmetic (``qt/animation/arithmetic.py``).
    """
    return _significant(value, CELL_DIGITS)


def exact_fraction(value: float, max_denominator: int = MAX_DENOMINATOR) -> Fraction | None:
    """The fraction p/q (q <= ``max_denominator``) whose nearest float64 is ``value``
    exactly, or None.

    That is the number typing "p/q" stores (``parse_value`` divides two exact integers,
    which rounds once), so showing "p/q" for ``value`` hides nothing: 1/9 -> Fraction(1, 9),
    0.0625 -> Fraction(1, 16), 3.0 -> Fraction(3, 1); 0.1234567 and nan -> None.
    """
    value = float(value)
    if not math.isfinite(value):
        return None
    fraction = Fraction(value).limit_denominator(max_denominator)
    return fraction if float(fraction) == value else None


def _decimal_denominator(q: int) -> bool:
    """10, 100, 1000: a value typed or saved as 0.1 or 0.25 reads better as a decimal."""
    while q % 10 == 0:
        q //= 10
    return q == 1


def kernel_cell_texts(values: np.ndarray, typed: Mapping[tuple[int, int], str] | None = None) -> list[list[str]]:
    """The texts of a kernel's (or bias's) cells, as people write kernels.

    - What the user typed into a cell (``typed[(r, c)]``, e.g. "0.5" or "2/18") stays as typed.
    - An exact fraction shows as one, over the kernel's common denominator when every
      denominator divides the largest: a Gaussian 5×5 reads 1/256, 4/256, 6/256 ... 36/256,
      a box blur 1/9.  Denominators of 10, 100, ... show as decimals (0.1; but 0.25 is 1/4).
    - A value smaller than ``TINY_RATIO`` times the largest |value| shows as 0.
    - Integers print whole; everything else with ``KERNEL_DIGITS`` significant digits.

    Display only: the cells' values (and the tooltips, ``kernel_cell_tooltip``) are exact.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"kernel cells are a 2-D array, not {values.shape}")
    typed = typed or {}
    finite = values[np.isfinite(values)]
    scale = float(np.abs(finite).max()) if finite.size else 0.0
    texts: list[list[str]] = [[""] * values.shape[1] for _ in range(values.shape[0])]
    fractions: dict[tuple[int, int], Fraction] = {}
    for (r, c), v in np.ndenumerate(values):
        v = float(v)
        if (r, c) in typed:
            texts[r][c] = typed[(r, c)]
        elif v != 0 and math.isfinite(v) and abs(v) < scale * TINY_RATIO:
            texts[r][c] = "0"
        else:
            f = exact_fraction(v)
            if f is not None and f.denominator > 1 and not _decimal_denominator(f.denominator):
                fractions[(r, c)] = f
            else:
                texts[r][c] = _significant(v, KERNEL_DIGITS)
    if fractions:
        common = max(f.denominator for f in fractions.values())
        shared = all(common % f.denominator == 0 for f in fractions.values())
        for (r, c), f in fractions.items():
            q = common if shared else f.denominator
            texts[r][c] = f"{f.numerator * (q // f.denominator)}/{q}"
    return texts


def kernel_cell_tooltip(value: float, text: str) -> str:
    """The exact value behind a cell's ``text``: the decimal that PyTorch receives."""
    exact = repr(float(value))
    if text == exact:
        return exact
    if text == "0" and value != 0:
        return f"{exact} (shown as 0: tiny beside the other weights)"
    return f"{text} = {exact}"


def typed_text(text: str) -> str:
    """How a cell shows what was typed: a fraction as written ("1 / 9" -> "1/9", "−1/8" ->
    "-1/8"), a decimal as ``format_cell`` prints it ("0,50" -> "0.5")."""
    cleaned = text.strip().replace("\u2212", "-")
    if _FRACTION.match(cleaned.replace(" ", "")):
        return cleaned.replace(" ", "")
    return format_cell(parse_value(text))


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
