"""The layer stack panel: the digits CNN's shapes and totals against torch's modules, the
MNIST model's failing row, its banner and its one-click fix, editing through the network,
refusals that keep the stack, the paste dialog on hostile text, and opening a layer in the
playground as one undoable step."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from torch import nn

from convplay.core.builtin_stacks import builtin_stack
from convplay.core.history import History
from convplay.core.layers import Layer, Stack
from convplay.core.network import Network, NetworkRun
from convplay.core.pooling_model import PoolingModel
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt import style
from convplay.qt.panels.stack_panel import StackPanel
from convplay.qt.theme import theme
from convplay.qt.zoom import text_zoom

MNIST_ERROR = "fc (Linear): Linear expects 4608 inputs, the stack gives 32×5×5 = 800: use nn.Linear(800, 10)"


class FakeController(QObject):
    """The network controller's face, without torch workers: what the panel asks is recorded."""

    busy_changed = Signal(bool)
    message = Signal(str)
    shape_check_changed = Signal(str)

    def __init__(self, network):
        super().__init__()
        self.network = network
        self.shape_check = ""
        self.loaded: list[str] = []
        self.initialised: list[int] = []

    def load_builtin(self, key: str) -> bool:
        stack, info = builtin_stack(key)
        self.network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key=key)
        return True

    def load_weights_file(self, path) -> None:
        self.loaded.append(str(path))

    def initialise(self, seed: int) -> None:
        self.initialised.append(seed)


@pytest.fixture
def setup(qtbot):
    network = Network()
    session = Session(np.zeros((1, 16, 16)), ConvSpec(1, 1, 3))
    history = History()
    pooling = PoolingModel()
    controller = FakeController(network)
    controller.load_builtin("digits")
    panel = StackPanel(network, session, history, pooling, controller)
    qtbot.addWidget(panel)
    panel.resize(500, 650)
    return panel, network, session, history, pooling, controller


def cell(panel, row, column) -> str:
    model = panel.table_model
    return model.data(model.index(row, column))


def digits_torch():
    return [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10)]


def torch_rows(modules, input_shape):
    """(input shape, output shape, params, macs) per module, as torch computes them."""
    x = torch.zeros((1, *input_shape))
    rows = []
    with torch.no_grad():
        for m in modules:
            y = m(x)
            params = sum(p.numel() for p in m.parameters())
            if isinstance(m, nn.Conv2d):
                macs = y.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
            elif isinstance(m, nn.Linear):
                macs = m.in_features * m.out_features
            else:
                macs = 0
            rows.append((tuple(x.shape[1:]), tuple(y.shape[1:]), params, macs))
            x = y
    return rows


def shape(t) -> str:
    return "×".join(str(v) for v in t)


def test_the_table_shows_the_digits_cnns_shapes_params_and_macs_as_torch_computes_them(setup):
    panel, _network, *_ = setup
    expected = torch_rows(digits_torch(), (1, 8, 8))
    assert panel.table_model.rowCount() == len(expected) == 7
    for i, (x, y, params, macs) in enumerate(expected):
        assert cell(panel, i, 2) == shape(x)
        assert cell(panel, i, 3) == shape(y)
        assert cell(panel, i, 4) == f"{params:,}"
        assert cell(panel, i, 5) == f"{macs:,}"
    total_params = sum(r[2] for r in expected)
    total_macs = sum(r[3] for r in expected)
    assert total_params == 3818
    assert f"{total_params:,} parameters" in panel.totals.text()
    assert f"{total_macs:,} MACs" in panel.totals.text()
    assert "output 10" in panel.totals.text()
    assert cell(panel, 0, 1) == "conv1\nConv2d(1, 8, 3, padding=1)"
    assert cell(panel, 4, 6) == "6" and cell(panel, 4, 7) == "2"  # the pool's receptive field and jump
    assert panel.model_combo.currentText().startswith("The digits CNN")
    assert panel.model_combo.itemData(0) == "digits"
    assert not panel.banner.isVisibleTo(panel)


