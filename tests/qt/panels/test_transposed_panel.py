"""Transposed convolution four ways: each view's value at the current cell equals PyTorch's
conv_transpose2d, the four step together, a click on the gather output seeks, the zero
insertion's arithmetic, the badge, and what the panel says for settings it cannot show."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.panels.transposed_panel import DIRECT_MESSAGE, MAX_SIDE, TransposedPanel

NAMES = ("scatter", "gather", "zero insertion", "matrix")


def make_panel(qtbot, x, spec, weight, bias):
    session = Session(x, spec, weight, bias)
    panel = TransposedPanel(session)
    qtbot.addWidget(panel)
    panel.resize(900, 550)
    panel.show()
    qtbot.waitExposed(panel)
    return session, panel


def torch_reference(x, weight, bias, **kwargs):
    with torch.no_grad():
        return F.conv_transpose2d(torch.tensor(x)[None], torch.tensor(weight),
                                  None if bias is None else torch.tensor(bias), **kwargs)[0].numpy()


def values_at_cell(panel):
    return {name: panel.frames[name].value for name in NAMES}


def badge_settles(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.badge.text().startswith("checking"), timeout=20000)
    return panel.badge.text()


@pytest.fixture
def guide_case(qtbot):
    """The guide's relationship 14: a 3×3 input, k = 3, s = 2, p = 1, output_padding 1 → 6×6."""
    x = np.arange(1.0, 10.0).reshape(1, 3, 3)
    weight = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    spec = ConvSpec(transposed=True, kernel_size=3, stride=2, padding=1, output_padding=1)
    return make_panel(qtbot, x, spec, weight, np.array([0.5]))


def test_the_four_views_step_together_and_equal_pytorch(qtbot):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 4, 5))
    weight = rng.normal(size=(4, 3, 3, 2))  # groups 2: (in, out / groups, kh, kw)
    bias = rng.normal(size=6)
    spec = ConvSpec(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 3), padding=(1, 2),
                    dilation=(2, 1), groups=2, transposed=True, output_padding=(1, 2))
    _, panel = make_panel(qtbot, x, spec, weight, bias)
    expected = torch_reference(x, weight, bias, stride=(2, 3), padding=(1, 2), output_padding=(1, 2),
                               groups=2, dilation=(2, 1))
    assert panel.state.shape == expected.shape
    seen = []
    for _ in range(7):
        oc, i, j = panel.state.cell()
        for name, value in values_at_cell(panel).items():
            assert value == pytest.approx(expected[oc, i, j], abs=1e-12), name
        seen.append((oc, i, j))
        panel.controls.forward_button.click()
    assert len(set(seen)) == 7  # each step moved all four to a new cell
    panel.state.play()
    panel.player.tick(1.5)  # 2 steps a second: three steps on
    oc, i, j = panel.state.cell()
    assert (oc, i, j) == seen[-1][:1] + divmod(seen[-1][1] * expected.shape[2] + seen[-1][2] + 4, expected.shape[2])
    for value in values_at_cell(panel).values():
        assert value == pytest.approx(expected[oc, i, j], abs=1e-12)
    panel.state.pause()
    panel.out_channel.setValue(4)  # the second group
    oc, i, j = panel.state.cell()
    assert oc == 4
    assert panel.in_channel.minimum() == 2 and panel.in_channel.maximum() == 3
    for value in values_at_cell(panel).values():
        assert value == pytest.approx(expected[4, i, j], abs=1e-12)
    assert "summed over input channels 2–3" in panel.frames["gather"].detail.text()
    assert badge_settles(qtbot, panel).startswith("\u2713 All four equal PyTorch's conv_transpose2d")


