"""The animation panel: seed 001 animates, every control and key works, numbers match PyTorch."""

from __future__ import annotations

import gc
import resource
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF, QRectF, Qt

from convplay.core.compute_settings import ComputeSettings
from convplay.core.results import ComputeOutcome, reference_outcome
from convplay.core.samples import X_5X5
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.core.walk import ConvWalk
from convplay.qt.animation.dock import AnimationDock
from oracles import session_output
from convplay.core.formatting import format_cell as format_number, format_readout

X_KERNEL = np.array([[[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]], dtype=float)
X_OUTPUT = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


def _torch(session: Session) -> np.ndarray:
    return session_output(session)


def feed(dock: AnimationDock, output: np.ndarray, dtype: str = "float32", reference: bool = True) -> None:
    """What the window's workers do: PyTorch's output, then the reference and verdict."""
    results = dock.results
    request = results.begin(dock.session, ComputeSettings(dtype=dtype))
    results.set_outcome(results.generation, ComputeOutcome(request, output, 0.0, "CPU"))
    if reference:
        results.set_reference(results.generation, reference_outcome(request, output))


def _seed_session() -> Session:
    return Session(X_5X5.reshape(1, 5, 5), ConvSpec(kernel_size=3, bias=False), X_KERNEL)


@pytest.fixture
def dock(qtbot):
    widget = AnimationDock(_seed_session())
    qtbot.addWidget(widget)
    widget.resize(1280, 720)
    widget.show()
    yield widget
    widget.shutdown()


def test_seed_001_animates_to_the_tutorial_output(dock):
    seen = []
    for k in range(9):
        dock.state.seek(k)
        seen.append(dock.arithmetic.total)
    assert np.array(seen).reshape(3, 3).tolist() == X_OUTPUT
    assert np.array_equal(dock.view._fill, np.array(X_OUTPUT, dtype=np.float32))
    # Integers print as integers, in the grid, the equation and the sums.
    assert dock.arithmetic.grid.cell_texts(0, 0, 0) == ("1\u00d71", "= 1")
    assert dock.arithmetic.equation.text().endswith("= 4")
    assert "." not in dock.arithmetic.equation.text()


def test_not_yet_computed_cells_are_empty(dock):
    feed(dock, _torch(dock.session))  # a jump fills the earlier cells from the reference
    dock.state.seek(4)
    fill = dock.view._fill.reshape(-1)
    assert np.isnan(fill[5:]).all() and not np.isnan(fill[:5]).any()
    dock.state.step_back()
    assert np.isnan(dock.view._fill.reshape(-1)[4:]).all()


def test_badge_and_pytorch_check(dock):
    assert "waiting" in dock.badge.text()
    feed(dock, _torch(dock.session).astype(np.float32))
    assert dock.match.matches and "Matches PyTorch" in dock.badge.text()
    assert "\u2713 equals" in dock.arithmetic.check.text()
    wrong = _torch(dock.session)
    wrong[0, 2, 1] += 0.5
    feed(dock, wrong, "float64")
    assert not dock.match.matches and "1 cells differ" in dock.badge.text()
    dock.state.seek(7)
    assert "\u2717 differs" in dock.arithmetic.check.text()
    bad = dock.view.output.bad
    assert bad.used == 1 and bad.items[0].isVisible()
    assert bad.items[0].rect().center() == QPointF(1, 2)


def test_buttons_and_scrubber(dock, qtbot):
    c = dock.controls
    qtbot.mouseClick(c.forward_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(c.forward_button, Qt.MouseButton.LeftButton)
    assert dock.state.position == 2
    qtbot.mouseClick(c.back_button, Qt.MouseButton.LeftButton)
    assert dock.state.position == 1
    qtbot.mouseClick(c.end_button, Qt.MouseButton.LeftButton)
    assert dock.state.position == 8
    assert c.step_label.full_text() == "output (channel 0, row 2, column 2)  \u00b7  step 9 / 9"  # the position first
    qtbot.mouseClick(c.start_button, Qt.MouseButton.LeftButton)
    assert dock.state.position == 0
    c.scrubber.setValue(6)
    assert dock.state.position == 6 and dock.arithmetic.total == 2
    dock.state.seek(3)
    assert c.scrubber.value() == 3
    c.speed.setValue(60.0)
    assert dock.state.speed == 60.0
    c.speed.setValue(100.0)
    assert dock.state.speed == 60.0
    c.speed.setValue(0.1)
    assert dock.state.speed == 0.5
    c.loop_box.setChecked(True)
    assert dock.state.loop
    dock.state.set_loop(False)
    assert not c.loop_box.isChecked()
    qtbot.mouseClick(c.play_button, Qt.MouseButton.LeftButton)
    assert dock.state.playing and dock.player.timer.isActive() and c.play_button.text() == "||"
    qtbot.mouseClick(c.play_button, Qt.MouseButton.LeftButton)
    assert not dock.state.playing and not dock.player.timer.isActive()


def test_the_timer_plays_to_the_end(dock, qtbot):
    feed(dock, _torch(dock.session))  # a frame the timer skips is filled from the reference
    dock.state.set_speed(60)
    dock.state.play()
    qtbot.waitUntil(lambda: not dock.state.playing, timeout=5000)
    assert dock.state.position == 8 and not dock.player.timer.isActive()
    assert np.array_equal(dock.view._fill, np.array(X_OUTPUT, dtype=np.float32))


@pytest.mark.parametrize(
    "key, start, expected",
    [
        (Qt.Key.Key_Right, 4, 5), (Qt.Key.Key_Left, 4, 3), (Qt.Key.Key_Down, 4, 7), (Qt.Key.Key_Up, 4, 1),
        (Qt.Key.Key_Home, 4, 0), (Qt.Key.Key_End, 4, 8),
    ],
)
def test_shortcuts(dock, qtbot, key, start, expected):
    dock.state.seek(start)
    dock.setFocus()
    qtbot.keyClick(dock, key)
    assert dock.state.position == expected


def test_space_plays_and_pauses(dock, qtbot):
    dock.setFocus()
    qtbot.keyClick(dock, Qt.Key.Key_Space)
    assert dock.state.playing
    qtbot.keyClick(dock, Qt.Key.Key_Space)
    assert not dock.state.playing


def _scene_point(panel, x, y):
    return panel.view_box.mapViewToScene(QPointF(x, y))


def test_clicking_an_output_cell_jumps_there_and_hovering_previews(dock):
    dock.state.seek(0)
    with pytest.MonkeyPatch.context():
        dock.view.output_clicked.emit(2, 1)
    assert dock.state.cell() == (0, 2, 1)
    assert dock.view._cell_at(dock.view.output, _scene_point(dock.view.output, 2, 1)) == (1, 2)
    dock.view._on_mouse_moved(_scene_point(dock.view.output, 2, 0))  # hover output (0, 2)
    preview = dock.view.inputs[0].preview
    assert preview.used == 9
    xs = sorted({item.rect().center().x() for item in preview.items[:9]})
    assert xs == [2, 3, 4]
    assert dock.view.output.preview.items[0].rect().center() == QPointF(2, 0)
    dock.view._on_mouse_moved(QPointF(-1000, -1000))
    assert preview.used == 0


def test_hover_names_the_pixel_a_pad_cell_copies(qtbot):
    spec = ConvSpec(kernel_size=3, padding=1, padding_mode="reflect", bias=False)
    image = np.arange(16.0).reshape(1, 4, 4)
    dock = AnimationDock(Session(image, spec, np.ones(spec.weight_shape)))
    qtbot.addWidget(dock)
    # Padded (0, 0) with reflect copies pixel (1, 1) = 5.
    assert dock.view.describe_input_cell(0, 0, 0) == "padding (0, 0), reflect: copies pixel (1, 1) = 5"
    assert dock.view.describe_input_cell(0, 1, 1) == "input (0, 0, 0) = 0"
    labels = dock.view.inputs[0].pad_labels
    texts = [item.text() for item in labels.items[: labels.used]]
    assert len(texts) == 6 * 6 - 16 and "(1,1)" in texts
    assert dock.view.inputs[0].pads.used == 4  # four hatched bands
    dock.shutdown()


def test_a_change_keeps_the_position_where_it_exists_else_restarts(dock):
    dock.state.seek(4)  # output (0, 1, 1)
    dock.session.set_weight(X_KERNEL * 2)
    assert dock.state.position == 4 and dock.arithmetic.total == 8
    dock.session.set_spec(dock.session.spec.replace(padding=1))  # 5x5 output: (1, 1) still exists
    assert dock.state.cell() == (0, 1, 1)
    dock.state.seek_cell(0, 4, 4)
    dock.session.set_spec(dock.session.spec.replace(padding=0))  # (4, 4) is gone
    assert dock.state.position == 0 and not dock.state.playing
    assert dock.arithmetic.total == 8


def test_invalid_settings_show_a_message_and_raise_nothing(dock):
    dock.session.set_spec(dock.session.spec.replace(kernel_size=7))
    assert "Cannot animate" in dock.message.text()
    assert dock.state.n_steps == 0 and not dock.controls.isEnabled()
    dock.session.set_spec(dock.session.spec.replace(kernel_size=3))
    assert dock.state.n_steps == 9


def test_true_convolution_is_drawn_flipped_and_labelled(dock):
    dock.session.set_weight(np.arange(9.0).reshape(1, 1, 3, 3))
    dock.session.set_true_convolution(True)
    dock.state.seek(0)
    assert "flipped" in dock.arithmetic.kernel_note.text()
    assert dock.arithmetic.grid.cell_texts(0, 0, 0)[0] == "1\u00d78"
    feed(dock, _torch(dock.session), "float64")
    assert dock.match.matches


def test_transposed_scatter_adds_up_to_pytorch(qtbot):
    rng = np.random.default_rng(3)
    spec = ConvSpec(in_channels=2, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1,
                    transposed=True, groups=2)
    session = Session(rng.integers(0, 4, (2, 3, 3)).astype(float), spec, rng.integers(-2, 3, spec.weight_shape).astype(float),
                      np.array([0.5, -1.0]))
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    expected = _torch(session)
    for oc in range(2):
        dock.scatter_channel.setValue(oc)
        dock.state.to_start()
        for _ in range(dock.state.n_steps - 1):
            dock.state.step_forward()  # incremental stamps
        np.testing.assert_allclose(dock.stamps.sum, expected[oc], atol=1e-12)
        dock.state.seek(4)
        dock.state.to_end()  # a jump recomputes
        np.testing.assert_allclose(dock.stamps.sum, expected[oc], atol=1e-12)
    assert "stamps value" in dock.arithmetic.heading.text()
    dock.shutdown()


specs = st.builds(
    dict,
    c_in=st.sampled_from([1, 2, 3, 4]),
    c_out_per_group=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
    kh=st.integers(1, 4), kw=st.integers(1, 4),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("same"), st.just("valid")),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    bias=st.booleans(), flip=st.booleans(), seed=st.integers(0, 2**16), where=st.floats(0, 1),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=specs)
def test_panel_numbers_equal_the_walk_and_pytorch(qtbot, p):
    groups = p["groups"] if p["c_in"] % p["groups"] == 0 else 1
    stride = (1, 1) if p["padding"] == "same" else p["stride"]
    spec = ConvSpec(in_channels=p["c_in"], out_channels=p["c_out_per_group"] * groups, kernel_size=(p["kh"], p["kw"]),
                    stride=stride, padding=p["padding"], dilation=p["dilation"], groups=groups, bias=p["bias"],
                    padding_mode=p["mode"])
    rng = np.random.default_rng(p["seed"])
    image = rng.normal(size=(p["c_in"], 7, 8))
    if not spec.is_valid(image.shape):
        return
    session = Session(image, spec, rng.normal(size=spec.weight_shape), rng.normal(size=spec.out_channels))
    session.set_true_convolution(p["flip"])
    dock = _shared_dock(qtbot, session)
    out = _torch(session)
    feed(dock, out, "float64")
    k = int(p["where"] * (dock.state.n_steps - 1))
    dock.state.seek(k)
    step = ConvWalk(session.image, session.weight, session.bias, spec, flip=p["flip"]).step(k)
    oc, (i, j) = step.out_channel, step.position
    assert dock.arithmetic.total == step.total
    assert dock.arithmetic.total == pytest.approx(out[oc, i, j], abs=1e-9)
    assert "\u2713 equals" in dock.arithmetic.check.text()
    grid = dock.arithmetic.grid
    shown = grid._values.shape[0]
    _, kh, kw = step.taps_shape
    for t in range(shown * kh * kw):
        g, rest = divmod(t, kh * kw)
        r, c = divmod(rest, kw)
        upper, lower = grid.cell_texts(g, r, c)
        assert upper == f"{format_number(step.taps.value[t])}\u00d7" + (
            f"({format_number(step.taps.weight[t])})" if step.taps.weight[t] < 0 else format_number(step.taps.weight[t]))
        assert lower == f"= {format_number(step.taps.product[t])}"
    assert f"bias {format_readout(step.bias)}" in dock.arithmetic.sums.text()
    assert dock.match.matches


_DOCKS: dict[str, AnimationDock] = {}


def _shared_dock(qtbot, session):
    """One dock per test run: hypothesis examples swap the session in, as the window would."""
    dock = _DOCKS.get("dock")
    if dock is None:
        dock = _DOCKS["dock"] = AnimationDock(session)
        return dock
    dock.session.changed.disconnect(dock._on_session_changed)
    dock.session = session
    session.changed.connect(dock._on_session_changed)
    dock.rebuild()
    return dock


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_10000_steps_without_warnings_or_memory_growth(qtbot):
    # Two channels, padding and a stride: every frame path (fill, relabel on wrap, ghost).
    # 36 steps a loop: 10,000 frames wrap 277 times, through every path many times over.
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=2, out_channels=2, kernel_size=3, padding=1, stride=(1, 2))
    session = Session(rng.integers(0, 3, (2, 6, 6)).astype(float), spec, rng.normal(size=spec.weight_shape))
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    dock.resize(1280, 720)
    dock.show()
    dock.state.set_loop(True)
    dock.state.set_speed(60)
    dock.state.play()
    dock.player.timer.stop()  # frames are driven directly below, not by real time
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2000):
            dock.player.tick(1 / 60)
        gc.collect()
        before = _rss_kib()
        for _ in range(8000):
            dock.player.tick(1 / 60)
        gc.collect()
        after = _rss_kib()
    assert dock.state.position == 10000 % dock.state.n_steps
    assert after - before < 8 * 1024, f"RSS grew by {after - before} KiB"
    assert len(dock.view.inputs[0].taps.items) == 9  # the pool never grew
    dock.shutdown()


