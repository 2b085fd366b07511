"""OutputPanel: model -> view (outputs, stale marks) and view -> model (channel, mode)."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from convplay.qt.output_panel import GRID_MAX_CHANNELS, OutputPanel, finite_abs_max, transformed


@pytest.fixture
def panel(qtbot):
    panel = OutputPanel()
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


def test_grid_shows_every_channel_with_its_own_scale(panel):
    out = signed_output(channels=5)
    panel.show_output(out)
    cells = panel.grid._cells
    assert len(cells) == 5
    for ch, (_box, item, label) in enumerate(cells):
        m = np.abs(out[ch]).max()
        assert item.getLevels() == pytest.approx((-m, m))
        assert f"ch {ch}" in label.text
    panel.grid.channel_clicked.emit(3)
    assert panel.channel == 3


def test_grid_caps_the_number_of_thumbnails_and_decimates_large_outputs(panel):
    out = np.ones((GRID_MAX_CHANNELS + 6, 400, 300), np.float32)
    panel.show_output(out)
    assert len(panel.grid._cells) == GRID_MAX_CHANNELS
    assert max(panel.grid._cells[0][1].image.shape) <= 100


def test_stale_banner_keeps_the_last_output(panel):
    out = signed_output()
    panel.show_output(out)
    panel.set_stale("groups must divide in_channels")
    assert panel.is_stale and panel.stale_banner.isVisible()
    assert "STALE" in panel.stale_banner.text() and "groups must divide" in panel.stale_banner.text()
    np.testing.assert_array_equal(panel.view.image_item.image, out[0])
    panel.show_output(out * 2)
    assert not panel.is_stale and not panel.stale_banner.isVisible()


def test_hover_readout_reports_raw_values(panel, qtbot):
    out = signed_output()
    panel.show_output(out)
    panel.set_mode("abs")
    seen = []
    panel.hovered.connect(seen.append)
    scene_pos = panel.view.view_box.mapViewToScene(QPointF(4.2, 7.3))  # col 4, row 7
    panel.view.scene().sigMouseMoved.emit(scene_pos)
    assert seen[-1] == f"output ch 0  row 7, col 4: {float(out[0, 7, 4]):.6g}"
    grid_box = panel.grid._cells[1][0]
    panel.grid.scene().sigMouseMoved.emit(grid_box.mapViewToScene(QPointF(3.0, 5.0)))
    assert seen[-1] == f"output ch 1  row 5, col 3: {float(out[1, 5, 3]):.6g}"
    panel.view.scene().sigMouseMoved.emit(panel.view.view_box.mapViewToScene(QPointF(-50, -50)))
    assert seen[-1] == ""


def test_levels_ignore_nan_and_constant_outputs():
    x = np.array([[np.nan, -2.0], [1.0, np.inf]], np.float32)
    assert finite_abs_max(x) == 2.0
    assert transformed(np.zeros((2, 2), np.float32), "raw")[1] == (-1.0, 1.0)
