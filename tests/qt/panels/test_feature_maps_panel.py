"""The feature maps panel: one tile per channel of the chosen layer, the combo and the
network's selection in step, a click shows a map large and probes it, vectors as bars,
a layer that does not fit says why, stale runs dimmed, and nothing drawn while hidden."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from torch import nn

from convplay.core.builtin_stacks import builtin_stack
from convplay.core.layers import Layer, Stack
from convplay.core.network import Network, NetworkRun, Probe
from convplay.qt.panels.feature_maps_panel import FeatureMapsPanel
from convplay.qt.widgets.map_grid import MAX_DRAWN


def torch_outputs(stack_layers, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output, from torch modules built here from the same arguments."""
    torch.manual_seed(0)
    t = torch.from_numpy(x[None].astype(np.float32))
    outs = []
    with torch.no_grad():
        for module in stack_layers:
            t = module(t)
            outs.append(t[0].numpy().copy())
    return outs


def digits_network(x: np.ndarray) -> Network:
    stack, info = builtin_stack("digits")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="digits")
    modules = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
               nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10)]
    network.set_run(NetworkRun(x, tuple(torch_outputs(modules, x)), generation=network.generation))
    return network


@pytest.fixture
def x():
    return np.random.default_rng(1).random((1, 8, 8)).astype(np.float32)


@pytest.fixture
def panel_for(qtbot):
    def make(network):
        panel = FeatureMapsPanel(network, None)
        qtbot.addWidget(panel)
        panel.resize(460, 600)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    return make


def test_the_first_conv_layer_is_shown_with_one_tile_per_channel(panel_for, x):
    network = digits_network(x)
    panel = panel_for(network)
    assert network.selected == 0 and panel.layer == 0  # a new stack has its first layer picked
    assert panel.layer_combo.currentIndex() == 0
    assert panel.grid.count == 8
    network.select(2)
    assert panel.layer_combo.currentIndex() == 2 and panel.grid.count == 16
    assert "16 maps of 8×8" in panel.status.text()
    # Every tile is inside the grid and none overlaps the next.
    rects = [panel.grid.tile_rect(c) for c in range(16)]
    assert all(r.width() > 20 for r in rects)
    assert all(not a.intersects(b) for a, b in itertools.pairwise(rects))


def test_the_combo_selects_the_layer_in_the_network(panel_for, x):
    network = digits_network(x)
    panel = panel_for(network)
    panel.layer_combo.setCurrentIndex(3)
    assert network.selected == 3
    assert panel.grid.count == 16
    assert not panel.grid.signed  # after a ReLU: a sequential map
    network.select(0)
    assert panel.grid.signed  # conv1's raw output has negatives: diverging


def test_a_click_on_a_tile_shows_it_large_and_probes_its_centre(panel_for, qtbot, x):
    network = digits_network(x)
    panel = panel_for(network)
    network.select(2)
    centre = panel.grid.tile_rect(5).center()
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=centre.toPoint())
    assert network.probe == Probe(2, 5, 4, 4)
    assert panel.channel == 5
    np.testing.assert_array_equal(panel.large._values, network.run.outputs[2][5])
    assert panel.large._marked == (4, 4)
    # A click in the large map probes that pixel.
    point = panel.large.position_of(1, 6)
    qtbot.mouseClick(panel.large, Qt.MouseButton.LeftButton, pos=point.toPoint())
    assert network.probe == Probe(2, 5, 1, 6)


def test_shared_and_own_levels(panel_for, x):
    network = digits_network(x)
    panel = panel_for(network)
    network.select(3)
    out = network.run.outputs[3]
    assert set(panel.grid.levels) == {(0.0, float(out.max()))}
    panel.shared_check.setChecked(False)
    for c, (lo, hi) in enumerate(panel.grid.levels):
        if out[c].max() > 0:
            assert hi == pytest.approx(float(out[c].max()))