def test_cell_tooltips_give_the_formulas_with_numbers(setup):
    panel, *_ = setup
    model = panel.table_model
    tip = model.data(model.index(4, 3), Qt.ItemDataRole.ToolTipRole)
    assert "⌊6/2⌋ + 1 = 3 + 1 = 4" in tip
    assert "r = 5 + (2 − 1)·1·1 = 6" in model.data(model.index(4, 6), Qt.ItemDataRole.ToolTipRole)
    assert "the largest value of each window" in model.data(model.index(4, 1), Qt.ItemDataRole.ToolTipRole)
    assert "= 1,168" in model.data(model.index(2, 4), Qt.ItemDataRole.ToolTipRole)


def test_the_mnist_models_failing_row_banner_and_fix(setup, qtbot):
    panel, network, *_ = setup
    index = panel.model_combo.findData("mnist")
    panel.model_combo.setCurrentIndex(index)
    panel.model_combo.activated.emit(index)
    assert network.key == "mnist"
    assert network.trace.failed == 7
    assert cell(panel, 7, 3) == "✗"
    colour = panel.table_model.data(panel.table_model.index(7, 1), Qt.ItemDataRole.ForegroundRole).color()
    assert colour == QColor(style.ERROR)
    assert panel.banner.isVisibleTo(panel)
    assert panel.error_label.text() == f"✗ {MNIST_ERROR}"
    assert panel.fix_button.isVisibleTo(panel)
    assert "x.view(-1, 4608)" in panel.notes_label.text() and panel.notes_label.isVisibleTo(panel)
    qtbot.mouseClick(panel.fix_button, Qt.MouseButton.LeftButton)
    assert network.trace.failed is None
    assert network.stack.layers[7] == Layer.make("Linear", 800, 10, name="fc")
    assert not panel.banner.isVisibleTo(panel)
    # torch agrees: the fixed model runs on a 28×28 digit and gives ten scores
    modules = [nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(16, 32, 3), nn.ReLU(),
               nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 10)]
    rows = torch_rows(modules, (1, 28, 28))
    assert [cell(panel, i, 3) for i in range(8)] == [shape(r[1]) for r in rows]


def test_rows_past_the_failure_are_grey_dashes(setup):
    panel, network, *_ = setup
    network.set_input_shape((3, 8, 8))  # conv1 takes one channel
    assert network.trace.failed == 0
    assert panel.error_label.text() == ("✗ conv1 (Conv2d): Conv2d expects 1 input channel, the stack gives 3: "
                                        "use nn.Conv2d(3, 8, 3, padding=1)")
    assert cell(panel, 3, 2) == "—" and cell(panel, 3, 3) == "—"
    grey = panel.table_model.data(panel.table_model.index(3, 0), Qt.ItemDataRole.ForegroundRole).color()
    assert grey == QColor(style.MUTED)
    panel.apply_fix()
    assert network.trace.failed is None and network.stack.layers[0] == Layer.make("Conv2d", 3, 8, 3, padding=1,
                                                                                   name="conv1")


def test_input_shape_spins_retrace_and_follow_the_network(setup):
    panel, network, *_ = setup
    panel.shape_spins[1].setValue(16)
    assert network.input_shape == (1, 16, 8)
    assert cell(panel, 0, 3) == "8×16×8"
    network.set_input_shape((1, 12, 12))
    assert [s.value() for s in panel.shape_spins] == [1, 12, 12]


def test_an_input_shape_too_large_to_run_is_refused_and_the_spins_keep_the_networks(setup):
    # The monkey: 4096×4096×4096 typed into the spins made the run build a 275 GB input
    # (a MemoryError out of the network controller after a minute).
    from convplay.qt.panels.stack_panel import MAX_INPUT_VALUES

    panel, network, *_ = setup
    for spin in (panel.shape_spins[1], panel.shape_spins[2], panel.shape_spins[0]):
        spin.setValue(4096)
    c, h, w = network.input_shape
    assert c * h * w <= MAX_INPUT_VALUES and network.input_shape == (1, 4096, 4096)
    assert [s.value() for s in panel.shape_spins] == [1, 4096, 4096]
    assert "4096×4096×4096 holds 68,719,476,736 values" in panel.message.text()
    panel.shape_spins[0].setValue(4)  # 4×4096×4096 = 2**26: the largest that runs
    assert network.input_shape == (4, 4096, 4096)


