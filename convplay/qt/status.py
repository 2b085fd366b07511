"""The status bar's PyTorch line: a view of ``Results`` (last call, computing…, stale)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from convplay.core.formatting import format_seconds
from convplay.core.results import Results

BUSY_NOTE_DELAY_MS = 150  # a PyTorch call still running after this is shown as "computing…"
WIDEST_USUAL_TEXT = "PyTorch 99.9 ms on CPU"


class ComputeStatus(QLabel):
    """"PyTorch 1.23 ms on CPU", "computing…" for a call that takes a while, or the stale note.

    The label has a fixed size, grown only when a longer text needs the room: a label that
    changes size lays the whole window out again (0.5 ms here) on every result.  A new font
    (View > Zoom) sizes it again.
    """

    def __init__(self, results: Results, parent: QWidget | None = None):
        super().__init__(parent)
        self.results = results
        self.setToolTip("The last PyTorch call")
        self.setFixedHeight(self.sizeHint().height())
        self._busy_note = QTimer(self)
        self._busy_note.setSingleShot(True)
        self._busy_note.setInterval(BUSY_NOTE_DELAY_MS)
        self._busy_note.timeout.connect(self._show_busy_note)
        self.show_text("")
        results.outcome_changed.connect(self._on_outcome)
        results.stale_changed.connect(self._on_stale)
        results.busy_changed.connect(self._on_busy)
        self.destroyed.connect(lambda: _disconnect(results, self._on_outcome, self._on_stale, self._on_busy))

    def show_text(self, text: str) -> None:
        self.setText(text)
        needed = self._width_for(text)
        if needed > self.minimumWidth():
            self.setFixedWidth(needed)

    def _width_for(self, text: str) -> int:
        return self.fontMetrics().horizontalAdvance(text or WIDEST_USUAL_TEXT) + 12

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            # Smaller text may shrink it too: the widest of the usual text and this one.
            self.setFixedHeight(self.fontMetrics().height() + 2 * self.margin() + 2)
            self.setFixedWidth(max(self._width_for(self.text()), self._width_for("")))

    def _on_outcome(self, outcome) -> None:
        self.show_text(f"PyTorch {format_seconds(outcome.elapsed_s)} on {outcome.device_name}")
        if self.results.busy:
            self._busy_note.start()  # the next job: its own delay before the note

    def _on_stale(self, reason: str) -> None:
        if reason:
            self.show_text("settings invalid: output is stale" if self.results.request is None else "PyTorch failed: output is stale")

    def _on_busy(self, busy: bool) -> None:
        # Said only for a job that takes a while: most results come within a frame, and a
        # note shown and replaced at once is a repaint per edit while PyTorch runs.
        if busy:
            self._busy_note.start()
        else:
            self._busy_note.stop()

    def _show_busy_note(self) -> None:
        if self.results.busy:
            self.show_text("computing\u2026")


def _disconnect(results: Results, outcome, stale, busy) -> None:
    for signal, slot in ((results.outcome_changed, outcome), (results.stale_changed, stale), (results.busy_changed, busy)):
        try:
            signal.disconnect(slot)
        except (ValueError, RuntimeError):
            pass
