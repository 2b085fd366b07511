"""Layer stacks in torch: built, initialised, shape-checked, run, differentiated and loaded,
each checked against a torch module written out directly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file
from torch import nn
from torch_models import CIFAR10Model

from convplay.compute.stack import (
    MAX_PARAMETERS,
    StackError,
    build_model,
    check_shapes,
    effective_receptive_field,
    initial_weights,
    load_weights_file,
    match_weights,
    parameter_count,
    run_stack,
)
from convplay.core.builtin_stacks import builtin_stack, digit_example, digits_examples
from convplay.core.kernel_io import KernelFileError
from convplay.core.layer_trace import trace
from convplay.core.layers import Layer, Stack
from convplay.core.resources import resource_path

L = Layer.make


def _sequential_stack() -> tuple[Stack, nn.Sequential]:
    """Every kind of layer, unnamed (an nn.Sequential's 0, 1, ...), beside the same Sequential."""
    stack = Stack((
        L("Conv2d", 3, 8, 3, padding=1), L("BatchNorm2d", 8), L("LeakyReLU", 0.2), L("MaxPool2d", 2),
        L("ConvTranspose2d", 8, 6, 3, stride=2, padding=1, output_padding=1), L("GELU"),
        L("AvgPool2d", 3, stride=2, padding=1, count_include_pad=False), L("Tanh"),
        L("AdaptiveAvgPool2d", (3, 2)), L("Sigmoid"), L("Dropout", 0.3), L("Flatten"), L("Linear", 36, 10),
        L("ReLU"),
    ))
    direct = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2), nn.MaxPool2d(2),
        nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1), nn.GELU(),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), nn.Tanh(),
        nn.AdaptiveAvgPool2d((3, 2)), nn.Sigmoid(), nn.Dropout(0.3), nn.Flatten(), nn.Linear(36, 10), nn.ReLU(),
    )
    return stack, direct