def test_add_remove_move_and_edit_change_the_networks_stack(setup, qtbot):
    panel, network, *_ = setup
    panel.show()
    qtbot.waitExposed(panel)
    network.select(1)  # the ReLU after conv1: 8×8×8
    assert panel.add_layer("Conv2d")
    assert network.stack.layers[2] == Layer.make("Conv2d", 8, 8, 3, padding=1, name="conv3")
    assert network.selected == 2 and panel.table.currentIndex().row() == 2
    assert network.trace.failed is None
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert len(network.stack.layers) == 7 and network.trace.failed is None
    network.select(1)
    qtbot.keyClick(panel.table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [layer.label for layer in network.stack.layers[:3]] == ["conv1", "conv2", "ReLU"]
    assert network.selected == 2
    qtbot.keyClick(panel.table, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert [layer.label for layer in network.stack.layers[:3]] == ["conv1", "ReLU", "conv2"]
    network.select(6)
    assert panel.add_layer("Linear")
    assert network.stack.layers[7] == Layer.make("Linear", 10, 10, name="fc1")
    network.select(4)
    assert panel.add_layer("BatchNorm2d")
    assert network.stack.layers[5] == Layer.make("BatchNorm2d", 16, name="bn1")


def test_editing_a_layer_in_its_form_and_by_code(setup, qtbot):
    panel, network, *_ = setup
    dialog = panel.edit_dialog(0)
    dialog.field("out_channels")._spin.setValue(4)
    assert dialog.layer == Layer.make("Conv2d", 1, 4, 3, padding=1, name="conv1")
    assert dialog.code_edit.text() == "nn.Conv2d(1, 4, 3, padding=1)"
    assert panel.replace_layer(0, dialog.layer)
    assert network.trace.failed == 2  # conv2 still takes 8 channels
    assert "use nn.Conv2d(4, 16, 3, padding=1)" in panel.error_label.text()

    network.select(0)

    def type_code():
        d = panel._edit_dialog
        d.code_edit.setText("nn.Conv2d(1, 8, 5, padding=2)")
        d.code_edit.textEdited.emit(d.code_edit.text())
        d.accept()  # OK reads what was typed

    QTimer.singleShot(0, type_code)
    panel.edit_selected()
    assert network.stack.layers[0] == Layer.make("Conv2d", 1, 8, 5, padding=2, name="conv1")
    assert network.trace.failed is None


@pytest.mark.parametrize("code", ["nn.Conv2d(1, 8, 0)", "__import__('os').system('echo x')", "nn.Linear(1e12, 3)",
                                  "nn.Conv2d(1, 8, 3).cuda()"])
def test_a_bad_edit_shows_a_message_and_keeps_the_stack(setup, code):
    panel, network, *_ = setup
    before = network.stack
    dialog = panel.edit_dialog(0)
    dialog.code_edit.setText(code)
    dialog.code_edit.textEdited.emit(code)  # as typing says it
    dialog.code_edit.returnPressed.emit()
    assert dialog.layer is None
    assert dialog.error_text
    assert dialog.error.isVisibleTo(dialog)
    assert not dialog.ok_button.isEnabled()
    dialog.accept()
    assert dialog.result() == 0
    assert network.stack is before


def test_a_refused_form_value_is_marked_and_says_why(setup):
    panel, _network, *_ = setup
    dialog = panel.edit_dialog(2)  # conv2: 8 → 16
    dialog.field("groups")._spin.setValue(3)
    assert dialog.layer is None
    assert "divisible by groups" in dialog.error_text
    assert dialog.field("groups").styleSheet()  # framed in red
    dialog.field("groups")._spin.setValue(8)
    assert dialog.layer == Layer.make("Conv2d", 8, 16, 3, padding=1, groups=8, name="conv2")
    assert not dialog.field("groups").styleSheet()


def test_editing_a_module_used_twice_changes_every_use(setup):
    panel, network, _s, _h, _p, controller = setup
    controller.load_builtin("mnist")
    dialog = panel.edit_dialog(2)
    assert "used 2 times" in "".join(label.text() for label in dialog.findChildren(type(dialog.about)))
    dialog.field("kernel_size")._pair[0].setValue(3)
    dialog.field("kernel_size")._pair[1].setValue(3)
    panel.replace_layer(2, dialog.layer)
    pools = [layer for layer in network.stack.layers if layer.name == "pool"]
    assert len(pools) == 2 and all(p["kernel_size"] == 3 for p in pools)


def test_paste_dialog_refuses_hostile_text_with_its_line(setup):
    from convplay.qt.widgets.stack_code_dialog import StackCodeDialog

    dialog = StackCodeDialog()
    dialog.set_text("nn.Sequential(\n    nn.Conv2d(1, 8, 3),\n    __import__('os').system('rm -rf /'),\n)")
    assert not dialog.ok_button.isEnabled()
    assert dialog.stack is None
    assert dialog.status.text().startswith("✗ line 3:")
    assert dialog.error_line == 3
    marks = dialog.editor.extraSelections()
    assert len(marks) == 1 and marks[0].cursor.blockNumber() == 2
    dialog.set_text("import os\nos.system('echo x')")
    assert not dialog.ok_button.isEnabled() and "line" in dialog.status.text()
    dialog.set_text("nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())")
    assert dialog.ok_button.isEnabled() and dialog.status.text().startswith("✓ 2 layers")
    assert dialog.editor.extraSelections() == []
    assert "nn.Sequential" in dialog.seen.text()
    dialog.deleteLater()


def test_pasting_code_replaces_the_stack(setup):
    panel, network, *_ = setup

    def paste():
        d = panel._code_dialog
        d.set_text("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                   "        self.c = nn.Conv2d(1, 2, 3)\n        self.r = nn.ReLU()\n"
                   "    def forward(self, x):\n        return self.r(self.c(x))\n")
        d.accept()

    QTimer.singleShot(0, paste)
    panel.paste_code()
    assert [layer.label for layer in network.stack.layers] == ["c", "r"]
    assert network.key == ""
    assert panel.model_combo.currentData() == "__own__"
    assert cell(panel, 0, 3) == "2×6×6"


def test_copy_code_gives_sequential_text_that_reads_back(setup):
    from PySide6.QtGui import QGuiApplication

    from convplay.core.stack_parse import parse_stack

    panel, network, *_ = setup
    panel.copy_code()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("nn.Sequential(")
    assert [(la.kind, la.args) for la in parse_stack(text).layers] == [(la.kind, la.args) for la in network.stack.layers]


def test_weights_file_and_initialise_go_to_the_controller(setup, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel, network, _s, _h, _p, controller = setup
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("/tmp/model.pth", "")))
    panel.load_button.click()
    assert controller.loaded == ["/tmp/model.pth"]
    panel.seed_spin.setValue(5)
    panel.init_button.click()
    assert controller.initialised == [5] and network.seed == 5
    network.set_weights({}, "model.pth: 3 of 6 tensors loaded", "missing conv2.weight, conv2.bias")
    assert panel.weights_label.text() == "model.pth: 3 of 6 tensors loaded"
    assert "missing conv2.weight" in panel.weights_note.text()
    controller.message.emit("model.pth: there are no tensors in this file")
    assert panel.message.text() == "model.pth: there are no tensors in this file"
    controller.shape_check_changed.emit("✓ every shape checked by PyTorch (meta device)")
    assert panel.check_badge.text().startswith("✓")


def test_selection_follows_the_network_both_ways(setup, qtbot):
    panel, network, *_ = setup
    network.select(3)
    assert panel.table.currentIndex().row() == 3
    panel.show()
    qtbot.waitExposed(panel)
    rect = panel.table.visualRect(panel.table_model.index(5, 3))  # once shown: rows wrap to its width
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert network.selected == 5


def fresh_run(network, session_rng=0):
    """Weights and a run for the digits stack as the controller would write them (values made
    here: what matters is where they go)."""
    rng = np.random.default_rng(session_rng)
    weights = {
        "conv1.weight": rng.normal(size=(8, 1, 3, 3)), "conv1.bias": rng.normal(size=8),
        "conv2.weight": rng.normal(size=(16, 8, 3, 3)), "conv2.bias": rng.normal(size=16),
        "fc.weight": rng.normal(size=(10, 256)), "fc.bias": rng.normal(size=10),
    }
    network.set_weights(weights, "test weights")
    shapes = [(8, 8, 8), (8, 8, 8), (16, 8, 8), (16, 8, 8), (16, 4, 4), (256,), (10,)]
    outputs = tuple(rng.random(s).astype(np.float32) for s in shapes)
    x = rng.random((1, 8, 8)).astype(np.float32)
    network.set_run(NetworkRun(x, outputs, generation=network.generation))
    return weights, outputs


def test_opening_a_conv_layer_sets_the_playground_in_one_undo_step(setup, qtbot):
    panel, network, session, history, *_ = setup
    network.select(2)
    assert "Waiting" in panel.open_button.toolTip() and not panel.open_button.isEnabled()
    weights, outputs = fresh_run(network)
    assert panel.open_button.isEnabled() and panel.open_button.text() == "Open in the sliding window"
    before_image, before_weight, before_spec = session.image, session.weight, session.spec
    with qtbot.waitSignal(panel.open_requested) as opened:
        assert panel.open_selected()
    assert opened.args == ["sliding"]
    assert session.image.shape == (8, 8, 8)
    np.testing.assert_array_equal(session.image, outputs[1])
    np.testing.assert_array_equal(session.weight, weights["conv2.weight"])
    np.testing.assert_array_equal(session.bias, weights["conv2.bias"])
    assert (session.spec.in_channels, session.spec.out_channels, session.spec.kernel_size,
            session.spec.padding) == (8, 16, 3, 1)
    assert session.kernel_name == "digits CNN conv2.weight"
    assert history.index == 1
    history.undo()
    assert session.image is before_image and session.weight is before_weight and session.spec == before_spec


def test_opening_a_pooling_layer_fills_the_pooling_view(setup, qtbot):
    panel, network, _session, _history, pooling, _c = setup
    _weights, outputs = fresh_run(network)
    network.select(4)
    assert panel.open_button.text() == "Open in the pooling view"
    with qtbot.waitSignal(panel.open_requested) as opened:
        panel.table.setFocus()
        assert panel.open_selected()
    assert opened.args == ["pooling"]
    np.testing.assert_array_equal(pooling.input, outputs[3])
    assert pooling.spec.kind == "max" and pooling.spec.kernel_size == 2
    assert "ReLU" in pooling.input_name


def test_a_layer_without_a_kernel_cannot_be_opened_and_says_why(setup):
    panel, network, *_ = setup
    fresh_run(network)
    network.select(5)  # Flatten
    assert not panel.open_button.isEnabled()
    assert "no kernel" in panel.open_button.toolTip()
    assert not panel.open_selected()
    assert "no kernel" in panel.message.text()


def test_the_empty_stack_and_back(setup):
    panel, network, *_ = setup
    index = panel.model_combo.findData("__empty__")
    panel.model_combo.activated.emit(index)
    assert network.stack.layers == ()
    assert "No layers" in panel.totals.text()
    assert panel.add_layer("Conv2d")
    assert network.stack.layers[0] == Layer.make("Conv2d", 1, 1, 3, padding=1)
    assert panel.model_combo.currentData() == "__own__"
    panel.model_combo.activated.emit(panel.model_combo.findData("digits"))
    assert network.key == "digits"


def test_zoom_and_high_contrast_keep_the_table_readable(setup):
    panel, _network, _s, _h, _p, controller = setup
    controller.load_builtin("mnist")
    text_zoom().set_factor(1.5)
    theme().set_high_contrast(True)
    colour = panel.table_model.data(panel.table_model.index(7, 1), Qt.ItemDataRole.ForegroundRole).color()
    assert colour == QColor(style.HIGH_CONTRAST["ERROR"])
    assert panel.banner.isVisibleTo(panel)


def test_a_narrow_dock_scrolls_rather_than_clips(setup, qtbot):
    panel, *_ = setup
    panel.resize(320, 300)
    panel.show()
    qtbot.waitExposed(panel)
    body = panel.scroll.widget()
    assert body.height() >= body.minimumSizeHint().height()
    assert panel.scroll.verticalScrollBar().maximum() > 0


def test_the_panel_at_1280x720s_dock_size(setup, qtbot, tmp_path):
    panel, _network, _s, _h, _p, controller = setup
    controller.load_builtin("mnist")
    panel.resize(500, 650)
    panel.show()
    qtbot.waitExposed(panel)
    image = panel.grab()
    image.save(str(tmp_path / "stack_panel.png"))
    assert image.width() == 500
    # every column in sight: the layer's code is what gives way
    header = panel.table.horizontalHeader()
    assert header.sectionPosition(7) + header.sectionSize(7) <= panel.table.viewport().width()


def test_enter_on_the_table_opens_the_selected_layer(setup, qtbot):
    panel, network, session, *_ = setup
    fresh_run(network)
    network.select(0)
    panel.show()
    qtbot.waitExposed(panel)
    panel.table.setFocus()
    with qtbot.waitSignal(panel.open_requested) as opened:
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert opened.args == ["sliding"]
    assert session.image.shape == (1, 8, 8) and session.weight.shape == (8, 1, 3, 3)


def test_opening_a_transposed_convolution_takes_pytorchs_weight_layout(setup, qtbot):
    panel, network, session, history, *_ = setup
    stack = Stack((Layer.make("Conv2d", 1, 4, 3, name="down"), Layer.make("ReLU"),
                   Layer.make("ConvTranspose2d", 4, 2, 2, stride=2, name="up")), title="An upsampler")
    network.set_stack(stack, input_shape=(1, 6, 6))
    up = nn.ConvTranspose2d(4, 2, 2, stride=2)
    rng = np.random.default_rng(3)
    network.set_weights({"down.weight": rng.normal(size=(4, 1, 3, 3)), "down.bias": rng.normal(size=4),
                         "up.weight": up.weight.detach().numpy(), "up.bias": up.bias.detach().numpy()}, "test")
    outputs = (rng.random((4, 4, 4)), rng.random((4, 4, 4)), rng.random((2, 8, 8)))
    network.set_run(NetworkRun(rng.random((1, 6, 6)), outputs, generation=network.generation))
    network.select(2)
    assert panel.open_selected()
    assert session.weight.shape == tuple(up.weight.shape) == (4, 2, 2, 2)  # (in, out/groups, kh, kw)
    np.testing.assert_allclose(session.weight, up.weight.detach().numpy())
    assert session.spec.transposed and session.spec.stride == 2
    assert session.image.shape == (4, 4, 4)
    assert session.kernel_name == "upsampler up.weight"
    history.undo()
    assert session.image.shape == (1, 16, 16)


def test_ctrl_shift_v_in_the_panel_opens_the_paste_dialog(setup, qtbot):
    panel, network, *_ = setup
    with qtbot.waitActive(panel):
        panel.show()
        panel.activateWindow()
    panel.table.setFocus()
    seen = []

    def close_it():  # once the dialog is up (the key's events may run this first)
        if panel._code_dialog is None:
            QTimer.singleShot(10, close_it)
            return
        seen.append(panel._code_dialog)
        panel._code_dialog.reject()

    QTimer.singleShot(0, close_it)
    before = network.stack
    qtbot.keyClick(panel.table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert seen and seen[0] is not None
    assert network.stack is before  # cancelled: the stack stays


def choose(panel, key):
    index = panel.model_combo.findData(key)
    panel.model_combo.setCurrentIndex(index)
    panel.model_combo.activated.emit(index)


def test_stack_edits_are_undo_steps_and_ctrl_z_takes_back_the_stack_edit(setup):
    panel, network, session, history, *_ = setup
    image = session.image
    digits = network.stack
    network.set_weights({"conv1.weight": np.ones((8, 1, 3, 3))}, "digits_cnn.safetensors")
    trained = network.weights
    choose(panel, "mnist")
    assert history.undo_text == "Choose the MNIST CNN"
    assert panel.apply_fix()
    assert history.undo_text == "Apply the fix to fc"
    network.select(1)
    assert panel.remove_selected()
    assert history.undo_text == "Remove relu"
    network.select(0)
    assert panel.move_selected(1) and history.undo_text == "Move conv1 down"
    panel.shape_spins[1].setValue(30)
    assert history.undo_text == "Input shape 1×30×28"
    history.undo()
    assert network.input_shape == (1, 28, 28)
    history.undo()
    history.undo()
    assert [la.label for la in network.stack.layers][:2] == ["conv1", "relu"]
    history.undo()
    assert network.trace.failed == 7 and network.key == "mnist"  # the fix taken back
    history.undo()
    assert network.stack is digits and network.weights is trained  # not made again
    assert panel.model_combo.currentData() == "digits"
    assert session.image is image  # the undo took back the stack edit, not a session edit
    history.redo()
    assert network.key == "mnist"


def test_add_edit_and_paste_are_undo_steps(setup):
    panel, network, _session, history, *_ = setup
    network.select(4)
    assert panel.add_layer("BatchNorm2d") and history.undo_text == "Add bn1"
    assert panel.replace_layer(0, Layer.make("Conv2d", 1, 4, 3, padding=1, name="conv1"))
    assert history.undo_text == "Edit conv1"
    panel.use_pasted(parse("nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())"))
    assert history.undo_text == "Paste a stack of 2 layers"
    history.undo()
    assert network.stack.layers[0]["out_channels"] == 4


def test_load_weights_and_initialise_become_undo_steps_when_the_weights_arrive(setup, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel, network, _s, history, *_ = setup
    network.set_weights({"fc.bias": np.zeros(10)}, "initialised as PyTorch does (seed 0)")
    first = network.weights
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("/tmp/model.pth", "")))
    panel.load_button.click()
    assert history.undo_text == ""  # nothing has changed yet
    network.set_weights({"fc.bias": np.ones(10)}, "model.pth: 1 of 6 tensors loaded")
    assert history.undo_text == "Load weights from model.pth"
    panel.seed_spin.setValue(3)
    panel.init_button.click()
    network.set_weights({"fc.bias": np.full(10, 3.0)}, "initialised as PyTorch does (seed 3)")
    assert history.undo_text == "Initialise the weights (seed 3)"
    history.undo()
    history.undo()
    assert network.weights is first


def parse(code):
    from convplay.core.stack_parse import parse_stack

    return parse_stack(code)


def test_a_pasted_one_channel_model_takes_one_channel_instead_of_a_fix_to_three(setup):
    panel, network, *_ = setup
    choose(panel, "cifar10")
    assert network.input_shape == (3, 32, 32)
    code = ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)\n        self.pool = nn.MaxPool2d(2)\n"
            "        self.fc = nn.Linear(8 * 16 * 16, 10)\n"
            "    def forward(self, x):\n        return self.fc(torch.flatten(self.pool(self.conv1(x)), 1))\n")
    panel.use_pasted(parse(code))
    assert network.input_shape == (1, 32, 32)
    assert network.trace.failed is None and not panel.banner.isVisibleTo(panel)
    modules = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 16 * 16, 10))
    assert tuple(modules(torch.zeros(1, *network.input_shape)).shape[1:]) == network.trace.output_shape


