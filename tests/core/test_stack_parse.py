"""parse_stack: real model code from the tutorials, print(model) text, the round trip of
Stack.code(), and hostile text refused with its line and reason, nothing run."""

from __future__ import annotations

import ast
import builtins
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_code import CIFAR10, MNIST

from convplay.core.layers import KINDS, MAX_LAYERS, Layer, LayerError, Stack
from convplay.core.stack_parse import StackParseError, looks_like, parse_stack

ROOT = Path(__file__).resolve().parents[2]

CNNNET = """\
import torch.nn.functional as F
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
class CNNNet(nn.Module):
    def __init__(self):
        super(CNNNet, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=16, kernel_size=5, stride=1)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(in_channels=16, out_channels=36, kernel_size=3, stride=1)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(1296, 128)
        self.fc2 = nn.Linear(128, 10)
    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        # print(x.shape)
        x = x.view(-1, 36*6*6)
        x = F.relu(self.fc2(F.relu(self.fc1(x))))
        return x
net = CNNNet().to(device)
"""

# The two-layer demo of the conv-parameters tutorial: its forward returns both feature maps.
CONV_DEMO = """\
class ConvDemo(nn.Module):
    def __init__(self):
        super(ConvDemo, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3,         # RGB
                               out_channels=16,
                               kernel_size=3,
                               stride=1,
                               padding=1)
        self.conv2 = nn.Conv2d(in_channels=16, out_channels=8, kernel_size=5, stride=2, padding=2)
    def forward(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(x1)
        return x1, x2
"""


def digits_class_text() -> str:
    source = (ROOT / "tools" / "train_digits.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DigitsCNN")
    return ast.get_source_segment(source, cls)


def summary(stack: Stack) -> list[tuple[str, str]]:
    return [(layer.name, layer.kind) for layer in stack.layers]


# ------------------------------------------------------------------ the tutorials' models


def test_mnist_model_in_forward_order_with_its_fixed_view():
    stack = parse_stack(MNIST)
    assert summary(stack) == [
        ("conv1", "Conv2d"), ("relu", "ReLU"), ("pool", "MaxPool2d"), ("conv2", "Conv2d"), ("relu", "ReLU"),
        ("pool", "MaxPool2d"), ("", "Flatten"), ("fc", "Linear")]
    assert stack.layers[0] == Layer.make("Conv2d", 1, 16, 3, name="conv1")
    assert stack.layers[2] == Layer.make("MaxPool2d", 2, 2, name="pool")
    assert stack.layers[3] == Layer.make("Conv2d", 16, 32, 3, name="conv2")
    assert stack.layers[7] == Layer.make("Linear", 4608, 10, name="fc")
    assert stack.layers[6] == Layer.make("Flatten")
    assert stack.fixed_views == ((6, 4608),)
    assert stack.title == "MNISTCNN"
    assert stack.source == MNIST
    # one module used twice is the same layer, twice
    assert stack.layers[1] == stack.layers[4] and stack.layers[2] == stack.layers[5]
    assert not any("used more than once" in note for note in stack.notes)  # relu and pool hold no weights


def test_cifar10_model():
    stack = parse_stack(CIFAR10)
    assert [layer.name for layer in stack.layers] == [
        "conv1", "act1", "drop1", "conv2", "act2", "pool2", "flat", "fc3", "act3", "drop3", "fc4"]
    conv1 = stack.layers[0]
    assert (conv1["in_channels"], conv1["out_channels"], conv1["kernel_size"], conv1["stride"], conv1["padding"]) == (
        3, 32, (3, 3), 1, 1)
    assert stack.layers[2]["p"] == 0.3 and stack.layers[9]["p"] == 0.5
    assert stack.layers[5]["kernel_size"] == (2, 2) and stack.layers[5]["stride"] is None
    assert stack.layers[7] == Layer.make("Linear", 8192, 512, name="fc3")
    assert stack.layers[10] == Layer.make("Linear", 512, 10, name="fc4")
    assert stack.fixed_views == ()
    # the imports are skipped, and the two lines after the class build no layers
    assert any("skipped 2 import lines" in note for note in stack.notes)
    assert any("skipped 2 lines that build no layers" in note for note in stack.notes)


def test_cnnnet_from_the_convolution_arithmetic_tutorial():
    stack = parse_stack(CNNNET)
    assert summary(stack) == [
        ("conv1", "Conv2d"), ("", "ReLU"), ("pool1", "MaxPool2d"), ("conv2", "Conv2d"), ("", "ReLU"),
        ("pool2", "MaxPool2d"), ("", "Flatten"), ("fc1", "Linear"), ("", "ReLU"), ("fc2", "Linear"), ("", "ReLU")]
    assert stack.layers[0] == Layer.make("Conv2d", 3, 16, 5, name="conv1")
    assert stack.layers[3] == Layer.make("Conv2d", 16, 36, 3, name="conv2")
    assert stack.fixed_views == ((6, 1296),)
    assert any("skipped 2 lines" in note for note in stack.notes)  # device = ..., net = ...


