"""The traced stack as a table model: one row per layer, its shapes, parameters, MACs,
receptive field and jump, with the formulas as tooltips.

A ``QAbstractTableModel`` over a ``StackTrace`` (no widget per cell): a new trace resets
it.  The first layer that does not fit is red; the rows past it are grey, their shapes "—".
"""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase

from convplay.core.layer_trace import LayerRow, StackTrace, shape_text, trace
from convplay.core.layers import DESCRIPTIONS, Stack
from convplay.core.stack_edits import macs_formula, params_formula, uses
from convplay.qt import style
from convplay.qt.zoom import text_zoom

COLUMNS = ("#", "Layer", "Input", "Output", "Params", "MACs", "RF", "Jump")
COLUMN_TIPS = (
    "The layer's place in the stack, from 0",
    "The layer's name in the model and the PyTorch code that builds it",
    "The shape the layer receives (channels×rows×columns, or features), without the batch",
    "The shape the layer gives (hover a cell for its input too: a narrow dock hides the Input column)",
    "Learned parameters (weights and biases); a module used twice counts once",
    "Multiply-accumulates of one forward pass with a batch of one",
    "Receptive field: how many input pixels (rows×columns) one output pixel of this layer sees",
    "Jump: how many input pixels apart neighbouring output pixels of this layer are",
)
NUMBER_COLUMNS = (0, 4, 5, 6, 7)
DASH = "—"


def fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def pair_text(values, sep: str = "×") -> str:
    a, b = values
    if isinstance(a, Fraction):
        a, b = fraction_text(a), fraction_text(b)
    return f"{a}{sep}{b}"


def jump_text(jump) -> str:
    if jump is None:
        return DASH
    return fraction_text(jump[0]) if jump[0] == jump[1] else pair_text(jump)


def wrap_between_arguments(code: str) -> str:
    """``code`` with the spaces inside a tuple argument made non-breaking, so that a cell
    too narrow for it wraps between arguments ("Conv2d(3, 32," / "(3, 3), padding=1)"),
    never inside "(3, 3)"."""
    out, depth = [], 0
    for ch in code:
        depth += ch == "("
        depth -= ch == ")"
        out.append("\u00a0" if ch == " " and depth >= 2 else ch)
    return "".join(out)


class StackTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._trace: StackTrace = trace(Stack(), (1, 8, 8))

    @property
    def trace(self) -> StackTrace:
        return self._trace

    def set_trace(self, trace_: StackTrace) -> None:
        self.beginResetModel()
        self._trace = trace_
        self.endResetModel()

    def refresh_colours(self) -> None:
        """The theme changed: the cells' colours are asked for again."""
        if self._trace.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._trace.rows) - 1, len(COLUMNS) - 1))

    # -- the model --------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._trace.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMBER_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._trace.rows):
            return None
        row = self._trace.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.cell_tip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column in NUMBER_COLUMNS else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if self._is_failed(row):
                return QBrush(QColor(style.colour("ERROR")))
            if self._is_past(row):
                return QBrush(QColor(style.colour("MUTED")))
            return None
        if role == Qt.ItemDataRole.BackgroundRole and self._is_failed(row):
            return QBrush(QColor(style.ERROR_BACKGROUND))
        if role == Qt.ItemDataRole.FontRole and self._is_failed(row):
            font = QFont()
            font.setBold(True)
            return font
        return None

    # -- cells ----------------------------------------------------------------------------
    def _is_failed(self, row: LayerRow) -> bool:
        return self._trace.failed == row.index

    def _is_past(self, row: LayerRow) -> bool:
        return self._trace.failed is not None and row.index > self._trace.failed

    def cell_text(self, row: LayerRow, column: int) -> str:
        past = self._is_past(row)
        failed = self._is_failed(row)
        if column == 0:
            return str(row.index)
        if column == 1:
            # The name above the code: a narrow dock keeps more of both (the tooltip has it all).
            code = wrap_between_arguments(row.layer.code().removeprefix("nn."))
            return f"{row.layer.name}\n{code}" if row.layer.name else code
        if column == 2:
            return shape_text(row.input_shape)
        if column == 3:
            return "✗" if failed else (DASH if past else shape_text(row.output_shape))
        if column == 4:
            shared = row.layer.name and row.params == 0 and uses(self._trace.stack, row.index) > 1
            return "shared" if shared and _has_weights(row) else f"{row.params:,}"
        if column == 5:
            return DASH if past or failed else f"{row.macs:,}"
        if column == 6:
            if row.receptive_field is None:
                return DASH
            rh, rw = row.receptive_field
            return str(rh) if rh == rw else pair_text(row.receptive_field)
        if column == 7:
            return jump_text(row.jump)
        return ""

    def cell_tip(self, row: LayerRow, column: int) -> str:
        layer = row.layer
        lines: list[str] = []
        if self._is_failed(row):
            lines.append(f"✗ {row.error}" + (f": {row.fix}" if row.fix else ""))
        elif self._is_past(row):
            lines.append(f"not traced: layer {self._trace.failed} before it does not fit")
        if column in (0, 1):
            lines.append(layer.code())
            lines.append(f"{layer.kind}: {DESCRIPTIONS.get(layer.kind, '')}")
            n = uses(self._trace.stack, row.index)
            if n > 1:
                lines.append(f"{layer.name} is one module used {n} times: the same weights every time")
        elif column in (2, 3):
            lines.append(f"{shape_text(row.input_shape)} → {shape_text(row.output_shape) if row.ok else DASH}")
            lines.extend(row.formula)
        elif column == 4:
            lines.append(params_formula(row))
        elif column == 5:
            lines.append(macs_formula(row))
        elif column in (6, 7):
            if row.receptive_field is None:
                lines.append("no receptive field once the maps are flattened: every output sees the whole input"
                             if row.ok else "no receptive field: the layer does not run")
            else:
                lines.append(f"receptive field {pair_text(row.receptive_field)} input pixels, "
                             f"jump {jump_text(row.jump)}")
                if row.rf_formula:
                    lines.append(row.rf_formula)
                lines.append("r_l = r_(l−1) + (k_l − 1)·d_l·j_(l−1), j_l = j_(l−1)·s_l")
        if row.note and column in (1, 3):
            lines.append(row.note)
        return "\n".join(line for line in lines if line)


def _has_weights(row: LayerRow) -> bool:
    return row.layer.kind in ("Conv2d", "ConvTranspose2d", "Linear", "BatchNorm2d")


def totals_text(trace_: StackTrace) -> str:
    """The line under the table: parameters, MACs, the final shape."""
    if not trace_.rows:
        return "No layers yet: add one, paste PyTorch code or pick a model."
    out = (f"output {shape_text(trace_.output_shape)}" if trace_.failed is None
           else f"stops at layer {trace_.failed} ({trace_.rows[trace_.failed].layer.label})")
    return (f"Total: {trace_.total_params:,} parameters · {trace_.total_macs:,} MACs · "
            f"{shape_text(trace_.input_shape)} in, {out}")


def code_font() -> QFont:
    """The monospace font code is edited in, at the text zoom (a font set on a widget does
    not follow the application's)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * text_zoom().factor)
    return font
