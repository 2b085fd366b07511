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
