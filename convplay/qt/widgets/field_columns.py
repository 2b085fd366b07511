"""A layout that sets a form's fields in as many columns as its width holds.

A panel of a dozen fields is a tall column in a narrow dock and a strip of three or four
columns across a wide window: the same fields, read top to bottom and then left to right,
each column as wide as its widest field needs (the rest of the width shared out) and as
tall as its own fields (a field that shows an error grows only its column).  It answers
``heightForWidth``, so a scroll area around it knows how tall it is at the width it has.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QLayoutItem, QWidget

from convplay.qt.widgets.item_layout import ItemListLayout

DEFAULT_MAX_COLUMNS = 4


class FieldColumns(ItemListLayout):
    """Items in columns filled top to bottom, as many columns as fit: each at least
    ``column_width`` and its widest item's minimum.  ``max_columns`` caps the count."""

    def __init__(self, parent: QWidget | None = None, *, column_width: int = 220,
                 max_columns: int = DEFAULT_MAX_COLUMNS, column_gap: int = 12, row_gap: int = 2):
        super().__init__(parent)
        self.column_width = column_width
        self.max_columns = max_columns
        self.column_gap = column_gap
        self.row_gap = row_gap

    # -- sizes (ItemListLayout keeps the items and places them with _place) -------------
    def minimumSize(self) -> QSize:
        """The widest item and the tallest: how tall the fields are depends on the width
        they get, which ``heightForWidth`` answers (a single column's height here would
        hold a wide strip at the height of a narrow one)."""
        items = self._visible()
        margins = self.contentsMargins()
        width = max((self._min_width(item) for item in items), default=0)
        height = max((item.minimumSize().height() for item in items), default=0)
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self._widths(1)[0] + margins.left() + margins.right()
        return QSize(width, self.heightForWidth(width))

    # -- for the panel and its tests ------------------------------------------------------
    def columns_for(self, width: int) -> int:
        """How many columns ``width`` pixels (inside the margins) hold."""
        for columns in range(min(self.max_columns, len(self._visible())), 1, -1):
            if sum(self._widths(columns)) + self.column_gap * (columns - 1) <= width:
                return columns
        return 1

    # -- placing ---------------------------------------------------------------------------
    @staticmethod
    def _min_width(item: QLayoutItem) -> int:
        return item.minimumSize().width()

    def _chunks(self, columns: int) -> list[list[QLayoutItem]]:
        items = self._visible()
        per_column = math.ceil(len(items) / columns)
        return [items[c * per_column:(c + 1) * per_column] for c in range(columns)]

    def _widths(self, columns: int) -> list[int]:
        """The least width of each of ``columns`` columns."""
        return [max([self.column_width, *(self._min_width(item) for item in chunk)]) for chunk in self._chunks(columns)]

    def _place(self, rect: QRect, apply: bool) -> int:
        """Lay the items out in ``rect`` (or only measure); returns the height used."""
        margins = self.contentsMargins()
        inner = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        items = self._visible()
        if not items:
            return margins.top() + margins.bottom()
        columns = self.columns_for(inner.width())
        widths = self._widths(columns)
        # What is left over is shared out equally: the columns keep their own widths' order.
        spare = max(0, inner.width() - sum(widths) - self.column_gap * (columns - 1)) // columns
        tallest = 0
        x = inner.x()
        for chunk, least in zip(self._chunks(columns), widths):
            width = least + spare
            y = inner.y()
            for n, item in enumerate(chunk):
                if n:
                    y += self.row_gap
                height = item.heightForWidth(width) if item.hasHeightForWidth() else item.sizeHint().height()
                height = max(height, item.minimumSize().height())
                if apply:
                    item.setGeometry(QRect(QPoint(x, y), QSize(width, height)))
                y += height
            tallest = max(tallest, y - inner.y())
            x += width + self.column_gap
        return tallest + margins.top() + margins.bottom()
