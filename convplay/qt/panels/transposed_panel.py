"""Transposed convolution four ways: scatter, gather, zero insertion and y = Cᵀx, side by
side and stepping together over the output cells.

All four read the session's input, kernel and spec.  Each view's numbers come from its own
computation in ``core.transposed_views`` (their agreement is the point); what a step
highlights comes from the reference walk (``ConvWalk``: the stamps, the gather taps, the
window on the zero-inserted input) and from C's structure (``conv_matrix``).  PyTorch's
conv_transpose2d checks all four on a ``LatestWorker``.  Inputs above ``MAX_SIDE`` are
refused with a message; larger outputs are cropped around the current cell.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convplay.core.animation import AnimationState
from convplay.core.conv_matrix import MatrixTooLarge, conv_matrix
from convplay.core.formatting import format_cell, format_difference, format_readout
from convplay.core.spec import ConvSpecError
from convplay.core.transposed_views import VIEW_NAMES, FourViews, four_views
from convplay.core.walk import ConvWalk
from convplay.qt import style
from convplay.qt.animation.player import Player, PlayerControls, install_shortcuts
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.widgets.transposed_boards import Board, BoardPicture, value_fill
from convplay.qt.workers import LatestWorker

DIRECT_MESSAGE = ("This is a direct convolution: tick \"transposed (ConvTranspose2d)\" in the Parameters to see "
                  "a transposed convolution four ways.")
MAX_SIDE = 32  # input rows and columns the four views draw
MAX_MACS = 2_000_000  # multiply-adds of one computation: each view computes the whole output on the UI thread
CROP = 9  # an output (or the stretched input) larger than this is shown around the current cell
INPUT_CROP = 7
READABLE_PX = 12  # a smaller picture crops tighter, so that every cell keeps its number
STRIP_WHOLE = 16  # a row of Cᵀ with at most this many columns is drawn whole
TERMS_SHOWN = 6
WIDE_RATIO = 2.6  # a panel this many times wider than tall puts the four views in one row
LABELS = {"scatter": "scatter", "gather": "gather", "zero insertion": "zero insertion", "matrix": "Cᵀx"}
ZERO_FILL = "#fff3c4"  # an inserted zero
PAD_FILL = "#d6dde8"  # padding p′ around the stretched input
OUTPUT_PAD_FILL = "#e6d6ee"  # output_padding's extra rows and columns

TITLES = {
    "scatter": ("(a) Scatter",
                "Each input pixel stamps value × kernel into the output; overlaps add up."),
    "gather": ("(b) Gather",
               "Each output cell collects the pixels that land on it through a kernel tap (click one)."),
    "zero insertion": ("(c) Zero insertion",
                       "s − 1 zeros (yellow) between pixels, p′ (grey) around, a (purple) after; "
                       "stride 1, kernel flipped."),
    "matrix": ("(d) y = Cᵀx",
               "The cell's row of Cᵀ (a column of the direct convolution's C) dotted with x."),
}


def check_job(job):
    """The badge's job (worker thread): the four views against conv_transpose2d."""
    from convplay.compute.matrix_check import check_four_views  # torch: after the window has painted

    spec, x, weight, bias = job
    return check_four_views(spec, x, weight, bias)


