"""OutputPanel: model -> view (outputs, stale marks) and view -> model (channel, mode)."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from convplay.core.display import GRID_MAX_CHANNELS
from convplay.core.results import ComputeOutcome, ComputeRequest, Results
from convplay.core.spec import ConvSpec
from convplay.qt.panels.output_panel import OutputPanel


@pytest.fixture
def panel(qtbot):
    panel = OutputPanel(Results())
    qtbot.addWidget(panel)
    panel.resize(700, 700)
    panel.show()
    return panel


def signed_output(channels=4, h=12, w=10):
    rng = np.random.default_rng(1)
    out = rng.normal(size=(channels, h, w)).astype(np.float32)
    out[2] *= 100  # one strong channel beside weak ones
    return out


def test_raw_view_uses_symmetric_levels_so_negatives_are_not_clipped(panel):
    out = signed_output()
    panel.show_output(out)
    item = panel.view.image_item
    lo, hi = item.getLevels()
    m = float(np.abs(out[0]).max())
    assert (lo, hi) == pytest.approx((-m, m))
    assert panel.view.colormap_name == "CET-D1"
    np.testing.assert_array_equal(item.image, out[0])
    assert panel.view.colorbar.levels() == pytest.approx((-m, m))
    assert panel.view.colorbar.tick_texts() == [f"{-m:.3g}", f"{-m / 2:.3g}", "0", f"{m / 2:.3g}", f"{m:.3g}"]


def test_channel_spin_box_selects_the_channel(panel):
    out = signed_output()
    panel.show_output(out)
    assert panel.channel_spin.maximum() == 3
    panel.channel_spin.setValue(2)
    np.testing.assert_array_equal(panel.view.image_item.image, out[2])
    assert panel.view.image_item.getLevels()[1] == pytest.approx(np.abs(out[2]).max())
    panel.show_output(out[:2])  # fewer channels: the choice is clamped
    assert panel.channel_spin.maximum() == 1 and panel.channel == 1


@pytest.mark.parametrize("mode, fn", [("abs", np.abs), ("relu", lambda x: np.maximum(x, 0))])
def test_abs_and_relu_views(panel, mode, fn):
    out = signed_output()
    panel.show_output(out)
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData(mode))
    assert panel.mode == mode
    np.testing.assert_array_equal(panel.view.image_item.image, fn(out[0]))
    assert panel.view.image_item.getLevels() == pytest.approx((0.0, fn(out[0]).max()))
    assert panel.view.colormap_name != "CET-D1"
    panel.set_mode("raw")
    assert panel.view.colormap_name == "CET-D1"


def test_grid_shows_every_channel_with_its_own_scale(panel, qtbot):
    out = signed_output(channels=5)
    panel.show_output(out)
    grid = panel.grid
    assert grid.count == 5
    for ch in range(5):
        m = np.abs(out[ch]).max()
        assert grid.thumbnails.scales[ch] == pytest.approx(m)
        assert grid.title(ch).endswith(f"ch {ch}  \u00b1{m:.3g}")
    assert grid.title(0).startswith("\u25b6")  # the channel shown large
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.position_of(3, 4, 4).toPoint())
    assert panel.channel == 3
    assert grid.title(3).startswith("\u25b6") and not grid.title(0).startswith("\u25b6")


def test_grid_caps_the_number_of_thumbnails_and_decimates_large_outputs(panel):
    out = np.ones((GRID_MAX_CHANNELS + 6, 400, 300), np.float32)
    panel.show_output(out)
    assert panel.grid.count == GRID_MAX_CHANNELS
    assert max(panel.grid.thumbnails.rgba.shape[1:3]) <= 100


def _publish(results: Results, out: np.ndarray) -> None:
    """What the compute controller does with PyTorch's answer."""
    request = ComputeRequest(ConvSpec(out_channels=out.shape[0]), np.zeros((1, 8, 8)), np.zeros((out.shape[0], 1, 3, 3)), None)
    results.start(request)
    results.set_outcome(results.generation, ComputeOutcome(request, out, 0.001, "CPU"))


