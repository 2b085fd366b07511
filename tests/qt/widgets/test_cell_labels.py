"""The one rule for labels on cells: sized to fit, hidden when unreadable, white on dark."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from convplay.qt import style
from convplay.qt.widgets.cell_labels import (
    DIGIT_WIDTH,
    LIGHT_TEXT_BELOW,
    MIN_LABEL_PX,
    TEXT_SHARE,
    dark_table,
    is_dark,
    is_dark_rgb,
    label_px,
)


def test_short_labels_are_capped_by_the_cells_height_and_the_views_maximum():
    assert label_px(60, 1, height_share=0.36, max_px=34) == pytest.approx(21.6)
    assert label_px(200, 1, height_share=0.36, max_px=34) == 34


def test_long_labels_are_narrowed_to_fit_across_their_cell():
    px = label_px(40, 6, height_share=0.6, max_px=16)
    assert px == pytest.approx(TEXT_SHARE * 40 / (DIGIT_WIDTH * 6))
    assert px * DIGIT_WIDTH * 6 <= 0.85 * 40 + 1e-9
    assert label_px(10, 8, height_share=0.6, max_px=16) < MIN_LABEL_PX  # too small: the view hides it


def test_no_cell_no_label():
    assert label_px(0, 3, height_share=0.5, max_px=20) == 0 and label_px(-5, 3, height_share=0.5, max_px=20) == 0


def test_the_fitted_text_stays_inside_its_cell(qapp):
    from PySide6.QtGui import QFont, QFontMetricsF

    for text in ("0123", "-0.1111", "1/0/2", "12345", "(12,3)"):
        for cell in (20.0, 48.0, 90.0):
            font = QFont()
            font.setPixelSize(max(1, int(label_px(cell, len(text), height_share=1.0, max_px=100))))
            assert QFontMetricsF(font).horizontalAdvance(text) <= cell


def test_a_greyscale_map_takes_white_text_on_its_dark_end():
    table = dark_table(pg.colormap.get(style.GREYS).getLookupTable(nPts=256, alpha=False))
    assert is_dark(0.0, (0.0, 1.0), table) and not is_dark(1.0, (0.0, 1.0), table)
    assert is_dark(-5.0, (0.0, 1.0), table)  # clipped to the low end
    assert not is_dark(float("nan"), (0.0, 1.0), table) and not is_dark(0.0, (1.0, 1.0), table)


def test_the_diverging_map_is_light_in_the_middle_and_dark_at_both_ends():
    table = dark_table(pg.colormap.get(style.DIVERGING).getLookupTable(nPts=256, alpha=False))
    assert is_dark(-4, (-4, 4), table) and is_dark(4, (-4, 4), table) and not is_dark(0, (-4, 4), table)


def test_a_cell_without_a_colour_map_is_judged_by_its_luminance():
    levels = (0.0, 1.0)
    assert is_dark_rgb([0.0], levels) and not is_dark_rgb([1.0], levels)
    threshold = 1.055 * LIGHT_TEXT_BELOW ** (1 / 2.4) - 0.055  # the grey of that luminance (sRGB)
    assert 0.45 < threshold < 0.5  # about 122 of 255
    assert is_dark_rgb([threshold - 0.01], levels) and not is_dark_rgb([threshold + 0.01], levels)
    assert is_dark_rgb([0.0, 0.0, 1.0], levels)  # pure blue looks dark
    assert not is_dark_rgb([1.0, 1.0, 0.0], levels)  # yellow looks light
    assert not is_dark_rgb([1.0], (2.0, 2.0))
    np.testing.assert_array_equal(dark_table(np.array([[0, 0, 0, 255], [255, 255, 255, 255]])), [True, False])


def test_the_label_colour_is_the_one_that_contrasts_more():
    """WCAG 2 contrast: the text colour chosen is never the worse of the two."""
    from convplay.qt.widgets.cell_labels import relative_luminance

    def contrast(a, b):
        la, lb = sorted((float(relative_luminance(a)), float(relative_luminance(b))), reverse=True)
        return (la + 0.05) / (lb + 0.05)

    light = [int(style.LIGHT_LABEL_TEXT[k : k + 2], 16) for k in (1, 3, 5)]
    dark = [int(style.LABEL_TEXT[k : k + 2], 16) for k in (1, 3, 5)]
    rng = np.random.default_rng(3)
    for rgb in rng.integers(0, 256, (500, 3)).tolist() + [[119, 122, 226], [33, 145, 140], [128, 128, 128]]:
        chosen, other = (light, dark) if is_dark_rgb(rgb, (0.0, 255.0)) else (dark, light)
        assert contrast(rgb, chosen) >= contrast(rgb, other) - 1e-9, rgb
    assert not is_dark_rgb([119, 122, 226], (0.0, 255.0))  # a mid blue reads better in black