def test_the_guide_case_shows_each_view_reading_the_same_pixels(qtbot, guide_case):
    _, panel = guide_case
    expected = torch_reference(np.arange(1.0, 10.0).reshape(1, 3, 3), np.arange(1.0, 10.0).reshape(1, 1, 3, 3),
                               np.array([0.5]), stride=2, padding=1, output_padding=1)
    assert panel.state.shape == (1, 6, 6)
    panel.state.seek_cell(0, 2, 3)
    for value in values_at_cell(panel).values():
        assert value == pytest.approx(expected[0, 2, 3]) == 54.5
    # Output (2, 3) is reached by x[1,1] through w[1,2] and x[1,2] through w[1,0]: 5·6 + 6·4.
    assert "x[1,1]·w[1,2] + x[1,2]·w[1,0]" in panel.frames["scatter"].detail.text()
    assert "w[1,2]·x[1,1] + w[1,0]·x[1,2]" in panel.frames["gather"].detail.text()
    assert "reads columns 4, 5 of 9" in panel.frames["matrix"].detail.text()
    assert "6·5 + 4·6 + 0.5 (bias)" in panel.frames["matrix"].detail.text()
    assert "2 on pixels, 7 on zeros" in panel.frames["zero insertion"].value_label.text()
    text = panel.frames["zero insertion"].detail.text().replace("\u00a0", " ")
    for part in ("i′ = 3", "ĩ′ = (i′ − 1)·s + 1 = (3 − 1)·2 + 1 = 5", "p′ = (k − 1) − p = (3 − 1) − 1 = 1",
                 "a = 1", "= 6"):
        assert part in text
    assert "rows:" not in text  # both axes alike: written once
    badge = badge_settles(qtbot, panel)
    assert badge == ("\u2713 All four equal PyTorch's conv_transpose2d: largest difference 0 "
                     "(scatter 0, gather 0, zero insertion 0, Cᵀx 0)")
    assert panel.last_check[0] is True


def test_clicking_a_gather_output_cell_seeks_it(qtbot, guide_case):
    _, panel = guide_case
    picture = panel.frames["gather"].picture
    qtbot.mouseClick(picture, Qt.MouseButton.LeftButton, pos=picture.centre_of(1, 4, 1))
    assert panel.state.cell() == (0, 4, 1)
    assert panel.frames["scatter"].value_label.text().startswith("y[0, 4, 1]")
    qtbot.mouseClick(picture, Qt.MouseButton.LeftButton, pos=picture.centre_of(0, 1, 1))  # the input: no seek
    assert panel.state.cell() == (0, 4, 1)


def test_rows_and_columns_are_written_apart_when_they_differ(qtbot):
    x = np.ones((1, 3, 4))
    spec = ConvSpec(transposed=True, kernel_size=3, stride=(2, 1), padding=(1, 0))
    _, panel = make_panel(qtbot, x, spec, np.ones((1, 1, 3, 3)), None)
    text = panel.frames["zero insertion"].detail.text().replace("\u00a0", " ")
    assert "rows:" in text and "columns:" in text
    assert "p′ = (k − 1) − p = (3 − 1) − 0 = 2" in text


def test_a_direct_spec_shows_the_message(qtbot):
    _, panel = make_panel(qtbot, np.ones((1, 5, 5)), ConvSpec(), np.ones((1, 1, 3, 3)), None)
    assert panel.message.text() == DIRECT_MESSAGE
    assert panel.body.isHidden()
    assert panel.state.n_steps == 0


def test_following_the_session_into_and_out_of_transposed(qtbot):
    session, panel = make_panel(qtbot, np.ones((1, 5, 5)), ConvSpec(), np.ones((1, 1, 3, 3)), None)
    session.set_spec(ConvSpec(transposed=True, stride=2))
    assert not panel.body.isHidden()
    assert panel.state.shape == (1, 11, 11)
    session.set_spec(ConvSpec())
    assert panel.message.text() == DIRECT_MESSAGE


def test_a_huge_input_is_refused_with_the_limit(qtbot):
    spec = ConvSpec(transposed=True, stride=2)
    _, panel = make_panel(qtbot, np.ones((1, 200, 300)), spec, np.ones((1, 1, 3, 3)), None)
    assert f"up to {MAX_SIDE}×{MAX_SIDE}" in panel.message.text() and "200×300" in panel.message.text()
    assert panel.body.isHidden()
    panel.controls.forward_button.click()  # nothing to step: nothing raises


def test_a_refused_setting_is_a_message(qtbot):
    # output_padding must be smaller than the stride or the dilation
    spec = ConvSpec(transposed=True, stride=2, output_padding=2)
    _, panel = make_panel(qtbot, np.ones((1, 3, 3)), spec, np.ones((1, 1, 3, 3)), None)
    assert panel.message.text().startswith("PyTorch refuses these settings") and "output_padding" in panel.message.text()
    assert panel.body.isHidden()