def _window(centre: int, size: int, n: int) -> tuple[int, int]:
    """[start, stop) of ``size`` cells around ``centre`` inside 0..n."""
    if n <= size:
        return 0, n
    start = min(max(centre - size // 2, 0), n - size)
    return start, start + size


def _sum_text(terms: list[str]) -> str:
    if not terms:
        return "0"
    if len(terms) > TERMS_SHOWN:
        terms = terms[:TERMS_SHOWN - 1] + ["…", terms[-1]]
    return " + ".join(terms)


def badge_text(differences: dict[str, float]) -> tuple[bool, str]:
    """The badge line from each view's largest difference from conv_transpose2d."""
    largest = max(differences.values())
    each = ", ".join(f"{LABELS[name]} {format_difference(differences[name])}" for name in VIEW_NAMES)
    ok = largest <= 1e-9
    if ok:
        return True, (f"\u2713 All four equal PyTorch's conv_transpose2d: largest difference "
                      f"{format_difference(largest)} ({each})")
    return False, f"\u2717 Not all four equal PyTorch's conv_transpose2d: largest difference " \
                  f"{format_difference(largest)} ({each})"


class ViewFrame(QFrame):
    """One of the four: title, one-line explanation, the picture, the value, its arithmetic."""

    def __init__(self, name: str, vertical: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.setObjectName(f"transposed_{name.replace(' ', '_')}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 3, 4, 3)
        layout.setSpacing(1)
        title, explanation = TITLES[name]
        # Title and explanation share one label: the line saved goes to the picture.
        self.title = QLabel(f"<b>{html.escape(title)}</b> <span style='color: {style.colour('MUTED')};'>"
                            f"{html.escape(explanation)}</span>")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.picture = BoardPicture(vertical=vertical)
        self.value_label = QLabel()
        self.value_label.setTextFormat(Qt.TextFormat.RichText)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.title)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.value_label)
        layout.addWidget(self.detail)

    def show_value(self, cell: tuple[int, int, int], value: float) -> None:
        oc, i, j = cell
        self.value = value
        self.value_label.setText(f"y[{oc}, {i}, {j}] = <b>{html.escape(format_readout(value))}</b>")


class TransposedPanel(QWidget):
    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.state = AnimationState(speed=2.0)
        self.player = Player(self.state, self)
        self.views: FourViews | None = None
        self.walk: ConvWalk | None = None
        self.matrix = None  # Cᵀ as COO (rows, cols, values, shape)
        self.error = ""
        self.last_check: tuple[bool | None, str] = (None, "")
        self._build()
        self.worker = LatestWorker(check_job, "transposed-check", debounce_ms=60, parent=self)
        self.worker.returned.connect(self._on_check)
        self.worker.errored.connect(self._on_check_error)
        self.shortcuts = install_shortcuts(self, self.state)
        self.state.position_changed.connect(self._show_step)
        # A hidden tab recomputes nothing per edit: it catches up once it is shown.
        self._when_shown = WhenShown(self, self._rebuild)
        hear_while_alive(self, (session.changed, self._when_shown.request))
        self._rebuild()

    # -- building ------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(4, 4, 4, 4)
        root.setSpacing(3)
        top = QHBoxLayout()
        self.message = QLabel()
        self.message.setWordWrap(True)
        top.addWidget(self.message, 1)
        self.out_channel = QSpinBox()
        self.out_channel.setKeyboardTracking(False)
        self.out_channel.setToolTip("The output channel the step computes")
        self.in_channel = QSpinBox()
        self.in_channel.setKeyboardTracking(False)
        self.in_channel.setToolTip("The input channel drawn: the output cell sums over every input "
                                   "channel of its group")
        self.channel_row = QWidget()
        row = QHBoxLayout(self.channel_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("output channel"))
        row.addWidget(self.out_channel)
        row.addWidget(QLabel("input channel drawn"))
        row.addWidget(self.in_channel)
        top.addWidget(self.channel_row)
        root.addLayout(top)

        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.frames = {name: ViewFrame(name, vertical=(name == "matrix")) for name in VIEW_NAMES}
        self._wide = None
        self._place_frames()
        root.addWidget(self.body, 1)
        self.filler = QWidget()  # holds the message at the top while the views are hidden
        root.addWidget(self.filler, 1)

        self.controls = PlayerControls(self.state)
        root.addWidget(self.controls)
        self.badge = QLabel()
        self.badge.setWordWrap(True)
        self.badge.setToolTip("PyTorch's conv_transpose2d (float64, CPU) of the whole input against each view")
        root.addWidget(self.badge)

        self.out_channel.valueChanged.connect(self._on_out_channel)
        self.in_channel.valueChanged.connect(lambda *_: self._show_step())
        self.frames["gather"].picture.cell_clicked.connect(self._on_gather_click)
        # The crops follow the pictures' room: one redraw after a resize settles.
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(0)
        self._resize_timer.timeout.connect(self._show_step)
        for frame in self.frames.values():
            frame.picture.resized.connect(self._resize_timer.start)

    def _place_frames(self) -> None:
        wide = self.width() >= WIDE_RATIO * max(self.height(), 1) and self.width() >= 1400
        if wide == self._wide:
            return
        self._wide = wide
        for index, name in enumerate(VIEW_NAMES):
            self.grid.removeWidget(self.frames[name])
            row, col = (0, index) if wide else divmod(index, 2)
            self.grid.addWidget(self.frames[name], row, col)
        for i in range(4):
            self.grid.setColumnStretch(i, 1 if (wide or i < 2) else 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_frames()

    def shutdown(self) -> None:
        self.state.pause()
        self.worker.shutdown()

    # -- model -> view -------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(style.ERROR_TEXT_STYLE if error else "")

    def _refuse(self, text: str, error: bool = False) -> None:
        self.error = text
        self.views = self.walk = self.matrix = None
        self._say(text, error)
        self.body.hide()
        self.filler.show()
        self.controls.hide()
        self.channel_row.hide()
        self.state.set_shape((0, 0, 0))
        self.controls.setEnabled(False)
        self.worker.cancel()
        self.badge.setText("")
        self.last_check = (None, "")

    def _rebuild(self, *_args) -> None:
        session = self.session
        spec = session.spec
        if not spec.transposed:
            self._refuse(DIRECT_MESSAGE)
            return
        x = np.asarray(session.image, dtype=np.float64)
        weight = np.asarray(session.effective_weight(), dtype=np.float64)
        bias = session.bias
        bias = None if bias is None else np.asarray(bias, dtype=np.float64)
        _, h, w = x.shape
        if h > MAX_SIDE or w > MAX_SIDE:
            self._refuse(f"The four views draw inputs up to {MAX_SIDE}×{MAX_SIDE}; this input is {h}×{w}. "
                         f"An input of at most {MAX_SIDE}×{MAX_SIDE} shows them.")
            return
        try:
            walk = ConvWalk(x, weight, bias, spec)
            if walk.macs > MAX_MACS:
                self._refuse(f"These settings take {walk.macs:,} multiply-adds, more than the four views "
                             f"compute while you wait ({MAX_MACS:,}); fewer channels or a smaller input fit.")
                return
            views = four_views(spec, x, weight, bias)
            matrix = conv_matrix(spec, weight, x.shape, dense=False)
        except MatrixTooLarge as exc:
            self._refuse(f"The matrix view of these settings is too large to build: {exc}", error=True)
            return
        except (ConvSpecError, ValueError) as exc:
            self._refuse(f"PyTorch refuses these settings: {exc}", error=True)
            return
        self.error = ""
        self.walk, self.views, self.matrix = walk, views, matrix
        self._x, self._weight, self._bias = x, weight, bias
        c_out, h_out, w_out = walk.output_shape
        self._say(f"conv_transpose2d of a {x.shape[0]}×{h}×{w} input to {c_out}×{h_out}×{w_out}, "
                  f"kernel {spec.kernel_hw[0]}×{spec.kernel_hw[1]}, stride {_pair_text(spec.stride_hw)}, "
                  f"padding {_pair_text(spec.pads()[0::2])}, output_padding {_pair_text(spec.output_padding_hw)}, "
                  f"dilation {_pair_text(spec.dilation_hw)}" + (f", groups {spec.groups}" if spec.groups > 1 else ""))
        self.body.show()
        self.filler.hide()
        self.controls.show()
        self.controls.setEnabled(True)
        with QSignalBlocker(self.out_channel):
            self.out_channel.setRange(0, c_out - 1)
        self.channel_row.setVisible(c_out > 1 or x.shape[0] > 1)
        self.state.set_shape(walk.output_shape)
        self._show_step()
        self.badge.setText("checking with PyTorch…")
        self.badge.setStyleSheet(style.muted_text_style())
        self.worker.submit((spec, x, weight, bias))

    def _on_out_channel(self, oc: int) -> None:
        _, i, j = self.state.cell()
        self.state.seek_cell(oc, i, j)

    def _on_gather_click(self, board: int, r: int, c: int) -> None:
        if board == 1:  # the output
            self.state.seek_cell(self.state.cell()[0], r, c)

    def seek_cell(self, oc: int, i: int, j: int) -> None:
        self.state.seek_cell(oc, i, j)

    def _show_step(self, *_args) -> None:
        if self.views is None or self.state.n_steps == 0:
            return
        cell = self.state.cell()
        oc, i, j = cell
        with QSignalBlocker(self.out_channel):
            self.out_channel.setValue(oc)
        step = self.walk.step(self.walk.index_of(oc, i, j))
        channels = step.in_channels
        with QSignalBlocker(self.in_channel):
            self.in_channel.setRange(int(channels[0]), int(channels[-1]))
        self.in_channel.setSuffix(f"  (group {step.group}: {channels[0]}–{channels[-1]})" if len(channels) > 1
                                  else f"  (group {step.group})")
        ci = self.in_channel.value()
        outputs = self.views.outputs()
        for name in VIEW_NAMES:
            self.frames[name].show_value(cell, float(outputs[name][oc, i, j]))
        self._show_scatter(cell, ci, channels)
        self._show_gather(cell, ci, step)
        self._show_zero_insertion(cell, ci, step)
        self._show_matrix(cell, step)

    # -- the four views ------------------------------------------------------------
    def _fit(self, name: str, other_cols: int = 0, boards: int = 2) -> int:
        """Cells per side a view's picture holds at a readable size (3 to ``CROP``)."""
        picture = self.frames[name].picture
        rows = (picture.height() - 24) // READABLE_PX
        cols = ((picture.width() - 20 * boards) // READABLE_PX - other_cols) // (boards if not other_cols else 1)
        return int(min(max(min(rows, cols), 3), CROP))

    def _input_board(self, title: str, ci: int, around: list[tuple[int, int]]) -> Board:
        x = self._x[ci]
        h, w = x.shape
        centre = np.mean(around, axis=0) if around else (h // 2, w // 2)
        size = min(INPUT_CROP, self._fit("scatter"))
        r0, r1 = _window(int(round(centre[0])), size, h)
        c0, c1 = _window(int(round(centre[1])), size, w)
        scale = float(np.max(np.abs(x))) if x.size else 0.0
        crop = x[r0:r1, c0:c1]
        return Board(title + (f" [{r0}:{r1}, {c0}:{c1}]" if (r1 - r0, c1 - c0) != (h, w) else ""),
                     r1 - r0, c1 - c0, texts=[[format_cell(v) for v in row] for row in crop],
                     fills=[[value_fill(v, scale) for v in row] for row in crop], origin=(r0, c0))

    def _output_board(self, title: str, values: np.ndarray, i: int, j: int, clickable: bool = False) -> Board:
        h, w = values.shape
        size = self._fit("scatter")
        r0, r1 = _window(i, size, h)
        c0, c1 = _window(j, size, w)
        scale = float(np.max(np.abs(values))) if values.size else 0.0
        crop = values[r0:r1, c0:c1]
        board = Board(title + (f" [{r0}:{r1}, {c0}:{c1}]" if (r1 - r0, c1 - c0) != (h, w) else ""),
                      r1 - r0, c1 - c0, texts=[[format_cell(v) for v in row] for row in crop],
                      fills=[[value_fill(v, scale) for v in row] for row in crop], origin=(r0, c0),
                      clickable=clickable)
        board.outlines.append((i - r0, j - c0, style.colour("WINDOW"), 3.0))
        return board

    def _stamps_reaching(self, oc: int, i: int, j: int, channels: np.ndarray):
        """(c_in, r, c, m, n, value, weight, product) of every stamp landing on output (oc, i, j):
        the walk's scatter of the few input pixels whose stamp can reach it."""
        spec = self.walk.spec
        (kh, kw), (sh, sw), (dh, dw) = spec.kernel_hw, spec.stride_hw, spec.dilation_hw
        top, _, left, _ = spec.pads()
        _, h, w = self._x.shape
        rows = range(max((i + top - dh * (kh - 1)) // sh, 0), min((i + top) // sh + 1, h))
        cols = range(max((j + left - dw * (kw - 1)) // sw, 0), min((j + left) // sw + 1, w))
        found = []
        for c_in in channels:
            for r in rows:
                for c in cols:
                    stamp = self.walk.scatter(int(c_in), r, c)
                    hit = np.flatnonzero(stamp.inside & (stamp.out_row == i) & (stamp.out_col == j)
                                         & (stamp.out_channel == oc))
                    for e in hit:
                        found.append((int(c_in), r, c, int(stamp.weight_ki[e]), int(stamp.weight_kj[e]),
                                      stamp.value, float(stamp.weight[e]), float(stamp.product[e])))
        return found

    def _weight_name(self, c_in: int, oc: int, m: int, n: int) -> str:
        many = self._weight.shape[0] > 1 or self._weight.shape[1] > 1
        if not many:
            return f"w[{m},{n}]"
        opg = self._weight.shape[1]
        return f"w[{c_in},{oc % opg},{m},{n}]"

    def _x_name(self, c_in: int, r: int, c: int) -> str:
        return f"x[{c_in},{r},{c}]" if self._x.shape[0] > 1 else f"x[{r},{c}]"

    def _only_bias(self, oc: int) -> str:
        return ": only the bias" if self._bias_term(oc) else ": 0"

    def _bias_term(self, oc: int) -> str:
        if self._bias is None or float(self._bias[oc]) == 0.0:
            return ""
        return f" + {format_cell(float(self._bias[oc]))} (bias)"

    def _show_scatter(self, cell, ci: int, channels) -> None:
        oc, i, j = cell
        frame = self.frames["scatter"]
        stamps = self._stamps_reaching(oc, i, j, channels)
        drawn = [s for s in stamps if s[0] == ci]
        source = self._input_board("input x", ci, [(s[1], s[2]) for s in drawn])
        out = self._output_board("output", self.views.scatter[oc], i, j)
        colours = style.GROUP_COLOURS
        spec = self.walk.spec
        (kh, kw), (sh, sw), (dh, dw) = spec.kernel_hw, spec.stride_hw, spec.dilation_hw
        top, _, left, _ = spec.pads()
        for n, (_, r, c, *_rest) in enumerate(drawn):
            colour = colours[n % len(colours)]
            source.outlines.append((r - source.origin[0], c - source.origin[1], colour, 3.0))
            # The stamp's footprint: where this pixel's value × kernel lands, clipped to the crop.
            r_first, c_first = r * sh - top - out.origin[0], c * sw - left - out.origin[1]
            r_last, c_last = r_first + dh * (kh - 1), c_first + dw * (kw - 1)
            r_first, c_first = max(r_first, 0), max(c_first, 0)
            r_last, c_last = min(r_last, out.rows - 1), min(c_last, out.cols - 1)
            if r_first <= r_last and c_first <= c_last:
                out.blocks.append((r_first, c_first, r_last, c_last, colour))
        frame.picture.set_boards([source, out], ["→"])
        names = [f"{self._x_name(c_in, r, c)}·{self._weight_name(c_in, oc, m, n)}" for c_in, r, c, m, n, *_ in stamps]
        numbers = [f"{format_cell(v)}·{format_cell(wv)}" for *_, v, wv, _ in stamps]
        frame.detail.setText((f"= {_sum_text(names)}\n= {_sum_text(numbers)}{self._bias_term(oc)}" if stamps else
                              f"no stamp lands here{self._only_bias(oc)}") + self._channels_note(channels))

    def _channels_note(self, channels) -> str:
        if len(channels) <= 1:
            return ""
        return f"\n(summed over input channels {channels[0]}–{channels[-1]}; channel {self.in_channel.value()} drawn)"

    def _show_gather(self, cell, ci: int, step) -> None:
        oc, i, j = cell
        frame = self.frames["gather"]
        taps = step.taps
        real = np.flatnonzero(taps.source_row >= 0)
        drawn = [int(t) for t in real if taps.in_channel[t] == ci]
        source = self._input_board("input x", ci, [(int(taps.source_row[t]), int(taps.source_col[t])) for t in drawn])
        for t in drawn:
            source.outlines.append((int(taps.source_row[t]) - source.origin[0],
                                    int(taps.source_col[t]) - source.origin[1], style.colour("WINDOW"), 3.0))
        out = self._output_board("output (click a cell)", self.views.gather[oc], i, j, clickable=True)
        frame.picture.set_boards([source, out], ["→"])
        names = [f"{self._weight_name(int(taps.in_channel[t]), oc, int(taps.weight_ki[t]), int(taps.weight_kj[t]))}"
                 f"·{self._x_name(int(taps.in_channel[t]), int(taps.source_row[t]), int(taps.source_col[t]))}"
                 for t in real]
        numbers = [f"{format_cell(float(taps.weight[t]))}·{format_cell(float(taps.value[t]))}" for t in real]
        frame.detail.setText((f"= {_sum_text(names)}\n= {_sum_text(numbers)}{self._bias_term(oc)}" if names else
                              f"no pixel lands here through any tap{self._only_bias(oc)}")
                             + self._channels_note(step.in_channels))

    def _show_zero_insertion(self, cell, ci: int, step) -> None:
        oc, i, j = cell
        frame = self.frames["zero insertion"]
        stretched = self.views.stretched_input[ci]
        geometry = self.views.geometry
        ph, pw = stretched.shape
        taps = step.taps
        mine = taps.in_channel == ci
        rows, cols = taps.padded_row[mine], taps.padded_col[mine]
        size = self._fit("zero insertion", other_cols=self.walk.spec.kernel_hw[1] + 1)
        r0, r1 = _window(int((rows.min() + rows.max()) // 2), size, ph)
        c0, c1 = _window(int((cols.min() + cols.max()) // 2), size, pw)
        kinds_r = [_kind(geometry.rows, r, self.views.axes[0].a) for r in range(r0, r1)]
        kinds_c = [_kind(geometry.cols, c, self.views.axes[1].a) for c in range(c0, c1)]
        scale = float(np.max(np.abs(self._x[ci]))) if self._x.size else 0.0
        texts, fills, muted = [], [], set()
        for a, kr in enumerate(kinds_r):
            trow, frow = [], []
            for b, kc in enumerate(kinds_c):
                v = float(stretched[r0 + a, c0 + b])
                if kr == "pixel" and kc == "pixel":
                    trow.append(format_cell(v))
                    frow.append(value_fill(v, scale) or style.colour("CELL_BACKGROUND"))
                else:
                    kind = "output padding" if "output padding" in (kr, kc) else \
                        "padding" if "padding" in (kr, kc) else "zero"
                    trow.append("0")
                    muted.add((a, b))
                    frow.append({"zero": ZERO_FILL, "padding": PAD_FILL, "output padding": OUTPUT_PAD_FILL}[kind])
            texts.append(trow)
            fills.append(frow)
        cropped = (r1 - r0, c1 - c0) != (ph, pw)
        board = Board("zero-inserted x" + (f" [{r0}:{r1}, {c0}:{c1}]" if cropped else ""),
                      r1 - r0, c1 - c0, texts=texts, fills=fills, origin=(r0, c0), muted_texts=muted)
        for r, c in zip(rows, cols):
            if r0 <= r < r1 and c0 <= c < c1:
                board.outlines.append((int(r) - r0, int(c) - c0, style.colour("WINDOW"), 2.5))
        kh, kw = self.walk.spec.kernel_hw
        kernel = taps.weight[mine].reshape(kh, kw)
        kscale = float(np.max(np.abs(kernel))) if kernel.size else 0.0
        flipped = Board("flipped w", kh, kw, texts=[[format_cell(v) for v in row] for row in kernel],
                        fills=[[value_fill(v, kscale) for v in row] for row in kernel])
        for t in np.flatnonzero(mine & (taps.source_row >= 0)):
            flipped.outlines.append((int(taps.ki[t]), int(taps.kj[t]), style.colour("WINDOW"), 2.5))
        frame.picture.set_boards([board, flipped], ["∗"])
        n_real = int(np.count_nonzero(taps.source_row >= 0))
        lines = _axes_lines(self.views.axes)
        frame.value_label.setText(frame.value_label.text() + f"  ·  window at ({i}, {j}): {taps.value.size} taps, "
                                  f"{n_real} on pixels, {taps.value.size - n_real} on zeros")
        frame.detail.setText("\n".join(lines))
        frame.detail.setToolTip("Cell colours: pixels by value, inserted zeros yellow, padding p′ blue-grey, "
                                "output_padding purple")

    def _show_matrix(self, cell, step) -> None:
        oc, i, j = cell
        frame = self.frames["matrix"]
        rows, cols, values, shape = self.matrix
        _, h_out, w_out = self.walk.output_shape
        row = (oc * h_out + i) * w_out + j
        lo, hi = np.searchsorted(rows, row), np.searchsorted(rows, row, side="right")
        read_cols, read_values = cols[lo:hi], values[lo:hi]
        n = shape[1]
        x = self._x.reshape(-1)
        if n <= STRIP_WHOLE:
            shown = np.arange(n)
        else:
            shown = read_cols if read_cols.size else np.array([0])
        entries = np.zeros(shown.size)
        positions = {int(c): k for k, c in enumerate(shown)}
        for c, v in zip(read_cols, read_values):
            entries[positions[int(c)]] = v
        xs = x[shown]
        products = entries * xs
        scale_w = float(np.max(np.abs(entries))) if entries.size else 0.0
        scale_x = float(np.max(np.abs(x))) if x.size else 0.0
        scale_p = float(np.max(np.abs(products))) if products.size else 0.0
        read = set(int(c) for c in read_cols)
        strip = Board(f"row {row} of Cᵀ" + ("" if n <= STRIP_WHOLE else ", columns read"),
                      3, shown.size,
                      texts=[[format_cell(v) for v in entries], [format_cell(v) for v in xs],
                             [format_cell(v) for v in products]],
                      fills=[[value_fill(v, scale_w) for v in entries], [value_fill(v, scale_x) for v in xs],
                             [value_fill(v, scale_p) for v in products]],
                      row_labels=["Cᵀ", "x", "×"])
        strip.muted_texts = {(r, k) for k, c in enumerate(shown) if int(c) not in read for r in range(3)}
        for k, c in enumerate(shown):
            if int(c) in read:
                strip.outlines.append((1, k, style.colour("WINDOW"), 2.5))
        frame.picture.set_boards([strip] if read_cols.size or n <= STRIP_WHOLE else [])
        c_in, h, w = self._x.shape
        names = [self._x_name(*(int(v) for v in np.unravel_index(int(c), (c_in, h, w)))) for c in read_cols]
        terms = [f"{format_cell(v)}·{format_cell(float(x[c]))}" for c, v in zip(read_cols, read_values)]
        if not read_cols.size:
            frame.detail.setText(f"row {row} of Cᵀ is all zeros: no pixel reaches this cell{self._only_bias(oc)}")
            return
        frame.detail.setText(f"reads column{'s' if read_cols.size != 1 else ''} "
                             f"{', '.join(map(str, read_cols.tolist()))} of {n}: "
                             f"{', '.join(names)}\n= {_sum_text(terms)}{self._bias_term(oc)}")

    # -- the PyTorch check ------------------------------------------------------------
    def _on_check(self, _generation: int, result) -> None:
        ok, text = badge_text(result.differences)
        self.last_check = (ok, text)
        self.badge.setText(text)
        self.badge.setStyleSheet(f"color: {style.colour('OK') if ok else style.colour('ERROR')}; font-weight: bold;")

    def _on_check_error(self, _generation: int, text: str) -> None:
        self.last_check = (False, text)
        self.badge.setText(f"\u2717 The PyTorch check could not run: {text}")
        self.badge.setStyleSheet(style.ERROR_TEXT_STYLE)


def _pair_text(pair) -> str:
    a, b = pair
    return str(a) if a == b else f"({a}, {b})"


def _kind(axis, coord: int, output_padding: int) -> str:
    """What a stretched, padded coordinate holds along one axis."""
    offset = coord - axis.before
    if 0 <= offset <= (axis.size - 1) * axis.spacing:
        return "pixel" if offset % axis.spacing == 0 else "zero"
    if output_padding and coord >= axis.padded_size - output_padding:
        return "output padding"
    return "padding"


def _axes_lines(axes) -> list[str]:
    """The guide's quantities, each kept on one line (no break inside an equation); the rows
    and the columns apart only where they differ."""
    rows, cols = axes

    def joined(axis) -> str:
        return "    ".join(line.replace(" ", "\u00a0") for line in axis.lines())

    if rows.lines() == cols.lines():
        return [joined(rows)]
    return ["rows:  " + joined(rows), "columns:  " + joined(cols)]
