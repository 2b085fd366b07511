"""The kernel picker: every 4-D weight of a file, thumbnails of its filters, and the choice
of a whole layer or one filter; plus saving and copying the session's kernel.

Entry points for the main window: :func:`open_kernel_file` (File > Open kernel..., drag and
drop), :func:`save_kernel_file` (the writing itself is ``compute.checkpoints.save_kernel``)
and :func:`copy_kernel_literal`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QGuiApplication, QImage, QMouseEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from convplay.compute.checkpoints import (
    KERNEL_FILE_SUFFIXES,
    KERNEL_SAVE_FORMATS,
    KERNEL_SAVE_SUFFIXES,
    read_kernel_file,
    save_kernel,
)
from convplay.core.history import History, push_change
from convplay.core.kernel_io import (
    DEFAULT_SAVE_DTYPE,
    SAVE_DTYPES,
    KernelChoice,
    KernelFile,
    KernelFileError,
    LoadedKernel,
    choose_kernel,
)
from convplay.core.codegen import kernel_snippet
from convplay.core.session import Session
from convplay.qt import files, style, zoom
from convplay.qt.zoom import text_zoom

MAX_THUMBNAIL_FILTERS = 64
MAX_THUMBNAIL_INPUTS = 32
NON_FINITE_RGBA = np.array([255, 0, 255, 255], dtype=np.uint8)
HATCH_RGBA = np.array([40, 0, 40, 255], dtype=np.uint8)
THUMBNAIL_PX = 40  # one input channel of one filter, at zoom 1 (each tap 40 // k px)

_LUT: Optional[np.ndarray] = None


def _diverging_lut() -> np.ndarray:
    global _LUT
    if _LUT is None:
        _LUT = pg.colormap.get(style.DIVERGING).map(np.linspace(0.0, 1.0, 256), mode="byte").astype(np.uint8)
    return _LUT


def _cell_rgba(values: np.ndarray, scale: float, px: int) -> np.ndarray:
    """One (kh, kw) filter as a (kh*px, kw*px, 4) image; non-finite taps hatched magenta."""
    finite = np.isfinite(values)
    t = np.clip(np.where(finite, values, 0.0) / scale * 0.5 + 0.5, 0.0, 1.0)
    rgba = _diverging_lut()[np.round(t * 255).astype(np.intp)]
    rgba = np.repeat(np.repeat(rgba, px, axis=0), px, axis=1)
    if not finite.all():
        bad = np.repeat(np.repeat(~finite, px, axis=0), px, axis=1)
        yy, xx = np.indices(bad.shape)
        stripe = ((yy + xx) // 2) % 2 == 0
        rgba[bad & stripe] = NON_FINITE_RGBA
        rgba[bad & ~stripe] = HATCH_RGBA
    return rgba


def _rgb_composite(filt: np.ndarray, px: int) -> np.ndarray:
    """A 3-channel filter as colour: each input channel's weights, centred and scaled, as R, G, B."""
    finite = np.where(np.isfinite(filt), filt, 0.0)
    scale = float(np.abs(finite).max()) or 1.0
    rgb = np.clip(finite / scale * 0.5 + 0.5, 0, 1).transpose(1, 2, 0)
    rgba = np.concatenate([np.round(rgb * 255), np.full(rgb.shape[:2] + (1,), 255.0)], axis=2).astype(np.uint8)
    rgba[~np.isfinite(filt).all(axis=0)] = NON_FINITE_RGBA
    return np.repeat(np.repeat(rgba, px, axis=0), px, axis=1)


