"""The Frequency response panel draws numpy's DFT of the kernel, in cycles per pixel, with
angles anticlockwise on screen; its cut follows the line the user turns; it follows the
session's edits, gathered into one redraw, and draws nothing while hidden."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QSpinBox, QToolButton

from convplay.core import parametric_kernels
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels import response_panel
from convplay.qt.panels.response_panel import ZERO_MESSAGE, ResponsePanel
from convplay.qt.zoom import text_zoom

SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def numpy_spectrum(kernel: np.ndarray, size: int = 64) -> np.ndarray:
    """The centred DFT with the kernel's centre tap at index (0, 0), numpy only."""
    kh, kw = kernel.shape
    padded = np.zeros((size, size))
    padded[:kh, :kw] = kernel
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return np.fft.fftshift(np.fft.fft2(padded))


def session_of(*kernels: np.ndarray, out_channels: int = 1) -> Session:
    """A session whose weight holds ``kernels`` as (out_channels, len / out_channels)."""
    kh, kw = kernels[0].shape
    in_channels = len(kernels) // out_channels
    weight = np.array(kernels, dtype=float).reshape(out_channels, in_channels, kh, kw)
    spec = ConvSpec(in_channels, out_channels, (kh, kw))
    return Session(np.zeros((in_channels, 16, 16)), spec, weight)


@pytest.fixture
def make_panel(qtbot):
    def make(session: Session, show: bool = True) -> ResponsePanel:
        panel = ResponsePanel(session)
        qtbot.addWidget(panel)
        panel.resize(520, 320)
        if show:
            panel.show()
            qtbot.waitExposed(panel)
        panel.refresh_now()
        return panel

    return make


def cut_data(panel: ResponsePanel) -> tuple[np.ndarray, np.ndarray]:
    x, y = panel.cut_plot.curve.getData()
    return np.asarray(x), np.asarray(y)


def screen_point(panel: ResponsePanel, fx: float, fy: float) -> QPointF:
    """Where view point (fx, fy) is drawn, in the spectrum widget's pixels."""
    scene = panel.spectrum.view_box.mapViewToScene(QPointF(fx, fy))
    return QPointF(panel.spectrum.mapFromScene(scene))


def test_sobel_x_image_is_numpys_dft_magnitude(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    expected = np.abs(numpy_spectrum(SOBEL_X))
    image = panel.image_item.image
    assert image.shape == (64, 64)
    np.testing.assert_allclose(image, expected, rtol=1e-6, atol=1e-6)
    assert tuple(panel.image_item.levels) == pytest.approx((0.0, expected.max()))
    assert panel.description.startswith("directional, strongest at 0°")
    assert panel.dc_text == "DC gain (the sum) 0"
    assert "DC gain (the sum) 0" in panel.description_label.text()


def test_sizes_and_a_kernel_larger_than_the_size(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    panel.set_dft_size(128)
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(SOBEL_X, 128)), atol=1e-5)
    big = np.random.default_rng(0).normal(size=(40, 40))
    panel = make_panel(session_of(big))
    panel.set_dft_size(32)
    assert panel.image_item.image.shape == (64, 64)  # padded to the next power of two
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(big, 64)), rtol=1e-5, atol=1e-4)
    assert "larger than 32" in panel.info_label.text()


def test_box_cut_at_0_degrees_is_the_dirichlet_kernel(make_panel):
    n = 5
    panel = make_panel(session_of(np.full((n, n), 1.0 / n**2)))
    panel.set_angle(0)
    f, values = cut_data(panel)
    np.testing.assert_allclose(f, np.linspace(-0.5, 0.5, 65))
    with np.errstate(invalid="ignore", divide="ignore"):
        dirichlet = np.abs(np.sin(np.pi * f * n) / np.sin(np.pi * f)) / n
    dirichlet[f == 0] = 1.0  # the limit: N / N
    np.testing.assert_allclose(values, dirichlet, atol=1e-9)
    assert panel.cut_plot.title == "cut at 0°"
    assert panel.description.startswith("low-pass")


