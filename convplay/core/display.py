"""What the output panel shows for one PyTorch output, computed off the UI thread.

The compute worker calls a ``DisplayPreparer`` right after PyTorch returns, so the UI
thread only hands ready arrays to the views: the chosen channel as float32 with its
levels (the raw values, |x| or ReLU(x)) and as ready-coloured pixels, and every
channel's thumbnail already coloured with its own scale.  numpy only: no Qt, safe in any
thread.

Two choices decide the picture.  The *mode* says which values are shown (raw x, |x|,
ReLU(x)); the *mapping* says how they become colours:

- ``diverging``: symmetric levels +-max|x|, so 0 is the map's white centre and negative
  responses are never clipped: for signed outputs (edges, differences).
- ``sequential``: 0 .. max (min .. max when there are negatives) on a sequential map:
  for magnitudes.
- ``image_clip``: grey, 0 is black and 1 is white, anything beyond clipped, as a photo
  editor shows a filtered picture: a blurred photo looks like a blurred photo.
- ``image_minmax``: grey stretched from the minimum (black) to the maximum (white).
- ``image_rgb``: an output of three channels (a depthwise filter of a colour photo) as one
  colour picture, channels 0, 1, 2 as red, green, blue, each 0..1 clipped; with another
  number of channels it is ``image_clip``.  The grid shows each channel as ``image_clip``.
- ``auto`` (the default): ``diverging`` when the shown values have negatives, else
  ``sequential``.  It is decided once per output over every channel, so the grid and the
  large view agree and switching channels does not switch maps.

Non-finite values are left out of the scales; a NaN pixel is transparent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from convplay.core import gradients
from convplay.core.formatting import format_cell

MODES = ("raw", "abs", "relu")
MAPPINGS = ("auto", "diverging", "sequential", "image_clip", "image_minmax", "image_rgb")
# The colour map each (decided) mapping draws with: the keys of a preparer's lookup tables.
DIVERGING_MAP, SEQUENTIAL_MAP, GREY_MAP = "diverging", "sequential", "grey"
COLOUR_MAP_OF = {
    "diverging": DIVERGING_MAP,
    "sequential": SEQUENTIAL_MAP,
    "image_clip": GREY_MAP,
    "image_minmax": GREY_MAP,
    "image_rgb": GREY_MAP,  # the bar: each channel's 0..1
}
MAPPING_CAPTIONS = {  # what the colour bar says it shows
    "diverging": "diverging, 0 at the centre",
    "sequential": "sequential, 0 to max",
    "image_clip": "grey image, 0..1 clipped",
    "image_minmax": "grey image, min to max",
    "image_rgb": "colour image: ch 0, 1, 2 as R, G, B, 0..1 clipped",
}
GRID_MAX_CHANNELS = 64
THUMB_MAX_PX = 96  # thumbnails are decimated to this many pixels per side at most
# A negative value smaller than this share of max|x| is float rounding (a sum of
# non-negative terms done in another order), not a sign: it does not make an output signed.
SIGN_NOISE = 1e-6
# A printed value smaller than this share of the map's scale is float32 rounding of 0
# (8.72e-09 beside values of 1): the cell prints 0, the hover readout the exact value.
PRINTED_ZERO = 1e-6
SHORT_DIGITS = 3  # significant digits of the scale a narrow cell keeps


def finite_abs_max(x: np.ndarray) -> float:
    """max |x| over the finite values (0 for an empty or all-NaN array)."""
    if x.size == 0:
        return 0.0
    m = max(float(x.max()), -float(x.min()))
    if math.isfinite(m):
        return m
    finite = x[np.isfinite(x)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def finite_range(x: np.ndarray) -> tuple[float, float]:
    """(min, max) over the finite values; (0, 0) for an empty or all-NaN array."""
    if x.size == 0:
        return 0.0, 0.0
    lo, hi = float(x.min()), float(x.max())
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    finite = x[np.isfinite(x)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def shown_values(x: np.ndarray, mode: str) -> np.ndarray:
    """The values ``mode`` shows: ``x`` itself, |x| or ReLU(x)."""
    if mode == "raw":
        return x
    return np.abs(x) if mode == "abs" else np.maximum(x, 0)


def has_sign(lo: float, hi: float) -> bool:
    """Whether values spanning ``lo`` .. ``hi`` have negatives beyond float rounding."""
    return lo < 0 and -lo > SIGN_NOISE * max(abs(lo), abs(hi))


def is_signed(output: np.ndarray, mode: str = "raw") -> bool:
    """Whether ``mode``'s view of ``output`` has negative values (|x| and ReLU never do)."""
    if mode != "raw":
        return False
    return has_sign(*finite_range(output))


