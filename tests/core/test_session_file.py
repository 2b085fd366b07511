"""Session files: the round trip (save, open: the same state, PyTorch's same output), the
byte-stable writer, and every file that must be refused with the reason (damaged,
truncated, newer, hostile, oversized, wrong shapes, non-finite, pickled) or opened with a
warning (unknown keys)."""

from __future__ import annotations

import io
import json
import os
import struct
import tracemalloc
import warnings
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convplay.core import session_file as sf
from convplay.core.input_source import InputSource
from convplay.core.samples import sample
from convplay.core.session import Session
from convplay.core.session_file import (
    LessonStep,
    SessionDocument,
    SessionFileError,
    SessionState,
    ViewState,
    document_bytes,
    document_json,
    read_document,
    session_from_state,
    state_of,
    write_document,
)
from convplay.core.spec import ConvSpec
from tests.oracles import torch_conv
from tests.strategies import conv_cases

X_KERNEL = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])


# -- helpers ---------------------------------------------------------------------------------


def session_doc(session: Session, view: ViewState | None = None, title: str = "") -> SessionDocument:
    return SessionDocument("session", title=title, state=state_of(session, view or ViewState()))


def reopened(session: Session, view: ViewState | None = None) -> tuple[Session, SessionState, list[str]]:
    doc, warnings_ = read_document(document_bytes(session_doc(session, view)))
    assert doc.kind == "session" and doc.steps == ()
    return session_from_state(doc.state), doc.state, warnings_


def assert_same_session(a: Session, b: Session) -> None:
    assert a.image.shape == b.image.shape and a.image.tobytes() == b.image.tobytes()
    assert a.spec == b.spec
    assert a.weight.shape == b.weight.shape and a.weight.tobytes() == b.weight.tobytes()
    assert a.bias_values.tobytes() == b.bias_values.tobytes()
    assert a.true_convolution == b.true_convolution
    assert a.kernel_name == b.kernel_name
    assert a.working_size == b.working_size
    assert a.keeps_own_size == b.keeps_own_size
    if a.source is not None and a.source.sample is not None:
        assert b.source is not None and b.source.sample is not None
        assert b.source.sample.key == a.source.sample.key
    for array in (b.image, b.weight, b.bias_values):
        assert array.dtype == np.float64 and not array.flags.writeable


def tutorial_session() -> Session:
    source = InputSource.from_sample(sample("tutorial_x"))
    spec = ConvSpec(in_channels=1, kernel_size=3, bias=False)
    return Session(source.own(), spec, X_KERNEL[None, None], source=source, kernel_name="X-shaped")


def doc_json(**state_changes) -> dict:
    """A minimal valid session document as JSON, with some of its state's keys replaced."""
    state = {
        "input": {"blank": [1, 5, 5]},
        "spec": {"in_channels": 1, "kernel_size": [3, 3]},
        "weight": {"dtype": "float64", "shape": [1, 1, 3, 3], "data": X_KERNEL[None, None].tolist()},
        "bias": None,
    }
    state.update(state_changes)
    return {"format": "convplay", "version": 1, "kind": "session", "title": "", "state": state}


def as_bytes(document: dict) -> bytes:
    return json.dumps(document).encode()


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate names made on purpose
        with zipfile.ZipFile(buffer, "w", compression) as zf:
            for name, data in members.items() if isinstance(members, dict) else members:
                zf.writestr(name, data)
    return buffer.getvalue()


def npy(array: np.ndarray, **kw) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kw)
    return buffer.getvalue()


def refused(data, *words: str) -> str:
    with pytest.raises(SessionFileError) as info:
        read_document(data)
    text = str(info.value)
    for word in words:
        assert word in text, text
    return text


# -- the round trip ------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=conv_cases(), true_convolution=st.booleans(), kind=st.sampled_from(["array", "blank"]),
       named=st.booleans())
def test_round_trip_random_specs_gives_the_same_state_and_torch_output(case, true_convolution, kind, named):
    spec, x, weight, bias = case
    image = np.zeros_like(x) if kind == "blank" else x
    session = Session(image, spec, weight, bias, kernel_name="random" if named else "")
    session.set_true_convolution(true_convolution)
    again, _state, warnings_ = reopened(session)
    assert warnings_ == []
    assert_same_session(session, again)
    before = torch_conv(session.image, session.weight, session.bias, session.spec, flip=true_convolution)
    after = torch_conv(again.image, again.weight, again.bias, again.spec, flip=again.true_convolution)
    assert np.array_equal(before, after)
    # The reopened arrays as PyTorch sees them, built from the spec's fields: the same output.
    expected = torch_conv(image, weight, bias if spec.bias else None, spec, flip=true_convolution)
    assert np.array_equal(after, expected)


