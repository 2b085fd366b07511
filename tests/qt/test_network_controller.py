"""The network controller: the digits CNN at start with its shipped weights, runs that equal a
torch model written out by hand, a new run per pen stroke (newest wins), PyTorch's seeded
initialisation, weights files matched by name and shape, and the shape check."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from convplay.core.builtin_stacks import builtin_info, digit_example
from convplay.core.network import Network
from convplay.core.session import Session
from convplay.qt.network_controller import SHAPES_OK, NetworkController

WAIT_MS = 30_000  # the first job imports torch in the worker


class DigitsOracle(nn.Module):
    """The digits CNN as tools/train_digits.py writes it, every layer's output kept."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        outs = [self.conv1(x)]
        outs.append(torch.relu(outs[-1]))
        outs.append(self.conv2(outs[-1]))
        outs.append(torch.relu(outs[-1]))
        outs.append(self.pool(outs[-1]))
        outs.append(outs[-1].flatten(1))
        outs.append(self.fc(outs[-1]))
        return outs


def shipped_oracle() -> DigitsOracle:
    model = DigitsOracle().eval()
    model.load_state_dict(load_file(str(builtin_info("digits").weights_path)))
    return model


def digit_canvas(label: int) -> np.ndarray:
    return np.kron(digit_example(label), np.ones((4, 4)))[None]


@pytest.fixture
def make(qtbot):
    made = []

    def make(image=None):
        session = Session(digit_canvas(3) if image is None else image)
        network = Network()
        controller = NetworkController(network, session)
        made.append(controller)
        qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=WAIT_MS)
        return controller, network, session

    yield make
    for controller in made:
        controller.shutdown()


def test_the_digits_cnn_loads_with_its_shipped_weights_and_runs_as_torch_does(make):
    controller, network, _ = make()
    assert network.key == "digits"
    assert network.weights_source == "digits_cnn.safetensors: loaded 6 of 6 tensors"
    run = network.run
    # A 32×32 drawing of 4×4 blocks is averaged back to the 8×8 digit the network was tested on.
    np.testing.assert_allclose(run.input[0], digit_example(3), atol=1e-6)
    with torch.no_grad():
        expected = shipped_oracle()(torch.from_numpy(digit_example(3)[None, None].astype(np.float32)))
    assert len(run.outputs) == len(expected) == 7
    for mine, theirs in zip(run.outputs, expected):
        np.testing.assert_allclose(mine, theirs[0].numpy(), rtol=1e-5, atol=1e-5)
    assert int(np.argmax(run.outputs[-1])) == 3
    assert controller.shape_check.startswith(SHAPES_OK)


def test_a_stroke_makes_a_newer_run_for_the_new_image(make, qtbot):
    _, network, session = make()
    before = network.run
    image = digit_canvas(7)
    session.set_image(image)
    assert not network.run_is_fresh  # the last run went stale at once
    qtbot.waitUntil(lambda: network.run_is_fresh, timeout=WAIT_MS)
    assert network.run is not before and network.run.generation > before.generation
    np.testing.assert_allclose(network.run.input[0], digit_example(7), atol=1e-6)
    assert int(np.argmax(network.run.outputs[-1])) == 7


