"""The output panel's derived views of a gradient pair (Gx = ch 0, Gy = ch 1), checked
against numpy on PyTorch's own output of the literal Sobel kernels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtGui import QImage

from convplay.core.results import ComputeOutcome, ComputeRequest, Results
from convplay.core.samples import sample
from convplay.core.spec import ConvSpec
from convplay.qt import style
from convplay.qt.panels.output_panel import NEEDS_PAIR, OutputPanel
from convplay.qt.widgets.colour_wheel import ColourWheel, wheel_colour_at

SOBEL_X = [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
SOBEL_Y = [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]


def sobel_pair(image: np.ndarray) -> np.ndarray:
    weight = torch.tensor([[SOBEL_X], [SOBEL_Y]], dtype=torch.float32)
    return F.conv2d(torch.from_numpy(np.ascontiguousarray(image, np.float32))[None, None], weight)[0].numpy()


@pytest.fixture(scope="module")
def camera_pair() -> np.ndarray:
    return sobel_pair(sample("camera").make(256)[0, 40:140, 70:190])


@pytest.fixture
def panel(qtbot):
    panel = OutputPanel(Results())
    qtbot.addWidget(panel)
    panel.resize(520, 560)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def publish(panel: OutputPanel, out: np.ndarray, weight: np.ndarray | None = None) -> None:
    """What the compute controller does: PyTorch's answer, prepared in the worker's preparer.
    ``weight``: the one the request ran (the Sobel pair for two channels unless given)."""
    results = panel.results
    if weight is None:
        weight = np.array([[SOBEL_X], [SOBEL_Y]]) if out.shape[0] == 2 else np.zeros((out.shape[0], 1, 3, 3))
    request = ComputeRequest(ConvSpec(out_channels=out.shape[0]), np.zeros((1, 8, 8)), weight, None)
    results.start(request)
    outcome = ComputeOutcome(request, out, 0.001, "CPU")
    results.set_outcome(results.generation, replace(outcome, display=panel.preparer(out)))


def drawn_rgb(panel: OutputPanel, row: int, col: int) -> tuple[int, int, int]:
    item = panel.view.image_item
    item.render()
    colour = item.qimage.convertToFormat(QImage.Format.Format_ARGB32).pixelColor(col, row)
    return colour.red(), colour.green(), colour.blue()


def choose(qtbot, panel: OutputPanel, view: str) -> None:
    """Pick ``view`` in the Show combo and wait for the worker's picture."""
    panel.set_gradient_view(view)
    qtbot.waitUntil(lambda: panel.derived is not None and panel.derived.view == view, timeout=3000)


