"""The Input panel: draw, open or pick the image that goes into the convolution.

Drawing pushes the image to the session while the stroke is under way (throttled, so the
output follows the pen) and records the whole stroke as one undo step.  Opening a file
that cannot be used shows the reason in red under the controls and keeps the image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.image_io import (
    IMAGE_SUFFIXES,
    MAX_WORKING_SIZE,
    MIN_WORKING_SIZE,
    ImageLoadError,
    load_image,
    resize_long_side,
    to_channels,
)
from convplay.core.samples import SAMPLES, Sample
from convplay.core.session import Session
from convplay.qt.widgets.canvas import ERASER, MAX_LABELLED_SIDE, PEN, DrawingCanvas
from convplay.qt.widgets.value_grid import ValueGrid
from convplay.qt.undo import SessionChange, push_change

DEFAULT_WORKING_SIZE = 128
STROKE_PUSH_MS = 30  # at most ~33 updates a second reach the session during a stroke
FILE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"


class InputPanel(QWidget):
    """The input image of ``session``: a drawing canvas, files, samples, size and channels.

    ``image_view`` is the canvas (a pyqtgraph widget with ``view_box`` and ``link_view``).
    ``hovered(str)`` carries the readout of the cell under the pointer.
    """

    hovered = Signal(str)

    def __init__(self, session: Session, undo_stack: QUndoStack | None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self._stack = undo_stack
        # Makes the input at a given long side: from the loaded file or the sample itself, so
        # that 16 px -> 512 px brings back the photo's detail instead of enlarging 16 px.
        self._source: Callable[[int], np.ndarray] = _resampler(session.image)
        self._own_image: np.ndarray | None = None  # the last array this panel gave the session
        self._stroke_before = None
        self._last_folder = ""
        self.setAcceptDrops(True)

        self.canvas = DrawingCanvas()
        self.canvas.setToolTip("Left-drag to draw; middle-drag to pan; wheel to zoom. Drop an image file here to open it.")
        self.image_view = self.canvas
        self._push_timer = QTimer(self)
        self._push_timer.setSingleShot(True)
        self._push_timer.setInterval(STROKE_PUSH_MS)

        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open an image file (PNG, JPEG, BMP, TIFF, WebP, 16-bit PNG).")
        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("Built-in inputs: CC0 photos, patterns and the tutorial's matrices.")
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
        self.size_spin.setValue(DEFAULT_WORKING_SIZE)
        self.size_spin.setSuffix(" px")
        self.size_spin.setKeyboardTracking(False)
        self.size_spin.setToolTip(
            "Working size: the long side of the input, 8 to 1024 pixels (aspect kept). "
            "Opened images and samples are resized to it; the tutorial matrices keep their size."
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
        self.clear_button = _push_button("Clear", "Set every pixel to 0.")
        self.fill_button = _push_button("Fill", "Set every pixel to the pen's value.")
        self.invert_button = _push_button("Invert", "v → lo + hi − v, with lo..hi the image's range (at least 0..1).")

        self.values_grid = ValueGrid(tint=False)
        self.values_grid.setToolTip("The input's values (shown for inputs up to 16 × 16); type to change one.")
        self.values_channel = QSpinBox()
        self.values_channel.setToolTip("Which channel the table shows.")
        self.values_channel_label = QLabel("Channel")
        self.values_box = QGroupBox("Values")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c62828;")
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
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_spin)
        size_row.addWidget(self.channels_combo)
        size_row.addWidget(self.size_label, 1)
        form.addRow("Size", size_row)

        tools = QHBoxLayout()
        tools.addWidget(self.pen_button)
        tools.addWidget(self.eraser_button)
        tools.addWidget(QLabel("Brush"))
        tools.addWidget(self.brush_spin)
        tools.addWidget(QLabel("Value"))
        tools.addWidget(self.value_spin)
        tools.addStretch(1)
        edits = QHBoxLayout()
        edits.addWidget(self.clear_button)
        edits.addWidget(self.fill_button)
        edits.addWidget(self.invert_button)
        edits.addStretch(1)

        values_layout = QVBoxLayout(self.values_box)
        channel_row = QHBoxLayout()
        channel_row.addWidget(self.values_channel_label)
        channel_row.addWidget(self.values_channel)
        channel_row.addStretch(1)
        values_layout.addLayout(channel_row)
        values_layout.addWidget(self.values_grid)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.canvas, 2)
        layout.addLayout(tools)
        layout.addLayout(edits)
        layout.addWidget(self.values_box, 2)

    def _connect(self) -> None:
        self.open_button.clicked.connect(self._ask_open)
        self.sample_combo.activated.connect(self._on_sample_activated)
        self.channels_combo.activated.connect(lambda _i: self.set_channels(self.channels_combo.currentData()))
        self.size_spin.valueChanged.connect(self.set_working_size)
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

    # -- public API --------------------------------------------------------------------
    def open_image(self, path: str | Path) -> bool:
        """Load ``path`` at the working size; on failure show why, keep the image, return False."""
        path = Path(path)
        try:
            image = load_image(path, long_side=MAX_WORKING_SIZE)
        except ImageLoadError as exc:
            self.show_error(str(exc))
            return False
        self._last_folder = str(path.parent)
        self._set_source(_resampler(image), text=f"Open {path.name}")
        return True

    def load_sample(self, item: Sample) -> None:
        try:
            if item.fixed_size:  # the tutorial's numbers at their own size
                matrix = item.image()
                self._set_source(_resampler(matrix), text=f"Sample {item.name}", image=matrix)
            else:
                self._set_source(item.image, text=f"Sample {item.name}")
        except ImageLoadError as exc:  # a damaged installation: the bundled file is unreadable
            self.show_error(str(exc))

    def set_tool(self, tool: str) -> None:
        self.canvas.tool = tool
        self.pen_button.setChecked(tool == PEN)
        self.eraser_button.setChecked(tool == ERASER)

    def set_channels(self, channels: int) -> None:
        """Convert the input to 1 (grayscale) or 3 (RGB) channels; in_channels follows."""
        if channels == self._session.image.shape[0]:
            return
        previous = self._source
        self._source = lambda long_side: to_channels(previous(long_side), channels)
        self._replace_image(to_channels(self._session.image, channels), "RGB input" if channels == 3 else "Grayscale input")

    def set_working_size(self, long_side: int) -> None:
        """Resample the input (from its loaded original) so that its long side is ``long_side``."""
        if max(self._session.image.shape[1:]) == long_side:
            return
        self._replace_image(self._source(long_side), f"Input size {long_side} px")

    def fill(self, value: float, text: str = "Fill input") -> None:
        self._draw_edit(np.full_like(self._session.image, value), text)

    def invert(self) -> None:
        image = self._session.image
        lo, hi = min(float(image.min()), 0.0), max(float(image.max()), 1.0)
        self._draw_edit(lo + hi - image, "Invert input")

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
    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._last_folder, FILE_FILTER)
        if path:
            self.open_image(path)

    def _on_sample_activated(self, index: int) -> None:
        key = self.sample_combo.itemData(index)
        with QSignalBlocker(self.sample_combo):
            self.sample_combo.setCurrentIndex(0)
        for s in SAMPLES:
            if s.key == key:
                self.load_sample(s)

    def _set_source(
        self, source: Callable[[int], np.ndarray], *, text: str, image: np.ndarray | None = None
    ) -> None:
        image = source(self.size_spin.value()) if image is None else image
        self._source = source
        self._replace_image(image, text)

    def _replace_image(self, image: np.ndarray, text: str) -> None:
        self._own_image = np.ascontiguousarray(image, dtype=np.float64)
        push_change(self._stack, self._session, text, lambda: self._session.set_image(self._own_image))
        self.show_error("")

    def _draw_edit(self, image: np.ndarray, text: str) -> None:
        """An edit of the pixels: the drawing becomes the new original for resizing."""
        self._source = _resampler(image)
        self._replace_image(image, text)

    def _on_value_typed(self, row: int, col: int, value: float) -> None:
        image = self._session.image.copy()
        image[self.values_channel.value(), row, col] = value
        self._draw_edit(image, "Edit input value")

    def _on_stroke_started(self) -> None:
        self._stroke_before = self._session.snapshot()

    def _on_stroke_painted(self) -> None:
        if not self._push_timer.isActive():
            self._push_timer.start()

    def _push_stroke_image(self) -> None:
        self._own_image = self.canvas.image.copy()
        self._session.set_image(self._own_image)

    def _on_stroke_finished(self) -> None:
        self._push_timer.stop()
        self._push_stroke_image()
        self._source = _resampler(self._own_image)
        before, self._stroke_before = self._stroke_before, None
        after = self._session.snapshot()
        if self._stack is not None and before is not None and not after.same_as(before):
            self._stack.push(SessionChange(self._session, "Draw", before, after))
        self.show_error("")

    # -- model -> widget ---------------------------------------------------------------
    def _on_session_image(self) -> None:
        image = self._session.image
        if image is not self._own_image:
            self._source = _resampler(image)  # undo, or an image set elsewhere: resize from it from now on
        if not self.canvas.in_stroke:
            self.canvas.set_image(image)
        c, h, w = image.shape
        self.size_label.setText(f"{w} × {h}, {c} channel{'s' if c > 1 else ''}")
        with QSignalBlocker(self.channels_combo):
            index = self.channels_combo.findData(c)
            self.channels_combo.setCurrentIndex(index)  # -1 (blank) for other channel counts
        with QSignalBlocker(self.values_channel):
            self.values_channel.setRange(0, c - 1)
        self.values_channel.setVisible(c > 1)
        self.values_channel_label.setVisible(c > 1)
        self.values_box.setVisible(max(h, w) <= MAX_LABELLED_SIDE)
        self._refresh_values()

    def _refresh_values(self) -> None:
        image = self._session.image
        if max(image.shape[1:]) <= MAX_LABELLED_SIDE:
            self.values_grid.set_values(image[self.values_channel.value()])


def _resampler(image: np.ndarray) -> Callable[[int], np.ndarray]:
    """The working-size maker of a fixed array: resizes it (the array itself at its own size)."""
    return lambda long_side: resize_long_side(image, long_side)


def _tool_button(text: str, tip: str, checked: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(True)
    button.setChecked(checked)
    button.setAutoExclusive(True)
    return button


def _push_button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button