# -- the lecture view: legible on a projector, nothing clipped ----------------------------------


def _settle():
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()


def test_outlines_are_centred_on_their_cells(qtbot):
    spec = ConvSpec(kernel_size=3, padding=1, dilation=2, bias=False)
    dock = AnimationDock(Session(np.arange(36.0).reshape(1, 6, 6), spec, np.ones(spec.weight_shape)))
    qtbot.addWidget(dock)
    panel = dock.view.inputs[0]
    # Padded 8x8: the four bands of padding cover rows/columns 0 and 7 exactly.
    bands = sorted(item.rect().getRect() for item in panel.pads.items[: panel.pads.used])
    assert bands == sorted([(-0.5, -0.5, 8, 1), (-0.5, 6.5, 8, 1), (-0.5, 0.5, 1, 6), (6.5, 0.5, 1, 6)])
    dock.state.seek(5)  # output (1, 1): the dilated 5x5 footprint starts at padded (1, 1)
    assert panel.extent.items[0].rect().getRect() == (0.5, 0.5, 5, 5)
    dock.state.seek(4)
    dock.state.step_forward()  # from output (1, 0): the previous window is one column to the left
    assert panel.ghost.items[0].isVisible() and panel.ghost.items[0].rect().getRect() == (-0.5, 0.5, 5, 5)
    tap_centres = sorted({(item.rect().center().x(), item.rect().center().y()) for item in panel.taps.items[:9]})
    assert tap_centres == [(x, y) for x in (1, 3, 5) for y in (1, 3, 5)]
    out = dock.view.output
    assert out.empty.items[0].rect().getRect() == (-0.5, -0.5, 4, 4)  # the mesh behind every output cell
    dock.shutdown()


