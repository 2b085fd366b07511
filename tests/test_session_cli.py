"""``--save-session OUT`` writes what the options set up (reopened, it is the same state),
without a window and without importing Qt; ``convplay FILE.convplay`` opens a session or a
lesson's step (``startup.opened_document``), a refused file with the reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from convplay.__main__ import main
from convplay.cli import parse_args
from convplay.core.session_file import (
    LessonStep,
    SessionDocument,
    ViewState,
    document_json,
    read_document,
    session_from_state,
    state_of,
    write_document,
)
from convplay.startup import StartupError, initial_session, opened_document

ROOT = Path(__file__).resolve().parents[1]

OPTION_SETS = [
    ["--sample", "tutorial_x", "--kernel", "x_shape", "--no-bias"],
    ["--sample", "chelsea", "--size", "32", "--out-channels", "2", "--stride", "2", "--padding", "same",
     "--padding-mode", "reflect"],
    ["--sample", "camera", "--size", "24", "--transposed", "--stride", "2", "--output-padding", "1",
     "--true-convolution", "--kernel", "sobel_y"],
    ["--sample", "tutorial_multi_in", "--groups", "3", "--out-channels", "3", "--kernel", "box3", "--dilation", "1,2"],
    ["--input-shape", "2,9,7", "--kernel", "box5", "--padding", "2"],
]


def same_state(a, b) -> None:
    assert a.image.tobytes() == b.image.tobytes() and a.image.shape == b.image.shape
    assert a.spec == b.spec
    assert a.weight.tobytes() == b.weight.tobytes() and a.weight.shape == b.weight.shape
    assert a.bias_values.tobytes() == b.bias_values.tobytes()
    assert (a.true_convolution, a.kernel_name, a.working_size) == (b.true_convolution, b.kernel_name, b.working_size)
    if a.source is not None and a.source.sample is not None:
        assert b.source.sample.key == a.source.sample.key


@pytest.mark.parametrize("options", OPTION_SETS)
def test_save_session_writes_the_state_the_options_set_up(tmp_path, options, capsys):
    out = tmp_path / "s.convplay"
    assert main([*options, "--save-session", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    doc, warnings = read_document(out)
    assert warnings == [] and doc.kind == "session"
    expected, _ = initial_session(parse_args(options))
    same_state(session_from_state(doc.state), expected)
    assert doc.state.view == ViewState()


def test_the_view_options_are_saved(tmp_path):
    out = tmp_path / "v.convplay"
    assert main(["--sample", "tutorial_x", "--step", "4", "--workspace", "sliding", "--device", "cpu",
                 "--dtype", "float64", "--save-session", str(out)]) == 0
    doc, _ = read_document(out)
    assert doc.state.view == ViewState(animation_step=4, workspace="sliding", device="cpu", dtype="float64")
    assert main(["--sample", "tutorial_x", "--focus", "--save-session", str(out)]) == 0
    assert read_document(out)[0].state.view.workspace == "focus"


def test_a_session_file_saved_again_keeps_its_state(tmp_path):
    first, second = tmp_path / "a.convplay", tmp_path / "b.convplay"
    assert main([*OPTION_SETS[2], "--step", "2", "--save-session", str(first)]) == 0
    assert main([str(first), "--workspace", "formula", "--save-session", str(second)]) == 0
    a, b = read_document(first)[0].state, read_document(second)[0].state
    same_state(session_from_state(a), session_from_state(b))
    assert b.view == ViewState(animation_step=2, workspace="formula")


@pytest.mark.parametrize(
    "options, words",
    [
        (["--save-session", "{tmp}/missing/s.convplay"], ("does not exist",)),
        (["--save-session", "{tmp}"], ("is a folder",)),
        (["--sample", "camera", "--size", "5", "--save-session", "{tmp}/s.convplay"], ("--size",)),
        (["--sample", "mona_lisa", "--save-session", "{tmp}/s.convplay"], ("mona_lisa",)),
        (["{tmp}/broken.convplay", "--save-session", "{tmp}/s.convplay"], ("broken.convplay", "damaged")),
    ],
)
def test_save_session_refuses_with_exit_2_and_the_reason(tmp_path, options, words, capsys):
    (tmp_path / "broken.convplay").write_bytes(b"PK\x03\x04 not really a zip")
    assert main([o.replace("{tmp}", str(tmp_path)) for o in options]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convplay: ")
    for word in words:
        assert word in err
    assert not (tmp_path / "s.convplay").exists()


def test_save_session_does_not_import_qt(tmp_path):
    out = tmp_path / "q.convplay"
    code = (
        "import sys\n"
        "from convplay.__main__ import main\n"
        f"rc = main(['--sample', 'tutorial_x', '--save-session', {str(out)!r}])\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'convplay.qt.app')))\n"
        "print(rc, qt)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []"
    assert f"convplay: saved {out}" in result.stderr
    assert read_document(out)[0].kind == "session"


# -- convplay FILE.convplay ---------------------------------------------------------------------------


def _lesson(tmp_path) -> Path:
    session, _ = initial_session(parse_args(["--sample", "tutorial_x"]))
    step = LessonStep("one", "", "", (), (), None, None, state_of(session))
    path = tmp_path / "lesson.json"
    path.write_text(document_json(SessionDocument("lesson", "L", "", None, (step, step, step))))
    return path


def test_opened_document_reads_sessions_and_lesson_steps(tmp_path):
    assert opened_document(parse_args([])) is None
    assert opened_document(parse_args(["photo.png"])) is None
    path = tmp_path / "s.convplay"
    session, _ = initial_session(parse_args(OPTION_SETS[0]))
    write_document(path, SessionDocument("session", state=state_of(session)))
    doc, index = opened_document(parse_args([str(path)]))
    assert (doc.kind, index) == ("session", 0)
    same_state(session_from_state(doc.state), session)
    lesson = _lesson(tmp_path)
    assert opened_document(parse_args([str(lesson)]))[1] == 0
    assert opened_document(parse_args([str(lesson), "--lesson-step", "3"]))[1] == 2
    with pytest.raises(StartupError, match="3 steps"):
        opened_document(parse_args([str(lesson), "--lesson-step", "4"]))
    with pytest.raises(StartupError, match="is a session, not a lesson"):
        opened_document(parse_args([str(path), "--lesson-step", "2"]))


def test_opened_document_refuses_with_the_reason_and_prints_warnings(tmp_path, capsys):
    newer = tmp_path / "newer.convplay"
    newer.write_text(json.dumps({"format": "convplay", "version": 2, "kind": "session"}))
    with pytest.raises(StartupError, match="newer.convplay: this file was made by a newer convplay"):
        opened_document(parse_args([str(newer)]))
    with pytest.raises(StartupError, match="cannot read"):
        opened_document(parse_args([str(tmp_path / "missing.convplay")]))
    lesson = _lesson(tmp_path)
    tree = json.loads(lesson.read_text())
    tree["speaker"] = "me"
    lesson.write_text(json.dumps(tree))
    doc, _ = opened_document(parse_args([str(lesson)]))
    assert doc.kind == "lesson"
    assert "convplay: lesson.json: unknown key 'speaker' in the document ignored" in capsys.readouterr().err