def test_a_forward_with_two_outputs_is_refused():
    with pytest.raises(StackParseError) as caught:
        parse_stack(CONV_DEMO)
    assert caught.value.line == 13 and "forward gives 2 tensors" in str(caught.value)


def test_digits_cnn_from_the_training_script():
    stack = parse_stack(digits_class_text())
    assert summary(stack) == [
        ("conv1", "Conv2d"), ("", "ReLU"), ("conv2", "Conv2d"), ("", "ReLU"), ("pool", "MaxPool2d"),
        ("", "Flatten"), ("fc", "Linear")]
    assert stack.layers[0] == Layer.make("Conv2d", 1, 8, 3, padding=1, name="conv1")
    assert stack.layers[2] == Layer.make("Conv2d", 8, 16, 3, padding=1, name="conv2")
    assert stack.layers[4] == Layer.make("MaxPool2d", 2, name="pool")
    assert stack.layers[5] == Layer.make("Flatten", 1)  # x.flatten(1)
    assert stack.layers[6] == Layer.make("Linear", 256, 10, name="fc")


def test_looks_like():
    assert looks_like(MNIST) == "module"
    assert looks_like(CIFAR10) == "module"
    assert looks_like("model = nn.Sequential(nn.ReLU())") == "sequential"
    assert looks_like("Net(\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n)") == "printed"
    assert looks_like("Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))") == "printed"
    assert looks_like("hello") == ""
    assert looks_like("") == ""
    assert looks_like(None) == ""


# ------------------------------------------------------------------ nn.Sequential


def test_sequential_names_as_pytorch_does_nested_flattened():
    text = """
    import torch.nn as nn
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3),  # a comment
        nn.ReLU(),

        nn.Sequential(nn.MaxPool2d(2), nn.Flatten()),
        torch.nn.Linear(16 * 13 * 13, 10),
    )
    """
    stack = parse_stack(textwrap.dedent(text))
    assert summary(stack) == [("0", "Conv2d"), ("1", "ReLU"), ("2.0", "MaxPool2d"), ("2.1", "Flatten"), ("3", "Linear")]
    assert stack.layers[4]["in_features"] == 2704
    assert stack.title == ""


def test_sequential_bare_and_torch_nn():
    assert summary(parse_stack("torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), nn.Tanh())")) == [
        ("0", "Conv2d"), ("1", "Tanh")]
    stack = parse_stack("nn.Sequential()")
    assert stack.layers == ()


def test_ordered_dict_names_layers():
    text = """
    from collections import OrderedDict
    net = nn.Sequential(OrderedDict([
        ('conv1', nn.Conv2d(1, 8, 3, padding='same', padding_mode='reflect')),
        ('act', nn.LeakyReLU(negative_slope=0.2)),
        ('block', nn.Sequential(nn.GELU(approximate='tanh'), nn.BatchNorm2d(8, momentum=None))),
    ]))
    """
    stack = parse_stack(textwrap.dedent(text))
    assert summary(stack) == [("conv1", "Conv2d"), ("act", "LeakyReLU"), ("block.0", "GELU"), ("block.1", "BatchNorm2d")]
    assert stack.layers[0]["padding"] == "same" and stack.layers[0]["padding_mode"] == "reflect"
    assert stack.layers[1]["negative_slope"] == 0.2
    assert stack.layers[2]["approximate"] == "tanh"
    assert stack.layers[3]["momentum"] is None


def test_several_models_take_the_last():
    text = MNIST + "\nother = nn.Sequential(nn.Conv2d(1, 2, 3))\n"
    stack = parse_stack(text)
    assert summary(stack) == [("0", "Conv2d")]
    assert any("2 models" in note and "MNISTCNN" in note for note in stack.notes)


def test_arithmetic_folding():
    stack = parse_stack("nn.Sequential(nn.Linear((2 + 3) * 4 // 3 - -1, 2 ** 10), nn.Dropout(1 / 4),"
                        " nn.LeakyReLU(-0.5), nn.Conv2d(4, 8, (3, 1 + 2), padding=(7 % 4, 0)))")
    assert stack.layers[0]["in_features"] == 7 and stack.layers[0]["out_features"] == 1024
    assert stack.layers[1]["p"] == 0.25
    assert stack.layers[2]["negative_slope"] == -0.5
    assert stack.layers[3]["kernel_size"] == (3, 3) and stack.layers[3]["padding"] == (3, 0)


# ------------------------------------------------------------------ module classes


def module(init: str, forward: str | None = None, extra: str = "") -> str:
    lines = ["class Net(nn.Module):", "    def __init__(self):", "        super().__init__()"]
    lines += ["        " + line for line in textwrap.dedent(init).strip().splitlines()]
    if forward is not None:
        lines += ["", "    def forward(self, x):"]
        lines += ["        " + line for line in textwrap.dedent(forward).strip().splitlines()]
    return "\n".join(lines) + "\n" + extra


