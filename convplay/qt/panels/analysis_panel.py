"""Kernel numbers: the selected (out, in) kernel's properties and separability, and a check
that the layer run as two 1-D passes gives PyTorch's 2-D output.

A view of the session (the kernel), the results (PyTorch's output, reused when it is
current) and the compute settings (device and dtype of the two-pass run).  The numbers
are core's (``kernel_properties``, ``separability``); the two-pass run is compute's
(``two_pass_conv``), on a ``LatestWorker`` of this panel's own.  Out of sight the panel
draws nothing and catches up when shown.  The last run's line stays after an edit,
marked stale: it describes the kernel it ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from convplay.compute.two_pass import two_pass_macs
from convplay.core.compute_settings import ComputeSettings
from convplay.core.formatting import (
    exact_fraction,
    format_difference,
    format_readout,
)
from convplay.core.kernel_analysis import (
    RANK_TOLERANCE,
    is_rounding_zero,
    kernel_properties,
    separability,
)
from convplay.core.results import Results
from convplay.core.spec import ConvSpecError
from convplay.qt import style
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.widgets.value_grid import ValueGrid
from convplay.qt.workers import LatestWorker
from convplay.qt.zoom import text_zoom

__all__ = ["AnalysisPanel", "properties_summary", "tolerance"]

RUN_TEXT = "Run as two passes"
RUN_TIP = (
    "Run the whole layer through PyTorch as two 1-D convolutions per (out, in) pair, a column\n"
    "pass (kh×1) then a row pass (1×kw), and compare with PyTorch's 2-D conv2d output\n"
    "(the Output panel's when it is current, else one computed in the same job).\n"
    "Runs in the background on the device and dtype of the Device panel."
)
# Unit roundoff of each arithmetic the run may use; TF32 keeps a 10-bit mantissa.
EPSILON = {"float64": 2.0**-52, "float32": 2.0**-23, "tf32": 2.0**-10, "float16": 2.0**-10, "bfloat16": 2.0**-7}
TOLERANCE_FACTOR = 16  # both orders of summation round; 16 ulps of the largest possible sum is generous
THIN_SPACE = "\u202f"
MINUS = "\u2212"


def tolerance(weight: np.ndarray, image: np.ndarray, bias, dtype: str, tf32: bool = False) -> float:
    """How far two orders of summation may honestly differ: TOLERANCE_FACTOR units of
    roundoff of the largest value a sum can reach (the largest Σ|w| of an output channel
    times max|x|, plus max|bias|)."""
    weight = np.abs(np.asarray(weight, dtype=np.float64))
    per_output = float(weight.reshape(weight.shape[0], -1).sum(axis=1).max()) if weight.size else 0.0
    x = np.asarray(image, dtype=np.float64)
    finite = x[np.isfinite(x)]
    scale = per_output * (float(np.abs(finite).max()) if finite.size else 0.0)
    if bias is not None and np.size(bias):
        scale += float(np.abs(np.asarray(bias, dtype=np.float64)).max())
    eps = EPSILON["tf32" if tf32 and dtype == "float32" else dtype]
    return TOLERANCE_FACTOR * eps * max(scale, 1.0)


def _count(n: int) -> str:
    """A count of operations with thin-space thousands: 34 596."""
    return f"{int(n):,}".replace(",", THIN_SPACE)


SHORT_FRACTION = 8  # characters: "−13/273" stays a fraction, a longer one reads as digits
SHOWN_DIGITS = 5  # significant digits in the panel; the full value is in the tooltip


def _exact(value: float, l1: float | None = None) -> str:
    """A short exact fraction (1/16, 3/8), a whole number, else five significant digits;
    "0" for a value within rounding of a sum of weights whose |w| add up to ``l1``."""
    if l1 is not None and is_rounding_zero(value, l1):
        return "0"
    f = exact_fraction(value)
    if f is not None and f.denominator > 1:
        text = f"{f.numerator}/{f.denominator}".replace("-", MINUS)
        if len(text) <= SHORT_FRACTION:
            return text
    value = float(value)
    if value.is_integer() and abs(value) < 1e9:
        return str(int(value)).replace("-", MINUS)
    return f"{value:.{SHOWN_DIGITS}g}".replace("-", MINUS)


def _full(value: float, l1: float | None = None) -> str:
    """The value a shortened number stands for, for its tooltip."""
    if l1 is not None and is_rounding_zero(value, l1) and value != 0.0:
        return f"0 (to rounding): the float value is {value!r}"
    return f"= {value!r}"


def _norm2(l2: float, squares: float) -> str:
    """The L2 norm, with its exact square when that is a short number (√12)."""
    text = _exact(l2)
    square = exact_fraction(squares)
    if exact_fraction(l2) is None and square is not None:
        text += f" (√{_exact(squares)})"
    return text


def _vector_text(values: np.ndarray) -> str:
    """[1 2 1] with typographic minus signs."""
    return "[" + " ".join(str(int(v)).replace("-", MINUS) for v in np.ravel(values)) + "]"


def properties_summary(kernel, short: bool = False) -> str:
    """One line of a kernel's numbers: "sum 0 · zero mean · antisymmetric in x,
    symmetric in y · rank 1" ("" for a kernel with non-finite weights); ``short``
    abbreviates the symmetries ("antisym. x, sym. y") for a narrow panel."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or not k.size or not np.all(np.isfinite(k)):
        return ""
    p = kernel_properties(k)
    parts = [f"sum {_exact(p.sum, p.l1)}"]
    if p.zero_mean:
        parts.append("zero mean")
    words = {"symmetric": "sym.", "antisymmetric": "antisym.", "neither": "no sym."} if short else {}
    sx, sy = (words.get(v, v) for v in (p.symmetry_x, p.symmetry_y))
    if p.symmetry_x == p.symmetry_y:
        if p.symmetry_x == "neither":
            parts.append("no mirror symmetry")
        else:
            parts.append(f"{sx} x and y" if short else f"{sx} in x and y")
    elif short:
        parts.append(f"{sx} x, {sy} y")
    else:
        parts.append(f"{sx} in x, {sy} in y".replace("neither in", "not symmetric in"))
    parts.append(f"rank {p.rank}")
    return " · ".join(parts)


