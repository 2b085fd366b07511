"""Sessions through the window: File > Save session and Open session give back the same
state and PyTorch's same output; opening is one undo step; a refused file keeps the session
and its history and says why; recent files; the title names the file; a dropped file opens."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from convplay.core.session_file import ViewState, state_of
from convplay.qt import session_commands, session_io
from convplay.qt.zoom import text_zoom
from small_window import normal_look, open_window, settings_file  # noqa: F401 (normal_look: a fixture)

pytestmark = pytest.mark.usefixtures("normal_look")


@pytest.fixture
def window(qtbot, tmp_path):
    return open_window(qtbot, settings_file(tmp_path))


@pytest.fixture
def warnings_shown(monkeypatch):
    """Message boxes recorded instead of shown (a test must never block on one)."""
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append((args[1], args[2])))
    return shown


def wait_for_output(qtbot, window, shape=None):
    def fresh():
        out = window.results.current_output
        return out is not None and (shape is None or out.shape == tuple(shape))

    qtbot.waitUntil(fresh, timeout=30_000)
    return window.results.current_output


def pytorch_output(image, weight, bias, spec) -> np.ndarray:
    """F.conv2d on the arrays, with the spec's own fields (zeros padding, not transposed)."""
    out = F.conv2d(torch.from_numpy(np.asarray(image, np.float64))[None], torch.from_numpy(np.asarray(weight, np.float64)),
                   None if bias is None else torch.from_numpy(np.asarray(bias, np.float64)),
                   stride=spec.stride, padding=spec.padding, dilation=spec.dilation, groups=spec.groups)
    return out[0].numpy()


def same_values(a, b) -> bool:
    """Two snapshots holding the same state (arrays compared by value: undo may rebuild an
    equal image rather than keep the same object)."""
    return (a.spec == b.spec and a.true_convolution == b.true_convolution and a.working_size == b.working_size
            and np.array_equal(a.image, b.image) and np.array_equal(a.weight, b.weight)
            and np.array_equal(a.bias, b.bias) and a.kernel_name == b.kernel_name)


def set_up_a_case(window, qtbot):
    """A state unlike the window's first one: stride 2, padding 1, three output channels,
    random weights and bias, channel 2 shown as |x|, text at 115 %."""
    session = window.session
    rng = np.random.default_rng(11)
    spec = session.spec.replace(out_channels=3, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), bias=True)
    session.set_kernel(spec, rng.normal(size=(3, 1, 3, 2)), rng.normal(size=3), name="random")
    wait_for_output(qtbot, window, spec.output_shape(session.image.shape))
    window.output_panel.set_channel(2)
    window.output_panel.set_mode("abs")
    text_zoom().set_factor(1.15)


def test_save_and_open_give_the_same_state_and_pytorchs_same_output(window, qtbot, tmp_path):
    set_up_a_case(window, qtbot)
    session = window.session
    image, weight, bias, spec = session.image.copy(), session.weight.copy(), session.bias.copy(), session.spec
    path = tmp_path / "case.convplay"
    assert session_commands.save_session_to(window, str(path))
    assert path.is_file() and window.session_file.path == str(path)

    # Something else on screen, then the file again.
    session.set_kernel(spec.replace(out_channels=1, kernel_size=5, stride=1, padding=0, bias=False), np.ones((1, 1, 5, 5)))
    window.output_panel.set_mode("raw")
    text_zoom().set_factor(1.0)
    wait_for_output(qtbot, window, (1, 5, 4))
    assert session_commands.open_path(window, str(path))

    assert session.spec == spec
    np.testing.assert_array_equal(session.image, image)
    np.testing.assert_array_equal(session.weight, weight)
    np.testing.assert_array_equal(session.bias, bias)
    output = wait_for_output(qtbot, window, (3,) + spec.output_shape(image.shape)[1:])
    np.testing.assert_allclose(output, pytorch_output(image, weight, bias, spec), rtol=1e-5, atol=1e-5)
    assert window.output_panel.mode == "abs" and text_zoom().factor == pytest.approx(1.15)
    qtbot.waitUntil(lambda: window.output_panel.channel == 2, timeout=10_000)  # once its range has the channel


def test_undo_after_opening_brings_the_state_before_back(window, qtbot, tmp_path):
    set_up_a_case(window, qtbot)
    path = str(tmp_path / "case.convplay")
    assert session_commands.save_session_to(window, path)
    session = window.session
    session.set_spec(session.spec.replace(stride=1, padding=2))
    before = session.snapshot()
    steps = len(window.undo_stack)
    assert session_commands.open_path(window, path)
    assert session.spec.stride == (2, 1)
    assert len(window.undo_stack) == steps + 1 and window.undo_stack.undo_text == "Open case.convplay"
    window.actions_by_id["undo"].trigger()
    assert same_values(session.snapshot(), before)
    window.actions_by_id["redo"].trigger()
    assert session.spec.stride == (2, 1)


