"""How a number printed on a cell is sized and coloured: one rule for every view that
labels cells (the input canvas, the sliding window, the arithmetic's product grid).

Size: as large as the cell's share of height allows and as its width holds the longest
text, up to the view's cap; below ``MIN_LABEL_PX`` a label is unreadable and is hidden
instead.  Colour: white on a cell whose colour is dark (luminance below
``LIGHT_TEXT_BELOW``), dark text on a light one.  Numpy only, so it is tested without a
display.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A digit's advance as a fraction of the font's pixel size: 0.636 in the default sans
# font (DejaVu Sans, measured), punctuation such as "/", "(" and "-" narrower.
DIGIT_WIDTH = 0.62
TEXT_SHARE = 0.85  # of a cell's width the text may fill: a margin either side
MIN_LABEL_PX = 9  # smaller labels are unreadable: hidden instead
LIGHT_TEXT_BELOW = 150  # luminance (0-255) under which a cell takes white text
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601: how bright R, G and B look


def label_px(cell_px: float, chars: int, *, height_share: float, max_px: float) -> float:
    """The font's pixel size for labels of up to ``chars`` characters in cells ``cell_px``
    screen pixels wide: ``height_share`` of the cell's height at most, narrow enough
    for the text to fit across, and never above ``max_px``.  Compare the result with
    ``MIN_LABEL_PX`` to decide whether the labels are shown."""
    if cell_px <= 0:
        return 0.0
    fits_across = TEXT_SHARE * cell_px / (DIGIT_WIDTH * max(int(chars), 1))
    return min(height_share * cell_px, fits_across, max_px)


def dark_table(lut: np.ndarray) -> np.ndarray:
    """For each colour of a lookup table ((N, 3) or (N, 4), 0-255): True where the colour is
    dark enough for white text."""
    return np.asarray(lut, dtype=float)[:, :3] @ LUMA < LIGHT_TEXT_BELOW


def is_dark(value: float, levels: tuple[float, float], table: np.ndarray) -> bool:
    """Whether a colour map (``dark_table`` of its lookup table) paints ``value`` dark at
    ``levels``; False for a value it does not paint (NaN) or levels that span nothing."""
    lo, hi = levels
    if not np.isfinite(value) or not hi > lo:
        return False
    t = min(max((value - lo) / (hi - lo), 0.0), 1.0)
    return bool(table[int(t * (len(table) - 1))])


def dark_words(words: np.ndarray, *, background_dark: bool = False) -> np.ndarray:
    """For premultiplied ARGB32 pixels (``display.coloured``): True where the colour drawn
    is dark enough for white text.  A transparent pixel (NaN) shows the background:
    ``background_dark`` says which it is."""
    words = np.asarray(words, dtype=np.uint32)
    rgb = np.stack([(words >> 16) & 0xFF, (words >> 8) & 0xFF, words & 0xFF], axis=-1).astype(float)
    dark = rgb @ LUMA < LIGHT_TEXT_BELOW
    transparent = (words >> 24) == 0
    dark[transparent] = background_dark
    return dark


def is_dark_rgb(values: Sequence[float], levels: tuple[float, float]) -> bool:
    """Whether a cell drawn without a colour map is dark: one value (grey) or three (RGB),
    each mapped from ``levels`` to 0-255 as pyqtgraph draws them."""
    lo, hi = levels
    if not hi > lo:
        return False
    channels = np.clip((np.asarray(values, dtype=float) - lo) / (hi - lo), 0.0, 1.0) * 255
    rgb = np.broadcast_to(channels, (3,)) if channels.size == 1 else channels[:3]
    return bool(rgb @ LUMA < LIGHT_TEXT_BELOW)
