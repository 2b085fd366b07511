"""Receptive field on the input: where one output pixel of a layer looks.

Left, the network's input with the theoretical receptive field framed (the input pixels
the layers' windows can reach, carried back exactly through every layer by
``layer_trace.receptive_box``; the part in the padding dashed).  Right, the effective
receptive field: |∂ output pixel / ∂ input| for the current input and weights, computed
by PyTorch's autograd on the controller's worker.  The caption compares them: how many
pixels inside the box the gradient reaches, and, when a max pooling layer lies on the
path, that max pooling passes the gradient to one cell of each window.

The probe is ``Network.probe`` (a click on a feature map sets it); with none picked the
centre pixel of the last layer with feature maps is shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSignalBlocker, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convplay.core.layer_trace import receptive_box
from convplay.core.network import Network, Probe
from convplay.qt import style
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.widgets.layer_combo import LayerCombo
from convplay.qt.widgets.map_grid import MapView

MAX_POOLS = ("MaxPool2d", "AdaptiveMaxPool2d")
CANDIDATES = 8  # channels tried, most active first, for a default probe the gradient reaches


def minus(value) -> str:
    """A number as text with a real minus sign (−1, not -1)."""
    return str(value).replace("-", "\u2212")


def default_candidates(trace, run=None) -> list[Probe]:
    """The centre pixel of the last layer with feature maps (where the receptive field is
    largest before the maps are flattened), in the channels most active there in ``run``,
    the most active first: those with a positive activation (a channel whose ReLU is off at
    that pixel has no gradient to show), else all; channel 0 alone without a run that fits."""
    best = None
    for row in trace.rows:
        if row.ok and row.output_shape is not None and len(row.output_shape) == 3:
            best = row
        elif row.ok and row.output_shape is not None and len(row.output_shape) == 1:
            break
    if best is None:
        return None
    _, h, w = best.output_shape
    out = run.output_of(best.index) if run is not None else None
    if out is None or tuple(out.shape) != tuple(best.output_shape):
        return [Probe(best.index, 0, h // 2, w // 2)]
    centre = np.nan_to_num(out[:, h // 2, w // 2], nan=-np.inf)
    order = [int(c) for c in np.argsort(-centre, kind="stable")]
    positive = [c for c in order if centre[c] > 0]
    return [Probe(best.index, c, h // 2, w // 2) for c in (positive or order)[:CANDIDATES]]


def default_probe(trace, run=None) -> Probe | None:
    """The first of ``default_candidates``: the most active channel at the centre pixel."""
    candidates = default_candidates(trace, run)
    return candidates[0] if candidates else None


def run_fits(trace, run) -> bool:
    """True when ``run`` has outputs of the trace's shapes (not a run of the stack before)."""
    if run is None or not run.outputs or len(run.outputs) > len(trace.rows):
        return False
    return all(row.output_shape is not None and tuple(out.shape) == tuple(row.output_shape)
               for row, out in zip(trace.rows, run.outputs))


def clipped(box, h: int, w: int) -> tuple[int, int, int, int]:
    top, left, bottom, right = box
    return max(top, 0), max(left, 0), min(bottom, h - 1), min(right, w - 1)


def box_text(box, h: int, w: int) -> str:
    """"10×10 (2 rows fall in the padding)": the box's unclipped size and what lies outside."""
    top, left, bottom, right = box
    rows, cols = bottom - top + 1, right - left + 1
    out_rows = max(0, -top) + max(0, bottom - (h - 1))
    out_cols = max(0, -left) + max(0, right - (w - 1))
    parts = []
    if out_rows:
        parts.append(f"{out_rows} row{'s' if out_rows != 1 else ''}")
    if out_cols:
        parts.append(f"{out_cols} column{'s' if out_cols != 1 else ''}")
    text = f"{rows}×{cols}"
    if parts:
        verb = "falls" if len(parts) == 1 and (out_rows or out_cols) == 1 else "fall"
        text += f" ({' and '.join(parts)} {verb} in the padding)"
    return text


