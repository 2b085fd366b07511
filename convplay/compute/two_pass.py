"""A separable convolution run as two 1-D passes with PyTorch: a column pass, then a row pass.

A rank-1 kernel is a column times a row, ``k = c rᵀ`` (Sobel x = [1 2 1]ᵀ · [−1 0 1]), so
correlating with ``k`` is correlating with the column (kh×1) and then with the row (1×kw):
kh + kw multiply-accumulates per output value instead of kh·kw.  ``two_pass_conv`` builds
that from the layer's own weight and runs it with ``F.conv2d``, so the Kernel numbers
panel can check it against PyTorch's 2-D output.

Every (out, in/groups) pair has its own column and row.  The input channel each pair
reads is gathered (``index_select``) into one channel per pair, and both passes run
depthwise (groups = the number of pairs); the pairs of each output channel are summed
afterwards and the bias added, as conv2d adds them.

torch is imported inside the functions, as everywhere in ``convplay.compute``.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from convplay.compute.devices import check_device, check_dtype
from convplay.compute.run import cudnn_tf32
from convplay.core.kernel_analysis import separability
from convplay.core.spec import ConvSpec

__all__ = ["separable_factors", "two_pass_conv", "two_pass_macs"]


def separable_factors(spec: ConvSpec, weight) -> tuple[np.ndarray, np.ndarray]:
    """(columns, rows): (out·in/groups, kh) and (out·in/groups, kw) with
    ``weight[o, j] == outer(columns[o·n + j], rows[o·n + j])`` (n = in/groups).

    Raises ValueError naming the first pair that is not rank 1, or for a transposed spec.
    """
    if spec.transposed:
        raise ValueError(
            "two passes are built for conv2d only: a transposed convolution scatters every "
            "input value through the kernel (stride leaves gaps between the copies, "
            "output_padding adds rows), a different op than the column and row correlations here"
        )
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 4 or weight.shape != spec.weight_shape:
        raise ValueError(f"the weight has shape {weight.shape} but these settings need {spec.weight_shape}")
    out_c, per_group, kh, kw = weight.shape
    columns = np.zeros((out_c * per_group, kh))
    rows = np.zeros((out_c * per_group, kw))
    for o in range(out_c):
        for j in range(per_group):
            s = separability(weight[o, j])
            if s.rank > 1:
                raise ValueError(
                    f"out {o}, in {j} has rank {s.rank}: it is not a column times a row, so the "
                    "layer cannot run as two 1-D passes (every pair must have rank 1)"
                )
            if s.rank == 1:  # rank 0 (all zeros) keeps zero factors
                columns[o * per_group + j] = s.col[:, 0]
                rows[o * per_group + j] = s.row[0]
    return columns, rows


def two_pass_macs(spec: ConvSpec, input_shape) -> tuple[int, int, int]:
    """(2-D, column pass, row pass) multiply-accumulates of one image, as these functions run.

    2-D: every output value takes (in/groups)·kh·kw products, taps on padding included
    (``ConvSpec.macs``).  Column pass: each pair's column runs over the output's rows and
    every input column (the columns are padded after it): pairs·H_out·W·kh.  Row pass:
    pairs·H_out·W_out·kw.  The final sum over each output channel's pairs adds
    out·H_out·W_out·(in/groups − 1) additions, not counted here.
    """
    c_out, h_out, w_out = spec.output_shape(input_shape)
    kh, kw = spec.kernel_hw
    width = int(input_shape[2])
    pairs = c_out * (spec.in_channels // spec.groups)
    return spec.macs(input_shape), pairs * h_out * width * kh, pairs * h_out * w_out * kw


BLOCK_ELEMENTS = 1 << 24  # gathered input values per block of output channels (64 MB in float32)


def _passes(F, gathered, col_w, row_w, pads, mode, stride, dilation, per_group):
    """The column pass then the row pass of one block of pairs, summed per output channel."""
    top, bottom, left, right = pads
    (sh, sw), (dh, dw) = stride, dilation
    n = gathered.shape[1]
    # The border modes are separable: 2-D reflect, replicate and circular padding map each
    # padded row to an input row and each padded column to an input column independently,
    # and zeros add rows and columns of 0.  A column pass mixes rows only, with the same
    # weights in every column, so padding the columns after it gives what padding them
    # before would: rows padded for the column pass, columns for the row pass, and the
    # result is the 2-D padded conv's.
    if top or bottom:
        gathered = F.pad(gathered, (0, 0, top, bottom), mode=mode)
    middle = F.conv2d(gathered, col_w, None, (sh, 1), 0, (dh, 1), n)
    if left or right:
        middle = F.pad(middle, (left, right, 0, 0), mode=mode)
    passes = F.conv2d(middle, row_w, None, (1, sw), 0, (1, dw), n)
    _, _, h_out, w_out = passes.shape
    return passes.reshape(n // per_group, per_group, h_out, w_out).sum(dim=1)


def two_pass_conv(
    spec: ConvSpec,
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    device: str = "cpu",
    dtype: str = "float32",
    tf32: bool = False,
) -> tuple[np.ndarray, str]:
    """PyTorch's conv2d of one (C, H, W) image through a column pass and a row pass.

    Returns (output, note): output (C_out, H_out, W_out) as ``run_conv`` returns it
    (float64 for float64, float32 otherwise), note one line saying what ran.  Valid for any
    non-transposed spec whose every (out, in/groups) kernel has rank 1: stride, dilation,
    groups, bias and every padding_mode, 'same' with an even kernel (uneven pads) included.
    Raises ValueError (a ConvSpecError for impossible settings) otherwise.
    """
    import torch
    import torch.nn.functional as F

    columns, rows = separable_factors(spec, weight)
    x = np.asarray(x)
    spec.output_shape(x.shape)  # ConvSpecError wherever conv2d would refuse
    device = check_device(device)
    dtype = check_dtype(device, dtype)
    out_c, per_group, kh, kw = spec.weight_shape
    pairs = out_c * per_group
    (sh, sw), (dh, dw) = spec.stride_hw, spec.dilation_hw
    top, bottom, left, right = spec.pads()
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    torch_dtype = getattr(torch, dtype)
    host = np.float64 if dtype == "float64" else np.float32

    def tensor(array: np.ndarray):
        return torch.from_numpy(np.array(array, dtype=host, order="C")).to(device).to(torch_dtype)

    # Pair (o, j) reads input channel j of its group: group o // (out/groups).
    out_per_group = out_c // spec.groups
    source = [(o // out_per_group) * per_group + j for o in range(out_c) for j in range(per_group)]
    on_cuda = device != "cpu"
    # The CPU never reads the flag: leave it to whoever runs on CUDA.
    tf32_setting = cudnn_tf32(bool(tf32) and dtype == "float32") if on_cuda else nullcontext()
    with tf32_setting:
        with torch.inference_mode():
            image = tensor(x)[None]
            col_w = tensor(columns.reshape(pairs, 1, kh, 1))
            row_w = tensor(rows.reshape(pairs, 1, 1, kw))
            # One gathered channel per pair: a 64 -> 64 layer would gather 4096 copies of
            # the image at once, so the output channels go in blocks of a bounded size.
            padded_area = (x.shape[1] + top + bottom) * (x.shape[2] + left + right)
            block = max(1, BLOCK_ELEMENTS // max(1, per_group * padded_area))
            parts = []
            for first in range(0, out_c, block):
                last = min(first + block, out_c)
                lo, hi = first * per_group, last * per_group
                index = torch.tensor(source[lo:hi], device=device)
                parts.append(_passes(F, image.index_select(1, index), col_w[lo:hi], row_w[lo:hi],
                                     (top, bottom, left, right), mode, (sh, sw), (dh, dw), per_group))
            out = torch.cat(parts, dim=0)
            if spec.bias and bias is not None:
                out = out + tensor(np.asarray(bias).reshape(out_c, 1, 1))
            if out.dtype not in (torch.float32, torch.float64):
                out = out.float()
            output = out.cpu().contiguous().numpy()
    note = (
        f"a {kh}×1 column pass then a 1×{kw} row pass on {pairs} gathered channel"
        f"{'s' if pairs != 1 else ''} (one per (out, in) pair, run depthwise)"
        + (f", summed over {per_group} inputs per output" if per_group > 1 else "")
        + (", bias added" if spec.bias and bias is not None else "")
        + f": {kh} + {kw} = {kh + kw} multiply-accumulates per output value and pair instead of {kh * kw}"
    )
    return output, note
