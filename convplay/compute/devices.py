"""Which devices and dtypes the real PyTorch op can run on here.

torch is imported inside the functions: ``import convplay.compute`` stays cheap, so the
window can paint before torch has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

CPU_DTYPES = ("float32", "float64")
CUDA_DTYPES = ("float32", "float64", "float16", "bfloat16")


class ComputeError(ValueError):
    """A request PyTorch cannot serve here: unknown device, unsupported dtype, or an array
    that does not hold real numbers.  (Impossible settings and wrong shapes are
    ConvSpecError, as in the reference.)

    ``field`` names what is at fault: ``"device"``, ``"dtype"``, ``"input"``,
    ``"weight"`` or ``"bias"``, so a view can mark that control.
    """

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DeviceInfo:
    id: str  # as torch names it: "cpu", "cuda:0"
    name: str  # for people: "CPU (1 thread)", "NVIDIA H100 80GB HBM3"
    dtypes: tuple[str, ...]
    tf32_applies: bool  # whether cuDNN's TF32 switch changes float32 results here


def cpu_name() -> str:
    import torch

    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'s' if threads != 1 else ''})"


def cuda_status() -> str:
    """One line for people: whether CUDA is usable and, if not, why."""
    import torch

    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return f"CUDA {torch.version.cuda}: {n} device{'s' if n != 1 else ''}"
    if torch.version.cuda is None:
        return f"CUDA not available: torch {torch.__version__} was built without CUDA"
    return (
        f"CUDA not available: torch {torch.__version__} was built for CUDA "
        f"{torch.version.cuda} but found no usable GPU or driver"
    )


def tf32_capable(device: str | int) -> bool:
    """Whether a CUDA device has TF32 tensor cores (Ampere, compute capability 8.0, on)."""
    import torch

    return torch.cuda.get_device_capability(device)[0] >= 8


def devices() -> list[DeviceInfo]:
    """The CPU first, then each CUDA device torch can use."""
    import torch

    found = [DeviceInfo("cpu", cpu_name(), CPU_DTYPES, False)]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            found.append(
                DeviceInfo(
                    f"cuda:{index}",
                    torch.cuda.get_device_name(index),
                    CUDA_DTYPES,
                    tf32_capable(index),
                )
            )
    return found


def check_device(device: str) -> str:
    """The canonical id for ``device`` ("cuda" means "cuda:0"), or ComputeError."""
    import torch

    if device == "cpu":
        return "cpu"
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        if not torch.cuda.is_available():
            raise ComputeError(f"cannot run on {device}: {cuda_status()}", "device")
        index_text = device.partition(":")[2] or "0"
        count = torch.cuda.device_count()
        if not index_text.isdigit() or int(index_text) >= count:
            raise ComputeError(
                f"no such CUDA device {device!r}: this machine has "
                f"{', '.join(f'cuda:{i}' for i in range(count))}", "device")
        return f"cuda:{int(index_text)}"
    raise ComputeError(f"unknown device {device!r}: use 'cpu' or 'cuda:N'", "device")


def check_dtype(device: str, dtype: str) -> str:
    """``dtype`` if ``device`` (a canonical id) supports it, else ComputeError."""
    supported = CPU_DTYPES if device == "cpu" else CUDA_DTYPES
    if dtype in supported:
        return dtype
    if device == "cpu" and dtype in CUDA_DTYPES:
        raise ComputeError(
            f"{dtype} runs on CUDA only; on the CPU choose {' or '.join(CPU_DTYPES)}", "dtype")
    raise ComputeError(
        f"unknown dtype {dtype!r}: choose one of {', '.join(supported)}", "dtype")
