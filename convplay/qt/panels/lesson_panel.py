"""The lesson panel: the lesson's steps, the current one's words, and its claim checked
against PyTorch.

A view of the ``LessonModel`` (qt/lesson_model.py) and of the ``Results``: the list of
steps (a click goes to one), the step's title, its formula lines large, its caption (the
speaker notes, editable), its "ask the class" question, the panels it hides, and a line
saying whether PyTorch's output has the shape (and the values) the step says.  Every edit
goes to the model, which marks the lesson modified; Lesson > Save lesson as… writes it.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from convplay.core.results import Results
from convplay.qt import style
from convplay.qt.widgets.flow import FlowRow
from convplay.qt.lesson_model import HIDE_LABELS, HIDEABLE, LessonModel, step_hide, step_text
from convplay.qt.zoom import scaled, text_zoom

FORMULA_POINT_SIZE = 13
ASK_DEFAULT = "What will PyTorch give?"
LIST_ROWS = 6  # steps in sight in the list (the rest scroll): the room below is the step's words
TIMES = "\u00d7"
VALUE_TOLERANCE = 1e-4  # relative to the largest value claimed: float32 against the caption's numbers


def _shape_text(shape) -> str:
    return TIMES.join(str(int(n)) for n in shape)


def expect_verdict(shape, values, output: np.ndarray | None, stale: str = "") -> tuple[bool | None, str]:
    """(True, False or None for "cannot say yet", the line to show) for what a step says
    of PyTorch's output (its ``shape`` (C, H, W) and ``values``, (H, W) for channel 0 or
    (C, H, W); either may be None) against PyTorch's ``output`` for the step's settings."""
    if shape is None and values is None:
        return None, ""
    claimed = _shape_text(shape) if shape is not None else ""
    if output is None:
        if stale:
            return False, f"\u2717 PyTorch refuses these settings ({stale.rstrip('.')}); the step says {claimed or 'it runs'}"
        return None, "PyTorch's output: waiting\u2026"
    got = _shape_text(output.shape)
    if shape is not None and tuple(int(n) for n in shape) != tuple(output.shape):
        return False, f"\u2717 PyTorch gives {got}, the step says {claimed}"
    if values is not None:
        wanted = np.asarray(values, dtype=np.float64)
        actual = np.asarray(output, dtype=np.float64)
        if wanted.ndim == 2:
            actual = actual[0]
        if wanted.shape != actual.shape:
            return False, f"\u2717 PyTorch gives {got}; the step's values are {_shape_text(wanted.shape)}"
        scale = max(1.0, float(np.max(np.abs(wanted))) if wanted.size else 1.0)
        bad = np.argwhere(~np.isclose(actual, wanted, rtol=VALUE_TOLERANCE, atol=VALUE_TOLERANCE * scale))
        if len(bad):
            where = tuple(int(i) for i in bad[0])
            return False, (f"\u2717 PyTorch's value at {where} is {actual[where]:.6g}, the step says {wanted[where]:.6g}"
                           + (f" ({len(bad)} cells differ)" if len(bad) > 1 else ""))
        return True, f"PyTorch gives {got} and the step's values \u2713"
    return True, f"PyTorch gives {got}, as the step says \u2713"


def pooling_verdict(step, shape, values) -> tuple[bool | None, str]:
    """A pooling step's claims against its pooling of the step's input (core.pooling, which the
    Pooling panel checks against PyTorch)."""
    from convplay.core.pooling import PoolSpecError, pool_reference

    try:
        output, _ = pool_reference(step.pooling, step.state.snapshot.image)
    except PoolSpecError as exc:
        output, refusal = None, str(exc)
    else:
        refusal = ""
    ok, text = expect_verdict(shape, values, output, refusal)
    code = step.pooling.code()
    return ok, text.replace("PyTorch's", f"{code}'s").replace("PyTorch", code)


FORMULA_FLOOR_POINT_SIZE = 8  # the smallest the formula lines shrink to before they are cut


class FormulaLines(QLabel):
    """The step's formula lines, each on one line whole: an expression broken in two reads
    wrong ("after = 3" / "\u2212 1 = 2"), so the letters shrink to fit the width instead
    (down to a floor), and the label never asks the panel for more width."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._point_size = FORMULA_POINT_SIZE

    def set_point_size(self, size: int) -> None:
        self._point_size = size
        self._fit()

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text or "The step's relationship with its numbers filled in")
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        font = QFont(self.font())
        lines = self.text().split("\n")
        room = self.contentsRect().width() - 2
        size = self._point_size
        while size > FORMULA_FLOOR_POINT_SIZE:
            font.setPointSize(size)
            metrics = QFontMetrics(font)
            if room <= 0 or max(metrics.horizontalAdvance(line) for line in lines) <= room:
                break
            size -= 1
        font.setPointSize(size)
        if font != self.font():
            self.setFont(font)

    def widest_line_fits(self) -> bool:
        metrics = QFontMetrics(self.font())
        return max(metrics.horizontalAdvance(line) for line in self.text().split("\n")) <= self.contentsRect().width()


