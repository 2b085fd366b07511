"""The Parameters panel: model to view, view to model with undo, and every refused setting."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox

from convplay.core.history import History
from convplay.core.session import Session
from convplay.core.spec import ConvSpec, ConvSpecError
from convplay.qt.panels.params_panel import INVALID_STYLE, ParamsPanel


@pytest.fixture
def make_panel(qtbot):
    def make(image_shape=(3, 16, 16), spec: ConvSpec | None = None):
        session = Session(np.zeros(image_shape), spec or ConvSpec(in_channels=image_shape[0]))
        stack = History()
        panel = ParamsPanel(session, stack)
        qtbot.addWidget(panel)
        return panel, session, stack

    return make


def type_into(qtbot, spin: QSpinBox, text: str) -> None:
    """Select the box's text, type, press Enter: what a user does."""
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def pick(combo: QComboBox, data) -> None:
    """Choose the item holding ``data`` as a user would (``activated`` fires)."""
    index = combo.findData(data)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_model_to_view(make_panel):
    panel, session, _ = make_panel()
    session.set_spec(ConvSpec(3, 6, (3, 5), stride=(2, 1), padding="valid", dilation=2, groups=3,
                              bias=False, padding_mode="circular"))
    assert "<b>3</b>" in panel.in_channels_label.text()
    assert panel.out_channels_spin.value() == 6
    assert (panel.kernel_size_pair.h_spin.value(), panel.kernel_size_pair.w_spin.value()) == (3, 5)
    assert not panel.kernel_size_pair.lock.isChecked()  # unequal axes release the lock
    assert panel.stride_pair.value() == (2, 1)
    assert panel.padding_combo.currentData() == "valid"
    assert not panel.padding_pair.isEnabled()
    assert panel.padding_mode_combo.currentData() == "circular"
    assert panel.dilation_pair.value() == 2
    assert panel.groups_spin.value() == 3
    assert not panel.bias_check.isChecked()
    assert not panel.transposed_check.isChecked()
    assert not panel.output_padding_pair.isEnabled()
    assert panel.summary.text() == "output (C, H, W) = (6, 6, 8)"

    session.set_spec(ConvSpec(3, 6, 3, stride=2, padding=(1, 2), transposed=True, output_padding=1))
    assert panel.padding_combo.currentData() == "number" and panel.padding_pair.isEnabled()
    assert panel.padding_pair.value() == (1, 2)
    assert panel.transposed_check.isChecked() and panel.output_padding_pair.isEnabled()
    assert panel.output_padding_pair.value() == 1

    session.set_true_convolution(True)
    assert panel.true_convolution_check.isChecked()


def test_model_updates_push_nothing_on_the_undo_stack(make_panel):
    panel, session, stack = make_panel()
    session.set_spec(session.spec.replace(stride=2, out_channels=4, padding="same", bias=False))
    session.set_true_convolution(True)
    assert stack.count() == 0  # the widgets were updated inside signal blockers


def test_typing_a_value_is_one_undoable_edit(qtbot, make_panel):
    panel, session, stack = make_panel()
    type_into(qtbot, panel.stride_pair.h_spin, "12")
    assert session.spec.stride == 12  # locked: both axes, as one int
    assert stack.count() == 1 and stack.undo_text == "Set stride"
    stack.undo()
    assert session.spec.stride == 1
    assert panel.stride_pair.value() == 1
    stack.redo()
    assert panel.stride_pair.value() == 12


def test_unlocked_axes_give_a_pair_and_locking_equalises(qtbot, make_panel):
    panel, session, stack = make_panel()
    panel.kernel_size_pair.lock.setChecked(False)
    panel.kernel_size_pair.w_spin.setValue(5)
    assert session.spec.kernel_size == (3, 5)
    assert session.weight.shape == (1, 3, 3, 5)
    panel.kernel_size_pair.lock.setChecked(True)
    assert session.spec.kernel_size == 3
    stack.undo()
    assert session.spec.kernel_size == (3, 5)


