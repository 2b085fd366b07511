"""The PyTorch code that computes what convplay shows, as text a user can copy and run.

Two equivalent forms are written: the layer (``nn.Conv2d`` / ``nn.ConvTranspose2d``) with
exactly the user's arguments, and the function that layer calls (``F.conv2d`` /
``F.conv_transpose2d``, with the ``F.pad`` a non-zeros ``padding_mode`` implies).  Small
kernels and inputs are written as tensor literals whose numbers round-trip exactly
(``repr`` of each float); larger ones are loaded from .npy files listed in
``GeneratedCode.arrays`` so a view can save them beside the code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    weight = np.asarray(weight, dtype=np.float64)
    if weight.shape != spec.weight_shape:
        raise ValueError(f"weight shape {weight.shape} does not match the spec's {spec.weight_shape}")
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64).ravel()

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
