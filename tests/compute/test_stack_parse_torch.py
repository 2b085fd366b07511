"""parse_stack against PyTorch itself: the text print(model) writes for real modules parses
back to what the modules hold, the order forward calls modules in is the order parsed from
the code, and a fixed view's n is the row length torch's view needs."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import textwrap
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch_models import CIFAR10Model, MNISTCNN

from convplay.core.layers import KINDS, Layer, LayerError, pair
from convplay.core.stack_parse import parse_stack

ROOT = Path(__file__).resolve().parents[2]


class Blocks(nn.Module):
    """Nested Sequentials, functional calls and a forward order unlike the registration order."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8 * 2 * 2, 5)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
            nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)))
        self.squeeze = nn.AdaptiveAvgPool2d((2, 2))

    def forward(self, x):
        x = F.gelu(self.features(x))
        x = self.squeeze(x)
        x = torch.flatten(x, 1)
        return torch.tanh(self.head(F.dropout(x, 0.1, training=self.training)))


class ConvBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class WithBlocks(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.block1 = ConvBlock(1, 16)
        self.block2 = ConvBlock(16, 32, stride=2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, num_classes))

    def forward(self, x):
        x = self.block2(self.block1(x))
        return self.head(x)


class PyTorchMNISTExample(nn.Module):
    """PyTorch's own MNIST example: functional activations, torch.flatten, a final log_softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def digits_cnn():
    spec = importlib.util.spec_from_file_location("train_digits", ROOT / "tools" / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the project's own script, not pasted text
    source = (ROOT / "tools" / "train_digits.py").read_text(encoding="utf-8")
    cls = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "DigitsCNN")
    return module.DigitsCNN, ast.get_source_segment(source, cls)


def every_kind() -> nn.Sequential:
    return nn.Sequential(OrderedDict([
        ("conv", nn.Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(2, 1), groups=1, bias=False,
                           padding_mode="circular")),
        ("same", nn.Conv2d(8, 8, 3, padding="same", padding_mode="reflect")),
        ("up", nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1)),
        ("maxpool", nn.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True)),
        ("avgpool", nn.AvgPool2d((2, 3), stride=1, padding=(1, 1))),
        ("amax", nn.AdaptiveMaxPool2d((None, 4))),
        ("aavg", nn.AdaptiveAvgPool2d(4)),
        ("relu", nn.ReLU(inplace=True)),
        ("leaky", nn.LeakyReLU(negative_slope=0.05)),
        ("sigmoid", nn.Sigmoid()),
        ("tanh", nn.Tanh()),
        ("gelu", nn.GELU(approximate="tanh")),
        ("bn", nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False, track_running_stats=True)),
        ("drop", nn.Dropout(p=0.25)),
        ("flat", nn.Flatten(1, -1)),
        ("fc", nn.Linear(64, 10, bias=False)),
    ]))


def torch_args(module: nn.Module) -> dict:
    """What the torch module holds, by constructor argument name, pairs as pairs."""
    kind = type(module).__name__
    if kind in ("Conv2d", "ConvTranspose2d"):
        got = {"in_channels": module.in_channels, "out_channels": module.out_channels,
               "kernel_size": module.kernel_size, "stride": module.stride,
               "padding": module.padding if isinstance(module.padding, str) else tuple(module.padding),
               "dilation": module.dilation, "groups": module.groups, "bias": module.bias is not None,
               "padding_mode": module.padding_mode}
        if kind == "ConvTranspose2d":
            got["output_padding"] = module.output_padding
        return got
    if kind == "MaxPool2d":
        return {k: getattr(module, k) for k in ("kernel_size", "stride", "padding", "dilation", "ceil_mode")}
    if kind == "AvgPool2d":
        return {k: getattr(module, k) for k in ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                                "divisor_override")}
    if kind in ("AdaptiveMaxPool2d", "AdaptiveAvgPool2d"):
        return {"output_size": module.output_size}
    if kind == "ReLU":
        return {"inplace": module.inplace}
    if kind == "LeakyReLU":
        return {"negative_slope": module.negative_slope, "inplace": module.inplace}
    if kind == "GELU":
        return {"approximate": module.approximate}
    if kind == "BatchNorm2d":
        return {k: getattr(module, k) for k in ("num_features", "eps", "momentum", "affine", "track_running_stats")}
    if kind == "Dropout":
        return {"p": module.p, "inplace": module.inplace}
    if kind == "Flatten":
        return {"start_dim": module.start_dim, "end_dim": module.end_dim}
    if kind == "Linear":
        return {"in_features": module.in_features, "out_features": module.out_features,
                "bias": module.bias is not None}
    return {}


def same_value(ours, theirs) -> bool:
    if isinstance(ours, str) or isinstance(theirs, str):
        return ours == theirs
    if isinstance(ours, (tuple, int)) and isinstance(theirs, (tuple, int)) and not isinstance(ours, bool):
        return pair(ours) == pair(theirs)
    return ours == theirs


def effective(layer: Layer, key: str):
    if key == "stride" and layer[key] is None:  # None: the kernel size, as torch fills it in
        return layer["kernel_size"]
    return layer[key]


def assert_matches(layer: Layer, module: nn.Module):
    assert layer.kind == type(module).__name__
    for key, theirs in torch_args(module).items():
        ours = effective(layer, key)
        assert same_value(ours, theirs), (layer.name, key, ours, theirs)


def leaves(model: nn.Module):
    return [(name, m) for name, m in model.named_modules() if not list(m.children()) and name]


def forward_order(model: nn.Module, x: torch.Tensor) -> list[str]:
    """The leaf modules forward calls, in order, as torch's hooks see them."""
    calls = []
    names = {m: name for name, m in leaves(model)}
    handles = [m.register_forward_hook(lambda mod, i, o: calls.append(names[mod])) for m in names]
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for h in handles:
            h.remove()
    return calls


