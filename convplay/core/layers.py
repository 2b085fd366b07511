"""The layers a stack can hold, with PyTorch's own constructor arguments.

A ``Layer`` is a value: its kind ("Conv2d", "MaxPool2d", ...), every constructor argument
by PyTorch's name with the defaults filled in (so two layers built from different but
equivalent calls are equal), and the name it has in its model ("conv1", "0"). ``make``
takes the arguments as a call would (positional in PyTorch's order, then keywords) and
refuses, as the constructor would, what PyTorch refuses; it also refuses sizes no
playground can hold (a huge Linear), so that nothing downstream allocates them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sizes past these are refused before anything is built (PyTorch would try to allocate).
MAX_CHANNELS = 4096
MAX_FEATURES = 1_000_000
MAX_KERNEL = 64
MAX_STEP = 64  # stride, padding, dilation, output_padding
MAX_LAYERS = 200

REQUIRED = object()  # marks an argument with no default


class LayerError(ValueError):
    """A layer PyTorch would not build, or convplay cannot hold; ``field`` names the argument."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Arg:
    name: str
    kind: str  # int, size (int or pair), conv_padding, float, bool, choice, optional_int, output_size
    default: object = REQUIRED
    choices: tuple = ()
    low: float | None = None  # for numbers: the smallest value allowed
    high: float | None = None
    keyword_only: bool = False  # after PyTorch's device and dtype: never given by position


def _a(name, kind, default=REQUIRED, choices=(), low=None, high=None, keyword_only=False) -> Arg:
    return Arg(name, kind, default, tuple(choices), low, high, keyword_only)


_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# PyTorch's constructor signatures, positional order kept.
KINDS: dict[str, tuple[Arg, ...]] = {
    "Conv2d": (
        _a("in_channels", "int", low=1, high=MAX_CHANNELS), _a("out_channels", "int", low=1, high=MAX_CHANNELS),
        _a("kernel_size", "size", low=1, high=MAX_KERNEL), _a("stride", "size", 1, low=1, high=MAX_STEP),
        _a("padding", "conv_padding", 0, low=0, high=MAX_STEP), _a("dilation", "size", 1, low=1, high=MAX_STEP),
        _a("groups", "int", 1, low=1, high=MAX_CHANNELS), _a("bias", "bool", True),
        _a("padding_mode", "choice", "zeros", _PADDING_MODES),
    ),
    "ConvTranspose2d": (
        _a("in_channels", "int", low=1, high=MAX_CHANNELS), _a("out_channels", "int", low=1, high=MAX_CHANNELS),
        _a("kernel_size", "size", low=1, high=MAX_KERNEL), _a("stride", "size", 1, low=1, high=MAX_STEP),
        _a("padding", "size", 0, low=0, high=MAX_STEP), _a("output_padding", "size", 0, low=0, high=MAX_STEP),
        _a("groups", "int", 1, low=1, high=MAX_CHANNELS), _a("bias", "bool", True),
        _a("dilation", "size", 1, low=1, high=MAX_STEP), _a("padding_mode", "choice", "zeros", ("zeros",)),
    ),
    "MaxPool2d": (
        _a("kernel_size", "size", low=1, high=MAX_KERNEL), _a("stride", "optional_size", None, low=1, high=MAX_STEP),
        _a("padding", "size", 0, low=0, high=MAX_STEP), _a("dilation", "size", 1, low=1, high=MAX_STEP),
        _a("return_indices", "bool", False), _a("ceil_mode", "bool", False),
    ),
    "AvgPool2d": (
        _a("kernel_size", "size", low=1, high=MAX_KERNEL), _a("stride", "optional_size", None, low=1, high=MAX_STEP),
        _a("padding", "size", 0, low=0, high=MAX_STEP), _a("ceil_mode", "bool", False),
        _a("count_include_pad", "bool", True), _a("divisor_override", "optional_int", None, low=1, high=10_000),
    ),
    "AdaptiveMaxPool2d": (_a("output_size", "output_size", low=1, high=4096), _a("return_indices", "bool", False)),
    "AdaptiveAvgPool2d": (_a("output_size", "output_size", low=1, high=4096),),
    "ReLU": (_a("inplace", "bool", False),),
    "LeakyReLU": (_a("negative_slope", "float", 0.01, low=-1e6, high=1e6), _a("inplace", "bool", False)),
    "Sigmoid": (),
    "Tanh": (),
    "GELU": (_a("approximate", "choice", "none", ("none", "tanh")),),
    "BatchNorm2d": (
        _a("num_features", "int", low=1, high=MAX_CHANNELS), _a("eps", "float", 1e-5, low=0.0, high=1e6),
        _a("momentum", "optional_float", 0.1, low=0.0, high=1.0), _a("affine", "bool", True),
        _a("track_running_stats", "bool", True), _a("bias", "bool", True, keyword_only=True),
    ),
    "Dropout": (_a("p", "float", 0.5, low=0.0, high=1.0), _a("inplace", "bool", False)),
    "Flatten": (_a("start_dim", "int", 1, low=-4, high=3), _a("end_dim", "int", -1, low=-4, high=3)),
    "Linear": (
        _a("in_features", "int", low=1, high=MAX_FEATURES), _a("out_features", "int", low=1, high=MAX_FEATURES),
        _a("bias", "bool", True),
    ),
}

