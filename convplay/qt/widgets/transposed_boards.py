"""Small grids of numbered cells drawn side by side (or stacked): the pictures of the
transposed convolution's four views.

A ``Board`` says what one grid holds (texts, fills, outlined cells, outlined blocks); a
``BoardPicture`` lays its boards out at the largest cell size that fits and reports a
click as (board, row, column) in the board's own coordinates (its crop origin added).
Painting is QPainter only: these grids hold at most a few hundred cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from convplay.qt import style

GAP_PX = 18  # between boards: room for the joining word ("→", "·")
TITLE_PX = 15  # at 100 % text; the title row grows with the text zoom (_title_px)
MIN_CELL_PX = 3
MAX_CELL_PX = 40
TEXT_FROM_PX = 12  # cells smaller than this show colour only


@dataclass
class Board:
    title: str
    rows: int
    cols: int
    texts: list[list[str]] | None = None
    fills: list[list[str]] | None = None  # colour names ("" for the background)
    outlines: list[tuple[int, int, str, float]] = field(default_factory=list)  # (r, c, colour, width)
    blocks: list[tuple[int, int, int, int, str]] = field(default_factory=list)  # (r0, c0, r1, c1, colour), inclusive
    origin: tuple[int, int] = (0, 0)  # the crop's first row and column
    row_labels: list[str] | None = None
    clickable: bool = False
    muted_texts: set[tuple[int, int]] = field(default_factory=set)


def value_fill(value: float, scale: float) -> str:
    """A cell's tint: red for positive, blue for negative, paler towards 0."""
    if scale <= 0 or value != value:
        return ""
    t = min(abs(value) / scale, 1.0)
    tint = QColor(style.colour("POSITIVE_TINT") if value > 0 else style.colour("NEGATIVE_TINT"))
    white = QColor(style.colour("CELL_BACKGROUND"))
    mixed = QColor(round(white.red() + (tint.red() - white.red()) * t),
                   round(white.green() + (tint.green() - white.green()) * t),
                   round(white.blue() + (tint.blue() - white.blue()) * t))
    return mixed.name()


