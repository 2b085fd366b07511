"""Does PyTorch's output match the float64 reference?  The "Matches PyTorch" badge's numbers.

The tolerance follows from how a convolution rounds: every product carries a relative
error of about the unit roundoff of the dtype the input and weight were rounded to, and
the accumulation adds about sqrt(terms) more.  So the tolerance is scaled by the largest
sum of |products| an output value can have (``output_magnitude``): a Sobel output close to
0 on an image of 255s is still judged against the 255s it cancelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from convplay.core.formatting import format_difference
from convplay.core.spec import ConvSpec

# Unit roundoff (half the machine epsilon) of what the op multiplies in.  TF32 keeps 10
# mantissa bits of a float32 on the way into cuDNN's matrix units.
UNIT_ROUNDOFF = {
    "float64": 2.0**-53,
    "float32": 2.0**-24,
    "tf32": 2.0**-11,
    "float16": 2.0**-11,
    "bfloat16": 2.0**-8,
}

TF32_NOTE = (
    "TF32 is on: cuDNN rounds float32 inputs to 10 mantissa bits (about 3 decimal digits) "
    "inside its matrix units, so differences of about 1e-3 of the values are expected. "
    "Switch TF32 off in the device panel for full float32 precision."
)


@dataclass(frozen=True, eq=False)
class Match:
    """The comparison of one PyTorch output with the reference.

    ``mismatched`` holds (out_channel, i, j) rows of the cells whose difference exceeds
    the tolerance, largest first, at most ``max_cells`` of them; ``n_mismatched`` counts all.
    """

    max_abs_diff: float
    tolerance: float
    n_mismatched: int
    mismatched: np.ndarray  # (n, 3) int
    precision: str  # a key of UNIT_ROUNDOFF

    @property
    def matches(self) -> bool:
        return self.n_mismatched == 0

    def summary(self) -> str:
        verdict = "Matches PyTorch" if self.matches else f"{self.n_mismatched} cells differ from PyTorch"
        diff, tolerance = format_difference(self.max_abs_diff), format_difference(self.tolerance)
        return f"{verdict}: max |reference \u2212 PyTorch| = {diff} (tolerance {tolerance}, {self.precision})"

    @property
    def note(self) -> str:
        """An explanation to show beside the badge ("" when none is needed)."""
        return TF32_NOTE if self.precision == "tf32" else ""


def precision_of(dtype: str, tf32: bool = False) -> str:
    """The UNIT_ROUNDOFF key for PyTorch run in ``dtype`` (TF32 only changes float32)."""
    if dtype == "float32" and tf32:
        return "tf32"
    if dtype not in UNIT_ROUNDOFF:
        raise ValueError(f"unknown dtype {dtype!r}")
    return dtype


def output_magnitude(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, spec: ConvSpec) -> float:
    """An upper bound on the sum of |products| (+ |bias|) of any output value."""
    x_max = float(np.max(np.abs(x))) if np.size(x) else 0.0
    w = np.abs(np.asarray(weight, dtype=np.float64))
    if w.size == 0:
        per_output = 0.0
    elif spec.transposed:
        # (in, out/groups, kh, kw): an output channel gathers from every input of its group.
        per_output = float(np.max(w.sum(axis=(0, 2, 3))))
    else:
        per_output = float(np.max(w.sum(axis=(1, 2, 3))))
    b = float(np.max(np.abs(bias))) if bias is not None and np.size(bias) else 0.0
    return x_max * per_output + b


def tolerance_for(magnitude: float, n_terms: int, precision: str) -> float:
    """How far PyTorch may stray from the exact value without being wrong."""
    u = UNIT_ROUNDOFF[precision]
    # Rounding x and w (2u per product), the accumulation (~sqrt(n) u), the output (u);
    # doubled for margin.  The floor keeps an all-zero case from demanding exact zeros.
    return 2.0 * u * (3.0 + math.sqrt(max(n_terms, 1))) * max(magnitude, 1e-300) + 1e-12


def compare(
    reference: np.ndarray,
    torch_output: np.ndarray,
    tolerance: float,
    precision: str,
    *,
    max_cells: int = 256,
) -> Match:
    """Compare ``torch_output`` with ``reference`` (same shape, (C, H, W)) within ``tolerance``."""
    reference = np.asarray(reference, dtype=np.float64)
    torch_output = np.asarray(torch_output, dtype=np.float64)
    if reference.shape != torch_output.shape:
        raise ValueError(f"PyTorch's output has shape {torch_output.shape}, the reference {reference.shape}")
    if reference.size == 0:
        return Match(0.0, tolerance, 0, np.zeros((0, 3), dtype=np.int64), precision)
    diff = np.abs(reference - torch_output)
    diff = np.where(np.isnan(diff), np.inf, diff)  # a NaN from PyTorch is a disagreement
    max_diff = float(diff.max())
    bad = np.flatnonzero(diff > tolerance)
    if bad.size > max_cells:
        bad = bad[np.argpartition(diff.ravel()[bad], -max_cells)[-max_cells:]]
    bad = bad[np.argsort(-diff.ravel()[bad], kind="stable")]
    cells = np.stack(np.unravel_index(bad, reference.shape), axis=1).astype(np.int64)
    n_bad = int(np.count_nonzero(diff > tolerance))
    return Match(max_diff, tolerance, n_bad, cells.reshape(-1, 3), precision)


def compare_conv(
    reference: np.ndarray,
    torch_output: np.ndarray,
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    spec: ConvSpec,
    dtype: str = "float32",
    tf32: bool = False,
) -> Match:
    """``compare`` with the tolerance derived from the operands and the dtype PyTorch used."""
    precision = precision_of(dtype, tf32)
    first, second, kh, kw = np.shape(weight)
    # Terms per output value: the input channels of its group times the taps.
    n_terms = (first // spec.groups if spec.transposed else second) * kh * kw
    tolerance = tolerance_for(output_magnitude(x, weight, bias, spec), n_terms, precision)
    return compare(reference, torch_output, tolerance, precision)
