"""core.pooling's windows, formula text and refusals, and the pooling view's model; no torch
here (tests/compute/test_pooling_torch.py holds the values against PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convplay.core.pooling import (
    PoolSpec,
    PoolSpecError,
    axis_formula,
    axis_windows,
    formula_lines,
    pool_window,
)
from convplay.core.pooling_model import (
    EXAMPLE,
    EXAMPLE_NAME,
    OTHER,
    SESSION,
    PoolingModel,
)
from convplay.core.samples import sample

EXAMPLE_X = sample("tutorial_pool").image()


# -- the sample ------------------------------------------------------------------------------


def test_the_example_sample():
    s = sample("tutorial_pool")
    assert s.name == "4×4 for max pooling" and s.fixed_size
    np.testing.assert_array_equal(s.image(999)[0], [[7, 3, 5, 2], [8, 7, 1, 6], [4, 9, 3, 9], [0, 8, 4, 5]])


# -- windows -----------------------------------------------------------------------------------


def test_windows_with_stride_padding_and_dilation():
    assert axis_windows(PoolSpec("max", 2), 0, 4) == [(0, 1), (2, 3)]
    assert axis_windows(PoolSpec("max", 3, 2, 1), 0, 5) == [(-1, 0, 1), (1, 2, 3), (3, 4, 5)]
    assert axis_windows(PoolSpec("max", 2, 1, 0, 3), 1, 5) == [(0, 3), (1, 4)]
    # dilation is max pooling's only: average pooling's taps stay side by side
    assert axis_windows(PoolSpec("avg", 2, 1, 0, 3), 1, 5) == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_ceil_mode_adds_a_window_partly_outside_and_drops_one_in_the_padding():
    assert axis_windows(PoolSpec("max", 2, 2, 0, ceil_mode=True), 0, 5) == [(0, 1), (2, 3), (4, 5)]
    assert axis_windows(PoolSpec("max", 2, 2, 1, ceil_mode=True), 0, 5) == [(-1, 0), (1, 2), (3, 4)]


def test_adaptive_windows_are_uneven_and_may_overlap():
    assert axis_windows(PoolSpec("adaptive_avg", output_size=3), 0, 7) == [(0, 1, 2), (2, 3, 4), (4, 5, 6)]
    assert axis_windows(PoolSpec("adaptive_max", output_size=(2, 3)), 1, 5) == [(0, 1), (1, 2, 3), (3, 4)]
    assert axis_windows(PoolSpec("adaptive_max", output_size=(None, 3)), 0, 2) == [(0,), (1,)]


def test_the_examples_windows():
    spec = PoolSpec("max", 2)
    plane = EXAMPLE_X[0]
    got = [pool_window(spec, plane, i, j) for i in range(2) for j in range(2)]
    assert [w.value for w in got] == [8, 6, 9, 9]
    assert [w.winner for w in got] == [(1, 0), (1, 3), (2, 1), (2, 3)]
    assert all(w.ties == 1 and w.padded == 0 for w in got)
    assert got[0].cells == ((0, 0), (0, 1), (1, 0), (1, 1))


def test_average_windows_say_their_total_and_divisor():
    plane = EXAMPLE_X[0]
    w = pool_window(PoolSpec("avg", 2), plane, 0, 0)
    assert (w.total, w.divisor, w.value) == (25, 4, 6.25)
    padded = PoolSpec("avg", 3, 2, 1)
    w = pool_window(padded, plane, 0, 0)
    assert w.padded == 5 and w.divisor == 9 and w.total == 7 + 3 + 8 + 7
    w = pool_window(padded.replace(count_include_pad=False), plane, 0, 0)
    assert w.divisor == 4
    w = pool_window(padded.replace(divisor_override=2), plane, 0, 0)
    assert w.divisor == 2 and w.value == 12.5


def test_ties_and_nan():
    plane = np.array([[9.0, 9.0], [1.0, 9.0]])
    w = pool_window(PoolSpec("max", 2), plane, 0, 0)
    assert w.winner == (0, 0) and w.ties == 3
    plane = np.array([[math.nan, 1.0], [math.nan, 2.0]])
    w = pool_window(PoolSpec("max", 2), plane, 0, 0)
    assert w.winner == (1, 0) and math.isnan(w.value)  # the last NaN


# -- the formula -----------------------------------------------------------------------------


def test_formula_floor_with_numbers():
    f = axis_formula(PoolSpec("max", 2), 0, 4)
    assert f.general == "H_out = ⌊(H_in + 2·p − d·(k−1) − 1) / s⌋ + 1"
    assert f.numbers == "H_out = ⌊(4 + 2·0 − 1·(2−1) − 1) / 2⌋ + 1 = ⌊2/2⌋ + 1 = 1 + 1 = 2"
    assert f.result == 2 and f.note == ""


def test_formula_writes_no_equation_inside_a_floor_or_ceil():
    """Each step is a value: ⌊27/2⌋ + 1 = ⌊13.5⌋ + 1, never ⌊27/2 = 13.5⌋; the dilation term
    reads as the convolution formula's 1·(3−1)."""
    import re
    even = axis_formula(PoolSpec("max", 2), 0, 28).numbers
    assert even == "H_out = ⌊(28 + 2·0 − 1·(2−1) − 1) / 2⌋ + 1 = ⌊26/2⌋ + 1 = 13 + 1 = 14"
    odd = axis_formula(PoolSpec("max", 2), 0, 29).numbers
    assert odd.endswith("= ⌊27/2⌋ + 1 = ⌊13.5⌋ + 1 = 13 + 1 = 14")
    ceil = axis_formula(PoolSpec("max", 2, 2, 0, ceil_mode=True), 1, 14).numbers
    assert ceil.endswith("= ⌈12/2⌉ + 1 = 6 + 1 = 7")
    ceil_odd = axis_formula(PoolSpec("max", 3, 2, 1, ceil_mode=True), 0, 12).numbers
    assert ceil_odd.endswith("= ⌈(12 + 2·1 − 1·(3−1) − 1) / 2⌉ + 1 = ⌈11/2⌉ + 1 = ⌈5.5⌉ + 1 = 6 + 1 = 7")
    assert axis_formula(PoolSpec("max", 3, 1), 0, 5).numbers.endswith("/ 1⌋ + 1 = 2 + 1 = 3")
    assert "2·(3−1)" in axis_formula(PoolSpec("max", 3, dilation=2), 0, 9).numbers
    for spec, n in ((PoolSpec("max", 2), 29), (PoolSpec("max", 2, ceil_mode=True), 13),
                    (PoolSpec("avg", 3, 2, 1), 10), (PoolSpec("max", 3, 3, dilation=2), 4)):
        text = axis_formula(spec, 0, n).numbers
        assert not re.search(r"[⌊⌈][^⌋⌉]*=", text), text


