"""The class scores panel: softmax of the last layer's logits as torch computes it, the top
class large, raw scores on demand, and the digit buttons as undoable input changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from convplay.core.builtin_stacks import builtin_info, builtin_stack, digit_example
from convplay.core.history import History
from convplay.core.network import Network, NetworkRun
from convplay.core.session import Session
from convplay.qt.network_controller import NetworkController
from convplay.qt.panels.scores_panel import ScoresPanel


def digits_logits(x: np.ndarray) -> torch.Tensor:
    """The shipped digits CNN written out in torch: its logits for one (1, 8, 8) input."""
    state = load_file(str(builtin_info("digits").weights_path))
    conv1, conv2, fc = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1), nn.Linear(256, 10)
    for name, module in (("conv1", conv1), ("conv2", conv2), ("fc", fc)):
        module.weight.data.copy_(state[f"{name}.weight"])
        module.bias.data.copy_(state[f"{name}.bias"])
    with torch.no_grad():
        t = torch.from_numpy(x[None].astype(np.float32))
        t = nn.functional.max_pool2d(torch.relu(conv2(torch.relu(conv1(t)))), 2)
        return fc(t.flatten(1))[0]


def digits_network(x: np.ndarray, logits: np.ndarray) -> Network:
    stack, info = builtin_stack("digits")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="digits")
    outputs = tuple(np.zeros(s, np.float32) for s in (row.output_shape for row in network.trace.rows[:-1]))
    network.set_run(NetworkRun(x, (*outputs, logits), generation=network.generation))
    return network


@pytest.fixture
def panel_for(qtbot):
    def make(network, session=None, history=None):
        panel = ScoresPanel(network, session=session, history=history)
        qtbot.addWidget(panel)
        panel.resize(460, 520)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    return make


def test_scores_are_torch_s_softmax_and_the_top_class_is_the_digit(panel_for):
    x = digit_example(3)[None].astype(np.float32)
    logits = digits_logits(x)
    network = digits_network(x, logits.numpy())
    panel = panel_for(network)
    expected = torch.softmax(logits.double(), 0).numpy()
    np.testing.assert_allclose(panel.bars.values, expected, rtol=1e-9, atol=1e-12)
    assert panel.bars.highlight == 3
    assert panel.top_label.text() == f"3 \u00b7 {100 * expected[3]:.1f}\u00a0%"
    assert panel.bars.labels == [str(d) for d in range(10)]
    assert panel.seen_label.text() == "sees 8×8"
    np.testing.assert_array_equal(panel.seen._values, x[0])


def test_raw_scores_are_the_logits(panel_for):
    x = digit_example(5)[None].astype(np.float32)
    logits = digits_logits(x).numpy()
    panel = panel_for(digits_network(x, logits))
    panel.softmax_check.setChecked(False)
    np.testing.assert_allclose(panel.bars.values, logits.astype(np.float64))
    assert panel.top_label.text().startswith(f"{int(np.argmax(logits))} \u00b7 score ")


def test_live_scores_from_the_controller_for_a_digit_example(panel_for, qtbot):
    session, history = Session(np.zeros((1, 32, 32))), History()
    network = Network()
    controller = NetworkController(network, session)
    try:
        panel = panel_for(network, session, history)
        qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=30_000)
        panel.examples_button.menu().actions()[3].trigger()
        np.testing.assert_array_equal(session.image, np.kron(digit_example(3), np.ones((4, 4)))[None])
        qtbot.waitUntil(lambda: network.run_is_fresh and panel.top_label.text().startswith("3 \u00b7"),
                        timeout=30_000)
        logits = digits_logits(digit_example(3)[None].astype(np.float32))
        np.testing.assert_allclose(panel.bars.values, torch.softmax(logits.double(), 0).numpy(), atol=1e-6)
    finally:
        controller.shutdown()


def test_a_layer_s_input_in_the_session_is_said_and_the_thumbnail_stays_the_network_s(panel_for, qtbot):
    drawing = np.kron(digit_example(2), np.ones((4, 4)))[None]
    session, history = Session(drawing), History()
    network = Network()
    controller = NetworkController(network, session)
    try:
        panel = panel_for(network, session, history)
        assert panel.controller is controller  # found without being passed
        qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=30_000)
        qtbot.waitUntil(lambda: panel.head.startswith("2 \u00b7"), timeout=30_000)
        assert panel.held_label.isHidden()
        seen = np.array(panel.seen._values)
        session.set_image(network.run.outputs[1])  # opening conv2 in the sliding window
        assert not panel.held_label.isHidden()
        assert panel.held_label.text().startswith("The input panel holds conv2's input")
        assert "Ctrl+Z" in panel.held_label.text()
        np.testing.assert_array_equal(panel.seen._values, seen)
        session.set_image(drawing)
        assert panel.held_label.isHidden()
    finally:
        controller.shutdown()


def test_draw_a_digit_makes_a_blank_32_by_32_canvas_as_one_undo_step(panel_for):
    x = digit_example(1)[None].astype(np.float32)
    session, history = Session(np.ones((3, 20, 30))), History()
    panel = panel_for(digits_network(x, digits_logits(x).numpy()), session, history)
    before = session.image
    panel.draw_button.click()
    np.testing.assert_array_equal(session.image, np.zeros((1, 32, 32)))
    history.undo()
    np.testing.assert_array_equal(session.image, before)
    panel.put_example(8)
    np.testing.assert_array_equal(session.image, np.kron(digit_example(8), np.ones((4, 4)))[None])
    history.undo()
    np.testing.assert_array_equal(session.image, before)


def test_digit_buttons_wait_for_the_digits_cnn(panel_for):
    stack, info = builtin_stack("cifar10")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="cifar10")
    outputs = tuple(np.zeros(row.output_shape, np.float32) for row in network.trace.rows)
    network.set_run(NetworkRun(np.zeros((3, 32, 32), np.float32), outputs, generation=network.generation))
    panel = panel_for(network, Session(np.zeros((1, 8, 8))), History())
    assert not panel.draw_button.isEnabled() and not panel.examples_button.isEnabled()
    assert "digits CNN" in panel.draw_button.toolTip()
    assert "the one-channel image repeated in its 3 channels" in panel.seen.toolTip()


def test_a_stack_ending_in_a_linear_is_a_classifier_with_classes_0_to_n(panel_for):
    from convplay.core.layers import Layer, Stack

    network = Network()
    layers = (Layer.make("Flatten"), Layer.make("Linear", 4, 3), Layer.make("ReLU"), Layer.make("Dropout"))
    network.set_stack(Stack(layers), input_shape=(1, 2, 2))
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2)
    out = np.array([0.5, 0.0, 2.0], np.float32)
    network.set_run(NetworkRun(x, (x.ravel(), out, out, out), generation=network.generation))
    panel = panel_for(network)
    assert panel.softmax_check.isEnabled() and panel.showing_softmax
    expected = torch.softmax(torch.tensor(out, dtype=torch.float64), 0).numpy()
    np.testing.assert_allclose(panel.bars.values, expected, rtol=1e-12)
    assert panel.bars.labels == ["0", "1", "2"] and panel.head.startswith(f"2 \u00b7 {100 * expected[2]:.1f}")
    panel.softmax_check.setChecked(False)
    np.testing.assert_allclose(panel.bars.values, out)
    assert panel.head.startswith("2 \u00b7 score 2")


def test_a_stack_ending_in_feature_maps_flattened_shows_raw_outputs(panel_for):
    from convplay.core.layers import Layer, Stack

    network = Network()
    network.set_stack(Stack((Layer.make("Conv2d", 1, 1, 1), Layer.make("Flatten"))), input_shape=(1, 1, 3))
    x = np.array([[[0.5, -1.0, 2.0]]], np.float32)
    network.set_run(NetworkRun(x, (x, x.ravel()), generation=network.generation))
    panel = panel_for(network)
    assert not panel.softmax_check.isEnabled() and not panel.showing_softmax
    np.testing.assert_allclose(panel.bars.values, x.ravel())


def test_automobile_is_measured_bold_and_the_top_line_stays_one_line(panel_for, qtbot):
    from PySide6.QtGui import QFontMetricsF

    stack, info = builtin_stack("cifar10")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="cifar10")
    x = np.full((3, 32, 32), 0.5, np.float32)
    outputs = [np.zeros(row.output_shape, np.float32) for row in network.trace.rows]
    outputs[-1] = np.linspace(0, 1, 10, dtype=np.float32)[[0, 9, 1, 2, 3, 4, 5, 6, 7, 8]]  # automobile top
    network.set_run(NetworkRun(x, tuple(outputs), generation=network.generation))
    panel = panel_for(network)
    panel.resize(300, 520)
    qtbot.wait(10)
    bold = panel.bars._font()
    bold.setBold(True)
    label_w, _left, _right = panel.bars._columns()
    assert label_w >= QFontMetricsF(bold).horizontalAdvance("automobile")
    assert panel.head.startswith("automobile \u00b7")
    metrics = QFontMetricsF(panel.top_label.font())
    assert metrics.horizontalAdvance(panel.top_label.text()) <= panel.top_label.width() + 1
    assert panel.top_label.toolTip() == panel.head


def test_a_blank_canvas_asks_for_a_digit_and_a_far_input_is_warned(panel_for):
    blank = np.zeros((1, 8, 8), np.float32)
    panel = panel_for(digits_network(blank, digits_logits(blank).numpy()))
    assert panel.head == "Draw a digit with the pen" and panel.warning.isHidden()
    far = np.arange(1, 65, dtype=np.float32).reshape(1, 8, 8) * (25 / 64)
    network = digits_network(far, digits_logits(far).numpy())
    panel = panel_for(network)
    assert not panel.warning.isHidden()
    assert panel.warning.text() == "the digits CNN was trained on values 0\u20261; this input reaches 25"
    ok = digit_example(4)[None].astype(np.float32)
    assert panel_for(digits_network(ok, digits_logits(ok).numpy())).warning.isHidden()


def test_a_failed_run_says_where_it_stopped(panel_for):
    stack, info = builtin_stack("mnist")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="mnist")
    panel = panel_for(network)
    assert "nn.Linear(800, 10)" in panel.status.text()
    assert panel.top_label.text() == ""


def test_at_150_percent_in_a_short_dock_the_bars_scroll_and_the_buttons_stay(panel_for, qtbot):
    from convplay.qt.zoom import text_zoom

    x = digit_example(9)[None].astype(np.float32)
    zoom = text_zoom()
    before = zoom.factor
    try:
        zoom.set_factor(1.5)
        panel = panel_for(digits_network(x, digits_logits(x).numpy()), Session(np.zeros((1, 8, 8))), History())
        panel.resize(300, 330)
        qtbot.waitUntil(lambda: panel.bars_scroll.verticalScrollBar().maximum() > 0)
        for button in (panel.draw_button, panel.examples_button):
            assert button.isVisible() and button.geometry().bottom() <= panel.height()
        panel.bars_scroll.verticalScrollBar().setValue(panel.bars_scroll.verticalScrollBar().maximum())
        nine = panel.bars.bar_rect(9)
        assert panel.bars.mapTo(panel.bars_scroll.viewport(), nine.bottomLeft().toPoint()).y() \
            <= panel.bars_scroll.viewport().height()
        assert panel.head.startswith("9 \u00b7")
    finally:
        zoom.set_factor(before)