def test_functional_activations_pools_and_flattens():
    text = module(
        """
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 4, 3)
        self.fc = nn.Linear(4 * 5 * 5, 10)
        """,
        """
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = torch.sigmoid(x)
        x = x.relu()
        x = F.leaky_relu(x, 0.1)
        x = torch.tanh(F.gelu(x, approximate='tanh'))
        x = F.avg_pool2d(self.conv2(x), 2, stride=1, padding=1, ceil_mode=True, count_include_pad=False)
        x = F.adaptive_avg_pool2d(x, (5, 5))
        x = F.dropout(x, p=0.25, training=self.training)
        x = x.view(x.size(0), -1)
        return self.fc(x)
        """)
    stack = parse_stack(text)
    assert summary(stack) == [
        ("conv1", "Conv2d"), ("", "ReLU"), ("", "MaxPool2d"), ("", "Sigmoid"), ("", "ReLU"), ("", "LeakyReLU"),
        ("", "GELU"), ("", "Tanh"), ("conv2", "Conv2d"), ("", "AvgPool2d"), ("", "AdaptiveAvgPool2d"),
        ("", "Dropout"), ("", "Flatten"), ("fc", "Linear")]
    assert stack.layers[2]["kernel_size"] == (2, 2)
    assert stack.layers[5]["negative_slope"] == 0.1
    assert stack.layers[6]["approximate"] == "tanh"
    avg = stack.layers[9]
    assert (avg["kernel_size"], avg["stride"], avg["padding"], avg["ceil_mode"], avg["count_include_pad"]) == (
        2, 1, 1, True, False)
    assert stack.layers[10]["output_size"] == (5, 5)
    assert stack.layers[11]["p"] == 0.25
    assert stack.fixed_views == ()
    assert not any("dropout" in note.lower() for note in stack.notes)


@pytest.mark.parametrize("flatten, start", [
    ("x = x.view(x.size(0), -1)", 1), ("x = x.view(x.shape[0], -1)", 1), ("x = x.reshape(x.shape[0], -1)", 1),
    ("x = x.view(x.size()[0], -1)", 1), ("x = x.flatten(1)", 1), ("x = torch.flatten(x, 1)", 1),
    ("x = torch.flatten(x, start_dim=1)", 1), ("x = x.flatten()", 0),
])
def test_flatten_forms(flatten, start):
    stack = parse_stack(module("self.fc = nn.Linear(8, 2)", f"{flatten}\nreturn self.fc(x)"))
    assert stack.layers[0] == Layer.make("Flatten", start)
    assert stack.fixed_views == ()


def test_view_minus_one_is_a_fixed_view():
    stack = parse_stack(module("self.conv = nn.Conv2d(1, 2, 3)\nself.fc = nn.Linear(8, 2)",
                               "x = self.conv(x)\nx = x.reshape(-1, 2 * 2 * 2)\nx = self.fc(x)\nreturn x"))
    assert summary(stack) == [("conv", "Conv2d"), ("", "Flatten"), ("fc", "Linear")]
    assert stack.fixed_views == ((1, 8),)


def test_functional_dropout_without_training_is_noted():
    stack = parse_stack(module("self.fc = nn.Linear(8, 2)", "x = F.dropout(x, 0.5)\nreturn self.fc(x)"))
    assert stack.layers[0] == Layer.make("Dropout", 0.5)
    assert any("eval" in note for note in stack.notes)


def test_sequential_attributes_flatten_with_dotted_names():
    text = module(
        """
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8 * 15 * 15, 10))
        """,
        "return self.classifier(self.features(x))")
    stack = parse_stack(text)
    assert [layer.name for layer in stack.layers] == [
        "features.0", "features.1", "features.2", "classifier.0", "classifier.1"]
    assert stack.layers[1]["inplace"] is True


def test_renamed_variables_chain():
    stack = parse_stack(module("self.a = nn.ReLU()\nself.b = nn.Tanh()", "out = self.a(x)\ny = self.b(out)\nreturn y"))
    assert summary(stack) == [("a", "ReLU"), ("b", "Tanh")]


def test_no_forward_takes_init_order_and_defaults():
    text = textwrap.dedent("""
    class Net(nn.Module):
        '''A docstring.'''
        def __init__(self, channels=4, classes=10):
            super(Net, self).__init__()
            hidden = channels * 2
            self.width = 3
            self.conv = nn.Conv2d(1, channels, self.width)
            self.fc = nn.Linear(hidden, classes)
    """)
    stack = parse_stack(text)
    assert summary(stack) == [("conv", "Conv2d"), ("fc", "Linear")]
    assert stack.layers[0] == Layer.make("Conv2d", 1, 4, 3, name="conv")
    assert stack.layers[1] == Layer.make("Linear", 8, 10, name="fc")
    assert any("no forward" in note for note in stack.notes)


def test_unused_modules_are_noted():
    stack = parse_stack(module("self.a = nn.ReLU()\nself.spare = nn.Tanh()", "return self.a(x)"))
    assert summary(stack) == [("a", "ReLU")]
    assert any("not used in forward: spare" in note for note in stack.notes)


