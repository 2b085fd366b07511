"""Reading image files into (C, H, W) float64 arrays, and resizing them to a working size.

Pillow decodes.  Files are untrusted: the pixel count is checked from the header before
any pixel is decoded (a small PNG can claim 20000 x 20000 pixels), and every decoding
failure becomes an ImageLoadError with a sentence a user can act on.

Values come out in [0, 1]: 8-bit data / 255, 16-bit data / 65535 (its full range kept).
Transparent pixels are composited onto white, as a drawing on a page would look.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# 40 megapixels: any camera photo up to 7000 x 5700 opens; a decompression bomb does not.
MAX_PIXELS = 40_000_000

MIN_WORKING_SIZE = 8
DEFAULT_WORKING_SIZE = 256  # the long side inputs are made at unless the user picks another
MAX_WORKING_SIZE = 2048

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_CONVERT_TO_RGB = ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX")


class ImageLoadError(ValueError):
    """A file that cannot be used as an image; the message says why in plain words."""


def load_image(path: str | os.PathLike, *, long_side: int | None = None) -> np.ndarray:
    """The image in ``path`` as a (C, H, W) float64 array, C = 1 (grayscale) or 3 (RGB).

    With ``long_side``, the image is shrunk (never enlarged) so that its longer side is at
    most that many pixels, before it becomes a float array: a 6000 x 4000 JPEG never costs
    a 6000 x 4000 x 3 float64 copy.
    """
    path = Path(path)
    name = path.name
    if path.is_dir():
        raise ImageLoadError(f"{name} is a folder, not an image file.")
    try:
        with warnings.catch_warnings():
            # The pixel count is checked just below, with a clearer message than Pillow's.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                _check_pixel_count(name, im.size)
                if long_side is not None and im.format == "JPEG":
                    im.draft(im.mode, (long_side, long_side))  # decode at 1/2, 1/4, 1/8 scale
                im = ImageOps.exif_transpose(im)
                im.load()
                array = _normalised_array(name, im, long_side)
    except ImageLoadError:
        raise
    except FileNotFoundError:
        raise ImageLoadError(f"{name} does not exist.") from None
    except PermissionError:
        raise ImageLoadError(f"{name} cannot be read: permission denied.") from None
    except Image.DecompressionBombError:
        raise ImageLoadError(
            f"{name} claims more than {2 * Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels and was not "
            f"decoded; convplay opens images up to {MAX_PIXELS // 1_000_000} megapixels."
        ) from None
    except Image.UnidentifiedImageError:
        raise ImageLoadError(
            f"{name} is not an image file Pillow can read (PNG, JPEG, BMP, TIFF, WebP, GIF)."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        # Pillow reports a truncated or corrupt stream with any of these.
        raise ImageLoadError(f"{name} is damaged or truncated and could not be decoded ({exc}).") from None
    return array


def _check_pixel_count(name: str, size: tuple[int, int]) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{name} has no pixels ({width} x {height}).")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{name} is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"convplay opens images up to {MAX_PIXELS // 1_000_000} megapixels. "
            "Shrink it in an image editor first."
        )


def _normalised_array(name: str, im: Image.Image, long_side: int | None) -> np.ndarray:
    """Pixels of ``im`` as (C, H, W) float64 in [0, 1] (C = 1 or 3), shrunk to ``long_side``."""
    mode = im.mode
    if mode in _CONVERT_TO_RGB:
        has_alpha = mode in ("PA",) or (mode == "P" and "transparency" in im.info)
        im = im.convert("RGBA" if has_alpha else "RGB")
        mode = im.mode
    if mode == "1":
        im, mode = im.convert("L"), "L"
    if mode in ("LA", "La"):
        im, mode = _on_white(im.convert("LA"), "L"), "L"
    elif mode in ("RGBA", "RGBa"):
        im, mode = _on_white(im.convert("RGBA"), "RGB"), "RGB"

    if mode in ("L", "RGB"):
        im = _shrunk(im, long_side)
        scale = 255.0
    elif mode in _SIXTEEN_BIT_MODES or mode == "I":
        # Pillow resizes 32-bit 'F' images with every filter, and keeps 16-bit precision.
        values = np.asarray(im, dtype=np.int64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ImageLoadError(f"{name} holds 32-bit integer pixels outside 0..65535; convplay reads up to 16 bits.")
        im = _shrunk(Image.fromarray(values.astype(np.float32)), long_side)
        scale = 65535.0
    elif mode == "F":
        values = np.asarray(im, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ImageLoadError(f"{name} holds NaN or infinite pixel values.")
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ImageLoadError(f"{name} holds floating-point pixels outside 0..1; convplay reads 0..1 floats only.")
        im = _shrunk(im, long_side)
        scale = 1.0
    else:
        raise ImageLoadError(f"{name} uses the pixel mode {mode!r}, which convplay does not read.")

    array = np.asarray(im, dtype=np.float64) / scale
    array = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    return np.ascontiguousarray(np.clip(array, 0.0, 1.0))


def _on_white(im: Image.Image, mode: str) -> Image.Image:
    page = Image.new(im.mode, im.size, (255,) * len(im.getbands()))
    return Image.alpha_composite(page.convert("RGBA"), im.convert("RGBA")).convert(mode)


def _shrunk(im: Image.Image, long_side: int | None) -> Image.Image:
    if long_side is None or max(im.size) <= long_side:
        return im
    return im.resize(_fit(im.size, long_side), Image.Resampling.LANCZOS)


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(a, b) scaled so that max == long_side, aspect kept, each side at least 1."""
    a, b = size
    scale = long_side / max(a, b)
    return (max(1, round(a * scale)), max(1, round(b * scale)))


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """(C, H, W) ``image`` resized so that max(H, W) == ``long_side``, aspect kept.

    Shrinking averages areas (Pillow's BOX filter): no ringing, values stay in their range.
    Enlarging repeats pixels (NEAREST): a 5 x 5 matrix becomes blocks holding exactly its
    values, which is what a drawing or a worked example should look like.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 3:
        raise ValueError(f"an image must be (C, H, W), not {image.shape}")
    if long_side < 1:
        raise ValueError(f"the long side must be at least 1 pixel, not {long_side}")
    c, h, w = image.shape
    new_w, new_h = _fit((w, h), long_side)
    if (new_h, new_w) == (h, w):
        return image.copy()
    resample = Image.Resampling.BOX if long_side < max(h, w) else Image.Resampling.NEAREST
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(ch, dtype=np.float32)).resize((new_w, new_h), resample))
        for ch in image
    ]
    return np.stack(channels).astype(np.float64)


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """(C, H, W) ``image`` as 1 (grayscale) or 3 (RGB) channels.

    RGB -> gray uses ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, as Pillow's 'L');
    gray -> RGB repeats the channel.  Other channel counts average to gray.
    """
    image = np.asarray(image, dtype=np.float64)
    if channels not in (1, 3):
        raise ValueError(f"an image has 1 or 3 channels here, not {channels}")
    c = image.shape[0]
    if c == channels:
        return image
    if channels == 3:
        gray = image if c == 1 else image.mean(axis=0, keepdims=True)
        return np.repeat(gray, 3, axis=0)
    if c == 3:
        luma = np.tensordot(np.array([0.299, 0.587, 0.114]), image, axes=1)
        return luma[None]
    return image.mean(axis=0, keepdims=True)
