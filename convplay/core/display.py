"""What the output panel shows for one PyTorch output, computed off the UI thread.

The compute worker calls a ``DisplayPreparer`` right after PyTorch returns, so the UI
thread only hands ready arrays to the views: the chosen channel as float32 with its
levels (the raw values, |x| or ReLU(x)) and as ready-coloured pixels, and every
channel's thumbnail already coloured with its own scale.  numpy only: no Qt, safe in any
thread.

Raw values use symmetric levels +-max|x| (zero is the diverging map's centre, negatives
are never clipped); |x| and ReLU(x) use 0 .. max.  Non-finite values are left out of the
scales; a NaN thumbnail pixel is transparent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

MODES = ("raw", "abs", "relu")
GRID_MAX_CHANNELS = 64
THUMB_MAX_PX = 96  # thumbnails are decimated to this many pixels per side at most


def finite_abs_max(x: np.ndarray) -> float:
    """max |x| over the finite values (0 for an empty or all-NaN array)."""
    if x.size == 0:
        return 0.0
    m = max(float(x.max()), -float(x.min()))
    if math.isfinite(m):
        return m
    finite = x[np.isfinite(x)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def transformed(x: np.ndarray, mode: str) -> tuple[np.ndarray, tuple[float, float]]:
    """What a view shows for ``mode`` and the levels to show it with."""
    if mode == "raw":
        m = finite_abs_max(x) or 1.0
        return x, (-m, m)
    y = np.abs(x) if mode == "abs" else np.maximum(x, 0)
    return y, (0.0, finite_abs_max(y) or 1.0)


def argb_table(lut: np.ndarray) -> np.ndarray:
    """A (256, 3 or 4) uint8 RGB(A) lookup table as 256 premultiplied ARGB32 words.

    Premultiplied ARGB32 is the raster engine's own pixel format: Qt draws such an image
    without converting it (0.13 ms for 512x512 here, against 0.85 ms for an indexed one).
    """
    lut = np.asarray(lut, dtype=np.uint32)
    alpha = lut[:, 3] if lut.shape[1] == 4 else np.full(len(lut), 255, dtype=np.uint32)
    r, g, b = (lut[:, k] * alpha // 255 for k in range(3))
    return np.ascontiguousarray((alpha << 24) | (r << 16) | (g << 8) | b, dtype=np.uint32)


Lookup = Callable[[np.ndarray, np.ndarray], np.ndarray]


def take_lookup(index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[index]`` for a uint8 ``index``: the numpy way (see ``coloured``)."""
    return table.take(index)


def coloured(
    values: np.ndarray, levels: tuple[float, float], table: np.ndarray, lookup: Lookup = take_lookup
) -> np.ndarray:
    """``values`` (H, W) as (H, W) pixels of ``table`` (``argb_table``) over ``levels``.

    Binned as pyqtgraph bins a float image for its 256-entry lookup table: bin
    ``(x - lo) * 256 / (hi - lo)`` truncated and clipped to 0..255, so the picture is the
    one pyqtgraph would draw.  NaN pixels are transparent (0), as in pyqtgraph.
    ``lookup(index, table)`` turns the uint8 bins into pixels (``widgets.lookup.qt_lookup``
    lets Qt do it, twice as fast as numpy's ``take``).
    """
    lo, hi = float(levels[0]), float(levels[1])
    index = np.subtract(values, np.float32(lo), dtype=np.float32)
    index *= np.float32(256.0 / ((hi - lo) or 1.0))
    np.clip(index, 0, 255, out=index)
    nan = np.isnan(index) if index.size and np.isnan(index.max()) else None
    if nan is not None:
        index[nan] = 0
    pixels = lookup(index.astype(np.uint8), table)
    if nan is not None:
        pixels[nan] = 0
    return pixels


@dataclass(frozen=True, eq=False)
class ChannelView:
    """The large view's image: ``image`` (H, W) float32 C-contiguous, drawn with ``levels``.

    ``pixels``, when not None, is ``image`` already coloured (``coloured``) with the
    mode's colour map at ``levels``: the view draws it as is.
    """

    channel: int
    mode: str
    image: np.ndarray
    levels: tuple[float, float]
    pixels: np.ndarray | None = None


def channel_view(
    output: np.ndarray, channel: int, mode: str, table: np.ndarray | None = None, lookup: Lookup = take_lookup
) -> ChannelView:
    """Channel ``channel`` of ``output`` (C, H, W) as the large view shows it in ``mode``;
    coloured with ``table`` (the mode's ``argb_table``, through ``lookup``) when one is given."""
    channel = min(max(channel, 0), output.shape[0] - 1)
    raw = output[channel]
    if raw.dtype != np.float32 or not raw.flags.c_contiguous:
        raw = np.ascontiguousarray(raw, dtype=np.float32)
    shown, levels = transformed(raw, mode)
    pixels = None if table is None else coloured(shown, levels, table, lookup)
    return ChannelView(channel, mode, shown, levels, pixels)


