"""The stack panel's edits as values: layers fitted to the shape where they go (PyTorch runs
them on that shape), insert / remove / move / replace, the trace's fix as a layer, and the
module names the weights have (the keys of torch's own state_dict)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convplay.compute.stack import state_shapes
from convplay.core.builtin_stacks import builtin_stack
from convplay.core.layer_trace import trace
from convplay.core.layers import KINDS, Layer, LayerError, Stack
from convplay.core.stack_edits import (
    KIND_GROUPS,
    fitted_layer,
    fix_code,
    fixed_layers,
    fresh_name,
    inserted,
    layer_from_code,
    macs_formula,
    module_path,
    moved,
    params_formula,
    removed,
    replaced,
    shape_before,
    uses,
)


def test_the_menu_groups_hold_every_kind_once():
    kinds = [kind for _, group in KIND_GROUPS for kind in group]
    assert sorted(kinds) == sorted(KINDS)


@pytest.mark.parametrize("shape", [(1, 8, 8), (16, 13, 13), (3, 1, 1), (800,), (32, 5, 5)])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_fitted_layer_runs_in_torch_on_the_shape_it_was_fitted_to(kind, shape):
    layer = fitted_layer(kind, shape)
    module = getattr(nn, layer.kind)(**dict(layer.args)).eval()
    maps_only = kind not in ("Linear", "Flatten", "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU")
    if len(shape) == 1 and maps_only:
        return  # a convolution or pooling after a Flatten: nothing fits; the trace says so
    x = torch.zeros((1, *shape))
    with torch.no_grad():
        out = module(x)
    traced = trace(Stack((layer,)), shape if len(shape) == 3 else (1, 1, 1))
    if len(shape) == 3:
        assert traced.failed is None
        assert traced.rows[0].output_shape == tuple(out.shape[1:])


def test_fitted_layers_take_the_channels_and_features_there():
    assert fitted_layer("Conv2d", (8, 8, 8)) == Layer.make("Conv2d", 8, 8, 3, padding=1)
    assert fitted_layer("BatchNorm2d", (16, 4, 4)) == Layer.make("BatchNorm2d", 16)
    assert fitted_layer("Linear", (256,)) == Layer.make("Linear", 256, 10)
    assert fitted_layer("MaxPool2d", (16, 8, 8)) == Layer.make("MaxPool2d", 2)
    assert fitted_layer("MaxPool2d", (16, 1, 1)) == Layer.make("MaxPool2d", 1)
    assert fitted_layer("Conv2d", None) == Layer.make("Conv2d", 1, 1, 3, padding=1)


def test_shape_before_is_the_output_of_the_layer_above_or_the_input():
    stack, info = builtin_stack("digits")
    traced = trace(stack, info.input_shape)
    assert shape_before(traced, 0) == (1, 8, 8)
    assert shape_before(traced, 3) == (16, 8, 8)
    assert shape_before(traced, len(stack.layers)) == (10,)
    mnist, minfo = builtin_stack("mnist")
    assert shape_before(trace(mnist, minfo.input_shape), 8) is None  # past the failing Linear


def test_insert_remove_move_keep_the_other_layers_in_order():
    a, b, c = Layer.make("ReLU"), Layer.make("Tanh"), Layer.make("Sigmoid")
    assert inserted((a, c), 1, b) == (a, b, c)
    assert inserted((a,), 99, b) == (a, b)
    assert removed((a, b, c), 1) == (a, c)
    assert removed((a,), 5) == (a,)
    assert moved((a, b, c), 0, 1) == (b, a, c)
    assert moved((a, b, c), 2, -1) == (a, c, b)
    assert moved((a, b, c), 0, -1) == (a, b, c)


def test_replacing_a_shared_module_replaces_every_use():
    stack, _ = builtin_stack("mnist")
    pool_uses = [i for i, layer in enumerate(stack.layers) if layer.name == "pool"]
    assert uses(stack, pool_uses[0]) == 2
    new = Layer.make("AvgPool2d", 2, name="pool")
    layers = replaced(stack.layers, pool_uses[0], new)
    assert all(layers[i] == new for i in pool_uses)
    # and torch builds it: one module per name, used twice
    assert state_shapes(Stack(layers)) == state_shapes(stack)


def test_the_fix_of_the_mnist_model_is_a_layer_that_makes_the_stack_trace_clean():
    stack, info = builtin_stack("mnist")
    traced = trace(stack, info.input_shape)
    row = traced.rows[traced.failed]
    assert fix_code(row) == "nn.Linear(800, 10)"
    layer = layer_from_code(fix_code(row), row.layer.name)
    assert layer == Layer.make("Linear", 800, 10, name="fc")
    fixed = trace(stack.with_layers(replaced(stack.layers, traced.failed, layer)), info.input_shape)
    assert fixed.failed is None and fixed.output_shape == (10,)


def test_a_fix_that_is_not_one_layer_is_not_offered():
    stack = Stack((Layer.make("Flatten"), Layer.make("Conv2d", 1, 8, 3)))
    traced = trace(stack, (1, 8, 8))
    assert traced.failed == 1
    assert fix_code(traced.rows[1]) == ""


@pytest.mark.parametrize("code", [
    "__import__('os').system('echo hi')",
    "nn.Conv2d(1, 8, 3), nn.ReLU()",
    "nn.Conv2d(1, 8, 0)",
    "torch.load('x.pth')",
    "nn.Linear(10**9, 10)",
    "nn.Conv2d(1, 8, 3)\nnn.ReLU()",
    "",
])
def test_typed_layer_code_is_refused_with_a_reason(code):
    with pytest.raises(LayerError) as refused:
        layer_from_code(code)
    assert str(refused.value)


def test_module_paths_are_the_keys_of_torchs_state_dict():
    for key in ("digits", "cifar10", "mnist"):
        stack, _ = builtin_stack(key)
        keys = state_shapes(stack)
        for i, layer in enumerate(stack.layers):
            if layer.kind in ("Conv2d", "Linear"):
                assert f"{module_path(stack, i)}.weight" in keys
    plain = Stack((Layer.make("Conv2d", 1, 4, 3), Layer.make("ReLU"), Layer.make("Conv2d", 4, 4, 3)))
    assert set(state_shapes(plain)) == {f"{module_path(plain, i)}.{p}" for i in (0, 2) for p in ("weight", "bias")}


def test_fresh_names_follow_a_named_model_and_leave_a_sequential_unnamed():
    stack, _ = builtin_stack("digits")
    assert fresh_name(stack, "Conv2d") == "conv3"
    assert fresh_name(stack, "Linear") == "fc1"
    assert fresh_name(stack, "ReLU") == ""
    plain = Stack((Layer.make("Conv2d", 1, 4, 3),))
    assert fresh_name(plain, "Conv2d") == ""


def test_parameter_and_mac_formulas_end_in_torchs_counts():
    stack, info = builtin_stack("digits")
    traced = trace(stack, info.input_shape)
    conv2 = nn.Conv2d(8, 16, 3, padding=1)
    assert params_formula(traced.rows[2]).endswith(f"= {sum(p.numel() for p in conv2.parameters()):,}")
    out = conv2(torch.zeros(1, 8, 8, 8))
    assert macs_formula(traced.rows[2]).endswith(f"= {out.numel() * 8 * 3 * 3:,}")
    assert params_formula(traced.rows[1]) == "no parameters"


def test_the_fix_for_a_linear_on_maps_adds_the_flatten_and_torch_runs_the_result():
    stack = Stack((Layer.make("Conv2d", 1, 4, 3, name="c"), Layer.make("Linear", 100, 10, name="fc")))
    traced = trace(stack, (1, 8, 8))
    assert traced.failed == 1
    layers, words = fixed_layers(traced)
    assert [layer.code() for layer in layers] == ["nn.Conv2d(1, 4, 3)", "nn.Flatten()", "nn.Linear(144, 10)"]
    assert layers[2].name == "fc" and "nn.Flatten() added before fc" in words
    model = nn.Sequential(*(getattr(nn, la.kind)(**dict(la.args)) for la in layers))
    assert tuple(model(torch.zeros(1, 1, 8, 8)).shape) == (1, 10)
    assert trace(Stack(layers), (1, 8, 8)).failed is None


def test_no_layers_are_offered_for_a_fix_in_words():
    stack = Stack((Layer.make("Flatten"), Layer.make("Conv2d", 1, 8, 3)))
    assert fixed_layers(trace(stack, (1, 8, 8))) is None
    assert fixed_layers(trace(Stack((Layer.make("ReLU"),)), (1, 8, 8))) is None


@pytest.mark.parametrize("code, current, expected", [
    ("nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten())", (3, 32, 32), (1, 32, 32)),
    ("nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(4, 2, 2))", (1, 28, 28), (4, 28, 28)),
    ("nn.Sequential(nn.BatchNorm2d(16), nn.ReLU())", (3, 8, 8), (16, 8, 8)),
    ("nn.Sequential(nn.Linear(20, 10))", (3, 32, 32), (1, 1, 20)),
    ("nn.Sequential(nn.Linear(32, 10))", (3, 32, 32), (3, 32, 32)),
    ("nn.Sequential(nn.Flatten(), nn.Linear(784, 10))", (1, 28, 28), (1, 28, 28)),
    ("nn.Sequential(nn.MaxPool2d(2))", (3, 9, 9), (3, 9, 9)),
])
def test_a_pasted_stack_takes_the_channels_its_first_layer_fixes(code, current, expected):
    import torch
    from torch import nn

    from convplay.core.stack_edits import pasted_input_shape
    from convplay.core.stack_parse import parse_stack

    shape = pasted_input_shape(parse_stack(code), current)
    assert shape == expected
    modules = {"nn.Conv2d(1, 8, 3)": nn.Conv2d(1, 8, 3), "nn.ConvTranspose2d(4, 2, 2)": nn.ConvTranspose2d(4, 2, 2),
               "nn.BatchNorm2d(16)": nn.BatchNorm2d(16).eval(), "nn.Linear(20, 10)": nn.Linear(20, 10)}
    for text, module in modules.items():
        if text in code:  # PyTorch itself takes the input of that shape
            with torch.no_grad():
                module(torch.zeros((1, *shape)))