def test_the_magnitude_shown_is_numpys_hypot_of_the_results_output(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    assert panel.gradient_row.isVisibleTo(panel) and panel.derived_available
    choose(qtbot, panel, "magnitude")
    gx, gy = panel.results.output
    np.testing.assert_array_equal(panel.view.image, np.hypot(gx, gy))
    np.testing.assert_allclose(panel.view.image_item.levels, (0.0, np.hypot(gx, gy).max()))  # 0 to max
    assert panel.view.colormap_name == style.SEQUENTIAL
    assert "derived" in panel.view.caption_text
    # The next output arrives prepared for the magnitude by the worker's preparer.
    second = camera_pair * 2
    publish(panel, second)
    assert panel.derived.output is second
    np.testing.assert_array_equal(panel.view.image, np.hypot(second[0], second[1]))
    choose(qtbot, panel, "l1")
    np.testing.assert_array_equal(panel.view.image, np.abs(second[0]) + np.abs(second[1]))


def test_the_hover_says_the_derived_value_and_both_gradients(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    choose(qtbot, panel, "magnitude")
    gx, gy = camera_pair[:, 30, 40]
    text = panel.view.readout(30, 40)
    assert "magnitude" in text and "derived" in text
    assert f"{np.hypot(gx, gy):.4g}"[:4] in text
    assert "Gx" in text and "Gy" in text


@pytest.mark.parametrize(("ramp", "angle"), [("right", 0.0), ("up", 90.0), ("left", 180.0), ("down", 270.0)])
def test_the_hue_of_a_ramp_is_the_wheels_colour_at_its_direction(qtbot, panel, ramp, angle):
    rows, cols = np.mgrid[0:12, 0:12].astype(np.float32)
    image = {"right": cols, "left": -cols, "up": -rows, "down": rows}[ramp]
    out = sobel_pair(image)
    gx, gy = out[:, 5, 5]
    if ramp == "right":
        assert gx > 0 and gy == 0
    if ramp == "up":
        assert gx == 0 and gy < 0  # rows run down: brighter upwards is a negative Gy
    publish(panel, out)
    choose(qtbot, panel, "orientation")
    assert not panel.wheel.isHidden()
    np.testing.assert_allclose(panel.view.image[5, 5], angle)
    # Every pixel has the same gradient, so full magnitude: the wheel's rim colour.
    assert np.abs(np.subtract(drawn_rgb(panel, 5, 5), wheel_colour_at(angle))).max() <= 1
    assert f"direction {angle:.1f}" in panel.view.readout(5, 5)


def test_the_wheel_paints_its_angles_anticlockwise_on_screen(qtbot):
    wheel = ColourWheel()
    qtbot.addWidget(wheel)
    wheel.resize(160, 160)
    wheel.show()
    qtbot.waitExposed(wheel)
    image = wheel.grab().toImage()
    rect = wheel.wheel_rect()
    ratio = image.devicePixelRatio()
    c, r = rect.center(), rect.width() / 2 * 0.9
    for angle, (dx, dy) in {0: (1, 0), 90: (0, -1), 180: (-1, 0), 270: (0, 1)}.items():
        colour = image.pixelColor(int((c.x() + dx * r) * ratio), int((c.y() + dy * r) * ratio))
        expected = np.array(wheel_colour_at(angle)) * 0.9  # value = radius share
        assert np.abs(np.subtract((colour.red(), colour.green(), colour.blue()), expected)).max() <= 12, angle


def test_the_threshold_slider_counts_the_edges_numpy_finds(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    choose(qtbot, panel, "edges")
    mag = np.hypot(camera_pair[0], camera_pair[1])
    counts = []
    for percent in (10, 40, 70):
        panel.set_edge_percent(percent)
        expected = int(np.count_nonzero(mag > percent / 100 * mag.max()))
        qtbot.waitUntil(lambda p=percent: panel.derived.fraction == p / 100, timeout=3000)
        assert panel.derived.edge_count == expected
        share = 100 * expected / mag.size
        shown = f"{share:.2g}" if share < 1 else f"{share:.0f}"
        assert panel.edge_label.text() == f"{percent} %, {expected} edge pixels ({shown} %)"
        assert f"white: magnitude > {percent / 100 * mag.max():.3g}" in panel.view.caption_text
        np.testing.assert_array_equal(panel.view.image, (mag > percent / 100 * mag.max()).astype(np.float32))
        counts.append(expected)
    assert counts[0] > counts[1] > counts[2] > 0
    assert drawn_rgb(panel, *np.argwhere(mag == mag.max())[0]) == (255, 255, 255)
    assert drawn_rgb(panel, *np.argwhere(mag == mag.min())[0]) == (0, 0, 0)


def test_save_output_writes_the_derived_picture(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    choose(qtbot, panel, "edges")
    picture = panel.picture(camera_pair)
    assert picture.pixels.shape == camera_pair.shape[1:]
    np.testing.assert_array_equal(picture.pixels, panel.derived.pixels)


def test_with_one_channel_the_derived_views_are_unavailable_and_nothing_raises(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    choose(qtbot, panel, "magnitude")
    one = camera_pair[:1].copy()
    publish(panel, one)
    assert not panel.derived_available
    assert not panel.gradient_row.isVisibleTo(panel)
    assert panel.gradient_combo.toolTip() == NEEDS_PAIR
    assert panel.derived is None and panel.derived_view == "channel"
    np.testing.assert_array_equal(panel.view.image, one[0])  # the channel, as PyTorch gave it
    assert "derived" not in panel.view.readout(3, 3)
    assert panel.channel_spin.isEnabled()
    panel.set_gradient_view("orientation")  # chosen anyway (e.g. remembered): still the channel
    np.testing.assert_array_equal(panel.view.image, one[0])
    assert panel.picture(one).pixels.shape == one.shape[1:]
    # Back to a pair: the remembered choice returns.
    publish(panel, camera_pair)
    choose(qtbot, panel, "orientation")
    assert panel.derived_available


def test_a_grid_click_goes_back_to_pytorchs_channel(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    choose(qtbot, panel, "magnitude")
    panel.grid.channel_clicked.emit(1)
    assert panel.gradient_view == "channel" and panel.channel == 1
    np.testing.assert_array_equal(panel.view.image, camera_pair[1])
    assert panel.view.colorbar.isVisible()


def test_the_orientation_item_names_the_angle_drawn(qtbot, panel, camera_pair):
    publish(panel, camera_pair)
    choose(qtbot, panel, "orientation")
    text = panel.gradient_combo.currentText()
    assert "atan2(\u2212Gy, Gx)" in text and "atan2(Gy" not in text
    assert "atan2(\u2212Gy, Gx)" in panel.view.caption_text
    # ... and it is what is drawn: the shown angle is numpy's atan2(-Gy, Gx), anticlockwise.
    gx, gy = camera_pair
    expected = np.mod(np.degrees(np.arctan2(-gy, gx)), 360)
    strong = np.hypot(gx, gy) > 0.1
    diff = np.abs(panel.view.image[strong] - expected[strong])
    assert np.minimum(diff, 360 - diff).max() < 1e-3


def test_two_channels_that_are_not_a_gradient_pair_warn_under_a_derived_view(qtbot, panel, camera_pair):
    gabor_like = np.array([[[[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]]] * 2)  # the same kernel twice
    publish(panel, camera_pair, weight=gabor_like)
    assert panel.derived_available  # still offered...
    assert panel.pair_warning.isHidden()  # ...and nothing to warn about on a channel
    choose(qtbot, panel, "magnitude")
    assert panel.pair_warning.isVisibleTo(panel)
    assert panel.pair_warning.text() == (
        "Channels 0 and 1 are not an x/y gradient pair: this view treats channel 0 as Gx and channel 1 as Gy"
    )
    panel.set_gradient_view("channel")
    assert panel.pair_warning.isHidden()
    panel.set_gradient_view("magnitude")
    # The Sobel pair (y = x transposed) is one: no warning.
    publish(panel, camera_pair * 1.0, weight=np.array([[SOBEL_X], [SOBEL_Y]]))
    qtbot.waitUntil(lambda: panel.derived is not None and panel.derived.output is panel.output, timeout=3000)
    assert panel.pair_warning.isHidden()
    # Transposed (ConvTranspose2d stores (in, out, kh, kw)): the pair in weight[:, 0] and [:, 1].
    transposed = np.array([[SOBEL_X, SOBEL_Y]])
    results = panel.results
    request = ComputeRequest(ConvSpec(out_channels=2, transposed=True), np.zeros((1, 8, 8)), transposed, None)
    results.start(request)
    out = camera_pair * 3.0
    results.set_outcome(results.generation, ComputeOutcome(request, out, 0.001, "CPU"))
    qtbot.waitUntil(lambda: panel.derived is not None and panel.derived.output is out, timeout=3000)
    assert panel.pair_warning.isHidden()


def test_the_picture_gets_most_of_the_height_with_two_channels(qtbot, panel, camera_pair):
    panel.resize(520, 420)
    publish(panel, camera_pair)
    qtbot.waitUntil(lambda: panel.splitter.sizes()[0] >= 3 * panel.splitter.sizes()[1], timeout=2000)
    choose(qtbot, panel, "magnitude")
    qtbot.waitUntil(lambda: panel.splitter.sizes()[0] >= 4 * panel.splitter.sizes()[1], timeout=2000)
    # The user's own split stays.
    panel.splitter.splitterMoved.emit(150, 1)
    panel.splitter.setSizes([150, 150])
    panel.set_gradient_view("channel")
    qtbot.wait(20)
    picture, strip = panel.splitter.sizes()
    assert abs(picture - strip) <= 0.2 * (picture + strip)  # still about half and half


def test_the_remembered_show_choice_returns_with_a_two_channel_output(qtbot, camera_pair, tmp_path):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "c.ini"), QSettings.Format.IniFormat)
    settings.setValue("output/gradient_view", "orientation")
    panel = OutputPanel(Results(), settings=settings)
    qtbot.addWidget(panel)
    panel.resize(520, 560)
    panel.show()
    publish(panel, camera_pair[:1].copy())  # the start's first output may have one channel
    assert panel.derived_view == "channel"
    publish(panel, camera_pair)
    qtbot.waitUntil(lambda: panel.derived is not None and panel.derived.view == "orientation", timeout=3000)
    assert settings.value("output/gradient_view") == "orientation"


def test_the_warning_line_does_not_push_the_picture_out_of_a_scrolled_dock(qtbot, camera_pair):
    from PySide6.QtWidgets import QScrollArea

    area = QScrollArea()
    area.setWidgetResizable(True)
    panel = OutputPanel(Results())
    area.setWidget(panel)
    qtbot.addWidget(area)
    area.resize(620, 380)
    area.show()
    qtbot.waitExposed(area)
    publish(panel, camera_pair, weight=np.array([[SOBEL_X], [SOBEL_X]]))  # x twice: not a pair
    choose(qtbot, panel, "magnitude")
    qtbot.waitUntil(lambda: panel.pair_warning.isVisible(), timeout=2000)
    qtbot.wait(20)
    assert panel.height() <= area.viewport().height()  # the panel fits: no scrolling to the picture
    assert panel.pair_warning.height() >= 2 * panel.pair_warning.fontMetrics().height()  # its lines all show