@dataclass(frozen=True)
class FilterThumbnails:
    """The thumbnails of a (out, in, kh, kw) weight, one image per (out, in) pair, and an
    RGB composite per filter when there are 3 input channels.  One symmetric colour scale
    for the whole layer (0 is the neutral middle of CET-D1)."""

    cells: list[list[np.ndarray]]  # [out][column] (h, w, 4) uint8; the last column is RGB if ``rgb``
    n_out: int  # filters in the layer (rows shown: at most MAX_THUMBNAIL_FILTERS)
    n_in: int  # input channels (columns shown: at most MAX_THUMBNAIL_INPUTS)
    rgb: bool
    scale: float

    @property
    def rows(self) -> int:
        return len(self.cells)

    @property
    def columns(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    def column_label(self, column: int) -> str:
        return "RGB" if self.rgb and column == self.columns - 1 else f"in {column}"


def filter_thumbnails(weight: np.ndarray, cell_px: int = THUMBNAIL_PX) -> FilterThumbnails:
    n_out, n_in, kh, kw = weight.shape
    shown = weight[:MAX_THUMBNAIL_FILTERS, :MAX_THUMBNAIL_INPUTS]
    finite = shown[np.isfinite(shown)]
    scale = (float(np.abs(finite).max()) if finite.size else 1.0) or 1.0
    px = max(2, cell_px // max(kh, kw))
    rgb = n_in == 3
    cells = []
    for filt in shown:
        row = [_cell_rgba(channel, scale, px) for channel in filt]
        if rgb:
            row.append(_rgb_composite(filt, px))
        cells.append(row)
    return FilterThumbnails(cells, n_out, n_in, rgb, scale)


@dataclass(frozen=True)
class MosaicGeometry:
    """Where each thumbnail sits.  A filter is one unit: its "out N" label, then a band
    holding a thumbnail per input channel (a gap between them), under "in N" headings.
    Units sit ``per_line`` to a line, as many as the width allows, a wider gap between
    them, so that each filter reads as one thing to click."""

    rows: int  # filters
    columns: int  # thumbnails per filter (input channels, and RGB)
    cell_w: int
    cell_h: int
    left: int  # the "out N" label's width
    top: int  # the "in N" headings' height
    channel_gap: int
    filter_gap: int
    pad: int  # the band around one filter's thumbnails
    per_line: int = 1

    @property
    def unit_w(self) -> int:
        return self.left + self.band_w

    @property
    def band_w(self) -> int:
        return 2 * self.pad + self.columns * self.cell_w + (self.columns - 1) * self.channel_gap

    def _origin(self, row: int) -> QPoint:
        line, place = divmod(row, self.per_line)
        return QPoint(place * (self.unit_w + self.filter_gap),
                      self.top + line * (self.cell_h + 2 * self.pad + self.filter_gap))

    def band(self, row: int) -> QRect:
        """The filter's frame: its thumbnails and the pad around them."""
        o = self._origin(row)
        return QRect(o.x() + self.left, o.y(), self.band_w, self.cell_h + 2 * self.pad)

    def label(self, row: int) -> QRect:
        """Where "out N" is written, left of the band."""
        o = self._origin(row)
        return QRect(o.x(), o.y(), self.left - self.channel_gap, self.cell_h + 2 * self.pad)

    def cell(self, row: int, column: int) -> QRect:
        band = self.band(row)
        return QRect(band.x() + self.pad + column * (self.cell_w + self.channel_gap), band.y() + self.pad,
                     self.cell_w, self.cell_h)

    def heading(self, place: int, column: int) -> QRect:
        """The "in N" heading over ``column`` of the filters at ``place`` in each line."""
        cell = self.cell(place, column)
        return QRect(cell.left() - self.channel_gap, 0, cell.width() + 2 * self.channel_gap, self.top - self.pad)

    def size(self) -> QSize:
        if not self.rows:
            return QSize(0, 0)
        lines = -(-self.rows // self.per_line)
        width = min(self.rows, self.per_line) * (self.unit_w + self.filter_gap) - self.filter_gap
        bottom = self.band((lines - 1) * self.per_line).bottom()
        return QSize(width + 1, bottom + 1 + self.pad)

    def row_at(self, point: QPoint) -> Optional[int]:
        """The filter whose band or label is under ``point``; None in the gaps between filters."""
        for row in range(self.rows):
            band, label = self.band(row), self.label(row)
            if band.united(label).contains(point):
                return row
        return None

    def column_at(self, point: QPoint) -> Optional[int]:
        row = self.row_at(point)
        if row is None:
            return None
        for column in range(self.columns):
            rect = self.cell(row, column)
            if rect.left() <= point.x() <= rect.right():
                return column
        return None


class FilterMosaic(QWidget):
    """The thumbnails, labelled (out, in), laid out to the width it is given
    (:meth:`set_width_limit`); a click picks the filter under the mouse, and the picked one
    is framed.  Sizes follow the text zoom."""

    filterClicked = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self._weight: Optional[np.ndarray] = None
        self._thumbs: Optional[FilterThumbnails] = None
        self._images: list[list[QImage]] = []
        self._selected: Optional[int] = None
        self._width_limit = 0  # 0: one filter per line
        self.geometry_ = MosaicGeometry(0, 0, 0, 0, 0, 0, 0, 0, 0)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        text_zoom().changed.connect(self._rebuild)  # Qt disconnects it when the widget goes

    @property
    def thumbnails(self) -> Optional[FilterThumbnails]:
        return self._thumbs

    def set_weight(self, weight: Optional[np.ndarray]) -> None:
        self._weight = None if weight is None else np.asarray(weight)
        self._selected = None
        self._rebuild()

    def set_width_limit(self, width: int) -> None:
        """Lay the filters out side by side in lines no wider than ``width`` px."""
        if width != self._width_limit:
            self._width_limit = width
            self._relayout()

    def set_selected(self, row: Optional[int]) -> None:
        """Frame filter ``row`` (the one filter chosen), or none."""
        if row != self._selected:
            self._selected = row
            self.update()

    @property
    def selected(self) -> Optional[int]:
        return self._selected

    def _rebuild(self, *_: object) -> None:
        if self._weight is None:
            self._thumbs, self._images = None, []
        else:
            self._thumbs = filter_thumbnails(self._weight, zoom.scaled(THUMBNAIL_PX))
            self._images = [[_qimage(cell) for cell in row] for row in self._thumbs.cells]
        self._relayout()

    def _relayout(self) -> None:
        thumbs = self._thumbs
        if thumbs is None:
            self.geometry_ = MosaicGeometry(0, 0, 0, 0, 0, 0, 0, 0, 0)
        else:
            metrics = QFontMetrics(self.font())
            h, w = thumbs.cells[0][0].shape[:2]
            widest = max(metrics.horizontalAdvance(f"out {thumbs.rows - 1}"), metrics.horizontalAdvance("RGB"))
            gap = max(3, zoom.scaled(4))
            g = MosaicGeometry(thumbs.rows, thumbs.columns, w, h, left=widest + 2 * gap,
                               top=metrics.height() + 2 * gap, channel_gap=gap, filter_gap=3 * gap, pad=gap)
            fit = (self._width_limit + g.filter_gap) // (g.unit_w + g.filter_gap) if self._width_limit else 1
            self.geometry_ = replace(g, per_line=max(1, min(thumbs.rows, fit)))
        self.setFixedSize(self.geometry_.size())
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._rebuild()
        super().changeEvent(event)

    def paintEvent(self, event) -> None:
        if self._thumbs is None:
            return
        g, thumbs = self.geometry_, self._thumbs
        painter = QPainter(self)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        painter.setFont(self.font())
        painter.setPen(text)
        for place in range(min(g.per_line, g.rows)):
            for column in range(g.columns):
                painter.drawText(g.heading(place, column), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                                 thumbs.column_label(column))
        # A mid grey around the thumbnails: their white (weight 0) stays a cell, not a hole.
        band_fill = QColor(style.colour("GRID_LINE"))
        frame = QColor(style.colour("PRODUCT_GRID_LINE"))
        for row in range(g.rows):
            band = g.band(row)
            painter.setPen(text)
            painter.drawText(g.label(row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"out {row}")
            painter.fillRect(band, band_fill)
            painter.setPen(QPen(frame, style.line_width(1)))
            painter.drawRect(band.adjusted(0, 0, -1, -1))
            for column, image in enumerate(self._images[row]):
                painter.drawImage(g.cell(row, column), image)
        if self._selected is not None and 0 <= self._selected < g.rows:
            # On the band's edge, half over its pad and half in the gap: the thumbnails stay whole.
            width = round(style.line_width(3))  # the theme's width: thicker on a projector
            painter.setPen(QPen(QColor(style.colour("SELECTED_FRAME")), width))
            painter.drawRect(g.band(self._selected).adjusted(0, 0, -1, -1))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.geometry_.row_at(event.position().toPoint())
        if row is not None:
            self.filterClicked.emit(row)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self.setToolTip(self.tip_at(event.position().toPoint()))
        super().mouseMoveEvent(event)

    def tip_at(self, point: QPoint) -> str:
        """What the thumbnail under ``point`` shows (the widget's tooltip there)."""
        thumbs, weight = self._thumbs, self._weight
        if thumbs is None or weight is None:
            return ""
        row, column = self.geometry_.row_at(point), self.geometry_.column_at(point)
        if row is None:
            return ""
        pick = f"Click to pick filter {row} (out {row}) as the kernel."
        if column is None or (thumbs.rgb and column == thumbs.columns - 1):
            return f"Filter out {row}: {thumbs.n_in} input channel(s). {pick}"
        values = weight[row, column]
        finite = values[np.isfinite(values)]
        span = f"from {finite.min():.3g} to {finite.max():.3g}" if finite.size else "no finite values"
        return f"Filter out {row}, input channel in {column}: weights {span}. {pick}"


class _WidthFollower(QObject):
    """Gives the mosaic its scroll area's width whenever that changes."""

    def __init__(self, scroll: QScrollArea, mosaic: FilterMosaic):
        super().__init__(scroll)
        self._scroll, self._mosaic = scroll, mosaic
        scroll.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._mosaic.set_width_limit(self._scroll.viewport().width())
        return False


def _qimage(rgba: np.ndarray) -> QImage:
    h, w = rgba.shape[:2]
    rgba = np.ascontiguousarray(rgba)
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class KernelPickerDialog(QDialog):
    """Lists the 4-D weights of ``kernel_file``; :meth:`choice` is what the user picked."""

    COLUMNS = ("name", "shape", "dtype", "bias", "note")

    def __init__(self, kernel_file: KernelFile, session: Session, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWindowTitle(f"Pick a kernel: {kernel_file.path.name}")
        self._file = kernel_file
        self._session = session
        self._loaded: Optional[LoadedKernel] = None

        self.table = QTableWidget(len(kernel_file.entries), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([c.capitalize() for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Every 4-D tensor (conv weight) in the file")
        for row, e in enumerate(kernel_file.entries):
            note = e.problem or ("transposed (by its name)" if e.transposed else "")
            cells = (e.name, " x ".join(map(str, e.shape)), e.dtype, "yes" if e.has_bias else "no", note)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(e.problem or text)
                if e.problem:
                    item.setFlags(Qt.ItemFlag.NoItemFlags)
                self.table.setItem(row, col, item)

        self.mosaic = FilterMosaic()
        scroll = QScrollArea()
        scroll.setWidget(self.mosaic)
        scroll.setWidgetResizable(False)  # the thumbnails keep their size; the area scrolls
        scroll.setMinimumWidth(260)
        # Always there, so that the width the filters are laid out to does not change when it
        # appears (which would lay them out again, and again).
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._width_follower = _WidthFollower(scroll, self.mosaic)  # filters side by side where they fit
        self.filters_caption = QLabel()
        self.filters_caption.setWordWrap(True)
        self.filters_caption.setToolTip(
            "Each filter (output channel, out N) in its frame, with a thumbnail per input channel (in N), and "
            "RGB when there are 3; blue negative, white 0, red positive on one scale for the layer; NaN / Inf "
            "hatched magenta. Click a filter to use it alone."
        )

        self.whole = QRadioButton("Whole layer")
        self.whole.setToolTip("All output channels; in_channels and kernel size follow the weight")
        self.one = QRadioButton("One filter:")
        self.one.setToolTip("A single output channel of the layer")
        self.whole.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.whole)
        group.addButton(self.one)
        self.index = QSpinBox()
        self.index.setToolTip("Which filter (output channel), counted from 0")
        self.transposed = QCheckBox("Use as a transposed convolution")
        self.transposed.setToolTip("Weights named deconv / up / transpose are taken as nn.ConvTranspose2d")
        self.warnings = QLabel()
        self.warnings.setStyleSheet(style.WARNING_TEXT_STYLE)
        self.warnings.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        pick = QHBoxLayout()
        for w in (self.whole, self.one, self.index):
            pick.addWidget(w)
        pick.addStretch(1)
        side = QVBoxLayout()
        side.addWidget(self.filters_caption)
        side.addWidget(scroll, 1)
        top = QHBoxLayout()
        top.addWidget(self.table, 2)
        top.addLayout(side, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(pick)
        layout.addWidget(self.transposed)
        layout.addWidget(self.warnings)
        layout.addWidget(self.notes)
        layout.addWidget(self.buttons)
        self.resize(980, 480)

        self.table.itemSelectionChanged.connect(self._on_select)
        self.mosaic.filterClicked.connect(self._pick_filter)
        self.transposed.toggled.connect(self._show_filters)  # rows are output filters either way
        for signal in (self.whole.toggled, self.transposed.toggled):
            signal.connect(self._update_notes)
        self.index.valueChanged.connect(self._update_notes)
        self.table.selectRow(kernel_file.entries.index(kernel_file.first_loadable()))

    # -- state ---------------------------------------------------------------------------
    @property
    def loaded(self) -> Optional[LoadedKernel]:
        return self._loaded

    def select(self, name: str) -> None:
        self.table.selectRow(self._file.entries.index(self._file.find(name)))

    def choice(self) -> Optional[KernelChoice]:
        """The spec, weight and bias for the current selection, or None if nothing loadable is selected."""
        if self._loaded is None:
            return None
        index = self.index.value() if self.one.isChecked() else None
        return choose_kernel(
            self._loaded, self._session.spec, self._session.image.shape[0], index, self.transposed.isChecked()
        )

    # -- reactions ---------------------------------------------------------------------------
    def _on_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self._loaded = None
        self.warnings.clear()
        if rows:
            entry = self._file.entries[rows[0].row()]
            try:
                self._loaded = self._file.load(entry)
            except KernelFileError as exc:
                self.warnings.setText(str(exc))
        loaded = self._loaded
        if loaded is not None:
            self.transposed.setChecked(loaded.transposed)
            self.warnings.setText("\n".join(loaded.warnings))
        self._show_filters()
        self._update_notes()

    def _show_filters(self) -> None:
        loaded = self._loaded
        self.mosaic.set_weight(None if loaded is None else self._filters_view(loaded))
        self.filters_caption.setText(self._caption())

    def _filters_view(self, loaded: LoadedKernel) -> np.ndarray:
        # A transposed weight is (in, out, kh, kw): show one row per output filter as well.
        return loaded.weight.transpose(1, 0, 2, 3) if self.transposed.isChecked() else loaded.weight

    def _caption(self) -> str:
        thumbs = self.mosaic.thumbnails
        if thumbs is None:
            return "Filters"
        kh, kw = (self._loaded.weight.shape[2:] if self._loaded is not None else (0, 0))
        inputs = f"{thumbs.n_in} input channel{'s' if thumbs.n_in != 1 else ''}"
        text = f"{thumbs.n_out} filters (out) of {kh}×{kw}, each with a thumbnail per input channel (in): {inputs}"
        hidden = []
        if thumbs.n_out > thumbs.rows:
            hidden.append(f"the first {thumbs.rows} filters")
        if thumbs.n_in > len(thumbs.cells[0]) - thumbs.rgb:
            hidden.append(f"the first {len(thumbs.cells[0])} input channels")
        if hidden:
            text += f" ({' and '.join(hidden)} shown)"
        return text + ". Click one to use it alone."

    def _pick_filter(self, row: int) -> None:
        self.one.setChecked(True)
        self.index.setValue(row)

    def _update_notes(self) -> None:
        loaded = self._loaded
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if loaded is None:
            ok.setEnabled(False)
            self.notes.clear()
            return
        n_out = loaded.weight.shape[1] if self.transposed.isChecked() else loaded.weight.shape[0]
        self.index.setRange(0, n_out - 1)
        self.index.setEnabled(self.one.isChecked())
        self.mosaic.set_selected(self.index.value() if self.one.isChecked() else None)
        try:
            choice = self.choice()
        except KernelFileError as exc:
            ok.setEnabled(False)
            self.notes.setText(str(exc))
            return
        ok.setEnabled(True)
        s = choice.spec
        kind = "ConvTranspose2d" if s.transposed else "Conv2d"
        summary = f"{kind}({s.in_channels}, {s.out_channels}, kernel_size={s.kernel_size}, groups={s.groups}, bias={s.bias})"
        self.notes.setText("\n".join((summary, *choice.notes)))


def apply_kernel_choice(
    session: Session, history: Optional[History], choice: KernelChoice, text: str, name: Optional[str] = None
) -> None:
    """Put the choice into the session as one undoable step; the Kernel panel's preset box
    shows ``name`` (by default what ``text`` loads)."""
    if name is None:
        name = text.removeprefix("Load kernel ").removeprefix("Load ")
    push_change(
        history, session, text, lambda: session.set_kernel(choice.spec, choice.weight, choice.bias, name=name)
    )


def open_kernel_file(parent: Optional[QWidget], session: Session, history: Optional[History], path: str | Path) -> bool:
    """Read ``path``, let the user pick a layer or filter, apply it undoably.

    A refused file shows its reason and leaves the session untouched.  True when a kernel was applied.
    """
    try:
        kernel_file = read_kernel_file(path)
    except KernelFileError as exc:
        QMessageBox.warning(parent, "Kernel file refused", str(exc))
        return False
    dialog = KernelPickerDialog(kernel_file, session, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    choice = dialog.choice()
    if choice is None:
        return False
    name = dialog.loaded.name if dialog.loaded else Path(path).name
    what = f"filter {dialog.index.value()} of {name}" if dialog.one.isChecked() else name
    source = Path(path).name
    shown = f"from {source}" if what == source else f"{what}, from {source}"
    apply_kernel_choice(session, history, choice, f"Load kernel {what}", name=shown)
    return True


KERNEL_FILE_FILTER = files.file_filter("Kernel files", KERNEL_FILE_SUFFIXES)


def save_filters(has_bias: bool, first_dtype: str = DEFAULT_SAVE_DTYPE) -> dict[str, tuple[str, str]]:
    """The save dialog's file types, each saying what it keeps, mapped to (suffix, dtype):
    every format in float32 and float64, the PyTorch state_dict in ``first_dtype`` first
    (what the dialog proposes)."""
    dtypes = sorted(SAVE_DTYPES, key=lambda d: d != first_dtype)
    filters = {}
    for fmt in KERNEL_SAVE_FORMATS:
        if fmt.suffix == ".txt":
            what = "one 2-D filter"
        elif fmt.keeps_bias:
            what = "weight and bias" if has_bias else "weight (this kernel has no bias)"
        else:
            what = "the weight only, not the bias" if has_bias else "weight"
        for dtype in dtypes:
            filters[f"{fmt.label}, {what}, {dtype} (*{fmt.suffix})"] = (fmt.suffix, dtype)
    return filters


@dataclass(frozen=True)
class SavedKernel:
    path: Path
    message: str  # what was saved, for the status bar


def save_kernel_file(
    parent: Optional[QWidget],
    session: Session,
    *,
    settings: Optional[QSettings] = None,
    dtype: str = DEFAULT_SAVE_DTYPE,
) -> Optional[SavedKernel]:
    """Ask for a file name (in the last folder) and a file type, and save the kernel there:
    its bias too where the format holds one, in float32 (what PyTorch receives) unless the
    user picks float64 or ``dtype`` (the compute dtype) is float64.  None if cancelled or
    refused (the reason shown)."""
    first = dtype if dtype in SAVE_DTYPES else DEFAULT_SAVE_DTYPE
    filters = save_filters(session.bias is not None, first)
    path, chosen = files.ask_save_path(parent, "Save kernel", ";;".join(filters), settings, name="kernel.pth")
    if not path:
        return None
    path = Path(path)
    suffix, chosen_dtype = filters.get(chosen, (".pth", first))
    if path.suffix.lower() not in KERNEL_SAVE_SUFFIXES:
        path = path.with_name(path.name + suffix)  # "kernel" or "sobel.v2": the file type's suffix added
    try:
        message = save_kernel(path, session.weight, session.bias, chosen_dtype)
    except (KernelFileError, OSError) as exc:
        QMessageBox.warning(parent, "Kernel not saved", str(exc))
        return None
    return SavedKernel(path, message)


def copy_kernel_literal(session: Session, dtype: str = DEFAULT_SAVE_DTYPE) -> str:
    """Put the kernel (and bias) on the clipboard as PyTorch code, and return it: formatted
    ``torch.tensor`` literals in ``dtype`` (the compute dtype, what PyTorch receives) and the
    nn.Conv2d they belong to."""
    text = kernel_snippet(
        session.spec, session.weight, session.bias, dtype=dtype, true_convolution=session.true_convolution
    )
    QGuiApplication.clipboard().setText(text)
    return text
