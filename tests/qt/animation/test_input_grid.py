"""The input's cells have a thin grid and an outline: a white cell (1 on the grey map) keeps
its edge on the white background, in the window and in a grab (an exported frame)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from convplay.core.samples import X_5X5
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt import style
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.animation.pools import GRID_MIN_CELL_PX
from convplay.qt.theme import theme

X_KERNEL = np.array([[[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]], dtype=float)


def _settle():
    for _ in range(4):
        QApplication.processEvents()


def _dock(qtbot, padding: int = 0, image: np.ndarray | None = None) -> AnimationDock:
    image = X_5X5.reshape(1, 5, 5) if image is None else image
    dock = AnimationDock(Session(image, ConvSpec(kernel_size=3, padding=padding, bias=False), X_KERNEL))
    qtbot.addWidget(dock)
    dock.resize(1280, 720)
    dock.show()
    _settle()
    dock.state.seek(0)
    _settle()
    return dock


@pytest.mark.parametrize("padding, side", [(0, 5), (1, 7), (2, 9)])
def test_the_grid_has_a_line_between_and_round_every_cell_padding_included(qtbot, padding, side):
    dock = _dock(qtbot, padding)
    grid = dock.view.inputs[0].grid
    assert grid.lines == 2 * (side + 1)  # side + 1 lines across and as many down
    assert grid.item.isVisible()
    assert grid.item.path().boundingRect() == QRectF(-0.5, -0.5, side, side)  # the outline: the padded input's edge
    pen = grid.pen
    assert pen.isCosmetic() and pen.widthF() == 1 and pen.color().name() == style.GRID_LINE
    assert not dock.view.inputs[1].grid.item.isVisible()  # a hidden panel draws no grid
    dock.shutdown()


def test_a_white_cell_keeps_its_edge_on_the_white_background(qtbot):
    dock = _dock(qtbot)
    view, panel = dock.view, dock.view.inputs[0]
    assert X_5X5.reshape(5, 5)[2, 4] == 1 and panel.cell_pixels() >= GRID_MIN_CELL_PX  # white, at the right edge, off the window
    image = view.grab().toImage()
    ratio = image.devicePixelRatio()
    background = QColor(style.VIEW_BACKGROUND).rgb()

    def pixel(x: float, y: float) -> int:
        point = view.mapFromScene(panel.view_box.mapViewToScene(QPointF(x, y)))
        return image.pixel(round(point.x() * ratio), round(point.y() * ratio))

    assert QColor(pixel(4.35, 2.35)).lightness() > 240  # the cell itself is white (off its label)
    edge = [pixel(4.5 + dx / panel.cell_pixels(), 2.2) for dx in (-1, 0, 1)]  # its right border, within a pixel
    assert any(p != background for p in edge)
    dock.shutdown()


def test_the_grid_hides_when_cells_are_small_and_follows_the_theme(qtbot):
    dock = _dock(qtbot, padding=1)
    panel = dock.view.inputs[0]
    panel.view_box.setRange(QRectF(-0.5, -0.5, 400, 400), padding=0)  # zoomed far out: cells of a pixel or two
    _settle()
    assert panel.cell_pixels() < GRID_MIN_CELL_PX and not panel.grid.item.isVisible()
    panel.view_box.setRange(QRectF(-0.5, -0.5, 7, 7), padding=0)
    _settle()
    assert panel.grid.item.isVisible()
    theme().set_high_contrast(True)
    try:
        pen = panel.grid.pen
        assert pen.color().name() == style.HIGH_CONTRAST["GRID_LINE"] and pen.widthF() == 1 and pen.isCosmetic()
    finally:
        theme().set_high_contrast(False)
    assert panel.grid.pen.color().name() == style.GRID_LINE
    dock.shutdown()


def test_a_neighbourhood_grids_its_cells_and_one_beyond(qtbot):
    rng = np.random.default_rng(0)
    dock = _dock(qtbot, padding=1, image=np.round(rng.random((1, 40, 43)), 2))
    view = dock.view
    assert not view.whole
    dock.state.seek(500)
    _settle()
    (r0, r1), (c0, c1) = view.input_rect
    ph, pw = 42, 45
    rows = min(r1 + 1, ph) - max(r0 - 1, 0)
    cols = min(c1 + 1, pw) - max(c0 - 1, 0)
    grid = view.inputs[0].grid
    assert grid.lines == rows + 1 + cols + 1
    assert grid.item.isVisible()
    dock.shutdown()
