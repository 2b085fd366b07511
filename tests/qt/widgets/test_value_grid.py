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


# -- the kernel's grid: fractions, typed text, widths from the text ------------------------------
@pytest.fixture
def kernel_grid(qtbot):
    widget = ValueGrid(fractions=True, fit_content=True)
    qtbot.addWidget(widget)
    widget.set_values(np.array([[1 / 16, 2 / 16], [4 / 16, -1.178e-09]]))
    return widget


def test_a_kernel_grid_prints_fractions_and_hides_nothing_in_the_tooltip(kernel_grid):
    assert kernel_grid.texts() == [["1/16", "2/16"], ["4/16", "0"]]
    assert kernel_grid.item(0, 1).toolTip() == "2/16 = 0.125"
    assert kernel_grid.item(1, 1).toolTip().startswith("-1.178e-09")
    np.testing.assert_array_equal(kernel_grid.values()[1, 1], -1.178e-09)  # the value is untouched


def test_typed_text_is_kept_and_refused_text_puts_the_fraction_back(kernel_grid, qtbot):
    with qtbot.waitSignal(kernel_grid.value_typed) as typed:
        kernel_grid.item(1, 1).setText(" 1 / 3 ")
    assert typed.args == [1, 1, 1 / 3, "1/3"] and kernel_grid.item(1, 1).text() == "1/3"
    with qtbot.waitSignal(kernel_grid.rejected):
        kernel_grid.item(0, 0).setText("abc")
    assert kernel_grid.item(0, 0).text() == "1/16"
    kernel_grid.set_values(kernel_grid.values(), typed={(0, 0): "0.0625"})
    assert kernel_grid.item(0, 0).text() == "0.0625"


def test_columns_are_as_wide_as_their_texts(kernel_grid):
    from PySide6.QtGui import QFontMetrics

    metrics = QFontMetrics(kernel_grid.font())
    kernel_grid.set_values(np.array([[-0.002288, 1.0], [0.0, 1.0]]))
    wide, narrow = kernel_grid.columnWidth(0), kernel_grid.columnWidth(1)
    assert wide == metrics.horizontalAdvance("-0.00229") + kernel_grid.column_padding()
    assert narrow < wide
    hint = kernel_grid.sizeHint()
    assert hint == kernel_grid.content_size(2, 2) and hint.width() >= wide + narrow
    kernel_grid.show()
    kernel_grid.resize(hint)
    assert kernel_grid.maximumSize() == hint  # spare room goes elsewhere
    kernel_grid.resize(hint.width() - 30, hint.height())  # too narrow: room for the scroll bar below
    bar = kernel_grid.style().pixelMetric(kernel_grid.style().PixelMetric.PM_ScrollBarExtent)
    assert kernel_grid.maximumHeight() == hint.height() + bar


def test_plain_grids_keep_four_digits_and_qts_size_hint(grid):
    assert grid.item(0, 1).text() == "0.1111"
    assert grid.sizeHint() == super(ValueGrid, grid).sizeHint()