def border_note(box, field) -> str:
    """Why a box near the border is smaller than the layer's receptive field in the table."""
    if box is None or field is None:
        return ""
    rows, cols = box[2] - box[0] + 1, box[3] - box[1] + 1
    if rows >= field[0] and cols >= field[1]:
        return ""
    return (f" Smaller than the table's {field[0]}×{field[1]}: near the border an earlier layer's window "
            "reads its padding, and no input pixel lies behind padding.")


def max_pool_on_path(stack, layer: int) -> bool:
    return any(l.kind in MAX_POOLS for l in stack.layers[: layer + 1])


def comparison_text(field: np.ndarray, box, stack, layer: int) -> str:
    """How the effective field compares with the theoretical box."""
    h, w = field.shape
    top, left, bottom, right = clipped(box, h, w)
    inside = field[top:bottom + 1, left:right + 1]
    area = inside.size
    reached = int(np.count_nonzero(inside))
    outside = int(np.count_nonzero(field)) - reached
    if reached == 0:
        text = (f"No input pixel reaches this output for this input: its gradient is 0 everywhere "
                f"(a ReLU on its path is off, or the weights are 0). The box holds {area} pixels.")
    elif reached == area:
        text = f"All {area} pixels of the box reach this output: the effective field fills the theoretical one."
    elif max_pool_on_path(stack, layer):
        text = (f"Max pooling sends the gradient to one cell of each window: {reached} of the {area} pixels "
                "reach this output.")
    else:
        text = (f"{reached} of the {area} pixels reach this output: the others' paths pass through a ReLU "
                "that is off here, or through zero weights.")
    if outside > 0:
        text += f" {outside} pixels outside the box have a gradient too."
    return text


