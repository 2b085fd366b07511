"""A row of matrices drawn as grids, with operators between them: ``C · x + b = y``.

Each ``MatrixBlock`` is one matrix: its values, which entries exist (a sparse matrix's
structure: an entry that is absent is drawn blank, one that exists is coloured by its
value on the diverging map even where it is 0), optional symbols to write instead of the
numbers, labels, channel boundaries and the highlighted rows, columns and cells.  Only
the cells inside the exposed rectangle are painted, so a 512 × 192 matrix costs what a
screenful does.  Numbers and labels are written only where a cell is large enough to
read them.

The cell size fits the widget's parent viewport (``set_fit_size``) times a zoom factor;
the widget's own size follows, so a scroll area around it scrolls when zoomed in.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from convplay.qt import style
from convplay.qt.widgets.lookup import lookup_table

MIN_CELL = 3.0  # px: below this a matrix is a smear; the grid grows and scrolls instead
MAX_CELL = 44.0
LEGIBLE_CELL = 18.0  # px: from this size a cell holds its number
LABEL_CELL = 13.0  # px: from this size the rows and columns are labelled
BLOCK_GAP_CELLS = 1.6  # the gap holding an operator, in cells (at least OPERATOR_MIN_GAP px)
OPERATOR_MIN_GAP = 18.0
MARGIN = 4.0
SUBSCRIPT = "|"  # "w|0,1" draws w with the subscript 0,1


@dataclass
class MatrixBlock:
    """One matrix of the row."""

    values: np.ndarray  # (rows, cols) float
    name: str = ""  # drawn above the block
    present: np.ndarray | None = None  # (rows, cols) bool: the entries that exist; None: all
    symbols: np.ndarray | None = None  # (rows, cols) object str, written instead of the numbers
    row_labels: list[str] | None = None  # drawn left of the block (the first block only)
    col_labels: list[str] | None = None  # drawn above the block, turned
    row_bounds: tuple[int, ...] = ()  # a line before these rows (channel boundaries)
    col_bounds: tuple[int, ...] = ()
    rows_lit: frozenset = field(default_factory=frozenset)  # highlighted whole rows
    cols_lit: frozenset = field(default_factory=frozenset)
    cells_lit: frozenset = field(default_factory=frozenset)  # (r, c) outlined
    scale: float | None = None  # |value| at the map's ends; None: the block's largest
    min_width: float = 0.0  # px: a vector's cells stay this wide when a large matrix's are narrow

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.values.shape[0]), int(self.values.shape[1])


def number_text(value: float) -> str:
    """A cell's number, short: 3, -0.5, 0.333, 1.2e+03."""
    if not np.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e5:
        return str(int(value))
    text = f"{value:.3g}"
    return text.replace("e+0", "e").replace("e-0", "e-")


