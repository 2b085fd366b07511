"""``convplay --describe``: the JSON description against PyTorch, built from the command
line's values directly (never from convplay's helpers), for random setups valid and
refused; --input-shape and --kernel-size in the description and in the window's first
session; the command itself in a subprocess (valid JSON, exit status, no Qt, no torch)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convplay.cli import parse_args
from convplay.core.formula import formula_lines
from convplay.describe import (
    EXIT_REFUSED,
    PAIR_FIELDS,
    describe_args,
    describe_session,
    to_json,
)
from convplay.startup import MAX_BLANK_CHANNELS, StartupError, initial_session

ROOT = Path(__file__).resolve().parents[1]
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float)


def _arg(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _int_or_pair(low: int, high: int):
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


@st.composite
def setups(draw):
    """(argv, torch keyword arguments, input shape): a random setup as a user types it,
    and the same values as a user passes them to nn.Conv2d / nn.ConvTranspose2d.
    Nothing keeps it valid: groups may not divide, 'same' may meet a stride, the kernel
    may not fit, output_padding may be too large."""
    transposed = draw(st.booleans())
    c, h, w = draw(st.integers(1, 6)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kwargs = dict(in_channels=c, out_channels=draw(st.integers(1, 6)), kernel_size=3, stride=1, padding=0,
                  dilation=1, groups=1, bias=draw(st.booleans()), padding_mode="zeros")
    argv = ["--input-shape", f"{c},{h},{w}", "--out-channels", str(kwargs["out_channels"])]
    options = {
        "kernel_size": ("--kernel-size", _int_or_pair(1, 5)),
        "stride": ("--stride", _int_or_pair(1, 3)),
        "padding": ("--padding", st.one_of(_int_or_pair(0, 3), st.sampled_from(["same", "valid"]))),
        "dilation": ("--dilation", _int_or_pair(1, 3)),
        "groups": ("--groups", st.integers(1, 3)),
        "padding_mode": ("--padding-mode", st.sampled_from(["zeros", "reflect", "replicate", "circular"])),
    }
    if transposed:
        options["output_padding"] = ("--output-padding", _int_or_pair(0, 2))
    for name, (option, values) in options.items():
        if draw(st.booleans()):
            kwargs[name] = draw(values)
            argv += [option, _arg(kwargs[name])]
    if transposed:
        argv.append("--transposed")
    if not kwargs["bias"]:
        argv.append("--no-bias")
    return argv, kwargs, transposed, (c, h, w)


def _module(kwargs: dict, transposed: bool, **changes):
    """PyTorch's layer for these arguments, or the exception its constructor raises."""
    kwargs = {**kwargs, **changes}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(**kwargs)
        except Exception as refused:  # whatever torch raises, it refuses
            return refused


def _torch_output_shape(module, input_shape):
    """The output (C, H, W) PyTorch gives on zeros of ``input_shape``, or the exception."""
    if isinstance(module, Exception):
        return module
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            out = module(torch.zeros((1, *input_shape)))
        except Exception as refused:
            return refused
    return list(out.shape[1:]) if out.numel() else RuntimeError("an empty output")


