"""The kernel presets: complete, well described, and with the signs their descriptions state."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.core.presets import (
    DEFAULT_PRESET_KEY,
    PRESETS,
    Preset,
    UnknownPresetError,
    get_preset,
    preset_keys,
)

REQUIRED = {
    "identity", "box3", "box5", "gaussian3", "gaussian5", "sharpen", "sobel_x", "sobel_y",
    "scharr_x", "scharr_y", "prewitt_x", "prewitt_y", "laplacian4", "laplacian8", "log5",
    "emboss", "edge_vertical", "edge_horizontal", "x_shape",
}


def torch_conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """PyTorch's own conv2d (cross-correlation), valid padding, float64."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float64))[None, None]
    w = torch.from_numpy(np.array(kernel, dtype=np.float64))[None, None]
    return F.conv2d(x, w)[0, 0].numpy()


def test_registry_holds_every_required_kernel_once():
    keys = preset_keys()
    assert len(keys) == len(set(keys))
    assert REQUIRED <= set(keys)
    assert DEFAULT_PRESET_KEY in keys


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_each_preset_is_well_formed(preset: Preset):
    assert get_preset(preset.key) is preset
    assert preset.name.strip() and preset.category.strip()
    assert preset.description.strip() and "\n" not in preset.description
    w = preset.weights
    assert w.ndim == 2 and w.dtype == np.float64 and np.isfinite(w).all()
    assert 1 <= min(w.shape) and max(w.shape) <= 15
    with pytest.raises(ValueError):
        w[0, 0] = 1.0  # shared data: read-only


@pytest.mark.parametrize("family", ["sobel", "scharr", "prewitt"])
def test_gradient_pairs_are_transposes(family):
    x, y = get_preset(f"{family}_x").weights, get_preset(f"{family}_y").weights
    np.testing.assert_array_equal(y, x.T)
    assert x.sum() == 0


def test_tutorial_edge_pair_are_transposes():
    np.testing.assert_array_equal(
        get_preset("edge_horizontal").weights, get_preset("edge_vertical").weights.T
    )


@pytest.mark.parametrize("key", ["box3", "box5", "gaussian3", "gaussian5"])
def test_blurs_sum_to_one_and_are_non_negative(key):
    w = get_preset(key).weights
    assert w.sum() == pytest.approx(1.0, abs=1e-15)
    assert (w >= 0).all()


def test_gaussians_are_binomial():
    np.testing.assert_allclose(
        get_preset("gaussian3").weights, np.outer([1, 2, 1], [1, 2, 1]) / 16, rtol=0, atol=0
    )
    b5 = np.array([1, 4, 6, 4, 1])
    np.testing.assert_allclose(get_preset("gaussian5").weights, np.outer(b5, b5) / 256)


@pytest.mark.parametrize("key", ["laplacian4", "laplacian8", "log5"])
def test_laplacians_sum_to_zero_with_negative_centre(key):
    w = get_preset(key).weights
    assert w.sum() == 0
    assert w[w.shape[0] // 2, w.shape[1] // 2] < 0


@pytest.mark.parametrize("key", ["identity", "sharpen", "emboss"])
def test_brightness_preserving_kernels_sum_to_one(key):
    assert get_preset(key).weights.sum() == 1


def test_identity_copies_the_input():
    rng = np.random.default_rng(0)
    image = rng.random((7, 9))
    np.testing.assert_array_equal(torch_conv(image, get_preset("identity").weights), image[1:-1, 1:-1])


LEFT_DARK_RIGHT_BRIGHT = np.tile(np.array([0, 0, 0, 1, 1, 1], dtype=float), (6, 1))


@pytest.mark.parametrize("family", ["sobel", "scharr", "prewitt"])
def test_x_kernels_respond_positively_to_brighter_right(family):
    """The sign convention the descriptions state, under PyTorch's cross-correlation."""
    out = torch_conv(LEFT_DARK_RIGHT_BRIGHT, get_preset(f"{family}_x").weights)
    assert out.max() > 0 and out.min() == 0
    out_y = torch_conv(LEFT_DARK_RIGHT_BRIGHT.T, get_preset(f"{family}_y").weights)
    assert out_y.max() > 0 and out_y.min() == 0
    # and they ignore the other direction
    assert np.abs(torch_conv(LEFT_DARK_RIGHT_BRIGHT.T, get_preset(f"{family}_x").weights)).max() == 0


def test_tutorial_vertical_edge_reproduces_its_learning_target():
    """Seed 001: a 6x6 input of 10s then 0s; the learned kernel's target is rows of [0,30,30,0]."""
    x = np.tile(np.array([10, 10, 10, 0, 0, 0], dtype=float), (6, 1))
    out = torch_conv(x, get_preset("edge_vertical").weights)
    np.testing.assert_array_equal(out, np.tile([0.0, 30.0, 30.0, 0.0], (4, 1)))
    out_h = torch_conv(x.T, get_preset("edge_horizontal").weights)
    np.testing.assert_array_equal(out_h, np.tile([0.0, 30.0, 30.0, 0.0], (4, 1)).T)


def test_tutorial_x_shape_on_its_worked_example():
    x = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
        dtype=float,
    )
    np.testing.assert_array_equal(
        torch_conv(x, get_preset("x_shape").weights), [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    )


@pytest.mark.parametrize("bad", ["sobel", "", None, 3])
def test_unknown_key_gives_a_clear_message(bad):
    with pytest.raises(UnknownPresetError, match="unknown kernel preset.*sobel_x"):
        get_preset(bad)
