"""Kernel designer: parameters -> kernel, drags as one undo step, detaching, pairs, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from convplay.core import kernel_recipe
from convplay.core.history import History
from convplay.core.kernel_recipe import recipe
from convplay.core.parametric_kernels import KernelParameterError
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels.designer_panel import (
    ATTACHED_TEXT,
    DETACHED_TEXT,
    NOT_MADE_TEXT,
    DesignerPanel,
    to_position,
)

SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])


def _make(qtbot, channels=1):
    session = Session(np.zeros((channels, 16, 16)), ConvSpec(in_channels=channels))
    history = History()
    panel = DesignerPanel(session, history)
    qtbot.addWidget(panel)
    return session, history, panel


@pytest.fixture
def setup(qtbot):
    return _make(qtbot)


def _row(panel, name):
    return panel.page.rows[name]


def _slide(row, value):
    """One click on the slider (not a drag): the value's position."""
    row.slider.setValue(to_position(row.parameter, value))


def _gaussian_closed_form(n, sigma):
    c = np.arange(n) - (n - 1) / 2
    x, y = np.meshgrid(c, c)
    g = np.exp(-(x**2 + y**2) / (2 * sigma**2))
    return g / g.sum()


def test_gaussian_sigma_makes_the_recipes_kernel_and_the_closed_form(setup):
    session, history, panel = setup
    panel.select_family("gaussian")
    assert session.kernel_recipe is None  # picking a family alone overwrites nothing
    _row(panel, "size").spin.setValue(5)
    _slide(_row(panel, "sigma"), 1.2)
    assert _row(panel, "sigma").spin.value() == pytest.approx(1.2)
    expected = recipe("gaussian", size=5, sigma=1.2).kernels()[0]
    assert session.weight.shape == (1, 1, 5, 5)
    np.testing.assert_array_equal(session.weight[0, 0], expected)
    np.testing.assert_allclose(session.weight[0, 0], _gaussian_closed_form(5, 1.2), rtol=1e-12, atol=0)
    assert session.weight.sum() == pytest.approx(1.0, abs=1e-15)
    assert session.kernel_recipe == recipe("gaussian", size=5, sigma=1.2)
    assert session.spec.kernel_size == 5
    assert history.count() == 2  # the size, then σ
    assert panel.state_label.text() == ATTACHED_TEXT
    assert "Gaussian 5×5, σ 1.2" in panel.summary.text() and "Sum 1." in panel.summary.text()


def test_a_drag_is_one_undo_step_and_undo_restores_kernel_and_values(setup):
    session, history, panel = setup
    panel.select_family("gaussian")
    _row(panel, "size").spin.setValue(7)
    before_weight = session.weight
    steps = history.count()
    sigma = _row(panel, "sigma")
    sigma.slider.setSliderDown(True)
    for value in (0.6, 0.9, 1.3, 1.7, 2.0):
        _slide(sigma, value)
        # live: the kernel follows each position while the slider is held
        np.testing.assert_array_equal(session.weight[0, 0], recipe("gaussian", size=7, sigma=value).kernels()[0])
    assert history.count() == steps  # nothing recorded while the slider is held
    sigma.slider.setSliderDown(False)  # released
    assert history.count() == steps + 1
    assert history.undo_text == "Kernel Gaussian 7×7, σ 2"
    history.undo()
    np.testing.assert_array_equal(session.weight, before_weight)
    assert session.kernel_recipe == recipe("gaussian", size=7, sigma=0.5)
    assert sigma.spin.value() == pytest.approx(0.5)
    assert sigma.slider.value() == to_position(sigma.parameter, 0.5)
    history.redo()
    assert sigma.spin.value() == pytest.approx(2.0)
    np.testing.assert_array_equal(session.weight[0, 0], recipe("gaussian", size=7, sigma=2.0).kernels()[0])