@settings(max_examples=25, deadline=None)
@given(key=st.sampled_from(["tutorial_x", "tutorial_multi_in", "tutorial_1x1", "tutorial_tens", "checkerboard",
                            "noise", "disk", "stripes"]),
       size=st.integers(8, 40), gray=st.booleans())
def test_round_trip_of_samples_keeps_the_sample(key, size, gray):
    source = InputSource.from_sample(sample(key))
    session = Session(working_size=size)
    session.set_source(source)
    if gray != (session.image.shape[0] == 1):
        session.set_channels(1 if gray else 3)
    again, state, _ = reopened(session)
    assert_same_session(session, again)
    assert state.snapshot.channels == session.snapshot().channels
    assert json.loads(document_json(session_doc(session)))["state"]["input"]["sample"] == key


def test_a_photo_sample_is_saved_by_name_and_made_again():
    session = Session(working_size=32)
    session.set_source(InputSource.from_sample(sample("chelsea")))
    session.set_channels(1)
    data = document_bytes(session_doc(session))
    assert len(data) < 2000  # the photo itself is not in the file
    again, _, _ = reopened(session)
    assert_same_session(session, again)
    again.set_channels(3)  # the colours come back from the sample, as after a change by hand
    assert again.image.shape[0] == 3


def test_a_resized_tutorial_matrix_round_trips():
    session = tutorial_session()
    session.set_working_size(20)
    assert not session.keeps_own_size
    text = document_json(session_doc(session))
    assert json.loads(text)["state"]["input"] == {"sample": "tutorial_x", "working_size": 20, "channels": 1,
                                                  "resized": True}
    again, _, _ = reopened(session)
    assert_same_session(session, again)


def test_edited_pixels_and_large_arrays_go_to_npy_members():
    session = Session(working_size=64)
    session.set_source(InputSource.from_sample(sample("noise")))
    session.set_image(session.image * 0.5)  # edited: no source any more
    spec = ConvSpec(in_channels=1, out_channels=20, kernel_size=(5, 4), stride=2, padding=(1, 2), bias=True)
    rng = np.random.default_rng(1)
    session.set_kernel(spec, rng.normal(size=spec.weight_shape), rng.normal(size=20), name="random")
    data = document_bytes(session_doc(session))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        tree = json.loads(zf.read("session.json"))
    assert names[0] == "session.json"
    assert {"arrays/input.npy", "arrays/weight.npy"} <= set(names)
    assert tree["state"]["input"]["array"] == {"npy": "arrays/input.npy"}
    assert tree["state"]["bias"]["shape"] == [20]  # 20 values: inline
    again, _, _ = reopened(session)
    assert_same_session(session, again)
    assert again.source is None


def test_transposed_with_output_padding_true_convolution_and_same_padding_round_trip():
    rng = np.random.default_rng(2)
    for spec in (
        ConvSpec(in_channels=2, out_channels=4, kernel_size=3, stride=(2, 3), padding=1, groups=2,
                 transposed=True, output_padding=(1, 2)),
        ConvSpec(in_channels=3, out_channels=3, kernel_size=(2, 4), padding="same", dilation=2, groups=3,
                 padding_mode="circular", bias=False),
    ):
        x = rng.normal(size=(spec.in_channels, 9, 11))
        session = Session(x, spec, rng.normal(size=spec.weight_shape), rng.normal(size=spec.out_channels))
        session.set_true_convolution(True)
        again, _, _ = reopened(session)
        assert_same_session(session, again)
        assert np.array_equal(
            torch_conv(again.image, again.weight, again.bias, again.spec, flip=True),
            torch_conv(x, session.weight, session.bias, spec, flip=True),
        )


def test_bias_values_are_kept_while_the_bias_is_off():
    session = tutorial_session()
    session.set_spec(session.spec.replace(bias=True))
    session.set_bias(np.array([0.25]))
    session.set_spec(session.spec.replace(bias=False))
    again, _, _ = reopened(session)
    assert again.bias is None and again.bias_values.tolist() == [0.25]