class _MnistCNN(nn.Module):
    """The MNIST model with the wrong Linear size, written as its code writes it."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3)
        self.fc = nn.Linear(32 * 12 * 12, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        return self.fc(x.view(-1, 32 * 12 * 12))


def _mnist_stack() -> Stack:
    return Stack((
        L("Conv2d", 1, 16, 3, name="conv1"), L("ReLU", name="relu"), L("MaxPool2d", 2, 2, name="pool"),
        L("Conv2d", 16, 32, 3, name="conv2"), L("ReLU", name="relu"), L("MaxPool2d", 2, 2, name="pool"),
        L("Flatten"), L("Linear", 4608, 10, name="fc"),
    ), input_shape=(1, 28, 28), fixed_views=((6, 4608),))


def _digits_stack() -> Stack:
    return Stack((
        L("Conv2d", 1, 8, 3, padding=1, name="conv1"), L("ReLU"), L("Conv2d", 8, 16, 3, padding=1, name="conv2"),
        L("ReLU"), L("MaxPool2d", 2, name="pool"), L("Flatten"), L("Linear", 256, 10, name="fc"),
    ), input_shape=(1, 8, 8))


def _shapes(state) -> dict:
    return {k: tuple(v.shape) for k, v in state.items()}


def _torch_error(fn) -> str:
    with pytest.raises(Exception) as err:  # whatever torch raises: its words are compared
        fn()
    return str(err.value).strip().splitlines()[0]


# -- building --------------------------------------------------------------------------------------


def test_state_dict_keys_and_shapes_are_an_nn_sequentials():
    stack, direct = _sequential_stack()
    model = build_model(stack)
    assert _shapes(model.state_dict()) == _shapes(direct.state_dict())
    assert list(model.state_dict()) == list(direct.state_dict())
    assert not model.training


def test_shared_names_are_one_module_and_dotted_names_nest():
    class Direct(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3))
            self.pool = nn.MaxPool2d(2)
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))

    stack = Stack((
        L("Conv2d", 1, 4, 3, name="features.0"), L("ReLU", name="features.1"), L("MaxPool2d", 2, name="pool"),
        L("Conv2d", 4, 4, 3, name="features.2"), L("MaxPool2d", 2, name="pool"),
        L("Flatten", name="classifier.0"), L("Linear", 4, 2, name="classifier.1"),
    ))
    model = build_model(stack)
    assert _shapes(model.state_dict()) == _shapes(Direct().state_dict())
    assert model.get_submodule("features.0") is not model.get_submodule("features.2")
    mnist = build_model(_mnist_stack())
    assert _shapes(mnist.state_dict()) == _shapes(_MnistCNN().state_dict())
    assert parameter_count(_mnist_stack()) == sum(p.numel() for p in _MnistCNN().parameters())


def test_two_different_layers_under_one_name_are_refused():
    stack = Stack((L("Conv2d", 1, 4, 3, name="conv"), L("Conv2d", 4, 4, 3, name="conv")))
    with pytest.raises(StackError, match="both called 'conv'"):
        build_model(stack)
    assert "both called 'conv'" in run_stack(stack, None, np.zeros((1, 8, 8))).error


def test_initialisation_is_pytorchs_for_the_seed_and_leaves_the_global_rng_alone():
    stack, _ = _sequential_stack()
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    first = initial_weights(stack, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = initial_weights(stack, seed=7)
    other = initial_weights(stack, seed=8)
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["0.weight"], other["0.weight"])
    torch.manual_seed(7)
    _, direct = _sequential_stack()  # PyTorch's own init, drawn in the same order
    for key, value in direct.state_dict().items():
        np.testing.assert_array_equal(first[key], value.numpy().astype(np.float32), err_msg=key)
    assert first["1.running_var"].dtype == np.float32 and "1.num_batches_tracked" in first


# -- shapes ---------------------------------------------------------------------------------------


def test_check_shapes_are_the_direct_modules_layer_by_layer():
    stack, direct = _sequential_stack()
    check = check_shapes(stack, (3, 16, 12))
    x = torch.zeros(1, 3, 16, 12)
    expected = []
    for layer in direct.eval():
        x = layer(x)
        expected.append(tuple(x.shape[1:]))
    assert check.ok and check.shapes == tuple(expected) and check.output_shape == (10,)
    assert check.by == "a batch of one on the CPU"


def test_check_shapes_stops_at_the_failing_layer_with_torchs_words():
    check = check_shapes(_mnist_stack(), (1, 28, 28))
    assert check.failed == 7 and check.shapes[5] == (32, 5, 5) and check.shapes[6] == (800,)
    assert check.shapes[7] is None
    assert check.error == _torch_error(lambda: nn.Linear(4608, 10)(torch.zeros(1, 800)))
    assert "1x800 and 4608x10" in check.error
    # run as the code runs it, the view itself fails for a batch of one
    as_code = check_shapes(_mnist_stack(), (1, 28, 28), fixed_views=True)
    assert as_code.failed == 6
    assert as_code.error == _torch_error(lambda: _MnistCNN()(torch.zeros(1, 1, 28, 28)))
    wrong_channels = check_shapes(_digits_stack(), (3, 8, 8))
    assert wrong_channels.failed == 0 and wrong_channels.shapes == (None,) * 7
    assert wrong_channels.error == _torch_error(lambda: nn.Conv2d(1, 8, 3, padding=1)(torch.zeros(1, 3, 8, 8)))
    too_small = check_shapes(Stack((L("MaxPool2d", 5),)), (1, 3, 3))
    assert too_small.failed == 0 and too_small.error == _torch_error(lambda: nn.MaxPool2d(5)(torch.zeros(1, 1, 3, 3)))


def test_layers_too_large_for_a_trial_run_are_checked_on_the_meta_device():
    stack = Stack((L("Conv2d", 1, 64, 3, padding=1), L("ReLU"), L("Conv2d", 3, 8, 3)))
    check = check_shapes(stack, (1, 1024, 1024))
    x = torch.empty(1, 1, 1024, 1024, device="meta")
    with torch.device("meta"):
        x = nn.ReLU()(nn.Conv2d(1, 64, 3, padding=1)(x))
    assert check.shapes[:2] == (tuple(x.shape[1:]),) * 2 and check.failed == 2
    assert check.by == "the meta device"
    with torch.device("meta"):
        words = _torch_error(lambda: nn.Conv2d(3, 8, 3)(x))
    assert check.error == words


def test_a_fixed_view_mixes_a_batch_of_144_as_the_code_does():
    model = build_model(_mnist_stack(), fixed_views=True)
    with torch.no_grad():
        out = model(torch.zeros(144, 1, 28, 28))
    assert tuple(out.shape) == (25, 10)


# -- running --------------------------------------------------------------------------------------


def test_run_outputs_are_the_direct_modules_intermediate_outputs():
    stack, direct = _sequential_stack()
    weights = initial_weights(stack, seed=3)
    rng = np.random.default_rng(0)
    weights["1.running_mean"] = rng.normal(size=8).astype(np.float32)  # non-trivial statistics
    weights["1.running_var"] = rng.uniform(0.5, 2, size=8).astype(np.float32)
    direct.load_state_dict({k: torch.from_numpy(v).to(direct.state_dict()[k].dtype) for k, v in weights.items()})
    x = rng.normal(size=(3, 16, 12)).astype(np.float32)
    run = run_stack(stack, weights, x)
    assert run.ok and run.failed is None and run.seconds > 0 and len(run.outputs) == len(stack)
    t = torch.from_numpy(x)[None]
    with torch.no_grad():
        for index, layer in enumerate(direct.eval()):
            t = layer(t)
            assert run.outputs[index].dtype == np.float32
            np.testing.assert_allclose(run.outputs[index], t[0].numpy(), rtol=1e-6, atol=1e-6, err_msg=str(index))


def test_a_run_stops_at_the_failing_layer_with_its_outputs_so_far():
    run = run_stack(_mnist_stack(), None, np.ones((1, 28, 28)))
    assert run.failed == 7 and len(run.outputs) == 7 and run.outputs[6].shape == (800,)
    assert "1x800 and 4608x10" in run.error
    assert "must be (C, H, W)" in run_stack(_digits_stack(), None, np.ones((8, 8))).error


def test_stacks_too_large_are_refused_before_anything_is_allocated():
    huge = Stack((L("Flatten"), L("Linear", 10_000, 6_000)))
    assert parameter_count(huge) == 60_006_000 > MAX_PARAMETERS
    run = run_stack(huge, None, np.zeros((1, 100, 100)))
    assert run.outputs == [] and run.failed is None and "60,006,000 parameters" in run.error
    with pytest.raises(StackError, match="50,000,000"):
        build_model(huge)
    # a trillion parameters: refused from the arithmetic, never built
    with pytest.raises(StackError, match="parameters"):
        initial_weights(Stack((L("Linear", 1_000_000, 1_000_000),)))
    wide = Stack((L("Conv2d", 1, 2048, 1), L("ReLU")))
    run = run_stack(wide, None, np.zeros((1, 256, 256), dtype=np.float32))
    assert run.outputs == [] and "MiB" in run.error and "512" in run.error


# -- the effective receptive field ----------------------------------------------------------------


def _direct_erf(model: nn.Module, x: np.ndarray, where) -> np.ndarray:
    t = torch.from_numpy(x.astype(np.float64))[None].requires_grad_(True)
    out = model.double()(t)[0]
    out[where].backward()
    return t.grad[0].abs().sum(0).numpy()


def test_effective_field_of_convolutions_is_the_theoretical_box():
    stack = Stack((L("Conv2d", 2, 4, 3, stride=2), L("Conv2d", 4, 4, 3), L("Conv2d", 4, 3, 3, dilation=2)))
    direct = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2), nn.Conv2d(4, 4, 3), nn.Conv2d(4, 3, 3, dilation=2)).eval()
    weights = initial_weights(stack, seed=1)
    direct.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    x = np.random.default_rng(1).normal(size=(2, 24, 24))
    erf = effective_receptive_field(stack, weights, x, 2, 2, 1, 2)
    assert erf.shape == (24, 24) and erf.dtype == np.float64
    # output (1, 2) of the dilated conv reads rows 1, 3, 5 and cols 2, 4, 6 of the middle conv,
    # whose row i reads input rows 2i..2i+6 through the strided one: rows 2..16, cols 4..18
    box = np.zeros((24, 24), dtype=bool)
    box[2:17, 4:19] = True
    np.testing.assert_array_equal(erf > 0, box)
    np.testing.assert_allclose(erf, _direct_erf(direct, x, (2, 1, 2)), rtol=1e-12, atol=1e-15)


def test_max_pooling_makes_the_effective_field_smaller_than_the_box():
    stack = Stack((L("Conv2d", 1, 4, 3), L("MaxPool2d", 2), L("Conv2d", 4, 2, 3), L("Flatten"), L("Linear", 18, 3)))
    direct = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.Conv2d(4, 2, 3), nn.Flatten(), nn.Linear(18, 3))
    weights = initial_weights(stack, seed=2)
    direct.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    x = np.random.default_rng(2).normal(size=(1, 12, 12))
    erf = effective_receptive_field(stack, weights, x, 2, 1, 1, 1)
    # the theoretical field of conv2's (1, 1): pool rows 1..3, conv1 rows 2..7, input rows 2..9
    box = np.zeros((12, 12), dtype=bool)
    box[2:10, 2:10] = True
    assert (erf > 0).any() and not (erf[~box] > 0).any()
    assert (erf > 0).sum() < box.sum()  # each pooling window passes the gradient to one cell
    np.testing.assert_allclose(erf, _direct_erf(direct[:3], x, (1, 1, 1)), rtol=1e-12, atol=1e-15)
    scores = effective_receptive_field(stack, weights, x, 4, 2)  # a class score: (channel,) only
    np.testing.assert_allclose(scores, _direct_erf(direct, x, (2,)), rtol=1e-12, atol=1e-15)
    with pytest.raises(StackError, match="no entry"):
        effective_receptive_field(stack, weights, x, 2, 5, 0, 0)


# -- weights from files ---------------------------------------------------------------------------


class _CreatesFile:
    """Unpickling this would create ``path`` (as tests/compute/test_hostile_files.py makes one)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_saved_state_dict_matches_by_name_and_shape_with_what_does_not_fit_listed(tmp_path):
    stack = _digits_stack()
    torch.manual_seed(5)
    direct = nn.ModuleDict({"conv1": nn.Conv2d(1, 8, 3), "conv2": nn.Conv2d(8, 16, 3), "fc": nn.Linear(256, 10)})
    state = {f"module.{k}": v for k, v in direct.state_dict().items()}  # as DataParallel saves it
    del state["module.fc.bias"]
    del state["module.fc.weight"]
    state["module.conv2.weight"] = torch.ones(32, 16, 3, 3)
    torch.save(state, tmp_path / "weights.pth")
    match = match_weights(stack, load_weights_file(tmp_path / "weights.pth"), seed=4)
    assert match.prefix == "module."
    assert match.loaded == ("conv1.weight", "conv1.bias", "conv2.bias")
    assert match.missing == ("fc.weight", "fc.bias")
    assert match.mismatched == (("conv2.weight", (16, 8, 3, 3), (32, 16, 3, 3)),)
    assert match.summary() == ("loaded 3 of 6; missing fc.weight, fc.bias; conv2.weight is 32×16×3×3 in the "
                               "file, the stack wants 16×8×3×3")
    np.testing.assert_array_equal(match.weights["conv1.weight"], direct.conv1.weight.detach().numpy())
    initial = initial_weights(stack, seed=4)
    for name in ("fc.weight", "conv2.weight"):
        np.testing.assert_array_equal(match.weights[name], initial[name])
    run_stack(stack, match.weights, np.zeros((1, 8, 8)))  # the weights as matched build the stack


