"""The parametric kernel families: fspecial's documented values, closed forms, properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.core import parametric_kernels as pk
from convplay.core.parametric_kernels import (
    FAMILIES,
    KernelParameterError,
    make,
    normalised,
)
from convplay.core.presets import get_preset, preset_keys

FAST = settings(max_examples=25, deadline=None)
sides = st.integers(1, pk.MAX_SIDE)
odd_sides = st.integers(1, 7).map(lambda n: 2 * n + 1)
sigmas = st.floats(0.3, 5.0)


# --- fspecial's documented values ---------------------------------------------------------


def test_laplacian_matches_fspecial():
    expected = [[0.1667, 0.6667, 0.1667], [0.6667, -3.3333, 0.6667], [0.1667, 0.6667, 0.1667]]
    np.testing.assert_allclose(pk.laplacian(0.2), expected, atol=5e-5)


def test_unsharp_matches_fspecial():
    expected = [[-0.1667, -0.6667, -0.1667], [-0.6667, 4.3333, -0.6667], [-0.1667, -0.6667, -0.1667]]
    np.testing.assert_allclose(pk.unsharp(0.2), expected, atol=5e-5)


def test_gaussian_matches_fspecial():
    expected = [[0.0113, 0.0838, 0.0113], [0.0838, 0.6193, 0.0838], [0.0113, 0.0838, 0.0113]]
    np.testing.assert_allclose(pk.gaussian(3, 0.5), expected, atol=5e-5)


def test_log_sums_to_zero_with_its_minimum_at_the_centre():
    k = pk.log(5, 0.5)
    assert abs(k.sum()) < 1e-12
    assert np.unravel_index(np.argmin(k), k.shape) == (2, 2)


def test_sobel3_derived_is_the_preset():
    np.testing.assert_array_equal(pk.sobel_x(3), get_preset("sobel_x").weights)
    np.testing.assert_array_equal(pk.sobel_y(3), get_preset("sobel_y").weights)


def test_sobel5_and_7_known_values():
    s5 = [[-1, -2, 0, 2, 1], [-4, -8, 0, 8, 4], [-6, -12, 0, 12, 6], [-4, -8, 0, 8, 4],
          [-1, -2, 0, 2, 1]]
    np.testing.assert_array_equal(make("sobel5_x"), s5)
    np.testing.assert_array_equal(make("sobel5_y"), np.transpose(s5))
    np.testing.assert_array_equal(make("sobel7_x")[3], [-20, -80, -100, 0, 100, 80, 20])
    np.testing.assert_array_equal(make("sobel7_y"), make("sobel7_x").T)


def test_motion_horizontal_matches_fspecial():
    np.testing.assert_allclose(pk.motion(4, 0), [[1, 2, 2, 2, 1]] / np.float64(8))
    np.testing.assert_allclose(pk.motion(9, 0), np.full((1, 9), 1 / 9))
    np.testing.assert_allclose(pk.motion(9, 90), pk.motion(9, 0).T)
    k = pk.motion(9, 45)  # anticlockwise on screen: bottom-left to top-right
    assert k.shape == (7, 7) and k[0, -1] > 0 and k[0, 0] == 0


def _exact_disk(radius: float) -> np.ndarray:
    """Each pixel's area inside the disk, by fine integration of the chord over x."""
    half = int(np.ceil(radius - 0.5))
    n, m = 2 * half + 1, 4000
    out = np.zeros((n, n))
    for j in range(n):
        x = j - half - 0.5 + (np.arange(m) + 0.5) / m
        s = np.sqrt(np.maximum(radius**2 - x * x, 0))
        for i in range(n):
            y0, y1 = i - half - 0.5, i - half + 0.5
            out[i, j] = np.clip(np.minimum(y1, s) - np.maximum(y0, -s), 0, None).mean()
    return out / out.sum()


@pytest.mark.parametrize("radius", [0.5, 0.8, 1.0, 1.5, 2.3, 5.0, 7.5])
def test_disk_approximates_the_exact_area(radius):
    k = pk.disk(radius)
    exact = _exact_disk(radius)
    assert k.shape == exact.shape == (2 * int(np.ceil(radius - 0.5)) + 1,) * 2
    assert np.abs(k - exact).max() < 2e-3


def test_gaussian_is_the_closed_form():
    x = np.arange(7) - 3.0
    g = np.exp(-(x[None, :] ** 2 + x[:, None] ** 2) / (2 * 1.3**2))
    np.testing.assert_allclose(pk.gaussian(7, 1.3), g / g.sum(), rtol=1e-12)


def test_gaussian_derivative_gives_one_on_a_unit_ramp():
    k = pk.gaussian_dx(5, 1.0)
    x = np.arange(5) - 2.0
    assert (k * x[None, :]).sum() == pytest.approx(1.0)
    assert (k * x[:, None]).sum() == pytest.approx(0.0, abs=1e-12)
    assert k[:, -1].sum() > 0  # the right side positive, as sobel_x
    ky = pk.gaussian_dy(5, 1.0)
    np.testing.assert_allclose(ky, k.T)


