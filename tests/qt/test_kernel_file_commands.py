"""File > Save kernel, File > Open kernel and Edit > Copy kernel as PyTorch, from the window's
menus: what the user gets in the file, the status bar and the clipboard."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog

from convplay.core.compute_settings import ComputeSettings
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.dialogs.kernel_picker import KernelPickerDialog
from convplay.qt.main_window import MainWindow


def _session() -> Session:
    rng = np.random.default_rng(8)
    spec = ConvSpec(in_channels=3, out_channels=8, kernel_size=5, padding=2)
    return Session(rng.random((3, 20, 20)), spec, rng.normal(size=(8, 3, 5, 5)) / 3, rng.normal(size=8) / 7)


def _window(qtbot, temporary_settings, session, dtype="float32") -> MainWindow:
    settings = QSettings(str(temporary_settings / "t.ini"), QSettings.Format.IniFormat)
    window = MainWindow(session, ComputeSettings(dtype=dtype), settings=settings)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        window.resize(1280, 720)
        window.show()
    return window


def _answer_save(monkeypatch, path, type_contains=""):
    asked = {}

    def answer(parent, title, start, filters):
        asked["filters"] = filters.split(";;")
        return str(path), next((f for f in asked["filters"] if type_contains and type_contains in f), "")

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_save_then_open_keeps_weight_bias_and_float32(qtbot, temporary_settings, tmp_path, monkeypatch):
    session = _session()
    window = _window(qtbot, temporary_settings, session)
    _answer_save(monkeypatch, tmp_path / "mine")
    window.actions_by_id["save_kernel"].trigger()
    path = tmp_path / "mine.pth"
    state = torch.load(path, weights_only=True)
    assert state["weight"].dtype == torch.float32 and state["bias"].dtype == torch.float32
    np.testing.assert_array_equal(state["weight"].numpy(), session.weight.astype(np.float32))
    assert window.statusBar().currentMessage() == "Saved the 8×3×5×5 weight and its 8 bias values as float32 in mine.pth"

    # Opened again (the picker accepted as it proposes: the whole layer), bit for bit.
    session.set_kernel(session.spec.replace(bias=False), np.zeros((8, 3, 5, 5)), None)
    monkeypatch.setattr(KernelPickerDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a: (str(path), ""))
    window.actions_by_id["open_kernel"].trigger()
    assert session.spec.bias and session.spec.weight_shape == (8, 3, 5, 5)
    np.testing.assert_array_equal(session.weight, state["weight"].numpy().astype(np.float64))
    np.testing.assert_array_equal(session.bias, state["bias"].numpy().astype(np.float64))


def test_float64_compute_saves_float64_first(qtbot, temporary_settings, tmp_path, monkeypatch):
    session = _session()
    window = _window(qtbot, temporary_settings, session, dtype="float64")
    asked = _answer_save(monkeypatch, tmp_path / "k.npz")
    window.actions_by_id["save_kernel"].trigger()
    assert asked["filters"][0] == "PyTorch state_dict, weight and bias, float64 (*.pth)"
    with np.load(tmp_path / "k.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["weight"], session.weight)  # every digit kept
        np.testing.assert_array_equal(npz["bias"], session.bias)


@pytest.mark.parametrize("true_convolution", [False, True])
def test_copy_kernel_as_pytorch_pastes_into_python(qtbot, temporary_settings, true_convolution):
    session = _session()
    session.set_true_convolution(true_convolution)
    window = _window(qtbot, temporary_settings, session)
    window.actions_by_id["copy_kernel"].trigger()
    text = QGuiApplication.clipboard().text()
    assert "(float32)" in window.statusBar().currentMessage()
    assert text.count("\n") > 8 * 3 * 5  # a row per line, not one long line
    namespace: dict = {}
    exec(text, namespace)
    pytorch_gets = np.flip(session.weight, (2, 3)) if true_convolution else session.weight
    np.testing.assert_array_equal(namespace["conv"].weight.detach().numpy(), pytorch_gets.astype(np.float32))
    np.testing.assert_array_equal(namespace["conv"].bias.detach().numpy(), session.bias.astype(np.float32))
