"""check_matrix and check_four_views: what the matrix and transposed views' badges report.

They agree with torch for every padding mode, and a wrong matrix or view is reported at its
size, not hidden: the core's own results are perturbed here by a known amount.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import convplay.compute.matrix_check as matrix_check
from convplay.compute.matrix_check import check_four_views, check_matrix, torch_output
from convplay.core.conv_matrix import MatrixTooLarge, conv_matrix
from convplay.core.spec import ConvSpec
from convplay.core.transposed_views import VIEW_NAMES, four_views
from oracles import SAME_PADDING_WARNING, torch_conv

pytestmark = pytest.mark.filterwarnings(SAME_PADDING_WARNING)

TOLERANCE = 1e-9


def operands(spec: ConvSpec, hw=(6, 7), seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(spec.in_channels, *hw))
    bias = rng.normal(size=spec.out_channels) if spec.bias else None
    return x, rng.normal(size=spec.weight_shape), bias


DIRECT = [
    ConvSpec(1, 1, 3, bias=False),
    ConvSpec(3, 8, 3, padding=1),
    ConvSpec(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    ConvSpec(2, 4, 4, padding="same"),
]


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("spec", DIRECT, ids=range(len(DIRECT)))
def test_check_matrix_agrees_with_torch(spec, mode):
    spec = spec.replace(padding_mode=mode)
    x, weight, bias = operands(spec)
    check = check_matrix(spec, x, weight, bias)
    expected = torch_conv(x, weight, bias, spec)
    np.testing.assert_allclose(check.torch_output, expected, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(check.matrix_output, expected, rtol=0, atol=TOLERANCE)
    assert check.matrix_difference < TOLERANCE
    assert check.im2col_difference < TOLERANCE


def test_check_matrix_of_a_transposed_spec():
    spec = ConvSpec(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, transposed=True)
    x, weight, bias = operands(spec, (4, 5))
    check = check_matrix(spec, x, weight, bias)
    assert check.matrix_output.shape == (6, 8, 10)
    assert check.matrix_difference < TOLERANCE and check.im2col_difference < TOLERANCE


def test_a_wrong_matrix_entry_is_reported_at_its_size(monkeypatch):
    spec = ConvSpec(3, 8, 3, padding=1, padding_mode="reflect")
    x, weight, bias = operands(spec)
    wrong = {}

    def perturbed(*args, **kwargs):
        rows, cols, values, shape = conv_matrix(*args, **kwargs)
        values = values.copy()
        values[17] += 0.5
        wrong["col"] = cols[17]
        return rows, cols, values, shape

    monkeypatch.setattr(matrix_check, "conv_matrix", perturbed)
    check = check_matrix(spec, x, weight, bias)
    assert check.matrix_difference == pytest.approx(0.5 * abs(x.ravel()[wrong["col"]]), abs=TOLERANCE)
    assert check.im2col_difference < TOLERANCE


def test_a_wrong_im2col_is_reported(monkeypatch):
    spec = ConvSpec(2, 2, 3)
    x, weight, bias = operands(spec)
    monkeypatch.setattr(matrix_check, "im2col_output",
                        lambda spec, x, w, b: torch_conv(x, w + 0.01, b, spec))
    check = check_matrix(spec, x, weight, bias)
    assert check.im2col_difference > 0.01
    assert check.matrix_difference < TOLERANCE


TRANSPOSED = [
    ConvSpec(1, 1, 3, stride=2, padding=1, output_padding=1, transposed=True, bias=False),
    ConvSpec(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, transposed=True),
    ConvSpec(2, 3, (2, 3), stride=(1, 2), padding=(3, 0), dilation=(2, 1), output_padding=(1, 1), transposed=True),
]


@pytest.mark.parametrize("spec", TRANSPOSED, ids=range(len(TRANSPOSED)))
def test_check_four_views_agrees_with_torch(spec):
    x, weight, bias = operands(spec, (4, 5))
    check = check_four_views(spec, x, weight, bias)
    np.testing.assert_allclose(check.torch_output, torch_conv(x, weight, bias, spec), rtol=0, atol=TOLERANCE)
    assert set(check.differences) == set(VIEW_NAMES)
    assert check.largest_difference < TOLERANCE


def test_one_wrong_view_is_named(monkeypatch):
    spec = TRANSPOSED[1]
    x, weight, bias = operands(spec, (4, 5))

    def with_a_wrong_gather(*args):
        views = four_views(*args)
        gather = views.gather.copy()
        gather[1, 2, 3] += 0.25
        return dataclasses.replace(views, gather=gather)

    monkeypatch.setattr(matrix_check, "four_views", with_a_wrong_gather)
    check = check_four_views(spec, x, weight, bias)
    assert check.differences["gather"] == pytest.approx(0.25, abs=TOLERANCE)
    assert check.largest_difference == check.differences["gather"]
    assert all(check.differences[name] < TOLERANCE for name in VIEW_NAMES if name != "gather")


def test_torch_output_is_nn_conv2d():
    spec = ConvSpec(3, 4, 3, padding=2, dilation=2, padding_mode="circular")
    x, weight, bias = operands(spec)
    np.testing.assert_allclose(torch_output(spec, x, weight, bias), torch_conv(x, weight, bias, spec),
                               rtol=0, atol=TOLERANCE)


def test_too_large_is_refused_before_torch_runs(monkeypatch):
    def not_called(*args):
        raise AssertionError("torch ran an O(input) convolution for a matrix it cannot build")

    monkeypatch.setattr(matrix_check, "torch_output", not_called)
    spec = ConvSpec(3, 64, 3)
    with pytest.raises(MatrixTooLarge):
        check_matrix(spec, np.zeros((3, 1024, 1024)), np.zeros(spec.weight_shape), None)
