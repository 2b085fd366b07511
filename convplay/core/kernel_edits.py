"""Edits of a kernel as numpy arrays: resizing around the centre, normalising, and
drawing random weights as nn.Conv2d does.  The session and the kernel panel share them.
"""

from __future__ import annotations

import numpy as np

from convplay.core.spec import ConvSpec


def fit_weight(weight: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """``weight`` resized to ``shape`` with zeros: the first channels kept, the spatial
    window cropped or grown around its centre (a 3x3 Sobel put into a 5x5 stays in the
    middle, as a user enlarging the kernel expects)."""
    out = np.zeros(shape, dtype=np.float64)
    if weight is None or weight.ndim != 4 or len(shape) != 4:
        return out
    o, i = min(weight.shape[0], shape[0]), min(weight.shape[1], shape[1])
    src_r, dst_r = _centred_span(weight.shape[2], shape[2])
    src_c, dst_c = _centred_span(weight.shape[3], shape[3])
    out[:o, :i, dst_r, dst_c] = weight[:o, :i, src_r, src_c]
    return out


def centred_resize(weight: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """(o, i, h, w) ``weight`` grown with zeros or cropped to (kh, kw) around its centre."""
    return fit_weight(weight, (*weight.shape[:2], kh, kw))


def _centred_span(old: int, new: int) -> tuple[slice, slice]:
    """Source and destination slices that line up the centres of two lengths."""
    n = min(old, new)
    src = (old - n) // 2
    dst = (new - n) // 2
    return slice(src, src + n), slice(dst, dst + n)


def normalised(kernel: np.ndarray) -> np.ndarray:
    """``kernel`` scaled to sum to 1; ValueError when it sums to 0 (an edge detector)."""
    total = float(kernel.sum())
    if abs(total) < 1e-12:
        raise ValueError("This kernel sums to 0 (an edge or gradient kernel): it cannot be scaled to sum to 1.")
    return kernel / total


def kaiming_uniform(spec: ConvSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Weight and bias drawn as nn.Conv2d.reset_parameters draws them.

    kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = weight.size(1) * kh * kw (in/groups * kh * kw; out/groups for a transposed
    conv, whose weight is (in, out/groups, kh, kw)); the bias uses the same bound.
    """
    shape = spec.weight_shape
    fan_in = shape[1] * shape[2] * shape[3]
    bound = 1.0 / np.sqrt(fan_in) if fan_in > 0 else 0.0
    weight = rng.uniform(-bound, bound, size=shape)
    bias = rng.uniform(-bound, bound, size=spec.out_channels)
    return weight, bias
