"""Running the real PyTorch op: devices, dtypes, timing, safe checkpoint loading.  No Qt."""

from convplay.compute.allocator import apply_thread_policy, compute_threads, tune_allocator
from convplay.compute.devices import (
    CPU_DTYPES,
    CUDA_DTYPES,
    ComputeError,
    DeviceInfo,
    cuda_status,
    devices,
)
from convplay.compute.run import ConvRun, run_conv

__all__ = [
    "CPU_DTYPES",
    "CUDA_DTYPES",
    "ComputeError",
    "ConvRun",
    "DeviceInfo",
    "apply_thread_policy",
    "compute_threads",
    "cuda_status",
    "devices",
    "run_conv",
    "tune_allocator",
]