def test_impossible_settings_are_kept_as_they_are():
    """A kernel larger than the padded input and groups that do not divide the channels:
    shown as the app shows them (a red field), not refused."""
    for spec, weight_shape in (
        (ConvSpec(in_channels=1, kernel_size=9), (1, 1, 9, 9)),
        (ConvSpec(in_channels=3, out_channels=2, groups=2, kernel_size=3), (2, 3, 3, 3)),
        (ConvSpec(in_channels=1, kernel_size=3, stride=2, padding="same"), (1, 1, 3, 3)),
    ):
        session = Session(np.ones((spec.in_channels, 5, 5)), spec, np.ones(weight_shape))
        assert not spec.is_valid((spec.in_channels, 5, 5))
        again, _, _ = reopened(session)
        assert_same_session(session, again)


def test_view_state_round_trips():
    view = ViewState(animation_step=5, workspace="sliding", zoom=1.25, output_channel=1, output_mode="raw",
                     output_mapping="auto", device="cuda:0", dtype="float64", tf32=False)
    _, state, _ = reopened(tutorial_session(), view)
    assert state.view == view
    _, state, _ = reopened(tutorial_session())
    assert state.view == ViewState()


def test_a_lesson_round_trips_in_both_forms(tmp_path):
    first = state_of(tutorial_session(), ViewState(animation_step=1))
    other = tutorial_session()
    other.set_spec(other.spec.replace(padding=1))
    steps = (
        LessonStep("The X", "The tutorial's 5×5 X.", "", ("formula",), ("o = (5 − 3) + 1 = 3",), (1, 3, 3),
                   np.array([[4.0, 3, 4], [2, 4, 3], [2, 3, 4]]), first),
        LessonStep("Padding 1", "", "What size is the output now?", (), (), None, None, state_of(other)),
    )
    doc = SessionDocument("lesson", "Tutorial", "From the tutorial.", None, steps)
    text = document_json(doc)
    assert '"output": [\n' in text and "[4, 3, 4]" in text  # whole numbers as the caption writes them
    write_document(tmp_path / "l.convplay", doc)
    for source in (text.encode(), tmp_path / "l.convplay"):
        again, warnings_ = read_document(source)
        assert warnings_ == []
        assert (again.kind, again.title, again.description, again.state) == ("lesson", "Tutorial", "From the tutorial.",
                                                                               None)
        assert [s.title for s in again.steps] == ["The X", "Padding 1"]
        a, b = again.steps
        assert a.hide == ("formula",) and a.formula == ("o = (5 − 3) + 1 = 3",)
        assert a.expected_output_shape == (1, 3, 3) and a.expected_output.tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
        assert b.ask == "What size is the output now?" and b.expected_output is None
        assert a.state.view == ViewState(animation_step=1)
        assert_same_session(tutorial_session(), session_from_state(a.state))
        assert_same_session(other, session_from_state(b.state))


def test_the_same_state_gives_the_same_bytes_and_saving_again_changes_nothing(tmp_path):
    session = Session(np.random.default_rng(3).normal(size=(3, 20, 20)), ConvSpec(in_channels=3, out_channels=2))
    doc = session_doc(session, ViewState(zoom=2.0))
    assert document_bytes(doc) == document_bytes(doc)
    path = tmp_path / "s.convplay"
    write_document(path, doc)
    first = path.read_bytes()
    again, _ = read_document(path)
    write_document(path, again)
    assert path.read_bytes() == first
    assert document_json(doc) == document_json(again)
    assert sorted(os.listdir(tmp_path)) == ["s.convplay"]  # no temporary file left


def test_json_is_pretty_and_rows_stay_on_one_line():
    text = document_json(session_doc(tutorial_session(), ViewState(workspace="focus")))
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == ' "format": "convplay",'
    assert '     [1.0, 1.0, 1.0, 0.0, 0.0],' in text or "[1.0, 0.0, 1.0]" in text
    assert json.loads(text)["state"]["view"] == {"workspace": "focus"}


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "s.convplay"
    write_document(path, session_doc(tutorial_session()))
    old = path.read_bytes()
    bad = Session(np.ones((1, 4, 4)), ConvSpec(kernel_size=1), np.array([[[[np.nan]]]]))
    with pytest.raises(SessionFileError, match="NaN at \\[0, 0, 0, 0\\]"):
        write_document(path, session_doc(bad))
    assert path.read_bytes() == old
    with pytest.raises(SessionFileError, match="does not exist"):
        write_document(tmp_path / "missing" / "s.convplay", session_doc(tutorial_session()))
    with pytest.raises(SessionFileError, match="is a folder"):
        write_document(tmp_path, session_doc(tutorial_session()))
    assert sorted(os.listdir(tmp_path)) == ["s.convplay"]


