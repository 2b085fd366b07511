"""The channel diagram: its links against PyTorch's grouping, and the widget following the dock."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.animation.group_diagram import HIGHLIGHT, MAX_BOXES, GroupDiagram, GroupModel, build_model


def feeds_by_torch(spec: ConvSpec) -> np.ndarray:
    """feeds[i, o]: whether input channel i reaches output channel o, found by running
    PyTorch on one-hot inputs with all-ones weights of the spec's weight shape."""
    eye = torch.eye(spec.in_channels, dtype=torch.float64).reshape(spec.in_channels, spec.in_channels, 1, 1)
    w = torch.ones(spec.weight_shape[:2] + (1, 1), dtype=torch.float64)
    op = F.conv_transpose2d if spec.transposed else F.conv2d
    out = op(eye, w, groups=spec.groups)  # batch b = one-hot input channel b
    return out[:, :, 0, 0].numpy() != 0


def _check_against_torch(model: GroupModel, spec: ConvSpec) -> None:
    feeds = feeds_by_torch(spec)
    for slots, n in ((model.inputs, spec.in_channels), (model.outputs, spec.out_channels)):
        assert len(slots) <= MAX_BOXES
        assert [s.first for s in slots] == [0] + [s.last + 1 for s in slots[:-1]] and slots[-1].last == n - 1
        for s in slots:  # a slot names its group only when all its channels share it
            per = n // spec.groups
            assert (s.group is not None) == (s.first // per == s.last // per)
    assert sum(s.holds(model.current_out) and not s.is_ellipsis for s in model.outputs) == 1
    links = {(link.source, link.target): link for link in model.links}
    for a, src in enumerate(model.inputs):
        for b, dst in enumerate(model.outputs):
            block = feeds[src.first : src.last + 1, dst.first : dst.last + 1]
            assert ((a, b) in links) == bool(block.any())
            if (a, b) in links:
                hot = dst.holds(model.current_out) and feeds[src.first : src.last + 1, model.current_out].any()
                assert links[(a, b)].highlighted == hot
    assert list(np.flatnonzero(feeds[:, model.current_out])) == list(model.read_by(model.current_out))


@pytest.mark.parametrize(
    ("spec", "current", "n_links", "reads"),
    [
        (ConvSpec(in_channels=3, out_channels=4), 2, 12, [0, 1, 2]),  # groups=1: all to all
        (ConvSpec(in_channels=6, out_channels=4, groups=2), 3, 12, [3, 4, 5]),
        (ConvSpec(in_channels=6, out_channels=6, groups=3), 1, 12, [0, 1]),
        (ConvSpec(in_channels=3, out_channels=3, groups=3), 2, 3, [2]),  # depthwise
        (ConvSpec(in_channels=3, out_channels=6, groups=3), 4, 6, [2]),  # depthwise, multiplier 2
        (ConvSpec(in_channels=4, out_channels=6, groups=2, transposed=True), 5, 12, [2, 3]),
        (ConvSpec(in_channels=2, out_channels=2, groups=2, transposed=True), 0, 2, [0]),
    ],
)
def test_links_and_highlights_match_the_weight_shape(spec, current, n_links, reads):
    model = build_model(spec, current)
    _check_against_torch(model, spec)
    assert len(model.links) == n_links and not any(s.is_ellipsis for s in (*model.inputs, *model.outputs))
    hot = sorted(model.inputs[link.source].first for link in model.links if link.highlighted)
    assert hot == reads
    assert all(model.outputs[link.target].first == current for link in model.links if link.highlighted)
    # Each output reads in/groups inputs: the weight's second axis (first, transposed, per group).
    assert len(reads) == spec.in_channels // spec.groups
    assert f"groups={spec.groups}" in model.caption


def test_captions_say_what_each_channel_reads():
    assert build_model(ConvSpec(in_channels=6, out_channels=4, groups=2), 0).caption.startswith(
        "groups=2: each output channel reads 3 of the 6 input channels")
    assert "reads all 3 input channels" in build_model(ConvSpec(in_channels=3, out_channels=4)).caption
    assert "(depthwise)" in build_model(ConvSpec(in_channels=3, out_channels=3, groups=3)).caption
    transposed = build_model(ConvSpec(in_channels=4, out_channels=6, groups=2, transposed=True), 4).caption
    assert "each input channel feeds 3 of the 6 output channels" in transposed and "Output 4 reads inputs 2\u20133" in transposed


def test_64_channels_are_capped_with_ellipses_and_the_current_channel_kept():
    spec = ConvSpec(in_channels=64, out_channels=64)
    model = build_model(spec, 37)
    _check_against_torch(model, spec)
    assert len(model.inputs) == len(model.outputs) == MAX_BOXES
    assert any(s.is_ellipsis for s in model.inputs) and any(s.is_ellipsis for s in model.outputs)
    assert sum(link.highlighted for link in model.links) == MAX_BOXES  # every input box into output 37
    assert len(model.links) == MAX_BOXES**2
    depthwise = ConvSpec(in_channels=64, out_channels=64, groups=64)
    model = build_model(depthwise, 37)
    _check_against_torch(model, depthwise)
    hot = [(model.inputs[link.source].label(), model.outputs[link.target].label()) for link in model.links if link.highlighted]
    assert hot == [("37", "37")]
    # Few groups: every group's first and last channel get a box, so no ellipsis spans two groups.
    grouped = ConvSpec(in_channels=64, out_channels=128, groups=4)
    model = build_model(grouped, 70)
    _check_against_torch(model, grouped)
    assert all(s.group is not None for s in (*model.inputs, *model.outputs))


@settings(max_examples=150, deadline=None)
@given(ipg=st.integers(1, 6), opg=st.integers(1, 6), groups=st.integers(1, 12), transposed=st.booleans(),
       where=st.floats(0, 1), stamping=st.floats(0, 1))
def test_any_grouping_draws_exactly_pytorchs_connections(ipg, opg, groups, transposed, where, stamping):
    spec = ConvSpec(in_channels=ipg * groups, out_channels=opg * groups, groups=groups, transposed=transposed)
    current = min(int(where * spec.out_channels), spec.out_channels - 1)
    current_in = min(int(stamping * spec.in_channels), spec.in_channels - 1) if transposed else None
    model = build_model(spec, current, current_in)
    _check_against_torch(model, spec)
    if current_in is not None:
        assert any(s.holds(current_in) and not s.is_ellipsis for s in model.inputs)


@pytest.mark.parametrize("spec", [
    ConvSpec(in_channels=6, out_channels=4, groups=4),  # does not divide the inputs
    ConvSpec(in_channels=4, out_channels=6, groups=4),  # nor the outputs
    ConvSpec(in_channels=4, groups=0),
    ConvSpec(in_channels=4, groups="2"),
    ConvSpec(in_channels=True, out_channels=2),
    ConvSpec(in_channels=-3),
])
def test_invalid_groupings_give_no_model_and_the_widget_paints_nothing(qtbot, spec):
    assert build_model(spec, 0) is None
    widget = GroupDiagram()
    qtbot.addWidget(widget)
    widget.set_spec(spec)
    widget.set_current(99, 7)
    assert widget.model is None and widget.box_rects()[0] == []
    widget.grab()


def _orange_pixels(widget: GroupDiagram) -> int:
    image = widget.grab().toImage()
    orange = QColor(HIGHLIGHT).rgb()
    return sum(image.pixel(x, y) == orange for x in range(image.width()) for y in range(0, image.height(), 2))


@pytest.mark.parametrize("orientation", [Qt.Orientation.Horizontal, Qt.Orientation.Vertical])
def test_the_widget_draws_every_box_inside_itself_and_highlights_in_orange(qtbot, orientation):
    widget = GroupDiagram()
    qtbot.addWidget(widget)
    widget.set_orientation(orientation)
    widget.resize(156, 420) if orientation == Qt.Orientation.Horizontal else widget.resize(700, 118)
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
    _check_against_torch(model, spec)
    dock.shutdown()