def test_value_labels_grow_with_the_cells_and_hide_when_too_small(dock):
    _settle()
    labels = dock.view.inputs[0].labels
    big = labels.pixel_size()
    cell = dock.view.inputs[0].cell_pixels()
    assert cell > 60 and big >= 20 and labels.visible  # seed 001 at 1280x720: legible from the back
    assert labels.items[0].boundingRect().width() < cell  # still inside its cell
    dock.resize(560, 330)
    _settle()
    assert labels.pixel_size() < big and labels.visible
    dock.view.inputs[0].view_box.setRange(QRectF(-0.5, -0.5, 200, 200), padding=0)  # zoomed far out
    _settle()
    assert not labels.visible and not any(item.isVisible() for item in labels.items)
    dock.view.inputs[0].view_box.setRange(QRectF(-0.5, -0.5, 5, 5), padding=0)
    _settle()
    assert labels.visible


def test_labels_contrast_with_their_cells(dock):
    feed(dock, _torch(dock.session))  # the reference's levels: -4..4
    dock.state.seek(4)
    labels = dock.view.output.labels
    white = [item.brush().color().lightness() > 200 for item in labels.items[:5]]
    # Outputs 4, 3, 4, 2, 4 on a map spanning -4..4: the 4s are dark red (white text), 2 is pale (dark text).
    assert white[0] and white[2] and white[4] and not white[3]
    inputs = dock.view.inputs[0].labels  # black 0s get white text, white 1s dark text
    x = X_5X5.reshape(-1)
    for item, value in zip(inputs.items[:25], x):
        assert (item.brush().color().lightness() > 200) == (value == 0)