def test_a_checkpoint_dict_safetensors_and_npz_load_whole(tmp_path):
    stack = _digits_stack()
    torch.manual_seed(6)
    direct = nn.ModuleDict({"conv1": nn.Conv2d(1, 8, 3), "conv2": nn.Conv2d(8, 16, 3), "fc": nn.Linear(256, 10)})
    sd = direct.state_dict()
    optimiser = torch.optim.SGD(direct.parameters(), lr=0.1, momentum=0.9)
    torch.save({"epoch": 3, "state_dict": sd, "optimizer": optimiser.state_dict(), "ema.fc.bias": torch.zeros(10)},
               tmp_path / "checkpoint.ckpt")
    save_file({k: v.contiguous() for k, v in sd.items()}, str(tmp_path / "weights.safetensors"))
    np.savez(tmp_path / "weights.npz", **{f"model.{k}": v.numpy() for k, v in sd.items()})
    for name in ("checkpoint.ckpt", "weights.safetensors", "weights.npz"):
        match = match_weights(stack, load_weights_file(tmp_path / name))
        assert match.complete and len(match.loaded) == 6, name
        for key, value in sd.items():
            np.testing.assert_array_equal(match.weights[key], value.numpy(), err_msg=name)
    match = match_weights(stack, load_weights_file(tmp_path / "checkpoint.ckpt"))
    assert match.unexpected == ("ema.fc.bias",)
    assert match.summary() == "loaded 6 of 6 tensors; the file's ema.fc.bias fits no layer"


