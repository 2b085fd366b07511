"""What the layer-stack panel does to a stack, as values: a new layer fitted to the shape
where it goes, insert / remove / move / replace, the fix a trace proposes as a layer, the
parameter and multiply-accumulate counts written out, and the module name a layer's
weights have.  No Qt: the panel only shows these.
"""

from __future__ import annotations

import math
import re

from convplay.core.layer_trace import LayerRow, StackTrace, shape_text
from convplay.core.layers import (
    ACTIVATION_KINDS,
    CONV_KINDS,
    KINDS,
    POOL_KINDS,
    Layer,
    LayerError,
    Stack,
    pair,
)

# The Add layer menu's groups, in the order a network usually has them.
KIND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Convolution", CONV_KINDS),
    ("Pooling", POOL_KINDS),
    ("Activation", ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU")),
    ("Normalisation and dropout", ("BatchNorm2d", "Dropout")),
    ("To a vector", ("Flatten", "Linear")),
)

# New layers with weights get a name, so that their weights keep their key when other
# layers are added or moved around them (an unnamed layer is named by its index).
_NAME_PREFIX = {"Conv2d": "conv", "ConvTranspose2d": "deconv", "Linear": "fc", "BatchNorm2d": "bn"}

_FIX_CODE = re.compile(r"^use (nn\.[A-Za-z0-9_]+\(.*\))$")
_FIX_INSERT = re.compile(r"^add (nn\.[A-Za-z0-9_]+\([^()]*\)) before it and use (nn\.[A-Za-z0-9_]+\(.*\))$")


def shape_before(trace_: StackTrace, position: int):
    """The shape a layer inserted at ``position`` (0 = first) receives: the output of the
    layer before it, or the stack's input; None past a failure."""
    if position <= 0 or not trace_.rows:
        return tuple(trace_.input_shape)
    row = trace_.rows[min(position, len(trace_.rows)) - 1]
    return None if row.output_shape is None or row.error else tuple(row.output_shape)


def pasted_input_shape(stack: Stack, current) -> tuple[int, int, int]:
    """The input shape a pasted stack gets: its own when the code said it; else the channels
    its first layer fixes (Conv2d's in_channels, BatchNorm2d's num_features) with the rows
    and columns of ``current``; for a Linear first, 1×1×in_features (the trace applies a
    Linear to the last axis, and on 1×1×F that is all F features) unless ``current``
    already ends in F; else ``current``.  Activations and Dropout before it change no shape
    and are looked past."""
    c, h, w = (int(v) for v in current)
    if stack.input_shape is not None:
        return tuple(int(v) for v in stack.input_shape)
    for layer in stack.layers:
        if layer.kind in ACTIVATION_KINDS or layer.kind == "Dropout":
            continue
        if layer.kind in CONV_KINDS:
            return (int(layer["in_channels"]), h, w)
        if layer.kind == "BatchNorm2d":
            return (int(layer["num_features"]), h, w)
        if layer.kind == "Linear":
            features = int(layer["in_features"])
            return (c, h, w) if w == features else (1, 1, features)
        break
    return (c, h, w)


def fitted_layer(kind: str, shape, name: str = "") -> Layer:
    """A new ``kind`` layer with arguments that fit an input of ``shape`` (C, H, W) or (F,)
    (None: unknown, small defaults): Conv2d(C, C, 3, padding=1), BatchNorm2d(C),
    Linear(F, 10), MaxPool2d(2)..."""
    maps = shape is not None and len(shape) == 3
    c = int(shape[0]) if maps else 1
    features = int(shape[-1]) if shape else 10
    h, w = (int(shape[1]), int(shape[2])) if maps else (8, 8)
    window = 2 if min(h, w) >= 2 else 1
    if kind == "Conv2d":
        return Layer.make("Conv2d", c, c, 3, padding=1, name=name)
    if kind == "ConvTranspose2d":
        return Layer.make("ConvTranspose2d", c, c, 2, stride=2, name=name)
    if kind in ("MaxPool2d", "AvgPool2d"):
        return Layer.make(kind, window, name=name)
    if kind in ("AdaptiveMaxPool2d", "AdaptiveAvgPool2d"):
        return Layer.make(kind, 1, name=name)
    if kind == "BatchNorm2d":
        return Layer.make("BatchNorm2d", c, name=name)
    if kind == "Linear":
        return Layer.make("Linear", max(1, min(features, 1_000_000)), 10, name=name)
    return Layer.make(kind, name=name)