def test_the_arithmetic_gets_its_share_with_square_cells_and_no_clipped_text(dock):
    feed(dock, _torch(dock.session).astype(np.float32))
    dock.state.seek(4)
    _settle()
    arithmetic = dock.arithmetic
    assert dock.splitter.orientation() == Qt.Orientation.Horizontal
    assert arithmetic.width() >= 0.35 * dock.splitter.width()
    grid = arithmetic.grid
    grid.grab()  # paint once: the cell size is decided while painting
    assert grid.cell_size >= 80 and grid.text_px >= 20  # seed 001's products legible on a projector
    assert 3 * grid.cell_size <= grid.width() and 3 * grid.cell_size + 20 <= grid.height()
    widgets = [arithmetic.heading, arithmetic.kernel_note, grid, arithmetic.equation, arithmetic.sums, arithmetic.check]
    for upper, lower in zip(widgets, widgets[1:]):
        assert upper.geometry().bottom() < lower.geometry().top()  # nothing overlaps
    for label in widgets[3:]:
        assert label.height() >= label.heightForWidth(label.width())  # every wrapped line shown
    assert widgets[-1].geometry().bottom() <= arithmetic.height()


def test_a_tall_dock_puts_the_arithmetic_below_and_a_dragged_split_is_kept(dock):
    dock.resize(600, 900)
    _settle()
    assert dock.splitter.orientation() == Qt.Orientation.Vertical
    view, arithmetic = dock.splitter.sizes()
    assert arithmetic >= 0.35 * (view + arithmetic)
    dock.resize(1280, 720)
    _settle()
    dock.splitter.moveSplitter(700, 1)
    dock.splitter.splitterMoved.emit(700, 1)
    share = dock.splitter.sizes()[1] / sum(dock.splitter.sizes())
    dock.resize(1100, 700)
    _settle()
    assert dock.splitter.sizes()[1] / sum(dock.splitter.sizes()) == pytest.approx(share, abs=0.01)


