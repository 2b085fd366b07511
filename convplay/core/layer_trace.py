"""A stack traced layer by layer: shapes, the formula with numbers, parameters,
multiply-accumulates, receptive field and jump, and the first layer that does not fit.

Shapes leave the batch out: (C, H, W) for feature maps, (F,) for vectors, (C, H, F) for a
Linear applied to maps (it acts on the last axis, as PyTorch's does).  The receptive field
follows r_l = r_{l−1} + (k_l − 1)·d_l·j_{l−1} with the jump j_l = j_{l−1}·s_l; both are
computed exactly by carrying an output pixel's index range back through every layer
(``receptive_box``), which also covers transposed convolutions and adaptive pooling.  MACs
count the multiply-accumulates of a layer's weights (PyTorch's FLOP counter reports two
FLOPs for each); batch norm counts one per value (its scale and shift folded).

Nothing here runs a network: compute.stack checks these shapes against torch itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from convplay.core.formula import shown_formula
from convplay.core.layers import ACTIVATION_KINDS, CONV_KINDS, MAX_FEATURES, POOL_KINDS, Layer, LayerError, Stack, pair
from convplay.core.pooling import PoolSpec, PoolSpecError, axis_formula
from convplay.core.spec import ConvSpec, ConvSpecError

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerRow:
    index: int
    layer: Layer
    input_shape: Shape | None  # None past a failure
    output_shape: Shape | None
    params: int = 0
    macs: int = 0
    receptive_field: tuple[int, int] | None = None  # in input pixels; None once flattened
    jump: tuple[Fraction, Fraction] | None = None
    formula: tuple[str, ...] = ()
    rf_formula: str = ""
    error: str = ""  # why this layer's input does not fit (only on the first failing layer)
    fix: str = ""
    note: str = ""
    total_params: int = 0  # this layer and every one before it
    total_macs: int = 0

    @property
    def ok(self) -> bool:
        return self.output_shape is not None and not self.error


@dataclass(frozen=True)
class StackTrace:
    stack: Stack
    input_shape: Shape
    rows: tuple[LayerRow, ...]
    failed: int | None = None
    error: str = ""
    notes: tuple[str, ...] = ()
    _backs: tuple = field(default=(), repr=False, compare=False)

    @property
    def output_shape(self) -> Shape | None:
        if self.failed is not None:
            return None
        return self.rows[-1].output_shape if self.rows else self.input_shape

    @property
    def total_params(self) -> int:
        return self.rows[-1].total_params if self.rows else 0

    @property
    def total_macs(self) -> int:
        return self.rows[-1].total_macs if self.rows else 0

    def as_dict(self) -> dict:
        """What ``--describe`` prints for a stack."""
        error = None
        if self.failed is not None:
            row = self.rows[self.failed]
            error = {"index": row.index, "name": row.layer.label, "kind": row.layer.kind,
                     "reason": row.error, "fix": row.fix, "message": self.error}
        return {
            "title": self.stack.title,
            "input_shape": list(self.input_shape),
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "layers": [_row_dict(row) for row in self.rows],
            "total_params": self.total_params,
            "total_macs": self.total_macs,
            "notes": list(self.notes),
            "error": error,
        }


def _row_dict(row: LayerRow) -> dict:
    return {
        "index": row.index,
        "name": row.layer.label,
        "kind": row.layer.kind,
        "code": row.layer.code(),
        "input_shape": None if row.input_shape is None else list(row.input_shape),
        "output_shape": None if row.output_shape is None or row.error else list(row.output_shape),
        "params": row.params,
        "macs": row.macs,
        "receptive_field": None if row.receptive_field is None else list(row.receptive_field),
        "jump": None if row.jump is None else [_number(j) for j in row.jump],
        "formula": list(row.formula),
    }


def _number(value: Fraction):
    return int(value) if value.denominator == 1 else float(value)


def shape_text(shape: Shape | None) -> str:
    return "—" if shape is None else "×".join(str(v) for v in shape)


# -- one layer ------------------------------------------------------------------------
class _Refusal(Exception):
    def __init__(self, reason: str, fix: str = ""):
        super().__init__(reason)
        self.reason, self.fix = reason, fix


# A back map takes the positions an output reads on one axis (an int array) to the input
# positions they read, padding positions included (negative or past the end).
def _identity_back(positions: np.ndarray) -> np.ndarray:
    return positions


def _window_back(k: int, s: int, before: int, d: int):
    taps = np.arange(k) * d - before

    def back(positions: np.ndarray) -> np.ndarray:
        return np.unique((positions[:, None] * s + taps[None, :]).ravel())
    return back


def _transposed_back(k: int, s: int, p: int, d: int):
    taps = np.arange(k) * d

    def back(positions: np.ndarray) -> np.ndarray:
        # output o = i·s − p + m·d: the inputs i that stamp onto o
        numerators = (positions[:, None] + p - taps[None, :]).ravel()
        return np.unique(numerators[numerators % s == 0] // s)
    return back


def _adaptive_back(n: int, out: int):
    def back(positions: np.ndarray) -> np.ndarray:
        parts = [np.arange((o * n) // out, -((-(o + 1) * n) // out)) for o in positions.tolist()]
        return np.unique(np.concatenate(parts)) if parts else positions
    return back


@dataclass
class _Step:
    output: Shape
    params: int = 0
    macs: int = 0
    formula: tuple[str, ...] = ()
    backs: tuple | None = None  # (back_h, back_w); None: every input pixel (flatten, linear)
    strides: tuple[Fraction, Fraction] = (Fraction(1), Fraction(1))
    note: str = ""


def _maps(layer: Layer, shape: Shape, previous: Shape | None) -> tuple[int, int, int]:
    if len(shape) == 3:
        return shape  # type: ignore[return-value]
    what = f"a vector of {shape[0]}" if len(shape) == 1 else f"a {shape_text(shape)} tensor"
    after = " (after the Flatten)" if previous is not None and len(previous) == 3 else ""
    raise _Refusal(f"{layer.kind} needs C×H×W feature maps, the stack gives {what}{after}",
                   "move the Flatten after the last convolution or pooling layer")


def conv_spec(layer: Layer) -> ConvSpec:
    """The ConvSpec of a Conv2d or ConvTranspose2d layer's arguments."""
    transposed = layer.kind == "ConvTranspose2d"
    return ConvSpec(
        in_channels=layer["in_channels"], out_channels=layer["out_channels"], kernel_size=layer["kernel_size"],
        stride=layer["stride"], padding=layer["padding"], dilation=layer["dilation"], groups=layer["groups"],
        bias=layer["bias"], padding_mode=layer["padding_mode"], transposed=transposed,
        output_padding=layer["output_padding"] if transposed else 0,
    )