def test_session_from_state_makes_a_new_session():
    session = tutorial_session()
    again = session_from_state(state_of(session))
    assert again is not session
    assert_same_session(session, again)


def test_is_session_file(tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "b").write_bytes(document_bytes(session_doc(tutorial_session())))
    (tmp_path / "c.txt").write_text("  {\"format\": 1}")
    assert not sf.is_session_file(tmp_path / "a.png")
    assert sf.is_session_file(tmp_path / "b") and sf.is_session_file(tmp_path / "c.txt")
    assert sf.is_session_file(tmp_path / "missing.convplay") and sf.is_session_file("x.JSON")


# -- plain JSON documents: values checked ------------------------------------------------------------


def test_a_minimal_plain_json_document_opens():
    doc, warnings_ = read_document(as_bytes(doc_json()))
    assert warnings_ == []
    session = session_from_state(doc.state)
    assert session.image.shape == (1, 5, 5) and not session.image.any()
    assert session.spec == ConvSpec(in_channels=1, kernel_size=(3, 3))
    assert session.working_size == 8 and session.bias_values.tolist() == [0.0]


def test_missing_spec_keys_take_the_defaults_and_the_inputs_channels():
    doc, _ = read_document(_state_with(input={"blank": [3, 6, 6]}, spec={}, weight=_weight((1, 3, 3, 3))))
    assert doc.state.snapshot.spec == ConvSpec(in_channels=3)


def test_unknown_keys_are_ignored_with_a_warning():
    document = doc_json(colour="red")
    document["author"] = "someone"
    document["state"]["spec"]["fancy"] = 1
    document["state"]["view"] = {"zoom": 1.5, "theme": "dark", "output": {"channel": 0, "blend": 1}}
    doc, warnings_ = read_document(as_bytes(document))
    assert "unknown key 'author' in the document ignored" in warnings_
    assert "unknown key 'colour' in the state ignored" in warnings_
    assert "unknown key 'fancy' in the spec ignored" in warnings_
    assert "unknown key 'theme' in the view ignored" in warnings_
    assert "unknown key 'blend' in the view's output ignored" in warnings_
    assert doc.state.view == ViewState(zoom=1.5, output_channel=0)
    lesson = {"format": "convplay", "version": 1, "kind": "lesson", "title": "L",
              "steps": [{"title": "a", "state": doc_json()["state"]}, {"title": "b", "notes": "x",
                                                                       "hide": ["formula", "clock"],
                                                                       "state": doc_json()["state"]}]}
    doc, warnings_ = read_document(as_bytes(lesson))
    assert "unknown key 'notes' in step 2 ignored" in warnings_
    assert "unknown panel 'clock' in step 2's hide ignored" in warnings_
    assert doc.steps[1].hide == ("formula",)


@pytest.mark.parametrize(
    "text, words",
    [
        (b"[1, 2]", ("not a convplay session", "list")),
        (b"  42", ("not a convplay session",)),
        (b"", ("empty",)),
        (b'{"format": "other", "version": 1}', ("not a convplay session",)),
        (b'{"format": "convplay", "version": 3, "kind": "session"}',
         ("newer convplay (format version 3); this one reads version 1",)),
        (b'{"format": "convplay", "version": "1", "kind": "session"}', ("version must be a whole number",)),
        (b'{"format": "convplay", "version": 1}', ("'kind' is missing",)),
        (b'{"format": "convplay", "version": 1, "kind": "session"}', ("'state' is missing",)),
        (b'{"format": "convplay", "version": 1, "kind": "slides", "state": {}}', ("kind",)),
        (b'{"format": "convplay", "version": 1, "kind": "lesson", "steps": []}', ("at least one step",)),
        (b'{"format": "convplay", "version": 1, "kind": "session", "state": NaN}', ("NaN",)),
        (b'{"format": "convplay", "version": 1, "version": 1}', ("appears twice",)),
        (b'{"format": "convplay", "version": 1, ', ("not valid JSON",)),
        (b'{"format": "convplay", "title": "\xff"}', ("not UTF-8",)),
        (b"{" + b"[" * 100_000, ("JSON",)),
    ],
)
def test_documents_refused_with_the_reason(text, words):
    refused(text, *words)


def _state_with(**changes):
    return as_bytes(doc_json(**changes))


def _spec(**changes):
    spec = {"in_channels": 1, "kernel_size": [3, 3]}
    spec.update(changes)
    return spec


