"""compute.compare: A's output on B's request, and B − A, against torch and numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.compute.compare import difference, run_against
from convplay.core.results import ComputeRequest
from convplay.core.spec import ConvSpec


def test_run_against_is_torch_with_the_other_weight_on_the_same_request():
    rng = np.random.default_rng(0)
    image = rng.standard_normal((2, 9, 11)).astype(np.float32)
    spec = ConvSpec(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1, dilation=1, bias=True)
    b_weight = rng.standard_normal((3, 2, 3, 3))
    a_weight = rng.standard_normal((3, 2, 3, 3))
    bias = rng.standard_normal(3)
    request = ComputeRequest(spec, image, b_weight, bias)
    out = run_against(request, a_weight, bias)
    expected = F.conv2d(torch.from_numpy(image)[None], torch.from_numpy(a_weight.astype(np.float32)),
                        torch.from_numpy(bias.astype(np.float32)), stride=2, padding=1)[0].numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_a_spec_without_bias_ignores_a_bias():
    image = np.ones((1, 5, 5), np.float32)
    spec = ConvSpec(kernel_size=3, bias=False)
    out = run_against(ComputeRequest(spec, image, np.zeros((1, 1, 3, 3)), None), np.ones((1, 1, 3, 3)), np.array([5.0]))
    np.testing.assert_allclose(out, np.full((1, 3, 3), 9.0))


def test_difference_against_numpy():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((6, 7))
    b = a + rng.standard_normal((6, 7)) * 0.1
    d = difference(a, b)
    np.testing.assert_array_equal(d.values, b - a)
    assert d.max_abs == pytest.approx(np.abs(b - a).max())
    assert d.where == tuple(int(v) for v in np.unravel_index(np.argmax(np.abs(b - a)), a.shape))
    assert d.relative == pytest.approx(np.linalg.norm(b - a) / np.linalg.norm(a))


def test_difference_of_a_zero_a_has_no_relative_and_nan_is_left_out():
    a = np.zeros((2, 2))
    b = np.array([[1.0, np.nan], [-3.0, 0.0]])
    d = difference(a, b)
    assert d.max_abs == 3.0 and d.where == (1, 0)
    assert d.relative is None
    with pytest.raises(ValueError):
        difference(np.zeros((2, 2)), np.zeros((3, 2)))
