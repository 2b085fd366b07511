"""Devices, dtypes, the cheap import, and the start-up tuning of the CPU runtime."""

import platform
import subprocess
import sys

import pytest
import torch

from convplay.compute import (
    CPU_DTYPES,
    CUDA_DTYPES,
    ComputeError,
    DeviceInfo,
    apply_thread_policy,
    compute_threads,
    cuda_status,
    devices,
)
from convplay.compute.devices import check_device, check_dtype


def test_import_does_not_load_torch():
    code = "import sys, convplay.compute; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cpu_is_listed_first_with_its_dtypes():
    listed = devices()
    cpu = listed[0]
    assert isinstance(cpu, DeviceInfo)
    assert cpu.id == "cpu" and cpu.name.startswith("CPU (") and "thread" in cpu.name
    assert cpu.dtypes == CPU_DTYPES == ("float32", "float64")
    assert cpu.tf32_applies is False
    assert [d.id for d in listed[1:]] == [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    for gpu in listed[1:]:
        assert gpu.dtypes == CUDA_DTYPES and gpu.name


def test_cuda_status_explains_itself():
    status = cuda_status()
    if torch.cuda.is_available():
        assert status.startswith("CUDA ")
    elif torch.version.cuda is None:
        assert status == f"CUDA not available: torch {torch.__version__} was built without CUDA"
    else:
        assert status.startswith("CUDA not available") and "no usable GPU" in status


def test_device_ids_are_checked():
    assert check_device("cpu") == "cpu"
    for bad in ("gpu", "", "CPU", None, "cuda:x" if torch.cuda.is_available() else "cuda:0"):
        with pytest.raises(ComputeError) as info:
            check_device(bad)
        assert info.value.field == "device"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_alias_means_first_device():
    assert check_device("cuda") == "cuda:0"
    with pytest.raises(ComputeError, match="no such CUDA device"):
        check_device(f"cuda:{torch.cuda.device_count()}")


def test_dtypes_per_device():
    assert check_dtype("cpu", "float64") == "float64"
    assert check_dtype("cuda:0", "bfloat16") == "bfloat16"
    with pytest.raises(ComputeError, match="float16 runs on CUDA only; on the CPU choose float32 or float64"):
        check_dtype("cpu", "float16")
    with pytest.raises(ComputeError, match="unknown dtype 'half'"):
        check_dtype("cuda:0", "half")


@pytest.mark.parametrize("cores, threads", [(1, 1), (2, 2), (4, 4), (5, 4), (16, 15)])
def test_thread_policy_uses_every_core_of_a_small_machine(cores, threads):
    assert compute_threads(cores) == threads


def test_apply_thread_policy_sets_torch_threads():
    before = torch.get_num_threads()
    try:
        assert apply_thread_policy(6) == 5
        assert torch.get_num_threads() == 5
        assert devices()[0].name == "CPU (5 threads)"
    finally:
        torch.set_num_threads(before)


def test_tune_allocator_in_a_fresh_process():
    code = "from convplay.compute import tune_allocator; print(tune_allocator())"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    glibc_linux = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == str(glibc_linux)
