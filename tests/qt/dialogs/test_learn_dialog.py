"""The live-learning window: runs off the UI thread, updates, stops, resumes, keeps the kernel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from convplay.core.history import History
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.dialogs.learn_dialog import EXAMPLE_TARGET, SESSION_INPUT, LearnDialog


@pytest.fixture
def dialog(qtbot):
    session = Session(image=np.random.default_rng(0).random((3, 20, 20)), spec=ConvSpec(in_channels=3, stride=2))
    stack = History()
    dlg = LearnDialog(session, stack)
    qtbot.addWidget(dlg)
    yield dlg, session, stack
    dlg.shutdown()


def test_seed001_learned_live(qtbot, dialog):
    dlg, session, stack = dialog
    with qtbot.waitSignal(dlg.finished_run, timeout=60_000):
        qtbot.mouseClick(dlg.start, Qt.MouseButton.LeftButton)
        assert dlg.stop.isEnabled() or dlg.last is not None
    assert dlg.last.step == 400 and dlg.last.loss < 1e-3
    np.testing.assert_allclose(dlg.last.kernel[0, 0], [[1, 0, -1]] * 3, atol=1e-4)
    x, y = dlg.loss_curve.getData()
    assert len(x) == 40 and y[-1] < y[0]
    assert dlg.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert dlg.output_item.image.shape == (4, 4) and "1.0000" in dlg.values.text()
    assert dlg.keep.isEnabled() and dlg.resume.isEnabled() and not dlg.stop.isEnabled()

    qtbot.mouseClick(dlg.keep, Qt.MouseButton.LeftButton)
    assert session.image.shape == (1, 6, 6) and session.weight.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(session.weight[0, 0], [[1, 0, -1]] * 3, atol=1e-4)
    assert session.spec.stride == 1 and not session.spec.bias  # the layer as it was learned
    stack.undo()
    assert session.image.shape == (3, 20, 20) and session.weight.shape == (1, 3, 3, 3)
    assert session.spec.stride == 2 and session.spec.bias


def test_stop_and_resume(qtbot, dialog):
    dlg, _, _ = dialog
    dlg.steps.setValue(3000)
    with qtbot.waitSignal(dlg.finished_run, timeout=60_000):
        dlg.start_learning()
        qtbot.waitUntil(lambda: dlg.last is not None, timeout=30_000)
        qtbot.mouseClick(dlg.stop, Qt.MouseButton.LeftButton)
    stopped_at = dlg.last.step
    assert stopped_at < 3000
    dlg.steps.setValue(50)
    with qtbot.waitSignal(dlg.finished_run, timeout=60_000):
        qtbot.mouseClick(dlg.resume, Qt.MouseButton.LeftButton)
    assert dlg.last.step == stopped_at + 50


def test_hidden_kernel_on_session_image(qtbot, dialog):
    dlg, session, _ = dialog
    dlg.input.setCurrentText(SESSION_INPUT)
    dlg.target.setCurrentText("Hidden kernel: Sobel x")
    dlg.optimiser.setCurrentText("adam")
    dlg.lr.setValue(0.05)
    dlg.steps.setValue(300)
    with qtbot.waitSignal(dlg.finished_run, timeout=60_000):
        dlg.start_learning()
    assert dlg.last.kernel.shape == (1, 3, 3, 3) and dlg.target_item.image.shape == (18, 18)
    assert dlg.last.loss < dlg._losses[0][1]
    dlg.keep_kernel()
    assert session.weight.shape == (1, 3, 3, 3) and session.image.shape == (3, 20, 20)


def test_mismatched_choice_says_why(qtbot, dialog):
    dlg, _, _ = dialog
    dlg.input.setCurrentText(SESSION_INPUT)
    dlg.target.setCurrentText(EXAMPLE_TARGET)
    dlg.start_learning()
    assert "pick a hidden kernel" in dlg.status.text() and not dlg.running()


def test_the_target_and_starting_kernel_show_before_start(dialog):
    dialog, _, _ = dialog
    target = dialog.target_item.image
    assert target is not None and target.shape == (4, 4)
    np.testing.assert_array_equal(target[:, 1], 30)
    np.testing.assert_array_equal(dialog.kernel_item.image, 0)
    dialog.init.setCurrentIndex(1)  # a random start
    assert np.abs(dialog.kernel_item.image).max() > 0
    assert not dialog.running()


def test_a_failing_run_is_said_in_the_dialog_and_the_buttons_come_back(qtbot, dialog, monkeypatch):
    dlg, _session, _stack = dialog

    def broken(self, steps, chunk=10):
        yield from ()
        raise MemoryError("not enough memory for the gradients")

    from convplay.compute.learn import KernelLearner

    monkeypatch.setattr(KernelLearner, "run", broken)
    with qtbot.waitSignal(dlg.finished_run, timeout=60_000):
        qtbot.mouseClick(dlg.start, Qt.MouseButton.LeftButton)
    assert "not enough memory" in dlg.status.text()
    assert dlg.start.isEnabled() and not dlg.stop.isEnabled()


def test_keep_gives_the_main_window_the_dialogs_output_even_with_true_convolution(qtbot, dialog):
    from oracles import session_output

    dlg, session, _stack = dialog
    session.set_true_convolution(True)
    assert session.spec.stride == 2 and session.spec.bias
    with qtbot.waitSignal(dlg.finished_run, timeout=60_000):
        qtbot.mouseClick(dlg.start, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dlg.keep, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(session_output(session), dlg.last.output, atol=1e-9)  # +30, not -30
    text = dlg.status.text()
    assert "bias off" in text and "stride 1" in text and "flipped" in text
