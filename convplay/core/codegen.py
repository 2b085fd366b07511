"""The PyTorch code that computes what convplay shows, as text a user can copy and run.

Two equivalent forms are written: the layer (``nn.Conv2d`` / ``nn.ConvTranspose2d``) with
exactly the user's arguments, and the function that layer calls (``F.conv2d`` /
``F.conv_transpose2d``, with the ``F.pad`` a non-zeros ``padding_mode`` implies).  Small
kernels and inputs are written as tensor literals whose numbers round-trip exactly
(``repr`` of each float); larger ones are loaded from .npy files listed in
``GeneratedCode.arrays`` so a view can save them beside the code.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from convplay.core import border_names
from convplay.core.kernel_io import exact_text
from convplay.core.spec import ConvSpec, ConvSpecError

# Above these sizes a literal would bury the code; the values go to .npy files instead.
MAX_LITERAL_KERNEL = 5  # per spatial axis of one filter
MAX_LITERAL_FILTERS = 16  # (out_channels * in_channels/groups) 2-D filters
MAX_LITERAL_IMAGE = 10  # per spatial axis of the input
MAX_LITERAL_IMAGE_CHANNELS = 3

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class GeneratedCode:
    """``text`` is the program; ``arrays`` maps each .npy file name it loads to the values."""

    text: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    error: str = ""  # PyTorch's refusal in plain words, when the settings are impossible


def pytorch_code(
    spec: ConvSpec,
    image: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    *,
    true_convolution: bool = False,
    dtype: str = "float32",
) -> GeneratedCode:
    """Code that builds the input, kernel and bias and convolves them as convplay does.

    ``image`` is (C, H, W); ``weight`` has ``spec.weight_shape``; ``bias`` is None when the
    layer has none.  The program leaves the layer's output in ``y`` and the functional
    output in ``y_f``, both of shape (1, C_out, H_out, W_out).  For settings PyTorch
    refuses, the code builds the layer and a random input and ends with the call that
    raises, so the user can see PyTorch's own message.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, not {dtype!r}")
    image = np.asarray(image, dtype=np.float64)
    try:
        out_shape = spec.output_shape(image.shape)
    except ConvSpecError as err:
        return _refused_code(spec, image.shape, str(err), dtype)
    weight, bias = _checked_layer(spec, weight, bias)

    arrays: dict[str, np.ndarray] = {}
    lines = [_HEADER, *(_imports(needs_numpy=not _image_is_small(image) or not _kernel_is_small(weight)))]
    lines += ["", *_input_lines(image, dtype, arrays)]
    lines += ["", *_kernel_lines(spec, weight, bias, dtype, arrays)]
    if true_convolution:
        lines += [
            "",
            "# True convolution: flip the kernel in both spatial axes.  PyTorch's conv2d computes",
            "# cross-correlation (no flip); convplay shows this flipped result only when asked.",
            "weight = torch.flip(weight, dims=(2, 3))",
        ]
    lines += ["", *_layer_lines(spec, bias is not None, dtype)]
    lines += ["", *_functional_lines(spec, bias is not None)]
    lines += [
        "",
        f"print(tuple(y.shape))  # {(1, *out_shape)}",
        "print((y - y_f).abs().max().item())  # 0.0: the layer is this function call",
    ]
    return GeneratedCode("\n".join(lines) + "\n", arrays)


_HEADER = "# The convolution shown in convplay, in PyTorch."


def _imports(needs_numpy: bool) -> list[str]:
    return [
        *(["import numpy as np"] if needs_numpy else []),
        "import torch",
        "import torch.nn as nn",
        "import torch.nn.functional as F",
    ]


def _refused_code(spec: ConvSpec, image_shape: tuple[int, ...], message: str, dtype: str) -> GeneratedCode:
    c, h, w = image_shape
    lines = [
        _HEADER,
        *_imports(needs_numpy=False),
        "",
        f"# PyTorch refuses these settings: {message}",
        *_layer_constructor(spec, dtype),
        f"x = torch.randn(1, {c}, {h}, {w}{_dtype_kwarg(dtype)})",
        "y = conv(x)",
    ]
    return GeneratedCode("\n".join(lines) + "\n", {}, message)


