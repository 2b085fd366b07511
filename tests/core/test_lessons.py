"""The built-in lessons: every step loads, is valid, and says what PyTorch computes.

PyTorch is the oracle, called with each step's spec fields as the lesson file writes them
(F.conv2d / F.conv_transpose2d, padding='same' as F.conv2d does it) on the step's arrays.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convplay.core.lessons import (
    LessonInfo,
    LessonNotFound,
    builtin_lessons,
    lesson_path,
    list_lines,
    load_lesson,
)
from convplay.core.session_file import read_document
from convplay.core.spec import ConvSpec
from convplay.startup import StartupError, lesson_document

ROOT = Path(__file__).resolve().parents[2]
LESSONS_DIR = ROOT / "resources" / "lessons"
IDS = ("arithmetic", "tutorials", "edges", "matrix")
FILES = {path.stem: path for path in sorted(LESSONS_DIR.glob("*.json"))}
RAW = {lesson_id: json.loads(path.read_text(encoding="utf-8")) for lesson_id, path in FILES.items()}
STEPS = [(lesson_id, n) for lesson_id in FILES for n in range(len(RAW[lesson_id]["steps"]))]
_DOCUMENTS: dict = {}

# The table of the guide's relationships: (i, k, s, p, d, output size); for the
# transposed cases 8-14 also i′ (the transposed layer's input) and a (output_padding).
GUIDE = {
    1: {"i": 4, "k": 3, "s": 1, "p": 0, "d": 1, "o": 2},
    2: {"i": 5, "k": 4, "s": 1, "p": 2, "d": 1, "o": 6},
    3: {"i": 5, "k": 3, "s": 1, "p": 1, "d": 1, "o": 5},
    4: {"i": 5, "k": 3, "s": 1, "p": 2, "d": 1, "o": 7},
    5: {"i": 5, "k": 3, "s": 2, "p": 0, "d": 1, "o": 2},
    6: {"i": 5, "k": 3, "s": 2, "p": 1, "d": 1, "o": 3},
    7: {"i": 5, "k": 3, "s": 1, "p": 0, "d": 1, "o": 3},
    8: {"i": 4, "k": 3, "s": 1, "p": 0, "d": 1, "o": 4, "i_prime": 2, "a": 0, "p_prime": 2},
    9: {"i": 5, "k": 4, "s": 1, "p": 2, "d": 1, "o": 5, "i_prime": 6, "a": 0, "p_prime": 1},
    10: {"i": 5, "k": 3, "s": 1, "p": 1, "d": 1, "o": 5, "i_prime": 5, "a": 0, "p_prime": 1},
    11: {"i": 5, "k": 3, "s": 1, "p": 2, "d": 1, "o": 5, "i_prime": 7, "a": 0, "p_prime": 0},
    12: {"i": 5, "k": 3, "s": 2, "p": 0, "d": 1, "o": 5, "i_prime": 2, "a": 0, "p_prime": 2},
    13: {"i": 5, "k": 3, "s": 2, "p": 1, "d": 1, "o": 5, "i_prime": 3, "a": 0, "p_prime": 1},
    14: {"i": 6, "k": 3, "s": 2, "p": 1, "d": 1, "o": 6, "i_prime": 3, "a": 1, "p_prime": 1},
    15: {"i": 7, "k": 3, "s": 1, "p": 0, "d": 2, "o": 3},
}


def document(lesson_id: str):
    if lesson_id not in _DOCUMENTS:
        _DOCUMENTS[lesson_id] = read_document(FILES[lesson_id])
    return _DOCUMENTS[lesson_id]


def raw_spec(lesson_id: str, n: int) -> dict:
    return RAW[lesson_id]["steps"][n]["state"]["spec"]


def torch_output(lesson_id: str, n: int) -> torch.Tensor:
    """The step's output by PyTorch, from the file's spec fields and the step's arrays."""
    raw = raw_spec(lesson_id, n)
    snap = document(lesson_id)[0].steps[n].state.snapshot
    x = torch.from_numpy(np.array(snap.image, dtype=np.float64))[None]
    w = torch.from_numpy(np.array(snap.weight, dtype=np.float64))
    b = torch.from_numpy(np.array(snap.bias, dtype=np.float64)) if raw["bias"] else None
    assert raw["padding_mode"] == "zeros"  # no lesson pads otherwise; F.pad would be needed
    stride, dilation, groups = tuple(raw["stride"]), tuple(raw["dilation"]), raw["groups"]
    padding = raw["padding"] if isinstance(raw["padding"], str) else tuple(raw["padding"])
    if raw["transposed"]:
        return F.conv_transpose2d(x, w, b, stride, padding, tuple(raw["output_padding"]), groups, dilation)[0]
    with warnings.catch_warnings():
        # PyTorch says it pads an even kernel's 'same' by a padded copy: what step 16 teaches
        warnings.filterwarnings("ignore", "Using padding='same' with even kernel", UserWarning)
        return F.conv2d(x, w, b, stride, padding, dilation, groups)[0]