def fresh_name(stack: Stack, kind: str) -> str:
    """A name for a new ``kind`` layer that no layer has ("conv3"), or "" for a kind without
    weights and for a stack whose layers are all unnamed (an nn.Sequential's numbering)."""
    prefix = _NAME_PREFIX.get(kind)
    names = {layer.name for layer in stack.layers}
    if prefix is None or not any(n and not n.isdigit() for n in names):
        return ""
    n = 1
    while f"{prefix}{n}" in names:
        n += 1
    return f"{prefix}{n}"


def inserted(layers, position: int, layer: Layer) -> tuple[Layer, ...]:
    layers = list(layers)
    layers.insert(max(0, min(position, len(layers))), layer)
    return tuple(layers)


def removed(layers, index: int) -> tuple[Layer, ...]:
    layers = list(layers)
    if 0 <= index < len(layers):
        del layers[index]
    return tuple(layers)


def moved(layers, index: int, step: int) -> tuple[Layer, ...]:
    """The layers with ``index`` moved ``step`` places (−1 up, +1 down); unchanged at an end."""
    layers = list(layers)
    target = index + step
    if 0 <= index < len(layers) and 0 <= target < len(layers):
        layers[index], layers[target] = layers[target], layers[index]
    return tuple(layers)


def replaced(layers, index: int, layer: Layer) -> tuple[Layer, ...]:
    """The layers with ``index`` replaced by ``layer``.  A layer whose name others share is
    one module used several times, so every use of it is replaced (with the new name)."""
    layers = list(layers)
    if not 0 <= index < len(layers):
        return tuple(layers)
    old = layers[index].name
    for i, other in enumerate(layers):
        if i == index or (old and other.name == old):
            layers[i] = Layer(layer.kind, layer.args, layer.name)
    return tuple(layers)


def uses(stack: Stack, index: int) -> int:
    """How many layers of the stack are the module at ``index`` (1 for an unnamed one)."""
    name = stack.layers[index].name
    return sum(1 for layer in stack.layers if layer.name == name) if name else 1


def fix_code(row: LayerRow | None) -> str:
    """The replacement layer's code when the trace's fix is one ("use nn.Linear(800, 10)"),
    else ""."""
    if row is None or not row.fix:
        return ""
    match = _FIX_CODE.match(row.fix.strip())
    return match.group(1) if match else ""


def fixed_layers(trace_: StackTrace) -> tuple[tuple[Layer, ...], str] | None:
    """The stack's layers with the trace's fix applied, and what was done in words, when the
    fix is layers ("use nn.Linear(800, 10)": that layer in place of the failing one, its name
    kept; "add nn.Flatten() before it and use nn.Linear(512, 10)": both); None otherwise."""
    if trace_.failed is None:
        return None
    row = trace_.rows[trace_.failed]
    layers = trace_.stack.layers
    fix = row.fix.strip()
    try:
        code = fix_code(row)
        if code:
            return replaced(layers, row.index, layer_from_code(code, row.layer.name)), f"{row.layer.label} is now {code}"
        match = _FIX_INSERT.match(fix)
        if match:
            before, code = layer_from_code(match.group(1)), layer_from_code(match.group(2), row.layer.name)
            return (inserted(replaced(layers, row.index, code), row.index, before),
                    f"{match.group(1)} added before {row.layer.label}, which is now {match.group(2)}")
    except LayerError:
        return None
    return None