def test_a_hostile_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"conv1.weight": torch.ones(8, 1, 3, 3), "x": _CreatesFile(marker)}, tmp_path / "evil.pth")
    with pytest.raises(KernelFileError) as err:
        load_weights_file(tmp_path / "evil.pth")
    assert not marker.exists()
    message = str(err.value)
    assert message.startswith("evil.pth ") and "nothing in it was run" in message.lower()
    assert "weights_only" not in message
    np.save(tmp_path / "one.npy", np.zeros((8, 1, 3, 3)))
    with pytest.raises(KernelFileError, match="without a name"):
        load_weights_file(tmp_path / "one.npy")


# -- the digits CNN -------------------------------------------------------------------------------


def test_the_digits_stack_with_its_weights_reproduces_its_test_accuracy():
    stack, info = builtin_stack("digits")
    assert stack.layers == _digits_stack().layers
    match = match_weights(stack, load_weights_file(info.weights_path))
    assert match.complete and match.summary() == "loaded 6 of 6 tensors"
    record = json.loads(resource_path("kernels", "digits_cnn.json").read_text(encoding="utf-8"))
    images, labels = digits_examples()
    assert images.shape == (450, 1, 8, 8)
    model = build_model(stack, match.weights)
    with torch.no_grad():
        scores = model(torch.from_numpy(np.array(images)))
    accuracy = (scores.argmax(1).numpy() == labels).mean()
    assert round(float(accuracy), 6) == record["test_accuracy"] == 0.977778
    run = run_stack(stack, model, images[0])  # a built module is reused as it is
    np.testing.assert_allclose(run.outputs[-1], scores[0].numpy(), rtol=1e-5, atol=1e-5)
    for digit in range(10):  # the canvas's examples are ones the network gets right
        assert int(np.argmax(run_stack(stack, match.weights, digit_example(digit)[None]).outputs[-1])) == digit


