"""Kernel designer: a kernel family's parameters as sliders and spin boxes.

The panel makes the session's kernel from a ``KernelRecipe`` (family, parameters,
normalisation) and shows the recipe the session holds.  The recipe is the session's, so
undo, redo and session files bring the parameters back; the panel keeps only what it
shows (one page of rows per family, each remembering its last values).

Edits are cheap and merged: a slider drag applies the kernel at every step without
history and records the whole drag as one undo step on release; a spin box, a click on
the slider's groove, the normalisation and Apply are one step each.

Once anything else changes the weights the session drops the recipe: the panel says the
kernel is detached and keeps the last parameters shown, and it never overwrites a kernel
that was not made from parameters until the user moves a parameter or presses Apply.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core import kernel_edits as edits
from convplay.core import kernel_recipe
from convplay.core.history import History, push_change, record_change
from convplay.core.kernel_edits import ALL, kernel_size_arg
from convplay.core.kernel_recipe import NORMALISATION_LABELS, KernelRecipe
from convplay.core.parametric_kernels import KernelParameterError, Parameter
from convplay.core.session import EDITED, Session
from convplay.qt import style
from convplay.qt.output_first import OUTPUT_FIRST
from convplay.qt.shown import hear_while_alive

# The families as an image-processing engineer looks for them; a family not named here
# (one added later) is listed under "Other", so every family is always offered.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Blurs", ("gaussian", "box", "disk", "motion")),
    ("Derivatives and edges", ("gaussian_dx", "gaussian_dy", "sobel5_x", "sobel5_y", "sobel7_x", "sobel7_y")),
    ("Laplacians and sharpening", ("log", "dog", "laplacian", "unsharp")),
    ("Gabor", ("gabor",)),
    ("Gradient pairs", ("sobel_pair", "scharr_pair", "prewitt_pair", "gaussian_pair")),
)
DEFAULT_FAMILY = "gaussian"
ANGLES = ("angle", "theta", "psi")  # parameters in degrees: their spin boxes show "°"

ATTACHED_TEXT = "Made from these parameters: moving a slider changes the kernel at once."
DETACHED_TEXT = (
    "Detached: the weights were edited by hand. Move a slider or press Apply to make them "
    "from these parameters again."
)
NOT_MADE_TEXT = (
    "The kernel is {name}, not made from parameters: press Apply to make it from these "
    "(a family chosen waits for Apply)."
)
NORMALISATION_TIPS = {
    "none": "As defined: the family's own scaling, no renormalising.",
    "sum": "Sum to 1: the weights divided by their sum, so a blur keeps the brightness "
    "(refused for a kernel that sums to 0).",
    "zero_mean": "Zero mean: the mean subtracted, so a flat image gives no response.",
}
PAIR_NOTE = (
    "A gradient pair: output channel 0 is x, output channel 1 is y, each on every input channel; "
    "the output panel derives the magnitude and the orientation from the two."
)


# The state line, at the top: a calm green while the kernel follows the parameters, the
# warning colour on a tinted ground while it does not (the sliders then show other numbers).
ATTACHED_STYLE = f"QLabel {{ color: {style.OK}; padding: 2px 4px; }}"
DETACHED_STYLE = (
    f"QLabel {{ color: {style.STALE_TEXT}; background: {style.STALE_BACKGROUND}; "
    "font-weight: bold; padding: 2px 4px; border-radius: 3px; }"
)


# -- one parameter's slider positions ------------------------------------------------------
def decimals(step: float) -> int:
    """Digits after the point that ``step`` needs: 0.1 -> 1, 0.05 -> 2, 1 -> 0."""
    text = f"{step:g}"
    return len(text.partition(".")[2]) if "e" not in text else 6


def positions(p: Parameter) -> int:
    """The slider's last position: the steps from minimum to maximum."""
    return max(1, round((p.maximum - p.minimum) / p.step))


def to_position(p: Parameter, value: float) -> int:
    return int(min(positions(p), max(0, round((float(value) - p.minimum) / p.step))))


