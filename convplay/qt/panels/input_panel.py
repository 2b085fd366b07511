"""The Input panel: draw, open or pick the image that goes into the convolution.

The panel holds no input state of its own: the original an image is made from, the
working size and the channel count are the session's (so undo restores them); the panel
calls the session's setters through ``push_change`` and shows what the session holds.
Drawing pushes the image to the session while the stroke is under way (throttled, so the
output follows the pen) and records the whole stroke as one undo step.  Opening a file
that cannot be used shows the reason in red under the controls and keeps the image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.history import History, push_change, record_change
from convplay.core.image_io import (
    MAX_WORKING_SIZE,
    MIN_WORKING_SIZE,
    ImageLoadError,
    load_image,
)
from convplay.core.samples import SAMPLES, Sample
from convplay.core.input_source import InputSource
from convplay.core.session import Session
from convplay.qt import files, style
from convplay.qt.widgets.canvas import ERASER, MAX_LABELLED_SIDE, PEN, DrawingCanvas
from convplay.qt.widgets.flow import FlowRow
from convplay.qt.widgets.value_grid import ValueGrid

STROKE_PUSH_MS = 30  # at most ~33 updates a second reach the session during a stroke
# The size box shows this value, as OWN_SIZE_TEXT, while the input keeps its own size.
OWN_SIZE = MIN_WORKING_SIZE - 1
OWN_SIZE_TEXT = "own size"
CANVAS_MIN_SIDE = 120
PICTURE_TAB, VALUES_TAB = 0, 1


class InputPanel(QWidget):
    """The input image of ``session``: a drawing canvas, files, samples, size and channels.

    ``image_view`` is the canvas (a pyqtgraph widget with ``view_box``).  ``hovered(str)``
    carries the readout of the cell under the pointer.  ``settings`` keeps the last folder
    a file was opened from (shared with the window's file dialogs).
    """

    hovered = Signal(str)

    def __init__(
        self,
        session: Session,
        history: History | None,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
    ):
        super().__init__(parent)
        self._session = session
        self._history = history
        self.settings = settings
        self._stroke_before = None
        self.setAcceptDrops(True)

        self.canvas = DrawingCanvas()
        self.canvas.setMinimumSize(CANVAS_MIN_SIDE, CANVAS_MIN_SIDE)
        self.canvas.setToolTip("Left-drag to draw; middle-drag to pan; wheel to zoom. Drop an image file here to open it.\n"
                               "Ctrl+click a pixel: the sliding window moves there.")
        self.image_view = self.canvas
        self._push_timer = QTimer(self)
        self._push_timer.setSingleShot(True)
        self._push_timer.setInterval(STROKE_PUSH_MS)

        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open an image file (PNG, JPEG, BMP, TIFF, WebP, GIF, 16-bit PNG).")
        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("Built-in inputs: CC0 photos, patterns and the tutorial's matrices.")
        # The names are whole in the list; the closed box may be narrower than the longest.
        self.sample_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sample_combo.setMinimumContentsLength(8)
        self.sample_combo.addItem("Load a sample…", None)
        for s in SAMPLES:
            self.sample_combo.addItem(s.name, s.key)
            self.sample_combo.setItemData(self.sample_combo.count() - 1, s.description, Qt.ItemDataRole.ToolTipRole)
        self.channels_combo = QComboBox()
        self.channels_combo.addItem("Grayscale", 1)
        self.channels_combo.addItem("RGB", 3)
        self.channels_combo.setToolTip("1 or 3 input channels; the convolution's in_channels follows.")
        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_WORKING_SIZE, MAX_WORKING_SIZE)
        self.size_spin.setSuffix(" px")
        self.size_spin.setKeyboardTracking(False)
        self.size_spin.setToolTip(
            f"Working size: the long side of the input, {MIN_WORKING_SIZE} to {MAX_WORKING_SIZE} pixels "
            "(aspect kept). Opened images and samples are made at this size, from their original. "
            f"'{OWN_SIZE_TEXT}': the tutorial matrices keep their exact size until you pick one."
        )
        self.size_label = QLabel()

        self.pen_button = _tool_button("Pen", "Draw with the value below.", checked=True)
        self.eraser_button = _tool_button("Eraser", "Draw with 0.")
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(1, 64)
        self.brush_spin.setValue(self.canvas.brush_size)
        self.brush_spin.setToolTip("Brush diameter in pixels.")
        self.value_spin = QDoubleSpinBox()
        self.value_spin.setRange(-1000.0, 1000.0)
        self.value_spin.setDecimals(3)
        self.value_spin.setSingleStep(0.1)
        self.value_spin.setValue(self.canvas.value)
        self.value_spin.setToolTip("The value the pen writes into every channel.")
        # Tool buttons, as tight as their words: the row fits a narrow dock.
        self.clear_button = _command_button("Clear", "Set every pixel to 0.")
        self.fill_button = _command_button("Fill", "Set every pixel to the pen's value.")
        self.invert_button = _command_button("Invert", "v → lo + hi − v, with lo..hi the image's range (at least 0..1).")

        self.values_grid = ValueGrid(tint=False)
        self.values_grid.setToolTip("The input's values (shown for inputs up to 16 × 16); type to change one.")
        self.values_channel = QSpinBox()
        self.values_channel.setToolTip("Which channel the table shows.")
        self.values_channel_label = QLabel("Channel")
        self.values_box = QWidget()
        # The picture and, for a small input, its table of values share the panel's room
        # as two tabs: each whole, neither squeezed under the other in a short dock.
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.message.setVisible(False)

        self._build_layout()
        self._connect()
        self._on_session_image()

    # -- layout ------------------------------------------------------------------------
    def _build_layout(self) -> None:
        source_row = QHBoxLayout()
        source_row.addWidget(self.open_button)
        source_row.addWidget(self.sample_combo, 1)
        form = QFormLayout()
        form.addRow("Image", source_row)
        # The rows below wrap where the dock is narrow: one line where it is wide.
        form.addRow("Size", FlowRow(_row(self.size_spin, self.channels_combo), self.size_label))
        self.tools = FlowRow(
            _row(self.pen_button, self.eraser_button),
            _row(QLabel("Brush"), self.brush_spin),
            _row(QLabel("Value"), self.value_spin),
            _row(self.clear_button, self.fill_button, self.invert_button),
        )

        values_layout = QVBoxLayout(self.values_box)
        values_layout.setContentsMargins(0, 4, 0, 0)
        channel_row = QHBoxLayout()
        channel_row.addWidget(self.values_channel_label)
        channel_row.addWidget(self.values_channel)
        channel_row.addStretch(1)
        values_layout.addLayout(channel_row)
        values_layout.addWidget(self.values_grid)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(form)
        layout.addWidget(self.message)
        self.views.addTab(self.canvas, "Picture")
        self.views.setTabToolTip(PICTURE_TAB, "Draw on the input: left-drag paints, the wheel zooms")
        self.views.addTab(self.values_box, "Values")
        self.views.setTabToolTip(VALUES_TAB, f"The input's values as a table (inputs up to {MAX_LABELLED_SIDE} × "
                                             f"{MAX_LABELLED_SIDE}); type to change one")
        layout.addWidget(self.views, 1)
        layout.addWidget(self.tools)

    def _connect(self) -> None:
        self.open_button.clicked.connect(self._ask_open)
        self.sample_combo.activated.connect(self._on_sample_activated)
        self.channels_combo.activated.connect(lambda _i: self.set_channels(self.channels_combo.currentData()))
        self.size_spin.valueChanged.connect(self._on_size_spin)
        self.pen_button.clicked.connect(lambda: self.set_tool(PEN))
        self.eraser_button.clicked.connect(lambda: self.set_tool(ERASER))
        self.brush_spin.valueChanged.connect(lambda v: setattr(self.canvas, "brush_size", v))
        self.value_spin.valueChanged.connect(lambda v: setattr(self.canvas, "value", v))
        self.clear_button.clicked.connect(lambda: self.fill(0.0, "Clear input"))
        self.fill_button.clicked.connect(lambda: self.fill(self.canvas.value, "Fill input"))
        self.invert_button.clicked.connect(self.invert)
        self.values_grid.value_edited.connect(self._on_value_typed)
        self.values_grid.rejected.connect(self.show_error)
        self.values_channel.valueChanged.connect(self._refresh_values)
        self.canvas.stroke_started.connect(self._on_stroke_started)
        self.canvas.stroke_painted.connect(self._on_stroke_painted)
        self.canvas.stroke_finished.connect(self._on_stroke_finished)
        self.canvas.hovered.connect(self.hovered)
        self._push_timer.timeout.connect(self._push_stroke_image)
        self._session.image_changed.connect(self._on_session_image)
        # The session outlives the panel: stop hearing it once the widget is gone.
        self.destroyed.connect(lambda *_: self._session.image_changed.disconnect(self._on_session_image))

    # -- public API --------------------------------------------------------------------
    def open_image(self, path: str | Path) -> str:
        """Open ``path`` as the input (undoable), made at the working size from the file
        read at up to MAX_WORKING_SIZE.  Returns "" when it worked, else the reason, which
        the panel also shows in red (the image stays as it was)."""
        path = Path(path)
        try:
            image = load_image(path, long_side=MAX_WORKING_SIZE)
        except ImageLoadError as exc:
            self.show_error(str(exc))
            return str(exc)
        source = InputSource.from_array(image, path.name)
        return self._edit(f"Open {path.name}", lambda: self._session.set_source(source))

    def load_sample(self, item: Sample) -> str:
        """Make ``item`` the input (a tutorial matrix at its own size); "" or the reason."""
        return self._edit(f"Sample {item.name}", lambda: self._session.set_source(InputSource.from_sample(item)))

    def set_tool(self, tool: str) -> None:
        self.canvas.tool = tool
        self.pen_button.setChecked(tool == PEN)
        self.eraser_button.setChecked(tool == ERASER)

    def set_channels(self, channels: int) -> str:
        """Convert the input to 1 (grayscale) or 3 (RGB) channels; in_channels follows."""
        if channels == self._session.image.shape[0]:
            return ""
        text = "RGB input" if channels == 3 else "Grayscale input"
        return self._edit(text, lambda: self._session.set_channels(channels))

    def set_working_size(self, long_side: int) -> str:
        """Remake the input from its original so that its long side is ``long_side``."""
        return self._edit(f"Input size {long_side} px", lambda: self._session.set_working_size(long_side))

    def fill(self, value: float, text: str = "Fill input") -> str:
        return self._edit(text, lambda: self._session.set_image(np.full_like(self._session.image, value)))

    def invert(self) -> str:
        image = self._session.image
        lo, hi = min(float(image.min()), 0.0), max(float(image.max()), 1.0)
        return self._edit("Invert input", lambda: self._session.set_image(lo + hi - image))

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls:
            self.show_error("Only image files on this computer can be dropped here.")
            return
        event.acceptProposedAction()
        self.open_image(urls[0].toLocalFile())

    # -- widget -> model ---------------------------------------------------------------
    def _edit(self, text: str, change) -> str:
        """Run ``change`` as one undo step; a refusal is shown and returned, never raised."""
        try:
            push_change(self._history, self._session, text, change)
        except (ImageLoadError, ValueError) as exc:
            self.show_error(str(exc))
            self._on_session_image()  # the controls show the session again
            return str(exc)
        self.show_error("")
        return ""

    def _ask_open(self) -> None:
        path = files.ask_image_path(self, self.settings)
        if path:
            self.open_image(path)

    def _on_sample_activated(self, index: int) -> None:
        key = self.sample_combo.itemData(index)
        with QSignalBlocker(self.sample_combo):
            self.sample_combo.setCurrentIndex(0)
        for s in SAMPLES:
            if s.key == key:
                self.load_sample(s)

    def _on_size_spin(self, value: int) -> None:
        if value >= MIN_WORKING_SIZE:  # below it is the "own size" mark, not a size
            self.set_working_size(value)

    def _on_value_typed(self, row: int, col: int, value: float) -> None:
        channel = self.values_channel.value()

        def change() -> None:
            image = np.array(self._session.image)
            image[channel, row, col] = value
            self._session.set_image(image)

        self._edit("Edit input value", change)

    def _on_stroke_started(self) -> None:
        self._stroke_before = self._session.snapshot()

    def _on_stroke_painted(self) -> None:
        if not self._push_timer.isActive():
            self._push_timer.start()

    def _push_stroke_image(self) -> None:
        image = self.canvas.image.copy()
        image.setflags(write=False)  # handed over: the session keeps it without a copy
        self._session.set_image(image)

    def _on_stroke_finished(self) -> None:
        self._push_timer.stop()
        self._push_stroke_image()
        before, self._stroke_before = self._stroke_before, None
        if before is not None:
            record_change(self._history, self._session, "Draw", before)
        self.show_error("")

    # -- model -> widget ---------------------------------------------------------------
    def _on_session_image(self) -> None:
        session = self._session
        image = session.image
        if not self.canvas.in_stroke:
            self.canvas.set_image(image)
        c, h, w = image.shape
        text = f"{w} × {h}, {c} channel{'s' if c > 1 else ''}"
        own = session.keeps_own_size
        self.size_label.setText(text + (", its own size" if own else ""))
        self.size_label.setToolTip(
            f"This input keeps its own size; pick a working size to resample it. Files and samples "
            f"open at {session.working_size} px." if own else "The input's size and channels."
        )
        with QSignalBlocker(self.size_spin):
            # The box's minimum shows as "own size" while the input keeps its size; else
            # the minimum is a real size and must read as one.
            minimum = OWN_SIZE if own else MIN_WORKING_SIZE
            if self.size_spin.minimum() != minimum:  # a new range lays the panel out again
                self.size_spin.setMinimum(minimum)
                self.size_spin.setSpecialValueText(OWN_SIZE_TEXT if own else "")
            self.size_spin.setValue(OWN_SIZE if own else session.working_size)
        with QSignalBlocker(self.channels_combo):
            index = self.channels_combo.findData(c)
            self.channels_combo.setCurrentIndex(index)  # -1 (blank) for other channel counts
        with QSignalBlocker(self.values_channel):
            self.values_channel.setRange(0, c - 1)
        self.values_channel.setVisible(c > 1)
        self.values_channel_label.setVisible(c > 1)
        small = max(h, w) <= MAX_LABELLED_SIDE
        self.views.setTabVisible(VALUES_TAB, small)
        self.views.tabBar().setVisible(small)  # a large input has the picture alone
        if not small:
            self.views.setCurrentIndex(PICTURE_TAB)
        self._refresh_values()

    def _refresh_values(self) -> None:
        image = self._session.image
        if max(image.shape[1:]) <= MAX_LABELLED_SIDE:
            self.values_grid.set_values(image[self.values_channel.value()])


def _row(*widgets: QWidget) -> QWidget:
    """Widgets kept together on one line of the tools."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    for widget in widgets:
        layout.addWidget(widget)
    return row


def _tool_button(text: str, tip: str, checked: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(True)
    button.setChecked(checked)
    button.setAutoExclusive(True)
    return button


def _command_button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    return button
