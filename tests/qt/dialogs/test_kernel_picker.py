"""The kernel picker dialog, opening a kernel file into the session, saving and copying."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QMessageBox, QScrollArea

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
    filter_thumbnails,
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
    # A click on the third filter's thumbnails picks filter 2, and frames it.
    assert dialog.mosaic.selected is None
    qtbot.mouseClick(dialog.mosaic, Qt.MouseButton.LeftButton, pos=dialog.mosaic.geometry_.cell(2, 1).center())
    assert dialog.one.isChecked() and dialog.index.value() == 2 and dialog.mosaic.selected == 2
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
    thumbs = filter_thumbnails(w)
    px = 40 // 3
    assert (thumbs.rows, thumbs.columns, thumbs.rgb) == (4, 4, True)  # 3 channels + RGB
    assert [thumbs.column_label(c) for c in range(4)] == ["in 0", "in 1", "in 2", "RGB"]
    assert all(cell.shape == (3 * px, 3 * px, 4) for row in thumbs.cells for cell in row)
    assert (thumbs.cells[1][2][:px, :px] == NON_FINITE_RGBA).all(axis=-1).any()
    assert not any((cell == NON_FINITE_RGBA).all(axis=-1).any() for cell in thumbs.cells[0])
    one_channel = filter_thumbnails(np.ones((2, 1, 3, 3)))
    assert one_channel.columns == 1 and not one_channel.rgb


def _mosaic_dialog(qtbot, tmp_path, session, shape=(8, 3, 5, 5)):
    torch.manual_seed(1)
    torch.save({"features.0.weight": torch.randn(*shape), "features.0.bias": torch.randn(shape[0])}, tmp_path / "k.pth")
    dialog = _picker(qtbot, tmp_path / "k.pth", session)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_filters_are_separated_and_labelled_out_and_in(qtbot, tmp_path, session):
    dialog = _mosaic_dialog(qtbot, tmp_path, session)
    mosaic, g = dialog.mosaic, dialog.mosaic.geometry_
    assert (g.rows, g.columns) == (8, 4)
    assert dialog.filters_caption.text().startswith("8 filters (out) of 5×5, each with a thumbnail per input channel (in): 3 input channels")
    assert 1 < g.per_line < 8  # side by side as the dialog's width allows, in lines
    # Channels of one filter a gap apart; filters a wider gap apart, each in its own band.
    a, b = g.cell(0, 0), g.cell(0, 1)
    assert b.left() - a.right() - 1 == g.channel_gap >= 3
    bands = [g.band(r).united(g.label(r)) for r in range(g.rows)]
    assert not any(bands[i].intersects(bands[j]) for i in range(8) for j in range(i + 1, 8))
    beside, below = g.band(0), g.band(g.per_line)
    assert g.label(1).left() - beside.right() - 1 == g.filter_gap > g.channel_gap
    assert below.top() - beside.bottom() - 1 == g.filter_gap
    assert mosaic.size() == g.size() and g.size().width() <= dialog.findChild(QScrollArea).viewport().width()
    image = mosaic.grab().toImage()
    background = mosaic.palette().color(mosaic.backgroundRole())
    between_lines = QPoint(a.center().x(), (beside.bottom() + below.top()) // 2)
    between_filters = QPoint((beside.right() + g.label(1).left()) // 2, a.center().y())
    assert image.pixelColor(between_lines) == background and image.pixelColor(between_filters) == background
    assert image.pixelColor(QPoint(a.right() + 2, a.center().y())).name() == "#b0b0b0"  # the band between channels

    def has_text(rect):
        return any(image.pixelColor(x, y).lightness() < 100
                   for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom()))

    assert has_text(g.label(3))  # "out 3"
    assert has_text(g.heading(0, 2)) and has_text(g.heading(1, 3))  # "in 2" over each filter's column, "RGB"
    assert not has_text(QRect(g.label(0).left(), beside.bottom() + 2, g.left - 2, g.filter_gap - 3))  # nothing between
    assert "out 3, input channel in 1" in mosaic.tip_at(g.cell(3, 1).center())
    # A click between two filters picks nothing.
    for point in (between_lines, between_filters):
        qtbot.mouseClick(mosaic, Qt.MouseButton.LeftButton, pos=point)
    assert dialog.whole.isChecked() and mosaic.selected is None
    # The label is part of the filter: clicking "out 6" picks filter 6.
    qtbot.mouseClick(mosaic, Qt.MouseButton.LeftButton, pos=g.label(6).center())
    assert dialog.one.isChecked() and dialog.index.value() == 6


def test_filters_wrap_to_the_width_they_are_given(qtbot):
    from convplay.qt.dialogs.kernel_picker import FilterMosaic

    mosaic = FilterMosaic()
    qtbot.addWidget(mosaic)
    mosaic.set_weight(np.random.default_rng(2).normal(size=(8, 1, 3, 3)))
    assert mosaic.geometry_.per_line == 1  # no width given: a column of filters
    unit = mosaic.geometry_.unit_w + mosaic.geometry_.filter_gap
    mosaic.set_width_limit(3 * unit + 5)
    g = mosaic.geometry_
    assert g.per_line == 3 and mosaic.width() <= 3 * unit + 5
    assert g.band(3).top() > g.band(2).bottom() and g.band(3).left() == g.band(0).left()  # the next line
    assert [g.row_at(g.cell(r, 0).center()) for r in range(8)] == list(range(8))
    mosaic.set_width_limit(100 * unit)
    assert mosaic.geometry_.per_line == 8  # never more places than filters
    mosaic.set_width_limit(10)
    assert mosaic.geometry_.per_line == 1  # too narrow for even one: one a line, the area scrolls


def test_the_chosen_filter_is_framed(qtbot, tmp_path, session):
    dialog = _mosaic_dialog(qtbot, tmp_path, session)
    g = dialog.mosaic.geometry_
    dialog.one.setChecked(True)
    dialog.index.setValue(4)
    assert dialog.mosaic.selected == 4
    image = dialog.mosaic.grab().toImage()
    top_edge = QPoint(g.band(4).center().x(), g.band(4).top() + 1)
    assert image.pixelColor(top_edge).name() == "#ff9800"
    assert image.pixelColor(QPoint(top_edge.x(), g.band(3).top() + 1)).name() != "#ff9800"
    dialog.whole.setChecked(True)
    assert dialog.mosaic.selected is None


def test_thumbnails_and_labels_follow_the_text_zoom(qtbot, tmp_path, session):
    from convplay.qt.zoom import text_zoom

    dialog = _mosaic_dialog(qtbot, tmp_path, session)
    before = dialog.mosaic.geometry_
    try:
        text_zoom().set_factor(1.5)
        after = dialog.mosaic.geometry_
        assert after.cell_w >= 1.4 * before.cell_w and after.left > before.left and after.top > before.top
        assert dialog.mosaic.size() == after.size()
    finally:
        text_zoom().reset()
    assert dialog.mosaic.geometry_ == before


def test_transposed_rows_are_the_output_filters(qtbot, checkpoint, session):
    path, _ = checkpoint
    dialog = _picker(qtbot, path, session)
    dialog.select("up1.weight")  # (in 3, out 2, 2, 2), transposed by its name
    assert (dialog.mosaic.geometry_.rows, dialog.mosaic.geometry_.columns) == (2, 4)  # 3 inputs and RGB
    dialog.transposed.setChecked(False)  # as a Conv2d: 3 filters of 2 channels
    assert (dialog.mosaic.geometry_.rows, dialog.mosaic.geometry_.columns) == (3, 2)


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
    assert shown[0].startswith("evil.pth was refused") and "Nothing in it was run" in shown[0]


def test_cancel_changes_nothing(qtbot, checkpoint, session, monkeypatch):
    monkeypatch.setattr(KernelPickerDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    before = session.snapshot()
    assert not open_kernel_file(None, session, History(), checkpoint[0])
    assert session.snapshot().same_as(before)


def test_copy_kernel_as_pytorch_rebuilds_what_pytorch_receives(qtbot):
    session = Session(spec=ConvSpec(out_channels=2), weight=np.full((2, 1, 3, 3), 0.1), bias=np.array([1 / 3, -2.0]))
    text = copy_kernel_literal(session)
    assert QGuiApplication.clipboard().text() == text
    assert "[[[[0.1, 0.1, 0.1],\n       [0.1, 0.1, 0.1]," in text  # one row per line, float32's own 0.1
    namespace: dict = {}
    exec(text, namespace)
    assert namespace["weight"].dtype == torch.float32
    np.testing.assert_array_equal(namespace["weight"].numpy(), session.weight.astype(np.float32))
    np.testing.assert_array_equal(namespace["bias"].numpy(), np.float32([1 / 3, -2.0]))
    np.testing.assert_array_equal(namespace["conv"].weight.detach().numpy(), session.weight.astype(np.float32))
    # In float64 (the compute dtype chosen) every digit is kept.
    namespace = {}
    exec(copy_kernel_literal(session, "float64"), namespace)
    np.testing.assert_array_equal(namespace["bias"].numpy(), [1 / 3, -2.0])


def _save_dialog_answers(monkeypatch, path, chosen_filter=None):
    """Make the save dialog answer ``path`` with the file type whose label contains ``chosen_filter``."""
    from PySide6.QtWidgets import QFileDialog

    asked = {}

    def answer(parent, title, start, filters):
        asked.update(title=title, start=start, filters=filters.split(";;"))
        chosen = next((f for f in asked["filters"] if chosen_filter and chosen_filter in f), "")
        return str(path), chosen

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_save_kernel_file_dialog_proposes_a_state_dict_in_float32(qtbot, tmp_path, monkeypatch):
    session = Session(spec=ConvSpec(out_channels=2), weight=np.full((2, 1, 3, 3), 0.1), bias=np.array([0.5, 1 / 3]))
    asked = _save_dialog_answers(monkeypatch, tmp_path / "k", "float32 (*.pth)")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    saved = kernel_picker.save_kernel_file(None, session, settings=settings)
    assert asked["start"].endswith("kernel.pth")
    assert asked["filters"][0] == "PyTorch state_dict, weight and bias, float32 (*.pth)"  # the proposal
    assert "NumPy array, the weight only, not the bias, float32 (*.npy)" in asked["filters"]
    assert saved.path == tmp_path / "k.pth"  # the file type's suffix added
    state = torch.load(saved.path, weights_only=True)
    assert state["weight"].dtype == torch.float32
    np.testing.assert_array_equal(state["bias"].numpy(), np.float32([0.5, 1 / 3]))
    assert saved.message == "Saved the 2×1×3×3 weight and its 2 bias values as float32 in k.pth"
    assert files.last_folder(settings) == str(tmp_path)  # the next file dialog starts here


@pytest.mark.parametrize("typed, chosen, name, dtype", [
    ("k.npz", "float64 (*.pth)", "k.npz", "float64"),  # the name's suffix wins, the type's dtype stays
    ("k.safetensors", "", "k.safetensors", "float32"),
    ("sobel.v2", "float64 (*.npz)", "sobel.v2.npz", "float64"),  # a dot in the name is not a suffix
])
def test_save_kernel_file_formats_and_dtypes(qtbot, tmp_path, monkeypatch, typed, chosen, name, dtype):
    session = Session(spec=ConvSpec(out_channels=2), weight=np.full((2, 1, 3, 3), 1 / 3), bias=np.array([0.5, 0.25]))
    _save_dialog_answers(monkeypatch, tmp_path / typed, chosen)
    saved = kernel_picker.save_kernel_file(None, session, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert saved.path == tmp_path / name
    loaded = read_kernel_file(saved.path).load("weight")
    np.testing.assert_array_equal(loaded.weight, session.weight.astype(dtype).astype(np.float64))
    np.testing.assert_array_equal(loaded.bias, session.bias.astype(dtype).astype(np.float64))


def test_the_compute_dtype_float64_is_proposed_first(qtbot, tmp_path, monkeypatch):
    session = Session(spec=ConvSpec(bias=False), weight=np.ones((1, 1, 3, 3)))
    asked = _save_dialog_answers(monkeypatch, tmp_path / "k.npy")
    saved = kernel_picker.save_kernel_file(None, session, dtype="float64")
    assert asked["filters"][0] == "PyTorch state_dict, weight (this kernel has no bias), float64 (*.pth)"
    assert np.load(saved.path, allow_pickle=False).dtype == np.float64  # no type chosen: the proposal's dtype
    assert saved.message == "Saved the 1×1×3×3 weight (the kernel has no bias) as float64 in k.npy"


def test_saving_npy_says_the_bias_was_left_out(qtbot, tmp_path, monkeypatch):
    session = Session(spec=ConvSpec(), weight=np.ones((1, 1, 3, 3)), bias=np.array([2.0]))
    _save_dialog_answers(monkeypatch, tmp_path / "k.npy", "float32 (*.npy)")
    saved = kernel_picker.save_kernel_file(None, session)
    assert "weight alone" in saved.message and "the bias was not saved" in saved.message
    np.testing.assert_array_equal(read_npy(saved.path).load("k").weight, session.weight)


def test_a_refused_save_says_why(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    session = Session(image=np.zeros((3, 8, 8)), spec=ConvSpec(in_channels=3, out_channels=2))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "k.txt"), ""))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    assert kernel_picker.save_kernel_file(None, session) is None
    assert "one 2-D filter" in shown[0] and not (tmp_path / "k.txt").exists()
