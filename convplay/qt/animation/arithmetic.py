"""The arithmetic of the current step: value × weight = product per tap, sums, bias, the result.

The product grids are painted directly (one QPainter pass per frame, no widget per
cell), which keeps a 5×5×3 step as cheap to show as a 1×1 one.  Everything shown comes
from the walk's ``Step`` (or ``Stamp`` for a transposed conv's scatter view); PyTorch's
value is the one the compute worker returned, never the reference's.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from convplay.core.formatting import format_cell, format_compared, format_difference, format_readout
from convplay.core.walk import Stamp, Step
from convplay.qt import style
from convplay.qt.theme import theme
from convplay.qt.widgets.cell_labels import MIN_LABEL_PX, label_px
from convplay.qt.zoom import scaled, text_zoom

MAX_GRIDS = 4  # product grids drawn; further input channels appear in the sums only
MAX_EQUATION_TERMS = 9  # the grid above shows every product; the sum's first terms say how it reads
GRID_GAP = 10.0  # pixels between the grids of two input channels
TITLE_H = 20.0  # pixels for a grid's title line
TITLE_MIN_PX, TITLE_MAX_PX = 10, 16
CELL_MAX = 130.0  # larger product cells only spread the numbers apart
CELL_MIN = 4.0  # pixels: a product cell is never drawn smaller
HINT_CELL_PX = 64  # a comfortable cell, for the size hint
CELL_TEXT_MAX_PX = 30
TWO_LINES_SHARE = 0.3  # "value × weight" over "= product": each line this share of the cell's height
ONE_LINE_SHARE = 0.45  # the product alone, when two lines would be too small to read
PRODUCT_MIN_PX = 7  # smaller still, the cell's tint alone shows its product
LINE_SPACING = 1.3  # a line's height per pixel of font size
TINT_ALPHA_MIN, TINT_ALPHA_RANGE = 25, 70  # a product's tint: faint for small |product|, stronger for large
PAD_HATCH_ALPHA = 150
# The labels grow with the panel (a projector's wide dock): pixels from the panel's size.
LABEL_MIN_PX, LABEL_MAX_PX = 13, 18
LABEL_SIZE_DIVISOR = 30  # the font's pixels: the panel's smaller side (height weighted 1.2) / 30
HEIGHT_WEIGHT = 1.2
# The texts around the product grid take at most this share of the panel's height: at a
# large text zoom they give way (down to LABEL_MIN_PX) before the grid shrinks to nothing.
LABEL_HEIGHT_SHARE = 0.5


def _signed_term(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def grid_arrangement(grids: int, kh: int, kw: int, width: float, height: float) -> tuple[int, float]:
    """(grids per row, cell size in pixels): the arrangement with the largest square cells."""
    best = (1, 0.0)
    for columns in range(1, max(grids, 1) + 1):
        rows = math.ceil(grids / columns)
        across = (width - (columns - 1) * GRID_GAP) / (columns * kw)
        down = (height - rows * TITLE_H - (rows - 1) * GRID_GAP) / (rows * kh)
        cell = min(across, down, CELL_MAX)
        if cell > best[1]:
            best = (columns, cell)
    return best


class ProductGrid(QWidget):
    """kh × kw square cells per input channel, each showing "value × weight" over "= product".

    A cell's tint follows the sign and size of its product (red positive, blue negative, as
    the output's colour map); grey hatching marks taps that read padding.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Each tap: input value × weight = product (hatched cells read padding)")
        self._values = np.zeros((0, 0, 0))
        self._weights = self._values
        self._products = self._values
        self._on_pad = np.zeros((0, 0, 0), dtype=bool)
        self._titles: list[str] = []
        self._font = QFont(self.font())
        self._title_font = QFont(self.font())
        self.cell_size = 0.0  # pixels, as last painted (tests read it)
        self.text_px = 0  # the cells' font size in pixels, as last painted

    def set_taps(self, values: np.ndarray, weights: np.ndarray, products: np.ndarray,
                 on_pad: np.ndarray, titles: list[str]) -> None:
        """Arrays of shape (grids, kh, kw); ``titles`` one per grid."""
        self._values, self._weights, self._products, self._on_pad = values, weights, products, on_pad
        self._titles = titles
        self.update()

    def cell_texts(self, g: int, r: int, c: int) -> tuple[str, str]:
        """The two lines of one cell, as painted (tests read them)."""
        v, w = format_cell(self._values[g, r, c]), format_cell(self._weights[g, r, c])
        return f"{v}\u00d7{_signed_term(w)}", f"= {format_cell(self._products[g, r, c])}"

    def sizeHint(self) -> QSize:
        grids, kh, kw = self._values.shape if self._values.ndim == 3 else (0, 0, 0)
        return QSize(max(kw, 1) * HINT_CELL_PX, max(grids, 1) * (max(kh, 1) * HINT_CELL_PX + int(TITLE_H)))

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 60)

    def paintEvent(self, event) -> None:
        if self._values.ndim != 3 or self._values.size == 0:
            return
        grids, kh, kw = self._values.shape
        width, height = self.width() - 1, self.height() - 1  # the last pixel row and column hold the border
        columns, cell = grid_arrangement(grids, kh, kw, width, height)
        cell = max(cell, CELL_MIN)
        self.cell_size = cell
        rows = math.ceil(grids / columns)
        block_w, block_h = kw * cell, TITLE_H + kh * cell
        left0 = (width - (columns * block_w + (columns - 1) * GRID_GAP)) / 2
        top0 = (height - (rows * block_h + (rows - 1) * GRID_GAP)) / 2
        texts = [[self.cell_texts(g, r, c) for r in range(kh) for c in range(kw)] for g in range(grids)]
        longest = max((len(t[0]) for block in texts for t in block), default=1)
        # The largest font whose longest line fits a cell, capped so that big cells stay calm.
        px = int(label_px(cell, longest, height_share=TWO_LINES_SHARE, max_px=scaled(CELL_TEXT_MAX_PX)))
        both_lines = px >= MIN_LABEL_PX
        if not both_lines:  # too small for "value × weight": the product alone, as large as fits
            product_chars = max(len(t[1]) - 2 for block in texts for t in block)  # without "= "
            px = int(label_px(cell, product_chars, height_share=ONE_LINE_SHARE, max_px=scaled(CELL_TEXT_MAX_PX)))
        self.text_px = px
        self._font.setPixelSize(max(px, 1))
        # Within its line's height at any zoom: a bigger title would run into the grid below.
        self._title_font.setPixelSize(min(scaled(min(max(TITLE_H * 0.7, TITLE_MIN_PX), TITLE_MAX_PX)), int(TITLE_H * 0.8)))
        scale = float(np.abs(self._products).max()) or 1.0
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        grid_pen = QPen(QColor(style.colour("PRODUCT_GRID_LINE")), style.line_width(1))
        hatch = QColor(style.colour("PAD_HATCH"))
        hatch.setAlpha(PAD_HATCH_ALPHA)
        pad_brush = QBrush(hatch, Qt.BrushStyle.BDiagPattern)
        positive, negative = QColor(style.colour("POSITIVE")), QColor(style.colour("NEGATIVE"))
        text_pen = QPen(self.palette().windowText().color())
        centre = Qt.AlignmentFlag.AlignCenter
        for g in range(grids):
            left = left0 + (g % columns) * (block_w + GRID_GAP)
            top = top0 + (g // columns) * (block_h + GRID_GAP)
            painter.setPen(text_pen)
            painter.setFont(self._title_font)
            # A title as wide as its grid (the last one as the panel): cut with "…" rather
            # than drawn over the next grid's.
            room = block_w if g % columns < columns - 1 else max(block_w, width - left)
            title = QFontMetricsF(self._title_font).elidedText(self._titles[g], Qt.TextElideMode.ElideRight, room)
            painter.drawText(QRectF(left, top, room, TITLE_H), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             title)
            painter.setFont(self._font)
            for r in range(kh):
                for c in range(kw):
                    rect = QRectF(left + c * cell, top + TITLE_H + r * cell, cell, cell)
                    product = float(self._products[g, r, c])
                    if product and math.isfinite(product):
                        tint = QColor(positive if product > 0 else negative)
                        tint.setAlpha(int(TINT_ALPHA_MIN + TINT_ALPHA_RANGE * min(abs(product) / scale, 1.0)))
                        painter.fillRect(rect, tint)
                    if self._on_pad[g, r, c]:
                        painter.fillRect(rect, pad_brush)
                    painter.setPen(grid_pen)
                    painter.drawRect(rect)
                    painter.setPen(text_pen)
                    upper, lower = texts[g][r * kw + c]
                    if both_lines:
                        half = rect.height() / 2
                        line = px * LINE_SPACING
                        painter.drawText(QRectF(rect.left(), rect.top() + half - line, cell, line), centre, upper)
                        painter.drawText(QRectF(rect.left(), rect.top() + half, cell, line), centre, lower)
                    elif px >= PRODUCT_MIN_PX:  # smaller still: the tint alone shows the product
                        painter.drawText(rect, centre, lower[2:])
        painter.end()


class ArithmeticPanel(QWidget):
    """The current step's arithmetic, and whether PyTorch computed the same value."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.heading = QLabel()
        self.heading.setToolTip("Which output value this step computes")
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
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
        for label in (self.kernel_note, self.equation, self.sums, self.check):
            # Wrapped lines take the height they need; the product grid gives way.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.total: float | None = None
        self.text_px = 0  # the labels' font size in pixels, set from the panel's size
        self._tallest = (-1, 0)  # (width, the tallest minimum height seen at that width)
        self._check_ok: bool | None = None  # the check's verdict (None: no verdict), coloured by the theme
        text_zoom().changed.connect(self._on_text_zoom)  # Qt disconnects it when the panel goes
        theme().theme_changed.connect(self._on_theme)

    def _on_text_zoom(self, _factor: float) -> None:
        self.text_px = 0
        self._tallest = (-1, 0)
        self._scale_fonts()
        self.grid.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._scale_fonts()

    def minimumSizeHint(self) -> QSize:
        """The wrapped labels' minimum, but never lower than it was at this width: a sum
        that wraps to one line fewer than the last step's would hand the height back to the
        view beside it and take it again on the next step, a resize of the whole scene
        (4-15 ms at 1024²) per step or edit."""
        hint = super().minimumSizeHint()
        width, tallest = self._tallest
        if width != self.width():
            tallest = 0
        tallest = max(tallest, hint.height())
        self._tallest = (self.width(), tallest)
        return QSize(hint.width(), tallest)

    def _scale_fonts(self) -> None:
        """Text that grows with the panel (a projector's wide dock), from 13 to 18 pixels at
        the normal text zoom."""
        room = min(self.width(), HEIGHT_WEIGHT * self.height())
        px = scaled(min(max(room / LABEL_SIZE_DIVISOR, LABEL_MIN_PX), LABEL_MAX_PX))
        while px > LABEL_MIN_PX and self._labels_height(px) > LABEL_HEIGHT_SHARE * self.height():
            px -= 1
        if px == self.text_px:
            return
        self.text_px = px
        for label, factor, bold in self._label_styles():
            label.setFont(self._label_font(label, px, factor, bold))

    def _label_styles(self):
        return ((self.heading, 1.25, True), (self.kernel_note, 1.0, False), (self.equation, 0.9, False),
                (self.sums, 1.0, False), (self.check, 1.0, False))

    @staticmethod
    def _label_font(label: QLabel, px: int, factor: float, bold: bool) -> QFont:
        font = QFont(label.font())
        font.setPixelSize(max(1, int(px * factor)))
        font.setBold(bold)
        return font

    def _labels_height(self, px: int) -> int:
        """How tall the texts around the grid are, wrapped to the panel's width, at ``px``."""
        width = max(1, self.width() - 8)
        total = 0
        for label, factor, bold in self._label_styles():
            if label.text():
                metrics = QFontMetrics(self._label_font(label, px, factor, bold))
                total += metrics.boundingRect(QRect(0, 0, width, 1 << 20), Qt.TextFlag.TextWordWrap, label.text()).height()
        return total

    def _refit_zoomed_text(self) -> None:
        """A step's new texts may wrap to more lines: refit them, only while zoomed in (at
        the normal zoom the sizes from the panel's size always leave the grid its room)."""
        if text_zoom().factor > 1.0:
            self._scale_fonts()

    # -- a direct convolution's step (and a transposed conv's gather view) -------------
    def show_step(self, step: Step, flipped: bool, torch_value: float | None, tolerance: float | None) -> None:
        oc, (i, j) = step.out_channel, step.position
        self.heading.setText(f"output[{oc}, {i}, {j}]  (step {step.k + 1:,})")
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
        terms = [f"{format_cell(v)}\u00d7{_signed_term(format_cell(w))}" for v, w in
                 zip(taps.value[:MAX_EQUATION_TERMS], taps.weight[:MAX_EQUATION_TERMS])]
        more = len(taps.value) - len(terms)
        tail = f" + \u2026 ({more} more terms)" if more > 0 else ""
        self.equation.setText(" + ".join(terms) + tail + f" = {format_readout(float(taps.product.sum()))}")
        parts = [f"channel {int(ch)}: {format_readout(s)}" for ch, s in zip(step.in_channels, step.partial_sums)]
        self.sums.setText(
            "  +  ".join(parts) + f"  +  bias {format_readout(step.bias)}  =  <b>{format_readout(step.total)}</b>"
        )
        self.total = step.total
        self._show_check(step.total, torch_value, tolerance)

    def _show_check(self, total: float, torch_value: float | None, tolerance: float | None) -> None:
        if torch_value is None:
            self.check.setText("PyTorch: waiting for its output\u2026")
            self._check_ok = None
            self.check.setStyleSheet("")
            return
        diff = abs(total - torch_value)
        if tolerance is None:  # the tolerance comes with the reference's verdict: no ✗ before it
            self.check.setText(f"PyTorch: {format_compared(torch_value)}  (|difference| {format_difference(diff)}; "
                               "the verdict waits for the reference output\u2026)")
            self._check_ok = None
            self.check.setStyleSheet("")
            return
        ok = diff <= tolerance
        sign = "\u2713 equals" if ok else "\u2717 differs from"
        self.check.setText(
            f"PyTorch: {format_compared(torch_value)}  {sign} the sum  (|difference| {format_difference(diff)}, tolerance {format_difference(tolerance)})"
        )
        self._check_ok = ok
        self._style_check()
        self._refit_zoomed_text()

    def _style_check(self) -> None:
        if self._check_ok is None:
            self._check_ok = None
            self.check.setStyleSheet("")
            return
        colour = style.colour("OK" if self._check_ok else "ERROR")
        self.check.setStyleSheet(f"color: {colour};" + ("" if self._check_ok else " font-weight: bold;"))

    def _on_theme(self, _high_contrast: bool) -> None:
        self._style_check()
        self.grid.update()

    # -- a transposed convolution's scatter view ------------------------------------------
    def show_stamp(self, stamp: Stamp, out_channel: int, kernel_hw: tuple[int, int], flipped: bool) -> None:
        c_in, (r, c) = stamp.in_channel, stamp.position
        kh, kw = kernel_hw
        self.heading.setText(f"input[{c_in}, {r}, {c}] = {format_readout(stamp.value)} stamps value \u00d7 kernel")
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
        adds = [f"out[{int(y)},{int(x)}] += {format_cell(p)}" for y, x, p, ok in zip(rows, cols, products, inside) if ok]
        shown = adds[:MAX_EQUATION_TERMS]
        more = len(adds) - len(shown)
        self.equation.setText(";  ".join(shown) + (f";  \u2026 ({more} more)" if more > 0 else ""))
        self.sums.setText(f"{int((~inside).sum())} of {len(inside)} products cropped by padding")
        self.total = None
        self.check.setText("The output view adds up every stamp so far; the badge checks the finished output.")
        self._check_ok = None
        self.check.setStyleSheet("")
