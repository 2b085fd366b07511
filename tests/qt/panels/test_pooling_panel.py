"""The Pooling panel: controls -> model, model -> picture and text, the PyTorch badge,
refusals in red with the last good picture kept, stepping, hovering, playing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from convplay.core.pooling import PoolSpec, PoolSpecError
from convplay.core.pooling_model import (
    ADAPTIVE_EXAMPLE,
    EXAMPLE,
    LESSON_INPUT_NAME,
    OTHER,
    SESSION,
    PoolingModel,
)
from convplay.core.session import Session
from convplay.qt.panels.pooling_panel import (
    PoolingPanel,
    check_against_pytorch,
    shown_formula,
)
from convplay.qt.theme import theme
from convplay.qt.zoom import text_zoom


@pytest.fixture
def setup(qtbot):
    model = PoolingModel()
    session = Session(np.arange(36.0).reshape(1, 6, 6))
    panel = PoolingPanel(model, session)
    qtbot.addWidget(panel)
    panel.resize(700, 560)
    panel.show()
    qtbot.waitExposed(panel)
    return model, session, panel


def badge_settles(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.badge.text().startswith("checking"), timeout=15000)
    return panel.badge.text()


def test_it_opens_on_the_example_and_matches_pytorch(qtbot, setup):
    _, _, panel = setup
    assert panel.input_combo.currentData() == EXAMPLE
    assert panel.code_line.text() == "nn.MaxPool2d(2)"
    assert panel.arithmetic.text().startswith("max(7, 3, 8, 7) = <b>8</b>")
    assert "input (1, 0): the gradient goes there" in panel.arithmetic.text()
    assert panel.stride_auto.isChecked() and not panel.stride.h.isEnabled() and panel.stride_auto.isEnabled()
    assert badge_settles(qtbot, panel) == "\u2713 matches PyTorch: values equal, argmax indices equal"
    assert panel.last_check[0] is True
    assert "output 1×4×4 → 1×2×2" in panel.formula.text()
    assert panel.error_label.isHidden()


def test_fields_set_the_spec(setup):
    model, _, panel = setup
    panel.kernel.h.setValue(3)
    assert model.spec.kernel_size == (3, 2)
    panel.kernel.w.setValue(3)
    assert model.spec.kernel_size == 3 and model.spec.stride is None
    panel.stride_auto.setChecked(False)
    assert model.spec.stride == 3 and panel.stride.h.isEnabled()
    panel.stride.h.setValue(1)
    panel.stride.w.setValue(1)
    panel.padding.h.setValue(1)
    panel.padding.w.setValue(1)
    panel.dilation.h.setValue(2)
    panel.dilation.w.setValue(2)
    panel.ceil_mode.setChecked(True)
    assert model.spec == PoolSpec("max", 3, 1, 1, 2, True)
    assert panel.code_line.text() == model.spec.code() and "dilation=2" in panel.code_line.text()
    assert model.error == ""


def test_a_refused_setting_is_red_beside_its_field_and_the_picture_stays(qtbot, setup):
    model, _, panel = setup
    model.set_position(1)
    good = model.shown
    panel.padding.h.setValue(2)
    panel.padding.w.setValue(2)
    assert model.spec.padding == 2 and model.error_field == "padding"
    assert not panel.error_label.isHidden()
    assert "<b>padding</b>" in panel.error_label.text() and "half of kernel size" in panel.error_label.text()
    assert "QFrame#pool_padding" in panel.padding.styleSheet() and panel.kernel.styleSheet() == ""
    assert model.shown is good and model.position == 1
    assert panel.arithmetic.text().startswith("max(5, 2, 1, 6) = <b>6</b>")
    text = badge_settles(qtbot, panel)
    assert text.startswith("PyTorch refuses these settings too: pad should be at most half")
    panel.padding.h.setValue(0)
    panel.padding.w.setValue(0)
    assert panel.error_label.isHidden() and panel.padding.styleSheet() == ""


def test_average_pooling_writes_the_sum_and_the_divisor(qtbot, setup):
    model, _, panel = setup
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("avg"))
    assert model.spec.kind == "avg"
    assert panel.arithmetic.text() == "(7 + 3 + 8 + 7) / 4 = <b>6.25</b>"
    assert not panel.dilation.isEnabled() and "Average pooling has no dilation" in panel.dilation.toolTip()
    assert panel.count_pad.isVisibleTo(panel) and panel.divisor_frame.isVisibleTo(panel)
    panel.kernel.h.setValue(3)
    panel.kernel.w.setValue(3)
    panel.stride_auto.setChecked(False)
    panel.stride.h.setValue(2)
    panel.stride.w.setValue(2)
    panel.padding.h.setValue(1)
    panel.padding.w.setValue(1)
    assert panel.arithmetic.text().startswith("(7 + 3 + 8 + 7 + 0 + 0 + 0 + 0 + 0) / 9 = <b>2.778</b>")
    assert "5 padded cells counted: count_include_pad=True" in panel.arithmetic.text()
    panel.count_pad.setChecked(False)
    assert panel.arithmetic.text().startswith("(7 + 3 + 8 + 7) / 4 = <b>6.25</b>")
    panel.divisor_check.setChecked(True)
    panel.divisor_spin.setValue(5)
    assert model.spec.divisor_override == 5
    assert panel.arithmetic.text() == "(7 + 3 + 8 + 7) / 5 = <b>5</b> (divisor_override=5)"
    panel.divisor_spin.setValue(0)
    assert model.error_field == "divisor_override"
    assert "QFrame#pool_divisor_override" in panel.divisor_frame.styleSheet()
    assert badge_settles(qtbot, panel).startswith("PyTorch refuses these settings too: divisor must be not zero")


def test_adaptive_pooling_shows_the_output_size_instead_of_the_window(qtbot, setup):
    model, _, panel = setup
    model.set_input(np.arange(49.0).reshape(1, 7, 7), "a 7×7 ramp")
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("adaptive_avg"))
    assert not panel.kernel.isVisibleTo(panel) and panel.output_size.isVisibleTo(panel)
    panel.output_size.h.setValue(3)
    panel.output_size.w.setValue(3)
    assert model.spec.output_size == 3 and model.shown.out_hw == (3, 3)
    model.set_cell(1, 1)
    assert "rows 2–4, columns 2–4: a window of 3×3" in panel.arithmetic.text()
    panel.output_size.w.setValue(0)  # None: keep the input's width
    assert model.spec.output_size == (3, None) and model.shown.out_hw == (3, 7)
    assert panel.code_line.text() == "nn.AdaptiveAvgPool2d((3, None))"
    assert badge_settles(qtbot, panel).startswith("\u2713 matches PyTorch")


def test_ties_are_said(setup):
    model, _, panel = setup
    model.set_input(np.array([[[9.0, 9.0], [1.0, 9.0]]]), "ties")
    assert "3 cells tie at 9: PyTorch takes the first in row order" in panel.arithmetic.text()


def test_clicks_hover_and_keys(qtbot, setup):
    model, _, panel = setup
    grid = panel.grid
    g = grid.geometry_now()
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=g.out_rect(1, 1).center().toPoint())
    assert model.cell == (1, 1)
    assert panel.arithmetic.text().startswith("max(3, 9, 4, 5) = <b>9</b>")
    qtbot.mouseMove(grid, g.in_rect(2, 1).center().toPoint())
    qtbot.waitUntil(lambda: "is read by" in panel.hover_label.text())
    assert panel.hover_label.text() == "input (2, 1) = 9 is read by output (1, 0)"
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=g.in_rect(0, 3).center().toPoint())
    assert model.cell == (0, 1)  # an input cell jumps to the window that reads it
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert model.position == 2
    qtbot.keyClick(grid, Qt.Key.Key_Up)
    assert model.position == 0
    qtbot.keyClick(grid, Qt.Key.Key_End)
    assert model.position == 3
    qtbot.keyClick(grid, Qt.Key.Key_Home)
    assert model.position == 0
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert model.playing
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    assert not model.playing
    panel.next_button.click()
    assert panel.step_label.full_text().startswith("window 2 of 4")
    grid.set_hover(None)
    assert "Hover a cell" in panel.hover_label.text()
    qtbot.mouseMove(grid, QPoint(1, 1))


def test_play_runs_to_the_end_and_stops(qtbot, setup):
    model, _, panel = setup
    panel.speed_spin.setValue(30)
    assert model.speed == 30
    panel.play_button.click()
    assert model.playing and panel.timer.isActive() and panel.play_button.text() == "||"
    qtbot.waitUntil(lambda: not model.playing, timeout=3000)
    assert model.position == 3 and not panel.timer.isActive() and panel.play_button.text() == "\u25b6"


def test_the_current_input_follows_the_session(setup):
    model, session, panel = setup
    panel.input_combo.setCurrentIndex(1)
    panel.input_combo.activated.emit(1)
    assert model.source == SESSION and model.input.shape == (1, 6, 6)
    np.testing.assert_array_equal(model.input, session.image)
    session.set_image(np.ones((1, 8, 8)))
    assert model.input.shape == (1, 8, 8) and model.shown.output_shape == (1, 4, 4)
    panel.input_combo.setCurrentIndex(0)
    panel.input_combo.activated.emit(0)
    session.set_image(np.ones((1, 10, 10)))
    assert model.source == EXAMPLE and model.input.shape == (1, 4, 4)


def test_an_input_set_from_elsewhere_gets_its_name_and_a_channel_chooser(setup):
    model, _, panel = setup
    x = np.random.default_rng(0).random((4, 6, 6))
    model.set_input(x, "conv2's output")
    model.set_spec(PoolSpec.from_layer("MaxPool2d", {"kernel_size": 2, "stride": 2}))
    assert model.source == OTHER
    assert panel.input_combo.currentText() == "conv2's output"
    assert panel.channel_frame.isVisibleTo(panel) and panel.channel_spin.suffix() == " of 4"
    assert panel.channel_spin.minimum() == 0 and panel.channel_spin.maximum() == 3  # from 0, as the feature maps
    assert panel.channel_spin.text() == "0 of 4"
    panel.channel_spin.setValue(2)
    assert model.channel == 2
    np.testing.assert_array_equal(model.shown.plane, x[2])
    model.use_example()
    assert panel.input_combo.findData(OTHER) < 0 and not panel.channel_frame.isVisibleTo(panel)


def test_a_large_input_is_checked_whole_and_drawn_in_part(qtbot, setup):
    model, _, panel = setup
    model.set_input(np.random.default_rng(2).random((3, 64, 64)), "a 64×64 input")
    g = panel.grid.geometry_now()
    assert g.cropped and (g.rows, g.cols) == ((0, 12), (0, 12)) and g.out_hw == (6, 6)
    assert panel.play_button.isEnabled()
    assert "output 3×64×64 → 3×32×32" in panel.formula.text()
    assert badge_settles(qtbot, panel) == "\u2713 matches PyTorch: values equal, argmax indices equal"
    model.set_cell(20, 20)  # past the part drawn: said, and nothing drawn for it
    assert not panel.grid.grab().isNull()
    model.set_spec(PoolSpec("max", 16))  # not one window fits the part: the view says so
    assert panel.grid.geometry_now() is None and not panel.play_button.isEnabled()
    assert not panel.grid.grab().isNull()


def test_copy_puts_the_code_on_the_clipboard(setup):
    _, _, panel = setup
    panel.copy_button.click()
    assert QApplication.clipboard().text() == "nn.MaxPool2d(2)"


def test_zoom_theme_and_narrow_tab_draw(setup):
    model, _, panel = setup
    model.set_spec(PoolSpec("max", 2, 2, 1, ceil_mode=True))
    try:
        text_zoom().set_factor(1.5)
        theme().set_high_contrast(True)
        panel.resize(420, 560)
        assert not panel.grab().isNull()
        g = panel.grid.geometry_now()
        assert g is not None and g.cell >= 10
    finally:
        theme().set_high_contrast(False)
        text_zoom().reset()


def test_every_widget_has_a_tooltip(setup):
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
    )

    _, _, panel = setup
    for kind in (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit):
        for widget in panel.findChildren(kind):
            if widget.objectName() == "qt_spinbox_lineedit":
                continue  # a spin box's own editor: the spin box has the tooltip
            assert widget.toolTip(), widget


def test_the_check_itself():
    x = np.arange(16.0).reshape(1, 4, 4)
    assert check_against_pytorch((PoolSpec("max", 2), x))[0] is True
    assert check_against_pytorch((PoolSpec("avg", 2), x)) == (True, "\u2713 matches PyTorch: values equal")
    ok, text = check_against_pytorch((PoolSpec("max", 5), x))
    assert ok is None and "Output size is too small" in text


def test_the_formula_says_each_axis_once_when_both_read_the_same():
    lines = shown_formula(PoolSpec("max", 2), (1, 4, 4))
    assert lines[0].endswith("(W_out likewise)")
    assert sum(line.startswith("H_out = ⌊(4") for line in lines) == 1
    assert not any(line.startswith("W_out = ⌊(4") for line in lines)
    lines = shown_formula(PoolSpec("max", 2), (1, 4, 6))
    assert any(line.startswith("W_out = ⌊(6") for line in lines)
    refused = PoolSpec("max", 2, padding=2)
    assert shown_formula(refused, (1, 4, 4), str(_error(refused))) == []


def _error(spec):
    try:
        spec.validate()
    except PoolSpecError as exc:
        return exc
    return None


# -- the lesson step, in the window ------------------------------------------------------------


@pytest.mark.slow  # the whole window, and PyTorch's first output in it
def test_the_lessons_max_pooling_step_sets_the_pooling_view(qtbot, tmp_path):
    from small_window import open_window, settings_file

    from convplay.core.lessons import load_lesson
    from convplay.qt import session_commands

    window = open_window(qtbot, settings_file(tmp_path))
    pooling = window.pooling_model
    pooling.set_input(np.ones((2, 6, 6)), "something else")
    pooling.set_spec(PoolSpec("avg", 3))
    document = load_lesson("tutorials")
    n = next(i for i, step in enumerate(document.steps) if step.title == "Max pooling a 4×4 to 2×2")
    assert session_commands.open_document(window, document, step=n)
    assert window.workspace == "pooling"
    assert pooling.spec == PoolSpec("max", 2) and pooling.source == EXAMPLE and pooling.position == 0
    np.testing.assert_array_equal(pooling.shown.values(), [[8, 6], [9, 9]])
    assert window.lesson.asking
    window.lesson.reveal()
    assert window.lesson_panel.check_text == "nn.MaxPool2d(2) gives 1\u00d72\u00d72 and the step's values \u2713"
    window.lesson.previous()  # a step without pooling leaves the pooling view as it is
    assert pooling.spec == PoolSpec("max", 2)


def test_a_step_draws_over_the_same_picture(qtbot, setup):
    """The cells are drawn once per picture: stepping (and the text changing under the
    picture) neither resizes the picture nor draws its cells again."""
    model, _, panel = setup
    model.set_input(np.random.default_rng(3).integers(0, 10, (1, 32, 32)).astype(float), "a 32×32 input")
    model.set_spec(PoolSpec("max", 3, 1, 1))
    QApplication.processEvents()
    panel.grid.repaint()
    picture, size = panel.grid._static, panel.grid.size()
    for _ in range(6):
        model.step(1)
        QApplication.processEvents()
        panel.grid.repaint()
    assert panel.grid._static is picture and panel.grid.size() == size
    model.set_input(np.array([[[9.0, 9.0], [1.0, 9.0]]]), "ties")  # a third line of arithmetic
    QApplication.processEvents()
    assert panel.grid.size() == size


# -- the examples, a stack replaced, refused code, the lesson's question --------------------------


def test_choosing_the_example_sets_its_own_settings(setup):
    """The 4×4 example comes with nn.MaxPool2d(2): padding and ceil_mode set before go."""
    model, _, panel = setup
    model.set_spec(PoolSpec("max", 2, padding=1, ceil_mode=True))
    assert model.shown.out_hw == (3, 3)
    panel.input_combo.setCurrentIndex(panel.input_combo.findData(EXAMPLE))
    panel.input_combo.activated.emit(panel.input_combo.currentIndex())
    assert model.spec == PoolSpec("max", 2) and model.shown.out_hw == (2, 2)
    assert panel.code_line.text() == "nn.MaxPool2d(2)"
    assert "do not carry over" in panel.input_combo.itemData(0, Qt.ItemDataRole.ToolTipRole)


def test_the_adaptive_example_shows_uneven_overlapping_windows(setup):
    model, _, panel = setup
    i = panel.input_combo.findData(ADAPTIVE_EXAMPLE)
    assert i >= 0 and "5×5" in panel.input_combo.itemText(i)
    panel.input_combo.setCurrentIndex(i)
    panel.input_combo.activated.emit(i)
    assert model.input.shape == (1, 5, 5) and model.spec.kind == "adaptive_max"
    assert [len(w) for w in model.shown.windows(0)] == [2, 3, 2]
    assert panel.code_line.text() == "nn.AdaptiveMaxPool2d(3)"
    import torch
    out = torch.nn.AdaptiveMaxPool2d(3)(torch.tensor(model.input)[None])[0, 0].numpy()
    np.testing.assert_array_equal(model.shown.values(), out)


def test_a_layer_input_goes_when_its_stack_is_replaced(qtbot):
    from convplay.core.network import Network
    network = Network()
    model = PoolingModel()
    panel = PoolingPanel(model, Session(np.zeros((1, 6, 6))), network=network)
    qtbot.addWidget(panel)
    model.set_input(np.random.default_rng(1).random((8, 8, 8)), "pool's input (the output of 2)")
    assert panel.input_combo.findData(OTHER) >= 0
    network.set_stack(network.stack.with_layers(network.stack.layers[:2]))
    assert model.source == EXAMPLE and panel.input_combo.findData(OTHER) < 0
    assert model.spec == PoolSpec("max", 2)
    model.set_input(np.ones((1, 4, 4)), LESSON_INPUT_NAME)  # a lesson's input is not the stack's
    network.set_stack(network.stack.with_layers(network.stack.layers[:1]))
    assert model.source == OTHER and model.input_name == LESSON_INPUT_NAME


def test_refused_settings_show_the_last_good_code_greyed_and_cannot_be_copied(setup):
    model, _, panel = setup
    model.set_spec(PoolSpec("max", 2, padding=(2, 0)))
    assert model.error
    assert panel.code_line.text() == "nn.MaxPool2d(2)"  # the last that worked, not the refused one
    assert panel.code_line.styleSheet()
    assert not panel.copy_button.isEnabled() and "refuses" in panel.copy_button.toolTip()
    model.set_spec(PoolSpec("max", 3))
    assert panel.code_line.text() == "nn.MaxPool2d(3)" and panel.copy_button.isEnabled()
    assert not panel.code_line.styleSheet()


def test_a_hidden_answer_shows_question_marks_until_revealed(qtbot, setup):
    model, _, panel = setup
    model.set_answer_hidden(True)
    assert "max(" not in panel.arithmetic.text() and "Reveal" in panel.arithmetic.text()
    assert "?" in panel.grid.describe(("out", 0, 0)) and "8" not in panel.grid.describe(("out", 0, 0))
    hidden = panel.grid.grab().toImage()
    model.set_answer_hidden(False)
    assert panel.arithmetic.text().startswith("max(7, 3, 8, 7) = <b>8</b>")
    assert panel.grid.grab().toImage() != hidden


def test_input_cells_of_about_20_px_show_their_numbers(setup):
    _, _, panel = setup
    for cell in (20.0, 23.0, 40.0):
        font = panel.grid._label_font(cell, 2)
        assert font is not None and font.pixelSize() <= cell / 2, cell
    assert panel.grid._label_font(12.0, 2) is None


def test_a_lesson_question_hides_the_pooling_answer_until_reveal(qtbot, tmp_path):
    """The tutorials' max-pooling step asks for the maxima: "?" and no arithmetic until the
    Reveal, which then shows all four, 8, 6, 9 and 9 (PyTorch's own)."""
    import torch
    from small_window import open_window, settings_file

    from convplay.qt import session_commands

    window = open_window(qtbot, settings_file(tmp_path))
    session_commands.open_builtin_lesson(window, "tutorials")
    index = next(i for i, s in enumerate(window.lesson.steps) if getattr(s, "pooling", None) is not None and s.ask)
    window.lesson.go_to(index)
    model, panel = window.pooling_model, window.pooling_panel
    assert window.lesson.asking and model.answer_hidden
    panel._refresh()
    assert "max(" not in panel.arithmetic.text()
    assert panel.grid.describe(("out", 1, 1)).startswith("output (1, 1) = ?")
    window.lesson.reveal()
    assert not model.answer_hidden and model.position == model.n_steps - 1
    expected = torch.nn.MaxPool2d(2)(torch.tensor(model.input)[None])[0, 0].numpy()
    np.testing.assert_array_equal(expected, [[8, 6], [9, 9]])
    np.testing.assert_array_equal(model.shown.values(), expected)
    assert not panel.grid._pending_rects(model.shown, panel.grid.geometry_now())  # every cell filled in
    panel._refresh()
    assert panel.arithmetic.text().startswith("max(")


def test_text_zoom_does_not_shrink_the_picture(qtbot, setup):
    model, _, panel = setup
    model.set_input(np.random.default_rng(0).integers(0, 9, (1, 14, 14)).astype(float), "a 14×14")
    qtbot.wait(10)
    normal = panel.grid.geometry_now().cell
    try:
        text_zoom().set_factor(1.5)
        qtbot.waitUntil(lambda: panel.grid.height() >= panel.grid.minimumHeight())
        zoomed = panel.grid.geometry_now().cell
    finally:
        text_zoom().set_factor(1.0)
    assert zoomed >= normal