def torch_pooled(lesson_id: str, n: int) -> torch.Tensor:
    """A pooling step's output by PyTorch, from the file's pooling fields and the step's input."""
    raw = dict(RAW[lesson_id]["steps"][n]["pooling"])
    snap = document(lesson_id)[0].steps[n].state.snapshot
    x = torch.from_numpy(np.array(snap.image, dtype=np.float64))[None]
    kind = raw.pop("kind")
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    pool = {"max": F.max_pool2d, "avg": F.avg_pool2d, "adaptive_max": F.adaptive_max_pool2d,
            "adaptive_avg": F.adaptive_avg_pool2d}[kind]
    return pool(x, **args)[0]


def steps_of(lesson_id: str) -> list[dict]:
    return RAW[lesson_id]["steps"]


# -- the files --------------------------------------------------------------------------------


def test_the_four_lessons_ship():
    assert set(FILES) == set(IDS)


@pytest.mark.parametrize("lesson_id", IDS)
def test_each_lesson_reads_without_warnings(lesson_id):
    doc, warnings = document(lesson_id)
    assert warnings == []
    assert doc.kind == "lesson" and doc.title == RAW[lesson_id]["title"]
    assert len(doc.steps) == len(steps_of(lesson_id)) >= 1
    for step in doc.steps:
        assert step.title and step.caption
        assert step.expected_output_shape is not None  # every step claims its output's shape


@pytest.mark.parametrize("lesson_id, n", STEPS)
def test_step_is_valid_and_its_output_is_what_it_claims(lesson_id, n):
    step = document(lesson_id)[0].steps[n]
    snap = step.state.snapshot
    snap.spec.validate(snap.image.shape)
    out = torch_output(lesson_id, n)
    assert list(out.shape) == steps_of(lesson_id)[n]["expect"]["output_shape"]
    assert tuple(out.shape) == snap.spec.output_shape(snap.image.shape)
    claimed = steps_of(lesson_id)[n]["expect"].get("output")
    if "pooling" in steps_of(lesson_id)[n]:  # a pooling step claims the pooling's output
        out = torch_pooled(lesson_id, n)
        assert list(out.shape) == steps_of(lesson_id)[n]["expect"]["output_shape"]
    if claimed is not None:
        claimed = np.array(claimed, dtype=np.float64)
        got = out.numpy() if claimed.ndim == 3 else out[0].numpy()
        np.testing.assert_array_equal(got, claimed)
    # the file's spec is the snapshot's spec: nothing was dropped in reading
    raw = raw_spec(lesson_id, n)
    assert ConvSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}) == snap.spec


OUTPUT_LINE = re.compile(r"^o′? = .*= (\d[\d,]*)$")


@pytest.mark.parametrize("lesson_id, n", STEPS)
def test_formula_lines_end_in_the_output_size(lesson_id, n):
    """Every line giving o (or o′) with a number at the end gives torch's output size."""
    out = torch_output(lesson_id, n)
    for line in steps_of(lesson_id)[n].get("formula", []):
        match = OUTPUT_LINE.match(line)
        if match:
            size = int(match.group(1).replace(",", ""))
            assert size == out.shape[1] == out.shape[2], line


_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}


def _integer_value(expression: str) -> int | None:
    """The value of a filled-in expression such as ⌊(5 + 2·1 − 3)/2⌋ + 1, or None where it
    still has letters in it (a relationship, not numbers)."""
    text = (expression.replace("−", "-").replace("·", "*").replace("×", "*").replace("mod", "%")
            .replace("/", "//").replace("⌊", "(").replace("⌋", ")"))
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None

    def value(node):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = value(node.left), value(node.right)
            return None if left is None or right is None else _OPERATORS[type(node.op)](left, right)
        return None

    return value(tree)


