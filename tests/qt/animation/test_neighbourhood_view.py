"""The sliding window on a large image: the neighbourhood's cells are the image's (and the
padding's), its output cells are PyTorch's, the overview picks the position, the weights on
the window are the kernel's (flipped for a true convolution), and the step text is led by
the output position without clipping."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QFontMetrics, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from convplay.core.compute_settings import ComputeSettings
from convplay.core.formatting import format_cell
from convplay.core.results import ComputeOutcome, reference_outcome
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.animation.pools import weight_text
from convplay.qt.zoom import text_zoom
from oracles import session_output

NUMPY_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def feed(dock: AnimationDock, output: np.ndarray, dtype: str = "float64") -> None:
    """What the window's workers do: PyTorch's output, then the reference and its verdict."""
    results = dock.results
    request = results.begin(dock.session, ComputeSettings(dtype=dtype))
    results.set_outcome(results.generation, ComputeOutcome(request, output, 0.0, "CPU"))
    results.set_reference(results.generation, reference_outcome(request, output))


def _settle():
    for _ in range(4):
        QApplication.processEvents()


def _dock(qtbot, session: Session, size=(1280, 720)) -> AnimationDock:
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    dock.resize(*size)
    dock.show()
    _settle()
    return dock


def _photo(channels: int = 1, size: int = 40, seed: int = 0) -> np.ndarray:
    """A 'photo' too large to draw whole, with values of 2 decimals (short labels)."""
    rng = np.random.default_rng(seed)
    return np.round(rng.random((channels, size, size + 3)), 2)


def _padded(session: Session) -> np.ndarray:
    """The padded input, built independently of convplay (numpy's own pad)."""
    top, bottom, left, right = session.spec.pads()
    mode = NUMPY_MODE[session.spec.padding_mode]
    return np.pad(session.image, ((0, 0), (top, bottom), (left, right)), mode=mode)


def _labels(pool) -> dict[tuple[float, float], str]:
    """(x, y) -> text of the labels in use."""
    return {(item.pos().x(), item.pos().y()): item.text() for item in pool.items[: pool.used]}


CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, dilation=2, padding=2, padding_mode="reflect"),
    dict(kernel_size=(3, 5), stride=(1, 3), padding=(2, 1), padding_mode="circular"),
    dict(in_channels=3, out_channels=2, kernel_size=5, padding=2),
    dict(in_channels=3, out_channels=3, groups=3, kernel_size=3, dilation=(1, 2)),
]


