"""Export: the tutorial's 5×5 X as GIF, WebP and MP4 frames of the chosen size, labelled;
Cancel leaves no file; the window's own animation is left alone; the dialog; the figure
(PNG, SVG); the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from convplay.core import encoders
from convplay.core.compute_settings import ComputeSettings
from convplay.core.results import ComputeOutcome, Results, reference_outcome
from convplay.core.samples import X_5X5
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.dialogs.export_dialog import ExportDialog
from convplay.qt.export.job import ExportJob, ExportOptions
from gif_blocks import gif_tables
from mp4_frames import read_mp4

ROOT = Path(__file__).resolve().parents[2]
X_KERNEL = np.array([[[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]], dtype=float)
X_OUTPUT = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
SIZE = (640, 360)


def tutorial_session(**spec) -> Session:
    return Session(X_5X5.reshape(1, 5, 5).astype(float), ConvSpec(kernel_size=3, bias=False, **spec), X_KERNEL)


def torch_results(session: Session) -> Results:
    """What the window's workers hand the results: PyTorch's output (nn.functional called
    with the spec's own arguments), then the reference and its verdict."""
    x = torch.tensor(session.image[None])
    w = torch.tensor(session.weight)
    s = session.spec
    if s.transposed:
        out = F.conv_transpose2d(x, w, stride=s.stride, padding=s.padding)
    else:
        out = F.conv2d(x, w, stride=s.stride, padding=s.padding)
    output = out[0].numpy()
    results = Results()
    request = results.begin(session, ComputeSettings(dtype="float64"))
    results.set_outcome(results.generation, ComputeOutcome(request, output, 0.0, "CPU"))
    results.set_reference(results.generation, reference_outcome(request, output))
    return results


def export(qtbot, session, results, path, **options) -> ExportJob:
    job = ExportJob(session, results, ExportOptions(str(path), **options))
    with qtbot.waitSignal(job.finished, timeout=30_000, raising=True):
        assert job.start() == ""
    return job


def test_the_tutorial_output_is_pytorchs():
    session = tutorial_session()
    assert np.array_equal(torch_results(session).current_output[0], X_OUTPUT)


def test_a_9_step_gif_has_every_frame_at_the_size_with_one_palette(qtbot, tmp_path):
    session = tutorial_session()
    results = torch_results(session)
    path = tmp_path / "x.gif"
    captions, titles = [], []
    job = ExportJob(session, results, ExportOptions(str(path), size=SIZE, frames_per_step=3, fps=10))

    def seen(done, total):
        view = job.renderer.dock.view
        captions.append(job.renderer.caption.text())
        titles.append((view.title_text(view.inputs[0].plot), view.title_text(view.output.plot)))

    job.progress.connect(seen)
    with qtbot.waitSignal(job.finished, timeout=30_000):
        assert job.start() == ""
    assert job.total_frames == 27
    with Image.open(path) as im:
        assert im.size == SIZE and im.info["loop"] == 0
        # Three frame times a step: each its own frame, none merged (the timeline differs).
        assert im.n_frames == 27
        durations, lines = [], []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
            bottom = np.asarray(im.convert("RGB"))[-1]
            lines.append(int((np.abs(bottom.astype(int) - 120).max(axis=1) < 8).sum()))
    assert durations == [100] * 27
    # The timeline along the bottom edge grows frame by frame to the whole width.
    assert lines == sorted(lines) and len(set(lines)) == 27 and lines[-1] == SIZE[0]
    has_global, images, local = gif_tables(path)
    assert has_global and images == 27 and local == 0
    # Every frame says where it is, and which side is the input, which the output.
    assert captions[0] == "step 1 / 9  \u00b7  output (row 0, column 0)"
    assert captions[4] == "step 5 / 9  \u00b7  output (row 1, column 1)"
    assert captions[-1] == "step 9 / 9  \u00b7  output (row 2, column 2)"
    assert all(i.startswith("input") and o.startswith("output") for i, o in titles)
    assert [p.name for p in tmp_path.iterdir()] == ["x.gif"]


def test_frames_show_the_output_filling_in_and_the_labels(qtbot):
    session = tutorial_session()
    results = torch_results(session)
    from convplay.qt.export.frames import FrameRenderer

    renderer = FrameRenderer(session, results, SIZE)
    try:
        for k in (0, 8):
            renderer.seek(k)
            qtbot.waitUntil(lambda k=k: renderer.ready(k))
        qtbot.wait(20)
        frame = renderer.frame()
        assert frame.shape == (SIZE[1], SIZE[0], 3) and frame.dtype == np.uint8
        fill = renderer.dock.view._fill
        assert np.array_equal(fill, np.array(X_OUTPUT, dtype=float))
        # The caption's line is drawn: the top rows are not all background.
        assert len(np.unique(frame[:24].reshape(-1, 3), axis=0)) > 10
        assert renderer.dock.arithmetic.total == 4
    finally:
        renderer.close()


def test_webp_has_the_frames_at_the_size(qtbot, tmp_path):
    session = tutorial_session()
    path = tmp_path / "x.webp"
    export(qtbot, session, torch_results(session), path, size=SIZE, frames_per_step=2, fps=5, arithmetic=False)
    with Image.open(path) as im:
        assert im.n_frames == 18 and im.size == SIZE
        im.seek(3)
        im.load()
        assert im.info["duration"] == 200


def test_mp4_has_9_times_the_frames_per_step_and_odd_sizes_padded(qtbot, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    session = tutorial_session()
    results = torch_results(session)
    export(qtbot, session, results, tmp_path / "x.mp4", size=SIZE, frames_per_step=2)
    assert read_mp4(tmp_path / "x.mp4") == (SIZE, 18)
    export(qtbot, session, results, tmp_path / "odd.mp4", size=(321, 181), first=3, last=5)
    assert read_mp4(tmp_path / "odd.mp4") == ((322, 182), 3)


def test_mp4_quality_sets_the_file_size(qtbot, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    session = tutorial_session()
    results = torch_results(session)
    sizes = []
    for quality in (2, 10):
        path = tmp_path / f"q{quality}.mp4"
        export(qtbot, session, results, path, size=SIZE, first=1, last=3, mp4_quality=quality)
        sizes.append(path.stat().st_size)
    assert sizes[0] < sizes[1]


def test_cancel_while_the_file_is_written_removes_it(qtbot, tmp_path):
    session = tutorial_session()
    job = ExportJob(session, torch_results(session), ExportOptions(str(tmp_path / "x.webp"), size=SIZE))
    job.encoding.connect(job.cancel)
    with qtbot.waitSignal(job.cancelled, timeout=30_000):
        assert job.start() == ""
    assert job.state == "cancelled" and list(tmp_path.iterdir()) == []


def test_a_transposed_conv_exports_its_scatter_view(qtbot, tmp_path):
    session = tutorial_session(transposed=True, stride=2)
    results = torch_results(session)
    job = ExportJob(session, results, ExportOptions(str(tmp_path / "t.gif"), size=SIZE, first=1, last=4))
    captions = []
    job.progress.connect(lambda *_: captions.append(job.renderer.caption.text()))
    with qtbot.waitSignal(job.finished, timeout=30_000):
        assert job.start() == ""
    assert captions[-1] == "step 4 / 25  \u00b7  input pixel (row 0, column 3)"
    with Image.open(tmp_path / "t.gif") as im:
        assert im.n_frames == 4 and im.size == SIZE


def test_cancel_mid_export_leaves_no_file(qtbot, tmp_path):
    session = tutorial_session()
    path = tmp_path / "x.mp4" if not encoders.video_problem() else tmp_path / "x.webp"
    job = ExportJob(session, torch_results(session), ExportOptions(str(path), size=SIZE))
    job.progress.connect(lambda done, total: done == 3 and job.cancel())
    with qtbot.waitSignal(job.cancelled, timeout=30_000):
        assert job.start() == ""
    assert job.state == "cancelled"
    assert list(tmp_path.iterdir()) == []


def test_the_windows_animation_is_left_where_it_was(qtbot, tmp_path):
    session = tutorial_session()
    results = torch_results(session)
    panel = AnimationDock(session, results)
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    panel.state.seek(6)
    export(qtbot, session, results, tmp_path / "x.gif", size=SIZE)
    assert panel.state.position == 6 and panel.arithmetic.total == 2
    assert results.reference_wanted  # the window's panel still wants the reference
    assert results._wanted == {"animation"}
    panel.shutdown()


def test_an_edit_during_the_export_leaves_its_frames_those_of_the_state_it_started_from(qtbot, tmp_path):
    session = tutorial_session()
    results = torch_results(session)
    job = ExportJob(session, results, ExportOptions(str(tmp_path / "x.gif"), size=SIZE))
    totals = []

    def edit(done, total):
        if done == 2:
            session.set_weight(X_KERNEL * 2)
            assert job.state == "rendering"
        totals.append(job.renderer.dock.arithmetic.total)

    job.progress.connect(edit)
    with qtbot.waitSignal(job.finished, timeout=30_000):
        assert job.start() == ""
    # The export's copy keeps the X kernel's output: [[4,3,4],[2,4,3],[2,3,4]].
    assert totals == [4, 3, 4, 2, 4, 3, 2, 3, 4]
    assert np.array_equal(session.weight, X_KERNEL * 2)
    assert [p.name for p in tmp_path.iterdir()] == ["x.gif"]


def test_an_edit_before_the_output_arrives_fails_the_export(qtbot, tmp_path):
    session = tutorial_session()
    job = ExportJob(session, Results(), ExportOptions(str(tmp_path / "x.gif"), size=SIZE))
    assert job.start() == ""
    session.set_weight(X_KERNEL * 2)
    assert job.state == "failed"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("options", "reason"), [
    ({"first": 5, "last": 12}, "outside the animation, which has 9 steps"),
    ({"first": 0}, "outside"),
    ({"fps": 0}, "frames per second"),
    ({"size": (10, 10)}, "a frame from 64"),
])
def test_impossible_options_are_refused_with_the_reason(tmp_path, options, reason):
    session = tutorial_session()
    job = ExportJob(session, torch_results(session), ExportOptions(str(tmp_path / "x.gif"), **options))
    assert reason in job.start()
    assert list(tmp_path.iterdir()) == []


def test_a_missing_video_extra_is_named_and_mp4_disabled(qtbot, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    session = tutorial_session()
    results = torch_results(session)
    job = ExportJob(session, results, ExportOptions(str(tmp_path / "x.mp4")))
    assert job.start() == encoders.VIDEO_EXTRA
    panel = AnimationDock(session, results)
    qtbot.addWidget(panel)
    dialog = ExportDialog(session, results, panel)
    qtbot.addWidget(dialog)
    mp4 = dialog.format_combo.model().item(dialog.format_combo.findData(".mp4"))
    assert not mp4.isEnabled() and "convplay[video]" in mp4.toolTip()
    assert "pip install 'convplay[video]'" in dialog.format_note.text()
    panel.shutdown()


def test_the_dialog_exports_and_says_where(qtbot, tmp_path, monkeypatch):
    session = tutorial_session()
    results = torch_results(session)
    panel = AnimationDock(session, results)
    qtbot.addWidget(panel)
    dialog = ExportDialog(session, results, panel, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    assert (dialog.first_spin.value(), dialog.last_spin.value()) == (1, 9)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".webp"))
    out = tmp_path / "lesson.webp"
    dialog.path_edit.setText(str(out.with_suffix(".gif")))
    assert dialog.format_combo.currentData() == ".gif"  # the suffix chooses the format
    dialog.path_edit.setText(str(out))
    dialog.size_combo.setCurrentIndex(dialog.size_combo.count() - 1)  # Custom
    dialog.width_spin.setValue(480)
    dialog.height_spin.setValue(270)
    dialog.first_spin.setValue(2)
    dialog.last_spin.setValue(5)
    dialog.frames_spin.setValue(2)
    assert dialog.summary.text().startswith("4 steps \u00d7 2 = 8 frames")
    assert not dialog.quality_spin.isEnabled()  # for MP4 only
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as exported:
        assert dialog.start_export() == ""
        assert dialog.cancel_button.text() == "Cancel" and not dialog.export_button.isEnabled()
    path, message = exported.args
    assert path == str(out) and str(out) in message and "8 frames" in message
    with Image.open(out) as im:
        assert im.n_frames == 8 and im.size == (480, 270)
    # The next export starts from this one's choices.
    again = ExportDialog(session, results, panel, settings=dialog.settings)
    qtbot.addWidget(again)
    assert again.format_combo.currentData() == ".webp" and again.path_edit.text().endswith(".webp")
    assert (again.width_spin.value(), again.height_spin.value(), again.frames_spin.value()) == (480, 270, 2)
    assert again.size_combo.currentText() == "Custom" and again.width_spin.isEnabled()
    # A huge export asks first; "No" writes nothing.
    dialog2 = ExportDialog(session, results, panel)
    qtbot.addWidget(dialog2)
    dialog2.path_edit.setText(str(tmp_path / "big.gif"))
    dialog2.frames_spin.setValue(120)
    dialog2.fps_spin.setValue(60)
    dialog2.last_spin.setValue(9)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    assert dialog2.frame_count() == 1080
    dialog2.first_spin.setValue(1)
    panel_steps = panel.state.n_steps
    assert panel_steps == 9
    monkeypatch.setattr("convplay.qt.dialogs.export_dialog.LARGE_EXPORT_FRAMES", 1000)
    assert "Not exported" in dialog2.start_export()
    assert not (tmp_path / "big.gif").exists() and dialog2.job is None
    panel.shutdown()


def test_a_huge_animation_starts_with_its_first_steps_chosen(qtbot):
    session = Session(np.random.default_rng(0).random((1, 64, 64)), ConvSpec(kernel_size=3, bias=False), X_KERNEL)
    panel = AnimationDock(session, Results())
    qtbot.addWidget(panel)
    dialog = ExportDialog(session, Results(), panel)
    qtbot.addWidget(dialog)
    assert panel.state.n_steps == 62 * 62
    assert (dialog.first_spin.value(), dialog.last_spin.value()) == (1, 2000)
    assert "3,844 steps" in dialog.range_note.text() and not dialog.range_note.isHidden()
    # The note has its own line, as tall as its wrapped text needs, at the dialog's own size.
    dialog.show()
    qtbot.waitExposed(dialog)
    note = dialog.range_note
    assert note.width() >= dialog.width() // 2
    assert note.height() >= note.heightForWidth(note.width())
    spin = dialog.first_spin
    assert note.mapTo(dialog, note.rect().topLeft()).y() >= spin.mapTo(dialog, spin.rect().bottomLeft()).y()
    dialog.all_button.click()
    assert dialog.last_spin.value() == 3844 and "a long export" in dialog.summary.text()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".webp"))
    assert "5.6 GB of memory" in dialog.summary.text()
    panel.shutdown()


