"""The Parameters panel: nn.Conv2d's arguments as controls bound to the session.

Every edit goes through ``push_change`` (undoable); session events refresh the controls
inside signal blockers.  Settings PyTorch would refuse are still stored in the session:
the field at fault turns red with the reason under it, and the window keeps the last
valid output on screen.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core import border_names
from convplay.core.history import History, push_change
from convplay.core.session import Session
from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError
from convplay.qt import style
from convplay.qt.widgets.field_columns import FieldColumns

# The red goes on a frame around the field, selected by its object name, so the spin boxes
# inside keep their native look (a style sheet on a QSpinBox itself redraws its arrows crudely).
FRAME_NAME = "fieldFrame"
INVALID_STYLE = style.invalid_frame_style(FRAME_NAME)
VALID_STYLE = f"QFrame#{FRAME_NAME} {{ border: 2px solid transparent; }}"
ERROR_LABEL_STYLE = style.ERROR_TEXT_STYLE
NOTE_STYLE = style.MUTED_TEXT_STYLE

# ConvSpecError.field values that have no row of their own, and the row that shows them.
FIELD_ROWS = {"input": "in_channels"}

PADDING_NUMBER, PADDING_SAME, PADDING_VALID = "number", "same", "valid"
# Fields set in columns as the width allows: one in a side column, three or four in a
# strip across the window.  A column is at least this wide.
FIELD_COLUMN_WIDTH = 220
# A spin box of a pair needs no more than this for "h 16" and its arrows; Qt's own
# minimum makes room for the widest value of the range, which no one types.
PAIR_SPIN_MIN_WIDTH = 52


class AxisPair(QWidget):
    """Two spin boxes (h, w) and a lock that keeps them equal.

    ``edited`` carries an int when both axes agree, else the pair (h, w): the form a user
    would pass to PyTorch.
    """

    edited = Signal(object)

    def __init__(self, minimum: int, maximum: int, tooltip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(tooltip)
        self.h_spin, self.w_spin = QSpinBox(), QSpinBox()
        for spin, axis in ((self.h_spin, "height"), (self.w_spin, "width")):
            spin.setRange(minimum, maximum)
            spin.setPrefix(f"{axis[0]} ")
            # Typed digits commit on Enter or focus loss: "12" is one edit, not "1" then "12".
            spin.setKeyboardTracking(False)
            spin.setToolTip(f"{tooltip}\nThis box: the {axis} axis.")
            spin.setMinimumWidth(PAIR_SPIN_MIN_WIDTH)
        self.lock = QToolButton()
        self.lock.setText("h=w")
        self.lock.setCheckable(True)
        self.lock.setChecked(True)
        self.lock.setToolTip("Lock: keep the height and width values equal (one int in PyTorch)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.h_spin, 1)
        layout.addWidget(self.w_spin, 1)
        layout.addWidget(self.lock)
        self.h_spin.valueChanged.connect(lambda v: self._on_spin(v, self.w_spin))
        self.w_spin.valueChanged.connect(lambda v: self._on_spin(v, self.h_spin))
        self.lock.toggled.connect(self._on_lock)

    def value(self) -> int | tuple[int, int]:
        h, w = self.h_spin.value(), self.w_spin.value()
        return h if h == w else (h, w)

    def set_value(self, h: int, w: int) -> None:
        """Show (h, w) without emitting; an unequal pair releases the lock."""
        with QSignalBlocker(self.h_spin), QSignalBlocker(self.w_spin), QSignalBlocker(self.lock):
            for spin, v in ((self.h_spin, h), (self.w_spin, w)):
                _widen_to(spin, v)
                spin.setValue(v)
            if h != w:
                self.lock.setChecked(False)

    def _on_spin(self, value: int, other: QSpinBox) -> None:
        if self.lock.isChecked():
            with QSignalBlocker(other):
                other.setValue(value)
        self.edited.emit(self.value())

    def _on_lock(self, locked: bool) -> None:
        if locked and self.h_spin.value() != self.w_spin.value():
            with QSignalBlocker(self.w_spin):
                self.w_spin.setValue(self.h_spin.value())
            self.edited.emit(self.value())


class BorderNamesLine(QLabel):
    """A padding_mode's names in other tools ("= OpenCV BORDER_CONSTANT (0), NumPy/scipy
    'constant'"), in small print, followed by MATLAB's 'symmetric' note only where that
    takes no more lines than the names alone at the width the label is given."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(NOTE_STYLE)
        self._mode = ""
        self.with_symmetric_note = False
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(lambda: self._fit(max(0, self.width())))

    def set_mode(self, mode: str) -> None:
        self._mode = mode
        self._fit(max(0, self.width()))

    def _texts(self) -> tuple[str, str]:
        names = border_names.elsewhere_line(self._mode)
        return f"<small>{names}</small>", f"<small>{names} · {border_names.SYMMETRIC_NOTE}</small>"

    def _fit(self, width: int) -> None:
        alone, both = self._texts()
        if width > 0:
            self.setText(both)
            fits = self.heightForWidth(width) <= self._height_of(alone, width)
        else:
            fits = False
        self.with_symmetric_note = fits
        if self.text() != (both if fits else alone):
            self.setText(both if fits else alone)
        self.setToolTip(f"{border_names.tooltip(self._mode)}\n\n{border_names.SYMMETRIC_NOTE}:\n"
                        f"{border_names.symmetric_tooltip()}")

    def _height_of(self, text: str, width: int) -> int:
        self.setText(text)
        return self.heightForWidth(width)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            # After the layout pass, not inside it: new text asks the layout that is
            # placing this label for a new size, and the fields' hand-made layout met
            # widgets mid-change and crashed the interpreter.
            self._refit.start()


