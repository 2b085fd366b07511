"""How a number printed on a cell is sized and coloured: one rule for every view that
labels cells (the input canvas, the sliding window, the arithmetic's product grid).

Size: as large as the cell's share of height allows and as its width holds the longest
text, up to the view's cap; below ``MIN_LABEL_PX`` a label is unreadable and is hidden
instead.  Colour: of the two label colours (``style.LABEL_TEXT`` and
``style.LIGHT_LABEL_TEXT``), the one with the larger WCAG 2 contrast against the colour
drawn in the cell: light text on a cell whose relative luminance is below
``LIGHT_TEXT_BELOW``, dark text above.  (A plain luma threshold put white text on
mid-blue cells where black reads better.)  Numpy only, so it is tested without a display.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from convplay.qt import style

# A digit's advance as a fraction of the font's pixel size: 0.636 in the default sans
# font (DejaVu Sans, measured), punctuation such as "/", "(" and "-" narrower.
DIGIT_WIDTH = 0.62
TEXT_SHARE = 0.85  # of a cell's width the text may fill: a margin either side
MIN_LABEL_PX = 9  # smaller labels are unreadable: hidden instead
SRGB_WEIGHTS = np.array([0.2126, 0.7152, 0.0722])  # WCAG 2's relative luminance of linear R, G, B


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2's relative luminance (0 black .. 1 white) of sRGB colours (..., 3), 0-255."""
    c = np.asarray(rgb, dtype=float) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ SRGB_WEIGHTS


def _hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)], dtype=float)


def _light_text_below() -> float:
    """The luminance L where both label colours contrast equally with a cell:
    (L_light + 0.05) / (L + 0.05) = (L + 0.05) / (L_dark + 0.05)."""
    light = float(relative_luminance(_hex_rgb(style.LIGHT_LABEL_TEXT)))
    dark = float(relative_luminance(_hex_rgb(style.LABEL_TEXT)))
    return float(np.sqrt((light + 0.05) * (dark + 0.05)) - 0.05)


LIGHT_TEXT_BELOW = _light_text_below()  # about 0.19: a grey of 122 of 255


def _dark(rgb: np.ndarray) -> np.ndarray:
    return relative_luminance(rgb) < LIGHT_TEXT_BELOW


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
    return _dark(np.asarray(lut, dtype=float)[:, :3])


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
    dark = _dark(rgb)
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
    return bool(_dark(rgb))
