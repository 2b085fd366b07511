"""The output panel's numbers, colours and grid titles (issue 9: numbers where they fit,
colour that means something, readable grid titles), checked against PyTorch and against
the colours actually drawn."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, QSettings
from PySide6.QtGui import QColor, QFontMetricsF, QImage

from convplay.core.display import argb_table, cell_text, grey_lut
from convplay.core.formatting import format_cell, format_tick
from convplay.core.presets import get_preset
from convplay.core.results import Results
from convplay.core.samples import X_5X5
from convplay.core.spec import ConvSpec
from convplay.qt import style
from convplay.qt.panels.output_panel import MAPPING_TIPS, OutputPanel
from convplay.qt.widgets.lookup import lookup_table
from convplay.qt.widgets.value_labels import MAX_VISIBLE_SIDE
from convplay.qt.zoom import text_zoom
from tests.oracles import torch_conv


@pytest.fixture
def panel(qtbot):
    panel = OutputPanel(Results())
    qtbot.addWidget(panel)
    panel.resize(700, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def pytorch_output(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, **spec) -> np.ndarray:
    """What the app receives: PyTorch's float32 output from user-level nn.Conv2d arguments."""
    out = torch_conv(x, weight, bias, ConvSpec(in_channels=x.shape[0], out_channels=weight.shape[0],
                                               kernel_size=weight.shape[2:], bias=bias is not None, **spec))
    return out.astype(np.float32)


def printed(panel) -> dict[tuple[int, int], str]:
    labels, _px = panel.view.value_labels.labels()
    return {(label.row, label.col): label.text for label in labels}


