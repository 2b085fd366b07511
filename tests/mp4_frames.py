"""Reading an MP4 back in the tests: its frame size and number of frames."""

from __future__ import annotations

import gc
import warnings

import pytest


def read_mp4(path) -> tuple[tuple[int, int], int]:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    # read_frames leaves its ffmpeg's pipes to the garbage collector: collected here, where
    # their ResourceWarning is not an error.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        count = sum(1 for _ in reader)
        del reader
        gc.collect()
    return tuple(meta["size"]), count
