"""A transposed convolution computed four ways, each as a learner meets it in the literature.

- scatter: every input pixel stamps value × kernel into the output, the stamps of
  neighbouring pixels overlapping where the kernel is larger than the stride;
- gather: every output cell collects, through each kernel tap, the input pixel that lands
  on it, if the stride lets one land there;
- zero insertion: the input stretched with s − 1 zeros between its pixels, padded by
  p′ = d(k − 1) − p (a crop where negative) with the output padding a added after,
  then convolved at stride 1 with the flipped kernel;
- the matrix: y = Cᵀx, C the matrix of the direct convolution this one is the transpose of.

Each is its own computation (no one calls another), so that their agreement is evidence:
the view shows all four beside PyTorch's conv_transpose2d with the largest difference.
Everything is float64 numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convplay.core.conv_matrix import matching_direct, matrix_taps
from convplay.core.padding import PaddedGeometry, padded_geometry
from convplay.core.reference import checked_operands
from convplay.core.spec import ConvSpec, ConvSpecError

VIEW_NAMES = ("scatter", "gather", "zero insertion", "matrix")


@dataclass(frozen=True)
class ZeroInsertionAxis:
    """One axis of the zero-insertion picture, in the notation of the convolution-arithmetic
    guide: the transposed convolution's input i′, stretched to ĩ′ = (i′ − 1)s + 1, padded by
    p′ on both sides and by a more after, convolved at stride 1 with the k-tap kernel."""

    axis: str  # "rows" or "columns"
    i: int  # i′, the transposed convolution's input size
    k: int
    s: int
    p: int
    d: int
    a: int  # output padding

    @property
    def stretched(self) -> int:
        """ĩ′: the input with s − 1 zeros inserted between neighbouring pixels."""
        return (self.i - 1) * self.s + 1

    @property
    def dilated_k(self) -> int:
        return self.d * (self.k - 1) + 1

    @property
    def p_prime(self) -> int:
        """p′ = d(k − 1) − p: the zeros around the stretched input (a crop where negative)."""
        return self.d * (self.k - 1) - self.p

    @property
    def padded(self) -> int:
        """The stretched, padded input's size: ĩ′ + 2p′ + a."""
        return self.stretched + 2 * self.p_prime + self.a

    @property
    def output(self) -> int:
        """o′ = ĩ′ + 2p′ + a − d(k − 1) = s(i′ − 1) + a + d(k − 1) + 1 − 2p."""
        return self.padded - self.dilated_k + 1

    def lines(self) -> list[str]:
        """The arithmetic with its numbers, one line per quantity."""
        dk = f"{self.d}·({self.k} − 1)" if self.d != 1 else f"({self.k} − 1)"
        lines = [
            f"i′ = {self.i}",
            f"ĩ′ = (i′ − 1)·s + 1 = ({self.i} − 1)·{self.s} + 1 = {self.stretched}",
            f"p′ = {'d·' if self.d != 1 else ''}(k − 1) − p = {dk} − {self.p} = {self.p_prime}"
            + ("  (a crop)" if self.p_prime < 0 else ""),
            f"a = {self.a}",
            f"o′ = ĩ′ + 2p′ + a − {'d·' if self.d != 1 else ''}(k − 1) = "
            f"{self.stretched} + 2·{self.p_prime} + {self.a} − {self.dilated_k - 1} = {self.output}",
        ]
        return lines


def zero_insertion_axes(spec: ConvSpec, input_hw: tuple[int, int]) -> tuple[ZeroInsertionAxis, ZeroInsertionAxis]:
    """The guide's quantities for the rows and the columns of a transposed ``spec``."""
    if not spec.transposed:
        raise ConvSpecError("zero insertion describes a transposed convolution", "transposed")
    top, _, left, _ = spec.pads()
    (kh, kw), (sh, sw), (dh, dw) = spec.kernel_hw, spec.stride_hw, spec.dilation_hw
    oph, opw = spec.output_padding_hw
    return (ZeroInsertionAxis("rows", int(input_hw[0]), kh, sh, top, dh, oph),
            ZeroInsertionAxis("columns", int(input_hw[1]), kw, sw, left, dw, opw))


@dataclass(frozen=True, eq=False)
class FourViews:
    """The four outputs (each (C_out, H_out, W_out) float64) and what the zero-insertion
    view draws."""

    scatter: np.ndarray
    gather: np.ndarray
    zero_insertion: np.ndarray
    matrix: np.ndarray
    axes: tuple[ZeroInsertionAxis, ZeroInsertionAxis]
    stretched_input: np.ndarray  # (C_in, padded rows, padded columns): zeros inserted, padded
    geometry: PaddedGeometry  # where each cell of stretched_input comes from

    def outputs(self) -> dict[str, np.ndarray]:
        return dict(zip(VIEW_NAMES, (self.scatter, self.gather, self.zero_insertion, self.matrix)))

    def largest_disagreement(self) -> float:
        """The largest difference between any two of the four."""
        stacked = np.stack(list(self.outputs().values()))
        return float(np.max(stacked.max(axis=0) - stacked.min(axis=0))) if stacked.size else 0.0


