"""Kernel recipes: the command line's NAME:p=v text, names, refusals naming the parameter,
the JSON form of session files, and gradient pairs as a two-channel layer (checked with
torch's conv2d on the literal Sobel matrices)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.core import kernel_recipe as kr
from convplay.core.parametric_kernels import FAMILIES, KernelParameterError
from convplay.core.spec import ConvSpec

SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def test_text_round_trip_and_name():
    r = kr.parse("gaussian:size=5,sigma=1.2")
    assert r.family == "gaussian" and r.value("size") == 5 and r.value("sigma") == 1.2
    assert r.text() == "gaussian:size=5,sigma=1.2"
    assert kr.parse(r.text()) == r
    assert r.name == "Gaussian 5×5, σ 1.2"
    y, x = np.mgrid[-2:3, -2:3]
    g = np.exp(-(x**2 + y**2) / (2 * 1.2**2))
    np.testing.assert_allclose(r.kernels()[0], g / g.sum(), atol=1e-15)


def test_defaults_fill_the_missing_parameters():
    r = kr.parse("gabor:theta=45,lambda=6")
    assert dict(r.params) == {"size": 9, "theta": 45.0, "lambda": 6.0, "sigma": 2.0, "gamma": 0.5, "psi": 0.0}
    assert r.name.startswith("Gabor 9×9, θ 45, λ 6")


def test_rectangular_size_and_normalisation():
    r = kr.parse("box:size=5x3")
    assert r.kernel_shape == (5, 3) and r.text() == "box:size=5x3"
    z = kr.parse("gabor:normalise=zero_mean")
    assert abs(z.kernels()[0].sum()) < 1e-12 and z.text().endswith("normalise=zero_mean")
    assert "zero mean" in z.name


@pytest.mark.parametrize(
    "text, parameter, words",
    [
        ("nope", "family", "unknown kernel family"),
        ("gaussian:sigma=0", "sigma", "0.1 to 10"),
        ("gaussian:size=99", "size", "1 to 15"),
        ("gaussian:foo=1", "foo", "no parameter 'foo'"),
        ("gaussian:sigma", "sigma", "not p=v"),
        ("gaussian:sigma=abc", "sigma", "'abc'"),
        ("gaussian:sigma=nan", "sigma", "'nan'"),
        ("gaussian:sigma=1,sigma=2", "sigma", "twice"),
        ("log:normalise=sum", "normalisation", "sum to 0"),
        ("log:normalise=bogus", "normalisation", "unknown normalisation"),
        ("sobel_pair:size=4", "size", "3, 5 or 7"),
        ("box:size=3xq", "size", "HxW"),
        ("", "family", "NAME"),
    ],
)
def test_refusals_name_the_parameter(text, parameter, words):
    with pytest.raises(KernelParameterError) as caught:
        kr.parse(text)
    assert caught.value.parameter == parameter
    assert words in str(caught.value)


def test_a_huge_text_is_refused_before_parsing():
    with pytest.raises(KernelParameterError, match="at most"):
        kr.parse("gaussian:" + "sigma=1," * 1000)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([f.key for f in FAMILIES]), st.data())
def test_every_family_round_trips_through_text_and_json(key, data):
    fam = kr.family_of(key)
    params = {}
    for p in fam.parameters:
        if p.integer:
            params[p.name] = data.draw(st.integers(int(p.minimum), int(p.maximum)))
        else:
            params[p.name] = data.draw(st.floats(p.minimum, p.maximum).map(lambda v: round(v, 3)))
    try:
        r = kr.recipe(key, **params)
    except KernelParameterError:
        return  # some combinations are refused by the family itself (a vanishing derivative)
    assert kr.parse(r.text()) == r
    assert kr.from_dict(r.as_dict()) == r
    for k in r.kernels():
        assert np.all(np.isfinite(k))


@pytest.mark.parametrize(
    "value",
    [None, [], {"family": 3}, {"family": "gaussian", "parameters": {"sigma": "1"}},
     {"family": "gaussian", "parameters": {"sigma": float("inf")}},
     {"family": "gaussian", "parameters": {f"p{i}": 1 for i in range(40)}},
     {"family": "gaussian", "parameters": {"sigma": True}}],
)
def test_hostile_json_is_refused(value):
    with pytest.raises(KernelParameterError):
        kr.from_dict(value)


def test_help_lists_every_family_and_the_cli_copy_agrees():
    from convplay.cli import KERNEL_FAMILIES_HELP

    text = kr.help_text()
    assert text == KERNEL_FAMILIES_HELP
    for key in kr.kinds():
        assert key in text


@pytest.mark.parametrize("size", [3, 5, 7])
def test_sobel_pair_layer_gives_gx_and_gy_through_torch(size):
    r = kr.parse(f"sobel_pair:size={size}")
    assert r.pair and r.out_channels == 2
    spec, weight = kr.pair_layer(ConvSpec(in_channels=3, out_channels=5, groups=1), r.kernels())
    assert spec.out_channels == 2 and spec.groups == 1 and weight.shape == (2, 3, size, size)
    x = torch.rand(1, 3, 20, 24, dtype=torch.float64)
    got = F.conv2d(x, torch.from_numpy(weight))
    if size == 3:
        kx = torch.from_numpy(SOBEL_X)
        gray = x.sum(1, keepdim=True)  # each input channel gets the kernel: the sum's gradient
        np.testing.assert_allclose(got[0, 0], F.conv2d(gray, kx[None, None])[0, 0], atol=1e-12)
        np.testing.assert_allclose(got[0, 1], F.conv2d(gray, kx.T[None, None])[0, 0], atol=1e-12)
    np.testing.assert_allclose(weight[1, 0], weight[0, 0].T)


def test_a_transposed_pair_puts_x_and_y_in_the_second_axis():
    r = kr.parse("prewitt_pair")
    spec, weight = kr.pair_layer(ConvSpec(in_channels=1, transposed=True), r.kernels())
    assert weight.shape == (1, 2, 3, 3)
    np.testing.assert_array_equal(weight[0, 0], [[-1, 0, 1]] * 3)
    np.testing.assert_array_equal(weight[0, 1], np.array([[-1, 0, 1]] * 3).T)