@pytest.mark.parametrize("lesson_id, n", STEPS)
def test_formula_arithmetic_is_right(lesson_id, n):
    """Every "… = numbers = N" in a formula line (clause by clause) computes to N."""
    checked = 0
    for line in steps_of(lesson_id)[n].get("formula", []):
        for clause in line.split(", "):
            parts = [part.strip() for part in clause.split("=")]
            if len(parts) < 3 or not re.fullmatch(r"\d+", parts[-1]):
                continue
            value = _integer_value(parts[-2])
            if value is not None:
                assert value == int(parts[-1]), clause
                checked += 1
    if lesson_id == "arithmetic":  # every relationship is shown with its numbers
        assert checked >= 1


def test_every_step_of_the_arithmetic_has_an_output_line():
    for step in steps_of("arithmetic"):
        assert any(OUTPUT_LINE.match(line) for line in step["formula"]), step["title"]


# -- the guide's table ------------------------------------------------------------------------


def test_arithmetic_follows_the_guide_in_its_order():
    steps = steps_of("arithmetic")
    assert len(steps) == 16
    for number, step in enumerate(steps, 1):
        assert step["title"].startswith(f"{number} · ")


@pytest.mark.parametrize("number", sorted(GUIDE))
def test_arithmetic_uses_the_figures_numbers(number):
    row = GUIDE[number]
    n = number - 1
    raw = raw_spec("arithmetic", n)
    snap = document("arithmetic")[0].steps[n].state.snapshot
    assert raw["kernel_size"] == [row["k"]] * 2 and raw["stride"] == [row["s"]] * 2
    assert raw["padding"] == [row["p"]] * 2 and raw["dilation"] == [row["d"]] * 2
    out = torch_output("arithmetic", n)
    assert tuple(out.shape) == (1, row["o"], row["o"])
    if "i_prime" in row:
        assert raw["transposed"] and raw["output_padding"] == [row["a"]] * 2
        assert snap.image.shape == (1, row["i_prime"], row["i_prime"])
        # i′ is what the direct convolution makes of i; a is what its floor dropped
        direct = F.conv2d(torch.zeros(1, 1, row["i"], row["i"]), torch.zeros(1, 1, row["k"], row["k"]),
                          stride=row["s"], padding=row["p"])
        assert direct.shape[-1] == row["i_prime"]
        assert row["a"] == (row["i"] + 2 * row["p"] - row["k"]) % row["s"]
        text = " ".join(steps_of("arithmetic")[n]["formula"])
        assert f"i′ = {row['i_prime']}" in text and f"a = {row['a']}" in text
        # p′ = k − p − 1 etc. as the guide has it, with its value
        values = {v for line in steps_of("arithmetic")[n]["formula"]
                  for v in re.findall(r"p′ = (?:[^,=()]* = )?(\d+)", line)}
        assert values == {str(row["p_prime"])}
        assert row["p_prime"] == row["k"] - row["p"] - 1
        if row["s"] > 1:
            stretched = row["i_prime"] + (row["i_prime"] - 1) * (row["s"] - 1)
            assert f"ĩ′ = {stretched}" in text
    else:
        assert not raw["transposed"]
        assert snap.image.shape == (1, row["i"], row["i"])


def test_step_6_also_holds_for_a_6x6_input():
    six = F.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), stride=2, padding=1)
    assert six.shape[-1] == 3
    assert any("i = 6" in line and line.endswith("= 3 as well (the last row and column are never read)")
               for line in steps_of("arithmetic")[5]["formula"])


def test_step_7_is_average_pooling_in_the_pooling_view_and_its_convolution_gives_the_same_means():
    step = steps_of("arithmetic")[6]
    assert (step["pooling"]["kind"], step["pooling"]["kernel_size"], step["pooling"]["stride"]) == ("avg", 3, 1)
    assert step["state"]["view"]["workspace"] == "pooling"
    snap = document("arithmetic")[0].steps[6].state.snapshot
    pooled = F.avg_pool2d(torch.from_numpy(np.array(snap.image))[None], 3, stride=1)[0]
    torch.testing.assert_close(torch_output("arithmetic", 6), pooled)


