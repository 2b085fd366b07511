"""Kernel A against kernel B: A's PyTorch output for the request B was computed from, and
the difference of the two outputs.

A runs on exactly what B ran on (the same image array, spec, device, dtype and TF32), so
any difference between the outputs is the kernels' alone.  No Qt: the Compare panel calls
``run_against`` in its worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convplay.compute.run import run_conv


@dataclass(frozen=True, eq=False)
class OutputDifference:
    """B − A over one output channel.

    ``max_abs`` is max |B − A| over the finite cells, at ``where`` (row, col), the first
    such cell in row-major order; ``relative`` is ‖B − A‖₂ / ‖A‖₂ over the channel (None when
    A's channel is all zeros: no scale to compare with).
    """

    values: np.ndarray  # (H, W) float64
    max_abs: float
    where: tuple[int, int]
    relative: float | None


def run_against(request, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """PyTorch's output of ``request`` (a ``ComputeRequest``) with ``weight`` and ``bias``
    in place of its own: (C_out, H_out, W_out).  Raises what ``run_conv`` raises."""
    run = run_conv(
        request.spec, request.image, weight, bias if request.spec.bias else None,
        device=request.device, dtype=request.dtype, tf32=request.tf32,
    )
    return np.asarray(run.output)


def difference(a: np.ndarray, b: np.ndarray) -> OutputDifference:
    """B − A for two (H, W) channels of the same shape, in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"A's output is {a.shape} and B's {b.shape}: they cannot be compared")
    values = b - a
    magnitude = np.where(np.isfinite(values), np.abs(values), -1.0)
    if values.size == 0 or not (magnitude >= 0).any():
        return OutputDifference(values, 0.0, (0, 0), None)
    flat = int(np.argmax(magnitude))
    row, col = np.unravel_index(flat, values.shape)
    finite = np.isfinite(values) & np.isfinite(a)
    norm_a = float(np.linalg.norm(a[finite]))
    relative = float(np.linalg.norm(values[finite])) / norm_a if norm_a > 0 else None
    return OutputDifference(values, float(magnitude.flat[flat]), (int(row), int(col)), relative)
