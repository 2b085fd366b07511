"""The reference convolution in float64 numpy: what every number on screen is checked by.

A direct convolution slides the kernel over the padded input (cross-correlation, as
PyTorch computes it).  A transposed convolution is computed as the direct convolution of
the zero-inserted input (see ``convplay.core.padding``) with the kernel flipped and its
channel axes swapped per group: the same picture the walk's gather view draws.

Vectorised: sliding_window_view gives every window without copying, and each block of
output rows becomes one matrix product (im2col), so memory stays bounded at 1024x1024.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from convplay.core.padding import padded_geometry
from convplay.core.spec import ConvSpec, ConvSpecError

# Each matrix product covers a block of output pixels small enough that OpenBLAS runs it on
# one thread (it does below m*n*k = 65536*4): on a busy 2-core machine its threads spin-wait
# for each other, and 64x64 took 22 ms in two-thread blocks against 0.4 ms in these, with
# no loss at 256x256 or 1024x1024.  Never fewer than 256 pixels, so wide layers (where
# threads pay off anyway) don't drown in per-call overhead.
_SINGLE_THREAD_MNK = 65536 * 4
_MIN_BLOCK_PIXELS = 256

def conv2d_reference(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    spec: ConvSpec,
    *,
    flip: bool = False,
) -> np.ndarray:
    """``spec`` applied to one (C, H, W) input: float64, shape ``spec.output_shape(x.shape)``.

    ``weight`` has ``spec.weight_shape``; ``bias`` is one value per output channel or None.
    ``flip=True`` is the true convolution: the kernel flipped in both spatial axes, where
    PyTorch (flip=False) computes cross-correlation.  Raises ConvSpecError for settings
    PyTorch refuses and for a weight or bias of the wrong shape.
    """
    x, weight, bias = checked_operands(x, weight, bias, spec)
    spec.output_shape(x.shape)  # ConvSpecError wherever PyTorch refuses
    geometry = padded_geometry(spec, x.shape[1:])
    kernel = sliding_kernel(weight, spec, flip=flip)
    stride = (1, 1) if spec.transposed else spec.stride_hw
    out = _correlate(geometry.build(x), kernel, spec.groups, stride, spec.dilation_hw)
    if bias is not None:
        out += bias[:, None, None]
    return out


def checked_operands(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, spec: ConvSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The operands as float64 arrays, or ConvSpecError naming the one that does not fit."""
    x = np.asarray(x, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    spec.validate()
    if weight.shape != spec.weight_shape:
        raise ConvSpecError(
            f"the kernel has shape {weight.shape} but these settings need {spec.weight_shape}",
            "weight",
        )
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        if bias.shape != (spec.out_channels,):
            raise ConvSpecError(
                f"the bias has shape {bias.shape} but there are {spec.out_channels} output channels",
                "bias",
            )
    return x, weight, bias


def sliding_kernel(weight: np.ndarray, spec: ConvSpec, *, flip: bool) -> np.ndarray:
    """The (out, in/groups, kh, kw) kernel that slides over the padded input.

    For a direct conv that is the weight itself (flipped for a true convolution).  For a
    transposed conv, PyTorch stores (in, out/groups, kh, kw); sliding it over the
    zero-inserted input needs each group's channel axes swapped and the kernel flipped.
    """
    if flip:
        weight = weight[:, :, ::-1, ::-1]
    if not spec.transposed:
        return weight
    c_in, out_per_group, kh, kw = weight.shape
    groups = spec.groups
    per_group = weight.reshape(groups, c_in // groups, out_per_group, kh, kw)
    swapped = per_group.transpose(0, 2, 1, 3, 4)[:, :, :, ::-1, ::-1]
    return swapped.reshape(groups * out_per_group, c_in // groups, kh, kw)


def _correlate(
    padded: np.ndarray,
    kernel: np.ndarray,
    groups: int,
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> np.ndarray:
    """Cross-correlate the padded (C, Hp, Wp) input with ``kernel`` (O, C/groups, kh, kw)."""
    c_out, in_per_group, kh, kw = kernel.shape
    (sh, sw), (dh, dw) = stride, dilation
    footprint = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(padded, footprint, axis=(1, 2))[:, ::sh, ::sw, ::dh, ::dw]
    _, h_out, w_out, _, _ = windows.shape
    out = np.empty((c_out, h_out, w_out), dtype=np.float64)
    out_per_group = c_out // groups
    taps = in_per_group * kh * kw
    pixels = max(_MIN_BLOCK_PIXELS, _SINGLE_THREAD_MNK // (out_per_group * taps))
    # Whole rows when they fit in a block, else pieces of one row.
    block_rows, block_cols = (max(1, pixels // w_out), w_out) if pixels >= w_out else (1, pixels)
    for g in range(groups):
        outs = slice(g * out_per_group, (g + 1) * out_per_group)
        group_kernel = kernel[outs].reshape(out_per_group, taps)
        group_windows = windows[g * in_per_group : (g + 1) * in_per_group]
        for r0 in range(0, h_out, block_rows):
            for c0 in range(0, w_out, block_cols):
                block = group_windows[:, r0 : r0 + block_rows, c0 : c0 + block_cols]
                _, rows, cols, _, _ = block.shape
                unrolled = block.transpose(0, 3, 4, 1, 2).reshape(taps, rows * cols)
                out[outs, r0 : r0 + rows, c0 : c0 + cols] = (group_kernel @ unrolled).reshape(
                    out_per_group, rows, cols
                )
    return out
