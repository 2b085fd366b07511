"""The layer stack: pick a model or paste its code, see every layer's shapes, parameters,
MACs, receptive field and jump, edit the layers, and open one in the playground.

A view of ``core.network.Network``: the edits go through ``network.set_layers`` /
``set_stack`` / ``set_input_shape`` and the table follows ``stack_changed``; weights are
asked of the network controller (a file, PyTorch's initialisation), which runs the stack.
Every change of the network made here is one step of the window's undo history (a
``NetworkStep`` of two snapshots; loaded or initialised weights become one when they
arrive), and the last stack pasted or edited stays as "Your own stack" in the chooser.
Opening a convolution in the sliding window is one undoable session change (its input is
the previous layer's output of the last run, its kernel the layer's weight); a pooling
layer opens in the pooling view with its input.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.history import push_change
from convplay.core.layer_trace import conv_spec, shape_text
from convplay.core.layers import CONV_KINDS, DESCRIPTIONS, POOL_KINDS, LayerError, Stack
from convplay.core.network import NetworkSnapshot, NetworkStep
from convplay.core.pooling import PoolSpec, PoolSpecError
from convplay.core.stack_edits import (
    KIND_GROUPS,
    fitted_layer,
    fixed_layers,
    fresh_name,
    inserted,
    module_path,
    moved,
    pasted_input_shape,
    removed,
    replaced,
    shape_before,
    uses,
)
from convplay.qt import style
from convplay.qt.shown import hear_while_alive
from convplay.qt.theme import set_sheet, theme
from convplay.qt.widgets.layer_dialog import LayerDialog
from convplay.qt.widgets.stack_code_dialog import StackCodeDialog
from convplay.qt.widgets.stack_table import (
    COLUMNS,
    StackTableModel,
    totals_text,
)
from convplay.qt.zoom import text_zoom

EMPTY = "__empty__"
MAX_INPUT_VALUES = 1 << 26  # 64×1024×1024: 256 MB of float32, the largest input the stack runs
OWN = "__own__"
WEIGHT_FILTER = "Weights (*.pth *.pt *.ckpt *.bin *.safetensors *.npz);;All files (*)"
NOTE_STYLE = (
    f"QLabel {{ background: {style.STALE_BACKGROUND}; color: {style.STALE_TEXT}; padding: 4px; "
    "border-radius: 3px; }"
)
BANNER_STYLE = (
    f"QFrame#stackErrorBanner {{ background: {style.ERROR_BACKGROUND}; border: 2px solid {style.ERROR}; "
    f"border-radius: 4px; }} QFrame#stackErrorBanner QLabel {{ color: {style.ERROR}; font-weight: bold; }}"
)
SLIDING, POOLING = "sliding", "pooling"


def _short_title(title: str) -> str:
    """"The digits CNN (trained, 8×8)" → "digits CNN", for a kernel's name."""
    short = re.sub(r"\s*\(.*\)\s*$", "", title or "").strip()
    short = re.sub(r"^(The|An|A)\s+", "", short).split(" with ")[0].strip()
    return short or "stack"


def _choice_name(title: str) -> str:
    """"An MNIST CNN with a wrong Linear size" → "the MNIST CNN", for an undo step's text."""
    name = re.sub(r"\s*\(.*\)\s*$", "", title or "").strip().split(" with ")[0].strip()
    name = re.sub(r"^(The|An|A)\s+", "", name) or "model"
    if name[1:2].islower():  # "Empty stack", not "MNIST"
        name = name[:1].lower() + name[1:]
    return f"the {name}"


