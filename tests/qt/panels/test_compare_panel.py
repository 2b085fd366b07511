"""Compare panel: A pinned or from a preset against the live kernel B, PyTorch as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.core.compute_settings import ComputeSettings
from convplay.core.presets import get_preset
from convplay.core.results import Results
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.compute_controller import ComputeController
from convplay.qt.panels.compare_panel import ComparePanel

WAIT_MS = 20_000
SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def _torch_output(image: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, padding: int) -> np.ndarray:
    x = torch.from_numpy(np.asarray(image, dtype=np.float32))[None]
    w = torch.from_numpy(np.asarray(weight, dtype=np.float32))
    b = None if bias is None else torch.from_numpy(np.asarray(bias, dtype=np.float32))
    return F.conv2d(x, w, b, stride=1, padding=padding)[0].numpy().astype(np.float64)


@pytest.fixture
def setup(qtbot):
    rng = np.random.default_rng(3)
    image = rng.random((1, 20, 24))
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, padding=1, bias=True)
    weight = np.stack([SOBEL_X[None], SOBEL_X.T[None]])
    session = Session(image, spec, weight, np.array([0.25, -0.5]), kernel_name="Sobel pair")
    settings = ComputeSettings()
    results = Results()
    controller = ComputeController(session, settings, results, lister=lambda: [("cpu", "CPU")])
    panel = ComparePanel(session, results, settings)
    qtbot.addWidget(panel)
    panel.resize(560, 700)
    panel.show()
    controller.start()
    qtbot.waitUntil(lambda: results.fresh, timeout=WAIT_MS)
    yield session, results, panel
    controller.shutdown()


def _wait_for_a(qtbot, panel, results):
    qtbot.waitUntil(lambda: results.fresh and not panel.a_pending and panel.a_output.shown, timeout=WAIT_MS)


def test_a_hand_edit_is_compared_with_the_pinned_preset_by_pytorch(setup, qtbot):
    session, results, panel = setup
    panel.pin_current()
    a_weight = session.weight.copy()
    edited = session.weight.copy()
    edited[0, 0, 1, 2] = 3.0  # one cell of Sobel x changed by hand
    session.set_weight(edited)
    _wait_for_a(qtbot, panel, results)

    bias = session.bias
    image = session.image
    torch_a = _torch_output(image, a_weight, bias, 1)
    torch_b = _torch_output(image, edited, bias, 1)
    assert panel.channel_label.text().startswith("Output channel 0")
    np.testing.assert_allclose(panel.a_output.values, torch_a[0], atol=1e-5)
    np.testing.assert_allclose(panel.b_output.values, torch_b[0], atol=1e-5)
    np.testing.assert_allclose(panel.diff_output.values, torch_b[0] - torch_a[0], atol=1e-5)
    diff = torch_b[0] - torch_a[0]
    expected_max = float(np.abs(diff).max())
    assert panel.difference.max_abs == pytest.approx(expected_max, abs=1e-5)
    row, col = np.unravel_index(int(np.argmax(np.abs(diff))), diff.shape)
    assert np.abs(diff[panel.difference.where]) == pytest.approx(expected_max, abs=1e-5)
    assert f"(row {row}, col {col})" in panel.max_label.text()
    relative = np.linalg.norm(diff) / np.linalg.norm(torch_a[0])
    assert panel.difference.relative == pytest.approx(relative, rel=1e-4)
    # the kernels' numbers: the sum changed (0 -> 1), the rank went from 1 to 2
    a_sum, b_sum, differs = panel.number_texts("sum")
    assert (a_sum, b_sum, differs) == ("0", "1", True)
    assert panel.number_texts("rank") == ("1", "2", True)
    assert panel.number_texts("min")[2] is False
    np.testing.assert_allclose(panel.kernel_diff.values, edited[0, 0] - a_weight[0, 0])
    # A and B share one colour mapping
    assert panel.a_output.stack.currentWidget().levels() == panel.b_output.stack.currentWidget().levels()


def test_the_second_pair_shows_the_second_output_channel(setup, qtbot):
    session, results, panel = setup
    panel.pin_current()
    panel.set_pair(1, 0)
    session.set_weight(session.weight * 2)
    _wait_for_a(qtbot, panel, results)
    assert panel.channel_label.text().startswith("Output channel 1")
    torch_a = _torch_output(session.image, session.weight / 2, session.bias, 1)
    np.testing.assert_allclose(panel.a_output.values, torch_a[1], atol=1e-5)
    panel.set_pair(7, 9)  # clamped, never raises
    assert panel.pair == (1, 0)


def test_a_from_a_preset_fills_every_pair(setup, qtbot):
    session, results, panel = setup
    assert panel.pin_preset("laplacian4")
    expected = get_preset("laplacian4").weights
    assert panel.kernel_a.name == get_preset("laplacian4").name
    for o in range(2):
        np.testing.assert_array_equal(panel.kernel_a.weight[o, 0], expected)
    _wait_for_a(qtbot, panel, results)
    torch_a = _torch_output(session.image, np.stack([expected[None]] * 2), session.bias, 1)
    np.testing.assert_allclose(panel.a_output.values, torch_a[0], atol=1e-5)
    # a preset larger than the layer is refused with the reason; A stays
    assert not panel.pin_preset("box5")
    assert "larger than the layer" in panel.message_label.text()
    assert panel.kernel_a.name == get_preset("laplacian4").name


def test_the_preset_box_makes_a(setup, qtbot):
    _session, _results, panel = setup
    index = panel.preset_combo.findData("sobel_y")
    panel.preset_combo.activated.emit(index)
    np.testing.assert_array_equal(panel.kernel_a.weight[1, 0], get_preset("sobel_y").weights)
    assert panel.preset_combo.currentIndex() == 0


def test_a_kernel_size_change_asks_to_pin_again_and_shows_no_a(setup, qtbot):
    session, results, panel = setup
    panel.pin_current()
    _wait_for_a(qtbot, panel, results)
    session.set_spec(session.spec.replace(kernel_size=5, padding=2))
    qtbot.waitUntil(lambda: results.fresh, timeout=WAIT_MS)
    assert panel.message_label.text() == "A is 3×3, the layer is now 5×5: pin A again."
    assert not panel.a_output.shown and not panel.diff_output.shown
    assert panel.b_output.shown
    panel.pin_current()
    assert panel.message_label.isHidden()
    _wait_for_a(qtbot, panel, results)


def test_no_mismatched_pictures_while_b_or_a_is_pending(setup, qtbot):
    session, results, panel = setup
    panel.pin_current()
    _wait_for_a(qtbot, panel, results)
    session.set_weight(session.weight + 1)
    if not results.fresh:  # B not back yet: nothing of the old pair is drawn
        assert not any(p.shown for p in (panel.a_output, panel.b_output, panel.diff_output))
        assert panel.status_label.isVisible()
    qtbot.waitUntil(lambda: results.fresh, timeout=WAIT_MS)
    if panel.a_pending:  # B is back, A not yet: B alone, no difference
        assert not panel.a_output.shown and not panel.diff_output.shown
        assert "A's output is being computed" in panel.status_label.text()
    _wait_for_a(qtbot, panel, results)
    assert panel.status_label.isHidden()
    # refused settings: B is stale, the pictures give way to the reason
    session.set_spec(session.spec.replace(stride=0))
    qtbot.waitUntil(lambda: not results.fresh, timeout=WAIT_MS)
    panel.refresh()
    assert not any(p.shown for p in (panel.a_output, panel.b_output, panel.diff_output))
    assert "stride" in panel.status_label.text()


def test_without_a_b_is_shown_and_the_panel_says_what_to_do(setup):
    _session, _results, panel = setup
    panel.refresh()
    assert panel.b_output.shown and not panel.a_output.shown
    assert "Pin a kernel as A" in panel.status_label.text()
    assert panel.number_texts("sum")[0] == "–"


def test_identical_a_and_b_say_so(setup, qtbot):
    session, results, panel = setup
    panel.pin_current()
    _wait_for_a(qtbot, panel, results)
    torch_b = _torch_output(session.image, session.weight, session.bias, 1)
    np.testing.assert_allclose(panel.a_output.values, torch_b[0], atol=1e-5)
    assert panel.difference.max_abs == 0.0
    assert panel.max_label.text() == "A and B give identical outputs"


def _bottom(widget, panel) -> int:
    return widget.mapTo(panel, widget.rect().bottomLeft()).y()


def test_both_rows_fit_a_short_tab_and_the_switch_shows_one(setup, qtbot):
    session, results, panel = setup
    panel.pin_current()
    edited = session.weight.copy()
    edited[0, 0, 1, 1] = 1.0
    session.set_weight(edited)
    _wait_for_a(qtbot, panel, results)
    panel.resize(420, 300)  # the Compare tab at 1280×720
    assert panel.view == "all"
    assert panel.minimumSizeHint().width() <= 420
    assert panel.minimumSizeHint().height() <= 320
    for picture in (panel.diff_output, panel.kernel_diff):
        assert picture.isVisible() and _bottom(picture, panel) <= 320
    assert panel.max_label.isVisible()
    panel.set_view("kernels")
    assert panel.kernel_diff.isVisible() and not panel.diff_output.isVisible()
    assert not panel.max_label.isVisible()
    panel.set_view("outputs")
    assert panel.diff_output.isVisible() and not panel.kernel_diff.isVisible()
    assert all(b.toolTip() for b in panel.view_buttons.values())
    again = ComparePanel(session, results, None)  # the choice is remembered
    qtbot.addWidget(again)
    assert again.view == "outputs"


def _gated_setup(qtbot, monkeypatch, a_gate, b_gate, a_error=None):
    """A panel whose B runs (the window's PyTorch worker) and A runs wait for their gates."""
    import threading

    from convplay.qt import compute_controller
    from convplay.qt.panels import compare_panel

    real_a = compare_panel._run_a

    def gated_a(job):
        a_gate.wait(30)
        if a_error is not None:
            raise ValueError(a_error)
        return real_a(job)

    def gated_b(request):
        b_gate.wait(30)
        return compute_controller.run_request(request)

    monkeypatch.setattr(compare_panel, "_run_a", gated_a)
    session = Session(np.random.default_rng(1).random((1, 12, 12)), ConvSpec(kernel_size=3, padding=1),
                      SOBEL_X[None, None], kernel_name="Sobel x")
    settings, results = ComputeSettings(), Results()
    controller = ComputeController(session, settings, results, runner=gated_b, lister=lambda: [("cpu", "CPU")])
    panel = ComparePanel(session, results, settings)
    qtbot.addWidget(panel)
    panel.show()
    controller.start()
    assert isinstance(a_gate, threading.Event)
    return session, results, panel, controller


def test_while_b_is_computed_no_picture_is_drawn(qtbot, monkeypatch):
    import threading

    a_gate, b_gate = threading.Event(), threading.Event()
    a_gate.set()
    _session, results, panel, controller = _gated_setup(qtbot, monkeypatch, a_gate, b_gate)
    try:
        panel.pin_current()
        assert not results.fresh
        assert not any(p.shown for p in (panel.a_output, panel.b_output, panel.diff_output))
        assert "B's output is being computed" in panel.status_label.text()
        b_gate.set()
        _wait_for_a(qtbot, panel, results)
        assert panel.diff_output.shown and panel.status_label.isHidden()
    finally:
        b_gate.set()
        controller.shutdown()


def test_while_a_is_computed_b_stands_alone(qtbot, monkeypatch):
    import threading

    a_gate, b_gate = threading.Event(), threading.Event()
    b_gate.set()
    _session, results, panel, controller = _gated_setup(qtbot, monkeypatch, a_gate, b_gate)
    try:
        qtbot.waitUntil(lambda: results.fresh, timeout=WAIT_MS)
        panel.pin_current()
        assert panel.a_pending
        assert panel.b_output.shown
        assert not panel.a_output.shown and not panel.diff_output.shown
        assert "A's output is being computed" in panel.status_label.text()
        assert panel.max_label.text() == ""
        a_gate.set()
        _wait_for_a(qtbot, panel, results)
        np.testing.assert_allclose(panel.diff_output.values, 0.0, atol=1e-6)  # A is B: no difference
        assert panel.difference.max_abs == pytest.approx(0.0, abs=1e-6)
    finally:
        a_gate.set()
        controller.shutdown()


def test_a_run_that_fails_is_said_and_nothing_raises(qtbot, monkeypatch):
    import threading

    a_gate, b_gate = threading.Event(), threading.Event()
    a_gate.set()
    b_gate.set()
    _session, results, panel, controller = _gated_setup(qtbot, monkeypatch, a_gate, b_gate, a_error="out of memory")
    try:
        qtbot.waitUntil(lambda: results.fresh, timeout=WAIT_MS)
        panel.pin_current()
        qtbot.waitUntil(lambda: "out of memory" in panel.message_label.text(), timeout=WAIT_MS)
        assert not panel.a_output.shown and not panel.diff_output.shown
        assert panel.b_output.shown
    finally:
        controller.shutdown()


def _plain_setup(qtbot, session):
    settings, results = ComputeSettings(), Results()
    controller = ComputeController(session, settings, results, lister=lambda: [("cpu", "CPU")])
    panel = ComparePanel(session, results, settings)
    qtbot.addWidget(panel)
    panel.show()
    controller.start()
    return results, panel, controller


def test_true_convolution_flips_a_as_it_flips_b(qtbot):
    image = np.random.default_rng(4).random((1, 10, 10))
    session = Session(image, ConvSpec(kernel_size=3, padding=1, bias=False), SOBEL_X[None, None], kernel_name="Sobel x")
    results, panel, controller = _plain_setup(qtbot, session)
    try:
        panel.pin_current()
        session.set_true_convolution(True)
        _wait_for_a(qtbot, panel, results)
        flipped = SOBEL_X[::-1, ::-1][None, None]
        expected = _torch_output(image, flipped, None, 1)
        np.testing.assert_allclose(panel.a_output.values, expected[0], atol=1e-5)
        np.testing.assert_allclose(panel.diff_output.values, 0.0, atol=1e-6)
    finally:
        controller.shutdown()


def test_a_transposed_layer_shows_the_output_channel_its_pair_feeds(qtbot):
    image = np.random.default_rng(5).random((1, 6, 6))
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, bias=False, transposed=True)
    weight = np.stack([SOBEL_X, SOBEL_X.T])[None]  # (in 1, out 2, 3, 3)
    session = Session(image, spec, weight, kernel_name="pair")
    results, panel, controller = _plain_setup(qtbot, session)
    try:
        panel.pin_current()
        panel.set_pair(0, 1)
        _wait_for_a(qtbot, panel, results)
        assert panel.channel_label.text().startswith("Output channel 1")
        x = torch.from_numpy(image.astype(np.float32))[None]
        expected = F.conv_transpose2d(x, torch.from_numpy(weight.astype(np.float32)))[0].numpy()
        np.testing.assert_allclose(panel.a_output.values, expected[1], atol=1e-5)
    finally:
        controller.shutdown()


def test_weights_that_are_not_finite_and_refused_settings_raise_nothing(qtbot):
    session = Session(np.zeros((1, 8, 8)), ConvSpec(kernel_size=1), np.array([[[[np.nan]]]]))
    panel = ComparePanel(session, Results(), ComputeSettings())
    qtbot.addWidget(panel)
    panel.show()
    panel.pin_current()
    assert panel.b_response.empty.text() == "weights not finite"
    session.set_spec(session.spec.replace(groups=3))
    session.set_spec(session.spec.replace(groups=1, kernel_size=(2, 4)))
    assert panel.message_label.text() == "A is 1×1, the layer is now 2×4: pin A again."
    assert not panel.pin_preset("sobel_x")
    assert "larger than the layer's 2×4" in panel.message_label.text()