def test_the_dock_fits_a_1024x640_window(dock):
    hint = dock.minimumSizeHint()
    assert hint.width() <= 1000 and hint.height() <= 520  # room left for the menu bar and the dock's title
    dock.resize(1020, 560)
    _settle()
    assert dock.size().toTuple() == (1020, 560)
    assert dock.controls.geometry().bottom() < dock.badge.geometry().top() <= dock.height()


def test_several_input_channels_stack_the_output_below_them(qtbot):
    rng = np.random.default_rng(5)
    spec = ConvSpec(in_channels=3, out_channels=2, kernel_size=3, bias=False)
    dock = AnimationDock(Session(rng.integers(0, 4, (3, 5, 5)).astype(float), spec, rng.integers(-2, 3, spec.weight_shape).astype(float)))
    qtbot.addWidget(dock)
    dock.resize(1280, 720)
    dock.show()
    _settle()
    below = dock.view.output.plot.geometry().top() >= dock.view.inputs[0].plot.geometry().bottom()
    assert below  # 3 inputs and the output in one row would make every cell smaller
    grid = dock.arithmetic.grid
    grid.grab()
    assert grid.cell_size >= 40  # three 3x3 grids side by side or wrapped, never squeezed into a column
    dock.shutdown()


def test_a_kernel_edit_keeps_what_was_made_from_the_input(dock):
    view = dock.view
    padded, levels = view._padded, view._levels
    dock.session.set_weight(dock.session.weight * 2)
    assert view._padded is padded and view._levels == levels  # no scan or copy of the input
    dock.state.seek(4)
    assert dock.arithmetic.total == 8  # the new kernel: 2 x the X kernel on the X
    dock.session.set_spec(dock.session.spec.replace(padding=1))
    assert view._padded is not padded and view._padded.shape == (1, 7, 7)
    dock.session.set_image(dock.session.image * 3)
    assert view._levels == (0.0, 3.0)


