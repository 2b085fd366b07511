"""The kernel picker: every 4-D weight of a file, thumbnails of its filters, and the choice
of a whole layer or one filter; plus saving and copying the session's kernel.

Entry points for the main window: :func:`open_kernel_file` (File > Open kernel..., drag and
drop), :func:`save_kernel_file` (the writing itself is ``compute.checkpoints.save_kernel``)
and :func:`copy_kernel_literal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QMouseEvent, QPixmap
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
from convplay.qt import files, style

MAX_THUMBNAIL_FILTERS = 64
NON_FINITE_RGBA = np.array([255, 0, 255, 255], dtype=np.uint8)
HATCH_RGBA = np.array([40, 0, 40, 255], dtype=np.uint8)
GAP_RGBA = np.array([128, 128, 128, 255], dtype=np.uint8)

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


def filter_mosaic(weight: np.ndarray, max_filters: int = MAX_THUMBNAIL_FILTERS) -> tuple[np.ndarray, int]:
    """Thumbnails of a (out, in, kh, kw) weight: a row per filter, a column per input channel,
    and an RGB composite column when there are 3 input channels.

    One symmetric colour scale for the whole layer (0 is the neutral middle of CET-D1).
    Returns the (H, W, 4) uint8 image and the height in pixels of one row (for clicks).
    """
    n_out, n_in, kh, kw = weight.shape
    shown = weight[:max_filters]
    finite = shown[np.isfinite(shown)]
    scale = float(np.abs(finite).max()) if finite.size else 1.0
    scale = scale or 1.0
    px = max(2, 40 // max(kh, kw))
    gap = 2
    cols = n_in + (1 if n_in == 3 else 0)
    cell_h, cell_w = kh * px, kw * px
    row_h = cell_h + gap
    image = np.empty((len(shown) * row_h - gap, cols * (cell_w + gap) - gap, 4), dtype=np.uint8)
    image[:] = GAP_RGBA
    for o, filt in enumerate(shown):
        y = o * row_h
        for i in range(n_in):
            x = i * (cell_w + gap)
            image[y : y + cell_h, x : x + cell_w] = _cell_rgba(filt[i], scale, px)
        if n_in == 3:
            x = 3 * (cell_w + gap)
            image[y : y + cell_h, x : x + cell_w] = _rgb_composite(filt, px)
    return image, row_h


class FilterMosaic(QLabel):
    """The thumbnails; a click picks the filter (row) under the mouse."""

    filterClicked = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._row_h = 0
        self._rows = 0
        self._rgba: Optional[np.ndarray] = None

    def set_weight(self, weight: Optional[np.ndarray]) -> None:
        if weight is None:
            self._rgba, self._rows = None, 0
            self.clear()
            return
        self._rgba, self._row_h = filter_mosaic(weight)
        self._rows = min(len(weight), MAX_THUMBNAIL_FILTERS)
        h, w = self._rgba.shape[:2]
        qimage = QImage(self._rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
        self.setPixmap(QPixmap.fromImage(qimage.copy()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._rows:
            row = int(event.position().y()) // self._row_h
            if 0 <= row < self._rows:
                self.filterClicked.emit(row)
        super().mousePressEvent(event)


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
        self.mosaic.setToolTip(
            "One row per filter, one column per input channel (and RGB when there are 3); "
            "blue negative, red positive; NaN / Inf hatched magenta. Click a row to pick that filter."
        )
        scroll = QScrollArea()
        scroll.setWidget(self.mosaic)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(220)

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
        side.addWidget(QLabel("Filters"))
        side.addWidget(scroll, 1)
        top = QHBoxLayout()
        top.addWidget(self.table, 3)
        top.addLayout(side, 2)
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
        self.mosaic.set_weight(None if loaded is None else self._filters_view(loaded))
        if loaded is not None:
            self.transposed.setChecked(loaded.transposed)
            self.warnings.setText("\n".join(loaded.warnings))
        self._update_notes()

    def _filters_view(self, loaded: LoadedKernel) -> np.ndarray:
        # A transposed weight is (in, out, kh, kw): show one row per output filter as well.
        return loaded.weight.transpose(1, 0, 2, 3) if loaded.transposed else loaded.weight

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