def test_step_16_is_same_with_an_even_kernel_padded_1_before_and_2_after():
    raw = raw_spec("arithmetic", 15)
    assert raw["padding"] == "same" and raw["kernel_size"] == [4, 4] and raw["stride"] == [1, 1]
    snap = document("arithmetic")[0].steps[15].state.snapshot
    x = torch.from_numpy(np.array(snap.image))[None]
    w = torch.from_numpy(np.array(snap.weight))
    by_hand = F.conv2d(F.pad(x, (1, 2, 1, 2)), w)
    torch.testing.assert_close(torch_output("arithmetic", 15), by_hand[0], rtol=0, atol=0)
    assert snap.spec.pads() == (1, 2, 1, 2)


# -- the tutorials' numbers -------------------------------------------------------------------


def tutorial_step(title_start: str) -> tuple[int, dict]:
    for n, step in enumerate(steps_of("tutorials")):
        if step["title"].startswith(title_start):
            return n, step
    raise AssertionError(f"no step titled {title_start!r}")


def test_the_224_steps_count_parameters_as_torch_does():
    n, step = tutorial_step("224 → 224")
    conv = torch.nn.Conv2d(3, 64, 3, padding=1, device="meta")
    fc = torch.nn.Linear(3 * 224 * 224, 64, device="meta")
    conv_w, fc_w = conv.weight.numel(), fc.weight.numel()
    conv_all, fc_all = sum(p.numel() for p in conv.parameters()), sum(p.numel() for p in fc.parameters())
    assert (conv_w, fc_w) == (1728, 9_633_792)
    text = "\n".join(step["formula"])
    assert f"= {conv_w:,} weights (+ 64 biases = {conv_all:,})" in text
    assert f"= {fc_w:,} weights (+ 64 biases = {fc_all:,})" in text
    assert f"{conv_w:,}" in step["caption"] and f"{fc_w:,}" in step["caption"]
    assert document("tutorials")[0].steps[n].state.snapshot.image.shape == (3, 224, 224)
    assert torch.nn.Conv2d(3, 1, 3, stride=1, padding=1)(torch.zeros(1, 3, 224, 224)).shape[-1] == 224
    assert torch.nn.Conv2d(3, 1, 5, stride=2, padding=2)(torch.zeros(1, 3, 224, 224)).shape[-1] == 112
    n112, _ = tutorial_step("224 → 112")
    assert tuple(torch_output("tutorials", n112).shape) == (1, 112, 112)


def test_the_28_steps():
    for title, size in (("28 → 28", 28), ("28 → ?", 26)):
        n, _ = tutorial_step(title)
        assert document("tutorials")[0].steps[n].state.snapshot.image.shape == (1, 28, 28)
        assert torch_output("tutorials", n).shape[-1] == size


@pytest.mark.parametrize("groups, per_group", [(1, 6), (2, 3), (3, 2)])
def test_weight_shapes_with_groups_are_torchs(groups, per_group):
    n, step = tutorial_step(f"Weight shape with groups = {groups}")
    conv = torch.nn.Conv2d(6, 12, 1, groups=groups)
    assert tuple(conv.weight.shape) == (12, per_group, 1, 1)
    assert document("tutorials")[0].steps[n].state.snapshot.weight.shape == tuple(conv.weight.shape)
    assert f"(12, {per_group}, 1, 1)" in step["formula"][1]


def test_the_x_example_gives_the_tutorials_numbers():
    _n, step = tutorial_step("The 5×5 X")
    assert step["state"]["input"]["sample"] == "tutorial_x"
    assert step["expect"]["output"] == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    assert step["state"]["weight"]["data"] == [[[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]]]


def test_the_vertical_edge_step_gives_the_tutorials_target():
    n, step = tutorial_step("Vertical edges")
    assert step["state"]["input"]["sample"] == "tutorial_tens"
    np.testing.assert_array_equal(torch_output("tutorials", n)[0].numpy(), [[0.0, 30.0, 30.0, 0.0]] * 4)


def test_the_max_pooling_step_gives_8_6_9_9_in_the_pooling_workspace():
    n, step = tutorial_step("Max pooling a 4×4 to 2×2")
    assert step["state"]["input"]["sample"] == "tutorial_pool"
    assert step["state"]["view"]["workspace"] == "pooling"
    assert step["pooling"]["kind"] == "max" and step["pooling"]["kernel_size"] == 2 and step["pooling"]["stride"] is None
    pooled = torch.nn.MaxPool2d(2)(torch.from_numpy(np.array(document("tutorials")[0].steps[n].state.snapshot.image))[None])
    np.testing.assert_array_equal(pooled[0, 0].numpy(), [[8, 6], [9, 9]])
    assert step["expect"]["output"] == [[8, 6], [9, 9]] and "8, 6, 9 and 9" in step["caption"]
    assert "maxima" in step["ask"]
    read = document("tutorials")[0].steps[n].pooling
    assert read is not None and read.code() == "nn.MaxPool2d(2)"


