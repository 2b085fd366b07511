"""run_conv on CUDA: float32 with TF32 on and off, float16, bfloat16, against CPU float64.

Skipped without CUDA.  CPU float64 is the reference here (test_run_conv checks it against
nn.Conv2d).  Run with ``-s`` to see the measured differences.
"""

import numpy as np
import pytest
import torch

from convplay.compute import ConvRun, devices, run_conv
from convplay.core.spec import ConvSpec

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

# DESIGN.md's case: 64 -> 64 channels, 3x3; TF32 differs from float64 by ~1e-2 there.
SPEC = ConvSpec(64, 64, 3, padding=1)


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(0)
    x = rng.random((64, 64, 64))
    w = rng.standard_normal(SPEC.weight_shape) * 0.1
    b = rng.standard_normal(64)
    reference = run_conv(SPEC, x, w, b, dtype="float64").output
    return x, w, b, reference


def max_diff(run: ConvRun, reference: np.ndarray) -> float:
    return float(np.abs(run.output.astype(np.float64) - reference).max())


def test_devices_lists_each_gpu():
    listed = devices()
    assert len(listed) == 1 + torch.cuda.device_count()
    gpu = listed[1]
    assert gpu.id == "cuda:0" and gpu.name == torch.cuda.get_device_name(0)
    assert gpu.tf32_applies == (torch.cuda.get_device_capability(0)[0] >= 8)


def test_float64_on_cuda_matches_cpu(case):
    x, w, b, reference = case
    run = run_conv(SPEC, x, w, b, device="cuda:0", dtype="float64")
    assert run.device == "cuda:0" and run.device_name == torch.cuda.get_device_name(0)
    assert run.output.dtype == np.float64
    diff = max_diff(run, reference)
    print(f"\ncuda float64 vs cpu float64: max |diff| = {diff:.3g}")
    assert diff < 1e-9


def test_tf32_switch_and_restore(case):
    x, w, b, reference = case
    torch.backends.cudnn.allow_tf32 = True
    strict = run_conv(SPEC, x, w, b, device="cuda:0", dtype="float32", tf32=False)
    assert torch.backends.cudnn.allow_tf32 is True  # restored
    torch.backends.cudnn.allow_tf32 = False
    fast = run_conv(SPEC, x, w, b, device="cuda:0", dtype="float32", tf32=True)
    assert torch.backends.cudnn.allow_tf32 is False  # restored
    assert strict.tf32 is False and fast.tf32 == devices()[1].tf32_applies
    strict_diff, fast_diff = max_diff(strict, reference), max_diff(fast, reference)
    print(f"\ncuda float32 vs float64: TF32 off {strict_diff:.3g}, TF32 on {fast_diff:.3g}"
          f" (op {strict.elapsed_s * 1e3:.3f} / {fast.elapsed_s * 1e3:.3f} ms,"
          f" total {strict.total_s * 1e3:.3f} / {fast.total_s * 1e3:.3f} ms)")
    assert strict.output.dtype == np.float32
    assert strict_diff < 1e-3
    if devices()[1].tf32_applies:
        assert fast_diff > strict_diff
    assert fast_diff < 0.2


@pytest.mark.parametrize("dtype, bound", [("float16", 0.1), ("bfloat16", 0.5)])
def test_half_precisions(case, dtype, bound):
    x, w, b, reference = case
    run = run_conv(SPEC, x, w, b, device="cuda:0", dtype=dtype)
    assert run.dtype == dtype and run.output.dtype == np.float32
    diff = max_diff(run, reference)
    print(f"\ncuda {dtype} vs float64: max |diff| = {diff:.3g} (|ref| max {np.abs(reference).max():.3g})")
    assert diff < bound


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_padding_modes_and_transposed_on_cuda(mode):
    rng = np.random.default_rng(1)
    for spec in (ConvSpec(4, 6, (3, 2), padding="same", dilation=2, groups=2, padding_mode=mode),
                 ConvSpec(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, transposed=True)):
        x, w, b = rng.random((4, 9, 11)), rng.random(spec.weight_shape), rng.random(6)
        cpu = run_conv(spec, x, w, b, dtype="float64").output
        gpu = run_conv(spec, x, w, b, device="cuda:0", dtype="float64").output
        np.testing.assert_allclose(gpu, cpu, rtol=0, atol=1e-12)