@dataclass
class FieldRow:
    editor: QWidget
    frame: QFrame  # turns red when the field is at fault
    error: QLabel  # the reason, under the field


class ParamsPanel(QWidget):
    """Controls for every ConvSpec field, bound to ``session``; edits are pushed on ``history``."""

    def __init__(self, session: Session, history: History | None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self._history = history
        self.fields: dict[str, FieldRow] = {}
        self._build()
        self._connect()
        self._refresh()

    # -- construction ----------------------------------------------------------------
    def _build(self) -> None:
        self.columns = FieldColumns(column_width=FIELD_COLUMN_WIDTH, row_gap=0)  # the frames give the gaps
        self._names: list[QLabel] = []

        self.in_channels_label = QLabel()
        self.in_channels_label.setToolTip(
            "in_channels: the number of channels of the input (1 for grayscale, 3 for RGB).\n"
            "It follows the image; load an RGB or grayscale image to change it."
        )
        self._add_row("in_channels", "in_channels", self.in_channels_label)

        self.out_channels_spin = self._spin(
            1, 64,
            "out_channels: how many filters the layer has, one output feature map each.",
        )
        self._add_row("out_channels", "out_channels", self.out_channels_spin)

        self.kernel_size_pair = AxisPair(
            1, 15, "kernel_size: the height and width of each filter (an int or a pair (kH, kW))."
        )
        self._add_row("kernel_size", "kernel_size", self.kernel_size_pair)

        self.stride_pair = AxisPair(
            1, 16, "stride: how many pixels the kernel moves between outputs (an int or a pair)."
        )
        self._add_row("stride", "stride", self.stride_pair)

        self.padding_combo = QComboBox()
        self.padding_combo.addItem("number", PADDING_NUMBER)
        self.padding_combo.addItem("'same'", PADDING_SAME)
        self.padding_combo.addItem("'valid'", PADDING_VALID)
        self.padding_combo.setToolTip(
            "padding: a number of pixels added on each side (an int or a pair),\n"
            "'same' (pad so the output keeps the input's size; stride 1 only; an even\n"
            "kernel pads one more after than before), or 'valid' (no padding)."
        )
        self.padding_pair = AxisPair(
            0, 32, "padding: pixels added before and after the input on each axis (an int or a pair)."
        )
        padding_editor = QWidget()
        padding_editor.setToolTip(self.padding_combo.toolTip())
        padding_layout = QHBoxLayout(padding_editor)
        padding_layout.setContentsMargins(0, 0, 0, 0)
        padding_layout.addWidget(self.padding_combo)
        padding_layout.addWidget(self.padding_pair, 1)
        self._add_row("padding", "padding", padding_editor)

        self.padding_mode_combo = QComboBox()
        for mode in PADDING_MODES:
            self.padding_mode_combo.addItem(mode, mode)
            # each border's names in OpenCV, NumPy, scipy and MATLAB, on its own item
            self.padding_mode_combo.setItemData(self.padding_mode_combo.count() - 1, border_names.tooltip(mode),
                                                Qt.ItemDataRole.ToolTipRole)
        self.padding_mode_combo.setToolTip(
            "padding_mode: what the padded border holds.\n"
            "zeros: 0; reflect: the input mirrored without repeating the edge;\n"
            "replicate: the edge pixel repeated; circular: the opposite edge (wraps around).\n"
            "A transposed convolution accepts only zeros.\n"
            "Under it: the same border's names in OpenCV, NumPy and scipy (each item's tooltip\n"
            "adds MATLAB's).\n\n" + border_names.SCIPY_TRAP
        )
        # Under the combo, in the field's column: the same border's names in OpenCV, NumPy
        # and scipy, then MATLAB's 'symmetric' note where it fits on those lines (else in
        # the line's tooltip: the panel never grows a line for it).
        self.border_names_label = BorderNamesLine()
        padding_mode_editor = QWidget()
        padding_mode_editor.setToolTip(self.padding_mode_combo.toolTip())
        padding_mode_layout = QHBoxLayout(padding_mode_editor)
        padding_mode_layout.setContentsMargins(0, 0, 0, 0)
        padding_mode_layout.addWidget(self.padding_mode_combo)
        padding_mode_layout.addStretch(1)
        self._add_row("padding_mode", "padding_mode", padding_mode_editor, note=self.border_names_label)

        self.dilation_pair = AxisPair(
            1, 16, "dilation: the spacing between kernel taps; 2 leaves a gap of one pixel (an int or a pair)."
        )
        self._add_row("dilation", "dilation", self.dilation_pair)

        self.groups_spin = self._spin(
            1, 64,
            "groups: split the input and output channels into this many independent groups;\n"
            "it must divide both in_channels and out_channels (groups = in_channels is a\n"
            "depthwise convolution).",
        )
        self._add_row("groups", "groups", self.groups_spin)

        self.bias_check = QCheckBox("bias")
        self.bias_check.setToolTip("bias: add one learnable constant per output channel.")
        self._add_row("bias", "", self.bias_check)

        self.transposed_check = QCheckBox("transposed (ConvTranspose2d)")
        self.transposed_check.setToolTip(
            "Use nn.ConvTranspose2d: each input pixel stamps the kernel into the output, which\n"
            "grows instead of shrinking (the gradient of a convolution, 'deconvolution')."
        )
        self._add_row("transposed", "", self.transposed_check)

        self.output_padding_pair = AxisPair(
            0, 16,
            "output_padding (transposed only): extra rows/columns added to one side of the output,\n"
            "to pick among the input sizes a strided convolution maps to the same size.\n"
            "It must be smaller than the stride or the dilation.",
        )
        self._add_row("output_padding", "output_padding", self.output_padding_pair)

        self.true_convolution_check = QCheckBox("true convolution (flip kernel)")
        self.true_convolution_check.setToolTip(
            "Flip the kernel in both axes before sliding it: the convolution of mathematics and\n"
            "signal processing.  This is NOT what PyTorch computes: nn.Conv2d and F.conv2d\n"
            "compute cross-correlation, with the kernel as stored."
        )
        true_note = QLabel("not what PyTorch computes (it does not flip)")
        true_note.setWordWrap(True)
        true_note.setStyleSheet(NOTE_STYLE)
        true_note.setToolTip(self.true_convolution_check.toolTip())
        self._add_row("true_convolution", "", self.true_convolution_check, note=true_note)
        # The names share one width, so that the fields of a column line up.
        name_width = max(name.sizeHint().width() for name in self._names)
        for name in self._names:
            name.setMinimumWidth(name_width)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setToolTip("The output shape (C_out, H_out, W_out) for the current input, or why PyTorch refuses.")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(self.columns)
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def _spin(self, minimum: int, maximum: int, tooltip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(minimum, maximum)
        spin.setKeyboardTracking(False)
        spin.setToolTip(tooltip)
        return spin

    def _add_row(self, field: str, label: str, editor: QWidget, note: QLabel | None = None) -> None:
        """One field: its name, the editor in a frame that turns red, the reason under it."""
        cell = QWidget()
        cell.setObjectName(f"field-{field}")
        grid = QGridLayout(cell)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        grid.setColumnStretch(1, 1)
        name = QLabel(label)
        name.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._names.append(name)
        if label:
            name.setToolTip(editor.toolTip())
            name.setBuddy(editor)
        grid.addWidget(name, 0, 0)
        frame = QFrame()
        frame.setObjectName(FRAME_NAME)
        frame.setStyleSheet(VALID_STYLE)
        frame_layout = QHBoxLayout(frame)
        frame_layout.setContentsMargins(2, 2, 2, 2)
        frame_layout.addWidget(editor)
        grid.addWidget(frame, 0, 1)
        if note is not None:
            grid.addWidget(note, 1, 1)
        error = QLabel()
        error.setWordWrap(True)
        error.setStyleSheet(ERROR_LABEL_STYLE)
        error.hide()
        grid.addWidget(error, 2, 1)
        self.columns.addWidget(cell)
        self.fields[field] = FieldRow(editor, frame, error)

    def _connect(self) -> None:
        self.out_channels_spin.valueChanged.connect(lambda v: self._set("out_channels", v, "Set out_channels"))
        self.kernel_size_pair.edited.connect(lambda v: self._set("kernel_size", v, "Set kernel size"))
        self.stride_pair.edited.connect(lambda v: self._set("stride", v, "Set stride"))
        self.padding_combo.activated.connect(self._on_padding_edited)
        self.padding_pair.edited.connect(self._on_padding_edited)
        self.padding_mode_combo.activated.connect(
            lambda _: self._set("padding_mode", self.padding_mode_combo.currentData(), "Set padding mode")
        )
        self.dilation_pair.edited.connect(lambda v: self._set("dilation", v, "Set dilation"))
        self.groups_spin.valueChanged.connect(lambda v: self._set("groups", v, "Set groups"))
        self.bias_check.toggled.connect(lambda on: self._set("bias", on, "Bias on" if on else "Bias off"))
        self.transposed_check.toggled.connect(
            lambda on: self._set("transposed", on, "Transposed convolution" if on else "Ordinary convolution")
        )
        self.output_padding_pair.edited.connect(lambda v: self._set("output_padding", v, "Set output padding"))
        self.true_convolution_check.toggled.connect(self._on_true_convolution_toggled)

        session = self._session
        handlers = ((session.spec_changed, self._refresh), (session.image_changed, self._refresh),
                    (session.kernel_changed, self._refresh_true_convolution))
        for signal, handler in handlers:
            signal.connect(handler)
        # The session outlives the panel: stop hearing it once the widget is gone.
        self.destroyed.connect(lambda: [signal.disconnect(handler) for signal, handler in handlers])

    # -- view -> model ---------------------------------------------------------------
    def _set(self, field: str, value, text: str) -> None:
        spec = self._session.spec.replace(**{field: value})
        push_change(self._history, self._session, text, lambda: self._session.set_spec(spec))

    def _on_padding_edited(self, *_) -> None:
        choice = self.padding_combo.currentData()
        padding = self.padding_pair.value() if choice == PADDING_NUMBER else choice
        self._set("padding", padding, "Set padding")

    def _on_true_convolution_toggled(self, on: bool) -> None:
        text = "True convolution" if on else "Cross-correlation (PyTorch)"
        push_change(self._history, self._session, text, lambda: self._session.set_true_convolution(on))

    # -- model -> view ---------------------------------------------------------------
    def _refresh(self) -> None:
        spec = self._session.spec
        with ExitStack() as blocked:
            for widget in (self.out_channels_spin, self.padding_combo, self.padding_mode_combo,
                           self.groups_spin, self.bias_check, self.transposed_check):
                blocked.enter_context(QSignalBlocker(widget))
            self._show_spec(spec)
        self._refresh_true_convolution()
        self._show_validation(spec)

    def _show_spec(self, spec: ConvSpec) -> None:
        image_channels = self._session.image.shape[0]
        if spec.in_channels == image_channels:
            note = "(follows the image)"
        else:  # a loaded kernel's in_channels, until the image or the kernel changes
            plural = "s" if image_channels != 1 else ""
            note = f"(the kernel's; the image has {image_channels} channel{plural})"
        self.in_channels_label.setText(f"<b>{spec.in_channels}</b>&nbsp;&nbsp;&nbsp;<i>{note}</i>")
        _show_int(self.out_channels_spin, spec.out_channels)
        _show_pair(self.kernel_size_pair, spec.kernel_size)
        _show_pair(self.stride_pair, spec.stride)
        if isinstance(spec.padding, str):
            index = self.padding_combo.findData(spec.padding)
            self.padding_combo.setCurrentIndex(max(index, 0))
        else:
            self.padding_combo.setCurrentIndex(self.padding_combo.findData(PADDING_NUMBER))
            _show_pair(self.padding_pair, spec.padding)
        self.padding_pair.setEnabled(not isinstance(spec.padding, str))
        self.padding_mode_combo.setCurrentIndex(max(self.padding_mode_combo.findData(spec.padding_mode), 0))
        mode = self.padding_mode_combo.currentData()
        self.border_names_label.set_mode(mode)
        _show_pair(self.dilation_pair, spec.dilation)
        _show_int(self.groups_spin, spec.groups)
        self.bias_check.setChecked(bool(spec.bias))
        self.transposed_check.setChecked(bool(spec.transposed))
        _show_pair(self.output_padding_pair, spec.output_padding)
        self.output_padding_pair.setEnabled(bool(spec.transposed))

    def _refresh_true_convolution(self) -> None:
        with QSignalBlocker(self.true_convolution_check):
            self.true_convolution_check.setChecked(self._session.true_convolution)

    def _show_validation(self, spec: ConvSpec) -> None:
        try:
            shape = spec.output_shape(self._session.image.shape)
        except ConvSpecError as err:
            self._mark_invalid(FIELD_ROWS.get(err.field, err.field), str(err))
            return
        self._mark_invalid(None, "")
        _set_style(self.summary, "")
        if self.answer_hidden:  # a lesson's question asks for it
            self.summary.setText("output (C, H, W) = ? (shown with the answer)")
            return
        self.summary.setText("output (C, H, W) = ({}, {}, {})".format(*shape))

    answer_hidden = False

    def set_answer_hidden(self, on: bool) -> None:
        self.answer_hidden = bool(on)
        self._show_validation(self._session.spec)

    def _mark_invalid(self, field: str | None, message: str) -> None:
        for name, row in self.fields.items():
            bad = name == field
            # Setting a style sheet re-polishes the frame's children: only on a change.
            if bool(row.frame.property("invalid")) != bad:
                row.frame.setProperty("invalid", bad)
                row.frame.setStyleSheet(INVALID_STYLE if bad else VALID_STYLE)
            row.error.setText(message if bad else "")
            row.error.setVisible(bad)
        if field is not None:
            _set_style(self.summary, ERROR_LABEL_STYLE)
            where = "" if field in self.fields else f"{message}\n"
            self.summary.setText(f"{where}PyTorch would refuse these settings: the last valid output stays on screen.")

    # -- for tests and the window ------------------------------------------------------
    def invalid_field(self) -> str | None:
        """The row marked red, if any."""
        return next((name for name, row in self.fields.items() if row.frame.property("invalid")), None)


def _set_style(widget: QWidget, sheet: str) -> None:
    if widget.styleSheet() != sheet:  # an unchanged sheet would still re-polish
        widget.setStyleSheet(sheet)


def _widen_to(spin: QSpinBox, value: int) -> None:
    """Let ``spin`` show ``value`` as it is: a loaded layer may lie outside the usual range."""
    spin.setRange(min(spin.minimum(), value), max(spin.maximum(), value))


def _show_int(spin: QSpinBox, value) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        _widen_to(spin, value)
        spin.setValue(value)


def _show_pair(pair: AxisPair, value) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        pair.set_value(value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        pair.set_value(int(value[0]), int(value[1]))
