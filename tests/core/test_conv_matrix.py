"""conv_matrix, im2col and the weight matrix against PyTorch, in float64.

The oracles are nn.Conv2d / nn.ConvTranspose2d built from the spec's user-level arguments
(tests/oracles.py), F.unfold and F.pad called with those arguments, and C read off torch
itself: a convolution without bias is linear, so its matrix is its Jacobian, the outputs
for the basis inputs, all run as one batch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings

from convplay.core.conv_matrix import (
    MAX_MATRIX_TAPS,
    MatrixTooLarge,
    bias_vector,
    conv_matrix,
    coo_matvec,
    coo_rmatvec,
    im2col,
    im2col_output,
    matrix_taps,
    weight_matrix,
)
from convplay.core.spec import ConvSpec, ConvSpecError
from oracles import SAME_PADDING_WARNING, torch_conv, torch_module
from strategies import conv_cases

pytestmark = pytest.mark.filterwarnings(SAME_PADDING_WARNING)

TOLERANCE = 1e-9
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def torch_jacobian(module: torch.nn.Module, input_shape) -> np.ndarray:
    """The matrix of a bias-free ``module`` for one input of ``input_shape``: column j is its
    output for the j-th basis input, all run as one batch."""
    n = int(np.prod(input_shape))
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *input_shape)
    with torch.no_grad():
        return module(basis).reshape(n, -1).T.numpy()


def bias_free_module(spec: ConvSpec, weight: np.ndarray) -> torch.nn.Module:
    module = torch_module(spec, bias=False)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(np.array(weight, dtype=np.float64)))
    return module


def dense_from_coo(coo) -> np.ndarray:
    rows, cols, values, shape = coo
    out = np.zeros(shape)
    out[rows, cols] = values
    return out


# -- C against torch --------------------------------------------------------------------


@SETTINGS
@given(conv_cases(max_extra=4))
def test_dense_and_coo_matrices_compute_torchs_convolution(case):
    spec, x, weight, bias = case
    expected = torch_conv(x, weight, bias, spec).ravel()
    b = bias_vector(spec, bias, x.shape)
    dense = conv_matrix(spec, weight, x.shape)
    assert dense.dtype == np.float64
    assert dense.shape == (expected.size, x.size)
    np.testing.assert_allclose(dense @ x.ravel() + b, expected, rtol=0, atol=TOLERANCE)
    coo = conv_matrix(spec, weight, x.shape, dense=False)
    np.testing.assert_allclose(coo_matvec(coo, x) + b, expected, rtol=0, atol=TOLERANCE)


@SETTINGS
@given(conv_cases(max_extra=3))
def test_the_matrix_is_torchs_jacobian(case):
    """Entry by entry, folded padding's sums included."""
    spec, x, weight, _ = case
    jacobian = torch_jacobian(bias_free_module(spec, weight), x.shape)
    dense = conv_matrix(spec, weight, x.shape)
    np.testing.assert_allclose(dense, jacobian, rtol=0, atol=TOLERANCE)
    coo = conv_matrix(spec, weight, x.shape, dense=False)
    rows, cols, _, shape = coo
    assert shape == dense.shape
    key = rows * shape[1] + cols
    assert np.all(np.diff(key) > 0), "COO sorted by row then column, one entry per (row, col)"
    np.testing.assert_array_equal(dense_from_coo(coo), dense)
    # Every non-zero of torch's matrix is an entry (an entry may sum to zero, not the reverse).
    assert set(zip(*np.nonzero(np.abs(jacobian) > TOLERANCE))) <= set(zip(rows.tolist(), cols.tolist()))


@SETTINGS
@given(conv_cases(transposed=True, max_extra=3))
def test_a_transposed_matrix_is_the_transpose_of_the_direct_convolutions(case):
    """The direct convolution built here with torch: channels swapped, the same weight tensor,
    on an input the size of the transposed output; its rows past x's size (output_padding ≥
    stride) meet no pixel of x."""
    spec, x, weight, _ = case
    c_in, h, w = x.shape
    out_shape = torch_conv(x, weight, None, spec).shape
    direct = torch.nn.Conv2d(spec.out_channels, spec.in_channels, spec.kernel_size, stride=spec.stride,
                             padding=spec.padding, dilation=spec.dilation, groups=spec.groups, bias=False,
                             dtype=torch.float64)
    with torch.no_grad():
        direct.weight.copy_(torch.from_numpy(weight))
    direct_c = torch_jacobian(direct, out_shape)
    with torch.no_grad():
        direct_out = direct(torch.zeros((1, *out_shape), dtype=torch.float64)).shape[1:]
    rows = np.arange(direct_c.shape[0]).reshape(direct_out)[:, :h, :w].ravel()
    dense = conv_matrix(spec, weight, x.shape)
    np.testing.assert_allclose(dense, direct_c[rows].T, rtol=0, atol=TOLERANCE)
    # And it is conv_transpose2d's own Jacobian.
    np.testing.assert_allclose(dense, torch_jacobian(bias_free_module(spec, weight), x.shape),
                               rtol=0, atol=TOLERANCE)