def test_formula_ceil_mode_dropped_and_kept():
    dropped = axis_formula(PoolSpec("max", 2, 2, 1, ceil_mode=True), 1, 5)
    assert "⌈" in dropped.numbers and dropped.result == 3
    assert "PyTorch drops it, so W_out = 3" in dropped.note
    kept = axis_formula(PoolSpec("max", 2, 2, 0, ceil_mode=True), 0, 5)
    assert kept.result == 3 and "inside: kept" in kept.note


def test_formula_lines_end_with_the_shape_or_the_refusal():
    assert formula_lines(PoolSpec("max", 2), (1, 4, 4))[-1] == "output 1×4×4 → 1×2×2"
    assert "does not fit" in formula_lines(PoolSpec("max", 5), (1, 4, 4))[-1]
    assert formula_lines(PoolSpec("max", 2, padding=2), (1, 4, 4)) == [
        str(_refusal(PoolSpec("max", 2, padding=2)))]
    lines = formula_lines(PoolSpec("adaptive_avg", output_size=3), (1, 7, 7))
    assert "H_out = 3: windows of 3 over 7" in lines


def _refusal(spec, shape=None):
    with pytest.raises(PoolSpecError) as info:
        spec.validate(shape)
    return info.value


@pytest.mark.parametrize("spec, field", [
    (PoolSpec("max", 2, padding=2), "padding"),
    (PoolSpec("max", 0), "kernel_size"),
    (PoolSpec("max", 2, stride=0), "stride"),
    (PoolSpec("max", 2, dilation=0), "dilation"),
    (PoolSpec("avg", 2, divisor_override=0), "divisor_override"),
    (PoolSpec("adaptive_max", output_size=0), "output_size"),
    (PoolSpec("median", 2), "kind"),
    (PoolSpec("max", "two"), "kernel_size"),
])
def test_refusals_name_their_field(spec, field):
    assert _refusal(spec).field == field


