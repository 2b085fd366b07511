"""Paste PyTorch model code: an nn.Sequential, a module class or the text print(model) writes.

The text is only ever handed to ``core.stack_parse.parse_stack`` (Python's ast, nothing
run).  It is read again a moment after each change; the reason it is refused is shown
with its line, which is marked in the editor, and OK stays off until it reads.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
)

from convplay.core.layers import LayerError, Stack
from convplay.core.stack_parse import StackParseError, looks_like, parse_stack
from convplay.qt import style
from convplay.qt.theme import set_sheet
from convplay.qt.widgets.stack_table import code_font

PARSE_DELAY_MS = 150
HINT = ("Paste an nn.Sequential(...), a module class (its __init__ with self.name = nn.X(...) lines, "
        "and its forward), or the text print(model) writes. It is read, never run: only nn layers "
        "with literal arguments and simple arithmetic such as 32 * 12 * 12.")
SEEN = {
    "sequential": "This looks like an nn.Sequential.",
    "module": "This looks like a module class: its forward gives the order.",
    "printed": "This looks like the text print(model) writes: the order is the one __init__ registered.",
}


class StackCodeDialog(QDialog):
    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Paste model code")
        self.setToolTip("")
        self._stack: Stack | None = None
        self._error_line: int | None = None
        layout = QVBoxLayout(self)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setToolTip("What the editor reads: three forms of PyTorch model code")
        layout.addWidget(self.hint)
        self.editor = QPlainTextEdit()
        self.editor.setFont(code_font())
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setPlaceholderText("nn.Sequential(\n    nn.Conv2d(1, 8, 3, padding=1),\n    nn.ReLU(),\n    ...\n)")
        self.editor.setToolTip("The model's code; nothing in it is run")
        self.editor.setTabChangesFocus(True)
        layout.addWidget(self.editor, 1)
        self.seen = QLabel("")
        set_sheet(self.seen, style.MUTED_TEXT_STYLE)
        self.seen.setToolTip("What the text seems to be, before it is read")
        layout.addWidget(self.seen)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setToolTip("Whether the text reads as a stack, and if not, the line and the reason")
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this stack")
        self.ok_button.setToolTip("Replace the layer stack with the layers read from the text")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Keep the stack as it is")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PARSE_DELAY_MS)
        self._timer.timeout.connect(self.read_text)
        self.editor.textChanged.connect(self._timer.start)
        self.resize(640, 480)
        self.editor.setPlainText(text)
        self.read_text()

    @property
    def stack(self) -> Stack | None:
        """The stack the text reads as, None while it does not."""
        return self._stack

    @property
    def error_line(self) -> int | None:
        return self._error_line

    def accept(self) -> None:
        self.read_text()  # what is in the editor now, not what it held a moment ago
        if self._stack is not None:
            super().accept()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        self.read_text()

    def read_text(self) -> None:
        self._timer.stop()
        text = self.editor.toPlainText()
        self._stack, self._error_line = None, None
        self.seen.setText(SEEN.get(looks_like(text), ""))
        if not text.strip():
            self._show("", ok=None)
            self.ok_button.setEnabled(False)
            return
        try:
            stack = parse_stack(text)
        except StackParseError as exc:
            self._error_line = exc.line
            self._show(f"✗ {exc}", ok=False)
        except (LayerError, ValueError, RecursionError, MemoryError) as exc:  # a parser's slip is still a refusal
            self._show(f"✗ {exc}", ok=False)
        else:
            if not stack.layers:
                self._show("✗ there are no layers in this text", ok=False)
            else:
                self._stack = stack
                names = ", ".join(layer.label for layer in stack.layers[:8])
                more = ", …" if len(stack.layers) > 8 else ""
                n = len(stack.layers)
                self._show(f"✓ {n} layer{'s' if n != 1 else ''}: {names}{more}", ok=True)
        self.ok_button.setEnabled(self._stack is not None)
        self._mark_line(self._error_line)

    def _show(self, text: str, ok: bool | None) -> None:
        self.status.setText(text)
        if ok is None:
            set_sheet(self.status, "")
        else:
            set_sheet(self.status, style.OK_TEXT_STYLE if ok else style.FAILED_TEXT_STYLE)

    def _mark_line(self, line: int | None) -> None:
        if line is None or not 1 <= line <= self.editor.blockCount():
            self.editor.setExtraSelections([])
            return
        selection = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(style.ERROR_BACKGROUND))
        fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
        selection.format = fmt
        cursor = QTextCursor(self.editor.document().findBlockByNumber(line - 1))
        cursor.clearSelection()
        selection.cursor = cursor
        self.editor.setExtraSelections([selection])