def test_choosing_a_built_in_model_keeps_your_own_stack_to_come_back_to(setup):
    panel, network, *_ = setup
    panel.use_pasted(parse("nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())"))
    assert panel.description.text() == "Read from pasted code"
    network.set_weights({"0.weight": np.ones((2, 1, 3, 3)), "0.bias": np.zeros(2)}, "mine.pth")
    mine, weights = network.stack, network.weights
    network.select(1)
    panel.remove_selected()
    assert panel.description.text() == "The pasted model: edited here"
    edited = network.stack
    choose(panel, "digits")
    own = panel.model_combo.findData("__own__")
    assert panel.model_combo.model().item(own).isEnabled()
    choose(panel, "__own__")
    assert network.stack is edited and network.key == "" and mine is not edited
    assert network.weights is not weights or network.weights == weights  # the last own weights
    assert panel.model_combo.currentData() == "__own__"
    assert panel.history.undo_text == "Choose your own stack"


def test_your_own_stack_cannot_be_chosen_before_there_is_one(setup):
    panel, *_ = setup
    assert not panel.model_combo.model().item(panel.model_combo.findData("__own__")).isEnabled()


@pytest.mark.parametrize("key", ["cifar10", "mnist"])
def test_the_layer_column_shows_the_whole_code_at_1280x720s_dock_width(setup, qtbot, key):
    from PySide6.QtCore import QRect

    panel, network, _s, _h, _p, controller = setup
    controller.load_builtin(key)
    panel.resize(500, 650)
    panel.show()
    qtbot.waitExposed(panel)
    table = panel.table
    assert not table.isColumnHidden(2)  # the Input column too
    metrics = table.fontMetrics()
    from PySide6.QtWidgets import QStyle

    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table) + 1
    width = table.columnWidth(1) - 2 * margin  # as the item delegate lays the text out
    for row in range(panel.table_model.rowCount()):
        text = cell(panel, row, 1)
        assert "…" not in text
        needed = metrics.boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, text).height()
        assert needed <= table.rowHeight(row), (row, text)
        # wrapped between arguments, never inside a tuple: "(3, 3)" stays whole
        assert "(3,\u00a03)" in text or "(3, 3)" not in network.stack.layers[row].code()