MODELS = {
    "mnist": (MNISTCNN, (1, 54, 54)),  # 54×54 is the input its view(-1, 4608) was written for
    "cifar10": (CIFAR10Model, (3, 32, 32)),
    "blocks": (Blocks, (3, 16, 16)),
    "pytorch_mnist": (PyTorchMNISTExample, (1, 28, 28)),
}


def source_of(cls) -> str:
    text = textwrap.dedent(inspect.getsource(cls))
    if cls is WithBlocks:  # the block's class is part of the model's code
        text = textwrap.dedent(inspect.getsource(ConvBlock)) + "\n\n" + text
    return text


MODELS["with_blocks"] = (WithBlocks, (1, 8, 8))


@pytest.mark.parametrize("key", [*MODELS, "digits", "every_kind"])
def test_printed_model_parses_back_to_what_torch_holds(key):
    if key == "digits":
        model = digits_cnn()[0]()
    elif key == "every_kind":
        model = every_kind()
    else:
        model = MODELS[key][0]()
    stack = parse_stack(str(model))
    real = leaves(model)
    assert [layer.name for layer in stack.layers] == [name for name, _ in real]
    for layer, (_, module) in zip(stack.layers, real):
        assert_matches(layer, module)
    assert any("registered" in note for note in stack.notes)
    assert stack.title == ("" if key == "every_kind" else type(model).__name__)


@pytest.mark.parametrize("key", list(MODELS))
def test_code_parses_in_the_order_forward_calls_modules(key):
    cls, shape = MODELS[key]
    model = cls()
    stack = parse_stack(source_of(cls))
    named = [layer for layer in stack.layers if layer.name]
    assert [layer.name for layer in named] == forward_order(model, torch.zeros(1, *shape))
    modules = dict(model.named_modules())
    for layer in named:
        assert_matches(layer, modules[layer.name])


def test_digits_code_order_and_arguments():
    cls, text = digits_cnn()
    model = cls()
    stack = parse_stack(text)
    named = [layer for layer in stack.layers if layer.name]
    assert [layer.name for layer in named] == forward_order(model, torch.zeros(1, 1, 8, 8))
    assert [layer.kind for layer in stack.layers] == [
        "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    modules = dict(model.named_modules())
    for layer in named:
        assert_matches(layer, modules[layer.name])


@pytest.mark.parametrize("cls, shape", [(Blocks, (3, 16, 16)), (PyTorchMNISTExample, (1, 28, 28))])
def test_functional_layers_compute_what_forward_computes(cls, shape):
    """The stack built here from the parsed layers (torch's own modules, by kind and
    arguments) gives forward's output exactly, a final log_softmax aside."""
    model = cls().eval()
    stack = parse_stack(textwrap.dedent(inspect.getsource(cls)))
    modules = dict(model.named_modules())
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(0))
    y = x
    with torch.no_grad():
        for layer in stack.layers:
            y = modules[layer.name](y) if layer.name else getattr(nn, layer.kind)(**dict(layer.args)).eval()(y)
        if cls is PyTorchMNISTExample:
            y = F.log_softmax(y, dim=1)
        assert torch.equal(y, model(x))


def test_fixed_view_is_the_row_length_torch_needs():
    stack = parse_stack(textwrap.dedent(inspect.getsource(MNISTCNN)))
    (index, n), = stack.fixed_views
    assert stack.layers[index].kind == "Flatten"
    model = MNISTCNN().eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 54, 54)).shape == (1, 10)  # a 54×54 input gives 32×12×12 = n
        features = model.pool(model.relu(model.conv2(model.pool(model.relu(model.conv1(torch.zeros(1, 1, 54, 54)))))))
        assert features[0].numel() == n == 4608
        # on 28×28 the view silently mixes batch items: 144 inputs become 25 rows
        assert model(torch.zeros(144, 1, 28, 28)).shape == (25, 10)
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 1, 28, 28))


