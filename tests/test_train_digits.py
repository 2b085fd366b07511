"""tools/train_digits.py reproduces the accuracy recorded beside the shipped weights."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from convplay.compute.checkpoints import read_safetensors
from convplay.core.resources import resource_path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "train_digits.py"


@pytest.mark.slow
def test_rerun_reproduces_recorded_accuracy(tmp_path):
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("train_digits", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path)]) == 0
    new = json.loads((tmp_path / "digits_cnn.json").read_text())
    shipped = json.loads(resource_path("kernels", "digits_cnn.json").read_text())
    assert abs(new["test_accuracy"] - shipped["test_accuracy"]) <= 0.01
    assert new["layers"] == shipped["layers"] and new["seed"] == shipped["seed"]
    mine = read_safetensors(tmp_path / "digits_cnn.safetensors").load("conv1.weight").weight
    assert mine.shape == (8, 1, 3, 3) and np.isfinite(mine).all()