def test_code_and_layer():
    assert PoolSpec("max", 2).code() == "nn.MaxPool2d(2)"
    assert PoolSpec("avg", 3, 2, 1, count_include_pad=False).code() == \
        "nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)"
    assert PoolSpec("adaptive_avg", output_size=(1, 1)).code() == "nn.AdaptiveAvgPool2d((1, 1))"
    assert PoolSpec.from_layer("MaxPool2d", {"kernel_size": 2, "stride": 2}) == PoolSpec("max", 2, 2)


# -- the model --------------------------------------------------------------------------------


def test_model_starts_on_the_example():
    model = PoolingModel()
    assert model.input_name == EXAMPLE_NAME and model.source == EXAMPLE
    assert model.spec == PoolSpec("max", 2) and model.error == ""
    assert model.shown.output_shape == (1, 2, 2) and model.n_steps == 4
    np.testing.assert_array_equal(model.shown.values(), [[8, 6], [9, 9]])
    np.testing.assert_array_equal(model.shown.indices(), [[4, 7], [9, 11]])
    assert not model.input.flags.writeable


def test_model_steps_and_cells():
    model = PoolingModel()
    seen = []
    model.position_changed.connect(seen.append)
    assert model.cell == (0, 0) and model.window().value == 8
    assert model.step(1) and model.cell == (0, 1)
    model.set_cell(1, 1)
    assert model.position == 3 and model.window().winner == (2, 3)
    assert not model.step(1) and model.position == 3
    model.first()
    model.set_position(99)
    assert model.position == 3 and seen == [1, 3, 0, 3]
    model.set_position("nonsense")
    assert model.position == 3


def test_a_refused_spec_is_kept_with_its_error_and_the_last_good_picture():
    model = PoolingModel()
    errors = []
    model.error_changed.connect(errors.append)
    good = model.shown
    model.update_spec(padding=2)
    assert model.spec.padding == 2 and model.error_field == "padding" and "half of kernel size" in model.error
    assert model.shown is good and model.n_steps == 4
    model.update_spec(kernel_size=5, padding=0)
    assert model.error_field == "kernel_size" and "does not fit" in model.error
    model.update_spec(kernel_size=3, stride=1)
    assert model.error == "" and model.shown.output_shape == (1, 2, 2)
    assert errors[-1] == "" and len(errors) == 3


def test_setters_never_raise():
    model = PoolingModel()
    model.set_spec("max")
    assert model.error and model.shown is not None
    model.update_spec(no_such_field=1)
    assert model.error
    model.set_spec(PoolSpec("max", "two"))
    assert model.error_field == "kernel_size"
    model.set_spec(PoolSpec("max", 2, stride=(1, 2, 3)))
    assert model.error
    model.set_input(np.zeros(3))
    assert model.error_field == "input" and model.input.shape == (1, 4, 4)
    model.set_input("not an image")
    assert model.input.shape == (1, 4, 4)
    model.set_channel(None)
    model.set_speed(float("nan"))
    assert model.speed == 2.0


def test_the_position_is_kept_where_the_cell_still_exists():
    model = PoolingModel()
    model.set_input(np.arange(64.0).reshape(1, 8, 8), "an 8×8 ramp")
    model.set_cell(1, 1)
    model.update_spec(kernel_size=4)
    assert model.shown.out_hw == (2, 2) and model.cell == (1, 1)
    model.update_spec(kernel_size=2)
    assert model.cell == (1, 1)
    model.set_cell(3, 3)
    model.update_spec(kernel_size=4)  # 2×2 now: (3, 3) is gone
    assert model.cell == (0, 0)


def test_inputs_and_channels():
    model = PoolingModel()
    x = np.random.default_rng(1).random((3, 6, 6))
    model.set_input(x, "conv2's output")
    assert model.input_name == "conv2's output" and model.source == OTHER and model.n_channels == 3
    model.set_channel(2)
    np.testing.assert_array_equal(model.shown.plane, x[2])
    model.set_channel(9)
    assert model.channel == 2
    model.set_input(np.ones((5, 5)), "", SESSION)
    assert model.channel == 0 and model.input.shape == (1, 5, 5) and model.input_name == "the input"
    model.use_example()
    assert model.source == EXAMPLE and model.input_name == EXAMPLE_NAME