def test_step_numbers_read_alike_in_the_caption_and_the_arithmetic_and_no_grip_dots(qtbot):
    from convplay.qt.export.frames import FrameRenderer

    session = Session(np.random.default_rng(1).random((1, 40, 40)), ConvSpec(kernel_size=3, bias=False), X_KERNEL)
    renderer = FrameRenderer(session, torch_results(session), (960, 540))
    try:
        renderer.seek(1004)
        qtbot.waitUntil(lambda: renderer.ready(1004))
        qtbot.wait(20)
        assert renderer.caption.text().startswith("step 1,005 / 1,444")
        assert "(step 1,005)" in renderer.dock.arithmetic.heading.text()
        frame = renderer.frame()
        splitter = renderer.dock.splitter
        handle = splitter.handle(1)
        assert handle.isVisible() and handle.width() > 0
        top_left = handle.mapTo(renderer.widget, handle.rect().topLeft())
        s = renderer.scale
        x0, y0 = int(top_left.x() * s), int(top_left.y() * s)
        x1, y1 = int((top_left.x() + handle.width()) * s), int((top_left.y() + handle.height()) * s)
        grip = frame[y0 + 2:y1 - 2, x0:x1].reshape(-1, 3)
        assert len(grip) and (grip == grip[0]).all()  # one flat colour: no dots, no line
    finally:
        renderer.close()


