"""A convolution as a matrix: C with y = C·x + b, and the im2col patch matrix.

Every convolution the core accepts is linear in its input, so it is one matrix C of shape
(C_out·H_out·W_out, C_in·H·W), rows and columns in PyTorch's row-major order of (channel,
row, column).  Each non-zero of C is one weight: output pixel ``row`` reads input pixel
``col`` through kernel tap ``tap`` (an index into ``weight.ravel()``).  Padding that
copies pixels (reflect, replicate, circular) is folded in: a tap that lands on the rim
reads the pixel the rim copies, so a row may hold several taps in one column, which add.
Zero padding and the zeros a transposed convolution inserts read nothing and leave no
entry.

A transposed convolution's matrix is the transpose of the matching direct convolution's
C (the one it is the gradient of: channels swapped, the same weight tensor, applied to an
input the size of the transposed output), so its taps are those taps with rows and
columns exchanged.

im2col is the other matrix form, the one libraries run: each output position's window,
unrolled into a column, so a group's output is its weight matrix times its patch matrix.

Everything is numpy: no scipy, no torch.  The sparse form is COO arrays, coalesced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convplay.core.padding import NO_SOURCE, padded_geometry
from convplay.core.reference import checked_operands, sliding_kernel
from convplay.core.spec import ConvSpec, ConvSpecError

# The most taps a matrix is built from: 20 million entries are 480 MB of indices and values,
# the most a playground should hold for a picture; a 64×64 RGB → 16 3×3 needs 1.8 million.
MAX_MATRIX_TAPS = 20_000_000


class MatrixTooLarge(ConvSpecError):
    """The matrix would hold more taps than ``MAX_MATRIX_TAPS``."""

    def __init__(self, taps: int, shape: tuple[int, int]):
        super().__init__(
            f"the matrix of this convolution would be {shape[0]:,}×{shape[1]:,} with {taps:,} non-zero taps, "
            f"more than the {MAX_MATRIX_TAPS:,} convplay builds; use a smaller input", "input")
        self.taps = taps
        self.shape = shape


@dataclass(frozen=True, eq=False)
class MatrixTaps:
    """The structure of C: tap ``k`` puts ``weight.ravel()[tap[k]]`` at ``(row[k], col[k])``.

    Rows are output pixels and columns input pixels, both flattened (channel, row, column).
    Not coalesced: a folded padding shows as several taps at one (row, col).
    """

    row: np.ndarray  # int64
    col: np.ndarray  # int64
    tap: np.ndarray  # int64, into weight.ravel()
    shape: tuple[int, int]
    input_shape: tuple[int, int, int]  # (C, H, W) of x
    output_shape: tuple[int, int, int]  # (C, H, W) of y
    weight_shape: tuple[int, int, int, int]

    def __len__(self) -> int:
        return int(self.row.size)

    def values(self, weight: np.ndarray) -> np.ndarray:
        """The weight of each tap, float64."""
        return np.asarray(weight, dtype=np.float64).reshape(-1)[self.tap]

    def weight_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(first, second, m, n) of each tap's weight, as the weight tensor is indexed."""
        return np.unravel_index(self.tap, self.weight_shape)

    def input_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(channel, i, j) of the input pixel each tap reads."""
        return np.unravel_index(self.col, self.input_shape)

    def output_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(channel, i, j) of the output pixel each tap writes."""
        return np.unravel_index(self.row, self.output_shape)


