"""The value grid prints cells with format_cell and parses what is typed."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.qt.widgets.value_grid import ValueGrid


@pytest.fixture
def grid(qtbot):
    widget = ValueGrid()
    qtbot.addWidget(widget)
    widget.set_values(np.array([[12345.0, 1 / 9, -2.0], [0.0, -0.0, 1e-5]]))
    return widget


def test_cells_print_integers_whole_and_keep_the_exact_value_in_the_tooltip(grid):
    texts = [[grid.item(r, c).text() for c in range(3)] for r in range(2)]
    assert texts == [["12345", "0.1111", "-2"], ["0", "0", "1e-05"]]
    assert grid.item(0, 1).toolTip() == repr(1 / 9)


def test_typed_fractions_are_parsed_and_bad_text_is_put_back(grid, qtbot):
    with qtbot.waitSignal(grid.value_edited) as edited:
        grid.item(1, 0).setText("1/8")
    assert edited.args == [1, 0, 0.125] and grid.item(1, 0).text() == "0.125"
    with qtbot.waitSignal(grid.rejected) as rejected:
        grid.item(1, 0).setText("nan")
    assert "NaN" in rejected.args[0] and grid.item(1, 0).text() == "0.125"
    assert grid.values()[1, 0] == 0.125


def test_the_sign_shows_as_a_tint(grid):
    from convplay.qt import style

    grid.set_values(np.array([[2.0, -2.0, 0.0, -1.0]]))
    colours = [grid.item(0, c).background().color() for c in range(4)]
    assert [c.name() for c in colours[:3]] == [style.POSITIVE_TINT, style.NEGATIVE_TINT, style.CELL_BACKGROUND]
    half = colours[3]  # half the largest |value|: half-way from white
    assert half.blue() == 255 and half.red() == half.green() == pytest.approx((255 + 165) / 2, abs=1)