def drawn_words(panel) -> np.ndarray:
    """The (H, W) ARGB words the output view draws now."""
    item = panel.view.image_item
    item.render()
    image = item.qimage.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    h, w = image.height(), image.width()
    return np.frombuffer(image.constBits(), np.uint32, count=h * image.bytesPerLine() // 4).reshape(h, -1)[:, :w].copy()


def relative_luminance(rgb) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0-255 channels)."""
    c = np.asarray(rgb, dtype=float) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def contrast(a, b) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# -- numbers ---------------------------------------------------------------------------------
def test_the_5x5_x_tutorial_prints_pytorchs_output_in_its_cells(panel):
    weight = get_preset("x_shape").weights[None, None]
    out = pytorch_output(X_5X5, weight, None)
    panel.show_output(out)
    assert printed(panel) == {(r, c): format_cell(out[0, r, c]) for r in range(3) for c in range(3)}
    assert sorted(printed(panel).values()) == sorted(["4", "3", "4", "2", "4", "3", "2", "3", "4"])


def test_fractional_outputs_print_as_pytorch_gives_them_with_bias_and_stride(panel):
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (2, 9, 9))
    weight = rng.uniform(-1, 1, (3, 2, 3, 3))
    bias = np.array([0.5, -0.25, 0.125])
    out = pytorch_output(x, weight, bias, stride=2, padding=1)
    panel.show_output(out)
    panel.set_channel(1)
    expected = torch_conv(x, weight, bias, ConvSpec(2, 3, 3, 2, 1))[1]  # float64: the exact values
    shown = printed(panel)
    assert len(shown) == out.shape[1] * out.shape[2] == 25
    for (r, c), text in shown.items():
        assert float(text) == pytest.approx(expected[r, c], rel=1e-3, abs=1e-4)  # four significant digits
        assert text == format_cell(out[1, r, c])


def test_float32_noise_around_zero_prints_as_zero_and_the_hover_has_the_exact_value(panel):
    out = np.array([[[8.72e-09, 1.0], [-2.0, 0.5]]], np.float32)
    panel.show_output(out)
    assert printed(panel)[(0, 0)] == "0"
    assert cell_text(8.72e-09, 0.0) == "8.72e-09"  # alone, a tiny value is not noise
    seen = []
    panel.hovered.connect(seen.append)
    panel.view.scene().sigMouseMoved.emit(panel.view.view_box.mapViewToScene(QPointF(0.1, 0.1)))
    assert seen[-1] == "output ch 0  row 0, col 0: 8.72e-09"


def test_large_outputs_print_nothing_until_zoomed_in_on(panel):
    out = np.arange(100 * 80, dtype=np.float32).reshape(1, 100, 80) / 7
    panel.show_output(out)
    assert printed(panel) == {}
    panel.view.view_box.setRange(xRange=(29.5, 39.5), yRange=(49.5, 59.5), padding=0)
    shown = printed(panel)
    assert shown and len(shown) <= MAX_VISIBLE_SIDE**2
    (x0, x1), (y0, y1) = panel.view.view_box.viewRange()
    in_sight = {(r, c) for r in range(100) for c in range(80) if y0 < r + 0.5 and r - 0.5 < y1 and x0 < c + 0.5 and c - 0.5 < x1}
    assert set(shown) == in_sight  # the cells in sight, and only those
    for (r, c), text in shown.items():
        assert text == format_cell(out[0, r, c])


def test_text_contrasts_with_the_colour_drawn_under_it_in_every_mapping(panel):
    values = ((np.arange(64, dtype=np.float32) - 32) / 10).reshape(1, 8, 8)  # -3.2 .. 3.1
    for mapping in ("diverging", "sequential", "image_clip", "image_minmax"):
        panel.set_mapping(mapping)
        panel.show_output(values if mapping != "image_clip" else np.round((values + 3.2) / 6.3, 2))
        words = drawn_words(panel)
        labels, _px = panel.view.value_labels.labels()
        assert len(labels) == 64
        for label in labels:
            word = int(words[label.row, label.col])
            cell = ((word >> 16) & 0xFF, (word >> 8) & 0xFF, word & 0xFF)
            text = QColor(style.LIGHT_LABEL_TEXT if label.on_dark else style.LABEL_TEXT)
            other = QColor(style.LABEL_TEXT if label.on_dark else style.LIGHT_LABEL_TEXT)
            ours = contrast(cell, (text.red(), text.green(), text.blue()))
            theirs = contrast(cell, (other.red(), other.green(), other.blue()))
            assert ours >= 3.0, (mapping, label, cell)  # WCAG's minimum for large text
            assert ours >= theirs * 0.8, (mapping, label, cell)  # never the clearly worse choice
        darks = {label.on_dark for label in labels}
        assert darks == {True, False}  # both kinds of cell occur: the choice is per cell


# -- colours ---------------------------------------------------------------------------------
def test_signed_outputs_default_to_the_diverging_map_centred_on_zero(panel):
    out = np.array([[[-1.0, 0.0, 4.0]]], np.float32)
    panel.show_output(out)
    assert panel.mapping == "auto" and panel.shown_mapping == "diverging"
    assert panel.view.colormap_name == style.DIVERGING
    assert tuple(panel.view.image_item.getLevels()) == (-4.0, 4.0)
    centre = argb_table(lookup_table(style.DIVERGING))[128]
    assert drawn_words(panel)[0, 1] == centre  # 0 is the map's middle colour
    assert panel.view.caption_text == "auto: diverging, 0 at the centre"


@pytest.mark.parametrize("mode", ["raw", "abs", "relu"])
def test_non_negative_outputs_default_to_a_sequential_map_from_zero(panel, mode):
    rng = np.random.default_rng(2)
    blur = rng.uniform(0.1, 0.9, (2, 6, 6)).astype(np.float32)  # a blur of a photo: all >= 0
    out = blur if mode == "raw" else blur - 0.5  # |x| and ReLU(x) are never negative
    panel.set_mode(mode)
    panel.show_output(out)
    shown = {"raw": out, "abs": np.abs(out), "relu": np.maximum(out, 0)}[mode][0]
    assert panel.shown_mapping == "sequential"
    assert panel.view.colormap_name == style.SEQUENTIAL
    assert tuple(panel.view.image_item.getLevels()) == pytest.approx((0.0, float(shown.max())))
    assert panel.view.caption_text == "auto: sequential, 0 to max"
    assert panel.grid.thumbnails.mapping == "sequential"  # the grid uses the view's mapping


def test_rounding_below_zero_does_not_make_a_blur_signed(panel):
    out = np.full((1, 4, 4), 0.5, np.float32)
    out[0, 0, 0] = -3e-8  # float32 rounding of a sum of non-negative terms
    panel.show_output(out)
    assert panel.shown_mapping == "sequential"
    out[0, 0, 0] = -0.01
    panel.show_output(out.copy())
    assert panel.shown_mapping == "diverging"


def test_show_as_image_clip_is_exactly_0_to_1_black_to_white(panel):
    out = np.array([[[-0.25, 0.0, 0.5, 1.0, 1.5]]], np.float32)
    panel.set_mapping("image_clip")
    panel.show_output(out)
    assert panel.shown_mapping == "image_clip" and panel.view.colormap_name == style.GREY_IMAGE
    assert tuple(panel.view.image_item.getLevels()) == (0.0, 1.0)
    grey = drawn_words(panel)[0] & 0xFF
    assert list(grey) == [0, 0, 128, 255, 255]  # below 0 black, 0.5 mid grey, from 1 white
    assert list((drawn_words(panel)[0] >> 16) & 0xFF) == list(grey)  # grey: R = G = B
    assert panel.view.caption_text == "grey image, 0..1 clipped"


def test_show_as_image_min_max_stretches_the_range_exactly(panel):
    out = np.array([[[2.0, 3.0, 4.0, 6.0]]], np.float32)
    panel.set_mapping("image_minmax")
    panel.show_output(out)
    assert tuple(panel.view.image_item.getLevels()) == (2.0, 6.0)
    assert list(drawn_words(panel)[0] & 0xFF) == [0, 64, 128, 255]
    assert panel.view.caption_text == "grey image, min to max"
    assert panel.grid.isHidden()  # one channel: no grid


def test_a_gaussian_blur_of_a_photo_shown_as_image_is_the_blurred_photo_in_grey(panel):
    rng = np.random.default_rng(0)
    photo = rng.uniform(0, 1, (1, 12, 12))
    weight = get_preset("gaussian3").weights[None, None]
    out = pytorch_output(photo, weight, None)
    panel.set_mapping("image_clip")
    panel.show_output(out)
    words = drawn_words(panel)
    expected = np.clip(np.floor(out[0] * 256), 0, 255).astype(np.uint32)  # a photo editor's grey levels
    np.testing.assert_array_equal(words & 0xFF, expected)
    np.testing.assert_array_equal((words >> 8) & 0xFF, expected)


def test_a_depthwise_blur_of_a_colour_photo_shows_as_the_colour_picture(panel):
    rng = np.random.default_rng(1)
    photo = rng.uniform(0, 1, (3, 10, 10))
    weight = np.repeat(get_preset("gaussian3").weights[None, None], 3, axis=0)  # groups=3: one per colour
    out = torch_conv(photo, weight, None, ConvSpec(3, 3, 3, groups=3, bias=False)).astype(np.float32)
    panel.set_mapping("image_rgb")
    panel.show_output(out)
    assert panel.shown_mapping == "image_rgb" and panel.view.image.shape == (8, 8, 3)
    words = drawn_words(panel)
    for k, shift in enumerate((16, 8, 0)):  # red, green, blue: channels 0, 1, 2
        expected = np.clip(np.floor(out[k] * 256), 0, 255).astype(np.uint32)
        np.testing.assert_array_equal((words >> shift) & 0xFF, expected)
    assert panel.view.caption_text == "colour image: ch 0, 1, 2 as R, G, B, 0..1 clipped"
    assert all(panel.grid.title(c).startswith("\u25b6") for c in range(3))  # all three are in the picture
    seen = []
    panel.hovered.connect(seen.append)
    panel.view.scene().sigMouseMoved.emit(panel.view.view_box.mapViewToScene(QPointF(2, 3)))
    assert seen[-1].startswith("output ch 0-2  row 3, col 2: (") and f"{out[2, 3, 2]:.6g})" in seen[-1]
    panel.show_output(out[:1].copy())  # one channel: a grey picture, and the caption says why
    assert panel.shown_mapping == "image_clip"
    assert panel.view.caption_text == "grey image, 0..1 clipped (colour needs 3 channels)"


def test_the_mapping_combo_explains_each_choice_and_is_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "convplay.ini"), QSettings.Format.IniFormat)
    first = OutputPanel(Results(), settings=settings)
    qtbot.addWidget(first)
    combo = first.mapping_combo
    for n in range(combo.count()):
        tip = combo.itemData(n, 3)  # Qt.ToolTipRole
        assert tip == MAPPING_TIPS[combo.itemData(n)] and len(tip) > 30
    first.set_mapping("image_minmax")
    second = OutputPanel(Results(), settings=settings)
    qtbot.addWidget(second)
    assert second.mapping == "image_minmax" and second.preparer.choice.mapping == "image_minmax"


def test_the_grid_uses_the_views_mapping_and_each_channels_own_levels(panel):
    out = np.stack([np.full((4, 4), 0.25), np.linspace(0, 2, 16).reshape(4, 4), np.zeros((4, 4))]).astype(np.float32)
    panel.set_mapping("image_clip")
    panel.show_output(out)
    thumbs = panel.grid.thumbnails
    assert thumbs.mapping == "image_clip"
    assert (thumbs.rgba[0, ..., 0] == 64).all()  # 0.25 of the way from black
    assert thumbs.rgba[1, 0, 0, 0] == 0 and thumbs.rgba[1, -1, -1, 0] == 255  # 0 black, 2 clipped white
    assert panel.grid.title(1).endswith("0\u20262") and panel.grid.title(2).endswith("all 0")
    panel.set_mapping("image_minmax")
    thumbs = panel.grid.thumbnails
    np.testing.assert_array_equal(thumbs.levels[1], [0.0, 2.0])


def test_saved_png_is_the_picture_on_screen_in_every_mapping(panel, tmp_path):
    from PIL import Image

    from convplay.qt.actions import save_output

    class Window:  # what save_output reads of the main window
        def __init__(self, results, output_panel):
            self.results, self.output_panel = results, output_panel

        def statusBar(self):
            return self

        def showMessage(self, *_):
            pass

    rng = np.random.default_rng(8)
    out = rng.normal(0.4, 0.5, (3, 7, 9)).astype(np.float32)
    from tests.qt.panels.test_output_panel import _publish

    _publish(panel.results, out)
    panel.set_channel(2)
    for mapping in ("auto", "diverging", "sequential", "image_clip", "image_minmax", "image_rgb"):
        panel.set_mapping(mapping)
        path = tmp_path / f"{mapping}.png"
        assert save_output(Window(panel.results, panel), str(path)) == ""
        png = np.asarray(Image.open(path).convert("RGB")).astype(np.uint32)
        words = drawn_words(panel)
        np.testing.assert_array_equal(png[..., 0], (words >> 16) & 0xFF)
        np.testing.assert_array_equal(png[..., 1], (words >> 8) & 0xFF)
        np.testing.assert_array_equal(png[..., 2], words & 0xFF)


# -- axes ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5), (7, 4)])
def test_tiny_maps_are_ticked_on_whole_cells_and_fill_the_view(panel, shape):
    panel.show_output(np.ones((1, *shape), np.float32))
    for name, (lo, hi) in zip(("bottom", "left"), panel.view.view_box.viewRange()):
        axis = panel.view.plot_item.getAxis(name)
        ticks = [v for _spacing, values in axis.tickValues(lo, hi, axis.width() or axis.height()) for v in values]
        assert ticks and all(float(v).is_integer() for v in ticks), (name, ticks)
        cells = shape[1] if name == "bottom" else shape[0]
        assert all(0 <= v < cells for v in ticks), (name, ticks)  # on the map's cells only
    background = panel.view.backgroundBrush().color()
    assert background == panel.palette().window().color()  # no black frame around the map


def test_large_maps_keep_few_ticks(panel):
    panel.show_output(np.ones((1, 400, 300), np.float32))
    axis = panel.view.plot_item.getAxis("bottom")
    lo, hi = panel.view.view_box.viewRange()[0]
    ticks = axis.tickValues(lo, hi, axis.width())
    assert len(ticks[0][1]) < 15 and ticks[0][0] >= 10


# -- the feature-map grid --------------------------------------------------------------------
@pytest.mark.parametrize("size", [(530, 160), (900, 420), (320, 320), (1200, 700)])
def test_64_channel_titles_never_overlap_and_fit_their_room(qtbot, size):
    panel = OutputPanel(Results())
    qtbot.addWidget(panel)
    rng = np.random.default_rng(6)
    out = (rng.normal(size=(64, 20, 20)) * rng.uniform(0.01, 300, (64, 1, 1))).astype(np.float32)
    panel.show_output(out)
    grid = panel.grid
    grid.resize(*size)
    metrics = QFontMetricsF(grid.title_font())
    line_h = grid.title_font().pixelSize() * 1.15
    titles = [grid.title_rect(c) for c in range(64)]
    images = [grid.image_rect(c) for c in range(64)]
    for c in range(64):
        for line in grid.title_lines(c):
            assert metrics.horizontalAdvance(line) <= titles[c].width() + 0.5, (size, c, line)
        assert len(grid.title_lines(c)) * line_h <= titles[c].height() + 1
        assert grid.rect().contains(images[c].toRect())
        for d in range(64):
            if d != c:
                assert not _overlap(titles[c], titles[d]), (size, c, d)
                assert not _overlap(titles[c], images[d]), (size, c, d)
                assert not _overlap(images[c], images[d]), (size, c, d)
        assert "\u2026" not in "".join(grid.title_lines(c))  # tidy: shortened by rule, not cut
        assert grid.tooltip_at(images[c].center()).startswith(f"ch {c}  ")
    if size[1] >= 420:  # room enough: every title says its scale
        assert all(any("\u00b1" in line for line in grid.title_lines(c)) for c in range(64))


def test_the_grid_shown_again_after_a_single_channel_draws_the_new_output(panel, qtbot):
    panel.show_output(np.ones((3, 6, 6), np.float32))
    panel.show_output(np.ones((1, 6, 6), np.float32))
    assert panel.grid.isHidden()
    many = np.arange(64 * 36, dtype=np.float32).reshape(64, 6, 6)
    panel.show_output(many)
    qtbot.waitUntil(lambda: panel.grid.count == 64)
    assert panel.grid.title(63).endswith(f"max {format_tick(many[63].max())}")


def _overlap(a: QRectF, b: QRectF) -> bool:
    return a.width() > 0 and b.width() > 0 and a.intersected(b).width() > 0.01 and a.intersected(b).height() > 0.01


def test_grid_titles_follow_the_text_zoom(qtbot):
    panel = OutputPanel(Results())
    qtbot.addWidget(panel)
    panel.show_output(np.ones((4, 8, 8), np.float32))
    panel.grid.resize(800, 600)
    before = panel.grid.title_font().pixelSize()
    zoom = text_zoom()
    try:
        zoom.set_factor(1.5)
        assert panel.grid.title_font().pixelSize() > before
    finally:
        zoom.reset()
    assert panel.grid.title_font().pixelSize() == before


def test_cell_labels_and_colour_bar_follow_the_text_zoom(panel):
    panel.show_output(np.arange(4, dtype=np.float32).reshape(1, 2, 2))
    _labels, before = panel.view.value_labels.labels()
    bar_before = panel.view.colorbar.minimumWidth()
    axis = panel.view.plot_item.getAxis("bottom")
    tick_before = axis.style["tickFont"].pointSize()
    caption_before = panel.view.caption.item.boundingRect().height()
    zoom = text_zoom()
    try:
        zoom.set_factor(1.5)
        _labels, after = panel.view.value_labels.labels()
        assert after > before
        assert panel.view.colorbar.minimumWidth() > bar_before
        assert axis.style["tickFont"].pointSize() > tick_before
        assert panel.view.caption.item.boundingRect().height() > caption_before
    finally:
        zoom.reset()
    assert axis.style["tickFont"].pointSize() == tick_before


def test_grey_lut_is_equal_steps():
    lut = grey_lut()
    assert (lut[:, 0] == np.arange(256)).all() and (lut[:, 1] == lut[:, 2]).all() and (lut[:, 3] == 255).all()
    np.testing.assert_array_equal(lookup_table(style.GREY_IMAGE), lut)


def test_the_shape_is_named_where_the_row_has_room_and_shortened_where_not(panel, qtbot):
    panel.show_output(np.ones((64, 254, 254), np.float32))
    assert panel.shape_label.text() == "output 64 \u00d7 254 \u00d7 254"
    forms = ["output 64 \u00d7 254 \u00d7 254", "64 \u00d7 254 \u00d7 254", "64\u00d7254\u00d7254", "254\u00d7254"]
    seen = set()
    # Down to a 1024-px window's Output dock: the longest form that fits, never one cut.
    for width in (900, 520, 480, 440, 420, 400, 380, 360, 340, 320, 300):
        panel.resize(width, 500)
        qtbot.wait(10)
        label = panel.shape_label
        fitting = [f for f in forms if label.fontMetrics().horizontalAdvance(f) <= label.width()]
        assert label.text() == (fitting[0] if fitting else "")
        seen.add(label.text())
    assert len(seen) >= 3
    assert "(64, 254, 254)" in panel.shape_label.toolTip()


def test_the_high_contrast_theme_reaches_the_frame_and_the_grid(panel):
    from convplay.qt.theme import theme

    panel.show_output(np.ones((4, 5, 5), np.float32))
    normal = panel.view.frame.pen()
    try:
        theme().set_high_contrast(True)
        themed = panel.view.frame.pen()
        assert themed.color() == QColor(style.colour("COLORBAR_FRAME")) and themed.widthF() > normal.widthF()
        assert panel.grid.palette().window().color() == QColor(style.HC_BACKGROUND)
        panel.grid.grab()  # paints with the theme's colours without raising
    finally:
        theme().set_high_contrast(False)
    assert panel.view.frame.pen().color() == normal.color()