@pytest.mark.parametrize("case", CASES)
def test_the_neighbourhood_shows_the_image_and_the_padding_at_those_cells(qtbot, case):
    channels = case.get("in_channels", 1)
    spec = ConvSpec(**case)
    rng = np.random.default_rng(1)
    session = Session(_photo(channels), spec, np.round(rng.normal(size=spec.weight_shape), 2),
                      np.round(rng.normal(size=spec.out_channels), 2))
    dock = _dock(qtbot, session)
    torch_out = session_output(session)
    feed(dock, torch_out, "float64")
    view = dock.view
    assert not view.whole
    padded = _padded(session)
    c_out, h_out, w_out = torch_out.shape
    for k in (0, w_out + 3, dock.state.n_steps // 2, dock.state.n_steps - 1):
        dock.state.seek(k)
        _settle()
        oc, i, j = dock.state.cell()
        step = dock.walk.step(k)
        (r0, r1), (c0, c1) = view.input_rect
        top, left = step.window_origin
        dkh, dkw = spec.dilated_kernel_hw
        assert r0 <= top and top + dkh <= r1 and c0 <= left and left + dkw <= c1  # the window is on screen
        assert r1 - r0 <= 2 * 12 and c1 - c0 <= 2 * 12  # a neighbourhood, not the whole image
        for p, ch in enumerate(step.in_channels[: len(view._channels)]):
            expected = {(float(c), float(r)): format_cell(padded[ch, r, c]) for r in range(r0, r1) for c in range(c0, c1)}
            assert _labels(view.inputs[p].labels) == expected
            (x0, x1), (y0, y1) = view.inputs[p].view_box.viewRange()
            assert x0 <= c0 - 0.5 and c1 - 0.5 <= x1 and y0 <= r0 - 0.5 and r1 - 0.5 <= y1  # framed
        (i0, i1), (j0, j1) = view.output_rect
        assert i0 <= i < i1 and j0 <= j < j1
        # Output cells: PyTorch's value once computed (row-major up to this step), empty after.
        shown = _labels(view.output.labels)
        assert set(shown) == {(float(b), float(a)) for a in range(i0, i1) for b in range(j0, j1)}
        for (x, y), text in shown.items():
            a, b = int(y), int(x)
            if (a, b) <= (i, j):  # printed to 4 significant digits (format_cell) of PyTorch's value
                assert float(text) == pytest.approx(torch_out[oc, a, b], rel=6e-4, abs=1e-9), (a, b, text)
            else:
                assert text == ""
        # A frame colours the neighbourhood's output cells, not the whole output.
        assert view.output.image.image.shape == (i1 - i0, j1 - j0)
    dock.shutdown()


def test_small_inputs_keep_the_whole_view(qtbot):
    from convplay.core.samples import X_5X5

    spec = ConvSpec(kernel_size=3, padding=1, bias=False)
    dock = _dock(qtbot, Session(X_5X5.reshape(1, 5, 5), spec, np.ones(spec.weight_shape)))
    assert dock.view.whole and not dock.overview.isVisible()
    assert dock.view.input_rect == ((0, 7), (0, 7)) and len(_labels(dock.view.inputs[0].labels)) == 49
    dock.session.set_image(_photo())
    _settle()
    assert not dock.view.whole and dock.overview.isVisible()
    dock.shutdown()


def _click(widget, point) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point.toPoint())


@pytest.mark.parametrize("case", [dict(kernel_size=3), dict(kernel_size=5, stride=2, padding=2), dict(kernel_size=3, dilation=3)])
def test_clicking_the_overview_moves_the_window_there(qtbot, case):
    spec = ConvSpec(**case)
    session = Session(_photo(size=60), spec, np.ones(spec.weight_shape), np.zeros(1))
    dock = _dock(qtbot, session)
    overview = dock.overview
    assert overview.isVisible()
    h, w = session.image.shape[1:]
    top, _, left, _ = spec.pads()
    (s, _), (ext, _) = spec.stride_hw, spec.dilated_kernel_hw
    _, h_out, w_out = spec.output_shape(session.image.shape)
    for r, c in ((30, 40), (0, 0), (h - 1, w - 1), (7, 50)):
        _click(overview, overview.input.cell_rect((r, r + 1), (c, c + 1), mark=False).center())
        # The output cell whose window is centred nearest the pixel clicked.
        i = int(np.clip(round((r + top - (ext - 1) / 2) / s), 0, h_out - 1))
        j = int(np.clip(round((c + left - (ext - 1) / 2) / s), 0, w_out - 1))
        assert dock.state.cell() == (0, i, j)
        window = overview.input_window
        assert window[0][0] <= r + 0.5 * s + ext and window[0][0] == i * s - top  # the mark follows
    for i, j in ((3, 4), (h_out - 1, 0)):
        _click(overview, overview.output.cell_rect((i, i + 1), (j, j + 1), mark=False).center())
        assert dock.state.cell() == (0, i, j)
        assert overview.output_window == ((i, i + 1), (j, j + 1))
    dock.shutdown()


