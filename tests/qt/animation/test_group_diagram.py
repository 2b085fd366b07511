"""The channel diagram widget: it paints the group model (``core.grouping``, tested against
PyTorch in tests/core/test_grouping.py) inside itself, and follows the dock."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.core.grouping import build_model
from convplay.qt import style
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.animation.group_diagram import GroupDiagram


@pytest.mark.parametrize("spec", [
    ConvSpec(in_channels=6, out_channels=4, groups=4),  # does not divide the inputs
    ConvSpec(in_channels=4, out_channels=6, groups=4),  # nor the outputs
    ConvSpec(in_channels=4, groups=0),
    ConvSpec(in_channels=4, groups="2"),
    ConvSpec(in_channels=True, out_channels=2),
    ConvSpec(in_channels=-3),
])
def test_invalid_groupings_paint_nothing(qtbot, spec):
    widget = GroupDiagram()
    qtbot.addWidget(widget)
    widget.set_spec(spec)
    widget.set_current(99, 7)
    assert widget.model is None and widget.box_rects()[0] == []
    widget.grab()


def _orange_pixels(widget: GroupDiagram) -> int:
    image = widget.grab().toImage()
    orange = QColor(style.WINDOW).rgb()
    return sum(image.pixel(x, y) == orange for x in range(image.width()) for y in range(0, image.height(), 2))


@pytest.mark.parametrize("orientation", [Qt.Orientation.Horizontal, Qt.Orientation.Vertical])
def test_the_widget_draws_every_box_inside_itself_and_highlights_in_orange(qtbot, orientation):
    widget = GroupDiagram()
    qtbot.addWidget(widget)
    widget.set_orientation(orientation)
    if orientation == Qt.Orientation.Horizontal:
        widget.resize(156, 420)
    else:
        widget.resize(700, 118)
    widget.set_spec(ConvSpec(in_channels=64, out_channels=64, groups=4))
    widget.set_current(20)
    inputs, outputs, caption = widget.box_rects()
    assert len(inputs) == len(widget.model.inputs) and len(outputs) == len(widget.model.outputs)
    bounds = widget.rect().toRectF()
    assert all(bounds.contains(r) for r in inputs + outputs)
    for side in (inputs, outputs):
        assert not any(a.intersects(b) for a, b in zip(side, side[1:]))
    assert not any(a.intersects(b) for a in inputs for b in outputs)
    assert bounds.contains(caption) and not any(caption.intersects(r) for r in inputs + outputs)
    assert _orange_pixels(widget) > 50


def _dock(qtbot, image_channels: int, spec: ConvSpec, seed: int = 1) -> AnimationDock:
    rng = np.random.default_rng(seed)
    session = Session(rng.integers(0, 4, (image_channels, 5, 5)).astype(float), spec,
                      rng.integers(-2, 3, spec.weight_shape).astype(float))
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    dock.resize(1280, 720)
    dock.show()
    QApplication.processEvents()
    return dock


def test_the_diagram_follows_the_docks_settings_and_current_channel(qtbot):
    dock = _dock(qtbot, 6, ConvSpec(in_channels=6, out_channels=4, groups=2, kernel_size=3, bias=False))
    diagram = dock.diagram
    assert diagram.isVisible() and dock.diagram_button.isVisible()
    assert dock.diagram.parent() is dock.stage and dock.arithmetic.parent() is dock.splitter  # not over the products
    dock.state.seek_cell(3, 1, 1)
    model = diagram.model
    assert model.current_out == 3 and [model.inputs[link.source].first for link in model.links if link.highlighted] == [3, 4, 5]
    dock.state.step_forward()  # same output channel: the model is not rebuilt
    assert diagram.model is model
    dock.state.seek_cell(0, 0, 0)
    assert diagram.model.current_out == 0
    dock.session.set_spec(dock.session.spec.replace(groups=1))
    assert diagram.model.groups == 1 and len(diagram.model.links) == 24
    dock.session.set_spec(dock.session.spec.replace(groups=4))  # 6 inputs can't make 4 groups
    assert "Cannot animate" in dock.message.text()
    assert not diagram.isVisible() and diagram.model is None
    dock.session.set_spec(dock.session.spec.replace(groups=2))
    assert diagram.isVisible() and diagram.model.groups == 2
    dock.diagram_button.setChecked(False)
    assert not diagram.isVisible()
    dock.diagram_button.setChecked(True)
    assert diagram.isVisible()
    dock.shutdown()


def test_one_channel_each_side_shows_no_diagram(qtbot):
    dock = _dock(qtbot, 1, ConvSpec(kernel_size=3))
    assert not dock.diagram.isVisible() and not dock.diagram_button.isVisible()
    dock.session.set_spec(dock.session.spec.replace(out_channels=3))
    assert dock.diagram.isVisible() and dock.diagram.model.caption.startswith("groups=1: each output channel reads all 1 input")
    dock.shutdown()


@pytest.mark.parametrize(("size", "where"), [((600, 900), "above"), ((1280, 720), "above"), ((1280, 420), "beside")])
def test_the_diagram_goes_where_the_view_keeps_bigger_cells(qtbot, size, where):
    dock = _dock(qtbot, 3, ConvSpec(in_channels=3, out_channels=3, groups=3, kernel_size=3))
    dock.resize(*size)
    QApplication.processEvents()
    diagram, view = dock.diagram.geometry(), dock.view.geometry()
    if where == "above":  # a 5x5 input beside a 3x3 output: short of width, not of height
        assert dock.diagram.orientation == Qt.Orientation.Vertical and diagram.bottom() < view.top()
    else:  # a flat dock: short of height
        assert dock.diagram.orientation == Qt.Orientation.Horizontal and diagram.right() < view.left()
    dock.shutdown()


def test_transposed_highlights_the_shown_output_and_the_stamping_input(qtbot):
    spec = ConvSpec(in_channels=4, out_channels=6, groups=2, kernel_size=3, transposed=True, bias=False)
    dock = _dock(qtbot, 4, spec)
    dock.scatter_channel.setValue(4)
    dock.state.seek(3 * 25 + 7)  # input channel 3, pixel (1, 2)
    model = dock.diagram.model
    assert model.transposed and model.current_out == 4 and model.current_in == 3
    assert model == build_model(spec, 4, 3)
    dock.shutdown()
