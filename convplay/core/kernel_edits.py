"""Edits of a kernel as numpy arrays: the weight shape a spec allows, resizing around the
centre, and every Kernel-panel edit (presets, normalise, flip, transpose, clear, random)
for the selected (a, b) pair, for every input of the selected output channel (its
filter), or for all pairs.

Pure functions: they take the session's weight and return a new array, never writing into
the one given (the session's arrays are read-only).  They work on the weight's own shape,
never on ``spec.weight_shape``: while the settings are refused the two can differ (groups
that do not divide the channels have no weight shape at all), and an edit must still apply.

A weight is (out, in/groups, kh, kw) for nn.Conv2d and (in, out/groups, kh, kw) for
nn.ConvTranspose2d, so a "pair" is (weight axis 0, weight axis 1) in either case and an
output channel's filter lies along axis 0, or axis 1 when transposed (``filter_axis``).

A channel count that grows (out_channels raised, an RGB image after a grey one) starts
the new channels as copies of the last one, never as silent zeros; ``fit_note`` says so
in words for the Kernel panel.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from convplay.core.formatting import exact_fraction
from convplay.core.spec import ConvSpec, ConvSpecError

# The scope of an edit: the pair shown, every input channel of the selected output channel
# (what one output channel computes from: the default, so a Sobel on a photo reads all of
# its colours), or every pair.
SELECTED, FILTER, ALL = "selected", "filter", "all"
SCOPES = (FILTER, SELECTED, ALL)

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
def fit_weight(weight: np.ndarray | None, shape: tuple[int, ...], transposed: bool = False) -> np.ndarray:
    """``weight`` fitted to ``shape``: the spatial window cropped or grown with zeros around
    its centre (a 3x3 Sobel put into a 5x5 stays in the middle, as a user enlarging the
    kernel expects); the first channels kept; new channels copies of the last one.

    New output channels (out_channels raised) copy the last output channel's filter, and
    new input channels copy each filter's last input channel, so that a Sobel made on a
    grey image reads every channel of a photo (nn.Conv2d adds their responses).  A filter
    that summed to 1 over its inputs (a blur, the identity) is scaled to sum to 1 again
    when its input count changes, so a blur keeps the image's brightness.  ``transposed``:
    the weight is (in, out/groups, kh, kw), output channels along axis 1.
    """
    out = np.zeros(shape, dtype=np.float64)
    if weight is None or weight.ndim != 4 or len(shape) != 4 or 0 in weight.shape[:2]:
        return out
    window = np.zeros((*weight.shape[:2], *shape[2:]), dtype=np.float64)
    src_r, dst_r = _centred_span(weight.shape[2], shape[2])
    src_c, dst_c = _centred_span(weight.shape[3], shape[3])
    window[:, :, dst_r, dst_c] = weight[:, :, src_r, src_c]
    f_axis = filter_axis(transposed)
    i_axis = 1 - f_axis
    n_in_old, n_in_new = weight.shape[i_axis], shape[i_axis]
    sums_to_one = np.isclose(window.sum(axis=(i_axis, 2, 3)), 1.0, rtol=0, atol=1e-9)
    fitted = _grown(window, i_axis, n_in_new)
    if n_in_new != n_in_old and sums_to_one.any():
        for k in np.flatnonzero(sums_to_one):
            index = (slice(None), k) if f_axis == 1 else (k,)
            fitted[index] = _scaled_exactly(fitted[index], Fraction(n_in_old, n_in_new))
    return _grown(fitted, f_axis, shape[f_axis])


def turned_direction(weight: np.ndarray, old: ConvSpec, new: ConvSpec) -> np.ndarray | None:
    """``weight`` of ``old`` laid out for ``new`` when the two differ in ``transposed`` and
    hold the same filters: nn.Conv2d's (out, in/groups) pair (o, j) is
    nn.ConvTranspose2d's (in, out/groups) pair (j-th input of o's group, o within it), so
    every kernel keeps its place between the same two channels.  None when the channel
    counts or groups differ (or are not defined), or the weight does not have old's shape."""
    if bool(old.transposed) == bool(new.transposed):
        return None
    if (old.in_channels, old.out_channels, old.groups) != (new.in_channels, new.out_channels, new.groups):
        return None
    dims = spec_channel_dims(old)
    if dims is None or tuple(weight.shape[:2]) != dims:
        return None
    g = int(old.groups)
    c_in, c_out = int(old.in_channels), int(old.out_channels)
    a, b = (c_in // g, c_out // g) if old.transposed else (c_out // g, c_in // g)
    grouped = weight.reshape(g, a, b, *weight.shape[2:])
    return np.ascontiguousarray(grouped.transpose(0, 2, 1, 3, 4).reshape(g * b, a, *weight.shape[2:]))


def _grown(weight: np.ndarray, axis: int, n: int) -> np.ndarray:
    """The first ``n`` entries along ``axis``; more than there are repeat the last one."""
    have = weight.shape[axis]
    picks = np.minimum(np.arange(n), have - 1)
    return np.take(weight, picks, axis=axis)


def _scaled_exactly(values: np.ndarray, factor: Fraction) -> np.ndarray:
    """``values * factor`` where an exact fraction stays one: 1/9 spread over 3 inputs is the
    float nearest 1/27 (what typing "1/27" gives), not fl(1/9) / 3, one bit away."""
    out = np.empty(values.shape, dtype=np.float64)
    for index, v in np.ndenumerate(values):
        f = exact_fraction(float(v), 1 << 20)
        out[index] = float(f * factor) if f is not None else float(v) * float(factor)
    return out


def fit_note(old: tuple[int, ...], new: tuple[int, ...], transposed: bool = False, rescaled: bool = False) -> str:
    """What ``fit_weight`` did to the channels, in words; "" when it added none."""
    f_axis = filter_axis(transposed)
    i_axis = 1 - f_axis
    notes = []
    if len(old) == 4 and len(new) == 4 and new[f_axis] > old[f_axis] >= 1:
        notes.append(
            f"{_channels('Output channel', old[f_axis], new[f_axis])} a copy of output channel "
            f"{old[f_axis] - 1}'s filter (edit it or load a preset into it)."
        )
    if len(old) == 4 and len(new) == 4 and new[i_axis] > old[i_axis] >= 1:
        notes.append(
            f"{_channels('Input channel', old[i_axis], new[i_axis])} a copy of input channel "
            f"{old[i_axis] - 1}'s weights in every filter, so each filter reads every input channel."
        )
    if rescaled:
        notes.append("Filters that summed to 1 were scaled to sum to 1 over their new inputs.")
    return " ".join(notes)


def _channels(what: str, first: int, end: int) -> str:
    if end - first == 1:
        return f"{what} {first} starts as"
    return f"{what}s {first}–{end - 1} start as"


def fit_rescales(weight: np.ndarray | None, shape: tuple[int, ...], transposed: bool = False) -> bool:
    """True when ``fit_weight`` scales a filter that summed to 1 (its input count changes)."""
    if weight is None or weight.ndim != 4 or len(shape) != 4 or 0 in weight.shape[:2]:
        return False
    i_axis = 1 - filter_axis(transposed)
    if weight.shape[i_axis] == shape[i_axis]:
        return False
    window = fit_weight(weight, (*weight.shape[:2], *shape[2:]), transposed)
    return bool(np.isclose(window.sum(axis=(i_axis, 2, 3)), 1.0, rtol=0, atol=1e-9).any())


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


def filter_index(shape: tuple[int, ...], pair: tuple[int, int], transposed: bool = False, groups: int = 1) -> tuple:
    """The index of every (a, b) pair that feeds the output channel of ``pair``.

    For nn.Conv2d that is ``weight[a]`` (its in/groups inputs).  For nn.ConvTranspose2d the
    weight is (in, out/groups, ...): output column b of the group that input a belongs to.
    Groups that do not divide the weight's channels count as 1.
    """
    a, b = int(pair[0]), int(pair[1])
    if not transposed:
        return (a,)
    g = int(groups) if isinstance(groups, (int, np.integer)) and groups >= 1 and shape[0] % groups == 0 else 1
    per = shape[0] // g
    start = (a // per) * per
    return (slice(start, start + per), b)


def scope_index(weight: np.ndarray, scope: str, pair: tuple[int, int], transposed: bool = False, groups: int = 1) -> tuple:
    """The index into ``weight`` of the pairs an edit of ``scope`` changes."""
    if scope == ALL:
        return (slice(None),)
    a, b = _check_pair(weight, pair)
    if scope == FILTER:
        return filter_index(weight.shape, (a, b), transposed, groups)
    if scope == SELECTED:
        return (a, b)
    raise ValueError(f"an edit applies to {', '.join(SCOPES)}, not {scope!r}")


def _filter_inputs(weight: np.ndarray, scope: str, transposed: bool, groups: int) -> int:
    """How many input channels each changed filter has (1 for the selected pair alone)."""
    if scope == SELECTED:
        return 1
    if not transposed:
        return weight.shape[1]
    g = int(groups) if isinstance(groups, (int, np.integer)) and groups >= 1 and weight.shape[0] % groups == 0 else 1
    return weight.shape[0] // g


def sums_to_one(kernel: np.ndarray) -> bool:
    """A blur, the identity, sharpen: a kernel that keeps a flat image's brightness."""
    return abs(float(np.sum(kernel)) - 1.0) < 1e-9


def with_kernel(
    weight: np.ndarray,
    kernel: np.ndarray,
    scope: str,
    pair: tuple[int, int],
    *,
    transposed: bool = False,
    groups: int = 1,
) -> np.ndarray:
    """A 2-D ``kernel`` (a preset) put into the selected pair, into every input channel of
    the selected output channel, or into every pair.

    nn.Conv2d adds the responses of a filter's input channels, so a Sobel in each of 3
    colour channels responds to the edges of all three.  A kernel that sums to 1 (a blur)
    put into n inputs of a filter is divided by n, so the whole filter still sums to 1 and
    a blurred photo keeps its brightness (the blur of the channels' mean) instead of
    tripling it.  The window becomes the kernel's size: pairs not filled are resized
    around their centres.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"a kernel to apply must be 2-D, not {kernel.shape}")
    kh, kw = kernel.shape
    index = scope_index(weight, scope, pair, transposed, groups)
    n = _filter_inputs(weight, scope, transposed, groups)
    if n > 1 and sums_to_one(kernel):
        kernel = _scaled_exactly(kernel, Fraction(1, n))
    out = centred_resize(weight, kh, kw)
    out[index] = kernel
    return out


def fill_note(
    name: str,
    kernel: np.ndarray,
    weight_shape: tuple[int, ...],
    scope: str,
    pair: tuple[int, int],
    *,
    transposed: bool = False,
    groups: int = 1,
) -> str:
    """What ``with_kernel`` filled, in the words the Kernel panel shows under the grid."""
    a, b = int(pair[0]), int(pair[1])
    probe = np.zeros(weight_shape)
    n = _filter_inputs(probe, scope, transposed, groups)
    spread = n > 1 and sums_to_one(kernel)
    out_channel = b if transposed else a
    if weight_shape[0] * weight_shape[1] == 1 or (n == 1 and scope != SELECTED):
        return ""  # one input per filter: nothing was spread or left out
    if scope == SELECTED:
        i_channel = a if transposed else b
        return f"{name} in input channel {i_channel} of output channel {out_channel} only; the other pairs are kept."
    where = f"all {n} input channels" if n > 1 else "the input channel"
    target = f"of output channel {out_channel}" if scope == FILTER else "of every output channel"
    if spread:
        return (
            f"{name} ÷ {n} in {where} {target}, so the filter still sums to 1 and the output "
            f"keeps the image's brightness ({name} of the channels' mean)."
        )
    return f"{name} in {where} {target}: PyTorch adds the {n} responses, as nn.Conv2d does, so every colour counts."


def normalised(kernel: np.ndarray) -> np.ndarray:
    """``kernel`` scaled to sum to 1; ValueError when it sums to 0 (an edge detector)."""
    total = float(kernel.sum())
    if abs(total) < 1e-12:
        raise ValueError("This kernel sums to 0 (an edge or gradient kernel): it cannot be scaled to sum to 1.")
    return kernel / total


def normalise_weight(
    weight: np.ndarray, scope: str, pair: tuple[int, int], transposed: bool, groups: int = 1
) -> np.ndarray:
    """The selected pair scaled to sum to 1; the selected output channel's filter over all
    its inputs; or for all pairs each output channel's filter, so a blur of an RGB image
    keeps its brightness."""
    out = np.array(weight, dtype=np.float64)
    if scope == ALL:
        axis = filter_axis(transposed)
        for k in range(out.shape[axis]):
            index = (slice(None), k) if axis == 1 else (k,)
            out[index] = normalised(out[index])
    else:
        index = scope_index(weight, scope, pair, transposed, groups)
        out[index] = normalised(out[index])
    return out


def flip_weight(
    weight: np.ndarray, axis: int, scope: str, pair: tuple[int, int], transposed: bool = False, groups: int = 1
) -> np.ndarray:
    """Mirrored along weight ``axis`` (2: top-bottom, 3: left-right)."""
    if axis not in (2, 3):
        raise ValueError(f"a kernel flips along axis 2 (rows) or 3 (columns), not {axis}")
    index = scope_index(weight, scope, pair, transposed, groups)
    out = np.array(weight, dtype=np.float64)
    out[index] = np.flip(weight[index], axis=-1 if axis == 3 else -2)
    return out


def transpose_weight(
    weight: np.ndarray, scope: str, pair: tuple[int, int], transposed: bool = False, groups: int = 1
) -> np.ndarray:
    """Rows and columns swapped: the pairs of ``scope`` of a square kernel, else every pair
    (a non-square window swaps kernel_size, which every pair shares)."""
    kh, kw = weight.shape[2:]
    if kh == kw and scope != ALL:
        index = scope_index(weight, scope, pair, transposed, groups)
        out = np.array(weight, dtype=np.float64)
        out[index] = np.swapaxes(weight[index], -1, -2)
        return out
    return np.ascontiguousarray(weight.swapaxes(2, 3), dtype=np.float64)


def cleared_weight(
    weight: np.ndarray, scope: str, pair: tuple[int, int], transposed: bool = False, groups: int = 1
) -> np.ndarray:
    """The pairs of ``scope`` set to 0."""
    index = scope_index(weight, scope, pair, transposed, groups)
    out = np.array(weight, dtype=np.float64)
    out[index] = 0.0
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