def decide_mapping(mapping: str, signed: bool, channels: int = 3) -> str:
    """The mapping drawn for the user's choice: ``auto`` becomes diverging or sequential;
    ``image_rgb`` needs an output of exactly three ``channels``, else it is ``image_clip``."""
    if mapping == "auto":
        return "diverging" if signed else "sequential"
    if mapping == "image_rgb" and channels != 3:
        return "image_clip"
    if mapping not in COLOUR_MAP_OF:
        raise ValueError(f"unknown mapping {mapping!r}; expected one of {MAPPINGS}")
    return mapping


def mapping_levels(lo: float, hi: float, mapping: str) -> tuple[float, float]:
    """The levels (value of the map's low end, of its high end) for values spanning
    ``lo`` .. ``hi`` under a decided ``mapping``; never an empty span."""
    if mapping == "diverging":
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    if mapping in ("image_clip", "image_rgb"):
        return 0.0, 1.0
    if mapping == "sequential":
        lo = lo if has_sign(lo, hi) else 0.0
        if lo == hi == 0:
            return 0.0, 1.0  # all 0: the map's bottom, as any 0 of a sequential map
    if not hi > lo:
        return lo - 0.5, lo + 0.5  # one value: the map's middle
    return lo, hi


def transformed(
    x: np.ndarray, mode: str, mapping: str = "auto", signed: bool | None = None
) -> tuple[np.ndarray, tuple[float, float]]:
    """What a view shows for ``mode`` and the levels to show it with under ``mapping``.

    ``signed`` decides ``auto`` (pass ``is_signed`` of the whole output); None decides it
    from ``x`` alone."""
    y = shown_values(x, mode)
    lo, hi = finite_range(y)
    if signed is None:
        signed = mode == "raw" and has_sign(lo, hi)
    return y, mapping_levels(lo, hi, decide_mapping(mapping, signed))


def mapping_caption(mapping: str, levels: tuple[float, float], chosen: str = "") -> str:
    """What a colour bar says it shows: the decided ``mapping`` at ``levels``, prefixed with
    "auto: " when ``chosen`` was auto."""
    text = MAPPING_CAPTIONS[mapping]
    if mapping == "sequential" and levels[0] != 0:
        text = "sequential, min to max"  # negatives: the map starts at the minimum
    if chosen == "image_rgb" and mapping != "image_rgb":
        text += " (colour needs 3 channels)"
    return f"auto: {text}" if chosen == "auto" else text


def cell_text(value: float, scale: float, *, short: bool = False) -> str:
    """A value printed in an output cell with ``format_cell``; a value within float32
    rounding of 0 beside values of size ``scale`` prints as ``0``.

    ``short``, for cells too narrow for four digits: rounded to the third significant digit
    of ``scale`` (as a colour bar reads), so beside a maximum of 3.43, 1.7125 prints as
    ``1.71`` and 0.00098 as ``0``.  The hover readout always has the exact value."""
    value = float(value)
    if not math.isfinite(value):
        return format_cell(value)
    if abs(value) < PRINTED_ZERO * scale:
        value = 0.0
    if short and scale > 0 and math.isfinite(scale):
        value = round(value, max(0, SHORT_DIGITS - 1 - math.floor(math.log10(scale))))
    return format_cell(value)


def rgb_pixels(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) values as (H, W) opaque ARGB32 words, each channel 0..1 clipped to 0..255
    with ``coloured``'s binning (bin ``x * 256``); a pixel with a NaN is transparent."""
    index = np.multiply(rgb, np.float32(256.0), dtype=np.float32)
    nan = np.isnan(index).any(axis=-1)
    np.clip(index, 0, 255, out=index)
    index[nan] = 0
    channels = index.astype(np.uint32)
    words = np.uint32(0xFF000000) | (channels[..., 0] << 16) | (channels[..., 1] << 8) | channels[..., 2]
    words[nan] = 0
    return np.ascontiguousarray(words, dtype=np.uint32)