def _weight(shape, value=1.0, dtype="float64"):
    return {"dtype": dtype, "shape": list(shape), "data": np.full(shape, value).tolist()}


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"spec": _spec(stride="2")}, ("stride must be a whole number or a pair",)),
        ({"spec": _spec(stride=[1, 2, 3])}, ("stride",)),
        ({"spec": _spec(stride=0)}, ("stride must be between 1",)),
        ({"spec": _spec(padding="full")}, ("padding",)),
        ({"spec": _spec(padding_mode="mirror")}, ("padding_mode",)),
        ({"spec": _spec(bias=1)}, ("bias must be true or false",)),
        ({"spec": _spec(kernel_size=True)}, ("kernel_size",)),
        ({"spec": _spec(kernel_size=2.5)}, ("kernel_size",)),
        ({"spec": _spec(padding=10**9)}, ("padding must be between",)),
        ({"spec": "conv"}, ("spec must be an object",)),
        ({"spec": _spec(in_channels=3)}, ("in_channels is 3 but the input has 1 channel",)),
        ({"weight": _weight((2, 1, 3, 3))}, ("weight has the shape [2, 1, 3, 3], but the spec needs [1, 1, 3, 3]",)),
        ({"weight": _weight((1, 3, 3))}, ("weight must have 4 dimensions",)),
        ({"weight": {"dtype": "float64", "shape": [1, 1, 3, 3], "data": [[[[1, 2, 3]]]]}}, ("shape",)),
        ({"weight": {"dtype": "float64", "data": [[[[1, 2], [3]]]]}}, ("shape",)),
        ({"weight": {"dtype": "float64", "shape": [1, 1, 1, 3], "data": [[[[1, "2", 3]]]]},
          "spec": _spec(kernel_size=[1, 3])}, ("not a number",)),
        ({"weight": {"dtype": "float64", "shape": [1, 1, 1, 3], "data": [[[[1, True, 3]]]]},
          "spec": _spec(kernel_size=[1, 3])}, ("not a number",)),
        ({"weight": {"dtype": "complex128", "shape": [1, 1, 1, 1], "data": [[[[1]]]]}}, ("float or int",)),
        ({"weight": {"dtype": "object", "shape": [1, 1, 1, 1], "data": [[[[1]]]]}}, ("float or int",)),
        ({"weight": {"npy": "arrays/weight.npy"}}, ("plain JSON document has no arrays",)),
        ({"weight": None}, ("weight must be an object",)),
        ({"bias": _weight((2,))}, ("one value per output channel (1)",)),
        ({"input": {"blank": [1, 5, 5], "sample": "camera"}}, ("exactly one of",)),
        ({"input": {"sample": "mona_lisa"}}, ("mona_lisa", "convplay does not have")),
        ({"input": {"sample": "camera", "channels": 2}}, ("channels must be 1 or 3",)),
        ({"input": {"blank": [1, 5, 5], "working_size": 5000}}, ("working_size must be between 8 and 2048",)),
        ({"input": {"blank": [1, 5]}}, ("blank must be [C, H, W]",)),
        ({"input": {"blank": [3, 4096, 4096]}}, ("limit",)),
        ({"input": {"array": _weight((1, 1, 0))}}, ("at least one pixel",)),
        ({"true_convolution": "yes"}, ("true_convolution must be true or false",)),
        ({"kernel_name": "k" * 10_001}, ("10,001 characters", "limit is 10,000")),
        ({"view": {"zoom": 0}}, ("zoom",)),
        ({"view": {"dtype": "int8"}}, ("dtype must be one of",)),
        ({"view": {"animation_step": 0}}, ("animation_step must be between 1",)),
        ({"view": {"tf32": "no"}}, ("tf32",)),
    ],
)
def test_states_refused_with_the_reason(changes, words):
    refused(_state_with(**changes), *words)


def test_a_steps_problem_names_the_step():
    good, bad = doc_json()["state"], doc_json(weight=_weight((1, 1, 2, 2)))["state"]
    lesson = {"format": "convplay", "version": 1, "kind": "lesson", "title": "L", "steps": [good, good, bad]}
    lesson["steps"] = [{"title": str(i), "state": s} for i, s in enumerate(lesson["steps"])]
    refused(b"\n" * 200 + as_bytes(lesson), "step 3's weight has the shape [1, 1, 2, 2], but the spec needs [1, 1, 3, 3]")


def test_a_number_too_large_for_a_float_is_refused():
    text = _state_with(spec=_spec(kernel_size=[1, 2]), weight={"shape": [1, 1, 1, 2], "data": [[[[1, 2]]]]})
    refused(text.replace(b"[[[[1, 2]]]]", b"[[[[1, 1e400]]]]"), "weight holds inf at [0, 0, 0, 1]")
    refused(text.replace(b"[[[[1, 2]]]]", b"[[[[1, " + b"9" * 400 + b"]]]]"), "weight holds a number too large")
    refused(text.replace(b"[[[[1, 2]]]]", b"[[[[1, -Infinity]]]]"), "-Infinity")


