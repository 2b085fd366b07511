"""The padded input a convolution slides over, and where each of its cells comes from.

A direct convolution pads the input per ``padding_mode``; a transposed convolution is the
direct convolution of a zero-inserted input (``stride - 1`` zeros between real pixels,
then ``dilation*(k-1) - padding`` zeros around it, ``output_padding`` more after) with the
kernel flipped.  Both are described here by one geometry per axis, so the reference, the
walk and the animation draw and compute from the same coordinates.

The walk never builds the padded array: it maps a padded coordinate back to the real
pixel it copies, per axis, in O(1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convplay.core.spec import ConvSpec

# np.pad's names for PyTorch's padding modes; each was checked against torch's F.pad.
NUMPY_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}

NO_SOURCE = -1  # a padded cell that copies no real pixel (it holds zero)


@dataclass(frozen=True)
class PaddedAxis:
    """One axis of the padded input.

    ``size`` real pixels sit ``spacing`` cells apart (1 for a direct conv, the stride for a
    transposed one), with ``before`` cells in front and ``after`` behind.  A negative
    ``before``/``after`` (transposed conv with padding > dilation*(k-1)) crops real cells.
    """

    size: int
    before: int
    after: int
    spacing: int = 1
    mode: str = "zeros"

    @property
    def padded_size(self) -> int:
        return (self.size - 1) * self.spacing + 1 + self.before + self.after

    def on_pad(self, coord: np.ndarray | int) -> np.ndarray:
        """True where a padded coordinate is padding (or an inserted zero), not a real pixel."""
        offset = np.asarray(coord, dtype=np.int64) - self.before
        return (offset < 0) | (offset > (self.size - 1) * self.spacing) | (offset % self.spacing != 0)

    def source(self, coord: np.ndarray | int) -> np.ndarray:
        """The real index each padded coordinate copies, ``NO_SOURCE`` where it holds zero."""
        offset = np.asarray(coord, dtype=np.int64) - self.before
        n = self.size
        if self.mode == "replicate":
            return np.clip(offset, 0, n - 1)
        if self.mode == "circular":
            return np.mod(offset, n)
        if self.mode == "reflect":
            # Reflection without repeating the edge is periodic with period 2(n-1).
            period = max(2 * (n - 1), 1)
            folded = np.mod(offset, period)
            return np.where(folded < n, folded, period - folded)
        index, rest = np.divmod(offset, self.spacing)
        real = (rest == 0) & (index >= 0) & (index < n)
        return np.where(real, index, NO_SOURCE)


@dataclass(frozen=True)
class PaddedGeometry:
    """The padded (or zero-inserted) input of one convolution, for drawing and lookup."""

    rows: PaddedAxis
    cols: PaddedAxis

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right); negative where a transposed conv crops."""
        return (self.rows.before, self.rows.after, self.cols.before, self.cols.after)

    @property
    def padded_shape(self) -> tuple[int, int]:
        return (self.rows.padded_size, self.cols.padded_size)

    @property
    def mode(self) -> str:
        return self.rows.mode

    @property
    def zero_inserted(self) -> bool:
        """True for a transposed conv's input, with zeros between the real pixels."""
        return self.rows.spacing > 1 or self.cols.spacing > 1

    def build(self, x: np.ndarray) -> np.ndarray:
        """The padded copy of ``x`` (C, H, W) that the reference convolves."""
        if self.zero_inserted or self.rows.before < 0 or self.cols.before < 0:
            return self._build_zero_inserted(x)
        widths = ((0, 0), (self.rows.before, self.rows.after), (self.cols.before, self.cols.after))
        return np.pad(x, widths, mode=NUMPY_PAD_MODE[self.mode])

    def _build_zero_inserted(self, x: np.ndarray) -> np.ndarray:
        c = x.shape[0]
        rows, cols = self.rows, self.cols
        out = np.zeros((c, *self.padded_shape), dtype=np.float64)
        # The real pixels land at before + index*spacing; some may fall outside (cropped).
        r_first, c_first = _first_inside(rows), _first_inside(cols)
        r_last, c_last = _last_inside(rows), _last_inside(cols)
        if r_first > r_last or c_first > c_last:
            return out
        out[
            :,
            rows.before + r_first * rows.spacing : rows.before + r_last * rows.spacing + 1 : rows.spacing,
            cols.before + c_first * cols.spacing : cols.before + c_last * cols.spacing + 1 : cols.spacing,
        ] = x[:, r_first : r_last + 1, c_first : c_last + 1]
        return out


def _first_inside(axis: PaddedAxis) -> int:
    """The first real index whose padded coordinate is >= 0."""
    return max(0, -(axis.before // axis.spacing))


def _last_inside(axis: PaddedAxis) -> int:
    """The last real index whose padded coordinate is < padded_size."""
    return min(axis.size - 1, (axis.padded_size - 1 - axis.before) // axis.spacing)


def padded_geometry(spec: ConvSpec, input_hw: tuple[int, int]) -> PaddedGeometry:
    """The geometry of the input that ``spec``'s kernel slides over (stride 1 if transposed)."""
    h, w = input_hw
    if not spec.transposed:
        top, bottom, left, right = spec.pads()
        return PaddedGeometry(
            PaddedAxis(h, top, bottom, 1, spec.padding_mode),
            PaddedAxis(w, left, right, 1, spec.padding_mode),
        )
    (dkh, dkw), (sh, sw) = spec.dilated_kernel_hw, spec.stride_hw
    top, _, left, _ = spec.pads()
    oph, opw = spec.output_padding_hw
    rim_h, rim_w = dkh - 1 - top, dkw - 1 - left
    return PaddedGeometry(
        PaddedAxis(h, rim_h, rim_h + oph, sh, "zeros"),
        PaddedAxis(w, rim_w, rim_w + opw, sw, "zeros"),
    )
