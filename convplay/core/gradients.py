"""Views derived from a gradient pair: PyTorch's two output channels Gx (out 0) and Gy (out 1).

A pair of derivative kernels (Sobel, Scharr, Prewitt, derivative of Gaussian, in x then y)
gives two responses per pixel; an image-processing engineer reads them as one gradient:

- the magnitude sqrt(Gx^2 + Gy^2) (``magnitude``) and its cheaper L1 form |Gx| + |Gy|
  (``l1_magnitude``), on a sequential map from 0;
- the orientation (``orientation``: atan2(Gy, Gx) in image axes), drawn as hue of the on-screen
  angle atan2(-Gy, Gx) with the value (HSV) the
  magnitude over its maximum, so flat areas are dark whatever their angle;
- edges: the pixels whose magnitude exceeds a threshold (``edges``).

Which way is Gy?  Rows run down: every y kernel convplay offers (Sobel, Scharr, Prewitt,
derivative of Gaussian) is negative on its top row and positive on its bottom one, so
Gy > 0 where the image gets brighter *downwards*.  ``orientation`` is atan2(Gy, Gx) as the
numbers are (image axes: x right, y down; numpy's and OpenCV's phase() convention), so
+90 degrees there means brighter downwards.  The rest of the app measures angles
anticlockwise on screen from +x, and so does the colour wheel: the picture is coloured by
``screen_angle`` = atan2(-Gy, Gx), in degrees 0..360, the direction in which the image
gets brighter as the eye sees it (90 = brighter upwards).  The wheel is drawn with the
same ``hue_rgb``, so the colour at a pixel is the wheel's colour at the angle it points to.

numpy only: no Qt, any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from convplay.core.formatting import format_readout

VIEWS = ("channel", "magnitude", "l1", "orientation", "edges")
DERIVED_VIEWS = VIEWS[1:]
VIEW_LABELS = {
    "channel": "channel (PyTorch)",
    "magnitude": "magnitude \u221a(Gx\u00b2 + Gy\u00b2) (derived)",
    "l1": "|Gx| + |Gy| (derived)",
    "orientation": "orientation atan2(\u2212Gy, Gx) (derived)",
    "edges": "edges: magnitude > threshold (derived)",
}
VIEW_NAMES = {  # what the hover readout calls the derived value
    "magnitude": "magnitude",
    "l1": "|Gx|+|Gy|",
    "orientation": "direction",
    "edges": "magnitude",
}
DEFAULT_EDGE_FRACTION = 0.25  # of the largest magnitude: the threshold an edge view starts with
SEQUENTIAL_MAP, GREY_MAP = "sequential", "grey"  # display's colour map keys


def is_pair(output: np.ndarray | None) -> bool:
    """Whether ``output`` (C, H, W) has exactly two channels: Gx (0) and Gy (1)."""
    return output is not None and output.ndim == 3 and output.shape[0] == 2


def is_gradient_pair(weight: np.ndarray | None, transposed: bool = False) -> bool:
    """Whether a layer's ``weight`` makes an x/y gradient pair: two output channels whose
    output channel 1 kernels are output channel 0's turned a quarter, on every input channel.

    For the Sobel, Scharr, Prewitt and derivative-of-Gaussian pairs y is x transposed (for
    an x kernel symmetric along y, the same as x turned a quarter clockwise); both count.
    An x kernel that is its own transpose (a blur copied into both channels) does not make
    a gradient, nor does an all-zero one.  Conv2d stores (2, in, kh, kw); ConvTranspose2d
    (in, 2, kh, kw), the pair in weight[:, 0] and weight[:, 1].
    """
    if weight is None:
        return False
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 4 or w.shape[2] != w.shape[3] or w.shape[2] < 2:
        return False
    if transposed:
        if w.shape[1] != 2:
            return False
        x, y = w[:, 0], w[:, 1]
    else:
        if w.shape[0] != 2:
            return False
        x, y = w[0], w[1]
    scale = float(np.abs(x).max()) if x.size else 0.0
    if not np.isfinite(scale) or scale == 0.0:
        return False
    tol = 1e-6 * scale
    turned = x.transpose(0, 2, 1)  # each input channel's kernel transposed
    clockwise = np.rot90(x, k=-1, axes=(1, 2))
    matches = np.allclose(y, turned, rtol=0, atol=tol) or np.allclose(y, clockwise, rtol=0, atol=tol)
    return bool(matches and not np.allclose(x, turned, rtol=0, atol=tol))


def _float(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def magnitude(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """sqrt(Gx^2 + Gy^2), float32 (np.hypot: no overflow for large responses)."""
    return np.hypot(_float(gx), _float(gy))


def l1_magnitude(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """|Gx| + |Gy|, float32: the cheaper magnitude some edge detectors use."""
    return np.abs(_float(gx)) + np.abs(_float(gy))


def orientation(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """atan2(Gy, Gx) in radians, -pi..pi, in image axes (y down: +pi/2 is brighter downwards)."""
    return np.arctan2(_float(gy), _float(gx))


def screen_angle(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """The direction of increasing brightness in degrees 0..360, anticlockwise on screen
    from +x (90 = brighter upwards): -atan2(Gy, Gx), as Gy counts downwards."""
    angle = np.mod(np.degrees(np.arctan2(-_float(gy), _float(gx))), np.float32(360.0)).astype(np.float32)
    angle[angle >= 360] = 0  # -1e-9 mod 360 rounds to 360 in float32: the same direction as 0
    return angle


def hue_rgb(angle_degrees: np.ndarray, value: np.ndarray | float = 1.0) -> np.ndarray:
    """HSV (hue = ``angle_degrees``, saturation 1, ``value`` 0..1) as (..., 3) float32 RGB 0..1.

    Hue 0 is red, 120 green, 240 blue: the colour wheel's and the picture's one formula."""
    h = np.mod(np.asarray(angle_degrees, dtype=np.float32), 360.0) / np.float32(60.0)
    v = np.clip(np.asarray(value, dtype=np.float32), 0, 1)
    # The standard HSV -> RGB with s = 1: each channel is v * clip(|(h + k) mod 6 - 3| - 1, 0, 1).
    rgb = [np.clip(np.abs(np.mod(h + k, 6.0) - 3.0) - 1.0, 0.0, 1.0) for k in (0.0, 4.0, 2.0)]
    return (np.stack(rgb, axis=-1) * v[..., None]).astype(np.float32)


def edges(mag: np.ndarray, threshold: float) -> np.ndarray:
    """The edge pixels: magnitude strictly above ``threshold`` (bool)."""
    return np.asarray(mag) > threshold


def threshold_of(mag: np.ndarray, fraction: float) -> float:
    """The absolute threshold that is ``fraction`` (0..1) of the largest finite magnitude."""
    finite = mag[np.isfinite(mag)] if not np.isfinite(mag).all() else mag
    top = float(finite.max()) if finite.size else 0.0
    return float(min(max(fraction, 0.0), 1.0)) * top


@dataclass(frozen=True, eq=False)
class DerivedView:
    """One derived picture of a gradient pair, ready for the output view.

    ``image`` (H, W) float32 is what the view's cells print (the magnitude, |Gx|+|Gy|, the
    screen angle in degrees, or 1/0 for edge/not); ``pixels`` (H, W) premultiplied ARGB32
    words are drawn as they are; ``colour_map`` and ``levels`` are what the view's colour
    bar shows: for the orientation, grey from 0 to the largest magnitude, its brightness
    (the hue has the colour wheel).  ``output`` is the output
    it was made from, ``fraction`` the edge threshold share it was made for.
    """

    view: str
    output: np.ndarray
    image: np.ndarray
    levels: tuple[float, float]
    pixels: np.ndarray
    colour_map: str
    caption: str
    magnitude: np.ndarray
    fraction: float = DEFAULT_EDGE_FRACTION
    threshold: float = 0.0
    edge_count: int = 0

    @property
    def gx(self) -> np.ndarray:
        return self.output[0]

    @property
    def gy(self) -> np.ndarray:
        return self.output[1]

    def readout(self, row: int, col: int) -> str:
        """The hover text at (row, col): the derived value and both Gx and Gy there."""
        h, w = self.image.shape
        if not (0 <= row < h and 0 <= col < w):
            return ""
        gx, gy = float(self.gx[row, col]), float(self.gy[row, col])
        pair = f"Gx {format_readout(gx)}, Gy {format_readout(gy)}"
        where = f"row {row}, col {col}"
        if self.view == "orientation":
            mag = float(self.magnitude[row, col])
            if mag == 0:
                return f"{where}: no gradient (flat), {pair}"
            shown = float(self.image[row, col])
            radians = math.atan2(gy, gx)
            return (f"{where}: direction {shown:.1f}\u00b0 on screen (atan2(Gy, Gx) = "
                    f"{math.degrees(radians):.1f}\u00b0), magnitude {format_readout(mag)}, {pair}")
        if self.view == "edges":
            mag = float(self.magnitude[row, col])
            verdict = "edge" if self.image[row, col] else "not an edge"
            return (f"{where}: {verdict}, magnitude {format_readout(mag)} vs threshold "
                    f"{format_readout(self.threshold)}, {pair}")
        return f"{where}: {VIEW_NAMES[self.view]} {format_readout(float(self.image[row, col]))}, {pair}"


def _sequential_levels(values: np.ndarray) -> tuple[float, float]:
    finite = values if np.isfinite(values).all() else values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 0.0
    return 0.0, (top if top > 0 else 1.0)


def _colour(values: np.ndarray, levels: tuple[float, float], table: np.ndarray) -> np.ndarray:
    """``display.coloured``'s binning (bin (x - lo) * 256 / span, clipped), without importing display."""
    lo, hi = levels
    index = np.subtract(values, np.float32(lo), dtype=np.float32)
    index *= np.float32(256.0 / ((hi - lo) or 1.0))
    nan = np.isnan(index)
    np.clip(index, 0, 255, out=index)
    index[nan] = 0
    pixels = table.take(index.astype(np.uint8))
    pixels[nan] = 0
    return pixels