def test_an_example_brings_its_own_settings_and_a_hidden_answer_is_a_state():
    model = PoolingModel(PoolSpec("max", 2, padding=1, ceil_mode=True))
    model.use_example()
    assert model.spec == PoolSpec("max", 2) and model.shown.out_hw == (2, 2)
    model.use_example("adaptive_example")
    assert model.input.shape == (1, 5, 5) and model.spec == PoolSpec("adaptive_max", output_size=3)
    assert [len(w) for w in model.shown.windows(1)] == [2, 3, 2]
    heard = []
    model.answer_hidden_changed.connect(heard.append)
    model.set_answer_hidden(True)
    model.set_answer_hidden(True)
    model.set_answer_hidden(False)
    assert heard == [True, False] and not model.answer_hidden


def test_readers_of_an_input_cell():
    model = PoolingModel(PoolSpec("max", 3, 1))
    model.set_input(np.zeros((1, 5, 5)), "zeros")
    assert model.shown.readers(0, 0) == [(0, 0)]
    assert len(model.shown.readers(2, 2)) == 9
    model.set_spec(PoolSpec("adaptive_avg", output_size=3))
    model.set_input(np.zeros((1, 7, 7)), "zeros")
    assert model.shown.readers(2, 4) == [(0, 1), (0, 2), (1, 1), (1, 2)]  # row 2 and column 4: two windows each


def test_playing_stops_at_the_end_and_restarts_from_it():
    model = PoolingModel()
    model.set_playing(True)
    assert model.playing
    while model.step(1):
        pass
    assert not model.playing and model.position == 3
    model.set_playing(True)
    assert model.playing and model.position == 0
    model.set_spec(PoolSpec("max", 4))  # one window: nothing to play
    assert not model.playing


# -- a lesson step's pooling (core.session_file) ---------------------------------------------------


def _lesson_with(pooling) -> bytes:
    import json

    step = {"title": "t", "caption": "c", "state": {"input": {"sample": "tutorial_pool"}, "spec": {"kernel_size": 2},
                                                    "weight": {"data": [[[[1, 0], [0, 0]]]]}},
            "expect": {"output_shape": [1, 2, 2], "output": [[8, 6], [9, 9]]}}
    if pooling is not None:
        step["pooling"] = pooling
    return json.dumps({"format": "convplay", "version": 1, "kind": "lesson", "steps": [step]}).encode()


def test_a_lesson_step_reads_and_writes_its_pooling():
    from convplay.core.session_file import document_json, read_document

    doc, warnings = read_document(_lesson_with({"kind": "avg", "kernel_size": [2, 3], "stride": 1, "padding": 1,
                                                "ceil_mode": True, "count_include_pad": False,
                                                "divisor_override": 4}))
    assert warnings == []
    assert doc.steps[0].pooling == PoolSpec("avg", (2, 3), 1, 1, 1, True, False, 4)
    again, warnings = read_document(document_json(doc).encode())
    assert warnings == [] and again.steps[0].pooling == doc.steps[0].pooling
    doc, _ = read_document(_lesson_with({"kind": "adaptive_max", "output_size": [3, None]}))
    assert doc.steps[0].pooling == PoolSpec("adaptive_max", output_size=(3, None))
    import json

    assert json.loads(document_json(doc))["steps"][0]["pooling"] == {"kind": "adaptive_max", "output_size": [3, None]}
    doc, _ = read_document(_lesson_with(None))
    assert doc.steps[0].pooling is None and '"pooling"' not in document_json(doc)


def test_a_pooling_that_pytorch_refuses_is_kept_as_a_convolution_would_be():
    from convplay.core.session_file import read_document

    doc, warnings = read_document(_lesson_with({"kind": "max", "kernel_size": 2, "padding": 2}))
    assert warnings == [] and doc.steps[0].pooling.padding == 2 and not doc.steps[0].pooling.is_valid()


