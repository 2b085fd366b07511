"""The generated PyTorch code is run, and must give what nn.Conv2d gives on the same data."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import torch
import torch.nn as nn
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convplay.core.codegen import GeneratedCode, kernel_snippet, pytorch_code
from convplay.core.spec import ConvSpec


def run_generated(code: GeneratedCode) -> dict:
    """Execute the code in a fresh folder holding the .npy files it loads; its namespace."""
    namespace: dict = {}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        for name, values in code.arrays.items():
            np.save(os.path.join(folder, name), values)
        os.chdir(folder)
        try:
            exec(compile(code.text, "<generated>", "exec"), namespace)
        finally:
            os.chdir(cwd)
    return namespace


def oracle(spec: ConvSpec, image, weight, bias, true_convolution: bool, dtype) -> torch.Tensor:
    """nn.Conv2d / nn.ConvTranspose2d built here, independently of the generated text."""
    if spec.transposed:
        layer = nn.ConvTranspose2d(
            spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
            spec.output_padding, spec.groups, spec.bias, spec.dilation, dtype=dtype,
        )
    else:
        layer = nn.Conv2d(
            spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
            spec.dilation, spec.groups, spec.bias, spec.padding_mode, dtype=dtype,
        )
    w = np.flip(weight, (2, 3)).copy() if true_convolution else weight
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        if spec.bias:
            layer.bias.copy_(torch.from_numpy(bias))
        return layer(torch.from_numpy(image).to(dtype).unsqueeze(0))


def make_case(spec: ConvSpec, hw: tuple[int, int], seed: int = 0):
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((spec.in_channels, *hw))
    weight = rng.standard_normal(spec.weight_shape)
    bias = rng.standard_normal(spec.out_channels) if spec.bias else None
    return image, weight, bias


def check_against_oracle(spec, image, weight, bias, true_convolution: bool) -> GeneratedCode:
    for dtype_name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        code = pytorch_code(spec, image, weight, bias, true_convolution=true_convolution, dtype=dtype_name)
        assert code.error == ""
        ns = run_generated(code)
        expected = oracle(spec, image, weight, bias, true_convolution, dtype)
        assert ns["y"].dtype == dtype
        # The same op on the same numbers in the same process: bit for bit.
        torch.testing.assert_close(ns["y"], expected, rtol=0, atol=0)
        torch.testing.assert_close(ns["y_f"], expected, rtol=0, atol=0)
    return code


SPECS = [
    # seed 001: the 5x5 X with the X-shaped kernel
    (ConvSpec(1, 1, 3, bias=False), (5, 5)),
    # seed 000: 224 -> 112 with k5 s2 p2, shrunk to a small input
    (ConvSpec(3, 4, 5, stride=2, padding=2), (12, 12)),
    (ConvSpec(3, 16, 3, padding=1), (16, 16)),  # kernel and input both from .npy
    (ConvSpec(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2), (9, 8)),
    (ConvSpec(2, 2, (4, 3), padding="same", padding_mode="reflect", dilation=2), (9, 9)),
    (ConvSpec(1, 2, 3, padding=(2, 1), padding_mode="circular"), (5, 6)),
    (ConvSpec(3, 3, 3, padding="valid", padding_mode="replicate", groups=3), (6, 6)),
    (ConvSpec(2, 3, 3, stride=2, padding=1, transposed=True, output_padding=1), (4, 5)),
    (ConvSpec(4, 2, (2, 3), stride=(3, 2), dilation=2, groups=2, transposed=True,
              output_padding=(1, 0)), (3, 4)),
    (ConvSpec(1, 1, 7, padding=3), (12, 12)),  # 7x7 kernel: too big for a literal
]


@pytest.mark.parametrize("spec, hw", SPECS)
@pytest.mark.parametrize("true_convolution", [False, True])
def test_generated_code_computes_what_pytorch_computes(spec, hw, true_convolution):
    image, weight, bias = make_case(spec, hw)
    code = check_against_oracle(spec, image, weight, bias, true_convolution)
    assert ("torch.flip(weight, dims=(2, 3))" in code.text) == true_convolution


def test_seed_001_x_kernel_gives_the_worked_answer():
    x = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
    k = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
    code = pytorch_code(ConvSpec(1, 1, 3, bias=False), x[None], k[None, None], None)
    ns = run_generated(code)
    np.testing.assert_array_equal(ns["y"][0, 0].numpy(), [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert code.arrays == {}  # everything is a literal


@st.composite
def valid_cases(draw):
    transposed = draw(st.booleans())
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    pair = lambda lo, hi: st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))
    if transposed:
        padding = draw(pair(0, 2))
        mode = "zeros"
    else:
        padding = draw(st.one_of(pair(0, 3), st.sampled_from(["same", "valid"])))
        mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    spec = ConvSpec(
        in_channels=c_in, out_channels=c_out, kernel_size=draw(pair(1, 6)),
        stride=draw(pair(1, 3)), padding=padding, dilation=draw(pair(1, 2)), groups=groups,
        bias=draw(st.booleans()), padding_mode=mode, transposed=transposed,
        output_padding=draw(pair(0, 1)) if transposed else 0,
    )
    hw = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    assume(spec.is_valid((c_in, *hw)))
    return spec, hw, draw(st.booleans()), draw(st.integers(0, 2**16))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(valid_cases())
def test_generated_code_matches_pytorch_for_random_specs(case):
    spec, hw, true_convolution, seed = case
    image, weight, bias = make_case(spec, hw, seed)
    check_against_oracle(spec, image, weight, bias, true_convolution)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=9, max_size=9))
def test_literal_numbers_round_trip_exactly(values):
    weight = np.array(values, dtype=np.float64).reshape(1, 1, 3, 3)
    code = pytorch_code(ConvSpec(1, 1, 3, bias=False), np.zeros((1, 3, 3)), weight, None, dtype="float64")
    ns = run_generated(code)
    np.testing.assert_array_equal(ns["weight"].numpy(), weight)  # NaN == NaN here
    assert np.array_equal(np.signbit(ns["weight"].numpy()), np.signbit(weight))  # -0.0 kept


def test_small_kernel_is_a_literal_large_one_is_loaded_from_npy():
    small = pytorch_code(ConvSpec(3, 2, 5), np.zeros((3, 8, 8)), np.zeros((2, 3, 5, 5)), np.zeros(2))
    assert small.arrays == {}
    assert "weight = torch.tensor(" in small.text and "bias = torch.tensor(" in small.text

    big = pytorch_code(ConvSpec(3, 16, 3), np.zeros((3, 32, 32)), np.zeros((16, 3, 3, 3)), np.zeros(16))
    assert set(big.arrays) == {"input.npy", "weight.npy", "bias.npy"}
    assert 'np.load("weight.npy", allow_pickle=False)' in big.text
    assert "torch.randn(1, 3, 32, 32)" in big.text  # the random alternative, as a comment
    assert big.arrays["input.npy"].shape == (3, 32, 32)


def test_layer_arguments_are_the_users_own():
    spec = ConvSpec(3, 6, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2, groups=3, bias=False,
                    padding_mode="replicate")
    text = pytorch_code(spec, np.zeros((3, 20, 20)), np.zeros(spec.weight_shape), None).text
    flat = " ".join(text.split())
    assert ("nn.Conv2d( in_channels=3, out_channels=6, kernel_size=(3, 5), stride=(2, 1), "
            "padding=(1, 2), dilation=2, groups=3, bias=False, padding_mode='replicate', )") in flat
    # replicate padding is F.pad's (left, right, top, bottom) of the padding (h, w) = (1, 2)
    assert "F.pad(x, (2, 2, 1, 1), mode='replicate')" in text


@pytest.mark.parametrize(
    "spec, hw",
    [
        (ConvSpec(3, 4, 3, groups=2), (8, 8)),
        (ConvSpec(1, 1, 7), (4, 4)),
        (ConvSpec(1, 1, 3, stride=2, padding="same"), (8, 8)),
        (ConvSpec(1, 1, 3, padding=4, padding_mode="reflect"), (4, 4)),
        (ConvSpec(1, 1, 3, padding=5, padding_mode="circular"), (4, 4)),
        (ConvSpec(1, 1, 3, stride=1, transposed=True, output_padding=1), (4, 4)),
        (ConvSpec(1, 1, 3, padding=1, padding_mode="reflect", transposed=True), (4, 4)),
    ],
)
def test_refused_settings_give_code_that_pytorch_refuses_too(spec, hw):
    code = pytorch_code(spec, np.zeros((spec.in_channels, *hw)), np.zeros((1, 1, 3, 3)), None)
    assert code.error and f"# PyTorch refuses these settings: {code.error}" in code.text
    with pytest.raises((RuntimeError, ValueError)):
        run_generated(code)


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype"):
        pytorch_code(ConvSpec(), np.zeros((1, 5, 5)), np.zeros((1, 1, 3, 3)), None, dtype="int8")


# -- Edit > Copy kernel as PyTorch: kernel_snippet ------------------------------------------
def _literal_of(text: str, name: str) -> list:
    """The nested list given to ``name = torch.tensor(...)``, read as data (never run)."""
    import ast

    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == name:
            return ast.literal_eval(node.value.args[0])
    raise AssertionError(f"no {name} = ... in the snippet")


def test_kernel_snippet_is_one_row_per_line_aligned_on_the_decimal_points():
    weight = np.array([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]],
                       [[[0.1, 1 / 9, 10.5], [-3.0, 0.25, 1.0], [1.0, 2.0, 3.0]]]])
    text = kernel_snippet(ConvSpec(1, 2, 3, padding=1), weight, np.array([0.5, -0.25]))
    rows = [line for line in text.splitlines() if line.rstrip().endswith(("],", "]]],", "]]]],"))]
    assert len(rows) == 6  # one line per kernel row
    assert rows[0] == "    [[[[-1.0       ,  0.0       ,  1.0       ],"
    assert rows[1] == "       [-2.0       ,  0.0       ,  2.0       ],"  # nested bracket under its parent
    assert rows[3] == "     [[[ 0.1       ,  0.11111111, 10.5       ],"  # float32's 1/9, not 17 digits
    columns = {tuple(i for i, ch in enumerate(line) if ch == ".") for line in rows}
    assert len(columns) == 1  # every decimal point of the grid in one column
    assert "\n\n\n     [[[" in text  # two blank lines between filters, as numpy prints a 4-D array
    assert "bias = torch.tensor([0.5, -0.25], dtype=torch.float32)" in text
    assert "conv = nn.Conv2d(" in text and "conv.bias.copy_(bias)" in text


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=18, max_size=18),
    st.sampled_from(["float32", "float64"]),
)
def test_kernel_snippet_numbers_read_back_exactly(values, dtype):
    weight = np.array(values, dtype=np.float64).reshape(2, 1, 3, 3) * np.float64(1 + 2**-30)  # off the float32 grid
    bias = weight[:, 0, 0, 0].copy()
    text = kernel_snippet(ConvSpec(1, 2, 3), weight, bias, dtype=dtype)
    # The list part read as data, then given the dtype, is what PyTorch receives.
    as_data = np.array(_literal_of(text, "weight"), dtype=np.float64).astype(dtype)
    np.testing.assert_array_equal(as_data, weight.astype(dtype))
    assert np.array_equal(np.signbit(as_data), np.signbit(weight.astype(dtype)))
    np.testing.assert_array_equal(np.array(_literal_of(text, "bias")).astype(dtype), bias.astype(dtype))


@pytest.mark.parametrize("true_convolution", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pasted_snippet_builds_the_layer_convplay_runs(true_convolution, dtype):
    spec = ConvSpec(3, 2, (3, 5), stride=2, padding=1, groups=1, padding_mode="reflect")
    image, weight, bias = make_case(spec, (9, 11), seed=4)
    namespace: dict = {}
    exec(kernel_snippet(spec, weight, bias, dtype=dtype, true_convolution=true_convolution), namespace)
    torch_dtype = getattr(torch, dtype)
    conv = namespace["conv"]
    assert conv.weight.dtype == torch_dtype
    with torch.no_grad():
        got = conv(torch.from_numpy(image).to(torch_dtype).unsqueeze(0))
    torch.testing.assert_close(got, oracle(spec, image, weight, bias, true_convolution, torch_dtype), rtol=0, atol=0)


def test_snippet_of_nonfinite_values_and_settings_pytorch_refuses():
    weight = np.array([[[[np.nan, -np.inf, 1e40]]]])
    spec = ConvSpec(1, 1, (1, 3), bias=False)
    text = kernel_snippet(spec, weight, None)
    assert "float('nan')" in text and "-float('inf')" in text
    assert "float('inf')]" in text  # 1e40 is infinite in float32, and says so
    assert "1e+40" in kernel_snippet(spec, weight, None, dtype="float64")
    refused = kernel_snippet(ConvSpec(3, 4, 3, groups=2), np.zeros((4, 1, 3, 3)), np.zeros(4))
    assert "# No layer: PyTorch refuses these settings" in refused and "nn.Conv2d" not in refused
    namespace: dict = {}
    exec(refused, namespace)  # the tensors still paste
    assert tuple(namespace["weight"].shape) == (4, 1, 3, 3)