@dataclass(frozen=True, eq=False)
class Thumbnails:
    """Every channel (up to GRID_MAX_CHANNELS) small and coloured, each with its own scale.

    ``rgba`` is (n, h, w, 4) uint8; thumbnail pixel (i, j) is output pixel
    (i * step, j * step).  ``scales[c]`` is the value the map's end stands for: +-scale
    for raw values, 0 .. scale for |x| and ReLU(x).  ``zero[c]`` is True where every
    thumbnail value of the channel is 0 (its scale is then 1, only to bin the colours).
    """

    mode: str
    step: int
    rgba: np.ndarray
    scales: np.ndarray
    zero: np.ndarray | None = None


def _channel_peaks(values: np.ndarray) -> np.ndarray:
    """max|x| over the finite values of each channel of ``values`` (n, h, w); 0 when none."""
    flat = values.reshape(values.shape[0], -1)
    if flat.shape[1] == 0:
        return np.zeros(values.shape[0])
    peaks = np.maximum(flat.max(axis=1), -flat.min(axis=1)).astype(np.float64)
    for c in np.flatnonzero(~np.isfinite(peaks)):  # rare: a NaN or an infinity in that channel
        peaks[c] = finite_abs_max(flat[c])
    return peaks


def thumbnails(output: np.ndarray, mode: str, luts: dict[str, np.ndarray]) -> Thumbnails:
    """Decimate and colour every channel of ``output`` (C, H, W) with ``luts[mode]`` (256, 4)."""
    n = min(output.shape[0], GRID_MAX_CHANNELS)
    h, w = output.shape[1:]
    step = max(1, math.ceil(max(h, w, 1) / THUMB_MAX_PX))
    small = np.array(output[:n, ::step, ::step], dtype=np.float32)
    if mode != "raw":
        small = np.abs(small) if mode == "abs" else np.maximum(small, 0)
    peaks = _channel_peaks(small)
    scales = np.where(peaks == 0, 1.0, peaks)
    # Every finite value is within +-scale: 256 equal bins over [-1, 1] (raw) or [0, 1]
    # (|x|, ReLU); infinities clip to the ends.
    index = small / scales[:, None, None].astype(np.float32)
    if mode == "raw":
        index += 1.0
        index *= 128.0
    else:
        index *= 256.0
    nan = np.isnan(index)
    np.clip(index, 0, 255, out=index)
    index[nan] = 0
    # One 32-bit word per RGBA colour: a flat take is ten times faster than indexing rows.
    lut = np.ascontiguousarray(luts[mode], dtype=np.uint8).view(np.uint32).ravel()
    rgba = lut.take(index.astype(np.uint8)).view(np.uint8).reshape(*index.shape, 4)
    rgba[nan] = 0
    return Thumbnails(mode, step, rgba, scales, peaks == 0)


@dataclass(frozen=True, eq=False)
class OutputDisplay:
    """Ready-to-show arrays for one output; ``thumbnails`` is None when the grid is hidden."""

    view: ChannelView
    thumbnails: Thumbnails | None


@dataclass(frozen=True)
class DisplayChoice:
    """The panel's current choices, read by the worker thread (replaced, never mutated)."""

    channel: int = 0
    mode: str = "raw"
    with_thumbnails: bool = True


class DisplayPreparer:
    """``preparer(output) -> OutputDisplay`` for the panel's current ``choice``; any thread.

    The panel replaces ``choice`` whenever the channel, the mode or the grid's visibility
    changes; a result prepared for an older choice is redone by the panel.
    """

    def __init__(self, luts: dict[str, np.ndarray], lookup: Lookup = take_lookup):
        self._luts = {mode: np.ascontiguousarray(lut, dtype=np.uint8) for mode, lut in luts.items()}
        self._tables = {mode: argb_table(lut) for mode, lut in self._luts.items()}
        self.lookup = lookup  # how ``coloured`` turns bins into pixels
        self.choice = DisplayChoice()

    @property
    def luts(self) -> dict[str, np.ndarray]:
        return self._luts

    @property
    def tables(self) -> dict[str, np.ndarray]:
        """``argb_table`` of each mode's lookup table: what the large view is coloured with."""
        return self._tables

    def __call__(self, output: np.ndarray) -> OutputDisplay:
        choice = self.choice  # one read: the UI thread may replace it meanwhile
        view = channel_view(output, choice.channel, choice.mode, self._tables.get(choice.mode), self.lookup)
        thumbs = thumbnails(output, choice.mode, self._luts) if choice.with_thumbnails else None
        return OutputDisplay(view, thumbs)
