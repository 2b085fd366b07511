"""Pooling as PyTorch computes it: output sizes (ceil_mode's dropped window included), the
refusals, every window's cells, and a float64 reference with PyTorch's argmax.

The rules, from ATen's pooling_output_shape and the CPU kernels:

* H_out = ⌊(H + 2p − d·(k − 1) − 1 + (s − 1 if ceil_mode)) / s⌋ + 1, and with ceil_mode the
  last window is dropped when it would start in the right padding, (H_out − 1)·s ≥ H + p.
  The naive ⌈(H + 2p − d·(k − 1) − 1) / s⌉ + 1 is wrong exactly there.
* padding is at most ⌊k/2⌋ (of the kernel itself, dilated or not); max pooling pads with −∞.
* the max of a window is its first largest tap in row-major order, except that a NaN wins
  (the last NaN, as ``val > max || isnan(val)`` scans); the index is h·W + w in the input.
* average pooling divides by divisor_override, else by the window clipped to the padded
  input (count_include_pad), else by the taps inside the input.
* adaptive pooling's window for output o of O over n is [⌊o·n/O⌋, ⌈(o + 1)·n/O⌉): windows
  of uneven size that may overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

KINDS = ("max", "avg", "adaptive_max", "adaptive_avg")
LAYER_KINDS = {"max": "MaxPool2d", "avg": "AvgPool2d", "adaptive_max": "AdaptiveMaxPool2d",
               "adaptive_avg": "AdaptiveAvgPool2d"}
MAX_POOL_KERNEL = 64


class PoolSpecError(ValueError):
    """Settings PyTorch refuses; ``field`` names the PoolSpec field at fault."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def _pair(value, field: str, allow_none: bool = False) -> tuple:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if v is None and allow_none:
            continue
        if not isinstance(v, int) or isinstance(v, bool):
            raise PoolSpecError(f"{field} must be a whole number or a pair of them, not {value!r}", field)
    return pair