@pytest.mark.parametrize(
    "act, field, value",
    [
        (lambda p: p.out_channels_spin.setValue(8), "out_channels", 8),
        (lambda p: p.dilation_pair.h_spin.setValue(2), "dilation", 2),
        (lambda p: p.groups_spin.setValue(3), "groups", 3),
        (lambda p: p.bias_check.setChecked(False), "bias", False),
        (lambda p: p.padding_pair.w_spin.setValue(2), "padding", 2),
        (lambda p: pick(p.padding_combo, "same"), "padding", "same"),
        (lambda p: pick(p.padding_mode_combo, "replicate"), "padding_mode", "replicate"),
        (lambda p: p.transposed_check.setChecked(True), "transposed", True),
    ],
)
def test_view_to_model_and_undo(make_panel, act, field, value):
    panel, session, stack = make_panel()
    before = session.spec
    act(panel)
    assert getattr(session.spec, field) == value
    assert stack.count() == 1
    stack.undo()
    assert session.spec == before


def test_padding_mode_choice_enables_the_numbers_again(make_panel):
    panel, session, _ = make_panel(spec=ConvSpec(3, 1, 3, padding="same"))
    assert not panel.padding_pair.isEnabled()
    pick(panel.padding_combo, "number")
    assert session.spec.padding == 0 and panel.padding_pair.isEnabled()


def test_output_padding_only_with_transposed(make_panel):
    panel, session, _ = make_panel()
    assert not panel.output_padding_pair.isEnabled()
    panel.transposed_check.setChecked(True)
    assert panel.output_padding_pair.isEnabled()
    panel.stride_pair.h_spin.setValue(2)
    panel.output_padding_pair.h_spin.setValue(1)
    assert session.spec.output_padding == 1
    assert session.spec.weight_shape == (3, 1, 3, 3)  # (in, out/groups, kh, kw)
    assert panel.invalid_field() is None


def test_true_convolution_checkbox_is_undoable(make_panel):
    panel, session, stack = make_panel()
    panel.true_convolution_check.setChecked(True)
    assert session.true_convolution
    stack.undo()
    assert not session.true_convolution and not panel.true_convolution_check.isChecked()
    assert "not what PyTorch computes" in panel.true_convolution_check.toolTip().replace("NOT", "not")


def _set_padding(value: int):
    return lambda p: p.padding_pair.h_spin.setValue(value)


