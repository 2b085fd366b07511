"""The hover read-out clears when the pointer leaves a view (the status bar keeps no stale value)."""

import numpy as np
from PySide6.QtCore import QEvent

from convplay.qt.widgets.canvas import DrawingCanvas
from convplay.qt.widgets.image_view import ImageView


def _said_on_leave(view) -> list[str]:
    said = []
    view.hovered.connect(said.append)
    view.event(QEvent(QEvent.Type.Leave))
    return said


def test_leaving_the_canvas_clears_its_readout(qtbot):
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.set_image(np.ones((1, 4, 4)))
    assert _said_on_leave(canvas) == [""]


def test_leaving_an_image_view_clears_its_readout(qtbot):
    view = ImageView(name="output")
    qtbot.addWidget(view)
    view.set_image(np.ones((4, 4), np.float32), (0.0, 1.0))
    assert _said_on_leave(view) == [""]