def test_main_guard_and_model_lines_are_skipped():
    text = MNIST + "\nmodel = MNISTCNN()\ncriterion = nn.CrossEntropyLoss()\nif __name__ == '__main__':\n    print(model)\n"
    stack = parse_stack(text)
    assert len(stack) == 8
    assert any("skipped 4 lines that build no layers" in note for note in stack.notes)


BLOCKS = """\
class ConvBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Net(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.block1 = ConvBlock(1, 16)
        self.block2 = ConvBlock(16, 32, stride=2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 14 * 14, num_classes))

    def forward(self, x):
        x = self.block2(self.block1(x))
        return self.head(x)


model = Net(10)
"""


def test_blocks_of_the_texts_own_classes():
    stack = parse_stack(BLOCKS)
    assert summary(stack) == [
        ("block1.conv", "Conv2d"), ("block1.bn", "BatchNorm2d"), ("", "ReLU"), ("block2.conv", "Conv2d"),
        ("block2.bn", "BatchNorm2d"), ("", "ReLU"), ("head.0", "Flatten"), ("head.1", "Linear")]
    assert stack.layers[0] == Layer.make("Conv2d", 1, 16, 3, padding=1, name="block1.conv")
    assert stack.layers[3] == Layer.make("Conv2d", 16, 32, 3, stride=2, padding=1, name="block2.conv")
    assert stack.layers[7] == Layer.make("Linear", 6272, 10, name="head.1")  # num_classes from Net(10)
    assert stack.title == "Net"


def test_blocks_in_a_sequential_keep_their_fixed_views():
    text = textwrap.dedent("""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(3, 3, 3)
            self.spare = nn.Linear(3, 3)

        def forward(self, x):
            return self.c(x).view(-1, 27)

    model = nn.Sequential(Block(), nn.ReLU(), Block())
    """)
    stack = parse_stack(text)
    assert summary(stack) == [("0.c", "Conv2d"), ("", "Flatten"), ("1", "ReLU"), ("2.c", "Conv2d"), ("", "Flatten")]
    assert stack.fixed_views == ((1, 27), (4, 27))
    assert any(note.startswith("0 (Block): declared in __init__ but not used in forward: spare") for note in stack.notes)


@pytest.mark.parametrize("text, line, words", [
    ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = A()\n", 4,
     "A contains itself"),
    (("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.b = B()\n"
     "class B(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = A()\n"), 8,
     "contains itself"),
    (("class B(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n        self.a = nn.Linear(n, 2)\n"
     "class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.b = B()\n"), 8,
     "B(...) needs n"),
    (("class B(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n        self.a = nn.Linear(n, 2)\n"
     "class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.b = B(1, 2)\n"), 8,
     "takes 1 argument"),
    ("class Net(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n        self.a = nn.Linear(n, 2)\n",
     4, "n is a name"),
])
def test_block_refusals(text, line, words):
    with pytest.raises(StackParseError) as caught:
        parse_stack(text)
    assert caught.value.line == line and words in str(caught.value), str(caught.value)


@pytest.mark.parametrize("text, ends", [
    ("nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))", "nn.Softmax(dim=1)"),
    ("nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(1))", "nn.LogSoftmax(dim=1)"),
    (module("self.fc = nn.Linear(4, 3)", "x = self.fc(x)\noutput = F.log_softmax(x, dim=1)\nreturn output"),
     "F.log_softmax(dim=1)"),
    (module("self.fc = nn.Linear(4, 3)", "return torch.softmax(self.fc(x), -1)"), "torch.softmax(dim=-1)"),
    (module("self.fc = nn.Linear(4, 3)", "return self.fc(x).softmax(dim=1)"), "x.softmax(dim=1)"),
    (module("self.fc = nn.Linear(4, 3)\nself.out = nn.Softmax(dim=1)", "return self.out(self.fc(x))"),
     "nn.Softmax(dim=1)"),
    ("Net(\n  (fc): Linear(in_features=4, out_features=3, bias=True)\n  (sm): Softmax(dim=1)\n)", "Softmax(dim=1)"),
])
def test_a_final_softmax_is_left_out(text, ends):
    stack = parse_stack(text)
    assert [layer.kind for layer in stack.layers] == ["Linear"]
    assert any(f"leaves out the final {ends}" in note for note in stack.notes), stack.notes


def test_a_softmax_before_other_layers_is_refused():
    with pytest.raises(StackParseError) as caught:
        parse_stack("nn.Sequential(\n    nn.Softmax(dim=1),\n    nn.Linear(4, 3),\n)")
    assert caught.value.line == 2 and "softmax only as the last step" in str(caught.value)
    with pytest.raises(StackParseError) as caught:
        parse_stack("nn.Sequential(nn.Softmax(dim=1.5))")
    assert "dim must be a whole number" in str(caught.value)


# ------------------------------------------------------------------ print(model)


