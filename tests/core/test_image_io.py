"""Image files in every supported format load as (C, H, W) float64 in [0, 1]; bad files give messages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from convplay.core.image_io import (
    MAX_PIXELS,
    ImageLoadError,
    load_image,
    resize_long_side,
    to_channels,
)


def _gradient_rgb(h: int = 24, w: int = 32) -> np.ndarray:
    rows, cols = np.mgrid[0:h, 0:w]
    return np.stack([rows * 255 // (h - 1), cols * 255 // (w - 1), np.full((h, w), 128)], -1).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
def test_lossless_rgb_formats_load_exactly(tmp_path, suffix):
    pixels = _gradient_rgb()
    path = tmp_path / f"img{suffix}"
    Image.fromarray(pixels).save(path, **({"lossless": True} if suffix == ".webp" else {}))
    image = load_image(path)
    assert image.shape == (3, 24, 32) and image.dtype == np.float64
    np.testing.assert_allclose(image, np.moveaxis(pixels, -1, 0) / 255.0)


def test_jpeg_loads_close_to_its_pixels(tmp_path):
    pixels = _gradient_rgb()
    Image.fromarray(pixels).save(tmp_path / "img.jpg", quality=95)
    image = load_image(tmp_path / "img.jpg")
    assert image.shape == (3, 24, 32)
    assert np.abs(image - np.moveaxis(pixels, -1, 0) / 255.0).mean() < 0.02


def test_grayscale_png_has_one_channel(tmp_path):
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(pixels).save(tmp_path / "g.png")
    image = load_image(tmp_path / "g.png")
    assert image.shape == (1, 16, 16)
    np.testing.assert_allclose(image[0], pixels / 255.0)


def test_sixteen_bit_png_keeps_its_range(tmp_path):
    pixels = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(pixels).save(tmp_path / "deep.png")
    image = load_image(tmp_path / "deep.png")
    assert image.shape == (1, 64, 64)
    np.testing.assert_array_equal(image[0], pixels / 65535.0)
    # Values between two 8-bit steps survive: 16-bit precision is not thrown away.
    assert len(np.unique(image)) == 4096


def test_exif_rotated_jpeg_comes_out_rotated(tmp_path):
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, :20] = 255  # bright left half, stored landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(pixels).save(tmp_path / "rot.jpg", exif=exif, quality=95)
    image = load_image(tmp_path / "rot.jpg")
    assert image.shape == (3, 40, 20)  # displayed portrait
    # Rotated clockwise, the stored left half becomes the top half.
    assert image[:, :20].mean() > 0.9 and image[:, 20:].mean() < 0.1


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    np.testing.assert_allclose(image[:, :2], np.array([1.0, 0.0, 0.0])[:, None, None] * np.ones((3, 2, 4)))
    np.testing.assert_allclose(image[:, 2:], 1.0)


def test_palette_and_one_bit_images_load(tmp_path):
    Image.fromarray(_gradient_rgb()).convert("P").save(tmp_path / "p.png")
    Image.new("1", (10, 6), 1).save(tmp_path / "b.png")
    assert load_image(tmp_path / "p.png").shape == (3, 24, 32)
    one_bit = load_image(tmp_path / "b.png")
    assert one_bit.shape == (1, 6, 10) and (one_bit == 1.0).all()


def test_long_side_shrinks_before_conversion(tmp_path):
    Image.fromarray(_gradient_rgb(200, 300)).save(tmp_path / "big.png")
    image = load_image(tmp_path / "big.png", long_side=60)
    assert image.shape == (3, 40, 60)
    assert 0.0 <= image.min() and image.max() <= 1.0
    small = load_image(tmp_path / "big.png", long_side=1000)  # never enlarged
    assert small.shape == (3, 200, 300)


def test_truncated_png_is_an_error(tmp_path):
    Image.fromarray(_gradient_rgb(64, 64)).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="damaged or truncated"):
        load_image(tmp_path / "cut.png")


def test_random_bytes_are_not_an_image(tmp_path):
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(tmp_path / "noise.png")


def test_huge_png_is_refused_without_decoding(tmp_path):
    # A 1-bit 20000 x 20000 PNG compresses to ~50 KB but would decode to 400 megapixels.
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")
    assert (tmp_path / "bomb.png").stat().st_size < 200_000
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_image(tmp_path / "bomb.png")


def test_image_over_the_limit_but_under_pillows_is_refused(tmp_path):
    side = int(MAX_PIXELS**0.5) + 10
    Image.new("1", (side, side)).save(tmp_path / "large.png")
    with pytest.raises(ImageLoadError, match=f"{side} x {side}"):
        load_image(tmp_path / "large.png")


def test_missing_file_and_folder_are_errors(tmp_path):
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_float_tiff_outside_unit_range_is_refused(tmp_path):
    Image.fromarray(np.full((4, 4), 3.5, dtype=np.float32)).save(tmp_path / "f.tif")
    with pytest.raises(ImageLoadError, match="outside 0..1"):
        load_image(tmp_path / "f.tif")


@settings(max_examples=150, deadline=None)
@given(
    c=st.sampled_from([1, 3]),
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    long_side=st.integers(1, 80),
)
def test_resize_keeps_aspect_and_range(c, h, w, long_side):
    image = np.random.default_rng(h * 100 + w).random((c, h, w))
    out = resize_long_side(image, long_side)
    assert out.shape[0] == c and max(out.shape[1:]) == long_side
    # aspect ratio kept to within the rounding of one pixel
    assert abs(out.shape[1] * w - out.shape[2] * h) <= max(h, w)
    assert out.min() >= image.min() - 1e-6 and out.max() <= image.max() + 1e-6


def test_enlarging_repeats_exact_values():
    matrix = np.arange(6, dtype=np.float64).reshape(1, 2, 3)
    out = resize_long_side(matrix, 9)
    assert out.shape == (1, 6, 9)
    np.testing.assert_array_equal(out, np.kron(matrix, np.ones((1, 3, 3))))


def test_channel_conversion():
    rgb = np.random.default_rng(1).random((3, 5, 5))
    gray = to_channels(rgb, 1)
    np.testing.assert_allclose(gray[0], 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])
    again = to_channels(gray, 3)
    assert again.shape == (3, 5, 5) and (again == gray).all()
    assert to_channels(rgb, 3) is rgb
    with pytest.raises(ValueError):
        to_channels(rgb, 2)