def test_editing_a_weight_detaches_and_apply_attaches_again(setup):
    session, _, panel = setup
    panel.select_family("log")
    _slide(_row(panel, "sigma"), 1.0)
    made = session.kernel_recipe
    assert made == recipe("log", size=5, sigma=1.0)
    edited = np.array(session.weight)
    edited[0, 0, 2, 2] = 7.0
    session.set_weight(edited)  # a cell typed in the kernel panel
    assert session.kernel_recipe is None
    assert panel.state_label.text() == DETACHED_TEXT
    assert _row(panel, "sigma").spin.value() == pytest.approx(1.0)  # the last parameters stay
    assert panel.family == "log"
    panel.apply_button.click()
    assert session.kernel_recipe == made
    np.testing.assert_array_equal(session.weight[0, 0], made.kernels()[0])
    assert panel.state_label.text() == ATTACHED_TEXT
    # a slider reattaches too
    session.set_weight(edited)
    assert panel.state_label.text() == DETACHED_TEXT
    _slide(_row(panel, "sigma"), 1.5)
    assert session.kernel_recipe == recipe("log", size=5, sigma=1.5)


def test_a_kernel_not_made_from_parameters_waits_for_the_user(setup):
    session, history, panel = setup
    session.set_kernel(ConvSpec(), SOBEL_X[None, None], name="Sobel x")
    assert panel.state_label.text() == NOT_MADE_TEXT.format(name="Sobel x")
    panel.select_family("gabor")
    np.testing.assert_array_equal(session.weight[0, 0], SOBEL_X)
    assert session.kernel_name == "Sobel x" and history.count() == 0
    panel.apply()
    assert session.kernel_recipe == recipe("gabor")
    assert history.count() == 1


def test_picking_another_family_while_designing_applies_it(setup):
    session, history, panel = setup
    panel.select_family("box")
    panel.apply()
    panel.select_family("disk")
    assert session.kernel_recipe == recipe("disk")
    history.undo()
    assert session.kernel_recipe == recipe("box")
    assert panel.family == "box"


def test_sobel_pair_makes_two_output_channels_of_the_literal_sobels(qtbot):
    session, _, panel = _make(qtbot, channels=3)
    panel.select_family("sobel_pair")
    panel.apply()
    assert session.spec.out_channels == 2
    assert session.weight.shape == (2, 3, 3, 3)
    for i in range(3):
        np.testing.assert_array_equal(session.weight[0, i], SOBEL_X)
        np.testing.assert_array_equal(session.weight[1, i], SOBEL_Y)
    assert "output channel 0 is x" in session.kernel_note and "output channel 1 is y" in session.kernel_note
    assert "Output channel 0 is x" in panel.summary.text()


def test_sum_to_one_of_a_zero_sum_kernel_is_refused_beside_the_combo(setup):
    session, history, panel = setup
    panel.select_family("log")
    panel.apply()
    weight, steps = session.weight, history.count()
    index = panel.normalisation_combo.findData("sum")
    panel.normalisation_combo.setCurrentIndex(index)
    panel.normalisation_combo.activated.emit(index)
    assert panel.normalisation_error.isVisibleTo(panel)
    assert "sum" in panel.normalisation_error.text()
    assert session.weight is weight and history.count() == steps
    assert session.kernel_recipe == recipe("log")
    # zero mean is taken
    index = panel.normalisation_combo.findData("zero_mean")
    panel.normalisation_combo.setCurrentIndex(index)
    panel.normalisation_combo.activated.emit(index)
    assert not panel.normalisation_error.isVisibleTo(panel)
    assert session.kernel_recipe.normalisation == "zero_mean"


def test_a_refused_build_shows_its_message_beside_the_parameter_it_names(setup, monkeypatch):
    session, history, panel = setup
    panel.select_family("gaussian_dx")
    panel.apply()
    weight, steps = session.weight, history.count()

    def refuse(family, normalisation="none", **params):
        raise KernelParameterError("gaussian_dx: sigma 0.2 is too small for this size", "sigma")

    monkeypatch.setattr(kernel_recipe, "recipe", refuse)
    _slide(_row(panel, "sigma"), 0.2)
    assert _row(panel, "sigma").error.isVisibleTo(panel)
    assert "too small" in _row(panel, "sigma").error.text()
    assert not _row(panel, "size").error.isVisibleTo(panel)
    assert session.weight is weight and history.count() == steps
    monkeypatch.undo()
    _slide(_row(panel, "sigma"), 1.5)
    assert not _row(panel, "sigma").error.isVisibleTo(panel)
    assert session.kernel_recipe == recipe("gaussian_dx", sigma=1.5)