def layer_from_code(code: str, name: str = "") -> Layer:
    """The one layer ``code`` ("nn.Conv2d(1, 8, 3)") builds, named ``name``; read by the
    stack parser (never run).  Raises LayerError with the parser's reason."""
    from convplay.core.stack_parse import StackParseError, parse_stack

    text = code.strip()
    if not text:
        raise LayerError("type a layer, e.g. nn.Conv2d(1, 8, 3)", "code")
    if "\n" in text:
        raise LayerError("one layer on one line, e.g. nn.Conv2d(1, 8, 3)", "code")
    try:
        stack = parse_stack(f"nn.Sequential({text})")
    except StackParseError as exc:
        raise LayerError(exc.message, "code") from None
    except (LayerError, ValueError) as exc:
        raise LayerError(str(exc), "code") from None
    if len(stack.layers) != 1:
        raise LayerError(f"that is {len(stack.layers)} layers: type one, e.g. nn.Conv2d(1, 8, 3)", "code")
    layer = stack.layers[0]
    return Layer(layer.kind, layer.args, name)


def module_path(stack: Stack, index: int) -> str:
    """The name the layer's module has in the torch model, as compute.stack registers it:
    its own name, else its index (as in an nn.Sequential)."""
    layer = stack.layers[index]
    if layer.name:
        return layer.name
    named = {other.name for other in stack.layers if other.name}
    return str(index) if str(index) not in named else f"_{index}"


def params_formula(row: LayerRow) -> str:
    """The parameter count written out: "8·16·3·3 + 16 = 1,168"."""
    layer = row.layer
    if layer.kind in CONV_KINDS:
        kh, kw = pair(layer["kernel_size"])
        c_in, c_out, g = layer["in_channels"], layer["out_channels"], layer["groups"]
        # PyTorch's weight shapes: (out, in/groups, kh, kw), transposed (in, out/groups, kh, kw).
        per = f"{c_in}·{c_out // g}" if layer.kind == "ConvTranspose2d" else f"{c_out}·{c_in // g}"
        text = f"weight {per}·{kh}·{kw}"
        bias = f" + bias {c_out}" if layer["bias"] else ""
        return f"{text}{bias} = {row.params:,}"
    if layer.kind == "Linear":
        bias = f" + bias {layer['out_features']}" if layer["bias"] else ""
        return f"weight {layer['out_features']}·{layer['in_features']}{bias} = {row.params:,}"
    if layer.kind == "BatchNorm2d":
        if not layer["affine"]:
            return "no learned parameters (affine=False); running mean and variance are buffers"
        n = layer["num_features"]
        return f"weight {n} + bias {n} = {row.params:,} (running mean and variance are buffers)"
    return "no parameters"


def macs_formula(row: LayerRow) -> str:
    """The multiply-accumulates written out (one per weight per output value)."""
    layer, out = row.layer, row.output_shape
    if out is None or row.error:
        return "not computed: the layer does not run"
    if layer.kind == "Conv2d":
        kh, kw = pair(layer["kernel_size"])
        per = layer["in_channels"] // layer["groups"]
        return f"{shape_text(out)} outputs × {per}·{kh}·{kw} weights each = {row.macs:,}"
    if layer.kind == "ConvTranspose2d" and row.input_shape is not None:
        kh, kw = pair(layer["kernel_size"])
        per = layer["out_channels"] // layer["groups"]
        return f"{shape_text(row.input_shape)} inputs × {per}·{kh}·{kw} weights each = {row.macs:,}"
    if layer.kind == "Linear":
        lead = math.prod(out[:-1]) if len(out) > 1 else 1
        times = f" × {lead}" if lead > 1 else ""
        return f"{layer['in_features']}·{layer['out_features']}{times} = {row.macs:,}"
    if layer.kind == "BatchNorm2d":
        return f"one per value (scale and shift folded): {shape_text(out)} = {row.macs:,}"
    return "no multiply-accumulates with weights"


def describe_kind(kind: str) -> str:
    """The argument names of ``kind`` in PyTorch's order ("in_channels, out_channels, ...")."""
    return ", ".join(arg.name for arg in KINDS.get(kind, ()))
