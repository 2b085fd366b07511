"""Help > Keyboard shortcuts (F1): the window's shortcut table, in as many columns as the
screen is wide enough for, scrolling when it is still taller than the screen.

A message box grows with its text: at 100 % the list already took 704 of a projector's
720 pixels, and at 200 % it ran off the screen with its OK button.
"""

from __future__ import annotations

import html
import math

from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

SCREEN_SHARE = 0.9  # of the screen's free room, at most
MAX_COLUMNS = 3
CELL_SPACING = 6
COLUMN_GAP = 28  # between two (command, keys) columns


def columns_for(rows: list[tuple[str, str]], font: QFont, width: int) -> int:
    """How many (command, keys) columns fit side by side in ``width`` pixels."""
    if not rows:
        return 1
    plain, bold = QFontMetrics(font), QFontMetrics(_bold(font))
    pair = (max(plain.horizontalAdvance(name) for name, _ in rows)
            + max(bold.horizontalAdvance(keys) for _, keys in rows) + 4 * CELL_SPACING + COLUMN_GAP)
    return max(1, min(MAX_COLUMNS, width // max(pair, 1)))


def table_html(rows: list[tuple[str, str]], columns: int) -> str:
    """The rows, top to bottom then left to right, in ``columns`` (command, keys) pairs."""
    per_column = max(1, math.ceil(len(rows) / max(columns, 1)))
    lines = []
    for i in range(per_column):
        cells = []
        for c in range(columns):
            k = c * per_column + i
            gap = f"<td width='{COLUMN_GAP}'></td>" if c else ""
            if k < len(rows):
                name, keys = rows[k]
                cells.append(f"{gap}<td style='white-space: nowrap'>{html.escape(name)}</td>"
                             f"<td style='white-space: nowrap'><b>{html.escape(keys)}</b></td>")
            else:
                cells.append(f"{gap}<td></td><td></td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table cellspacing='{CELL_SPACING}'>{''.join(lines)}</table>"


class ShortcutsDialog(QDialog):
    """The shortcut table of ``rows`` (command, keys) over ``parent``."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = list(rows)
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        room = screen.availableGeometry()
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.columns = columns_for(self.rows, self.font(), int(room.width() * SCREEN_SHARE) - 60)
        self.browser.setHtml(table_html(self.rows, self.columns))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        document = self.browser.document()
        document.setTextWidth(-1)  # its natural width: one line per row
        frame = 2 * self.browser.frameWidth() + 4
        outer = layout.contentsMargins()
        scroll_bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        wanted_w = int(document.idealWidth()) + frame + scroll_bar + outer.left() + outer.right()
        wanted_h = (int(document.size().height()) + frame + buttons.sizeHint().height() + layout.spacing()
                    + outer.top() + outer.bottom())
        self.resize(min(wanted_w, int(room.width() * SCREEN_SHARE)), min(wanted_h, int(room.height() * SCREEN_SHARE)))


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold


def show_shortcuts(parent: QWidget, rows: list[tuple[str, str]]) -> None:
    ShortcutsDialog(rows, parent).exec()
