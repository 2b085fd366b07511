"""Edit one layer: a small form built from its PyTorch arguments (core.layers.KINDS), or its
``nn.X(...)`` code typed in.

Every change is checked as the constructor would check it (``Layer.make``); a refusal is
shown in red under the form, the field at fault framed, and OK waits: nothing raises.
Typed code is read by the stack parser, never run.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convplay.core.layers import (
    DESCRIPTIONS,
    KINDS,
    REQUIRED,
    Arg,
    Layer,
    LayerError,
    pair,
)
from convplay.core.stack_edits import layer_from_code
from convplay.qt import style
from convplay.qt.theme import set_sheet
from convplay.qt.widgets.stack_table import code_font

_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$")
_INT = re.compile(r"^[+-]?[0-9]{1,9}$")


class FieldError(ValueError):
    pass


class _Spin(QSpinBox):
    def __init__(self, arg: Arg, parent=None):
        super().__init__(parent)
        self.setRange(int(arg.low if arg.low is not None else -10**6), int(arg.high if arg.high is not None else 10**6))
        self.setKeyboardTracking(False)  # typing "16" is one change, not "1" then "16"


class ArgField(QWidget):
    """The editor of one argument; ``value()`` raises FieldError for text that is no value."""

    changed = Signal()

    def __init__(self, arg: Arg, parent=None):
        super().__init__(parent)
        self.arg = arg
        self.setObjectName(f"field_{arg.name}")
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        kind = arg.kind
        self._mode: QComboBox | None = None
        self._default_box: QCheckBox | None = None
        self._pair: tuple[_Spin, _Spin] | None = None
        self._check: QCheckBox | None = None
        self._combo: QComboBox | None = None
        self._line: QLineEdit | None = None
        self._spin: _Spin | None = None
        if kind == "bool":
            self._check = QCheckBox()
            self._check.toggled.connect(self.changed)
            row.addWidget(self._check)
        elif kind == "choice":
            self._combo = QComboBox()
            self._combo.addItems([str(c) for c in arg.choices])
            self._combo.currentIndexChanged.connect(self.changed)
            row.addWidget(self._combo)
        elif kind == "int":
            self._spin = _Spin(arg)
            self._spin.valueChanged.connect(self.changed)
            row.addWidget(self._spin)
        elif kind in ("size", "optional_size", "conv_padding"):
            if kind == "conv_padding":
                self._mode = QComboBox()
                self._mode.addItems(["numbers", "same", "valid"])
                self._mode.setToolTip("'same' keeps the size (stride 1 only); 'valid' is no padding")
                self._mode.currentIndexChanged.connect(self._follow_mode)
                row.addWidget(self._mode)
            if kind == "optional_size":
                self._default_box = QCheckBox("= kernel_size")
                self._default_box.setToolTip("None: the stride is the kernel size, PyTorch's default")
                self._default_box.toggled.connect(self._follow_mode)
                row.addWidget(self._default_box)
            h, w = _Spin(arg), _Spin(arg)
            h.setToolTip(f"{arg.name} along the rows (h)")
            w.setToolTip(f"{arg.name} along the columns (w)")
            self._pair = (h, w)
            row.addWidget(h)
            row.addWidget(QLabel("×"))
            row.addWidget(w)
            h.valueChanged.connect(self.changed)
            w.valueChanged.connect(self.changed)
        else:  # float, optional_float, optional_int, output_size: typed
            self._line = QLineEdit()
            self._line.setPlaceholderText("None" if kind.startswith("optional") else "")
            if kind == "output_size":
                self._line.setPlaceholderText("7 or (7, 7); None keeps that side")
            self._line.editingFinished.connect(self.changed)
            row.addWidget(self._line)
        row.addStretch(1)
        tip = f"{arg.name} ({_kind_words(arg)})"
        if arg.default is not REQUIRED:
            tip += f"; PyTorch's default: {arg.default!r}"
        self.setToolTip(tip)

    def _follow_mode(self, *_args) -> None:
        numbers = (self._mode is None or self._mode.currentIndex() == 0) and not (
            self._default_box is not None and self._default_box.isChecked())
        for spin in self._pair or ():
            spin.setEnabled(numbers)
        self.changed.emit()

    # -- values ---------------------------------------------------------------------------
    def set_value(self, value) -> None:
        for widget in self.findChildren(QWidget):
            widget.blockSignals(True)
        try:
            if self._check is not None:
                self._check.setChecked(bool(value))
            elif self._combo is not None:
                self._combo.setCurrentIndex(max(0, self._combo.findText(str(value))))
            elif self._spin is not None:
                self._spin.setValue(int(value))
            elif self._pair is not None:
                if self._mode is not None:
                    self._mode.setCurrentIndex({"same": 1, "valid": 2}.get(value, 0) if isinstance(value, str) else 0)
                if self._default_box is not None:
                    self._default_box.setChecked(value is None)
                if isinstance(value, str) or value is None:
                    value = 0 if isinstance(value, str) else 1
                h, w = pair(value)
                self._pair[0].setValue(int(h))
                self._pair[1].setValue(int(w))
                numbers = not isinstance(self._mode, QComboBox) or self._mode.currentIndex() == 0
                numbers = numbers and not (self._default_box is not None and self._default_box.isChecked())
                for spin in self._pair:
                    spin.setEnabled(numbers)
            elif self._line is not None:
                self._line.setText(_value_text(value))
        finally:
            for widget in self.findChildren(QWidget):
                widget.blockSignals(False)

    def value(self):
        if self._check is not None:
            return self._check.isChecked()
        if self._combo is not None:
            return self._combo.currentText()
        if self._spin is not None:
            return self._spin.value()
        if self._pair is not None:
            if self._mode is not None and self._mode.currentIndex():
                return self._mode.currentText()
            if self._default_box is not None and self._default_box.isChecked():
                return None
            h, w = self._pair[0].value(), self._pair[1].value()
            return h if h == w else (h, w)
        return _typed(self.arg, self._line.text() if self._line is not None else "")

    def mark(self, bad: bool) -> None:
        set_sheet(self, style.invalid_frame_style(self.objectName()) if bad else "")


def _kind_words(arg: Arg) -> str:
    return {
        "int": "a whole number", "size": "a number or h×w", "optional_size": "a number, h×w or None",
        "conv_padding": "a number, h×w, 'same' or 'valid'", "float": "a number",
        "optional_float": "a number or None", "bool": "on or off", "choice": "one of the list",
        "optional_int": "a whole number or None", "output_size": "a number or (h, w), None keeping a side",
    }.get(arg.kind, arg.kind)


def _value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "(" + ", ".join("None" if v is None else str(v) for v in value) + ")"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _typed(arg: Arg, text: str):
    """The value typed for ``arg``; FieldError for text that is not one (no eval)."""
    text = text.strip()
    if arg.kind in ("optional_float", "optional_int") and text in ("", "None"):
        return None
    if arg.kind in ("float", "optional_float"):
        try:
            return float(text)
        except ValueError:
            raise FieldError(f"{arg.name} must be a number, not {text!r}") from None
    if arg.kind == "optional_int":
        if not _INT.match(text):
            raise FieldError(f"{arg.name} must be a whole number or empty (None), not {text!r}")
        return int(text)
    if arg.kind == "output_size":
        inner = text[1:-1] if text.startswith("(") and text.endswith(")") else text
        parts = [p.strip() for p in inner.split(",")]
        values = []
        for p in parts:
            if p == "None":
                values.append(None)
            elif _INT.match(p):
                values.append(int(p))
            else:
                raise FieldError(f"output_size must be a number or (h, w), not {text!r}")
        if len(values) == 1 and values[0] is not None:
            return values[0]
        if len(values) == 2:
            return tuple(values)
        raise FieldError(f"output_size must be a number or (h, w), not {text!r}")
    raise FieldError(f"{arg.name}: cannot read {text!r}")


class LayerDialog(QDialog):
    """``layer`` is the edited layer while the form holds one PyTorch builds, else None."""

    def __init__(self, layer: Layer, receives: str = "", uses: int = 1, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Edit {layer.label}")
        self._layer: Layer | None = layer
        self._kind = layer.kind
        self._fields: dict[str, ArgField] = {}
        layout = QVBoxLayout(self)
        self.about = QLabel("")
        self.about.setWordWrap(True)
        layout.addWidget(self.about)
        top = QFormLayout()
        self.name_edit = QLineEdit(layer.name)
        self.name_edit.setPlaceholderText("none: named by its place, as in nn.Sequential")
        self.name_edit.setToolTip("The module's name in the model (conv1): the weights are found by it")
        self.name_edit.editingFinished.connect(self._from_form)
        top.addRow("Name", self.name_edit)
        self.code_edit = QLineEdit(layer.code())
        self.code_edit.setFont(code_font())
        self.code_edit.setToolTip("The layer as PyTorch code: type it and press Enter (read, never run)")
        self._code_typed = False  # the code was typed since it last read: OK reads it, not the form
        self.code_edit.textEdited.connect(self._on_code_typed)
        self.code_edit.returnPressed.connect(self._from_code)
        self.code_edit.editingFinished.connect(self._from_code)
        top.addRow("Code", self.code_edit)
        layout.addLayout(top)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_host)
        self.receives = QLabel(f"It receives {receives}." if receives else "")
        set_sheet(self.receives, style.MUTED_TEXT_STYLE)
        layout.addWidget(self.receives)
        if uses > 1:
            shared = QLabel(f"{layer.name} is one module used {uses} times: the edit changes every use.")
            shared.setWordWrap(True)
            set_sheet(shared, style.MUTED_TEXT_STYLE)
            layout.addWidget(shared)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        set_sheet(self.error, style.FAILED_TEXT_STYLE)
        self.error.setToolTip("Why PyTorch would not build the layer as it is")
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setToolTip("Put the edited layer in the stack")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Keep the layer as it was")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._build(layer)

    @property
    def layer(self) -> Layer | None:
        return self._layer

    @property
    def error_text(self) -> str:
        return self.error.text()

    def field(self, name: str) -> ArgField:
        return self._fields[name]

    def _on_code_typed(self, *_args) -> None:
        self._code_typed = True

    def accept(self) -> None:
        if self._code_typed:
            self._from_code()
        else:
            self._from_form()
        if self._layer is not None:
            super().accept()

    # -- building --------------------------------------------------------------------------
    def _build(self, layer: Layer) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._fields.clear()
        self._kind = layer.kind
        self.about.setText(f"{layer.kind}: {DESCRIPTIONS.get(layer.kind, '')}")
        for arg in KINDS[layer.kind]:
            field = ArgField(arg)
            field.set_value(layer[arg.name])
            field.changed.connect(self._from_form)
            self._fields[arg.name] = field
            self.form.addRow(arg.name, field)
        if not KINDS[layer.kind]:
            self.form.addRow(QLabel("This layer has no arguments."))
        self._layer = layer
        self._show_error("")

    def _name(self) -> str:
        name = self.name_edit.text().strip()
        if name and not _NAME.match(name):
            raise LayerError(f"a name is letters, digits and _ (dots between parts), not {name!r}", "name")
        return name

    def _from_form(self, *_args) -> None:
        self._layer = None
        for field in self._fields.values():
            field.mark(False)
        try:
            name = self._name()
            kwargs = {arg_name: field.value() for arg_name, field in self._fields.items()}
            layer = Layer.make(self._kind, name=name, **kwargs)
        except FieldError as exc:
            self._show_error(str(exc))
            return
        except LayerError as exc:
            if exc.field in self._fields:
                self._fields[exc.field].mark(True)
            self._show_error(str(exc))
            return
        except (ValueError, TypeError) as exc:
            self._show_error(str(exc))
            return
        self._layer = layer
        self.code_edit.blockSignals(True)
        self.code_edit.setText(layer.code())
        self.code_edit.blockSignals(False)
        self._show_error("")

    def _from_code(self) -> None:
        try:
            name = self._name()
            layer = layer_from_code(self.code_edit.text(), name)
        except LayerError as exc:
            self._layer = None
            self._show_error(str(exc))
            return
        self._code_typed = False
        if layer.kind != self._kind:
            self._build(layer)
            self.setWindowTitle(f"Edit {layer.label}")
        else:
            for arg_name, field in self._fields.items():
                field.set_value(layer[arg_name])
                field.mark(False)
        self._layer = layer
        self._show_error("")

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self.ok_button.setEnabled(not text and self._layer is not None)
