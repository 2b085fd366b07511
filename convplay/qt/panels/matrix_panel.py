"""The matrix view: the session's convolution as y = C·x + b, or as im2col's product.

For inputs up to ``DENSE_LIMIT`` a side the whole matrix C is drawn (core.conv_matrix),
with x and y as columns beside it; stepping the animation lights C's row for the output
cell computed now (a transposed convolution: the column of the input pixel that
scatters), and clicking a row or column moves the animation there.  Larger inputs show
im2col's form instead: a group's weight matrix times a window of its patch matrix, the
columns around the current output position only, computed from the input directly (the
whole patch matrix of a 1024² input is never built on the UI thread).

The badge is PyTorch's verdict on both matrix forms, computed on a ``LatestWorker``.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.conv_matrix import bias_vector, conv_matrix, matrix_taps, weight_matrix
from convplay.core.padding import NO_SOURCE, padded_geometry
from convplay.core.spec import ConvSpec, ConvSpecError
from convplay.qt import style
from convplay.qt.animation.player import PlayerControls, install_shortcuts
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.theme import theme
from convplay.qt.widgets.matrix_grid import SUBSCRIPT, MatrixBlock, MatrixGrid, number_text
from convplay.qt.workers import LatestWorker, describe_error
from convplay.qt.zoom import text_zoom

DENSE_LIMIT = 8  # inputs up to this many rows and columns show the whole matrix C
MIN_WINDOW_COLUMNS, MAX_WINDOW_COLUMNS = 6, 40  # im2col: patch columns shown around the current one
READABLE_CELL = 22  # px: the im2col window is as wide as keeps its cells this size
ZOOM_STEP = 1.25
VECTOR_MIN_WIDTH = 14.0  # px: x, b and y stay visible beside a C of 3-pixel cells
MATRIX_CHECK_PIXELS = 65_536  # above this many input values the badge checks im2col's product only
TERMS_SHOWN = 9
SYMBOLS_TIP = ("Write the entries as symbols: w with the kernel position it holds (m, n; with the channels when "
               "there are several), x and y with their pixel (i, j), instead of the numbers")
THIN = "\u202f"  # between thousands: 65 536


def _count(n: int) -> str:
    return f"{n:,}".replace(",", THIN)


def _index_text(c: int, i: int, j: int, channels: int) -> str:
    return f"({c},{i},{j})" if channels > 1 else f"({i},{j})"


def _sub(name: str, *indices: int) -> str:
    return f"{name}{SUBSCRIPT}{','.join(str(int(k)) for k in indices)}"


def _html_symbol(text: str) -> str:
    """"w|0,1" as rich text, w<sub>0,1</sub>; a folded sum keeps its brackets."""
    terms = [f"{html.escape(a)}<sub>{html.escape(b)}</sub>" if b else html.escape(a)
             for a, _, b in (t.partition(SUBSCRIPT) for t in str(text).split("+"))]
    return terms[0] if len(terms) == 1 else "(" + " + ".join(terms) + ")"


def check_job(job) -> tuple[bool | None, str]:
    """The badge (worker thread): C·x + b and im2col's product against PyTorch."""
    spec, x, weight, bias = job
    from convplay.compute.matrix_check import check_matrix, torch_output  # torch: off the UI thread
    from convplay.core.conv_matrix import MatrixTooLarge, im2col_output

    op = "conv_transpose2d" if spec.transposed else "conv2d"
    try:
        if np.asarray(x).size > MATRIX_CHECK_PIXELS:
            raise MatrixTooLarge(0, (0, 0))
        check = check_matrix(spec, x, weight, bias)
        matrix, patches, expected = check.matrix_difference, check.im2col_difference, check.torch_output
    except MatrixTooLarge:  # C would take more memory than the check is worth: im2col's product alone
        expected = torch_output(spec, x, weight, bias)
        ours = im2col_output(spec, x, weight, bias)
        matrix, patches = None, float(np.max(np.abs(ours - expected))) if ours.size else 0.0
    tolerance = 1e-9 * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    named = [(name, d) for name, d in (("C·x + b", matrix), ("im2col's product", patches)) if d is not None]
    ok = all(d <= tolerance for _, d in named)
    if ok:
        said = " and ".join(name for name, _ in named)
        verb = "equal" if len(named) > 1 else "equals"
        return True, f"\u2713 {said} {verb} PyTorch's {op} (largest difference {max(d for _, d in named):.3g})"
    return False, "\u2717 " + "; ".join(f"{name} {'equals' if d <= tolerance else 'differs from'} PyTorch's {op} "
                                       f"(largest difference {d:.3g})" for name, d in named)