# -- the input ---------------------------------------------------------------------------
def _image_is_small(image: np.ndarray) -> bool:
    c, h, w = image.shape
    return c <= MAX_LITERAL_IMAGE_CHANNELS and h <= MAX_LITERAL_IMAGE and w <= MAX_LITERAL_IMAGE


def _input_lines(image: np.ndarray, dtype: str, arrays: dict[str, np.ndarray]) -> list[str]:
    c, h, w = image.shape
    head = f"# The input: a batch of one image, shape (1, C, H, W) = {(1, c, h, w)}."
    if _image_is_small(image):
        return [head, *_literal_assignment("x", image[None], dtype)]
    arrays["input.npy"] = image
    return [
        head,
        "# input.npy holds convplay's input image, (C, H, W); the Formula panel's",
        "# 'Save .npy files' button writes it next to this code.",
        f"x = {_load_npy('input.npy', dtype)}.unsqueeze(0)",
        f"# or try random values: x = torch.randn(1, {c}, {h}, {w}{_dtype_kwarg(dtype)})",
    ]


# -- the kernel and bias -----------------------------------------------------------------
def _kernel_is_small(weight: np.ndarray) -> bool:
    o, i, kh, kw = weight.shape
    return kh <= MAX_LITERAL_KERNEL and kw <= MAX_LITERAL_KERNEL and o * i <= MAX_LITERAL_FILTERS


def _kernel_lines(
    spec: ConvSpec, weight: np.ndarray, bias: np.ndarray | None, dtype: str, arrays: dict[str, np.ndarray]
) -> list[str]:
    layout = "(in_channels, out_channels // groups, kH, kW)" if spec.transposed else (
        "(out_channels, in_channels // groups, kH, kW)"
    )
    lines = [f"# The kernel, shape {layout} = {weight.shape}."]
    if _kernel_is_small(weight):
        lines += _literal_assignment("weight", weight, dtype)
        if bias is not None:
            lines += ["# One bias per output channel."]
            lines += _literal_assignment("bias", bias, dtype)
        return lines
    arrays["weight.npy"] = weight
    lines += [
        "# weight.npy (and bias.npy) hold convplay's kernel; the Formula panel's",
        "# 'Save .npy files' button writes them next to this code.",
        f"weight = {_load_npy('weight.npy', dtype)}",
    ]
    if bias is not None:
        arrays["bias.npy"] = bias
        lines += [f"bias = {_load_npy('bias.npy', dtype)}"]
    return lines


def _load_npy(name: str, dtype: str) -> str:
    return f'torch.from_numpy(np.load("{name}", allow_pickle=False)).to(torch.{dtype})'


def _literal_assignment(name: str, values: np.ndarray, dtype: str) -> list[str]:
    """``name = torch.tensor(...)``: one line for a short vector, else the nested lists one
    row per line, aligned, under an indented opening line (as black lays out a call)."""
    one_line = f"{name} = torch.tensor({nested_literal(values, dtype)}, dtype=torch.{dtype})"
    if values.ndim <= 1 and len(one_line) <= 88:
        return [one_line]
    prefix = "    "
    body = nested_literal(values, dtype, indent=len(prefix))
    return [f"{name} = torch.tensor(", prefix + body + ",", f"    dtype=torch.{dtype},", ")"]


def _number(v: float, dtype: str = "float64") -> str:
    """A Python expression for ``v`` that PyTorch reads, as ``dtype``, to exactly ``v`` in
    that dtype: the shortest such decimal (float32's 0.1 is '0.1')."""
    return exact_text(v, dtype if dtype in ("float16", "float32", "float64") else "float64")


def _aligned(cells: list[str]) -> list[str]:
    """Numbers of one grid padded to one width, decimal points in one column (as numpy
    prints an array); exponents and non-finite values right-aligned to that width."""
    plain = ["." in c and "e" not in c and "(" not in c for c in cells]
    parts = [c.split(".") if ok else None for c, ok in zip(cells, plain)]
    whole = max((len(p[0]) for p in parts if p), default=0)
    frac = max((len(p[1]) for p in parts if p), default=0)
    out = [p[0].rjust(whole) + "." + p[1].ljust(frac) if p else c for c, p in zip(cells, parts)]
    width = max((len(c) for c in out), default=0)
    return [c.ljust(width) if ok else c.rjust(width) for c, ok in zip(out, plain)]


