"""ComputeSettings without Qt: device, dtype and TF32 choices, and their fallbacks."""

import pytest

from convplay.core.compute_settings import ComputeSettings


def test_an_unknown_device_falls_back_to_the_cpu():
    settings = ComputeSettings(device="cuda:0")
    changes = []
    settings.changed.connect(lambda: changes.append(settings.device))
    settings.set_devices([("cpu", "CPU")])
    assert settings.device == "cpu" and changes == ["cpu"]
    with pytest.raises(ValueError):
        settings.set_dtype("int8")