def from_position(p: Parameter, position: int):
    value = min(p.maximum, p.minimum + position * p.step)
    return round(value) if p.integer else round(value, decimals(p.step))


def snapped(p: Parameter, value):
    """A typed integer put on the table's grid (a Sobel's size 4 becomes 5); others as typed."""
    if p.integer and p.step > 1:
        return int(p.minimum + round((value - p.minimum) / p.step) * p.step)
    return int(value) if p.integer else float(value)


def not_made_text(name: str) -> str:
    """The state line for a kernel made otherwise (a preset, a hand edit, a loaded layer)."""
    return NOT_MADE_TEXT.format(name=name or "unnamed")


def tooltip(p: Parameter, label: str | None = None) -> str:
    return f"{label or p.label} ({p.name}): {p.description}; {p.allowed()}, in steps of {p.step:g}."


def sum_text(value: float, scale: float) -> str:
    """A kernel's sum for the summary line: rounding noise beside the weights shows as 0."""
    if abs(value) <= 1e-12 * max(scale, 1e-300):
        return "0"
    return f"{value:.4g}"


# -- the rows ------------------------------------------------------------------------------
class ParameterRow:
    """A label, a slider and a spin box for one parameter, kept in step; an error line below.

    ``on_value(value, dragging)`` hears every user change; ``on_released()`` the end of a drag.
    """

    def __init__(self, p: Parameter, label: str, on_value: Callable, on_released: Callable):
        self.parameter = p
        self._on_value = on_value
        self.value = p.default
        tip = tooltip(p, label)
        self.label = QLabel(label)
        self.label.setToolTip(tip)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, positions(p))
        self.slider.setPageStep(max(1, positions(p) // 10))
        self.slider.setToolTip(tip + " Drag: the kernel follows; the whole drag is one undo step.")
        self.slider.setMinimumWidth(60)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        if p.integer:
            self.spin: QAbstractSpinBox = QSpinBox()
            self.spin.setRange(int(p.minimum), int(p.maximum))
            self.spin.setSingleStep(max(1, int(p.step)))
        else:
            self.spin = QDoubleSpinBox()
            self.spin.setDecimals(decimals(p.step))
            self.spin.setRange(p.minimum, p.maximum)
            self.spin.setSingleStep(p.step)
        if p.name in ANGLES:
            self.spin.setSuffix("°")
        self.spin.setToolTip(tip)
        self.spin.setKeyboardTracking(False)  # typing "12" must not pass through 1
        self.spin.setAccelerated(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.error.setToolTip(f"Why this value of {label} was refused: the kernel stays as it was.")
        self.error.hide()
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderReleased.connect(on_released)
        self.spin.valueChanged.connect(self._spun)
        self.set_value(p.default)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.slider, self.spin, self.error)

    def set_value(self, value) -> None:
        """Model -> view: show ``value`` without telling anyone."""
        value = int(value) if self.parameter.integer else float(value)
        self.value = value
        with QSignalBlocker(self.slider), QSignalBlocker(self.spin):
            self.slider.setValue(to_position(self.parameter, value))
            self.spin.setValue(value)

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _slid(self, position: int) -> None:
        self.value = from_position(self.parameter, position)
        with QSignalBlocker(self.spin):
            self.spin.setValue(self.value)
        self._on_value(self.value, self.slider.isSliderDown())

    def _spun(self, value) -> None:
        value = snapped(self.parameter, value)
        if value != self.spin.value():
            with QSignalBlocker(self.spin):
                self.spin.setValue(value)
        self.value = value
        with QSignalBlocker(self.slider):
            self.slider.setValue(to_position(self.parameter, value))
        self._on_value(value, False)


class FamilyPage(QWidget):
    """The rows of one family's parameters.  A size can be split into height and width.

    ``edited(name, dragging)`` on every user change, ``released()`` at a drag's end."""

    edited = Signal(str, bool)
    released = Signal()

    def __init__(self, key: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.family = kernel_recipe.family_of(key)
        self.rows: dict[str, ParameterRow] = {}
        self.width_row: ParameterRow | None = None
        self.split_button: QToolButton | None = None
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        line = 0
        for p in self.family.parameters:
            row = ParameterRow(p, p.label, self._handler(p.name), self.released.emit)
            self.rows[p.name] = row
            line = self._place(grid, row, line)
            if p.name == "size" and p.step == 1:  # the family takes (h, w) as well
                self.split_button = QToolButton()
                self.split_button.setText("h×w")
                self.split_button.setCheckable(True)
                self.split_button.setToolTip("Separate height and width (a kernel that is not square).")
                self.split_button.toggled.connect(self._split_toggled)
                grid.addWidget(self.split_button, line - 2, 3)
                self.width_row = ParameterRow(p, "Width", self._handler("size"), self.released.emit)
                line = self._place(grid, self.width_row, line)
                for w in self.width_row.widgets()[:3]:
                    w.hide()
        if not self.family.parameters:
            none = QLabel("No parameters: press Apply to use this kernel.")
            none.setStyleSheet(style.MUTED_TEXT_STYLE)
            none.setToolTip(self.family.description)
            grid.addWidget(none, 0, 0, 1, 4)

    @staticmethod
    def _place(grid: QGridLayout, row: ParameterRow, line: int) -> int:
        grid.addWidget(row.label, line, 0)
        grid.addWidget(row.slider, line, 1)
        grid.addWidget(row.spin, line, 2)
        grid.addWidget(row.error, line + 1, 0, 1, 4)
        return line + 2

    def _handler(self, name: str) -> Callable:
        return lambda _value, dragging: self.edited.emit(name, dragging)

    @property
    def split(self) -> bool:
        return self.split_button is not None and self.split_button.isChecked()

    def _show_split(self, on: bool) -> None:
        self.rows["size"].label.setText("Height" if on else self.rows["size"].parameter.label)
        for w in self.width_row.widgets()[:3]:
            w.setVisible(on)
        if not on:
            self.width_row.set_error("")

    def _split_toggled(self, on: bool) -> None:
        self._show_split(on)
        if on:  # a square until the user moves one: the kernel is the same
            self.width_row.set_value(self.rows["size"].value)
        elif self.width_row.value != self.rows["size"].value:
            self.edited.emit("size", False)

    def values(self) -> dict:
        out = {name: row.value for name, row in self.rows.items()}
        if self.split:
            out["size"] = (int(self.rows["size"].value), int(self.width_row.value))
        return out

    def set_values(self, values: dict) -> None:
        """Model -> view: the parameters of a recipe (a size may be an (h, w) pair)."""
        for name, value in values.items():
            row = self.rows.get(name)
            if row is None:
                continue
            if name == "size" and self.split_button is not None:
                h, w = value if isinstance(value, tuple) else (value, value)
                with QSignalBlocker(self.split_button):
                    self.split_button.setChecked(isinstance(value, tuple))
                self._show_split(isinstance(value, tuple))
                row.set_value(h)
                self.width_row.set_value(w)
            else:
                row.set_value(value[0] if isinstance(value, tuple) else value)

    def show_error(self, name: str | None, text: str) -> bool:
        """The message beside the row ``name`` names; False when no row has that name."""
        row = self.rows.get(name or "")
        if row is None:
            return False
        row.set_error(text)
        return True

    def clear_errors(self) -> None:
        for row in (*self.rows.values(), *([self.width_row] if self.width_row else [])):
            row.set_error("")


# -- the panel -----------------------------------------------------------------------------
class DesignerPanel(QWidget):
    """Make the session's kernel from a family's parameters; show the recipe it holds."""

    def __init__(self, session: Session, history: History | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._session = session
        self._history = history
        self._pair = (0, 0)
        self._last: KernelRecipe | None = None  # the recipe last seen in the session
        self._drag_before = None  # the session's snapshot when a drag began
        self._normalisations: dict[str, str] = {}  # each family's, as last chosen or seen

        self.family_combo = QComboBox()
        self.family_combo.setToolTip("The kernel family: its parameters appear below.")
        self.family_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.family_combo.setMinimumContentsLength(14)
        self.family_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fill_families()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet(style.MUTED_TEXT_STYLE)

        self.pages: dict[str, FamilyPage] = {}
        self.pages_box = QWidget()
        pages_layout = QVBoxLayout(self.pages_box)
        pages_layout.setContentsMargins(0, 0, 0, 0)
        # Every page made now (a few dozen small widgets): each keeps its family's last
        # values, and the window's undo keys reach every spin box it finds at start.
        for key in kernel_recipe.kinds():
            page = FamilyPage(key)
            page.edited.connect(self._on_edited)
            page.released.connect(self._on_released)
            page.hide()
            pages_layout.addWidget(page)
            self.pages[key] = page

        self.normalisation_combo = QComboBox()
        for mode, label in NORMALISATION_LABELS.items():
            self.normalisation_combo.addItem(label, mode)
            if mode in NORMALISATION_TIPS:
                index = self.normalisation_combo.count() - 1
                self.normalisation_combo.setItemData(index, NORMALISATION_TIPS[mode], Qt.ItemDataRole.ToolTipRole)
        self.normalisation_combo.setToolTip(" ".join(NORMALISATION_TIPS[m] for m in NORMALISATION_LABELS if m in NORMALISATION_TIPS))
        self.normalisation_error = QLabel()
        self.normalisation_error.setWordWrap(True)
        self.normalisation_error.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.normalisation_error.setToolTip("Why this normalisation was refused: the kernel stays as it was.")
        self.normalisation_error.hide()

        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip(
            "Make the kernel from these parameters, in every (out, in) pair, with the kernel size "
            "they give (a gradient pair makes two output channels). One undo step."
        )
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setToolTip("Whether the session's kernel is made from the parameters shown.")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setToolTip("The session's kernel: its name and the sum of its weights (the response to a flat image).")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.ERROR_TEXT_STYLE)
        self.message.hide()

        self._build_layout()
        self._connect()
        self._show_family(DEFAULT_FAMILY)
        self._refresh()

    # -- layout ------------------------------------------------------------------------
    def _fill_families(self) -> None:
        combo = self.family_combo
        model: QStandardItemModel = combo.model()
        kinds = kernel_recipe.kinds()
        named = {k for _, keys in GROUPS for k in keys}
        groups = [(title, tuple(k for k in keys if k in kinds)) for title, keys in GROUPS]
        groups.append(("Other", tuple(k for k in kinds if k not in named)))
        for title, keys in groups:
            if not keys:
                continue
            combo.addItem(f"— {title} —", None)
            header = model.item(combo.count() - 1)
            header.setFlags(Qt.ItemFlag.NoItemFlags)  # a heading: not a choice
            for key in keys:
                fam = kernel_recipe.family_of(key)
                combo.addItem(fam.name, key)
                combo.setItemData(combo.count() - 1, fam.description, Qt.ItemDataRole.ToolTipRole)

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        family_label = QLabel("Family")
        family_label.setToolTip(self.family_combo.toolTip())
        form.addRow(family_label, self.family_combo)
        norm_label = QLabel("Normalise")
        norm_label.setToolTip(self.normalisation_combo.toolTip())
        norm_row = QHBoxLayout()
        norm_row.setContentsMargins(0, 0, 0, 0)
        norm_row.addWidget(norm_label)
        norm_row.addWidget(self.normalisation_combo)
        norm_row.addStretch(1)
        norm_row.addWidget(self.apply_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.state_label)  # first: seen without scrolling, whatever the family
        layout.addLayout(form)
        layout.addWidget(self.description)
        layout.addWidget(self.pages_box)
        layout.addLayout(norm_row)
        layout.addWidget(self.normalisation_error)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def _connect(self) -> None:
        self.family_combo.activated.connect(self._on_family_activated)
        self.normalisation_combo.activated.connect(self._on_normalisation_activated)
        self.apply_button.clicked.connect(self.apply)
        session = self._session
        follow = OUTPUT_FIRST.follow(self._refresh)
        hear_while_alive(self, (session.kernel_changed, follow), (session.spec_changed, follow))
        self.destroyed.connect(lambda *_args, refresh=self._refresh: OUTPUT_FIRST.discard(refresh))

    # -- what the panel shows -------------------------------------------------------------
    @property
    def family(self) -> str:
        return self.family_combo.currentData()

    @property
    def page(self) -> FamilyPage:
        return self.pages[self.family]

    @property
    def normalisation(self) -> str:
        return self.normalisation_combo.currentData()

    @property
    def in_drag(self) -> bool:
        """True while a slider is held: the drag's undo step is recorded on release."""
        return self._drag_before is not None

    def set_pair(self, out_index: int, in_index: int) -> None:
        """The kernel panel's pair (kept for the window; the designer fills every pair)."""
        self._pair = (max(0, int(out_index)), max(0, int(in_index)))

    def select_family(self, key: str) -> None:
        """Show ``key``'s parameters, as if picked in the combo (applies only while attached)."""
        index = self.family_combo.findData(key)
        if index >= 0:
            self.family_combo.setCurrentIndex(index)
            self._on_family_activated(index)

    def current_recipe(self) -> KernelRecipe:
        """The recipe the widgets show; KernelParameterError when the family refuses it."""
        return kernel_recipe.recipe(self.family, self.normalisation, **self.page.values())

    def _show_family(self, key: str) -> None:
        with QSignalBlocker(self.family_combo):
            self.family_combo.setCurrentIndex(self.family_combo.findData(key))
        for k, page in self.pages.items():
            page.setVisible(k == key)
        with QSignalBlocker(self.normalisation_combo):
            mode = self._normalisations.get(key, "none")
            self.normalisation_combo.setCurrentIndex(self.normalisation_combo.findData(mode))
        fam = kernel_recipe.family_of(key)
        self.description.setText(fam.description)
        self.description.setToolTip(fam.description)
        self.family_combo.setToolTip(f"{fam.name}: {fam.description} Pick another family to see its parameters.")

    # -- view -> model ---------------------------------------------------------------------
    def apply(self) -> None:
        """Make the kernel from the parameters shown (Apply): one undo step."""
        self._make(dragging=False)

    def _on_family_activated(self, index: int) -> None:
        key = self.family_combo.itemData(index)
        if key is None:  # a heading
            self._show_family(self._last.family if self._last else DEFAULT_FAMILY)
            return
        self._show_family(key)
        self._clear_errors()
        # Designing (the kernel is the parameters'): the new family's kernel at once.  A
        # kernel made otherwise stays until the user moves a parameter or presses Apply.
        if self._session.kernel_recipe is not None:
            self._make(dragging=False)

    def _on_normalisation_activated(self, _index: int) -> None:
        self._normalisations[self.family] = self.normalisation
        self._make(dragging=False)

    def _on_edited(self, _name: str, dragging: bool) -> None:
        self._make(dragging)

    def _on_released(self) -> None:
        before, self._drag_before = self._drag_before, None
        if before is not None:
            made = self._session.kernel_recipe
            record_change(self._history, self._session, _step_text(made), before)

    def _make(self, dragging: bool) -> None:
        self._clear_errors()
        try:
            made = self.current_recipe()
        except KernelParameterError as exc:
            self._show_refusal(exc)
            return
        session = self._session
        if made == session.kernel_recipe:
            return  # the kernel is already this recipe's (the session drops it on any other edit)
        change = lambda: self._set_kernel(made)
        try:
            if dragging:
                if self._drag_before is None:
                    self._drag_before = session.snapshot()
                change()  # recorded as one step when the slider is released
            else:
                push_change(self._history, session, _step_text(made), change)
        except ValueError as exc:  # the layer cannot take it (e.g. groups); the kernel stays
            self._show_message(str(exc))

    def holds_pair(self) -> bool:
        """Whether the session's layer is a gradient pair a pair recipe made: its own recipe
        is a pair, or the recipe last applied was one and the layer still has its shape
        (its weights edited by hand since)."""
        session = self._session
        if session.kernel_recipe is not None:
            return session.kernel_recipe.pair
        last = self._last
        if last is None or not last.pair or session.spec.out_channels != 2:
            return False
        try:
            _, weight = kernel_recipe.pair_layer(session.spec, last.kernels())
        except (ValueError, KernelParameterError):
            return False
        return weight.shape == session.weight.shape

    def _layer(self, made: KernelRecipe):
        """(spec, weight, bias, note) of the session's layer with ``made`` in every pair."""
        session = self._session
        kernels = made.kernels()
        if made.pair:
            spec, weight = kernel_recipe.pair_layer(session.spec, kernels)
            return spec, weight, session.bias_values, PAIR_NOTE
        kernel = kernels[0]
        kh, kw = kernel.shape
        spec, before, bias = session.spec, session.weight, session.bias_values
        if self.holds_pair():
            # One kernel replaces the pair: one output channel again, not a copy in each
            # (two copies would pass for Gx and Gy in the output's derived views).
            spec = spec.replace(out_channels=1)
            before, bias = np.zeros(spec.weight_shape), bias[:1]
        layout = {"transposed": bool(spec.transposed), "groups": spec.groups}
        weight = edits.with_kernel(before, kernel, ALL, (0, 0), **layout)
        spec = spec.replace(kernel_size=kernel_size_arg(kh, kw))
        note = edits.fill_note(made.name, kernel, before.shape, ALL, (0, 0), **layout)
        return spec, weight, bias, note

    def _set_kernel(self, made: KernelRecipe) -> None:
        session = self._session
        spec, weight, bias, note = self._layer(made)
        session.set_kernel(spec, weight, bias, name=made.name, note=note, recipe=made)

    # -- messages ---------------------------------------------------------------------------
    def _show_refusal(self, exc: KernelParameterError) -> None:
        """The reason beside what it names; the kernel stays as it was."""
        text = str(exc)
        text = text[:1].upper() + text[1:]
        if exc.parameter == "normalisation":
            self.normalisation_error.setText(text)
            self.normalisation_error.show()
        elif not self.page.show_error(exc.parameter, text):
            self._show_message(text)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _clear_errors(self) -> None:
        for page in self.pages.values():
            page.clear_errors()
        self.normalisation_error.clear()
        self.normalisation_error.hide()
        self._show_message("")

    # -- model -> view ---------------------------------------------------------------------
    def _refresh(self) -> None:
        session = self._session
        made = session.kernel_recipe
        if made is not None:
            self._last = made
            if not self.in_drag:  # a drag's own steps: the rows already show them
                self._clear_errors()
            self._normalisations[made.family] = made.normalisation
            self._show_family(made.family)
            self.pages[made.family].set_values(dict(made.params))
            state, state_style = ATTACHED_TEXT, ATTACHED_STYLE
        elif self._detached_from_last():
            state, state_style = DETACHED_TEXT, DETACHED_STYLE
        else:
            state, state_style = not_made_text(session.kernel_name), DETACHED_STYLE
        self.state_label.setText(state)
        self.state_label.setStyleSheet(state_style)
        self.summary.setText(self._summary_text())

    def _detached_from_last(self) -> bool:
        """True when the kernel is the last recipe's, changed since (its name says so)."""
        if self._last is None:
            return False
        name = self._session.kernel_name
        return name in (self._last.name, self._last.name + EDITED)

    def _summary_text(self) -> str:
        session = self._session
        name = session.kernel_name or "Unnamed kernel"
        made = session.kernel_recipe
        if made is not None:
            kernels = made.kernels()
            sums = [sum_text(float(k.sum()), float(np.abs(k).sum())) for k in kernels]
            if made.pair:
                return f"Kernel: {name}. Sums: x {sums[0]}, y {sums[1]}. Output channel 0 is x, 1 is y."
            return f"Kernel: {name}. Sum {sums[0]}."
        weight = session.weight
        if weight.ndim != 4 or 0 in weight.shape:
            return f"Kernel: {name}."
        k = weight[0, 0]
        return f"Kernel: {name}. Pair (0, 0) sums to {sum_text(float(k.sum()), float(np.abs(k).sum()))}."


def _step_text(made: KernelRecipe | None) -> str:
    return f"Kernel {made.name}" if made is not None else "Kernel parameters"
