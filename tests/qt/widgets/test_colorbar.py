"""Colour bars print their values with the tick formatter, integers whole."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from convplay.qt.style import DIVERGING
from convplay.qt.widgets.colorbar import ColorBar, HeatMap, tick_labels


def test_ticks_from_the_low_level_to_the_high_one():
    assert tick_labels((-4.0, 4.0)) == [(0.0, "-4"), (0.25, "-2"), (0.5, "0"), (0.75, "2"), (1.0, "4")]
    assert [t for _, t in tick_labels((-12345.0, 12345.0))] == ["-12345", "-6.17e+03", "0", "6.17e+03", "12345"]
    assert [t for _, t in tick_labels((0.0, 1e-5))] == ["0", "2.5e-06", "5e-06", "7.5e-06", "1e-05"]


def test_the_bar_beside_an_image_and_the_heat_maps_bar_print_the_same(qtbot):
    bar = ColorBar(pg.colormap.get(DIVERGING))
    bar.setLevels((-0.3, 0.3))
    heat = HeatMap(DIVERGING)
    qtbot.addWidget(heat)
    heat.resize(200, 120)
    heat.set_values(np.array([[-0.3, 0.0, 0.3]]), (-0.3, 0.3))
    assert bar.tick_texts() == heat.tick_texts() == ["-0.3", "-0.15", "0", "0.15", "0.3"]
    assert heat.levels() == (-0.3, 0.3)
    cells = heat.cells_rect()
    assert cells.width() == 3 * cells.height() and cells.right() <= heat.width() - HeatMap.BAR_WIDTH
    assert not heat.grab().isNull()


def test_levels_that_span_nothing_are_widened(qtbot):
    heat = HeatMap()
    qtbot.addWidget(heat)
    heat.set_values(np.zeros((2, 2)), (0.0, 0.0))
    assert heat.levels() == (0.0, 1.0)


def _fits(widget, texts, room) -> bool:
    from PySide6.QtGui import QFontMetrics

    from convplay.qt.widgets.colorbar import tick_font

    metrics = QFontMetrics(tick_font(widget.font()))
    return all(metrics.horizontalAdvance(text) <= room for text in texts)


def test_numbers_of_a_thousand_and_more_are_printed_whole(qtbot):
    # -1.19e+03 cut to "-1.19e+0" reads as a different number.
    from convplay.qt.zoom import text_zoom

    bar = ColorBar(pg.colormap.get(DIVERGING))
    heat = HeatMap(DIVERGING)
    qtbot.addWidget(heat)
    heat.resize(200, 140)
    usual = bar.boundingRect().width()
    for levels in ((-1190.0, 2370.0), (0.0, 1.06e3), (-3.88e3, 2.91e3)):
        bar.setLevels(levels)
        heat.set_values(np.array([[levels[0], levels[1]]]), levels)
        assert "e+03" in bar.tick_texts()[-1] or len(bar.tick_texts()[-1]) >= 4
        assert _fits(bar, bar.tick_texts(), bar.text_room()), (levels, bar.tick_texts(), bar.text_room())
        assert _fits(heat, heat.tick_texts(), heat.text_room()), (levels, heat.tick_texts(), heat.text_room())
    text_zoom().set_factor(1.5)
    try:
        assert _fits(bar, bar.tick_texts(), bar.text_room())
        assert _fits(heat, heat.tick_texts(), heat.text_room())
    finally:
        text_zoom().reset()
    bar.setLevels((-0.3, 0.3))  # short numbers: the usual width again
    assert bar.boundingRect().width() == usual