def _pair(value) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setups())
def test_the_description_agrees_with_pytorch(setup):
    argv, kwargs, transposed, input_shape = setup
    description = describe_args(parse_args([*argv, "--describe"]))
    assert description["input_shape"] == list(input_shape)
    assert description["spec"]["transposed"] is transposed
    for name, value in kwargs.items():
        shown = description["spec"][name]
        if name in PAIR_FIELDS and not isinstance(value, str):
            # one rule whatever was typed: an int when both axes agree, else [h, w]
            h, w = _pair(value)
            assert shown == (h if h == w else [h, w]), name
        else:
            assert shown == value, name
    module = _module(kwargs, transposed)
    expected = _torch_output_shape(module, input_shape)
    if isinstance(expected, Exception):
        # both refuse: convplay says why and names a field; what is known is still there
        assert description["error"] and description["field"], (argv, expected)
        assert "output_shape" not in description and "macs" not in description
        assert description["formula"] and "✗" in " ".join(description["formula"])
    else:
        assert "error" not in description, (argv, description.get("error"))
        assert description["output_shape"] == expected
    if isinstance(module, Exception):
        return
    assert description["weight_shape"] == list(module.weight.shape)
    params = description["params"]
    assert params["total"] == sum(p.numel() for p in module.parameters())
    for key, bias in (("with_bias", True), ("without_bias", False)):
        layer = _module(kwargs, transposed, bias=bias)
        assert params[key] == sum(p.numel() for p in layer.parameters()), key
    if isinstance(expected, Exception):
        return
    kh, kw = _pair(kwargs["kernel_size"])
    c_in, c_out, groups = kwargs["in_channels"], kwargs["out_channels"], kwargs["groups"]
    if transposed:  # every input value stamps (out/groups)·kh·kw products
        assert description["macs"] == math.prod(input_shape) * c_out // groups * kh * kw
    else:  # every output value takes (in/groups)·kh·kw products
        assert description["macs"] == math.prod(expected) * c_in // groups * kh * kw
    fc = params["fully_connected"]
    for key, n_out in (("to_out_channels", c_out), ("to_whole_output", math.prod(expected))):
        linear = torch.nn.Linear(math.prod(input_shape), n_out, bias=kwargs["bias"], device="meta")
        assert fc[key] == {"out_features": n_out, "params": sum(p.numel() for p in linear.parameters())}
    assert description["formula"] == formula_lines(_spec_of(description), tuple(input_shape))
    assert json.loads(to_json(description)) == description


def _spec_of(description):
    from convplay.core.spec import ConvSpec

    spec = {k: tuple(v) if isinstance(v, list) else v for k, v in description["spec"].items()}
    return ConvSpec(**spec)


def _receptive_span(kernel: int, stride: int, dilation: int, transposed: bool) -> int:
    """The most input rows one output row depends on, as PyTorch computes it: a one-hot
    input per row through a layer of ones, read off which outputs each row reaches."""
    n = 4 * (dilation * (kernel - 1) + 1) + 2 * stride
    layer = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(
        1, 1, (kernel, 1), stride=(stride, 1), dilation=(dilation, 1), bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        reached = layer(torch.eye(n).reshape(n, 1, n, 1))[:, 0, :, 0] != 0  # [input row, output row]
    spans = [int(rows.nonzero().max() - rows.nonzero().min()) + 1 for rows in reached.T if rows.any()]
    return max(spans)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), st.booleans())
def test_the_receptive_field_is_what_an_output_pixel_reads(kernel, stride, dilation, transposed):
    argv = ["--input-shape", "1,16,16", "--kernel-size", f"{kernel},1", "--stride", f"{stride},1",
            "--dilation", f"{dilation},1", "--describe"] + (["--transposed"] if transposed else [])
    description = describe_args(parse_args(argv))
    assert description["receptive_field"][0] == _receptive_span(kernel, stride, dilation, transposed)
    assert description["receptive_field"][1] == 1


def test_the_tutorial_x_described():
    description = describe_args(parse_args(["--sample", "tutorial_x", "--kernel", "x_shape", "--describe"]))
    assert description["input_shape"] == [1, 5, 5] and description["output_shape"] == [1, 3, 3]
    assert description["weight_shape"] == [1, 1, 3, 3] and description["receptive_field"] == [3, 3]
    assert description["params"]["total"] == 10 and description["macs"] == 81
    assert description["formula"][1] == "H_out = ⌊(5 + 2·0 − 1·(3−1) − 1) / 1⌋ + 1 = 3"
    assert description["kernel_name"] and description["true_convolution"] is False
    assert describe_args(parse_args(["--sample", "tutorial_x", "--true-convolution", "--describe"]))[
        "true_convolution"] is True


