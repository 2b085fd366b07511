"""The main window: PyTorch's output on screen, invalid settings marked stale, undo through
the Edit menu, menus and shortcuts, saving, and the layout kept in (temporary) QSettings."""

from importlib import metadata

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSettings

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.main_window import SETTINGS_STATE, SETTINGS_WORKSPACE, MainWindow
from convplay.qt.undo import push_change
from oracles import session_output

SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


@pytest.fixture
def session():
    rng = np.random.default_rng(3)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, padding=1)
    weight = np.stack([SOBEL_X, SOBEL_X.T])[:, None]
    return Session(rng.random((1, 24, 20)), spec, weight, np.array([0.5, -0.5]))


@pytest.fixture
def window(qtbot, session, temporary_settings):
    window = MainWindow(session, settings=QSettings(str(temporary_settings / "t.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        window.resize(1200, 800)
        window.show()
    return window


def test_first_output_is_pytorchs(window, session, qtbot):
    np.testing.assert_allclose(window.output_panel.output, session_output(session), rtol=1e-6, atol=1e-6)
    assert not window.output_panel.is_stale
    show_device(window)  # hidden in Explore: it catches up when shown
    qtbot.waitUntil(lambda: window.device_panel.time_label.text().endswith(("ms", " s")))


def show_device(window):
    """As View > Panels > Device does in Explore: a tab beside the parameters, in front."""
    window.docks["device"].show()
    window.docks["device"].raise_()


def test_the_device_tab_follows_results_while_it_is_shown(window, session, qtbot):
    show_device(window)
    qtbot.waitUntil(lambda: window.device_panel.time_label.text().endswith(("ms", " s")))
    window.device_panel.time_label.setText("")
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_weight(session.weight * 3)
    assert window.device_panel.time_label.text().endswith(("ms", " s"))
    window.docks["params"].raise_()  # behind the parameters again: the next result waits for it
    window.device_panel.time_label.setText("")
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_weight(session.weight * 2)
    assert window.device_panel.time_label.text() == ""
    window.docks["device"].raise_()
    qtbot.waitUntil(lambda: window.device_panel.time_label.text().endswith(("ms", " s")))


def test_a_kernel_edit_reaches_the_output(window, session, qtbot):
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_weight(session.weight * 2)
    np.testing.assert_allclose(window.output_panel.output, session_output(session), rtol=1e-6, atol=1e-5)


def test_invalid_settings_mark_the_output_stale_and_raise_nothing(window, session, qtbot):
    shown = window.output_panel.output
    with qtbot.waitSignal(window.compute_failed) as blocker:
        session.set_spec(session.spec.replace(kernel_size=40, padding=0))
    assert blocker.args[0]
    assert window.output_panel.is_stale and window.output_panel.stale_banner.isVisible()
    assert window.output_panel.output is shown  # the last valid output stays
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_spec(session.spec.replace(kernel_size=3, padding=1))
    assert not window.output_panel.is_stale


def test_undo_and_redo_through_the_edit_menu(window, session, qtbot):
    before = session.weight
    push_change(window.undo_stack, session, "Double the kernel", lambda: session.set_weight(before * 2))
    assert window.actions_by_id["undo"].isEnabled()
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        window.actions_by_id["undo"].trigger()
    assert session.weight is before
    np.testing.assert_allclose(window.output_panel.output, session_output(session), rtol=1e-6, atol=1e-6)
    window.actions_by_id["redo"].trigger()
    np.testing.assert_array_equal(session.weight, before * 2)


def test_menus_and_shortcuts(window, session):
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "Tools", "View", "Lesson", "Help"]
    push_change(window.undo_stack, session, "True convolution", lambda: session.set_true_convolution(True))
    assert window.actions_by_id["undo"].text() == "&Undo True convolution"  # the menu names the step
    shortcuts = dict(window.shortcut_table())  # F1 names the command
    assert shortcuts["Open image"] == "Ctrl+O"
    assert shortcuts["Quit"] == "Ctrl+Q"
    assert shortcuts["Undo"] == "Ctrl+Z"
    assert shortcuts["Redo"] == "Ctrl+Shift+Z, Ctrl+Y"
    assert shortcuts["Save output as PNG / NPY"] == "Ctrl+Alt+S"
    assert shortcuts["Save session"] == "Ctrl+S"
    view_entries = [a.text() for a in window.actions_by_id["panels"].actions()]
    for dock in window.docks.values():
        assert dock.objectName() and dock.windowTitle() in view_entries


def test_about_lists_versions(window):
    text = window.about_text()
    for name in ("convplay", "Python", "Qt", "PySide6", "pyqtgraph", "numpy", "torch"):
        assert f"<td>{name}</td>" in text
    assert metadata.version("torch").split("+")[0] in text


def test_save_output_as_npy_and_png(window, tmp_path):
    assert window.save_output(str(tmp_path / "out.npy")) == ""
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy", allow_pickle=False), window.output_panel.output)
    assert window.save_output(str(tmp_path / "out.png")) == ""
    from PIL import Image

    png = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    shown = window.output_panel.view.image_item._pixels  # the words drawn on screen
    assert png.shape[:2] == window.output_panel.output.shape[1:]
    np.testing.assert_array_equal(png[..., 0], (shown >> 16) & 0xFF)  # the picture on screen
    np.testing.assert_array_equal(png[..., 2], shown & 0xFF)
    assert window.save_output(str(tmp_path / "missing" / "out.npy"))  # an error text, nothing raised


def test_open_image_errors_keep_the_image(window, session, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    image = session.image
    assert window.open_image(str(bad)) is False
    assert session.image is image


def test_hidden_dock_and_reset_layout(window):
    shown = {"input", "output", "animation", "kernel", "params"}  # Explore's
    assert {k for k, d in window.docks.items() if d.isVisible()} == shown
    window.docks["kernel"].hide()
    window.docks["formula"].show()
    window.reset_layout()
    assert {k for k, d in window.docks.items() if d.isVisible()} == shown


def test_layout_is_saved_to_the_settings(window, temporary_settings):
    window.set_workspace("formula")
    window.close()
    saved = QSettings(str(temporary_settings / "t.ini"), QSettings.Format.IniFormat)
    assert saved.value(SETTINGS_WORKSPACE) == "formula"
    assert isinstance(saved.value(SETTINGS_STATE + "formula"), QByteArray)
    assert isinstance(saved.value(SETTINGS_STATE + "explore"), QByteArray)  # as it was left


def test_learned_kernels_menu_loads_conv1_undoably(window, session, qtbot):
    menu = window.actions_by_id["learned"]
    menu.aboutToShow.emit()  # filled when first opened
    menu.aboutToShow.emit()  # and only once
    actions = {a.text(): a for a in menu.actions()}
    assert len(menu.actions()) == 2
    assert set(actions) == {"digits CNN conv1", "digits CNN conv2"}
    assert "accuracy" in actions["digits CNN conv1"].toolTip()
    before = session.weight
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        actions["digits CNN conv1"].trigger()
    assert session.weight.shape == (8, 1, 3, 3)
    assert session.spec.out_channels == 8
    window.actions_by_id["undo"].trigger()
    assert session.weight is before


def test_a_dropped_kernel_file_opens_the_picker_path(window, session, tmp_path, monkeypatch):
    np.save(tmp_path / "k.npy", np.ones((2, 1, 3, 3)))
    opened = []
    monkeypatch.setattr(window, "open_kernel", lambda path: opened.append(path) or True)
    monkeypatch.setattr(window, "open_image", lambda path: opened.append(("image", path)) or True)
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    for name in ("k.npy", "photo.png"):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(tmp_path / name))])
        event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        window.dropEvent(event)
    assert opened == [str(tmp_path / "k.npy"), ("image", str(tmp_path / "photo.png"))]