def _conv_step(layer: Layer, shape: Shape, previous: Shape | None) -> _Step:
    c, h, w = _maps(layer, shape, previous)
    c_in, c_out, groups = layer["in_channels"], layer["out_channels"], layer["groups"]
    if c != c_in:
        fixed = layer.replace(in_channels=c, groups=groups if c % groups == 0 else 1)
        raise _Refusal(f"{layer.kind} expects {c_in} input channel{'s' if c_in != 1 else ''}, the stack gives {c}",
                       f"use {fixed.code()}")
    spec = conv_spec(layer)
    try:
        out = spec.output_shape((c, h, w))
    except ConvSpecError as exc:
        raise _Refusal(str(exc), _conv_fix(layer, spec, h, w, exc)) from None
    kh, kw = spec.kernel_hw
    params = layer.params
    if spec.transposed:
        macs = c * h * w * (c_out // groups) * kh * kw
        backs = tuple(_transposed_back(spec.kernel_hw[i], spec.stride_hw[i], pair(layer["padding"])[i],
                                       spec.dilation_hw[i]) for i in (0, 1))
        strides = tuple(Fraction(1, s) for s in spec.stride_hw)
    else:
        macs = out[0] * out[1] * out[2] * (c_in // groups) * kh * kw
        top, _, left, _ = spec.pads()
        backs = tuple(_window_back(spec.kernel_hw[i], spec.stride_hw[i], (top, left)[i], spec.dilation_hw[i])
                      for i in (0, 1))
        strides = tuple(Fraction(s) for s in spec.stride_hw)
    numbers = tuple(line for axis, notes in shown_formula(spec, (c, h, w))
                    for line in (axis.numeric, *(n.text for n in notes)))
    return _Step(out, params, macs, numbers, backs, strides)


def _conv_fix(layer: Layer, spec: ConvSpec, h: int, w: int, exc: ConvSpecError) -> str:
    if exc.field in ("kernel_size", "dilation"):
        kh, kw = spec.kernel_hw
        eh, ew = spec.dilated_kernel_hw
        need = max(0, -(-(eh - h) // 2), -(-(ew - w) // 2))
        if need and layer.kind == "Conv2d" and not isinstance(layer["padding"], str):
            return f"use padding={need} or more, or a smaller kernel"
        return "use a smaller kernel or a larger input"
    return ""


def _pool_step(layer: Layer, shape: Shape, previous: Shape | None) -> _Step:
    c, h, w = _maps(layer, shape, previous)
    spec = PoolSpec.from_layer(layer.kind, dict(layer.args))
    try:
        out = spec.output_shape((c, h, w))
    except PoolSpecError as exc:
        fix = ""
        if exc.field == "padding":
            (kh, kw), (ph, pw) = spec.kernel_hw, spec.padding_hw
            fitted = (min(ph, kh // 2), min(pw, kw // 2))
            fix = f"use {layer.replace(padding=fitted[0] if fitted[0] == fitted[1] else fitted).code()}"
        elif exc.field == "kernel_size":
            fix = f"use a kernel of at most {min(h, w)}, or pool fewer times before it"
        raise _Refusal(str(exc), fix) from None
    lines = []
    for axis, n in ((0, h), (1, w)):
        f = axis_formula(spec, axis, n)
        lines.append(f.numbers)
        if f.note:
            lines.append(f.note)
    if spec.adaptive:
        backs = (_adaptive_back(h, out[1]), _adaptive_back(w, out[2]))
        strides = (Fraction(h, out[1]), Fraction(w, out[2]))
    else:
        backs = tuple(_window_back(spec.kernel_hw[i], spec.stride_hw[i], spec.padding_hw[i], spec.dilation_hw[i])
                      for i in (0, 1))
        strides = tuple(Fraction(s) for s in spec.stride_hw)
    note = "max pooling: the gradient goes to one cell of each window" if spec.is_max else ""
    return _Step(out, 0, 0, tuple(lines), backs, strides, note)


def _flatten_step(layer: Layer, shape: Shape) -> _Step:
    batched = (1,) + tuple(shape)
    ndim = len(batched)
    start, end = layer["start_dim"], layer["end_dim"]
    start, end = start + ndim if start < 0 else start, end + ndim if end < 0 else end
    if not (0 <= start < ndim and 0 <= end < ndim):
        raise _Refusal(f"Flatten's dims ({layer['start_dim']}, {layer['end_dim']}) are outside the "
                       f"{ndim}-D input (batch included)", "use nn.Flatten()")
    if start == 0:
        raise _Refusal("Flatten(start_dim=0) flattens the batch too", "use nn.Flatten() (start_dim=1)")
    if start > end:
        return _Step(tuple(shape), formula=("nothing to flatten",), backs=(_identity_back, _identity_back))
    merged = math.prod(batched[start:end + 1])
    out = batched[:start] + (merged,) + batched[end + 1:]
    words = f"{shape_text(batched[start:end + 1])} = {merged}" if end > start else f"{merged}"
    return _Step(tuple(out[1:]), formula=(words,), backs=None)


def _linear_step(layer: Layer, shape: Shape, previous: Shape | None, previous_layer: Layer | None) -> _Step:
    n_in, n_out = layer["in_features"], layer["out_features"]
    last = shape[-1]
    params = layer.params
    features = math.prod(shape) if len(shape) > 1 else last
    try:
        fix = f"use {layer.replace(in_features=features).code()}"
    except LayerError:  # more inputs than a Linear may have: no layer to put in its place
        fix = (f"make the maps smaller before it: {features:,} inputs are more than a Linear may have "
               f"({MAX_FEATURES:,})")
    if len(shape) == 1:
        if last != n_in:
            given = f"{last}"
            if previous is not None and len(previous) > 1 and previous_layer is not None and previous_layer.kind == "Flatten":
                given = f"{shape_text(previous)} = {last}"
            raise _Refusal(f"Linear expects {n_in} inputs, the stack gives {given}", fix)
        return _Step((n_out,), params, n_in * n_out, (f"{n_in} inputs → {n_out} outputs",), None)
    if last != n_in:
        raise _Refusal(
            f"Linear acts on the last axis: it expects {n_in} inputs, the stack gives {shape_text(shape)} "
            f"maps whose last axis is {last}",
            f"add nn.Flatten() before it and {fix}" if fix.startswith("use ") else f"add nn.Flatten() and {fix}")
    out = tuple(shape[:-1]) + (n_out,)
    lead = math.prod(shape[:-1])
    return _Step(out, params, lead * n_in * n_out, (f"{n_in} → {n_out} along the last axis, {lead} times",), None,
                 note=f"Linear acts on the last axis only: add nn.Flatten() before it for all {math.prod(shape)} features")


def _batchnorm_step(layer: Layer, shape: Shape, previous: Shape | None) -> _Step:
    c, h, w = _maps(layer, shape, previous)
    n = layer["num_features"]
    if c != n:
        raise _Refusal(f"BatchNorm2d expects {n} channels, the stack gives {c}",
                       f"use {layer.replace(num_features=c).code()}")
    return _Step(tuple(shape), layer.params, c * h * w,
                 (f"(x − running_mean) / √(running_var + {layer['eps']:g}) · weight + bias, over {n} channels",),
                 (_identity_back, _identity_back))


def _step(layer: Layer, shape: Shape, previous: Shape | None, previous_layer: Layer | None) -> _Step:
    if layer.kind in CONV_KINDS:
        return _conv_step(layer, shape, previous)
    if layer.kind in POOL_KINDS:
        return _pool_step(layer, shape, previous)
    if layer.kind == "Flatten":
        return _flatten_step(layer, shape)
    if layer.kind == "Linear":
        return _linear_step(layer, shape, previous, previous_layer)
    if layer.kind == "BatchNorm2d":
        return _batchnorm_step(layer, shape, previous)
    identity = (_identity_back, _identity_back) if len(shape) == 3 else None
    if layer.kind == "Dropout":
        return _Step(tuple(shape), formula=("the identity in eval mode",), backs=identity)
    if layer.kind in ACTIVATION_KINDS:
        return _Step(tuple(shape), formula=("each value on its own: the shape stays",), backs=identity)
    raise _Refusal(f"convplay cannot trace {layer.kind}")


# -- the stack ------------------------------------------------------------------------
def trace(stack: Stack, input_shape) -> StackTrace:
    """Every layer of ``stack`` on an input of ``input_shape`` (C, H, W); never raises.
    Past the first layer that does not fit, rows keep their parameters but no shapes."""
    shape: Shape = tuple(int(v) for v in input_shape)
    rows: list[LayerRow] = []
    backs: list = []
    failed, error = None, ""
    jump = (Fraction(1), Fraction(1))
    flat = len(shape) != 3
    total_params = total_macs = 0
    previous: Shape | None = None
    seen_names: dict[str, Layer] = {}
    for index, layer in enumerate(stack.layers):
        shared = bool(layer.name) and layer.name in seen_names
        if layer.name:
            seen_names.setdefault(layer.name, layer)  # counted once, whether it traces or not
        if failed is not None:
            params = 0 if shared else layer.params
            total_params += params
            rows.append(LayerRow(index, layer, None, None, params, 0, total_params=total_params,
                                 total_macs=total_macs))
            continue
        try:
            step = _step(layer, shape, previous, stack.layers[index - 1] if index else None)
        except _Refusal as refusal:
            failed = index
            label = layer.label if layer.label == layer.kind else f"{layer.label} ({layer.kind})"
            error = f"{label}: {refusal.reason}" + (f": {refusal.fix}" if refusal.fix else "")
            params = 0 if shared else layer.params
            total_params += params
            rows.append(LayerRow(index, layer, shape, None, params, 0, error=refusal.reason, fix=refusal.fix,
                                 total_params=total_params, total_macs=total_macs))
            continue
        params = 0 if shared else step.params
        total_params += params
        total_macs += step.macs
        rf = rf_text = None
        if step.backs is None:
            flat = True
        row_jump = None
        if not flat:
            backs.append(step.backs)
            new_jump = (jump[0] * step.strides[0], jump[1] * step.strides[1])
            rf = _centre_field(backs, step.output)
            rf_text = _rf_formula(layer, rows, jump, rf)
            jump, row_jump = new_jump, new_jump
        else:
            backs.append(None)
        note = step.note
        for view_index, n in stack.fixed_views:
            if view_index == index and len(step.output) == 1 and step.output[0] != n:
                note = _fixed_view_note(n, step.output[0])
        rows.append(LayerRow(index, layer, shape, step.output, params, step.macs, rf, row_jump, step.formula,
                             rf_text or "", note=note, total_params=total_params, total_macs=total_macs))
        previous, shape = shape, step.output
    notes = tuple(stack.notes) + tuple(row.note for row in rows if row.note.startswith("x.view"))
    return StackTrace(stack, tuple(int(v) for v in input_shape), tuple(rows), failed, error, notes, tuple(backs))


def _fixed_view_note(n: int, features: int) -> str:
    batch = math.lcm(n, features) // features
    rows = batch * features // n
    return (f"x.view(-1, {n}) makes rows of {n} from {features} values per image: it fails for a batch of 1, "
            f"and a batch of {batch} runs and returns {rows} rows, mixing images; x.view(x.size(0), -1) or "
            f"nn.Flatten() keeps one row per image")


def _back_through(backs, axis: int, positions, sizes=None) -> np.ndarray:
    """The network-input positions that the output ``positions`` of the last of ``backs``
    read on ``axis``.  With ``sizes`` (each layer's input size on this axis), positions an
    intermediate layer reads in its padding are dropped: they hold no pixel, so nothing
    before them is read.  At the network's input the padding positions are kept."""
    positions = np.asarray(positions, dtype=np.int64)
    for i in range(len(backs) - 1, -1, -1):
        if backs[i] is None:
            continue
        positions = backs[i][axis](positions)
        if sizes is not None and i > 0:
            positions = positions[(positions >= 0) & (positions < sizes[i][axis])]
    return positions


def _centre_field(backs, output: Shape) -> tuple[int, int]:
    """The textbook receptive field: the span, padding included, that the centre output
    pixel reaches back to through every layer's window."""
    sizes = []
    for axis in (0, 1):
        reached = _back_through(backs, axis, [output[1 + axis] // 2])
        sizes.append(int(reached.max() - reached.min() + 1) if reached.size else 0)
    return tuple(sizes)  # type: ignore[return-value]


def _rf_formula(layer: Layer, rows: list[LayerRow], jump, rf) -> str:
    before = next((row.receptive_field for row in reversed(rows) if row.receptive_field is not None), (1, 1))
    if layer.kind == "Conv2d" or layer.kind in ("MaxPool2d", "AvgPool2d"):
        k = pair(layer["kernel_size"])[0]
        d = pair(layer.get("dilation", 1))[0]
        j = jump[0]
        return f"r = {before[0]} + ({k} − 1)·{d}·{_fraction(j)} = {rf[0]}"
    return f"r = {rf[0]}"


def _fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def receptive_box(trace_: StackTrace, layer_index: int, oh: int, ow: int) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right), inclusive, of the input pixels that output pixel (oh, ow)
    of layer ``layer_index`` reads: the first layer's padding positions included (unclipped),
    later layers' padding not (it reads no pixel); the whole input for a layer at or past a
    Flatten; None for a layer without an output, or a pixel that reads only padding."""
    if not 0 <= layer_index < len(trace_.rows) or trace_.rows[layer_index].output_shape is None:
        return None
    if trace_.rows[layer_index].error:
        return None
    backs = trace_._backs[:layer_index + 1]
    _, h, w = trace_.input_shape
    if any(b is None for b in backs):
        return (0, 0, h - 1, w - 1)
    sizes = [row.input_shape[1:] for row in trace_.rows[:layer_index + 1]]
    rows = _back_through(backs, 0, [oh], sizes)
    cols = _back_through(backs, 1, [ow], sizes)
    if not rows.size or not cols.size:
        return None
    return (int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max()))