def test_the_formula_is_what_the_formula_panel_shows(qtbot):
    from convplay.qt.panels.formula_panel import FormulaPanel

    for argv in (["--input-shape", "3,7,6", "--kernel-size", "4", "--padding", "same"],
                 ["--input-shape", "1,6,6", "--stride", "2", "--padding", "1"],  # the floor's remainder
                 ["--input-shape", "2,5,5", "--groups", "2", "--out-channels", "3"],  # refused on both axes
                 ["--input-shape", "3,9,9", "--out-channels", "2", "--true-convolution"]):
        session, _ = initial_session(parse_args(argv))
        panel = FormulaPanel(session)
        qtbot.addWidget(panel)
        shown = [line for line in panel.formula_view.toPlainText().splitlines() if line.strip("\xa0 ")]
        # the panel sets H_out as H with a subscript: its plain text reads "Hout"
        description = describe_session(session)
        expected = [re.sub(r"\b(H|W|pad)_(out|in|top|bottom|left|right)\b", r"\1\2", line)
                    for line in description["formula"]]
        assert shown[:len(expected)] == expected
        # then the table, a row's label in its own cell: "label: line" in the description
        table = [line.replace("\xa0", " ") for line in shown[len(expected):]]
        flat, previous = [], None
        for line in description["table"]:
            label, text = line.split(": ", 1)
            flat += [text] if label == previous else [label, text]  # a row's second line: no label
            previous = label
        assert table == flat


# -- --input-shape and --kernel-size ---------------------------------------------------

def test_input_shape_and_kernel_size_make_the_window_s_first_session():
    session, notes = initial_session(parse_args(["--input-shape", "3,20,30", "--kernel-size", "5"]))
    assert session.image.shape == (3, 20, 30) and not session.image.any() and notes == []
    assert session.spec.in_channels == 3 and session.spec.kernel_hw == (5, 5)
    assert session.weight.shape == (1, 3, 5, 5)
    for c in range(3):  # the 3×3 Sobel in the middle of the 5×5, a ring of zeros around it
        assert np.array_equal(session.weight[0, c, 1:4, 1:4], SOBEL_X)
        assert np.abs(session.weight[0, c]).sum() == np.abs(SOBEL_X).sum()
    assert not session.keeps_own_size  # its own size is the working size: nothing resamples it
    session, _ = initial_session(parse_args(["--input-shape", "1,9,9", "--kernel", "box5", "--kernel-size", "3,1"]))
    assert session.weight.shape == (1, 1, 3, 1) and np.allclose(session.weight, 1 / 25)  # the box's middle column
    session, _ = initial_session(parse_args(["--input-shape", "1,5,5"]))
    assert session.image.shape == (1, 5, 5) and session.spec.kernel_hw == (3, 3)


def test_kernel_size_fits_the_kernel_as_changing_the_size_in_the_window_does():
    by_option, _ = initial_session(parse_args(["--sample", "tutorial_x", "--kernel", "x_shape", "--kernel-size", "2,4"]))
    by_hand, _ = initial_session(parse_args(["--sample", "tutorial_x", "--kernel", "x_shape"]))
    by_hand.set_spec(by_hand.spec.replace(kernel_size=(2, 4)))  # what the kernel panel's fields do
    assert np.array_equal(by_option.weight, by_hand.weight) and by_option.spec == by_hand.spec
    assert by_option.kernel_name == by_hand.kernel_name


def test_input_shape_and_kernel_size_in_the_description():
    description = describe_args(parse_args(["--input-shape", "3,32,24", "--kernel-size", "5,3", "--describe"]))
    assert description["input_shape"] == [3, 32, 24] and description["output_shape"] == [1, 28, 22]
    assert description["spec"]["kernel_size"] == [5, 3] and description["weight_shape"] == [1, 3, 5, 3]