# (image shape, starting spec, the user's edits that break it, the field at fault, the fix)
REFUSED = {
    "groups=2 with 3 input channels": (
        (3, 8, 8), ConvSpec(3, 4, 3),
        [lambda p: p.groups_spin.setValue(2)], "groups",
        [lambda p: p.groups_spin.setValue(1)],
    ),
    "kernel larger than the padded input": (
        (1, 4, 4), ConvSpec(1, 1, 3),
        [lambda p: p.kernel_size_pair.h_spin.setValue(7)], "kernel_size",
        [lambda p: p.kernel_size_pair.h_spin.setValue(3)],
    ),
    "'same' with stride 2": (
        (1, 8, 8), ConvSpec(1, 1, 3),
        [lambda p: pick(p.padding_combo, "same"), lambda p: p.stride_pair.h_spin.setValue(2)], "padding",
        [lambda p: p.stride_pair.h_spin.setValue(1)],
    ),
    "reflect padding not smaller than the input": (
        (1, 4, 4), ConvSpec(1, 1, 3),
        [lambda p: pick(p.padding_mode_combo, "reflect"), _set_padding(4)], "padding",
        [_set_padding(3)],
    ),
    "circular padding wrapping more than once": (
        (1, 4, 4), ConvSpec(1, 1, 3),
        [lambda p: pick(p.padding_mode_combo, "circular"), _set_padding(5)], "padding",
        [_set_padding(4)],
    ),
    "output_padding not smaller than stride": (
        (1, 4, 4), ConvSpec(1, 1, 3),
        [lambda p: p.transposed_check.setChecked(True), lambda p: p.output_padding_pair.h_spin.setValue(1)],
        "output_padding",
        [lambda p: p.stride_pair.h_spin.setValue(2)],
    ),
    "a non-zeros padding mode on a transposed convolution": (
        (1, 4, 4), ConvSpec(1, 1, 3),
        [lambda p: pick(p.padding_mode_combo, "reflect"), lambda p: p.transposed_check.setChecked(True)],
        "padding_mode",
        [lambda p: pick(p.padding_mode_combo, "zeros")],
    ),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_refused_settings_show_their_reason_on_the_field_at_fault(make_panel, case):
    image_shape, start, breaks, field, fixes = REFUSED[case]
    panel, session, stack = make_panel(image_shape, start)
    assert panel.invalid_field() is None
    for act in breaks:
        act(panel)  # raises nothing

    with pytest.raises(ConvSpecError) as refusal:
        session.spec.output_shape(image_shape)
    assert refusal.value.field == field
    row = panel.fields[field]
    assert panel.invalid_field() == field
    assert row.frame.styleSheet() == INVALID_STYLE
    assert row.error.text() == str(refusal.value) and not row.error.isHidden()
    assert "refuse" in panel.summary.text()
    others = [name for name, r in panel.fields.items() if name != field and not r.error.isHidden()]
    assert others == []

    for act in fixes:
        act(panel)
    assert session.spec.is_valid(image_shape)
    assert panel.invalid_field() is None
    assert row.error.isHidden() and row.frame.styleSheet() != INVALID_STYLE
    assert panel.summary.text().startswith("output (C, H, W)")

    # Undoing the fix brings the red back; every step was undoable.
    stack.undo()
    assert panel.invalid_field() == field


def test_an_image_change_can_make_the_spec_invalid(make_panel):
    panel, session, _ = make_panel((1, 8, 8), ConvSpec(1, 1, 5))
    session.set_image(np.zeros((1, 3, 3)))
    assert panel.invalid_field() == "kernel_size"
    session.set_image(np.zeros((1, 6, 6)))
    assert panel.invalid_field() is None


def test_in_channels_follows_the_image_and_a_mismatch_is_shown_on_its_row(make_panel):
    panel, session, _ = make_panel((1, 8, 8))
    session.set_image(np.zeros((3, 8, 8)))
    assert "<b>3</b>" in panel.in_channels_label.text()
    session.set_image(np.zeros((1, 8, 8)), adapt_channels=False)
    assert panel.invalid_field() == "in_channels"
    assert "in_channels is 3" in panel.fields["in_channels"].error.text()


def test_every_control_has_a_tooltip(make_panel):
    panel, _, _ = make_panel()
    for row in panel.fields.values():
        assert row.editor.toolTip()
    for pair in (panel.kernel_size_pair, panel.stride_pair, panel.padding_pair, panel.dilation_pair,
                 panel.output_padding_pair):
        assert pair.h_spin.toolTip() and pair.w_spin.toolTip() and pair.lock.toolTip()


def test_a_deleted_panel_stops_listening(qtbot):
    session = Session(np.zeros((1, 8, 8)))
    panel = ParamsPanel(session, History())
    panel.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    session.set_spec(session.spec.replace(stride=2))  # would touch a deleted widget otherwise
    session.set_true_convolution(True)
    session.set_image(np.zeros((1, 9, 9)))


def test_in_channels_says_whose_it_is_when_a_kernel_disagrees_with_the_image(qtbot):
    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec
    from convplay.qt.panels.params_panel import ParamsPanel

    session = Session(np.zeros((3, 8, 8)), ConvSpec(in_channels=3))
    panel = ParamsPanel(session, None)
    qtbot.addWidget(panel)
    assert "follows the image" in panel.in_channels_label.text()
    spec = session.spec.replace(in_channels=8)
    session.set_kernel(spec, np.zeros(spec.weight_shape))  # an 8-input-channel kernel, loaded
    text = panel.in_channels_label.text()
    assert "<b>8</b>" in text and "the image has 3 channels" in text and "follows" not in text


def test_padding_mode_shows_the_same_border_by_its_other_names(make_panel):
    panel, session, _ = make_panel(spec=ConvSpec(3, 1, 3, padding=1))
    combo = panel.padding_mode_combo
    expected = {  # as OpenCV, NumPy and scipy call the border each padding_mode makes
        "zeros": ("BORDER_CONSTANT (0)", "NumPy/scipy 'constant'"),
        "reflect": ("BORDER_REFLECT_101", "NumPy 'reflect', scipy 'mirror'"),
        "replicate": ("BORDER_REPLICATE", "NumPy 'edge', scipy 'nearest'"),
        "circular": ("BORDER_WRAP", "NumPy/scipy 'wrap'"),
    }
    for mode, (opencv, others) in expected.items():
        pick(combo, mode)
        assert session.spec.padding_mode == mode
        line = panel.border_names_label.text()
        assert opencv in line and others in line, line
        assert "MATLAB imfilter" in panel.border_names_label.toolTip()
        item_tip = combo.itemData(combo.findData(mode), Qt.ItemDataRole.ToolTipRole)
        assert f"cv2.{opencv.split()[0]}" in item_tip and "[1 2 3 4 5] padded by 2" in item_tip
    # the trap: scipy's 'reflect' is another border
    assert "scipy.ndimage's 'reflect' is NOT PyTorch's 'reflect'" in combo.toolTip()
    reflect_tip = combo.itemData(combo.findData("reflect"), Qt.ItemDataRole.ToolTipRole)
    assert "scipy.ndimage mode: 'mirror'" in reflect_tip and "NOT PyTorch's 'reflect'" in reflect_tip
    # MATLAB's 'symmetric' is said to have no padding_mode, with the way round in the tooltip
    tip = panel.border_names_label.toolTip()
    assert "'symmetric' has no padding_mode" in tip
    assert "mode='symmetric'" in tip and "padding=0" in tip
    assert combo.findData("symmetric") < 0


def test_an_undo_shows_the_names_of_the_border_it_restores(make_panel):
    panel, session, stack = make_panel(spec=ConvSpec(3, 1, 3, padding=1))
    pick(panel.padding_mode_combo, "replicate")
    assert "BORDER_REPLICATE" in panel.border_names_label.text()
    stack.undo()
    assert session.spec.padding_mode == "zeros" and "BORDER_CONSTANT" in panel.border_names_label.text()


@pytest.mark.parametrize("width", [340, 900])
def test_the_border_names_lie_under_the_combo_in_the_fields_column(make_panel, qtbot, width):
    """Under the combo, not flush left under the names of the fields; one line in a strip
    (the Explore strip must not grow), at most two in a side column."""
    panel, _, _ = make_panel(spec=ConvSpec(3, 1, 3, padding=1, padding_mode="reflect"))  # the longest
    panel.resize(width, 600)
    panel.show()
    qtbot.waitExposed(panel)
    label = panel.border_names_label
    frame = panel.fields["padding_mode"].frame
    assert label.parentWidget() is frame.parentWidget()
    assert label.x() == frame.x() and label.y() >= frame.geometry().bottom(), (label.geometry(), frame.geometry())
    line = label.fontMetrics().lineSpacing()
    lines = 1 if width == 900 else 2
    assert label.height() < (lines + 1) * line, (label.width(), label.height())
    # MATLAB's note follows the names only where it adds no line (else it is in the tooltip)
    if label.with_symmetric_note:
        assert "MATLAB's 'symmetric' has no padding_mode" in label.text()
    assert "'symmetric' has no padding_mode" in label.toolTip()


def test_matlabs_note_follows_the_names_where_there_is_room(make_panel, qtbot):
    panel, _, _ = make_panel(spec=ConvSpec(3, 1, 3, padding=1))
    panel.resize(1400, 600)
    panel.show()
    qtbot.waitExposed(panel)
    label = panel.border_names_label
    qtbot.waitUntil(lambda: label.with_symmetric_note)
    assert "BORDER_CONSTANT (0)" in label.text() and "MATLAB's 'symmetric' has no padding_mode" in label.text()
    assert label.height() < 2 * label.fontMetrics().lineSpacing()
