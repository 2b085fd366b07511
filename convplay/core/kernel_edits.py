"""Edits of a kernel as numpy arrays: the weight shape a spec allows, resizing around the
centre, and every Kernel-panel edit (presets, normalise, flip, transpose, clear, random)
for the selected (a, b) pair or for all pairs.

Pure functions: they take the session's weight and return a new array, never writing into
the one given (the session's arrays are read-only).  They work on the weight's own shape,
never on ``spec.weight_shape``: while the settings are refused the two can differ (groups
that do not divide the channels have no weight shape at all), and an edit must still apply.

A weight is (out, in/groups, kh, kw) for nn.Conv2d and (in, out/groups, kh, kw) for
nn.ConvTranspose2d, so a "pair" is (weight axis 0, weight axis 1) in either case and an
output channel's filter lies along axis 0, or axis 1 when transposed (``filter_axis``).
"""

from __future__ import annotations

import numpy as np

from convplay.core.spec import ConvSpec, ConvSpecError

SELECTED, ALL = "selected", "all"  # the scope of an edit: the pair shown, or every pair

Shape4 = tuple[int, int, int, int]


# -- shapes -----------------------------------------------------------------------------
def spec_kernel_hw(spec: ConvSpec) -> tuple[int, int] | None:
    """(kh, kw) from ``spec.kernel_size``, or None when it is not a positive int or pair."""
    try:
        kh, kw = spec.kernel_hw
    except ConvSpecError:
        return None
    return (kh, kw) if kh >= 1 and kw >= 1 else None


