"""Kernel analysis: the frequency response against np.fft directly, the 1-D cut, the
one-line description for the textbook kernels, and separability (rank, integer factors,
MAC costs, the rank-1 error), with the two-pass factors run through torch's conv2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from convplay.core.kernel_analysis import (
    cut,
    describe_response,
    frequency_response,
    is_rounding_zero,
    kernel_properties,
    separability,
    strongest_direction,
)
from convplay.core.presets import get_preset

SOBEL_X = get_preset("sobel_x").weights
SOBEL_Y = get_preset("sobel_y").weights
LAPLACIAN = np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
IDENTITY = get_preset("identity").weights


def gaussian(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    h = size // 2
    y, x = np.mgrid[-h : h + 1, -h : h + 1].astype(float)
    g = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return g / g.sum()


def gabor(theta_degrees: float = 0.0, wavelength: float = 5.0, sigma: float = 3.0, size: int = 21):
    """exp(-r^2 / 2 sigma^2) cos(2 pi x' / lambda), x' along theta counter-clockwise on
    the screen (rows run down, so y = -row)."""
    h = size // 2
    row, x = np.mgrid[-h : h + 1, -h : h + 1].astype(float)
    y = -row
    t = np.radians(theta_degrees)
    xr = x * np.cos(t) + y * np.sin(t)
    return np.exp(-(x**2 + y**2) / (2 * sigma**2)) * np.cos(2 * np.pi * xr / wavelength)


# -- frequency response -----------------------------------------------------------------
def test_delta_has_magnitude_one_everywhere():
    r = frequency_response(IDENTITY, size=32)
    assert r.magnitude.shape == (32, 32)
    np.testing.assert_allclose(r.magnitude, 1.0, atol=1e-12)
    np.testing.assert_allclose(r.phase, 0.0, atol=1e-12)  # centred: no shift, no phase


def test_response_equals_numpy_fft_of_the_centred_kernel():
    k = np.arange(15.0).reshape(3, 5) - 4
    r = frequency_response(k, size=16)
    padded = np.zeros((16, 16))
    for i in range(3):
        for j in range(5):
            padded[(i - 1) % 16, (j - 2) % 16] = k[i, j]
    expected = np.fft.fftshift(np.fft.fft2(padded))
    np.testing.assert_allclose(r.values, expected, atol=1e-10)
    np.testing.assert_allclose(r.magnitude, np.abs(expected), atol=1e-10)
    np.testing.assert_allclose(r.phase, np.angle(expected), atol=1e-10)
    # off-centre placement only adds a linear phase: same magnitude as the plain fft2
    np.testing.assert_allclose(r.magnitude, np.abs(np.fft.fftshift(np.fft.fft2(k, (16, 16)))), atol=1e-10)


def test_box_dc_is_the_sum_and_matches_the_dirichlet_kernel():
    box = np.ones((3, 3))
    r = frequency_response(box)
    assert r.dc == pytest.approx(9.0)
    c = r.size // 2
    assert r.magnitude[c, c] == pytest.approx(9.0)
    fy, fx = np.meshgrid(r.fy, r.fx, indexing="ij")
    dirichlet = (1 + 2 * np.cos(2 * np.pi * fx)) * (1 + 2 * np.cos(2 * np.pi * fy))
    np.testing.assert_allclose(r.values, dirichlet, atol=1e-10)


@pytest.mark.parametrize("kernel", [np.ones((3, 3)), gaussian(), LAPLACIAN, gabor()])
def test_symmetric_kernels_have_a_real_response(kernel):
    r = frequency_response(kernel)
    assert np.abs(r.values.imag).max() <= 1e-10 * r.magnitude.max()
    shown = r.magnitude > 1e-8 * r.magnitude.max()
    ph = np.abs(r.phase[shown])
    assert np.all((ph < 1e-6) | (np.abs(ph - np.pi) < 1e-6))


def test_antisymmetric_sobel_is_imaginary():
    r = frequency_response(SOBEL_X)
    assert np.abs(r.values.real).max() <= 1e-10 * r.magnitude.max()


@pytest.mark.parametrize("size", [64, 33])
def test_frequency_axes(size):
    r = frequency_response(SOBEL_X, size=size)
    np.testing.assert_array_equal(r.fx, np.fft.fftshift(np.fft.fftfreq(size)))
    np.testing.assert_array_equal(r.fy, r.fx)
    assert r.fx[0] >= -0.5 and r.fx[-1] < 0.5
    assert r.fx[size // 2] == 0.0
    if size % 2 == 0:
        assert r.fx[0] == -0.5 and r.fx[-1] == 0.5 - 1 / size


def test_response_is_read_only_and_size_checked():
    r = frequency_response(SOBEL_X)
    with pytest.raises(ValueError):
        r.magnitude[0, 0] = 1
    with pytest.raises(ValueError):
        frequency_response(np.ones((9, 9)), size=8)
    with pytest.raises(ValueError):
        frequency_response(np.ones(3))


def test_cut_at_0_degrees_is_the_centre_row():
    r = frequency_response(gabor(30.0), size=64)
    f, values = cut(r, 0.0)
    assert f[0] == -0.5 and f[-1] == 0.5 and len(f) == 65
    np.testing.assert_allclose(values[:-1], r.magnitude[32], atol=1e-12)
    assert values[-1] == pytest.approx(values[0])  # +0.5 is -0.5: the DFT is periodic


def test_cut_at_90_degrees_is_the_centre_column_and_interpolates_between():
    r = frequency_response(SOBEL_Y, size=32)
    _f, values = cut(r, 90.0)
    # +90 degrees points up the screen, to negative fy: the column read bottom to top
    np.testing.assert_allclose(values[1:-1], r.magnitude[::-1, 16][:-1], atol=1e-9)
    r = frequency_response(np.random.default_rng(1).standard_normal((3, 4)), size=32)
    _f, values = cut(r, 0.0, n=65)  # half-way samples: the mean of the two neighbours
    row = r.magnitude[16]
    np.testing.assert_allclose(values[1:-1:2], (row + np.roll(row, -1)) / 2, atol=1e-9)


# -- what the response says -------------------------------------------------------------
@pytest.mark.parametrize(
    "kernel", [np.ones((3, 3)) / 9, np.ones((5, 5)), gaussian(), gaussian(7, 1.5)]
)
def test_blurs_are_low_pass(kernel):
    line = describe_response(frequency_response(kernel))
    assert line.startswith("low-pass"), line
    assert "directional" not in line


@pytest.mark.parametrize("kernel", [LAPLACIAN, get_preset("laplacian8").weights])
def test_laplacians_are_high_pass(kernel):
    line = describe_response(frequency_response(kernel))
    assert line.startswith("high-pass"), line


def test_sobels_are_directional():
    line = describe_response(frequency_response(SOBEL_X))
    assert line.startswith("directional, strongest at 0°"), line
    assert "horizontal frequencies" in line and "vertical edges" in line
    line = describe_response(frequency_response(SOBEL_Y))
    assert line.startswith("directional, strongest at 90°"), line
    assert "vertical frequencies" in line and "horizontal edges" in line


def test_identity_is_all_pass():
    assert describe_response(frequency_response(IDENTITY)).startswith("all-pass")


@pytest.mark.parametrize("theta", [0, 45, 90])
def test_gabor_is_band_pass_and_directional(theta):
    line = describe_response(frequency_response(gabor(theta, wavelength=5.0)))
    assert line.startswith("band-pass around 0.2"), line
    assert f"directional, strongest at {theta}°" in line


def test_small_gaussian_is_a_mild_low_pass_with_its_edge_share():
    kernel = gaussian(3, 0.5)
    line = describe_response(frequency_response(kernel))
    assert line.startswith("low-pass, mild"), line
    # numpy oracle: |H| at (fx, fy) = (0.5, 0) over |H| at DC, the kernel's own DTFT
    xs = np.arange(3) - 1
    h_edge = abs((kernel * np.exp(-2j * np.pi * 0.5 * xs)[None, :]).sum())
    assert f"is {h_edge / kernel.sum():.2f} of DC" in line, line


def test_directional_kernels_state_their_peak_and_period():
    line = describe_response(frequency_response(SOBEL_X))
    assert "peaks at 0.25 cycles/pixel (a 4-pixel period)" in line, line
    # a Gabor of wavelength 6 at 45°, a round envelope: the peak is at 1/6 off the 1/64 grid
    line = describe_response(frequency_response(gabor(45, wavelength=6.0, sigma=3.0, size=15)))
    assert "around 0.167 cycles/pixel (a 6-pixel period)" in line, line
    assert "strongest at 45°" in line


def test_gabor_with_a_large_dc_is_a_leaky_band_pass():
    # 9×9, σ 2, γ 0.5, ψ 0: the sum is 0.39 of the peak (numpy's sum against the peak of |fft2|)
    k = gabor(45, wavelength=6.0, sigma=2.0, size=9)
    line = describe_response(frequency_response(k))
    assert line.startswith("band-pass"), line
    assert "with a DC leak (DC" in line and "of the peak)" in line, line


def test_non_zero_dc_is_never_called_zero():
    # a tight stripe pattern whose sum is not 0 but small next to its peak
    x = np.arange(15) - 7
    k = np.cos(np.pi * x)[None, :] * np.ones((15, 1)) + 0.02
    line = describe_response(frequency_response(k))
    assert "≈ 0" not in line and "DC gain 0" not in line, line
    assert f"{k.sum():.3g}".replace("-", "−") in line, line


def test_rounding_sums_are_zero():
    laplacian = np.array([[0.1, 0.2, 0.1], [0.2, -1.2, 0.2], [0.1, 0.2, 0.1]])
    assert laplacian.sum() != 0.0  # float rounding leaves a crumb
    r = frequency_response(laplacian)
    assert is_rounding_zero(laplacian.sum(), np.abs(laplacian).sum())
    assert not is_rounding_zero(1e-6, 1.0)
    assert "DC gain 0," in describe_response(r)


def test_strongest_direction():
    assert strongest_direction(frequency_response(gabor(45, wavelength=5.0))) == 45.0
    assert strongest_direction(frequency_response(SOBEL_Y)) == 90.0
    assert strongest_direction(frequency_response(gaussian())) is None
    assert strongest_direction(frequency_response(IDENTITY)) is None


def test_gabor_peak_sits_at_its_wavelength():
    r = frequency_response(gabor(0.0, wavelength=8.0, sigma=4.0, size=31), size=64)
    i = np.unravel_index(np.argmax(r.magnitude), r.magnitude.shape)
    assert r.fy[i[0]] == 0.0 and abs(r.fx[i[1]]) == pytest.approx(1 / 8)


# -- separability -----------------------------------------------------------------------
def test_sobel_x_factors_as_integers():
    s = separability(SOBEL_X)
    assert s.rank == 1 and s.separable
    col, row = s.integer_factors
    np.testing.assert_array_equal(col, [[1], [2], [1]])
    np.testing.assert_array_equal(row, [[-1, 0, 1]])
    assert col.dtype == np.int64
    np.testing.assert_allclose(s.col @ s.row, SOBEL_X, atol=1e-12)
    assert s.rank1_error < 1e-12


def test_sobel_y_follows_the_sign_rule():
    col, row = separability(SOBEL_Y).integer_factors
    np.testing.assert_array_equal(col, [[-1], [0], [1]])
    np.testing.assert_array_equal(row, [[1, 2, 1]])  # the row's last nonzero entry > 0


def test_gaussians_are_rank_one():
    s = separability(gaussian(5, 1.2))
    assert s.rank == 1 and s.integer_factors is None
    np.testing.assert_allclose(s.col @ s.row, gaussian(5, 1.2), atol=1e-14)
    s = separability(get_preset("gaussian3").weights)  # [1,2,1]^T [1,2,1] / 16
    assert s.rank == 1 and s.integer_factors is None
    np.testing.assert_allclose(s.row, [[1, 2, 1]])
    np.testing.assert_allclose(s.col, [[1 / 16], [2 / 16], [1 / 16]])


def test_laplacian_is_rank_two_with_its_rank1_error():
    s = separability(LAPLACIAN)
    assert s.rank == 2 and not s.separable
    assert s.col is None and s.row is None and s.integer_factors is None
    sv = np.linalg.svd(LAPLACIAN, compute_uv=False)
    assert s.rank1_error == pytest.approx(np.sqrt(np.sum(sv[1:] ** 2) / np.sum(sv**2)))
    residual = np.linalg.norm(LAPLACIAN - s.rank1) / np.linalg.norm(LAPLACIAN)
    assert s.rank1_error == pytest.approx(residual)
    assert 0 < s.rank1_error < 1


@pytest.mark.parametrize("shape, two_d, two_pass", [((3, 3), 9, 6), ((7, 7), 49, 14), ((3, 5), 15, 8)])
def test_mac_costs(shape, two_d, two_pass):
    s = separability(np.ones(shape))
    assert (s.macs_2d, s.macs_two_passes) == (two_d, two_pass)


def test_zero_kernel():
    s = separability(np.zeros((3, 3)))
    assert s.rank == 0 and s.rank1_error == 0.0 and s.col is None
    assert describe_response(frequency_response(np.zeros((3, 3)))).startswith("zero")


_ints = st.integers(-9, 9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_ints, min_size=1, max_size=7).filter(any),
    st.lists(_ints, min_size=1, max_size=7).filter(any),
)
def test_outer_products_of_integers_are_rank_one(a, b):
    kernel = np.outer(a, b).astype(float)
    s = separability(kernel)
    assert s.rank == 1
    np.testing.assert_allclose(s.col @ s.row, kernel, atol=1e-9)
    col, row = s.integer_factors
    np.testing.assert_array_equal(col @ row, np.outer(a, b))
    assert np.gcd.reduce(np.abs(row.ravel())) == 1


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7).flatmap(
        lambda h: st.integers(1, 7).flatmap(
            lambda w: arrays(np.float64, (h, w), elements=st.floats(-10, 10, width=32))
        )
    )
)
def test_rank1_error_is_the_svd_formula(kernel):
    s = separability(kernel)
    sv = np.linalg.svd(kernel, compute_uv=False)
    total = np.sqrt(np.sum(sv**2))
    expected = np.sqrt(np.sum(sv[1:] ** 2)) / total if total > 0 else 0.0
    assert s.rank1_error == pytest.approx(expected, abs=1e-12)
    assert 0.0 <= s.rank1_error <= 1.0 + 1e-12
    if total > 0:
        residual = np.linalg.norm(kernel - s.rank1) / np.linalg.norm(kernel)
        assert s.rank1_error == pytest.approx(residual, abs=1e-9)


# -- the factors run through PyTorch --------------------------------------------------
@pytest.mark.parametrize("kernel", [SOBEL_X, gaussian(5, 1.2)], ids=["sobel_x", "gaussian"])
def test_two_passes_in_torch_equal_the_2d_conv(kernel):
    s = separability(kernel)
    assert s.rank == 1
    kh, kw = kernel.shape
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 1, 16, 16)))
    full = F.conv2d(x, torch.from_numpy(np.array(kernel)).reshape(1, 1, kh, kw))
    col = torch.from_numpy(np.array(s.col)).reshape(1, 1, kh, 1)
    row = torch.from_numpy(np.array(s.row)).reshape(1, 1, 1, kw)
    two = F.conv2d(F.conv2d(x, col), row)
    assert two.shape == full.shape
    torch.testing.assert_close(two, full, atol=1e-12, rtol=1e-12)
    # and in float32, as the app runs it
    two32 = F.conv2d(F.conv2d(x.float(), col.float()), row.float())
    torch.testing.assert_close(two32, full.float(), atol=1e-5, rtol=1e-5)


# -- properties as numbers ----------------------------------------------------------------


def test_sobel_properties():
    p = kernel_properties(SOBEL_X)
    assert (p.sum, p.zero_mean, p.rank) == (0.0, True, 1)
    assert (p.symmetry_x, p.symmetry_y) == ("antisymmetric", "symmetric")
    assert (p.l1, p.min, p.max) == (8.0, -2.0, 2.0)
    assert p.l2 == pytest.approx(np.sqrt(12.0))
    q = kernel_properties(SOBEL_X.T)
    assert (q.symmetry_x, q.symmetry_y) == ("symmetric", "antisymmetric")


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(-5, 5)))
def test_properties_against_numpy(k):
    p = kernel_properties(k)
    assert p.sum == pytest.approx(k.sum(), abs=1e-12)
    assert p.l1 == pytest.approx(np.abs(k).sum()) and p.l2 == pytest.approx(np.linalg.norm(k))
    assert (p.min, p.max) == (k.min(), k.max())
    tol = 1e-12 * np.abs(k).max()  # float rounding, not a broken symmetry
    for axis, found in ((1, p.symmetry_x), (0, p.symmetry_y)):
        mirrored = np.flip(k, axis)
        if np.all(np.abs(k - mirrored) <= tol):
            assert found == "symmetric"
        elif np.all(np.abs(k + mirrored) <= tol):
            assert found == "antisymmetric"
        else:
            assert found == "neither"
    if p.zero_mean:
        assert abs(k.sum()) <= 1e-9 * max(np.abs(k).sum(), 1e-300)


def test_a_gaussian_sums_to_one_and_is_symmetric_both_ways():
    p = kernel_properties(gaussian())
    assert p.sum == pytest.approx(1.0) and not p.zero_mean
    assert (p.symmetry_x, p.symmetry_y, p.rank) == ("symmetric", "symmetric", 1)
