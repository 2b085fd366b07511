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
    panel = panel_for(network, Session(np.zeros((1, 8, 8))), History())
    assert not panel.draw_button.isEnabled() and not panel.examples_button.isEnabled()
    assert "digits CNN" in panel.draw_button.toolTip()


def test_a_stack_without_labels_shows_raw_outputs(panel_for):
    from convplay.core.layers import Layer, Stack

    network = Network()
    network.set_stack(Stack((Layer.make("Flatten"), Layer.make("Linear", 4, 3))), input_shape=(1, 2, 2))
    x = np.arange(4, dtype=np.float32).reshape(1, 2, 2)
    out = np.array([0.5, -1.0, 2.0], np.float32)
    network.set_run(NetworkRun(x, (x.ravel(), out), generation=network.generation))
    panel = panel_for(network)
    assert not panel.softmax_check.isEnabled()
    np.testing.assert_allclose(panel.bars.values, out)
    assert panel.bars.labels == ["0", "1", "2"] and panel.top_label.text().startswith("2 \u00b7 score 2")


def test_a_failed_run_says_where_it_stopped(panel_for):
    stack, info = builtin_stack("mnist")
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key="mnist")
    panel = panel_for(network)
    assert "nn.Linear(800, 10)" in panel.status.text()
    assert panel.top_label.text() == ""