@pytest.mark.parametrize(
    "argv, field, words",
    [
        (["--input-shape", "1,8,8", "--sample", "camera"], "input_shape", "instead of an image file or --sample"),
        (["photo.png", "--input-shape", "1,8,8"], "input_shape", "not with one"),
        (["--input-shape", f"{MAX_BLANK_CHANNELS + 1},8,8"], "input_shape", f"1 to {MAX_BLANK_CHANNELS} channels"),
        (["--input-shape", "1,2049,8"], "input_shape", "from 1 to 2048 px"),
        (["--input-shape", "4,2048,2048"], "input_shape", "3×2048×2048"),
        (["--input-shape", "1,8,8", "--kernel-size", "16"], "kernel_size", "1 to 15 on each axis, not 16"),
        (["--input-shape", "1,8,8", "--kernel-size", "3,20"], "kernel_size", "not 3,20"),
        (["--sample", "nothing_like_it"], "sample", "nothing_like_it"),
        (["--kernel", "nothing_like_it"], "kernel", "nothing_like_it"),
        (["missing.png"], "image", "missing.png"),
        (["--kernel-file", "missing.npy"], "kernel_file", "missing.npy"),
        (["--size", "4"], "size", "--size"),
    ],
)
def test_setups_that_cannot_be_made_are_refused_with_the_option(argv, field, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StartupError, match=re.escape(words)) as refused:
        initial_session(parse_args(argv))
    assert refused.value.field == field
    description = describe_args(parse_args([*argv, "--describe"]))
    assert description["field"] == field and words in description["error"]


@pytest.mark.parametrize(
    "argv, field, option",
    [
        (["--input-shape", "3,8,8", "--groups", "2"], "groups", "--groups"),
        (["--input-shape", "1,4,4", "--kernel-size", "5"], "kernel_size", "--kernel-size"),
        (["--input-shape", "1,8,8", "--stride", "2", "--padding", "same"], "padding", "--padding"),
        (["--input-shape", "1,3,3", "--padding", "3", "--padding-mode", "reflect"], "padding", "--padding"),
        (["--input-shape", "1,8,8", "--transposed", "--output-padding", "1"], "output_padding", "--output-padding"),
        (["--input-shape", "1,8,8", "--transposed", "--padding-mode", "reflect"], "padding_mode", "--padding-mode"),
    ],
)
def test_impossible_settings_name_the_field_and_keep_what_is_known(argv, field, option):
    description = describe_args(parse_args([*argv, "--describe"]))
    assert description["field"] == field and description["option"] == option
    assert description["error"] in description["formula"]  # the panel's reason, word for word
    assert description["input_shape"] == [int(v) for v in argv[1].split(",")] and "spec" in description
    assert "output_shape" not in description and "macs" not in description


# -- the command itself ----------------------------------------------------------------

_WRAPPER = (
    "import json, sys\n"
    "from convplay.__main__ import main\n"
    "rc = main(sys.argv[1:])\n"
    "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'torch'))\n"
    "print('MODULES ' + json.dumps(heavy), file=sys.stderr)\n"
    "raise SystemExit(rc)\n"
)


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, cwd=ROOT, timeout=60, check=False)


