"""Seed 001's worked examples as literal expectations, through the reference and the walk.

The literals were computed by hand where the tutorial prints them (the 5x5 X example)
and otherwise pinned from torch's F.conv2d in float64; torch checks them again here.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from convplay.core.reference import conv2d_reference
from convplay.core.spec import ConvSpec
from convplay.core.walk import ConvWalk

# Section 二: the 5x5 input and the 3x3 "X-shaped" kernel of cust_conv2d.
X_INPUT = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
    ],
    dtype=float,
)[None]
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float)[None, None]
X_OUTPUT = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]

# Section 4 (1): three input channels, one 3x3 kernel per channel, summed.
MULTI_INPUT = np.array(
    [
        [[1, 0, 1, 0, 2], [1, 1, 3, 2, 1], [1, 1, 0, 1, 1], [2, 3, 2, 1, 3], [0, 2, 0, 1, 0]],
        [[1, 0, 0, 1, 0], [2, 0, 1, 2, 0], [3, 1, 1, 3, 0], [0, 3, 0, 3, 2], [1, 0, 3, 2, 1]],
        [[2, 0, 1, 2, 1], [3, 3, 1, 3, 2], [2, 1, 1, 1, 0], [3, 1, 3, 2, 0], [1, 1, 2, 1, 1]],
    ],
    dtype=float,
)
MULTI_KERNEL = np.array(
    [
        [[0, 1, 0], [0, 0, 2], [0, 1, 0]],
        [[2, 1, 0], [0, 0, 0], [0, 3, 0]],
        [[1, 0, 0], [1, 0, 0], [0, 0, 2]],
    ],
    dtype=float,
)[None]
MULTI_OUTPUT = [[19, 13, 15], [28, 16, 20], [23, 18, 25]]

# Section 4 (3): a 1x1 kernel mixing three channels into three, weight shape (3, 3, 1, 1).
ONE_BY_ONE_INPUT = np.array(
    [[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[1, 1, 1], [1, 1, 1], [1, 1, 1]], [[2, 2, 2], [2, 2, 2], [2, 2, 2]]],
    dtype=float,
)
ONE_BY_ONE_KERNEL = np.array([[1, 2, 3], [4, 1, 1], [5, 3, 3]], dtype=float)[:, :, None, None]
ONE_BY_ONE_OUTPUT = [
    [[9, 10, 11], [12, 13, 14], [15, 16, 17]],
    [[7, 11, 15], [19, 23, 27], [31, 35, 39]],
    [[14, 19, 24], [29, 34, 39], [44, 49, 54]],
]


def _torch(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight))[0].numpy()


def _check(x: np.ndarray, weight: np.ndarray, expected) -> None:
    spec = ConvSpec(in_channels=x.shape[0], out_channels=weight.shape[0], kernel_size=weight.shape[2:], bias=False)
    expected = np.array(expected, dtype=float).reshape(spec.output_shape(x.shape))
    np.testing.assert_array_equal(conv2d_reference(x, weight, None, spec), expected)
    np.testing.assert_array_equal(_torch(x, weight), expected)
    walk = ConvWalk(x, weight, None, spec)
    totals = np.array([walk.step(k).total for k in range(len(walk))]).reshape(expected.shape)
    np.testing.assert_array_equal(totals, expected)


def test_x_shaped_kernel_on_the_5x5_x():
    _check(X_INPUT, X_KERNEL, X_OUTPUT)


def test_three_input_channels_summed():
    _check(MULTI_INPUT, MULTI_KERNEL, MULTI_OUTPUT)


def test_one_by_one_kernel_mixes_three_channels():
    assert ONE_BY_ONE_KERNEL.shape == (3, 3, 1, 1)
    _check(ONE_BY_ONE_INPUT, ONE_BY_ONE_KERNEL, ONE_BY_ONE_OUTPUT)


def test_first_step_of_the_x_example_shows_its_products():
    """Step 0 lays the kernel on the top-left 3x3: the lecture's first frame."""
    spec = ConvSpec(1, 1, 3, bias=False)
    step = ConvWalk(X_INPUT, X_KERNEL, None, spec).step(0)
    np.testing.assert_array_equal(step.taps.value.reshape(3, 3), [[1, 1, 1], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(step.taps.product.reshape(3, 3), [[1, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert not step.taps.on_pad.any()
    assert step.total == 4


def test_three_channel_partial_sums_of_the_first_output():
    """Output (0, 0) of the multi-channel example is 19 = 7 + 5 + 7, one sum per channel."""
    spec = ConvSpec(3, 1, 3, bias=False)
    step = ConvWalk(MULTI_INPUT, MULTI_KERNEL, None, spec).step(0)
    np.testing.assert_array_equal(step.in_channels, [0, 1, 2])
    np.testing.assert_array_equal(step.partial_sums, [7, 5, 7])
    assert step.total == 19
