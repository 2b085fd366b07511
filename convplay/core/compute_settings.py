"""Where and how PyTorch runs: the device, the dtype and TF32, as an evented model.

No Qt and no torch here: the device list is filled in by whoever has imported torch
(the compute worker, after the window has painted), and the panel reads this model.
"""

from __future__ import annotations

from psygnal import Signal

DTYPES = ("float32", "float64", "float16", "bfloat16")


class ComputeSettings:
    """The device/dtype/TF32 choice; ``changed`` fires after any setter changes something.

    ``devices`` lists (id, label) pairs such as ("cpu", "CPU") or ("cuda:0", "NVIDIA H200");
    it starts with the CPU alone until the real list is known.
    """

    changed = Signal()
    devices_changed = Signal()

    def __init__(self, device: str = "cpu", dtype: str = "float32", tf32: bool = False):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        self._devices: tuple[tuple[str, str], ...] = (("cpu", "CPU"),)
        self._device = device
        self._dtype = dtype
        self._tf32 = bool(tf32)

    @property
    def device(self) -> str:
        return self._device

    @property
    def dtype(self) -> str:
        return self._dtype

    @property
    def tf32(self) -> bool:
        """The user's TF32 wish; what PyTorch gets is ``tf32_effective``."""
        return self._tf32

    @property
    def devices(self) -> tuple[tuple[str, str], ...]:
        return self._devices

    @property
    def is_cuda(self) -> bool:
        return self._device.startswith("cuda")

    @property
    def tf32_applicable(self) -> bool:
        """TF32 exists only for float32 on CUDA."""
        return self.is_cuda and self._dtype == "float32"

    @property
    def tf32_effective(self) -> bool:
        return self._tf32 and self.tf32_applicable

    @property
    def cuda_available(self) -> bool:
        return any(dev.startswith("cuda") for dev, _ in self._devices)

    def set_devices(self, devices: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> None:
        """The devices PyTorch can use; an unknown current device falls back to the CPU."""
        devices = tuple((str(d), str(label)) for d, label in devices)
        if not any(d == "cpu" for d, _ in devices):
            devices = (("cpu", "CPU"),) + devices
        if devices != self._devices:
            self._devices = devices
            self.devices_changed.emit()
        if self._device not in {d for d, _ in devices}:
            self._device = "cpu"
            self.changed.emit()

    def set_device(self, device: str) -> None:
        if device == self._device:
            return
        self._device = device
        self.changed.emit()

    def set_dtype(self, dtype: str) -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        if dtype == self._dtype:
            return
        self._dtype = dtype
        self.changed.emit()

    def set_tf32(self, on: bool) -> None:
        on = bool(on)
        if on == self._tf32:
            return
        self._tf32 = on
        self.changed.emit()
