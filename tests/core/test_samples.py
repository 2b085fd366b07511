"""Every built-in sample makes a valid image; the tutorial matrices hold seed 001's values."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.core.resources import resource_path
from convplay.core.samples import PHOTOS, SAMPLES, TUTORIAL, sample


@pytest.mark.parametrize("s", SAMPLES, ids=lambda s: s.key)
def test_each_sample_is_a_valid_image(s):
    image = s.image(64)
    assert image.ndim == 3 and image.shape[0] in (1, 3) and image.dtype == np.float64
    assert np.isfinite(image).all()
    if s.fixed_size:
        assert max(image.shape[1:]) <= 6
    else:
        assert max(image.shape[1:]) == 64
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert image.max() > image.min()  # not blank


def test_keys_are_unique_and_lookup_works():
    keys = [s.key for s in SAMPLES]
    assert len(keys) == len(set(keys))
    assert sample("camera").group == PHOTOS
    with pytest.raises(KeyError):
        sample("nope")


def test_bundled_photos_are_small_and_licensed():
    folder = resource_path("samples")
    for name in ("camera.png", "chelsea.png", "brick.png"):
        assert (folder / name).stat().st_size < 300_000
    licence = (folder / "LICENSE.txt").read_text()
    assert "CC0" in licence and "scikit-image" in licence


def test_chelsea_is_rgb_and_keeps_its_aspect():
    image = sample("chelsea").image(451)
    assert image.shape == (3, 300, 451)


def test_tutorial_matrices_hold_seed_001_values():
    x = sample("tutorial_x").image()
    assert x.shape == (1, 5, 5) and x.sum() == 13 and x[0, 2].tolist() == [0, 0, 1, 1, 1]
    multi = sample("tutorial_multi_in").image()
    assert multi.shape == (3, 5, 5) and multi[1, 2].tolist() == [3, 1, 1, 3, 0]
    one = sample("tutorial_1x1").image()
    assert one.shape == (3, 3, 3) and one[0].ravel().tolist() == list(range(1, 10))
    tens = sample("tutorial_tens").image()
    assert tens.shape == (1, 6, 6) and (tens[0, :, :3] == 10).all() and (tens[0, :, 3:] == 0).all()
    assert all(s.fixed_size for s in SAMPLES if s.group == TUTORIAL)


def test_tutorial_x_with_its_kernel_gives_the_tutorial_result():
    # cust_conv2d(X, K) from seed 001, computed here as cross-correlation with numpy.
    x = sample("tutorial_x").image()[0]
    k = np.array([[1.0, 0, 1], [0, 1, 0], [1, 0, 1]])
    out = np.array([[(x[i : i + 3, j : j + 3] * k).sum() for j in range(3)] for i in range(3)])
    np.testing.assert_array_equal(out, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_samples_are_fresh_copies():
    a = sample("tutorial_x").image()
    a[:] = 7
    assert sample("tutorial_x").image().max() == 1


def test_the_matrix_sample_with_its_kernel_gives_its_stated_output():
    torch = pytest.importorskip("torch")
    from convplay.core.presets import get_preset

    x = torch.tensor(sample("matrix_4x4").image())[None]
    conv = torch.nn.Conv2d(1, 1, 3, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[0.0, 1, 2], [2, 2, 0], [0, 1, 2]]]]))
        assert conv(x)[0, 0].tolist() == [[12.0, 12.0], [10.0, 17.0]]
    np.testing.assert_array_equal(get_preset("matrix_example").weights, conv.weight[0, 0].detach().numpy())
