"""core.display: the arrays the output panel shows, made in the compute worker."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from convplay.core.display import (
    GRID_MAX_CHANNELS,
    MAPPINGS,
    THUMB_MAX_PX,
    DisplayChoice,
    DisplayPreparer,
    argb_table,
    cell_text,
    channel_view,
    coloured,
    decide_mapping,
    finite_abs_max,
    is_signed,
    mapping_caption,
    mapping_levels,
    rgb_pixels,
    thumbnails,
    transformed,
)

# A lookup table whose red byte is the colour index: the tests read the index back.
INDEX_LUT = np.zeros((256, 4), np.uint8)
INDEX_LUT[:, 0] = np.arange(256)
INDEX_LUT[:, 3] = 255
LUTS = {"diverging": INDEX_LUT, "sequential": INDEX_LUT, "grey": INDEX_LUT}


def colour_index(thumbs) -> np.ndarray:
    return thumbs.rgba[..., 0].astype(int)


def test_raw_thumbnails_are_symmetric_per_channel_so_signs_are_never_clipped():
    out = np.zeros((2, 3, 3), np.float32)
    out[0, 0, :] = [-2.0, 0.0, 2.0]
    out[1, 0, :] = [-0.5, 0.25, 0.125]  # a weak channel keeps its own scale
    thumbs = thumbnails(out, "raw", LUTS)
    np.testing.assert_allclose(thumbs.scales, [2.0, 0.5])
    index = colour_index(thumbs)
    assert list(index[0, 0]) == [0, 128, 255]  # -max, 0 and +max: both ends and the centre
    assert index[1, 0, 0] == 0 and index[1, 0, 1] == 192
    assert thumbs.step == 1 and thumbs.mode == "raw"


@pytest.mark.parametrize("mode, fn", [("abs", np.abs), ("relu", lambda x: np.maximum(x, 0))])
def test_abs_and_relu_thumbnails_scale_from_zero(mode, fn):
    out = np.array([[[-4.0, -1.0, 0.0, 2.0]]], np.float32)
    thumbs = thumbnails(out, mode, LUTS)
    m = float(fn(out).max())
    assert thumbs.scales[0] == pytest.approx(m)
    expected = np.minimum(fn(out[0, 0]) / m * 256, 255).astype(int)
    assert list(colour_index(thumbs)[0, 0]) == list(expected)


def test_non_finite_values_stay_out_of_the_scale_and_nan_is_transparent():
    out = np.array([[[np.nan, np.inf, -np.inf, 1.0, -3.0]]], np.float32)
    thumbs = thumbnails(out, "raw", LUTS)
    assert thumbs.scales[0] == 3.0
    assert thumbs.rgba[0, 0, 0, 3] == 0  # NaN
    assert list(colour_index(thumbs)[0, 0, 1:3]) == [255, 0]  # infinities clip to the ends
    all_zero = thumbnails(np.zeros((1, 2, 2)), "raw", LUTS, "diverging")
    assert all_zero.scales[0] == 1.0 and (colour_index(all_zero) == 128).all() and all_zero.zero[0]
    auto = thumbnails(np.zeros((1, 2, 2)), "raw", LUTS)  # nothing negative: sequential from 0
    assert auto.mapping == "sequential" and (colour_index(auto) == 0).all() and auto.zero[0]


def test_large_outputs_are_decimated_and_capped():
    out = np.arange((GRID_MAX_CHANNELS + 3) * 500 * 301, dtype=np.float64).reshape(-1, 500, 301)
    thumbs = thumbnails(out, "raw", LUTS)
    assert thumbs.rgba.shape[0] == GRID_MAX_CHANNELS
    assert max(thumbs.rgba.shape[1:3]) <= THUMB_MAX_PX
    assert thumbs.rgba.shape[1:3] == out[0, :: thumbs.step, :: thumbs.step].shape


@settings(max_examples=150, deadline=None)
@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=3, max_dims=3, max_side=9),
               elements=st.floats(-2.0**100, 2.0**100, width=32)),
    st.sampled_from(["raw", "abs", "relu"]),
)
def test_every_finite_value_maps_inside_its_channels_scale(out, mode):
    thumbs = thumbnails(out, mode, LUTS, "diverging" if mode == "raw" else "auto")
    assert thumbs.mapping == ("diverging" if mode == "raw" else "sequential")
    shown = {"raw": out, "abs": np.abs(out), "relu": np.maximum(out, 0)}[mode][:GRID_MAX_CHANNELS]
    for c, values in enumerate(shown):
        m = float(np.abs(values).max())
        assert thumbs.scales[c] == pytest.approx(m if m > 0 else 1.0, rel=1e-6)
    index = colour_index(thumbs)
    for c, values in enumerate(shown):  # colours follow the values, ends stand for +-scale
        order = np.argsort(values, axis=None, kind="stable")
        assert (np.diff(index[c].ravel()[order]) >= 0).all()
        m = thumbs.scales[c]
        assert (index[c][values == m] == 255).all()
        if mode == "raw":
            assert (index[c][values == -m] == 0).all()
            assert (index[c][values <= 0] <= 128).all() and (index[c][values >= 0] >= 128).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_view_is_float32_with_symmetric_levels(dtype):
    out = np.array([[[1.0, -3.0]], [[0.5, 2.0]]], dtype)
    view = channel_view(out, 0, "raw")
    assert view.image.dtype == np.float32 and view.image.flags.c_contiguous
    assert view.levels == (-3.0, 3.0)
    relu = channel_view(out, 5, "relu")  # clamped to the last channel
    assert relu.channel == 1 and relu.levels == (0.0, 2.0)
    if dtype == np.float32:
        assert np.shares_memory(view.image, out)  # the raw view is not copied


def test_preparer_follows_the_current_choice():
    preparer = DisplayPreparer(LUTS)
    out = np.random.default_rng(0).normal(size=(3, 8, 8)).astype(np.float32)
    first = preparer(out)
    assert first.view.channel == 0 and first.view.mode == "raw" and first.thumbnails is not None
    preparer.choice = DisplayChoice(channel=2, mode="abs", with_thumbnails=False)
    second = preparer(out)
    assert (second.view.channel, second.view.mode, second.thumbnails) == (2, "abs", None)
    np.testing.assert_array_equal(second.view.image, np.abs(out[2]))


def test_argb_table_packs_premultiplied_words():
    lut = np.array([[10, 20, 30, 255], [200, 100, 50, 0], [255, 255, 255, 128]], np.uint8)
    table = argb_table(lut)
    assert table.dtype == np.uint32
    assert [hex(v) for v in table] == ["0xff0a141e", "0x0", hex((128 << 24) | (128 << 16) | (128 << 8) | 128)]
    assert argb_table(lut[:, :3])[1] == 0xFFC86432  # RGB tables are opaque


def test_coloured_leaves_nan_transparent_and_clips_infinities():
    values = np.array([[np.nan, np.inf, -np.inf, 0.0]], np.float32)
    pixels = coloured(values, (-1.0, 1.0), argb_table(INDEX_LUT))
    assert pixels[0, 0] == 0
    assert (pixels[0, 1] >> 16) & 0xFF == 255 and (pixels[0, 2] >> 16) & 0xFF == 0
    assert (pixels[0, 3] >> 16) & 0xFF == 128


def test_preparer_colours_the_large_view_with_the_modes_table():
    preparer = DisplayPreparer(LUTS)
    out = np.random.default_rng(3).normal(size=(2, 6, 9)).astype(np.float32)
    view = preparer(out).view
    np.testing.assert_array_equal(view.pixels, coloured(view.image, view.levels, preparer.tables["diverging"]))
    assert channel_view(out, 0, "raw").pixels is None  # no table, no colouring


def test_levels_ignore_nan_and_constant_outputs():
    x = np.array([[np.nan, -2.0], [1.0, np.inf]], np.float32)
    assert finite_abs_max(x) == 2.0
    assert transformed(np.zeros((2, 2), np.float32), "raw", "diverging")[1] == (-1.0, 1.0)
    assert transformed(np.zeros((2, 2), np.float32), "raw")[1] == (0.0, 1.0)  # auto: nothing negative


# -- mappings: how values become colours ---------------------------------------------------
def test_auto_is_diverging_for_signed_outputs_and_sequential_for_non_negative_ones():
    assert decide_mapping("auto", True) == "diverging" and decide_mapping("auto", False) == "sequential"
    assert is_signed(np.array([[[-1.0, 2.0]]])) and not is_signed(np.array([[[0.0, 2.0]]]))
    assert not is_signed(np.array([[[-1.0, 2.0]]]), "abs") and not is_signed(np.array([[[-1.0, 2.0]]]), "relu")
    assert not is_signed(np.array([[[-1e-9, 2.0]]]))  # float rounding below 0 is not a sign
    assert is_signed(np.array([[[-1e-3, 2.0]]]))
    assert not is_signed(np.array([[[np.nan, 2.0, np.inf]]]))
    for mapping in MAPPINGS[1:]:
        assert decide_mapping(mapping, True) == mapping
    assert decide_mapping("image_rgb", False, channels=1) == "image_clip"
    with pytest.raises(ValueError, match="unknown mapping"):
        decide_mapping("rainbow", False)


def test_levels_of_each_mapping_are_exact():
    assert mapping_levels(-1.0, 4.0, "diverging") == (-4.0, 4.0)
    assert mapping_levels(0.5, 4.0, "sequential") == (0.0, 4.0)  # from 0: magnitudes
    assert mapping_levels(-2.0, 4.0, "sequential") == (-2.0, 4.0)  # negatives: from the minimum
    assert mapping_levels(-3.0, 7.0, "image_clip") == (0.0, 1.0) == mapping_levels(5.0, 9.0, "image_rgb")
    assert mapping_levels(0.25, 0.75, "image_minmax") == (0.25, 0.75)
    # nothing to span: never an empty range
    assert mapping_levels(0.0, 0.0, "diverging") == (-1.0, 1.0)
    assert mapping_levels(0.0, 0.0, "sequential") == (0.0, 1.0)
    assert mapping_levels(0.5, 0.5, "image_minmax") == (0.0, 1.0)


def test_captions_say_which_mapping_is_drawn():
    assert mapping_caption("diverging", (-1, 1), "auto") == "auto: diverging, 0 at the centre"
    assert mapping_caption("sequential", (0, 3), "sequential") == "sequential, 0 to max"
    assert mapping_caption("sequential", (-1, 3), "sequential") == "sequential, min to max"
    assert mapping_caption("image_clip", (0, 1), "image_rgb").endswith("(colour needs 3 channels)")


def test_cell_text_prints_float32_noise_as_zero_but_keeps_real_small_values():
    assert cell_text(8.72e-09, 4.0) == "0" and cell_text(-1.178e-09, 1.0) == "0"
    assert cell_text(8.72e-09, 1e-8) == "8.72e-09"  # small beside small values: a value
    assert cell_text(0.1111111, 1.0) == "0.1111" and cell_text(float("nan"), 1.0) == "nan"
    # narrow cells: rounded to the scale's third significant digit
    assert cell_text(1.7125, 3.43, short=True) == "1.71" and cell_text(-0.00098, 3.43, short=True) == "0"
    assert cell_text(0.001962, 0.01, short=True) == "0.002" and cell_text(1234.5, 2000, short=True) == "1234"


def test_show_as_image_clip_bins_as_a_photo_editor():
    values = np.array([[-0.5, 0.0, 0.25, 0.5, 1.0, 3.0]], np.float32)
    view = channel_view(values[None], 0, "raw", {"grey": argb_table(INDEX_LUT)}, mapping="image_clip")
    assert view.levels == (0.0, 1.0) and view.mapping == "image_clip" and view.chosen == "image_clip"
    assert list((view.pixels[0] >> 16) & 0xFF) == [0, 0, 64, 128, 255, 255]
    minmax = channel_view(values[None], 0, "raw", {"grey": argb_table(INDEX_LUT)}, mapping="image_minmax")
    assert minmax.levels == (-0.5, 3.0)
    assert (minmax.pixels[0, 0] >> 16) & 0xFF == 0 and (minmax.pixels[0, -1] >> 16) & 0xFF == 255


def test_rgb_pixels_put_channels_0_1_2_in_red_green_blue():
    rgb = np.array([[[1.0, 0.5, 0.0], [0.25, 2.0, -1.0], [np.nan, 0.0, 0.0]]], np.float32)
    words = rgb_pixels(rgb)
    assert [hex(w) for w in words[0]] == ["0xffff8000", "0xff40ff00", "0x0"]
    out = np.moveaxis(rgb, -1, 0)  # (3, 1, 3)
    view = channel_view(out, 1, "raw", {"grey": argb_table(INDEX_LUT)}, mapping="image_rgb")
    assert view.mapping == "image_rgb" and view.image.shape == (1, 3, 3)
    np.testing.assert_array_equal(view.pixels, words)


def test_thumbnails_follow_the_mapping_with_their_own_levels():
    out = np.stack([np.linspace(0, 2, 9).reshape(3, 3), np.linspace(-1, 1, 9).reshape(3, 3)]).astype(np.float32)
    auto = thumbnails(out, "raw", LUTS)  # channel 1 is signed: the whole output is diverging
    assert auto.mapping == "diverging"
    np.testing.assert_allclose(auto.levels, [[-2, 2], [-1, 1]])
    clip = thumbnails(out, "raw", LUTS, "image_clip")
    np.testing.assert_allclose(clip.levels, [[0, 1], [0, 1]])
    np.testing.assert_allclose(clip.ranges, [[0, 2], [-1, 1]])
    assert colour_index(clip)[0, 0, 0] == 0 and colour_index(clip)[0, 2, 2] == 255
    minmax = thumbnails(out, "raw", LUTS, "image_minmax")
    np.testing.assert_allclose(minmax.levels, [[0, 2], [-1, 1]])
    assert colour_index(minmax)[1, 0, 0] == 0 and colour_index(minmax)[1, 2, 2] == 255


def test_preparer_decides_auto_once_for_the_whole_output():
    preparer = DisplayPreparer(LUTS)
    out = np.ones((2, 4, 4), np.float32)
    out[1, 0, 0] = -1.0  # only channel 1 is signed
    display = preparer(out)
    assert display.signed and display.view.mapping == "diverging" and display.thumbnails.mapping == "diverging"
    preparer.choice = DisplayChoice(channel=0, mapping="image_minmax")
    assert preparer(out).view.mapping == "image_minmax"
