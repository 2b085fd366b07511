"""Kernel panel: view -> model and model -> view, presets, edits, undo, refused input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QUndoStack

from convplay.core.presets import PRESETS, get_preset
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.core.formatting import parse_value
from convplay.core.kernel_edits import centred_resize, kaiming_uniform
from convplay.qt.panels.kernel_panel import ALL, SELECTED, KernelPanel


@pytest.fixture
def setup(qtbot):
    session = Session(np.zeros((3, 16, 16)), ConvSpec(in_channels=3, out_channels=2))
    stack = QUndoStack()
    panel = KernelPanel(session, stack)
    qtbot.addWidget(panel)
    return session, stack, panel


def _type(grid, row, col, text):
    grid.item(row, col).setText(text)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_loads_into_the_grid_and_the_session(setup, preset):
    session, stack, panel = setup
    panel.set_scope(ALL)
    panel.apply_preset(preset)
    kh, kw = preset.weights.shape
    assert session.weight.shape == (2, 3, kh, kw)
    assert session.spec.kernel_hw == (kh, kw)
    for o in range(2):
        for i in range(3):
            np.testing.assert_array_equal(session.weight[o, i], preset.weights)
    np.testing.assert_array_equal(panel.grid.values(), preset.weights)
    assert (panel.kh_spin.value(), panel.kw_spin.value()) == (kh, kw)


def test_preset_on_selected_pair_leaves_the_others(setup):
    session, _, panel = setup
    panel.set_scope(SELECTED)
    panel.in_spin.setValue(1)
    panel.apply_preset(get_preset("sobel_x"))
    np.testing.assert_array_equal(session.weight[0, 1], get_preset("sobel_x").weights)
    assert not session.weight[0, 0].any() and not session.weight[1].any()


def test_preset_combo_applies_and_has_tooltips(setup):
    session, _, panel = setup
    index = panel.preset_combo.findData("sobel_y")
    assert panel.preset_combo.itemData(index, 3)  # Qt.ToolTipRole == 3
    panel.set_scope(ALL)
    panel.preset_combo.activated.emit(index)
    np.testing.assert_array_equal(session.weight[1, 2], get_preset("sobel_y").weights)
    assert panel.preset_combo.currentIndex() == 0


def test_typed_values_reach_the_session_and_undo(setup):
    session, stack, panel = setup
    panel.out_spin.setValue(1)
    panel.in_spin.setValue(2)
    _type(panel.grid, 0, 2, "1/9")
    assert session.weight[1, 2, 0, 2] == pytest.approx(1 / 9)
    _type(panel.grid, 1, 1, "-2.5")
    assert session.weight[1, 2, 1, 1] == -2.5
    assert stack.count() == 2
    stack.undo()
    assert session.weight[1, 2, 1, 1] == 0
    assert panel.grid.item(1, 1).text() == "0"


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1/0", "abc", ""])
def test_refused_text_shows_a_message_and_changes_nothing(setup, text):
    session, stack, panel = setup
    before = session.weight
    _type(panel.grid, 0, 0, text)
    assert session.weight is before and stack.count() == 0
    assert panel.message.text()
    assert panel.grid.item(0, 0).text() == "0"


def test_model_to_view(setup):
    session, _, panel = setup
    weight = np.arange(2 * 3 * 9, dtype=float).reshape(2, 3, 3, 3)
    session.set_weight(weight)
    np.testing.assert_array_equal(panel.grid.values(), weight[0, 0])
    panel.out_spin.setValue(1)
    panel.in_spin.setValue(2)
    np.testing.assert_array_equal(panel.grid.values(), weight[1, 2])
    session.set_spec(session.spec.replace(out_channels=4, kernel_size=(2, 5)))
    assert panel.out_spin.maximum() == 3 and (panel.kh_spin.value(), panel.kw_spin.value()) == (2, 5)
    assert panel.bias_grid.columnCount() == 4
    session.set_bias(np.array([1.0, -2.0, 0.5, 0.0]))
    np.testing.assert_array_equal(panel.bias_grid.values(), [[1.0, -2.0, 0.5, 0.0]])


def test_bias_typed_reaches_the_session(setup):
    session, _, panel = setup
    _type(panel.bias_grid, 0, 1, "0.25")
    np.testing.assert_array_equal(session.bias_values, [0.0, 0.25])


def test_kernel_size_spins_go_through_the_spec_and_keep_the_centre(setup):
    session, stack, panel = setup
    panel.set_scope(ALL)
    panel.apply_preset(get_preset("sobel_x"))
    panel.kw_spin.setValue(5)
    assert session.spec.kernel_hw == (3, 5)
    np.testing.assert_array_equal(session.weight[0, 0, :, 1:4], get_preset("sobel_x").weights)
    stack.undo()
    assert session.spec.kernel_hw == (3, 3) and panel.kw_spin.value() == 3


def test_normalise_and_zero_sum_refused(setup):
    session, stack, panel = setup
    panel.set_scope(SELECTED)
    _type(panel.grid, 0, 0, "2")
    _type(panel.grid, 1, 1, "6")
    panel.normalise()
    assert session.weight[0, 0].sum() == pytest.approx(1.0)
    panel.set_scope(ALL)
    panel.apply_preset(get_preset("sobel_x"))
    count, before = stack.count(), session.weight
    panel.normalise()
    assert "sums to 0" in panel.message.text()
    assert session.weight is before and stack.count() == count


def test_normalise_all_makes_each_output_filter_sum_to_one(setup):
    session, _, panel = setup
    panel.set_scope(ALL)
    panel.apply_preset(get_preset("box3"))
    panel.normalise()
    for o in range(2):
        assert session.weight[o].sum() == pytest.approx(1.0)
        assert session.weight[o, 1].sum() == pytest.approx(1 / 3)


def test_flip_transpose_clear(setup):
    session, _, panel = setup
    kernel = np.arange(6, dtype=float).reshape(2, 3)
    session.set_kernel(session.spec.replace(kernel_size=(2, 3)), np.broadcast_to(kernel, (2, 3, 2, 3)).copy())
    panel.set_scope(SELECTED)
    panel.flip(axis=3)
    np.testing.assert_array_equal(session.weight[0, 0], kernel[:, ::-1])
    np.testing.assert_array_equal(session.weight[0, 1], kernel)
    panel.flip(axis=2)
    np.testing.assert_array_equal(session.weight[0, 0], kernel[::-1, ::-1])
    panel.transpose()  # non-square: every pair, and kernel_size swaps
    assert session.spec.kernel_hw == (3, 2)
    np.testing.assert_array_equal(session.weight[1, 2], kernel.T)
    panel.clear()
    assert not session.weight[0, 0].any() and session.weight[1, 2].any()
    panel.set_scope(ALL)
    panel.clear()
    assert not session.weight.any()


def test_random_follows_conv2d_initialisation(setup):
    session, stack, panel = setup
    panel.randomise()
    bound = 1 / np.sqrt(3 * 3 * 3)
    assert np.abs(session.weight).max() <= bound and np.abs(session.bias_values).max() <= bound
    assert session.weight.std() > bound / 4
    assert stack.count() == 1


def test_kaiming_bound_matches_torch():
    torch = pytest.importorskip("torch")
    for spec in (
        ConvSpec(in_channels=4, out_channels=6, kernel_size=(3, 5), groups=2),
        ConvSpec(in_channels=4, out_channels=6, kernel_size=2, groups=2, transposed=True),
    ):
        torch.manual_seed(0)
        cls = torch.nn.ConvTranspose2d if spec.transposed else torch.nn.Conv2d
        layer = cls(spec.in_channels, spec.out_channels, spec.kernel_hw, groups=spec.groups)
        fan_in = layer.weight.shape[1] * layer.weight.shape[2] * layer.weight.shape[3]
        weight, bias = kaiming_uniform(spec, np.random.default_rng(0))
        assert weight.shape == tuple(layer.weight.shape) and bias.shape == tuple(layer.bias.shape)
        assert np.abs(weight).max() <= 1 / np.sqrt(fan_in)
        # torch's own draws also stay under the same bound
        assert layer.weight.abs().max().item() <= 1 / np.sqrt(fan_in) + 1e-7


def test_true_convolution_note(setup):
    session, _, panel = setup
    session.set_true_convolution(True)
    assert "flipped" in panel.note.text()


def test_render(setup):
    _, _, panel = setup
    panel.resize(420, 560)
    panel.show()
    image = panel.grab()
    assert not image.isNull() and image.width() >= 400


@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=50))
def test_parse_value_fractions(fraction):
    text = f"{fraction.numerator}/{fraction.denominator}"
    assert parse_value(text) == pytest.approx(float(fraction))


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_value_floats_round_trip(value):
    assert parse_value(repr(value)) == value


@settings(max_examples=100, deadline=None)
@given(
    h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 7), kw=st.integers(1, 7)
)
def test_centred_resize_round_trips_when_growing(h, w, kh, kw):
    weight = np.random.default_rng(h * 7 + w).random((2, 1, h, w))
    grown = centred_resize(weight, max(h, kh), max(w, kw))
    np.testing.assert_array_equal(centred_resize(grown, h, w), weight)
    assert grown.sum() == pytest.approx(weight.sum())


def test_heat_map_shows_the_selected_pair_with_symmetric_levels(setup, qtbot):
    session, _stack, panel = setup
    weight = np.zeros(session.weight.shape)
    weight[1, 2] = [[4, 0, -2], [0, 0, 0], [0, 0, 1]]
    session.set_weight(weight)
    panel.in_spin.setValue(2)
    panel.out_spin.setValue(1)
    heat = panel.heatmap
    np.testing.assert_array_equal(heat.values, weight[1, 2])
    assert heat.levels() == (-4.0, 4.0)
    assert heat.tick_texts() == ["-4", "-2", "0", "2", "4"]
    panel.resize(600, 700)
    panel.show()
    qtbot.waitExposed(panel)
    picture = heat.grab().toImage()
    rect = heat.cells_rect()
    cell = rect.width() / 3
    assert abs(cell - rect.height() / 3) < 1e-6  # square cells

    def colour(row, col):
        return picture.pixelColor(int(rect.x() + (col + 0.5) * cell), int(rect.y() + (row + 0.5) * cell))

    top_left, top_right, centre = colour(0, 0), colour(0, 2), colour(1, 1)
    assert top_left.red() > top_left.blue() + 100  # positive: red
    assert top_right.blue() > top_right.red() + 50  # negative: blue
    assert min(centre.red(), centre.green(), centre.blue()) > 180  # zero: pale
    session.set_weight(weight * 0)  # an all-zero kernel still has levels
    assert heat.levels() == (-1.0, 1.0)