@dataclass(frozen=True)
class PoolSpec:
    kind: str = "max"
    kernel_size: object = 2
    stride: object = None  # None: kernel_size, as PyTorch
    padding: object = 0
    dilation: object = 1  # max pooling only
    ceil_mode: bool = False
    count_include_pad: bool = True  # average pooling only
    divisor_override: int | None = None  # average pooling only
    output_size: object = 2  # adaptive pooling only; None in a pair keeps that side

    @property
    def adaptive(self) -> bool:
        return self.kind.startswith("adaptive")

    @property
    def is_max(self) -> bool:
        return self.kind in ("max", "adaptive_max")

    @property
    def kernel_hw(self) -> tuple[int, int]:
        return _pair(self.kernel_size, "kernel_size")

    @property
    def stride_hw(self) -> tuple[int, int]:
        return self.kernel_hw if self.stride is None else _pair(self.stride, "stride")

    @property
    def padding_hw(self) -> tuple[int, int]:
        return _pair(self.padding, "padding")

    @property
    def dilation_hw(self) -> tuple[int, int]:
        return _pair(self.dilation, "dilation") if self.kind == "max" else (1, 1)

    @property
    def output_size_hw(self) -> tuple:
        return _pair(self.output_size, "output_size", allow_none=True)

    def replace(self, **changes) -> "PoolSpec":
        return replace(self, **changes)

    # -- checks -------------------------------------------------------------------
    def validate(self, input_shape=None) -> None:
        """PoolSpecError when PyTorch would refuse: the settings alone, and with an input
        (C, H, W) its size too."""
        if self.kind not in KINDS:
            raise PoolSpecError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}", "kind")
        if self.adaptive:
            for v in self.output_size_hw:
                if v is not None and v < 1:
                    raise PoolSpecError(f"output_size must be at least 1, got {self.output_size!r}", "output_size")
                if v is not None and v > 4096:
                    raise PoolSpecError(f"output_size must be at most 4096, got {self.output_size!r}", "output_size")
        else:
            self._validate_window()
        if input_shape is not None:
            self.output_shape(input_shape)

    def _validate_window(self) -> None:
        for field, pair, low in (("kernel_size", self.kernel_hw, 1), ("stride", self.stride_hw, 1),
                                 ("padding", self.padding_hw, 0), ("dilation", self.dilation_hw, 1)):
            if min(pair) < low:
                what = "positive" if low == 1 else "non-negative"
                raise PoolSpecError(f"{field} must be {what}, got {getattr(self, field)!r}", field)
        if max(self.kernel_hw) > MAX_POOL_KERNEL:
            raise PoolSpecError(f"kernel_size must be at most {MAX_POOL_KERNEL}, got {self.kernel_size!r}", "kernel_size")
        if self.kind == "avg" and self.divisor_override is not None:
            if not isinstance(self.divisor_override, int) or isinstance(self.divisor_override, bool):
                raise PoolSpecError(f"divisor_override must be a whole number, not {self.divisor_override!r}",
                                    "divisor_override")
            if self.divisor_override == 0:
                raise PoolSpecError("divisor must be not zero", "divisor_override")
        for axis in (0, 1):
            # ATen checks p ≤ ⌊k/2⌋ of the kernel itself, dilation or not (max_pool2d's
            # own "half of effective kernel size" check is the weaker of its two).
            k, p = self.kernel_hw[axis], self.padding_hw[axis]
            if p > k // 2:
                raise PoolSpecError(
                    f"pad should be smaller than or equal to half of kernel size, but got padding {p} "
                    f"for a kernel of {k}: padding {k // 2} or less fits", "padding")

    def is_valid(self, input_shape=None) -> bool:
        try:
            self.validate(input_shape)
        except PoolSpecError:
            return False
        return True

    # -- shapes -------------------------------------------------------------------
    def axis_output_size(self, axis: int, n: int) -> int:
        """The output length along ``axis`` (0 rows, 1 columns) of an input of length n,
        possibly below 1 (then ``output_shape`` refuses)."""
        if self.adaptive:
            size = self.output_size_hw[axis]
            return n if size is None else size
        k, s, p, d = self.kernel_hw[axis], self.stride_hw[axis], self.padding_hw[axis], self.dilation_hw[axis]
        out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if self.ceil_mode else 0)) // s + 1
        if self.ceil_mode and (out - 1) * s >= n + p:
            out -= 1
        return out

    def output_shape(self, input_shape) -> tuple[int, int, int]:
        self.validate()
        c, h, w = (int(v) for v in input_shape)
        oh, ow = self.axis_output_size(0, h), self.axis_output_size(1, w)
        if oh < 1 or ow < 1:
            raise PoolSpecError(
                f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size "
                f"is too small: the {_window_words(self)} does not fit the "
                f"{h}×{w} input{' with its padding' if max(self.padding_hw) else ''}", "kernel_size")
        return (c, oh, ow)

    # -- as a layer ---------------------------------------------------------------
    @property
    def layer_kind(self) -> str:
        return LAYER_KINDS[self.kind]

    def layer_kwargs(self) -> dict:
        """The nn.<layer_kind> constructor's arguments for these settings."""
        if self.adaptive:
            return {"output_size": self.output_size}
        # In the constructor's own order, so that code() reads as PyTorch's signature does.
        kwargs = {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}
        if self.kind == "max":
            kwargs["dilation"] = self.dilation
            kwargs["ceil_mode"] = self.ceil_mode
        else:
            kwargs["ceil_mode"] = self.ceil_mode
            kwargs["count_include_pad"] = self.count_include_pad
            kwargs["divisor_override"] = self.divisor_override
        return kwargs

    def code(self) -> str:
        """``nn.MaxPool2d(2)``-style code, PyTorch's defaults left out."""
        defaults = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
                    "count_include_pad": True, "divisor_override": None}
        kwargs = self.layer_kwargs()
        first = "output_size" if self.adaptive else "kernel_size"
        parts = [repr(kwargs.pop(first))]
        parts += [f"{k}={v!r}" for k, v in kwargs.items() if defaults.get(k, object()) != v]
        return f"nn.{self.layer_kind}({', '.join(parts)})"

    @classmethod
    def from_layer(cls, kind: str, args: dict) -> "PoolSpec":
        """The spec of an nn.<kind> layer's arguments (a core.layers.Layer's ``dict(args)``)."""
        if kind == "MaxPool2d":
            return cls("max", args["kernel_size"], args.get("stride"), args.get("padding", 0),
                       args.get("dilation", 1), bool(args.get("ceil_mode", False)))
        if kind == "AvgPool2d":
            return cls("avg", args["kernel_size"], args.get("stride"), args.get("padding", 0), 1,
                       bool(args.get("ceil_mode", False)), bool(args.get("count_include_pad", True)),
                       args.get("divisor_override"))
        if kind == "AdaptiveMaxPool2d":
            return cls("adaptive_max", output_size=args["output_size"])
        if kind == "AdaptiveAvgPool2d":
            return cls("adaptive_avg", output_size=args["output_size"])
        raise PoolSpecError(f"{kind} is not a pooling layer", "kind")