def test_the_animation_follows_pytorchs_output_and_jumps_to_a_step(window, session, qtbot):
    panel = window.animation_panel
    assert window.show_animation_step(7) == ""
    qtbot.waitUntil(lambda: panel.match is not None, timeout=30_000)
    assert panel.state.position == 7
    assert panel.match.matches
    oc, i, j = panel.state.cell()
    assert panel.arithmetic.check.text().startswith("PyTorch")
    np.testing.assert_allclose(window.results.reference.reference, session_output(session), rtol=0, atol=1e-9)
    assert f"{panel.state.n_steps} steps" in window.show_animation_step(panel.state.n_steps)


def test_the_hidden_animation_catches_up_when_shown(window, session, qtbot):
    from convplay.qt.shown import on_screen

    window.docks["output"].raise_()
    panel = window.animation_panel
    qtbot.waitUntil(lambda: not on_screen(panel), timeout=5_000)
    assert not window.results.reference_wanted  # no float64 reference for a hidden view
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_weight(session.weight * 3)
    assert panel.walk is None  # out of date: rebuilt once shown, never drawn from meanwhile
    assert window.results.reference is None
    window.docks["animation"].raise_()
    qtbot.waitUntil(lambda: panel.match is not None, timeout=30_000)
    step = panel.walk.step(0)
    np.testing.assert_array_equal(step.taps.weight.reshape(-1), session.weight[0].reshape(-1))