class BoardPicture(QWidget):
    """Boards in a row (``vertical=False``) or a column, with a joining word between them."""

    cell_clicked = Signal(int, int, int)  # board index, row, column (crop origin added)
    resized = Signal()  # a view that crops to the room it gets redraws its boards

    def __init__(self, parent: QWidget | None = None, vertical: bool = False):
        super().__init__(parent)
        self.vertical = vertical
        self.boards: list[Board] = []
        self.joins: list[str] = []
        self._placed: list[tuple[Board, float, float, float]] = []  # board, x, y, cell
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 60)

    def sizeHint(self) -> QSize:
        return QSize(220, 140)

    def set_boards(self, boards: list[Board], joins: list[str] | None = None) -> None:
        self.boards = boards
        self.joins = list(joins or [])
        self.update()

    def cell_px(self) -> float:
        """The cell size the boards get in the current widget size."""
        if not self.boards:
            return 0.0
        title = self._title_px()
        labels = max((self._label_px(b) for b in self.boards), default=0)
        gaps = GAP_PX * (len(self.boards) - 1)
        if self.vertical:
            width_cells = max(b.cols for b in self.boards)
            height_cells = sum(b.rows for b in self.boards)
            across = (self.width() - 4 - labels) / max(width_cells, 1)
            down = (self.height() - 4 - gaps - title * len(self.boards)) / max(height_cells, 1)
        else:
            across = (self.width() - 4 - gaps - sum(self._label_px(b) for b in self.boards)) / max(
                sum(b.cols for b in self.boards), 1)
            down = (self.height() - 4 - title) / max(max(b.rows for b in self.boards), 1)
        return max(MIN_CELL_PX, min(MAX_CELL_PX, across, down))

    def _title_px(self) -> int:
        return max(TITLE_PX, QFontMetrics(self.font()).height() + 1)

    def _label_px(self, board: Board) -> int:
        if not board.row_labels:
            return 0
        return 8 + max(QFontMetrics(self.font()).horizontalAdvance(t) for t in board.row_labels)

    def _layout(self) -> None:
        cell = self.cell_px()
        title = self._title_px()
        self._placed = []
        if self.vertical:
            widest = max((b.cols * cell + self._label_px(b) for b in self.boards), default=0)
            total = sum(b.rows * cell + title for b in self.boards) + GAP_PX * (len(self.boards) - 1)
            y = max((self.height() - total) / 2, 2)
            x0 = max((self.width() - widest) / 2, 2)
            for board in self.boards:
                self._placed.append((board, x0 + self._label_px(board), y + title, cell))
                y += board.rows * cell + title + GAP_PX
            return
        total = sum(b.cols * cell + self._label_px(b) for b in self.boards) + GAP_PX * (len(self.boards) - 1)
        x = max((self.width() - total) / 2, 2)
        tallest = max((b.rows for b in self.boards), default=0) * cell
        top = max((self.height() - tallest - title) / 2, 2) + title
        for board in self.boards:
            x += self._label_px(board)
            self._placed.append((board, x, top + (tallest - board.rows * cell) / 2, cell))
            x += board.cols * cell + GAP_PX

    def paintEvent(self, _event) -> None:
        self._layout()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text_colour = QColor(style.colour("LABEL_TEXT"))
        muted = QColor(style.colour("MUTED"))
        grid = QPen(QColor(style.colour("GRID_LINE")))
        grid.setWidthF(style.line_width(1.0))
        base_font = QFont(self.font())
        title_px = self._title_px()
        for index, (board, x, y, cell) in enumerate(self._placed):
            w, h = board.cols * cell, board.rows * cell
            painter.setFont(base_font)
            painter.setPen(text_colour)
            # A title may reach half a gap past either side of its board, no further (elided).
            room = w + GAP_PX - 2 + (self._label_px(board) if board.row_labels else 0)
            title = QFontMetrics(base_font).elidedText(board.title, Qt.TextElideMode.ElideRight, int(room))
            painter.drawText(QRectF(x + w / 2 - room / 2, y - title_px, room, title_px - 1),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, title)
            if board.row_labels:
                for r, label in enumerate(board.row_labels):
                    painter.drawText(QRectF(x - self._label_px(board), y + r * cell, self._label_px(board) - 4, cell),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
            painter.fillRect(QRectF(x, y, w, h), QColor(style.colour("CELL_BACKGROUND")))
            if board.fills:
                for r in range(board.rows):
                    for c in range(board.cols):
                        fill = board.fills[r][c]
                        if fill:
                            painter.fillRect(QRectF(x + c * cell, y + r * cell, cell, cell), QColor(fill))
            painter.setPen(grid)
            for r in range(board.rows + 1):
                painter.drawLine(x, y + r * cell, x + w, y + r * cell)
            for c in range(board.cols + 1):
                painter.drawLine(x + c * cell, y, x + c * cell, y + h)
            for r0, c0, r1, c1, colour in board.blocks:
                pen = QPen(QColor(colour))
                pen.setWidthF(style.line_width(2.0))
                pen.setStyle(Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawRect(QRectF(x + c0 * cell + 2, y + r0 * cell + 2,
                                        (c1 - c0 + 1) * cell - 4, (r1 - r0 + 1) * cell - 4))
            for r, c, colour, width in board.outlines:
                pen = QPen(QColor(colour))
                line = style.line_width(width)  # high contrast's wider line stays inside its cell too
                pen.setWidthF(line)
                painter.setPen(pen)
                inset = line / 2
                painter.drawRect(QRectF(x + c * cell + inset, y + r * cell + inset, cell - line, cell - line))
            # The numbers last: an outline marks its cell without hiding the value.
            if board.texts and cell >= TEXT_FROM_PX:
                font = QFont(base_font)
                font.setPixelSize(max(min(int(cell * 0.42), 15), 8))
                painter.setFont(font)
                for r in range(board.rows):
                    for c in range(board.cols):
                        text = board.texts[r][c]
                        if text:
                            painter.setPen(muted if (r, c) in board.muted_texts else text_colour)
                            painter.drawText(QRectF(x + c * cell, y + r * cell, cell, cell),
                                             Qt.AlignmentFlag.AlignCenter, text)
            if index < len(self.joins) and self.joins[index]:
                painter.setFont(base_font)
                painter.setPen(text_colour)
                if self.vertical:
                    painter.drawText(QRectF(x, y + h, w, GAP_PX), Qt.AlignmentFlag.AlignCenter, self.joins[index])
                else:
                    painter.drawText(QRectF(x + w, y, GAP_PX, h), Qt.AlignmentFlag.AlignCenter, self.joins[index])
        painter.end()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def cell_at(self, px: float, py: float) -> tuple[int, int, int] | None:
        """(board, row, column) under a point, the crop origin added; None off every board."""
        self._layout()
        for index, (board, x, y, cell) in enumerate(self._placed):
            c, r = int((px - x) // cell), int((py - y) // cell)
            if px >= x and py >= y and 0 <= r < board.rows and 0 <= c < board.cols:
                return index, r + board.origin[0], c + board.origin[1]
        return None

    def centre_of(self, board_index: int, r: int, c: int):
        """The widget point at the centre of a board's cell (crop origin subtracted); for tests."""
        self._layout()
        board, x, y, cell = self._placed[board_index]
        return QPoint(int(x + (c - board.origin[1] + 0.5) * cell), int(y + (r - board.origin[0] + 0.5) * cell))

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position().x(), event.position().y())
        if hit is not None and self.boards[hit[0]].clickable:
            self.cell_clicked.emit(*hit)
            event.accept()
            return
        super().mousePressEvent(event)
