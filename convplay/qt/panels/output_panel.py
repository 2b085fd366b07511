"""PyTorch's output: one channel large with a colour bar, and a grid of every channel.

Two combos decide the picture (``core.display`` does the maths): which values (raw x,
|x|, ReLU(x)) and which colours.  "Auto colours" keeps a signed output on the diverging
'CET-D1' map with symmetric levels +-max|x| (zero is the map's white centre, negatives
are never clipped) and shows a non-negative one (a blur, |x|, ReLU) on a sequential map
from 0; "show as image" draws grey as a photo editor does, 0..1 clipped or min to max,
and an output of three channels can show as one colour picture.
The colour bar's caption says which mapping is drawn; the choice is remembered in the
settings.  Each grid thumbnail has its own levels under the same mapping (a weak channel
stays readable next to a strong one); its title gives that scale.  A small output prints
its values in its cells, as the input does, and so does a large one zoomed in on.

The panel is a view of ``Results``: it draws PyTorch's latest outcome and marks it stale
with the reason.  The arrays shown are prepared in the compute worker (``preparer``, a
``display.DisplayPreparer``), the large view's pixels already coloured: the UI thread only
hands them to the views.  They are redone here only when the user changes the channel or
the mode, or shows the grid.  Out of sight (a tab behind another) it draws nothing and
catches up when shown.

An output of exactly two channels is read as a gradient pair, Gx (ch 0) and Gy (ch 1), as
a Sobel, Scharr, Prewitt or derivative-of-Gaussian pair gives it: the "Show" combo adds
views derived from PyTorch's two channels (``core.gradients``): the magnitude, |Gx| + |Gy|,
the orientation as hue with a colour wheel beside it, and edges above a threshold slider.
The chosen one is prepared in the compute worker with each new output; switching to it,
or moving the slider, computes it once on a ``LatestWorker``, never on the UI thread.
With another number of channels the derived views are unavailable and the row is hidden.
Two channels that are not an x/y pair (``gradients.is_gradient_pair`` of the weight the
results' request ran: a blur in both, a Laplacian next to a Gabor) keep the derived views,
under a line that says channel 0 is only treated as Gx and channel 1 as Gy.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from convplay.core import gradients
from convplay.core.display import (
    DIVERGING_MAP,
    GREY_MAP,
    MAPPINGS,
    MODES,
    SEQUENTIAL_MAP,
    ChannelView,
    DisplayChoice,
    DisplayPreparer,
    OutputDisplay,
    channel_view,
    is_signed,
    mapping_caption,
    thumbnails,
)
from convplay.core.results import Results
from convplay.qt import style
from convplay.qt.shown import WhenShown
from convplay.qt.widgets.channel_grid import ChannelGrid
from convplay.qt.widgets.colour_wheel import ColourWheel
from convplay.qt.widgets.image_view import FIT_PADDING, ImageView
from convplay.qt.widgets.lookup import lookup_table, qt_lookup
from convplay.qt.workers import LatestWorker

MODE_LABELS = {"raw": "raw x", "abs": "|x|", "relu": "ReLU(x)"}
MAPPING_LABELS = {  # short: the row of controls is narrow; the tooltips say more
    "auto": "Auto colours",
    "diverging": "Diverging \u00b1max",
    "sequential": "Sequential 0..max",
    "image_clip": "Image, 0..1 clipped",
    "image_minmax": "Image, min to max",
    "image_rgb": "Colour image, ch 0-2",
}
MAPPING_TIPS = {
    "auto": "Diverging for an output with negative values (edges, differences), "
    "sequential from 0 for a non-negative one (a blur, |x|, ReLU)",
    "diverging": "Blue below 0, white at 0, red above, symmetric around 0 (+-max|x|): "
    "the sign of each response shows",
    "sequential": "Dark at 0 (or the minimum, if negative) to bright at the maximum: for magnitudes",
    "image_clip": "Show as image: grey as a photo editor shows a picture: 0 is black, 1 is white, "
    "values beyond are clipped (a blurred photo looks like a blurred photo)",
    "image_minmax": "Show as image: grey stretched from the minimum (black) to the maximum (white): "
    "the whole range of any output, as a picture",
    "image_rgb": "Show as colour image: an output of 3 channels (e.g. a depthwise blur of a colour photo, groups 3) "
    "as one colour picture: channels 0, 1, 2 as red, green, blue, each 0..1 clipped",
}
SETTINGS_KEY = "output/mapping"  # the colours chosen last
GRADIENT_KEY = "output/gradient_view"  # the Show choice for a two-channel output
EDGE_KEY = "output/edge_percent"
GRADIENT_TIPS = {
    "channel": "The chosen output channel as PyTorch computed it",
    "magnitude": "Derived from PyTorch's two channels: the gradient magnitude \u221a(Gx\u00b2 + Gy\u00b2) "
    "(ch 0 = Gx, ch 1 = Gy), sequential colours from 0",
    "l1": "Derived: |Gx| + |Gy|, the cheaper magnitude some edge detectors use, sequential colours from 0",
    "orientation": "Derived: the gradient's direction as hue (see the wheel), anticlockwise on screen from "
    "the right; brightness is the magnitude, so flat areas are dark.  Gy counts downwards (rows run "
    "down), so the angle drawn is atan2(\u2212Gy, Gx): 90\u00b0 = brighter upwards",
    "edges": "Derived: white where the magnitude is above the threshold set by the slider, black elsewhere",
}
NOT_A_PAIR = (
    "Channels 0 and 1 are not an x/y gradient pair: this view treats channel 0 as Gx and channel 1 as Gy"
)
NEEDS_PAIR = "Derived views need a two-channel output (x, y): ch 0 = Gx, ch 1 = Gy (e.g. --kernel sobel_pair)"
STALE_OPACITY = 0.4
# The thumbnails' share of the picture's height: small while they are few (two channels
# of a gradient pair fit in a short strip) and smaller still under a derived view, which
# stands for both; many channels get a larger strip to stay readable.
GRID_SHARE_FEW, GRID_SHARE_MANY, GRID_SHARE_DERIVED = 0.24, 0.4, 0.18
FEW_CHANNELS = 4
GRID_MIN_PX = 60
# The style's colour map for each of core.display's colour maps.
STYLE_MAPS = {DIVERGING_MAP: style.DIVERGING, SEQUENTIAL_MAP: style.SEQUENTIAL, GREY_MAP: style.GREY_IMAGE}


class OutputImageView(ImageView):
    """The output's large view; while a derived view is drawn its readout gives the derived
    value with both Gx and Gy at that pixel."""

    derived: gradients.DerivedView | None = None

    def readout(self, row: int, col: int) -> str:
        derived = self.derived
        if derived is None:
            return super().readout(row, col)
        text = derived.readout(row, col)
        return f"{self.name}  {text}" if text and self.name else text


class BannerLine(QLabel):
    """A word-wrapped banner that asks for the height of its lines only.

    A wrapped QLabel gives its layout a height-for-width; a scroll area around the panel
    then sizes the whole panel by its preferred height for the width (the picture's full
    size hint) and the picture scrolls out of sight.  This one keeps a minimum height of
    its wrapped lines instead."""

    def __init__(self, text: str = ""):
        super().__init__(text)
        self.setWordWrap(True)

    def hasHeightForWidth(self) -> bool:
        return False

    def _fit_height(self) -> None:
        height = self.heightForWidth(max(1, self.width()))
        if height > 0 and height != self.minimumHeight():
            self.setMinimumHeight(height)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()


def caption_for(view: ChannelView) -> str:
    """The colour bar's caption: the mapping drawn, and whether auto chose it."""
    return mapping_caption(view.mapping, view.levels, view.chosen)