def test_restoring_a_session_with_a_recipe_shows_its_parameters(setup):
    session, _, panel = setup
    other = Session(np.zeros((1, 16, 16)), ConvSpec())
    gabor = recipe("gabor", theta=45, **{"lambda": 6})
    other.set_kernel(ConvSpec(kernel_size=9), gabor.kernels()[0][None, None], name=gabor.name, recipe=gabor)
    session.restore(other.snapshot())
    assert panel.family == "gabor"
    assert _row(panel, "theta").spin.value() == 45
    assert _row(panel, "lambda").spin.value() == 6
    assert _row(panel, "size").spin.value() == 9
    assert panel.state_label.text() == ATTACHED_TEXT
    assert panel.family_combo.currentText() == "Gabor"


def test_a_session_made_with_a_recipe_shows_it_at_start(qtbot):
    made = recipe("box", size=(5, 3))
    session = Session(np.zeros((1, 16, 16)), ConvSpec())
    session.set_kernel(ConvSpec(kernel_size=(5, 3)), made.kernels()[0][None, None], name=made.name, recipe=made)
    panel = DesignerPanel(session, History())
    qtbot.addWidget(panel)
    assert panel.family == "box" and panel.page.split
    assert (_row(panel, "size").spin.value(), panel.page.width_row.spin.value()) == (5, 3)


def test_height_and_width_apart(setup):
    session, _, panel = setup
    panel.select_family("box")
    panel.apply()
    panel.page.split_button.click()
    assert session.kernel_recipe == recipe("box")  # still square: nothing changed yet
    panel.page.width_row.spin.setValue(5)
    assert session.weight.shape == (1, 1, 3, 5)
    np.testing.assert_array_equal(session.weight[0, 0], np.full((3, 5), 1 / 15))
    panel.page.split_button.click()  # square again: the height's side
    assert session.weight.shape == (1, 1, 3, 3)


def test_every_family_is_offered_with_its_description_and_headings_are_not_choices(setup):
    _, _, panel = setup
    combo = panel.family_combo
    offered = [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i) is not None]
    assert sorted(offered) == sorted(kernel_recipe.kinds())
    for i in range(combo.count()):
        key = combo.itemData(i)
        item = combo.model().item(i)
        if key is None:
            assert not item.isEnabled() and not item.isSelectable()
        else:
            assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == kernel_recipe.family_of(key).description
    for page in panel.pages.values():
        for row in page.rows.values():
            assert row.slider.toolTip() and row.spin.toolTip() and row.label.toolTip()


def test_sobel_size_spin_snaps_to_odd_sizes(setup):
    session, _, panel = setup
    panel.select_family("sobel_pair")
    size = _row(panel, "size")
    size.spin.setValue(4)
    assert size.spin.value() in (3, 5) and size.spin.value() == size.value
    assert session.kernel_recipe == recipe("sobel_pair", size=size.value)


def test_gabor_fits_the_column(setup, qtbot):
    _, _, panel = setup
    panel.select_family("gabor")
    panel.resize(320, 600)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.minimumSizeHint().width() <= 320
    assert len(panel.page.rows) == 6
    for row in panel.page.rows.values():
        assert row.spin.geometry().right() <= panel.width()
        assert row.slider.width() >= 60