def test_a_large_output_is_cropped_around_the_cell(qtbot):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 20, 20))
    spec = ConvSpec(transposed=True, kernel_size=3, stride=2)
    _, panel = make_panel(qtbot, x, spec, rng.normal(size=(1, 1, 3, 3)), None)
    panel.state.seek_cell(0, 30, 25)
    out = panel.frames["gather"].picture.boards[1]
    assert out.rows <= 9 and out.origin[0] <= 30 < out.origin[0] + out.rows
    expected = torch_reference(x, np.array(panel.session.weight), None, stride=2)
    for value in values_at_cell(panel).values():
        assert value == pytest.approx(expected[0, 30, 25], abs=1e-12)
    picture = panel.frames["gather"].picture
    qtbot.mouseClick(picture, Qt.MouseButton.LeftButton, pos=picture.centre_of(1, 28, 27))
    assert panel.state.cell() == (0, 28, 27)


def test_the_badge_says_which_view_differs():
    from convplay.qt.panels.transposed_panel import badge_text

    ok, text = badge_text({"scatter": 0.0, "gather": 0.25, "zero insertion": 0.0, "matrix": 1e-15})
    assert ok is False
    assert text == ("\u2717 Not all four equal PyTorch's conv_transpose2d: largest difference 0.25 "
                    "(scatter 0, gather 0.25, zero insertion 0, Cᵀx 1e-15)")
    assert badge_text({"scatter": 0.0, "gather": 0.0, "zero insertion": 0.0, "matrix": 2e-16})[0] is True


def test_too_many_multiply_adds_are_refused_with_the_figure(qtbot):
    spec = ConvSpec(in_channels=16, out_channels=16, transposed=True, stride=2)
    _, panel = make_panel(qtbot, np.ones((16, 32, 32)), spec, np.ones((16, 16, 3, 3)), None)
    assert "multiply-adds" in panel.message.text() and "2,000,000" in panel.message.text()
    assert panel.body.isHidden() and panel.controls.isHidden()


def test_a_hidden_panel_catches_up_when_shown(qtbot, guide_case):
    session, panel = guide_case
    panel.hide()
    session.set_spec(ConvSpec(transposed=True, kernel_size=3, stride=3))
    assert panel.state.shape == (1, 6, 6)  # not recomputed while hidden
    panel.show()
    qtbot.waitUntil(lambda: panel.state.shape == (1, 9, 9))


@pytest.mark.parametrize("seed", range(6))
def test_random_transposed_specs_every_cell_equals_pytorch(qtbot, seed):
    rng = np.random.default_rng(100 + seed)
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    p = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))  # larger than d(k − 1) crops: p′ < 0
    op = tuple(int(rng.integers(0, max(si, di))) for si, di in zip(s, d))
    x = rng.normal(size=(c_in, int(rng.integers(2, 6)), int(rng.integers(2, 6))))
    weight = rng.normal(size=(c_in, c_out // groups, *k))
    bias = rng.normal(size=c_out)
    kwargs = dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d)
    spec = ConvSpec(in_channels=c_in, out_channels=c_out, kernel_size=k, stride=s, padding=p, dilation=d,
                    groups=groups, transposed=True, output_padding=op)
    _, panel = make_panel(qtbot, x, spec, weight, bias)
    try:
        expected = torch_reference(x, weight, bias, **kwargs)
    except RuntimeError:  # PyTorch refuses this draw: so does the panel, in words
        assert panel.body.isHidden() and panel.message.text().startswith("PyTorch refuses these settings")
        return
    assert panel.state.shape == expected.shape
    for step in range(panel.state.n_steps):
        panel.state.seek(step)
        oc, i, j = panel.state.cell()
        for name, value in values_at_cell(panel).items():
            assert value == pytest.approx(expected[oc, i, j], abs=1e-12), name


def test_board_titles_and_labels_grow_with_the_text(qtbot, guide_case):
    from PySide6.QtGui import QFont

    _, panel = guide_case
    picture = panel.frames["matrix"].picture
    board = picture.boards[0]
    before = picture._title_px(), picture._label_px(board)
    font = QFont(picture.font())
    font.setPointSizeF(font.pointSizeF() * 2)
    picture.setFont(font)
    assert picture._title_px() > before[0] and picture._label_px(board) > before[1]


def test_a_cell_reached_by_one_pixel_reads_one_column(qtbot, guide_case):
    _, panel = guide_case
    panel.state.seek_cell(0, 0, 0)  # with s = 2, p = 1 only x[0,0] reaches it, through w[1,1]
    expected = F.conv_transpose2d(torch.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3)),
                                  torch.tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3)), stride=2, padding=1,
                                  output_padding=1)
    text = panel.frames["matrix"].detail.text()
    assert text.startswith("reads column ") and not text.startswith("reads columns")
    assert values_at_cell(panel)["matrix"] == pytest.approx(float(expected[0, 0, 0, 0]) + 0.5) == 1 * 5 + 0.5