def test_gabor_peaks_at_its_wavelength_up_right_on_screen(make_panel):
    kernel = parametric_kernels.gabor(15, 45, 6, 3, 1, 0)
    panel = make_panel(session_of(kernel))
    image = panel.image_item.image
    rows, cols = np.nonzero(image >= image.max() * (1 - 1e-6))
    assert len(rows) == 2  # the two peaks of a real kernel, at f and -f
    view = panel.spectrum.view_box
    assert view.yInverted()
    origin = view.mapViewToScene(QPointF(0.0, 0.0))
    angles = []
    for row, col in zip(rows, cols):
        # The pixel's centre as the image item places it, then on screen.
        centre = panel.image_item.mapToParent(QPointF(col + 0.5, row + 0.5))
        assert math.hypot(centre.x(), centre.y()) == pytest.approx(1 / 6, abs=1 / 64)
        on_screen = view.mapViewToScene(centre)
        dx, dy = on_screen.x() - origin.x(), on_screen.y() - origin.y()
        angles.append(round(math.degrees(math.atan2(-dy, dx))) % 360)  # screen y points down
    assert sorted(angles) == [45, 225]
    # The brightest pixel up and right is the one at +45°: fx > 0 and fy < 0 (fy runs down).
    up_right = [(r, c) for r, c in zip(rows, cols) if c > 32 and r < 32]
    assert len(up_right) == 1
    # the peak read off the exact response, not the 1/64 grid: a 6-pixel period
    assert panel.description.startswith("band-pass around 0.167 cycles/pixel (a 6-pixel period)")
    assert "strongest at 45°" in panel.description


def test_axes_read_cycles_per_pixel(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    for name in ("left", "bottom"):
        ticks = panel.spectrum.plot_item.getAxis(name)._tickLevels
        values = sorted(v for level in ticks for v, _text in level)
        assert values == [-0.5, -0.25, 0.0, 0.25, 0.5]
    # The DC pixel (32, 32) is centred on (0, 0); pixel (0, 0) on (-0.5, -0.5).
    dc = panel.image_item.mapToParent(QPointF(32.5, 32.5))
    corner = panel.image_item.mapToParent(QPointF(0.5, 0.5))
    assert (dc.x(), dc.y()) == pytest.approx((0.0, 0.0))
    assert (corner.x(), corner.y()) == pytest.approx((-0.5, -0.5))


def test_spin_box_turns_the_cut(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    magnitude = np.abs(numpy_spectrum(SOBEL_X))
    panel.angle_spin.setValue(90)
    _f, values = cut_data(panel)
    # At 90° the line runs up the screen: f = -fy, so the samples are the centre column
    # from the bottom row up (and the spectrum's periodic wrap at ±0.5).
    rows = (64 - np.arange(65)) % 64
    np.testing.assert_allclose(values, magnitude[rows, 32], atol=1e-9)
    assert panel.cut_plot.title == "cut at 90°"
    hx, hy = panel.spectrum.handle_position()
    assert (hx, hy) == pytest.approx((0.0, -0.45), abs=1e-9)  # above the origin on screen


def test_dragging_on_the_picture_turns_the_cut(make_panel, qtbot):
    panel = make_panel(session_of(SOBEL_X))
    panel.set_angle(0)
    before = cut_data(panel)[1].copy()
    viewport = panel.spectrum.viewport()
    start = screen_point(panel, 0.4, 0.0).toPoint()
    a = math.radians(30)
    end = screen_point(panel, 0.4 * math.cos(a), -0.4 * math.sin(a)).toPoint()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for t in np.linspace(0, 1, 6)[1:]:
        p = QPoint(round(start.x() + t * (end.x() - start.x())), round(start.y() + t * (end.y() - start.y())))
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert abs(panel.angle - 30) <= 2  # a pixel or two of rounding in the pointer's position
    assert panel.angle_spin.value() == panel.angle
    assert panel.cut_plot.title == f"cut at {panel.angle:g}°"
    assert panel.spectrum.angle == panel.angle
    assert not np.allclose(cut_data(panel)[1], before)


def test_an_edit_of_the_weight_redraws_once_per_burst(make_panel, qtbot, monkeypatch):
    session = session_of(SOBEL_X)
    panel = make_panel(session)
    calls = []
    real = response_panel.frequency_response
    monkeypatch.setattr(response_panel, "frequency_response", lambda k, size: calls.append(1) or real(k, size))
    for scale in (1.0, 2.0, 3.0):
        session.set_weight(scale * SOBEL_X.T.reshape(1, 1, 3, 3))
    qtbot.waitUntil(lambda: len(calls) > 0)
    qtbot.wait(20)
    assert len(calls) == 1
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(3.0 * SOBEL_X.T)), atol=1e-5)
    assert "strongest at 90°" in panel.description


