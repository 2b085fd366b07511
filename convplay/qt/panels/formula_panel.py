"""The Formula panel: the output-size formula with the user's numbers, the layer's sizes
and costs, and the equivalent PyTorch code with a Copy button.

Everything is read from the session on each change; the formula's terms and verdicts come
from ``convplay.core.formula`` (plain text) and are styled here, the code from
``convplay.core.codegen``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from convplay.core.codegen import LIBRARIES, GeneratedCode, library_code
from convplay.core.formula import NBSP, AxisFormula, CountRow, FormulaNote, Span, count_rows, shown_formula
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.output_first import OUTPUT_FIRST
from convplay.qt.style import ERROR, MUTED
from convplay.qt.zoom import scaled, text_zoom

# Large enough to read from the back of a lecture room.
FORMULA_POINT_SIZE = 11
CODE_POINT_SIZE = 11
NOTE_POINT_SIZE = 11
# The code keeps at least this many pixels when the formula takes the height it needs.
CODE_MIN_HEIGHT = 120

_SUBSCRIPTED = re.compile(r"\b(H|W|pad)_(out|in|top|bottom|left|right)\b")
_SYMBOL = re.compile(r"(?<![\w<])([spdk])(?![\w>])")


def _rich(text: str, italic_symbols: bool = False) -> str:
    """``text`` escaped, with subscripts for H_out, pad_top...; s, p, d, k in italics if asked."""
    out = _SUBSCRIPTED.sub(r"\1<sub>\2</sub>", html.escape(text))
    return _SYMBOL.sub(r"<i>\1</i>", out) if italic_symbols else out


def _in_colour(colour: str, rich: str) -> str:
    return f"<span style='color:{colour}'>{rich}</span>"


def symbolic_html(axis: AxisFormula) -> str:
    """The axis's formula in symbols: subscripts, the symbols in italics."""
    return _rich(axis.symbolic, italic_symbols=True)


def numeric_html(axis: AxisFormula) -> str:
    """The formula with the numbers: the result bold, or the whole line in the error's red."""
    line = _rich(axis.numeric)
    if not axis.valid:
        return _in_colour(ERROR, line)
    head, _, result = line.rpartition(" = ")
    return f"{head} = <b>{result}</b>"


def notes_html(axis: AxisFormula) -> list[str]:
    """What the numbers do not say: the floor's remainder (small) and the refusal (red)."""
    kinds = (("remainder", axis.remainder_note), ("error", axis.error))
    return [note_html(FormulaNote(kind, text)) for kind, text in kinds if text]


def note_html(note: FormulaNote) -> str:
    """A remainder note small, a refusal in the error's red."""
    if note.kind == "error":
        return _in_colour(ERROR, html.escape(note.text))
    return f"<small>{html.escape(note.text)}</small>"


_SPAN_COLOURS = {"muted": MUTED, "error": ERROR}


def row_html(row: CountRow) -> str:
    """A table row's lines (core's count_rows) styled: the number bold, side notes muted,
    a refusal in the error's red."""
    def span_html(span: Span) -> str:
        text = html.escape(span.text).replace(NBSP, "&nbsp;")
        if span.style == "strong":
            return f"<b>{text}</b>"
        colour = _SPAN_COLOURS.get(span.style)
        return _in_colour(colour, text) if colour else text

    return "<br>".join("".join(map(span_html, line)) for line in row.lines)


