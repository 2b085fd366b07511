"""The animation panel: view, arithmetic, controls and the "Matches PyTorch" badge, as one widget.

Wiring from the main window::

    dock = AnimationDock(session)
    worker.result_ready.connect(dock.set_outcome)   # PyTorch's output for the badge and checks

The reference output (for the badge and for filling in cells after a jump) is computed
on the UI thread only when it is small (``SYNC_REFERENCE_MACS``); larger ones run in a
background thread and the newest result wins, so a 1024×1024 input never blocks the UI.
Each frame itself costs O(taps): the walk builds the current step on demand.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QSpinBox, QSplitter, QToolButton, QVBoxLayout, QWidget

from convplay.core.animation import AnimationState
from convplay.core.match import Match, compare_conv, output_magnitude, precision_of, tolerance_for
from convplay.core.reference import conv2d_reference
from convplay.core.session import Session
from convplay.core.spec import ConvSpecError
from convplay.core.walk import ConvWalk
from convplay.qt.animation.view import AnimationView
from convplay.qt.animation.arithmetic import ArithmeticPanel
from convplay.qt.animation.group_diagram import COLUMN_WIDTH, ROW_HEIGHT, GroupDiagram
from convplay.qt.animation.player import Player, PlayerControls, install_shortcuts

SYNC_REFERENCE_MACS = 2_000_000  # about 2 ms of numpy: done at once, below a frame
ARITHMETIC_SHARE = 0.38  # of the splitter for the arithmetic, until the user drags the handle
STACK_ASPECT = 0.9  # a dock taller than this times its width puts the arithmetic below the view


def _macs(walk: ConvWalk) -> int:
    return len(walk) * int(np.prod(walk.taps_shape))


class AnimationDock(QWidget):
    """Signals: ``reference_ready`` once the reference output for the current settings is
    known; ``match_changed(object)`` with the new ``Match`` (or None)."""

    reference_ready = Signal()
    match_changed = Signal(object)
    _reference_done = Signal(int, object)  # generation, output (from the worker thread)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.state = AnimationState(speed=4.0)
        self.player = Player(self.state, self)
        self.view = AnimationView()
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
        self.scatter_channel = QSpinBox()
        self.scatter_channel.setPrefix("show output channel ")
        self.scatter_channel.setToolTip("The output channel whose stamps the transposed convolution's view shows")
        self.scatter_channel.valueChanged.connect(lambda _: self.show_step(self.state.position))

        # The diagram sits beside the view or above it, whichever leaves the view bigger
        # cells; it never takes room from the arithmetic's products.
        self.stage = QWidget()
        self._stage_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.stage)
        self._stage_layout.setContentsMargins(0, 0, 0, 0)
        self._stage_layout.setSpacing(2)
        self._stage_layout.addWidget(self.diagram)
        self._stage_layout.addWidget(self.view, 1)
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
        self.shortcuts = install_shortcuts(self, self.state)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.walk: ConvWalk | None = None
        self.reference: np.ndarray | None = None
        self.torch_output: np.ndarray | None = None
        self.match: Match | None = None
        self._torch_precision = ("float32", False)
        self._tolerance: float | None = None
        self._generation = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convplay-reference")
        self._scatter_acc: np.ndarray | None = None
        self._scatter_oc = -1
        self._scatter_k = -2
        self._active = True
        self._deferred = False
        self._pending_outcome = None

        self.state.position_changed.connect(self.show_step)
        self.view.output_clicked.connect(self._on_output_clicked)
        self.view.output_hovered.connect(self._on_output_hovered)
        self.view.hovered.connect(self.hover_label.setText)
        self._reference_done.connect(self._on_reference_done)
        session.changed.connect(self.rebuild)
        self.rebuild()

    # -- layout ----------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_splitter()

    def _fit_splitter(self) -> None:
        """The view and the arithmetic side by side on a wide dock, stacked on a tall one;
        the arithmetic keeps its share of the space (a projector's 1280×720 gives it ~480 px)."""
        vertical = self.height() > STACK_ASPECT * self.width()
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
        """The channel diagram as a column beside the view or a strip above it: whichever
        gives the view's cells more pixels (beside when it is a tie)."""
        if not self.diagram.isVisibleTo(self):
            return
        stage = self.splitter.sizes()[0]
        if self.splitter.orientation() == Qt.Orientation.Horizontal:
            width, height = stage, self.splitter.height()
        else:
            width, height = self.splitter.width(), stage
        gap = self._stage_layout.spacing()
        beside = self.view.cell_size_for(width - COLUMN_WIDTH - gap, height)
        above = self.view.cell_size_for(width, height - ROW_HEIGHT - gap)
        strip = above > 1.02 * beside
        orientation = Qt.Orientation.Vertical if strip else Qt.Orientation.Horizontal
        if orientation != self.diagram.orientation:
            self._stage_layout.setDirection(QBoxLayout.Direction.TopToBottom if strip else QBoxLayout.Direction.LeftToRight)
            self.diagram.set_orientation(orientation)

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        view, arithmetic = self.splitter.sizes()
        if view + arithmetic > 0:
            self._arithmetic_share = arithmetic / (view + arithmetic)

    # -- the convolution changed ---------------------------------------------------------
    def set_active(self, active: bool) -> None:
        """False while the panel is out of sight (a tab behind another, a hidden dock):
        edits then cost nothing here, and the panel catches up when it is active again."""
        self._active = bool(active)
        if not self._active:
            return
        if self._deferred:
            self.rebuild()  # takes the pending outcome too
        elif self._pending_outcome is not None:
            pending, self._pending_outcome = self._pending_outcome, None
            self.set_outcome(pending)

    def rebuild(self) -> None:
        """New walk for the session's settings; the position is kept where it still exists.

        While the panel is inactive (see ``set_active``) the rebuild waits.
        """
        if not self._active:
            self._deferred = True
            return
        self._deferred = False
        pending, self._pending_outcome = self._pending_outcome, None
        self._generation += 1
        self.reference = self.torch_output = self.match = None
        self._tolerance = None
        self._scatter_k = -2
        s = self.session
        try:
            walk = ConvWalk(s.image, s.weight, s.bias, s.spec, flip=s.true_convolution)
        except ConvSpecError as exc:
            self.walk = None
            self.view.set_walk(None, None)
            self._set_diagram_spec(None)
            self.message.setText(f"Cannot animate these settings: {exc}")
            self.state.set_shape((0, 0, 0))
            self._show_badge()
            return
        self.walk = walk
        self.view.set_walk(walk, s.image)
        self._set_diagram_spec(s.spec)
        transposed = s.spec.transposed
        self.scatter_channel.setVisible(transposed)
        self.scatter_channel.setRange(0, s.spec.out_channels - 1)
        kind = "true convolution (kernel flipped 180\u00b0)" if s.true_convolution else "cross-correlation, as PyTorch computes it"
        if transposed:
            self.message.setText(f"Transposed convolution, {kind}: each input pixel stamps value \u00d7 kernel onto the output; overlaps add up.")
        else:
            self.message.setText(f"Sliding window, {kind}: {len(walk)} steps.")
        if _macs(walk) <= SYNC_REFERENCE_MACS:
            self._set_reference(self._compute_reference(s.image, s.weight, s.bias, s.spec, s.true_convolution))
        else:
            self._submit_reference()
        old_shape = self.state.shape
        self.state.set_shape(s.image.shape if transposed else walk.output_shape)
        if self.state.shape == old_shape and self.state.n_steps:
            self.show_step(self.state.position)  # same shape: set_shape emitted nothing
        self._show_badge()
        if pending is not None:
            self.set_outcome(pending)

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

    @staticmethod
    def _compute_reference(image, weight, bias, spec, flip) -> np.ndarray:
        return conv2d_reference(image, weight, bias, spec, flip=flip)

    def _submit_reference(self) -> None:
        s = self.session
        job = (self._generation, s.image, s.weight, s.bias, s.spec, s.true_convolution)

        def run() -> None:
            generation, *operands = job
            try:
                out = self._compute_reference(*operands)
            except (ConvSpecError, ValueError, MemoryError):
                out = None
            self._reference_done.emit(generation, out)

        self._executor.submit(run)

    def _on_reference_done(self, generation: int, output) -> None:
        if generation == self._generation and output is not None:
            self._set_reference(output)
            self.show_step(self.state.position)

    def _set_reference(self, output: np.ndarray) -> None:
        self.reference = output
        self._update_values()
        self._compare()
        self.reference_ready.emit()

    def _update_values(self) -> None:
        values = self.reference if self.reference is not None else self.torch_output
        if values is None:
            self.view.set_output_values(None, (-1.0, 1.0))
            return
        finite = np.abs(values[np.isfinite(values)])
        m = float(finite.max()) if finite.size else 1.0
        self.view.set_output_values(values, (-m, m) if m > 0 else (-1.0, 1.0))

    # -- PyTorch's result ------------------------------------------------------------------
    def set_outcome(self, outcome) -> None:
        """A ``ComputeOutcome`` from the compute worker: PyTorch's output for the session."""
        if self._deferred or not self._active:
            self._pending_outcome = outcome  # compared when the panel is shown
            return
        self.set_torch_output(outcome.output, outcome.request.dtype, outcome.request.tf32)

    def set_torch_output(self, output: np.ndarray, dtype: str = "float32", tf32: bool = False) -> None:
        walk = self.walk
        if walk is None or np.shape(output) != walk.output_shape:
            return  # settings changed since that run; a newer result is on its way
        self.torch_output = np.asarray(output, dtype=np.float64)
        self._torch_precision = (dtype, tf32)
        s = self.session
        weight = s.effective_weight()
        first, second, kh, kw = weight.shape
        n_terms = (first // s.spec.groups if s.spec.transposed else second) * kh * kw
        self._tolerance = tolerance_for(output_magnitude(s.image, weight, s.bias, s.spec), n_terms, precision_of(dtype, tf32))
        if self.reference is None:
            self._update_values()
        self._compare()
        if self.state.n_steps:
            self.show_step(self.state.position)

    def _compare(self) -> None:
        if self.reference is None or self.torch_output is None:
            self.match = None
        else:
            s = self.session
            dtype, tf32 = self._torch_precision
            self.match = compare_conv(self.reference, self.torch_output, s.image, s.effective_weight(), s.bias, s.spec, dtype, tf32)
            self._tolerance = self.match.tolerance
        self._show_badge()
        self.match_changed.emit(self.match)

    def _show_badge(self) -> None:
        if self.walk is None:
            self.badge.setText("")
            return
        if self.match is None:
            waiting = "PyTorch's output" if self.torch_output is None else "the reference output"
            self.badge.setText(f"Matches PyTorch? waiting for {waiting}\u2026")
            self.badge.setStyleSheet("")
            return
        note = f"<br><i>{self.match.note}</i>" if self.match.note else ""
        colour = "#1a7f37" if self.match.matches else "#c62828"
        mark = "\u2713" if self.match.matches else "\u2717"
        self.badge.setText(f"<b style='color:{colour}'>{mark} {self.match.summary()}</b>{note}")

    # -- frames ----------------------------------------------------------------------------
    def show_step(self, k: int) -> None:
        """Draw step ``k``: the frame update the timer drives."""
        walk = self.walk
        if walk is None or not 0 <= k < self.state.n_steps:
            return
        if walk.spec.transposed:
            self._show_stamp(k)
            return
        step = walk.step(k)
        self.view.show_step(step)
        self.diagram.set_current(step.out_channel)
        oc, (i, j) = step.out_channel, step.position
        torch_value = None if self.torch_output is None else float(self.torch_output[oc, i, j])
        self.arithmetic.show_step(step, self.session.true_convolution, torch_value, self._tolerance)
        self.view.set_mismatches(self.match.mismatched if self.match is not None else np.zeros((0, 3), int), oc)

    def _show_stamp(self, k: int) -> None:
        walk, s = self.walk, self.session
        oc = min(self.scatter_channel.value(), s.spec.out_channels - 1)
        stamp = walk.scatter(*walk.scatter_pixel(k))
        if k == self._scatter_k + 1 and self._scatter_acc is not None and oc == self._scatter_oc:
            mask = (stamp.out_channel == oc) & stamp.inside
            np.add.at(self._scatter_acc, (stamp.out_row[mask], stamp.out_col[mask]), stamp.product[mask])
        else:
            self._scatter_acc = self._stamped_output(k, oc)
        self._scatter_k, self._scatter_oc = k, oc
        self.view.show_stamp(stamp, oc, self._scatter_acc)
        self.diagram.set_current(oc, stamp.in_channel)
        self.arithmetic.show_stamp(stamp, oc, s.spec.kernel_hw, s.true_convolution)

    def _stamped_output(self, k: int, oc: int) -> np.ndarray:
        """Output channel ``oc`` after input pixels 0..k have stamped (it starts at the bias)."""
        s = self.session
        masked = np.zeros_like(s.image)
        masked.reshape(-1)[: k + 1] = s.image.reshape(-1)[: k + 1]
        return conv2d_reference(masked, s.weight, s.bias, s.spec, flip=s.true_convolution)[oc].copy()

    def _on_output_clicked(self, i: int, j: int) -> None:
        if self.walk is not None and not self.walk.spec.transposed:
            self.state.seek_cell(self.state.cell()[0], i, j)

    def _on_output_hovered(self, i: int, j: int) -> None:
        walk = self.walk
        if walk is None or walk.spec.transposed or i < 0:
            self.view.preview(None)
            return
        self.view.preview(walk.step(walk.index_of(self.state.cell()[0], i, j)))

    def shutdown(self) -> None:
        """Stop the timer and the reference thread (the window is closing)."""
        self.state.pause()
        self._executor.shutdown(wait=True, cancel_futures=True)
