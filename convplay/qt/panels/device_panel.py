"""Where PyTorch runs: device, dtype, TF32, and what the last call took.

A view of two models: ``ComputeSettings`` (its widgets call the setters) and ``Results``
(the last call's time, device and CUDA check; read when the panel is on screen).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QWidget

from convplay.core.compute_settings import DTYPES, ComputeSettings
from convplay.core.formatting import format_seconds
from convplay.core.results import Results
from convplay.qt import style
from convplay.qt.shown import WhenShown

NO_CUDA = "CUDA not available: PyTorch runs on the CPU"
TF32_TIP = (
    "TensorFloat-32: on CUDA, cuDNN may round float32 convolutions to a 10-bit mantissa.\n"
    "Faster, but results differ from float64 by ~1e-2 instead of ~1e-4.\n"
    "Only applies on a CUDA device with dtype float32."
)


class DevicePanel(QWidget):
    """View of a ``ComputeSettings`` and of the ``Results``' last PyTorch call."""

    def __init__(self, settings: ComputeSettings, results: Results | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._settings = settings
        self.results = results if results is not None else Results()
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("The device PyTorch runs the convolution on")
        # A GPU's long name is cut in the box (whole in the list): the panel fits a side column.
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(12)
        self.dtype_combo = QComboBox()
        self.dtype_combo.addItems(DTYPES)
        self.dtype_combo.setToolTip("The dtype of the input, weight and output tensors")
        self.tf32_check = QCheckBox("allow TF32")
        self.tf32_check.setToolTip(TF32_TIP)
        self.cuda_label = QLabel(NO_CUDA)
        self.cuda_label.setWordWrap(True)
        self.cuda_label.setStyleSheet(style.MUTED_TEXT_STYLE)
        self.cuda_label.setToolTip("PyTorch found no CUDA device (or was built without CUDA)")
        self.time_label = QLabel("\u2014")
        self.time_label.setToolTip("Wall time of the last PyTorch call, measured in the worker thread")
        self.ran_on_label = QLabel("\u2014")
        self.ran_on_label.setToolTip("The device the last result came from")
        self.diff_label = QLabel("\u2014")
        self.diff_label.setToolTip(
            "On CUDA: the largest |difference| between this result and a CPU float64 run of the same conv"
        )
        self.status_label = QLabel("loading PyTorch\u2026")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet(style.MUTED_TEXT_STYLE)
        self.status_label.setToolTip("PyTorch is imported after the window first paints")

        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("device", self.device_combo)
        form.addRow("", self.cuda_label)
        form.addRow("dtype", self.dtype_combo)
        form.addRow("", self.tf32_check)
        form.addRow("last call", self.time_label)
        form.addRow("ran on", self.ran_on_label)
        form.addRow("max |\u0394| vs CPU f64", self.diff_label)
        form.addRow(self.status_label)

        self.device_combo.currentIndexChanged.connect(self._on_device_picked)
        self.dtype_combo.currentTextChanged.connect(settings.set_dtype)
        self.tf32_check.toggled.connect(settings.set_tf32)
        settings.changed.connect(self._sync)
        settings.devices_changed.connect(self._sync)
        # New label texts lay the window out again (0.5 ms before an output can be painted):
        # out of sight (a tab behind another) the panel reads the last call when shown.
        self._when_shown = WhenShown(self, self._show_last_call)
        self.results.outcome_changed.connect(self._when_shown.request)
        self.destroyed.connect(lambda: _disconnect(settings, self.results, self._sync, self._when_shown.request))
        self._sync()
        self._when_shown.request()

    # -- model -> view ---------------------------------------------------------------
    def _sync(self) -> None:
        s = self._settings
        with QSignalBlocker(self.device_combo), QSignalBlocker(self.dtype_combo), QSignalBlocker(self.tf32_check):
            ids = [self.device_combo.itemData(i) for i in range(self.device_combo.count())]
            if ids != [d for d, _ in s.devices]:
                self.device_combo.clear()
                for dev, label in s.devices:
                    self.device_combo.addItem(label if dev == "cpu" else f"{dev}: {label}", dev)
            index = self.device_combo.findData(s.device)
            self.device_combo.setCurrentIndex(max(index, 0))
            self.dtype_combo.setCurrentText(s.dtype)
            self.tf32_check.setChecked(s.tf32)
            self.tf32_check.setEnabled(s.tf32_applicable)
        self.cuda_label.setVisible(not s.cuda_available)
        self.device_combo.setEnabled(len(s.devices) > 1)
        if not s.cuda_available:
            self.device_combo.setToolTip(NO_CUDA)

    def set_status(self, text: str) -> None:
        """A line under the figures ("" hides it): PyTorch loading, errors."""
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def _show_last_call(self) -> None:
        outcome = self.results.outcome
        if outcome is None:
            return
        self.time_label.setText(format_seconds(outcome.elapsed_s))
        self.ran_on_label.setText(outcome.device_name)
        diff = outcome.max_diff_cpu64
        self.diff_label.setText("\u2014 (CPU)" if diff is None else f"{diff:.3g}")

    # -- view -> model ---------------------------------------------------------------
    def _on_device_picked(self, index: int) -> None:
        device = self.device_combo.itemData(index)
        if device:
            self._settings.set_device(device)


def _disconnect(settings: ComputeSettings, results: Results, sync, last_call) -> None:
    settings.changed.disconnect(sync)
    settings.devices_changed.disconnect(sync)
    results.outcome_changed.disconnect(last_call)