def test_fast_strokes_collapse_into_the_newest(make, qtbot):
    controller, network, session = make()
    started = controller.runs_started
    canvas = np.zeros((1, 32, 32))
    for k in range(40):  # a stroke pushes an image per mouse move
        canvas = canvas.copy()
        canvas[0, 4 + k % 24, 4:28] = 1.0
        session.set_image(canvas)
    qtbot.waitUntil(lambda: network.run_is_fresh, timeout=WAIT_MS)
    assert controller.runs_started - started < 40
    expected = canvas[0].reshape(8, 4, 8, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(network.run.input[0], expected, atol=1e-6)


def test_initialise_gives_pytorch_s_own_initialisation_for_the_seed(make, qtbot):
    controller, network, _ = make()
    controller.initialise(5)
    qtbot.waitUntil(lambda: network.weights_source == "initialised as PyTorch does (seed 5)", timeout=WAIT_MS)
    torch.manual_seed(5)
    oracle = DigitsOracle()  # modules made in the order the stack first uses them
    for name, tensor in oracle.state_dict().items():
        np.testing.assert_array_equal(network.weights[name], tensor.numpy())
    qtbot.waitUntil(lambda: network.run_is_fresh, timeout=WAIT_MS)
    with torch.no_grad():
        expected = oracle.eval()(torch.from_numpy(network.run.input[None]))[-1][0].numpy()
    np.testing.assert_allclose(network.run.outputs[-1], expected, rtol=1e-5, atol=1e-6)


def test_a_weights_file_is_matched_by_name_and_shape(make, qtbot, tmp_path):
    controller, network, _ = make()
    state = {k: v.clone() for k, v in shipped_oracle().state_dict().items()}
    state["conv1.weight"] = torch.full((8, 1, 3, 3), 0.5)
    state["fc.weight"] = torch.zeros(10, 99)  # another shape: not loaded
    state["extra.bias"] = torch.zeros(3)
    path = tmp_path / "mine.safetensors"
    save_file(state, str(path))
    controller.load_weights_file(path)
    qtbot.waitUntil(lambda: network.weights_source.startswith("mine.safetensors"), timeout=WAIT_MS)
    source = network.weights_source
    assert "loaded 5 of 6" in source and "fc.weight is 10×99 in the file, the stack wants 10×256" in source
    assert "extra.bias" in source
    np.testing.assert_array_equal(network.weights["conv1.weight"], np.full((8, 1, 3, 3), 0.5, np.float32))


def test_a_file_that_cannot_be_read_says_why_and_keeps_the_weights(make, qtbot, tmp_path):
    controller, network, _ = make()
    before = network.weights
    path = tmp_path / "broken.pth"
    path.write_bytes(b"not a checkpoint")
    with qtbot.waitSignal(controller.message, timeout=WAIT_MS) as said:
        controller.load_weights_file(path)
    assert "broken.pth" in said.args[0]
    assert network.weights is before


def test_the_mnist_model_fails_where_torch_fails_and_the_check_agrees(make, qtbot):
    controller, network, _ = make()
    with qtbot.waitSignal(controller.shape_check_changed, timeout=WAIT_MS) as checked:
        assert controller.load_builtin("mnist")
    assert network.trace.failed == 7
    assert checked.args[0].startswith("\u2713 PyTorch (") and " refuses fc too" in checked.args[0]
    qtbot.waitUntil(lambda: network.run_is_fresh, timeout=WAIT_MS)
    run = network.run
    assert run.failed == 7 and "800" in run.error and "4608" in run.error
    # Up to the failing layer every output is there: torch's own layers give the same shapes.
    x = torch.from_numpy(run.input[None])
    conv1, pool = nn.Conv2d(1, 16, 3), nn.MaxPool2d(2, 2)
    assert tuple(run.outputs[2].shape) == tuple(pool(torch.relu(conv1(x)))[0].shape) == (16, 13, 13)
    assert tuple(run.outputs[6].shape) == (800,)


def test_an_unknown_built_in_is_a_message(make, qtbot):
    controller, network, _ = make()
    with qtbot.waitSignal(controller.message) as said:
        assert not controller.load_builtin("imagenet")
    assert "imagenet" in said.args[0]
    assert network.key == "digits"


def test_a_layer_opened_in_the_playground_does_not_become_the_network_s_input(make, qtbot):
    controller, network, session = make()
    run = network.run
    with qtbot.waitSignal(controller.follows_changed) as told:
        session.set_image(run.outputs[1])  # what opening conv2 in the sliding window puts there
    assert told.args == [False] and controller.held_layer == 2
    assert controller.held_text().startswith("The input panel holds conv2's input (opened in the sliding window)")
    assert network.run is run and network.run_is_fresh and not controller.follows_session
    drawn = np.array(run.outputs[1], dtype=np.float64)
    drawn[0, 2, 2] += 1.0  # drawing on that feature map keeps its shape: still not the network's input
    session.set_image(drawn)
    assert network.run is run
    with qtbot.waitSignal(controller.follows_changed) as told:
        session.set_image(digit_canvas(7))  # a new drawing: the network follows again
    assert told.args == [True] and controller.held_text() == ""
    qtbot.waitUntil(lambda: network.run_is_fresh, timeout=WAIT_MS)
    assert controller.follows_session and int(np.argmax(network.run.outputs[-1])) == 7


def test_the_same_built_in_chosen_again_gets_its_weights_again(make, qtbot):
    controller, network, _ = make()
    assert controller.load_builtin("digits")  # the same Stack object as before, its weights emptied
    assert not network.weights
    qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=WAIT_MS)
    assert network.weights_source == "digits_cnn.safetensors: loaded 6 of 6 tensors"
    assert int(np.argmax(network.run.outputs[-1])) == 3