@SETTINGS
@given(conv_cases(transposed=False, max_extra=3))
def test_coo_rmatvec_is_the_transpose(case):
    spec, x, weight, _ = case
    coo = conv_matrix(spec, weight, x.shape, dense=False)
    y = np.random.default_rng(0).normal(size=coo[3][0])
    np.testing.assert_allclose(coo_rmatvec(coo, y), conv_matrix(spec, weight, x.shape).T @ y,
                               rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same", "valid"])
def test_every_padding_mode_with_groups_dilation_and_stride(mode, padding):
    stride = 1 if padding == "same" else (2, 1)
    spec = ConvSpec(4, 6, (3, 2), stride=stride, padding=padding, dilation=(1, 2), groups=2, padding_mode=mode)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6, 7))
    weight, bias = rng.normal(size=spec.weight_shape), rng.normal(size=6)
    dense = conv_matrix(spec, weight, x.shape)
    np.testing.assert_allclose(dense @ x.ravel() + bias_vector(spec, bias, x.shape),
                               torch_conv(x, weight, bias, spec).ravel(), rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(dense, torch_jacobian(bias_free_module(spec, weight), x.shape),
                               rtol=0, atol=TOLERANCE)


# -- the guide's example and folded padding -------------------------------------------


GUIDE_ROWS = [
    "w00 w01 w02 0   w10 w11 w12 0   w20 w21 w22 0   0   0   0   0",
    "0   w00 w01 w02 0   w10 w11 w12 0   w20 w21 w22 0   0   0   0",
    "0   0   0   0   w00 w01 w02 0   w10 w11 w12 0   w20 w21 w22 0",
    "0   0   0   0   0   w00 w01 w02 0   w10 w11 w12 0   w20 w21 w22",
]


def test_the_guides_4x16_matrix_entry_by_entry():
    """A 3×3 kernel over a 4×4 input, no padding, stride 1: the matrix the convolution
    arithmetic guide prints, with distinct weights so each entry names its tap."""
    spec = ConvSpec(1, 1, 3, bias=False)
    weight = (np.arange(9, dtype=float) + 1).reshape(1, 1, 3, 3)
    named = {f"w{m}{n}": weight[0, 0, m, n] for m in range(3) for n in range(3)}
    named["0"] = 0.0
    expected = np.array([[named[cell] for cell in row.split()] for row in GUIDE_ROWS])
    assert expected.shape == (4, 16)
    dense = conv_matrix(spec, weight, (1, 4, 4))
    np.testing.assert_array_equal(dense, expected)
    np.testing.assert_array_equal(dense_from_coo(conv_matrix(spec, weight, (1, 4, 4), dense=False)), expected)
    x = np.random.default_rng(6).normal(size=(1, 4, 4))
    np.testing.assert_allclose(dense @ x.ravel(), torch_conv(x, weight, None, spec).ravel(), rtol=0, atol=TOLERANCE)
    taps = matrix_taps(spec, (1, 4, 4))
    assert len(taps) == 36
    _, _, m, n = taps.weight_index()
    oc, oi, oj = taps.output_index()
    ic, ii, ij = taps.input_index()
    # Output (oi, oj) reads input (oi + m, oj + n) through tap (m, n): a cross-correlation.
    np.testing.assert_array_equal(ii, oi + m)
    np.testing.assert_array_equal(ij, oj + n)
    np.testing.assert_array_equal(taps.values(weight), weight[0, 0, m, n])


def test_reflect_padding_folds_four_corner_taps_onto_one_pixel():
    """Output (0, 0) of a 3×3 reflect-padded 3×3: the padded rows −1, 0, 1 read real rows 1, 0, 1,
    so the four corner taps all read pixel (1, 1) and C holds their sum there."""
    spec = ConvSpec(1, 1, 3, padding=1, padding_mode="reflect", bias=False)
    weight = np.array([[[[1.0, 2.0, 4.0], [8.0, 16.0, 32.0], [64.0, 128.0, 256.0]]]])
    taps = matrix_taps(spec, (1, 3, 3))
    at = (taps.row == 0) & (taps.col == 4)
    assert at.sum() == 4
    assert sorted(taps.values(weight)[at]) == [1.0, 4.0, 64.0, 256.0]
    dense = conv_matrix(spec, weight, (1, 3, 3))
    assert dense[0, 4] == 1 + 4 + 64 + 256
    rows, cols, values, _ = conv_matrix(spec, weight, (1, 3, 3), dense=False)
    assert values[(rows == 0) & (cols == 4)].tolist() == [325.0]
    np.testing.assert_array_equal(dense, torch_jacobian(bias_free_module(spec, weight), (1, 3, 3)))


@pytest.mark.parametrize("mode", ["replicate", "circular"])
def test_other_copying_modes_fold_too(mode):
    spec = ConvSpec(1, 1, 3, padding=2, padding_mode=mode, bias=False)
    weight = np.random.default_rng(7).normal(size=(1, 1, 3, 3))
    taps = matrix_taps(spec, (1, 2, 2))
    pairs = taps.row * taps.shape[1] + taps.col
    assert np.unique(pairs).size < len(taps), "some taps share a (row, column)"
    np.testing.assert_allclose(conv_matrix(spec, weight, (1, 2, 2)),
                               torch_jacobian(bias_free_module(spec, weight), (1, 2, 2)), rtol=0, atol=TOLERANCE)


# -- im2col --------------------------------------------------------------------------


@SETTINGS
@given(conv_cases(transposed=False))
def test_im2col_is_unfold_of_the_padded_input_per_group(case):
    """F.unfold with the user's padding for zeros; every mode unfolds F.pad's input."""
    spec, x, weight, bias = case
    t = torch.from_numpy(x)[None]
    if isinstance(spec.padding, str):
        # torch's own rule for 'same': d(k − 1) in all, the smaller half before.
        totals = [d * (k - 1) for d, k in zip(_pair(spec.dilation), _pair(spec.kernel_size))]
        pad = (totals[1] // 2, totals[1] - totals[1] // 2, totals[0] // 2, totals[0] - totals[0] // 2) \
            if spec.padding == "same" else (0, 0, 0, 0)
    else:
        ph, pw = _pair(spec.padding)
        pad = (pw, pw, ph, ph)
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    padded = F.pad(t, pad, mode=mode)
    patches = im2col(spec, x)
    assert patches.shape[0] == spec.groups
    per_group = spec.in_channels // spec.groups
    for g in range(spec.groups):
        expected = F.unfold(padded[:, g * per_group:(g + 1) * per_group], spec.kernel_size,
                            dilation=spec.dilation, stride=spec.stride)[0].numpy()
        np.testing.assert_array_equal(patches[g], expected)
    np.testing.assert_allclose(im2col_output(spec, x, weight, bias), torch_conv(x, weight, bias, spec),
                               rtol=0, atol=TOLERANCE)


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


@pytest.mark.parametrize("padding", [0, 1, (2, 1)])
def test_im2col_is_unfold_for_zero_padding(padding):
    spec = ConvSpec(3, 4, (3, 2), stride=(1, 2), padding=padding, dilation=(2, 1))
    x = np.random.default_rng(8).normal(size=(3, 7, 8))
    expected = F.unfold(torch.from_numpy(x)[None], (3, 2), dilation=(2, 1), padding=padding, stride=(1, 2))[0]
    np.testing.assert_array_equal(im2col(spec, x)[0], expected.numpy())


@SETTINGS
@given(conv_cases(transposed=True))
def test_weight_matrix_times_patches_is_conv_transpose2d(case):
    spec, x, weight, bias = case
    np.testing.assert_allclose(im2col_output(spec, x, weight, bias), torch_conv(x, weight, bias, spec),
                               rtol=0, atol=TOLERANCE)


def test_weight_matrix_rows_are_the_flattened_filters():
    spec = ConvSpec(4, 6, 3, groups=2)
    weight = np.random.default_rng(9).normal(size=spec.weight_shape)
    matrix = weight_matrix(spec, weight)
    assert matrix.shape == (2, 3, 2 * 9)
    np.testing.assert_array_equal(matrix[1, 2], weight[5].ravel())


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "shape"),
    [(ConvSpec(3, 64, 3), (3, 1024, 1024)),
     (ConvSpec(64, 3, 3, stride=2, padding=1, output_padding=1, transposed=True), (64, 512, 512))],
)
def test_too_large_a_matrix_is_refused_with_a_message(spec, shape):
    weight = np.zeros(spec.weight_shape)
    for dense in (True, False):
        with pytest.raises(MatrixTooLarge) as error:
            conv_matrix(spec, weight, shape, dense=dense)
        assert isinstance(error.value, ConvSpecError)
        assert error.value.field == "input"
        assert error.value.taps > MAX_MATRIX_TAPS
        message = str(error.value)
        assert f"{MAX_MATRIX_TAPS:,}" in message and "smaller input" in message
    with pytest.raises(MatrixTooLarge):
        matrix_taps(spec, shape)


def test_wrong_weight_shape_is_a_conv_spec_error():
    spec = ConvSpec(3, 2, 3)
    for call in (lambda: conv_matrix(spec, np.zeros((2, 3, 2, 3)), (3, 5, 5)),
                 lambda: conv_matrix(spec, np.zeros((3, 2, 3, 3)), (3, 5, 5), dense=False),
                 lambda: weight_matrix(spec, np.zeros((2, 1, 3, 3)))):
        with pytest.raises(ConvSpecError) as error:
            call()
        assert error.value.field == "weight"
        assert "(2, 3, 3, 3)" in str(error.value)


def test_settings_torch_refuses_are_conv_spec_errors():
    with pytest.raises(ConvSpecError):
        conv_matrix(ConvSpec(1, 1, 5), np.zeros((1, 1, 5, 5)), (1, 3, 3))
    with pytest.raises(ConvSpecError):
        conv_matrix(ConvSpec(1, 1, 3, padding=3, padding_mode="reflect"), np.zeros((1, 1, 3, 3)), (1, 3, 3))