def nested_literal(values: np.ndarray, dtype: str = "float64", indent: int = 0) -> str:
    """numpy-style nested lists of ``values``: in a grid one row per line, numbers aligned on
    their decimal points, inner brackets indented under their parents, a blank line between
    matrices (two between filters), as ``print(array)`` shows them."""
    values = np.asarray(values, dtype=np.float64)
    cells = [_number(v, dtype) for v in values.ravel().tolist()]
    if values.ndim >= 2:
        cells = _aligned(cells)

    def render(shape: tuple[int, ...], start: int, column: int) -> tuple[str, int]:
        if len(shape) == 0:
            return cells[start], start + 1
        if len(shape) == 1:
            n = shape[0]
            return "[" + ", ".join(cells[start:start + n]) + "]", start + n
        parts = []
        for _ in range(shape[0]):
            text, start = render(shape[1:], start, column + 1)
            parts.append(text)
        gap = "\n" * (len(shape) - 2)
        return "[" + (",\n" + gap + " " * (column + 1)).join(parts) + "]", start

    return render(values.shape, 0, indent)[0]


# -- Edit > Copy kernel as PyTorch ------------------------------------------------------
def kernel_snippet(
    spec: ConvSpec,
    weight: np.ndarray,
    bias: np.ndarray | None,
    *,
    dtype: str = "float32",
    true_convolution: bool = False,
) -> str:
    """The kernel (and bias) as ``torch.tensor`` literals in ``dtype`` (the dtype PyTorch
    receives: each number the shortest decimal that reads back to the same value), then the
    layer it belongs to with the kernel copied in.  Pasted into Python it runs as it is."""
    if dtype not in ("float16", "float32", "float64"):
        dtype = "float32"  # bfloat16 and the like: numpy cannot print them; float32 holds them exactly
    weight = np.asarray(weight, dtype=np.float64)
    layout = "(in_channels, out_channels // groups, kH, kW)" if spec.transposed else (
        "(out_channels, in_channels // groups, kH, kW)"
    )
    lines = [
        "import torch",
        "import torch.nn as nn",
        "",
        f"# The kernel from convplay, shape {layout} = {tuple(weight.shape)}, {dtype}.",
        *_literal_assignment("weight", weight, dtype),
    ]
    if bias is not None:
        lines += ["# One bias per output channel.", *_literal_assignment("bias", np.ravel(bias), dtype)]
    if true_convolution:
        lines += [
            "# True convolution is on: PyTorch's conv2d is cross-correlation, so the layer gets",
            "# the kernel flipped in both spatial axes.",
            "weight = torch.flip(weight, dims=(2, 3))",
        ]
    try:
        fits = spec.weight_shape == weight.shape
        spec.validate()
    except ConvSpecError as err:
        fits, reason = False, str(err)
    else:
        reason = "" if fits else f"the layer's weight would be {spec.weight_shape}"
    if not fits:
        lines += ["", f"# No layer: PyTorch refuses these settings ({reason})."]
        return "\n".join(lines) + "\n"
    layer_dtype = dtype if dtype in DTYPES else "float32"
    lines += [
        "",
        "# The layer it belongs to, with this kernel in it.",
        *_layer_constructor(spec, layer_dtype),
        "with torch.no_grad():",
        "    conv.weight.copy_(weight)",
        *(["    conv.bias.copy_(bias)"] if bias is not None and spec.bias else []),
    ]
    return "\n".join(lines) + "\n"


