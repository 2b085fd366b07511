"""The arithmetic of the current step: value × weight = product per tap, sums, bias, the result.

The product grids are painted directly (one QPainter pass per frame, no widget per
cell), which keeps a 5×5×3 step as cheap to show as a 1×1 one.  Everything shown comes
from the walk's ``Step`` (or ``Stamp`` for a transposed conv's scatter view); PyTorch's
value is the one the compute worker returned, never the reference's.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from convplay.core.walk import Stamp, Step

MAX_GRIDS = 4  # product grids drawn; further input channels appear in the sums only
MAX_EQUATION_TERMS = 27


def format_number(value: float, digits: int = 4) -> str:
    """Integers as integers (seed 001's examples), others with ``digits`` significant digits."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return f"{value:.{digits}g}"


def _signed_term(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


class ProductGrid(QWidget):
    """kh × kw cells per input channel, each showing "value × weight" over "= product"."""

    CELL_MIN = QSize(58, 36)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Each tap: input value × weight = product (grey cells read padding)")
        self._values = np.zeros((0, 0, 0))
        self._weights = self._values
        self._products = self._values
        self._on_pad = np.zeros((0, 0, 0), dtype=bool)
        self._titles: list[str] = []
        self._font = QFont(self.font())
        self._pad_brush = QBrush(QColor(150, 150, 150, 90), Qt.BrushStyle.BDiagPattern)

    def set_taps(self, values: np.ndarray, weights: np.ndarray, products: np.ndarray,
                 on_pad: np.ndarray, titles: list[str]) -> None:
        """Arrays of shape (grids, kh, kw); ``titles`` one per grid."""
        self._values, self._weights, self._products, self._on_pad = values, weights, products, on_pad
        self._titles = titles
        self.update()

    def cell_texts(self, g: int, r: int, c: int) -> tuple[str, str]:
        """The two lines of one cell, as painted (tests read them)."""
        v, w = format_number(self._values[g, r, c]), format_number(self._weights[g, r, c])
        return f"{v}\u00d7{_signed_term(w)}", f"= {format_number(self._products[g, r, c])}"

    def sizeHint(self) -> QSize:
        grids, kh, kw = self._values.shape if self._values.ndim == 3 else (0, 0, 0)
        return QSize(max(kw, 1) * self.CELL_MIN.width(), max(grids, 1) * (max(kh, 1) * self.CELL_MIN.height() + 20))

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 60)

    def paintEvent(self, event) -> None:
        if self._values.ndim != 3 or self._values.size == 0:
            return
        grids, kh, kw = self._values.shape
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        title_h = 18.0
        block_h = self.height() / grids
        cell_w = self.width() / kw
        cell_h = max((block_h - title_h) / kh, 1.0)
        # The largest font whose longest line fits a cell, capped so that big cells stay calm.
        longest = max((len(self.cell_texts(g, r, c)[0]) for g in range(grids) for r in range(kh) for c in range(kw)), default=1)
        size = max(6.0, min(cell_h / 2.6, cell_w / (0.62 * max(longest, 4)), 15.0))
        self._font.setPointSizeF(size * 0.75)  # points at 96 dpi
        painter.setFont(self._font)
        metrics = QFontMetricsF(self._font)
        grid_pen = QPen(QColor(120, 120, 120))
        text_pen = QPen(self.palette().windowText().color())
        for g in range(grids):
            top = g * block_h
            painter.setPen(text_pen)
            painter.drawText(QRectF(0, top, self.width(), title_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._titles[g])
            for r in range(kh):
                for c in range(kw):
                    rect = QRectF(c * cell_w, top + title_h + r * cell_h, cell_w, cell_h)
                    if self._on_pad[g, r, c]:
                        painter.fillRect(rect, self._pad_brush)
                    painter.setPen(grid_pen)
                    painter.drawRect(rect.adjusted(0, 0, -1, -1))
                    painter.setPen(text_pen)
                    upper, lower = self.cell_texts(g, r, c)
                    half = rect.height() / 2
                    painter.drawText(QRectF(rect.left(), rect.top() + half - metrics.height(), rect.width(), metrics.height()),
                                     Qt.AlignmentFlag.AlignCenter, upper)
                    painter.drawText(QRectF(rect.left(), rect.top() + half, rect.width(), metrics.height()),
                                     Qt.AlignmentFlag.AlignCenter, lower)
        painter.end()


class ArithmeticPanel(QWidget):
    """The current step's arithmetic, and whether PyTorch computed the same value."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel()
        self.heading.setToolTip("Which output value this step computes")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.kernel_note = QLabel()
        self.kernel_note.setToolTip("How the kernel is applied")
        self.kernel_note.setWordWrap(True)
        self.grid = ProductGrid()
        self.equation = QLabel()
        self.equation.setWordWrap(True)
        self.equation.setToolTip("The step as one sum: value × weight for every tap")
        self.equation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sums = QLabel()
        self.sums.setWordWrap(True)
        self.sums.setToolTip("Sum per input channel, the bias, and the output value")
        self.check = QLabel()
        self.check.setWordWrap(True)
        self.check.setToolTip("The value PyTorch computed for this output cell, compared with the sum above")
        for widget in (self.heading, self.kernel_note):
            layout.addWidget(widget)
        layout.addWidget(self.grid, 1)
        for widget in (self.equation, self.sums, self.check):
            layout.addWidget(widget)
        self.total: float | None = None

    # -- a direct convolution's step (and a transposed conv's gather view) -------------
    def show_step(self, step: Step, flipped: bool, torch_value: float | None, tolerance: float | None) -> None:
        oc, (i, j) = step.out_channel, step.position
        self.heading.setText(f"output[{oc}, {i}, {j}]  (step {step.k + 1})")
        self.kernel_note.setText(
            "kernel flipped 180\u00b0: true convolution" if flipped else "kernel as stored: PyTorch's cross-correlation"
        )
        taps = step.taps
        c, kh, kw = step.taps_shape
        shown = min(c, MAX_GRIDS)
        per = kh * kw
        cut = shown * per
        titles = [f"input channel {int(ch)}" for ch in step.in_channels[:shown]]
        if c > shown:
            titles[-1] += f"   ({c - shown} more channels in the sums below)"
        self.grid.set_taps(
            taps.value[:cut].reshape(shown, kh, kw), taps.weight[:cut].reshape(shown, kh, kw),
            taps.product[:cut].reshape(shown, kh, kw), taps.on_pad[:cut].reshape(shown, kh, kw), titles,
        )
        terms = [f"{format_number(v)}\u00d7{_signed_term(format_number(w))}" for v, w in
                 zip(taps.value[:MAX_EQUATION_TERMS], taps.weight[:MAX_EQUATION_TERMS])]
        more = len(taps.value) - len(terms)
        tail = f" + \u2026 ({more} more terms)" if more > 0 else ""
        self.equation.setText(" + ".join(terms) + tail + f" = {format_number(float(taps.product.sum()), 6)}")
        parts = [f"channel {int(ch)}: {format_number(s, 6)}" for ch, s in zip(step.in_channels, step.partial_sums)]
        self.sums.setText(
            "  +  ".join(parts) + f"  +  bias {format_number(step.bias, 6)}  =  <b>{format_number(step.total, 6)}</b>"
        )
        self.total = step.total
        self._show_check(step.total, torch_value, tolerance)

    def _show_check(self, total: float, torch_value: float | None, tolerance: float | None) -> None:
        if torch_value is None:
            self.check.setText("PyTorch: waiting for its output\u2026")
            self.check.setStyleSheet("")
            return
        diff = abs(total - torch_value)
        ok = tolerance is not None and diff <= tolerance
        sign = "\u2713 equals" if ok else "\u2717 differs from"
        self.check.setText(
            f"PyTorch: {format_number(torch_value, 8)}  {sign} the sum  (|difference| {diff:.2g}, tolerance {tolerance or 0:.2g})"
        )
        self.check.setStyleSheet("color: #1a7f37;" if ok else "color: #c62828; font-weight: bold;")

    # -- a transposed convolution's scatter view ------------------------------------------
    def show_stamp(self, stamp: Stamp, out_channel: int, kernel_hw: tuple[int, int], flipped: bool) -> None:
        c_in, (r, c) = stamp.in_channel, stamp.position
        kh, kw = kernel_hw
        self.heading.setText(f"input[{c_in}, {r}, {c}] = {format_number(stamp.value, 6)} stamps value \u00d7 kernel")
        self.kernel_note.setText(
            ("kernel flipped 180\u00b0 (true convolution); " if flipped else "")
            + f"products added onto output channel {out_channel}; grey cells fall outside the output (cropped by padding)"
        )
        mask = stamp.out_channel == out_channel
        if not mask.any():
            self.grid.set_taps(np.zeros((0, 0, 0)), np.zeros((0, 0, 0)), np.zeros((0, 0, 0)), np.zeros((0, 0, 0), bool), [])
            self.equation.setText(f"input channel {c_in} does not reach output channel {out_channel} (another group)")
            self.sums.setText("")
            self.check.setText("")
            self.total = None
            return
        values = np.full(kh * kw, stamp.value)
        self.grid.set_taps(values.reshape(1, kh, kw), stamp.weight[mask].reshape(1, kh, kw),
                           stamp.product[mask].reshape(1, kh, kw), (~stamp.inside[mask]).reshape(1, kh, kw),
                           [f"onto output channel {out_channel}"])
        rows, cols, products = stamp.out_row[mask], stamp.out_col[mask], stamp.product[mask]
        inside = stamp.inside[mask]
        adds = [f"out[{int(y)},{int(x)}] += {format_number(p)}" for y, x, p, ok in zip(rows, cols, products, inside) if ok]
        shown = adds[:MAX_EQUATION_TERMS]
        more = len(adds) - len(shown)
        self.equation.setText(";  ".join(shown) + (f";  \u2026 ({more} more)" if more > 0 else ""))
        self.sums.setText(f"{int((~inside).sum())} of {len(inside)} products cropped by padding")
        self.total = None
        self.check.setText("The output view adds up every stamp so far; the badge checks the finished output.")
        self.check.setStyleSheet("")