def test_edges_are_on_the_camera_photo():
    titles = [step["title"] for step in steps_of("edges")]
    assert titles == ["Identity", "Box blur", "Sobel x", "Sobel y", "Laplacian"]
    for step in steps_of("edges"):
        assert step["state"]["input"]["sample"] == "camera"
        assert step["state"]["view"]["workspace"] == "explore"


def _grey(values: np.ndarray) -> np.ndarray:
    """What 'image_clip' draws: 0 black, 1 white, beyond clipped (core.display's docstring)."""
    return np.clip(values, 0.0, 1.0)


@pytest.mark.parametrize("n, mode", [(0, "raw"), (1, "raw"), (2, "abs"), (3, "abs"), (4, "abs")])
def test_edge_outputs_show_strongly_on_a_projector(n, mode):
    """Each step says how its output is drawn: the photos as grey pictures, the edge
    responses as |x| on the same grey scale, flat areas black and edges bright."""
    from convplay.core.display import MAPPINGS, MODES

    output = steps_of("edges")[n]["state"]["view"]["output"]
    assert output == {"channel": 0, "mode": mode, "mapping": "image_clip"}
    assert output["mode"] in MODES and output["mapping"] in MAPPINGS
    view = document("edges")[0].steps[n].state.view  # read back as the app reads it
    assert (view.output_mode, view.output_mapping) == (mode, "image_clip")
    out = torch_output("edges", n)[0].numpy()
    image = document("edges")[0].steps[n].state.snapshot.image[0]
    if mode == "raw":
        # a photo stays a photo: its own 0..1 greys, nothing clipped
        assert 0 <= out.min() and out.max() <= 1 + 1e-12
        if n == 0:
            np.testing.assert_array_equal(_grey(out), image[1:-1, 1:-1])
        return
    shown = _grey(np.abs(out))
    assert np.median(shown) < 0.1  # flat areas dark
    assert np.percentile(shown, 99) > 0.5  # edges bright
    # brighter than the diverging map scaled to the largest |x| would draw them (its white centre
    # at 0: an edge's colour strength there is |x| / max|x|)
    assert np.percentile(shown, 95) > 1.5 * np.percentile(np.abs(out) / np.abs(out).max(), 95)


# Each "ask the class" step's answers; its title must not say them.
ANSWERS = {
    ("arithmetic", 0): ["2"], ("arithmetic", 4): ["2"], ("arithmetic", 7): ["4"], ("arithmetic", 13): ["6"],
    ("arithmetic", 15): ["4", "bottom", "right"],
    ("tutorials", 0): ["4"], ("tutorials", 3): ["30", "middle", "centre"], ("tutorials", 12): ["26"],
    ("tutorials", 13): ["8", "6", "9"], ("matrix", 0): ["4", "16"],
}


def test_an_ask_steps_title_keeps_the_answer_for_the_reveal():
    asked = {(lesson_id, n) for lesson_id, n in STEPS if steps_of(lesson_id)[n]["ask"]}
    assert asked == set(ANSWERS)
    for (lesson_id, n), answers in ANSWERS.items():
        step = steps_of(lesson_id)[n]
        title = re.sub(r"^\d+ · ", "", step["title"])  # the guide's case number is not an answer
        words = set(re.findall(r"\w+", title.lower()))
        ask = step["ask"]
        if "size" in ask:
            h, w = step["expect"]["output_shape"][1:]
            answers = [*answers, str(h), str(w)]
            assert "same" not in words, (lesson_id, n, title)  # 'same' would say: as large as the input
        assert not words & set(answers), (lesson_id, n, title)
        if "size" in ask or "value" in ask:  # the formula panel would say it too
            assert "formula" in step["hide"], (lesson_id, n)


def test_step_16_asks_which_window_holds_the_fewest_values():
    step = steps_of("arithmetic")[15]
    assert "fewest input values" in step["ask"]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same' with even kernel", UserWarning)
        counts = F.conv2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 4, 4), padding="same")[0, 0]
    assert counts.min() == counts[-1, -1] == 4 and counts[0, 0] == 9
    assert "bottom-right output's window holds only 2×2 = 4 input values, against 3×3 = 9 at the top left" \
        in step["caption"]