def test_zooming_the_input_shows_the_same_region_of_a_smaller_output(window, session, qtbot):
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_spec(session.spec.replace(stride=2, padding=0))  # 24x20 -> 11x9
    rows, cols = window.output_panel.output.shape[1:]
    source = window.input_panel.image_view.view_box
    source.setRange(xRange=(-0.5, 9.5), yRange=(-0.5, 11.5), padding=0)
    source.sigRangeChangedManually.emit([True, True])  # as a wheel or drag does
    (x0, x1), (y0, y1) = window.output_panel.view.view_box.viewRange()
    # the region the input shows, as a fraction of its 24x20 cells, is what the output
    # shows of its own cells (centred on it; its aspect lock may widen one axis)
    (sx0, sx1), (sy0, sy1) = source.viewRange()
    want_x = [(v + 0.5) * cols / 20 - 0.5 for v in (sx0, sx1)]
    want_y = [(v + 0.5) * rows / 24 - 0.5 for v in (sy0, sy1)]
    assert (x0 + x1) / 2 == pytest.approx(sum(want_x) / 2, abs=0.05)
    assert (y0 + y1) / 2 == pytest.approx(sum(want_y) / 2, abs=0.05)
    assert x0 <= want_x[0] + 1e-6 and x1 >= want_x[1] - 1e-6
    assert y0 <= want_y[0] + 1e-6 and y1 >= want_y[1] - 1e-6
    assert min(x1 - x0 - (want_x[1] - want_x[0]), y1 - y0 - (want_y[1] - want_y[0])) < 1e-6


def test_focus_mode_shows_only_the_animation_and_comes_back(window, qtbot):
    visible_before = {k for k, d in window.docks.items() if d.isVisible()}
    window.focus_action.trigger()
    assert window.focus_action.isChecked()
    assert {k for k, d in window.docks.items() if d.isVisible()} == {"animation"}
    window.focus_action.trigger()
    assert not window.focus_action.isChecked()
    assert {k for k, d in window.docks.items() if d.isVisible()} == visible_before