class MatrixGrid(QWidget):
    """Draws ``blocks`` side by side with ``operators`` between them."""

    clicked = Signal(int, int, int)  # block, row, column

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.blocks: list[MatrixBlock] = []
        self.operators: list[str] = []
        self.zoom = 1.0
        self._fit = QSize(600, 400)
        self._table = lookup_table(style.DIVERGING)
        self.cell = 20.0
        self._origins: list[QPointF] = []
        self._images: list[QImage] = []
        self._label_cache = None  # ((first block, count, font), row label width, column label height)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(False)

    # -- model ------------------------------------------------------------------------
    def set_blocks(self, blocks: list[MatrixBlock], operators: list[str]) -> None:
        self.blocks = list(blocks)
        self._label_cache = None
        self.operators = list(operators) + [""] * max(0, len(blocks) - 1 - len(operators))
        self._relayout()

    def set_fit_size(self, size: QSize) -> None:
        """The room the grid fits into at zoom 1 (a scroll area's viewport)."""
        if size != self._fit:
            self._fit = QSize(size)
            self._relayout()

    def set_zoom(self, zoom: float) -> None:
        self.zoom = float(min(max(zoom, 0.25), 16.0))
        self._relayout()

    def refresh_style(self) -> None:
        self._relayout()

    # -- geometry ---------------------------------------------------------------------
    def _small_font(self) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF()
        if size > 0:
            font.setPointSizeF(max(5.0, size * 0.85))
        return font

    def _label_room(self) -> tuple[float, float]:
        """(width of the row labels, height of the column labels) at the current cell size."""
        if not self.blocks or self.cell < LABEL_CELL:
            return 0.0, 0.0
        key = (id(self.blocks[0]), len(self.blocks), self._small_font().toString())
        if self._label_cache is None or self._label_cache[0] != key:
            metrics = QFontMetricsF(self._small_font())
            width = max((metrics.horizontalAdvance(t) for t in self.blocks[0].row_labels or []), default=0.0)
            height = max((metrics.horizontalAdvance(t) for b in self.blocks for t in b.col_labels or []), default=0.0)
            self._label_cache = (key, (width + 6 if width else 0.0), (height + 6 if height else 0.0))
        return self._label_cache[1], self._label_cache[2]

    def _header_height(self) -> float:
        return QFontMetricsF(self.font()).height() + 4

    def _layout_for(self, cell: float) -> tuple[float, float]:
        """(width, height) of the whole drawing at ``cell`` px a cell."""
        self.cell = cell
        label_w, label_h = self._label_room()
        gap = self._gap(cell)
        width = 2 * MARGIN + label_w + sum(b.shape[1] * self.col_width(b) for b in self.blocks) \
            + gap * max(len(self.blocks) - 1, 0)
        height = 2 * MARGIN + self._header_height() + label_h + max((b.shape[0] for b in self.blocks), default=0) * cell
        return width, height

    def _fitting_cell(self) -> float:
        """The largest cell size at which everything fits the fit size (labels, gaps and
        the vectors' minimum widths depend on it, so it is searched for)."""
        if not self.blocks:
            return LEGIBLE_CELL
        low, high = MIN_CELL, MAX_CELL
        if self._fits(high):
            return high
        for _ in range(12):
            middle = (low + high) / 2
            low, high = (middle, high) if self._fits(middle) else (low, middle)
        return low

    def _fits(self, cell: float) -> bool:
        width, height = self._layout_for(cell)
        return width <= self._fit.width() and height <= self._fit.height()

    def _relayout(self) -> None:
        cell = float(min(max(self._fitting_cell() * self.zoom, MIN_CELL), MAX_CELL * 4))
        width, height = self._layout_for(cell)
        label_w, label_h = self._label_room()
        x = MARGIN + label_w
        top = MARGIN + self._header_height() + label_h
        gap = self._gap(cell)
        self._origins = []
        for block in self.blocks:
            self._origins.append(QPointF(x, top))
            x += block.shape[1] * self.col_width(block) + gap
        self._images = [self._block_image(block) for block in self.blocks]
        # Nothing to draw takes no room (not an empty frame in the corner).
        self._size = QSize(int(np.ceil(width)), int(np.ceil(height))) if self.blocks else QSize(0, 0)
        self.setFixedSize(self._size)
        self.update()

    def col_width(self, block: MatrixBlock) -> float:
        return max(self.cell, block.min_width)

    def _block_scale(self, block: MatrixBlock) -> float:
        if block.scale is not None:
            return block.scale
        finite = np.abs(block.values[np.isfinite(block.values)])
        return float(finite.max()) if finite.size else 0.0

    def _block_image(self, block: MatrixBlock) -> QImage:
        """The block's colours, one pixel a cell: drawn scaled, a large matrix paints in one call."""
        values = np.asarray(block.values, dtype=np.float64)
        scale = self._block_scale(block)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.full(values.shape, 0.5) if scale <= 0 else 0.5 + 0.5 * np.clip(values / scale, -1.0, 1.0)
        index = np.rint(np.nan_to_num(t, nan=0.5) * (len(self._table) - 1)).astype(np.intp)
        rgba = self._table[index].astype(np.uint8)
        rgba[..., 3] = 255
        background = QColor(style.colour("CELL_BACKGROUND"))
        if block.present is not None:
            rgba[~block.present] = (background.red(), background.green(), background.blue(), 255)
        rgba[~np.isfinite(values)] = QColor(style.colour("WARNING")).getRgb()
        pixels = np.ascontiguousarray(rgba)
        image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.shape[1] * 4,
                       QImage.Format.Format_RGBA8888).copy()
        return image

    def sizeHint(self) -> QSize:
        return getattr(self, "_size", QSize(200, 100))

    def cell_rect(self, block: int, r: int, c: int) -> QRectF:
        origin, width = self._origins[block], self.col_width(self.blocks[block])
        return QRectF(origin.x() + c * width, origin.y() + r * self.cell, width, self.cell)

    def cell_at(self, pos: QPointF) -> tuple[int, int, int] | None:
        for index, (block, origin) in enumerate(zip(self.blocks, self._origins)):
            rows, cols = block.shape
            c = int((pos.x() - origin.x()) // self.col_width(block))
            r = int((pos.y() - origin.y()) // self.cell)
            if 0 <= r < rows and 0 <= c < cols:
                return index, r, c
        return None

    def legible(self) -> bool:
        return self.cell >= LEGIBLE_CELL

    def cell_tip(self, block_index: int, r: int, c: int) -> str:
        """What a cell holds, in full (rich text): a small cell shows it shrunk or as "…"."""
        block = self.blocks[block_index]
        row = f"{r} {block.row_labels[r]}" if block.row_labels else str(r)
        col = f"{c} {block.col_labels[c]}" if block.col_labels else str(c)
        head = f"<b>{html.escape(block.name)}</b>, row {html.escape(row)}, column {html.escape(col)}"
        if block.present is not None and not block.present[r, c]:
            return f"{head}: 0 (no weight reaches here)"
        value = number_text(float(block.values[r, c]))
        if block.symbols is not None and block.symbols[r, c]:
            terms = [f"{html.escape(a)}<sub>{html.escape(b)}</sub>" if b else html.escape(a)
                     for a, _, b in (t.partition(SUBSCRIPT) for t in str(block.symbols[r, c]).split("+"))]
            return f"{head}: {' + '.join(terms)} = {value}"
        return f"{head}: {value}"

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.cell_at(QPointF(event.pos()))
            if hit is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.cell_tip(*hit), self)
            return True
        return super().event(event)

    # -- input ------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*hit)
        super().mousePressEvent(event)

    # -- painting ---------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        exposed = QRectF(event.rect())
        painter.fillRect(exposed, QColor(style.colour("CELL_BACKGROUND")))
        for index, block in enumerate(self.blocks):
            self._paint_block(painter, index, block, exposed)
        self._paint_operators(painter)
        painter.end()

    def _visible_range(self, index: int, block: MatrixBlock, exposed: QRectF) -> tuple[range, range]:
        origin, cell, width = self._origins[index], self.cell, self.col_width(block)
        rows, cols = block.shape
        r0 = max(0, int((exposed.top() - origin.y()) // cell))
        r1 = min(rows, int((exposed.bottom() - origin.y()) // cell) + 1)
        c0 = max(0, int((exposed.left() - origin.x()) // width))
        c1 = min(cols, int((exposed.right() - origin.x()) // width) + 1)
        return range(r0, max(r0, r1)), range(c0, max(c0, c1))

    def _paint_block(self, painter: QPainter, index: int, block: MatrixBlock, exposed: QRectF) -> None:
        cell, cw = self.cell, self.col_width(block)
        origin = self._origins[index]
        rows, cols = block.shape
        width, height = cols * cw, rows * cell
        row_range, col_range = self._visible_range(index, block, exposed)
        if row_range and col_range:
            # The visible part of the one-pixel-a-cell image, scaled up without smoothing.
            source = QRectF(col_range.start, row_range.start, len(col_range), len(row_range))
            target = QRectF(origin.x() + col_range.start * cw, origin.y() + row_range.start * cell,
                            len(col_range) * cw, len(row_range) * cell)
            painter.drawImage(target, self._images[index], source)
        # Grid lines, light; channel boundaries darker and wider.
        if cell >= 6 and row_range and col_range:
            painter.setPen(QPen(QColor(style.colour("GRID_LINE")), 1))
            left, right = origin.x() + col_range.start * cw, origin.x() + col_range.stop * cw
            top, bottom = origin.y() + row_range.start * cell, origin.y() + row_range.stop * cell
            for r in range(row_range.start, row_range.stop + 1):
                y = origin.y() + r * cell
                painter.drawLine(QPointF(left, y), QPointF(right, y))
            for c in range(col_range.start, col_range.stop + 1):
                x = origin.x() + c * cw
                painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        painter.setPen(QPen(QColor(style.colour("DIAGRAM_TEXT")), style.line_width(1.5)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for r in block.row_bounds:
            y = origin.y() + r * cell
            painter.drawLine(QPointF(origin.x(), y), QPointF(origin.x() + width, y))
        for c in block.col_bounds:
            x = origin.x() + c * cw
            painter.drawLine(QPointF(x, origin.y()), QPointF(x, origin.y() + height))
        painter.drawRect(QRectF(origin.x(), origin.y(), width, height))
        self._paint_highlights(painter, block, origin, width, height)
        # The numbers go over the highlights: a thick outline never hides the value it marks.
        self._paint_texts(painter, index, block, row_range, col_range)
        self._paint_labels(painter, index, block, origin)

    def _paint_texts(self, painter: QPainter, index: int, block: MatrixBlock, row_range: range,
                     col_range: range) -> None:
        if not self.legible():
            return
        cell, cw = self.cell, self.col_width(block)
        origin = self._origins[index]
        font = self._small_font() if cell < 26 else QFont(self.font())
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        light, dark = QColor(style.colour("LIGHT_LABEL_TEXT")), QColor(style.colour("LABEL_TEXT"))
        image = self._images[index]
        for r in row_range:
            for c in col_range:
                if block.present is not None and not block.present[r, c]:
                    continue
                text = self._text(block, r, c)
                if not text:
                    continue
                rect = QRectF(origin.x() + c * cw, origin.y() + r * cell, cw, cell)
                painter.setPen(light if image.pixelColor(c, r).lightnessF() < 0.45 else dark)
                self._draw_text(painter, rect.adjusted(1, 0, -1, 0), text, font, metrics)

    def _paint_highlights(self, painter: QPainter, block: MatrixBlock, origin: QPointF, width: float,
                          height: float) -> None:
        cell, cw = self.cell, self.col_width(block)
        lit = QColor(style.colour("WINDOW"))
        band = QColor(lit)
        band.setAlpha(60)
        for r in block.rows_lit:
            painter.fillRect(QRectF(origin.x(), origin.y() + r * cell, width, cell), band)
        for c in block.cols_lit:
            painter.fillRect(QRectF(origin.x() + c * cw, origin.y(), cw, height), band)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(lit, min(style.line_width(2.0), max(1.0, cell / 5))))
        for r in block.rows_lit:
            painter.drawRect(QRectF(origin.x(), origin.y() + r * cell, width, cell))
        for c in block.cols_lit:
            painter.drawRect(QRectF(origin.x() + c * cw, origin.y(), cw, height))
        # The outline keeps to a sixth of a small cell (high contrast's thicker lines too):
        # the number written over it keeps room.
        pen = min(style.line_width(3.0), max(1.0, min(cell, cw) / 6))
        painter.setPen(QPen(lit, pen))
        inset = pen / 2
        for r, c in block.cells_lit:
            painter.drawRect(QRectF(origin.x() + c * cw + inset, origin.y() + r * cell + inset,
                                    cw - 2 * inset, cell - 2 * inset))

    def _paint_labels(self, painter: QPainter, index: int, block: MatrixBlock, origin: QPointF) -> None:
        cell, cw = self.cell, self.col_width(block)
        header_font = QFont(self.font())
        header_font.setBold(True)
        painter.setFont(header_font)
        painter.setPen(QColor(style.colour("DIAGRAM_TEXT")))
        label_h = self._label_room()[1]
        header_top = origin.y() - label_h - self._header_height()
        width = max(block.shape[1] * cw, 1.0)
        name_rect = QRectF(origin.x() - 40, header_top, width + 80, self._header_height())
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, block.name)
        if cell < LABEL_CELL:
            return
        font = self._small_font()
        painter.setFont(font)
        painter.setPen(QColor(style.colour("DIAGRAM_HEADING")))
        if index == 0 and block.row_labels:
            for r, text in enumerate(block.row_labels):
                rect = QRectF(MARGIN, origin.y() + r * cell, origin.x() - MARGIN - 4, cell)
                painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        if block.col_labels and cw >= LABEL_CELL:
            for c, text in enumerate(block.col_labels):
                painter.save()
                painter.translate(origin.x() + (c + 0.5) * cw, origin.y() - 3)
                painter.rotate(-90)
                painter.drawText(QRectF(0, -cw / 2, label_h, cw),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
                painter.restore()

    def _operator_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(8.0, font.pointSizeF() * 1.4) if font.pointSizeF() > 0 else 12.0)
        return font

    def _gap(self, cell: float) -> float:
        """Room between blocks for an operator at the text zoom, and never less than a cell and a half."""
        widest = max((QFontMetricsF(self._operator_font()).horizontalAdvance(t) for t in self.operators), default=0.0)
        return max(BLOCK_GAP_CELLS * cell, OPERATOR_MIN_GAP, widest + 10)

    def _paint_operators(self, painter: QPainter) -> None:
        painter.setFont(self._operator_font())
        painter.setPen(QColor(style.colour("DIAGRAM_TEXT")))
        for index, text in enumerate(self.operators[: len(self.blocks) - 1]):
            if not text:
                continue
            block, origin = self.blocks[index], self._origins[index]
            right = origin.x() + block.shape[1] * self.col_width(block)
            nxt = self._origins[index + 1].x()
            rows = max(b.shape[0] for b in self.blocks[index:index + 2])
            # Beside the middle of the two blocks, or of the room they show in when taller.
            middle = origin.y() + min(rows * self.cell, max(self._fit.height() - origin.y(), 40.0)) / 2
            painter.drawText(QRectF(right, middle - 20, nxt - right, 40), Qt.AlignmentFlag.AlignCenter, text)

    def _text(self, block: MatrixBlock, r: int, c: int) -> str:
        if block.symbols is not None:
            return str(block.symbols[r, c] or "")
        return number_text(float(block.values[r, c]))

    def _draw_text(self, painter: QPainter, rect: QRectF, text: str, font: QFont, metrics: QFontMetricsF) -> None:
        """``text`` centred in ``rect``, shrunk to fit; ``a|b`` is a with the subscript b,
        and ``a|b+c|d`` two such terms."""
        parts = [p.split(SUBSCRIPT, 1) if SUBSCRIPT in p else [p, ""] for p in _terms(text)]
        sub_font = QFont(font)
        if font.pointSizeF() > 0:
            sub_font.setPointSizeF(max(4.0, font.pointSizeF() * 0.7))
        sub_metrics = QFontMetricsF(sub_font)
        total = sum(metrics.horizontalAdvance(base) + sub_metrics.horizontalAdvance(sub) for base, sub in parts)
        factor = min(1.0, rect.width() / total) if total > 0 else 1.0
        painter.save()
        if factor < 1.0:
            if factor < 0.45:  # too small to read: an ellipsis says there is something
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "…")
                painter.restore()
                return
            painter.translate(rect.center())
            painter.scale(factor, factor)
            painter.translate(-rect.center())
        x = rect.center().x() - total / 2
        baseline = rect.center().y() + (metrics.ascent() - metrics.descent()) / 2
        for base, sub in parts:
            painter.setFont(font)
            painter.drawText(QPointF(x, baseline), base)
            x += metrics.horizontalAdvance(base)
            if sub:
                painter.setFont(sub_font)
                painter.drawText(QPointF(x, baseline + sub_metrics.ascent() * 0.35), sub)
                x += sub_metrics.horizontalAdvance(sub)
        painter.restore()


def _terms(text: str) -> list[str]:
    """``w|0,0+w|0,2`` → ["w|0,0", "+", "w|0,2"]: a sum of symbols keeps its plus signs."""
    if SUBSCRIPT not in text or "+" not in text:
        return [text]
    out: list[str] = []
    for i, term in enumerate(text.split("+")):
        if i:
            out.append("+")
        out.append(term)
    return out
