"""The tutorials' worked shapes and counts (../shared/seeds), as literal expectations."""

from __future__ import annotations

import pytest
import torch

from convplay.core import ConvSpec, output_size_formula


def test_seed_000_same_size_with_k3_s1_p1():
    spec = ConvSpec(3, 16, kernel_size=3, stride=1, padding=1)
    assert spec.output_shape((3, 224, 224)) == (16, 224, 224)


def test_seed_000_halved_with_k5_s2_p2():
    spec = ConvSpec(16, 8, kernel_size=5, stride=2, padding=2)
    assert spec.output_shape((16, 224, 224)) == (8, 112, 112)
    assert [f.result for f in output_size_formula(spec, (16, 224, 224))] == [112, 112]


def test_seed_000_parameter_count_of_3x3x3x64():
    spec = ConvSpec(3, 64, kernel_size=3, padding=1, bias=False)
    assert spec.weight_shape == (64, 3, 3, 3)
    assert spec.param_count() == 1_728
    assert spec.param_count(with_bias=True) == 1_728 + 64


def test_seed_000_fully_connected_comparison():
    spec = ConvSpec(3, 64, kernel_size=3, padding=1, bias=False)
    # the tutorial's figure H×W×C_in×C_out: every one of 64 neurons sees all 224×224×3
    # inputs.  It is 9,633,792 (the text's "≈ 983 万" is a slip for 963 万).
    assert spec.fc_param_count((3, 224, 224), out_features=64) == 224 * 224 * 3 * 64 == 9_633_792
    assert spec.param_count() / spec.fc_param_count((3, 224, 224), out_features=64) == \
        pytest.approx(0.00018, rel=0.01)  # "0.017 %"
    # mapping the same input to the same 64×224×224 output takes (150,528)² × 64/3 weights
    assert spec.fc_param_count((3, 224, 224)) == 150_528 * 3_211_264
    assert spec.fc_param_count((3, 224, 224), with_bias=True) == 150_528 * 3_211_264 + 3_211_264


@pytest.mark.parametrize("groups, weight_shape", [(1, (12, 6, 1, 1)), (2, (12, 3, 1, 1)),
                                                  (3, (12, 2, 1, 1))])
def test_seed_001_weight_shapes_per_groups(groups, weight_shape):
    spec = ConvSpec(in_channels=6, out_channels=12, kernel_size=1, groups=groups)
    assert spec.weight_shape == weight_shape
    assert tuple(torch.nn.Conv2d(6, 12, 1, groups=groups).weight.shape) == weight_shape


def test_seed_001_x_kernel_on_5x5_gives_3x3():
    assert ConvSpec(kernel_size=3).output_shape((1, 5, 5)) == (1, 3, 3)


@pytest.mark.parametrize("padding, size", [(1, 28), (0, 26)])
def test_seed_003_28x28_with_k3(padding, size):
    spec = ConvSpec(1, 64, kernel_size=3, padding=padding)
    assert spec.output_shape((1, 28, 28)) == (64, size, size)
    assert output_size_formula(spec, (1, 28, 28))[0].numeric == (
        f"H_out = ⌊(28 + 2·{padding} − 1·(3−1) − 1) / 1⌋ + 1 = {size}")