def test_a_slow_pytorch_call_is_shown_as_computing(qtbot, session, temporary_settings):
    import threading

    from convplay.core.compute_settings import ComputeSettings
    from convplay.core.results import Results
    from convplay.qt.compute_controller import ComputeController, run_request

    gate = threading.Event()

    def slow(request):
        gate.wait(60)
        return run_request(request)

    settings = ComputeSettings()
    controller = ComputeController(session, settings, Results(), runner=slow, lister=lambda: [("cpu", "CPU")])
    window = MainWindow(session, settings, controller=controller, settings=QSettings(str(temporary_settings / "slow.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.compute_label.text() == "computing\u2026", timeout=10_000)
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        gate.set()
    assert window.compute_label.text().startswith("PyTorch ")
    window.close()


def test_groups_that_do_not_divide_mark_the_output_stale_and_crash_nothing(window, session, qtbot):
    with qtbot.waitSignal(window.compute_failed, timeout=10_000) as blocker:
        session.set_spec(session.spec.replace(groups=3))
    assert "groups" in blocker.args[0]
    assert window.output_panel.is_stale
    assert window.params_panel.invalid_field() == "groups"
    with qtbot.waitSignal(window.output_shown, timeout=30_000):
        session.set_spec(session.spec.replace(groups=1))
    assert not window.output_panel.is_stale


def test_the_output_behind_the_sliding_window_prepares_and_draws_nothing_until_shown(window, session, qtbot):
    panel = window.output_panel
    assert panel.preparer.choice.with_thumbnails and panel.grid.count == 2
    window.docks["animation"].raise_()
    qtbot.waitUntil(lambda: not panel.preparer.choice.with_thumbnails, timeout=5_000)
    drawn = []
    panel.displayed.connect(lambda: drawn.append(True))
    with qtbot.waitSignal(window.results.outcome_changed, timeout=30_000):
        session.set_weight(session.weight * -1)
    assert drawn == [] and panel.output is not window.results.output
    window.docks["output"].raise_()
    qtbot.waitUntil(lambda: panel.output is window.results.output, timeout=5_000)
    assert panel.preparer.choice.with_thumbnails
    np.testing.assert_allclose(panel.output, session_output(session), rtol=1e-6, atol=1e-6)
    assert panel.grid.thumbnails is not None and panel.grid.count == 2


def test_show_animation_step_says_why_not_as_a_value(window, session, qtbot):
    assert window.show_animation_step(0) == ""
    n = window.animation_panel.state.n_steps
    assert window.show_animation_step(n) == f"there are {n} steps (1 to {n})"
    session.set_spec(session.spec.replace(groups=2))  # 1 input channel: no groups of 2
    error = window.show_animation_step(0)
    assert error.startswith("these settings cannot be animated") and "divisible by groups" in error


def test_a_failing_reference_is_said_on_the_badge_not_left_waiting(qtbot, session, temporary_settings, capsys):
    from convplay.core.compute_settings import ComputeSettings
    from convplay.core.results import Results
    from convplay.qt.compute_controller import ComputeController

    def broken(request, output):
        raise KeyError("a bug in the reference")

    settings = ComputeSettings()
    controller = ComputeController(session, settings, Results(), reference=broken, lister=lambda: [("cpu", "CPU")])
    window = MainWindow(session, settings, controller=controller,
                        settings=QSettings(str(temporary_settings / "ref.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    window.docks["animation"].raise_()
    badge = window.animation_panel.badge
    qtbot.waitUntil(lambda: "could not be computed" in badge.text(), timeout=30_000)
    assert "a bug in the reference" in badge.text()
    assert "KeyError" in capsys.readouterr().err  # an unexpected exception's trace is printed too
    window.close()


def test_clear_undo_history_is_enabled_only_while_there_is_something_to_forget(window, session):
    clear = window.actions_by_id["clear_history"]
    window.undo_stack.clear()
    assert not clear.isEnabled()
    push_change(window.undo_stack, session, "Set stride", lambda: session.set_spec(session.spec.replace(stride=2)))
    assert clear.isEnabled() and window.actions_by_id["undo"].isEnabled()
    clear.trigger()
    assert not clear.isEnabled() and not window.actions_by_id["undo"].isEnabled()
    assert session.spec.stride == 2  # clearing forgets the steps, it undoes nothing


def test_ctrl_z_in_a_spin_box_undoes_the_session_not_the_typing(window, session, qtbot):
    from PySide6.QtCore import Qt

    size = window.input_panel.size_spin
    size.setFocus()
    qtbot.waitUntil(size.hasFocus, timeout=5_000)
    before = session.image.shape
    size.lineEdit().selectAll()
    qtbot.keyClicks(size, "12")
    qtbot.keyClick(size, Qt.Key.Key_Return)
    assert session.image.shape != before and size.value() == 12
    qtbot.keyClick(size, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert session.image.shape == before  # the session's step undone, from inside the box
    qtbot.keyClick(size, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert size.value() == 12


def test_save_dialogs_propose_a_file_name(window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    from convplay.qt import files

    files.remember_folder(tmp_path / "x.png", window.settings)
    proposed = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _p, _t, start, _f: proposed.append(start) or ("", ""))
    window.actions_by_id["save_output"].trigger()
    window.actions_by_id["screenshot"].trigger()
    window.actions_by_id["save_kernel"].trigger()
    assert proposed == [str(tmp_path / "output-channel-0.png"), str(tmp_path / "convplay-window.png"),
                        str(tmp_path / "kernel.pth")]