def spec_channel_dims(spec: ConvSpec) -> tuple[int, int] | None:
    """The weight's first two dimensions for ``spec``, or None when they do not exist:
    channel counts or groups that are not positive whole numbers, or groups that do not
    divide both channel counts (in/groups would round down, even to 0)."""
    values = (spec.in_channels, spec.out_channels, spec.groups)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values):
        return None
    c_in, c_out, g = (int(v) for v in values)
    if c_in % g or c_out % g:
        return None
    return (c_in, c_out // g) if spec.transposed else (c_out, c_in // g)


def usable_weight_shape(spec: ConvSpec, fallback: tuple[int, ...]) -> Shape4:
    """The weight shape ``spec`` asks for, each part taken from ``fallback`` (the kernel's
    shape now) only where the spec does not define it.

    Settings PyTorch refuses for other reasons ('same' with stride 2, a padding larger
    than the input) still define the weight's shape, so the kernel follows them: the
    channels follow in/out_channels, groups and transposed; the window follows kernel_size.
    """
    fallback = tuple(int(v) for v in fallback) if len(fallback) == 4 else (1, 1, 1, 1)
    dims = spec_channel_dims(spec) or fallback[:2]
    hw = spec_kernel_hw(spec) or fallback[2:]
    return (dims[0], dims[1], hw[0], hw[1])


def filter_axis(transposed: bool) -> int:
    """The weight axis that runs over output channels: 0, or 1 for a transposed conv."""
    return 1 if transposed else 0


def kernel_size_arg(kh: int, kw: int) -> int | tuple[int, int]:
    """kernel_size as a user would pass it to PyTorch: an int when square, else (kh, kw)."""
    return kh if kh == kw else (kh, kw)


# -- resizing -----------------------------------------------------------------------------
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


# -- edits ----------------------------------------------------------------------------------
def _check_pair(weight: np.ndarray, pair: tuple[int, int]) -> tuple[int, int]:
    a, b = (int(v) for v in pair)
    if not (0 <= a < weight.shape[0] and 0 <= b < weight.shape[1]):
        raise ValueError(
            f"there is no channel pair ({a}, {b}): the kernel has {weight.shape[0]} × {weight.shape[1]} pairs"
        )
    return a, b


def with_kernel(weight: np.ndarray, kernel: np.ndarray, scope: str, pair: tuple[int, int]) -> np.ndarray:
    """A 2-D ``kernel`` (a preset) put into the selected pair or into every pair.

    The window becomes the kernel's size: the other pairs of a selected-pair edit are
    resized around their centres.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"a kernel to apply must be 2-D, not {kernel.shape}")
    kh, kw = kernel.shape
    if scope == ALL:
        return np.broadcast_to(kernel, (*weight.shape[:2], kh, kw)).copy()
    a, b = _check_pair(weight, pair)
    out = centred_resize(weight, kh, kw)
    out[a, b] = kernel
    return out


def normalised(kernel: np.ndarray) -> np.ndarray:
    """``kernel`` scaled to sum to 1; ValueError when it sums to 0 (an edge detector)."""
    total = float(kernel.sum())
    if abs(total) < 1e-12:
        raise ValueError("This kernel sums to 0 (an edge or gradient kernel): it cannot be scaled to sum to 1.")
    return kernel / total


def normalise_weight(weight: np.ndarray, scope: str, pair: tuple[int, int], transposed: bool) -> np.ndarray:
    """The selected pair scaled to sum to 1, or for all pairs each output channel's filter
    (over all its inputs), so a blur of an RGB image keeps its brightness."""
    out = np.array(weight, dtype=np.float64)
    if scope == ALL:
        axis = filter_axis(transposed)
        for k in range(out.shape[axis]):
            index = (slice(None), k) if axis == 1 else (k,)
            out[index] = normalised(out[index])
    else:
        a, b = _check_pair(weight, pair)
        out[a, b] = normalised(out[a, b])
    return out


def flip_weight(weight: np.ndarray, axis: int, scope: str, pair: tuple[int, int]) -> np.ndarray:
    """Mirrored along weight ``axis`` (2: top-bottom, 3: left-right)."""
    if axis not in (2, 3):
        raise ValueError(f"a kernel flips along axis 2 (rows) or 3 (columns), not {axis}")
    if scope == ALL:
        return np.flip(weight, axis=axis).copy()
    a, b = _check_pair(weight, pair)
    out = np.array(weight, dtype=np.float64)
    out[a, b] = np.flip(weight[a, b], axis=axis - 2)
    return out


def transpose_weight(weight: np.ndarray, scope: str, pair: tuple[int, int]) -> np.ndarray:
    """Rows and columns swapped: the selected pair of a square kernel, else every pair (a
    non-square window swaps kernel_size, which every pair shares)."""
    kh, kw = weight.shape[2:]
    if kh == kw and scope == SELECTED:
        a, b = _check_pair(weight, pair)
        out = np.array(weight, dtype=np.float64)
        out[a, b] = weight[a, b].T
        return out
    return np.ascontiguousarray(weight.swapaxes(2, 3), dtype=np.float64)


def cleared_weight(weight: np.ndarray, scope: str, pair: tuple[int, int]) -> np.ndarray:
    """The selected pair, or every pair, set to 0."""
    out = np.zeros_like(weight, dtype=np.float64)
    if scope == ALL:
        return out
    a, b = _check_pair(weight, pair)
    out[:] = weight
    out[a, b] = 0.0
    return out


def with_value(weight: np.ndarray, pair: tuple[int, int], row: int, col: int, value: float) -> np.ndarray:
    """One tap of the selected pair set to ``value``."""
    a, b = _check_pair(weight, pair)
    out = np.array(weight, dtype=np.float64)
    out[a, b, row, col] = value
    return out


def kaiming_uniform(shape: tuple[int, ...], n_bias: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Weight and bias drawn as nn.Conv2d.reset_parameters draws them.

    kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    fan_in = weight.size(1) * kh * kw (in/groups * kh * kw; out/groups for a transposed
    conv, whose weight is (in, out/groups, kh, kw)); the bias uses the same bound.
    ``shape`` is the weight's own shape, so a draw works while the settings are refused.
    """
    fan_in = int(np.prod(shape[1:]))
    bound = 1.0 / np.sqrt(fan_in) if fan_in > 0 else 0.0
    weight = rng.uniform(-bound, bound, size=shape)
    bias = rng.uniform(-bound, bound, size=n_bias)
    return weight, bias