CONV_KINDS = ("Conv2d", "ConvTranspose2d")
POOL_KINDS = ("MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool2d")
ACTIVATION_KINDS = ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU")
# What each kind is for, one line (the Add layer menu's tooltips).
DESCRIPTIONS = {
    "Conv2d": "a 2-D convolution: out_channels kernels slide over the input",
    "ConvTranspose2d": "a transposed convolution: each input pixel stamps the kernel, upsampling",
    "MaxPool2d": "the largest value of each window",
    "AvgPool2d": "the mean of each window",
    "AdaptiveMaxPool2d": "max pooling to a fixed output size, with windows of uneven size",
    "AdaptiveAvgPool2d": "average pooling to a fixed output size, with windows of uneven size",
    "ReLU": "max(0, x), each value on its own",
    "LeakyReLU": "x, or negative_slope·x below 0",
    "Sigmoid": "1 / (1 + e^−x), squashing to (0, 1)",
    "Tanh": "tanh x, squashing to (−1, 1)",
    "GELU": "x·Φ(x), the Gaussian error linear unit",
    "BatchNorm2d": "(x − running_mean) / √(running_var + eps) · weight + bias, per channel (eval mode)",
    "Dropout": "the identity in eval mode (training zeroes a share p of the values)",
    "Flatten": "the C×H×W maps as one vector",
    "Linear": "every input feature times every output's weight, plus a bias",
}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _in_range(arg: Arg, value, kind: str, where: str) -> None:
    low, high = arg.low, arg.high
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and value < low and high is not None and value > high / 100:
            span = f"from {_show(low)} to {_show(high)}"
        elif low is not None and value < low:
            span = f"at least {_show(low)}"
        else:
            span = f"at most {_show(high)}"
        raise LayerError(f"{kind}: {where} must be {span}, got {_show(value)}", arg.name)


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if abs(value) >= 1 else repr(value)
    return repr(value) if isinstance(value, str) else str(value)