class OutputPanel(QWidget):
    """Shows ``results``' output (C, H, W); ``hovered(str)`` carries the readout of any view.

    Model -> view: ``Results.outcome_changed`` (its ``display`` from ``preparer``, run in
    the compute worker) and ``Results.stale_changed``.
    View state: the channel spin box, the view-mode combo and the colours combo
    (``channel``, ``mode``, ``mapping``); ``settings``, when given, remembers the colours.
    """

    hovered = Signal(str)
    displayed = Signal()  # after a new output (or channel / mode) reached the views
    cell_picked = Signal(int, int, int)  # a click on output (channel, row, col): the sliding window goes there

    def __init__(
        self, results: Results | None = None, parent: QWidget | None = None, *, settings: QSettings | None = None
    ):
        super().__init__(parent)
        self.results = results if results is not None else Results()
        self.settings = settings
        self._output: np.ndarray | None = None  # the output the views were drawn from
        self._grid_display: OutputDisplay | None = None  # the worker's thumbnails for _output
        self._grid_hidden_for_one = False
        self._signed: tuple[np.ndarray, str, bool] | None = None  # (output, mode, is_signed) last found
        self.preparer = DisplayPreparer({key: lookup_table(name) for key, name in STYLE_MAPS.items()}, qt_lookup)

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
        self.mapping_combo = QComboBox()
        for n, mapping in enumerate(MAPPINGS):
            self.mapping_combo.addItem(MAPPING_LABELS[mapping], mapping)
            self.mapping_combo.setItemData(n, MAPPING_TIPS[mapping], Qt.ItemDataRole.ToolTipRole)
        self.mapping_combo.setToolTip(
            "How values become colours (the colour bar's caption says which is shown):\n"
            + "\n".join(f"{MAPPING_LABELS[m]}: {MAPPING_TIPS[m]}" for m in MAPPINGS)
        )
        # The row of controls stays narrow: the long names are in the open list.
        self.mapping_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mapping_combo.setMinimumContentsLength(6)  # its popup shows the whole names
        remembered = settings.value(SETTINGS_KEY, "auto") if settings is not None else "auto"
        if remembered in MAPPINGS:
            self.mapping_combo.setCurrentIndex(MAPPINGS.index(remembered))
        self.shape_label = QLabel("")
        self.shape_label.setToolTip("Shape of PyTorch's output (out_channels, H_out, W_out)")
        self.shape_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.shape_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._build_gradient_controls(settings)

        self.stale_banner = BannerLine("")
        self.stale_banner.setStyleSheet(style.STALE_BANNER_STYLE)
        self.stale_banner.setToolTip("The settings are impossible; the last valid output is kept on screen")
        self.stale_banner.hide()
        self.pair_warning = BannerLine(NOT_A_PAIR)
        self.pair_warning.setStyleSheet(style.STALE_BANNER_STYLE)
        self.pair_warning.setToolTip(
            "The kernel's output channel 1 is not output channel 0's kernel turned a quarter (as Sobel y is "
            "Sobel x transposed), so the magnitude and direction drawn are not a gradient's. Pick a gradient "
            "pair in the Kernel designer, or Show the channels as PyTorch computed them."
        )
        self.pair_warning.hide()

        self.view = OutputImageView(name="output", colorbar=True, cell_values=True)
        self._when_shown = WhenShown(self, self._show_latest)
        self.view.setToolTip(
            "PyTorch's output for the chosen channel; hover for the exact value.  Up to 24 x 24 "
            "cells in sight print their values: zoom in (wheel) on a large output to read them.\n"
            "Click a cell: the sliding window goes to the step that computes it."
        )
        self.grid = ChannelGrid()
        self.grid.setMinimumHeight(GRID_MIN_PX)  # a strip of two thumbnails needs no more
        # Thumbnails are made, in the worker too, only while the grid can be seen.
        self._grid_when_shown = WhenShown(self.grid, self._draw_grid, lambda _seen: self._update_choice())

        controls = QHBoxLayout()
        controls.addWidget(self.channel_spin)
        controls.addWidget(self.mode_combo)
        controls.addWidget(self.mapping_combo)
        controls.addWidget(self.shape_label, 1)
        self.wheel = ColourWheel()
        self.wheel.hide()
        picture = QWidget()
        picture_row = QHBoxLayout(picture)
        picture_row.setContentsMargins(0, 0, 0, 0)
        picture_row.setSpacing(2)
        picture_row.addWidget(self.view, 1)
        picture_row.addWidget(self.wheel)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(picture)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.gradient_row)
        layout.addWidget(self.pair_warning)
        layout.addWidget(self.stale_banner)
        layout.addWidget(splitter, 1)

        self.channel_spin.valueChanged.connect(self._on_channel_changed)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.mapping_combo.currentIndexChanged.connect(self._on_mapping_changed)
        self.grid.channel_clicked.connect(self._on_grid_clicked)
        self.gradient_combo.currentIndexChanged.connect(self._on_gradient_changed)
        self.edge_slider.valueChanged.connect(self._on_edge_changed)
        self._derived_worker = LatestWorker(_derive, "convplay-gradients", parent=self)
        self._derived_worker.returned.connect(self._on_derived_ready)
        self.view.view_box.sigResized.connect(self._on_view_resized)
        self._derived_worker.errored.connect(self._on_derived_failed)
        self.grid.resized.connect(self._grid_catch_up)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self.view.hovered.connect(self.hovered)
        self.view.cell_clicked.connect(lambda row, col: self.cell_picked.emit(self.channel, row, col))
        self.grid.hovered.connect(self.hovered)
        self.results.outcome_changed.connect(self._when_shown.request)
        self.results.stale_changed.connect(self._show_stale)
        self.destroyed.connect(lambda: _disconnect(self.results, self._when_shown.request, self._show_stale))
        self._update_choice()  # the remembered colours, for the worker's first output too
        self._show_stale(self.results.stale)
        if self.results.outcome is not None:
            self._when_shown.request()

    def _build_gradient_controls(self, settings: QSettings | None) -> None:
        """The "Show" row of a two-channel output: the derived views and the edge threshold."""
        self.gradient_combo = QComboBox()
        for n, key in enumerate(gradients.VIEWS):
            self.gradient_combo.addItem(gradients.VIEW_LABELS[key], key)
            self.gradient_combo.setItemData(n, GRADIENT_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.gradient_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.gradient_combo.setMinimumContentsLength(8)
        self.gradient_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._gradient_tip = (
            "What to show of a two-channel output, read as a gradient pair (ch 0 = Gx, ch 1 = Gy).  "
            "Derived views are computed from PyTorch's two channels:\n"
            + "\n".join(f"{gradients.VIEW_LABELS[k]}: {GRADIENT_TIPS[k]}" for k in gradients.VIEWS)
        )
        self.gradient_combo.setToolTip(self._gradient_tip)
        remembered = settings.value(GRADIENT_KEY, "channel") if settings is not None else "channel"
        if remembered in gradients.VIEWS:
            self.gradient_combo.setCurrentIndex(gradients.VIEWS.index(remembered))
        show_label = QLabel("Show")
        show_label.setToolTip(self._gradient_tip)
        show_label.setBuddy(self.gradient_combo)
        self.edge_slider = QSlider(Qt.Orientation.Horizontal)
        self.edge_slider.setRange(0, 100)
        try:
            percent = int(float(settings.value(EDGE_KEY, 25))) if settings is not None else 25
        except (TypeError, ValueError):
            percent = 25
        self.edge_slider.setValue(min(max(percent, 0), 100))
        self.edge_slider.setMinimumWidth(60)
        self.edge_slider.setToolTip(
            "Edge threshold, as a share of the largest magnitude: a pixel is an edge (white) "
            "where \u221a(Gx\u00b2 + Gy\u00b2) is above it"
        )
        self.edge_label = QLabel("")
        self.edge_label.setToolTip("The threshold (% of the largest magnitude) and how many pixels are edge pixels, with their share")
        self.edge_label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.gradient_row = QWidget()
        row = QHBoxLayout(self.gradient_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(show_label)
        row.addWidget(self.gradient_combo, 3)
        row.addWidget(self.edge_slider, 2)
        row.addWidget(self.edge_label)
        self.gradient_row.hide()  # until a two-channel output arrives
        self._set_pair_available(False)
        self._derived: gradients.DerivedView | None = None  # the derived picture on screen
        self._derived_wanted: tuple | None = None  # (output, view, fraction) asked of the worker
        # After the wheel comes or goes the view's width changes: fit the image once laid out.
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit_after_layout)
        self._fit_on_resize = False
        self._fit_window = QTimer(self)  # how long a resize still counts as the wheel's
        self._fit_window.setSingleShot(True)
        self._fit_window.setInterval(500)
        self._fit_window.timeout.connect(lambda: setattr(self, "_fit_on_resize", False))
        self._split_timer = QTimer(self)
        self._split_timer.setSingleShot(True)
        self._split_timer.setInterval(0)
        self._split_timer.timeout.connect(self._apply_split)
        # The picture takes most of the height: the strip of thumbnails under it gets a small
        # share (GRID_SHARE_*) until the user drags the splitter; their split is kept then.
        self._user_split = False
        self._weight_pair: bool | None = None  # the weight that made the output: an x/y pair? None: unknown

    # -- state -----------------------------------------------------------------------
    @property
    def gradient_view(self) -> str:
        """The Show choice: one of ``gradients.VIEWS`` (kept while the output is not a pair)."""
        return self.gradient_combo.currentData()

    @property
    def derived_view(self) -> str:
        """The derived view drawn now: ``gradient_view`` for a two-channel output, else "channel"."""
        if self.gradient_view != "channel" and gradients.is_pair(self._output):
            return self.gradient_view
        return "channel"

    @property
    def derived(self) -> gradients.DerivedView | None:
        """The derived picture on screen (None while a channel is shown)."""
        return self._derived if self.derived_view != "channel" else None

    @property
    def edge_fraction(self) -> float:
        return self.edge_slider.value() / 100.0

    @property
    def derived_available(self) -> bool:
        """Whether the derived views can be chosen (a two-channel output)."""
        model = self.gradient_combo.model()
        return bool(model.item(1).isEnabled())

    def set_gradient_view(self, view: str) -> None:
        self.gradient_combo.setCurrentIndex(gradients.VIEWS.index(view))

    def set_edge_percent(self, percent: int) -> None:
        self.edge_slider.setValue(int(percent))

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
    def mapping(self) -> str:
        """The colours chosen: one of ``display.MAPPINGS`` ("auto" unless the user picked)."""
        return self.mapping_combo.currentData()

    @property
    def shown_mapping(self) -> str:
        """The mapping drawn now (auto decided): diverging, sequential, image_clip or image_minmax."""
        return self._shown_mapping

    _shown_mapping = "diverging"

    @property
    def stale_message(self) -> str:
        """The stale banner's text ("" while the output is current)."""
        return self.stale_banner.text() if self.is_stale else ""

    @property
    def is_stale(self) -> bool:
        """True while the stale banner is up (test hook)."""
        return not self.stale_banner.isHidden()

    def set_channel(self, channel: int) -> None:
        self.channel_spin.setValue(channel)

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(MODES.index(mode))

    def set_mapping(self, mapping: str) -> None:
        self.mapping_combo.setCurrentIndex(MAPPINGS.index(mapping))

    def picture(self, output: np.ndarray) -> ChannelView:
        """``output``'s current channel coloured exactly as the large view shows it (the
        channel, the values, the colours; ``pixels`` set): what Save output writes."""
        if self.gradient_view != "channel" and gradients.is_pair(output):
            derived = self._derived
            if derived is None or not self._derived_matches(derived, output):
                derived = gradients.derived_view(output, self.gradient_view, self.preparer.tables, self.edge_fraction)
            return derived
        choice = DisplayChoice(min(self.channel, output.shape[0] - 1), self.mode, False, self.mapping)
        return self.preparer.view(output, choice, self._is_signed(output))

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
        outcome = self.results.outcome
        request = outcome.request if outcome is not None and outcome.output is output else None
        self._weight_pair = (
            gradients.is_gradient_pair(request.weight, bool(request.spec.transposed))
            if request is not None and gradients.is_pair(output)
            else None
        )
        self._shape_text = " \u00d7 ".join(str(n) for n in output.shape)
        self._fit_shape_label()
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
        self._set_pair_available(gradients.is_pair(output))
        self._update_choice()
        self._show_channel(display)
        self._show_grid(display)
        self._split_soon()
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
        choice = DisplayChoice(
            self.channel, self.mode, self._grid_wanted(), self.mapping, self.gradient_view, self.edge_fraction
        )
        if choice != self.preparer.choice:
            self.preparer.choice = choice

    def _show_channel(self, display: OutputDisplay | None) -> None:
        output = self._output
        if output is None:
            return
        derived_view = self.derived_view
        warn = derived_view != "channel" and self._weight_pair is False
        if warn == self.pair_warning.isHidden():
            self.pair_warning.setVisible(warn)
        self.edge_slider.setVisible(derived_view == "edges")
        self.edge_label.setVisible(derived_view == "edges")
        for control in (self.channel_spin, self.mode_combo, self.mapping_combo):
            control.setEnabled(derived_view == "channel")
        if derived_view != "channel":
            ready = display.derived if display is not None else None
            if ready is not None and self._derived_matches(ready, output):
                self._draw_derived(ready)
            elif self._derived is not None and self._derived_matches(self._derived, output):
                self._draw_derived(self._derived)  # what is on screen is still right
            else:
                self._request_derived()
            return
        self._derived_worker.cancel()
        self._derived_wanted = None
        self._leave_derived()
        channel = min(self.channel, output.shape[0] - 1)
        mode, mapping = self.mode, self.mapping
        view = display.view if display is not None else None
        if display is not None:
            self._signed = (output, mode, display.signed)
        if view is None or view.channel != channel or view.mode != mode or view.chosen != mapping:
            view = channel_view(
                output, channel, mode, self.preparer.tables, qt_lookup, mapping, self._is_signed(output)
            )
        cmap = STYLE_MAPS[view.colour_map]
        if cmap != self.view.colormap_name:
            self.view.set_colormap(cmap)
        self._shown_mapping = view.mapping
        self.view.set_caption(caption_for(view))
        if view.mapping == "image_rgb":  # one picture of channels 0-2: the hover reads all three
            self.view.name = "output ch 0-2"
            self.view.set_image(view.image, view.levels, values=np.moveaxis(output[:3], 0, -1), pixels=view.pixels)
        else:
            self.view.name = f"output ch {channel}"
            self.view.set_image(view.image, view.levels, values=output[channel], pixels=view.pixels)

    # -- derived views of a gradient pair ------------------------------------------------
    def _set_pair_available(self, pair: bool) -> None:
        """Enable the derived views for a two-channel output; else disable them, saying why."""
        model = self.gradient_combo.model()
        for n, key in enumerate(gradients.VIEWS):
            if key == "channel":
                continue
            item = model.item(n)
            item.setEnabled(pair)
            item.setToolTip(GRADIENT_TIPS[key] if pair else NEEDS_PAIR)
        self.gradient_combo.setToolTip(self._gradient_tip if pair else NEEDS_PAIR)
        if pair == self.gradient_row.isHidden():
            self.gradient_row.setVisible(pair)

    def _derived_matches(self, derived: gradients.DerivedView, output: np.ndarray) -> bool:
        return (
            derived.output is output
            and derived.view == self.gradient_view
            and (derived.view != "edges" or derived.fraction == self.edge_fraction)
        )

    def _request_derived(self) -> None:
        """Compute the chosen derived view of the output on screen, off the UI thread."""
        output = self._output
        wanted = (output, self.gradient_view, self.edge_fraction)
        asked = self._derived_wanted
        # The output by identity (arrays have no single truth value), the rest by value.
        if asked is not None and asked[0] is output and asked[1:] == wanted[1:]:
            return  # already on its way
        self._derived_wanted = wanted
        self._derived_worker.submit((output, self.gradient_view, self.preparer.tables, self.edge_fraction))

    def _on_derived_ready(self, _generation: int, derived: gradients.DerivedView) -> None:
        self._derived_wanted = None
        if self._output is not None and self.derived_view != "channel" and self._derived_matches(derived, self._output):
            self._draw_derived(derived)
            self.displayed.emit()

    def _on_derived_failed(self, _generation: int, message: str) -> None:
        self._derived_wanted = None
        self.view.set_caption(f"derived view not shown: {message}")

    def _draw_derived(self, derived: gradients.DerivedView) -> None:
        if self.view.derived is None:
            self._split_soon()
        self._derived = derived
        self.view.derived = derived
        if derived.colour_map is not None:
            cmap = STYLE_MAPS[derived.colour_map]
            if cmap != self.view.colormap_name:
                self.view.set_colormap(cmap)
        self._show_wheel(derived.view == "orientation")
        self.grid.set_selected((0, 1))  # derived from both channels
        self.view.name = f"output {gradients.VIEW_NAMES[derived.view]} (derived)"
        self.view.set_caption(derived.caption)
        self.view.set_image(derived.image, derived.levels, pixels=derived.pixels)
        if derived.view == "edges":
            total = derived.image.size or 1
            share = 100 * derived.edge_count / total
            share_text = f"{share:.2g}" if 0 < share < 1 else f"{share:.0f}"
            self.edge_label.setText(f"{derived.fraction * 100:.0f} %, {derived.edge_count} edge pixels ({share_text} %)")
            self.edge_label.setToolTip(
                f"A pixel is an edge where the magnitude is above {derived.threshold:.6g} "
                f"({derived.fraction * 100:.0f} % of the largest): {derived.edge_count} of {total} pixels "
                f"({100 * derived.edge_count / total:.1f} %)"
            )

    def _leave_derived(self) -> None:
        """Back to a channel: the colour bar and the plain readout return."""
        if self.view.derived is None and self.wheel.isHidden():
            return
        self._derived = None
        self.view.derived = None
        self._show_wheel(False)
        self._split_soon()
        self.grid.set_selected(self._shown_channels())

    def _show_wheel(self, shown: bool) -> None:
        """The colour wheel beside the view; the view, narrower or wider, fits the image again."""
        if shown != self.wheel.isHidden():  # already so
            return
        self.wheel.setVisible(shown)
        self._fit_on_resize = True  # the view's new width is known only once it is laid out
        self._refit.start()
        self._fit_window.start()

    def _fit_after_layout(self) -> None:
        self.view.view_box.autoRange(padding=FIT_PADDING)

    # -- the split between the picture and the thumbnails ------------------------------
    def grid_share(self) -> float:
        """The thumbnails' share of the splitter's height while the user has not dragged it."""
        if self.view.derived is not None:
            return GRID_SHARE_DERIVED
        channels = 0 if self._output is None else self._output.shape[0]
        return GRID_SHARE_FEW if channels <= FEW_CHANNELS else GRID_SHARE_MANY

    def _split_soon(self) -> None:
        self._split_timer.start()

    def _apply_split(self) -> None:
        """Give the picture most of the height (see ``grid_share``), once laid out."""
        if self._user_split or self.grid.isHidden():
            return
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        grid = min(max(round(total * self.grid_share()), self.grid.minimumHeight()), total - 1)
        wanted = [total - grid, grid]
        if sizes != wanted:
            self.splitter.setSizes(wanted)
            self._fit_on_resize = True  # the view's new height is known only once laid out
            self._fit_window.start()
            self._refit.start()

    def _on_splitter_moved(self, *_) -> None:
        self._user_split = True

    def _on_view_resized(self, *_) -> None:
        if self._fit_on_resize:
            self.view.view_box.autoRange(padding=FIT_PADDING)

    def _on_gradient_changed(self) -> None:
        if self.settings is not None:
            self.settings.setValue(GRADIENT_KEY, self.gradient_view)
        self._update_choice()
        self._show_channel(None)
        if self._output is not None and self.derived_view == "channel":
            self.displayed.emit()

    def _on_edge_changed(self) -> None:
        if self.settings is not None:
            self.settings.setValue(EDGE_KEY, self.edge_slider.value())
        self._update_choice()
        if self.derived_view == "edges":
            self._show_channel(None)

    def _on_grid_clicked(self, channel: int) -> None:
        """A thumbnail clicked: that channel, as PyTorch computed it, large."""
        if self.gradient_view != "channel":
            self.gradient_combo.setCurrentIndex(0)
        self.channel_spin.setValue(channel)

    def _shown_channels(self) -> int | tuple[int, ...]:
        """The channel the large view shows, or channels 0-2 for a colour picture."""
        if self.derived_view != "channel":
            return (0, 1)  # a derived view is made of both channels
        return (0, 1, 2) if self._shown_mapping == "image_rgb" else self.channel

    def _is_signed(self, output: np.ndarray) -> bool:
        """Whether ``output`` in the current mode has negatives (decides auto), found once per output."""
        known = self._signed
        if known is None or known[0] is not output or known[1] != self.mode:
            known = self._signed = (output, self.mode, is_signed(output, self.mode))
        return known[2]

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
        if thumbs is None or thumbs.mode != self.mode or thumbs.mapping != self._shown_mapping:
            thumbs = thumbnails(output, self.mode, self.preparer.luts, self._shown_mapping, self._is_signed(output))
        self.grid.show_thumbnails(thumbs, output, self.channel)
        self.grid.set_selected(self._shown_channels())

    _shape_text = ""

    def _fit_shape_label(self) -> None:
        """"output 64 × 254 × 254", else the shape alone, else without spaces: the first that
        fits the row; the tooltip always has the whole shape."""
        shape = self._shape_text
        compact = shape.replace(" ", "")
        # Last, one channel's H×W (the channel box beside it says which).
        candidates = (f"output {shape}", shape, compact, compact.split("\u00d7", 1)[-1]) if shape else ("",)
        metrics = self.shape_label.fontMetrics()
        width = self.shape_label.width()
        # Where not even one channel's H×W fits, nothing: the tooltip and the Formula panel say it.
        text = next((c for c in candidates if metrics.horizontalAdvance(c) <= width), "")
        self.shape_label.setText(text)
        tip = "Shape of PyTorch's output (out_channels, H_out, W_out)"
        numbers = ", ".join(shape.split(" \u00d7 "))
        self.shape_label.setToolTip(f"{tip}: ({numbers})" if shape else tip)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_shape_label()
        self._split_soon()

    def _grid_catch_up(self) -> None:
        """The grid, shown again (more than one channel after one), is laid out only after its
        Show event, when it did not yet count as seen: draw what waited for it."""
        if self._grid_when_shown.pending:
            self._grid_when_shown.request()

    def _on_channel_changed(self) -> None:
        self._update_choice()
        self.grid.set_selected(self._shown_channels())
        self._show_channel(None)
        if self._output is not None:
            self.displayed.emit()

    def _on_mode_changed(self) -> None:
        self._update_choice()
        self._show_channel(None)
        self._show_grid(None)
        if self._output is not None:
            self.displayed.emit()


    def _on_mapping_changed(self) -> None:
        if self.settings is not None:
            self.settings.setValue(SETTINGS_KEY, self.mapping)
        self._on_mode_changed()


def _derive(job: tuple) -> gradients.DerivedView:
    output, view, tables, fraction = job
    return gradients.derived_view(output, view, tables, fraction)


def _disconnect(results: Results, *slots) -> None:
    for signal in (results.outcome_changed, results.stale_changed):
        for slot in slots:
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