def test_the_panel_draws_the_results_and_marks_them_stale_with_the_reason(panel):
    out = signed_output()
    _publish(panel.results, out)
    np.testing.assert_array_equal(panel.view.image_item.image, out[0])
    assert panel.output is out and not panel.is_stale
    panel.results.invalidate("groups must divide in_channels")
    assert panel.is_stale and panel.stale_banner.isVisible()
    assert "STALE" in panel.stale_banner.text() and "groups must divide" in panel.stale_banner.text()
    assert "last valid output" in panel.stale_banner.text()
    np.testing.assert_array_equal(panel.view.image_item.image, out[0])  # kept on screen
    _publish(panel.results, out * 2)
    assert not panel.is_stale and not panel.stale_banner.isVisible()
    np.testing.assert_array_equal(panel.view.image_item.image, out[0] * 2)


def test_a_hidden_panel_draws_nothing_and_catches_up_when_shown(panel, qtbot):
    first = signed_output()
    _publish(panel.results, first)
    panel.hide()
    drawn = []
    panel.displayed.connect(lambda: drawn.append(panel.output))
    later = signed_output() * 3
    _publish(panel.results, later)
    assert drawn == [] and panel.output is first
    panel.show()
    assert drawn == [later]
    np.testing.assert_array_equal(panel.view.image_item.image, later[0])


def test_hover_readout_reports_raw_values(panel, qtbot):
    out = signed_output()
    panel.show_output(out)
    panel.set_mode("abs")
    seen = []
    panel.hovered.connect(seen.append)
    scene_pos = panel.view.view_box.mapViewToScene(QPointF(4.2, 7.3))  # col 4, row 7
    panel.view.scene().sigMouseMoved.emit(scene_pos)
    assert seen[-1] == f"output ch 0  row 7, col 4: {float(out[0, 7, 4]):.6g}"
    panel.grid.hover_at(panel.grid.position_of(1, 5, 3))
    assert seen[-1] == f"output ch 1  row 5, col 3: {float(out[1, 5, 3]):.6g}"
    panel.view.scene().sigMouseMoved.emit(panel.view.view_box.mapViewToScene(QPointF(-50, -50)))
    assert seen[-1] == ""


def test_a_display_prepared_elsewhere_is_shown_as_is(panel):
    out = signed_output()
    panel.set_mode("abs")  # |x| is a new array: a redo here would not share its memory
    display = panel.preparer(out)  # what the compute worker makes
    panel.show_output(out, display)
    assert np.shares_memory(panel.view.image_item.image, display.view.image)  # no copy, no redo
    assert panel.grid.thumbnails is display.thumbnails


def test_a_display_prepared_for_other_choices_is_redone(panel):
    out = signed_output()
    display = panel.preparer(out)  # made for channel 0, raw
    panel.show_output(out)
    panel.set_channel(2)
    panel.set_mode("relu")
    assert panel.preparer.choice.channel == 2 and panel.preparer.choice.mode == "relu"
    panel.show_output(out, display)
    np.testing.assert_array_equal(panel.view.image_item.image, np.maximum(out[2], 0))
    assert panel.grid.thumbnails.mode == "relu" and panel.grid.thumbnails is not display.thumbnails


def test_hidden_grid_is_not_prepared_until_shown(panel):
    out = signed_output()
    panel.grid.hide()
    assert not panel.preparer.choice.with_thumbnails
    display = panel.preparer(out)
    assert display.thumbnails is None
    panel.show_output(out, display)
    assert panel.grid.thumbnails is None
    panel.grid.show()
    assert panel.preparer.choice.with_thumbnails
    assert panel.grid.count == out.shape[0]
    assert panel.grid.thumbnails.scales[2] == pytest.approx(np.abs(out[2]).max())


