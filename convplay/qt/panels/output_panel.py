"""PyTorch's output: one channel large with a colour bar, and a grid of every channel.

Raw values use the diverging 'CET-D1' map with symmetric levels +-max|x|, so zero is the
map's centre and negative responses are never clipped to black.  |x| and ReLU views use
a sequential map from 0 to the maximum.  Each grid thumbnail has its own symmetric
levels (a weak channel stays readable next to a strong one); its title gives that scale.

The panel is a view of ``Results``: it draws PyTorch's latest outcome and marks it stale
with the reason.  The arrays shown are prepared in the compute worker (``preparer``, a
``display.DisplayPreparer``), the large view's pixels already coloured: the UI thread only
hands them to the views.  They are redone here only when the user changes the channel or
the mode, or shows the grid.  Out of sight (a tab behind another) it draws nothing and
catches up when shown.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from convplay.core.results import Results
from convplay.qt import style
from convplay.qt.shown import WhenShown
from convplay.qt.widgets.channel_grid import ChannelGrid
from convplay.qt.widgets.image_view import ImageView
from convplay.qt.widgets.lookup import qt_lookup
from convplay.core.display import (
    MODES,
    DisplayChoice,
    DisplayPreparer,
    OutputDisplay,
    channel_view,
    thumbnails,
)

MODE_LABELS = {"raw": "raw x", "abs": "|x|", "relu": "ReLU(x)"}
STALE_OPACITY = 0.4


def colormap_for(mode: str) -> str:
    return style.DIVERGING if mode == "raw" else style.SEQUENTIAL


def _lookup_table(name: str) -> np.ndarray:
    return pg.colormap.get(name).getLookupTable(nPts=256, alpha=True)


class OutputPanel(QWidget):
    """Shows ``results``' output (C, H, W); ``hovered(str)`` carries the readout of any view.

    Model -> view: ``Results.outcome_changed`` (its ``display`` from ``preparer``, run in
    the compute worker) and ``Results.stale_changed``.
    View state: the channel spin box and the view-mode combo (``channel``, ``mode``).
    """

    hovered = Signal(str)
    displayed = Signal()  # after a new output (or channel / mode) reached the views

    def __init__(self, results: Results | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.results = results if results is not None else Results()
        self._output: np.ndarray | None = None  # the output the views were drawn from
        self._grid_display: OutputDisplay | None = None  # the worker's thumbnails for _output
        self._grid_hidden_for_one = False
        luts = {mode: _lookup_table(colormap_for(mode)) for mode in MODES}
        self.preparer = DisplayPreparer(luts, qt_lookup)

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
        self.stale_banner.setStyleSheet(style.STALE_BANNER_STYLE)
        self.stale_banner.setToolTip("The settings are impossible; the last valid output is kept on screen")
        self.stale_banner.hide()

        self.view = ImageView(name="output", colorbar=True)
        self._when_shown = WhenShown(self, self._show_latest)
        self.view.setToolTip("PyTorch's output for the chosen channel; hover for values")
        self.grid = ChannelGrid()
        # Thumbnails are made, in the worker too, only while the grid can be seen.
        self._grid_when_shown = WhenShown(self.grid, self._draw_grid, lambda _seen: self._update_choice())

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

        self.channel_spin.valueChanged.connect(self._on_channel_changed)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.grid.channel_clicked.connect(self.channel_spin.setValue)
        self.view.hovered.connect(self.hovered)
        self.grid.hovered.connect(self.hovered)
        self.results.outcome_changed.connect(self._when_shown.request)
        self.results.stale_changed.connect(self._show_stale)
        self.destroyed.connect(lambda: _disconnect(self.results, self._when_shown.request, self._show_stale))
        self._show_stale(self.results.stale)
        if self.results.outcome is not None:
            self._when_shown.request()

    # -- state -----------------------------------------------------------------------
    @property
    def output(self) -> np.ndarray | None:
        """The output on screen (the results' latest once the panel has drawn it)."""
        return self._output

    @property
    def channel(self) -> int:
        return self.channel_spin.value()

    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    @property
    def is_stale(self) -> bool:
        """True while the stale banner is up (test hook)."""
        return not self.stale_banner.isHidden()

    def set_channel(self, channel: int) -> None:
        self.channel_spin.setValue(channel)

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(MODES.index(mode))

    # -- model -> view -----------------------------------------------------------------
    def _show_latest(self) -> None:
        outcome = self.results.outcome
        if outcome is not None and outcome.output is not self._output:
            self.show_output(outcome.output, outcome.display)

    def show_output(self, output: np.ndarray, display: OutputDisplay | None = None) -> None:
        """Draw a PyTorch output (C, H, W).

        ``display``, when given, is ``preparer(output)``: whatever in it still matches the
        current channel and mode is shown as is, the rest is prepared here.
        """
        if output.ndim != 3:
            raise ValueError(f"an output must be (C, H, W), not {output.shape}")
        self._output = output
        self.shape_label.setText("output " + " \u00d7 ".join(str(n) for n in output.shape))
        last = max(0, output.shape[0] - 1)
        if last != self.channel_spin.maximum():  # a new range lays the panel out again
            self.channel_spin.blockSignals(True)
            self.channel_spin.setMaximum(last)
            self.channel_spin.blockSignals(False)
        # One channel is the large view already: the grid hides, and comes back with more.
        if output.shape[0] == 1 and not self.grid.isHidden():
            self.grid.hide()
            self._grid_hidden_for_one = True
        elif output.shape[0] > 1 and self._grid_hidden_for_one:
            self._grid_hidden_for_one = False
            self.grid.show()
        self._update_choice()
        self._show_channel(display)
        self._show_grid(display)
        self.displayed.emit()

    def _show_stale(self, reason: str) -> None:
        """The output on screen is out of date for ``reason`` ("" : it is not)."""
        if reason:
            kept = "Showing the last valid output." if self.results.outcome is not None else "No output yet."
            self.stale_banner.setText(f"STALE \u2014 {reason.rstrip('.')}. {kept}")
            self.stale_banner.show()
            self.view.image_item.setOpacity(STALE_OPACITY)
        elif not self.stale_banner.isHidden():
            self.stale_banner.hide()
            self.view.image_item.setOpacity(1.0)

    # -- internals -------------------------------------------------------------------
    def _grid_wanted(self) -> bool:
        return self._grid_when_shown.seen()

    def _update_choice(self) -> None:
        """Tell the worker's preparer what to make for the next output."""
        choice = DisplayChoice(self.channel, self.mode, self._grid_wanted())
        if choice != self.preparer.choice:
            self.preparer.choice = choice

    def _show_channel(self, display: OutputDisplay | None) -> None:
        output = self._output
        if output is None:
            return
        channel = min(self.channel, output.shape[0] - 1)
        mode = self.mode
        view = display.view if display is not None else None
        if view is None or view.channel != channel or view.mode != mode:
            view = channel_view(output, channel, mode, self.preparer.tables[mode], qt_lookup)
        cmap = colormap_for(mode)
        if cmap != self.view.colormap_name:
            self.view.set_colormap(cmap)
        self.view.name = f"output ch {channel}"
        self.view.set_image(view.image, view.levels, values=output[channel], pixels=view.pixels)

    def _show_grid(self, display: OutputDisplay | None) -> None:
        """Every channel's thumbnail, now if the grid is seen, else once it is shown."""
        if self._output is None:
            return
        self._grid_display = display
        self._grid_when_shown.request()

    def _draw_grid(self) -> None:
        output, display = self._output, self._grid_display
        if output is None:
            return
        thumbs = display.thumbnails if display is not None else None
        if thumbs is None or thumbs.mode != self.mode:
            thumbs = thumbnails(output, self.mode, self.preparer.luts)
        self.grid.show_thumbnails(thumbs, output, self.channel)

    def _on_channel_changed(self) -> None:
        self._update_choice()
        self.grid.set_selected(self.channel)
        self._show_channel(None)
        if self._output is not None:
            self.displayed.emit()

    def _on_mode_changed(self) -> None:
        self._update_choice()
        self._show_channel(None)
        self._show_grid(None)
        if self._output is not None:
            self.displayed.emit()


def _disconnect(results: Results, *slots) -> None:
    for signal in (results.outcome_changed, results.stale_changed):
        for slot in slots:
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
