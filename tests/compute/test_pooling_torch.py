"""core.pooling against PyTorch: shapes, values, argmax indices and refusals, for every
ceil_mode / padding / dilation / count_include_pad / divisor_override combination, NaN and
ties included, in float64.

The oracle is F.max_pool2d / F.avg_pool2d / F.adaptive_*_pool2d called with the drawn
arguments themselves; compute.pooling.run_pool is checked against the same calls.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.compute.pooling import run_pool
from convplay.core.pooling import PoolSpec, PoolSpecError, pool_reference, pool_window

SETTINGS = settings(max_examples=int(__import__("os").environ.get("POOL_EXAMPLES", 150)), deadline=None)
# −inf + inf in an average is NaN, as in PyTorch; numpy says so with a warning besides
QUIET = {"invalid": "ignore", "over": "ignore"}


def reference(spec, x):
    with np.errstate(**QUIET):
        return pool_reference(spec, x)


def window_of(spec, plane, oh, ow):
    with np.errstate(**QUIET):
        return pool_window(spec, plane, oh, ow)


def int_or_pair(low: int, high: int):
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


@st.composite
def inputs(draw, max_side: int = 8):
    """(C, H, W) float64 with ties (few distinct values), sometimes NaN and ±inf."""
    c, h, w = draw(st.integers(1, 2)), draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    palette = draw(st.sampled_from(["ties", "spread", "nan"]))
    if palette == "ties":
        values = st.sampled_from([0.0, 1.0, 2.0, -1.0])
    elif palette == "spread":
        values = st.floats(-100, 100, allow_nan=False, width=64)
    else:
        values = st.sampled_from([0.0, 3.0, math.nan, -math.inf, math.inf, -2.5])
    data = draw(st.lists(values, min_size=c * h * w, max_size=c * h * w))
    return np.array(data, dtype=np.float64).reshape(c, h, w)


@st.composite
def window_cases(draw):
    """(kind, torch kwargs, x) for max or average pooling, padding often past what PyTorch allows."""
    kind = draw(st.sampled_from(["max", "avg"]))
    kwargs = {
        "kernel_size": draw(int_or_pair(1, 4)),
        "stride": draw(st.one_of(st.none(), int_or_pair(1, 4))),
        "padding": draw(int_or_pair(0, 3)),
        "ceil_mode": draw(st.booleans()),
    }
    if kind == "max":
        kwargs["dilation"] = draw(int_or_pair(1, 3))
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
        kwargs["divisor_override"] = draw(st.one_of(st.none(), st.integers(0, 5)))
    return kind, kwargs, draw(inputs())


def spec_of(kind: str, kwargs: dict) -> PoolSpec:
    return PoolSpec(kind, **kwargs)


def torch_pool(kind: str, kwargs: dict, x: np.ndarray):
    """PyTorch's (values, indices or None), or the exception it raises."""
    t = torch.from_numpy(x)[None]
    try:
        if kind == "max":
            values, indices = F.max_pool2d(t, return_indices=True, **kwargs)
            return values[0].numpy(), indices[0].numpy()
        if kind == "avg":
            return F.avg_pool2d(t, **kwargs)[0].numpy(), None
        if kind == "adaptive_max":
            values, indices = F.adaptive_max_pool2d(t, return_indices=True, **kwargs)
            return values[0].numpy(), indices[0].numpy()
        return F.adaptive_avg_pool2d(t, **kwargs)[0].numpy(), None
    except (RuntimeError, ValueError) as exc:
        return exc


def scale(x: np.ndarray) -> float:
    finite = np.abs(x[np.isfinite(x)])
    return max(1.0, float(finite.max())) if finite.size else 1.0


def assert_same(ours, theirs, avg: bool, x: np.ndarray) -> None:
    (values, indices), (t_values, t_indices) = ours, theirs
    assert values.shape == t_values.shape
    if avg:
        # float64 sums in another order: a few roundings of the largest term apart
        np.testing.assert_allclose(values, t_values, rtol=1e-14, atol=1e-14 * scale(x), equal_nan=True)
        assert indices is None and t_indices is None
    else:
        np.testing.assert_array_equal(values, t_values)  # NaN == NaN here, ±inf exactly
        np.testing.assert_array_equal(indices, t_indices)


@SETTINGS
@given(window_cases())
def test_max_and_avg_pooling_are_pytorchs(case):
    kind, kwargs, x = case
    expected = torch_pool(kind, kwargs, x)
    spec = spec_of(kind, kwargs)
    if isinstance(expected, Exception):
        with pytest.raises(PoolSpecError):
            spec.output_shape(x.shape)
        with pytest.raises(PoolSpecError):
            pool_reference(spec, x)
        assert not spec.is_valid(x.shape)
        with pytest.raises((RuntimeError, ValueError)):
            run_pool(spec, x)
        return
    assert spec.output_shape(x.shape) == expected[0].shape
    assert_same(reference(spec, x), expected, kind == "avg", x)
    assert_same(run_pool(spec, x), expected, kind == "avg", x)


@st.composite
def adaptive_cases(draw):
    kind = draw(st.sampled_from(["adaptive_max", "adaptive_avg"]))
    size = st.one_of(st.none(), st.integers(1, 7))
    output_size = draw(st.one_of(st.integers(1, 7), st.tuples(size, size)))
    return kind, {"output_size": output_size}, draw(inputs())