# -- the generator ----------------------------------------------------------------------------


def test_the_generator_gives_the_committed_files_byte_for_byte():
    spec = importlib.util.spec_from_file_location("make_lessons", ROOT / "tools" / "make_lessons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    texts = module.texts()
    assert set(texts) == set(FILES)
    for lesson_id, text in texts.items():
        assert FILES[lesson_id].read_bytes() == text.encode("utf-8"), f"{lesson_id}: run python tools/make_lessons.py"


# -- core.lessons ------------------------------------------------------------------------------


def test_builtin_lessons_in_teaching_order():
    infos = builtin_lessons()
    assert [info.id for info in infos] == list(IDS)
    assert all(isinstance(info, LessonInfo) for info in infos)
    assert [info.n_steps for info in infos] == [len(steps_of(i)) for i in IDS]
    assert infos[0].title == "Convolution arithmetic" and infos[0].path == lesson_path("arithmetic")
    assert [info.description for info in infos] == [RAW[i]["description"] for i in IDS]


def test_load_lesson_and_an_unknown_id():
    doc = load_lesson("edges")
    assert doc.title == "Edge detectors by hand" and len(doc.steps) == 5
    with pytest.raises(LessonNotFound) as info:
        load_lesson("nope")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "there is no built-in lesson 'nope'; the lessons are: arithmetic, tutorials, edges, matrix"


def test_list_lines():
    assert list_lines() == [
        "arithmetic\tConvolution arithmetic\t16 steps",
        "tutorials\tFrom the tutorials\t14 steps",
        "edges\tEdge detectors by hand\t5 steps",
        "matrix\tConvolution as a matrix\t6 steps",
    ]


def test_list_lessons_command_imports_no_qt():
    code = (
        "import sys\n"
        "from convplay.__main__ import main\n"
        "rc = main(['--list-lessons'])\n"
        "heavy = [m for m in ('PySide6', 'pyqtgraph', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t") for line in lines] == [
        ["arithmetic", "Convolution arithmetic", "16 steps"],
        ["tutorials", "From the tutorials", "14 steps"],
        ["edges", "Edge detectors by hand", "5 steps"],
        ["matrix", "Convolution as a matrix", "6 steps"],
    ]


# -- startup ------------------------------------------------------------------------------------


def args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"image": None, "lesson": None, "lesson_step": None, **kw})


def test_lesson_document_for_startup():
    assert lesson_document(args()) is None
    doc, index = lesson_document(args(lesson="arithmetic"))
    assert index == 0 and len(doc.steps) == 16
    doc, index = lesson_document(args(lesson="arithmetic", lesson_step=16))
    assert index == 15 and doc.steps[index].title.startswith("16 · ")
    assert lesson_document(args(image="lesson.convplay", lesson_step=3)) is None  # opened_document's


@pytest.mark.parametrize(
    "kw, reason",
    [
        ({"lesson": "nope"}, "there is no built-in lesson 'nope'; the lessons are: arithmetic, tutorials, edges, matrix"),
        ({"lesson": "arithmetic", "lesson_step": 17}, "there are 16 steps (1 to 16)"),
        ({"lesson_step": 2}, "--lesson-step needs --lesson ID or a lesson file"),
        ({"lesson": "edges", "image": "photo.png"}, "give a file to open or --lesson, not both"),
    ],
)
def test_lesson_document_refusals(kw, reason):
    with pytest.raises(StartupError) as info:
        lesson_document(args(**kw))
    assert reason in str(info.value)


def test_a_damaged_or_extra_lesson_file(tmp_path, monkeypatch):
    from convplay.core import lessons
    from convplay.core.session_file import SessionFileError

    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "edges.json").write_bytes(FILES["edges"].read_bytes())
    (folder / "broken.json").write_text('{"format": "convplay", "steps": [', encoding="utf-8")
    extra = dict(RAW["edges"], title="Extra")
    (folder / "aaa_extra.json").write_text(json.dumps(extra), encoding="utf-8")
    monkeypatch.setattr(lessons, "resource_path", lambda *parts: tmp_path.joinpath(*parts))
    # the teaching order first, then the others by id; an unreadable file is not listed
    assert [info.id for info in builtin_lessons()] == ["edges", "aaa_extra"]
    with pytest.raises(SessionFileError):
        load_lesson("broken")
    with pytest.raises(StartupError, match="--lesson broken: "):
        lesson_document(args(lesson="broken"))