# -- the two forms of the op -------------------------------------------------------------
def _arg(value) -> str:
    """The user's argument as they would type it: an int, a pair or a string."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return repr(tuple(int(v) for v in value))
    return repr(int(value))


def _dtype_kwarg(dtype: str) -> str:
    return "" if dtype == "float32" else f", dtype=torch.{dtype}"


def _call(target: str, function: str, args: list[str], width: int = 88) -> list[str]:
    """``target = function(args)`` on one line if it fits, else one indented block."""
    one_line = f"{target} = {function}({', '.join(args)})"
    if len(one_line) <= width:
        return [one_line]
    lines, current = [], ""
    for arg in args:
        piece = arg + ","
        if current and len(current) + 1 + len(piece) > width - 4:
            lines.append("    " + current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    lines.append("    " + current)
    return [f"{target} = {function}(", *lines, ")"]


def _layer_constructor(spec: ConvSpec, dtype: str) -> list[str]:
    args = [
        f"in_channels={spec.in_channels}",
        f"out_channels={spec.out_channels}",
        f"kernel_size={_arg(spec.kernel_size)}",
        f"stride={_arg(spec.stride)}",
        f"padding={_arg(spec.padding)}",
    ]
    if spec.transposed:
        args.append(f"output_padding={_arg(spec.output_padding)}")
    args += [
        f"dilation={_arg(spec.dilation)}",
        f"groups={spec.groups}",
        f"bias={spec.bias}",
        f"padding_mode={spec.padding_mode!r}",
    ]
    if dtype != "float32":
        args.append(f"dtype=torch.{dtype}")
    return _call("conv", "nn.ConvTranspose2d" if spec.transposed else "nn.Conv2d", args)


def _layer_lines(spec: ConvSpec, has_bias: bool, dtype: str) -> list[str]:
    name = "nn.ConvTranspose2d" if spec.transposed else "nn.Conv2d"
    return [
        f"# 1. As a layer: {name} with these arguments.",
        *_layer_constructor(spec, dtype),
        "with torch.no_grad():",
        "    conv.weight.copy_(weight)",
        *(["    conv.bias.copy_(bias)"] if has_bias else []),
        "    y = conv(x)",
    ]


def _functional_lines(spec: ConvSpec, has_bias: bool) -> list[str]:
    b = "bias" if has_bias else "None"
    common = [f"dilation={_arg(spec.dilation)}", f"groups={spec.groups}"]
    if spec.transposed:
        args = [
            "x", "weight", b, f"stride={_arg(spec.stride)}", f"padding={_arg(spec.padding)}",
            f"output_padding={_arg(spec.output_padding)}", *common,
        ]
        return ["# 2. As the function the layer calls.", *_call("y_f", "F.conv_transpose2d", args)]
    if spec.padding_mode == "zeros":
        args = ["x", "weight", b, f"stride={_arg(spec.stride)}", f"padding={_arg(spec.padding)}", *common]
        return ["# 2. As the function the layer calls.", *_call("y_f", "F.conv2d", args)]
    top, bottom, left, right = spec.pads()
    args = ["x_padded", "weight", b, f"stride={_arg(spec.stride)}", "padding=0", *common]
    return [
        f"# 2. As the functions the layer calls: padding_mode={spec.padding_mode!r} pads the",
        "#    input first (F.pad takes (left, right, top, bottom)), then convolves unpadded.",
        f"x_padded = F.pad(x, {(left, right, top, bottom)}, mode={spec.padding_mode!r})",
        *_call("y_f", "F.conv2d", args),
    ]


# -- the same filtering in OpenCV and scipy ---------------------------------------------
LIBRARIES = {"pytorch": "PyTorch", "opencv": "OpenCV", "scipy": "scipy"}


def library_code(
    library: str,
    spec: ConvSpec,
    image: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    *,
    true_convolution: bool = False,
) -> GeneratedCode:
    """The convolution convplay shows, as code for ``library`` (a key of LIBRARIES).

    For OpenCV (``cv2.filter2D``) and scipy (``scipy.ndimage.correlate``) the program is
    numpy: ``x`` (C, H, W) and the kernel as float32 arrays, one 2-D correlation per
    (output, input) channel pair summed as nn.Conv2d sums them, PyTorch's padding rebuilt
    from the library's own border and anchor (or padded by hand where the library's cannot
    give it), stride and dilation applied exactly; it leaves ``y`` of shape
    (C_out, H_out, W_out), PyTorch's output without the batch axis.  Where no faithful
    translation exists (a transposed convolution, settings PyTorch refuses) the code says
    so in comments and computes nothing.
    """
    if library == "pytorch":
        return pytorch_code(spec, image, weight, bias, true_convolution=true_convolution)
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {tuple(LIBRARIES)}, not {library!r}")
    image = np.asarray(image, dtype=np.float64)
    header = _LIBRARY_HEADERS[library]
    try:
        out_shape = spec.output_shape(image.shape)
    except ConvSpecError as err:
        return GeneratedCode(
            f"{header}\n\n# PyTorch refuses these settings, so there is nothing to translate:\n"
            f"# {err}\n", {}, str(err))
    if spec.transposed:
        return GeneratedCode(f"{header}\n\n{_NO_TRANSPOSED[library]}")
    weight, bias = _checked_layer(spec, weight, bias)

    arrays: dict[str, np.ndarray] = {}
    imports = ["import numpy as np", "import cv2" if library == "opencv" else "from scipy import ndimage"]
    lines = [header, _LIBRARY_INTRO[library], *imports, ""]
    lines += _np_input_lines(image, arrays)
    lines += ["", *_np_kernel_lines(spec, weight, bias, arrays)]
    if true_convolution:
        lines += [
            "",
            "# True convolution: flip the kernel in both spatial axes (convplay shows this flipped",
            "# result only when asked; PyTorch's conv2d itself does not flip).",
            "weight = np.ascontiguousarray(weight[:, :, ::-1, ::-1])",
        ]
    (dh, dw) = spec.dilation_hw
    if (dh, dw) != (1, 1):
        kh, kw = spec.kernel_hw
        fh, fw = spec.dilated_kernel_hw
        lines += [
            "",
            *_comment(f"dilation {_arg(spec.dilation)}: the same {kh}×{kw} taps spread apart with zeros "
                      f"between them, a {fh}×{fw} kernel that the library takes as an ordinary one."),
            f"dilated = np.zeros(weight.shape[:2] + ({fh}, {fw}), dtype=np.float32)",
            f"dilated[:, :, ::{dh}, ::{dw}] = weight",
            "weight = dilated",
        ]
    plan = _plan(spec, image.shape, out_shape, library)
    lines += ["", *(_opencv_lines if library == "opencv" else _scipy_lines)(spec, plan, bias is not None, out_shape)]
    lines += ["", f"print(y.shape)  # {out_shape}: PyTorch's output without its batch axis"]
    return GeneratedCode("\n".join(lines) + "\n", arrays)


_LIBRARY_HEADERS = {
    "opencv": "# The convolution shown in convplay, with OpenCV's cv2.filter2D.",
    "scipy": "# The convolution shown in convplay, with scipy.ndimage.correlate.",
}
_LIBRARY_INTRO = {
    "opencv": "# filter2D computes cross-correlation (no kernel flip), as nn.Conv2d does, on one 2-D\n"
              "# channel at a time: the loop sums over the input channels as the layer does.",
    "scipy": "# correlate computes cross-correlation (no kernel flip), as nn.Conv2d does; on one 2-D\n"
             "# channel at a time here, the loop summing over the input channels as the layer does.",
}
_NO_TRANSPOSED = {
    "opencv": "# A transposed convolution (nn.ConvTranspose2d) has no faithful cv2.filter2D form:\n"
              "# filter2D keeps the input's size, while a transposed convolution stamps the kernel\n"
              "# from every input pixel into a larger output.  Switch the code to PyTorch, or turn\n"
              "# 'transposed' off for a filter2D translation.\n",
    "scipy": "# A transposed convolution (nn.ConvTranspose2d) has no faithful scipy.ndimage.correlate\n"
             "# form: correlate keeps the input's size, while a transposed convolution stamps the\n"
             "# kernel from every input pixel into a larger output.  Switch the code to PyTorch, or\n"
             "# turn 'transposed' off for a correlate translation.\n",
}


@dataclass(frozen=True)
class _AxisPlan:
    """How one axis of PyTorch's output is read out of a same-size library result."""

    before: int  # PyTorch's padding before the input
    after: int
    footprint: int  # the (dilated) kernel's extent
    stride: int
    out: int  # PyTorch's output size
    anchor: int  # the kernel tap placed on the output pixel (0..footprint-1)
    start: int  # PyTorch's output index i is the library's start + stride * i

    @property
    def stop(self) -> int:
        return self.start + self.stride * (self.out - 1) + 1