def _window_words(spec: PoolSpec) -> str:
    (kh, kw), (dh, dw) = spec.kernel_hw, spec.dilation_hw
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if (eh, ew) != (kh, kw):
        return f"{kh}×{kw} window dilated to {eh}×{ew}"
    return f"{kh}×{kw} window"


# -- windows ----------------------------------------------------------------------
def axis_windows(spec: PoolSpec, axis: int, n: int) -> list[tuple[int, ...]]:
    """For each output position along ``axis``, the input positions its window's taps sit
    at (padding included: negative or ≥ n for taps in the padding)."""
    out = spec.axis_output_size(axis, n)
    if spec.adaptive:
        return [tuple(range((o * n) // out, -((-(o + 1) * n) // out))) for o in range(out)]
    k, s, p, d = spec.kernel_hw[axis], spec.stride_hw[axis], spec.padding_hw[axis], spec.dilation_hw[axis]
    return [tuple(o * s - p + i * d for i in range(k)) for o in range(max(out, 0))]


def _avg_extent(spec: PoolSpec, axis: int, n: int, start: int) -> int:
    """The window's length clipped to the padded input: count_include_pad's share."""
    k, p = spec.kernel_hw[axis], spec.padding_hw[axis]
    return min(start + k, n + p) - start


@dataclass(frozen=True)
class PoolWindow:
    """One output cell's window over one channel.

    ``rows``/``cols``: where its taps sit (padding included); ``cells``: the (h, w) taps
    inside the input, row-major; ``value``: PyTorch's result; ``winner``: the (h, w) the max
    came from (where the gradient goes), None for average pooling; ``total`` and ``divisor``
    for average pooling (value = total / divisor); ``padded``: taps in the padding.
    """

    out: tuple[int, int]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    cells: tuple[tuple[int, int], ...]
    value: float
    winner: tuple[int, int] | None
    total: float
    divisor: int
    padded: int
    ties: int = 0  # max pooling: how many taps equal the winner (a tie the scan order settled)


def pool_window(spec: PoolSpec, channel: np.ndarray, oh: int, ow: int) -> PoolWindow:
    """Output cell (oh, ow)'s window over ``channel`` (H, W)."""
    with np.errstate(invalid="ignore", over="ignore"):  # ∞ − ∞ in a sum is NaN, as in PyTorch
        return _pool_window(spec, channel, oh, ow)


def _pool_window(spec: PoolSpec, channel: np.ndarray, oh: int, ow: int) -> PoolWindow:
    h, w = channel.shape
    rows = axis_windows(spec, 0, h)[oh]
    cols = axis_windows(spec, 1, w)[ow]
    inside_r = [r for r in rows if 0 <= r < h]
    inside_c = [c for c in cols if 0 <= c < w]
    cells = tuple((r, c) for r in inside_r for c in inside_c)
    padded = len(rows) * len(cols) - len(cells)
    total = float(sum(channel[r, c] for r, c in cells)) if cells else 0.0
    if spec.is_max:
        if spec.adaptive:
            start = (rows[0], cols[0])
        else:
            start = (_first_tap(rows, spec.dilation_hw[0]), _first_tap(cols, spec.dilation_hw[1]))
        best, winner, ties = -math.inf, start, 0
        for r, c in cells:
            v = float(channel[r, c])
            if v > best or math.isnan(v):
                best, winner = v, (r, c)
        if not math.isnan(best):
            ties = sum(1 for r, c in cells if float(channel[r, c]) == best)
        return PoolWindow((oh, ow), rows, cols, cells, best, winner, total, 1, padded, ties)
    divisor = _avg_divisor(spec, h, w, rows, cols, len(inside_r) * len(inside_c))
    value = total / divisor if cells else 0.0
    return PoolWindow((oh, ow), rows, cols, cells, value, None, total, divisor, padded)


def _avg_divisor(spec: PoolSpec, h: int, w: int, rows, cols, inside: int) -> int:
    if spec.adaptive:
        return max(inside, 1)
    if spec.divisor_override:
        return spec.divisor_override
    if spec.count_include_pad:
        return _avg_extent(spec, 0, h, rows[0]) * _avg_extent(spec, 1, w, cols[0])
    return max(inside, 1)


def pool_reference(spec: PoolSpec, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(values (C, H_out, W_out) float64, argmax indices h·W + w (int64) or None for average
    pooling) of ``x`` (C, H, W), as PyTorch computes them.  PoolSpecError if it refuses."""
    with np.errstate(invalid="ignore", over="ignore"):  # ∞ − ∞ in a sum is NaN, as in PyTorch
        return _pool_reference(spec, x)


def _pool_reference(spec: PoolSpec, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.asarray(x, dtype=np.float64)
    c, h, w = x.shape
    _, oh, ow = spec.output_shape(x.shape)
    rows, cols = axis_windows(spec, 0, h), axis_windows(spec, 1, w)
    if spec.adaptive:
        return _adaptive(spec, x, rows, cols)
    # Gather every window as (C, OH, OW, taps) from the padded input: vectorised, and the
    # taps stay in row-major order, which the argmax's tie rule depends on.
    r_idx = np.array([[r + _pad_before(rows) for r in window] for window in rows])  # (OH, kh)
    c_idx = np.array([[q + _pad_before(cols) for q in window] for window in cols]) if cols else np.zeros((0, 0), int)
    taps = _padded(spec, x, rows, cols)[:, r_idx[:, None, :, None], c_idx[None, :, None, :]]  # (C, OH, OW, kh, kw)
    taps = taps.reshape(c, oh, ow, -1)
    if spec.is_max:
        values, flat = _max_with_torch_rule(taps)
        kh, kw = r_idx.shape[1], c_idx.shape[1]
        tap_r = (r_idx - _pad_before(rows))[:, None, :, None].repeat(kw, axis=3).repeat(ow, axis=1)
        tap_c = (c_idx - _pad_before(cols))[None, :, None, :].repeat(kh, axis=2).repeat(oh, axis=0)
        tap_r, tap_c = tap_r.reshape(oh, ow, -1), tap_c.reshape(oh, ow, -1)
        win_r = np.take_along_axis(np.broadcast_to(tap_r, taps.shape), flat[..., None], -1)[..., 0]
        win_c = np.take_along_axis(np.broadcast_to(tap_c, taps.shape), flat[..., None], -1)[..., 0]
        indices = (win_r * w + win_c).astype(np.int64)
        # A window with nothing above −∞ keeps PyTorch's starting index, its first tap at or
        # past the top-left edge (possibly outside the input).
        start = np.array([[_first_tap(rows[i], spec.dilation_hw[0]) * w + _first_tap(cols[j], spec.dilation_hw[1])
                           for j in range(ow)] for i in range(oh)], dtype=np.int64)
        indices = np.where(values == -np.inf, start[None], indices)
        return values, indices
    zero_padded = _padded(spec, x, rows, cols, fill=0.0)
    taps = zero_padded[:, r_idx[:, None, :, None], c_idx[None, :, None, :]].reshape(c, oh, ow, -1)
    divisors = np.array([[_avg_divisor(spec, h, w, rows[i], cols[j],
                                       sum(0 <= r < h for r in rows[i]) * sum(0 <= q < w for q in cols[j]))
                          for j in range(ow)] for i in range(oh)], dtype=np.float64)
    return taps.sum(axis=-1) / divisors, None


def _first_tap(window: tuple[int, ...], dilation: int) -> int:
    """Where ATen's scan of a window starts: its first position ≥ 0, stepping by the
    dilation from the window's start even past its last tap."""
    start = window[0]
    return start if start >= 0 else start + (-start + dilation - 1) // dilation * dilation


def _pad_before(windows) -> int:
    return max(0, -min(min(window) for window in windows)) if windows else 0


def _padded(spec: PoolSpec, x: np.ndarray, rows, cols, fill: float = -np.inf) -> np.ndarray:
    """x inside a border as wide as the windows reach, filled with −∞ (max pooling: a
    padded tap never wins) or 0 (average pooling's sums)."""
    c, h, w = x.shape
    top, left = _pad_before(rows), _pad_before(cols)
    bottom = max(0, max(max(window) for window in rows) - h + 1) if rows else 0
    right = max(0, max(max(window) for window in cols) - w + 1) if cols else 0
    out = np.full((c, h + top + bottom, w + left + right), fill)
    out[:, top:top + h, left:left + w] = x
    return out


def _max_with_torch_rule(taps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The max over the last axis and the tap it came from: the first largest, but the last
    NaN where there is one (PyTorch's ``val > max || isnan(val)`` scan)."""
    nan = np.isnan(taps)
    first_max = np.argmax(np.where(nan, -np.inf, taps), axis=-1)
    n = taps.shape[-1]
    last_nan = n - 1 - np.argmax(nan[..., ::-1], axis=-1)
    has_nan = nan.any(axis=-1)
    flat = np.where(has_nan, last_nan, first_max)
    values = np.take_along_axis(taps, flat[..., None], -1)[..., 0]
    return values, flat


def _adaptive(spec: PoolSpec, x: np.ndarray, rows, cols) -> tuple[np.ndarray, np.ndarray | None]:
    c, h, w = x.shape
    values = np.empty((c, len(rows), len(cols)))
    indices = np.empty((c, len(rows), len(cols)), dtype=np.int64) if spec.is_max else None
    for i, window_r in enumerate(rows):
        for j, window_c in enumerate(cols):
            block = x[:, window_r[0]:window_r[-1] + 1, window_c[0]:window_c[-1] + 1].reshape(c, -1)
            if spec.is_max:
                v, flat = _max_with_torch_rule(block)
                values[:, i, j] = v
                bw = len(window_c)
                indices[:, i, j] = (window_r[0] + flat // bw) * w + window_c[0] + flat % bw
            else:
                values[:, i, j] = block.mean(axis=1)
    return values, indices


# -- the formula ------------------------------------------------------------------
@dataclass(frozen=True)
class PoolAxisFormula:
    """One axis's output size, written out: ``general`` with symbols, ``numbers`` with the
    values and the floor or ceil, ``note`` (ceil_mode's kept or dropped last window)."""

    axis: str  # "H" or "W"
    general: str
    numbers: str
    result: int
    note: str = ""

    def lines(self) -> list[str]:
        return [self.general, self.numbers] + ([self.note] if self.note else [])


def axis_formula(spec: PoolSpec, axis: int, n: int) -> PoolAxisFormula:
    name = "HW"[axis]
    out = spec.axis_output_size(axis, n)
    if spec.adaptive:
        size = spec.output_size_hw[axis]
        if size is None:
            return PoolAxisFormula(name, f"{name}_out = {name} (output_size None keeps it)", f"{name}_out = {n}", n)
        starts = [(o * n) // size for o in range(size)]
        ends = [-((-(o + 1) * n) // size) for o in range(size)]
        lengths = sorted({e - s for s, e in zip(starts, ends)})
        return PoolAxisFormula(
            name, f"window o: [⌊o·{name}/{name}_out⌋, ⌈(o+1)·{name}/{name}_out⌉)",
            f"{name}_out = {size}: windows of {' or '.join(map(str, lengths))} over {n}", size)
    k, s, p, d = spec.kernel_hw[axis], spec.stride_hw[axis], spec.padding_hw[axis], spec.dilation_hw[axis]
    top = n + 2 * p - d * (k - 1) - 1
    # Written as the convolution formula writes it ("1·(3−1)"), so the two read alike.
    dil = f" − {d}·({k}−1)"
    general_dil = " − d·(k−1)"
    if spec.ceil_mode:
        general = f"{name}_out = ⌈({name}_in + 2·p{general_dil} − 1) / s⌉ + 1, minus 1 if the last window starts in the right padding"
        raw = -(-top // s) + 1
        numbers = f"{name}_out = ⌈({n} + 2·{p}{dil} − 1) / {s}⌉ + 1 = {_frac(top, s, ceil=True)} = {raw}"
        start = (raw - 1) * s
        if raw != out:
            note = (f"the last window would start at ({raw} − 1)·{s} = {start} ≥ {n} + {p}, in the right "
                    f"padding: PyTorch drops it, so {name}_out = {out}")
        elif raw > top // s + 1:
            note = f"the last window starts at ({raw} − 1)·{s} = {start} < {n} + {p}, inside: kept"
        else:
            note = ""
        return PoolAxisFormula(name, general, numbers, out, note)
    general = f"{name}_out = ⌊({name}_in + 2·p{general_dil} − 1) / s⌋ + 1"
    numbers = f"{name}_out = ⌊({n} + 2·{p}{dil} − 1) / {s}⌋ + 1 = {_frac(top, s)} = {out}"
    note = ""
    if out >= 1:
        covered = (out - 1) * s - p + d * (k - 1) + 1
        if covered < n:
            left = n - covered
            unit = "row" if axis == 0 else "column"
            note = (f"the floor leaves the last {unit} out: no window reaches it" if left == 1 else
                    f"the floor leaves the last {left} {unit}s out: no window reaches them")
    return PoolAxisFormula(name, general, numbers, out, note)


def _frac(top: int, s: int, ceil: bool = False) -> str:
    """The floor (or ceil) worked out step by step, each step a value, never an equation
    inside the brackets: ⌊27/2⌋ + 1 = ⌊13.5⌋ + 1 = 13 + 1."""
    left, right = ("⌈", "⌉") if ceil else ("⌊", "⌋")
    rounded = -(-top // s) if ceil else top // s
    steps = [] if s == 1 else [f"{left}{_signed(top)}/{s}{right} + 1"]
    if top % s:
        steps.append(f"{left}{_signed(float(f'{top / s:.2f}'))}{right} + 1")
    steps.append(f"{_signed(rounded)} + 1")
    return " = ".join(steps)


def _signed(value) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("-", "−")


def formula_lines(spec: PoolSpec, input_shape) -> list[str]:
    """The output size of both axes written out, then the shape (or the refusal)."""
    c, h, w = (int(v) for v in input_shape)
    try:
        spec.validate()
    except PoolSpecError as exc:
        return [str(exc)]
    lines = []
    for axis, n in ((0, h), (1, w)):
        lines += axis_formula(spec, axis, n).lines()
    try:
        shape = spec.output_shape(input_shape)
        lines.append(f"output {c}×{h}×{w} → {shape[0]}×{shape[1]}×{shape[2]}")
    except PoolSpecError as exc:
        lines.append(str(exc))
    return lines