def test_gabor_orientation_on_screen():
    k = pk.gabor(9, 0, 4, 2, 0.5, 0)  # varies along x: the centre row oscillates
    assert k[4, 4] == pytest.approx(1.0)
    np.testing.assert_allclose(k[4, 6], np.exp(-4 / 8) * np.cos(np.pi), rtol=1e-12)


@pytest.mark.parametrize("theta", [0, 30, 45, 90, 135, -60])
def test_gabor_response_peaks_at_theta_and_one_over_lambda(theta):
    """The kernel's angle and the frequency response's are one convention (anticlockwise
    on screen): the peak of |DFT| sits at radius 1/λ in the direction θ (mod 180)."""
    from convplay.core.kernel_analysis import frequency_response

    lam = 6.0
    r = frequency_response(pk.gabor(15, theta, lam, 3.0, 1.0, 0), size=256)
    i, j = np.unravel_index(np.argmax(r.magnitude), r.magnitude.shape)
    fx, fy = r.fx[j], r.fy[i]
    assert np.hypot(fx, fy) == pytest.approx(1 / lam, abs=2 / 256)
    angle = np.degrees(np.arctan2(-fy, fx))  # screen-up is -fy
    assert (angle - theta + 90) % 180 - 90 == pytest.approx(0, abs=3)


# --- properties -------------------------------------------------------------------------


@FAST
@given(h=sides, w=sides, sigma=sigmas)
def test_gaussian_sums_to_one_symmetric_and_separable(h, w, sigma):
    k = pk.gaussian((h, w), sigma)
    assert k.shape == (h, w) and k.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(k, k[::-1, :], atol=1e-15)
    np.testing.assert_allclose(k, k[:, ::-1], atol=1e-15)
    assert np.linalg.matrix_rank(k) == 1


@pytest.mark.parametrize("size", [3, 5, 7, 9, 15])
def test_sobel_is_rank_one_and_odd(size):
    k = pk.sobel_x(size)
    assert np.linalg.matrix_rank(k) == 1
    np.testing.assert_array_equal(k, -k[:, ::-1])
    np.testing.assert_array_equal(k, k[::-1, :])
    assert k.sum() == 0


@FAST
@given(size=st.integers(2, pk.MAX_SIDE), sigma=sigmas)
def test_gaussian_derivative_is_odd_in_x(size, sigma):
    k = pk.gaussian_dx(size, sigma)
    np.testing.assert_allclose(k, -k[:, ::-1], atol=1e-15)
    np.testing.assert_allclose(k, k[::-1, :], atol=1e-15)
    assert abs(k.sum()) < 1e-12


@FAST
@given(size=odd_sides, sigma=sigmas)
def test_log_sums_to_zero_and_is_lowest_at_the_centre(size, sigma):
    k = pk.log(size, sigma)
    assert abs(k.sum()) < 1e-9 * np.abs(k).sum()
    c = size // 2
    assert k[c, c] == k.min()
    np.testing.assert_allclose(k, k.T, atol=1e-12)


@FAST
@given(size=sides, s1=sigmas, s2=sigmas)
def test_dog_is_the_difference_and_sums_to_zero(size, s1, s2):
    k = pk.dog(size, s1, s2)
    np.testing.assert_array_equal(k, pk.gaussian(size, s1) - pk.gaussian(size, s2))
    assert abs(k.sum()) < 1e-12


@FAST
@given(radius=st.floats(0.5, 7.5))
def test_disk_sums_to_one_and_is_symmetric(radius):
    k = pk.disk(radius)
    assert k.sum() == pytest.approx(1.0) and k.shape[0] <= pk.MAX_SIDE
    np.testing.assert_allclose(k, k.T, atol=1e-15)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-15)


@FAST
@given(length=st.floats(1, 15), angle=st.floats(-180, 180))
def test_motion_sums_to_one_and_is_point_symmetric(length, angle):
    k = pk.motion(length, angle)
    assert k.sum() == pytest.approx(1.0)
    assert max(k.shape) <= pk.MAX_SIDE and k.min() >= 0
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-15)


@FAST
@given(alpha=st.floats(0, 1))
def test_laplacian_and_unsharp_sums(alpha):
    assert pk.laplacian(alpha).sum() == pytest.approx(0.0, abs=1e-12)
    assert pk.unsharp(alpha).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(pk.unsharp(alpha), np.pad([[1.0]], 1) - pk.laplacian(alpha), atol=1e-12)


@FAST
@given(size=sides, lam=st.floats(2, 30), sigma=st.floats(0.5, 10), gamma=st.floats(0.05, 4),
       psi=st.floats(-180, 180))
