"""The Network model: setters that never raise, events, staleness, and the input it feeds."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.core.layers import Layer, Stack
from convplay.core.network import Network, NetworkRun, Probe, network_input


def _digits() -> Stack:
    make = Layer.make
    return Stack((make("Conv2d", 1, 8, 3, padding=1, name="conv1"), make("ReLU"),
                  make("Conv2d", 8, 16, 3, padding=1, name="conv2"), make("ReLU"),
                  make("MaxPool2d", 2, name="pool"), make("Flatten"), make("Linear", 256, 10, name="fc")),
                 title="digits", input_shape=(1, 8, 8))


def test_set_stack_traces_it_with_its_own_input_shape_and_empties_the_weights():
    network = Network()
    seen = []
    network.stack_changed.connect(lambda: seen.append("stack"))
    network.weights_changed.connect(lambda: seen.append("weights"))
    network.set_weights({"w": np.ones(2)}, "a file")
    network.set_stack(_digits())
    assert network.input_shape == (1, 8, 8)
    assert network.trace.output_shape == (10,)
    assert network.weights == {} and network.weights_source == ""
    assert "stack" in seen and "weights" in seen


def test_weights_are_read_only_copies():
    network = Network()
    mine = np.zeros((2, 2))
    network.set_weights({"conv1.weight": mine}, "test")
    mine[0, 0] = 5
    assert network.weights["conv1.weight"][0, 0] == 0
    with pytest.raises(ValueError):
        network.weights["conv1.weight"][0, 0] = 1


def test_bad_input_shapes_and_selections_are_ignored():
    network = Network()
    network.set_stack(_digits())
    for bad in [(0, 8, 8), (1, -1, 8), "abc", None, (1, 8)]:
        network.set_input_shape(bad)
        assert network.input_shape == (1, 8, 8)
    network.select(99)
    assert network.selected == -1
    network.select(2)
    assert network.selected == 2
    network.set_layers(network.stack.layers[:2])
    assert network.selected == 1  # clamped to the shorter stack


def test_probe_must_fit_the_layer_output():
    network = Network()
    network.set_stack(_digits())
    network.set_probe(Probe(0, 7, 7, 7))
    assert network.probe == Probe(0, 7, 7, 7)
    network.set_probe(Probe(0, 8, 0, 0))  # conv1 has 8 channels: 0..7
    assert network.probe == Probe(0, 7, 7, 7)
    network.set_probe(Probe(6, 9, 0, 0))  # the Linear's tenth output
    assert network.probe == Probe(6, 9, 0, 0)
    network.set_input_shape((1, 10, 10))
    assert network.probe is None


def test_a_run_goes_stale_when_the_input_changes_and_an_older_one_never_replaces_a_newer():
    network = Network()
    network.set_stack(_digits())
    first = NetworkRun(np.zeros((1, 8, 8), np.float32), (), generation=network.generation)
    network.set_run(first)
    assert network.run_is_fresh
    network.input_changed()
    assert not network.run_is_fresh
    newer = NetworkRun(np.zeros((1, 8, 8), np.float32), (), generation=network.generation)
    network.set_run(newer)
    network.set_run(first)
    assert network.run is newer


def test_network_input_averages_4x4_blocks_as_the_digits_data_were_made():
    drawing = np.zeros((1, 32, 32))
    drawing[0, 0:4, 0:4] = 1.0  # one full block
    drawing[0, 4:6, 4:8] = 1.0  # half a block
    x = network_input(drawing, (1, 8, 8))
    assert x.shape == (1, 8, 8) and x.dtype == np.float32
    expected = drawing[0].reshape(8, 4, 8, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(x[0], expected, atol=1e-6)


def test_network_input_converts_channels():
    rgb = np.random.default_rng(0).random((3, 4, 4))
    gray = network_input(rgb, (1, 4, 4))
    np.testing.assert_allclose(gray[0], 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2], atol=1e-6)
    assert network_input(gray, (3, 8, 8)).shape == (3, 8, 8)
    assert network_input(rgb, (16, 4, 4)).shape == (16, 4, 4)


def test_snapshot_and_restore_bring_back_stack_shape_and_the_same_weights_dict():
    from convplay.core.history import History
    from convplay.core.network import NetworkStep

    network = Network()
    network.set_stack(_digits(), labels=[str(i) for i in range(10)])
    network.set_weights({"conv1.weight": np.ones((8, 1, 3, 3))}, "a file", "all matched")
    before = network.snapshot()
    weights = network.weights
    network.set_stack(Stack((Layer.make("ReLU"),), title="other"), input_shape=(3, 5, 5))
    after = network.snapshot()
    history = History()
    history.push(NetworkStep(network, "Choose the other", before, after))
    assert history.nbytes == weights["conv1.weight"].nbytes  # the step keeps the old weights alive
    seen = []
    network.stack_changed.connect(lambda: seen.append("stack"))
    history.undo()
    assert network.stack is before.stack and network.input_shape == (1, 8, 8)
    assert network.weights is weights  # shared, not copied: the controller sees weights, makes none
    assert network.weights_source == "a file" and network.weights_note == "all matched"
    assert network.labels == tuple(str(i) for i in range(10)) and seen == ["stack"]
    history.redo()
    assert network.stack is after.stack and network.input_shape == (3, 5, 5) and network.weights == {}


def test_a_redo_brings_back_the_weights_that_arrived_after_the_step():
    from convplay.core.network import NetworkStep

    network = Network()
    before = network.snapshot()
    network.set_stack(_digits())
    step = NetworkStep(network, "Choose the digits CNN", before, network.snapshot())
    network.set_weights({"fc.weight": np.zeros((10, 256))}, "initialised")  # from the worker, later
    made = network.weights
    step.undo()
    assert network.stack is before.stack
    step.redo()
    assert network.weights is made and network.weights_source == "initialised"
