"""Issue 9 item 7, in core: a preset on an RGB image reads every colour (and PyTorch adds
the channels' responses, as nn.Conv2d does); new channels start as copies, said in a note
and undone exactly; the session names its kernel; exact fractions stay exact."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from convplay.core import kernel_edits as edits
from convplay.core.formatting import exact_fraction, kernel_cell_texts, kernel_cell_tooltip, parse_value, typed_text
from convplay.core.history import History, push_change
from convplay.core.kernel_edits import ALL, FILTER, SELECTED
from convplay.core.presets import PRESETS, get_preset
from convplay.core.samples import sample
from convplay.core.input_source import InputSource
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from oracles import session_output, torch_conv

SOBEL = get_preset("sobel_x").weights


def _chelsea() -> np.ndarray:
    return InputSource.from_sample(sample("chelsea")).at(64)


def _fill(session: Session, key: str, scope: str = FILTER, pair=(0, 0)) -> None:
    preset = get_preset(key)
    layout = {"transposed": bool(session.spec.transposed), "groups": session.spec.groups}
    weight = edits.with_kernel(session.weight, preset.weights, scope, pair, **layout)
    note = edits.fill_note(preset.name, preset.weights, session.weight.shape, scope, pair, **layout)
    spec = session.spec.replace(kernel_size=preset.weights.shape)
    session.set_kernel(spec, weight, session.bias_values, name=preset.name, note=note)


# -- the preset-on-RGB rule ----------------------------------------------------------------------
def test_sobel_on_a_photo_reads_every_channel_and_pytorch_adds_their_responses():
    image = _chelsea()
    assert image.shape[0] == 3
    session = Session(image, ConvSpec(3, 1, 3, bias=False))
    _fill(session, "sobel_x")
    assert all(np.array_equal(session.weight[0, c], SOBEL) for c in range(3))  # no zero channel
    out = session_output(session)  # nn.Conv2d(3, 1, 3) with this weight
    per_channel = [torch_conv(image[c:c + 1], SOBEL[None, None], None, ConvSpec(1, 1, 3, bias=False)) for c in range(3)]
    np.testing.assert_allclose(out, sum(per_channel), rtol=0, atol=1e-12)
    for response in per_channel:  # every colour has edges of its own: none is a zero map
        assert np.abs(response).max() > 0.1
    assert "all 3 input channels of output channel 0" in session.kernel_note
    assert "adds the 3 responses" in session.kernel_note


def test_a_blur_on_a_photo_keeps_its_brightness_exactly():
    image = _chelsea()
    session = Session(image, ConvSpec(3, 1, 3, bias=False))
    _fill(session, "box3")
    third = session.weight[0]
    assert np.all(third == parse_value("1/27"))  # 1/9 spread over 3 inputs, as typing 1/27 stores it
    assert kernel_cell_texts(third[0]) == [["1/27"] * 3] * 3
    out = session_output(session)
    per_channel = [torch_conv(image[c:c + 1], third[c][None, None], None, ConvSpec(1, 1, 3, bias=False)) for c in range(3)]
    np.testing.assert_allclose(out, sum(per_channel), rtol=0, atol=1e-12)
    assert out.max() <= image.max() + 1e-12  # the blur of the channels' mean: no tripled photo
    assert "÷ 3" in session.kernel_note and "sums to 1" in session.kernel_note


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_fills_the_filter_and_keeps_its_sum_rule(preset):
    weight = np.zeros((2, 3, 1, 1))
    filled = edits.with_kernel(weight, preset.weights, FILTER, (1, 2))
    assert not filled[0].any()  # the other output channel is left alone
    spread = abs(preset.weights.sum() - 1) < 1e-9
    for c in range(3):
        expected = [[float(Fraction(exact_fraction(v, 1 << 20)) / 3) for v in row] for row in preset.weights] if spread else preset.weights
        np.testing.assert_array_equal(filled[1, c], expected)
    assert filled[1].sum() == pytest.approx(1.0 if spread else 3 * preset.weights.sum())


def test_the_other_scopes_stay():
    weight = np.zeros((2, 3, 3, 3))
    one = edits.with_kernel(weight, SOBEL, SELECTED, (1, 2))
    assert np.array_equal(one[1, 2], SOBEL) and np.count_nonzero(one) == np.count_nonzero(SOBEL)
    every = edits.with_kernel(weight, SOBEL, ALL, (0, 0))
    assert all(np.array_equal(every[o, c], SOBEL) for o in range(2) for c in range(3))
    assert "only" in edits.fill_note("Sobel x", SOBEL, weight.shape, SELECTED, (1, 2))
    # transposed: (in, out/groups); output channel 1's filter is column 1 of its group's rows
    t = edits.with_kernel(np.zeros((4, 2, 3, 3)), SOBEL, FILTER, (3, 1), transposed=True, groups=2)
    assert [bool(t[i, 1].any()) for i in range(4)] == [False, False, True, True] and not t[:, 0].any()


# -- new channels: visible, said, undone exactly --------------------------------------------------
def test_new_output_channels_copy_the_last_filter_and_say_so():
    session = Session(np.random.default_rng(0).random((3, 16, 16)), ConvSpec(3, 1, 3))
    _fill(session, "sobel_x")
    history = History()
    before = session.weight
    push_change(history, session, "out_channels 4", lambda: session.set_spec(session.spec.replace(out_channels=4)))
    assert session.weight.shape == (4, 3, 3, 3)
    for o in range(4):
        np.testing.assert_array_equal(session.weight[o], before[0])
    maps = session_output(session)
    assert all(np.abs(maps[o]).max() > 0 for o in range(4))  # no blank feature map
    assert session.kernel_note == "Output channels 1–3 start as a copy of output channel 0's filter (edit it or load a preset into it)."
    assert session.kernel_name == "Sobel x"  # still a Sobel in every filter
    history.undo()
    assert session.weight is before and session.kernel_note.startswith("Sobel x in all 3")
    history.redo()
    assert session.weight.shape == (4, 3, 3, 3) and session.kernel_note.startswith("Output channels 1–3")


def test_a_grey_kernel_on_an_rgb_image_reads_every_colour_and_a_blur_stays_at_sum_one():
    session = Session(np.zeros((1, 16, 16)), ConvSpec(1, 1, 3))
    _fill(session, "sobel_x")
    session.set_image(np.ones((3, 16, 16)))  # in_channels follows the image
    assert all(np.array_equal(session.weight[0, c], SOBEL) for c in range(3))
    assert "Input channels 1–2 start as" in session.kernel_note
    session.set_image(np.zeros((1, 16, 16)))
    _fill(session, "gaussian3")
    session.set_image(np.ones((3, 16, 16)))
    assert session.weight[0].sum() == pytest.approx(1.0)
    assert kernel_cell_texts(session.weight[0, 2])[1][1] == "4/48"  # 4/16 ÷ 3, exactly
    assert "scaled to sum to 1" in session.kernel_note
    session.set_image(np.zeros((1, 16, 16)))  # and back: the Gaussian as it was
    np.testing.assert_array_equal(session.weight[0, 0], get_preset("gaussian3").weights)


def test_fit_weight_on_transposed_weights_copies_along_their_own_axes():
    weight = np.arange(2 * 1 * 1 * 1, dtype=float).reshape(2, 1, 1, 1) + 1  # (in 2, out 1)
    grown = edits.fit_weight(weight, (2, 3, 1, 1), transposed=True)  # out_channels 1 -> 3
    np.testing.assert_array_equal(grown[:, :, 0, 0], [[1, 1, 1], [2, 2, 2]])
    assert edits.fit_note((2, 1, 1, 1), (2, 3, 1, 1), transposed=True).startswith("Output channels 1–2")
    assert edits.fit_note((2, 3, 3, 3), (2, 3, 5, 5)) == ""


# -- the kernel's name --------------------------------------------------------------------------
def test_the_name_follows_edits_undo_redo_and_loads():
    session = Session(np.zeros((1, 8, 8)), ConvSpec(1, 1, 3), kernel_name="Sobel x")
    history = History()
    assert session.kernel_name == "Sobel x"
    push_change(history, session, "Edit", lambda: session.set_weight(session.weight * 2))
    assert session.kernel_name == "Sobel x, edited"
    push_change(history, session, "Edit", lambda: session.set_weight(session.weight + 1))
    assert session.kernel_name == "Sobel x, edited"  # once
    push_change(history, session, "Size", lambda: session.set_spec(session.spec.replace(kernel_size=5)))
    assert session.kernel_name == "Sobel x, edited"
    push_change(history, session, "Load", lambda: session.set_kernel(session.spec, np.ones((1, 1, 5, 5)), name="from model.pth"))
    assert session.kernel_name == "from model.pth"
    push_change(history, session, "Bias", lambda: session.set_bias([0.5]))
    assert session.kernel_name == "from model.pth"  # the bias is not the kernel's weights
    session.set_true_convolution(True)
    assert session.kernel_name == "from model.pth"
    for expected in ("from model.pth", "Sobel x, edited", "Sobel x, edited", "Sobel x, edited", "Sobel x"):
        history.undo()
        assert session.kernel_name == expected
    history.redo()
    assert session.kernel_name == "Sobel x, edited"


# -- fractions ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "shown"), [("1/9", "1/9"), ("1/16", "1/16"), ("4/256", "4/256"), ("−1 / 8", "-1/8"), ("0,5", "0.5"), ("2/18", "2/18")])
def test_typed_text_is_shown_as_typed(typed, shown):
    assert typed_text(typed) == shown


@pytest.mark.parametrize(
    ("values", "texts"),
    [
        ([[1 / 9, 1 / 9]], [["1/9", "1/9"]]),
        ([[1 / 16, 2 / 16, 4 / 16]], [["1/16", "2/16", "4/16"]]),  # one denominator for the kernel
        ([[1 / 256, 4 / 256, 36 / 256]], [["1/256", "4/256", "36/256"]]),
        ([[0.5, 1 / 3]], [["1/2", "1/3"]]),  # 2 does not divide 3: each its own
        ([[0.1, -0.25, 3.0]], [["0.1", "-1/4", "3"]]),  # tenths read better as decimals
        ([[-1.178e-09, 0.25, -0.002288]], [["0", "1/4", "-0.00229"]]),  # a learned 0 is 0
        ([[1e-9, 2e-9]], [["1e-09", "2e-09"]]),  # tiny beside nothing larger: shown
        ([[0.1234567]], [["0.123"]]),
    ],
)
def test_kernel_cells(values, texts):
    assert kernel_cell_texts(np.array(values)) == texts


def test_fractions_are_exact_and_the_tooltip_holds_the_decimal():
    for p, q in [(1, 9), (1, 16), (4, 256), (1, 27), (-3, 7), (6, 256)]:
        v = parse_value(f"{p}/{q}")
        assert exact_fraction(v) == Fraction(p, q) and float(Fraction(p, q)) == v
    assert exact_fraction(np.nextafter(1 / 9, 1)) is None  # one bit off is no longer 1/9
    assert exact_fraction(float("nan")) is None
    assert kernel_cell_tooltip(1 / 9, "1/9") == "1/9 = 0.1111111111111111"
    assert kernel_cell_tooltip(-1.178e-09, "0") == "-1.178e-09 (shown as 0: tiny beside the other weights)"


def test_pytorch_receives_the_typed_fraction():
    """1/9 typed, shown as 1/9, and nn.Conv2d gets exactly torch.tensor(1/9)."""
    x = np.random.default_rng(2).random((1, 6, 6))
    weight = np.full((1, 1, 3, 3), parse_value("1/9"))
    assert kernel_cell_texts(weight[0, 0]) == [["1/9"] * 3] * 3
    module = torch.nn.Conv2d(1, 1, 3, bias=False, dtype=torch.float32)
    with torch.no_grad():
        module.weight.fill_(1 / 9)
        expected = module(torch.from_numpy(x).float()[None])[0].numpy()
    got = torch_conv(x, weight, None, ConvSpec(1, 1, 3, bias=False), dtype=torch.float32)
    np.testing.assert_array_equal(got, expected)
    assert torch.tensor(weight, dtype=torch.float32).flatten().unique().item() == np.float32(1 / 9)


def test_start_up_fills_presets_by_the_same_rule_and_says_so():
    from convplay.cli import parse_args
    from convplay.startup import initial_session

    session, _ = initial_session(parse_args(["--sample", "chelsea", "--kernel", "box3", "--out-channels", "2"]))
    assert session.kernel_name == "Box blur 3×3"
    assert np.all(session.weight == parse_value("1/27")) and session.weight.shape == (2, 3, 3, 3)
    assert session.kernel_note.startswith("Box blur 3×3 ÷ 3 in all 3 input channels of every output channel")
    session, _ = initial_session(parse_args(["--sample", "camera"]))
    assert session.kernel_name == "Sobel x" and session.kernel_note == ""  # one channel: nothing to say
