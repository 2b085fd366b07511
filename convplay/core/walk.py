"""The sliding-window walk: every tap, product and sum of one output value, on demand.

Steps run row-major over (out_channel, i, j), the order of ``AnimationState``.  Any step
is built in O(taps) from the input, the kernel and the padding geometry; nothing is
tabulated over all steps, so a walk over a 1024x1024 input costs no more than one over
5x5.

A transposed convolution is walked two ways:

- gather (``step``): the kernel, flipped, slides over the zero-inserted input
  (``convplay.core.padding``); taps that land on an inserted zero or on the rim are
  padding, the others are exactly the input pixels and kernel taps that reach the output
  pixel.
- scatter (``scatter``): one input pixel stamps value x kernel into a block of output
  cells, for every output channel of its group; stamps outside the output are cropped by
  the padding.

Kernel positions: ``ki, kj`` is where a tap sits in the sliding window; ``weight_ki,
weight_kj`` is the index into the stored weight (they differ when the kernel is flipped:
a true convolution, or a transposed conv's gather view).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convplay.core.padding import NO_SOURCE, PaddedGeometry, padded_geometry
from convplay.core.reference import checked_operands, conv2d_reference, sliding_kernel
from convplay.core.spec import ConvSpec


@dataclass(frozen=True, eq=False)
class Taps:
    """One entry per tap of a window, ordered (input channel, ki, kj); all arrays 1-D.

    Reshape any field to ``Step.taps_shape`` for a (channel, kh, kw) grid.
    """

    in_channel: np.ndarray  # int
    ki: np.ndarray  # int, row in the sliding window
    kj: np.ndarray  # int, column in the sliding window
    weight_ki: np.ndarray  # int, row of the stored weight read here
    weight_kj: np.ndarray  # int, column of the stored weight read here
    padded_row: np.ndarray  # int, coordinate in the padded input
    padded_col: np.ndarray  # int
    on_pad: np.ndarray  # bool: the tap reads padding, not an input pixel
    source_row: np.ndarray  # int, the real pixel the tap reads (or copies); -1 for zeros
    source_col: np.ndarray  # int
    value: np.ndarray  # float64, input value under the tap (0 on zero padding)
    weight: np.ndarray  # float64
    product: np.ndarray  # float64, value * weight


@dataclass(frozen=True, eq=False)
class Step:
    """One output value and the arithmetic that makes it."""

    k: int
    out_channel: int
    position: tuple[int, int]  # (i, j) in the output
    group: int
    in_channels: np.ndarray  # the input channels this output channel reads
    taps: Taps
    taps_shape: tuple[int, int, int]  # (len(in_channels), kh, kw)
    partial_sums: np.ndarray  # sum of products per input channel, aligned with in_channels
    bias: float
    total: float  # sum(partial_sums) + bias: the output value
    window_origin: tuple[int, int]  # top-left of the window in padded coordinates
    geometry: PaddedGeometry  # pads and padded size, shared by every step


@dataclass(frozen=True, eq=False)
class Stamp:
    """A transposed conv's scatter view: one input pixel times the kernel, into the output.

    Arrays hold one entry per (output channel of the group, ki, kj), in that order.
    """

    in_channel: int
    position: tuple[int, int]  # (r, c) of the input pixel
    group: int
    value: float
    out_channels: np.ndarray
    out_channel: np.ndarray  # int, per stamp entry
    ki: np.ndarray  # int, kernel row (of the kernel as applied: flipped if flip=True)
    kj: np.ndarray
    weight_ki: np.ndarray  # int, row of the stored weight
    weight_kj: np.ndarray
    out_row: np.ndarray  # int, target output coordinate (outside the output when cropped)
    out_col: np.ndarray
    inside: np.ndarray  # bool: the target lies in the output (not cropped by padding)
    weight: np.ndarray  # float64
    product: np.ndarray  # float64, value * weight


class ConvWalk:
    """Random access to the arithmetic of every output value of one convolution."""

    def __init__(
        self,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None,
        spec: ConvSpec,
        *,
        flip: bool = False,
    ):
        x, weight, bias = checked_operands(x, weight, bias, spec)
        self.spec = spec
        self.flip = bool(flip)
        self.output_shape: tuple[int, int, int] = spec.output_shape(x.shape)
        self.geometry = padded_geometry(spec, x.shape[1:])
        self._x = x
        self._kernel = np.ascontiguousarray(sliding_kernel(weight, spec, flip=self.flip))
        self._bias = np.zeros(spec.out_channels) if bias is None else bias
        _, in_per_group, kh, kw = self._kernel.shape
        self._in_per_group = in_per_group
        self._out_per_group = spec.out_channels // spec.groups
        self._stride = (1, 1) if spec.transposed else spec.stride_hw
        self._dilation = spec.dilation_hw
        # Grid of tap indices, shared by every step: (channel, ki, kj) flattened.
        self._tap_channel, self._tap_ki, self._tap_kj = _index_grid(in_per_group, kh, kw)
        mirrored = spec.transposed != self.flip  # the window reads the stored weight mirrored
        self._tap_weight_ki = _read_only(kh - 1 - self._tap_ki) if mirrored else self._tap_ki
        self._tap_weight_kj = _read_only(kw - 1 - self._tap_kj) if mirrored else self._tap_kj
        self.taps_shape = (in_per_group, kh, kw)
        if spec.transposed:
            # The scatter view stamps the kernel as applied: (in, out/groups, kh, kw).
            self._stamp_kernel = np.ascontiguousarray(weight[:, :, ::-1, ::-1] if self.flip else weight)
            self._stamp_out, self._stamp_ki, self._stamp_kj = _index_grid(self._out_per_group, kh, kw)
            self._stamp_weight_ki = _read_only(kh - 1 - self._stamp_ki) if self.flip else self._stamp_ki
            self._stamp_weight_kj = _read_only(kw - 1 - self._stamp_kj) if self.flip else self._stamp_kj

    def __len__(self) -> int:
        c, h, w = self.output_shape
        return c * h * w

    def index_of(self, oc: int, i: int, j: int) -> int:
        """The step that computes output (oc, i, j)."""
        c, h, w = self.output_shape
        if not (0 <= oc < c and 0 <= i < h and 0 <= j < w):
            raise IndexError(f"output ({oc}, {i}, {j}) is outside the output of shape {self.output_shape}")
        return (oc * h + i) * w + j

    def cell(self, k: int) -> tuple[int, int, int]:
        """(out_channel, i, j) of step ``k``."""
        if not 0 <= k < len(self):
            raise IndexError(f"step {k} is outside 0..{len(self) - 1}")
        _, h, w = self.output_shape
        oc, rest = divmod(int(k), h * w)
        i, j = divmod(rest, w)
        return oc, i, j

    def step(self, k: int) -> Step:
        """The window, taps, products and sums of step ``k``."""
        oc, i, j = self.cell(k)
        group = oc // self._out_per_group
        first_in = group * self._in_per_group
        (sh, sw), (dh, dw) = self._stride, self._dilation
        top, left = i * sh, j * sw
        rows = top + self._tap_ki * dh
        cols = left + self._tap_kj * dw
        src_rows = self.geometry.rows.source(rows)
        src_cols = self.geometry.cols.source(cols)
        real = (src_rows != NO_SOURCE) & (src_cols != NO_SOURCE)
        channels = first_in + self._tap_channel
        values = np.where(real, self._x[channels, np.maximum(src_rows, 0), np.maximum(src_cols, 0)], 0.0)
        weights = self._kernel[oc].reshape(-1)
        products = values * weights
        partial = products.reshape(self._in_per_group, -1).sum(axis=1)
        bias = float(self._bias[oc])
        on_pad = self.geometry.rows.on_pad(rows) | self.geometry.cols.on_pad(cols)
        taps = Taps(
            in_channel=channels,
            ki=self._tap_ki,
            kj=self._tap_kj,
            weight_ki=self._tap_weight_ki,
            weight_kj=self._tap_weight_kj,
            padded_row=rows,
            padded_col=cols,
            on_pad=on_pad,
            source_row=np.where(real, src_rows, NO_SOURCE),
            source_col=np.where(real, src_cols, NO_SOURCE),
            value=values,
            weight=weights,
            product=products,
        )
        return Step(
            k=int(k),
            out_channel=oc,
            position=(i, j),
            group=group,
            in_channels=np.arange(first_in, first_in + self._in_per_group),
            taps=taps,
            taps_shape=self.taps_shape,
            partial_sums=partial,
            bias=bias,
            total=float(partial.sum()) + bias,
            window_origin=(top, left),
            geometry=self.geometry,
        )

    # -- transposed convolution: the scatter view -------------------------------------
    @property
    def scatter_count(self) -> int:
        """Input pixels that stamp the output (C*H*W); 0 unless transposed."""
        return self._x.size if self.spec.transposed else 0

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the whole convolution (what a full reference costs)."""
        return len(self) * int(np.prod(self.taps_shape))

    def stamped_output(self, k: int, out_channel: int) -> np.ndarray:
        """Output channel ``out_channel`` (float64, starting at its bias) once input pixels
        0..k have stamped: a full reference of the masked input, so O(macs)."""
        if not 0 <= k < self.scatter_count:
            raise IndexError(f"scatter step {k} is outside 0..{self.scatter_count - 1}")
        masked = np.zeros_like(self._x)
        masked.reshape(-1)[: k + 1] = self._x.reshape(-1)[: k + 1]
        return conv2d_reference(masked, self._stamp_kernel, self._bias, self.spec)[out_channel].copy()

    def scatter_pixel(self, k: int) -> tuple[int, int, int]:
        """(in_channel, r, c) of scatter step ``k``, row-major over the input."""
        if not 0 <= k < self.scatter_count:
            raise IndexError(f"scatter step {k} is outside 0..{self.scatter_count - 1}")
        _, h, w = self._x.shape
        c_in, rest = divmod(int(k), h * w)
        r, c = divmod(rest, w)
        return c_in, r, c

    def scatter(self, c_in: int, r: int, c: int) -> Stamp:
        """Input pixel (c_in, r, c) of a transposed conv stamping value x kernel into the output."""
        if not self.spec.transposed:
            raise ValueError("the scatter view belongs to a transposed convolution")
        channels, h, w = self._x.shape
        if not (0 <= c_in < channels and 0 <= r < h and 0 <= c < w):
            raise IndexError(f"input ({c_in}, {r}, {c}) is outside the input of shape {self._x.shape}")
        in_per_group = channels // self.spec.groups
        group = c_in // in_per_group
        (sh, sw), (dh, dw) = self.spec.stride_hw, self._dilation
        top, _, left, _ = self.spec.pads()
        out_rows = r * sh + self._stamp_ki * dh - top
        out_cols = c * sw + self._stamp_kj * dw - left
        _, h_out, w_out = self.output_shape
        inside = (out_rows >= 0) & (out_rows < h_out) & (out_cols >= 0) & (out_cols < w_out)
        value = float(self._x[c_in, r, c])
        weights = self._stamp_kernel[c_in].reshape(-1)
        first_out = group * self._out_per_group
        return Stamp(
            in_channel=c_in,
            position=(r, c),
            group=group,
            value=value,
            out_channels=np.arange(first_out, first_out + self._out_per_group),
            out_channel=first_out + self._stamp_out,
            ki=self._stamp_ki,
            kj=self._stamp_kj,
            weight_ki=self._stamp_weight_ki,
            weight_kj=self._stamp_weight_kj,
            out_row=out_rows,
            out_col=out_cols,
            inside=inside,
            weight=weights,
            product=value * weights,
        )


def _read_only(a: np.ndarray) -> np.ndarray:
    """Index arrays shared by every step: a caller must not be able to change them."""
    a.setflags(write=False)
    return a


def _index_grid(channels: int, kh: int, kw: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(channel, ki, kj) of every tap, flattened in that order."""
    return tuple(_read_only(axis.copy()) for axis in np.indices((channels, kh, kw)).reshape(3, -1))
