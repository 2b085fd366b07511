"""The stack trace without torch: the MNIST CNN whose Linear size is wrong, receptive fields
and jumps worked out by hand (r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1}), parameters and MACs
of single layers counted by hand, and the refusals with their fixes.  The same trace is
checked against PyTorch itself on random stacks in tests/compute/test_layer_trace_torch.py."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from convplay.core.layer_trace import receptive_box, trace
from convplay.core.layers import Layer, Stack

L = Layer.make

MNIST_ERROR = "fc (Linear): Linear expects 4608 inputs, the stack gives 32×5×5 = 800: use nn.Linear(800, 10)"


def mnist_stack() -> Stack:
    """The MNIST CNN as its code reads: one pool and one ReLU module used twice, and the
    flatten written x.view(-1, 32 * 12 * 12)."""
    layers = (
        L("Conv2d", 1, 16, 3, name="conv1"), L("ReLU", name="relu"), L("MaxPool2d", 2, 2, name="pool"),
        L("Conv2d", 16, 32, 3, name="conv2"), L("ReLU", name="relu"), L("MaxPool2d", 2, 2, name="pool"),
        L("Flatten"), L("Linear", 32 * 12 * 12, 10, name="fc"),
    )
    return Stack(layers, "the MNIST CNN", (1, 28, 28), fixed_views=((6, 4608),))


def cifar_stack() -> Stack:
    """The CIFAR-10 CNN: conv 3×3 p1, ReLU, dropout, conv 3×3 p1, ReLU, max-pool 2, flatten, two Linear."""
    layers = (
        L("Conv2d", 3, 32, kernel_size=(3, 3), stride=1, padding=1, name="conv1"), L("ReLU", name="act1"),
        L("Dropout", 0.3, name="drop1"),
        L("Conv2d", 32, 32, kernel_size=(3, 3), stride=1, padding=1, name="conv2"), L("ReLU", name="act2"),
        L("MaxPool2d", kernel_size=(2, 2), name="pool2"), L("Flatten", name="flat"),
        L("Linear", 8192, 512, name="fc3"), L("ReLU", name="act3"), L("Dropout", 0.5, name="drop3"),
        L("Linear", 512, 10, name="fc4"),
    )
    return Stack(layers, "a CIFAR-10 CNN", (3, 32, 32))


def one(layer: Layer, shape):
    return trace(Stack((layer,)), shape)


# -- the MNIST CNN ------------------------------------------------------------------------

def test_the_mnist_cnn_shapes_up_to_the_linear_layer_that_does_not_fit():
    t = trace(mnist_stack(), (1, 28, 28))
    shapes = [row.output_shape for row in t.rows]
    assert shapes == [(16, 26, 26), (16, 26, 26), (16, 13, 13), (32, 11, 11), (32, 11, 11), (32, 5, 5), (800,), None]
    assert t.rows[7].input_shape == (800,)
    assert t.failed == 7 and t.output_shape is None
    assert t.error == MNIST_ERROR
    assert t.rows[7].error == "Linear expects 4608 inputs, the stack gives 32×5×5 = 800"
    assert t.rows[7].fix == "use nn.Linear(800, 10)"


def test_the_mnist_cnn_as_json():
    d = trace(mnist_stack(), (1, 28, 28)).as_dict()
    json.dumps(d)  # plain JSON: no Fractions, no tuples that json cannot write
    assert d["input_shape"] == [1, 28, 28] and d["output_shape"] is None
    assert [row["name"] for row in d["layers"]] == ["conv1", "relu", "pool", "conv2", "relu", "pool", "Flatten", "fc"]
    assert d["layers"][5]["output_shape"] == [32, 5, 5] and d["layers"][7]["output_shape"] is None
    assert d["error"] == {"index": 7, "name": "fc", "kind": "Linear",
                          "reason": "Linear expects 4608 inputs, the stack gives 32×5×5 = 800",
                          "fix": "use nn.Linear(800, 10)", "message": MNIST_ERROR}
    # the shared ReLU and pool hold no weights; conv1 160, conv2 4640, fc 46090 (as declared)
    assert [row["params"] for row in d["layers"]] == [160, 0, 0, 4640, 0, 0, 0, 46090]
    assert d["total_params"] == 160 + 4640 + 46090


def test_the_fixed_view_s_batch_trap_is_said():
    t = trace(mnist_stack(), (1, 28, 28))
    note = t.rows[6].note
    # 800 values an image, rows of 4608: the smallest batch that runs is 144 and gives 25 rows
    assert "x.view(-1, 4608)" in note and "batch of 144" in note and "25 rows" in note
    assert note in t.notes


def test_the_mnist_cnn_fixed_is_whole():
    stack = mnist_stack()
    fixed = stack.with_layers(stack.layers[:7] + (L("Linear", 800, 10, name="fc"),))
    t = trace(fixed, (1, 28, 28))
    assert t.failed is None and t.error == "" and t.output_shape == (10,)
    assert t.total_params == 160 + 4640 + 8010


def test_the_receptive_field_and_jump_of_the_mnist_cnn():
    t = trace(mnist_stack(), (1, 28, 28))
    # 3; 3 + (2−1)·1 = 4; 4 + (3−1)·2 = 8; 8 + (2−1)·2 = 10
    assert [row.receptive_field for row in t.rows[:6]] == [(3, 3), (3, 3), (4, 4), (8, 8), (8, 8), (10, 10)]
    assert [row.jump for row in t.rows[:6]] == [(1, 1), (1, 1), (2, 2), (2, 2), (2, 2), (4, 4)]
    assert t.rows[6].receptive_field is None and t.rows[6].jump is None  # flattened: every input pixel
    # output pixel (i, j) of the last pool reads rows 4i .. 4i + 9
    assert receptive_box(t, 5, 0, 0) == (0, 0, 9, 9)
    assert receptive_box(t, 5, 4, 2) == (16, 8, 25, 17)
    assert receptive_box(t, 6, 0, 0) == (0, 0, 27, 27)
    assert receptive_box(t, 7, 0, 0) is None  # the failing layer has no output


def test_the_receptive_field_of_the_cifar10_cnn():
    t = trace(cifar_stack(), (3, 32, 32))
    assert t.failed is None and t.output_shape == (10,)
    # 3; 3 + 2·1 = 5; 5 + 1·1 = 6
    assert [row.receptive_field for row in t.rows[:6]] == [(3, 3), (3, 3), (3, 3), (5, 5), (5, 5), (6, 6)]
    assert [row.jump for row in t.rows[:6]] == [(1, 1)] * 5 + [(2, 2)]
    # conv2's padding holds no pixel of conv1's output, so the corner's field reaches only
    # conv1's own padding row and column (the textbook span, 6, is the centre pixel's)
    assert receptive_box(t, 5, 0, 0) == (-1, -1, 3, 3)
    assert receptive_box(t, 0, 0, 0) == (-1, -1, 1, 1)
    assert [row.output_shape for row in t.rows][4:7] == [(32, 32, 32), (32, 16, 16), (8192,)]
    assert t.total_params == 896 + 9248 + 8192 * 512 + 512 + 5130


def test_dilation_and_stride_in_the_receptive_field():
    stack = Stack((L("Conv2d", 1, 1, 3, stride=2), L("Conv2d", 1, 1, 3, dilation=2), L("AvgPool2d", 3, 1)))
    t = trace(stack, (1, 40, 40))
    # 3; 3 + (3−1)·2·2 = 11; 11 + (3−1)·1·2 = 15
    assert [row.receptive_field for row in t.rows] == [(3, 3), (11, 11), (15, 15)]
    assert [row.jump for row in t.rows] == [(2, 2), (2, 2), (2, 2)]


def test_a_transposed_convolution_halves_the_jump():
    t = one(L("ConvTranspose2d", 2, 3, 3, stride=2, padding=1, output_padding=1), (2, 5, 6))
    assert t.rows[0].output_shape == (3, 10, 12)  # (n − 1)·2 − 2 + 3 + 1 = 2n
    assert t.rows[0].jump == (Fraction(1, 2), Fraction(1, 2))
    assert t.as_dict()["layers"][0]["jump"] == [0.5, 0.5]


# -- parameters and multiply-accumulates, by hand -----------------------------------------

@pytest.mark.parametrize("layer, shape, out, params, macs", [
    # 3·8·3·3 weights + 8 biases; 8·8·8 outputs, 3·3·3 each
    (L("Conv2d", 3, 8, 3), (3, 10, 10), (8, 8, 8), 224, 8 * 8 * 8 * 27),
    # groups 2: each output reads 2 of the 4 channels
    (L("Conv2d", 4, 8, 3, groups=2, bias=False), (4, 6, 6), (8, 4, 4), 144, 8 * 4 * 4 * 2 * 9),
    (L("Conv2d", 1, 4, (1, 5), stride=(1, 2), padding=(0, 2)), (1, 3, 9), (4, 3, 5), 24, 4 * 3 * 5 * 5),
    # each input pixel stamps its 3×3 kernel on 3 outputs: 2·4·4 inputs · 3 · 9
    (L("ConvTranspose2d", 2, 3, 3, stride=2), (2, 4, 4), (3, 9, 9), 57, 2 * 16 * 3 * 9),
    (L("Linear", 800, 10), (800,), (10,), 8010, 8000),
    (L("Linear", 800, 10, bias=False), (800,), (10,), 8000, 8000),
    # scale and shift folded: one multiply-add a value
    (L("BatchNorm2d", 16), (16, 5, 5), (16, 5, 5), 32, 400),
    (L("BatchNorm2d", 16, affine=False), (16, 5, 5), (16, 5, 5), 0, 400),
    (L("MaxPool2d", 2), (16, 5, 5), (16, 2, 2), 0, 0),
    (L("AvgPool2d", 3, stride=2, padding=1, ceil_mode=True), (1, 6, 6), (1, 4, 4), 0, 0),
    (L("ReLU"), (4, 3, 3), (4, 3, 3), 0, 0),
    (L("Dropout", 0.5), (7,), (7,), 0, 0),
    (L("Flatten"), (4, 3, 2), (24,), 0, 0),
])
def test_one_layer_s_parameters_and_macs(layer, shape, out, params, macs):
    row = one(layer, shape).rows[0]
    assert (row.output_shape, row.params, row.macs) == (out, params, macs)
    assert (row.total_params, row.total_macs) == (params, macs)


def test_totals_add_up_and_shared_modules_count_once():
    t = trace(mnist_stack(), (1, 28, 28))
    assert [row.total_macs for row in t.rows] == [97344] * 3 + [97344 + 557568] * 5
    twice = Stack((L("Conv2d", 4, 4, 3, padding=1, name="same"), L("Conv2d", 4, 4, 3, padding=1, name="same")))
    t = trace(twice, (4, 6, 6))
    assert [row.params for row in t.rows] == [148, 0]
    assert t.total_macs == 2 * 4 * 36 * 36  # the module runs twice


# -- refusals and their fixes -------------------------------------------------------------

def test_a_kernel_larger_than_the_padded_input():
    t = one(L("Conv2d", 1, 4, 7), (1, 5, 5))
    assert t.failed == 0 and t.rows[0].output_shape is None
    assert "kernel" in t.rows[0].error and "padded input" in t.rows[0].error
    assert t.rows[0].fix == "use padding=1 or more, or a smaller kernel"
    assert one(L("Conv2d", 1, 4, 7, padding=1), (1, 5, 5)).rows[0].output_shape == (4, 1, 1)


def test_a_channel_mismatch_and_its_fix():
    t = trace(Stack((L("Conv2d", 1, 8, 3), L("Conv2d", 3, 16, 3, name="conv2"))), (1, 10, 10))
    assert t.failed == 1
    assert t.error == "conv2 (Conv2d): Conv2d expects 3 input channels, the stack gives 8: use nn.Conv2d(8, 16, 3)"
    grouped = one(L("Conv2d", 4, 8, 3, groups=2), (6, 5, 5))
    assert grouped.rows[0].fix == "use nn.Conv2d(6, 8, 3, groups=2)"


def test_batch_norm_on_the_wrong_number_of_channels():
    t = trace(Stack((L("Conv2d", 1, 4, 3), L("BatchNorm2d", 8))), (1, 5, 5))
    assert t.failed == 1
    assert t.error == "BatchNorm2d: BatchNorm2d expects 8 channels, the stack gives 4: use nn.BatchNorm2d(4)"


def test_linear_on_maps_without_a_flatten():
    t = trace(Stack((L("Conv2d", 1, 4, 3), L("Linear", 400, 10))), (1, 12, 12))
    assert t.failed == 1
    assert t.rows[1].error == ("Linear acts on the last axis: it expects 400 inputs, the stack gives 4×10×10 maps "
                               "whose last axis is 10")
    assert t.rows[1].fix == "add nn.Flatten() before it and use nn.Linear(400, 10)"
    # when the last axis fits, PyTorch runs it along that axis: a shape, and a note saying so
    fits = trace(Stack((L("Conv2d", 1, 4, 3), L("Linear", 10, 6))), (1, 12, 12))
    assert fits.failed is None and fits.rows[1].output_shape == (4, 10, 6)
    assert "Flatten" in fits.rows[1].note and fits.rows[1].macs == 4 * 10 * 10 * 6


def test_a_linear_given_more_inputs_than_any_linear_may_have_is_refused_without_a_layer_fix():
    # The digits CNN at 1×8×1024 (the monkey, seed 410): 16×4×512 = 32768 fits; 2,064,512 does not
    # fit any nn.Linear convplay builds, so the fix says what to do instead of raising.
    t = trace(Stack((L("Flatten"), L("Linear", 256, 10, name="fc"))), (2, 1016, 1016))
    assert t.failed == 1
    assert t.rows[1].error == "Linear expects 256 inputs, the stack gives 2×1016×1016 = 2064512"
    assert t.rows[1].fix == ("make the maps smaller before it: 2,064,512 inputs are more than a Linear may have "
                             "(1,000,000)")
    on_maps = trace(Stack((L("Linear", 256, 10),)), (2, 1016, 1016))
    assert on_maps.failed == 0
    assert on_maps.rows[0].fix.startswith("add nn.Flatten() and make the maps smaller before it: 2,064,512 inputs")
    from convplay.core.stack_edits import fixed_layers

    assert fixed_layers(t) is None and fixed_layers(on_maps) is None  # no one-click fix offered


def test_maps_layers_after_a_flatten():
    t = trace(Stack((L("Flatten"), L("MaxPool2d", 2))), (2, 4, 4))
    assert t.failed == 1 and "after the Flatten" in t.rows[1].error
    assert t.rows[1].fix == "move the Flatten after the last convolution or pooling layer"


def test_adaptive_pooling():
    t = trace(Stack((L("AdaptiveAvgPool2d", (3, None)), L("AdaptiveMaxPool2d", 2))), (2, 10, 7))
    assert [row.output_shape for row in t.rows] == [(2, 3, 7), (2, 2, 2)]
    # rows 10 → 3: windows [0, 4), [3, 7), [6, 10), uneven; the widest is 4
    assert receptive_box(t, 0, 0, 0) == (0, 0, 3, 0)
    assert receptive_box(t, 0, 1, 0) == (3, 0, 6, 0)
    assert receptive_box(t, 0, 2, 6) == (6, 6, 9, 6)
    # then 3 → 2 rows ([0, 2), [1, 3)) and 7 → 2 columns ([0, 4), [3, 7))
    assert receptive_box(t, 1, 0, 0) == (0, 0, 6, 3)
    assert receptive_box(t, 1, 1, 1) == (3, 3, 9, 6)
    assert one(L("AdaptiveAvgPool2d", 1), (512, 7, 7)).rows[0].output_shape == (512, 1, 1)


def test_transposed_convolution_shapes_and_refusal():
    assert one(L("ConvTranspose2d", 8, 4, 4, stride=2, padding=1), (8, 7, 7)).rows[0].output_shape == (4, 14, 14)
    assert one(L("ConvTranspose2d", 8, 4, 3, dilation=2), (8, 5, 5)).rows[0].output_shape == (4, 9, 9)
    t = one(L("ConvTranspose2d", 2, 3, 3, stride=2, padding=1, output_padding=2), (2, 5, 6))
    assert t.failed == 0 and "output_padding" in t.rows[0].error


def test_padding_same_keeps_the_size():
    row = one(L("Conv2d", 2, 3, 4, padding="same", dilation=2), (2, 5, 6)).rows[0]
    assert row.output_shape == (3, 5, 6)
    assert row.receptive_field == (7, 7)  # (4 − 1)·2 + 1
    assert one(L("Conv2d", 2, 3, 4, padding="valid"), (2, 5, 6)).rows[0].output_shape == (3, 2, 3)


def test_pooling_refusals():
    padded = one(L("MaxPool2d", 3, padding=2), (2, 5, 6))
    assert padded.failed == 0 and padded.rows[0].fix == "use nn.MaxPool2d(3, padding=1)"
    large = one(L("MaxPool2d", 7), (2, 5, 6))
    assert large.failed == 0 and large.rows[0].fix == "use a kernel of at most 5, or pool fewer times before it"


def test_rows_past_a_failure_have_no_shapes_but_keep_their_weights():
    stack = Stack((L("Conv2d", 1, 4, 9), L("ReLU"), L("Conv2d", 4, 8, 3), L("Flatten"), L("Linear", 10, 2)))
    t = trace(stack, (1, 5, 5))
    assert t.failed == 0
    assert [row.input_shape for row in t.rows] == [(1, 5, 5), None, None, None, None]
    assert [row.output_shape for row in t.rows] == [None] * 5
    assert [row.params for row in t.rows] == [328, 0, 296, 0, 22]
    assert t.as_dict()["layers"][2]["output_shape"] is None


def test_an_empty_stack_is_its_input():
    t = trace(Stack(), (3, 8, 8))
    assert t.rows == () and t.output_shape == (3, 8, 8) and t.error == "" and t.total_params == 0
