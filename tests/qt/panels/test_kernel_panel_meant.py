"""Issue 9 item 7 through the Kernel panel: presets on RGB fill the output channel's inputs
and say so; new channels are said; the preset box names the kernel through edits, undo and
loads; fractions typed and shown; tiny weights as 0; the flipped view under true
convolution; every cell of a 5x5 unclipped in a 1280x720 window, at every zoom."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyle

from convplay.core.formatting import parse_value
from convplay.core.history import History
from convplay.core.presets import get_preset
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels.kernel_panel import FILTER, FLIPPED, NO_NAME, KernelPanel
from convplay.qt.panels.params_panel import ParamsPanel
from convplay.qt.zoom import text_zoom
from oracles import session_output, torch_conv

SOBEL = get_preset("sobel_x").weights
# A learned 5x5 as the walk-through saw it: small values, one a float32 rounding of 0.
LEARNED = np.array(
    [
        [-0.002288, 0.1534, -0.0821, 0.04417, -1.178e-09],
        [0.2113, -0.3057, 0.01925, -0.1449, 0.0933],
        [-0.06271, 0.2876, -0.4125, 0.1362, -0.002288],
        [0.03318, -0.1957, 0.2409, -0.07752, 0.1084],
        [-0.1215, 0.05546, -0.008841, 0.1677, -0.2391],
    ]
)


@pytest.fixture
def rgb(qtbot):
    session = Session(np.random.default_rng(4).random((3, 12, 12)), ConvSpec(3, 1, 3))
    history = History()
    panel = KernelPanel(session, history)
    params = ParamsPanel(session, history)
    qtbot.addWidget(panel)
    qtbot.addWidget(params)
    return session, history, panel, params


def _pick_preset(panel, key):
    index = panel.preset_combo.findData(key)
    panel.preset_combo.setCurrentIndex(index)
    panel.preset_combo.activated.emit(index)


def _type(grid, row, col, text):
    grid.item(row, col).setText(text)


def test_a_preset_on_rgb_fills_every_input_of_the_output_channel_and_says_so(rgb):
    session, _, panel, _ = rgb
    assert panel.scope == FILTER  # the default
    _pick_preset(panel, "sobel_x")
    assert all(np.array_equal(session.weight[0, c], SOBEL) for c in range(3))
    out = session_output(session)
    spec1 = ConvSpec(1, 1, 3, bias=False)
    per_channel = sum(torch_conv(session.image[c:c + 1], SOBEL[None, None], None, spec1) for c in range(3))
    np.testing.assert_allclose(out, per_channel + session.bias_values[0], rtol=0, atol=1e-12)
    assert not panel.fill_note.isHidden()
    assert panel.fill_note.text().startswith("Sobel x in all 3 input channels of output channel 0")


def test_new_output_channels_are_copies_said_in_the_panel_and_undone_exactly(rgb):
    session, history, panel, params = rgb
    _pick_preset(panel, "sobel_x")
    before = session.weight
    params.out_channels_spin.setValue(3)
    assert session.weight.shape == (3, 3, 3, 3)
    assert all(np.array_equal(session.weight[o], before[0]) for o in range(3))
    assert panel.fill_note.text().startswith("Output channels 1–2 start as a copy of output channel 0's filter")
    panel.out_spin.setValue(2)
    np.testing.assert_array_equal(panel.grid.values(), SOBEL)  # not silent zeros
    history.undo()
    assert session.weight is before and panel.out_spin.maximum() == 0
    assert panel.fill_note.text().startswith("Sobel x in all 3")


def test_the_preset_box_keeps_the_kernels_name_through_edits_undo_and_loads(rgb):
    session, history, panel, _ = rgb
    combo = panel.preset_combo
    assert combo.currentText() == NO_NAME  # a kernel of zeros is nothing in particular
    _pick_preset(panel, "sobel_x")
    assert combo.currentText() == "Sobel x" and combo.currentData() == "sobel_x"
    _type(panel.grid, 1, 1, "3")
    assert combo.currentText() == "Sobel x, edited" and combo.currentIndex() == 0
    history.undo()
    assert combo.currentText() == "Sobel x"
    history.redo()
    assert combo.currentText() == "Sobel x, edited"
    _pick_preset(panel, "sobel_x")  # the same preset again restores it
    assert combo.currentText() == "Sobel x" and np.array_equal(session.weight[0, 0], SOBEL)
    session.set_kernel(session.spec, np.ones(session.weight.shape), name="conv1.weight, from model.pth")
    assert combo.currentText() == "conv1.weight, from model.pth"
    assert "conv1.weight, from model.pth" in combo.toolTip()
    panel.randomise()
    assert combo.currentText().startswith("Random")
    for expected in ("conv1.weight, from model.pth", "Sobel x, edited", "Sobel x"):
        history.undo()
        assert combo.currentText() == expected


def test_fractions_typed_show_as_typed_and_pytorch_gets_the_same_numbers(rgb):
    session, history, panel, _ = rgb
    grid = panel.grid
    _type(grid, 0, 0, "1/9")
    _type(grid, 0, 1, "0.5")
    _type(grid, 0, 2, "4/256")
    assert grid.texts()[0] == ["1/9", "0.5", "4/256"]
    assert grid.item(0, 0).toolTip() == "1/9 = 0.1111111111111111"
    stored = session.weight[0, 0, 0]
    assert list(stored) == [parse_value("1/9"), 0.5, 4 / 256]
    assert stored[0] == 1 / 9  # the float Python itself makes of 1/9
    out = session_output(session)  # nn.Conv2d given torch.tensor(1/9) etc.
    kernel = np.zeros((3, 3))
    kernel[0] = [1 / 9, 0.5, 1 / 64]
    x = session.image[:1]
    np.testing.assert_allclose(out, torch_conv(x, kernel[None, None], None, ConvSpec(1, 1, 3, bias=False)), atol=1e-15)
    history.undo()
    assert grid.texts()[0] == ["1/9", "0.5", "0"]
    history.redo()
    assert grid.texts()[0] == ["1/9", "0.5", "4/256"]


def test_exact_presets_show_as_fractions(rgb):
    _, _, panel, _ = rgb
    _pick_preset(panel, "gaussian5")
    texts = panel.grid.texts()
    assert texts[0] == ["1/768", "4/768", "6/768", "4/768", "1/768"]  # 1/256 in each of 3 colours
    assert panel.fill_note.text().startswith("Gaussian 5×5 ÷ 3")
    panel.in_spin.setValue(2)
    assert panel.grid.texts()[2][2] == "36/768"
    one = Session(np.zeros((1, 8, 8)), ConvSpec(1, 1, 3))
    single = KernelPanel(one, None)
    single.apply_preset(get_preset("gaussian5"))
    assert single.grid.texts()[2] == ["6/256", "24/256", "36/256", "24/256", "6/256"]
    single.apply_preset(get_preset("box3"))
    assert single.grid.texts() == [["1/9"] * 3] * 3
    single.deleteLater()


def test_tiny_weights_show_as_0_with_the_exact_value_on_hover(rgb):
    session, _, panel, _ = rgb
    session.set_kernel(session.spec.replace(kernel_size=5), np.broadcast_to(LEARNED, (1, 3, 5, 5)).copy())
    item = panel.grid.item(0, 4)
    assert item.text() == "0" and item.toolTip().startswith("-1.178e-09")
    assert panel.grid.item(0, 0).text() == "-0.00229" and panel.grid.item(0, 0).toolTip() == "-0.00229 = -0.002288"


def test_true_convolution_shows_which_orientation_and_the_flipped_kernel(rgb):
    session, history, panel, params = rgb
    kernel = np.arange(9.0).reshape(3, 3) - 4
    session.set_weight(np.broadcast_to(kernel, (1, 3, 3, 3)).copy())
    assert panel.orientation_row.isHidden()
    params.true_convolution_check.setChecked(True)
    assert session.true_convolution and not panel.orientation_row.isHidden()
    assert panel.weights_title.text() == "Weights, as typed"
    np.testing.assert_array_equal(panel.grid.values(), kernel)
    panel.flipped_button.click()
    assert panel.orientation == FLIPPED
    assert panel.weights_title.text() == "Weights, flipped as PyTorch gets them"
    np.testing.assert_array_equal(panel.grid.values(), session.effective_weight()[0, 0])
    np.testing.assert_array_equal(panel.heatmap.values, kernel[::-1, ::-1])
    _type(panel.grid, 0, 0, "7")  # top-left as PyTorch sees it: the typed kernel's bottom-right
    assert session.weight[0, 0, 2, 2] == 7 and session.effective_weight()[0, 0, 0, 0] == 7
    assert panel.grid.item(0, 0).text() == "7"
    history.undo()
    assert session.weight[0, 0, 2, 2] == 4
    params.true_convolution_check.setChecked(False)  # off: the grid is as typed, which PyTorch gets
    assert panel.orientation_row.isHidden() and panel.weights_title.text() == "Weights, as PyTorch gets them"
    np.testing.assert_array_equal(panel.grid.values(), kernel)


# -- sizes -----------------------------------------------------------------------------------
def _unclipped(grid) -> bool:
    """Every cell's text fits its column (the item delegate keeps a margin a side)."""
    metrics = QFontMetrics(grid.font())
    margin = 2 * (grid.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, grid) + 1) + 1
    return all(
        metrics.horizontalAdvance(grid.item(r, c).text()) <= grid.columnWidth(c) - margin
        for r in range(grid.rowCount())
        for c in range(grid.columnCount())
    )


