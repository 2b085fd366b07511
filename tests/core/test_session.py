"""The session: events (``edited`` first, with the whole new state in place), the input's
original, working size and channels, read-only arrays, and a weight shape that follows
every spec that defines one."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convplay.core.history import History, push_change
from convplay.core.image_io import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE, load_image
from convplay.core.samples import sample
from convplay.core.input_source import InputSource
from convplay.core.session import Session
from convplay.core.spec import ConvSpec

EVENTS = ("edited", "image_changed", "spec_changed", "kernel_changed", "changed")


@pytest.fixture
def session() -> Session:
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3)
    return Session(np.zeros((1, 8, 8)), spec, np.ones(spec.weight_shape))


def record(session: Session) -> list[tuple[str, int, tuple[int, ...]]]:
    """(event, the spec's in_channels, the weight's shape) as each listener saw them."""
    seen: list[tuple[str, int, tuple[int, ...]]] = []
    for name in EVENTS:
        getattr(session, name).connect(
            lambda name=name: seen.append((name, session.spec.in_channels, session.weight.shape))
        )
    return seen


def names(seen) -> list[str]:
    return [name for name, *_ in seen]


def test_a_weight_edit_emits_edited_first(session):
    seen = record(session)
    session.set_weight(session.weight * 2)
    assert names(seen) == ["edited", "kernel_changed", "changed"]


def test_an_image_with_other_channels_is_announced_once_the_spec_fits_it(session):
    seen = record(session)
    session.set_image(np.zeros((3, 8, 8)))
    assert names(seen) == ["edited", "image_changed", "spec_changed", "kernel_changed", "changed"]
    # Every listener, the first included, sees the adapted spec and weight.
    assert {(c, shape) for _, c, shape in seen} == {(3, (2, 3, 3, 3))}


def test_an_image_of_the_same_channels_changes_only_the_image(session):
    seen = record(session)
    session.set_image(np.ones((1, 5, 5)))
    assert names(seen) == ["edited", "image_changed", "changed"]


def test_spec_edits(session):
    seen = record(session)
    session.set_spec(session.spec.replace(stride=2))
    assert names(seen) == ["edited", "spec_changed", "changed"]
    seen.clear()
    session.set_spec(session.spec.replace(kernel_size=5))
    assert names(seen) == ["edited", "spec_changed", "kernel_changed", "changed"]
    assert seen[0][2] == (2, 1, 5, 5)
    seen.clear()
    session.set_spec(session.spec)  # no change, no event
    assert seen == []


def test_kernel_bias_and_flip_edits(session):
    seen = record(session)
    session.set_bias(np.array([1.0, 2.0]))
    session.set_true_convolution(True)
    spec = session.spec.replace(kernel_size=1)
    session.set_kernel(spec, np.ones(spec.weight_shape))
    assert names(seen) == (
        ["edited", "kernel_changed", "changed"] * 2 + ["edited", "spec_changed", "kernel_changed", "changed"]
    )


def test_restore_emits_only_what_changed(session):
    snap = session.snapshot()
    session.set_weight(session.weight * 3)
    seen = record(session)
    session.restore(snap)
    assert names(seen) == ["edited", "kernel_changed", "changed"]
    seen.clear()
    session.restore(snap)  # already there
    assert seen == []


def test_groups_that_do_not_divide_keep_the_kernel_until_fixed():
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 3, 3), np.ones((3, 1, 3, 3)))
    session.set_spec(session.spec.replace(groups=3))  # 1 input channel cannot be split in 3
    assert session.weight.shape == (3, 1, 3, 3)
    session.set_spec(session.spec.replace(groups=1, out_channels=2))
    assert session.weight.shape == (2, 1, 3, 3)
    assert np.all(session.weight == 1)


def test_a_session_can_start_on_impossible_settings():
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 3, 3, groups=3), np.ones((1, 1, 3, 3)))
    assert session.weight.shape == (1, 1, 3, 3)


def test_a_larger_kernel_size_keeps_the_kernel_centred():
    sobel = np.array([[[[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]]])
    session = Session(np.zeros((1, 9, 9)), ConvSpec(1, 1, 3), sobel)
    session.set_spec(session.spec.replace(kernel_size=5))  # as the parameters panel does
    np.testing.assert_array_equal(session.weight[0, 0, 1:4, 1:4], sobel[0, 0])
    assert session.weight[0, 0, [0, 4], :].sum() == 0 and session.weight[0, 0, :, [0, 4]].sum() == 0
    session.set_spec(session.spec.replace(kernel_size=3))
    np.testing.assert_array_equal(session.weight, sobel)


# -- the input: its original, the working size and the channels belong to the session --------


def _noise_png(tmp_path, size=512, channels=1):
    rng = np.random.default_rng(7)
    shape = (size, size) if channels == 1 else (size, size, 3)
    path = tmp_path / "noise.png"
    Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(path)
    return path


def _opened(path, working_size):
    session = Session(working_size=working_size)
    session.set_source(InputSource.from_array(load_image(path, long_side=MAX_WORKING_SIZE), path.name))
    return session


def _constant_blocks(image: np.ndarray, block: int) -> bool:
    """True when every block x block tile holds a single value (an enlarged small image)."""
    c, h, w = image.shape
    tiles = image.reshape(c, h // block, block, w // block, block)
    return bool(np.all(tiles.max(axis=(2, 4)) == tiles.min(axis=(2, 4))))


def test_undo_of_a_resize_keeps_the_original_for_the_next_resize(tmp_path):
    """Open 512 px at working size 64, resize to 32, undo, then 512: the file's detail comes back."""
    session, history = _opened(_noise_png(tmp_path), 64), History()
    assert session.image.shape == (1, 64, 64) and session.working_size == 64
    push_change(history, session, "Input size 32 px", lambda: session.set_working_size(32))
    assert session.image.shape == (1, 32, 32)
    history.undo()
    assert session.image.shape == (1, 64, 64) and session.working_size == 64
    push_change(history, session, "Input size 512 px", lambda: session.set_working_size(512))
    assert session.image.shape == (1, 512, 512)
    assert not _constant_blocks(session.image, 8)
    np.testing.assert_allclose(session.image, load_image(tmp_path / "noise.png"), atol=1e-6)


