"""Feature maps: the chosen layer's output for the current input, every channel in a grid,
one map large; a vector output (Linear, Flatten) as bars.

The layer follows ``Network.selected`` (the combo at the top selects it; with nothing
selected the first convolution is shown).  Clicking a map shows it large and probes its
centre pixel; clicking in the large map probes that pixel (the receptive-field panel
draws where it looks).  A run that is stale stays on screen dimmed with "updating…"
until the new one is in; a layer that does not fit says why instead of a grid.  Hidden,
the panel draws nothing and catches up when shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from convplay.core.layer_trace import shape_text
from convplay.core.network import Network, Probe
from convplay.qt import style
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.widgets.bar_chart import BarChart
from convplay.qt.widgets.layer_combo import LayerCombo, first_conv
from convplay.qt.widgets.map_grid import (
    MAX_DRAWN,
    MapGrid,
    MapView,
    levels_text,
    map_levels,
)

STALE_DELAY_MS = 150  # a run that comes back sooner never dims the maps (no flicker while drawing)


class FeatureMapsPanel(QWidget):
    """``hovered(str)``: the value under the pointer (also shown at the panel's foot)."""

    hovered = Signal(str)

    def __init__(self, network: Network, controller=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.network = network
        self.controller = controller
        self._channel = 0
        self._shown_layer = -1
        self._drawn = None  # (run, layer, shared) last drawn: a repeat draws nothing

        self.layer_combo = LayerCombo("The layer whose output is shown (the layer stack's selection)")
        self.shared_check = QCheckBox("Same scale")
        self.shared_check.setChecked(True)
        self.shared_check.setToolTip("On: every map uses the same colour levels, so maps compare with each other. "
                                     "Off: each map uses its own levels, so faint maps show their pattern.")
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.layer_combo, 1)
        top.addWidget(self.shared_check)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setToolTip("What the maps are: their number, their colour scale, and whether they are up to date")
        self.stale_label = QLabel("updating\u2026")
        self.stale_label.setStyleSheet(style.STALE_BANNER_STYLE)
        self.stale_label.setToolTip("The input, the weights or the stack changed: the maps shown are the last run's")
        self.stale_label.hide()
        self.held_label = QLabel("")
        self.held_label.setWordWrap(True)
        self.held_label.setStyleSheet(style.muted_text_style())
        self.held_label.setToolTip("Opening a layer in the sliding window puts that layer's input in the Input "
                                   "panel; the maps stay those of the network's own input")
        self.held_label.hide()
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.error_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.error_label.setToolTip("Why this layer has no output")

        self.large = MapView()
        self.large_caption = QLabel("")
        self.large_caption.setToolTip("The map shown large, its size and its colour levels")
        large_box = QWidget()
        large_layout = QVBoxLayout(large_box)
        large_layout.setContentsMargins(0, 0, 0, 0)
        large_layout.addWidget(self.large_caption)
        large_layout.addWidget(self.large, 1)

        self.grid = MapGrid()
        self.grid_scroll = QScrollArea()
        self.grid_scroll.setWidgetResizable(True)
        self.grid_scroll.setWidget(self.grid)
        self.grid_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.grid_scroll.setToolTip(self.grid.toolTip())
        self.grid_scroll.viewport().installEventFilter(self)
        self.maps_split = QSplitter(Qt.Orientation.Vertical)
        self.maps_split.addWidget(large_box)
        self.maps_split.addWidget(self.grid_scroll)
        self.maps_split.setStretchFactor(0, 2)
        self.maps_split.setStretchFactor(1, 3)
        self.maps_split.setSizes([180, 300])
        self.maps_split.setChildrenCollapsible(False)

        self.bars = BarChart()
        self.bars.setToolTip("The layer's output is a vector: one bar per value")
        bars_page = QWidget()
        bars_layout = QVBoxLayout(bars_page)
        bars_layout.setContentsMargins(0, 0, 0, 0)
        bars_layout.addWidget(self.bars)
        self.vector_note = QLabel("")
        self.vector_note.setWordWrap(True)
        self.vector_note.setToolTip("What the vector is")
        bars_layout.addWidget(self.vector_note)
        bars_layout.addStretch(1)
        bars_box = QScrollArea()
        bars_box.setWidgetResizable(True)
        bars_box.setWidget(bars_page)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.maps_split)  # 0: maps
        self.pages.addWidget(bars_box)  # 1: a vector
        self.pages.addWidget(self.error_label)  # 2: nothing to show, and why
        self.pages.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.hover = QLabel("")
        self.hover.setToolTip("The value under the mouse pointer")
        self.hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.stale_label)
        layout.addLayout(status_row)
        layout.addWidget(self.held_label)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hover)

        self._stale_timer = QTimer(self)
        self._stale_timer.setSingleShot(True)
        self._stale_timer.setInterval(STALE_DELAY_MS)
        self._stale_timer.timeout.connect(self._show_stale)

        self.layer_combo.currentIndexChanged.connect(self._on_combo)
        self.shared_check.toggled.connect(lambda _on: self._when_shown.request())
        self.grid.map_clicked.connect(self._on_map_clicked)
        self.large.pixel_clicked.connect(self._on_pixel_clicked)
        for source in (self.grid.hovered, self.large.hovered, self.bars.hovered):
            source.connect(self.hover.setText)
            source.connect(self.hovered)
        self._when_shown = WhenShown(self, self.refresh)
        hear_while_alive(self, (network.stack_changed, self._when_shown.request),
                         (network.selection_changed, self._when_shown.request),
                         (network.run_changed, self._when_shown.request),
                         (network.probe_changed, self._on_probe))
        if controller is not None and hasattr(controller, "follows_changed"):
            controller.follows_changed.connect(self._show_held)
        self.refresh()

    # -- what is shown -----------------------------------------------------------------
    @property
    def layer(self) -> int:
        """The layer shown: the network's selection, else the first convolution."""
        selected = self.network.selected
        return selected if selected >= 0 else first_conv(self.network.trace)

    @property
    def channel(self) -> int:
        return self._channel

    def _output(self, layer: int):
        """The run's output of ``layer`` if it fits the trace (a run of an older stack does not)."""
        run = self.network.run
        if run is None or not 0 <= layer < len(self.network.trace.rows):
            return None
        out = run.output_of(layer)
        want = self.network.trace.rows[layer].output_shape
        if out is None or want is None or tuple(out.shape) != tuple(want):
            return None
        return out

    def refresh(self) -> None:
        network = self.network
        trace = network.trace
        layer = self.layer
        self.layer_combo.set_trace(trace, layer)
        if layer != self._shown_layer:
            self._shown_layer = layer
            probe = network.probe
            self._channel = probe.channel if probe is not None and probe.layer == layer else 0
        self._follow_staleness()
        self._show_held()
        if layer < 0:
            self._show_message("The stack has no layers yet: add one in the Layer stack panel.")
            return
        row = trace.rows[layer]
        if row.error or row.output_shape is None:
            reason = trace.error or row.error or "an earlier layer does not fit"
            self._show_message(f"{row.layer.label} has no output: {reason}")
            return
        run = network.run
        if run is not None and run.failed is not None and run.failed <= layer and network.run_is_fresh:
            self._show_message(f"PyTorch stopped at layer {run.failed}: {run.error}")
            return
        if run is not None and run.error and run.failed is None and network.run_is_fresh:
            self._show_message(f"The stack did not run: {run.error}")
            return
        out = self._output(layer)
        if out is None:
            self.status.setText(f"{row.layer.label}: {shape_text(row.output_shape)}, running\u2026")
            self._show_message("")
            return
        key = (run, layer, self.shared_check.isChecked(), self._channel)
        if key == self._drawn:
            return
        self._drawn = key
        if out.ndim == 3:
            self._show_maps(row, out)
        else:
            self._show_vector(row, out, layer)

    def _show_held(self, *_args) -> None:
        controller = self.controller
        text = controller.held_text() if controller is not None and hasattr(controller, "held_text") else ""
        self.held_label.setText(text)
        self.held_label.setVisible(bool(text))

    def _show_message(self, text: str) -> None:
        self._drawn = None
        self.error_label.setText(text)
        if text:
            self.status.setText("")
        self.pages.setCurrentIndex(2)

    def _show_maps(self, row, out: np.ndarray) -> None:
        shared = self.shared_check.isChecked()
        n = out.shape[0]
        self._channel = min(self._channel, n - 1)
        self.grid.set_room_height(self.grid_scroll.viewport().height())
        self.grid.set_maps(out, shared=shared)
        self.grid.set_selected(self._channel)
        signed = self.grid.signed
        levels = self.grid.levels[self._channel] if self._channel < MAX_DRAWN else map_levels(
            out[self._channel][None], True, signed)[0]
        name = f"{row.layer.label} map {self._channel}"
        self.large.set_map(out[self._channel], levels, signed, name)
        probe = self.network.probe
        on_this = probe is not None and probe.layer == row.index and probe.channel == self._channel
        self.large.set_marked((probe.row, probe.col) if on_this else None)
        colours = "diverging, 0 white" if signed else "sequential, 0 dark"
        scale = "the same scale for every map" if shared else "each map its own scale"
        count = f"{n} maps of {out.shape[1]}×{out.shape[2]}"
        if n > MAX_DRAWN:
            count += f" (the first {MAX_DRAWN} drawn)"
        self.status.setText(f"{count}, {colours}, {scale}")
        self.large_caption.setText(f"map {self._channel} of {row.layer.label}: {levels_text(levels, signed)}")
        self.pages.setCurrentIndex(0)

    def _show_vector(self, row, out: np.ndarray, layer: int) -> None:
        values = out.ravel()
        last = layer == len(self.network.trace.rows) - 1
        labels = self.network.labels if last and self.network.labels and len(self.network.labels) == len(values) else None
        top = int(np.nanargmax(values)) if values.size and np.isfinite(values).any() else None
        self.bars.set_bars(values, labels, highlight=top)
        kind = "as a strip, one column per value" if self.bars.strip else "one bar per value"
        self.status.setText(f"{row.layer.label}: a vector of {len(values)} values, {kind}")
        finite = values[np.isfinite(values)]
        if self.bars.strip and finite.size:
            zeros = int(np.count_nonzero(finite == 0))
            self.vector_note.setText(
                f"from {float(finite.min()):.3g} to {float(finite.max()):.3g}; {zeros} of {values.size} are 0; "
                f"the largest, at {top}, is drawn orange")
        else:
            self.vector_note.setText("")
        self.pages.setCurrentIndex(1)

    # -- staleness ---------------------------------------------------------------------
    def _follow_staleness(self) -> None:
        if self.network.run_is_fresh or self.network.run is None:
            self._stale_timer.stop()
            self._set_dimmed(False)
        elif not self._stale_timer.isActive() and not self.stale_label.isVisible():
            self._stale_timer.start()

    def _show_stale(self) -> None:
        if not self.network.run_is_fresh and self.network.run is not None:
            self._set_dimmed(True)

    def _set_dimmed(self, on: bool) -> None:
        self.stale_label.setVisible(on)
        for view in (self.grid, self.large, self.bars):
            view.set_stale(on)

    # -- user -> model -------------------------------------------------------------------
    def _on_combo(self, index: int) -> None:
        if index >= 0:
            self.network.select(index)
            self._when_shown.request()

    def _on_map_clicked(self, channel: int) -> None:
        self._channel = channel
        out = self._output(self.layer)
        if out is not None and out.ndim == 3:
            _, h, w = out.shape
            self.network.set_probe(Probe(self.layer, channel, h // 2, w // 2))
        self._drawn = None
        self.refresh()

    def _on_pixel_clicked(self, row: int, col: int) -> None:
        self.network.set_probe(Probe(self.layer, self._channel, row, col))

    def _on_probe(self) -> None:
        probe = self.network.probe
        if probe is not None and probe.layer == self.layer and probe.channel != self._channel:
            self._channel = probe.channel
        self._drawn = None
        self._when_shown.request()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.grid_scroll.viewport() and event.type() == QEvent.Type.Resize:
            # The tiles fill the room the splitter gives the grid before it scrolls.
            self.grid.set_room_height(event.size().height())
        return False