def test_at_text_zoom_150_the_table_still_shows_several_rows(setup, qtbot):
    panel, _network, _s, _h, _p, controller = setup
    controller.load_builtin("mnist")
    text_zoom().set_factor(1.5)
    panel.resize(500, 690)
    panel.show()
    qtbot.waitExposed(panel)
    table = panel.table
    shown = sum(1 for r in range(panel.table_model.rowCount())
                if table.rowViewportPosition(r) + table.rowHeight(r) <= table.viewport().height())
    assert shown >= 3


def test_a_long_weights_source_or_description_keeps_to_one_line(setup, qtbot):
    panel, network, *_ = setup
    panel.resize(400, 650)
    panel.show()
    qtbot.waitExposed(panel)
    y = panel.load_button.mapTo(panel, panel.load_button.rect().topLeft()).y()
    source = "weights.safetensors: loaded 9 of 10 tensors; 5.weight is 10×99 in the file, the stack wants 10×676"
    network.set_weights({"fc.bias": np.zeros(10)}, source)
    qtbot.wait(10)
    assert panel.load_button.mapTo(panel, panel.load_button.rect().topLeft()).y() == y
    assert panel.weights_label.text() == source and source in panel.weights_label.toolTip()
    assert panel.weights_label.is_elided()
    assert panel.description.height() <= 2 * panel.description.fontMetrics().lineSpacing()


