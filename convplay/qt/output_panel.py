"""PyTorch's output: one channel large with a colour bar, and a grid of every channel.

Raw values use the diverging 'CET-D1' map with symmetric levels +-max|x|, so zero is the
map's centre and negative responses are never clipped to black.  |x| and ReLU views use
a sequential map from 0 to the maximum.  Each grid thumbnail has its own symmetric
levels (a weak channel stays readable next to a strong one); its title gives that scale.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from convplay.qt.image_view import DIVERGING, ImageView, format_value

MODES = ("raw", "abs", "relu")
MODE_LABELS = {"raw": "raw x", "abs": "|x|", "relu": "ReLU(x)"}
SEQUENTIAL = "viridis"
GRID_MAX_CHANNELS = 64
THUMB_MAX_PX = 96  # thumbnails are decimated to this many pixels per side at most
STALE_OPACITY = 0.4


def finite_abs_max(x: np.ndarray) -> float:
    """max |x| over the finite values (0 for an empty or all-NaN array)."""
    if x.size == 0:
        return 0.0
    m = max(float(x.max()), -float(x.min()))
    if math.isfinite(m):
        return m
    finite = x[np.isfinite(x)]
    return float(np.abs(finite).max()) if finite.size else 0.0


def transformed(x: np.ndarray, mode: str) -> tuple[np.ndarray, tuple[float, float]]:
    """What a view shows for ``mode`` and the levels to show it with."""
    if mode == "raw":
        m = finite_abs_max(x) or 1.0
        return x, (-m, m)
    y = np.abs(x) if mode == "abs" else np.maximum(x, 0)
    return y, (0.0, finite_abs_max(y) or 1.0)


class _ChannelGrid(pg.GraphicsLayoutWidget):
    """Small images of every output channel; clicking one selects it."""

    channel_clicked = Signal(int)
    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(
            "Every output channel.  Each thumbnail has its own symmetric scale (its title "
            "gives +-max); click one to show it large."
        )
        self._cells: list[tuple[pg.ViewBox, pg.ImageItem, pg.LabelItem]] = []
        self._output: np.ndarray | None = None
        self._cmap_name = ""
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    def show_output(self, output: np.ndarray, mode: str, selected: int) -> None:
        self._output = output
        n = min(output.shape[0], GRID_MAX_CHANNELS)
        if n != len(self._cells):
            self._rebuild(n)
        cmap_name = DIVERGING if mode == "raw" else SEQUENTIAL
        h, w = output.shape[1:]
        step = max(1, math.ceil(max(h, w) / THUMB_MAX_PX))
        # thumbnail pixel j covers source pixels j*step .. (j+1)*step-1: item -> output coordinates
        transform = QTransform(step, 0, 0, step, -0.5, -0.5)
        for ch, (box, item, label) in enumerate(self._cells):
            thumb = np.ascontiguousarray(output[ch, ::step, ::step], dtype=np.float32)
            shown, levels = transformed(thumb, mode)
            if cmap_name != self._cmap_name:
                item.setColorMap(pg.colormap.get(cmap_name))
            reshaped = item.image is None or item.image.shape != shown.shape
            item.setTransform(transform)
            item.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False, levels=levels)
            if reshaped:
                box.autoRange(padding=0.0)
            mark = "\u25b6 " if ch == selected else ""
            scale = f"\u00b1{levels[1]:.3g}" if mode == "raw" else f"max {levels[1]:.3g}"
            label.setText(f"{mark}ch {ch}  {scale}", size="8pt")
        self._cmap_name = cmap_name

    def _rebuild(self, n: int) -> None:
        self.ci.clear()
        self.ci.setSpacing(2)
        self._cells = []
        cols = max(1, math.ceil(math.sqrt(n)))
        for ch in range(n):
            row, col = divmod(ch, cols)
            label = self.ci.addLabel(f"ch {ch}", row=2 * row, col=col, size="8pt")
            self.ci.layout.setRowMaximumHeight(2 * row, 16)
            box = self.ci.addViewBox(row=2 * row + 1, col=col, lockAspect=True, invertY=True, enableMouse=False)
            box.setMenuEnabled(False)
            item = pg.ImageItem(axisOrder="row-major")
            box.addItem(item)
            self._cells.append((box, item, label))
        self._cmap_name = ""

    def _cell_at(self, scene_pos: QPointF) -> tuple[int, int, int] | None:
        if self._output is None:
            return None
        for ch, (box, _item, _label) in enumerate(self._cells):
            if box.sceneBoundingRect().contains(scene_pos):
                p = box.mapSceneToView(scene_pos)
                row, col = int(math.floor(p.y() + 0.5)), int(math.floor(p.x() + 0.5))
                if 0 <= row < self._output.shape[1] and 0 <= col < self._output.shape[2]:
                    return ch, row, col
                return None
        return None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        cell = self._cell_at(scene_pos)
        if cell is None or self._output is None:
            self.hovered.emit("")
            return
        ch, row, col = cell
        self.hovered.emit(f"output ch {ch}  row {row}, col {col}: {format_value(float(self._output[ch, row, col]))}")

    def _on_mouse_clicked(self, event) -> None:
        cell = self._cell_at(event.scenePos())
        if cell is not None:
            self.channel_clicked.emit(cell[0])


class OutputPanel(QWidget):
    """Shows an output array (C, H, W); ``hovered(str)`` carries the readout of any view.

    Model -> view: ``show_output(array)``, ``set_stale(reason)``, ``clear_stale()``.
    View -> model: the channel spin box and the view-mode combo (``channel``, ``mode``).
    """

    hovered = Signal(str)
    displayed = Signal()  # after a new output (or channel / mode) reached the views

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._output: np.ndarray | None = None
        self._stale_message = ""

        self.channel_spin = QSpinBox()
        self.channel_spin.setRange(0, 0)
        self.channel_spin.setPrefix("channel ")
        self.channel_spin.setToolTip("Which output channel to show large (out_channels index)")
        self.mode_combo = QComboBox()
        for mode in MODES:
            self.mode_combo.addItem(MODE_LABELS[mode], mode)
        self.mode_combo.setToolTip(
            "raw: signed values, diverging colours centred on 0\n"
            "|x|: magnitude of the response\n"
            "ReLU(x): what a following ReLU would pass on"
        )
        self.shape_label = QLabel("")
        self.shape_label.setToolTip("Shape of PyTorch's output (out_channels, H_out, W_out)")

        self.stale_banner = QLabel("")
        self.stale_banner.setWordWrap(True)
        self.stale_banner.setStyleSheet(
            "QLabel { background: #ffd54f; color: #3e2723; font-weight: bold; padding: 4px; border-radius: 3px; }"
        )
        self.stale_banner.setToolTip("The settings are impossible; the last valid output is kept on screen")
        self.stale_banner.hide()

        self.view = ImageView(name="output", colorbar=True)
        self.view.setToolTip("PyTorch's output for the chosen channel; hover for values")
        self.grid = _ChannelGrid()

        controls = QHBoxLayout()
        controls.addWidget(self.channel_spin)
        controls.addWidget(self.mode_combo)
        controls.addStretch(1)
        controls.addWidget(self.shape_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.stale_banner)
        layout.addWidget(splitter, 1)

        self.channel_spin.valueChanged.connect(self._refresh)
        self.mode_combo.currentIndexChanged.connect(self._refresh)
        self.grid.channel_clicked.connect(self.channel_spin.setValue)
        self.view.hovered.connect(self.hovered)
        self.grid.hovered.connect(self.hovered)

    # -- state -----------------------------------------------------------------------
    @property
    def output(self) -> np.ndarray | None:
        return self._output

    @property
    def channel(self) -> int:
        return self.channel_spin.value()

    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    @property
    def is_stale(self) -> bool:
        return bool(self._stale_message)

    @property
    def stale_message(self) -> str:
        return self._stale_message

    def set_channel(self, channel: int) -> None:
        self.channel_spin.setValue(channel)

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(MODES.index(mode))

    # -- model -> view -----------------------------------------------------------------
    def show_output(self, output: np.ndarray) -> None:
        """Show a fresh PyTorch output (C, H, W); clears the stale mark."""
        if output.ndim != 3:
            raise ValueError(f"an output must be (C, H, W), not {output.shape}")
        self._output = output
        self.clear_stale()
        self.shape_label.setText("output " + " \u00d7 ".join(str(n) for n in output.shape))
        self.channel_spin.blockSignals(True)
        self.channel_spin.setMaximum(max(0, output.shape[0] - 1))
        self.channel_spin.blockSignals(False)
        self._refresh()

    def set_stale(self, reason: str) -> None:
        """Mark the shown output as out of date, with the reason, keeping it on screen."""
        self._stale_message = reason or "the settings are invalid"
        self.stale_banner.setText(f"STALE \u2014 {self._stale_message}. Showing the last valid output.")
        self.stale_banner.show()
        self.view.image_item.setOpacity(STALE_OPACITY)

    def clear_stale(self) -> None:
        self._stale_message = ""
        self.stale_banner.hide()
        self.view.image_item.setOpacity(1.0)

    # -- internals -------------------------------------------------------------------
    def _refresh(self) -> None:
        output = self._output
        if output is None:
            return
        channel = min(self.channel, output.shape[0] - 1)
        mode = self.mode
        raw = output[channel]
        shown, levels = transformed(raw, mode)
        cmap = DIVERGING if mode == "raw" else SEQUENTIAL
        if cmap != self.view.colormap_name:
            self.view.set_colormap(cmap)
        self.view.name = f"output ch {channel}"
        self.view.set_image(shown, levels, values=raw)
        self.grid.show_output(output, mode, channel)
        self.displayed.emit()