def test_a_linear_output_is_bars_and_a_flatten_a_strip(panel_for, x):
    network = digits_network(x)
    panel = panel_for(network)
    network.select(6)
    assert panel.pages.currentIndex() == 1
    np.testing.assert_array_equal(panel.bars.values, network.run.outputs[6])
    assert panel.bars.labels == [str(d) for d in range(10)]
    assert panel.bars.highlight == int(np.argmax(network.run.outputs[6]))
    network.select(5)
    assert panel.bars.strip and len(panel.bars.values) == 256


def test_a_layer_that_does_not_fit_says_why(panel_for):
    stack, info = builtin_stack("mnist")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="mnist")
    panel = panel_for(network)
    network.select(7)
    assert panel.pages.currentIndex() == 2
    assert "nn.Linear(800, 10)" in panel.error_label.text()


def test_many_maps_are_capped_and_scroll(panel_for):
    layers = (Layer.make("Conv2d", 1, 300, 3, padding=1, name="wide"),)
    network = Network()
    network.set_stack(Stack(layers), input_shape=(1, 6, 6))
    x = np.random.default_rng(0).random((1, 6, 6)).astype(np.float32)
    out = torch_outputs([nn.Conv2d(1, 300, 3, padding=1)], x)
    network.set_run(NetworkRun(x, tuple(out), generation=network.generation))
    panel = panel_for(network)
    assert panel.grid.count == MAX_DRAWN
    assert f"the first {MAX_DRAWN} drawn" in panel.status.text()
    assert panel.grid.height() > panel.grid_scroll.viewport().height()  # it scrolls


def test_a_stale_run_is_dimmed_after_a_moment_and_a_fresh_one_is_not(panel_for, qtbot, x):
    network = digits_network(x)
    panel = panel_for(network)
    network.input_changed()
    assert not panel.stale_label.isVisible()  # a run back within the delay never flickers
    qtbot.waitUntil(lambda: panel.stale_label.isVisible(), timeout=2000)
    assert panel.grid._stale
    run = network.run
    network.set_run(NetworkRun(run.input, run.outputs, generation=network.generation))
    assert not panel.stale_label.isVisible() and not panel.grid._stale


def test_a_hidden_panel_draws_nothing_and_catches_up_when_shown(panel_for, x):
    network = digits_network(x)
    panel = panel_for(network)
    drawn = panel.large._values
    panel.hide()
    run = network.run
    doubled = tuple(o * 2 for o in run.outputs)
    network.set_run(NetworkRun(run.input, doubled, generation=network.generation))
    assert panel.large._values is drawn
    panel.show()
    np.testing.assert_array_equal(panel.large._values, doubled[0][0])


def test_hover_reads_the_value_under_the_pointer(panel_for, qtbot, x):
    network = digits_network(x)
    panel = panel_for(network)
    rect = panel.grid.tile_rect(2)
    h = network.run.outputs[0].shape[1]
    cell = rect.width() / h
    pos = QPointF(rect.x() + 3.5 * cell, rect.y() + 1.5 * cell)
    qtbot.mouseMove(panel.grid, pos.toPoint())
    value = network.run.outputs[0][2, 1, 3]
    assert panel.hover.text().startswith("map 2  row 1, col 3")
    assert f"{value:.4g}"[:4] in panel.hover.text()


def test_a_layer_s_input_held_by_the_session_is_said_above_the_maps(qtbot, x):
    from PySide6.QtCore import QObject, Signal

    class Controller(QObject):
        follows_changed = Signal(bool)
        text = ""

        def held_text(self):
            return self.text

    controller = Controller()
    network = digits_network(x)
    panel = FeatureMapsPanel(network, controller)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.held_label.isHidden()
    controller.text = "The input panel holds conv2's input (opened in the sliding window); ..."
    controller.follows_changed.emit(False)
    assert not panel.held_label.isHidden() and panel.held_label.text() == controller.text
    assert panel.pages.currentIndex() == 0  # the network's maps stay on screen
    controller.text = ""
    controller.follows_changed.emit(True)
    assert panel.held_label.isHidden()