@pytest.mark.parametrize("key", ["digits", "cifar10", "mnist"])
def test_torch_agrees_with_the_trace_on_every_builtin(key):
    stack, info = builtin_stack(key)
    traced = trace(stack, info.input_shape)
    check = check_shapes(stack, info.input_shape)
    assert check.failed == traced.failed
    assert check.shapes == tuple(None if row.error else row.output_shape for row in traced.rows)


# -- random stacks: the meta device's shapes and refusals are the CPU's -----------------------------


@st.composite
def _random_stacks(draw):
    """Random stacks whose layers often do not fit what comes before them."""
    c = draw(st.integers(1, 4))
    layers, channels = [], c
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d",
                                     "BatchNorm2d", "GELU", "Flatten", "Linear"]))
        fits = draw(st.integers(0, 5)) > 0
        width = channels if fits else draw(st.integers(1, 6))
        if kind == "Conv2d":
            out = draw(st.integers(1, 5))
            layers.append(L("Conv2d", width, out, draw(st.integers(1, 5)), stride=draw(st.integers(1, 3)),
                            padding=draw(st.integers(0, 2)), dilation=draw(st.integers(1, 2))))
            channels = out
        elif kind == "ConvTranspose2d":
            out, stride = draw(st.integers(1, 5)), draw(st.integers(1, 3))
            layers.append(L("ConvTranspose2d", width, out, draw(st.integers(1, 4)), stride=stride,
                            padding=draw(st.integers(0, 2)), output_padding=draw(st.integers(0, stride - 1))))
            channels = out
        elif kind == "MaxPool2d":
            k = draw(st.integers(1, 4))
            layers.append(L("MaxPool2d", k, stride=draw(st.none() | st.integers(1, 3)), padding=draw(st.integers(0, 2)),
                            dilation=draw(st.integers(1, 2)), ceil_mode=draw(st.booleans())))
        elif kind == "AvgPool2d":
            layers.append(L("AvgPool2d", draw(st.integers(1, 4)), stride=draw(st.none() | st.integers(1, 3)),
                            padding=draw(st.integers(0, 2)), ceil_mode=draw(st.booleans())))
        elif kind == "AdaptiveMaxPool2d":
            layers.append(L("AdaptiveMaxPool2d", (draw(st.integers(1, 4)), draw(st.integers(1, 4)))))
        elif kind == "BatchNorm2d":
            layers.append(L("BatchNorm2d", width))
        elif kind == "GELU":
            layers.append(L("GELU"))
        elif kind == "Flatten":
            layers.append(L("Flatten"))
        else:
            out = draw(st.integers(1, 6))
            layers.append(L("Linear", draw(st.integers(1, 40)), out))
            channels = out
    return Stack(tuple(layers)), (c, draw(st.integers(1, 12)), draw(st.integers(1, 12)))


