"""The matrix view against PyTorch: C is the Jacobian of F.conv2d (or F.conv_transpose2d)
taken from the user-level arguments, im2col's columns are F.unfold's."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import QPoint, Qt

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.panels.matrix_panel import DENSE_LIMIT, MatrixPanel

GUIDE_X = np.array([[3, 3, 2, 1], [0, 0, 1, 3], [3, 1, 2, 2], [2, 0, 0, 2]], float)[None]
GUIDE_K = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], float)[None, None]


def jacobian(x_shape, fn):
    """d fn(x).ravel() / d x.ravel(): the matrix of a linear map, from torch itself."""
    x = torch.zeros(int(np.prod(x_shape)), dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda t: fn(t.view(1, *x_shape)).reshape(-1), x).numpy()


@pytest.fixture
def make(qtbot):
    made = []

    def build(session):
        dock = AnimationDock(session)
        panel = MatrixPanel(session, dock)
        qtbot.addWidget(dock)
        qtbot.addWidget(panel)
        panel.resize(900, 550)
        panel.show()
        made.append((panel, dock))
        return panel, dock

    yield build
    for panel, dock in made:
        panel.shutdown()
        dock.shutdown()


def test_guide_example_is_the_jacobian_of_conv2d(make, qtbot):
    panel, _ = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    assert panel.mode == "dense"
    w = torch.tensor(GUIDE_K)
    expected = jacobian((1, 4, 4), lambda t: F.conv2d(t, w))
    blocks = panel.grid.blocks
    np.testing.assert_array_equal(blocks[0].values, expected)
    assert blocks[0].values.shape == (4, 16)
    y = F.conv2d(torch.tensor(GUIDE_X)[None], w).numpy().ravel()
    np.testing.assert_array_equal(blocks[-1].values.ravel(), y)
    np.testing.assert_array_equal(blocks[1].values.ravel(), GUIDE_X.ravel())
    assert f"{DENSE_LIMIT}×{DENSE_LIMIT}" in panel.caption.text()
    qtbot.waitUntil(lambda: panel.last_check[0] is not None, timeout=20000)
    assert panel.last_check[0] is True
    assert "\u2713" in panel.badge.text() and "conv2d" in panel.badge.text() and "largest difference 0" in panel.badge.text()


def _strided_session():
    rng = np.random.default_rng(3)
    spec = ConvSpec(in_channels=2, out_channels=2, kernel_size=3, stride=2, padding=1)
    weight = rng.choice([-2.0, -1.0, 1.0, 2.0], size=spec.weight_shape)  # no zero weight: structure = non-zeros
    return Session(rng.integers(1, 5, (2, 5, 5)).astype(float), spec, weight, np.array([0.5, -1.0])), weight


def test_highlighted_row_follows_stepping_and_reads_the_rows_non_zeros(make):
    session, weight = _strided_session()
    panel, dock = make(session)
    expected = jacobian((2, 5, 5), lambda t: F.conv2d(t, torch.tensor(weight), stride=2, padding=1))
    np.testing.assert_allclose(panel.grid.blocks[0].values, expected, atol=1e-12)
    assert panel.grid.blocks[0].col_bounds == (25,) and panel.grid.blocks[0].row_bounds == (9,)
    for k in range(dock.state.n_steps):
        dock.state.seek(k)
        lit = panel.lit()
        assert lit["rows"] == {k}
        assert lit["x"] == set(np.flatnonzero(expected[k]).tolist())
        assert lit["y"] == {k}
        assert f"row {k} of C" in panel.step_label.text()


def test_clicking_a_row_seeks_its_output_cell(make, qtbot):
    session, _ = _strided_session()
    panel, dock = make(session)
    dock.state.seek(0)
    rect = panel.grid.cell_rect(0, 7, 3)
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    assert dock.state.position == 7 and dock.state.cell() == (0, 2, 1)
    assert panel.lit()["rows"] == {7}


def test_transposed_highlights_the_column_of_the_input_pixel(make, qtbot):
    rng = np.random.default_rng(5)
    spec = ConvSpec(kernel_size=3, stride=2, padding=1, output_padding=1, transposed=True, bias=False)
    weight = rng.choice([-2.0, 1.0, 3.0], size=spec.weight_shape)
    panel, dock = make(Session(rng.integers(0, 4, (1, 3, 3)).astype(float), spec, weight))
    expected = jacobian((1, 3, 3), lambda t: F.conv_transpose2d(t, torch.tensor(weight), stride=2, padding=1,
                                                                output_padding=1))
    np.testing.assert_allclose(panel.grid.blocks[0].values, expected, atol=1e-12)
    assert "Cᵀ" in panel.caption.text()
    for k in range(9):
        dock.state.seek(k)
        lit = panel.lit()
        assert lit["cols"] == {k} and lit["x"] == {k}
        assert lit["y"] == set(np.flatnonzero(expected[:, k]).tolist())
    rect = panel.grid.cell_rect(0, 0, 4)
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    assert dock.state.position == 4 and panel.lit()["cols"] == {4}
    qtbot.waitUntil(lambda: panel.last_check[0] is not None, timeout=20000)
    assert panel.last_check[0] is True and "conv_transpose2d" in panel.badge.text()


def test_above_the_limit_the_im2col_column_is_unfolds(make, qtbot):
    rng = np.random.default_rng(7)
    spec = ConvSpec(in_channels=2, out_channels=4, kernel_size=3, padding=1, dilation=2, groups=2)
    weight = rng.normal(size=spec.weight_shape)
    bias = rng.normal(size=4)
    x = rng.normal(size=(2, 20, 30))
    panel, dock = make(Session(x, spec, weight, bias))
    assert panel.mode == "im2col"
    assert "this input is 20×30" in panel.caption.text()
    unfold = F.unfold(torch.tensor(x)[None], 3, dilation=2, padding=1)[0].numpy()  # (2·9, L)
    out = F.conv2d(torch.tensor(x)[None], torch.tensor(weight), torch.tensor(bias), padding=1, dilation=2,
                   groups=2)[0].numpy()
    for oc, i, j in ((0, 0, 0), (3, 11, 17), (2, 17, 27)):  # the output is 18×28
        dock.state.seek_cell(oc, i, j)
        group, l = oc // 2, i * 28 + j
        blocks = panel.grid.blocks
        (q,) = blocks[1].cols_lit
        _, start, stop, _ = panel._window_shown
        assert start + q == l and stop - start < 100
        np.testing.assert_allclose(blocks[1].values[:, q], unfold[group * 9:(group + 1) * 9, l], atol=1e-12)
        (o,) = blocks[0].rows_lit
        assert o == oc % 2
        np.testing.assert_allclose(blocks[-1].values[o, q], out[oc, i, j], atol=1e-12)
        assert dock.state.cell() == (oc, i, j)
        assert f"columns {start + 1}–{stop} of 504" in panel.caption.text()
    qtbot.waitUntil(lambda: panel.last_check[0] is not None, timeout=20000)
    assert panel.last_check[0] is True, panel.badge.text()


def test_symbols_mode_writes_w_and_x(make):
    panel, dock = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    panel.symbols_button.setChecked(True)
    c, x, y = panel.grid.blocks
    # Output (0,0) reads input (i, j) through kernel tap (i, j); output (0,1) shifts by a column.
    assert c.symbols[0, 0] == "w|0,0" and c.symbols[0, 10] == "w|2,2" and c.symbols[1, 1] == "w|0,0"
    assert c.symbols[0, 3] == ""
    assert x.symbols[5, 0] == "x|1,1" and y.symbols[3, 0] == "y|1,1"
    session, _ = _strided_session()
    panel, _ = make(session)
    panel.symbols_button.setChecked(True)
    assert panel.grid.blocks[0].symbols[0, 0].startswith("w|0,0,")  # output 0, input channel 0
    assert panel.grid.blocks[1].symbols[25, 0] == "x|1,0,0"
    assert panel.symbols_button.toolTip()


def test_bad_settings_show_a_message_and_raise_nothing(make, qtbot):
    panel, dock = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    panel.session.set_spec(panel.session.spec.replace(kernel_size=7))
    assert panel.mode == "" and panel.problem
    assert "Cannot draw" in panel.message.text() and not panel.message.isHidden()
    dock.state.seek(3)  # stepping with nothing to draw draws nothing
    panel.session.set_spec(panel.session.spec.replace(kernel_size=3))
    assert panel.mode == "dense" and panel.message.isHidden()


def test_symbols_in_the_step_and_the_im2col_view_and_a_folded_padding(make):
    spec = ConvSpec(kernel_size=3, padding=1, padding_mode="replicate", bias=False)
    panel, dock = make(Session(GUIDE_X, spec, GUIDE_K))
    panel.symbols_button.setChecked(True)
    dock.state.seek(0)
    # Replicate padding folds the rim into the edge pixel: (0,0) reads x_{0,0} through four taps.
    assert panel.grid.blocks[0].symbols[0, 0] == "w|0,0+w|0,1+w|1,0+w|1,1"
    assert "w<sub>0,0</sub>" in panel.step_label.text() and "x<sub>0,0</sub>" in panel.step_label.text()
    expected = jacobian((1, 4, 4), lambda t: F.conv2d(F.pad(t, (1, 1, 1, 1), mode="replicate"),
                                                      torch.tensor(GUIDE_K)))
    np.testing.assert_allclose(panel.grid.blocks[0].values, expected, atol=1e-12)
    session = Session(np.arange(100.0).reshape(1, 10, 10), ConvSpec(kernel_size=3, bias=False), GUIDE_K)
    panel, dock = make(session)
    panel.symbols_button.setChecked(True)
    dock.state.seek_cell(0, 2, 3)
    weights, patches, output = panel.grid.blocks
    (q,) = patches.cols_lit
    assert weights.symbols[0, 4] == "w|1,1"
    assert [patches.symbols[t, q] for t in (0, 4, 8)] == ["x|2,3", "x|3,4", "x|4,5"]
    assert output.symbols[0, q] == "y|2,3"


def test_text_zoom_and_high_contrast_redraw_without_error(make):
    from convplay.qt.theme import theme
    from convplay.qt.zoom import text_zoom

    panel, _ = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    before = panel.grid._label_room()
    text_zoom().set_factor(1.5)
    assert panel.grid._label_room()[0] > before[0]
    theme().set_high_contrast(True)
    assert not panel.grab().isNull()


def test_steps_with_its_own_controls_while_the_animation_is_out_of_sight(make, qtbot):
    panel, dock = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    dock.hide()
    panel.session.set_spec(panel.session.spec.replace(padding=1))  # 4×4 outputs: C is 16×16
    assert dock.state.shape == (1, 4, 4) and panel.grid.blocks[0].values.shape == (16, 16)
    dock.state.seek(0)
    qtbot.mouseClick(panel.controls.forward_button, Qt.MouseButton.LeftButton)
    assert dock.state.position == 1 and panel.lit()["rows"] == {1}
    # The guide's kernel holds zeros: the taps are where a kernel of ones reads.
    taps = jacobian((1, 4, 4), lambda t: F.conv2d(t, torch.ones(1, 1, 3, 3, dtype=torch.float64), padding=1))
    assert panel.lit()["x"] == set(np.flatnonzero(taps[1]).tolist())


def test_a_refusal_is_written_as_it_is_and_the_grid_takes_no_room(make):
    panel, _ = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    panel.session.set_spec(panel.session.spec.replace(out_channels=2, groups=2))
    assert panel.mode == ""
    # PyTorch's own words keep their apostrophe (not "&#x27;" escaped into a plain label).
    assert "can't" in panel.message.text() and "&#" not in panel.message.text()
    assert panel.grid.size().isEmpty()  # no empty frame left in the corner


def test_a_folded_padding_says_so_and_its_sums_read_in_full_on_hover(make):
    spec = ConvSpec(kernel_size=3, padding=1, padding_mode="reflect", bias=False)
    panel, _ = make(Session(GUIDE_X, spec, GUIDE_K))
    assert "Reflect padding is folded into C" in panel.caption.text()
    panel.symbols_button.setChecked(True)
    # Reflect pads row -1 with row 1: output (0,0) reads x_{1,1} through w_{0,0}, w_{0,2}, w_{2,0} and w_{2,2}.
    expected = jacobian((1, 4, 4), lambda t: F.conv2d(F.pad(t, (1, 1, 1, 1), mode="reflect"), torch.tensor(GUIDE_K)))
    col = 1 * 4 + 1
    assert panel.grid.blocks[0].values[0, col] == expected[0, col] == 0 + 2 + 0 + 2
    tip = panel.grid.cell_tip(0, 0, col)
    assert tip.count("<sub>") == 4 and tip.endswith("= 4")
    assert "no weight" in panel.grid.cell_tip(0, 0, 15)  # x_{3,3} is out of output (0,0)'s reach


def test_a_larger_input_keeps_the_cell_and_draws_the_new_matrix_without_a_stale_step(make):
    rng = np.random.default_rng(3)
    session = Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K)
    panel, dock = make(session)
    dock.state.to_end()  # output (0, 1, 1), step 3 of 4; on a 6×6 output it is step 7
    x = rng.normal(size=(1, 8, 8))
    session.set_image(x)  # the dock hears the change first and keeps the steps' shape current
    assert dock.state.shape == (1, 6, 6) and dock.state.cell() == (0, 1, 1) and panel.mode == "dense"
    y = F.conv2d(torch.tensor(x)[None], torch.tensor(GUIDE_K))[0, 0, 1, 1].item()
    assert panel.grid.blocks[-1].values.ravel()[7] == pytest.approx(y, abs=1e-12)
    assert "Output (1,1) is row 7" in panel.step_label.text()


def test_a_step_of_a_shape_the_picture_is_not_drawn_for_waits_for_the_refresh(make):
    panel, dock = make(Session(GUIDE_X, ConvSpec(kernel_size=3, bias=False), GUIDE_K))
    dock.state.to_end()
    before = panel.step_label.text()
    dock.state.set_shape((1, 6, 6))  # the steps of settings the session is about to take
    assert dock.state.position == 7
    assert panel.step_label.text() == before  # no row 7 of this 4-row C is drawn