def _checked(kind: str, arg: Arg, value):
    """``value`` in its normal form for the argument (pairs as tuples), or LayerError."""
    name = arg.name
    if arg.kind == "bool":
        if not isinstance(value, bool):
            raise LayerError(f"{kind}: {name} must be True or False, got {_show(value)}", name)
        return value
    if arg.kind == "int":
        if not _is_int(value):
            raise LayerError(f"{kind}: {name} must be a whole number, got {_show(value)}", name)
        _in_range(arg, value, kind, name)
        return value
    if arg.kind in ("float", "optional_float"):
        if value is None and arg.kind == "optional_float":
            return None
        if not _number(value) or value != value or value in (float("inf"), float("-inf")):
            raise LayerError(f"{kind}: {name} must be a finite number, got {_show(value)}", name)
        _in_range(arg, value, kind, name)
        return float(value)
    if arg.kind == "choice":
        if value not in arg.choices:
            options = ", ".join(repr(c) for c in arg.choices)
            raise LayerError(f"{kind}: {name} must be one of {options}, got {_show(value)}", name)
        return value
    if arg.kind == "optional_int":
        if value is None:
            return None
        if not _is_int(value):
            raise LayerError(f"{kind}: {name} must be a whole number or None, got {_show(value)}", name)
        _in_range(arg, value, kind, name)
        return value
    if arg.kind == "conv_padding" and isinstance(value, str):
        if value not in ("same", "valid"):
            raise LayerError(f"{kind}: padding must be a number, a pair, 'same' or 'valid', got {value!r}", name)
        return value
    if arg.kind == "optional_size" and value is None:
        return None
    allow_none = arg.kind == "output_size"
    if _is_int(value):
        _in_range(arg, value, kind, name)
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        _is_int(v) or (allow_none and v is None) for v in value
    ):
        for v in value:
            if v is not None:
                _in_range(arg, v, kind, name)
        return tuple(value)
    extra = ", or None for the input's size" if allow_none else ""
    raise LayerError(f"{kind}: {name} must be a whole number or a pair (h, w) of them{extra}, got {_show(value)}", name)


@dataclass(frozen=True)
class Layer:
    kind: str
    args: tuple[tuple[str, object], ...]
    name: str = ""

    @classmethod
    def make(cls, kind: str, *args, name: str = "", **kwargs) -> "Layer":
        """The layer ``nn.<kind>(*args, **kwargs)`` would build, or LayerError with its reason."""
        if kind not in KINDS:
            raise LayerError(f"nn.{kind} is not a layer convplay knows; it knows {', '.join(KINDS)}", "kind")
        signature = KINDS[kind]
        positional = [arg for arg in signature if not arg.keyword_only]
        if len(args) > len(positional):
            raise LayerError(
                f"nn.{kind} takes at most {len(positional)} positional argument{'s' if len(positional) != 1 else ''}, "
                f"got {len(args)}", "")
        given: dict[str, object] = {}
        for arg, value in zip(positional, args):
            given[arg.name] = value
        names = [arg.name for arg in signature]
        for key, value in kwargs.items():
            if key not in names:
                known = ", ".join(names) or "none"
                raise LayerError(f"nn.{kind} has no argument {key!r} (its arguments: {known})", key)
            if key in given:
                raise LayerError(f"nn.{kind} got {key} twice", key)
            given[key] = value
        values = []
        for arg in signature:
            if arg.name not in given:
                if arg.default is REQUIRED:
                    raise LayerError(f"nn.{kind} needs {arg.name}", arg.name)
                values.append((arg.name, arg.default))
            else:
                values.append((arg.name, _checked(kind, arg, given[arg.name])))
        layer = cls(kind, tuple(values), name)
        layer._check_combination()
        return layer

    def _check_combination(self) -> None:
        """What the constructor refuses across arguments."""
        if self.kind in CONV_KINDS:
            c_in, c_out, groups = self["in_channels"], self["out_channels"], self["groups"]
            if c_in % groups:
                raise LayerError(f"{self.kind}: in_channels must be divisible by groups ({c_in} by {groups})", "groups")
            if c_out % groups:
                raise LayerError(f"{self.kind}: out_channels must be divisible by groups ({c_out} by {groups})", "groups")
            if self.kind == "Conv2d" and self["padding"] == "same" and _pair(self["stride"]) != (1, 1):
                raise LayerError("Conv2d: padding='same' is not supported for strided convolutions", "padding")
        # Pooling's padding limit is checked when the layer runs, as PyTorch checks it
        # (core.pooling), not here: nn.MaxPool2d(3, padding=2) builds.

    def __getitem__(self, name: str):
        for key, value in self.args:
            if key == name:
                return value
        raise KeyError(name)

    def get(self, name: str, default=None):
        try:
            return self[name]
        except KeyError:
            return default

    @property
    def label(self) -> str:
        """The name in the model, else the kind ("conv1", "MaxPool2d")."""
        return self.name or self.kind

    def replace(self, name: str | None = None, **changes) -> "Layer":
        """The layer with some arguments changed, checked again."""
        kwargs = dict(self.args)
        kwargs.update(changes)
        return Layer.make(self.kind, name=self.name if name is None else name, **kwargs)

    @property
    def params(self) -> int:
        """The learnable parameters ``nn.<kind>(...)`` holds (buffers not counted)."""
        if self.kind in CONV_KINDS:
            kh, kw = _pair(self["kernel_size"])
            weight = self["in_channels"] * (self["out_channels"] // self["groups"]) * kh * kw
            return weight + (self["out_channels"] if self["bias"] else 0)
        if self.kind == "Linear":
            return self["in_features"] * self["out_features"] + (self["out_features"] if self["bias"] else 0)
        if self.kind == "BatchNorm2d" and self["affine"]:
            return self["num_features"] * (2 if self["bias"] else 1)
        return 0

    def code(self) -> str:
        """The shortest ``nn.X(...)`` call that builds it: required arguments positional, the
        others only where they differ from PyTorch's default."""
        parts = []
        for arg, (key, value) in zip(KINDS[self.kind], self.args):
            if arg.default is REQUIRED:
                parts.append(_code_value(value))
            elif value != arg.default:
                parts.append(f"{key}={_code_value(value)}")
        return f"nn.{self.kind}({', '.join(parts)})"


def _code_value(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_code_value(v) for v in value) + ")"
    if isinstance(value, float):
        return repr(value)
    return repr(value)


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, tuple) else (value, value)


