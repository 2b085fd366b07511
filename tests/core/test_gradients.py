"""Derived views of a gradient pair, against numpy on PyTorch's own output of a Sobel pair."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.core import gradients
from convplay.core.display import argb_table, grey_lut
from convplay.core.samples import sample

SOBEL_X = [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
SOBEL_Y = [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]
TABLES = {"sequential": argb_table(grey_lut()), "grey": argb_table(grey_lut())}


def sobel_pair_output(image: np.ndarray) -> np.ndarray:
    """PyTorch's (2, H-2, W-2) float32 output of the literal Sobel x and y kernels."""
    weight = torch.tensor([[SOBEL_X], [SOBEL_Y]], dtype=torch.float32)
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    return F.conv2d(x, weight)[0].numpy()


@pytest.fixture(scope="module")
def camera_pair() -> np.ndarray:
    photo = sample("camera").make(256)
    return sobel_pair_output(photo[0, 60:124, 90:170])  # a crop with the tripod's edges


def test_magnitudes_and_orientation_equal_numpys_on_torchs_output(camera_pair):
    gx, gy = camera_pair
    assert np.abs(gx).max() > 0.5 and np.abs(gy).max() > 0.5  # real edges in the crop
    np.testing.assert_array_equal(gradients.magnitude(gx, gy), np.hypot(gx, gy))
    np.testing.assert_array_equal(gradients.l1_magnitude(gx, gy), np.abs(gx) + np.abs(gy))
    np.testing.assert_array_equal(gradients.orientation(gx, gy), np.arctan2(gy, gx))
    # The angle drawn is anticlockwise on screen: Gy counts downwards, so its sign flips.
    expected = np.degrees(np.arctan2(-gy.astype(np.float64), gx)) % 360
    diff = np.abs(gradients.screen_angle(gx, gy) - expected)
    np.testing.assert_array_less(np.minimum(diff, 360 - diff), 1e-3)


def test_derived_views_show_numpys_values(camera_pair):
    gx, gy = camera_pair
    mag = gradients.derived_view(camera_pair, "magnitude", TABLES)
    np.testing.assert_array_equal(mag.image, np.hypot(gx, gy))
    assert mag.levels == (0.0, float(np.hypot(gx, gy).max()))
    l1 = gradients.derived_view(camera_pair, "l1", TABLES)
    np.testing.assert_array_equal(l1.image, np.abs(gx) + np.abs(gy))
    edges = gradients.derived_view(camera_pair, "edges", TABLES, 0.3)
    threshold = 0.3 * float(np.hypot(gx, gy).max())
    assert edges.edge_count == int(np.count_nonzero(np.hypot(gx, gy) > threshold))
    assert edges.threshold == pytest.approx(threshold)
    white = edges.pixels == 0xFFFFFFFF
    np.testing.assert_array_equal(white, np.hypot(gx, gy) > threshold)
    assert (edges.pixels[~white] == 0xFF000000).all()  # black elsewhere


@pytest.mark.parametrize(
    ("ramp", "angle"),
    [
        ("right", 0.0),  # brighter to the right: Gx > 0, Gy = 0
        ("up", 90.0),  # brighter upwards: Gy < 0 (rows run down), drawn at 90 degrees on screen
        ("left", 180.0),
        ("down", 270.0),  # brighter downwards: Gy > 0, atan2(Gy, Gx) = +90, on screen 270
    ],
)
def test_a_ramp_is_coloured_with_the_hue_of_its_direction(ramp, angle):
    rows, cols = np.mgrid[0:9, 0:9].astype(np.float32)
    image = {"right": cols, "left": -cols, "up": -rows, "down": rows}[ramp]
    out = sobel_pair_output(image)
    view = gradients.derived_view(out, "orientation", TABLES)
    np.testing.assert_allclose(view.image, angle)
    expected = np.round(gradients.hue_rgb(np.float32(angle)) * 255)
    word = int(view.pixels[3, 3])
    rgb = np.array([(word >> 16) & 255, (word >> 8) & 255, word & 255])
    np.testing.assert_allclose(rgb, expected, atol=1)
    text = view.readout(3, 3)
    assert f"direction {angle:.1f}" in text and "Gx" in text and "Gy" in text


def test_hue_is_the_hsv_wheel():
    np.testing.assert_array_equal(
        gradients.hue_rgb(np.array([0, 120, 240, 60], np.float32)),
        [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]],
    )


