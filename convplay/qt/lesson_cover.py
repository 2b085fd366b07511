"""The "ask the class" covers: PyTorch's output hidden behind the step's question until
the lecturer reveals it.

One cover sits over each place that shows the answer: the output panel (its feature-map
grid with it), the sliding window's output side, its arithmetic (the sums are the output's
values) and its overview of the whole output.  A cover is a child widget of what it covers,
kept at its geometry by an event filter, as the presenter's blank screen is; a click on
its button reveals.  Nothing underneath is changed: the views go on following the results,
and appear as they are when the cover goes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from convplay.qt import style
from convplay.qt.zoom import text_zoom

if TYPE_CHECKING:
    from convplay.qt.main_window import MainWindow

REVEAL_TEXT = "Reveal (Ctrl+R)"
QUESTION_SCALE = 1.5  # the question in letters half as large again as the window's text
FRAME = 3


class AskCover(QWidget):
    """Covers ``rect_of()`` of its parent (all of it by default) with ``question`` and a
    Reveal button; ``watched`` widgets' resizes and moves put it in place again."""

    def __init__(self, parent: QWidget, reveal: Callable[[], None], *, large: bool = True,
                 rect_of: Callable[[], QRect] | None = None, name: str = "ask-cover"):
        super().__init__(parent)
        self.setObjectName(name)
        self._rect_of = rect_of or parent.rect
        self._large = large
        self.setAttribute(Qt.WidgetAttribute.WA_NoMousePropagation)  # a click here reaches nothing below
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setVisible(large)
        self.button = QPushButton(REVEAL_TEXT)
        self.button.setToolTip("Show PyTorch's output (PgDown in the presenter view)")
        self.button.clicked.connect(lambda _=False: reveal())
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        self._watched: list[QObject] = []
        self.watch(parent)
        text_zoom().changed.connect(self._on_zoom)
        self.hide()

    def watch(self, widget: QObject) -> None:
        widget.installEventFilter(self)
        self._watched.append(widget)

    def set_question(self, text: str) -> None:
        self.label.setText(text)
        self._on_zoom()

    def cover(self) -> None:
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        rect = self._rect_of()
        if rect.isValid():
            self.setGeometry(rect)

    def _on_zoom(self, *_args) -> None:
        font = QFont(self.font())
        base = self.parentWidget().font()
        size = base.pointSizeF()
        if size > 0:
            font.setPointSizeF(size * QUESTION_SCALE)
        font.setBold(True)
        self.label.setFont(font)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.isHidden():
            if event.type() in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show, QEvent.Type.LayoutRequest):
                self.place()
                self.raise_()
        return False

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
        pen = QPen(QColor(style.WINDOW))
        pen.setWidth(FRAME)
        painter.setPen(pen)
        painter.drawRect(self.rect().adjusted(1, 1, -2, -2))


class AskCovers:
    """Every cover of ``window``; ``show(question)`` and ``hide()`` them together."""

    def __init__(self, window: "MainWindow", reveal: Callable[[], None]):
        self.window = window
        self._reveal = reveal
        self._covers: list[AskCover] | None = None  # made when first needed

    def _make(self) -> list[AskCover]:
        window, reveal = self.window, self._reveal
        covers = []
        output_scroll = window.docks["output"].widget()  # the scroll area: its visible part
        covers.append(AskCover(output_scroll, reveal, name="ask-cover-output"))
        panel = window.animation_panel
        view = panel.view
        plot = view.output.plot

        def output_side() -> QRect:
            scene_rect = plot.sceneBoundingRect()
            rect = view.mapFromScene(scene_rect).boundingRect()
            return rect.translated(view.viewport().pos()).intersected(view.rect())

        side = AskCover(view, reveal, rect_of=output_side, name="ask-cover-animation-output")
        plot.geometryChanged.connect(side.place)
        covers.append(side)
        covers.append(AskCover(panel.arithmetic, reveal, large=False, name="ask-cover-arithmetic"))
        covers.append(AskCover(panel.overview, reveal, large=False, name="ask-cover-overview"))
        # The formula panel works the output's size out: it waits for the reveal too.
        covers.append(AskCover(window.docks["formula"].widget(), reveal, large=False, name="ask-cover-formula"))
        return covers

    @property
    def covers(self) -> list[AskCover]:
        if self._covers is None:
            self._covers = self._make()
        return self._covers

    @property
    def shown(self) -> bool:
        return self._covers is not None and any(not c.isHidden() for c in self._covers)

    def show(self, question: str) -> None:
        for cover in self.covers:
            cover.set_question(question)
            cover.cover()
        self._hide_sizes(True)

    def hide(self) -> None:
        for cover in self._covers or ():
            cover.hide()
        self._hide_sizes(False)

    def _hide_sizes(self, on: bool) -> None:
        """The texts that state the output's size (the parameters' summary, the animation's
        number of steps) say it only once revealed."""
        for panel in (getattr(self.window, "params_panel", None), getattr(self.window, "animation_panel", None)):
            if panel is not None and hasattr(panel, "set_answer_hidden"):
                panel.set_answer_hidden(on)
