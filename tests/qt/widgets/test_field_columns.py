"""FieldColumns: as many columns as the width holds, filled top to bottom, and a height
for each width that a scroll area can rely on."""

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from convplay.qt.widgets.field_columns import FieldColumns


@pytest.fixture
def fields(qtbot):
    panel = QWidget()
    layout = FieldColumns(panel, column_width=100, max_columns=4, column_gap=10, row_gap=0)
    layout.setContentsMargins(0, 0, 0, 0)
    cells = []
    for n in range(7):
        cell = QLabel(f"field {n}")
        cell.setFixedSize(100 + (50 if n == 4 else 0), 20)  # one wider field
        layout.addWidget(cell)
        cells.append(cell)
    qtbot.addWidget(panel)
    return panel, layout, cells


def test_columns_follow_the_width_and_the_widest_field_of_each(fields):
    panel, layout, cells = fields
    assert layout.columns_for(99) == 1
    assert layout.columns_for(210) == 1  # two columns: 100 and the wide field's 150, and a gap
    assert layout.columns_for(260) == 2
    # four columns of 2, 2, 2, 1 fields: 100 + 100 + 150 + 100 and three gaps
    assert layout.columns_for(479) == 3 and layout.columns_for(480) == 4
    assert layout.columns_for(10_000) == 4  # capped


def test_fields_are_read_down_each_column_then_across(fields):
    panel, layout, cells = fields
    panel.resize(480, 200)
    panel.show()
    layout.activate()
    xs = [cell.x() for cell in cells]
    ys = [cell.y() for cell in cells]
    assert xs[0] == xs[1] < xs[2] == xs[3] < xs[4] == xs[5] < xs[6]
    assert ys[0] < ys[1] and ys[2] == ys[0] and ys[6] == ys[0]
    assert layout.heightForWidth(480) == 40  # two rows of 20
    assert layout.heightForWidth(100) == 140  # one column of seven


def test_hidden_fields_take_no_room_and_the_minimum_is_one_field(fields):
    panel, layout, cells = fields
    assert layout.minimumSize().toTuple() == (150, 20)  # the widest, one field tall: the rest is height-for-width
    for cell in cells[3:]:
        cell.hide()
    assert layout.heightForWidth(100) == 60
    assert layout.columns_for(1000) == 3