def grey_lut() -> np.ndarray:
    """(256, 4) uint8: black to white in equal steps, as an image editor shows grey levels."""
    lut = np.empty((256, 4), np.uint8)
    lut[:, :3] = np.arange(256, dtype=np.uint8)[:, None]
    lut[:, 3] = 255
    return lut


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

    ``mapping`` is the decided mapping (never ``auto``), ``colour_map`` the key of the
    lookup table it draws with.  Under ``image_rgb`` ``image`` is (H, W, 3): channels 0-2.  ``pixels``, when not None, is ``image`` already coloured
    (``coloured``) with that table at ``levels``: the view draws it as is.
    """

    channel: int
    mode: str
    image: np.ndarray
    levels: tuple[float, float]
    pixels: np.ndarray | None = None
    mapping: str = "diverging"
    chosen: str = "auto"  # the user's choice the mapping was decided from

    @property
    def colour_map(self) -> str:
        return COLOUR_MAP_OF[self.mapping]


def channel_view(
    output: np.ndarray,
    channel: int,
    mode: str,
    tables: dict[str, np.ndarray] | None = None,
    lookup: Lookup = take_lookup,
    mapping: str = "auto",
    signed: bool | None = None,
) -> ChannelView:
    """Channel ``channel`` of ``output`` (C, H, W) as the large view shows it in ``mode`` under
    ``mapping``; coloured with ``tables[colour map]`` (``argb_table``s, through ``lookup``)
    when tables are given.  ``signed`` (``is_signed`` of the whole output) decides ``auto``;
    None decides it here, over every channel."""
    channel = min(max(channel, 0), output.shape[0] - 1)
    raw = output[channel]
    if raw.dtype != np.float32 or not raw.flags.c_contiguous:
        raw = np.ascontiguousarray(raw, dtype=np.float32)
    if signed is None:
        signed = is_signed(output, mode)
    decided = decide_mapping(mapping, signed, output.shape[0])
    if decided == "image_rgb":
        shown = np.ascontiguousarray(np.moveaxis(shown_values(output[:3], mode), 0, -1), dtype=np.float32)
        pixels = None if tables is None else rgb_pixels(shown)
        return ChannelView(channel, mode, shown, (0.0, 1.0), pixels, decided, mapping)
    shown, levels = transformed(raw, mode, decided, signed)
    table = None if tables is None else tables.get(COLOUR_MAP_OF[decided])
    pixels = None if table is None else coloured(shown, levels, table, lookup)
    return ChannelView(channel, mode, shown, levels, pixels, decided, mapping)


@dataclass(frozen=True, eq=False)
class Thumbnails:
    """Every channel (up to GRID_MAX_CHANNELS) small and coloured, each with its own scale.

    ``rgba`` is (n, h, w, 4) uint8; thumbnail pixel (i, j) is output pixel
    (i * step, j * step).  ``levels[c]`` is (low, high): the values the map's ends stand
    for in channel c; ``ranges[c]`` the channel's own (min, max) of the shown values;
    ``scales[c]`` max(|low|, |high|).  ``zero[c]`` is True where every thumbnail value of
    the channel is 0.  ``mapping`` is the decided mapping (never ``auto``).
    """

    mode: str
    step: int
    rgba: np.ndarray
    scales: np.ndarray
    zero: np.ndarray | None = None
    mapping: str = "diverging"
    levels: np.ndarray | None = None
    ranges: np.ndarray | None = None


def _channel_ranges(values: np.ndarray) -> np.ndarray:
    """(n, 2): (min, max) over the finite values of each channel of ``values`` (n, h, w)."""
    flat = values.reshape(values.shape[0], -1)
    if flat.shape[1] == 0:
        return np.zeros((values.shape[0], 2))
    ranges = np.stack([flat.min(axis=1), flat.max(axis=1)], axis=1).astype(np.float64)
    for c in np.flatnonzero(~np.isfinite(ranges).all(axis=1)):  # rare: a NaN or an infinity
        ranges[c] = finite_range(flat[c])
    return ranges


def thumbnails(
    output: np.ndarray,
    mode: str,
    luts: dict[str, np.ndarray],
    mapping: str = "auto",
    signed: bool | None = None,
) -> Thumbnails:
    """Decimate and colour every channel of ``output`` (C, H, W) under ``mapping`` with
    ``luts[colour map]`` (256, 4); each channel gets its own levels (``mapping_levels``)."""
    n = min(output.shape[0], GRID_MAX_CHANNELS)
    h, w = output.shape[1:]
    step = max(1, math.ceil(max(h, w, 1) / THUMB_MAX_PX))
    small = np.array(output[:n, ::step, ::step], dtype=np.float32)
    if mode != "raw":
        small = shown_values(small, mode)
    if signed is None:
        signed = is_signed(output, mode)
    decided = decide_mapping(mapping, signed, output.shape[0])
    ranges = _channel_ranges(small)
    levels = np.array([mapping_levels(lo, hi, decided) for lo, hi in ranges], dtype=np.float64).reshape(n, 2)
    lows = levels[:, 0].astype(np.float32)[:, None, None]
    spans = (levels[:, 1] - levels[:, 0]).astype(np.float32)[:, None, None]
    # 256 equal bins between each channel's levels, as ``coloured`` bins the large view;
    # infinities clip to the ends.
    index = (small - lows) / spans  # divided first: 0 lands exactly on a diverging map's centre
    index *= np.float32(256.0)
    nan = np.isnan(index)
    np.clip(index, 0, 255, out=index)
    index[nan] = 0
    # One 32-bit word per RGBA colour: a flat take is ten times faster than indexing rows.
    lut = np.ascontiguousarray(luts[COLOUR_MAP_OF[decided]], dtype=np.uint8).view(np.uint32).ravel()
    rgba = lut.take(index.astype(np.uint8)).view(np.uint8).reshape(*index.shape, 4)
    rgba[nan] = 0
    scales = np.abs(levels).max(axis=1)
    zero = (ranges == 0).all(axis=1)
    return Thumbnails(mode, step, rgba, scales, zero, decided, levels, ranges)


@dataclass(frozen=True, eq=False)
class OutputDisplay:
    """Ready-to-show arrays for one output; ``thumbnails`` is None when the grid is hidden.
    ``signed``: whether the output (in the view's mode) has negatives, which decides auto."""

    view: ChannelView
    thumbnails: Thumbnails | None
    signed: bool = False
    # The chosen gradient view of a two-channel output (gradients.DerivedView), else None.
    derived: gradients.DerivedView | None = None


@dataclass(frozen=True)
class DisplayChoice:
    """The panel's current choices, read by the worker thread (replaced, never mutated)."""

    channel: int = 0
    mode: str = "raw"
    with_thumbnails: bool = True
    mapping: str = "auto"
    gradient: str = "channel"  # one of gradients.VIEWS: a derived view of a two-channel output
    edge_fraction: float = gradients.DEFAULT_EDGE_FRACTION  # the edges view's threshold, of max


class DisplayPreparer:
    """``preparer(output) -> OutputDisplay`` for the panel's current ``choice``; any thread.

    ``luts`` maps each colour map (``DIVERGING_MAP``, ``SEQUENTIAL_MAP``, ``GREY_MAP``) to
    its (256, 3|4) lookup table.  The panel replaces ``choice`` whenever the channel, the
    mode, the mapping or the grid's visibility changes; a result prepared for an older
    choice is redone by the panel.
    """

    def __init__(self, luts: dict[str, np.ndarray], lookup: Lookup = take_lookup):
        self._luts = {name: np.ascontiguousarray(lut, dtype=np.uint8) for name, lut in luts.items()}
        self._tables = {name: argb_table(lut) for name, lut in self._luts.items()}
        self.lookup = lookup  # how ``coloured`` turns bins into pixels
        self.choice = DisplayChoice()

    @property
    def luts(self) -> dict[str, np.ndarray]:
        return self._luts

    @property
    def tables(self) -> dict[str, np.ndarray]:
        """``argb_table`` of each colour map's lookup table: what the large view is coloured with."""
        return self._tables

    def view(self, output: np.ndarray, choice: DisplayChoice, signed: bool | None = None) -> ChannelView:
        """The large view's image for ``choice``, coloured (what Save output writes too)."""
        return channel_view(output, choice.channel, choice.mode, self._tables, self.lookup, choice.mapping, signed)

    def __call__(self, output: np.ndarray) -> OutputDisplay:
        choice = self.choice  # one read: the UI thread may replace it meanwhile
        signed = is_signed(output, choice.mode)
        view = self.view(output, choice, signed)
        thumbs = thumbnails(output, choice.mode, self._luts, choice.mapping, signed) if choice.with_thumbnails else None
        derived = None
        if choice.gradient in gradients.DERIVED_VIEWS and gradients.is_pair(output):
            derived = gradients.derived_view(output, choice.gradient, self._tables, choice.edge_fraction)
        return OutputDisplay(view, thumbs, signed, derived)
