"""The matrix forms of a convolution checked by PyTorch itself, in float64 on the CPU: what
the matrix view's and the four transposed views' badges report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from convplay.compute.run import _forward
from convplay.core.conv_matrix import bias_vector, conv_matrix, coo_matvec, im2col_output
from convplay.core.spec import ConvSpec
from convplay.core.transposed_views import FourViews, four_views


def torch_output(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``spec`` of ``x`` (C, H, W) as nn.Conv2d / nn.ConvTranspose2d compute it, float64."""
    with torch.no_grad():
        t = torch.from_numpy(np.array(x, dtype=np.float64))[None]
        w = torch.from_numpy(np.array(weight, dtype=np.float64))
        b = None if bias is None else torch.from_numpy(np.array(bias, dtype=np.float64))
        return _forward(spec, t, w, b)[0].numpy().copy()


def _largest(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b))) if a.size else 0.0


@dataclass(frozen=True, eq=False)
class MatrixCheck:
    """y = C·x + b and the im2col product, each against PyTorch."""

    torch_output: np.ndarray  # (C_out, H_out, W_out)
    matrix_output: np.ndarray  # C·x + b, reshaped
    matrix_difference: float
    im2col_difference: float


def check_matrix(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> MatrixCheck:
    """C·x + b and weight matrix × patch matrix against PyTorch.  ConvSpecError (and
    MatrixTooLarge) where the core refuses; whatever PyTorch raises is passed on."""
    # The matrix first: a refusal (too large) then comes before torch's O(input) work.
    coo = conv_matrix(spec, weight, x.shape, dense=False)
    expected = torch_output(spec, x, weight, bias)
    y = (coo_matvec(coo, x) + bias_vector(spec, bias, x.shape)).reshape(expected.shape)
    by_patches = im2col_output(spec, x, weight, bias)
    return MatrixCheck(expected, y, _largest(y, expected), _largest(by_patches, expected))


@dataclass(frozen=True, eq=False)
class FourViewsCheck:
    """The four transposed views and each one's largest difference from PyTorch."""

    views: FourViews
    torch_output: np.ndarray
    differences: dict[str, float]  # view name → max |view − conv_transpose2d|

    @property
    def largest_difference(self) -> float:
        return max(self.differences.values())


def check_four_views(spec: ConvSpec, x: np.ndarray, weight: np.ndarray,
                     bias: np.ndarray | None) -> FourViewsCheck:
    """The four views of a transposed ``spec`` against conv_transpose2d."""
    views = four_views(spec, x, weight, bias)
    expected = torch_output(spec, x, weight, bias)
    return FourViewsCheck(views, expected,
                          {name: _largest(out, expected) for name, out in views.outputs().items()})