@settings(max_examples=60, deadline=None)
@given(_random_stacks())
def test_random_stacks_shapes_and_refusals_are_torchs(case):
    stack, shape = case
    check = check_shapes(stack, shape)
    direct = nn.Sequential(*(getattr(nn, layer.kind)(**dict(layer.args)) for layer in stack.layers)).eval()
    x = torch.zeros(1, *shape)
    for index, layer in enumerate(direct):
        try:
            with torch.no_grad():
                x = layer(x)
        except Exception as exc:  # noqa: BLE001 - whatever torch raises: its words are compared
            assert check.failed == index
            assert check.error == str(exc).strip().splitlines()[0]
            assert check.shapes[index:] == (None,) * (len(stack) - index)
            return
        assert check.shapes[index] == tuple(x.shape[1:]), index
    assert check.ok


def test_an_unknown_device_is_a_message():
    assert "unknown device" in run_stack(_digits_stack(), None, np.zeros((1, 8, 8)), device="tpu").error


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_run_on_cuda_gives_the_cpus_outputs():
    stack, _ = _sequential_stack()
    weights = initial_weights(stack, seed=9)
    x = np.random.default_rng(9).normal(size=(3, 16, 12)).astype(np.float32)
    cpu = run_stack(stack, weights, x)
    gpu = run_stack(stack, weights, x, device="cuda")
    assert gpu.ok and len(gpu.outputs) == len(cpu.outputs)
    for a, b in zip(gpu.outputs, cpu.outputs):
        np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-2)  # TF32 may be on for the convolutions


def test_seeded_initialisation_holds_while_other_threads_build():
    from concurrent.futures import ThreadPoolExecutor

    stack, _ = _sequential_stack()
    expected = initial_weights(stack, seed=11)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda seed: (seed, initial_weights(stack, seed)), [11, 12] * 6))
    for seed, weights in results:
        if seed == 11:
            assert all(np.array_equal(weights[k], expected[k]) for k in expected)


def test_the_cifar10_stack_is_the_model_its_code_builds():
    stack, info = builtin_stack("cifar10")
    torch.manual_seed(0)
    direct = CIFAR10Model().eval()
    weights = initial_weights(stack, seed=0)  # the same draws as the code's own model for seed 0
    assert list(weights) == list(direct.state_dict())
    for key, value in direct.state_dict().items():
        np.testing.assert_array_equal(weights[key], value.numpy(), err_msg=key)
    x = np.random.default_rng(3).random(info.input_shape, dtype=np.float32)
    run = run_stack(stack, weights, x)
    t = torch.from_numpy(x)[None]
    with torch.no_grad():
        conv1 = direct.conv1(t)
        conv2 = direct.conv2(direct.drop1(direct.act1(conv1)))
        scores = direct(t)
    assert run.outputs[0].shape == (32, 32, 32)  # the 32 feature maps of conv1, and of conv2
    np.testing.assert_allclose(run.outputs[0], conv1[0].numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(run.outputs[3], conv2[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.outputs[-1], scores[0].numpy(), rtol=1e-5, atol=1e-6)
