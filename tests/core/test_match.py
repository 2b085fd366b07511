"""The "Matches PyTorch" comparison: torch's real outputs pass, planted errors are found."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.core.match import TF32_NOTE, compare, compare_conv, output_magnitude, precision_of, tolerance_for
from convplay.core.reference import conv2d_reference
from convplay.core.spec import ConvSpec
from oracles import torch_conv


def _torch(x, w, b, spec, dtype):
    return torch_conv(x, w, b, spec, dtype=getattr(torch, dtype)).astype(np.float64)


@settings(max_examples=60, deadline=None)
@given(
    c=st.sampled_from([1, 2, 4]),
    groups=st.sampled_from([1, 2]),
    k=st.integers(1, 5),
    scale=st.sampled_from([1.0, 255.0, 1e-3]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_pytorch_outputs_match_the_reference(c, groups, k, scale, dtype, seed):
    groups = groups if c % groups == 0 else 1
    rng = np.random.default_rng(seed)
    spec = ConvSpec(in_channels=c, out_channels=2 * groups, kernel_size=k, padding=k // 2, groups=groups)
    x = rng.uniform(0, scale, (c, 17, 13))
    w = rng.normal(size=spec.weight_shape)
    b = rng.normal(size=spec.out_channels)
    ref = conv2d_reference(x, w, b, spec)
    match = compare_conv(ref, _torch(x, w, b, spec, dtype), x, w, b, spec, dtype)
    assert match.matches, match.summary()
    assert match.max_abs_diff <= match.tolerance
    assert match.mismatched.shape == (0, 3)


def test_a_planted_error_is_found_and_located():
    rng = np.random.default_rng(1)
    spec = ConvSpec(in_channels=3, out_channels=4, kernel_size=3)
    x, w = rng.normal(size=(3, 10, 10)), rng.normal(size=spec.weight_shape)
    ref = conv2d_reference(x, w, None, spec)
    out = _torch(x, w, None, spec, "float32")
    out[2, 5, 1] += 1e-2
    out[0, 0, 0] -= 5e-3
    match = compare_conv(ref, out, x, w, None, spec, "float32")
    assert not match.matches
    assert match.n_mismatched == 2
    assert match.mismatched.tolist() == [[2, 5, 1], [0, 0, 0]]  # largest first
    assert match.max_abs_diff == pytest.approx(1e-2, rel=1e-3)
    assert "2 cells differ" in match.summary()


def test_nan_from_pytorch_is_a_mismatch():
    ref = np.zeros((1, 2, 2))
    out = ref.copy()
    out[0, 1, 1] = np.nan
    match = compare(ref, out, 1e-6, "float32")
    assert match.n_mismatched == 1 and match.mismatched.tolist() == [[0, 1, 1]]


def test_many_mismatches_are_capped_but_counted():
    ref = np.zeros((2, 30, 30))
    out = ref + np.arange(ref.size).reshape(ref.shape)
    match = compare(ref, out, 0.5, "float64", max_cells=10)
    assert match.n_mismatched == ref.size - 1
    assert len(match.mismatched) == 10
    assert match.mismatched[0].tolist() == [1, 29, 29]


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="shape"):
        compare(np.zeros((1, 2, 2)), np.zeros((1, 2, 3)), 1.0, "float32")


def test_tolerance_grows_with_values_terms_and_precision():
    assert tolerance_for(10.0, 9, "float32") > tolerance_for(1.0, 9, "float32")
    assert tolerance_for(1.0, 900, "float32") > tolerance_for(1.0, 9, "float32")
    assert tolerance_for(1.0, 9, "tf32") > 1000 * tolerance_for(1.0, 9, "float32")
    assert tolerance_for(1.0, 9, "float64") < 1e-11


def test_tf32_precision_and_note():
    assert precision_of("float32", tf32=True) == "tf32"
    assert precision_of("float64", tf32=True) == "float64"
    with pytest.raises(ValueError):
        precision_of("int8")
    match = compare(np.zeros((1, 1, 1)), np.zeros((1, 1, 1)), 1.0, "tf32")
    assert match.note == TF32_NOTE and "TF32" in match.note
    assert compare(np.zeros((1, 1, 1)), np.zeros((1, 1, 1)), 1.0, "float32").note == ""


def test_tf32_sized_error_passes_tf32_tolerance_but_not_float32():
    """A 64->64 3x3 conv: an error of the size TF32 makes (DESIGN.md: 3.6e-2 on an H200)."""
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=64, out_channels=64, kernel_size=3, padding=1)
    x = rng.normal(size=(64, 8, 8))
    w = rng.normal(size=spec.weight_shape)
    ref = conv2d_reference(x, w, None, spec)
    # Emulate TF32: round x and w to 10 mantissa bits, compute exactly.
    def tf32(a):
        m, e = np.frexp(a)
        return np.ldexp(np.round(m * 2**11) / 2**11, e)
    out = conv2d_reference(tf32(x), tf32(w), None, spec)
    assert compare_conv(ref, out, x, w, None, spec, "float32", tf32=True).matches
    assert not compare_conv(ref, out, x, w, None, spec, "float32", tf32=False).matches


def test_magnitude_of_a_transposed_conv_uses_its_weight_layout():
    spec = ConvSpec(in_channels=2, out_channels=3, kernel_size=2, transposed=True)
    w = np.ones(spec.weight_shape)  # (2, 3, 2, 2)
    assert output_magnitude(np.full((2, 4, 4), 2.0), w, np.array([1.0, -5.0, 0.0]), spec) == 2.0 * 8 + 5.0