def test_a_huge_output_is_refused_before_anything_runs():
    text = _state_with(spec=_spec(out_channels=64, transposed=True, stride=1024, kernel_size=[1, 1]),
                       input={"blank": [1, 1000, 1000]}, weight=_weight((1, 64, 1, 1)), bias=None)
    refused(text, "output of", "values; the limit is")


def test_too_many_steps_and_long_strings_are_refused():
    state = doc_json()["state"]
    lesson = {"format": "convplay", "version": 1, "kind": "lesson", "title": "L", "steps": [{"state": state}] * 201}
    refused(as_bytes(lesson), "201 steps; the limit is 200")
    lesson["steps"] = [{"state": state, "caption": "c" * 10_001}]
    refused(as_bytes(lesson), "step 1's caption is 10,001 characters")
    document = doc_json()
    document["title"] = "t" * 20_000
    refused(as_bytes(document), "title is 20,000 characters")


def test_an_oversized_json_is_refused(tmp_path):
    document = doc_json()
    document["description"] = "x" * 5000
    text = as_bytes(document)
    big = text[:-1] + b", " + b" " * (sf.MAX_JSON_BYTES) + b"}"
    refused(big, "MiB; the limit is 8 MiB")
    (tmp_path / "big.json").write_bytes(big)
    refused(tmp_path / "big.json", "the limit is 8 MiB")
    refused(zip_of({"session.json": big}, zipfile.ZIP_STORED), "session.json", "limit is 8 MiB")


def test_expected_outputs_are_checked():
    state = doc_json()["state"]
    base = {"format": "convplay", "version": 1, "kind": "lesson", "title": "L"}
    for expect, words in (
        ({"output_shape": [1, 3]}, ("output_shape must be [C, H, W]",)),
        ({"output_shape": [1, 3, "3"]}, ("output_shape",)),
        ({"output": [1, 2, 3]}, ("rows of numbers",)),
        ({"output": [[1, 2], [3]]}, ("shape",)),
    ):
        refused(as_bytes({**base, "steps": [{"state": state, "expect": expect}]}), *words)
    doc, _ = read_document(as_bytes({**base, "steps": [{"state": state, "expect": {"output": [[[1, 2]], [[3, 4]]]}}]}))
    assert doc.steps[0].expected_output.shape == (2, 1, 2)


# -- zips: damaged, hostile, oversized -----------------------------------------------------------


def good_zip() -> bytes:
    rng = np.random.default_rng(4)
    spec = ConvSpec(in_channels=1, out_channels=3, kernel_size=(9, 10))
    session = Session(rng.normal(size=(1, 20, 20)), spec, rng.normal(size=spec.weight_shape), rng.normal(size=3))
    return document_bytes(session_doc(session))


def test_a_truncated_zip_is_refused_at_every_offset():
    data = good_zip()
    for cut in sorted({1, 2, 10, 30, 100, len(data) // 4, len(data) // 2, len(data) - 100, len(data) - 22,
                       len(data) - 1}):
        refused(data[:cut])


def test_flipped_bytes_are_refused_or_read_never_an_other_error():
    rng = np.random.default_rng(5)
    for data in (good_zip(), document_json(session_doc(tutorial_session())).encode()):
        opened = 0
        for _ in range(150):
            damaged = bytearray(data)
            for at in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
                damaged[at] ^= int(rng.integers(1, 256))
            try:
                doc, _ = read_document(bytes(damaged))
            except SessionFileError as exc:
                assert str(exc)
            else:  # a harmless byte (a zip's attributes, a digit): what opens is a whole state
                opened += 1
                session_from_state(doc.state)
        assert opened < 150