def qimage_words(image) -> np.ndarray:
    """A QImage's pixels as premultiplied ARGB32 words (H, W)."""
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    h, w = image.height(), image.width()
    return np.frombuffer(image.constBits(), np.uint32, count=h * image.bytesPerLine() // 4).reshape(h, -1)[:, :w].copy()


def pyqtgraph_picture(view, image, levels) -> np.ndarray:
    """What a plain pyqtgraph ImageItem draws for ``image`` with the view's colour map."""
    import pyqtgraph as pg

    item = pg.ImageItem(axisOrder="row-major")
    item.setColorMap(pg.colormap.get(view.colormap_name))
    item.setImage(image, autoLevels=False, levels=levels)
    item.render()
    return qimage_words(item.qimage)


@pytest.mark.parametrize("mode", ["raw", "abs", "relu"])
def test_ready_coloured_pixels_are_the_picture_pyqtgraph_would_draw(panel, mode):
    from PySide6.QtGui import QImage

    out = np.random.default_rng(5).normal(size=(3, 40, 30)).astype(np.float32)
    out[1, 3, 4] = np.nan
    panel.set_mode(mode)
    for channel in (0, 1):
        panel.set_channel(channel)
        panel.show_output(out, panel.preparer(out))  # as the window does: prepared in the worker
        item = panel.view.image_item
        item.render()
        assert item.qimage.format() == QImage.Format.Format_ARGB32_Premultiplied  # drawn as is
        ours = qimage_words(item.qimage)
        theirs = pyqtgraph_picture(panel.view, item.image, tuple(item.getLevels()))
        assert ours.shape == theirs.shape == out.shape[1:]
        assert np.mean(ours == theirs) > 0.99  # float rounding may move a value on a bin edge
        if channel == 1:
            assert ours[3, 4] == theirs[3, 4] == 0  # NaN is transparent


def test_pixels_made_for_other_levels_are_not_used(panel):
    out = signed_output()
    panel.show_output(out, panel.preparer(out))
    item = panel.view.image_item
    item.setLevels((-1.0, 1.0))  # someone else changes the levels: pyqtgraph colours again
    item.render()
    assert qimage_words(item.qimage).tolist() == pyqtgraph_picture(panel.view, item.image, (-1.0, 1.0)).tolist()


def test_grid_thumbnails_follow_a_resize_and_a_new_channel_count(panel, qtbot):
    grid = panel.grid
    panel.show_output(signed_output(channels=4))
    before = grid.image_rect(3)
    grid.resize(grid.width() // 2, grid.height())
    after = grid.image_rect(3)
    assert after.right() <= grid.width() and after != before
    panel.show_output(signed_output(channels=9))  # 3 x 3 instead of 2 x 2
    assert grid.count == 9 and grid.image_rect(8).right() <= grid.width()
    assert grid.image_rect(8).bottom() <= grid.height() and grid.image_rect(8).top() > grid.image_rect(2).bottom()
    # the readout still finds each pixel where it is drawn
    channel, row, col = grid.cell_at(grid.position_of(8, 5, 6))
    assert (channel, row, col) == (8, 5, 6)


@pytest.mark.parametrize("shape", [(0, 5), (1, 1), (7, 13), (64, 33)])
def test_qt_lookup_is_numpys_take(shape):
    from convplay.core.display import take_lookup
    from convplay.qt.widgets.lookup import qt_lookup

    rng = np.random.default_rng(sum(shape))
    index = rng.integers(0, 256, shape, dtype=np.uint8)
    table = (np.uint32(0xFF000000) | rng.integers(0, 1 << 24, 256, dtype=np.uint32)).astype(np.uint32)
    table[7] = 0  # transparent
    np.testing.assert_array_equal(qt_lookup(index, table), take_lookup(index, table))
    strided = np.ascontiguousarray(rng.integers(0, 256, (9, 20), dtype=np.uint8))[:, ::3]
    np.testing.assert_array_equal(qt_lookup(strided, table), take_lookup(strided, table))


def test_the_grid_shows_only_with_several_channels(qtbot):
    import numpy as np

    from convplay.qt.panels.output_panel import OutputPanel

    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_output(np.ones((1, 8, 8)))
    assert panel.grid.isHidden()
    panel.show_output(np.ones((4, 8, 8)))
    assert not panel.grid.isHidden()
    qtbot.waitUntil(lambda: panel.grid.isVisible())


def test_an_all_zero_channel_is_labelled_as_such_not_with_its_binning_scale(panel):
    out = signed_output()
    out[1] = 0.0
    panel.show_output(out)
    assert panel.grid.title(1).endswith("ch 1  all 0")
    assert panel.grid.title(0).endswith(f"\u00b1{np.abs(out[0]).max():.3g}")
    panel.set_mode("relu")
    assert panel.grid.title(1).endswith("all 0")
