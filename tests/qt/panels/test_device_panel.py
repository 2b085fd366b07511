"""DevicePanel: the ComputeSettings model drives the widgets and the widgets drive it."""

import numpy as np
import pytest

from convplay.core.compute_settings import ComputeSettings
from convplay.core.results import ComputeOutcome, ComputeRequest, Results
from convplay.core.spec import ConvSpec
from convplay.qt.panels.device_panel import NO_CUDA, DevicePanel


@pytest.fixture
def settings():
    return ComputeSettings()


@pytest.fixture
def panel(qtbot, settings):
    panel = DevicePanel(settings, Results())
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_cpu_only_says_cuda_is_not_available(panel, settings):
    assert panel.device_combo.count() == 1 and panel.device_combo.currentData() == "cpu"
    assert panel.cuda_label.isVisible() and panel.cuda_label.text() == NO_CUDA
    assert not panel.tf32_check.isEnabled()


def test_model_to_view(panel, settings):
    settings.set_devices([("cpu", "CPU"), ("cuda:0", "NVIDIA H200")])
    assert [panel.device_combo.itemData(i) for i in range(2)] == ["cpu", "cuda:0"]
    assert not panel.cuda_label.isVisible()
    settings.set_device("cuda:0")
    assert panel.device_combo.currentData() == "cuda:0"
    assert panel.tf32_check.isEnabled()  # CUDA float32
    settings.set_dtype("float64")
    assert panel.dtype_combo.currentText() == "float64" and not panel.tf32_check.isEnabled()
    settings.set_tf32(True)
    assert panel.tf32_check.isChecked()


def test_view_to_model(panel, settings):
    settings.set_devices([("cpu", "CPU"), ("cuda:0", "NVIDIA H200")])
    panel.device_combo.setCurrentIndex(1)
    assert settings.device == "cuda:0"
    panel.dtype_combo.setCurrentText("float16")
    assert settings.dtype == "float16"
    panel.dtype_combo.setCurrentText("float32")
    panel.tf32_check.setChecked(True)
    assert settings.tf32 and settings.tf32_effective


def _outcome(results, elapsed_s, device_name, max_diff):
    request = ComputeRequest(ConvSpec(), np.zeros((1, 4, 4)), np.zeros((1, 1, 3, 3)), None)
    results.start(request)
    results.set_outcome(results.generation, ComputeOutcome(request, np.zeros((1, 2, 2)), elapsed_s, device_name, max_diff))


def test_outcome_figures_follow_the_results(panel):
    _outcome(panel.results, 0.0042, "CPU (1 thread)", None)
    assert panel.time_label.text() == "4.20 ms" and panel.ran_on_label.text() == "CPU (1 thread)"
    assert "CPU" in panel.diff_label.text()
    _outcome(panel.results, 1.5, "NVIDIA H200", 3.6e-2)
    assert panel.time_label.text() == "1.50 s" and panel.diff_label.text() == "0.036"
    panel.hide()  # out of sight: the labels wait, then catch up with the last call
    _outcome(panel.results, 0.002, "CPU (2 threads)", None)
    assert panel.time_label.text() == "1.50 s"
    panel.show()
    assert panel.time_label.text() == "2.00 ms" and panel.ran_on_label.text() == "CPU (2 threads)"
    panel.set_status("")
    assert not panel.status_label.isVisible()