def four_views(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> FourViews:
    """The transposed convolution ``spec`` of ``x`` (C_in, H, W), computed four ways.

    ConvSpecError for a direct spec, for settings PyTorch refuses and for a weight or bias
    of the wrong shape; MatrixTooLarge where the matrix would be too large to build.
    """
    if not spec.transposed:
        raise ConvSpecError("the four views belong to a transposed convolution", "transposed")
    x, weight, bias = checked_operands(x, weight, bias, spec)
    out_shape = spec.output_shape(x.shape)
    geometry = padded_geometry(spec, x.shape[1:])
    stretched = geometry.build(x)
    add_bias = (lambda y: y) if bias is None else (lambda y: y + bias[:, None, None])
    return FourViews(
        scatter=add_bias(_scatter(spec, x, weight, out_shape)),
        gather=add_bias(_gather(spec, x, weight, out_shape)),
        zero_insertion=add_bias(_zero_insertion(spec, stretched, weight, out_shape)),
        matrix=add_bias(_transposed_matrix(spec, x, weight, out_shape)),
        axes=zero_insertion_axes(spec, x.shape[1:]),
        stretched_input=stretched,
        geometry=geometry,
    )


def _group_slices(spec: ConvSpec, c_in: int):
    in_per_group, out_per_group = c_in // spec.groups, spec.out_channels // spec.groups
    for g in range(spec.groups):
        yield (slice(g * in_per_group, (g + 1) * in_per_group),
               slice(g * out_per_group, (g + 1) * out_per_group))


def _scatter(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, out_shape) -> np.ndarray:
    """Each kernel tap (m, n) stamps every input pixel's value × w[m, n] at (r·s + m·d, c·s + n·d)
    of the uncropped output; the padding p then crops p from the top and left."""
    c_in, h, w = x.shape
    c_out, h_out, w_out = out_shape
    (kh, kw), (sh, sw), (dh, dw) = spec.kernel_hw, spec.stride_hw, spec.dilation_hw
    top, _, left, _ = spec.pads()
    full_h = max((h - 1) * sh + dh * (kh - 1) + 1, top + h_out)
    full_w = max((w - 1) * sw + dw * (kw - 1) + 1, left + w_out)
    full = np.zeros((c_out, full_h, full_w))
    for ins, outs in _group_slices(spec, c_in):
        for m in range(kh):
            for n in range(kw):
                stamp = np.einsum("co,chw->ohw", weight[ins, :, m, n], x[ins])
                full[outs, m * dh: m * dh + (h - 1) * sh + 1: sh, n * dw: n * dw + (w - 1) * sw + 1: sw] += stamp
    return full[:, top: top + h_out, left: left + w_out].copy()


def _gather(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, out_shape) -> np.ndarray:
    """Output cell (y, z) collects through tap (m, n) the input pixel r = (y + p − m·d)/s,
    c = (z + p − n·d)/s where both divide exactly and land inside the input."""
    c_in, h, w = x.shape
    c_out, h_out, w_out = out_shape
    (kh, kw), (sh, sw), (dh, dw) = spec.kernel_hw, spec.stride_hw, spec.dilation_hw
    top, _, left, _ = spec.pads()
    out = np.zeros((c_out, h_out, w_out))

    def landing(size_out: int, size_in: int, pad: int, tap: int, dilation: int, stride: int):
        reach = np.arange(size_out) + pad - tap * dilation
        source, rest = np.divmod(reach, stride)
        ok = (rest == 0) & (source >= 0) & (source < size_in)
        return np.flatnonzero(ok), source[ok]

    for ins, outs in _group_slices(spec, c_in):
        for m in range(kh):
            out_rows, rows = landing(h_out, h, top, m, dh, sh)
            if rows.size == 0:
                continue
            for n in range(kw):
                out_cols, cols = landing(w_out, w, left, n, dw, sw)
                if cols.size == 0:
                    continue
                gathered = np.einsum("co,chw->ohw", weight[ins, :, m, n], x[ins][:, rows][:, :, cols])
                out[outs, out_rows[:, None], out_cols[None, :]] += gathered
    return out


def _zero_insertion(spec: ConvSpec, stretched: np.ndarray, weight: np.ndarray, out_shape) -> np.ndarray:
    """The flipped kernel slid at stride 1 (with the dilation) over the stretched, padded input."""
    c_out, h_out, w_out = out_shape
    kh, kw = spec.kernel_hw
    dh, dw = spec.dilation_hw
    flipped = weight[:, :, ::-1, ::-1]
    out = np.zeros((c_out, h_out, w_out))
    for ins, outs in _group_slices(spec, stretched.shape[0]):
        for m in range(kh):
            for n in range(kw):
                window = stretched[ins, m * dh: m * dh + h_out, n * dw: n * dw + w_out]
                out[outs] += np.einsum("co,chw->ohw", flipped[ins, :, m, n], window)
    return out


def _transposed_matrix(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, out_shape) -> np.ndarray:
    """Cᵀx, C the matching direct convolution's matrix (taps of the direct convolution from
    the transposed output back to x): each tap moves x[col of C] into y[row of C]."""
    direct = matching_direct(spec)
    taps = matrix_taps(direct, out_shape)
    # C maps y-sized inputs to outputs; output_padding ≥ stride gives it more outputs than
    # x has pixels: those rows of C meet no pixel of x.
    d_c, d_h, d_w = direct.output_shape(out_shape)
    oc, i, j = np.unravel_index(taps.row, (d_c, d_h, d_w))
    c_in, h, w = x.shape
    inside = (i < h) & (j < w)
    x_index = (oc[inside] * h + i[inside]) * w + j[inside]
    y = np.bincount(taps.col[inside], weights=taps.values(weight)[inside] * x.reshape(-1)[x_index],
                    minlength=int(np.prod(out_shape)))
    return y.reshape(out_shape)
