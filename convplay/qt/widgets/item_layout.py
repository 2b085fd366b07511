"""What a hand-made QLayout needs before it places anything: its list of items, and a
height for a width measured by the same pass that places them (``_place(rect, apply)``)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class ItemListLayout(QLayout):
    """Subclasses write ``_place(rect, apply) -> height used`` and their size hints."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, apply=True)

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _place(self, rect: QRect, apply: bool) -> int:
        raise NotImplementedError