PRINTED = """\
MNISTCNN(
  (conv1): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))
  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (features): Sequential(
    (0): Conv2d(16, 16, kernel_size=(3, 3), stride=(2, 2), padding=same, bias=False, padding_mode=reflect)
    (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): Dropout(p=0.5, inplace=False)
    (3): LeakyReLU(negative_slope=0.01)
    (4): GELU(approximate='none')
    (5): AdaptiveAvgPool2d(output_size=(1, 1))
    (6): ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))
    (7): Flatten(start_dim=1, end_dim=-1)
  )
  (fc): Linear(in_features=4608, out_features=10, bias=True)
)
"""


def test_printed_model():
    text = PRINTED.replace("stride=(2, 2), padding=same", "stride=(1, 1), padding=same")
    stack = parse_stack(text)
    assert [layer.name for layer in stack.layers] == [
        "conv1", "pool", *(f"features.{i}" for i in range(8)), "fc"]
    assert stack.layers[0] == Layer.make("Conv2d", 1, 16, 3, name="conv1")
    # print(model) writes the stride PyTorch filled in from kernel_size: read back, it is the default again
    assert stack.layers[1] == Layer.make("MaxPool2d", 2, name="pool")
    assert stack.layers[2] == Layer.make("Conv2d", 16, 16, 3, padding="same", bias=False, padding_mode="reflect",
                                         name="features.0")
    assert stack.layers[3] == Layer.make("BatchNorm2d", 16, name="features.1")
    assert stack.layers[7] == Layer.make("AdaptiveAvgPool2d", 1, name="features.5")
    assert stack.layers[8] == Layer.make("ConvTranspose2d", 16, 8, 3, 2, output_padding=1, name="features.6")
    assert stack.layers[10] == Layer.make("Linear", 4608, 10, name="fc")
    assert stack.title == "MNISTCNN"
    assert any("registered" in note for note in stack.notes)


def test_printed_strided_same_padding_is_refused_at_its_line():
    with pytest.raises(StackParseError) as caught:
        parse_stack(PRINTED)
    assert caught.value.line == 5 and "same" in str(caught.value)


def test_printed_repeats_and_unknown_kinds():
    text = "ModuleList(\n  (0-1): 2 x Sequential(\n    (0): ReLU()\n    (1): Tanh()\n  )\n  (2): Sigmoid()\n)"
    assert summary(parse_stack(text)) == [("0.0", "ReLU"), ("0.1", "Tanh"), ("1.0", "ReLU"), ("1.1", "Tanh"),
                                          ("2", "Sigmoid")]
    with pytest.raises(StackParseError) as caught:
        parse_stack("Net(\n  (rnn): LSTM(10, 20, batch_first=True)\n)")
    assert caught.value.line == 2 and "LSTM is not a layer convplay knows" in str(caught.value)
    assert "Conv2d" in str(caught.value)
    with pytest.raises(StackParseError) as caught:
        parse_stack("Net(\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n")
    assert "never closed" in str(caught.value)


def test_printed_hostile_line():
    with pytest.raises(StackParseError) as caught:
        parse_stack("Net(\n  (x): Conv2d(open('/tmp/x'), 2, 3)\n)")
    assert caught.value.line == 2 and "open" in str(caught.value)


# ------------------------------------------------------------------ round trip


def _size(low, high):
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


_FLOATS = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False)
_ARGS = {
    "Conv2d": st.fixed_dictionaries({
        "in_channels": st.sampled_from([1, 2, 4, 6]), "out_channels": st.sampled_from([2, 4, 8]),
        "kernel_size": _size(1, 7), "stride": _size(1, 3), "padding": st.one_of(_size(0, 3), st.just("valid")),
        "dilation": _size(1, 3), "groups": st.sampled_from([1, 2]), "bias": st.booleans(),
        "padding_mode": st.sampled_from(["zeros", "reflect", "replicate", "circular"])}),
    "ConvTranspose2d": st.fixed_dictionaries({
        "in_channels": st.sampled_from([2, 4]), "out_channels": st.sampled_from([2, 6]), "kernel_size": _size(1, 5),
        "stride": _size(1, 3), "padding": _size(0, 2), "output_padding": _size(0, 1), "groups": st.sampled_from([1, 2]),
        "bias": st.booleans(), "dilation": _size(1, 2)}),
    "MaxPool2d": st.fixed_dictionaries({
        "kernel_size": _size(1, 5), "stride": st.one_of(st.none(), _size(1, 3)), "padding": _size(0, 2),
        "dilation": _size(1, 2), "return_indices": st.booleans(), "ceil_mode": st.booleans()}),
    "AvgPool2d": st.fixed_dictionaries({
        "kernel_size": _size(1, 5), "stride": st.one_of(st.none(), _size(1, 3)), "padding": _size(0, 2),
        "ceil_mode": st.booleans(), "count_include_pad": st.booleans(),
        "divisor_override": st.one_of(st.none(), st.integers(1, 20))}),
    "AdaptiveMaxPool2d": st.fixed_dictionaries({
        "output_size": st.one_of(st.integers(1, 9), st.tuples(st.one_of(st.none(), st.integers(1, 9)),
                                                              st.one_of(st.none(), st.integers(1, 9)))),
        "return_indices": st.booleans()}),
    "AdaptiveAvgPool2d": st.fixed_dictionaries({"output_size": _size(1, 9)}),
    "ReLU": st.fixed_dictionaries({"inplace": st.booleans()}),
    "LeakyReLU": st.fixed_dictionaries({"negative_slope": _FLOATS, "inplace": st.booleans()}),
    "Sigmoid": st.just({}),
    "Tanh": st.just({}),
    "GELU": st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])}),
    "BatchNorm2d": st.fixed_dictionaries({
        "num_features": st.integers(1, 64), "eps": st.floats(1e-8, 1.0), "momentum": st.one_of(
            st.none(), st.floats(0.0, 1.0)), "affine": st.booleans(), "track_running_stats": st.booleans()}),
    "Dropout": st.fixed_dictionaries({"p": st.floats(0.0, 1.0), "inplace": st.booleans()}),
    "Flatten": st.fixed_dictionaries({"start_dim": st.integers(-4, 3), "end_dim": st.integers(-4, 3)}),
    "Linear": st.fixed_dictionaries({
        "in_features": st.integers(1, 10**6), "out_features": st.integers(1, 5000), "bias": st.booleans()}),
}
assert set(_ARGS) == set(KINDS)


