"""Pooling by PyTorch itself, in float64 on the CPU: what the pooling view's badge checks
``core.pooling`` against."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from convplay.core.pooling import PoolSpec


def run_pool(spec: PoolSpec, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(values (C, H_out, W_out) float64, argmax indices h·W + w or None for average pooling)
    of ``x`` (C, H, W) as PyTorch computes them.  Whatever PyTorch raises for settings it
    refuses (RuntimeError, ValueError) is passed on."""
    t = torch.from_numpy(np.array(x, dtype=np.float64))[None]  # a copy: the input may be read-only
    with torch.no_grad():
        if spec.kind == "max":
            values, indices = F.max_pool2d(t, spec.kernel_size, spec.stride, spec.padding, spec.dilation,
                                           ceil_mode=spec.ceil_mode, return_indices=True)
        elif spec.kind == "avg":
            values = F.avg_pool2d(t, spec.kernel_size, spec.stride, spec.padding, ceil_mode=spec.ceil_mode,
                                  count_include_pad=spec.count_include_pad, divisor_override=spec.divisor_override)
            indices = None
        elif spec.kind == "adaptive_max":
            values, indices = F.adaptive_max_pool2d(t, spec.output_size, return_indices=True)
        elif spec.kind == "adaptive_avg":
            values, indices = F.adaptive_avg_pool2d(t, spec.output_size), None
        else:
            raise ValueError(f"{spec.kind!r} is not a kind of pooling")
    return values[0].numpy().copy(), None if indices is None else indices[0].numpy().copy()
