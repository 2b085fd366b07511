"""The pooling picture: the input's cells with their numbers, the padding ring, the window on
screen (each tap outlined, dilated taps apart), the winning cell of a max, adaptive pooling's
uneven windows as colour bands, and the output grid beside it.

Drawn with one QPainter pass per repaint, from the model: there are no scene items to make
or pool, and a frame of the 32×32 the view shows at most costs a couple of milliseconds.
Clicking an output cell (or an input cell: its first reader) moves the window there;
hovering an input cell outlines the outputs that read it; Left/Right/Up/Down/Home/End step,
Space plays or pauses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from convplay.core.formatting import format_cell
from convplay.core.pooling_model import PoolingModel, ShownPooling
from convplay.qt import style
from convplay.qt.theme import theme
from convplay.qt.widgets.cell_labels import MIN_LABEL_PX, label_px
from convplay.qt.zoom import scaled, text_zoom

VIEW_MAX = 32  # inputs and outputs up to this side are drawn whole
CROP = 12  # of a larger one, the top-left CROP × CROP cells (the padding ring included)
MAX_CELL_PX = 88.0
GAP_CELLS = 1.4  # between the input and the output: room for the arrow
BAND_PX = 5.0  # one lane of an adaptive window's colour band
BAND_GAP = 2.0
LABEL_SHARE = 0.34
SMALL_CELL_LABEL_PX = 10.0  # a cell of about 20 px still shows its number, in this smaller font
LABEL_MAX_PX = 32.0


def cell_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return format_cell(value).replace("-", "−")


@dataclass(frozen=True)
class Geometry:
    cell: float
    in_origin: QPointF  # top-left of input row r0, column c0
    out_origin: QPointF
    rows: tuple[int, int]  # input rows drawn [r0, r1), padding and ceil_mode's overhang included
    cols: tuple[int, int]
    out_hw: tuple[int, int]
    horizontal: bool
    heading_px: float
    band: float  # the bands' depth (0 without adaptive pooling)
    cropped: bool = False  # only the top-left part of a large input is drawn

    def shows_output(self, i: int, j: int) -> bool:
        return 0 <= i < self.out_hw[0] and 0 <= j < self.out_hw[1]

    def in_rect(self, r: int, c: int) -> QRectF:
        return QRectF(self.in_origin.x() + (c - self.cols[0]) * self.cell,
                      self.in_origin.y() + (r - self.rows[0]) * self.cell, self.cell, self.cell)

    def out_rect(self, i: int, j: int) -> QRectF:
        return QRectF(self.out_origin.x() + j * self.cell, self.out_origin.y() + i * self.cell, self.cell, self.cell)

    def input_at(self, p: QPointF) -> tuple[int, int] | None:
        c = math.floor((p.x() - self.in_origin.x()) / self.cell) + self.cols[0]
        r = math.floor((p.y() - self.in_origin.y()) / self.cell) + self.rows[0]
        return (r, c) if self.rows[0] <= r < self.rows[1] and self.cols[0] <= c < self.cols[1] else None

    def output_at(self, p: QPointF) -> tuple[int, int] | None:
        j = math.floor((p.x() - self.out_origin.x()) / self.cell)
        i = math.floor((p.y() - self.out_origin.y()) / self.cell)
        return (i, j) if 0 <= i < self.out_hw[0] and 0 <= j < self.out_hw[1] else None


@dataclass(frozen=True)
class Extent:
    rows: tuple[int, int]
    cols: tuple[int, int]
    out_hw: tuple[int, int]
    cropped: bool


def view_extent(shown: ShownPooling) -> Extent | None:
    """What the picture draws: every input cell, padding and ceil_mode's overhang included,
    and every output cell; of a large input the top-left part and the outputs whose windows
    lie in it; None when not one whole window fits that part."""
    key = "view_extent"
    if key in shown._cache:
        return shown._cache[key]
    spec = shown.spec
    _, h, w = shown.input.shape
    ph, pw = (0, 0) if spec.adaptive else spec.padding_hw
    rows_w, cols_w = shown.windows(0), shown.windows(1)
    r0 = min([-ph] + [min(t) for t in rows_w])
    r1 = max([h + ph] + [max(t) + 1 for t in rows_w])
    c0 = min([-pw] + [min(t) for t in cols_w])
    c1 = max([w + pw] + [max(t) + 1 for t in cols_w])
    oh, ow = shown.out_hw
    if max(h, w, oh, ow) <= VIEW_MAX:
        extent = Extent((r0, r1), (c0, c1), (oh, ow), False)
    else:
        r1, c1 = min(r1, r0 + CROP), min(c1, c0 + CROP)
        out_rows = min(sum(1 for t in rows_w if max(t) < r1), CROP)
        out_cols = min(sum(1 for t in cols_w if max(t) < c1), CROP)
        extent = Extent((r0, r1), (c0, c1), (out_rows, out_cols), True) if out_rows and out_cols else None
    shown._cache[key] = extent
    return extent


def too_large(shown: ShownPooling | None) -> bool:
    """True when the picture cannot draw even a part with one whole window."""
    return shown is not None and view_extent(shown) is None


class PoolGrid(QWidget):
    """``hover_text(str)``: what the hovered cell is and who reads it ("" when none)."""

    hover_text = Signal(str)

    def __init__(self, model: PoolingModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self._hover: tuple[str, int, int] | None = None  # ("in" | "out", row, col)
        self._geometry: Geometry | None = None
        self._geometry_key = None
        self._static: QPixmap | None = None
        self._static_key = None
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # every pixel is painted: no parent background
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setToolTip("The input with its padding, the window on screen and the output. Click an output cell to "
                        "see its window; hover an input cell to see which outputs read it; Left/Right step.")
        theme().theme_changed.connect(self._restyle)
        text_zoom().changed.connect(self._restyle)

    def sizeHint(self) -> QSize:
        return QSize(420, 260)

    def _restyle(self, *_args) -> None:
        self._geometry_key = None
        self._static_key = None
        self.update()

    # -- geometry --------------------------------------------------------------------------
    def geometry_now(self) -> Geometry | None:
        shown = self.model.shown
        if shown is None or too_large(shown):
            return None
        key = (shown, self.width(), self.height(), text_zoom().factor)  # the object itself: ids are reused
        if key != self._geometry_key:
            self._geometry = self._layout(shown)
            self._geometry_key = key
        return self._geometry

    def _heading_font(self) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(scaled(12))
        return font

    def _layout(self, shown: ShownPooling) -> Geometry:
        spec = shown.spec
        extent = view_extent(shown)
        (r0, r1), (c0, c1) = extent.rows, extent.cols
        oh, ow = extent.out_hw
        heading = QFontMetricsF(self._heading_font()).height() + 4
        band = 2 * BAND_PX + BAND_GAP * 2 if spec.adaptive else 0.0
        margin = 6.0
        in_r, in_c = r1 - r0, c1 - c0
        avail_w, avail_h = max(self.width() - 2 * margin - band, 10), max(self.height() - 2 * margin - heading - band, 10)
        # side by side, or the output under the input: whichever gives the larger cells
        side = min(avail_w / (in_c + GAP_CELLS + ow), avail_h / max(in_r, oh))
        stacked = min(avail_w / max(in_c, ow), (avail_h - heading) / (in_r + GAP_CELLS * 0.7 + oh))
        horizontal = side >= stacked
        cell = max(min(side if horizontal else stacked, MAX_CELL_PX), 4.0)
        if horizontal:
            total_w = band + (in_c + GAP_CELLS + ow) * cell
            total_h = heading + band + max(in_r, oh) * cell
            x0 = margin + max((self.width() - 2 * margin - total_w) / 2, 0)
            top = margin + max((self.height() - 2 * margin - total_h) / 2, 0) + heading + band
            in_origin = QPointF(x0 + band, top)
            out_origin = QPointF(x0 + band + (in_c + GAP_CELLS) * cell, top)
        else:
            total_w = band + max(in_c, ow) * cell
            total_h = 2 * heading + band + (in_r + GAP_CELLS * 0.7 + oh) * cell
            x0 = margin + max((self.width() - 2 * margin - total_w) / 2, 0)
            top = margin + max((self.height() - 2 * margin - total_h) / 2, 0) + heading + band
            in_origin = QPointF(x0 + band, top)
            out_origin = QPointF(x0 + band, in_origin.y() + (in_r + GAP_CELLS * 0.7) * cell + heading)
        return Geometry(cell, in_origin, out_origin, (r0, r1), (c0, c1), (oh, ow), horizontal, heading, band,
                        extent.cropped)

    # -- painting ---------------------------------------------------------------------------
    # What does not move with the window (the cells, their numbers, the headings) is drawn
    # once into a pixmap per picture, size, zoom and theme; a step draws that pixmap and the
    # window, the winner, the output's pending cells and the hover over it: a few dozen
    # painter calls, whatever the size.
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        shown = self.model.shown
        if shown is None or too_large(shown):
            painter.fillRect(self.rect(), QColor(style.colour("VIEW_BACKGROUND")))
            if shown is None:
                self._message(painter, "No pooling to show yet: the settings are refused for this input.")
            else:
                _, h, w = shown.input.shape
                oh, ow = shown.out_hw
                self._message(painter, f"No whole window fits the top-left {CROP}×{CROP} cells this view draws of "
                                       f"a large input; this one pools {h}×{w} to {oh}×{ow}. The output size, the "
                                       "formula and the PyTorch check below are for the whole input.")
            return
        g = self.geometry_now()
        painter.drawPixmap(0, 0, self._static_picture(shown, g))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if shown.spec.adaptive:
            self._paint_bands(painter, shown, g)
        self._paint_window(painter, shown, g)
        self._paint_output_state(painter, shown, g)
        self._paint_note(painter, g)
        painter.end()

    def _static_picture(self, shown: ShownPooling, g: Geometry) -> QPixmap:
        ratio = self.devicePixelRatioF()
        key = (shown, self.width(), self.height(), ratio, text_zoom().factor, style.high_contrast(),
               self.model.answer_hidden)
        if key != self._static_key or self._static is None:
            pixmap = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(QColor(style.colour("VIEW_BACKGROUND")))
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self._paint_input_cells(painter, shown, g)
            self._paint_output_cells(painter, shown, g)
            self._paint_headings(painter, shown, g)
            painter.end()
            self._static, self._static_key = pixmap, key
        return self._static

    def _message(self, painter: QPainter, text: str) -> None:
        painter.setPen(QColor(style.colour("MUTED")))
        font = QFont(self.font())
        painter.setFont(font)
        painter.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         text)
        painter.end()

    def _label_font(self, cell: float, chars: int, bold: bool = False) -> QFont | None:
        share = max(LABEL_SHARE * max(text_zoom().factor, 1.0), SMALL_CELL_LABEL_PX / max(cell, 1.0))
        px = label_px(cell, chars, height_share=min(share, 0.5),
                      max_px=LABEL_MAX_PX * max(text_zoom().factor, 1.0))
        if px < MIN_LABEL_PX:
            return None
        font = QFont(self.font())
        font.setPixelSize(int(px))
        font.setBold(bold)
        return font

    @staticmethod
    def _levels(values: np.ndarray) -> tuple[float, float]:
        finite = values[np.isfinite(values)]
        return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)

    @staticmethod
    def _tint(value: float, lo: float, hi: float) -> QColor:
        base = QColor(style.colour("CELL_BACKGROUND"))
        if math.isnan(value):
            return base
        if math.isinf(value):
            return QColor(style.POSITIVE_TINT if value > 0 else style.NEGATIVE_TINT)
        if hi <= lo:
            return base
        t = (value - lo) / (hi - lo)
        tint = QColor(style.POSITIVE_TINT)
        return QColor(round(base.red() + (tint.red() - base.red()) * t),
                      round(base.green() + (tint.green() - base.green()) * t),
                      round(base.blue() + (tint.blue() - base.blue()) * t))

    @staticmethod
    def _input_chars(shown: ShownPooling, g: Geometry) -> int:
        """The longest label of the input part drawn (counted once per picture)."""
        if "input_chars" not in shown._cache:
            _, h, w = shown.input.shape
            part = shown.plane[max(g.rows[0], 0):max(min(g.rows[1], h), 0), max(g.cols[0], 0):max(min(g.cols[1], w), 0)]
            shown._cache["input_chars"] = max([len(cell_text(float(v))) for v in part.flat] + [2])
        return shown._cache["input_chars"]

    @staticmethod
    def _output_chars(shown: ShownPooling, g: Geometry) -> int:
        if "output_chars" not in shown._cache:
            oh, ow = g.out_hw
            shown._cache["output_chars"] = max([len(cell_text(float(v))) for v in shown.values()[:oh, :ow].flat] + [2])
        return shown._cache["output_chars"]

    def _paint_input_cells(self, painter: QPainter, shown: ShownPooling, g: Geometry) -> None:
        spec = shown.spec
        plane = shown.plane
        _, h, w = shown.input.shape
        lo, hi = self._levels(plane)
        ph, pw = (0, 0) if spec.adaptive else spec.padding_hw
        pad_text = "−∞" if spec.is_max else "0"
        grid_pen = QPen(QColor(style.colour("GRID_LINE")), style.line_width(1))
        pad_pen = QPen(QColor(style.colour("PADDING")), style.line_width(1), Qt.PenStyle.DashLine)
        outside_pen = QPen(QColor(style.colour("GRID_LINE")), style.line_width(1), Qt.PenStyle.DotLine)
        font = self._label_font(g.cell, self._input_chars(shown, g))
        text_colour = QColor(style.colour("LABEL_TEXT"))
        pad_colour = QColor(style.colour("PAD_LABEL_TEXT"))
        hatch = QColor(style.colour("PAD_HATCH"))
        hatch.setAlpha(40)
        if font is not None:
            painter.setFont(font)
        for r in range(*g.rows):
            for c in range(*g.cols):
                rect = g.in_rect(r, c)
                if 0 <= r < h and 0 <= c < w:
                    value = float(plane[r, c])
                    painter.fillRect(rect, self._tint(value, lo, hi))
                    painter.setPen(grid_pen)
                    painter.drawRect(rect)
                    if font is not None:
                        painter.setPen(text_colour)
                        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, cell_text(value))
                elif -ph <= r < h + ph and -pw <= c < w + pw:
                    painter.fillRect(rect, hatch)
                    painter.setPen(pad_pen)
                    painter.drawRect(rect.adjusted(1, 1, -1, -1))
                    if font is not None:
                        painter.setPen(pad_colour)
                        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, pad_text)
                else:
                    painter.setPen(outside_pen)
                    painter.drawRect(rect.adjusted(2, 2, -2, -2))

    def _paint_window(self, painter: QPainter, shown: ShownPooling, g: Geometry) -> None:
        spec = shown.spec
        plane = shown.plane
        _, h, w = shown.input.shape
        cell = self.model.cell
        window = self.model.window() if cell is not None and g.shows_output(*cell) else None
        if window is not None:
            # The winning cell is the answer a lesson's question asks for: marked once revealed.
            marks = spec.is_max and not self.model.answer_hidden
            winner = window.winner if marks else None
            fill = QColor(style.colour("WINDOW"))
            fill.setAlpha(70)
            pen = QPen(QColor(style.colour("WINDOW")), style.line_width(2.5))
            painter.setPen(pen)
            for r in window.rows:
                for c in window.cols:
                    if g.rows[0] <= r < g.rows[1] and g.cols[0] <= c < g.cols[1]:
                        rect = g.in_rect(r, c)
                        painter.fillRect(rect, fill)
                        painter.drawRect(rect.adjusted(1.5, 1.5, -1.5, -1.5))
            if marks and window.ties > 1:
                tie_pen = QPen(QColor(style.colour("WINDOW")).darker(140), style.line_width(2), Qt.PenStyle.DashLine)
                painter.setPen(tie_pen)
                for r, c in window.cells:
                    if (r, c) != winner and plane[r, c] == window.value:
                        painter.drawRect(g.in_rect(r, c).adjusted(4, 4, -4, -4))
            if winner is not None and 0 <= winner[0] < h and 0 <= winner[1] < w and window.cells:
                rect = g.in_rect(*winner)
                painter.fillRect(rect, QColor(style.colour("WINDOW")))
                painter.setPen(QPen(QColor(style.colour("LABEL_TEXT")), style.line_width(3)))
                painter.drawRect(rect.adjusted(1.5, 1.5, -1.5, -1.5))
                chars = self._input_chars(shown, g)
                bold = self._label_font(g.cell, chars + 1, bold=True) or self._label_font(g.cell, chars)
                if bold is not None:
                    painter.setFont(bold)
                    painter.setPen(QColor(style.colour("LABEL_TEXT")))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, cell_text(float(plane[winner])))
        if self._hover is not None and self._hover[0] == "in":
            painter.setPen(QPen(QColor(style.colour("PREVIEW")), style.line_width(2.5)))
            painter.drawRect(g.in_rect(self._hover[1], self._hover[2]).adjusted(1, 1, -1, -1))

    def _paint_bands(self, painter: QPainter, shown: ShownPooling, g: Geometry) -> None:
        """Each output row's window as a bar left of the input, each column's above it; two
        lanes, so that overlapping windows show as overlapping bars.  The output grid's rows
        and columns carry the same colours."""
        cell = self.model.cell
        for axis, windows in ((0, shown.windows(0)), (1, shown.windows(1))):
            for o, taps in enumerate(windows[:g.out_hw[axis]]):
                colour = QColor(style.GROUP_COLOURS[o % len(style.GROUP_COLOURS)])
                painter.fillRect(self._output_band(g, axis, o), colour)
                current = cell is not None and cell[axis] == o
                if not current:
                    colour.setAlpha(150)
                lane = (o % 2) * (BAND_PX + BAND_GAP)
                first, last = taps[0], taps[-1]
                if axis == 0:
                    a, b = g.in_rect(first, g.cols[0]), g.in_rect(last, g.cols[0])
                    rect = QRectF(a.left() - g.band + lane, a.top() + 1, BAND_PX, b.bottom() - a.top() - 2)
                else:
                    a, b = g.in_rect(g.rows[0], first), g.in_rect(g.rows[0], last)
                    rect = QRectF(a.left() + 1, a.top() - g.band + lane, b.right() - a.left() - 2, BAND_PX)
                painter.fillRect(rect, colour)
                if current:
                    painter.setPen(QPen(QColor(style.colour("LABEL_TEXT")), style.line_width(1)))
                    painter.drawRect(rect)

    @staticmethod
    def _output_band(g: Geometry, axis: int, o: int) -> QRectF:
        if axis == 0:
            r = g.out_rect(o, 0)
            return QRectF(r.left() - BAND_PX - BAND_GAP, r.top() + 1, BAND_PX, r.height() - 2)
        r = g.out_rect(0, o)
        return QRectF(r.left() + 1, r.top() - BAND_PX - BAND_GAP, r.width() - 2, BAND_PX)

    def _paint_output_cells(self, painter: QPainter, shown: ShownPooling, g: Geometry) -> None:
        """Every visible output cell with its value (the pending ones are covered per step)."""
        oh, ow = g.out_hw
        values = shown.values()
        hidden = self.model.answer_hidden  # a lesson's question asks for these: "?" and no tint
        font = self._label_font(g.cell, self._output_chars(shown, g))
        grid_pen = QPen(QColor(style.colour("GRID_LINE")), style.line_width(1))
        text_colour = QColor(style.colour("LABEL_TEXT"))
        lo, hi = self._levels(values)
        if font is not None:
            painter.setFont(font)
        for i in range(oh):
            for j in range(ow):
                rect = g.out_rect(i, j)
                value = float(values[i, j])
                painter.fillRect(rect, QColor(style.colour("CELL_BACKGROUND")) if hidden else self._tint(value, lo, hi))
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if font is not None:
                    painter.setPen(text_colour)
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "?" if hidden else cell_text(value))

    def _pending_rects(self, shown: ShownPooling, g: Geometry) -> list[tuple[int, int, int, int]]:
        """The visible output cells past the window on screen, as (row, col, rows, cols) blocks:
        the rest of the current row and every row below it."""
        oh, ow = g.out_hw
        pi, pj = divmod(self.model.position, shown.out_hw[1])
        blocks = []
        if pi < oh and pj + 1 < ow:
            blocks.append((pi, pj + 1, 1, ow - pj - 1))
        first = pi + 1 if pi < oh else oh
        if first < oh:
            blocks.append((first, 0, oh - first, ow))
        return blocks

    def _paint_output_state(self, painter: QPainter, shown: ShownPooling, g: Geometry) -> None:
        base, pending = QColor(style.colour("CELL_BACKGROUND")), QColor(style.colour("PENDING"))
        cover = QColor(round(base.red() * 0.82 + pending.red() * 0.18), round(base.green() * 0.82 + pending.green() * 0.18),
                       round(base.blue() * 0.82 + pending.blue() * 0.18))
        painter.setPen(QPen(QColor(style.colour("GRID_LINE")), style.line_width(1)))
        for i, j, rows, cols in self._pending_rects(shown, g):
            top_left, bottom_right = g.out_rect(i, j), g.out_rect(i + rows - 1, j + cols - 1)
            block = QRectF(top_left.topLeft(), bottom_right.bottomRight())
            painter.fillRect(block, cover)
            painter.drawRect(block)
            for k in range(1, rows):
                y = top_left.top() + k * g.cell
                painter.drawLine(QPointF(block.left(), y), QPointF(block.right(), y))
            for k in range(1, cols):
                x = top_left.left() + k * g.cell
                painter.drawLine(QPointF(x, block.top()), QPointF(x, block.bottom()))
        current = self.model.cell
        if current is not None and g.shows_output(*current):
            fill = QColor(style.colour("WINDOW"))
            fill.setAlpha(90)
            rect = g.out_rect(*current)
            painter.fillRect(rect, base)  # the plain label goes: one label, in bold
            painter.fillRect(rect, fill)
            painter.setPen(QPen(QColor(style.colour("WINDOW")), style.line_width(3)))
            painter.drawRect(rect.adjusted(1.5, 1.5, -1.5, -1.5))
            chars = self._output_chars(shown, g)
            bold = self._label_font(g.cell, chars + 1, bold=True) or self._label_font(g.cell, chars)
            if bold is not None:
                painter.setFont(bold)
                painter.setPen(QColor(style.colour("LABEL_TEXT")))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                                 "?" if self.model.answer_hidden else cell_text(float(shown.values()[current])))
        pen = QPen(QColor(style.colour("PREVIEW")), style.line_width(2.5))
        painter.setPen(pen)
        if self._hover is not None and self._hover[0] == "in":
            for cell in shown.readers(self._hover[1], self._hover[2]):
                if g.shows_output(*cell):
                    painter.drawRect(g.out_rect(*cell).adjusted(3, 3, -3, -3))
        if self._hover is not None and self._hover[0] == "out":
            painter.drawRect(g.out_rect(self._hover[1], self._hover[2]).adjusted(1, 1, -1, -1))

    def _paint_headings(self, painter: QPainter, shown: ShownPooling, g: Geometry) -> None:
        painter.setFont(self._heading_font())
        painter.setPen(QColor(style.colour("DIAGRAM_HEADING")))
        _, h, w = shown.input.shape
        oh, ow = shown.out_hw
        channel = f", channel {shown.channel}" if shown.input.shape[0] > 1 else ""  # from 0, as the feature maps
        part = ": the top-left part" if g.cropped else ""
        in_left = g.in_origin.x()
        in_top = g.in_origin.y() - g.band - g.heading_px
        in_width = (g.cols[1] - g.cols[0]) * g.cell
        painter.drawText(QRectF(in_left - g.band, in_top, max(in_width + g.band, 10), g.heading_px),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"input {h}×{w}{channel}{part}")
        out_top = g.out_origin.y() - g.band - g.heading_px if g.horizontal else g.out_origin.y() - g.heading_px
        painter.drawText(QRectF(g.out_origin.x(), out_top, max(ow * g.cell, 10) + 80, g.heading_px),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"output {oh}×{ow}{part}")
        if g.horizontal:
            y = g.in_origin.y() + min((g.rows[1] - g.rows[0]), g.out_hw[0]) * g.cell / 2
            x0 = g.in_origin.x() + in_width + g.cell * 0.25
            x1 = g.out_origin.x() - g.cell * 0.25
            if x1 - x0 > 8:
                pen = QPen(QColor(style.colour("DIAGRAM_HEADING")), style.line_width(1.5))
                painter.setPen(pen)
                painter.drawLine(QPointF(x0, y), QPointF(x1, y))
                head = min(8.0, (x1 - x0) / 3)
                painter.drawLine(QPointF(x1, y), QPointF(x1 - head, y - head / 1.6))
                painter.drawLine(QPointF(x1, y), QPointF(x1 - head, y + head / 1.6))

    def _paint_note(self, painter: QPainter, g: Geometry) -> None:
        cell = self.model.cell
        if g.cropped and cell is not None and not g.shows_output(*cell):
            painter.setFont(self._heading_font())
            painter.setPen(QColor(style.colour("MUTED")))
            below = g.out_origin.y() + g.out_hw[0] * g.cell + 4
            painter.drawText(QRectF(g.out_origin.x(), below, max(self.width() - g.out_origin.x() - 4, 40),
                                    max(self.height() - below, g.heading_px)),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                             f"output ({cell[0]}, {cell[1]})'s window is past the part drawn: click a cell "
                             "here to come back")

    # -- the mouse and the keys -----------------------------------------------------------------
    def _hit(self, pos: QPointF) -> tuple[str, int, int] | None:
        g = self.geometry_now()
        if g is None:
            return None
        cell = g.output_at(pos)
        if cell is not None:
            return ("out", *cell)
        cell = g.input_at(pos)
        shown = self.model.shown
        if cell is not None and 0 <= cell[0] < shown.input.shape[1] and 0 <= cell[1] < shown.input.shape[2]:
            return ("in", *cell)
        return None

    def describe(self, hit: tuple[str, int, int] | None) -> str:
        shown = self.model.shown
        if hit is None or shown is None:
            return ""
        kind, r, c = hit
        if kind == "out":
            if self.model.answer_hidden:
                return f"output ({r}, {c}) = ?: the lesson's Reveal (Ctrl+R) shows it"
            value = float(shown.values()[r, c])
            return f"output ({r}, {c}) = {cell_text(value)}: click to see its window"
        value = float(shown.plane[r, c])
        readers = shown.readers(r, c)
        if not readers:
            return f"input ({r}, {c}) = {cell_text(value)} is read by no window"
        names = ", ".join(f"({i}, {j})" for i, j in readers[:6]) + (" …" if len(readers) > 6 else "")
        return f"input ({r}, {c}) = {cell_text(value)} is read by output{'s' if len(readers) > 1 else ''} {names}"

    def set_hover(self, hit: tuple[str, int, int] | None) -> None:
        if hit != self._hover:
            self._hover = hit
            self.update()
            self.hover_text.emit(self.describe(hit))

    def mouseMoveEvent(self, event) -> None:
        self.set_hover(self._hit(event.position()))
        super().mouseMoveEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:  # the cell under the mouse, else what the view is
            text = self.describe(self._hit(QPointF(event.pos()))) or self.toolTip()
            QToolTip.showText(event.globalPos(), text, self)
            return True
        return super().event(event)

    def leaveEvent(self, event) -> None:
        self.set_hover(None)
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        hit = self._hit(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.click(hit)
        super().mousePressEvent(event)

    def click(self, hit: tuple[str, int, int]) -> None:
        kind, r, c = hit
        if kind == "out":
            self.model.set_cell(r, c)
        else:
            readers = self.model.shown.readers(r, c)
            if readers:
                self.model.set_cell(*readers[0])

    def keyPressEvent(self, event) -> None:
        key = event.key()
        shown = self.model.shown
        row = shown.out_hw[1] if shown is not None else 1
        if key == Qt.Key.Key_Right:
            self.model.step(1)
        elif key == Qt.Key.Key_Left:
            self.model.step(-1)
        elif key == Qt.Key.Key_Down:
            self.model.step(row)
        elif key == Qt.Key.Key_Up:
            self.model.step(-row)
        elif key == Qt.Key.Key_Home:
            self.model.first()
        elif key == Qt.Key.Key_End:
            self.model.last()
        elif key == Qt.Key.Key_Space:
            self.model.set_playing(not self.model.playing)
        else:
            super().keyPressEvent(event)
            return
        event.accept()