def test_hidden_panel_draws_when_shown(make_panel, qtbot, monkeypatch):
    session = session_of(SOBEL_X)
    panel = make_panel(session)
    panel.hide()
    calls = []
    real = response_panel.frequency_response
    monkeypatch.setattr(response_panel, "frequency_response", lambda k, size: calls.append(1) or real(k, size))
    gaussian = parametric_kernels.make("gaussian", size=3, sigma=1.0)
    session.set_weight(gaussian.reshape(1, 1, 3, 3))
    qtbot.wait(20)
    assert calls == []
    panel.show()
    qtbot.waitUntil(lambda: len(calls) == 1)
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(gaussian)), atol=1e-6)


def test_set_pair_clamps_and_never_raises(make_panel, qtbot):
    rng = np.random.default_rng(1)
    kernels = [rng.normal(size=(3, 3)) for _ in range(6)]
    session = session_of(*kernels, out_channels=2)  # weight (2, 3, 3, 3)
    panel = make_panel(session)
    panel.set_pair(0, 2)
    panel.refresh_now()
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(kernels[2])), atol=1e-5)
    panel.set_pair(5, -1)
    panel.refresh_now()
    assert panel.pair == (1, 0)
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(kernels[3])), atol=1e-5)
    panel.set_pair(10**9, 10**9)
    panel.set_pair("x", None)
    panel.refresh_now()
    assert panel.pair == (1, 2)
    session.set_spec(ConvSpec(3, 1, 3))  # one output channel now
    qtbot.waitUntil(lambda: panel.pair[0] == 0)


def test_zero_kernel_says_so(make_panel):
    session = session_of(SOBEL_X)
    panel = make_panel(session)
    session.set_weight(np.zeros((1, 1, 3, 3)))
    panel.refresh_now()
    assert panel.stack.currentWidget() is panel.zero_label
    assert panel.zero_label.text() == ZERO_MESSAGE == "the kernel is all zeros: no response"
    assert panel.description == ZERO_MESSAGE
    session.set_weight(SOBEL_X.reshape(1, 1, 3, 3))
    panel.refresh_now()
    assert panel.stack.currentWidget() is panel.plots


