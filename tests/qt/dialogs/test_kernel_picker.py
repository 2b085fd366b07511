"""The kernel picker dialog, opening a kernel file into the session, saving and copying."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QMessageBox

from convplay.compute.checkpoints import read_kernel_file
from convplay.core.history import History
from convplay.core.kernel_io import read_npy
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt import files
from convplay.qt.dialogs import kernel_picker
from convplay.qt.dialogs.kernel_picker import (
    NON_FINITE_RGBA,
    KernelPickerDialog,
    copy_kernel_literal,
    filter_mosaic,
    open_kernel_file,
)


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    model = {
        "features.0.weight": torch.randn(8, 3, 3, 3),
        "features.0.bias": torch.randn(8),
        "features.2.weight": torch.randn(16, 8, 5, 5),
        "dw.weight": torch.randn(6, 1, 3, 3),
        "up1.weight": torch.randn(3, 2, 2, 2),
        "fc.weight": torch.randn(10, 16),
    }
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, "model": model, "optimizer": {"state": {0: {"momentum_buffer": torch.randn(8, 3, 3, 3)}}}}, path)
    return path, model


@pytest.fixture
def session():
    return Session(image=np.random.default_rng(0).random((3, 16, 16)), spec=ConvSpec(in_channels=3, stride=2))


def _picker(qtbot, path, session):
    dialog = KernelPickerDialog(read_kernel_file(path), session)
    qtbot.addWidget(dialog)
    return dialog


def test_lists_layers_of_a_nested_checkpoint(qtbot, checkpoint, session):
    path, _ = checkpoint
    dialog = _picker(qtbot, path, session)
    rows = [[dialog.table.item(r, c).text() for c in range(5)] for r in range(dialog.table.rowCount())]
    assert rows == [
        ["model.features.0.weight", "8 x 3 x 3 x 3", "float32", "yes", ""],
        ["model.features.2.weight", "16 x 8 x 5 x 5", "float32", "no", ""],
        ["model.dw.weight", "6 x 1 x 3 x 3", "float32", "no", ""],
        ["model.up1.weight", "3 x 2 x 2 x 2", "float32", "no", "transposed (by its name)"],
    ]
    assert dialog.loaded.name == "model.features.0.weight"  # the first row is selected


def test_whole_layer_and_one_filter(qtbot, checkpoint, session):
    path, model = checkpoint
    dialog = _picker(qtbot, path, session)
    choice = dialog.choice()
    assert choice.spec.weight_shape == (8, 3, 3, 3) and choice.spec.stride == 2 and choice.spec.bias
    np.testing.assert_array_equal(choice.weight, model["features.0.weight"].double().numpy())
    # A click on the third row of thumbnails picks filter 2.
    row_h = filter_mosaic(dialog.loaded.weight)[1]
    qtbot.mouseClick(dialog.mosaic, Qt.MouseButton.LeftButton, pos=QPoint(5, 2 * row_h + 3))
    assert dialog.one.isChecked() and dialog.index.value() == 2
    choice = dialog.choice()
    assert choice.spec.out_channels == 1
    np.testing.assert_array_equal(choice.weight[0], model["features.0.weight"][2].double().numpy())
    assert "Conv2d(3, 1" in dialog.notes.text()


def test_depthwise_and_transposed(qtbot, checkpoint, session):
    path, _ = checkpoint
    dialog = _picker(qtbot, path, session)
    dialog.select("dw.weight")
    assert dialog.choice().spec.groups == 3 and "groups = 3" in dialog.notes.text()
    dialog.select("up1.weight")
    assert dialog.transposed.isChecked()
    spec = dialog.choice().spec
    assert spec.transposed and (spec.in_channels, spec.out_channels) == (3, 2)
    dialog.transposed.setChecked(False)
    assert not dialog.choice().spec.transposed


def test_thumbnails_rgb_column_and_nan_hatching():
    w = np.random.default_rng(0).normal(size=(4, 3, 3, 3))
    w[1, 2, 0, 0] = np.nan
    image, row_h = filter_mosaic(w)
    px = 40 // 3
    assert image.shape[0] == 4 * row_h - 2 and image.shape[1] == 4 * (3 * px + 2) - 2  # 3 channels + RGB
    nan_cell = image[row_h : row_h + px, 2 * (3 * px + 2) : 2 * (3 * px + 2) + px]
    assert (nan_cell == NON_FINITE_RGBA).all(axis=-1).any()
    assert not (image[:row_h] == NON_FINITE_RGBA).all(axis=-1).any()
    one_channel, _ = filter_mosaic(np.ones((2, 1, 3, 3)))
    assert one_channel.shape[1] == 3 * px


def test_nan_warning_shown(qtbot, tmp_path, session):
    w = np.ones((2, 1, 3, 3))
    w[0, 0, 0, 0] = np.inf
    np.save(tmp_path / "inf.npy", w)
    dialog = _picker(qtbot, tmp_path / "inf.npy", session)
    assert "infinite" in dialog.warnings.text()


def test_open_kernel_file_applies_undoably(qtbot, checkpoint, session, monkeypatch):
    path, model = checkpoint
    stack = History()
    before = session.snapshot()

    def accept(dialog):
        dialog.select("features.2.weight")
        dialog.one.setChecked(True)
        dialog.index.setValue(4)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(KernelPickerDialog, "exec", accept)
    assert open_kernel_file(None, session, stack, path)
    assert session.weight.shape == (1, 8, 5, 5) and session.spec.stride == 2
    np.testing.assert_array_equal(session.weight[0], model["features.2.weight"][4].double().numpy())
    assert stack.count() == 1 and "filter 4" in stack.undo_text
    stack.undo()
    assert session.snapshot().same_as(before)


def test_refused_file_leaves_session_untouched(qtbot, tmp_path, session, monkeypatch):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"w": Evil()}, tmp_path / "evil.pth")
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    before = session.snapshot()
    assert not open_kernel_file(None, session, History(), tmp_path / "evil.pth")
    assert session.snapshot().same_as(before) and not marker.exists()
    assert "Nothing was run" in shown[0]


def test_cancel_changes_nothing(qtbot, checkpoint, session, monkeypatch):
    monkeypatch.setattr(KernelPickerDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    before = session.snapshot()
    assert not open_kernel_file(None, session, History(), checkpoint[0])
    assert session.snapshot().same_as(before)


def test_copy_literal(qtbot):
    session = Session(spec=ConvSpec(), weight=np.full((1, 1, 3, 3), 0.1), bias=np.array([1 / 3]))
    text = copy_kernel_literal(session)
    assert QGuiApplication.clipboard().text() == text
    namespace = {"torch": torch}
    exec(text, namespace)
    np.testing.assert_array_equal(namespace["weight"].numpy(), session.weight)
    np.testing.assert_array_equal(namespace["bias"].numpy(), [1 / 3])


def test_save_kernel_file_dialog(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    session = Session(spec=ConvSpec(), weight=np.ones((1, 1, 3, 3)))
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "k"), "NumPy array (*.npy)")
    )
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert kernel_picker.save_kernel_file(None, session, settings=settings) == tmp_path / "k.npy"
    np.testing.assert_array_equal(read_npy(tmp_path / "k.npy").load("k").weight, session.weight)
    assert files.last_folder(settings) == str(tmp_path)  # the next file dialog starts here


def test_a_refused_save_says_why(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    session = Session(image=np.zeros((3, 8, 8)), spec=ConvSpec(in_channels=3, out_channels=2))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "k.txt"), ""))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    assert kernel_picker.save_kernel_file(None, session) is None
    assert "one 2-D filter" in shown[0] and not (tmp_path / "k.txt").exists()