def test_cancel_in_the_dialog(qtbot, tmp_path):
    session = tutorial_session()
    results = torch_results(session)
    panel = AnimationDock(session, results)
    qtbot.addWidget(panel)
    dialog = ExportDialog(session, results, panel)
    qtbot.addWidget(dialog)
    dialog.path_edit.setText(str(tmp_path / "x.gif"))
    assert dialog.start_export() == ""
    qtbot.waitUntil(lambda: dialog.progress.value() >= 1, timeout=30_000)
    dialog.cancel_button.click()
    assert dialog.job is None and "nothing was written" in dialog.progress_label.text()
    assert dialog.export_button.isEnabled()
    assert list(tmp_path.iterdir()) == []
    panel.shutdown()


@pytest.fixture
def window(qtbot, temporary_settings):
    from convplay.qt.main_window import MainWindow

    window = MainWindow(tutorial_session(), settings=QSettings(str(temporary_settings / "t.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.resize(1000, 640)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_export_figure_writes_png_and_svg_of_the_workspace(window, tmp_path):
    from convplay.qt.export.figure import export_figure, workspace_rect

    assert window.actions_by_id["export_animation"].shortcut().toString() == "Ctrl+E"
    assert window.actions_by_id["export_figure"].shortcut().toString() == "Ctrl+Shift+E"
    rect = workspace_rect(window)
    assert rect.top() >= window.menuBar().height() and rect.bottom() < window.statusBar().geometry().top()
    assert export_figure(window, tmp_path / "fig.png") == ""
    with Image.open(tmp_path / "fig.png") as im:
        ratio = window.devicePixelRatioF()
        assert im.size == (round(rect.width() * ratio), round(rect.height() * ratio))
        assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 50
    assert export_figure(window, tmp_path / "fig.svg") == ""
    svg = (tmp_path / "fig.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg and "</svg>" in svg
    assert "fig.jpg" in export_figure(window, tmp_path / "fig.jpg")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("t.")) == ["fig.png", "fig.svg"]


def svg_as_rgb(path, size) -> np.ndarray:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from convplay.qt.export.frames import image_to_rgb

    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image_to_rgb(image)


def test_the_svg_figure_looks_like_the_png(window, qtbot, tmp_path):
    from convplay.qt.export.figure import export_figure

    window.resize(1200, 800)
    window.set_workspace("sliding")  # the window's square, the grid of the arithmetic: pens of all kinds
    qtbot.waitUntil(lambda: window.results.current_output is not None, timeout=30_000)
    # The last step: every output cell filled (the dotted fill of a cell still to come is a
    # pattern, which renderers draw each their own way).
    window.animation_panel.state.seek(8)
    qtbot.wait(200)
    assert export_figure(window, tmp_path / "fig.png") == ""
    assert export_figure(window, tmp_path / "fig.svg") == ""
    with Image.open(tmp_path / "fig.png") as im:
        png = np.asarray(im.convert("RGB"), dtype=np.int16)
    svg = svg_as_rgb(tmp_path / "fig.svg", (png.shape[1], png.shape[0])).astype(np.int16)
    os.environ.get("CONVPLAY_KEEP_FIGURES") and Image.fromarray(svg.astype(np.uint8)).save(
        os.environ["CONVPLAY_KEEP_FIGURES"] + "/svg.png")
    difference = np.abs(svg - png)
    assert difference.mean() < 6, difference.mean(axis=(0, 1))
    # No large blob: in every 40×40 tile the picture is within a small mean difference.
    rows, columns = png.shape[0] // 40, png.shape[1] // 40
    tiles = difference[: rows * 40, : columns * 40].reshape(rows, 40, columns, 40, 3).mean(axis=(1, 3, 4))
    assert tiles.max() < 40, np.unravel_index(tiles.argmax(), tiles.shape)


def test_file_export_animation_opens_the_dialog_and_the_status_bar_says_where(window, qtbot, tmp_path):
    from convplay.qt.dialogs.export_dialog import ExportDialog as Dialog

    window.actions_by_id["export_animation"].trigger()
    dialog = window.findChild(Dialog)
    assert dialog is not None and dialog.isVisible()
    out = tmp_path / "window.gif"
    dialog.path_edit.setText(str(out))
    dialog.size_combo.setCurrentIndex(0)  # 640 × 360
    with qtbot.waitSignal(dialog.exported, timeout=60_000):  # once PyTorch's output is in
        assert dialog.start_export() == ""
    assert str(out) in window.statusBar().currentMessage()
    with Image.open(out) as im:
        assert im.n_frames == 9 and im.size == (640, 360)
    assert window.animation_panel.state.position == 0


def test_the_window_stays_usable_during_an_export_of_the_state_it_started_from(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QApplication

    from convplay.qt.dialogs.export_dialog import ExportDialog as Dialog

    window.actions_by_id["export_animation"].trigger()
    dialog = window.findChild(Dialog)
    assert not dialog.isModal() and QApplication.activeModalWidget() is None
    dialog.path_edit.setText(str(tmp_path / "live.gif"))
    dialog.size_combo.setCurrentIndex(0)
    dialog.frames_spin.setValue(2)
    before = window.session.weight.copy()
    totals = []

    def edit(done, _total):
        totals.append(dialog.job.renderer.dock.arithmetic.total)
        if done == 2:  # the user sets another kernel in the window meanwhile
            window.session.set_weight(before * 2)

    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        assert dialog.start_export() == ""
        dialog.job.progress.connect(edit)
    # The window computed the new kernel's output; the export kept the one it started from.
    weight = torch.from_numpy(before * 2)
    image = torch.tensor(np.array(window.session.image, dtype=float))[None]
    expected = F.conv2d(image, weight, torch.tensor(np.array(window.session.bias_values, dtype=float))).numpy()[0]
    qtbot.waitUntil(lambda: window.results.current_output is not None
                    and np.allclose(window.results.current_output, expected, atol=1e-4), timeout=30_000)
    assert totals[:3] == [4, 3, 4] and totals[3:] == [2, 4, 3, 2, 3, 4]
    with Image.open(tmp_path / "live.gif") as im:
        assert im.n_frames == 18


def run_convplay(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-m", "convplay", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow  # a process that imports torch and waits for its output: about 8 s here
def test_the_command_line_exports_without_a_window(tmp_path):
    out = tmp_path / "x.gif"
    result = run_convplay("--sample", "tutorial_x", "--kernel", "x_shape", "--export", str(out), "--frames-per-step", "2",
                          "--export-size", "480x270", "--fps", "8", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as im:
        assert im.n_frames == 18 and im.size == (480, 270)
        assert im.info["duration"] == 120
    assert "18 frames" in result.stderr
    assert not (tmp_path / "config" / "convplay").exists()  # the user's layout left alone


@pytest.mark.parametrize(("args", "reason"), [
    (("--steps", "5:12"), "outside the animation, which has 9 steps"),
    (("--export-size", "10x10"), "64x64"),
])
def test_the_command_line_refuses_with_the_reason(tmp_path, args, reason):
    out = tmp_path / "x.gif"
    result = run_convplay("--sample", "tutorial_x", "--kernel", "x_shape", "--export", str(out), *args, tmp_path=tmp_path)
    assert result.returncode != 0
    assert reason in result.stderr and not out.exists()

