"""The layer form: built from KINDS for every kind, it gives back the layer it shows (pairs,
'same' padding, None strides, typed floats and output sizes), refuses what the constructor
refuses without raising, and reads typed code with the parser."""

from __future__ import annotations

import pytest

from convplay.core.layers import KINDS, Layer
from convplay.qt.widgets.layer_dialog import LayerDialog

EXAMPLES = [
    Layer.make("Conv2d", 3, 8, (3, 5), stride=2, padding="valid", dilation=(1, 2), bias=False,
               padding_mode="reflect", name="conv1"),
    Layer.make("Conv2d", 4, 8, 3, padding="same", groups=2),
    Layer.make("Conv2d", 4, 8, 3, padding=(1, 2)),
    Layer.make("ConvTranspose2d", 8, 4, 2, stride=2, output_padding=1, name="up"),
    Layer.make("MaxPool2d", 3, stride=None, padding=1, dilation=2, ceil_mode=True),
    Layer.make("MaxPool2d", (2, 3), stride=(1, 2)),
    Layer.make("AvgPool2d", 2, count_include_pad=False, divisor_override=3),
    Layer.make("AdaptiveMaxPool2d", (4, None)),
    Layer.make("AdaptiveAvgPool2d", 7),
    Layer.make("ReLU"),
    Layer.make("LeakyReLU", 0.2),
    Layer.make("Sigmoid"),
    Layer.make("Tanh"),
    Layer.make("GELU", approximate="tanh"),
    Layer.make("BatchNorm2d", 16, eps=1e-3, momentum=None, affine=False),
    Layer.make("Dropout", 0.25),
    Layer.make("Flatten", start_dim=2),
    Layer.make("Linear", 800, 10, bias=False, name="fc"),
]


def test_the_examples_cover_every_kind():
    assert {layer.kind for layer in EXAMPLES} == set(KINDS)


@pytest.mark.parametrize("layer", EXAMPLES, ids=lambda layer: layer.code())
def test_the_form_gives_back_the_layer_it_shows(qtbot, layer):
    dialog = LayerDialog(layer, "8×8×8")
    qtbot.addWidget(dialog)
    dialog._from_form()  # read every field back, as after an edit
    assert dialog.layer == layer
    assert dialog.ok_button.isEnabled() and not dialog.error_text
    assert dialog.code_edit.text() == layer.code()


def test_typed_values_that_are_no_values_are_refused(qtbot):
    dialog = LayerDialog(Layer.make("LeakyReLU"), "")
    qtbot.addWidget(dialog)
    line = dialog.field("negative_slope")._line
    line.setText("import os")
    line.editingFinished.emit()
    assert dialog.layer is None and "must be a number" in dialog.error_text
    assert not dialog.ok_button.isEnabled()
    line.setText("0.3")
    line.editingFinished.emit()
    assert dialog.layer == Layer.make("LeakyReLU", 0.3)


def test_a_pool_stride_of_none_is_the_kernel_size(qtbot):
    dialog = LayerDialog(Layer.make("MaxPool2d", 2, stride=1), "")
    qtbot.addWidget(dialog)
    dialog.field("stride")._default_box.setChecked(True)
    assert dialog.layer == Layer.make("MaxPool2d", 2)


def test_a_bad_name_is_refused(qtbot):
    dialog = LayerDialog(Layer.make("ReLU", name="relu"), "")
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("__class__.x y")
    dialog.name_edit.editingFinished.emit()
    assert dialog.layer is None and "name" in dialog.error_text


def test_typed_code_of_another_kind_rebuilds_the_form(qtbot):
    dialog = LayerDialog(Layer.make("ReLU", name="act"), "")
    qtbot.addWidget(dialog)
    dialog.code_edit.setText("nn.LeakyReLU(0.1)")
    dialog.code_edit.textEdited.emit("nn.LeakyReLU(0.1)")
    dialog.code_edit.returnPressed.emit()
    assert dialog.layer == Layer.make("LeakyReLU", 0.1, name="act")
    assert dialog.field("negative_slope")._line.text() == "0.1"