def _rgb_words(rgb: np.ndarray) -> np.ndarray:
    channels = np.clip(rgb * np.float32(256.0), 0, 255).astype(np.uint32)
    return np.ascontiguousarray(
        np.uint32(0xFF000000) | (channels[..., 0] << 16) | (channels[..., 1] << 8) | channels[..., 2],
        dtype=np.uint32,
    )


# The orientation picture looks its colours up in a table of HUE_BINS hues x VALUE_BINS
# values, made once with ``hue_rgb``: the colouring of a 1024 x 1024 output takes 10 ms
# instead of 60 with the formula per pixel, and is within two levels of 255 of it.
HUE_BINS, VALUE_BINS = 720, 256
_hue_table: np.ndarray | None = None


def _hue_words() -> np.ndarray:
    global _hue_table
    if _hue_table is None:
        hues = np.arange(HUE_BINS, dtype=np.float32) * np.float32(360.0 / HUE_BINS)
        values = np.arange(VALUE_BINS, dtype=np.float32) / np.float32(VALUE_BINS - 1)
        _hue_table = _rgb_words(hue_rgb(hues[:, None], values[None, :])).ravel()
    return _hue_table


def orientation_pixels(angles: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """(H, W) opaque ARGB32 words: hue = ``angles`` (degrees, ``screen_angle``), value =
    ``mag`` over its maximum (a NaN magnitude is black)."""
    top = _sequential_levels(mag)[1]
    value = np.multiply(mag, np.float32((VALUE_BINS - 1) / top), dtype=np.float32)
    value += np.float32(0.5)
    np.clip(np.nan_to_num(value, nan=0.0, copy=False), 0, VALUE_BINS - 1, out=value)
    hue = np.multiply(angles, np.float32(HUE_BINS / 360.0), dtype=np.float32)
    hue += np.float32(0.5)
    index = np.nan_to_num(hue, nan=0.0, copy=False).astype(np.int32) % HUE_BINS
    index *= VALUE_BINS
    index += value.astype(np.int32)
    return _hue_words().take(index)


def orientation_rgb(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) float32: hue = ``screen_angle``, value = magnitude / its maximum (the exact
    formula the picture's table is made with)."""
    mag = magnitude(gx, gy) if mag is None else mag
    top = _sequential_levels(mag)[1]
    value = np.nan_to_num(mag / np.float32(top), nan=0.0)
    return hue_rgb(screen_angle(gx, gy), value)


def derived_view(
    output: np.ndarray,
    view: str,
    tables: dict[str, np.ndarray],
    fraction: float = DEFAULT_EDGE_FRACTION,
) -> DerivedView:
    """``view`` (one of DERIVED_VIEWS) of a two-channel ``output`` (Gx, Gy), coloured with
    ``tables`` (display's ``argb_table`` per colour map key).  Raises ValueError for an
    output that is not a pair or an unknown view."""
    if not is_pair(output):
        shape = getattr(output, "shape", None)
        raise ValueError(f"derived views need a two-channel output (x, y), not {shape}")
    if view not in DERIVED_VIEWS:
        raise ValueError(f"unknown derived view {view!r}; expected one of {DERIVED_VIEWS}")
    gx, gy = output[0], output[1]
    mag = magnitude(gx, gy)
    source = "from ch 0 (Gx) and ch 1 (Gy)"
    if view in ("magnitude", "l1"):
        values = mag if view == "magnitude" else l1_magnitude(gx, gy)
        values = np.ascontiguousarray(values, dtype=np.float32)
        levels = _sequential_levels(values)
        name = "\u221a(Gx\u00b2+Gy\u00b2)" if view == "magnitude" else "|Gx|+|Gy|"
        caption = f"derived: {name} {source}; sequential, 0 to max"
        pixels = _colour(values, levels, tables[SEQUENTIAL_MAP])
        return DerivedView(view, output, values, levels, pixels, SEQUENTIAL_MAP, caption, mag, fraction)
    if view == "orientation":
        angles = np.ascontiguousarray(screen_angle(gx, gy), dtype=np.float32)
        pixels = orientation_pixels(angles, mag)
        caption = "derived: hue = atan2(\u2212Gy, Gx), anticlockwise on screen (wheel); brightness = magnitude"
        levels = _sequential_levels(mag)
        return DerivedView(view, output, angles, levels, pixels, GREY_MAP, caption, mag, fraction)
    threshold = threshold_of(mag, fraction)
    mask = edges(mag, threshold)
    count = int(np.count_nonzero(mask))
    image = mask.astype(np.float32)
    pixels = np.where(mask, np.uint32(0xFFFFFFFF), np.uint32(0xFF000000)).astype(np.uint32)
    caption = f"derived: white: magnitude > {threshold:.3g} ({fraction * 100:.0f} % of max), black: not"
    return DerivedView(view, output, image, (0.0, 1.0), pixels, GREY_MAP, caption, mag, fraction, threshold, count)
