"""The output-size formula of a ConvSpec, per axis, with the user's numbers filled in.

``output_size_formula(spec, input_shape)`` gives one ``AxisFormula`` per spatial axis: the
symbolic form, the same form with the numbers, the floor's remainder and the result, or
the reason the size is impossible.  It never raises: a formula panel shows the numbers
even while a value is impossible, and says why.  ``weight_shape_of(spec)`` gives the
weight's shape, or says in words why it has none.

Everything here is plain Unicode text and verdicts (``valid``, ``error``, ``reason``);
how it looks (subscripts, bold, the error's colour) is the view's business.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from convplay.core.spec import ConvSpec, ConvSpecError

MINUS = "−"
_AXES = (("H", "height", "row", ("top", "bottom")), ("W", "width", "column", ("left", "right")))


@dataclass(frozen=True)
class AxisFormula:
    """The output-size formula on one axis.

    ``symbolic`` and ``numeric`` are plain text, e.g.
    ``H_out = ⌊(H_in + 2·p − d·(k−1) − 1) / s⌋ + 1`` and
    ``H_out = ⌊(28 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = 28``.
    ``value`` is what the arithmetic gives (None when a number is unusable); ``result``
    is the output size, None when PyTorch would refuse, and then ``error`` says why and
    ``error_field`` names the ConvSpec field at fault.  ``remainder`` is what the floor
    drops: that many rows (columns) at the end of the padded input are never under the
    kernel, and ``remainder_note`` says so in words.
    """

    axis: str
    symbolic: str
    numeric: str
    value: int | None
    result: int | None
    remainder: int = 0
    remainder_note: str = ""
    error: str = ""
    error_field: str = ""

    @property
    def valid(self) -> bool:
        return self.result is not None

    def text(self) -> str:
        """The numeric line, then the remainder note or the error, one per line."""
        return "\n".join(line for line in (self.numeric, self.remainder_note, self.error) if line)


@dataclass(frozen=True)
class WeightShape:
    """The weight tensor's shape as PyTorch stores it, or why the spec gives none.

    ``layout`` says what each axis counts ("out, in/groups, kH, kW"; transposed
    "in, out/groups, kH, kW").  ``shape`` is None exactly when ``reason`` is set: the
    channels, groups or kernel size cannot make a weight (PyTorch's constructor refuses
    them), said in words, e.g. "3 input channels can't be split into 2 equal groups
    (3 / 2 is not a whole number)".  A shape is never shown with a zero dimension.
    """

    shape: tuple[int, int, int, int] | None
    layout: str
    reason: str = ""

    @property
    def defined(self) -> bool:
        return self.shape is not None

    def text(self) -> str:
        """"(64, 3, 3, 3)", or "undefined: " and the reason."""
        return str(self.shape) if self.shape is not None else f"undefined: {self.reason}"


_WEIGHT_FIELDS = ("in_channels", "out_channels", "groups", "kernel_size")


def weight_shape_of(spec: ConvSpec) -> WeightShape:
    """The weight's shape for ``spec``, or the reason it has none; never raises.

    Only what the weight depends on decides: a stride or padding PyTorch refuses leaves
    the weight's shape defined.
    """
    if not isinstance(spec.transposed, (bool, np.bool_)):
        return WeightShape(None, "out, in/groups, kH, kW", f"transposed must be True or False, not {spec.transposed!r}")
    transposed = bool(spec.transposed)
    layout = "in, out/groups, kH, kW" if transposed else "out, in/groups, kH, kW"
    weight_only = ConvSpec(**{field: getattr(spec, field) for field in _WEIGHT_FIELDS}, transposed=transposed)
    try:
        weight_only.validate()
    except ConvSpecError as refused:
        return WeightShape(None, layout, _undivided(weight_only) or str(refused))
    return WeightShape(weight_only.weight_shape, layout)


def _undivided(spec: ConvSpec) -> str:
    """The plain-words reason when groups does not divide a channel count, else ''."""
    counts = (("input", spec.in_channels), ("output", spec.out_channels))
    groups = spec.groups
    if not all(isinstance(_axis_int(v, 0), int) and not isinstance(v, (tuple, list)) and v >= 1
               for v in (spec.in_channels, spec.out_channels, groups)):
        return ""
    for name, n in counts:
        if n % groups:
            return (f"{n} {name} channel{'s' if n != 1 else ''} can't be split into {groups} equal groups "
                    f"({n} / {groups} is not a whole number)")
    return ""


def output_size_formula(spec: ConvSpec, input_shape) -> list[AxisFormula]:
    """[H formula, W formula] for ``spec`` applied to a (C, H, W) input; never raises."""
    sizes = _input_sizes(input_shape)
    return [_axis_formula(spec, input_shape, i, sizes) for i in range(2)]


@dataclass(frozen=True)
class FormulaNote:
    """A line under an axis's formula: ``kind`` "remainder" (what the floor drops) or
    "error" (why PyTorch refuses)."""

    kind: str
    text: str


def shown_formula(spec: ConvSpec, input_shape) -> list[tuple[AxisFormula, tuple[FormulaNote, ...]]]:
    """What the formula panel shows, per axis: the formula and the notes under it, each
    note once (a refusal about the whole spec is reported on both axes: it shows under
    the first); never raises."""
    shown, seen = [], set()
    for axis in output_size_formula(spec, input_shape):
        notes = [FormulaNote(kind, text) for kind, text in
                 (("remainder", axis.remainder_note), ("error", axis.error)) if text]
        fresh = tuple(n for n in notes if n not in seen)
        seen.update(fresh)
        shown.append((axis, fresh))
    return shown


def formula_lines(spec: ConvSpec, input_shape) -> list[str]:
    """The formula panel's lines as plain text: per axis the formula in symbols, with the
    numbers, then its notes; never raises."""
    lines = []
    for axis, notes in shown_formula(spec, input_shape):
        lines += [axis.symbolic, axis.numeric, *(n.text for n in notes)]
    return lines


# -- building one axis --------------------------------------------------------------

def _axis_formula(spec: ConvSpec, input_shape, i: int, sizes: tuple) -> AxisFormula:
    size = sizes[i]
    letter, name, unit, (before, after) = _AXES[i]
    k, s, d = (_axis_int(getattr(spec, f), i) for f in ("kernel_size", "stride", "dilation"))
    error, field = _axis_error(spec, input_shape, i, sizes)
    if spec.transposed is True:
        p = _axis_int(spec.padding, i)
        op = _axis_int(spec.output_padding, i)
        symbolic = (f"{letter}_out = ({letter}_in{MINUS}1)·s {MINUS} 2·p + d·(k{MINUS}1) "
                    f"+ output_padding + 1")
        numbers = (f"({_num(size)}{MINUS}1)·{_num(s)} {MINUS} 2·{_num(p)} + "
                   f"{_num(d)}·({_num(k)}{MINUS}1) + {_num(op)} + 1")
        value = None
        if _known(size, s, p, d, k, op):
            value = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        remainder = 0
    else:
        pad_before, pad_after, split = _conv_pads(spec, i)
        if split:
            pads_sym = f"pad_{before} + pad_{after}"
            pads_num = f"{_num(pad_before)} + {_num(pad_after)}"
        else:
            pads_sym, pads_num = "2·p", f"2·{_num(pad_before)}"
        symbolic = f"{letter}_out = ⌊({letter}_in + {pads_sym} {MINUS} d·(k{MINUS}1) {MINUS} 1) / s⌋ + 1"
        numbers = (f"⌊({_num(size)} + {pads_num} {MINUS} {_num(d)}·({_num(k)}{MINUS}1) "
                   f"{MINUS} 1) / {_num(s)}⌋ + 1")
        value, remainder = None, 0
        if _known(size, pad_before, pad_after, d, k, s) and s > 0:
            numerator = size + pad_before + pad_after - d * (k - 1) - 1
            value = numerator // s + 1
            remainder = numerator % s if numerator >= 0 else 0
    shown = "?" if value is None else _num(value)
    result = value if not error else None
    numeric = f"{letter}_out = {numbers} = {shown}" + ("" if result is not None else " ✗")
    note = _remainder_note(remainder, unit, pad_after) if result is not None and remainder else ""
    return AxisFormula(axis=letter, symbolic=symbolic, numeric=numeric, value=value,
                       result=result, remainder=remainder, remainder_note=note,
                       error=error, error_field=field)


def _conv_pads(spec: ConvSpec, i: int):
    """(before, after, shown as two terms?) with '?' for what can't be read."""
    padding = spec.padding if isinstance(spec.padding, str) else None
    if padding == "same":
        k, d = _axis_int(spec.kernel_size, i), _axis_int(spec.dilation, i)
        if not _known(k, d):
            return "?", "?", True
        total = d * (k - 1)
        return total // 2, total - total // 2, True
    if padding == "valid":
        return 0, 0, False
    p = _axis_int(spec.padding, i)
    return p, p, False


def _axis_error(spec: ConvSpec, input_shape, i: int, sizes) -> tuple[str, str]:
    """The reason this axis's size is impossible, with the field; ('', '') when it is fine.

    A refusal caused by the other axis alone is not reported here; one that concerns the
    whole spec (channels, groups, padding mode, the input's shape) shows on both axes.
    """
    try:
        spec.output_shape(input_shape)
        return "", ""
    except ConvSpecError as whole:
        overall = whole
    try:
        spec.axis_output_size(i, sizes[i])
    except ConvSpecError as own:
        # a malformed input is better told as a whole than axis by axis
        chosen = overall if own.field == "input" else own
        return str(chosen), chosen.field
    # this axis is fine on its own: the refusal is the other axis's, unless it is about
    # the input as a whole (its shape or channel count)
    if overall.field == "input":
        return str(overall), overall.field
    return "", ""


def _remainder_note(remainder: int, unit: str, pad_after) -> str:
    units = f"{unit} of the padded input is" if remainder == 1 else f"{unit}s of the padded input are"
    real = remainder - pad_after if isinstance(pad_after, int) else 0
    if real <= 0:
        which = "only padding: no input is lost"
    elif real == remainder:
        which = "real input, never used"
    else:
        which = f"{real} of them real input, never used"
    return (f"the floor drops a remainder of {remainder}: the last {remainder} {units} "
            f"never under the kernel ({which})")


# -- numbers and rendering ------------------------------------------------------------

def _input_sizes(input_shape) -> tuple:
    if isinstance(input_shape, (tuple, list)) and len(input_shape) == 3:
        return tuple(_axis_int(v, 0) for v in input_shape[1:])
    return (None, None)


def _axis_int(value, i: int) -> int | None:
    """The int this value gives axis i, or None when it is not a usable number."""
    if isinstance(value, (tuple, list)):
        value = value[i] if len(value) == 2 else None
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return None


def _known(*values) -> bool:
    return all(isinstance(v, int) for v in values)


def _num(value) -> str:
    if not isinstance(value, int):
        return "?"
    return f"({MINUS}{-value})" if value < 0 else str(value)


# -- the layer's sizes and costs, as the formula panel lists them below the formula -----

SHORT_FROM = 1000  # counts from here on also show as "≈ 1.2 k"
NBSP = "\u00a0"


@dataclass(frozen=True)
class Span:
    """A piece of a row's text; ``style`` says how a view marks it: "" plain, "strong"
    (the number that matters), "muted" (a side note), "error" (why there is none)."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class CountRow:
    """One labelled row of the panel's table: one or more lines, each a run of spans."""

    label: str
    lines: tuple[tuple[Span, ...], ...]

    def text_lines(self) -> list[str]:
        return ["".join(span.text for span in line) for line in self.lines]


def _row(label: str, *lines) -> CountRow:
    return CountRow(label, tuple(tuple(Span(*s) if isinstance(s, tuple) else Span(s) for s in line) for line in lines))


def count_rows(spec: ConvSpec, input_shape, true_convolution: bool = False) -> list[CountRow]:
    """The table under the formula: weight shape, parameters beside a fully connected
    layer's, multiply-adds, receptive field, and a warning for a flipped kernel; "—" where
    a value is undefined.  Never raises."""
    weight = weight_shape_of(spec)
    layout = (f"{NBSP}{NBSP}", (f"({weight.layout})", "muted"))
    if weight.shape is None:
        rows = [_row("weight shape", [("undefined", "error"), f": {weight.reason}", *layout])]
    else:
        rows = [_row("weight shape", [str(weight.shape), *layout])]
    try:
        out_shape = spec.output_shape(input_shape)
    except ConvSpecError:
        out_shape = None
    try:
        params = spec.param_count()
    except ConvSpecError:
        rows.append(_row("parameters", ["—"]))
    else:
        detail = "·".join(str(v) for v in spec.weight_shape) + " weights"
        if spec.bias:
            detail += _biases(spec.out_channels)
        rows.append(_row("parameters", [(_thousands(params), "strong"), f" = {detail}"]))
        if out_shape is not None:
            c, h, w = input_shape
            # A fully connected layer beside it: every input value wired to each of out_channels neurons.
            fc = spec.fc_param_count(input_shape, out_features=spec.out_channels)
            fc_all = spec.fc_param_count(input_shape)
            rows.append(_row(
                "fully connected",
                [f"{_thousands(fc)} = {h}·{w}·{c}·{spec.out_channels} weights"
                 f"{_biases(spec.out_channels) if spec.bias else ''}{_times_more(fc, params)}"],
                [(f"{_thousands(fc_all)} to give the whole {'×'.join(map(str, out_shape))} output"
                  f"{_times_more(fc_all, params)}", "muted")],
            ))
    if out_shape is None:
        rows.append(_row("multiply-adds", ["—"]))
    else:
        macs = spec.macs(input_shape)
        short = f" ({_short(macs)})" if macs >= SHORT_FROM else ""
        rows.append(_row("multiply-adds", [(_thousands(macs), "strong"), f" for one image{short}"]))
    try:
        rh, rw = spec.receptive_field
    except ConvSpecError:
        rows.append(_row("receptive field", ["—"]))
    else:
        rows.append(_row("receptive field", [(f"{rh} × {rw}", "strong"), " input pixels per output pixel"]))
    if true_convolution:
        rows.append(_row("kernel", [("flipped: true convolution, not what nn.Conv2d computes (cross-correlation)",
                                     "error")]))
    return rows


def _biases(n: int) -> str:
    """" + 1 bias", " + 3 biases": one bias per output neuron or channel."""
    return f" + {n} bias" + ("es" if n != 1 else "")


def table_lines(spec: ConvSpec, input_shape, true_convolution: bool = False) -> list[str]:
    """The table as plain text, "label: line" for each of a row's lines."""
    return [f"{row.label}: {line}".replace(NBSP, " ")
            for row in count_rows(spec, input_shape, true_convolution) for line in row.text_lines()]


def _thousands(n: int) -> str:
    return f"{n:,}"


def _times_more(big: int, small: int) -> str:
    if small <= 0:
        return ""
    ratio = big / small
    return f" ({ratio:,.0f}× more)" if ratio >= 10 else f" ({ratio:.1f}× more)"


def _short(n: int) -> str:
    """``n`` (at least 1000) in k, M, G or T, three significant digits."""
    size, unit = next((size, unit) for size, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
                      if n >= size)
    return f"≈ {n / size:.3g} {unit}"