REFUSED = (
    (b"this is no session", "not a convplay session"),
    (b'{"format": "convplay", "version": 7, "kind": "session"}', "newer"),
    (b"PK\x03\x04 truncated", ""),
)


def test_a_refused_file_keeps_the_session_and_its_history_and_says_why(window, qtbot, tmp_path, warnings_shown):
    session = window.session
    session.set_weight(session.weight * 2)  # something in the history
    before, steps = session.snapshot(), len(window.undo_stack)
    for n, (content, reason) in enumerate(REFUSED):
        path = tmp_path / f"bad{n}.convplay"
        path.write_bytes(content)
        assert not session_commands.open_path(window, str(path))
        assert session.snapshot().same_as(before) and len(window.undo_stack) == steps
        assert len(warnings_shown) == n + 1
        title, text = warnings_shown[-1]
        assert title == "Cannot open the session" and path.name in text and reason in text
        assert "session on screen is kept" in text


def test_unknown_keys_are_a_warning_in_the_status_bar(window, qtbot, tmp_path, warnings_shown):
    doc = {"format": "convplay", "version": 1, "kind": "session", "title": "", "shiny": 1,
           "state": {"input": {"blank": [1, 6, 6]}, "spec": {"kernel_size": [3, 3]},
                     "weight": {"dtype": "float64", "shape": [1, 1, 3, 3], "data": [[[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]]},
                     "bias": None}}
    path = tmp_path / "odd.convplay"
    path.write_text(json.dumps(doc))
    assert session_commands.open_path(window, str(path))
    assert not warnings_shown
    assert window.session.image.shape == (1, 6, 6)
    assert "shiny" in window.statusBar().currentMessage()


def test_the_title_names_the_file_and_marks_a_change(window, qtbot, tmp_path):
    assert window.windowTitle() == session_commands.APP_TITLE
    path = str(tmp_path / "named.convplay")
    assert session_commands.save_session_to(window, path)
    assert window.windowTitle().startswith("named.convplay") and not window.isWindowModified()
    window.session.set_weight(window.session.weight * 3)
    assert window.isWindowModified()
    window.actions_by_id["save_session"].trigger()  # Ctrl+S: to the same file, no dialog
    assert not window.isWindowModified()
    assert window.actions_by_id["save_session"].shortcuts()[0].toString() == "Ctrl+S"


def test_recent_sessions_list_the_last_files_missing_ones_greyed_and_clear(window, qtbot, tmp_path):
    paths = [tmp_path / f"s{n}.convplay" for n in range(10)]
    for path in paths:
        assert session_commands.save_session_to(window, str(path))
    recent = session_commands.recent_paths(window)
    assert recent == [str(p.resolve()) for p in reversed(paths)][: session_commands.RECENT_COUNT]
    paths[-2].unlink()
    menu = window.actions_by_id["recent_sessions"]
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if not a.isSeparator()]
    folder = str(tmp_path.resolve())  # the folder too, the whole path in the tooltip
    assert entries[0].text() == f"&1 s9.convplay \u2014 {folder}" and entries[0].isEnabled()
    assert entries[0].toolTip() == str(paths[-1].resolve())
    assert "s8.convplay \u2014 " in entries[1].text() and not entries[1].isEnabled()
    assert "not found" in entries[1].toolTip()
    session = window.session
    session.set_spec(session.spec.replace(padding=3))
    entries[2].trigger()  # s7: opens it
    assert session.spec.padding == 1 and window.session_file.path.endswith("s7.convplay")
    clear = entries[-1]
    assert clear.text().replace("&", "") == "Clear recent"
    clear.trigger()
    assert session_commands.recent_paths(window) == []


def test_a_dropped_session_file_opens(window, qtbot, tmp_path):
    path = tmp_path / "dropped.convplay"
    other = window.session
    assert session_commands.save_session_to(window, str(path))
    other.set_spec(other.spec.replace(stride=2))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert window.session.spec.stride == 1
    assert window.windowTitle().startswith("dropped.convplay")


def test_a_device_this_machine_lacks_is_a_note_and_the_rest_opens(window, qtbot):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    qtbot.waitUntil(lambda: window.devices_known, timeout=30_000)
    session = window.session
    snapshot = state_of(session).snapshot
    session.set_spec(session.spec.replace(stride=2))
    state = type(state_of(session))(snapshot, ViewState(device="cuda:0", dtype="float16", workspace="sliding"))
    notes = session_io.apply_state(window, state, "Open")
    assert session.spec.stride == 1 and window.workspace == "sliding"
    assert window.compute_settings.device == "cpu" and window.compute_settings.dtype == "float32"
    assert any("cuda:0 is not available" in n for n in notes) and any("float16" in n for n in notes)
    assert "cuda:0 is not available" in window.statusBar().currentMessage()