def test_flat_areas_are_dark_in_the_orientation_view():
    image = np.zeros((8, 8), np.float32)
    image[:, 4:] = 1.0
    view = gradients.derived_view(sobel_pair_output(image), "orientation", TABLES)
    assert (view.pixels[:, 0] & 0xFFFFFF == 0).all()  # flat: value 0, black
    assert "flat" in view.readout(0, 0)


def test_a_one_channel_output_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="two-channel"):
        gradients.derived_view(np.zeros((1, 4, 4), np.float32), "magnitude", TABLES)
    assert not gradients.is_pair(np.zeros((3, 4, 4)))


def test_the_orientation_picture_is_the_hsv_formula_within_two_levels(camera_pair):
    gx, gy = camera_pair
    view = gradients.derived_view(camera_pair, "orientation", TABLES)
    mag = np.hypot(gx, gy)
    # HSV with hue = the angle on screen, value = magnitude / max: the formula, in float64.
    h = (np.degrees(np.arctan2(-gy.astype(np.float64), gx)) % 360) / 60
    v = mag / mag.max()
    expected = np.stack([v * np.clip(np.abs((h + k) % 6 - 3) - 1, 0, 1) for k in (0, 4, 2)], axis=-1) * 255
    words = view.pixels
    drawn = np.stack([(words >> 16) & 255, (words >> 8) & 255, words & 255], axis=-1).astype(float)
    assert np.abs(drawn - expected).max() <= 2.5


@pytest.mark.parametrize("view", gradients.DERIVED_VIEWS)
def test_nan_infinite_and_empty_outputs_draw_without_raising(view):
    out = np.ones((2, 4, 5), np.float32)
    out[0, 1, 1], out[1, 2, 2] = np.nan, np.inf
    shown = gradients.derived_view(out, view, TABLES)
    assert shown.pixels.shape == (4, 5) and np.isfinite(shown.levels).all()
    assert gradients.derived_view(np.zeros((2, 0, 0), np.float32), view, TABLES).pixels.shape == (0, 0)


# -- is_gradient_pair: which two-channel weights are an x/y pair -------------------------------
SOBEL_X_LITERAL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y_LITERAL = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
GAUSS_3 = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16


def _layer(kx, ky, inputs=1):
    return np.stack([np.stack([kx] * inputs), np.stack([ky] * inputs)])


def test_the_sobel_pair_is_a_gradient_pair_in_both_layouts():
    weight = _layer(SOBEL_X_LITERAL, SOBEL_Y_LITERAL, inputs=3)
    assert gradients.is_gradient_pair(weight)
    assert gradients.is_gradient_pair(weight.transpose(1, 0, 2, 3), transposed=True)  # (in, 2, k, k)
    assert gradients.is_gradient_pair(weight[:, :, ::-1, ::-1])  # flipped for true convolution
    # A 5x5 derivative-of-Gaussian pair: y is x transposed.
    c = np.arange(5) - 2.0
    g = np.exp(-(c**2) / 2)
    dog_x = np.outer(g, -c * g)
    assert gradients.is_gradient_pair(_layer(dog_x, dog_x.T))


@pytest.mark.parametrize(
    "kx, ky",
    [
        (GAUSS_3, GAUSS_3),  # a blur copied into both channels
        (SOBEL_X_LITERAL, SOBEL_X_LITERAL),  # x twice
        (np.zeros((3, 3)), SOBEL_Y_LITERAL),  # channel 0 cleared
        (SOBEL_X_LITERAL, -SOBEL_Y_LITERAL),  # y upside down: the angle would be mirrored
        (np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]), SOBEL_Y_LITERAL),  # a Laplacian and a y
    ],
)
def test_two_channels_that_are_not_an_x_y_pair_are_not_one(kx, ky):
    assert not gradients.is_gradient_pair(_layer(kx, ky))


def test_shapes_that_cannot_be_a_pair_are_refused_without_raising():
    assert not gradients.is_gradient_pair(None)
    assert not gradients.is_gradient_pair(np.zeros((1, 1, 3, 3)))
    assert not gradients.is_gradient_pair(np.ones((3, 1, 3, 3)))
    assert not gradients.is_gradient_pair(np.ones((2, 1, 3, 5)))  # not square: no quarter turn fits
    weight = _layer(SOBEL_X_LITERAL, SOBEL_Y_LITERAL)
    assert not gradients.is_gradient_pair(weight, transposed=True)  # (2, 1, ...) read as (in 2, out 1)
