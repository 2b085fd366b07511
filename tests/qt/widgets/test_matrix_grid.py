import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt

from convplay.qt.widgets.matrix_grid import LEGIBLE_CELL, MatrixBlock, MatrixGrid, number_text


def _grid(qtbot, fit=QSize(800, 400)):
    grid = MatrixGrid()
    qtbot.addWidget(grid)
    grid.set_fit_size(fit)
    return grid


def test_blocks_fit_and_cells_map_back(qtbot):
    grid = _grid(qtbot)
    c = np.arange(8.0).reshape(2, 4) - 3
    grid.set_blocks([MatrixBlock(c, name="C"), MatrixBlock(np.ones((4, 1)), name="x")], ["·"])
    assert grid.width() <= 800 and grid.height() <= 400 and grid.legible()
    for block, r, col in ((0, 1, 3), (1, 2, 0)):
        assert grid.cell_at(grid.cell_rect(block, r, col).center()) == (block, r, col)
    hits = []
    grid.clicked.connect(lambda *a: hits.append(a))
    rect = grid.cell_rect(0, 1, 2)
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    assert hits == [(0, 1, 2)]
    grid.show()
    assert not grid.grab().isNull()


def test_a_large_matrix_scrolls_rather_than_vanishing_and_zoom_grows_cells(qtbot):
    grid = _grid(qtbot)
    grid.set_blocks([MatrixBlock(np.ones((512, 192)))], [])
    small = grid.cell
    assert small >= 3 and not grid.legible()
    grid.set_zoom(8)
    assert grid.cell > small and grid.cell >= LEGIBLE_CELL and grid.height() > 400
    grid.show()
    assert not grid.grab().isNull()  # paints only what is exposed


def test_number_text():
    assert number_text(3.0) == "3" and number_text(-0.5) == "-0.5" and number_text(1 / 3) == "0.333"