@st.composite
def layers(draw):
    kind = draw(st.sampled_from(sorted(KINDS)))
    kwargs = draw(_ARGS[kind])
    try:
        return Layer.make(kind, **kwargs)
    except LayerError:
        return Layer.make(kind, **{k: v for k, v in kwargs.items() if k in ("in_channels", "out_channels",
                                                                           "kernel_size", "output_size",
                                                                           "num_features", "in_features",
                                                                           "out_features")} | (
            {"in_channels": 2, "out_channels": 2} if kind in ("Conv2d", "ConvTranspose2d") else {}))


@settings(max_examples=120, deadline=None)
@given(st.lists(layers(), min_size=0, max_size=12))
def test_code_round_trips(drawn):
    stack = Stack(tuple(drawn))
    back = parse_stack(stack.code())
    assert [(layer.kind, layer.args) for layer in back.layers] == [(layer.kind, layer.args) for layer in drawn]
    assert [layer.name for layer in back.layers] == [str(i) for i in range(len(drawn))]


# ------------------------------------------------------------------ hostile text


CANARY = "/tmp/convplay_stack_parse_canary"

HOSTILE = [
    # (text, the line named, words the reason holds)
    (f"nn.Sequential(open('{CANARY}_open', 'w'))", 1, "open"),
    (f"__import__('os').system('touch {CANARY}_import')", 1, "__import__"),
    (f"nn.Sequential(nn.ReLU())\nimport os\nos.system('touch {CANARY}_os')", 2, "import os"),
    (f"os.system('touch {CANARY}_os2')", 1, "os"),
    (f"import subprocess\nsubprocess.run(['touch', '{CANARY}_sub'])", 1, "import subprocess"),
    ("from torch.nn import Conv2d\nnn.Sequential(Conv2d(1, 2, 3))", 1, "import"),
    ("nn.Sequential(Conv2d(1, 2, 3))", 1, "nn.Conv2d"),
    ("nn.Sequential(nn.Linear(10**100, 1))", 1, "too large"),
    ("nn.Sequential(nn.Linear(100000000, 1))", 1, "too large"),
    ("nn.Sequential(nn.Linear(10000 * 10000, 1))", 1, "too large"),
    ("nn.Sequential(nn.LeakyReLU(1e400))", 1, "finite"),
    ("nn.Sequential(nn.Linear(1 / 0, 1))", 1, "divides by zero"),
    ("(" * 10000, 1, "nest"),
    ("nn.Sequential(nn.Linear(" + "1 + " * 80 + "1, 2))", 1, "nest"),
    ("nn.Conv2d.__class__", 1, "__class__"),
    ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.__dict__['a'] = 1",
     4, "__dict__"),
    ("self.__dict__", 1, "__dict__"),
    ("[nn.ReLU() for _ in range(3)]", 1, "comprehension"),
    ("nn.Sequential(*[nn.ReLU() for _ in range(3)])", 1, "starred"),
    ("nn.Sequential(getattr(nn, 'ReLU')())", 1, "getattr"),
    ("nn.Sequential(eval('nn.ReLU()'))", 1, "eval"),
    ("nn.Sequential(nn.ReLU(inplace=exec('1')))", 1, "exec"),
    ("nn.Sequential(nn.Conv2d(1, 2, (lambda: 3)()))", 1, "lambda"),
    ("nn.Sequential(nn.Conv2d(1, 2, f'{3}'))", 1, "f-string"),
    ("nn.Sequential(nn.Conv2d(1, 2, 'abc'))", 1, "string"),
    ("nn.Sequential(nn.Conv2d(1, 2, 3, padding='nonsense'))", 1, "padding"),
    ("nn.Sequential(nn.Conv2d(1, 2, torch.ones(3)))", 1, "calls"),
    ("nn.Sequential(nn.Conv2d(1, 2, x.y.z))", 1, "attribute"),
    ("nn.Sequential(nn.LSTM(10, 20))", 1, "LSTM is not a layer convplay knows"),
    ("nn.Sequential(nn.Conv1d(1, 2, 3))", 1, "Conv1d is not a layer convplay knows"),
    ("nn.Sequential(nn.ReLU(), **{'a': 1})", 1, "keyword"),
    ("nn.Sequential(nn.Conv2d(0, 2, 3))", 1, "in_channels"),
    ("x = 1\n\n# c\nnn.Sequential(\n    nn.ReLU(),\n    nn.Conv2d(1, 2, 3, stride=2, padding='same'),\n)", 6, "same"),
    (module("self.c = nn.Conv2d(3, 3, 3, padding=1)", "y = self.c(x)\nreturn x + y"), 8,
     "forward adds two tensors (a residual connection): convplay traces a straight chain of layers"),
    (module("self.c = nn.Conv2d(3, 3, 3, padding=1)", "x = x + self.c(x)\nreturn x"), 7, "residual"),
    (module("self.c = nn.Conv2d(3, 3, 3, padding=1)", "x += self.c(x)\nreturn x"), 7, "residual"),
    (module("self.c = nn.Conv2d(3, 3, 3, padding=1)", "y = self.c(x)\nz = self.c(y)\nreturn self.c(x)"), 9,
     "earlier tensor"),
    (module("self.c = nn.Conv2d(3, 3, 3, padding=1)", "for i in range(3):\n    x = self.c(x)\nreturn x"), 7, "loops"),
    (module("self.c = nn.ReLU()", "if x.sum() > 0:\n    x = self.c(x)\nreturn x"), 7, "branches"),
    (module("self.c = nn.ReLU()", "x = torch.cat([x, self.c(x)], 1)\nreturn x"), 7, "torch.cat"),
    (module("self.c = nn.ReLU()", "x = self.helper(x)\nreturn x", "    def helper(self, x):\n        return x\n"), 7,
     "method"),
    (module("self.c = nn.ReLU()", "x = self.missing(x)\nreturn x"), 7, "does not declare"),
    (module("self.c = nn.ReLU()", "x = x * 2\nreturn x"), 7, "multiplies"),
    (module("self.c = nn.ReLU()", "print(x.shape)\nreturn self.c(x)"), 7, "calls print"),
    (module("self.c = nn.ReLU()", "x = x.mean(1)\nreturn x"), 7, ".mean()"),
    (module("self.c = nn.ReLU()", "x = x.view(-1, self.n(x))\nreturn x"), 7, "call"),
    (module("self.block = Block()"), 4, "Block"),
    (module("self.c = nn.ReLU()\nnn.init.zeros_(self.c)"), 5, "nn.init.zeros_"),
    (module("for i in range(3):\n    self.add_module(str(i), nn.ReLU())"), 4, "loops"),
    (module("self.c = nn.Conv2d(1, 2, channels)"), 4, "channels"),
    ("nn.Sequential(nn.Linear(" + "9" * 5000 + ", 2))", 1, "digits"),
    ("nn.Sequential(\x00)", 1, "NUL"),
    ("from __future__ import annotations\nnn.Sequential(nn.ReLU())", 1, "import"),
    ("def __getattr__(name):\n    pass\nnn.Sequential(nn.ReLU())", 1, "__getattr__"),
    ("nn.Sequential(nn.ReLU())\nbreakpoint()", 2, "breakpoint"),
    (("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = nn.ReLU()\n"
      "    def forward(self, x):\n        return self.a.__call__(x)"), 6, "__call__"),
    ("nn.Sequential(nn.ReLU(" + "[" * 200 + "]" * 200 + "))", 1, "nest"),
    ("\n\nnn.Sequential(nn.ReLU(),\n  nn.Linear(2, 3, bias=1 +))", 4, "not valid Python"),
]