@pytest.mark.parametrize("pooling, words", [
    ({"kind": "min", "kernel_size": 2}, "step 1's pooling's kind must be one of max, avg, adaptive_max, adaptive_avg, not 'min'"),
    ({"kernel_size": 2}, "the key 'kind' is missing in step 1's pooling"),
    ({"kind": "max"}, "the key 'kernel_size' is missing in step 1's pooling"),
    ({"kind": "max", "kernel_size": "2"}, "step 1's pooling's kernel_size must be a whole number or a pair"),
    ({"kind": "max", "kernel_size": 65}, "step 1's pooling's kernel_size must be between 1 and 64, not 65"),
    ({"kind": "max", "kernel_size": 2, "stride": [1, 2, 3]}, "step 1's pooling's stride must be a whole number or a pair"),
    ({"kind": "max", "kernel_size": 2, "ceil_mode": 1}, "step 1's pooling's ceil_mode must be true or false"),
    ({"kind": "avg", "kernel_size": 2, "divisor_override": 1.5}, "step 1's pooling's divisor_override must be a whole number"),
    ({"kind": "adaptive_avg", "output_size": 0}, "step 1's pooling's output_size must be between 1 and 4096, not 0"),
    ({"kind": "adaptive_avg"}, "the key 'output_size' is missing in step 1's pooling"),
    ("max", "step 1's pooling must be an object, not a string"),
])
def test_malformed_pooling_is_refused_with_a_sentence(pooling, words):
    from convplay.core.session_file import SessionFileError, read_document

    with pytest.raises(SessionFileError) as info:
        read_document(_lesson_with(pooling))
    assert words in str(info.value)


def test_unknown_or_foreign_pooling_keys_are_ignored_with_a_warning():
    from convplay.core.session_file import read_document

    doc, warnings = read_document(_lesson_with({"kind": "avg", "kernel_size": 2, "dilation": 2, "colour": "red"}))
    assert doc.steps[0].pooling == PoolSpec("avg", 2)
    assert "unknown key 'colour' in step 1's pooling ignored" in warnings
    assert "step 1's pooling: dilation is not an argument of AvgPool2d; ignored" in warnings


# -- the model never raises, whatever it is given -------------------------------------------------

ANY_VALUE = st.one_of(st.integers(-3, 70), st.tuples(st.integers(-1, 5), st.integers(-1, 5)), st.none(),
                      st.booleans(), st.text(max_size=2), st.floats(allow_nan=True))
ACTIONS = st.one_of(
    st.tuples(st.just("spec"), st.sampled_from(["kind", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                                "count_include_pad", "divisor_override", "output_size"]),
              st.one_of(ANY_VALUE, st.sampled_from(["max", "avg", "adaptive_max", "adaptive_avg"]))),
    st.tuples(st.just("input"), st.integers(0, 3), st.integers(0, 9)),
    st.tuples(st.just("position"), ANY_VALUE, st.none()),
    st.tuples(st.just("channel"), ANY_VALUE, st.none()),
    st.tuples(st.just("step"), st.integers(-3, 3), st.none()),
    st.tuples(st.just("play"), st.booleans(), st.none()),
)


@settings(max_examples=int(__import__('os').environ.get('POOL_EXAMPLES', 60)), deadline=None)
@given(st.lists(ACTIONS, max_size=12))
def test_random_setters_never_raise_and_the_picture_stays_consistent(actions):
    model = PoolingModel()
    for action, a, b in actions:
        if action == "spec":
            model.update_spec(**{a: b})
        elif action == "input":
            model.set_input(np.arange(float(max(a, 1) * b * b)).reshape(max(a, 1), b, b) if a and b else np.zeros(a))
        elif action == "position":
            model.set_position(a)
        elif action == "channel":
            model.set_channel(a)
        elif action == "step":
            model.step(a)
        else:
            model.set_playing(a)
        shown = model.shown
        assert shown is not None
        assert shown.spec.output_shape(shown.input.shape) == shown.output_shape  # the last good state is good
        assert 0 <= model.position < max(model.n_steps, 1)
        assert 0 <= model.channel < model.n_channels
        assert bool(model.error) == (not model.spec.is_valid(model.input.shape) or model.error_field == "input"
                                     or model.error.startswith(("not pooling", "these settings")))


def test_the_view_refuses_an_adaptive_output_too_large_to_step_and_keeps_its_state():
    from convplay.core.pooling_model import MAX_ADAPTIVE_OUTPUTS, PoolingModel

    model = PoolingModel()
    model.set_input(np.zeros((1, 64, 64)), "zeros")
    model.set_spec(PoolSpec("adaptive_max", output_size=4))
    assert model.error == ""
    side = int(MAX_ADAPTIVE_OUTPUTS ** 0.5) + 1
    model.set_spec(PoolSpec("adaptive_max", output_size=side))
    assert model.error_field == "output_size" and "at most" in model.error
    assert model.shown.spec == PoolSpec("adaptive_max", output_size=4)  # the last good settings stay