@pytest.fixture
def window(qtbot, temporary_settings):
    from convplay.qt.main_window import MainWindow

    session = Session(np.random.default_rng(3).random((3, 64, 64)), ConvSpec(3, 1, 5), np.broadcast_to(LEARNED, (1, 3, 5, 5)).copy())
    window = MainWindow(session, settings=QSettings(str(temporary_settings / "k.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_5x5_of_learned_weights_shows_whole_in_a_1280x720_window(window, qtbot):
    from convplay.qt import workspaces

    panel = window.kernel_panel
    seen = 0
    for name in workspaces.WORKSPACE_NAMES:
        window.set_workspace(name)
        qtbot.wait(100)  # the docks' layout passes
        if not panel.isVisible():
            continue
        seen += 1
        assert window.size().width() == 1280 and window.size().height() == 720
        grid = panel.grid
        scroll = window.docks["kernel"].widget()

        def whole() -> bool:
            # the panel does not scroll sideways, the grid shows every cell, no text is cut
            return panel.width() <= scroll.viewport().width() and grid.shows_every_cell() and _unclipped(grid)

        try:
            qtbot.waitUntil(whole, timeout=3000)
        except AssertionError:
            raise AssertionError(f"{name}: grid {grid.size()} viewport {grid.viewport().size()} panel {panel.size()}") from None
    assert seen >= 1


def test_after_keep_kernel_a_3x3_shows_every_column(window, qtbot):
    session = window.session
    session.set_kernel(session.spec.replace(kernel_size=3, in_channels=1), LEARNED[1:4, 1:4][None, None].copy())
    qtbot.wait(10)
    grid = window.kernel_panel.grid
    assert grid.columnCount() == 3 and grid.shows_every_cell() and _unclipped(grid)


def test_larger_kernels_scroll_and_still_cut_no_number(qtbot):
    rng = np.random.default_rng(5)
    session = Session(np.zeros((1, 32, 32)), ConvSpec(1, 1, 11), rng.normal(0, 0.1, (1, 1, 11, 11)))
    panel = KernelPanel(session, None)
    qtbot.addWidget(panel)
    panel.resize(340, 520)
    panel.show()
    qtbot.waitExposed(panel)
    assert _unclipped(panel.grid) and not panel.grid.shows_every_cell()
    assert panel.grid.horizontalScrollBar().maximum() > 0
    session.set_spec(session.spec.replace(kernel_size=7))
    assert _unclipped(panel.grid)


def test_the_grid_measures_again_when_the_text_zooms(qtbot):
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 1, 5), LEARNED[None, None].copy())
    panel = KernelPanel(session, None)
    qtbot.addWidget(panel)
    panel.show()
    grid = panel.grid
    before = [grid.columnWidth(c) for c in range(5)], grid.rowHeight(0)
    zoom = text_zoom()
    try:
        zoom.set_factor(1.5)
        qtbot.waitUntil(lambda: grid.columnWidth(0) > before[0][0])
        assert grid.rowHeight(0) > before[1]
        assert _unclipped(grid)
        assert grid.sizeHint().width() > sum(before[0])
    finally:
        zoom.reset()
    qtbot.waitUntil(lambda: [grid.columnWidth(c) for c in range(5)] == before[0])


def test_a_typed_bias_keeps_its_form(rgb):
    session, history, panel, _ = rgb
    _type(panel.bias_grid, 0, 0, "0.25")
    assert session.bias_values[0] == 0.25 and panel.bias_grid.texts() == [["0.25"]]
    _type(panel.bias_grid, 0, 0, "1/4")  # the same number written as a fraction: only the text changes
    assert panel.bias_grid.texts() == [["1/4"]] and history.count() == 1


def test_a_kernel_loaded_from_a_file_is_named_after_it(rgb):
    from convplay.core.kernel_io import KernelChoice
    from convplay.qt.dialogs.kernel_picker import apply_kernel_choice

    session, history, panel, _ = rgb
    choice = KernelChoice(session.spec, np.ones(session.weight.shape), None)
    apply_kernel_choice(session, history, choice, "Load kernel conv1.weight", name="conv1.weight, from model.pth")
    assert panel.preset_combo.currentText() == "conv1.weight, from model.pth"
    apply_kernel_choice(session, history, choice, "Load digits conv1 (learned)")
    assert panel.preset_combo.currentText() == "digits conv1 (learned)"
    history.undo()
    assert panel.preset_combo.currentText() == "conv1.weight, from model.pth"


def test_a_5x5_gaussian_shows_whole_in_a_1024x640_window(window, qtbot):
    from convplay.qt import workspaces

    session, panel = window.session, window.kernel_panel
    panel.apply_preset(get_preset("gaussian5"))
    window.resize(1024, 640)
    scroll = window.docks["kernel"].widget()
    for name in workspaces.WORKSPACE_NAMES:
        window.set_workspace(name)
        qtbot.wait(100)
        if not panel.isVisible():
            continue
        grid = panel.grid
        qtbot.waitUntil(
            lambda: panel.width() <= scroll.viewport().width() and grid.shows_every_cell() and _unclipped(grid),
            timeout=3000,
        )
        assert grid.texts()[2][2] == "36/768" and window.size().width() == 1024
    assert session.kernel_name == "Gaussian 5×5"