def test_the_scene_comes_back_whole_after_settings_that_cannot_animate(dock, qtbot):
    def geometry():
        _settle()
        return [dock.view.output.plot.geometry().getRect(), dock.view.inputs[0].plot.geometry().getRect()]

    before = geometry()
    assert before[0][3] > 0.5 * dock.view.height()  # the output plot takes the view's height
    dock.session.set_spec(dock.session.spec.replace(out_channels=2, groups=2))  # 1 input channel: refused
    assert "Cannot animate" in dock.message.text() and not dock.arithmetic.isVisibleTo(dock)
    dock.session.set_spec(dock.session.spec.replace(out_channels=1, groups=1))
    assert dock.arithmetic.isVisibleTo(dock)
    assert geometry() == before  # not a thin strip


def test_a_large_scatter_jump_is_summed_on_a_worker(qtbot, monkeypatch):
    from convplay.qt.animation import stamps

    monkeypatch.setattr(stamps, "SYNC_STAMP_MACS", 0)  # every jump goes to the worker
    rng = np.random.default_rng(5)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, stride=2, transposed=True)
    session = Session(rng.normal(size=(1, 4, 5)), spec, rng.normal(size=spec.weight_shape), np.array([0.25, -1.0]))
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    dock.scatter_channel.setValue(1)
    dock.state.to_end()  # a jump: the cells wait for the worker's sum
    qtbot.waitUntil(lambda: dock.stamps.sum is not None, timeout=30_000)
    np.testing.assert_allclose(dock.stamps.sum, _torch(session)[1], atol=1e-12)
    dock.state.step_back()
    qtbot.waitUntil(lambda: dock.stamps.sum is not None, timeout=30_000)
    masked = session.image.copy()
    masked.reshape(-1)[-1] = 0  # every stamp but the last input pixel's
    expected = session_output(Session(masked, spec, session.weight, session.bias))[1]
    np.testing.assert_allclose(dock.stamps.sum, expected, atol=1e-12)
    dock.shutdown()


def test_a_long_hover_readout_leaves_the_badge_alone_and_goes_with_the_settings(dock):
    feed(dock, _torch(dock.session))
    _settle()
    height = dock.badge.height()
    dock.hover_label.setText("input channel 0, row 4, col 4 (a pad cell copying row 3, col 3): 1; not computed yet")
    _settle()
    assert dock.badge.height() == height  # the badge keeps its lines; the scene does not move
    dock.session.set_image(dock.session.image * 2)
    assert dock.hover_label.text() == ""  # it described a cell of the image before


def test_clicking_an_output_cell_of_a_transposed_conv_goes_to_a_stamp_that_reaches_it(qtbot):
    rng = np.random.default_rng(8)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1,
                    transposed=True)
    session = Session(rng.normal(size=(1, 3, 3)), spec, rng.normal(size=spec.weight_shape), None)
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    dock.scatter_channel.setValue(1)
    for i, j in [(0, 0), (5, 5), (2, 3), (4, 1)]:
        dock.view.output_clicked.emit(i, j)
        stamp = dock.walk.scatter(*dock.walk.scatter_pixel(dock.state.position))
        reached = {(int(r), int(c)) for r, c, oc, inside in
                   zip(stamp.out_row, stamp.out_col, stamp.out_channel, stamp.inside) if inside and oc == 1}
        assert (i, j) in reached, (i, j, stamp.position)
    assert dock.scatter_channel.value() == 1
    dock.shutdown()