def test_undo_with_the_real_controller_brings_back_the_trained_weights_without_making_new_ones(qtbot):
    from convplay.qt.network_controller import NetworkController

    network = Network()
    session = Session(np.zeros((1, 32, 32)), ConvSpec(1, 1, 3))
    history = History()
    controller = NetworkController(network, session)
    try:
        panel = StackPanel(network, session, history, PoolingModel(), controller)
        qtbot.addWidget(panel)
        qtbot.waitUntil(lambda: network.run_is_fresh and bool(network.weights), timeout=60_000)
        trained, source = network.weights, network.weights_source
        assert source.startswith("digits_cnn.safetensors")
        choose(panel, "mnist")
        qtbot.waitUntil(lambda: bool(network.weights) and controller.is_settled, timeout=60_000)
        history.undo()
        assert network.weights is trained and network.key == "digits"
        qtbot.waitUntil(lambda: network.run_is_fresh and controller.is_settled, timeout=60_000)
        assert network.weights is trained and network.weights_source == source  # kept, not made again
    finally:
        controller.shutdown()


def test_a_weights_file_that_fails_to_load_leaves_no_undo_step(setup, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel, network, _s, history, _p, controller = setup
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("/tmp/bad.pth", "")))
    panel.load_button.click()
    controller.message.emit("bad.pth: there are no tensors in this file")
    network.set_weights({"fc.bias": np.zeros(10)}, "initialised as PyTorch does (seed 0)")  # made for another reason
    assert history.undo_text != "Load weights from bad.pth"


def test_the_model_boxs_tooltip_names_the_model_an_elided_box_cuts(setup):
    panel, *_ = setup
    choose(panel, "mnist")
    assert panel.model_combo.toolTip().startswith("An MNIST CNN with a wrong Linear size:")