_SIZES = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))
_DRAW = {
    "Conv2d": lambda d: {
        "in_channels": d(st.sampled_from([2, 4])), "out_channels": d(st.sampled_from([2, 6])),
        "kernel_size": d(_SIZES), "stride": d(_SIZES), "padding": d(st.one_of(_SIZES, st.just("valid"))),
        "dilation": d(_SIZES), "groups": d(st.sampled_from([1, 2])), "bias": d(st.booleans()),
        "padding_mode": d(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))},
    "ConvTranspose2d": lambda d: {
        "in_channels": 4, "out_channels": d(st.sampled_from([2, 4])), "kernel_size": d(_SIZES),
        "stride": d(_SIZES), "padding": d(_SIZES), "output_padding": 0, "groups": d(st.sampled_from([1, 2])),
        "bias": d(st.booleans()), "dilation": d(_SIZES)},
    "MaxPool2d": lambda d: {
        "kernel_size": d(_SIZES), "stride": d(st.one_of(st.none(), _SIZES)), "padding": d(_SIZES),
        "dilation": d(_SIZES), "ceil_mode": d(st.booleans())},
    "AvgPool2d": lambda d: {
        "kernel_size": d(_SIZES), "stride": d(st.one_of(st.none(), _SIZES)), "padding": d(_SIZES)},
    "AdaptiveMaxPool2d": lambda d: {"output_size": d(st.one_of(_SIZES, st.tuples(st.none(), st.integers(1, 5))))},
    "AdaptiveAvgPool2d": lambda d: {"output_size": d(_SIZES)},
    "ReLU": lambda d: {"inplace": d(st.booleans())},
    "LeakyReLU": lambda d: {"negative_slope": d(st.floats(-10, 10, allow_nan=False)), "inplace": d(st.booleans())},
    "Sigmoid": lambda d: {},
    "Tanh": lambda d: {},
    "GELU": lambda d: {"approximate": d(st.sampled_from(["none", "tanh"]))},
    "BatchNorm2d": lambda d: {
        "num_features": d(st.integers(1, 64)), "eps": d(st.floats(1e-8, 0.5)),
        "momentum": d(st.one_of(st.none(), st.floats(0, 1))), "affine": d(st.booleans()),
        "track_running_stats": d(st.booleans())},
    "Dropout": lambda d: {"p": d(st.floats(0, 1)), "inplace": d(st.booleans())},
    "Flatten": lambda d: {"start_dim": d(st.integers(-3, 3)), "end_dim": d(st.integers(-3, 3))},
    "Linear": lambda d: {
        "in_features": d(st.integers(1, 10**6)), "out_features": d(st.integers(1, 100)), "bias": d(st.booleans())},
}
assert set(_DRAW) == set(KINDS)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_printed_form_of_random_modules_round_trips(data):
    kind = data.draw(st.sampled_from(sorted(KINDS)))
    kwargs = _DRAW[kind](data.draw)
    try:
        expected = Layer.make(kind, **kwargs)
    except LayerError:
        return  # what the layer refuses (groups, strided 'same') is another test's
    module = getattr(nn, kind)(**kwargs) if kind != "Linear" else nn.Linear(1, 1, bias=kwargs["bias"])
    text = str(module)
    if kind == "Linear":  # a real Linear of a million inputs would allocate; its repr is the same form
        text = text.replace("in_features=1, out_features=1",
                            f"in_features={kwargs['in_features']}, out_features={kwargs['out_features']}")
    printed = parse_stack(f"Net(\n  (layer): {text}\n)").layers[0]
    assert printed.name == "layer" and printed.kind == kind
    for key, _ in expected.args:
        ours, want = effective(printed, key), effective(expected, key)
        assert same_value(ours, want), (text, key, ours, want)
    if kind != "Linear":
        assert_matches(printed, module)
    # and the stack's code builds the same module in torch
    back = parse_stack(f"nn.Sequential({printed.code()})").layers[0]
    assert back.args == printed.args


def test_printed_batchnorm_without_a_shift_reads_back():
    module = nn.BatchNorm2d(4, affine=True, bias=False)
    (layer,) = parse_stack(f"Net(\n  (bn): {module}\n)").layers
    assert layer["bias"] is False and layer["affine"] is True
    assert layer.params == sum(p.numel() for p in module.parameters()) == 4


def test_repeated_modules_in_a_module_list():
    model = nn.ModuleList([nn.Sequential(nn.Conv2d(2, 2, 3), nn.ReLU()) for _ in range(3)] + [nn.Tanh()])
    text = str(model)
    assert "3 x Sequential" in text  # torch compresses the repeats
    stack = parse_stack(text)
    real = leaves(model)
    assert [layer.name for layer in stack.layers] == [name for name, _ in real]
    for layer, (_, module) in zip(stack.layers, real):
        assert_matches(layer, module)