def test_an_edit_keeps_the_weights_that_still_fit(make, qtbot):
    from convplay.core.layers import Layer

    _, network, _ = make()
    before = network.weights
    network.set_layers(network.stack.layers[:3] + (Layer.make("Conv2d", 16, 4, 1, name="head"),))
    qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=WAIT_MS)
    assert network.weights_source == "4 of 6 tensors kept, the others initialised as PyTorch does (seed 0)"
    for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        np.testing.assert_array_equal(network.weights[name], before[name])
    assert tuple(network.run.outputs[-1].shape) == (4, 8, 8)


def test_a_probe_the_gradient_does_not_reach_gives_way_to_an_alternative():
    from convplay.core.layers import Layer, Stack
    from convplay.core.network import Probe
    from convplay.qt.network_controller import effective_job

    stack = Stack((Layer.make("Conv2d", 1, 2, 1, name="conv"),))
    weights = {"conv.weight": np.array([0.0, -2.0], np.float32).reshape(2, 1, 1, 1),
               "conv.bias": np.zeros(2, np.float32)}
    x = np.random.default_rng(0).random((1, 3, 3)).astype(np.float32)
    dead, live = Probe(0, 0, 1, 1), Probe(0, 1, 1, 1)
    conv = torch.nn.Conv2d(1, 2, 1).double()
    conv.weight.data.copy_(torch.from_numpy(weights["conv.weight"].astype(np.float64)))
    conv.bias.data.zero_()
    t = torch.from_numpy(x[None].astype(np.float64)).requires_grad_(True)
    (grad,) = torch.autograd.grad(conv(t)[0, 1, 1, 1], t)
    job = {"stack": stack, "weights": weights, "input": x, "probe": dead, "alternatives": (live,)}
    probe, field = effective_job(job)
    assert probe == live
    np.testing.assert_allclose(field, grad[0].abs().sum(0).numpy())
    probe, field = effective_job({**job, "alternatives": ()})
    assert probe == dead and not np.any(field)


@pytest.mark.parametrize("pool", ["nn.AdaptiveAvgPool2d(1)", "nn.MaxPool2d(2)"])
def test_a_pool_after_a_partial_flatten_is_refused_by_the_trace_and_the_check_says_why_not_that_it_differs(pool):
    # The monkey, seed 431: torch runs a pool on the (1, 8, 16) tensor a Flatten(start_dim=2)
    # leaves as one image without a batch; the trace refuses it on purpose.  The badge said
    # "✗ PyTorch gives 1×1 after AdaptiveAvgPool2d (layer 3), the trace —".
    from convplay.compute.stack import check_shapes
    from convplay.core.layer_trace import trace
    from convplay.core.stack_parse import parse_stack
    from convplay.qt.network_controller import shape_check_text

    stack = parse_stack(f"nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(2), "
                        f"nn.Flatten(start_dim=2, end_dim=3), {pool}, nn.ReLU())")
    traced, check = trace(stack, (1, 8, 8)), check_shapes(stack, (1, 8, 8))
    assert traced.failed == 3 and check.shapes[3] is not None  # torch runs it
    text = shape_check_text(traced, check)
    assert text.startswith("\u2713 PyTorch (") and "agrees up to" in text
    assert "the 8×16 tensor as one image without a batch" in text and "convplay refuses it" in text
