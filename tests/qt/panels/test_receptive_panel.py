"""The receptive field panel: the theoretical box as worked out by hand, the padding part
said, the effective field equal to torch's own gradient, smaller than the box with max
pooling, and the probe controls in step with the network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from convplay.core.builtin_stacks import builtin_stack
from convplay.core.network import Network, Probe
from convplay.core.session import Session
from convplay.qt.network_controller import NetworkController
from convplay.qt.panels.receptive_panel import ReceptiveFieldPanel, box_text

WAIT_MS = 30_000


def back(a: int, b: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> tuple[int, int]:
    """The input rows a window layer's output rows a..b read (PyTorch's window arithmetic)."""
    return a * s - p, b * s - p + d * (k - 1)


def with_stack(key: str) -> Network:
    stack, info = builtin_stack(key)
    network = Network()
    network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key=key)
    return network


@pytest.fixture
def panel_for(qtbot):
    def make(network, controller=None):
        panel = ReceptiveFieldPanel(network, controller)
        qtbot.addWidget(panel)
        panel.resize(460, 420)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    return make


def test_the_mnist_model_s_box_is_the_one_worked_out_by_hand(panel_for):
    network = with_stack("mnist")
    panel = panel_for(network)
    network.set_probe(Probe(5, 0, 2, 2))  # the second pool's centre pixel, of 32×5×5
    rows = (2, 2)
    # pool2 (k2 s2) <- conv2 (k3) <- pool1 (k2 s2) <- conv1 (k3), the ReLUs reading pixel for pixel
    for k, s in ((2, 2), (3, 1), (2, 2), (3, 1)):
        rows = back(*rows, k, s)
    assert rows == (8, 17)
    assert panel.theoretical_box() == (8, 8, 17, 17)
    assert panel.theory_view.box == (8, 8, 17, 17)
    assert panel.theory_title.text() == "theoretical: 10×10"
    assert "reads 10×10: rows 8–17, columns 8–17" in panel.caption.text()
    assert "Smaller than" not in panel.caption.text()


def test_the_part_of_the_box_in_the_padding_is_said(panel_for):
    network = with_stack("digits")
    panel = panel_for(network)
    network.set_probe(Probe(2, 0, 0, 0))  # conv2's corner: both 3×3 convs pad by 1
    # conv2 reads conv1's rows -1..1; row -1 is conv1's padding (a zero, no pixel behind it),
    # so only conv1's rows 0..1 look further back, at the input's rows -1..2.
    conv1_rows = back(0, 0, 3, p=1)
    assert conv1_rows == (-1, 1)
    rows = back(0, conv1_rows[1], 3, p=1)
    assert rows == (-1, 2)
    assert panel.theoretical_box() == (-1, -1, 2, 2)
    assert box_text((-1, -1, 2, 2), 8, 8) == "4×4 (1 row and 1 column fall in the padding)"
    assert box_text((-1, 0, 3, 3), 8, 8) == "5×4 (1 row falls in the padding)"
    assert box_text((-2, 0, 2, 3), 8, 8) == "5×4 (2 rows fall in the padding)"
    assert panel.theory_title.text() == "theoretical: 4×4"
    assert "4×4 (1 row and 1 column fall in the padding)" in panel.caption.text()
    assert "rows \u22121\u20132, columns \u22121\u20132." in panel.caption.text()  # a real minus, en dashes
    assert "-" not in panel.caption.text()
    assert network.trace.rows[2].receptive_field == (5, 5)
    assert "Smaller than the table's 5×5: near the border" in panel.caption.text()
    # The box's padding part is drawn inside the view, not cut at its edge.
    view = panel.theory_view
    rect = view.image_rect()
    cell = rect.width() / 8
    assert rect.left() - cell >= 0 and rect.top() - cell >= 0
    network.set_probe(Probe(2, 0, 7, 7))  # the far corner: its box ends a row and a column past the map
    assert panel.theoretical_box() == (5, 5, 8, 8)
    rect = view.image_rect()
    assert rect.right() + rect.width() / 8 <= view.width() and rect.bottom() + rect.height() / 8 <= view.height()


def test_a_linear_output_reads_the_whole_input(panel_for):
    network = with_stack("digits")
    panel = panel_for(network)
    network.set_probe(Probe(6, 3, 0, 0))
    assert panel.theoretical_box() == (0, 0, 7, 7)
    assert "reads every input pixel" in panel.caption.text()
    assert not panel.row_spin.isEnabled() and panel.channel_spin.maximum() == 9


def test_the_spins_set_the_probe_and_follow_it(panel_for):
    network = with_stack("digits")
    panel = panel_for(network)
    network.set_probe(Probe(0, 2, 3, 4))
    assert (panel.layer_combo.currentIndex(), panel.channel_spin.value(), panel.row_spin.value(),
            panel.col_spin.value()) == (0, 2, 3, 4)
    panel.col_spin.setValue(6)
    assert network.probe == Probe(0, 2, 3, 6)
    panel.layer_combo.setCurrentIndex(4)
    assert network.probe == Probe(4, 2, 2, 2)


def effective_by_torch(weights: dict, x: np.ndarray, pool, probe: Probe) -> np.ndarray:
    """|∂ out / ∂ x| of the MNIST model written out in torch (float64), with ``pool``."""
    conv1, conv2 = nn.Conv2d(1, 16, 3).double(), nn.Conv2d(16, 32, 3).double()
    for name, module in (("conv1", conv1), ("conv2", conv2)):
        module.weight.data.copy_(torch.from_numpy(weights[f"{name}.weight"].astype(np.float64)))
        module.bias.data.copy_(torch.from_numpy(weights[f"{name}.bias"].astype(np.float64)))
    t = torch.from_numpy(x[None].astype(np.float64)).requires_grad_(True)
    out = pool(torch.relu(conv2(pool(torch.relu(conv1(t))))))
    (grad,) = torch.autograd.grad(out[0, probe.channel, probe.row, probe.col], t)
    return grad[0].abs().sum(0).numpy()


def test_the_effective_field_is_torch_s_gradient_and_max_pooling_makes_it_smaller(panel_for, qtbot):
    x = np.random.default_rng(4).random((1, 28, 28))
    session = Session(x)
    network = Network()
    controller = NetworkController(network, session)
    try:
        qtbot.waitUntil(lambda: network.run_is_fresh, timeout=WAIT_MS)
        controller.load_builtin("mnist")
        qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=WAIT_MS)
        panel = panel_for(network, controller)
        probe = panel.probe  # the default: the last maps' centre, in its most active channel
        assert (probe.layer, probe.row, probe.col) == (5, 2, 2)
        qtbot.waitUntil(lambda: panel.field is not None and not panel.stale_label.isVisible(), timeout=WAIT_MS)
        expected = effective_by_torch(network.weights, x, nn.MaxPool2d(2, 2), probe)
        np.testing.assert_allclose(panel.field, expected, rtol=1e-10, atol=1e-12)
        box = panel.field[8:18, 8:18]
        reached = int(np.count_nonzero(box))
        assert np.count_nonzero(panel.field) == reached  # nothing outside the theoretical box
        assert 0 < reached < 100
        averaged = effective_by_torch(network.weights, x, nn.AvgPool2d(2, 2), probe)
        assert np.count_nonzero(averaged[8:18, 8:18]) > reached
        assert (f"Max pooling sends the gradient to one cell of each window: {reached} of the 100 pixels"
                in panel.caption.text())
        # A new input: the field goes stale, then follows.
        session.set_image(np.random.default_rng(5).random((1, 28, 28)))
        qtbot.waitUntil(lambda: network.run_is_fresh and panel.field is not None
                        and not panel.stale_label.isVisible(), timeout=WAIT_MS)
        expected = effective_by_torch(network.weights, session.image, nn.MaxPool2d(2, 2), probe)
        np.testing.assert_allclose(panel.field, expected, rtol=1e-10, atol=1e-12)
    finally:
        controller.shutdown()


def test_the_pictures_go_one_above_the_other_when_the_dock_is_tall(panel_for, qtbot):
    network = with_stack("digits")
    panel = panel_for(network)
    panel.resize(300, 900)
    qtbot.waitUntil(lambda: panel.pictures.stacked)
    assert panel.theory_view.width() > 200 and panel.theory_view.width() == panel.theory_view.height()
    assert panel.effective_view.y() > panel.theory_view.y() + panel.theory_view.height()
    panel.resize(700, 420)
    qtbot.waitUntil(lambda: not panel.pictures.stacked)
    assert panel.theory_view.y() == panel.effective_view.y()
    assert panel.theory_view.width() > 150


def test_an_empty_stack_clears_the_headers(panel_for, qtbot):
    from convplay.core.layers import Stack

    x = np.random.default_rng(2).random((1, 8, 8))
    session = Session(x)
    network = Network()
    controller = NetworkController(network, session)
    try:
        panel = panel_for(network, controller)
        qtbot.waitUntil(lambda: panel.field is not None, timeout=WAIT_MS)
        assert panel.effective_title.text().startswith("effective: ")
        network.set_stack(Stack(), input_shape=(1, 8, 8))
        assert panel.probe is None and panel.field is None
        assert panel.theory_title.text() == "theoretical" and panel.effective_title.text() == "effective"
    finally:
        controller.shutdown()


def test_after_another_model_the_default_probe_is_a_pixel_the_gradient_reaches(panel_for, qtbot):
    from convplay.core.samples import sample

    session = Session(sample("camera").image(256))  # the photo the window opens with
    network = Network()
    controller = NetworkController(network, session)
    try:
        panel = panel_for(network, controller)
        qtbot.waitUntil(lambda: panel.field is not None and network.run_is_fresh, timeout=WAIT_MS)
        for key, area in (("mnist", 100), ("cifar10", 36)):
            controller.load_builtin(key)  # the digits CNN's run is still in when the new stack comes
            qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights) and panel.field is not None
                            and not panel.stale_label.isVisible(), timeout=WAIT_MS)
            probe = panel.probe
            last = network.run.output_of(probe.layer)
            assert last[probe.channel, probe.row, probe.col] > 0
            assert np.count_nonzero(panel.field) > 0
            assert f"of the {area} pixels reach this output" in panel.caption.text()
            assert "Max pooling" in panel.caption.text()
    finally:
        controller.shutdown()