def _direct_taps(spec: ConvSpec, input_hw: tuple[int, int], out_hw: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """(output channel, out i, out j, in channel, src i, src j, tap) of every real tap of a
    direct convolution, over the outputs ``out_hw`` (which may be fewer than it has)."""
    c_out, in_per_group, kh, kw = spec.weight_shape
    out_per_group = c_out // spec.groups
    (sh, sw), (dh, dw) = spec.stride_hw, spec.dilation_hw
    geometry = padded_geometry(spec, input_hw)
    h_out, w_out = out_hw
    oc, i, j, c, m, n = np.ix_(np.arange(c_out), np.arange(h_out), np.arange(w_out),
                               np.arange(in_per_group), np.arange(kh), np.arange(kw))
    src_i = geometry.rows.source(i * sh + m * dh)
    src_j = geometry.cols.source(j * sw + n * dw)
    shape = (c_out, h_out, w_out, in_per_group, kh, kw)
    src_i, src_j = np.broadcast_to(src_i, shape), np.broadcast_to(src_j, shape)
    real = (src_i != NO_SOURCE) & (src_j != NO_SOURCE)
    in_channel = (oc // out_per_group) * in_per_group + c
    tap = ((oc * in_per_group + c) * kh + m) * kw + n
    return tuple(np.broadcast_to(a, shape)[real].astype(np.int64)
                 for a in (oc, i, j, in_channel, src_i, src_j, tap))


def _tap_count(spec: ConvSpec, out_shape: tuple[int, int, int]) -> int:
    """An upper bound of the taps (every tap of every output), checked before building."""
    _, in_per_group, kh, kw = spec.weight_shape
    return int(np.prod(out_shape, dtype=np.int64)) * in_per_group * kh * kw


def matching_direct(spec: ConvSpec) -> ConvSpec:
    """The direct convolution a transposed ``spec`` is the transpose of: channels swapped,
    the same kernel, stride, padding, dilation and groups (and the same weight tensor)."""
    return ConvSpec(
        in_channels=spec.out_channels, out_channels=spec.in_channels, kernel_size=spec.kernel_hw,
        stride=spec.stride_hw, padding=spec.pads()[::2], dilation=spec.dilation_hw, groups=spec.groups,
        bias=spec.bias)


def matrix_taps(spec: ConvSpec, input_shape) -> MatrixTaps:
    """The taps of ``spec``'s matrix for one input of ``input_shape`` (C, H, W).

    ConvSpecError where PyTorch refuses the settings; MatrixTooLarge above MAX_MATRIX_TAPS.
    """
    out_shape = spec.output_shape(input_shape)
    in_shape = (int(input_shape[0]), int(input_shape[1]), int(input_shape[2]))
    n_rows, n_cols = int(np.prod(out_shape)), int(np.prod(in_shape))
    # A transposed spec's taps are those of the direct convolution from its output back to
    # its input, rows and columns exchanged.  That convolution's own output may be a row or
    # column longer (output_padding ≥ stride, allowed where the dilation is larger): only the
    # outputs the transposed input has count.
    transposed = spec.transposed
    direct = matching_direct(spec) if transposed else spec
    conv_in, conv_out = (tuple(out_shape), in_shape) if transposed else (in_shape, tuple(out_shape))
    bound = _tap_count(direct, conv_out)
    if bound > MAX_MATRIX_TAPS:
        raise MatrixTooLarge(bound, (n_rows, n_cols))
    oc, i, j, c, si, sj, tap = _direct_taps(direct, conv_in[1:], conv_out[1:])
    row = (oc * conv_out[1] + i) * conv_out[2] + j
    col = (c * conv_in[1] + si) * conv_in[2] + sj
    if transposed:
        row, col = col, row
    return MatrixTaps(row, col, tap, (n_rows, n_cols), in_shape, tuple(out_shape), spec.weight_shape)


def conv_matrix(spec: ConvSpec, weight: np.ndarray, input_shape, dense: bool = True):
    """``spec``'s matrix C for inputs of ``input_shape``: C @ x.ravel() + bias = conv(x).ravel().

    ``weight`` has ``spec.weight_shape``.  Dense: a float64 ndarray of shape (C_out·H_out·W_out,
    C_in·H·W).  ``dense=False``: COO arrays ``(rows, cols, values, shape)``, sorted by row and
    column with the folded taps summed (entries that sum to exactly 0 are kept: the structure
    says where a weight is read).
    """
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != spec.weight_shape:
        raise ConvSpecError(f"the kernel has shape {weight.shape} but these settings need {spec.weight_shape}",
                            "weight")
    taps = matrix_taps(spec, input_shape)
    values = taps.values(weight)
    if dense:
        out = np.zeros(taps.shape, dtype=np.float64)
        np.add.at(out, (taps.row, taps.col), values)
        return out
    return _coalesce(taps.row, taps.col, values, taps.shape)


def _coalesce(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]):
    key = rows * shape[1] + cols
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse.reshape(-1), weights=values, minlength=unique.size)
    return (unique // shape[1]).astype(np.int64), (unique % shape[1]).astype(np.int64), summed, shape


def bias_vector(spec: ConvSpec, bias: np.ndarray | None, input_shape) -> np.ndarray:
    """b of y = C·x + b: each output channel's bias repeated over its H_out·W_out pixels."""
    c_out, h_out, w_out = spec.output_shape(input_shape)
    if bias is None:
        return np.zeros(c_out * h_out * w_out)
    return np.repeat(np.asarray(bias, dtype=np.float64).reshape(c_out), h_out * w_out)


def coo_matvec(coo, x: np.ndarray) -> np.ndarray:
    """C @ x for C in COO form ``(rows, cols, values, shape)``, without scipy."""
    rows, cols, values, shape = coo
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.bincount(rows, weights=values * x[cols], minlength=shape[0])


def coo_rmatvec(coo, y: np.ndarray) -> np.ndarray:
    """Cᵀ @ y for C in COO form."""
    rows, cols, values, shape = coo
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    return np.bincount(cols, weights=values * y[rows], minlength=shape[1])


# -- im2col ----------------------------------------------------------------------------


def im2col(spec: ConvSpec, x: np.ndarray) -> np.ndarray:
    """The patch matrix of each group: (groups, C_in/groups·kh·kw, H_out·W_out), float64.

    Column ``l`` holds the window of output position l (row-major), unrolled in F.unfold's
    order (channel, kernel row, kernel column); for zero padding and groups=1 it equals
    F.unfold(x, k, dilation, padding, stride)[0].  Other padding modes unroll the padded
    input.  A transposed convolution unrolls its zero-inserted, padded input at stride 1,
    the windows its flipped kernel (``weight_matrix``) slides over.
    """
    x = np.asarray(x, dtype=np.float64)
    out_shape = spec.output_shape(x.shape)
    geometry = padded_geometry(spec, x.shape[1:])
    kernel_hw = spec.kernel_hw
    (dh, dw) = spec.dilation_hw
    (sh, sw) = (1, 1) if spec.transposed else spec.stride_hw
    footprint = spec.dilated_kernel_hw
    padded = geometry.build(x)
    windows = sliding_window_view(padded, footprint, axis=(1, 2))[:, ::sh, ::sw, ::dh, ::dw]
    windows = windows[:, : out_shape[1], : out_shape[2]]
    c, h_out, w_out, kh, kw = windows.shape
    assert (kh, kw) == kernel_hw
    groups = spec.groups
    per_group = windows.reshape(groups, c // groups, h_out, w_out, kh, kw)
    return np.ascontiguousarray(per_group.transpose(0, 1, 4, 5, 2, 3).reshape(groups, (c // groups) * kh * kw,
                                                                                h_out * w_out))


def weight_matrix(spec: ConvSpec, weight: np.ndarray) -> np.ndarray:
    """Each group's weight matrix: (groups, C_out/groups, C_in/groups·kh·kw), float64, so that
    ``weight_matrix[g] @ im2col[g]`` is group g's output, (C_out/groups, H_out·W_out).  For a
    transposed convolution it is the flipped kernel with its channel axes swapped."""
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != spec.weight_shape:
        raise ConvSpecError(f"the kernel has shape {weight.shape} but these settings need {spec.weight_shape}",
                            "weight")
    kernel = sliding_kernel(weight, spec, flip=False)
    c_out = kernel.shape[0]
    groups = spec.groups
    return np.ascontiguousarray(kernel.reshape(groups, c_out // groups, -1))


def im2col_output(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """The convolution computed as weight matrix × patch matrix: (C_out, H_out, W_out)."""
    x, weight, bias = checked_operands(x, weight, bias, spec)
    c_out, h_out, w_out = spec.output_shape(x.shape)
    out = np.einsum("got,gtl->gol", weight_matrix(spec, weight), im2col(spec, x)).reshape(c_out, h_out, w_out)
    if bias is not None:
        out = out + bias[:, None, None]
    return out