class FormulaPanel(QWidget):
    """The formula, counts and PyTorch code for the session, refreshed on every change."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self.code = GeneratedCode("")
        self._shown_formula = ""
        self._user_split = False  # the user dragged the splitter: their heights stay
        self._build()
        self._apply_fonts()
        follow = OUTPUT_FIRST.follow(self.refresh)  # after the edit's output is on screen
        session.changed.connect(follow)
        # The session outlives the panel: stop hearing it once the widget is gone.
        self.destroyed.connect(lambda *_args, refresh=self.refresh: (
            session.changed.disconnect(follow), OUTPUT_FIRST.discard(refresh)))
        text_zoom().changed.connect(self._on_zoom)  # Qt disconnects it when the panel goes
        self.refresh()

    def _build(self) -> None:
        self.formula_view = QTextBrowser()
        self.formula_view.setOpenLinks(False)
        self.formula_view.setToolTip(
            "The output size per axis with your numbers: the floor ⌊ ⌋ drops what the last\n"
            "stride cannot reach.  Below: the weight shape, the parameter count beside a fully\n"
            "connected layer's, the multiply-adds and the receptive field of one output pixel."
        )
        self.formula_view.setMinimumHeight(40)

        self.code_view = QPlainTextEdit()
        self.code_view.setReadOnly(True)
        self.code_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code_view.setMinimumHeight(60)
        self.code_view.setToolTip(_CODE_TOOLTIPS["pytorch"])

        self.library_combo = QComboBox()
        for key, name in LIBRARIES.items():
            self.library_combo.addItem(name, key)
        self.library_combo.setToolTip(
            "The library the code is written for: PyTorch (nn.Conv2d and F.conv2d), OpenCV\n"
            "(cv2.filter2D) or scipy (scipy.ndimage.correlate).  All three compute\n"
            "cross-correlation; the OpenCV and scipy code rebuilds PyTorch's padding, stride,\n"
            "dilation, groups and bias around one 2-D filter call per channel pair, and says so\n"
            "where a setting has no faithful translation (a transposed convolution)."
        )
        self.library_combo.currentIndexChanged.connect(self._on_library_chosen)

        self.copy_button = QPushButton("Copy code")
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.copy_button.clicked.connect(self.copy_code)
        self.save_button = QPushButton("Save .npy files…")
        self.save_button.setToolTip(
            "Save the arrays the code loads (input.npy, weight.npy, bias.npy) into a folder;\n"
            "run the code from that folder.  Small inputs and kernels are written into the code."
        )
        self.save_button.clicked.connect(self._ask_and_save_arrays)
        self.status = QLabel()
        self.status.setToolTip("What the last Copy or Save did")

        code_box = QWidget()
        code_layout = QVBoxLayout(code_box)
        code_layout.setContentsMargins(0, 0, 0, 0)
        self.code_title = title = QLabel("<b>Equivalent code in</b>")
        title.setToolTip(self.library_combo.toolTip())
        title.setBuddy(self.library_combo)
        title_row = QHBoxLayout()
        title_row.addWidget(title)
        title_row.addWidget(self.library_combo)
        title_row.addStretch(1)
        code_layout.addLayout(title_row)
        code_layout.addWidget(self.code_view, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.status, 1)
        code_layout.addLayout(buttons)

        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.formula_view)
        splitter.addWidget(code_box)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.splitterMoved.connect(self._on_splitter_moved)
        # The formula takes the height its lines need whenever the room changes.
        self._fitter = _OnResize((splitter, self.formula_view), self.fit_formula)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _apply_fonts(self) -> None:
        """The formula, its notes and the code at their sizes, times the text zoom."""
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        formula_font = QFont(mono)
        formula_font.setPointSize(scaled(FORMULA_POINT_SIZE))
        document = self.formula_view.document()
        document.setDefaultFont(formula_font)
        # The formula module puts the floor's remainder note in <small>: keep it readable
        # but well below the formula's projector size.
        document.setDefaultStyleSheet(
            f"small {{ font-size: {scaled(NOTE_POINT_SIZE)}pt; font-family: sans-serif; color: {MUTED}; }}"
        )
        code_font = QFont(mono)
        code_font.setPointSize(scaled(CODE_POINT_SIZE))
        self.code_view.setFont(code_font)

    def _on_zoom(self, _factor: float) -> None:
        self._apply_fonts()
        self._shown_formula = ""  # the style sheet applies to HTML set after it
        self.refresh()

    # -- the formula's height ----------------------------------------------------------
    def formula_height(self) -> int:
        """The pixels the formula view needs to show all its lines at its present width."""
        view = self.formula_view
        document = view.document()
        document.setTextWidth(view.viewport().width())  # what the view lays it out at
        return int(document.size().height()) + 2 * view.frameWidth() + 2

    def fit_formula(self) -> None:
        """Give the formula the height its lines need, the code the rest (at least
        CODE_MIN_HEIGHT); left alone once the user has moved the splitter."""
        if self._user_split:
            return
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        formula = max(self.formula_view.minimumHeight(), min(self.formula_height(), total - CODE_MIN_HEIGHT))
        if self.splitter.sizes()[0] != formula:
            self.splitter.setSizes([formula, total - formula])

    def _on_splitter_moved(self, *_) -> None:
        self._user_split = True

    # -- refresh ---------------------------------------------------------------------
    def refresh(self) -> None:
        session = self._session
        spec, shape = session.spec, session.image.shape
        # Laying out rich text costs milliseconds; most edits (a stroke, a weight of a large
        # kernel) change neither text, so only changed text is set.
        formula = self._formula_html(spec, shape)
        if formula != self._shown_formula:
            self._shown_formula = formula
            self.formula_view.setHtml(formula)
            self.fit_formula()
        library = self.library_combo.currentData()
        self.code = library_code(library, spec, session.image, session.weight, session.bias,
                                 true_convolution=session.true_convolution)
        self.code_view.setToolTip(_CODE_TOOLTIPS[library])
        if self.code.text != self.code_view.toPlainText():
            scroll = self.code_view.verticalScrollBar().value()
            self.code_view.setPlainText(self.code.text)
            self.code_view.verticalScrollBar().setValue(scroll)  # keep the reader's place
        self.save_button.setEnabled(bool(self.code.arrays))
        self.status.clear()

    def _formula_html(self, spec: ConvSpec, input_shape: tuple[int, int, int]) -> str:
        note_style = f"font-family:sans-serif; font-size:{scaled(NOTE_POINT_SIZE + 1)}pt"
        parts = []
        # The lines of core's formula_lines (what --describe prints): the formula at
        # projector size, its notes at reading size.
        for axis, notes in shown_formula(spec, input_shape):
            parts.append(f"<div style='color:{MUTED}'>{symbolic_html(axis)}</div>")
            parts.append(f"<div>{numeric_html(axis)}</div>")
            if notes:
                parts.append(f"<div style='{note_style}'>{'<br>'.join(map(note_html, notes))}</div>")
            parts.append("<div style='font-size:6pt'>&nbsp;</div>")
        # the rows of core's count_rows (what --describe prints as its table)
        rows = [(row.label, row_html(row)) for row in count_rows(spec, input_shape, self._session.true_convolution)]
        table = "".join(
            f"<tr><td style='padding-right:12px; color:{MUTED}'>{html.escape(label)}</td>"
            f"<td>{value}</td></tr>"
            for label, value in rows
        )
        parts.append(f"<table style='{note_style}'>{table}</table>")
        return "".join(parts)

    # -- actions ---------------------------------------------------------------------
    def set_library(self, library: str) -> None:
        """Write the code for ``library`` (a key of codegen.LIBRARIES); others are ignored."""
        index = self.library_combo.findData(library)
        if index >= 0:
            self.library_combo.setCurrentIndex(index)

    def _on_library_chosen(self, _index: int) -> None:
        self.code_view.verticalScrollBar().setValue(0)  # another program: read it from the top
        self.refresh()

    def copy_code(self) -> None:
        QApplication.clipboard().setText(self.code.text)
        note = " (save the .npy files too)" if self.code.arrays else ""
        self.status.setText(f"copied {self.code.text.count(chr(10))} lines{note}")

    def save_arrays(self, folder: str | Path) -> list[Path]:
        """Write the .npy files the code loads into ``folder``; the paths written."""
        written = []
        for name, values in self.code.arrays.items():
            path = Path(folder) / name
            np.save(path, np.ascontiguousarray(values), allow_pickle=False)
            written.append(path)
        return written

    def _ask_and_save_arrays(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the arrays the code loads")
        if not folder:
            return
        try:
            written = self.save_arrays(folder)
        except OSError as err:
            self.status.setText(f"<span style='color:{ERROR}'>could not save: {html.escape(str(err))}</span>")
            return
        self.status.setText("saved " + ", ".join(p.name for p in written))


_CODE_TOOLTIPS = {
    "pytorch": "PyTorch code that computes what convplay shows: nn.Conv2d with your arguments and\n"
               "the F.conv2d call it makes, with your input, kernel and bias.",
    "opencv": "OpenCV code that computes what PyTorch computes: cv2.filter2D on each (output,\n"
              "input) channel pair, summed, with the border, anchor, crop and stride that give\n"
              "PyTorch's padding; y is PyTorch's output without its batch axis.",
    "scipy": "scipy code that computes what PyTorch computes: scipy.ndimage.correlate on each\n"
             "(output, input) channel pair, summed, with the mode, origin, crop and stride that\n"
             "give PyTorch's padding; y is PyTorch's output without its batch axis.",
}


class _OnResize(QObject):
    """Calls ``then()`` once the widgets' resizes are done (after the splitter has shared
    out the new room): deferred, once for many resize events."""

    def __init__(self, widgets: tuple[QWidget, ...], then):
        super().__init__(widgets[0])
        self._then = then
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(then)
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._timer.start()
        return False
