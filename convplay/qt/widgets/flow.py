"""A layout that sets widgets in a line and wraps them onto the next when the width runs
out, as words in a paragraph (Qt's flow layout example): a row of tools that fits a
narrow dock on two lines and a wide one on one.  It answers ``heightForWidth``.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QLayoutItem, QWidget

from convplay.qt.widgets.item_layout import ItemListLayout


class FlowLayout(ItemListLayout):
    """Items left to right at their size hints, wrapped; ``gap`` pixels between them."""

    def __init__(self, parent: QWidget | None = None, *, gap: int = 6, line_gap: int = 4):
        super().__init__(parent)
        self.gap = gap
        self.line_gap = line_gap
        self.setContentsMargins(0, 0, 0, 0)

    def minimumSize(self) -> QSize:
        """The widest single item: anything wider wraps."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size.grownBy(margins)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        items = self._visible()
        width = sum(item.sizeHint().width() for item in items) + self.gap * max(len(items) - 1, 0)
        height = max((item.sizeHint().height() for item in items), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def lines(self, width: int) -> int:
        """How many lines the items take at ``width`` (for tests and the panel)."""
        return len(self._lines(width - self.contentsMargins().left() - self.contentsMargins().right()))

    def _lines(self, width: int) -> list[list[QLayoutItem]]:
        lines: list[list[QLayoutItem]] = [[]]
        x = 0
        for item in self._visible():
            w = item.sizeHint().width()
            if lines[-1] and x + w > width:
                lines.append([])
                x = 0
            lines[-1].append(item)
            x += w + self.gap
        return [line for line in lines if line]

    def _place(self, rect: QRect, apply: bool) -> int:
        margins = self.contentsMargins()
        inner = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        y = inner.y()
        for n, line in enumerate(self._lines(inner.width())):
            if n:
                y += self.line_gap
            height = max(item.sizeHint().height() for item in line)
            x = inner.x()
            for item in line:
                hint = item.sizeHint()
                width = min(hint.width(), inner.width())
                if apply:  # centred on the line's height, as a row of buttons and boxes is
                    top = y + (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(x, top), QSize(width, hint.height())))
                x += width + self.gap
            y += height
        return y - inner.y() + margins.top() + margins.bottom()


class FlowRow(QWidget):
    """A row of widgets that wraps (a ``FlowLayout``), as tall as its lines at the width it
    is given, without telling its parent layout about height-for-width: a panel that holds
    it keeps its own minimum height (in a scroll area, height-for-width would become the
    panel's height, every view in it at its preferred size)."""

    def __init__(self, *widgets: QWidget, parent: QWidget | None = None, gap: int = 6):
        super().__init__(parent)
        self.flow = FlowLayout(self, gap=gap)
        for widget in widgets:
            self.flow.addWidget(widget)
        self._lines = 0

    def hasHeightForWidth(self) -> bool:
        return False

    def _height(self) -> int:
        width = self.width() if self.width() > 0 else self.flow.sizeHint().width()
        return self.flow.heightForWidth(width)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.flow.minimumSize().width(), self._height())

    def sizeHint(self) -> QSize:
        return QSize(self.flow.sizeHint().width(), self._height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        lines = self.flow.lines(self.width())
        if lines != self._lines:  # taller or shorter now: the parent lays out again
            self._lines = lines
            self.updateGeometry()