class PicturePair(QWidget):
    """The two pictures, each under its title, side by side or one above the other:
    whichever makes them larger in the room the dock gives."""

    GAP = 6

    def __init__(self, *widgets: QWidget):
        super().__init__()
        self._widgets = widgets  # title, view, title, view
        for widget in widgets:
            widget.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.stacked = False

    def _title_h(self) -> int:
        return max(w.sizeHint().height() for w in self._widgets[0::2])

    def sizeHint(self) -> QSize:
        return QSize(2 * 90 + self.GAP, 90 + self._title_h())

    def minimumSizeHint(self) -> QSize:
        return QSize(2 * 60 + self.GAP, 60 + self._title_h())

    def side(self, width: int, height: int) -> tuple[int, bool]:
        """(picture side, stacked) for a room of width × height."""
        th, gap = self._title_h(), self.GAP
        beside = min((width - gap) // 2, height - th)
        above = min(width, (height - 2 * th - gap) // 2)
        return (above, True) if above > beside else (max(beside, 1), False)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._place()

    def _place(self) -> None:
        width, height = self.width(), self.height()
        size, self.stacked = self.side(width, height)
        th, gap = self._title_h(), self.GAP
        pairs = (self._widgets[0:2], self._widgets[2:4])
        if self.stacked:
            x = (width - size) // 2
            for k, (title, view) in enumerate(pairs):
                y = k * (th + size + gap)
                title.setGeometry(x, y, size, th)
                view.setGeometry(x, y + th, size, size)
        else:
            x0 = (width - 2 * size - gap) // 2
            half = (width - gap) // 2
            for k, (title, view) in enumerate(pairs):
                x = x0 + k * (size + gap)
                # A title may use its half of the width: "theoretical: 10×10" over a small picture.
                title.setGeometry(min(x, k * (half + gap)), 0, max(size, half), th)
                view.setGeometry(x, th, size, size)


class ReceptiveFieldPanel(QWidget):
    """``hovered(str)``: the value under the pointer (for the window's status bar)."""

    hovered = Signal(str)

    def __init__(self, network: Network, controller=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.network = network
        self.controller = controller
        self._field: np.ndarray | None = None
        self._field_for: tuple | None = None  # (probe, run) the field shown was computed for
        self._asked: tuple | None = None  # (probe, run) asked of the controller, not back yet
        self._default_key: tuple | None = None  # (trace, weights) the default probe was chosen for
        self._default_fixed = False
        self._candidates: list[Probe] = []  # the default probe and the channels tried after it
        self._default: Probe | None = None
        self._asked_alternatives: tuple = ()

        self.layer_combo = LayerCombo("The layer whose output pixel is probed (a click on a feature map picks one)")
        self.channel_spin = QSpinBox()
        self.channel_spin.setToolTip("The channel (feature map) of the probed pixel; for a vector, its entry")
        self.row_spin = QSpinBox()
        self.row_spin.setToolTip("The row of the probed output pixel")
        self.col_spin = QSpinBox()
        self.col_spin.setToolTip("The column of the probed output pixel")
        controls = QGridLayout()
        controls.addWidget(QLabel("Layer"), 0, 0)
        controls.addWidget(self.layer_combo, 0, 1, 1, 5)
        for k, (text, spin) in enumerate((("channel", self.channel_spin), ("row", self.row_spin),
                                          ("col", self.col_spin))):
            label = QLabel(text)
            label.setToolTip(spin.toolTip())
            controls.addWidget(label, 1, 2 * k)
            controls.addWidget(spin, 1, 2 * k + 1)
        controls.setColumnStretch(1, 1)
        controls.setColumnStretch(3, 1)
        controls.setColumnStretch(5, 1)

        self.theory_view = MapView(hint=90)
        self.theory_view.setToolTip("The network's input with the theoretical receptive field of the probed "
                                    "pixel framed (dashed where it lies in the padding)")
        self.effective_view = MapView(hint=90)
        self.effective_view.setToolTip("The effective receptive field: |∂ output pixel / ∂ input| for this input "
                                       "and these weights (PyTorch's autograd), the theoretical box framed")
        self.theory_title = QLabel("theoretical")
        self.effective_title = QLabel("effective")
        for title, view in ((self.theory_title, self.theory_view), (self.effective_title, self.effective_view)):
            title.setToolTip(view.toolTip())
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.pictures = PicturePair(self.theory_title, self.theory_view, self.effective_title,
                                    self.effective_view)

        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setToolTip("The theoretical and the effective receptive field compared")
        self.stale_label = QLabel("updating\u2026")
        self.stale_label.setStyleSheet(style.STALE_BANNER_STYLE)
        self.stale_label.setToolTip("The effective field shown is for an earlier probe, input or stack")
        self.stale_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(controls)
        layout.addWidget(self.pictures, 1)
        status = QHBoxLayout()
        status.addWidget(self.caption, 1)
        status.addWidget(self.stale_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(status)

        self.layer_combo.currentIndexChanged.connect(self._on_layer)
        for spin in (self.channel_spin, self.row_spin, self.col_spin):
            spin.valueChanged.connect(self._on_spin)
        for view in (self.theory_view, self.effective_view):
            view.hovered.connect(self.hovered)
        self._when_shown = WhenShown(self, self.refresh)
        hear_while_alive(self, (network.stack_changed, self._on_stack_changed),
                         (network.probe_changed, self._when_shown.request),
                         (network.run_changed, self._when_shown.request))
        if controller is not None and hasattr(controller, "effective_ready"):
            controller.effective_ready.connect(self._on_effective)
        self.refresh()

    # -- what is shown -----------------------------------------------------------------
    @property
    def probe(self) -> Probe | None:
        """The network's probe, else the default one (fixed once a fresh run of this stack
        and these weights is in, so a stroke does not move it)."""
        if self.network.probe is not None:
            return self.network.probe
        network = self.network
        key = (network.trace, id(network.weights))
        fresh = network.run_is_fresh and run_fits(network.trace, network.run)
        if self._default_key != key or (fresh and not self._default_fixed):
            self._default_key, self._default_fixed = key, fresh
            # A run of the stack before (another shape) says nothing about these channels.
            run = network.run if run_fits(network.trace, network.run) else None
            self._candidates = default_candidates(network.trace, run)
            self._default = self._candidates[0] if self._candidates else None
        return self._default

    @property
    def field(self) -> np.ndarray | None:
        return self._field

    def theoretical_box(self) -> tuple[int, int, int, int] | None:
        probe = self.probe
        if probe is None:
            return None
        return receptive_box(self.network.trace, probe.layer, probe.row, probe.col)

    def _input(self) -> np.ndarray | None:
        run = self.network.run
        if run is not None and tuple(run.input.shape) == tuple(self.network.input_shape):
            return run.input
        return None

    def refresh(self) -> None:
        network = self.network
        probe = self.probe
        self._sync_controls(probe)
        x = self._input()
        _, h, w = network.input_shape
        if x is not None:
            image = x[0] if x.shape[0] != 3 else x.mean(axis=0)
            top = max(1.0, float(np.nanmax(image))) if image.size else 1.0
            self.theory_view.set_map(image, (min(0.0, float(np.nanmin(image))), top), False, "input",
                                     colour_map=style.GREY_IMAGE)
        else:
            self.theory_view.set_map(np.zeros((h, w)), (0.0, 1.0), False, "input", colour_map=style.GREY_IMAGE)
        if probe is None:
            self.theory_view.set_box(None)
            self.effective_view.set_map(None)
            self.theory_title.setText("theoretical")
            self.effective_title.setText("effective")
            self.caption.setText("Pick an output pixel: no layer of this stack has an output yet.")
            self.stale_label.hide()
            return
        box = receptive_box(network.trace, probe.layer, probe.row, probe.col)
        self.theory_view.set_box(box)
        row = network.trace.rows[probe.layer]
        where = f"{row.layer.label} ch {probe.channel}"
        vector = row.output_shape is not None and len(row.output_shape) == 1
        if not vector:
            where += f" ({probe.row}, {probe.col})"
        size = "\u2014" if box is None else f"{box[2] - box[0] + 1}×{box[3] - box[1] + 1}"
        self.theory_title.setText(f"theoretical: {size}")
        current = self._field_for == (probe, network.run) and network.run_is_fresh
        if not current:
            self._ask(probe)
        # The last field of this probe stays on screen, dimmed, until the new one is in.
        field = self._field if self._field_for is not None and self._field_for[0] == probe else None
        self.stale_label.setVisible(field is not None and not current)
        self._show_field(field, box)
        self.effective_view.set_stale(field is not None and not current)
        if box is None:
            if row.ok:
                self.caption.setText(f"{where} reads only padding: no input pixel reaches it.")
            else:
                self.caption.setText(f"{where}: this layer has no output ({network.trace.error})")
            return
        if vector or (box == (0, 0, h - 1, w - 1) and _flattened(network.trace, probe.layer)):
            theory = f"A {row.layer.kind} output reads every input pixel: the whole {w}×{h} input."
        else:
            theory = (f"{where} reads {box_text(box, h, w)}: rows {minus(box[0])}\u2013{minus(box[2])}, "
                      f"columns {minus(box[1])}\u2013{minus(box[3])}.")
            theory += border_note(box, row.receptive_field)
        if field is None:
            self.caption.setText(theory + " The effective field is being computed\u2026")
        else:
            self.caption.setText(theory + " " + comparison_text(field, box, network.stack, probe.layer))

    def _show_field(self, field: np.ndarray | None, box) -> None:
        if field is None or field.ndim != 2:
            self.effective_view.set_map(None)
            self.effective_title.setText("effective")
            return
        top = float(field.max()) if field.size else 1.0
        self.effective_view.set_map(field, (0.0, top if top > 0 else 1.0), False, "|gradient|",
                                    colour_map=style.SEQUENTIAL)
        self.effective_view.set_box(box)
        self.effective_title.setText(f"effective: {int(np.count_nonzero(field))} px")

    def _ask(self, probe: Probe) -> None:
        key = (probe, self.network.run)
        if self._asked == key or self.controller is None or not hasattr(self.controller, "request_effective"):
            return
        if not self.network.run_is_fresh:
            return  # asked again once the run for the current input is in
        alternatives = ()
        if self.network.probe is None and self._candidates and probe == self._candidates[0]:
            alternatives = tuple(self._candidates[1:])
        asked = (self.controller.request_effective(probe, alternatives) if alternatives
                 else self.controller.request_effective(probe))
        if asked:
            self._asked, self._asked_alternatives = key, alternatives

    def _on_stack_changed(self) -> None:
        # Another stack: the field shown (and its header) belonged to the one before.
        self._field = self._field_for = self._asked = None
        self.effective_title.setText("effective")
        self.theory_title.setText("theoretical")
        self._when_shown.request()

    def _on_effective(self, probe, field) -> None:
        asked = self._asked
        if asked is None or (asked[0] != probe and probe not in self._asked_alternatives):
            return
        self._asked = None
        if probe != asked[0]:
            # The default probe's gradient is 0 everywhere: the channel the worker found is shown.
            self._default = probe
            self._candidates = [probe]
            asked = (probe, asked[1])
        if isinstance(field, str):
            self._field, self._field_for = None, asked
            self.caption.setText(f"The effective field could not be computed: {field}")
            self.effective_view.set_map(None)
            return
        self._field, self._field_for = np.asarray(field), asked
        self._when_shown.request()

    def _sync_controls(self, probe: Probe | None) -> None:
        trace = self.network.trace
        self.layer_combo.set_trace(trace, probe.layer if probe is not None else -1)
        shape = None
        if probe is not None and 0 <= probe.layer < len(trace.rows):
            shape = trace.rows[probe.layer].output_shape
        with QSignalBlocker(self.channel_spin), QSignalBlocker(self.row_spin), QSignalBlocker(self.col_spin):
            if shape is None or probe is None:
                for spin in (self.channel_spin, self.row_spin, self.col_spin):
                    spin.setRange(0, 0)
                    spin.setEnabled(False)
                return
            channels = shape[0] if len(shape) == 3 else shape[-1]
            self.channel_spin.setRange(0, channels - 1)
            self.channel_spin.setEnabled(True)
            self.channel_spin.setValue(probe.channel)
            spatial = len(shape) == 3
            for spin, n, v in ((self.row_spin, shape[1] if spatial else 1, probe.row),
                               (self.col_spin, shape[2] if spatial else 1, probe.col)):
                spin.setRange(0, n - 1)
                spin.setValue(v)
                spin.setEnabled(spatial)

    # -- user -> model -------------------------------------------------------------------
    def _on_layer(self, index: int) -> None:
        trace = self.network.trace
        if not 0 <= index < len(trace.rows) or trace.rows[index].output_shape is None or trace.rows[index].error:
            self._when_shown.request()  # the controls go back to the probe
            return
        shape = trace.rows[index].output_shape
        if len(shape) == 3:
            old = self.probe
            channel = min(old.channel, shape[0] - 1) if old is not None else 0
            self.network.set_probe(Probe(index, channel, shape[1] // 2, shape[2] // 2))
        else:
            self.network.set_probe(Probe(index, 0, 0, 0))

    def _on_spin(self, *_args) -> None:
        probe = self.probe
        if probe is None:
            return
        self.network.set_probe(Probe(probe.layer, self.channel_spin.value(), self.row_spin.value(),
                                     self.col_spin.value()))


def _flattened(trace, layer: int) -> bool:
    return any(row.output_shape is not None and len(row.output_shape) == 1 for row in trace.rows[: layer + 1])