def _modules(stderr: bytes) -> list[str]:
    line = next(x for x in stderr.decode().splitlines() if x.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def test_describe_prints_json_and_imports_neither_qt_nor_torch():
    done = _run("--sample", "camera", "--size", "64", "--stride", "2", "--padding", "1", "--describe")
    assert done.returncode == 0, done.stderr
    description = json.loads(done.stdout.decode("utf-8"))
    assert description["input_shape"] == [1, 64, 64] and description["output_shape"] == [1, 32, 32]
    assert _modules(done.stderr) == []


def test_a_refused_setup_exits_2_with_the_reason_on_stderr_and_json_on_stdout():
    done = _run("--input-shape", "3,8,8", "--groups", "2", "--describe")
    assert done.returncode == EXIT_REFUSED
    description = json.loads(done.stdout.decode("utf-8"))
    assert description["field"] == "groups" and "weight_shape" not in description  # 3 channels in 2 groups: none
    assert description["error"] in done.stderr.decode("utf-8")
    assert _modules(done.stderr) == []


def test_python_m_convplay_describe():
    done = subprocess.run([sys.executable, "-m", "convplay", "--input-shape", "1,28,28", "--kernel-size", "3",
                           "--padding", "1", "--describe"], capture_output=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output_shape"] == [1, 28, 28]


# -- session files and lessons ---------------------------------------------------------

def _torch_shape_from_json_spec(spec: dict, input_shape) -> list[int]:
    """The description's spec handed to PyTorch as it stands: its names are PyTorch's."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k not in ("transposed", "output_padding")}
    if spec["transposed"]:
        layer = torch.nn.ConvTranspose2d(output_padding=tuple(spec["output_padding"]) if isinstance(
            spec["output_padding"], list) else spec["output_padding"], **kwargs)
    else:
        layer = torch.nn.Conv2d(**kwargs)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        return list(layer(torch.zeros((1, *input_shape))).shape[1:])


def _step(title: str, argv: list[str]):
    from convplay.core.session_file import LessonStep, state_of

    session, _ = initial_session(parse_args(argv))
    return session, LessonStep(title=title, caption="", ask="", hide=(), formula=(), expected_output_shape=None,
                               expected_output=None, state=state_of(session))


def test_a_session_file_is_described_as_one_object(tmp_path):
    from convplay.core.session_file import SessionDocument, state_of, write_document

    session, _ = initial_session(parse_args(["--input-shape", "2,9,9", "--kernel-size", "5", "--groups", "2",
                                             "--out-channels", "4", "--padding", "2"]))
    path = tmp_path / "mine.convplay"
    write_document(path, SessionDocument("session", title="Depthwise by two", state=state_of(session)))
    description = describe_args(parse_args([str(path), "--describe"]))
    assert isinstance(description, dict) and description.pop("title") == "Depthwise by two"
    assert description == describe_session(session)
    refused = describe_args(parse_args([str(path), "--lesson-step", "1", "--describe"]))
    assert refused["field"] == "lesson_step" and "not a lesson" in refused["error"]
    assert description["output_shape"] == [4, 9, 9] == _torch_shape_from_json_spec(description["spec"], (2, 9, 9))


def test_a_lesson_file_is_described_as_a_list_one_object_a_step(tmp_path):
    from convplay.core.session_file import SessionDocument, write_document

    first, one = _step("no padding", ["--sample", "tutorial_x", "--kernel", "x_shape"])
    _second, two = _step("a 5×5 kernel, transposed", ["--input-shape", "1,4,4", "--kernel-size", "5", "--transposed"])
    path = tmp_path / "lesson.convplay"
    write_document(path, SessionDocument("lesson", title="Two steps", steps=(one, two)))
    described = describe_args(parse_args([str(path), "--describe"]))
    assert [(d["step"], d["title"]) for d in described] == [(1, "no padding"), (2, "a 5×5 kernel, transposed")]
    assert described[1]["output_shape"] == [1, 8, 8] and described[1]["module"] == "nn.ConvTranspose2d"
    assert {k: v for k, v in described[0].items() if k not in ("step", "title")} == describe_session(first)
    only = describe_args(parse_args([str(path), "--lesson-step", "2", "--describe"]))
    assert [d["step"] for d in only] == [2]
    refused = describe_args(parse_args([str(path), "--lesson-step", "3", "--describe"]))
    assert refused["field"] == "lesson_step" and "2 steps" in refused["error"]


def test_every_built_in_lesson_step_is_described_as_pytorch_computes_it():
    from convplay.core.lessons import builtin_lessons

    lessons = builtin_lessons()
    assert lessons
    for info in lessons:
        described = describe_args(parse_args(["--lesson", info.id, "--describe"]))
        assert [d["step"] for d in described] == list(range(1, info.n_steps + 1)), info.id
        for d in described:
            assert d["title"] and "error" not in d, (info.id, d["step"], d.get("error"))
            assert d["output_shape"] == _torch_shape_from_json_spec(d["spec"], d["input_shape"]), (info.id, d["step"])
            assert d.get("expected_output_shape", d["output_shape"]) == d["output_shape"], (info.id, d["step"])


@pytest.mark.parametrize(
    "argv, field, words",
    [
        (["--lesson", "no_such_lesson"], "lesson", "no_such_lesson"),
        (["--lesson-step", "2"], "lesson_step", "--lesson"),
    ],
)
def test_a_lesson_that_is_not_there_is_refused(argv, field, words):
    description = describe_args(parse_args([*argv, "--describe"]))
    assert description["field"] == field and words in description["error"]


def test_a_damaged_session_file_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "broken.convplay"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    done = _run(str(path), "--describe")
    assert done.returncode == EXIT_REFUSED
    description = json.loads(done.stdout)
    assert description["field"] == "file" and description["error"].startswith("broken.convplay: ")
    assert description["error"] in done.stderr.decode("utf-8") and _modules(done.stderr) == []


@pytest.mark.parametrize("content", [None, b"{\"format\": \"not convplay\"}", b"{\"format\": \"convplay\", \"version\": 9}"])
def test_a_refused_session_file_is_blamed_on_the_file(content, tmp_path):
    path = tmp_path / "lecture.convplay"
    if content is not None:  # None: the file is not there
        path.write_bytes(content)
    description = describe_args(parse_args([str(path), "--describe"]))
    assert description["field"] == "file" and description["error"].startswith("lecture.convplay: ")
    assert set(description) == {"error", "field"}


def test_the_help_states_the_limits_start_up_checks():
    from convplay.cli import build_parser
    from convplay.core.kernel_io import LIMITS
    from convplay.startup import MAX_BLANK_VALUES

    text = " ".join(build_parser().format_help().split())
    from convplay.core.image_io import MAX_WORKING_SIZE

    side = MAX_WORKING_SIZE
    assert f"1 to {MAX_BLANK_CHANNELS} channels, 1 to {side} px a side, at most 3x{side}x{side} values" in text
    assert MAX_BLANK_VALUES == 3 * side * side
    assert f"the kernel's size, 1 to {LIMITS.max_spatial} a side" in text


# -- the words of counts -----------------------------------------------------------------

@pytest.mark.parametrize(
    "argv, words",
    [
        (["--input-shape", "1,4,4", "--out-channels", "2", "--groups", "2"], "1 input channel can't be split into 2 groups"),
        (["--input-shape", "3,4,4", "--out-channels", "3", "--groups", "2"], "3 input channels can't be split into 2 groups"),
        (["--input-shape", "2,4,4", "--out-channels", "1", "--groups", "2"], "1 output channel can't be split into 2 groups"),
        (["--input-shape", "2,4,4", "--out-channels", "3", "--groups", "2"], "3 output channels can't be split into 2 groups"),
    ],
)
def test_a_channel_count_that_groups_can_t_split_is_singular_or_plural_as_it_should_be(argv, words):
    description = describe_args(parse_args([*argv, "--describe"]))
    assert words in description["error"] and description["field"] == "groups"
    assert _module({"in_channels": int(argv[1][0]), "out_channels": int(argv[3]), "kernel_size": 3, "groups": 2},
                   False).__class__ is ValueError  # PyTorch refuses it too


def test_the_fully_connected_row_counts_its_biases():
    one = describe_args(parse_args(["--sample", "tutorial_x", "--kernel", "x_shape", "--describe"]))
    assert "fully connected: 26 = 5·5·1·1 weights + 1 bias (2.6× more)" in one["table"]
    assert "parameters: 10 = 1·1·3·3 weights + 1 bias" in one["table"]
    three = describe_args(parse_args(["--input-shape", "1,5,5", "--out-channels", "3", "--describe"]))
    linear = torch.nn.Linear(25, 3, device="meta")
    assert linear.bias.numel() == 3
    assert f"fully connected: {sum(p.numel() for p in linear.parameters())} = 5·5·1·3 weights + 3 biases (2.6× more)" \
        in three["table"]
    assert "parameters: 30 = 3·1·3·3 weights + 3 biases" in three["table"]
    bare = describe_args(parse_args(["--input-shape", "1,5,5", "--no-bias", "--describe"]))
    assert "fully connected: 25 = 5·5·1·1 weights (2.8× more)" in bare["table"]


@pytest.mark.parametrize(
    "argv, field",
    [
        (["--input-shape", "1,4,4", "--dilation", "3"], "dilation"),  # a 3×3 kernel fits; dilated by 3 it spans 7
        (["--input-shape", "1,4,4", "--kernel-size", "5"], "kernel_size"),  # the kernel alone is too big
        (["--input-shape", "1,4,4", "--kernel-size", "5", "--dilation", "2"], "kernel_size"),
        (["--input-shape", "1,9,4", "--kernel-size", "3,2", "--dilation", "1,4"], "dilation"),  # the width axis
    ],
)
def test_a_kernel_too_large_blames_what_makes_it_so_in_the_description_and_the_params_panel(argv, field, qtbot):
    from convplay.qt.panels.params_panel import ParamsPanel

    c, h, w = (int(v) for v in argv[1].split(","))
    kwargs = {"in_channels": c, "out_channels": 1, "kernel_size": 3, "dilation": 1}
    for option, name in (("--kernel-size", "kernel_size"), ("--dilation", "dilation")):
        if option in argv:
            kwargs[name] = _pair(_arg_value(argv[argv.index(option) + 1]))
    assert isinstance(_torch_output_shape(_module(kwargs, False), (c, h, w)), Exception)  # PyTorch refuses
    description = describe_args(parse_args([*argv, "--describe"]))
    assert description["field"] == field and description["option"] == "--" + field.replace("_", "-")
    session, _ = initial_session(parse_args(argv))
    panel = ParamsPanel(session, None)
    qtbot.addWidget(panel)
    assert panel.invalid_field() == field


def _arg_value(text: str):
    parts = tuple(int(v) for v in text.split(","))
    return parts[0] if len(parts) == 1 else parts


def test_a_spec_prints_the_same_from_the_options_a_session_file_and_a_lesson(tmp_path):
    from convplay.core.session_file import SessionDocument, state_of, write_document

    plain = describe_args(parse_args(["--sample", "tutorial_x", "--kernel", "x_shape", "--describe"]))
    assert {name: plain["spec"][name] for name in PAIR_FIELDS} == {
        "kernel_size": 3, "stride": 1, "padding": 0, "dilation": 1, "output_padding": 0}
    lesson_step = describe_args(parse_args(["--lesson", "tutorials", "--lesson-step", "1", "--describe"]))[0]
    assert {k: v for k, v in lesson_step["spec"].items() if k != "bias"} == {
        k: v for k, v in plain["spec"].items() if k != "bias"}
    uneven, _ = initial_session(parse_args(["--input-shape", "1,9,9", "--kernel-size", "3,1", "--stride", "2,2",
                                            "--padding", "1,0", "--dilation", "1,2"]))
    path = tmp_path / "uneven.convplay"
    write_document(path, SessionDocument("session", title="", state=state_of(uneven)))
    for described in (describe_session(uneven), describe_args(parse_args([str(path), "--describe"]))):
        spec = described["spec"]
        assert (spec["kernel_size"], spec["stride"], spec["padding"], spec["dilation"]) == ([3, 1], 2, [1, 0], [1, 2])
        assert described["output_shape"] == _torch_shape_from_json_spec(spec, (1, 9, 9))


def test_the_help_states_how_the_spec_prints():
    from convplay.cli import build_parser

    text = " ".join(build_parser().format_help().split())
    assert "kernel_size, stride, padding, dilation and output_padding as N when both axes agree, else [H, W]" in text


@pytest.mark.parametrize(
    "argv, field, words",
    [
        (["--input-shape", "0,4,4"], "input_shape", "argument --input-shape: every size must be at least 1"),
        (["--steps", "5:3"], "steps", "argument --steps: the range ends before it starts"),
        (["--stride", "two"], "stride", "argument --stride:"),
        (["--no-such-option"], "arguments", "unrecognized arguments: --no-such-option"),
    ],
)
def test_a_parse_error_with_describe_is_json_too(argv, field, words):
    done = _run(*argv, "--describe")
    assert done.returncode == 2
    refusal = json.loads(done.stdout.decode("utf-8"))
    assert set(refusal) == {"error", "field"} and refusal["field"] == field
    error = refusal["error"]
    assert error.startswith(words)
    stderr = done.stderr.decode("utf-8")
    assert stderr.startswith("usage: ") and f"error: {error}" in stderr  # argparse's own words, as ever
    abbreviated = _run(*argv, "--des")  # argparse takes the unique abbreviation: so does this
    assert abbreviated.returncode == 2 and json.loads(abbreviated.stdout)["field"] == field
    plain = _run(*argv)  # without --describe: argparse alone, nothing on stdout
    assert plain.returncode == 2 and plain.stdout == b"" and f"error: {error}" in plain.stderr.decode("utf-8")
