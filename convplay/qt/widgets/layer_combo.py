"""A combo box of a stack's layers, each with its output shape: "2 · conv2 (Conv2d) → 16×8×8"."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QComboBox, QSizePolicy

from convplay.core.layer_trace import StackTrace, shape_text


def layer_text(row) -> str:
    layer = row.layer
    name = layer.label if layer.label == layer.kind else f"{layer.label} ({layer.kind})"
    shape = "does not fit" if row.error else shape_text(row.output_shape)
    return f"{row.index} \u00b7 {name} \u2192 {shape}"


def first_conv(trace: StackTrace) -> int:
    """The first layer with feature maps to look at: a convolution, else any map output."""
    for row in trace.rows:
        if row.layer.kind in ("Conv2d", "ConvTranspose2d") and row.ok:
            return row.index
    for row in trace.rows:
        if row.ok and row.output_shape is not None and len(row.output_shape) == 3:
            return row.index
    return 0 if trace.rows else -1


class LayerCombo(QComboBox):
    """The layers of a trace; ``currentIndex()`` is the layer index."""

    def __init__(self, tooltip: str, parent=None):
        super().__init__(parent)
        self.setToolTip(tooltip)
        # A long layer name elides instead of widening a narrow dock.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._texts: list[str] = []
        self._trace: StackTrace | None = None
        self._new_texts: list[str] = []

    def set_trace(self, trace: StackTrace, layer: int) -> None:
        if trace is not self._trace:  # a stroke keeps the trace: its texts are not made again
            self._trace = trace
            self._new_texts = [layer_text(row) for row in trace.rows]
        texts = self._new_texts
        with QSignalBlocker(self):
            if texts != self._texts:
                self.clear()
                self.addItems(texts)
                self._texts = texts
            self.setCurrentIndex(layer if 0 <= layer < len(texts) else -1)