def pair(value) -> tuple:
    """An int-or-pair argument as (h, w)."""
    return _pair(value)


@dataclass(frozen=True)
class Stack:
    """An ordered list of layers, with where it came from: ``title`` ("the digits CNN"),
    ``input_shape`` (C, H, W) its inputs have (None: whatever the input is), ``source`` the
    code it was parsed from ("" when it was built in the panel), ``notes``: what the parser
    noticed without refusing, and ``fixed_views``: (layer index, n) for each Flatten that
    the code wrote as ``x.view(-1, n)``, a flatten whose row length is fixed, so a wrong n
    can silently mix batch items.  Layers that share a name are one module used twice
    (seed 004's ``self.pool``), as in the model's ``forward``."""

    layers: tuple[Layer, ...] = ()
    title: str = ""
    input_shape: tuple[int, int, int] | None = None
    source: str = ""
    notes: tuple[str, ...] = ()
    fixed_views: tuple[tuple[int, int], ...] = ()

    def __post_init__(self):
        if len(self.layers) > MAX_LAYERS:
            raise LayerError(f"a stack holds at most {MAX_LAYERS} layers, this one has {len(self.layers)}", "layers")

    def __len__(self) -> int:
        return len(self.layers)

    def code(self) -> str:
        """The stack as ``nn.Sequential(...)`` text that parses back to the same layers."""
        if not self.layers:
            return "nn.Sequential()"
        lines = ",\n".join(f"    {layer.code()}" for layer in self.layers)
        return f"nn.Sequential(\n{lines},\n)"

    def with_layers(self, layers) -> "Stack":
        """The same stack with other layers (an edit in the panel: the code it came from and
        what was noticed in it no longer apply)."""
        return Stack(tuple(layers), self.title, self.input_shape)