def test_arrays_in_members_are_read_and_checked():
    data = good_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    tree = json.loads(members["session.json"])
    assert tree["state"]["weight"] == {"npy": "arrays/weight.npy"}

    def with_weight(array_bytes: bytes, name: str = "arrays/weight.npy", **extra) -> bytes:
        return zip_of({**members, name: array_bytes, **extra})

    weight = np.load(io.BytesIO(members["arrays/weight.npy"]))
    assert read_document(with_weight(npy(weight.astype(">f4"))))[0].state.snapshot.weight.dtype == np.float64
    assert read_document(with_weight(npy(weight.astype(np.int16))))[0]
    bad = weight.copy()
    bad[0, 0, 1, 2] = np.nan
    refused(with_weight(npy(bad)), "weight holds NaN at [0, 0, 1, 2]")
    bad[0, 0, 1, 2] = -np.inf
    refused(with_weight(npy(bad.astype(np.float16))), "weight holds -inf at [0, 0, 1, 2]")
    refused(with_weight(npy(weight[:2])), "the spec needs [3, 1, 9, 10]")
    refused(with_weight(npy(weight > 0)), "bool", "float or int")
    refused(with_weight(npy(weight.astype(np.complex128))), "complex128")
    refused(with_weight(npy(np.array(["ab"] * 270))), "float or int")
    refused(with_weight(npy(weight)[:-8]), "truncated")
    refused(with_weight(b"not an npy at all"), "not a valid .npy")
    refused(zip_of({k: v for k, v in members.items() if k != "arrays/weight.npy"}), "does not hold")
    tree["state"]["weight"] = {"npy": "arrays/../weight.npy"}
    refused(zip_of({**members, "session.json": json.dumps(tree).encode()}), "arrays/<name>.npy")


def test_steps_sharing_an_input_share_one_array_and_the_documents_total_is_bounded(monkeypatch):
    session = Session(np.random.default_rng(6).normal(size=(1, 30, 30)), ConvSpec())
    step = LessonStep("s", "", "", (), (), None, None, state_of(session))
    data = document_bytes(SessionDocument("lesson", "L", "", None, (step,) * 20))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["session.json", "arrays/step1_input.npy"]  # written once
    doc, _ = read_document(data)
    assert len({id(s.state.snapshot.image) for s in doc.steps}) == 1
    text = document_json(SessionDocument("lesson", "L", "", None, (step,) * 20)).encode()
    doc, _ = read_document(text)
    monkeypatch.setattr(sf, "MAX_DOCUMENT_VALUES", 15 * 900)
    refused(text, "values in all")
    read_document(data)  # one array shared: well within the total


_UNPICKLED: list[str] = []


def _mark():
    _UNPICKLED.append("loaded")
    return 0


class Loud:
    def __reduce__(self):
        return (_mark, ())


def test_a_pickled_npy_is_never_loaded():
    document = doc_json(weight={"npy": "arrays/weight.npy"})
    pickled = npy(np.array([Loud()] * 9, dtype=object).reshape(1, 1, 3, 3), allow_pickle=True)
    refused(zip_of({"session.json": as_bytes(document), "arrays/weight.npy": pickled}), "pickle")
    assert _UNPICKLED == []


def test_an_npy_header_claiming_a_huge_array_is_refused_before_allocating():
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    document = doc_json(input={"array": {"npy": "arrays/input.npy"}})
    data = zip_of({"session.json": as_bytes(document), "arrays/input.npy": buffer.getvalue() + b"\0" * 64})
    tracemalloc.start()
    try:
        refused(data, "10,000,000,000 values")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


@pytest.mark.parametrize(
    "name, words",
    [
        ("../x", ("the member name '../x' leaves the archive",)),
        ("arrays/../../x.npy", ("leaves the archive",)),
        ("/etc/passwd", ("absolute",)),
        ("C:/x.npy", ("drive",)),
        ("arrays\\x.npy", ("backslash",)),
    ],
)
def test_hostile_member_names_refuse_the_file(name, words):
    refused(zip_of({"session.json": as_bytes(doc_json()), name: b"x"}), *words)


def test_other_zips_are_refused_or_warned_about():
    refused(zip_of({"notes.txt": b"hi"}), "holds no session.json")
    refused(zip_of([("session.json", as_bytes(doc_json())), ("session.json", as_bytes(doc_json()))]), "twice")
    many = {"session.json": as_bytes(doc_json()), **{f"arrays/a{i}.npy": b"" for i in range(64)}}
    refused(zip_of(many), "65 members", "at most 64")
    doc, warnings_ = read_document(zip_of({"session.json": as_bytes(doc_json()), "notes.txt": b"hi", "arrays/": b""}))
    assert warnings_ == ["the member 'notes.txt' is not part of a session and was ignored"]
    assert doc.kind == "session"
    refused(zip_of({"session.json": b"[1]"}), "list, not an object")
    bz = zip_of({"session.json": as_bytes(doc_json())}, zipfile.ZIP_BZIP2)
    refused(bz, "method")