class LessonPanel(QWidget):
    """The lesson of ``model``, checked against ``results``."""

    def __init__(self, model: LessonModel, results: Results, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.results = results
        self._shown_index = -2
        self.lesson_title = QLineEdit()
        self.lesson_title.setPlaceholderText("The lesson's title")
        self.lesson_title.setToolTip("The lesson's title (saved with it)")
        self.empty = QLabel("No lesson open: Lesson > Open lesson, or Lesson > Add the current state as a step "
                            "to start one.")
        self.empty.setWordWrap(True)
        self.step_list = QListWidget()
        self.step_list.setToolTip("The lesson's steps: click one to go there (PgDown / PgUp in the presenter view)")
        self.step_list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.step_list.setMinimumHeight(60)
        self.previous_button = QPushButton("\u25c0 Previous")
        self.previous_button.setToolTip("The previous step (Ctrl+PgUp)")
        self.next_button = QPushButton("Next \u25b6")
        self.next_button.setToolTip("The next step (Ctrl+PgDown)")
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setToolTip("Show PyTorch's output, hidden by the step's question (Ctrl+R)")
        self.position = QLabel("")
        self.step_title = QLineEdit()
        self.step_title.setPlaceholderText("The step's title")
        self.formula = FormulaLines()
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check = QLabel("")
        self.check.setWordWrap(True)
        self.check.setToolTip("What the step says of PyTorch's output, checked against the output PyTorch gave")
        self.caption = QPlainTextEdit()
        self.caption.setPlaceholderText("Caption and speaker notes")
        self.caption.setToolTip("The step's caption; it doubles as speaker notes (saved with the lesson)")
        self.caption.setMinimumHeight(50)
        self.caption.setTabChangesFocus(True)  # Tab goes on to the next field, as in a form
        # While the step's question is pending, the question stands where the caption was:
        # the caption may state the answer.
        self.covered_note = QLabel("")
        self.covered_note.setObjectName("lesson-covered-note")
        self.covered_note.setWordWrap(True)
        self.covered_note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.covered_note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.covered_note.hide()
        self.ask_check = QCheckBox("Ask the class")
        self.ask_check.setToolTip("Cover PyTorch's output with the question until it is revealed")
        self.ask_text = QLineEdit()
        self.ask_text.setPlaceholderText(ASK_DEFAULT)
        self.hide_checks = {key: QCheckBox(HIDE_LABELS[key]) for key in HIDEABLE}
        for key, box in self.hide_checks.items():
            box.setToolTip(f"Hide the {HIDE_LABELS[key]} panel during this step")

        ask = QHBoxLayout()
        ask.addWidget(self.ask_check)
        ask.addWidget(self.ask_text, 1)
        # As many to a line as the dock's width holds: the panel never asks the window for more.
        hides = FlowRow(QLabel("Hide:"), *self.hide_checks.values())
        nav_row = FlowRow(self.previous_button, self.next_button, self.reveal_button, self.position)
        # The authoring fields, folded away for a built-in lesson: its words get the room.
        self.edit_toggle = QToolButton()
        self.edit_toggle.setText("Edit step")
        self.edit_toggle.setCheckable(True)
        self.edit_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.edit_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.edit_toggle.setAutoRaise(True)
        self.edit_toggle.setToolTip("The step's question and the panels it hides")
        self.edit_section = QWidget()
        edit = QVBoxLayout(self.edit_section)
        edit.setContentsMargins(0, 0, 0, 0)
        edit.addLayout(ask)
        edit.addWidget(hides)
        self.edit_section.hide()
        self.edit_toggle.toggled.connect(self._on_edit_toggled)
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(self.step_title)
        details.addWidget(self.formula)
        details.addWidget(self.check)
        details.addWidget(self.caption, 1)
        details.addWidget(self.covered_note, 1)
        details.addWidget(self.edit_toggle)
        details.addWidget(self.edit_section)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.lesson_title)
        layout.addWidget(self.empty)
        layout.addWidget(self.step_list)
        layout.addWidget(nav_row)
        layout.addWidget(self.details, 1)

        self.step_list.currentRowChanged.connect(self._on_row)
        self.previous_button.clicked.connect(lambda _=False: model.previous())
        self.next_button.clicked.connect(lambda _=False: model.next())
        self.reveal_button.clicked.connect(lambda _=False: model.reveal())
        self.lesson_title.editingFinished.connect(lambda: model.set_title(self.lesson_title.text()))
        self.step_title.editingFinished.connect(lambda: model.set_field("title", self.step_title.text()))
        self.caption.textChanged.connect(lambda: model.set_field("caption", self.caption.toPlainText()))
        self.ask_text.editingFinished.connect(self._on_question)
        self.ask_check.toggled.connect(self._on_ask)
        for box in self.hide_checks.values():
            box.toggled.connect(self._on_hide)
        model.opened.connect(self._show_steps)
        model.opened.connect(self._fold_for_lesson)
        model.steps_changed.connect(self._show_steps)
        model.step_changed.connect(lambda _i: self._show_steps())
        model.asking_changed.connect(lambda _on: self._show_step())
        results.outcome_changed.connect(self._show_check)
        results.stale_changed.connect(self._show_check)
        self.destroyed.connect(lambda *_: self._disconnect())
        text_zoom().changed.connect(self._apply_fonts)  # Qt disconnects it when the panel goes
        self._apply_fonts()
        self._show_steps()

    def _on_edit_toggled(self, on: bool) -> None:
        self.edit_toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.edit_section.setVisible(on)

    def _fold_for_lesson(self) -> None:
        """Folded for a lesson opened to teach from (a built-in one), open for one being written."""
        model = self.model
        self.edit_toggle.setChecked(model.is_open and (bool(model.path) or model.modified))

    def _disconnect(self) -> None:
        for signal, slot in ((self.results.outcome_changed, self._show_check),
                             (self.results.stale_changed, self._show_check)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError, ValueError):
                pass

    def _apply_fonts(self, *_args) -> None:
        font = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        font.setPointSize(scaled(FORMULA_POINT_SIZE))
        self.formula.setFont(font)
        self.formula.set_point_size(scaled(FORMULA_POINT_SIZE))
        title = QFont(self.font())
        title.setBold(True)
        self.step_title.setFont(title)
        # A few steps in sight, scrolling for more: the room below is the step's own words.
        rows = self.step_list.fontMetrics().lineSpacing()
        # As tall with few steps in sight as with many, before and after a reveal: no jumps.
        self.step_list.setFixedHeight(LIST_ROWS * rows + 2 * self.step_list.frameWidth() + 4)

    # -- model -> view ---------------------------------------------------------------------------
    def _show_steps(self) -> None:
        model = self.model
        with QSignalBlocker(self.lesson_title):
            self.lesson_title.setText(model.title)
        self.lesson_title.setVisible(model.is_open)
        self.empty.setVisible(not model.is_open)
        with QSignalBlocker(self.step_list):
            rows = [step_text(s, "title") or f"Step {n} (untitled)" for n, s in enumerate(model.steps, start=1)]
            if [self.step_list.item(i).text() for i in range(self.step_list.count())] != rows:
                self.step_list.clear()
                self.step_list.addItems(rows)
            self.step_list.setCurrentRow(model.index)
            if self.step_list.currentItem() is not None:
                self.step_list.scrollToItem(self.step_list.currentItem())
        self.step_list.setVisible(model.is_open)
        self._show_step()

    def _show_step(self) -> None:
        model = self.model
        step = model.current
        n = len(model)
        self.details.setVisible(step is not None)
        self.previous_button.setEnabled(model.index > 0)
        self.next_button.setEnabled(0 <= model.index < n - 1)
        self.reveal_button.setEnabled(model.asking)
        for button in (self.previous_button, self.next_button, self.reveal_button):
            button.setVisible(model.is_open)
        self.position.setText(f"step {model.index + 1} of {n}" if step is not None else "")
        if step is None:
            return
        with QSignalBlocker(self.step_title):
            self.step_title.setText(step_text(step, "title"))
        lines = tuple(getattr(step, "formula", None) or ())
        self.formula.setText("\n".join(str(line) for line in lines))
        # The formula gives the answer away: it waits for the reveal, as the output does.
        self.formula.setVisible(bool(lines) and not model.asking)
        asking = model.asking
        self.caption.setVisible(not asking)
        self.covered_note.setVisible(asking)
        if asking:
            self.covered_note.setText(f"<b>{html.escape(step_text(step, 'ask'))}</b><br><br>"
                                      "<i>The caption and speaker notes are hidden until the reveal (Ctrl+R).</i>")
        if self.caption.toPlainText() != step_text(step, "caption"):
            with QSignalBlocker(self.caption):
                self.caption.setPlainText(step_text(step, "caption"))
        question = step_text(step, "ask")
        with QSignalBlocker(self.ask_text), QSignalBlocker(self.ask_check):
            if question or self._shown_index != model.index:  # an unchecked question stays typed
                self.ask_text.setText("" if question == ASK_DEFAULT else question)
            self.ask_check.setChecked(bool(question.strip()))
        self._shown_index = model.index
        hidden = step_hide(step)
        for key, box in self.hide_checks.items():
            with QSignalBlocker(box):
                box.setChecked(key in hidden)
        self._show_check()

    def _show_check(self, *_args) -> None:
        step = self.model.current
        shape = getattr(step, "expected_output_shape", None) if step is not None else None
        values = getattr(step, "expected_output", None) if step is not None else None
        if (shape is None and values is None) or self.model.asking:
            self.check.setVisible(False)
            return
        if getattr(step, "pooling", None) is not None:
            ok, text = pooling_verdict(step, shape, values)
        else:
            results = self.results
            ok, text = expect_verdict(shape, values, results.current_output, results.stale)
        colour = style.OK if ok else style.ERROR if ok is False else style.MUTED
        self.check.setText(text)
        self.check.setStyleSheet(f"color: {colour};")
        self.check.setVisible(True)

    @property
    def check_text(self) -> str:
        """The check's line ("" when the step claims nothing or asks first)."""
        return self.check.text() if not self.check.isHidden() else ""

    # -- view -> model ------------------------------------------------------------------------------
    def _on_row(self, row: int) -> None:
        if row != self.model.index and row >= 0:
            self.model.go_to(row)

    def _on_question(self) -> None:
        if self.ask_text.text().strip() and not self.ask_check.isChecked():
            with QSignalBlocker(self.ask_check):
                self.ask_check.setChecked(True)  # typing a question asks it
        if self.ask_check.isChecked():
            self._on_ask()

    def _on_ask(self, *_args) -> None:
        text = self.ask_text.text().strip()
        if self.ask_check.isChecked() and not text:
            # The step asks the placeholder's question until one is typed (it shows, greyed).
            text = ASK_DEFAULT
            self.ask_text.setFocus()
        self.model.set_field("ask", text if self.ask_check.isChecked() else "")

    def _on_hide(self, *_args) -> None:
        self.model.set_field("hide", tuple(k for k, box in self.hide_checks.items() if box.isChecked()))