def test_phase_of_symmetric_and_antisymmetric_kernels(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    panel.set_phase(True)
    values = numpy_spectrum(SOBEL_X)
    image = panel.image_item.image
    shown = np.abs(values) > 1e-9 * np.abs(values).max()
    assert np.all(np.isnan(image[~shown]))  # no phase where |H| is 0 (the fx = 0 column)
    np.testing.assert_allclose(image[shown], np.angle(values)[shown], atol=1e-6)
    np.testing.assert_allclose(np.abs(image[shown]), np.pi / 2, atol=1e-6)  # Sobel: ±π/2
    assert tuple(panel.image_item.levels) == pytest.approx((-np.pi, np.pi))
    assert "phase" in panel.spectrum.caption_text

    gaussian = parametric_kernels.make("gaussian", size=5, sigma=1.0)
    panel = make_panel(session_of(gaussian))
    panel.set_phase(True)
    image = panel.image_item.image
    finite = image[~np.isnan(image)]
    assert np.all(np.isclose(finite, 0, atol=1e-6) | np.isclose(np.abs(finite), np.pi, atol=1e-6))
    panel.set_phase(False)
    np.testing.assert_allclose(panel.image_item.image, np.abs(numpy_spectrum(gaussian)), atol=1e-6)


def test_decibels(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    panel.set_scale("dB")
    magnitude = np.abs(numpy_spectrum(SOBEL_X))
    peak = magnitude.max()
    expected = 20 * np.log10(np.maximum(magnitude, peak * 1e-3) / peak)
    np.testing.assert_allclose(panel.image_item.image, expected, atol=1e-4)
    assert tuple(panel.image_item.levels) == pytest.approx((-60.0, 0.0))
    _f, values = cut_data(panel)
    assert values.max() == pytest.approx(20 * np.log10(magnitude[32, 48] / peak), abs=1e-6)


def test_view_choices_are_remembered(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    assert panel.following  # on by default
    panel.set_following(False)  # else the cut turns to Sobel x's 0° on the next start
    panel.set_dft_size(32)
    panel.set_scale("dB")
    panel.set_angle(200)  # taken modulo 180
    assert panel.angle == 20
    again = make_panel(session_of(SOBEL_X))
    assert (again.dft_size, again.scale, again.angle, again.following) == (32, "dB", 20, False)


def gabor_kernel(theta: float) -> np.ndarray:
    return parametric_kernels.make("gabor", size=15, theta=theta, **{"lambda": 6}, sigma=3, gamma=1, psi=0)


def test_the_cut_follows_the_strongest_direction_when_the_kernel_changes(make_panel):
    session = session_of(gabor_kernel(45))
    panel = make_panel(session)
    assert panel.angle == 45
    _f, values = cut_data(panel)
    # numpy oracle: the cut's peak is |DFT|'s largest value (it lies on the 45° line)
    assert values.max() == pytest.approx(np.abs(numpy_spectrum(gabor_kernel(45))).max(), rel=0.05)
    panel.set_angle(30)
    panel.set_scale("dB")
    panel.refresh_now()
    assert panel.angle == 30  # a turn by hand stays while the kernel does
    session.set_weight(gabor_kernel(120)[None, None])
    panel.refresh_now()
    assert panel.angle == 120
    # a blur has no direction: the cut stays where it was
    session.set_weight(np.full((1, 1, 15, 15), 1 / 225))
    panel.refresh_now()
    assert panel.angle == 120
    panel.set_following(False)
    session.set_weight(gabor_kernel(45)[None, None])
    panel.refresh_now()
    assert panel.angle == 120
    panel.set_following(True)  # turning it on turns the cut at once
    assert panel.angle == 45


def test_shift_drag_snaps_to_15_degrees():
    from convplay.qt.widgets.spectrum_view import drag_angle

    fx, fy = math.cos(math.radians(46)), -math.sin(math.radians(46))  # 46° up and right
    assert drag_angle(0.3 * fx, 0.3 * fy) == 46.0
    assert drag_angle(0.3 * fx, 0.3 * fy, snap=True) == 45.0
    assert drag_angle(-0.2, 0.0, snap=True) == 0.0  # 180° is 0°
    assert drag_angle(0.0, 0.0) is None


def test_phase_view_labels_the_cut_as_magnitude(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    assert panel.cut_plot.getPlotItem().getAxis("left").labelText == "|H|"
    panel.set_phase(True)
    panel.refresh_now()
    assert panel.cut_plot.getPlotItem().getAxis("left").labelText == "|H| (magnitude)"
    assert panel.cut_plot.title.startswith("magnitude cut")


def test_a_rounding_sum_reads_zero_in_the_header(make_panel):
    kernel = np.array([[0.1, 0.2, 0.1], [0.2, -1.2, 0.2], [0.1, 0.2, 0.1]])
    assert kernel.sum() != 0.0  # numpy's float sum leaves a crumb
    panel = make_panel(session_of(kernel))
    assert panel.dc_text == "DC gain (the sum) 0"
    assert "e-" not in panel.description_label.text()
    assert "to rounding" in panel.description_label.toolTip()


def test_tooltips_and_text_zoom(make_panel):
    panel = make_panel(session_of(SOBEL_X))
    controls = panel.findChildren(QComboBox) + panel.findChildren(QToolButton) + panel.findChildren(QSpinBox)
    assert len(controls) >= 5  # size, scale, angle, Phase, Follow
    for widget in [*controls, panel.spectrum, panel.cut_plot, panel.description_label, panel.info_label]:
        assert widget.toolTip(), widget
    before = panel.description_label.font().pointSizeF()
    text_zoom().set_factor(1.5)
    assert panel.description_label.font().pointSizeF() == pytest.approx(1.5 * before, rel=0.05)
    tick_font = panel.cut_plot.getPlotItem().getAxis("bottom").style["tickFont"]
    assert tick_font.pointSize() == round(8 * 1.5)


def test_side_by_side_when_wide_stacked_when_tall(make_panel, qtbot):
    panel = make_panel(session_of(SOBEL_X))
    panel.resize(560, 300)
    qtbot.waitUntil(lambda: panel.plots.side_by_side)
    panel.resize(340, 620)
    qtbot.waitUntil(lambda: not panel.plots.side_by_side)


def test_a_small_magnitude_is_not_rescaled_on_the_cut_axis(make_panel):
    kernel = SOBEL_X / 50  # |H| peaks at 8/50 = 0.16
    panel = make_panel(session_of(kernel))
    axis = panel.cut_plot.getPlotItem().getAxis("left")
    assert axis.autoSIPrefixScale == 1.0  # 0.15 is written 0.15, not 150
    assert "0.15" in axis.tickStrings([0.15], axis.autoSIPrefixScale, 0.05)
    assert np.abs(numpy_spectrum(kernel)).max() == pytest.approx(panel.cut_plot.curve.getData()[1].max(), rel=1e-6)