def test_the_view_comes_back_with_the_animation_step(window, qtbot, tmp_path):
    window.set_workspace("sliding")
    state = window.animation_panel.state
    state.seek(5)
    view = session_io.capture_view(window)
    assert view.animation_step == 6 and view.workspace == "sliding"
    path = str(tmp_path / "step.convplay")
    assert session_commands.save_session_to(window, path)
    window.set_workspace("explore")
    state.seek(0)
    assert session_commands.open_path(window, path)
    assert window.workspace == "sliding" and state.position == 5


def test_starting_on_a_session_file_or_a_lesson_opens_it_and_is_no_undo_step(window, qtbot, tmp_path):
    from convplay.cli import build_parser
    from convplay.qt import app

    set_up_a_case(window, qtbot)
    path = str(tmp_path / "start.convplay")
    assert session_commands.save_session_to(window, path)
    args = build_parser().parse_args([path])
    opened = app._start_document(args)
    assert opened is not None and app._start_session(*opened).spec == window.session.spec
    other = open_window(qtbot, settings_file(tmp_path / "other"))
    app._open_start_document(other, args, *opened)
    assert other.session.spec == window.session.spec and len(other.undo_stack) == 0
    assert other.windowTitle().startswith("start.convplay")

    args = build_parser().parse_args(["--lesson", "arithmetic", "--lesson-step", "3"])
    app._open_start_document(other, args, *app._start_document(args))
    assert other.lesson.is_open and other.lesson.index == 2 and len(other.undo_stack) == 0


def test_a_refused_file_at_start_prints_the_reason_and_exits_2(tmp_path):
    import os
    import subprocess
    import sys

    bad = tmp_path / "bad.convplay"
    bad.write_bytes(b"PK\x03\x04 not a zip at all")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    # Without a window to show it in (a screenshot): the reason on stderr, exit 2.
    result = subprocess.run([sys.executable, "-m", "convplay", str(bad), "--screenshot", str(tmp_path / "x.png")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "bad.convplay" in result.stderr


def test_a_cuda_device_chosen_before_the_list_is_known_falls_back_with_a_cpu_dtype(window, qtbot):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    settings = window.compute_settings
    with qtbot.waitSignal(window.compute_failed, timeout=30_000, raising=False):
        settings.set_device("cuda:0")  # as a session file's view does before torch has listed the devices
        settings.set_dtype("float16")
    window._on_devices_ready([("cpu", "CPU")], "")
    assert settings.device == "cpu" and settings.dtype == "float32"
    assert "float16 runs on CUDA only" in window.statusBar().currentMessage()
    wait_for_output(qtbot, window)


def test_the_lesson_panels_fields_and_the_menus_words(window, qtbot):
    from convplay.core.session_file import SessionDocument
    from convplay.qt import session_io

    assert session_io.LESSON_SAVE_FILTER.startswith("convplay lesson")
    panel = window.lesson_panel
    assert panel.caption.tabChangesFocus()
    import dataclasses

    steps = (dataclasses.replace(session_commands.load_builtin_lesson("arithmetic").steps[0], ask=""),)
    session_commands.open_document(window, SessionDocument(kind="lesson", title="t", steps=steps))
    panel.ask_check.setChecked(True)  # no question typed: the placeholder's, the field left empty to type in
    assert panel.ask_text.text() == "" and window.lesson.current.ask == panel.ask_text.placeholderText()
    texts = {a.text().replace("&", "") for a in window.actions_by_id.values() if hasattr(a, "text")}
    assert {"Next lesson step", "Previous lesson step"} <= texts


def test_a_refused_file_at_start_of_the_window_opens_the_default_start_and_says_why(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication, QMessageBox

    from convplay.cli import build_parser
    from convplay.qt import app

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    bad = tmp_path / "bad.convplay"
    bad.write_bytes(b"PK\x03\x04 not a zip at all")
    args = build_parser().parse_args([str(bad), "--window-size", "800x500"])
    # The window as run() makes it, without its event loop: a test's own loop shows the box.
    _, window = app.build(args)
    qtbot.addWidget(window)
    window.show()

    def boxes():
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]

    qtbot.waitUntil(lambda: len(boxes()) == 1, timeout=10_000)
    text = boxes()[0].text()
    assert "bad.convplay" in text and "camera photo" in text
    assert window.session.image.shape[1] > 5  # the photo, not the damaged file
    for box in boxes():
        box.close()
    window.close()
