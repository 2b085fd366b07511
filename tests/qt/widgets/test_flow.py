"""FlowLayout and FlowRow: widgets wrap onto more lines in a narrow space, and a FlowRow's
height follows its lines without making its parent height-for-width."""

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from convplay.qt.widgets.flow import FlowLayout, FlowRow


def _labels(n, width=60):
    out = []
    for i in range(n):
        label = QLabel(str(i))
        label.setFixedSize(width, 20)
        out.append(label)
    return out


def test_the_layout_wraps_what_does_not_fit(qtbot):
    holder = QWidget()
    flow = FlowLayout(holder, gap=10, line_gap=5)
    for label in _labels(4):
        flow.addWidget(label)
    qtbot.addWidget(holder)
    assert flow.lines(280) == 1  # 4 x 60 + 3 x 10 = 270
    assert flow.lines(269) == 2
    assert flow.lines(60) == 4
    assert flow.heightForWidth(269) == 45 and flow.heightForWidth(1000) == 20
    assert flow.minimumSize().toTuple() == (60, 20)


def test_a_flow_row_grows_a_line_in_a_narrow_parent(qtbot):
    parent = QWidget()
    layout = QVBoxLayout(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    row = FlowRow(*_labels(4), gap=10)
    layout.addWidget(row)
    layout.addStretch(1)
    qtbot.addWidget(parent)
    assert not parent.layout().hasHeightForWidth()  # the parent keeps its own minimum
    parent.resize(400, 200)
    parent.show()
    qtbot.waitUntil(lambda: row.height() == 20)
    parent.resize(140, 200)
    qtbot.waitUntil(lambda: row.height() == 20 * 2 + 4)  # two lines, the layout's line gap