class OneLineLabel(QLabel):
    """A label that keeps to one line, its text elided to its width (``text()`` is the whole
    text; the owner puts it in the tooltip): a long description or weights source cannot
    push the buttons below it down a line, or squeeze the table at a small window."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self._full = ""
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def text(self) -> str:  # the whole text, not the elided one shown
        return self._full

    def setText(self, text: str) -> None:
        self._full = str(text)
        self._elide()

    def is_elided(self) -> bool:
        return super().text() != self._full

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self._full.replace("\n", " ")
        if width > 0:
            shown = self.fontMetrics().elidedText(shown, Qt.TextElideMode.ElideRight, width)
        QLabel.setText(self, shown)


class StackPanel(QWidget):
    """``open_requested(str)``: a layer was opened in the playground; the window shows the
    workspace named ("sliding", "pooling")."""

    open_requested = Signal(str)

    def __init__(self, network, session, history, pooling_model, controller, parent=None):
        super().__init__(parent)
        self.network = network
        self.session = session
        self.history = history
        self.pooling_model = pooling_model
        self.controller = controller
        self.setToolTip("")
        self._code_dialog: StackCodeDialog | None = None  # while open (tests reach them)
        self._edit_dialog: LayerDialog | None = None
        # The last stack pasted or edited here, weights and all: choosing a built-in model
        # keeps it, and "Your own stack" brings it back.
        self._own: NetworkSnapshot | None = None
        # Load weights / Initialise asked of the controller: (the network before, the step's
        # text) until the weights arrive, when the change becomes an undo step.
        self._weights_asked: tuple[NetworkSnapshot, str] | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll)
        body = QWidget()
        self.scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(5)

        # -- the model and its code ------------------------------------------------------
        row = QHBoxLayout()
        row.addWidget(QLabel("Model"))
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("A built-in network, or an empty stack to build layer by layer")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(3)
        self.model_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fill_models()
        self.model_combo.activated.connect(self._on_model_chosen)
        row.addWidget(self.model_combo, 1)
        self.paste_button = QPushButton("Paste code…")
        self.paste_button.setToolTip("Read a stack from PyTorch code: an nn.Sequential, a module class or "
                                     "print(model)'s text; nothing is run (Ctrl+Shift+V)")
        self.paste_button.clicked.connect(self.paste_code)
        row.addWidget(self.paste_button)
        self.copy_button = QPushButton("Copy code")
        self.copy_button.setToolTip("Copy the stack as nn.Sequential(...) code to the clipboard")
        self.copy_button.clicked.connect(self.copy_code)
        row.addWidget(self.copy_button)
        layout.addLayout(row)
        self.description = OneLineLabel("")
        set_sheet(self.description, style.MUTED_TEXT_STYLE)
        self.description.setToolTip("What this model is")
        layout.addWidget(self.description)

        # -- the input shape and the shape check -----------------------------------------
        row = QHBoxLayout()
        row.addWidget(QLabel("Input"))
        self.shape_spins: list[QSpinBox] = []
        for label, tip in (("C", "channels"), ("H", "rows"), ("W", "columns")):
            spin = QSpinBox()
            spin.setRange(1, 4096)
            spin.setKeyboardTracking(False)
            spin.setPrefix(f"{label} ")
            spin.setToolTip(f"The input's {tip}: the stack is traced again for it")
            spin.valueChanged.connect(self._on_shape_edited)
            self.shape_spins.append(spin)
            row.addWidget(spin)
        self.check_badge = OneLineLabel("")
        self.check_badge.setToolTip("Every shape of the trace checked again by PyTorch itself, on the meta device")
        # Beside the shape it checks, one line: the table keeps the panel's height.
        row.addWidget(self.check_badge, 1)
        layout.addLayout(row)

        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_sheet(self.message, style.ERROR_TEXT_STYLE)
        self.message.setToolTip("The last thing that could not be done")
        self.message.hide()
        layout.addWidget(self.message)

        # -- editing ---------------------------------------------------------------------------
        row = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add layer")
        self.add_button.setToolTip("Insert a layer after the selected one, its arguments fitted to the shape there")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = self._add_menu()
        self.add_button.setMenu(self.add_menu)
        row.addWidget(self.add_button)
        self.edit_button = self._button("Edit…", "Edit the selected layer's arguments or code (F2, double-click)",
                                        self.edit_selected, row)
        self.remove_button = self._button("Remove", "Remove the selected layer (Delete)", self.remove_selected, row)
        self.up_button = self._button("↑", "Move the selected layer up (Alt+Up)", lambda: self.move_selected(-1), row)
        self.down_button = self._button("↓", "Move the selected layer down (Alt+Down)",
                                        lambda: self.move_selected(1), row)
        row.addStretch(1)
        layout.addLayout(row)

        # -- the table ---------------------------------------------------------------------------
        self.table_model = StackTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._fit_table_height()
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.table.setToolTip("The stack traced layer by layer; hover a cell for its formula")
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        layout.addWidget(self.table, 1)
        self.totals = QLabel("")
        self.totals.setWordWrap(True)
        self.totals.setToolTip("The whole stack: parameters (a module used twice counted once), "
                               "multiply-accumulates, and the shape it gives")
        layout.addWidget(self.totals)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open in the sliding window")
        self.open_button.clicked.connect(lambda _=False: self.open_selected())
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout.addLayout(row)

        # -- the weights, under the layers they belong to -------------------------------------------------------------------
        row = QHBoxLayout()
        row.addWidget(QLabel("Weights"))
        self.weights_label = OneLineLabel("")
        self.weights_label.setToolTip("Where the weights the runs use came from")
        row.addWidget(self.weights_label, 1)
        layout.addLayout(row)
        row = QHBoxLayout()
        self.load_button = QPushButton("Load weights…")
        self.load_button.setToolTip("Weights from a state_dict or checkpoint (.pth, .pt, .safetensors, .npz), "
                                    "matched by name and shape; nothing in the file is run")
        self.load_button.clicked.connect(self.choose_weights_file)
        row.addWidget(self.load_button)
        self.init_button = QPushButton("Initialise")
        self.init_button.setToolTip("Every weight as PyTorch initialises it, for the seed beside")
        self.init_button.clicked.connect(self.initialise)
        row.addWidget(self.init_button)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setPrefix("seed ")
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("The random seed of PyTorch's initialisation (Initialise uses it)")
        # Sized for a seed of a few digits, not for 2³¹: the row fits a narrow dock at a zoom.
        self.seed_spin.setMinimumWidth(self.seed_spin.fontMetrics().horizontalAdvance("seed 00000") + 32)
        row.addWidget(self.seed_spin)
        self.busy_label = QLabel("")
        set_sheet(self.busy_label, style.MUTED_TEXT_STYLE)
        self.busy_label.setToolTip("PyTorch is making the weights or running the stack")
        self.busy_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        row.addWidget(self.busy_label)
        row.addStretch(1)
        layout.addLayout(row)
        self.weights_note = QLabel("")
        self.weights_note.setWordWrap(True)
        set_sheet(self.weights_note, style.MUTED_TEXT_STYLE)
        self.weights_note.setToolTip("What loading the weights matched and what it did not")
        layout.addWidget(self.weights_note)

        # -- what went wrong, what was noticed ------------------------------------------------
        self.banner = QFrame()
        self.banner.setObjectName("stackErrorBanner")
        set_sheet(self.banner, BANNER_STYLE)
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(6, 4, 6, 4)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.error_label.setToolTip("The first layer whose input does not fit, why, and the fix")
        banner_row.addWidget(self.error_label, 1)
        self.fix_button = QPushButton("Apply the fix")
        self.fix_button.clicked.connect(self.apply_fix)
        banner_row.addWidget(self.fix_button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.notes_label = QLabel("")
        self.notes_label.setWordWrap(True)
        set_sheet(self.notes_label, NOTE_STYLE)
        self.notes_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.notes_label.setToolTip("What the trace noticed without refusing: code that runs but may not do what it says")
        self.notes_label.hide()
        layout.addWidget(self.notes_label)
        self.parser_notes = QLabel("")
        self.parser_notes.setWordWrap(True)
        set_sheet(self.parser_notes, style.MUTED_TEXT_STYLE)
        self.parser_notes.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.parser_notes.setToolTip("What reading the code skipped")
        layout.addWidget(self.parser_notes)

        # -- keys ------------------------------------------------------------------------------------
        # The table's keys act on the selected layer only while the table has the focus, so
        # Delete in a spin box still deletes a digit.
        self.table.installEventFilter(self)
        self.table.viewport().installEventFilter(self)
        paste = QShortcut(QKeySequence("Ctrl+Shift+V"), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(self.paste_code)

        hear_while_alive(
            self,
            (network.stack_changed, self._on_stack_changed),
            (network.weights_changed, self._on_weights_changed),
            (network.selection_changed, self._on_selection_changed),
            (network.run_changed, self._update_buttons),
        )
        if controller is not None:
            for name, slot in (("shape_check_changed", self._on_shape_check), ("message", self._on_controller_message),
                               ("busy_changed", self._on_busy)):
                signal = getattr(controller, name, None)
                if signal is not None:
                    signal.connect(slot)
            self._on_shape_check(getattr(controller, "shape_check", "") or "")
        theme().theme_changed.connect(self._on_theme)  # Qt disconnects them when the panel goes
        text_zoom().changed.connect(self._on_zoom)
        self._on_stack_changed()
        self._on_weights_changed()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()  # the viewport, not the table: it has its new width by then
        if watched is self.table and event.type() == QEvent.Type.KeyPress:
            key, mods = event.key(), event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            alt = mods == Qt.KeyboardModifier.AltModifier
            if alt and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                self.move_selected(-1 if key == Qt.Key.Key_Up else 1)
                return True
            if mods == Qt.KeyboardModifier.NoModifier:
                if key == Qt.Key.Key_Delete:
                    self.remove_selected()
                    return True
                if key == Qt.Key.Key_F2:
                    self.edit_selected()
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.open_selected()
                    return True
        return super().eventFilter(watched, event)

    # -- building helpers -----------------------------------------------------------------
    def _button(self, text: str, tip: str, slot, row) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda _=False: slot())
        row.addWidget(button)
        return button

    def _fill_models(self) -> None:
        from convplay.core.builtin_stacks import BUILTIN_STACKS

        keys = list(BUILTIN_STACKS)
        if "digits" in keys:  # the trained one first: it is what the window opens with
            keys.remove("digits")
            keys.insert(0, "digits")
        for key in keys:
            info = BUILTIN_STACKS[key]
            self.model_combo.addItem(info.title, key)
            self.model_combo.setItemData(self.model_combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole)
        self.model_combo.addItem("Empty stack", EMPTY)
        self.model_combo.setItemData(self.model_combo.count() - 1, "No layers: add them one by one",
                                     Qt.ItemDataRole.ToolTipRole)
        self.model_combo.addItem("Your own stack", OWN)
        self.model_combo.setItemData(self.model_combo.count() - 1,
                                     "The last stack pasted or edited here, with its weights",
                                     Qt.ItemDataRole.ToolTipRole)
        self._enable_own()

    def _enable_own(self) -> None:
        item = self.model_combo.model().item(self.model_combo.findData(OWN))
        if item is not None:
            item.setEnabled(self._own is not None)  # nothing to bring back before a paste or an edit

    def _add_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for group, kinds in KIND_GROUPS:
            menu.addSection(group)
            for kind in kinds:
                action = QAction(kind, menu)
                action.setToolTip(DESCRIPTIONS.get(kind, kind))
                action.triggered.connect(lambda _=False, k=kind: self.add_layer(k))
                menu.addAction(action)
        return menu

    # -- following the network --------------------------------------------------------------
    @property
    def selected(self) -> int:
        return self.network.selected

    def _remember_own(self) -> None:
        network = self.network
        if not network.key and network.stack.layers:
            self._own = network.snapshot()
            self._enable_own()

    def _on_stack_changed(self) -> None:
        network = self.network
        trace_ = network.trace
        self._remember_own()
        if self._weights_asked is not None and self._weights_asked[0].stack is not network.stack:
            self._weights_asked = None  # another stack came first: those weights will not arrive
        self.table_model.set_trace(trace_)
        for spin, value in zip(self.shape_spins, network.input_shape):
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)
        self._show_model_choice()
        self.totals.setText(totals_text(trace_))
        self._show_error(trace_)
        self._show_notes(trace_)
        self.copy_button.setEnabled(bool(network.stack.layers))
        self._on_selection_changed(network.selected)
        self._fit_columns()

    def _show_model_choice(self) -> None:
        network = self.network
        if network.key:
            data = network.key
        elif not network.stack.layers:
            data = EMPTY
        else:
            data = OWN
        index = self.model_combo.findData(data)
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)
        # A narrow dock elides the name in the box: its tooltip has it whole.
        self.model_combo.setToolTip(f"{self.model_combo.currentText()}: a built-in network, an empty stack to "
                                    "build layer by layer, or your own stack (the last one pasted or edited)")
        description = ""
        if network.key:
            from convplay.core.builtin_stacks import BUILTIN_STACKS

            info = BUILTIN_STACKS.get(network.key)
            description = info.description if info is not None else ""
        elif network.stack.layers:
            # Code read from a paste keeps its text as the source; an edit here drops it.
            title = network.stack.title if network.stack.title not in ("", "Empty stack") else ""
            if network.stack.source:
                pasted = title and title != "The pasted model"
                description = f"{title}: read from pasted code" if pasted else "Read from pasted code"
            else:
                description = f"{title}: edited here" if title else "A stack built here"
        # One line, to leave the table its room; the tooltip has it all.
        self.description.setText(description)
        self.description.setToolTip(description or "What this model is")
        self.description.setVisible(bool(description))

    def _show_error(self, trace_) -> None:
        if trace_.failed is None:
            self.banner.hide()
            return
        self.error_label.setText(f"✗ {trace_.error}")
        fixed = fixed_layers(trace_)
        self.fix_button.setVisible(fixed is not None)
        self.fix_button.setToolTip(f"One click: {fixed[1]} (its name kept)" if fixed else "")
        self.banner.show()

    def _show_notes(self, trace_) -> None:
        notes = [n for n in trace_.notes if not n.startswith("skipped ")]
        skipped = [n for n in trace_.notes if n.startswith("skipped ")]
        self.notes_label.setText("\n".join(f"⚠ {n}" for n in notes))
        self.notes_label.setVisible(bool(notes))
        self.parser_notes.setText("; ".join(skipped))
        self.parser_notes.setVisible(bool(skipped))

    def _on_weights_changed(self) -> None:
        network = self.network
        self._remember_own()
        asked = self._weights_asked
        if asked is not None and asked[0].stack is network.stack and network.weights is not asked[0].weights:
            self._weights_asked = None
            self._push_step(asked[1], asked[0])
        source = network.weights_source or ("being made…" if network.stack.layers else "none: the stack is empty")
        self.weights_label.setText(source)
        self.weights_label.setToolTip(f"Where the weights the runs use came from: {source}")
        self.weights_note.setText(network.weights_note)
        self.weights_note.setVisible(bool(network.weights_note))
        self.seed_spin.blockSignals(True)
        self.seed_spin.setValue(min(int(network.seed), self.seed_spin.maximum()))
        self.seed_spin.blockSignals(False)
        self._update_buttons()

    def _on_selection_changed(self, index: int) -> None:
        selection = self.table.selectionModel()
        current = self.table.currentIndex().row() if self.table.currentIndex().isValid() else -1
        if index != current or (index >= 0 and not selection.isRowSelected(index)):
            selection.blockSignals(True)
            if 0 <= index < self.table_model.rowCount():
                flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                selection.setCurrentIndex(self.table_model.index(index, 0), flags)
                self.table.scrollTo(self.table_model.index(index, 0))
            else:
                selection.clear()
            selection.blockSignals(False)
            self.table.viewport().update()
        self._update_buttons()

    def _on_row_changed(self, current, _previous) -> None:
        self.network.select(current.row() if current.isValid() else -1)

    def _on_shape_check(self, text: str) -> None:
        self.check_badge.setText(text)
        self.check_badge.setVisible(bool(text))
        ok = text.startswith("✓")
        set_sheet(self.check_badge, style.OK_TEXT_STYLE if ok else (style.ERROR_TEXT_STYLE if text else ""))
        self.check_badge.setToolTip(text or "Every shape of the trace is checked again by PyTorch on the meta device")

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setText("PyTorch is working…" if busy else "")
        if not busy:
            self._on_weights_changed()  # a file that could not be loaded leaves no "loading…"

    def _on_theme(self, *_args) -> None:
        self.table_model.refresh_colours()

    def _fit_table_height(self) -> None:
        # Room for the header and four two-line rows at any text zoom: at a small window the
        # panel scrolls (to the banner and notes below) rather than squeezing the table to
        # one row.
        lines = self.table.fontMetrics().lineSpacing()
        self.table.setMinimumHeight(lines + 12 + 4 * (2 * lines + 8))

    def _on_zoom(self, *_args) -> None:
        self._fit_table_height()
        self.seed_spin.setMinimumWidth(self.seed_spin.fontMetrics().horizontalAdvance("seed 00000") + 32)
        self._fit_columns()

    def _fit_columns(self) -> None:
        # The numbers keep their width; the layer's code takes what is left and wraps onto
        # another line where it would be cut ("Conv2d(3, 32, (3, 3))" in a 500-pixel dock).
        # A dock too narrow for that hides the Input column first (a layer's input is the
        # output of the row above; the Output cell's tooltip has both); below that the
        # table scrolls sideways.
        table, header = self.table, self.table.horizontalHeader()
        header.setMinimumSectionSize(24)
        n = self.table_model.columnCount()
        sizes = {c: max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in range(n) if c != 1}
        readable = table.fontMetrics().horizontalAdvance("Conv2d(16, 32,") + 12
        width = table.viewport().width()
        hide_input = n > 2 and width - sum(sizes.values()) < readable
        table.setColumnHidden(2, hide_input)
        others = sum(size for c, size in sizes.items() if not (c == 2 and hide_input))
        sizes[1] = max(readable, width - others)
        for c in range(n):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(c, sizes[c])
        table.resizeRowsToContents()
        # At most the name and two lines of code: a long layer in a narrow dock or at a
        # large text zoom is elided (its tooltip has it) rather than taking the rows' room.
        most = 3 * table.fontMetrics().lineSpacing() + 8
        for r in range(self.table_model.rowCount()):
            if table.rowHeight(r) > most:
                table.setRowHeight(r, most)

    def _on_controller_message(self, text: str) -> None:
        # A file that could not be loaded: no weights are coming, and weights made later
        # (after an edit) must not become "Load weights from" that file.
        self._weights_asked = None
        self.show_message(text)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- the buttons' state ---------------------------------------------------------------------
    def _update_buttons(self, *_args) -> None:
        layers = self.network.stack.layers
        i = self.network.selected
        has = 0 <= i < len(layers)
        self.edit_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self.up_button.setEnabled(has and i > 0)
        self.down_button.setEnabled(has and i < len(layers) - 1)
        text, why = self.open_state()
        self.open_button.setText(text)
        self.open_button.setEnabled(not why)
        self.open_button.setToolTip(why or (
            "Set the playground to this layer: its input is the previous layer's output, "
            "its kernel the layer's weight (Enter)" if text.endswith("sliding window") else
            "Show this pooling layer in the pooling view, on the input it receives (Enter)"))

    def open_state(self) -> tuple[str, str]:
        """The open button's text and, when it cannot open the selected layer, why."""
        network = self.network
        i = network.selected
        layers = network.stack.layers
        if not 0 <= i < len(layers):
            return "Open in the sliding window", "Select a convolution or pooling layer to open it"
        layer = layers[i]
        text = "Open in the pooling view" if layer.kind in POOL_KINDS else "Open in the sliding window"
        if layer.kind not in CONV_KINDS and layer.kind not in POOL_KINDS:
            return text, (f"{layer.kind} has no kernel to slide: open a convolution (sliding window) "
                          "or a pooling layer (pooling view)")
        row = network.trace.rows[i] if i < len(network.trace.rows) else None
        if row is None or not row.ok:
            return text, f"{layer.label} does not run: its input does not fit (see the message under the table)"
        run = network.run
        if run is None or not network.run_is_fresh:
            return text, "Waiting for the run of the input through the stack…"
        if run.input_of(i) is None:
            return text, f"The last run stopped before {layer.label}: {run.error or 'no output'}"
        if layer.kind in CONV_KINDS:
            path = module_path(network.stack, i)
            if f"{path}.weight" not in network.weights:
                return text, f"There are no weights for {path} yet"
        return text, ""

    # -- commands ----------------------------------------------------------------------------------
    # -- undo steps ------------------------------------------------------------------------------
    def _push_step(self, text: str, before: NetworkSnapshot) -> None:
        after = self.network.snapshot()
        if self.history is not None and not after.same_as(before):
            self.history.push(NetworkStep(self.network, text, before, after))

    def _recorded(self, text: str, change):
        """Run ``change`` (which changes the network) and make it one undo step ``text``."""
        before = self.network.snapshot()
        result = change()
        self._push_step(text, before)
        return result

    def _on_model_chosen(self, index: int) -> None:
        data = self.model_combo.itemData(index)
        self.show_message("")
        if data == OWN:
            own = self._own
            if own is not None and own.stack is not self.network.stack:
                self._recorded("Choose your own stack", lambda: self.network.restore(own))
            else:
                self._show_model_choice()
            return
        text = "Choose " + _choice_name(self.model_combo.itemText(index))
        self._recorded(text, lambda: self._choose(data))

    def _choose(self, data) -> None:
        if data == EMPTY:
            self.network.set_stack(Stack(title="Empty stack"), key="")
        elif self.controller is not None and hasattr(self.controller, "load_builtin"):
            self.controller.load_builtin(str(data))
        else:
            from convplay.core.builtin_stacks import builtin_stack

            stack, info = builtin_stack(str(data))
            self.network.set_stack(stack, input_shape=info.input_shape, labels=info.labels, key=str(data))

    def paste_code(self) -> None:
        dialog = StackCodeDialog(parent=self)
        clip = QGuiApplication.clipboard().text() if QGuiApplication.clipboard() is not None else ""
        if clip and len(clip) < 200_000 and ("nn." in clip or "Sequential" in clip):
            dialog.set_text(clip)
        self._code_dialog = dialog
        if dialog.exec() and dialog.stack is not None:
            self.use_pasted(dialog.stack)
        self._code_dialog = None

    def use_pasted(self, stack: Stack) -> None:
        if not stack.title:
            stack = dataclasses.replace(stack, title="The pasted model")
        self.show_message("")
        # The first layer says how many channels the input has (Conv2d(1, ...)): the input
        # follows it, rather than the layer being "fixed" to the model shown before.
        shape = pasted_input_shape(stack, self.network.input_shape)
        n = len(stack.layers)
        self._recorded(f"Paste a stack of {n} layer{'s' if n != 1 else ''}",
                       lambda: self.network.set_stack(stack, input_shape=shape, key=""))
        if stack.layers:
            self.network.select(0)

    def copy_code(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.network.stack.code())

    def _on_shape_edited(self, *_args) -> None:
        shape = tuple(spin.value() for spin in self.shape_spins)
        values = shape[0] * shape[1] * shape[2]
        if values > MAX_INPUT_VALUES:  # the run makes this input: 4096×4096×4096 would be 275 GB
            self.show_message(f"An input of {'×'.join(str(v) for v in shape)} holds {values:,} values: at most "
                              f"{MAX_INPUT_VALUES:,} go through the stack here")
            for spin, value in zip(self.shape_spins, self.network.input_shape):
                spin.blockSignals(True)
                spin.setValue(int(value))
                spin.blockSignals(False)
            return
        self._recorded("Input shape " + "×".join(str(v) for v in shape), lambda: self.network.set_input_shape(shape))

    def choose_weights_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load weights", "", WEIGHT_FILTER)
        if path:
            self.load_weights(path)

    def load_weights(self, path: str) -> None:
        self.show_message("")
        if self.controller is not None:
            name = path.replace(chr(92), '/').rsplit('/', 1)[-1]
            self.weights_label.setText(f"loading {name}…")
            self._weights_asked = (self.network.snapshot(), f"Load weights from {name}")
            self.controller.load_weights_file(path)

    def initialise(self) -> None:
        seed = self.seed_spin.value()
        self.show_message("")
        self.network.set_seed(seed)
        if self.controller is not None:
            self._weights_asked = (self.network.snapshot(), f"Initialise the weights (seed {seed})")
            self.controller.initialise(seed)

    # -- editing -------------------------------------------------------------------------------------
    def _set_layers(self, layers, select: int, text: str = "Edit the stack") -> bool:
        return self._recorded(text, lambda: self._change_layers(layers, select))

    def _change_layers(self, layers, select: int) -> bool:
        shape = self.network.input_shape
        try:
            self.network.set_layers(tuple(layers))
            if self.network.input_shape != shape:
                # set_layers goes back to the input shape the stack came with; an edit keeps
                # the one the user chose.
                self.network.set_input_shape(shape)
        except (LayerError, ValueError) as exc:  # over the layer limit
            self.show_message(str(exc))
            return False
        self.show_message("")
        self.network.select(select)
        return True

    def add_layer(self, kind: str) -> bool:
        network = self.network
        position = network.selected + 1 if network.selected >= 0 else len(network.stack.layers)
        shape = shape_before(network.trace, position)
        try:
            layer = fitted_layer(kind, shape, fresh_name(network.stack, kind))
        except LayerError as exc:
            self.show_message(str(exc))
            return False
        return self._set_layers(inserted(network.stack.layers, position, layer), position,
                                f"Add {layer.label}")

    def remove_selected(self) -> bool:
        i = self.network.selected
        layers = self.network.stack.layers
        if not 0 <= i < len(layers):
            return False
        return self._set_layers(removed(layers, i), min(i, len(layers) - 2), f"Remove {layers[i].label}")

    def move_selected(self, step: int) -> bool:
        i = self.network.selected
        layers = self.network.stack.layers
        if not 0 <= i < len(layers) or not 0 <= i + step < len(layers):
            return False
        return self._set_layers(moved(layers, i, step), i + step,
                                f"Move {layers[i].label} {'up' if step < 0 else 'down'}")

    def replace_layer(self, index: int, layer) -> bool:
        layers = self.network.stack.layers
        if not 0 <= index < len(layers):
            return False
        return self._set_layers(replaced(layers, index, layer), index, f"Edit {layers[index].label}")

    def edit_dialog(self, index: int) -> LayerDialog | None:
        layers = self.network.stack.layers
        if not 0 <= index < len(layers):
            return None
        receives = shape_text(self.network.trace.rows[index].input_shape)
        return LayerDialog(layers[index], receives if receives != "—" else "", uses(self.network.stack, index), self)

    def edit_selected(self) -> None:
        index = self.network.selected
        dialog = self.edit_dialog(index)
        if dialog is None:
            return
        self._edit_dialog = dialog
        if dialog.exec() and dialog.layer is not None:
            self.replace_layer(index, dialog.layer)
        self._edit_dialog = None

    def apply_fix(self) -> bool:
        trace_ = self.network.trace
        fixed = fixed_layers(trace_)
        if fixed is None:
            return False
        layers, _words = fixed
        label = trace_.rows[trace_.failed].layer.label
        return self._set_layers(layers, trace_.failed, f"Apply the fix to {label}")

    # -- the playground -------------------------------------------------------------------------------
    def open_selected(self) -> bool:
        """Set the playground to the selected layer; False, with the reason shown, when it cannot."""
        _text, why = self.open_state()
        if why:
            self.show_message(why)
            return False
        network = self.network
        i = network.selected
        layer = network.stack.layers[i]
        run = network.run
        x = np.asarray(run.input_of(i))
        previous = network.stack.layers[i - 1].label if i else ""
        if layer.kind in POOL_KINDS:
            return self._open_pooling(layer, x, previous)
        return self._open_conv(i, layer, x, previous)

    def _open_conv(self, i: int, layer, x: np.ndarray, previous: str) -> bool:
        network = self.network
        path = module_path(network.stack, i)
        weight = np.asarray(network.weights[f"{path}.weight"], dtype=np.float64)
        bias = network.weights.get(f"{path}.bias") if layer["bias"] else None
        spec = conv_spec(layer)
        name = f"{_short_title(network.stack.title)} {path}.weight"
        what = f"the output of {previous}" if previous else "the network's input"

        def change() -> None:
            self.session.set_image(x)
            self.session.set_kernel(spec, weight, None if bias is None else np.asarray(bias, dtype=np.float64),
                                    name=name, note=f"layer {i} of the stack; its input is {what}")

        try:
            push_change(self.history, self.session, f"Open {layer.label} in the sliding window", change)
        except (ValueError, TypeError) as exc:
            self.show_message(f"{layer.label} could not be opened: {exc}")
            return False
        self.show_message("")
        self.open_requested.emit(SLIDING)
        return True

    def _open_pooling(self, layer, x: np.ndarray, previous: str) -> bool:
        try:
            spec = PoolSpec.from_layer(layer.kind, dict(layer.args))
        except (PoolSpecError, KeyError, ValueError, TypeError) as exc:
            self.show_message(f"{layer.label} could not be opened: {exc}")
            return False
        what = f"the output of {previous}" if previous else "the network's input"
        self.pooling_model.set_input(x, f"{layer.label}'s input ({what})")
        self.pooling_model.set_spec(spec)
        self.show_message("")
        self.open_requested.emit(POOLING)
        return True


__all__ = ["COLUMNS", "StackPanel"]