@pytest.mark.parametrize("text, line, words", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_text_is_refused_with_line_and_reason(text, line, words, monkeypatch):
    ran = []

    def refuse(name):
        def blocked(*args, **kwargs):
            ran.append(name)
            raise AssertionError(f"{name} was called while parsing")
        return blocked

    real_compile = builtins.compile

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            ran.append("compile")
            raise AssertionError("compile was asked for code, not an AST")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    real_import = builtins.__import__

    def loaded_only(name, *args, **kwargs):  # a module not loaded yet would run its code
        if name not in sys.modules:
            ran.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", ast_only)
    monkeypatch.setattr(builtins, "__import__", loaded_only)
    for name in ("eval", "exec", "open"):
        monkeypatch.setattr(builtins, name, refuse(name))
    monkeypatch.setattr(os, "system", refuse("os.system"))
    monkeypatch.setattr(subprocess, "Popen", refuse("Popen"))
    caught = None
    try:
        parse_stack(text)
    except StackParseError as error:
        caught = error
    finally:
        monkeypatch.undo()
    assert caught is not None, "accepted"
    assert not ran
    assert caught.line == line, str(caught)
    assert str(caught).startswith(f"line {line}: ")
    assert words in str(caught), str(caught)
    assert not any(Path("/tmp").glob(Path(CANARY).name + "*"))


def test_size_limits():
    with pytest.raises(StackParseError, match="over 200 KB"):
        parse_stack("#" * (200 * 1024 + 1))
    with pytest.raises(StackParseError, match=f"at most {MAX_LAYERS}"):
        parse_stack("nn.Sequential(" + "nn.ReLU(), " * (MAX_LAYERS + 1) + ")")
    text = module("self.a = nn.ReLU()", "\n".join(["x = self.a(x)"] * (MAX_LAYERS + 1)) + "\nreturn x")
    with pytest.raises(StackParseError, match=f"at most {MAX_LAYERS}"):
        parse_stack(text)
    assert len(parse_stack("nn.Sequential(" + "nn.ReLU(), " * MAX_LAYERS + ")")) == MAX_LAYERS
    with pytest.raises(StackParseError) as caught:
        parse_stack("nn.ReLU()\n" * (MAX_LAYERS + 1))
    assert caught.value.line == MAX_LAYERS + 1 and "models" in str(caught.value)


def test_errors_without_a_line():
    for text in ("", "   \n\n", "x = 1\ny = 2\n", "class Net(nn.Module):\n    pass\n"):
        with pytest.raises(StackParseError) as caught:
            parse_stack(text)
        assert caught.value.line is None
    error = StackParseError("bad", 3, 5)
    assert isinstance(error, ValueError) and str(error) == "line 3: bad" and error.column == 5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("(),123 x=-*/_'\"\n[]{}:#") + [
    "nn.", "self.", "class ", "def ", "Conv2d", "ReLU", "Sequential", "    ", "os", "__"]), max_size=60).map("".join))