def test_clicking_the_neighbourhood_and_dragging_the_overview(qtbot):
    spec = ConvSpec(kernel_size=3)
    dock = _dock(qtbot, Session(_photo(size=60), spec, np.ones(spec.weight_shape), np.zeros(1)))
    dock.state.seek(0)
    _settle()
    view, overview = dock.view, dock.overview
    # A click on an input cell of the neighbourhood puts the window's centre there.
    vb = view.inputs[0].view_box
    point = view.mapFromScene(vb.mapViewToScene(QPointF(6, 5)))  # padded cell (row 5, col 6)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert dock.state.cell() == (0, 4, 5)  # padded cell (5, 6) is the centre of output (4, 5)'s window
    # Dragging over the overview scrubs through the image.
    start = overview.input.cell_rect((10, 11), (10, 11), mark=False).center().toPoint()
    end = overview.input.cell_rect((40, 41), (50, 51), mark=False).center().toPoint()
    QTest.mousePress(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(end), QPointF(overview.mapToGlobal(end)), Qt.MouseButton.NoButton,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(overview, move)
    QTest.mouseRelease(overview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert dock.state.cell() == (0, 39, 49)
    dock.shutdown()


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("case", [dict(kernel_size=3), dict(kernel_size=(3, 2), dilation=2, padding=1),
                                  dict(in_channels=3, out_channels=2, kernel_size=3)])
def test_the_weights_on_the_window_are_the_kernel_flipped_with_true_convolution(qtbot, case, flip):
    spec = ConvSpec(**case)
    rng = np.random.default_rng(3)
    weight = np.round(rng.normal(size=spec.weight_shape), 2)
    session = Session(_photo(spec.in_channels), spec, weight, np.zeros(spec.out_channels))
    session.set_true_convolution(flip)
    dock = _dock(qtbot, session)
    kh, kw = spec.kernel_hw
    dh, dw = spec.dilation_hw
    dock.state.seek(dock.state.n_steps - 3)
    _settle()
    oc, _, _ = dock.state.cell()
    step = dock.walk.step(dock.state.position)
    top, left = step.window_origin
    scale = float(np.abs(weight[oc]).max())
    for p in range(spec.in_channels // spec.groups):
        tags = dock.view.inputs[p].weights
        texts, corners = tags.texts(), tags.corners()
        assert len(texts) == kh * kw
        for n, (text, (x, y)) in enumerate(zip(texts, corners)):
            ki, kj = divmod(n, kw)
            assert (x + 0.5, y + 0.5) == (left + kj * dw, top + ki * dh)  # on the tap's cell: dilation's gaps left out
            stored = weight[oc, p, kh - 1 - ki, kw - 1 - kj] if flip else weight[oc, p, ki, kj]
            assert text == weight_text(stored, scale)  # what PyTorch receives
        assert tags.visible and all(item.isVisible() for item in tags.items[: tags.used])
    if dh > 1 or dw > 1:
        gaps = {(item.rect().center().x(), item.rect().center().y())
                for item in dock.view.inputs[0].gaps.items[: dock.view.inputs[0].gaps.used]}
        taps = {(x + 0.5, y + 0.5) for x, y in dock.view.inputs[0].weights.corners()}
        dkh, dkw = spec.dilated_kernel_hw
        inside = {(float(left + b), float(top + a)) for a in range(dkh) for b in range(dkw)}
        assert gaps == inside - taps and not gaps & taps  # every skipped cell marked, no tap among them
    said = dock.message.text()
    assert ("flipped, as PyTorch receives them" in said) == flip
    dock.shutdown()


def test_weight_tags_are_short_and_tiny_weights_read_as_zero():
    assert weight_text(-1.0, 2) == "\u00d7-1"
    assert weight_text(1 / 768, 0.05) == "\u00d7.0013"
    assert weight_text(-0.25, 1) == "\u00d7-.25"
    assert weight_text(-1.178e-09, 1.0) == "\u00d70"
    assert weight_text(2.0, 2.0) == "\u00d72"


def test_a_transposed_stamp_carries_the_kernel_as_applied(qtbot):
    spec = ConvSpec(kernel_size=3, stride=2, padding=1, transposed=True, bias=False)
    rng = np.random.default_rng(4)
    weight = np.round(rng.normal(size=spec.weight_shape), 2)
    session = Session(_photo(size=20), spec, weight)
    dock = _dock(qtbot, session)
    assert not dock.view.whole
    dock.state.seek(5 * 23 + 7)  # input pixel (5, 7)
    _settle()
    tags = dock.view.output.weights
    scale = float(np.abs(weight[0]).max())
    expected = {}
    for ki in range(3):
        for kj in range(3):
            expected[(7 * 2 - 1 + kj - 0.5, 5 * 2 - 1 + ki - 0.5)] = weight_text(weight[0, 0, ki, kj], scale)
    assert dict(zip(tags.corners(), tags.texts())) == expected
    assert dock.controls.step_label.full_text().startswith("input pixel (channel 0, row 5, column 7)")
    dock.shutdown()


def test_the_step_text_leads_with_the_output_position(qtbot):
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5)
    session = Session(_photo(3, size=60), spec, np.ones(spec.weight_shape), np.zeros(8))
    dock = _dock(qtbot, session)
    dock.pick_output_cell(5, 17, 30)
    text = dock.controls.step_label.full_text()
    k = dock.state.position
    assert text == f"output (channel 5, row 17, column 30)  \u00b7  step {k + 1:,} / {dock.state.n_steps:,}"
    assert text.index("output (") < text.index("step")
    dock.shutdown()


@pytest.mark.parametrize("width", [1024, 700, 500])
def test_the_step_text_is_not_clipped_and_the_scrubber_keeps_its_width(qtbot, width):
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5)
    session = Session(_photo(3, size=200), spec, np.ones(spec.weight_shape), np.zeros(8))
    dock = _dock(qtbot, session, (width, 600))
    dock.pick_output_cell(7, 195, 197)
    _settle()
    label, controls = dock.controls.step_label, dock.controls
    assert dock.width() == width and controls.width() <= width
    full = label.full_text()
    assert full.startswith("output (channel 7, row 195, column 197)")
    metrics = QFontMetrics(label.font())
    if metrics.horizontalAdvance(full) <= label.width():
        assert label.text() == full  # the whole text fits: shown whole
    else:
        assert label.text().startswith("output (channel 7, row 195, column 197)")  # only the count is elided
    assert metrics.horizontalAdvance(label.text()) <= label.width()
    assert label.geometry().right() <= controls.width() and label.isVisible()
    assert controls.scrubber.width() >= 160
    for widget in (controls.speed, controls.loop_box, controls.end_button):
        assert widget.geometry().right() <= controls.width() and not widget.geometry().intersects(label.geometry())
    dock.shutdown()


def test_fonts_follow_the_text_zoom(qtbot):
    spec = ConvSpec(kernel_size=3)
    session = Session(_photo(size=60), spec, np.ones(spec.weight_shape), np.zeros(1))
    dock = _dock(qtbot, session, (1600, 900))
    dock.state.seek(70)
    _settle()
    panel = dock.view.inputs[0]
    before = (panel.labels.pixel_size(), panel.weights.pixel_size(), dock.arithmetic.text_px)
    try:
        text_zoom().set_factor(1.5)
        _settle()
        after = (panel.labels.pixel_size(), panel.weights.pixel_size(), dock.arithmetic.text_px)
        assert all(a > b for a, b in zip(after, before)), (before, after)
        cell = panel.cell_pixels()
        assert panel.labels.items[0].boundingRect().height() < cell  # still inside its cell
    finally:
        text_zoom().reset()
    _settle()
    assert (panel.labels.pixel_size(), panel.weights.pixel_size(), dock.arithmetic.text_px) == before
    dock.shutdown()


def test_the_window_s_input_and_output_panels_pick_the_position(qtbot, tmp_path):
    from convplay.qt.main_window import MainWindow

    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3)
    session = Session(_photo(size=64), spec, np.ones(spec.weight_shape), np.zeros(2))
    window = MainWindow(session, settings=QSettings(str(tmp_path / "t.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitUntil(lambda: window.results.current_output is not None, timeout=30_000)
    dock = window.animation_panel
    # The output panel: a click picks the cell of the channel it shows.
    window.output_panel.set_channel(1)
    window.output_panel.cell_picked.emit(1, 20, 30)
    assert dock.state.cell() == (1, 20, 30)
    # The input canvas: Ctrl+click picks the pixel (the window centred on it) and draws nothing.
    canvas = window.input_panel.canvas
    window.docks["input"].show()
    window.docks["input"].raise_()
    _settle()
    before = session.image.copy()
    vb = canvas.view_box
    point = canvas.mapFromScene(vb.mapViewToScene(QPointF(40, 10)))  # pixel (10, 40)
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, point)
    assert dock.state.cell() == (1, 9, 39)  # output (9, 39)'s 3x3 window is centred on pixel (10, 40)
    np.testing.assert_array_equal(session.image, before)
    window.close()


def test_in_the_window_groups_2_then_1_on_the_x_redraws_the_whole_scene(qtbot, tmp_path):
    from convplay.core.samples import X_5X5
    from convplay.qt.main_window import MainWindow

    spec = ConvSpec(kernel_size=3, bias=False)
    session = Session(X_5X5.reshape(1, 5, 5), spec, np.ones(spec.weight_shape))
    window = MainWindow(session, settings=QSettings(str(tmp_path / "t.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    assert window.show_animation_step(4) == ""
    dock = window.animation_panel
    _settle()

    def scene():
        _settle()
        view = dock.view
        return ([p.plot.geometry().getRect() for p in (view.inputs[0], view.output)], view.input_rect,
                len(_labels(view.inputs[0].labels)), dock.arithmetic.isVisibleTo(dock))

    before = scene()
    dock.view.hovered.emit("output (2, 2): not computed yet; click to jump there")
    assert dock.hover_label.text()
    session.set_spec(spec.replace(out_channels=2, groups=2))  # one input channel: cannot animate
    assert "Cannot animate" in dock.message.text()
    assert not dock.arithmetic.isVisibleTo(dock)  # its last sum is not shown as if current
    assert dock.hover_label.text() == ""  # the note described the settings before
    session.set_spec(spec)
    after = scene()
    assert after == before and after[2] == 25 and after[3]
    assert dock.state.position == 4
    window.close()


def test_with_the_channel_diagram_the_overview_takes_no_height_of_its_own(qtbot):
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5)
    session = Session(_photo(3, size=120), spec, np.ones(spec.weight_shape), np.zeros(8))
    dock = _dock(qtbot, session, (920, 660))  # the Sliding window workspace's dock at 1280x720
    diagram, overview, view = dock.diagram.geometry(), dock.overview.geometry(), dock.view.geometry()
    assert dock.diagram.isVisible() and dock.overview.isVisible()
    assert overview.bottom() < view.top() and diagram.bottom() < view.top()  # both in the strip above
    assert not overview.intersects(diagram) and overview.right() <= dock.stage.width()
    assert view.height() >= dock.stage.height() - diagram.height() - 4
    dock.shutdown()


def test_a_square_dock_stacks_only_where_the_height_holds_both(qtbot):
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5)
    session = Session(_photo(3, size=120), spec, np.ones(spec.weight_shape), np.zeros(8))
    dock = _dock(qtbot, session, (580, 560))  # the Sliding window workspace's dock at 1024x640
    assert dock.splitter.orientation() == Qt.Orientation.Horizontal
    assert dock.minimumSizeHint().height() <= 560  # no scrolling: the transport row stays in sight
    assert dock.controls.geometry().bottom() < dock.badge.geometry().top() <= dock.height()
    dock.resize(600, 1000)
    _settle()
    assert dock.splitter.orientation() == Qt.Orientation.Vertical  # tall enough: the arithmetic below
    dock.shutdown()


def test_labels_follow_a_neighbourhood_that_moves_every_step(qtbot):
    """Three channels side by side at 1280x720: the tile is one window wide and moves on
    every step; each cell's label keeps its slot, and at the image's edge a smaller tile
    leaves no label of the one before."""
    spec = ConvSpec(in_channels=3, out_channels=2, kernel_size=5, padding=2)
    rng = np.random.default_rng(2)
    session = Session(_photo(3, size=20), spec, np.round(rng.normal(size=spec.weight_shape), 2))
    dock = _dock(qtbot, session)
    view = dock.view
    assert not view.whole
    padded = _padded(session)
    _, h_out, w_out = session_output(session).shape
    tiles = set()
    for k in [*range(0, w_out + 2), *range(h_out * w_out - w_out - 2, h_out * w_out + 3)]:
        dock.state.seek(k)
        _settle()
        tiles.add(view.input_rect)
        (r0, r1), (c0, c1) = view.input_rect
        step = dock.walk.step(k)
        for p, ch in enumerate(step.in_channels[: len(view._channels)]):
            expected = {(float(c), float(r)): format_cell(padded[ch, r, c]) for r in range(r0, r1) for c in range(c0, c1)}
            assert view.inputs[p].labels.shown() == expected, k
            hidden = [item for n, item in enumerate(view.inputs[p].labels.items)
                      if (item.pos().x(), item.pos().y()) not in expected and item.isVisible()]
            assert not hidden, k  # no label of an earlier tile still on screen
    assert len(tiles) > w_out // 2  # the tile did move
    dock.shutdown()


def test_a_large_channel_s_levels_come_from_a_worker(qtbot, monkeypatch):
    """Until the reference is in, the cells are PyTorch's values scaled by the channel on
    screen; a large channel is scanned off the UI thread, the cells waiting meanwhile."""
    import convplay.qt.animation.dock as dock_module

    monkeypatch.setattr(dock_module, "SYNC_LEVEL_CELLS", 0)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, padding=1)
    rng = np.random.default_rng(3)
    session = Session(_photo(1), spec, np.round(rng.normal(size=spec.weight_shape), 2))
    dock = _dock(qtbot, session)
    torch_out = session_output(session).astype(np.float32)
    feed_torch_only(dock, torch_out)
    assert dock.view._values is None  # waiting for the levels, as for PyTorch's output
    qtbot.waitUntil(lambda: dock.view._values is torch_out, timeout=5000)
    oc = dock.state.cell()[0]
    m = float(np.abs(torch_out[oc]).max())
    assert dock.view._out_levels == (-m, m)
    dock.shutdown()


def feed_torch_only(dock: AnimationDock, output: np.ndarray) -> None:
    results = dock.results
    request = results.begin(dock.session, ComputeSettings(dtype="float32"))
    results.set_outcome(results.generation, ComputeOutcome(request, output, 0.0, "CPU"))


def test_label_slots_left_empty_hide_their_old_labels(qtbot):
    """A frame that fills fewer slots than the last (a tile cut short) hides the rest, also
    when the labels come back into sight after being too small to show."""
    import pyqtgraph as pg

    from convplay.qt.animation.pools import LabelPool

    pool = LabelPool(pg.ViewBox(), "#000000")
    for n in range(4):
        pool.set(n, float(n), 0.0, f"v{n}", key=n)
    pool.finish_slots(4, {0, 1, 2, 3})
    assert pool.holds(2, 2) and not pool.holds(2, "other")
    pool.set(1, 9.0, 9.0, "w", key="w")
    pool.finish_slots(4, {1, 3})
    assert pool.shown() == {(9.0, 9.0): "w", (3.0, 0.0): "v3"}
    assert [item.isVisible() for item in pool.items] == [False, True, False, True]
    assert not pool.holds(0, 0)  # an emptied slot must be set again
    pool.set_visible(False)
    pool.set_visible(True)
    assert [item.isVisible() for item in pool.items] == [False, True, False, True]
    pool.finish(0)
    assert pool.shown() == {} and not any(item.isVisible() for item in pool.items)