@dataclass(frozen=True)
class _Plan:
    by_hand: bool  # pad the input first, then keep the fully covered ("valid") part
    rows: _AxisPlan
    cols: _AxisPlan
    size: tuple[int, int]  # the input's (H, W)


def _plan(spec: ConvSpec, input_shape: tuple[int, ...], out_shape: tuple[int, int, int], library: str) -> _Plan:
    """Where to anchor the kernel and what to keep, per axis.

    The library's result has the input's size n and, with the kernel's tap ``a`` on the
    output pixel, its index j reads the input from j - a on.  PyTorch's output i reads from
    s·i - before, so i is the library's j = s·i + a - before: possible for every i when
    before ≤ a ≤ footprint - 1 and the last j, s·(out - 1) + a - before, is < n.  The anchor
    is the kernel's centre (both libraries' default) when that works, else the nearest tap
    that does; when none does (the output is larger than the input), the input is padded
    by hand first; so is it for OpenCV's BORDER_WRAP, which filter2D refuses.
    """
    top, bottom, left, right = spec.pads()
    sizes = input_shape[1:]
    axes = []
    for n, before, after, k, s, out in zip(sizes, (top, left), (bottom, right), spec.dilated_kernel_hw,
                                           spec.stride_hw, out_shape[1:]):
        low, high = before, min(k - 1, n - 1 - s * (out - 1) + before)
        axes.append((n, before, after, k, s, out, low, high))
    wrap_refused = library == "opencv" and spec.padding_mode == "circular" and any(spec.pads())
    if all(low <= high for *_, low, high in axes) and not wrap_refused:
        plans = [
            _AxisPlan(before, after, k, s, out, a := min(max(k // 2, low), high), a - before)
            for n, before, after, k, s, out, low, high in axes
        ]
        return _Plan(False, *plans, tuple(sizes))
    # By hand: the padded input, the anchor on the kernel's first tap, so the library's j
    # reads the padded input from j on and PyTorch's i is j = s·i.
    plans = [_AxisPlan(before, after, k, s, out, 0, 0) for n, before, after, k, s, out, *_ in axes]
    return _Plan(True, *plans, tuple(sizes))


def _slice(axis: _AxisPlan) -> str:
    return f"slice({axis.start}, {axis.stop}, {axis.stride})"


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, 86, break_on_hyphens=False)]


def _index(axis: _AxisPlan, letter: str) -> str:
    step = letter if axis.stride == 1 else f"{axis.stride}·{letter}"
    return step if axis.start == 0 else f"{axis.start} + {step}"


def _every(step: int, what: str) -> str:
    if step == 1:
        return f"every {what}"
    suffix = "th" if 10 <= step % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(step % 10, "th")
    return f"every {step}{suffix} {what}"


def _readout_comment(spec: ConvSpec, plan: _Plan, result: str) -> list[str]:
    r, c = plan.rows, plan.cols

    def plural(k: int, word: str) -> str:
        return f"{k} {word}{'s' if k != 1 else ''}"

    if not any(spec.pads()):
        pads = "PyTorch pads nothing"
    else:
        pads = (f"PyTorch pads {plural(r.before, 'row')} before and {r.after} after, "
                f"{plural(c.before, 'column')} before and {c.after} after")
    whole = plan.rows.start == 0 and plan.cols.start == 0 and spec.stride_hw == (1, 1)
    if plan.by_hand:
        where = (f"{result} has the padded input's size, and PyTorch's output is its part where the whole "
                 "kernel lies on the padded input: ")
        where += (f"its first {plural(r.out, 'row')} and {plural(c.out, 'column')}." if whole else
                  f"output row i is its row {_index(r, 'i')}, column j its column {_index(c, 'j')}.")
    elif whole and (r.out, c.out) == plan.size:
        where = f"{result} has the input's size, and with this anchor it is PyTorch's output as it is."
    else:
        where = (f"{result} has the input's size, and with this anchor PyTorch's output row i is its row "
                 f"{_index(r, 'i')}, column j its column {_index(c, 'j')}.")
    lines = _comment(f"{pads}; {where}")
    if spec.stride_hw != (1, 1):
        lines += _comment(f"stride {_arg(spec.stride)}: the slices' steps keep {_every(r.stride, 'row')} and "
                          f"{_every(c.stride, 'column')} of the stride-1 result, the numbers PyTorch computes.")
    return lines


def _anchor_reason(plan: _Plan, centred: str, default: str) -> str:
    """Why the anchor is where it is, for the comment above it."""
    r, c = plan.rows, plan.cols
    if plan.by_hand:
        return "the kernel's first (top-left) tap, for the fully covered part of the padded input."
    if (r.anchor, c.anchor) == (r.footprint // 2, c.footprint // 2):
        return centred + "."
    uneven = " (PyTorch pads an even kernel's 'same' one less before than after)" if (
        r.before != r.after or c.before != c.after) else ""
    return (f"{default} (column {c.footprint // 2}, row {r.footprint // 2}), would not give all of "
            f"PyTorch's output{uneven}; the nearest tap that does is column {c.anchor}, row {r.anchor}.")


def _channel_loop(spec: ConvSpec, source: str, call: list[str], has_bias: bool,
                  out_shape: tuple[int, int, int]) -> list[str]:
    lines = [
        f"y = np.zeros({out_shape}, dtype=np.float32)",
        f"groups = {spec.groups}",
        "out_per_group, in_per_group = weight.shape[0] // groups, weight.shape[1]",
        "for o in range(weight.shape[0]):  # each output channel",
        "    g = o // out_per_group  # its group of input channels",
        "    for i in range(in_per_group):",
        f"        channel = {source}[g * in_per_group + i]",
        *("        " + line for line in call),
        "        y[o] += result[rows, cols]",
    ]
    if has_bias:
        lines.append("    y[o] += bias[o]")
    return lines


def _hand_padding_lines(spec: ConvSpec, plan: _Plan, library: str) -> list[str]:
    b = border_names.border(spec.padding_mode)
    r, c = plan.rows, plan.cols
    if library == "opencv":
        why = ("filter2D refuses BORDER_WRAP (padding_mode 'circular'), so" if spec.padding_mode == "circular"
               else "The output is larger than the input, so")
        value = ", value=0" if b.opencv == "BORDER_CONSTANT" else ""
        return [
            *_comment(f"{why} pad the input first, as PyTorch does, with cv2.copyMakeBorder(top, bottom, "
                      f"left, right, {b.opencv}{value}):"),
            "padded = np.stack([",
            f"    cv2.copyMakeBorder(channel, {r.before}, {r.after}, {c.before}, {c.after}, cv2.{b.opencv}{value})",
            "    for channel in x",
            "])",
        ]
    return [
        *_comment(f"The output is larger than the input, so pad the input first, as PyTorch does "
                  f"(NumPy's '{b.numpy}' is padding_mode {spec.padding_mode!r}):"),
        f"padded = np.pad(x, ((0, 0), ({r.before}, {r.after}), ({c.before}, {c.after})), mode={b.numpy!r})",
    ]


def _opencv_lines(spec: ConvSpec, plan: _Plan, has_bias: bool, out_shape: tuple[int, int, int]) -> list[str]:
    r, c = plan.rows, plan.cols
    if plan.by_hand:
        lines = _hand_padding_lines(spec, plan, "opencv")
        lines.append("border = cv2.BORDER_CONSTANT  # only the fully covered part is kept: the border never counts")
        source = "padded"
    elif spec.padding_mode == "circular":  # padding 0: filter2D's refusal of BORDER_WRAP does not matter
        lines = ["border = cv2.BORDER_CONSTANT  # no padding: the border never counts (filter2D refuses BORDER_WRAP)"]
        source = "x"
    else:
        b = border_names.border(spec.padding_mode)
        note = {"zeros": "  # zeros past the edge: filter2D's constant border is 0",
                "reflect": "  # OpenCV's default border, PyTorch's 'reflect'",
                "replicate": "  # the edge pixel repeated"}[spec.padding_mode]
        lines = [f"border = cv2.{b.opencv}{note}"]
        source = "x"
    lines += _comment("anchor is (x, y), column then row: " + _anchor_reason(
        plan, "the kernel's centre (kW // 2, kH // 2), OpenCV's default", "OpenCV's default, the centre"))
    lines += [f"anchor = ({c.anchor}, {r.anchor})"]
    lines += _readout_comment(spec, plan, "filter2D's result")
    lines += [f"rows, cols = {_slice(r)}, {_slice(c)}", ""]
    lines += ["# ddepth cv2.CV_32F: a float32 result, as PyTorch's (-1, the input's depth, says the same)."]
    call = [
        "result = cv2.filter2D(channel, cv2.CV_32F, weight[o, i], anchor=anchor,",
        "                       borderType=border)",
    ]
    return lines + _channel_loop(spec, source, call, has_bias, out_shape)


def _scipy_lines(spec: ConvSpec, plan: _Plan, has_bias: bool, out_shape: tuple[int, int, int]) -> list[str]:
    r, c = plan.rows, plan.cols
    if plan.by_hand:
        lines = _hand_padding_lines(spec, plan, "scipy")
        lines.append("mode = 'constant'  # only the fully covered part is kept: the border never counts")
        source = "padded"
    else:
        mode = border_names.border(spec.padding_mode).scipy
        note = {"zeros": "  # zeros past the edge (cval=0)",
                "reflect": "  # PyTorch's 'reflect' (scipy's own 'reflect' repeats the edge pixel)",
                "replicate": "  # the edge pixel repeated", "circular": "  # wraps around"}[spec.padding_mode]
        lines = [f"mode = {mode!r}{note}"]
        source = "x"
    lines += _comment("origin moves the anchor from the kernel's centre, index k // 2 (of an even kernel's "
                      "two middle taps the later), to k // 2 + origin: " + _anchor_reason(
                          plan, "here the centre itself, scipy's default", "scipy's default, the centre"))
    lines += [f"origin = {(r.anchor - r.footprint // 2, c.anchor - c.footprint // 2)}"]
    lines += _readout_comment(spec, plan, "correlate's result")
    lines += [f"rows, cols = {_slice(r)}, {_slice(c)}", ""]
    call = ["result = ndimage.correlate(channel, weight[o, i], mode=mode, cval=0.0, origin=origin)"]
    return lines + _channel_loop(spec, source, call, has_bias, out_shape)


def _np_input_lines(image: np.ndarray, arrays: dict[str, np.ndarray]) -> list[str]:
    c, h, w = image.shape
    head = f"# The input, shape (C, H, W) = {(c, h, w)}."
    if _image_is_small(image):
        return [head, *_np_literal("x", image)]
    arrays["input.npy"] = image
    return [
        head,
        "# input.npy holds convplay's input image; the Formula panel's 'Save .npy files'",
        "# button writes it next to this code.",
        'x = np.load("input.npy", allow_pickle=False).astype(np.float32)',
        f"# or try random values: x = np.random.rand({c}, {h}, {w}).astype(np.float32)",
    ]


def _np_kernel_lines(spec: ConvSpec, weight: np.ndarray, bias: np.ndarray | None,
                     arrays: dict[str, np.ndarray]) -> list[str]:
    lines = [f"# The kernel, shape (out_channels, in_channels // groups, kH, kW) = {weight.shape}."]
    if _kernel_is_small(weight):
        lines += _np_literal("weight", weight)
        if bias is not None:
            lines += ["# One bias per output channel.", *_np_literal("bias", bias)]
        return lines
    arrays["weight.npy"] = weight
    lines += [
        "# weight.npy (and bias.npy) hold convplay's kernel; the Formula panel's",
        "# 'Save .npy files' button writes them next to this code.",
        'weight = np.load("weight.npy", allow_pickle=False).astype(np.float32)',
    ]
    if bias is not None:
        arrays["bias.npy"] = bias
        lines += ['bias = np.load("bias.npy", allow_pickle=False).astype(np.float32)']
    return lines


def _np_literal(name: str, values: np.ndarray) -> list[str]:
    one_line = f"{name} = np.array({nested_literal(values, 'float32')}, dtype=np.float32)"
    if values.ndim <= 1 and len(one_line) <= 88:
        return [one_line]
    prefix = "    "
    body = nested_literal(values, "float32", indent=len(prefix))
    return [f"{name} = np.array(", prefix + body + ",", "    dtype=np.float32,", ")"]


def _checked_layer(spec: ConvSpec, weight, bias) -> tuple[np.ndarray, np.ndarray | None]:
    """The weight (of the spec's weight shape, else ValueError) and bias as float64."""
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != spec.weight_shape:
        raise ValueError(f"weight shape {weight.shape} does not match the spec's {spec.weight_shape}")
    return weight, None if bias is None else np.asarray(bias, dtype=np.float64).ravel()