def test_gabor_at_90_is_gabor_at_0_turned_anticlockwise(size, lam, sigma, gamma, psi):
    # A quarter turn anticlockwise on screen: the wave that travelled right travels up.
    np.testing.assert_allclose(pk.gabor(size, 90, lam, sigma, gamma, psi),
                               np.rot90(pk.gabor(size, 0, lam, sigma, gamma, psi)), atol=1e-12)


@FAST
@given(h=sides, w=sides)
def test_box_is_the_mean(h, w):
    k = pk.box((h, w))
    assert k.shape == (h, w) and k.sum() == pytest.approx(1.0) and np.ptp(k) == 0


# --- normalisation -----------------------------------------------------------------------


def test_normalised_modes():
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert normalised(k, "sum").sum() == pytest.approx(1.0)
    assert normalised(k, "zero_mean").sum() == pytest.approx(0.0)
    out = normalised(k, "none")
    np.testing.assert_array_equal(out, k)
    assert out is not k and out.dtype == np.float64
    with pytest.raises(KernelParameterError, match="sum to 0") as e:
        normalised(make("sobel5_x"), "sum")
    assert e.value.parameter == "normalisation"
    with pytest.raises(KernelParameterError, match="zero_mean"):
        normalised(k, "max")


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, parameter", [
    (lambda: pk.gaussian(0, 1), "size"),
    (lambda: pk.gaussian(16, 1), "size"),
    (lambda: pk.gaussian((3, 2.5), 1), "size"),
    (lambda: pk.gaussian(3, 0), "sigma"),
    (lambda: pk.gaussian(3, float("nan")), "sigma"),
    (lambda: pk.gaussian(3, True), "sigma"),
    (lambda: pk.gaussian_dx(1, 1), "size"),
    (lambda: pk.dog(5, 1, -1), "sigma2"),
    (lambda: pk.disk(8), "radius"),
    (lambda: pk.motion(0.5, 0), "length"),
    (lambda: pk.motion(9, 200), "angle"),
    (lambda: pk.laplacian(1.5), "alpha"),
    (lambda: pk.unsharp(-0.1), "alpha"),
    (lambda: pk.gabor(9, 0, 1, 2, 0.5, 0), "lambda"),
    (lambda: pk.gabor(9, 0, 4, 2, 0, 0), "gamma"),
    (lambda: pk.box("3"), "size"),
    (lambda: pk.sobel_x(4), "size"),
    (lambda: make("nope"), "family"),
    (lambda: make("gaussian", sigmaa=1), "sigmaa"),
])
def test_refusals_name_the_parameter(call, parameter):
    with pytest.raises(KernelParameterError) as e:
        call()
    assert isinstance(e.value, ValueError)
    assert e.value.parameter == parameter


def test_refusal_messages_give_the_range_or_the_valid_names():
    with pytest.raises(KernelParameterError, match=r"sigma must be a number from 0\.1 to 10"):
        pk.gaussian(3, 0)
    with pytest.raises(KernelParameterError, match="gaussian, gaussian_dx"):
        make("nope")
    with pytest.raises(KernelParameterError, match="size, sigma"):
        make("gaussian", s=1)


# --- make() and FAMILIES -----------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.key)
def test_every_family_makes_a_kernel_at_its_defaults(family):
    k = make(family.key)
    assert isinstance(k, np.ndarray) and k.dtype == np.float64 and k.ndim == 2
    assert 1 <= k.shape[0] <= pk.MAX_SIDE and 1 <= k.shape[1] <= pk.MAX_SIDE
    assert np.isfinite(k).all()
    for p in family.parameters:
        assert p.minimum <= p.default <= p.maximum and p.step > 0
        assert not p.integer or all(float(v).is_integer() for v in (p.default, p.minimum, p.maximum))
        for v in (p.minimum, p.maximum):  # the table's ends are accepted
            k = make(family.key, **{p.name: v})
            assert 1 <= min(k.shape) and max(k.shape) <= pk.MAX_SIDE


def test_families_table_is_consistent():
    keys = [f.key for f in FAMILIES]
    assert len(keys) == len(set(keys)) and tuple(keys) == pk.family_keys()
    assert not set(keys) & set(preset_keys())  # `--kernel NAME` can take either
    assert {"gaussian", "gaussian_dx", "gaussian_dy", "log", "dog", "disk", "motion",
            "laplacian", "unsharp", "gabor", "box", "sobel5_x", "sobel5_y", "sobel7_x",
            "sobel7_y"} <= set(keys)
    np.testing.assert_array_equal(make("gaussian", size=5, sigma=1.2), pk.gaussian(5, 1.2))
    np.testing.assert_array_equal(make("gabor", theta=45, **{"lambda": 6}),
                                  pk.gabor(9, 45, 6, 2.0, 0.5, 0))
    np.testing.assert_array_equal(make("gaussian", size=5.0), pk.gaussian(5, 0.5))
