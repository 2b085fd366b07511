"""GIF, WebP and MP4 from RGB frames: frame counts, sizes, one palette, even MP4 sizes, no
partial files, the missing video extra named."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

from convplay.core import encoders
from convplay.core.encoders import ExportError, open_encoder
from gif_blocks import gif_tables
from mp4_frames import read_mp4


def frames(n: int, size=(96, 64)) -> list[np.ndarray]:
    """A diverging ramp (what posterises when each frame has its own palette) and a moving block."""
    width, height = size
    ramp = np.linspace(-1, 1, width)
    red = np.clip(255 * (1 + np.minimum(ramp, 0)), 0, 255)
    blue = np.clip(255 * (1 - np.maximum(ramp, 0)), 0, 255)
    base = np.stack([np.broadcast_to(red, (height, width)), np.broadcast_to(np.minimum(red, blue), (height, width)),
                     np.broadcast_to(blue, (height, width))], axis=-1).astype(np.uint8)
    out = []
    for k in range(n):
        f = base.copy()
        f[4:12, 4 + 6 * k: 12 + 6 * k] = (20, 160, 40)
        out.append(f)
    return out


def test_gif_one_shared_palette_loop_and_durations(tmp_path):
    path = tmp_path / "a.gif"
    shots = frames(9)
    encoder = open_encoder(path, (96, 64), 10, palette=encoders.palette_from([shots[0], shots[-1]]))
    for f in shots:
        encoder.add(f, repeat=3)
    assert encoder.close() == path
    assert encoder.frames == 27 and encoder.images == 9
    with Image.open(path) as im:
        assert im.n_frames == 9 and im.size == (96, 64)
        assert im.info["loop"] == 0
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
    assert durations == [300] * 9  # three frame times of 100 ms each
    has_global, images, local = gif_tables(path)
    assert has_global and images == 9 and local == 0


def test_gif_without_dithering_keeps_flat_cells_flat(tmp_path):
    flat = np.zeros((32, 32, 3), dtype=np.uint8)
    flat[:, :16] = (200, 40, 40)
    flat[:, 16:] = (40, 40, 200)
    noisy = flat.copy()
    noisy[0, 0] = (255, 255, 255)
    path = tmp_path / "flat.gif"
    encoder = open_encoder(path, (32, 32), 5, palette=encoders.palette_from([flat, noisy], colours=4))
    encoder.add(flat)
    encoder.add(noisy)
    encoder.close()
    with Image.open(path) as im:
        first = np.asarray(im.convert("RGB"))
    # One palette index per flat half: no dither pattern.
    assert len(np.unique(first[:, :16].reshape(-1, 3), axis=0)) == 1
    assert len(np.unique(first[:, 16:].reshape(-1, 3), axis=0)) == 1


def test_webp_frames_size_and_durations(tmp_path):
    path = tmp_path / "a.webp"
    encoder = open_encoder(path, (96, 64), 4)
    for f in frames(5):
        encoder.add(f, repeat=2)
    encoder.close()
    with Image.open(path) as im:
        assert im.n_frames == 5 and im.size == (96, 64) and im.is_animated
        im.seek(2)
        im.load()  # the reader sets a frame's duration as it decodes it
        assert im.info["duration"] == 500
        # Lossless: a frame reads back exactly.
        assert np.array_equal(np.asarray(im.convert("RGB")), frames(5)[2])


def test_gif_durations_stay_on_the_frame_clock(tmp_path):
    path = tmp_path / "c.gif"
    encoder = open_encoder(path, (96, 64), 30)  # 33.3 ms a frame
    for f in frames(6):
        encoder.add(f)
    encoder.close()
    assert sum(encoder._durations) == 200
    assert all(d % 10 == 0 for d in encoder._durations)  # GIF's hundredths of a second
    fast = open_encoder(tmp_path / "d.gif", (96, 64), 60)
    for f in frames(3):
        fast.add(f)
    assert min(fast._durations) >= 20  # browsers would play a shorter delay as 100 ms
    fast.abort()


def test_mp4_frame_count_and_size(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / "a.mp4"
    encoder = open_encoder(path, (96, 64), 10)
    for f in frames(4):
        encoder.add(f, repeat=2)
    encoder.close()
    assert read_mp4(path) == ((96, 64), 8)


def test_mp4_odd_sizes_are_padded_to_even_never_scaled(tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / "odd.mp4"
    encoder = open_encoder(path, (95, 63), 10, background=(0, 0, 0))
    shot = frames(1, (95, 63))[0]
    encoder.add(shot)
    encoder.close()
    assert encoder.video_size == (96, 64)
    assert read_mp4(path) == ((96, 64), 1)
    padded = encoder._padded(shot)
    assert padded.shape == (64, 96, 3)
    assert np.array_equal(padded[:63, :95], shot) and not padded[63].any() and not padded[:, 95].any()


def test_a_missing_video_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import raises ImportError
    assert encoders.video_problem() == encoders.VIDEO_EXTRA
    with pytest.raises(ExportError, match=r"pip install 'convplay\[video\]'"):
        open_encoder(tmp_path / "a.mp4", (96, 64), 10)
    assert list(tmp_path.iterdir()) == []
    assert encoders.video_problem() == encoders.VIDEO_EXTRA


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".mp4"])
def test_abort_leaves_no_file_and_keeps_the_old_one(tmp_path, suffix):
    if suffix == ".mp4":
        pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / f"a{suffix}"
    path.write_bytes(b"old")
    encoder = open_encoder(path, (96, 64), 10)
    for f in frames(3):
        encoder.add(f)
    encoder.abort()
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_bad_suffix_missing_folder_and_wrong_frames(tmp_path):
    with pytest.raises(ExportError, match=r"\.gif, \.webp or \.mp4"):
        open_encoder(tmp_path / "a.png", (96, 64), 10)
    with pytest.raises(ExportError, match="does not exist"):
        open_encoder(tmp_path / "missing" / "a.gif", (96, 64), 10)
    with pytest.raises(ExportError, match="frames per second"):
        open_encoder(tmp_path / "a.gif", (96, 64), 0)
    encoder = open_encoder(tmp_path / "a.gif", (96, 64), 10)
    with pytest.raises(ValueError, match="96×64"):
        encoder.add(np.zeros((10, 10, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        encoder.add(np.zeros((64, 96, 3), dtype=np.float32))
    with pytest.raises(ExportError, match="no frames"):
        encoder.close()
    assert list(tmp_path.iterdir()) == []


def test_finish_then_commit_moves_the_file_into_place(tmp_path):
    path = tmp_path / "b.gif"
    encoder = open_encoder(path, (96, 64), 10)
    encoder.add(frames(1)[0])
    encoder.finish()
    assert not path.exists() and encoder.partial.stat().st_size > 0
    encoder.commit()
    assert path.exists() and not encoder.partial.exists()


def test_gif_palette_keeps_the_frequent_colours_exact(tmp_path):
    """A white background, flat cells and a ramp of more colours than a GIF holds: the
    background and the cells read back exactly, the ramp as near as 256 colours allow."""
    frame = np.full((60, 120, 3), 255, dtype=np.uint8)
    frame[5:25, 5:25] = (200, 40, 40)
    frame[25:35, 60:100] = (252, 252, 252)  # next to white: a coarse colour lookup merges them
    ramp = np.linspace(0, 255, 600).astype(np.uint8)
    frame[40:50, :] = np.stack([ramp[:120], ramp[240:360], ramp[480:600]], axis=-1)
    frame[50:60, :] = np.stack([ramp[120:240], ramp[360:480], ramp[::5]], axis=-1)
    path = tmp_path / "exact.gif"
    encoder = open_encoder(path, (120, 60), 10, palette=encoders.palette_from([frame]))
    encoder.add(frame)
    encoder.add(frame[::-1].copy())
    encoder.close()
    with Image.open(path) as im:
        back = np.asarray(im.convert("RGB")).astype(int)
        im.seek(1)  # a delta frame: its unchanged pixels are transparent over the first
        second = np.asarray(im.convert("RGB")).astype(int)
    nearest = encoders.NearestColour(encoder.palette)
    assert np.array_equal(second, nearest.rgb[nearest.indices(frame[::-1].copy())])
    assert (back[:5] == 255).all() and (back[5:25, 5:25] == (200, 40, 40)).all()
    assert (back[25:35, 60:100] == 252).all()
    assert np.abs(back[40:] - frame[40:].astype(int)).max() <= 24