def test_each_family_keeps_its_own_normalisation(setup):
    session, _, panel = setup
    panel.select_family("gabor")
    panel.apply()
    index = panel.normalisation_combo.findData("zero_mean")
    panel.normalisation_combo.setCurrentIndex(index)
    panel.normalisation_combo.activated.emit(index)
    assert session.kernel_recipe == recipe("gabor", "zero_mean")
    assert abs(session.weight.sum()) < 1e-12
    panel.select_family("log")  # designing: applied at once, as the log defines it
    assert panel.normalisation == "none"
    assert session.kernel_recipe == recipe("log")
    panel.select_family("gabor")
    assert panel.normalisation == "zero_mean"
    assert session.kernel_recipe == recipe("gabor", "zero_mean")


# -- a single family after a gradient pair ---------------------------------------------------------
def _conv_out_channels(session, image):
    """How many channels PyTorch gives for the session's layer (nn.Conv2d from its spec)."""
    import torch

    spec, weight = session.spec, torch.tensor(np.asarray(session.weight), dtype=torch.float64)
    layer = torch.nn.Conv2d(spec.in_channels, spec.out_channels, weight.shape[2:], groups=spec.groups, bias=False)
    layer = layer.double()
    with torch.no_grad():
        layer.weight.copy_(weight)
        return layer(torch.from_numpy(image)[None]).shape[1]


def test_a_single_family_after_a_pair_gives_one_output_channel_again(qtbot):
    session, history, panel = _make(qtbot, channels=3)
    panel.select_family("sobel_pair")
    panel.apply()
    assert session.spec.out_channels == 2
    panel.select_family("gabor")  # designing: applied at once
    made = recipe("gabor")
    assert session.kernel_recipe == made
    assert session.spec.out_channels == 1
    assert session.weight.shape[0] == 1 and len(session.bias_values) == 1
    assert _conv_out_channels(session, np.zeros((3, 20, 20))) == 1
    for i in range(3):
        np.testing.assert_allclose(session.weight[0, i], made.kernels()[0])
    history.undo()  # one step: the pair is back
    assert session.spec.out_channels == 2 and session.kernel_recipe.pair


def test_apply_on_a_hand_edited_pair_gives_one_channel_but_leaves_other_layers_alone(qtbot):
    session, _, panel = _make(qtbot)
    panel.select_family("scharr_pair")
    panel.apply()
    edited = np.array(session.weight)
    edited[1, 0, 0, 0] = 5.0
    session.set_weight(edited)  # detached, still the pair's shape
    assert session.kernel_recipe is None
    panel.select_family("gaussian")
    assert session.spec.out_channels == 2  # a family chosen waits for Apply while detached
    panel.apply()
    assert session.spec.out_channels == 1
    # A two-output layer that no pair recipe made keeps its two outputs (a blur in each).
    session.set_kernel(ConvSpec(out_channels=2), np.stack([SOBEL_X[None], SOBEL_X[None]]), name="two Sobel x")
    panel.select_family("box")
    panel.apply()
    assert session.spec.out_channels == 2 and session.kernel_recipe == recipe("box")


def test_the_state_line_is_first_and_names_a_kernel_made_otherwise(qtbot):
    session, _, panel = _make(qtbot)
    layout = panel.layout()
    assert layout.itemAt(0).widget() is panel.state_label  # at the top: seen without scrolling
    session.set_kernel(ConvSpec(), SOBEL_X[None, None], name="Sobel x")
    text = panel.state_label.text()
    assert text.startswith("The kernel is Sobel x, not made from parameters: press Apply")
    assert "waits for Apply" in text
    index = panel.normalisation_combo.findData("none")
    tip = panel.normalisation_combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert "own scaling" in tip and "no renormalising" in tip


@pytest.mark.parametrize("key", kernel_recipe.kinds())
def test_the_panel_stays_narrow_for_every_family_at_its_largest(qtbot, key):
    session, _, panel = _make(qtbot, channels=3)
    family = kernel_recipe.family_of(key)
    panel.select_family(key)
    page = panel.page
    for p in family.parameters:
        if p.name in page.rows:
            page.rows[p.name].spin.setValue(p.maximum)
    panel.apply()
    assert session.kernel_recipe is not None and session.kernel_recipe.family == key
    assert panel.summary.wordWrap()
    assert panel.minimumSizeHint().width() <= 320, (key, panel.summary.text())