def test_a_zip_announcing_thousands_of_members_is_refused_before_its_directory_is_parsed(monkeypatch):
    data = zip_of({"session.json": as_bytes(doc_json()), **{f"m{i}": b"" for i in range(3000)}}, zipfile.ZIP_STORED)

    def parse(*_args, **_kw):
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(sf.zipfile, "ZipFile", parse)
    refused(data, "3001 members")


def _deflated_zeros(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``mib`` MiB of zeros and its CRC, made without ever holding
    the zeros: one byte-aligned block for a MiB, repeated (each starts afresh)."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = squeeze.compress(bytes(2**20)) + squeeze.flush(zlib.Z_FULL_FLUSH)
    crc, chunk = 0, bytes(2**20)
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return block * mib + b"\x03\x00", crc  # 03 00: an empty final block


def _zip_with(name: str, body: bytes, declared: int, crc: int, first: tuple[str, bytes] | None = None) -> bytes:
    """A zip holding ``first`` (stored) and the deflated member ``name`` whose directory says
    it unpacks to ``declared`` bytes, written by hand so the sizes can lie."""
    out, directory = b"", b""
    members = ([(first[0], first[1], len(first[1]), zlib.crc32(first[1]), 0)] if first else []) + [
        (name, body, declared, crc, 8)
    ]
    for member, data, size, check, method in members:
        encoded = member.encode()
        at = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, check, len(data), size,
                           len(encoded), 0) + encoded + data
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, check, len(data),
                                 size, len(encoded), 0, 0, 0, 0, 0, at) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(out), 0)
    return out + directory + end


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking():
    body, crc = _deflated_zeros(200)
    data = _zip_with("arrays/input.npy", body, 200 * 2**20, crc, ("session.json", as_bytes(doc_json())))
    assert len(data) < 2**20
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # a well-formed zip: zipfile itself would unpack it
        assert zf.getinfo("arrays/input.npy").file_size == 200 * 2**20
    tracemalloc.start()
    try:
        refused(data, "'arrays/input.npy' would unpack to 200 MiB; the limit is 64 MiB")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20
    body, crc = _deflated_zeros(2)  # small, but compressed a thousandfold
    refused(_zip_with("arrays/input.npy", body, 2 * 2**20, crc, ("session.json", as_bytes(doc_json()))), "zip bomb")


def test_a_lying_size_in_the_directory_gets_no_more_bytes_than_it_declared():
    body, crc = _deflated_zeros(200)
    document = doc_json(input={"array": {"npy": "arrays/input.npy"}})
    for name, first in (("session.json", None), ("arrays/input.npy", ("session.json", as_bytes(document)))):
        for declared in (10, 1000, 2**20):
            data = _zip_with(name, body, declared, crc, first)
            tracemalloc.start()
            try:
                refused(data)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert peak < 16 * 2**20


def test_a_member_cut_short_inside_the_zip_is_refused():
    data = zip_of({"session.json": as_bytes(doc_json())}, zipfile.ZIP_STORED)
    refused(data[:40] + data[60:])  # 20 bytes of the stored session.json gone, the directory intact


def test_files_on_disk(tmp_path):
    path = tmp_path / "s.convplay"
    path.write_bytes(good_zip())
    doc, _ = read_document(path)
    assert doc.state.snapshot.weight.shape == (3, 1, 9, 10)
    doc, _ = read_document(str(path))
    refused(tmp_path / "missing.convplay", "cannot read missing.convplay")
    refused(tmp_path, "is a folder")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    refused(tmp_path / "photo.png", "not a convplay session")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
_PATHS = [
    ("state", "input"), ("state", "input", "sample"), ("state", "input", "blank"), ("state", "input", "working_size"),
    ("state", "spec"), ("state", "spec", "kernel_size"), ("state", "spec", "padding"), ("state", "spec", "groups"),
    ("state", "weight"), ("state", "weight", "data"), ("state", "weight", "shape"), ("state", "weight", "dtype"),
    ("state", "bias"), ("state", "view"), ("state", "kernel_name"), ("state",), ("kind",), ("version",),
    ("title",), ("steps",),
]


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(_PATHS), value=_JSON)
def test_any_value_anywhere_is_refused_with_a_reason_or_read(path, value):
    """No value in any place raises anything but SessionFileError."""
    document = doc_json()
    document["state"]["input"] = {"sample": "tutorial_x", "working_size": 8}
    document["state"]["view"] = {"zoom": 1.0}
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        doc, _ = read_document(as_bytes(document))
    except SessionFileError as exc:
        assert str(exc)
    else:
        session_from_state(doc.state)
