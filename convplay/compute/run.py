"""Run the real PyTorch op for a ConvSpec, exactly as nn.Conv2d / nn.ConvTranspose2d would.

The spec is validated first (``ConvSpec.output_shape`` raises ConvSpecError where PyTorch
would refuse), so every error reaching the user is a plain message, not a torch traceback.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from convplay.compute.devices import (
    ComputeError,
    check_device,
    check_dtype,
    cpu_name,
    tf32_capable,
)
from convplay.core.spec import ConvSpec, ConvSpecError


@dataclass(frozen=True, eq=False)
class ConvRun:
    """One PyTorch call and what it produced.

    ``output`` is (C_out, H_out, W_out): float64 for dtype float64, float32 otherwise
    (float16 and bfloat16 widen to float32 exactly; numpy has no bfloat16).  It is
    C-contiguous, or a strided view of channels_last memory where that layout ran faster
    (``channels_last_wins``).
    ``elapsed_s`` is the op alone (padding included), device-synchronised: CUDA events on
    a GPU.  ``total_s`` adds the host-to-device copy, the dtype conversions and the copy
    back into numpy.  ``tf32`` says whether this call could use TF32 (float32 on an Ampere
    or newer GPU with TF32 requested).
    """

    output: np.ndarray
    elapsed_s: float
    total_s: float
    device: str
    device_name: str
    dtype: str
    tf32: bool


def channels_last_wins(spec: ConvSpec, device: str, dtype: str) -> bool:
    """Whether this call runs faster on channels_last (NHWC) tensors than on NCHW ones.

    Measured on the CPU (oneDNN, float32): a direct convolution on NHWC memory takes
    0.5-0.8 of the NCHW time for 3x3 kernels (0.5 at 1024² RGB -> 16 and -> 64, 0.2 for a
    depthwise one) and the same time for 7x7 and 15x15; circular padding is the exception
    (its padded copy comes back NCHW, so the input's layout would only add a copy).
    Transposed convolutions, other dtypes and CUDA keep NCHW (not measured to win).
    """
    return (device == "cpu" and dtype == "float32" and not spec.transposed
            and spec.padding_mode != "circular")


def is_channels_last(array: np.ndarray) -> bool:
    """True for a (C, H, W) array whose memory is (H, W, C) in C order: a channels_last image."""
    return array.ndim == 3 and array.transpose(1, 2, 0).flags.c_contiguous


def channels_last_copy(array: np.ndarray, np_dtype=np.float32) -> np.ndarray:
    """``array`` (C, H, W) as a (C, H, W) view of fresh (H, W, C) memory in ``np_dtype``."""
    return np.ascontiguousarray(np.asarray(array).transpose(1, 2, 0), dtype=np_dtype).transpose(2, 0, 1)


def _host_array(value, what: str, shape: tuple[int, ...], np_dtype) -> np.ndarray:
    """``value`` as a writeable array of ``np_dtype`` in C order (or, for a (C, H, W)
    image, channels_last order), copying only if needed.

    Writeable because torch.from_numpy warns on read-only arrays; the tensor is never
    written to, but a copy is cheaper than a warning filter that is not thread-safe.
    """
    array = np.asarray(value)
    if array.shape != shape:
        # the same words and error type as the reference, so a view treats both alike
        raise ConvSpecError(
            f"the {what} has shape {array.shape} but these settings need {shape}", what)
    if array.dtype.kind not in "fiu":
        raise ComputeError(f"the {what} must hold real numbers, not {array.dtype}", what)
    laid_out = array.flags.c_contiguous or is_channels_last(array)
    if array.dtype != np_dtype or not laid_out or not array.flags.writeable:
        array = np.array(array, dtype=np_dtype, order="C")
    return array


@contextmanager
def cudnn_tf32(allowed: bool) -> Iterator[None]:
    """cuDNN's TF32 for float32 allowed or not while the block runs, as it was after."""
    import torch

    previous = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = previous


def _forward(spec: ConvSpec, x, weight, bias):
    """The op itself, with the arguments nn.Conv2d / nn.ConvTranspose2d would pass."""
    import torch.nn.functional as F

    if spec.transposed:
        return F.conv_transpose2d(
            x, weight, bias, spec.stride_hw, spec.pads()[::2], spec.output_padding_hw,
            spec.groups, spec.dilation_hw)
    top, bottom, left, right = spec.pads()
    if spec.padding_mode == "zeros" and (top, left) == (bottom, right):
        return F.conv2d(x, weight, bias, spec.stride_hw, (top, left), spec.dilation_hw, spec.groups)
    # Uneven zero padding ('same' with an even span) is what conv2d would do itself, with a
    # warning: pad explicitly.  Other modes pad as nn.Conv2d._conv_forward does.
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    padded = F.pad(x, (left, right, top, bottom), mode=mode)
    return F.conv2d(padded, weight, bias, spec.stride_hw, 0, spec.dilation_hw, spec.groups)


def run_conv(
    spec: ConvSpec,
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    device: str = "cpu",
    dtype: str = "float32",
    tf32: bool = False,
) -> ConvRun:
    """Convolve one (C, H, W) image with PyTorch on ``device`` in ``dtype``.

    ``weight`` has ``spec.weight_shape``; ``bias`` (one value per output channel) is used
    only when ``spec.bias`` is true, and None then means no bias.  ``tf32`` allows cuDNN's
    TF32 for float32 on CUDA (the flag is restored afterwards); elsewhere it changes nothing.
    Raises ConvSpecError for impossible settings or array shapes (``field`` "input",
    "weight" or "bias" for the latter), ComputeError for a device or dtype it cannot use
    or an array that does not hold real numbers.
    """
    import torch

    start_total = time.perf_counter()
    device = check_device(device)
    dtype = check_dtype(device, dtype)
    x_shape = np.shape(x)
    spec.output_shape(x_shape)  # ConvSpecError wherever PyTorch would refuse

    host_dtype = np.float64 if dtype == "float64" else np.float32
    torch_dtype = getattr(torch, dtype)
    on_cuda = device != "cpu"
    use_tf32 = bool(tf32) and on_cuda and dtype == "float32" and tf32_capable(device)

    def to_device(array: np.ndarray):
        # Copy in the host dtype, then narrow on the device: numpy has no bfloat16.
        # On the CPU in float32/float64 both steps are no-ops: the tensor shares the array.
        return torch.from_numpy(array).to(device).to(torch_dtype)

    x_host = _host_array(x, "input", x_shape, host_dtype)
    if is_channels_last(x_host) and not x_host.flags.c_contiguous:
        # The batch axis put in on the (H, W, C) memory, so torch sees channels_last
        # strides (a batch axis added to the (C, H, W) view has a stride torch reads as NCHW).
        x_t = to_device(x_host.transpose(1, 2, 0))[None].permute(0, 3, 1, 2)
    else:
        x_t = to_device(x_host)[None]
    channels_last = channels_last_wins(spec, device, dtype)
    if channels_last:  # a no-op for an image already laid out so (the window's is)
        x_t = x_t.contiguous(memory_format=torch.channels_last)
    w_t = to_device(_host_array(weight, "weight", spec.weight_shape, host_dtype))
    b_t = None
    if spec.bias and bias is not None:
        b_t = to_device(_host_array(bias, "bias", (spec.out_channels,), host_dtype))

    with torch.inference_mode():
        if on_cuda:
            with torch.cuda.device(device), cudnn_tf32(use_tf32):
                begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                begin.record()
                out = _forward(spec, x_t, w_t, b_t)
                end.record()
                end.synchronize()
                elapsed = begin.elapsed_time(end) / 1000.0
            name = torch.cuda.get_device_name(device)
        else:
            begin_cpu = time.perf_counter()
            out = _forward(spec, x_t, w_t, b_t)
            elapsed = time.perf_counter() - begin_cpu
            name = cpu_name()
        out = out[0]
        if out.dtype != torch.float64 and out.dtype != torch.float32:
            out = out.float()
        # A channels_last output stays as PyTorch wrote it: a (C, H, W) view of (H, W, C)
        # memory (an NCHW copy of a 1024² RGB -> 16 output costs more than the conv).
        output = out.cpu().numpy() if channels_last else out.cpu().contiguous().numpy()
    return ConvRun(output, elapsed, time.perf_counter() - start_total, device, name, dtype, use_tf32)