@SETTINGS
@given(adaptive_cases())
def test_adaptive_pooling_is_pytorchs(case):
    kind, kwargs, x = case
    expected = torch_pool(kind, kwargs, x)
    spec = PoolSpec(kind, output_size=kwargs["output_size"])
    assert not isinstance(expected, Exception)
    assert spec.output_shape(x.shape) == expected[0].shape
    assert_same(reference(spec, x), expected, kind == "adaptive_avg", x)
    assert_same(run_pool(spec, x), expected, kind == "adaptive_avg", x)


@settings(max_examples=120, deadline=None)
@given(window_cases())
def test_every_windows_value_and_winner_are_pytorchs(case):
    """pool_window, cell by cell: its value is PyTorch's, its winner PyTorch's argmax, and an
    average's total / divisor is the value."""
    kind, kwargs, x = case
    expected = torch_pool(kind, kwargs, x)
    if isinstance(expected, Exception):
        return
    spec = spec_of(kind, kwargs)
    t_values, t_indices = expected
    w = x.shape[2]
    for c in range(x.shape[0]):
        for oh in range(t_values.shape[1]):
            for ow in range(t_values.shape[2]):
                window = window_of(spec, x[c], oh, ow)
                want = t_values[c, oh, ow]
                if kind == "max":
                    assert window.value == want or (math.isnan(want) and math.isnan(window.value))
                    assert window.winner[0] * w + window.winner[1] == t_indices[c, oh, ow]
                else:
                    with np.errstate(**QUIET):
                        ratio = np.float64(window.total) / window.divisor
                    np.testing.assert_allclose([window.value, ratio], [want, want], rtol=1e-14, atol=1e-14 * scale(x),
                                               equal_nan=True)


# -- fixed cases: the rules PyTorch users trip over -----------------------------------------------


def test_ceil_mode_drops_a_window_that_would_start_in_the_right_padding():
    # H=5, k=2, s=2, p=1: the naive ⌈(5 + 2 − 2)/2⌉ + 1 = 4, PyTorch gives 3
    x = np.arange(25.0).reshape(1, 5, 5)
    got = F.max_pool2d(torch.from_numpy(x)[None], 2, 2, 1, ceil_mode=True)
    spec = PoolSpec("max", 2, 2, 1, ceil_mode=True)
    assert spec.output_shape(x.shape) == tuple(got.shape[1:]) == (1, 3, 3)
    np.testing.assert_array_equal(pool_reference(spec, x)[0], got[0].numpy())


def test_ceil_mode_keeps_a_window_that_starts_inside():
    x = np.arange(25.0).reshape(1, 5, 5)
    got = F.max_pool2d(torch.from_numpy(x)[None], 2, 2, 0, ceil_mode=True)
    spec = PoolSpec("max", 2, 2, 0, ceil_mode=True)
    assert spec.output_shape(x.shape) == tuple(got.shape[1:]) == (1, 3, 3)


def test_ties_go_to_the_first_in_row_order_and_nan_wins():
    x = np.array([[[9.0, 1.0], [9.0, 9.0]]])
    _, indices = F.max_pool2d(torch.from_numpy(x)[None], 2, return_indices=True)
    window = pool_window(PoolSpec("max", 2), x[0], 0, 0)
    assert window.winner == (0, 0) and window.ties == 3 and indices.item() == 0
    x = np.array([[[1.0, math.nan], [math.nan, 5.0]]])
    _, indices = F.max_pool2d(torch.from_numpy(x)[None], 2, return_indices=True)
    window = pool_window(PoolSpec("max", 2), x[0], 0, 0)
    assert math.isnan(window.value) and window.winner[0] * 2 + window.winner[1] == indices.item()


def test_the_example_pools_to_8_6_9_9_in_pytorch():
    from convplay.core.samples import sample

    x = sample("tutorial_pool").image()
    got = torch.nn.MaxPool2d(2)(torch.from_numpy(x)[None])[0]
    np.testing.assert_array_equal(got.numpy(), [[[8.0, 6.0], [9.0, 9.0]]])
    np.testing.assert_array_equal(run_pool(PoolSpec("max", 2), x)[0], got.numpy())


@pytest.mark.parametrize("kind, kwargs", [
    ("max", {"kernel_size": 2, "padding": 2}),
    ("max", {"kernel_size": 5}),
    ("avg", {"kernel_size": 2, "divisor_override": 0}),
    ("avg", {"kernel_size": 3, "padding": 2}),
])
def test_refusals_are_pytorchs(kind, kwargs):
    x = np.zeros((1, 4, 4))
    assert isinstance(torch_pool(kind, kwargs, x), Exception)
    with pytest.raises(PoolSpecError):
        PoolSpec(kind, **kwargs).output_shape(x.shape)


def test_run_pool_returns_float64_copies():
    x = np.arange(16.0).reshape(1, 4, 4)
    values, indices = run_pool(PoolSpec("max", 2), x)
    assert values.dtype == np.float64 and indices.dtype == np.int64 and values.flags.writeable
    values, indices = run_pool(PoolSpec("adaptive_avg", output_size=(None, 2)), x)
    assert values.shape == (1, 4, 2) and indices is None