def test_working_size_limits_and_default():
    assert MIN_WORKING_SIZE == 8 and MAX_WORKING_SIZE == 2048 and DEFAULT_WORKING_SIZE == 256
    session = Session(np.zeros((1, 32, 32)))
    assert session.working_size == 32 and not session.keeps_own_size
    for bad in (MIN_WORKING_SIZE - 1, MAX_WORKING_SIZE + 1, 2.5, True):
        with pytest.raises(ValueError, match="working size"):
            session.set_working_size(bad)
    assert session.image.shape == (1, 32, 32)


def test_a_fixed_size_sample_keeps_its_size_until_a_size_is_picked():
    session = Session(working_size=256)
    session.set_source(InputSource.from_sample(sample("tutorial_x")))
    assert session.image.shape == (1, 5, 5) and session.keeps_own_size and session.working_size == 256
    session.set_working_size(10)  # asked for: the matrix grows in blocks of its exact values
    assert session.image.shape == (1, 10, 10) and not session.keeps_own_size
    np.testing.assert_array_equal(session.image[:, ::2, ::2], sample("tutorial_x").image())
    session.set_source(InputSource.from_sample(sample("checkerboard")))
    assert session.image.shape == (1, 10, 10)


def test_patterns_are_drawn_at_each_size_not_resampled():
    session = Session(working_size=64)
    session.set_source(InputSource.from_sample(sample("noise")))
    session.set_working_size(512)
    session.set_working_size(64)
    np.testing.assert_array_equal(session.image, sample("noise").image(64))


def test_channels_compose_with_the_working_size(tmp_path):
    path = _noise_png(tmp_path, 256, channels=3)
    session = _opened(path, 128)
    assert session.image.shape == (3, 128, 128) and session.spec.in_channels == 3
    session.set_channels(1)
    assert session.image.shape == (1, 128, 128) and session.spec.in_channels == 1
    session.set_working_size(256)  # still gray, made from the colour original
    rgb = load_image(path)
    luma = np.tensordot([0.299, 0.587, 0.114], rgb, axes=1)[None]
    np.testing.assert_allclose(session.image, luma, atol=1e-6)
    session.set_channels(3)  # the colours come back: converted from the original, not the gray copy
    np.testing.assert_allclose(session.image, rgb, atol=1e-6)
    assert session.spec.in_channels == 3


def test_drawn_pixels_are_the_original_of_later_resizes():
    session = Session(np.zeros((1, 16, 16)), working_size=16)
    drawn = np.zeros((1, 16, 16))
    drawn[0, 4:8, 4:8] = 1.0
    session.set_image(drawn)
    assert session.source is None
    session.set_working_size(32)
    assert session.image.shape == (1, 32, 32) and _constant_blocks(session.image, 2)
    session.set_working_size(16)
    np.testing.assert_array_equal(session.image, drawn)


def test_arrays_handed_out_are_read_only():
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 2, 3), np.ones((2, 1, 3, 3)), np.ones(2))
    given = np.ones((1, 8, 8))
    session.set_image(given)
    given[0, 0, 0] = 5.0  # the caller's own array stays writeable, and unshared
    assert session.image[0, 0, 0] == 1.0
    session.set_spec(session.spec.replace(kernel_size=5))
    session.set_source(InputSource.from_sample(sample("disk")))
    for array in (session.image, session.weight, session.bias, session.bias_values, session.source.own()):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array.flat[0] = 1.0


# -- the weight's shape follows every spec that defines it ---------------------------------------
def test_a_refused_setting_still_reshapes_the_kernel():
    """'same' with stride 2 is refused, yet it defines the weight: in_channels and kernel_size
    changes reach the kernel at once (bug A's cause)."""
    session = Session(np.zeros((1, 16, 16)), ConvSpec(1, 1, 3), np.ones((1, 1, 3, 3)))
    session.set_spec(session.spec.replace(padding="same", stride=2))
    session.set_image(np.zeros((3, 16, 16)))
    assert session.weight.shape == (1, 3, 3, 3)
    session.set_spec(session.spec.replace(out_channels=2, transposed=True))
    assert session.weight.shape == (3, 2, 3, 3)
    session.set_spec(session.spec.replace(kernel_size=(5, 3)))
    assert session.weight.shape == (3, 2, 5, 3)


def test_groups_that_do_not_divide_keep_the_channels_but_follow_the_kernel_size():
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 3, 3), np.ones((3, 1, 3, 3)))
    session.set_spec(session.spec.replace(groups=2))
    session.set_spec(session.spec.replace(kernel_size=5))
    assert session.weight.shape == (3, 1, 5, 5)
    spec = session.spec.replace(kernel_size=(1, 2))
    session.set_kernel(spec, np.ones((3, 1, 1, 2)))  # a preset while groups are refused
    assert session.weight.shape == (3, 1, 1, 2)
    with pytest.raises(ValueError, match="does not match"):
        session.set_kernel(spec, np.ones((3, 1, 3, 3)))