def test_any_text_is_a_stack_or_a_parse_error(text):
    try:
        stack = parse_stack(text)
    except StackParseError as error:
        assert str(error)
    else:
        assert isinstance(stack, Stack)
    assert looks_like(text) in ("sequential", "module", "printed", "")


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(MNIST) - 1), st.integers(0, 40), st.text(max_size=5))
def test_damaged_model_code_is_a_stack_or_a_parse_error(at, cut, insert):
    text = MNIST[:at] + insert + MNIST[at + cut:]
    try:
        parse_stack(text)
    except StackParseError:
        pass


def test_python_warnings_in_pasted_text_stay_quiet():
    # pytest turns warnings into errors: "\d" and 1if would otherwise refuse the paste
    text = 'pattern = "\\d+"\ny = 1if True else 2\nmodel = nn.Sequential(nn.ReLU())\n'
    stack = parse_stack(text)
    assert summary(stack) == [("0", "ReLU")]


@pytest.mark.parametrize("text, line, column", [
    ("nn.Sequential(\n    nn.ReLU(),\n    nn.Conv2d(1, 2, abc),\n)", 3, 21),
    ("Net(\n  (x): Conv2d(1, 2, 3, stride=abc)\n)", 2, 31),
    ("Net(\n  (0-1): 2 x Conv2d(1, 2, 0)\n)", 2, 14),
])
def test_errors_say_the_column(text, line, column):
    with pytest.raises(StackParseError) as caught:
        parse_stack(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert text.splitlines()[line - 1][column - 1:].startswith(("abc", "Conv2d"))


def test_forward_may_name_its_tensor_input():
    # PyTorch's DCGAN example: a Sequential attribute, a stored number, forward(self, input)
    text = textwrap.dedent("""
    class Generator(nn.Module):
        def __init__(self, ngpu=1):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is Z, going into a convolution
                nn.ConvTranspose2d(100, 64 * 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(64 * 8),
                nn.ReLU(True),
                nn.ConvTranspose2d(64 * 8, 3, 4, 2, 1, bias=False),
                nn.Tanh()
            )

        def forward(self, input):
            return self.main(input)
    """)
    stack = parse_stack(text)
    assert [layer.name for layer in stack.layers] == [f"main.{i}" for i in range(5)]
    assert stack.layers[0] == Layer.make("ConvTranspose2d", 100, 512, 4, 1, 0, bias=False, name="main.0")
    assert stack.layers[2]["inplace"] is True
    with pytest.raises(StackParseError, match="input"):
        parse_stack("nn.Sequential(nn.Linear(input(), 2))")


def test_text_copied_from_a_web_page():
    text = "\ufeffmodel = nn.Sequential(\n\u00a0\u00a0\u00a0\u00a0nn.Conv2d(1, 2, 3, padding=\u2018same\u2019),\n)\n"
    stack = parse_stack(text)
    assert stack.layers == (Layer.make("Conv2d", 1, 2, 3, padding="same", name="0"),)
    assert stack.source == text
    assert any("non-breaking spaces" in note for note in stack.notes)
    assert parse_stack("\ufeffnn.Sequential(nn.ReLU())").notes == ()
