"""Kernel panel: view -> model and model -> view, presets, edits, undo, refused input."""

from __future__ import annotations

import numpy as np
import pytest

from convplay.core.history import History
from convplay.core.presets import PRESETS, get_preset
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels.input_panel import InputPanel
from convplay.qt.panels.kernel_panel import ALL, SELECTED, KernelPanel
from convplay.qt.panels.params_panel import ParamsPanel


@pytest.fixture
def setup(qtbot):
    session = Session(np.zeros((3, 16, 16)), ConvSpec(in_channels=3, out_channels=2))
    stack = History()
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
    # A kernel that sums to 1 (a blur) is spread over the 3 inputs of each filter, so the
    # filter still sums to 1; the others go into every pair as they are.
    share = 3 if abs(preset.weights.sum() - 1) < 1e-9 else 1
    for o in range(2):
        for i in range(3):
            np.testing.assert_allclose(session.weight[o, i], preset.weights / share, rtol=1e-15, atol=0)
        assert session.weight[o].sum() == pytest.approx(preset.weights.sum() * 3 / share)
    np.testing.assert_array_equal(panel.grid.values(), session.weight[0, 0])
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
    assert panel.preset_combo.currentIndex() == index  # the box names the kernel there is


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
    assert any(word in panel.message.text().lower() for word in ("number", "nan", "infinite", "divide", "empty"))
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


def test_true_convolution_note(setup):
    session, _, panel = setup
    assert "as PyTorch gets them" in panel.weights_title.text()
    session.set_true_convolution(True)
    assert "flipped" in panel.orientation_caption.text() and panel.weights_title.text() == "Weights, as typed"


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


# -- kernel edits while the settings are refused (bugs A and C), through the real panels ---------
@pytest.fixture
def panels(qtbot):
    session = Session(np.random.default_rng(1).random((1, 16, 16)), ConvSpec(1, 1, 3))
    history = History()
    made = KernelPanel(session, history), ParamsPanel(session, history), InputPanel(session, history)
    for panel in made:
        qtbot.addWidget(panel)
    return session, history, *made


def _pick(combo, data):
    combo.setCurrentIndex(combo.findData(data))
    combo.activated.emit(combo.currentIndex())


def _refuse_same_with_stride(params):
    _pick(params.padding_combo, "same")
    params.stride_pair.h_spin.setValue(2)
    assert params.invalid_field() == "padding"


@pytest.mark.parametrize("change", ["rgb", "out_channels", "transposed"])
def test_kernel_size_after_a_refused_setting_and_a_channel_change(panels, change):
    """Bug A: 'same' with stride 2, then RGB / out_channels / transposed, then a kernel size
    in the Kernel panel: the kernel takes the size, the boxes show it, no message."""
    session, history, kernel, params, inputs = panels
    _refuse_same_with_stride(params)
    if change == "rgb":
        _pick(inputs.channels_combo, 3)
    elif change == "out_channels":
        params.out_channels_spin.setValue(3)
    else:
        params.transposed_check.setChecked(True)
    expected = {"rgb": (1, 3), "out_channels": (3, 1), "transposed": (1, 1)}[change]
    assert session.weight.shape[:2] == expected
    kernel.kh_spin.setValue(5)
    assert session.weight.shape == (*expected, 5, 3) and session.spec.kernel_hw == (5, 3)
    assert (kernel.kh_spin.value(), kernel.kw_spin.value()) == (5, 3)
    assert kernel.message.text() == ""
    assert params.kernel_size_pair.value() == (5, 3)  # one session call: both panels agree
    history.undo()
    assert session.weight.shape == (*expected, 3, 3) and kernel.kh_spin.value() == 3


def test_a_preset_on_the_selected_pair_after_a_refused_setting(panels):
    session, _, kernel, params, inputs = panels
    _refuse_same_with_stride(params)
    _pick(inputs.channels_combo, 3)
    kernel.set_scope(SELECTED)
    kernel.in_spin.setValue(2)
    kernel.apply_preset(get_preset("box5"))
    assert session.weight.shape == (1, 3, 5, 5) and kernel.message.text() == ""
    np.testing.assert_array_equal(session.weight[0, 2], get_preset("box5").weights)
    assert not session.weight[0, :2].any()


def test_random_and_presets_while_groups_do_not_divide(panels):
    """Bug C: groups 2 with one input channel; Random and a preset on all pairs apply to the
    kernel there is, and raise nothing."""
    session, history, kernel, params, _ = panels
    params.out_channels_spin.setValue(2)
    params.groups_spin.setValue(2)
    assert params.invalid_field() == "groups"
    shape = session.weight.shape
    assert shape == (2, 1, 3, 3)
    kernel.randomise()
    assert session.weight.shape == shape and np.abs(session.weight).max() > 0
    assert np.abs(session.weight).max() <= 1 / np.sqrt(9)  # fan_in of the kernel there is
    kernel.set_scope(ALL)
    kernel.apply_preset(get_preset("sobel_y"))
    assert session.weight.shape == shape and kernel.message.text() == ""
    kernel.apply_preset(get_preset("box5"))
    assert session.weight.shape == (2, 1, 5, 5) and kernel.kh_spin.value() == 5
    kernel.kw_spin.setValue(2)
    assert session.weight.shape == (2, 1, 5, 2)
    params.groups_spin.setValue(1)  # fixed: the kernel follows the settings again
    assert session.weight.shape == (2, 1, 5, 2) and params.invalid_field() is None
    assert history.count() == 7  # every edit one undo step


def test_an_edit_that_cannot_apply_says_why_and_the_boxes_stay_true(setup):
    session, stack, panel = setup
    panel.set_scope(ALL)
    panel.apply_preset(get_preset("laplacian4"))
    panel.normalise()
    assert "sums to 0" in panel.message.text()
    assert (panel.kh_spin.value(), panel.kw_spin.value()) == session.weight.shape[2:]