def _label(text: str = "", tip: str = "", *, wrap: bool = True, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setToolTip(tip)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if muted:
        label.setStyleSheet(style.MUTED_TEXT_STYLE)
    return label


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: bold;")
    return label


def _factor_grid(tip: str) -> ValueGrid:
    grid = ValueGrid(fractions=True)  # sized to its cells by _grid_size
    grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    grid.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    grid.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    grid.setToolTip(tip)
    grid.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return grid


def _balanced(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Factors without integers scaled to the same norm, √σ₁ each, so that neither reads
    as tiny next to the other (0.0196 × 0.999); signs turned so the row's sum is positive
    where it has one (a Gaussian's column and row then both read as the 1-D Gaussian), else
    its last nonzero entry."""
    col = np.asarray(col, dtype=np.float64)
    row = np.asarray(row, dtype=np.float64)
    nc, nr = float(np.linalg.norm(col)), float(np.linalg.norm(row))
    if nc == 0.0 or nr == 0.0:
        return col, row
    scale = np.sqrt(nr / nc)
    col, row = col * scale, row / scale
    total = float(row.sum())
    if abs(total) > 1e-9 * float(np.abs(row).sum()):
        sign = 1.0 if total > 0 else -1.0
    else:
        nz = np.flatnonzero(np.abs(row.ravel()) > 1e-12 * float(np.abs(row).max()))
        sign = -1.0 if nz.size and row.ravel()[nz[-1]] < 0 else 1.0
    return col * sign, row * sign


EFFECTIVE_SHARE = 0.01  # the effective rank counts singular values above this share of the largest


def effective_rank(singular_values: np.ndarray) -> int:
    """The singular values above EFFECTIVE_SHARE of the largest: how many separable pairs of
    passes carry the kernel to about 1 %."""
    s = np.asarray(singular_values, dtype=np.float64)
    if not s.size or s[0] <= 0:
        return 0
    return int(np.count_nonzero(s > EFFECTIVE_SHARE * s[0]))


def _grid_size(grid: ValueGrid):
    """Every cell of a factor grid, with the headers it shows (a 3×1 column has no use for
    a column header "0", a 1×3 row none for a row header)."""
    from PySide6.QtCore import QSize

    frame = 2 * grid.frameWidth()
    width = frame + sum(grid.columnWidth(c) for c in range(grid.columnCount()))
    height = frame + sum(grid.rowHeight(r) for r in range(grid.rowCount()))
    if grid.verticalHeader().isVisibleTo(grid):
        width += grid.verticalHeader().width()
    if grid.horizontalHeader().isVisibleTo(grid):
        height += grid.horizontalHeader().height()
    return QSize(width, height)


def _share_text(passes: int, two_d: int) -> str:
    """The two passes' cost against one 2-D pass, said as such."""
    if not two_d:
        return ""
    share = f"{100 * passes / two_d:.0f} %"
    if passes >= two_d:
        return f"no saving: the two passes take {share} of one 2-D pass"
    return f"= {share} of one 2-D pass"


def layer_ranks(weight: np.ndarray) -> np.ndarray:
    """The rank of every (a, b) kernel of a weight, as ``separability`` counts it."""
    w = np.asarray(weight, dtype=np.float64)
    s = np.linalg.svd(w.reshape(-1, *w.shape[2:]), compute_uv=False)
    top = s[:, :1]
    return np.where(top[:, 0] > 0, (s > RANK_TOLERANCE * top).sum(axis=1), 0).reshape(w.shape[:2])


# -- the two-pass job (runs in the worker thread) -------------------------------------------
@dataclass(frozen=True, eq=False)
class _Job:
    generation: int
    spec: object
    image: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    device: str
    dtype: str
    tf32: bool
    reference: np.ndarray | None  # PyTorch's current 2-D output, or None: compute it too


@dataclass(frozen=True)
class _Answer:
    generation: int
    max_diff: float
    tolerance: float
    note: str
    compared_with: str
    dtype: str
    tf32: bool
    device: str


def _run_two_pass(job: _Job) -> _Answer:
    from convplay.compute.run import run_conv
    from convplay.compute.two_pass import two_pass_conv

    output, note = two_pass_conv(job.spec, job.image, job.weight, job.bias, job.device, job.dtype, job.tf32)
    if job.reference is not None and np.shape(job.reference) == output.shape:
        reference, compared = job.reference, "PyTorch's 2-D output in the Output panel"
    else:
        reference = run_conv(job.spec, job.image, job.weight, job.bias, job.device, job.dtype, job.tf32).output
        compared = "PyTorch's 2-D conv2d, run in the same job"
    diff = np.abs(output.astype(np.float64) - np.asarray(reference, dtype=np.float64))
    max_diff = float(diff.max()) if diff.size else 0.0
    tol = tolerance(job.weight, job.image, job.bias, job.dtype, job.tf32)
    return _Answer(job.generation, max_diff, tol, note, compared, job.dtype, job.tf32, job.device)


class AnalysisPanel(QWidget):
    """The numbers of the (out, in) kernel the Kernel panel shows, and the two-pass check."""

    def __init__(
        self,
        session,
        results: Results | None = None,
        compute_settings: ComputeSettings | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._session = session
        self._results = results if results is not None else Results()
        self._settings = compute_settings if compute_settings is not None else ComputeSettings()
        self._pair = (0, 0)
        self._generation = 0  # every edit of what a two-pass run reads makes a new one
        self._answer: _Answer | None = None
        self._error: tuple[int, str] | None = None  # (generation, text) of a refused run
        self._running = False
        self._submitted = -1  # the generation of the last run asked for
        self._ranks: tuple[np.ndarray, np.ndarray] | None = None  # (weight, its pairs' ranks)

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setToolTip("The (out, in) pair the Kernel panel shows, and the kernel's name")
        self.flip_note = _label(muted=True)

        # Properties: a two-column table of names and numbers.
        self.values: dict[str, QLabel] = {}
        self.properties = QGridLayout()
        self.properties.setHorizontalSpacing(10)
        self.properties.setVerticalSpacing(2)
        self.properties.setColumnStretch(1, 1)
        rows = (
            ("sum", "sum (DC gain)", ("The sum of the weights: what a flat image is multiplied by. "
             "A blur keeps brightness at 1; an edge detector gives 0.")),
            ("zero_mean", "zero mean", ("Whether the weights sum to 0 (within rounding): a flat "
             "region then gives 0, so the kernel responds only to change.")),
            ("symmetry_x", "along x", ("Mirrored left↔right (columns reversed): symmetric if unchanged, "
             "antisymmetric if every weight changes sign (a derivative along x), else neither.")),
            ("symmetry_y", "along y", "Mirrored top↕bottom (rows reversed): symmetric, antisymmetric or neither."),
            ("rank", "rank", "The rank of the kernel as a matrix (its SVD): 1 means a column times a row."),
            ("l1", "L1 norm", "Σ|w|: the largest output a pixel range of [−1, 1] can give."),
            ("l2", "L2 norm", "√Σw²: how much the kernel amplifies white noise (its energy)."),
            ("min", "min", "The smallest weight."),
            ("max", "max", "The largest weight."),
        )
        for row, (key, name, tip) in enumerate(rows):
            name_label = QLabel(name)
            name_label.setToolTip(tip)
            value = _label(tip=tip)  # wraps: a long value never widens the panel
            self.properties.addWidget(name_label, row, 0)
            self.properties.addWidget(value, row, 1)
            self.values[key] = value

        # Separability.
        self.rank_line = _label()
        self.factor_line = _label(tip="The kernel as a column vector times a row vector (ᵀ: the column)")
        self.factor_caption = _label(muted=True)
        self.col_grid = _factor_grid("The column: the kh×1 pass down the rows")
        self.col_grid.horizontalHeader().setVisible(False)
        self.row_grid = _factor_grid("The row: the 1×kw pass along the columns")
        self.row_grid.verticalHeader().setVisible(False)
        self.times = QLabel("×")
        self.times.setToolTip("The kernel is the column times the row (an outer product)")
        self.error_line = _label(
            tip="‖k − k₁‖ / ‖k‖ in the Frobenius norm, k₁ the best rank-1 approximation "
            "(the SVD's first term): how much of the kernel two passes would miss")
        self.cost_line = _label(tip="Multiply-accumulates for one output value of one (out, in) pair")
        self.layer_title = _label(wrap=True)
        self.layer_values: dict[str, QLabel] = {}
        self.layer_names: dict[str, QLabel] = {}
        self.layer_grid = QGridLayout()
        self.layer_grid.setHorizontalSpacing(10)
        self.layer_grid.setVerticalSpacing(2)
        self.layer_grid.setColumnStretch(3, 1)
        self.layer_share = _label(tip="The two passes' multiply-accumulates as a share of the 2-D pass's")
        for row, key in enumerate(("two_d", "column", "row", "passes")):
            name = QLabel()
            value = _label(wrap=False)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.layer_grid.addWidget(name, row, 0)
            self.layer_grid.addWidget(value, row, 1)
            self.layer_names[key], self.layer_values[key] = name, value

        # Two passes.
        self.run_button = QPushButton(RUN_TEXT)
        self.run_button.setToolTip(RUN_TIP)
        self.run_reason = _label(muted=True)
        self.run_line = _label()

        self._build_layout()
        self._worker = LatestWorker(_run_two_pass, "convplay-two-pass", parent=self)
        self._worker.returned.connect(self._on_answer)
        self._worker.errored.connect(self._on_failed)
        self._worker.busy_changed.connect(self._on_busy)
        self.run_button.clicked.connect(self.run_two_passes)

        self._shown = WhenShown(self, self._refresh)
        # The factor grids measure their cells again at a new text zoom: sized again after.
        text_zoom().changed.connect(self._shown.request)
        hear_while_alive(self, (session.changed, self._on_edit), (self._settings.changed, self._on_edit))
        self._shown.request()

    # -- layout ------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self._factors_layout = QGridLayout()
        self._factors_layout.setContentsMargins(0, 0, 0, 0)
        self._factors_layout.setHorizontalSpacing(6)
        self._factors_layout.setColumnStretch(3, 1)
        self._side_by_side: bool | None = None
        self.factors = QWidget()
        self.factors.setLayout(self._factors_layout)
        self.factors.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        run_row = QHBoxLayout()
        run_row.addWidget(self.run_button)
        run_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.flip_note)
        layout.addWidget(_heading("Properties"))
        layout.addLayout(self.properties)
        layout.addSpacing(4)
        layout.addWidget(_heading("Separability"))
        layout.addWidget(self.rank_line)
        layout.addWidget(self.factor_caption)
        layout.addWidget(self.factor_line)
        layout.addWidget(self.factors)
        layout.addWidget(self.error_line)
        layout.addWidget(self.cost_line)
        layout.addWidget(self.layer_title)
        layout.addLayout(self.layer_grid)
        layout.addWidget(self.layer_share)
        layout.addSpacing(4)
        layout.addLayout(run_row)
        layout.addWidget(self.run_reason)
        layout.addWidget(self.run_line)
        layout.addStretch(1)

    # -- the pair --------------------------------------------------------------------------
    @property
    def pair(self) -> tuple[int, int]:
        return self._pair

    def set_pair(self, out_index: int, in_index: int) -> None:
        """Show the kernel weight[out_index, in_index], clamped to the weight's shape."""
        pair = self._clamped(out_index, in_index)
        if pair != self._pair:
            self._pair = pair
            self._shown.request()

    def _clamped(self, a, b) -> tuple[int, int]:
        n_a, n_b = self._session.weight.shape[:2]
        try:
            a, b = int(a), int(b)
        except (TypeError, ValueError):
            a, b = 0, 0
        return min(max(a, 0), n_a - 1), min(max(b, 0), n_b - 1)

    # -- events ----------------------------------------------------------------------------
    def _on_edit(self, *_args) -> None:
        self._generation += 1  # a run of the old kernel is stale from now on
        self._pair = self._clamped(*self._pair)
        self._shown.request()

    def _layer_ranks(self) -> np.ndarray:
        """Every pair's rank, kept while the weight array is the same (the session's arrays
        are read-only: an edit makes a new one)."""
        weight = self._session.weight
        if self._ranks is None or self._ranks[0] is not weight:
            self._ranks = (weight, layer_ranks(weight))
        return self._ranks[1]

    # -- the two-pass run ----------------------------------------------------------------------
    def _blocker(self) -> str:
        """Why the layer cannot run as two passes ("" when it can)."""
        session = self._session
        spec = session.spec
        if spec.transposed:
            return ("A transposed convolution scatters each input value through the kernel: "
                    "two passes are built for conv2d only.")
        try:
            spec.output_shape(session.image.shape)
        except ConvSpecError as exc:
            return f"These settings cannot run: {exc}"
        ranks = self._layer_ranks()
        if (ranks > 1).any():
            o, i = (int(v) for v in np.argwhere(ranks > 1)[0])
            many = int((ranks > 1).sum())
            if ranks.size == 1:
                return (f"This kernel is not a column times a row (rank {int(ranks[o, i])}), "
                        "so the layer has no two-pass form.")
            others = f" ({many} pairs in all)" if many > 1 else ""
            return (f"Not every pair is a column times a row: out {o}, in {i} has rank "
                    f"{int(ranks[o, i])}{others}, so the layer has no two-pass form.")
        return ""

    def run_two_passes(self) -> None:
        """Run the current layer as two passes in the background and compare (newest wins)."""
        if self._blocker():
            self._refresh_run()
            return
        session, results, settings = self._session, self._results, self._settings
        request = results.request if results.fresh else None
        if request is not None:
            job = _Job(self._generation, request.spec, request.image, request.weight, request.bias,
                       request.device, request.dtype, request.tf32, results.output)
        else:
            job = _Job(self._generation, session.spec, session.image, session.effective_weight(), session.bias,
                       settings.device, settings.dtype, settings.tf32_effective, None)
        self._error = None
        self._submitted = self._generation
        self._worker.submit(job)
        self._running = True
        self._refresh_run()

    def _on_answer(self, _worker_generation: int, answer: _Answer) -> None:
        if answer.generation != self._generation:
            return  # the kernel changed while it ran: it describes a kernel no longer there
        self._answer = answer
        self._refresh_run()

    def _on_failed(self, _worker_generation: int, text: str) -> None:
        if self._submitted != self._generation:
            return  # refused for a kernel no longer there
        self._error = (self._generation, text)
        self._refresh_run()

    def _on_busy(self, busy: bool) -> None:
        self._running = bool(busy)
        self._refresh_run()

    # -- model -> view -----------------------------------------------------------------
    def _refresh(self) -> None:
        session = self._session
        self._pair = self._clamped(*self._pair)
        a, b = self._pair
        kernel = np.asarray(session.weight[a, b], dtype=np.float64)
        kh, kw = kernel.shape
        names = ("in", "out") if session.spec.transposed else ("out", "in")
        name = session.kernel_name or f"{kh}×{kw} kernel"
        self.title.setText(f"{names[0]} {a}, {names[1]} {b} — {name}")
        self.flip_note.setText(
            "True convolution is on: PyTorch gets this kernel turned 180°, which keeps every "
            "number here (the factors turn too)." if session.true_convolution else "")
        self.flip_note.setVisible(session.true_convolution)
        if not np.all(np.isfinite(kernel)):
            for value in self.values.values():
                value.setText("—")
            self.rank_line.setText("The kernel holds non-finite weights: no numbers to show.")
            for w in (self.factor_line, self.factor_caption, self.factors, self.error_line, self.cost_line,
                      self.layer_title):
                w.setVisible(False)
            self._show_layer_grid(False)
            self._refresh_run()
            return
        self._refresh_properties(kernel)
        self._refresh_separability(kernel)
        self._refresh_run()

    def _refresh_properties(self, kernel: np.ndarray) -> None:
        p = kernel_properties(kernel)
        mean = p.sum / kernel.size
        texts = {
            "sum": _exact(p.sum, p.l1),
            "zero_mean": "yes" if p.zero_mean else f"no (mean {_exact(mean, p.l1)})",
            "symmetry_x": p.symmetry_x,
            "symmetry_y": p.symmetry_y,
            "rank": f"{p.rank}" + (" (separable)" if p.rank == 1 else ""),
            "l1": _exact(p.l1),
            "l2": _norm2(p.l2, float((kernel * kernel).sum())),
            "min": _exact(p.min, p.l1),
            "max": _exact(p.max, p.l1),
        }
        exact = {"sum": p.sum, "l1": p.l1, "l2": p.l2, "min": p.min, "max": p.max, "zero_mean": mean}
        for key, text in texts.items():
            label = self.values[key]
            label.setText(text)
            base = label.toolTip().split("\n\n")[0]
            rounded = key in ("sum", "min", "max", "zero_mean")
            full = _full(exact[key], p.l1 if rounded else None) if key in exact else ""
            label.setToolTip(f"{base}\n\n{full}" if full else base)

    def _refresh_separability(self, kernel: np.ndarray) -> None:
        kh, kw = kernel.shape
        s = separability(kernel)
        values = ", ".join(format_readout(v) for v in s.singular_values)
        self.rank_line.setToolTip(
            f"Singular values (SVD): {values}.\nThe rank counts those above "
            f"{RANK_TOLERANCE:g} × the largest; the effective rank those above 1 % of it "
            "(what a smooth kernel needs to about 1 %).")
        self.factor_line.setVisible(False)
        self.error_line.setVisible(False)
        if s.rank == 0:
            self.rank_line.setText("All zeros: nothing to separate.")
            self.factor_caption.setVisible(False)
            self.factors.setVisible(False)
        elif s.rank == 1:
            self.rank_line.setText("Rank 1: separable, a column times a row.")
            self.factor_caption.setVisible(False)
            col, row = (s.integer_factors if s.integer_factors is not None else _balanced(s.col, s.row))
            if s.integer_factors is not None:
                self.factor_line.setText(f"{_vector_text(col)}ᵀ · {_vector_text(row)}")
                self.factor_line.setVisible(True)
            self._show_factors(col, row)
        else:
            effective = effective_rank(s.singular_values)
            if effective < s.rank:
                self.rank_line.setText(
                    f"Not separable (rank {s.rank}; effectively {effective}: σₖ > 1 % of σ₁).")
            else:
                self.rank_line.setText(f"Not separable (rank {s.rank}).")
            self.factor_caption.setText("Best rank-1 approximation (the SVD's first term), column × row:")
            self.factor_caption.setVisible(True)
            approx = separability(s.rank1)
            if approx.rank == 1:
                self._show_factors(*_balanced(approx.col, approx.row))
            else:
                self.factors.setVisible(False)
            self.error_line.setText(f"Rank-1 approximation: {s.rank1_error * 100:.3g} % error (Frobenius).")
            self.error_line.setVisible(True)

        if s.rank <= 1 and kh + kw >= kh * kw:
            self.cost_line.setText(
                f"Per output value: one 2-D pass {kh * kw} multiply-accumulate{'s' if kh * kw != 1 else ''}; "
                f"two 1-D passes would take {kh} + {kw} = {kh + kw}: no saving for a {kh}×{kw} kernel.")
        elif s.rank <= 1:
            self.cost_line.setText(
                f"Per output value: two 1-D passes {kh} + {kw} = {kh + kw} multiply-accumulates, "
                f"one 2-D pass {kh * kw}.")
        else:
            self.cost_line.setText(
                f"Per output value: one 2-D pass {kh * kw} multiply-accumulates; as a sum of {s.rank} "
                f"separable pairs of passes it would take {s.rank} × ({kh} + {kw}) = {s.rank * (kh + kw)}.")
        self.cost_line.setVisible(True)
        self._refresh_layer()

    def _show_factors(self, col: np.ndarray, row: np.ndarray) -> None:
        col = np.asarray(col, dtype=np.float64).reshape(-1, 1)
        row = np.asarray(row, dtype=np.float64).reshape(1, -1)
        self.col_grid.set_values(col)
        self.row_grid.set_values(row)
        self.factors.setVisible(True)
        self._place_factors()

    def _place_factors(self, *_args) -> None:
        """Column × row side by side where both fit, else the row under the column; a row
        wider than the panel scrolls inside its own grid (the panel keeps its width)."""
        layout = self._factors_layout
        room = max(self.contentsRect().width() - 8, 60)
        col, row = _grid_size(self.col_grid), _grid_size(self.row_grid)
        times = self.times.sizeHint().width() + 2 * layout.horizontalSpacing()
        side = col.width() + times + row.width() <= room
        if side != self._side_by_side:
            for w in (self.col_grid, self.times, self.row_grid):
                layout.removeWidget(w)
            if side:
                layout.addWidget(self.col_grid, 0, 0, Qt.AlignmentFlag.AlignTop)
                layout.addWidget(self.times, 0, 1, Qt.AlignmentFlag.AlignVCenter)
                layout.addWidget(self.row_grid, 0, 2, Qt.AlignmentFlag.AlignVCenter)
            else:
                layout.addWidget(self.col_grid, 0, 1, Qt.AlignmentFlag.AlignLeft)
                layout.addWidget(self.times, 1, 0, Qt.AlignmentFlag.AlignVCenter)
                layout.addWidget(self.row_grid, 1, 1, 1, 2, Qt.AlignmentFlag.AlignLeft)
            self._side_by_side = side
        self.col_grid.setFixedSize(col)
        row_room = room - (col.width() if side else 0) - times
        if row.width() > row_room:  # scrolls: room for its scroll bar under the cells
            bar = self.row_grid.style().pixelMetric(self.row_grid.style().PixelMetric.PM_ScrollBarExtent)
            self.row_grid.setFixedSize(max(row_room, 60), row.height() + bar)
        else:
            self.row_grid.setFixedSize(row)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.factors.isVisibleTo(self):
            self._place_factors()

    def _show_layer_grid(self, on: bool) -> None:
        self.layer_share.setVisible(on)
        for key in self.layer_values:
            self.layer_names[key].setVisible(on)
            self.layer_values[key].setVisible(on)

    def _refresh_layer(self) -> None:
        """The whole layer's multiply-accumulates at the current input size."""
        session = self._session
        spec = session.spec
        shape = session.image.shape
        self.layer_title.setVisible(True)
        if spec.transposed:
            self.layer_title.setText("Whole layer: counted for conv2d only (this one is transposed).")
            self._show_layer_grid(False)
            return
        try:
            c_out, h_out, w_out = spec.output_shape(shape)
            two_d, column, row = two_pass_macs(spec, shape)
        except ConvSpecError as exc:
            self.layer_title.setText(f"Whole layer: these settings cannot run ({exc}).")
            self._show_layer_grid(False)
            return
        c, h, w = shape
        kh, kw = spec.kernel_hw
        per_group = spec.in_channels // spec.groups
        pairs = c_out * per_group
        head = f"Whole layer, {c}×{h}×{w} in → {c_out}×{h_out}×{w_out} out, multiply-accumulates:"
        separable = not (self._layer_ranks() > 1).any()
        self.layer_title.setText(head)
        self.layer_title.setToolTip(
            "Counted as PyTorch runs them: every product of a weight with an input value or a "
            "padding value, one image. The final sum of each output's pairs (additions only) is "
            "not counted.")
        rows = {
            "two_d": ("2-D pass", two_d,
                      f"{c_out} out × {h_out}·{w_out} pixels × {per_group} in per group × {kh}·{kw} taps"),
            "column": (f"column {kh}×1", column,
                       (f"{pairs} pair{'s' if pairs != 1 else ''} × {h_out} rows × {w} columns × {kh} taps: "
                       "it runs over every input column, since the columns are padded after it")),
            "row": (f"row 1×{kw}", row,
                    f"{pairs} pair{'s' if pairs != 1 else ''} × {h_out}·{w_out} pixels × {kw} taps"),
            "passes": ("two passes", column + row, "the column pass plus the row pass"),
        }
        for key, (name, n, tip) in rows.items():
            text = _count(n)
            if key == "passes":
                self.layer_share.setText(_share_text(n, two_d))
                self.layer_share.setVisible(separable and bool(two_d))
            self.layer_names[key].setText(name)
            self.layer_names[key].setToolTip(tip)
            self.layer_values[key].setText(text)
            self.layer_values[key].setToolTip(tip)
            shown = separable or key == "two_d"
            self.layer_names[key].setVisible(shown)
            self.layer_values[key].setVisible(shown)

    def _refresh_run(self) -> None:
        if not self._shown.seen():
            self._shown.pending = True
            return
        blocker = self._blocker()
        self.run_button.setEnabled(not blocker and not self._running)
        self.run_button.setText("Running…" if self._running else RUN_TEXT)
        kh, kw = self._session.spec.kernel_hw
        if not blocker and kh + kw >= kh * kw:
            reason = (f"Two passes save nothing for a {kh}×{kw} kernel: the run only checks that "
                      "they give the same output.")
        else:
            reason = blocker
        self.run_reason.setText(reason)
        self.run_reason.setVisible(bool(reason))
        if self._error is not None:
            generation, text = self._error
            stale = generation != self._generation
            self._set_run_line(f"Could not run as two passes: {text}", "ERROR", stale, "")
            return
        answer = self._answer
        if answer is None:
            self.run_line.setVisible(False)
            return
        ok = answer.max_diff <= answer.tolerance
        precision = "float32, TF32" if answer.tf32 else answer.dtype
        if ok:
            text = (f"Two passes give PyTorch's 2-D output: max |difference| "
                    f"{format_difference(answer.max_diff)} ({precision}) ✓")
        else:
            text = (f"Two passes differ from PyTorch's 2-D output: max |difference| "
                    f"{format_difference(answer.max_diff)} ({precision}), above the tolerance "
                    f"{format_difference(answer.tolerance)} ✗")
        where = "the CPU" if answer.device == "cpu" else answer.device
        tip = (f"Ran {answer.note}, on {where} in {answer.dtype}.\n"
               f"Compared with {answer.compared_with}.\n"
               f"Tolerance {format_difference(answer.tolerance)}: {TOLERANCE_FACTOR} units of roundoff of the "
               "largest value a sum can reach (the two orders of summation round differently).")
        self._set_run_line(text, "OK" if ok else "ERROR", answer.generation != self._generation, tip)

    def _set_run_line(self, text: str, colour: str, stale: bool, tip: str) -> None:
        if stale:
            text = f"Stale, the layer changed since; run again. Last run: {text}"
            self.run_line.setStyleSheet(style.muted_text_style())
        else:
            self.run_line.setStyleSheet(f"color: {style.colour(colour)};")
        self.run_line.setText(text)
        self.run_line.setToolTip(tip)
        self.run_line.setVisible(True)