class MatrixPanel(QWidget):
    """The convolution of ``session`` as a matrix, stepping with ``animation_dock``."""

    def __init__(self, session, animation_dock, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.dock = animation_dock
        self.state = animation_dock.state
        self.mode = ""  # "dense", "im2col" or "" (nothing can be shown)
        self.problem = ""
        self.last_check: tuple[bool | None, str] = (None, "")
        self._dense = None  # what the dense view draws, until the session changes
        self._patches = None  # the im2col view's operands
        self._steps_shape = None  # the animation steps this picture is drawn for
        self._building = False
        self._build()
        self.worker = LatestWorker(check_job, "matrix-check", debounce_ms=40, parent=self)
        self.worker.returned.connect(self._on_check)
        self.worker.errored.connect(self._on_check_error)
        self._check_key = None
        self._refresh_when_shown = WhenShown(self, self._refresh)
        self._step_when_shown = WhenShown(self, self._show_step)
        hear_while_alive(self, (session.changed, self._refresh_when_shown.request),
                         (self.state.position_changed, self._step_when_shown.request))
        theme().theme_changed.connect(self._restyle)
        text_zoom().changed.connect(self._restyle)
        self._refresh()

    def shutdown(self) -> None:
        """Stop the check's worker (the window is closing)."""
        self.worker.shutdown()

    # -- building ----------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(4, 4, 4, 4)
        root.setSpacing(3)
        top = QHBoxLayout()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top.addWidget(self.caption, 1)
        self.symbols_button = QToolButton()
        self.symbols_button.setText("Symbols")
        self.symbols_button.setCheckable(True)
        self.symbols_button.setToolTip(SYMBOLS_TIP)
        self.symbols_button.toggled.connect(lambda _: self._rebuild_blocks())
        self.zoom_out_button = QToolButton()
        self.zoom_out_button.setText("−")
        self.zoom_out_button.setToolTip("Smaller cells")
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Cells as large as fits the panel")
        self.zoom_in_button = QToolButton()
        self.zoom_in_button.setText("+")
        self.zoom_in_button.setToolTip("Larger cells: numbers appear from about 18 pixels a cell")
        self.zoom_out_button.clicked.connect(lambda: self._zoom(1 / ZOOM_STEP))
        self.zoom_in_button.clicked.connect(lambda: self._zoom(ZOOM_STEP))
        self.fit_button.clicked.connect(lambda: self._zoom(None))
        for button in (self.symbols_button, self.zoom_out_button, self.fit_button, self.zoom_in_button):
            top.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        root.addLayout(top)

        self.grid = MatrixGrid()
        self.grid.clicked.connect(self._on_clicked)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.grid)
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.viewport().installEventFilter(self)
        root.addWidget(self.scroll, 1)

        self.step_label = QLabel()
        self.step_label.setWordWrap(True)
        self.step_label.setTextFormat(Qt.TextFormat.RichText)
        self.step_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.step_label.setToolTip("The step the animation is at, as the matrix computes it")
        root.addWidget(self.step_label)
        # The animation's own controls: in the matrix's workspace the animation is a tab
        # behind, and its steps are this view's rows (or, transposed, its columns).
        self.controls = PlayerControls(self.state)
        root.addWidget(self.controls)
        self.shortcuts = install_shortcuts(self, self.state)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # an error's own quotes and brackets, as they are
        self.message.hide()
        root.addWidget(self.message)
        self.badge = QLabel()
        self.badge.setWordWrap(True)
        self.badge.setToolTip("The matrix forms computed here (float64 numpy) against PyTorch's own "
                              "convolution of the whole input, in float64")
        root.addWidget(self.badge)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            self.grid.set_fit_size(self.scroll.viewport().size())
            if self.mode == "im2col":
                self._rebuild_blocks()  # a wider panel shows more patch columns
        return False

    def _zoom(self, factor: float | None) -> None:
        self.grid.set_zoom(1.0 if factor is None else self.grid.zoom * factor)
        self._scroll_to_current()

    def _restyle(self, *_args) -> None:
        self.grid.refresh_style()
        if self.problem:
            self.message.setStyleSheet(f"color: {style.colour('ERROR')};")
        self._on_check(0, self.last_check) if self.last_check[1] else None

    # -- model -> view -----------------------------------------------------------------
    def _refresh(self) -> None:
        self._building = True  # the steps' new shape is drawn once the blocks are built
        try:
            self._refresh_now()
        finally:
            self._building = False
        self._show_problem()
        self._rebuild_blocks()
        self._submit_check()

    def _refresh_now(self) -> None:
        s = self.session
        self._dense = self._patches = None
        self._steps_shape = None
        self.problem = ""
        try:
            spec, x = s.spec, s.image
            weight, bias = s.effective_weight(), s.bias
            out_shape = spec.output_shape(x.shape)
            if np.asarray(weight).shape != spec.weight_shape:
                raise ConvSpecError(f"the kernel has shape {np.asarray(weight).shape} but these settings need "
                                    f"{spec.weight_shape}", "weight")
            _, h, w = x.shape
            # The steps this picture is drawn for: the animation's state takes the session's
            # new shape first (the sliding window hears the change before this view does).
            self._steps_shape = tuple(x.shape) if spec.transposed else tuple(out_shape)
            self.controls.set_subject("input pixel" if spec.transposed else "output")
            if h <= DENSE_LIMIT and w <= DENSE_LIMIT:
                self._dense = self._build_dense(spec, x, weight, bias, out_shape)
                self.mode = "dense"
            else:
                self._patches = {"spec": spec, "x": x, "weight": weight, "bias": bias, "out_shape": out_shape,
                                 "matrix": weight_matrix(spec, weight)}
                self.mode = "im2col"
        except Exception as exc:  # noqa: BLE001 - any refusal is said in the panel, never raised
            self.mode = ""
            self.problem = describe_error(exc)

    def _show_problem(self) -> None:
        if self.problem:
            self.message.setText(f"Cannot draw this convolution as a matrix: {self.problem}")
            self.message.setStyleSheet(f"color: {style.colour('ERROR')};")
            self.message.show()
        else:
            self.message.clear()
            self.message.hide()

    def _build_dense(self, spec: ConvSpec, x, weight, bias, out_shape) -> dict:
        taps = matrix_taps(spec, x.shape)
        matrix = conv_matrix(spec, weight, x.shape)
        present = np.zeros(matrix.shape, dtype=bool)
        present[taps.row, taps.col] = True
        b = bias_vector(spec, bias, x.shape)
        y = matrix @ np.asarray(x, dtype=np.float64).ravel() + b
        return {"spec": spec, "x": np.asarray(x, dtype=np.float64), "taps": taps, "C": matrix, "present": present,
                "b": b, "has_bias": bias is not None, "y": y, "out_shape": tuple(out_shape)}

    def _rebuild_blocks(self) -> None:
        if self.mode == "dense":
            self._dense_blocks()
        elif self.mode == "im2col":
            self._im2col_blocks()
        else:
            self.grid.set_blocks([], [])
            self.caption.setText("")
            self.step_label.setText("")
        self._show_step()

    # -- the dense view ----------------------------------------------------------------
    def _weight_symbols(self, taps, spec: ConvSpec, shape) -> np.ndarray:
        """C's entries as w_{…}: the user's kernel position (flipped back for true convolution)."""
        symbols = np.full(shape, "", dtype=object)
        first, second, m, n = taps.weight_index()
        kh, kw = spec.kernel_hw
        if self.session.true_convolution:
            m, n = kh - 1 - m, kw - 1 - n
        many_first, many_second = spec.weight_shape[0] > 1, spec.weight_shape[1] > 1
        for k in range(len(taps)):
            indices = ([int(first[k])] if many_first else []) + ([int(second[k])] if many_second else []) \
                + [int(m[k]), int(n[k])]
            term = _sub("w", *indices)
            r, c = int(taps.row[k]), int(taps.col[k])
            symbols[r, c] = f"{symbols[r, c]}+{term}" if symbols[r, c] else term
        return symbols

    def _dense_blocks(self) -> None:
        d = self._dense
        spec: ConvSpec = d["spec"]
        c_in, h, w = d["x"].shape
        c_out, h_out, w_out = d["out_shape"]
        n_rows, n_cols = d["C"].shape
        symbols = self.symbols_button.isChecked()
        rows = [_index_text(*np.unravel_index(r, d["out_shape"]), c_out) for r in range(n_rows)]
        cols = [_index_text(*np.unravel_index(c, d["x"].shape), c_in) for c in range(n_cols)]
        in_bounds = tuple(range(h * w, n_cols, h * w))
        out_bounds = tuple(range(h_out * w_out, n_rows, h_out * w_out))
        scale = float(np.max(np.abs(d["C"]))) if d["C"].size else 0.0

        def column(values, name, labels_of, bounds):
            sym = np.array([[labels_of(k)] for k in range(values.size)], dtype=object) if symbols else None
            return MatrixBlock(values.reshape(-1, 1), name=name, symbols=sym, row_bounds=bounds,
                               min_width=VECTOR_MIN_WIDTH)

        def in_symbol(k):
            c, i, j = np.unravel_index(k, d["x"].shape)
            return _sub("x", c, i, j) if c_in > 1 else _sub("x", i, j)

        def out_symbol(k):
            c, i, j = np.unravel_index(k, d["out_shape"])
            return _sub("y", c, i, j) if c_out > 1 else _sub("y", i, j)

        def bias_symbol(k):
            return _sub("b", k // (h_out * w_out)) if c_out > 1 else "b"

        matrix = MatrixBlock(d["C"], name="C", present=d["present"], row_labels=rows, col_labels=cols,
                             row_bounds=out_bounds, col_bounds=in_bounds, scale=scale,
                             symbols=self._weight_symbols(d["taps"], spec, d["C"].shape) if symbols else None)
        blocks = [matrix, column(d["x"].ravel(), "x", in_symbol, in_bounds)]
        operators = ["·"]
        if d["has_bias"]:
            blocks.append(column(d["b"], "b", bias_symbol, out_bounds))
            operators.append("+")
        blocks.append(column(d["y"], "y", out_symbol, out_bounds))
        operators.append("=")
        self.grid.set_blocks(blocks, operators)
        shape = f"{_count(n_rows)}×{_count(n_cols)}"
        lines = [f"<b>y = C·x{' + b' if d['has_bias'] else ''}</b>: C is {shape}, one row per output cell "
                 f"({c_out}×{h_out}×{w_out}), one column per input pixel ({c_in}×{h}×{w}); "
                 f"{int(d['present'].sum()):,} of its {n_rows * n_cols:,} entries hold a weight, the rest are 0 "
                 "(blank)."]
        if spec.transposed:
            lines.append("This transposed convolution's matrix is Cᵀ, the transpose of the matching direct "
                         "convolution's C: each column is where one input pixel scatters.")
        if spec.padding_mode != "zeros" and any(spec.pads()):
            lines.append(f"{spec.padding_mode.capitalize()} padding is folded into C: a padded cell is a copy of "
                         "an input pixel, so an entry can hold a sum of weights (hover over it to read it).")
        if c_in > 1 or c_out > 1:
            lines.append("Lines divide the channels.")
        if self.session.true_convolution:
            lines.append("True convolution: the kernel is applied flipped.")
        lines.append(f"<span style='{style.muted_text_style()}'>C is drawn for inputs up to "
                     f"{DENSE_LIMIT}×{DENSE_LIMIT}; larger ones show im2col's form.</span>")
        self.caption.setText(" ".join(lines))

    # -- the im2col view ---------------------------------------------------------------
    def _current_position(self) -> tuple[int, int]:
        """(group, output position l) the im2col view centres on."""
        p = self._patches
        spec: ConvSpec = p["spec"]
        c_out, h_out, w_out = p["out_shape"]
        n = self.state.n_steps
        if not n:
            return 0, 0
        cell = self.state.cell()
        if not spec.transposed:
            oc, i, j = cell
            return min(oc, c_out - 1) // max(c_out // spec.groups, 1), min(i, h_out - 1) * w_out + min(j, w_out - 1)
        # A transposed step is an input pixel: the output its stamp is centred on.
        c_in, r, c = cell
        (sh, sw), (dh, dw), (kh, kw) = spec.stride_hw, spec.dilation_hw, spec.kernel_hw
        top, _, left, _ = spec.pads()
        i = min(max(r * sh - top + dh * (kh - 1) // 2, 0), h_out - 1)
        j = min(max(c * sw - left + dw * (kw - 1) // 2, 0), w_out - 1)
        in_per_group = max(spec.in_channels // spec.groups, 1)
        return min(c_in // in_per_group, spec.groups - 1), i * w_out + j

    def patch_columns(self, group: int, columns: np.ndarray) -> np.ndarray:
        """Columns ``columns`` of group ``group``'s patch matrix, read from the input itself
        (only these: the whole matrix of a large input is never built here)."""
        p = self._patches
        spec: ConvSpec = p["spec"]
        x = np.asarray(p["x"], dtype=np.float64)
        _, h_out, w_out = p["out_shape"]
        c_total, h, w = x.shape
        per_group = c_total // spec.groups
        (kh, kw), (dh, dw) = spec.kernel_hw, spec.dilation_hw
        sh, sw = (1, 1) if spec.transposed else spec.stride_hw
        geometry = padded_geometry(spec, (h, w))
        i, j = np.divmod(np.asarray(columns, dtype=np.int64), w_out)
        rows = geometry.rows.source(i[None, :] * sh + np.arange(kh)[:, None] * dh)  # (kh, n)
        cols = geometry.cols.source(j[None, :] * sw + np.arange(kw)[:, None] * dw)  # (kw, n)
        real = (rows[:, None, :] != NO_SOURCE) & (cols[None, :, :] != NO_SOURCE)  # (kh, kw, n)
        channels = group * per_group + np.arange(per_group)
        values = x[channels[:, None, None, None], np.maximum(rows, 0)[None, :, None, :],
                   np.maximum(cols, 0)[None, None, :, :]]
        values = np.where(real[None], values, 0.0)
        self._patch_sources = (rows, cols, real)
        return values.reshape(per_group * kh * kw, -1)

    def _window(self, position: int, total: int, taps: int) -> tuple[int, int]:
        """A screenful of columns around ``position``: as many as leave the cells legible
        beside the weight matrix (the patches and the output each take that many)."""
        room = int(max(self.scroll.viewport().width() - 80, 0) / READABLE_CELL) - taps - 3
        count = min(max(room // 2, MIN_WINDOW_COLUMNS), MAX_WINDOW_COLUMNS)
        start = min(max(position - count // 2, 0), max(total - count, 0))
        return start, min(start + count, total)

    def _im2col_blocks(self) -> None:
        p = self._patches
        spec: ConvSpec = p["spec"]
        c_out, h_out, w_out = p["out_shape"]
        total = h_out * w_out
        group, position = self._current_position()
        start, stop = self._window(position, total, p["matrix"].shape[2])
        columns = np.arange(start, stop)
        weights = p["matrix"][group]  # (opg, taps)
        patches = self.patch_columns(group, columns)
        out_per_group = weights.shape[0]
        bias = p["bias"]
        b = (np.zeros(out_per_group) if bias is None
             else np.asarray(bias, dtype=np.float64)[group * out_per_group:(group + 1) * out_per_group])
        product = weights @ patches + b[:, None]
        per_group = patches.shape[0] // (spec.kernel_hw[0] * spec.kernel_hw[1])
        kh, kw = spec.kernel_hw
        tap_labels = [f"({c},{m},{n})" if per_group > 1 else f"({m},{n})"
                      for c in range(per_group) for m in range(kh) for n in range(kw)]
        out_labels = [f"out {group * out_per_group + o}" for o in range(out_per_group)]
        position_labels = [f"({q // w_out},{q % w_out})" for q in columns]
        symbols = self.symbols_button.isChecked()
        w_sym = p_sym = y_sym = b_sym = None
        if symbols:
            w_sym = np.empty(weights.shape, dtype=object)
            true = self.session.true_convolution and not spec.transposed
            for o in range(out_per_group):
                for t in range(weights.shape[1]):
                    c, rest = divmod(t, kh * kw)
                    m, n = divmod(rest, kw)
                    if true:
                        m, n = kh - 1 - m, kw - 1 - n
                    indices = ([group * out_per_group + o] if c_out > 1 else []) + ([c] if per_group > 1 else [])
                    w_sym[o, t] = _sub("w", *indices, m, n)
            rows, cols, real = self._patch_sources
            p_sym = np.empty(patches.shape, dtype=object)
            for t in range(patches.shape[0]):
                c, rest = divmod(t, kh * kw)
                m, n = divmod(rest, kw)
                for q in range(len(columns)):
                    if not real[m, n, q]:
                        p_sym[t, q] = "0"
                    else:
                        channel = group * per_group + c
                        indices = ([channel] if p["x"].shape[0] > 1 else []) + [rows[m, q], cols[n, q]]
                        p_sym[t, q] = _sub("x", *indices)
            y_sym = np.array([[_sub("y", *([group * out_per_group + o] if c_out > 1 else []), q // w_out, q % w_out)
                               for q in columns] for o in range(out_per_group)], dtype=object)
            b_sym = np.array([[_sub("b", group * out_per_group + o) if c_out > 1 else "b"]
                              for o in range(out_per_group)], dtype=object)
        scale = float(np.max(np.abs(weights))) if weights.size else 0.0
        kernel_bounds = tuple(range(kh * kw, patches.shape[0], kh * kw))
        blocks = [MatrixBlock(weights, name="weight matrix", row_labels=out_labels, col_labels=tap_labels,
                              col_bounds=kernel_bounds, scale=scale, symbols=w_sym),
                  MatrixBlock(patches, name="patches", col_labels=position_labels, row_bounds=kernel_bounds,
                              symbols=p_sym)]
        operators = ["·"]
        if bias is not None:
            blocks.append(MatrixBlock(b.reshape(-1, 1), name="b", symbols=b_sym, min_width=VECTOR_MIN_WIDTH))
            operators.append("+")
        blocks.append(MatrixBlock(product, name="output", col_labels=position_labels, symbols=y_sym))
        operators.append("=")
        self.grid.set_blocks(blocks, operators)
        self._window_shown = (group, start, stop, product)
        c_in, h, w = p["x"].shape
        kind = "transposed convolution's zero-inserted, padded input" if spec.transposed else "input"
        groups = f" Group {group + 1} of {spec.groups} (the current output channel's)." if spec.groups > 1 else ""
        self.caption.setText(
            f"<b>im2col</b>: output = weight matrix ({out_per_group}×{weights.shape[1]}) · patch matrix "
            f"({patches.shape[0]}×{_count(total)}: each column one window of the {kind}, unrolled)"
            f"{' + b' if bias is not None else ''}.{groups} Showing columns {_count(start + 1)}–{_count(stop)} of "
            f"{_count(total)}. <span style='{style.muted_text_style()}'>C is drawn for inputs up to "
            f"{DENSE_LIMIT}×{DENSE_LIMIT}; this input is {h}×{w}: its im2col form is shown.</span>")

    # -- stepping ----------------------------------------------------------------------
    def _show_step(self) -> None:
        if self._building or self._steps_shape != tuple(self.state.shape):
            return  # a step of settings this picture is not drawn for yet: its refresh draws it
        if self.mode == "dense":
            self._dense_step()
        elif self.mode == "im2col":
            self._im2col_step()
        else:
            self.step_label.setText("")
        self.grid.update()
        self._scroll_to_current()

    def _expected_steps_shape(self) -> tuple[int, int, int]:
        spec = self.session.spec
        return tuple(self.session.image.shape) if spec.transposed else self._dense["out_shape"]

    def lit(self) -> dict:
        """What the dense view highlights now: C's rows and columns, and the cells of x and y."""
        blocks = self.grid.blocks
        return {"rows": set(blocks[0].rows_lit), "cols": set(blocks[0].cols_lit),
                "x": {r for r, _ in blocks[1].cells_lit}, "y": {r for r, _ in blocks[-1].cells_lit},
                "C": set(blocks[0].cells_lit)}

    def _dense_step(self) -> None:
        d = self._dense
        blocks = self.grid.blocks
        for block in blocks:
            block.rows_lit = block.cols_lit = block.cells_lit = frozenset()
        if not self.state.n_steps or tuple(self.state.shape) != self._expected_steps_shape():
            self.step_label.setText("")
            return
        k = self.state.position
        present, matrix = d["present"], d["C"]
        transposed = d["spec"].transposed
        x, y = d["x"].ravel(), d["y"]
        c_in = d["x"].shape[0]
        c_out = d["out_shape"][0]
        if not transposed:
            reads = np.flatnonzero(present[k])
            blocks[0].rows_lit = frozenset({k})
            blocks[0].cells_lit = frozenset((k, int(c)) for c in reads)
            blocks[1].cells_lit = frozenset((int(c), 0) for c in reads)
            for block in blocks[2:]:
                block.cells_lit = frozenset({(k, 0)})
            if self.symbols_button.isChecked():
                c_sym, x_sym = blocks[0].symbols, blocks[1].symbols
                terms = [f"{_html_symbol(c_sym[k, c])}·{_html_symbol(x_sym[c, 0])}" for c in reads]
                bias = f" + {_html_symbol(blocks[2].symbols[k, 0])}" if d["has_bias"] else ""
            else:
                terms = [html.escape(f"{number_text(matrix[k, c])}·{number_text(x[c])}") for c in reads]
                bias = f" + {number_text(d['b'][k])}" if d["has_bias"] else ""
            shown = " + ".join(terms[:TERMS_SHOWN]) + (" + …" if len(terms) > TERMS_SHOWN else "")
            cell = _index_text(*np.unravel_index(k, d["out_shape"]), c_out)
            self.step_label.setText(
                f"Output {cell} is row {k} of C: it reads the {len(reads)} input pixel{'s' if len(reads) != 1 else ''} "
                f"where the row holds a weight. y<sub>{k}</sub> = {shown or '0'}{bias} = "
                f"<b>{number_text(y[k])}</b>. <i>Click a row to go to its output cell.</i>")
        else:
            writes = np.flatnonzero(present[:, k])
            blocks[0].cols_lit = frozenset({k})
            blocks[0].cells_lit = frozenset((int(r), k) for r in writes)
            blocks[1].cells_lit = frozenset({(k, 0)})
            for block in blocks[2:]:
                block.cells_lit = frozenset((int(r), 0) for r in writes)
            pixel = _index_text(*np.unravel_index(k, d["x"].shape), c_in)
            self.step_label.setText(
                f"Input pixel {pixel} is column {k} of C: its value {number_text(x[k])} times that column "
                f"scatters into {len(writes)} output cell{'s' if len(writes) != 1 else ''} "
                "(the lit entries of y). <i>Click a column to go to its input pixel.</i>")

    def _im2col_step(self) -> None:
        group, position = self._current_position()
        shown = getattr(self, "_window_shown", None)
        if shown is None or shown[0] != group or not shown[1] <= position < shown[2]:
            self._im2col_blocks()  # the current column left the window: the window moves with it
            shown = self._window_shown
        _, start, stop, product = shown
        q = position - start
        blocks = self.grid.blocks
        for block in blocks:
            block.rows_lit = block.cols_lit = block.cells_lit = frozenset()
        blocks[1].cols_lit = frozenset({q})
        blocks[-1].cols_lit = frozenset({q})
        spec: ConvSpec = self._patches["spec"]
        w_out = self._patches["out_shape"][2]
        where = f"({position // w_out},{position % w_out})"
        if not spec.transposed and self.state.n_steps:
            oc = self.state.cell()[0]
            o = oc % product.shape[0]
            blocks[0].rows_lit = frozenset({o})
            blocks[-1].cells_lit = frozenset({(o, q)})
            self.step_label.setText(
                f"Column {_count(position + 1)} is output position {where}: row {o} of the weight matrix times "
                f"this patch column{' + b' if self._patches['bias'] is not None else ''} = "
                f"<b>{number_text(product[o, q])}</b>, output channel {oc}.")
        else:
            self.step_label.setText(
                f"Column {_count(position + 1)} is output position {where}, at the centre of the current input "
                f"pixel's stamp: each output channel of the group is a weight-matrix row times this column.")

    def _scroll_to_current(self) -> None:
        blocks = self.grid.blocks
        if not blocks:
            return
        first = blocks[0]
        if first.rows_lit:
            rect = self.grid.cell_rect(0, min(first.rows_lit), 0)
            self.scroll.ensureVisible(int(rect.center().x()), int(rect.center().y()), 10,
                                      int(rect.height() * 2))
        elif first.cols_lit:
            rect = self.grid.cell_rect(0, 0, min(first.cols_lit))
            self.scroll.ensureVisible(int(rect.center().x()), int(rect.center().y()), int(rect.width() * 2), 10)

    def _on_clicked(self, block: int, r: int, c: int) -> None:
        if self.mode == "dense":
            transposed = self._dense["spec"].transposed
            last = len(self.grid.blocks) - 1
            if not transposed and block in (0, last) or not transposed and block == last - 1 and block > 1:
                self.state.seek_cell(*(int(v) for v in np.unravel_index(r, self._dense["out_shape"])))
            elif transposed and block == 0:
                self.state.seek(c)
            elif transposed and block == 1:
                self.state.seek(r)
        elif self.mode == "im2col" and block in (1, len(self.grid.blocks) - 1):
            _, start, _, product = self._window_shown
            position = start + c
            w_out = self._patches["out_shape"][2]
            spec = self._patches["spec"]
            if not spec.transposed:
                oc = self.state.cell()[0] if self.state.n_steps else 0
                self.state.seek_cell(oc, position // w_out, position % w_out)

    # -- the PyTorch check -------------------------------------------------------------
    def _submit_check(self) -> None:
        if not self.mode:
            self._check_key = None
            self.worker.cancel()
            self.badge.setText("")
            self.last_check = (None, "")
            return
        s = self.session
        key = (s.spec, s.image, s.weight, s.bias, s.true_convolution)
        if self._check_key is not None and all(a is b or a == b for a, b in zip(self._check_key[:1], key[:1])) \
                and all(a is b for a, b in zip(self._check_key[1:], key[1:])):
            return
        self._check_key = key
        self.badge.setText("checking with PyTorch…")
        self.badge.setStyleSheet(style.muted_text_style())
        self.worker.submit((s.spec, s.image, s.effective_weight(), s.bias))

    def _on_check(self, _generation: int, result) -> None:
        ok, text = result
        self.last_check = (ok, text)
        colour = style.colour("OK") if ok else style.colour("ERROR") if ok is False else style.colour("MUTED")
        self.badge.setText(text)
        self.badge.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _on_check_error(self, _generation: int, text: str) -> None:
        self.last_check = (False, f"the PyTorch check failed: {text}")
        self.badge.setText(self.last_check[1])
        self.badge.setStyleSheet(f"color: {style.colour('ERROR')};")
