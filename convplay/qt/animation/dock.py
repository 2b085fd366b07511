"""The animation panel: view, arithmetic, controls and the "Matches PyTorch" badge, as one widget.

It is a view of two models: the ``Session`` (the convolution it walks through) and the
``Results`` (PyTorch's output for each cell's check, the float64 reference the cells
fill in from, and the verdict).  It computes nothing over the whole output itself: the
reference and the comparison arrive from a worker, as a result object with its levels
and the cells that disagree.  Out of sight it does no work per edit and catches up when
shown; while on screen it asks the results for the reference.

Each frame costs O(taps): the walk builds the current step on demand; a transposed
convolution's scatter view sums its stamps in ``stamps.StampSums``.

On a large image the view shows a neighbourhood of the window and ``overview.Overview``
the whole image beside it; a click there, on the view's cells, or (through the main
window) on the input or output panels picks the position: ``pick_input_pixel`` and
``pick_output_cell``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.animation import AnimationState
from convplay.core.display import DIVERGING_MAP, GREY_MAP, SEQUENTIAL_MAP, argb_table, channel_view, is_signed
from convplay.core.results import Results, symmetric_levels
from convplay.core.session import Session
from convplay.core.spec import ConvSpecError
from convplay.core.walk import ConvWalk
from convplay.qt import style
from convplay.qt.animation.arithmetic import ArithmeticPanel
from convplay.qt.animation.group_diagram import COLUMN_WIDTH, ROW_HEIGHT, GroupDiagram
from convplay.qt.animation.overview import COLUMN_WIDTH as OVERVIEW_COLUMN
from convplay.qt.animation.overview import STRIP_HEIGHT as OVERVIEW_STRIP
from convplay.qt.animation.overview import Overview, corner_width, thumb_step
from convplay.qt.animation.player import Player, PlayerControls, install_shortcuts
from convplay.qt.animation.stamps import StampSums
from convplay.qt.animation.view import AnimationView
from convplay.qt.shown import WhenShown, on_screen
from convplay.qt.theme import theme
from convplay.qt.widgets.lookup import lookup_table
from convplay.qt.workers import LatestWorker

ARITHMETIC_SHARE = 0.38  # of the splitter for the arithmetic, until the user drags the handle
STACK_ASPECT = 0.9  # a dock taller than this times its width puts the arithmetic below the view
TEXT_LINES = 2  # the message above and the badge below reserve this many lines
STRIP_GAIN = 1.02
MIN_DIAGRAM_STRIP = 300  # pixels: the diagram's strip keeps this much width beside the overview  # the diagram goes above the view only if that makes the cells this much bigger
# The output panel's colour maps, until the window hands the dock the panel's own tables.
OUTPUT_MAPS = {DIVERGING_MAP: style.DIVERGING, SEQUENTIAL_MAP: style.SEQUENTIAL, GREY_MAP: style.GREY_IMAGE}
NO_MISMATCHES = np.zeros((0, 3), dtype=np.int64)
# A channel of PyTorch's output up to this many cells is scanned for its levels at once
# (about a millisecond); a larger one (2048², or a channels_last output, whose channel is
# spread over all of its memory) on a worker, so that the UI thread keeps its 60 Hz.
SYNC_LEVEL_CELLS = 1 << 20


def _channel_levels(job: tuple[np.ndarray, int]) -> tuple[np.ndarray, tuple[float, float]]:
    output, oc = job
    return output, symmetric_levels(output[oc])


class AnimationDock(QWidget):
    """The sliding-window animation of ``session``, checked against ``results``."""

    # The name it wants the reference under: a second panel on the same results (an
    # export's, offscreen) has its own, so its coming and going leaves this one's want alone.
    reference_name = "animation"

    def __init__(self, session: Session, results: Results | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.results = results if results is not None else Results()
        self.state = AnimationState(speed=4.0)
        self.player = Player(self.state, self)
        self.view = AnimationView()
        self.overview = Overview()
        self.overview.setVisible(False)
        self.diagram = GroupDiagram()
        self.diagram_button = QToolButton()
        self.diagram_button.setText("Channels")
        self.diagram_button.setCheckable(True)
        self.diagram_button.setChecked(True)
        self.diagram_button.setToolTip("Show or hide the diagram of which input channels feed which output channels (groups)")
        self.diagram_button.toggled.connect(self._show_diagram)
        self.arithmetic = ArithmeticPanel()
        self.controls = PlayerControls(self.state)
        self.badge = QLabel()
        self.badge.setWordWrap(True)
        self.badge.setToolTip("The reference's output (float64 numpy) against PyTorch's, over every output cell")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.hover_label = QLabel()
        self.hover_label.setToolTip("The cell under the mouse pointer")
        # Its share of the row only: a long read-out must not squeeze the badge onto more lines.
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.scatter_channel = QSpinBox()
        self.scatter_channel.setPrefix("show output channel ")
        self.scatter_channel.setToolTip("The output channel whose stamps the transposed convolution's view shows")
        self.scatter_channel.valueChanged.connect(lambda _: self.show_step(self.state.position))

        # The diagram sits beside the view or above it, whichever leaves the view bigger
        # cells; it never takes room from the arithmetic's products.
        self.stage = QWidget()
        # A grid: the view in the middle, the diagram left of it or above, the overview
        # right of it or below (``_place_diagram`` decides).
        self._stage_layout = _StageGrid(self.stage)
        self._place_pending = False
        self._stage_layout.setContentsMargins(0, 0, 0, 0)
        self._stage_layout.setSpacing(2)
        self._stage_layout.addWidget(self.view, 1, 1)
        self._stage_layout.setRowStretch(1, 1)
        self._stage_layout.setColumnStretch(1, 1)
        self._stage_layout.addWidget(self.diagram, 1, 0)
        self._stage_layout.addWidget(self.overview, 1, 2)
        self._stage_place: tuple | None = None  # (diagram shown, overview shown, diagram as a strip, overview's place)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.stage)
        splitter.addWidget(self.arithmetic)
        splitter.setChildrenCollapsible(False)
        splitter.splitterMoved.connect(self._on_splitter_moved)
        self._arithmetic_share = ARITHMETIC_SHARE
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        top = QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(self.scatter_channel)
        top.addWidget(self.diagram_button)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.controls)
        bottom = QHBoxLayout()
        bottom.addWidget(self.badge, 2)
        bottom.addWidget(self.hover_label, 1)
        layout.addLayout(bottom)
        # Room for two lines each, whatever they say: a label that grows by a line when its
        # text changes ("waiting…" -> the verdict) would resize the view on every edit, and a
        # resize of the scene costs 4-15 ms at 1024².
        for label in (self.message, self.badge):
            label.setMinimumHeight(TEXT_LINES * label.fontMetrics().lineSpacing() + label.margin() * 2 + 2)
        self.shortcuts = install_shortcuts(self, self.state)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        # How the overview colours the output: the output panel's choice (``set_output_colours``).
        self._output_tables = {key: argb_table(lookup_table(name)) for key, name in OUTPUT_MAPS.items()}
        self._output_mapping, self._output_mode = "auto", "raw"
        self._overview_signed: tuple[np.ndarray, bool] | None = None  # (output, signed in the mode)
        self.walk: ConvWalk | None = None
        self.problem = ""  # why these settings cannot be animated ("" when they can)
        self._torch_output: np.ndarray | None = None  # PyTorch's output for this walk, if in
        self._torch_levels: tuple[np.ndarray, tuple[float, float]] | None = None  # (output, its channel's levels)
        self._levels_worker = LatestWorker(_channel_levels, "convplay-animation-levels", parent=self)
        self._levels_worker.returned.connect(self._on_torch_levels)
        self.stamps = StampSums(self._on_stamps_summed, lambda error: self.message.setText(f"Cannot add up the stamps: {error}"), self)

        # One pattern for every model event: drawn now when on screen, else once shown.
        self._rebuild_when_shown = WhenShown(self, self.rebuild, self._on_visibility)
        self._results_when_shown = WhenShown(self, self._apply_results)
        self._step_when_shown = WhenShown(self, lambda: self.show_step(self.state.position))
        self.state.position_changed.connect(self._on_position)
        self.view.output_clicked.connect(self._on_output_clicked)
        self.view.input_clicked.connect(self._on_input_clicked)
        self.view.tile_changed.connect(self._on_tile_changed)
        self.overview.input_picked.connect(self.pick_input_pixel)
        self.overview.output_picked.connect(lambda i, j: self.pick_output_cell(self._shown_out_channel(), i, j))
        self.view.output_hovered.connect(self._on_output_hovered)
        self.view.hovered.connect(self.hover_label.setText)
        session.changed.connect(self._on_session_changed)
        for signal in (self.results.outcome_changed, self.results.reference_changed):
            signal.connect(self._results_when_shown.request)
        theme().theme_changed.connect(self._on_theme)  # Qt disconnects it when the dock goes
        self.destroyed.connect(self._disconnect_models)
        self.results.want_reference(self.reference_name, on_screen(self))
        self.rebuild()

    # -- layout ----------------------------------------------------------------------------
    def heightForWidth(self, width: int) -> int:
        """No height of its own for a width: the panel takes the height its dock gives it
        (down to its minimum).  A scroll area asks this of a panel whose layout holds
        wrapped labels, and the layout's answer (every part at its preferred height) would
        push the transport row out of a 1280×720 window."""
        return -1

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_splitter()

    def _fit_splitter(self) -> None:
        """The view and the arithmetic side by side on a wide dock, stacked on a tall one;
        the arithmetic keeps its share of the space (a projector's 1280×720 gives it ~480 px)."""
        vertical = self.height() > STACK_ASPECT * self.width()
        if vertical:
            # Stacked only where the height holds both at their minimum: else the panel
            # would scroll its transport row out of sight (a 1024x640 window's dock).
            around = self.height() - self.splitter.height()
            stacked = (self.stage.minimumSizeHint().height() + self.arithmetic.minimumSizeHint().height()
                       + self.splitter.handleWidth() + around)
            vertical = self.height() >= stacked
        orientation = Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal
        if self.splitter.orientation() != orientation:
            self.splitter.setOrientation(orientation)
        size = self.splitter.size()
        total = (size.height() if vertical else size.width()) - self.splitter.handleWidth()
        if total > 0:
            arithmetic = round(total * self._arithmetic_share)
            self.splitter.setSizes([total - arithmetic, arithmetic])
        self._place_diagram()

    def _place_diagram(self) -> None:
        """The channel diagram as a column beside the view or a strip above it, and the
        overview as a column right of it or a strip below: whichever gives the view's cells
        more pixels (beside when it is a tie)."""
        if self._stage_layout.arranging:
            # Called from inside the grid's own pass (the view's resize moved its tile): moving
            # widgets in a QGridLayout while it places them crashes Qt, so after the pass.
            if not self._place_pending:
                self._place_pending = True
                QTimer.singleShot(0, self, self._place_diagram_now)
            return
        diagram, overview = self.diagram.isVisibleTo(self), self.overview.isVisibleTo(self)
        if not (diagram or overview):
            return
        stage = self.splitter.sizes()[0]
        if self.splitter.orientation() == Qt.Orientation.Horizontal:
            width, height = stage, self.splitter.height()
        else:
            width, height = self.splitter.width(), stage
        gap = self._stage_layout.spacing()
        best = None
        # The overview: a column right of the view, a strip below it, or (with the diagram
        # as a strip above the view) in the corner beside the diagram, costing no more height.
        for diagram_strip in ((False, True) if diagram else (False,)):
            places = ("column", "strip", "corner") if diagram_strip else ("column", "strip")
            for place in (places if overview else ("column",)):
                w, h = width, height
                if diagram:
                    h, w = (h - ROW_HEIGHT - gap, w) if diagram_strip else (h, w - COLUMN_WIDTH - gap)
                if overview and place == "column":
                    w -= OVERVIEW_COLUMN + gap
                elif overview and place == "strip":
                    h -= OVERVIEW_STRIP + gap
                elif overview and width - corner_width(ROW_HEIGHT) < MIN_DIAGRAM_STRIP:
                    continue  # no room beside the diagram
                cells = self.view.cell_size_for(w, h)
                if best is None or cells > STRIP_GAIN * best[0]:
                    best = (cells, diagram_strip, place)
        _, diagram_strip, place = best
        if (diagram, overview, diagram_strip, place) == self._stage_place:
            return
        self._stage_place = (diagram, overview, diagram_strip, place)
        grid = self._stage_layout
        for widget in (self.diagram, self.overview, self.view):
            grid.removeWidget(widget)
        grid.addWidget(self.view, 1, 1, 1, 2 if place == "corner" else 1)
        if diagram:
            self.diagram.set_orientation(Qt.Orientation.Vertical if diagram_strip else Qt.Orientation.Horizontal)
            grid.addWidget(self.diagram, *((0, 1) if diagram_strip else (1, 0)))
        if overview:
            if place == "column":
                self.overview.set_orientation(Qt.Orientation.Vertical)
                grid.addWidget(self.overview, 1, 2)
            elif place == "strip":
                self.overview.set_orientation(Qt.Orientation.Horizontal)
                grid.addWidget(self.overview, 2, 1)
            else:
                self.overview.set_orientation(Qt.Orientation.Horizontal, ROW_HEIGHT)
                grid.addWidget(self.overview, 0, 2)

    def _place_diagram_now(self) -> None:
        self._place_pending = False
        self._place_diagram()

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        view, arithmetic = self.splitter.sizes()
        if view + arithmetic > 0:
            self._arithmetic_share = arithmetic / (view + arithmetic)

    # -- the convolution changed ---------------------------------------------------------
    def _on_session_changed(self) -> None:
        # The walk no longer describes the session: no frame may draw from it, even a
        # timer tick while the panel is out of sight.
        self.walk = None
        self.stamps.forget()
        self._follow_steps()
        self._rebuild_when_shown.request()

    def _follow_steps(self) -> None:
        """The steps' shape for the session, at once even while out of sight: views that step
        with this animation (the matrix view) read the state while the walk waits to be built."""
        s = self.session
        try:
            shape = s.image.shape if s.spec.transposed else s.spec.output_shape(s.image.shape)
        except (ConvSpecError, ValueError):
            shape = (0, 0, 0)
        self.state.set_shape(tuple(shape))

    def _on_visibility(self, shown: bool) -> None:
        self.results.want_reference(self.reference_name, shown)

    _steps_message = ("", "")  # (with the number of steps, without it)
    answer_hidden = False

    def set_answer_hidden(self, on: bool) -> None:
        """A lesson's question pending: no text here states the output's size."""
        self.answer_hidden = bool(on)
        self.controls.set_answer_hidden(on)
        self._show_steps_message()

    def _show_steps_message(self) -> None:
        full, without = self._steps_message
        if full:
            self.message.setText(without if self.answer_hidden else full)

    def rebuild(self) -> None:
        """New walk for the session's settings; the position is kept where it still exists."""
        for when_shown in (self._rebuild_when_shown, self._results_when_shown, self._step_when_shown):
            when_shown.pending = False  # the rebuild takes the results and draws the step itself
        self.hover_label.clear()  # it described a cell of the settings before
        self._torch_output = None
        self.stamps.forget()
        s = self.session
        try:
            walk = ConvWalk(s.image, s.weight, s.bias, s.spec, flip=s.true_convolution)
        except (ConvSpecError, ValueError) as exc:
            self.walk = None
            self.problem = str(exc)
            self.view.set_walk(None, None)
            self._set_diagram_spec(None)
            self.scatter_channel.setVisible(False)
            self.message.setText(f"Cannot animate these settings: {exc}")
            self.arithmetic.setVisible(False)  # its last sum belongs to other settings
            self.overview.setVisible(False)
            self.state.set_shape((0, 0, 0))
            self._show_badge()
            return
        self.walk = walk
        self.problem = ""
        self.arithmetic.setVisible(True)
        self.view.set_walk(walk, s.image)
        self._set_diagram_spec(s.spec)
        transposed = s.spec.transposed
        self.scatter_channel.setVisible(transposed)
        with QSignalBlocker(self.scatter_channel):  # the frame is drawn once, below
            self.scatter_channel.setRange(0, s.spec.out_channels - 1)
        if s.true_convolution:
            kind = ("true convolution: the kernel flipped 180\u00b0, and the weights on the window drawn "
                    "flipped, as PyTorch receives them")
        else:
            kind = "cross-correlation, as PyTorch computes it"
        where = "" if self.view.whole else "; a neighbourhood of the window, the whole image at the right (click it to move)"
        if transposed:
            self.message.setText(f"Transposed convolution, {kind}: each input pixel stamps value \u00d7 kernel onto "
                                 f"the output; overlaps add up{where}.")
        else:
            self._steps_message = (f"Sliding window, {kind}: {len(walk):,} steps{where}.",
                                   f"Sliding window, {kind}{where}.")
            self._show_steps_message()
        self.controls.set_subject("input pixel" if transposed else "output")
        self.overview.set_input(s.image, self.view._levels, "whole input" if s.image.shape[0] in (1, 3)
                                else "whole input (channel 0)")
        self._apply_results(draw=False)
        self.state.set_shape(s.image.shape if transposed else walk.output_shape)
        if self.state.n_steps:
            self.show_step(self.state.position)  # set_shape emits nothing for the same shape

    def _set_diagram_spec(self, spec) -> None:
        """The channel diagram for ``spec`` (None: invalid settings); shown only where there
        is more than one channel on a side, and the Channels button is on."""
        self.diagram.set_spec(spec)
        several = spec is not None and (spec.in_channels > 1 or spec.out_channels > 1)
        self.diagram_button.setVisible(several)
        self._show_diagram(self.diagram_button.isChecked())

    def _show_diagram(self, on: bool) -> None:
        self.diagram.setVisible(on and self.diagram_button.isVisibleTo(self))
        self._place_diagram()

    # -- what PyTorch and the reference returned --------------------------------------------
    def _apply_results(self, draw: bool = True) -> None:
        """Take the results' current state: PyTorch's output for the checks, the reference
        for the cells, the verdict for the badge."""
        if self._rebuild_when_shown.pending:
            return  # the rebuild takes the results when it runs
        walk, results = self.walk, self.results
        output = results.current_output
        self._torch_output = output if walk is not None and output is not None and output.shape == walk.output_shape else None
        reference = results.reference
        if walk is not None and reference is not None and reference.reference.shape == walk.output_shape:
            self.view.set_output_values(reference.reference, reference.levels)
        elif self._torch_output is not None:
            # Until the reference is in: PyTorch's values, scaled by the channel on screen
            # (one channel's scan, not the whole output's; a large one off the UI thread,
            # the cells waiting as they wait for PyTorch's output until it is done).
            levels = self._levels_of(self._torch_output)
            if levels is None:
                self.view.set_output_values(None, (-1.0, 1.0))
            else:
                self.view.set_output_values(self._torch_output, levels)
        else:
            self.view.set_output_values(None, (-1.0, 1.0))
        self._overview_output()
        self._show_badge()
        if draw and self.state.n_steps:
            self.show_step(self.state.position)

    def _levels_of(self, output: np.ndarray) -> tuple[float, float] | None:
        """The symmetric levels of ``output``'s channel on screen, or None while a worker finds them."""
        if self._torch_levels is not None and self._torch_levels[0] is output:
            return self._torch_levels[1]
        oc = min(self.state.cell()[0] if self.state.n_steps else 0, output.shape[0] - 1)
        if output[oc].size <= SYNC_LEVEL_CELLS:
            self._torch_levels = (output, symmetric_levels(output[oc]))
            return self._torch_levels[1]
        self._levels_worker.submit((output, oc))
        return None

    def _on_torch_levels(self, _generation: int, answer: tuple[np.ndarray, tuple[float, float]]) -> None:
        self._torch_levels = answer
        if answer[0] is self._torch_output:
            self._results_when_shown.request()

    @property
    def match(self):
        """The verdict for the settings animated now (None until PyTorch and the reference are in)."""
        return self.results.match if self.walk is not None else None

    def _show_badge(self) -> None:
        results = self.results
        if self.walk is None:
            self.badge.setText("")
            return
        if results.reference_error:
            error = style.colour("ERROR")
            self.badge.setText(f"<b style='color:{error}'>The reference could not be computed: {results.reference_error}</b>")
            return
        match = self.match
        if match is None:
            waiting = "PyTorch's output" if self._torch_output is None else "the reference output"
            self.badge.setText(f"Matches PyTorch? waiting for {waiting}\u2026")
            return
        note = f"<br><i>{match.note}</i>" if match.note else ""
        colour = style.colour("OK" if match.matches else "ERROR")
        mark = "\u2713" if match.matches else "\u2717"
        self.badge.setText(f"<b style='color:{colour}'>{mark} {match.summary()}</b>{note}")

    def _on_theme(self, _high_contrast: bool) -> None:
        """The badge's verdict in the theme's colours."""
        self._show_badge()

    # -- frames ----------------------------------------------------------------------------
    def _on_position(self, k: int) -> None:
        self._step_when_shown.request()

    def show_step(self, k: int) -> None:
        """Draw step ``k``: the frame update the timer drives."""
        walk = self.walk
        if walk is None or not 0 <= k < self.state.n_steps:
            return
        if walk.spec.transposed:
            if k < walk.scatter_count:
                self._show_stamp(k)
            return
        if k >= len(walk):
            return
        step = walk.step(k)
        self.view.show_step(step)
        self.diagram.set_current(step.out_channel)
        oc, (i, j) = step.out_channel, step.position
        self._mark_overview(step.window_origin, (i, j), oc)
        output = self._torch_output
        torch_value = None if output is None else float(output[oc, i, j])
        match = self.match
        tolerance = match.tolerance if match is not None else None
        self.arithmetic.show_step(step, self.session.true_convolution, torch_value, tolerance)
        self.view.set_mismatches(match.mismatched if match is not None else NO_MISMATCHES, oc)

    def _show_stamp(self, k: int) -> None:
        walk = self.walk
        oc = min(self.scatter_channel.value(), walk.spec.out_channels - 1)
        stamp = walk.scatter(*walk.scatter_pixel(k))
        summed = self.stamps.at(walk, k, oc, stamp)
        self.view.show_stamp(stamp, oc, summed if summed is not None else np.full(walk.output_shape[1:], np.nan))
        self._mark_overview_stamp(stamp, oc)
        self.diagram.set_current(oc, stamp.in_channel)
        self.arithmetic.show_stamp(stamp, oc, walk.spec.kernel_hw, walk.flip)

    def _on_stamps_summed(self, k: int) -> None:
        if k == self.state.position:
            self.show_step(k)

    def _on_output_clicked(self, i: int, j: int) -> None:
        """A cell of the view's output: its step, or for a transposed conv (whose steps are
        the input pixels' stamps) the stamp centred on it, on the output channel shown."""
        if self.walk is not None:
            self.pick_output_cell(self._shown_out_channel(), i, j)

    def _on_input_clicked(self, r: int, c: int) -> None:
        """A cell of the view's input panel: padded coordinates (input pixels, transposed)."""
        walk = self.walk
        if walk is None:
            return
        if walk.spec.transposed:
            self.pick_input_pixel(r, c)
        else:
            top, _, left, _ = walk.geometry.pads
            self.pick_input_pixel(r - top, c - left)

    # -- picking a position (the overview, the view, the window's input and output panels) --
    def pick_input_pixel(self, r: int, c: int) -> None:
        """Move the window to input pixel (r, c) (may lie in the padding: negative or past
        the edge): the output cell whose window is centred nearest it, on the output channel
        shown; a transposed conv's scatter view goes to that pixel's stamp."""
        walk = self.walk
        if walk is None or not self.state.n_steps:
            return
        if walk.spec.transposed:
            channels, h, w = self.session.image.shape
            c_in = self.state.cell()[0]
            if 0 <= r < h and 0 <= c < w:
                self.state.seek(self.state.index_of(c_in, r, c))
            return
        top, _, left, _ = walk.geometry.pads
        i, j = self.view.driver_at(r + top, c + left)
        self.state.seek_cell(self.state.cell()[0], i, j)

    def pick_output_cell(self, out_channel: int, i: int, j: int) -> None:
        """Move to output (out_channel, i, j): the step that computes it; a transposed conv's
        scatter view shows that channel and the input pixel whose stamp is centred on it."""
        walk = self.walk
        if walk is None or not self.state.n_steps:
            return
        c, h, w = walk.output_shape
        if not (0 <= out_channel < c and 0 <= i < h and 0 <= j < w):
            return
        if walk.spec.transposed:
            self.scatter_channel.setValue(out_channel)
            r, q = self.view.driver_at(i, j)
            in_per_group = self.session.image.shape[0] // walk.spec.groups
            group = out_channel // (walk.spec.out_channels // walk.spec.groups)
            c_in = self.state.cell()[0]
            if c_in // in_per_group != group:
                c_in = group * in_per_group  # a pixel of the group that feeds this channel
            self.state.seek(self.state.index_of(c_in, r, q))
            return
        self.state.seek_cell(out_channel, i, j)

    def _shown_out_channel(self) -> int:
        walk = self.walk
        if walk is not None and walk.spec.transposed:
            return self.scatter_channel.value()
        return self.state.cell()[0] if self.state.n_steps else 0

    # -- the overview ----------------------------------------------------------------------
    def _on_tile_changed(self) -> None:
        shown = self.walk is not None and not self.view.whole
        if shown != self.overview.isVisibleTo(self):
            self.overview.setVisible(shown)
            self._place_diagram()

    def _overview_output(self) -> None:
        """The output channel on screen in the overview, from the values the cells fill in from."""
        walk = self.walk
        if walk is None or self.view.whole:
            return
        oc = self._shown_out_channel()
        values = self.view._values
        channel = values[oc] if values is not None and oc < values.shape[0] else None
        if walk.spec.transposed:
            channel = self._torch_output[oc] if self._torch_output is not None else None
        self._overview_channel = oc
        caption = f"whole output, channel {oc}"
        if channel is None:
            self.overview.set_output(None, walk.output_shape[1:], caption)
            return
        # Coloured as the output panel colours it (its mapping and mode), by its own
        # function: a blur of a photo shows as the panel shows it, not in the diverging map.
        step = thumb_step(channel.shape)
        whole = values if values is not None and not walk.spec.transposed else self._torch_output
        if self._overview_signed is None or self._overview_signed[0] is not whole:
            self._overview_signed = (whole, self._signed(whole))
        view = channel_view(whole[:, ::step, ::step], oc, self._output_mode, self._output_tables,
                            mapping=self._output_mapping, signed=self._overview_signed[1])
        self.overview.set_output(view.pixels, walk.output_shape[1:], caption)

    def _signed(self, whole: np.ndarray) -> bool:
        """Whether the output has negatives in the output panel's mode (decides auto): the
        answer the PyTorch worker found for the panel (``OutputDisplay.signed``) when it is
        for this mode, so that no scan of a 2048² x 64 output runs on the UI thread."""
        outcome = self.results.outcome
        display = getattr(outcome, "display", None) if self.results.fresh else None
        view = getattr(display, "view", None)
        if view is not None and view.mode == self._output_mode:
            return bool(display.signed)
        return is_signed(whole, self._output_mode)

    def set_output_colours(self, tables: dict[str, np.ndarray], mapping: str, mode: str) -> None:
        """Colour the overview's output as the output panel does: its ``argb_table``s (by
        colour map), its mapping (``display.MAPPINGS``) and its mode (raw, abs, relu)."""
        if tables is self._output_tables and (mapping, mode) == (self._output_mapping, self._output_mode):
            return
        self._output_tables, self._output_mapping, self._output_mode = tables, mapping, mode
        self._overview_signed = None
        self._overview_output()

    def _mark_overview(self, origin: tuple[int, int], cell: tuple[int, int], oc: int) -> None:
        """The neighbourhood and the window on the overview, in input pixels and output cells."""
        if self.view.whole or self.view.tile is None:
            return
        if oc != getattr(self, "_overview_channel", -1):
            self._overview_output()
        walk = self.walk
        top, _, left, _ = walk.geometry.pads
        dkh, dkw = walk.spec.dilated_kernel_hw
        (r0, r1), (c0, c1) = self.view.input_rect
        tile_in = ((r0 - top, r1 - top), (c0 - left, c1 - left))
        window = ((origin[0] - top, origin[0] - top + dkh), (origin[1] - left, origin[1] - left + dkw))
        i, j = cell
        self.overview.set_marks(tile_in, window, self.view.output_rect, ((i, i + 1), (j, j + 1)), (i, j))

    def _mark_overview_stamp(self, stamp, oc: int) -> None:
        if self.view.whole or self.view.tile is None:
            return
        if oc != getattr(self, "_overview_channel", -1):
            self._overview_output()
        r, c = stamp.position
        mask = stamp.out_channel == oc
        rows, cols = stamp.out_row[mask], stamp.out_col[mask]
        block = ((int(rows.min()), int(rows.max()) + 1), (int(cols.min()), int(cols.max()) + 1)) if mask.any() else None
        self.overview.set_marks(self.view.input_rect, ((r, r + 1), (c, c + 1)), self.view.output_rect, block, None)

    def _on_output_hovered(self, i: int, j: int) -> None:
        walk = self.walk
        if walk is None or walk.spec.transposed or i < 0:
            self.view.preview(None)
            return
        oc = self.state.cell()[0]
        c, h, w = walk.output_shape
        if 0 <= oc < c and 0 <= i < h and 0 <= j < w:
            self.view.preview(walk.step(walk.index_of(oc, i, j)))

    def shutdown(self) -> None:
        """Stop the timer and the stamps' worker (the window is closing)."""
        self.state.pause()
        self.stamps.shutdown()
        self._levels_worker.shutdown()
        self.results.want_reference(self.reference_name, False)

    def _disconnect_models(self) -> None:
        for signal, slot in (
            (self.session.changed, self._on_session_changed),
            (self.results.outcome_changed, self._results_when_shown.request),
            (self.results.reference_changed, self._results_when_shown.request),
        ):
            try:
                signal.disconnect(slot)
            except (ValueError, RuntimeError):
                pass


class _StageGrid(QGridLayout):
    """The stage's grid, saying while it places its widgets (``arranging``)."""

    arranging = False

    def setGeometry(self, rect) -> None:
        self.arranging = True
        try:
            super().setGeometry(rect)
        finally:
            self.arranging = False
