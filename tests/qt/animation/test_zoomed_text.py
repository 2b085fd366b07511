"""At a large text zoom the sliding window keeps its parts: the arithmetic's product grid
is not squeezed away by the texts around it, and a weight tag stays smaller than the value
below it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from convplay.core.samples import X_5X5
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.animation.pools import TagPool
from convplay.qt.zoom import text_zoom

X_KERNEL = np.array([[[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]], dtype=float)


@pytest.fixture
def dock(qtbot):
    widget = AnimationDock(Session(X_5X5.reshape(1, 5, 5), ConvSpec(kernel_size=3, bias=False), X_KERNEL))
    qtbot.addWidget(widget)
    widget.resize(1280, 600)
    widget.show()
    qtbot.waitUntil(lambda: widget.walk is not None)
    widget.state.seek(4)
    yield widget
    widget.shutdown()


def _settle(qtbot):
    for _ in range(5):
        QApplication.processEvents()
        qtbot.wait(10)


@pytest.mark.parametrize("factor", [1.0, 1.5, 2.0, 3.0])
def test_the_product_grid_keeps_room_at_every_zoom(dock, qtbot, factor):
    text_zoom().set_factor(factor)
    _settle(qtbot)
    dock.state.seek(5)
    _settle(qtbot)
    panel = dock.arithmetic
    assert panel.grid.height() >= 0.25 * panel.height(), (panel.grid.height(), panel.height())
    assert panel._labels_height(panel.text_px) <= 0.5 * panel.height() or panel.text_px == 13


def test_a_weight_tag_stays_smaller_than_the_value_below_it(dock, qtbot):
    for factor in (1.0, 2.0, 3.0):
        text_zoom().set_factor(factor)
        _settle(qtbot)
        pools = [panel.weights for panel in dock.view.inputs]
        assert all(isinstance(p, TagPool) for p in pools) and any(p.visible for p in pools)
        for pool in (p for p in pools if p.visible):
            assert pool._font.pixelSize() <= 0.33 * pool._cell_px + 1, (factor, pool._font.pixelSize(), pool._cell_px)
