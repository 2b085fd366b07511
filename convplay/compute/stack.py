"""A layer stack as a real torch module: built, initialised, loaded, shape-checked, run, and
differentiated for the effective receptive field.

One torch module per distinct layer name, registered under that name (dotted names nest),
so ``state_dict()`` has the keys PyTorch code that defines the same model would have and a
state_dict saved from that code loads by name.  Layers that share a name are one module
used twice (``self.pool`` called after each conv); an unnamed layer is named by its index,
as in an ``nn.Sequential``.

Sizes are refused before anything is allocated: a stack over ``MAX_PARAMETERS`` is never
built, and a run whose activations (every layer's output is kept) would pass
``MAX_ACTIVATION_BYTES`` never starts.  Shapes are checked by torch itself: each layer
that is small enough on a real batch of one on the CPU (the meta device let some refusals
through, words others its own way, and takes a second to start), a larger one on the
``meta`` device, which allocates nothing.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from convplay.compute.checkpoints import (
    _head,
    _looks_like_safetensors,
    safetensors_tensors,
    torch_file_tensors,
)
from convplay.compute.devices import ComputeError, check_device
from convplay.core.kernel_io import KernelFileError, npz_tensors
from convplay.core.layer_trace import trace
from convplay.core.layers import ACTIVATION_KINDS, Layer, Stack, pair

MAX_PARAMETERS = 50_000_000
MAX_ACTIVATION_BYTES = 512 * 2**20
# A file of weights larger than this is not read (the parameter limit, with room for buffers).
MAX_FILE_VALUES = 64 * 2**20
# A layer is tried on a real batch of one (for the CPU's error text) only while it is this small.
_MAX_TRY_VALUES = 16 * 2**20

TORCH_FILE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin")
WEIGHT_FILE_SUFFIXES = (*TORCH_FILE_SUFFIXES, ".safetensors", ".npz")

# Segments a checkpoint puts before a model's own names: DataParallel's "module.", a
# Lightning or training-loop dict's "state_dict." / "model." / "model_state_dict.", and
# torch.compile's "_orig_mod.".
_PREFIX_WORDS = ("module", "model", "state_dict", "model_state_dict", "net", "_orig_mod")


class StackError(ValueError):
    """A stack that cannot be built or run as asked; the message says why, in words."""


# -- sizes, from the layers' arguments alone ------------------------------------------------------


def parameter_count(stack: Stack) -> int:
    """The parameters of the stack, a module used twice counted once."""
    return sum(layer.params for layer in _plan(stack).modules.values())


def _too_many_parameters(stack: Stack) -> str:
    n = parameter_count(stack)
    if n > MAX_PARAMETERS:
        return (f"the stack has {n:,} parameters, more than the {MAX_PARAMETERS:,} convplay builds: "
                "make its largest layers smaller")
    return ""


# -- naming: which module each layer is ----------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    paths: tuple[str, ...]  # the module name of each layer, in stack order
    modules: dict[str, Layer]  # each distinct name once, in first-use order


def _plan(stack: Stack) -> _Plan:
    named = {layer.name for layer in stack.layers if layer.name}
    paths: list[str] = []
    modules: dict[str, Layer] = {}
    for index, layer in enumerate(stack.layers):
        path = layer.name or (str(index) if str(index) not in named else f"_{index}")
        first = modules.setdefault(path, layer)
        if (first.kind, first.args) != (layer.kind, layer.args):
            raise StackError(
                f"two different layers are both called {path!r} ({first.code()} and {layer.code()}): "
                "layers that share a name are one module used twice, so they must be the same layer")
        paths.append(path)
    return _Plan(tuple(paths), modules)


def _layer_module(layer: Layer) -> nn.Module:
    kwargs = dict(layer.args)
    if layer.kind in ("MaxPool2d", "AdaptiveMaxPool2d"):
        # A stack passes one tensor from layer to layer; the indices would feed an unpooling
        # layer, which a stack does not have.
        kwargs["return_indices"] = False
    if layer.kind == "BatchNorm2d" and kwargs.get("bias", True):
        del kwargs["bias"]  # older PyTorch has no such argument; True is its default
    if "inplace" in kwargs:
        kwargs["inplace"] = False  # every layer's output is kept, so none may be overwritten
    return getattr(nn, layer.kind)(**kwargs)


class _Container(nn.Module):
    """Holds the layers whose names start with its own ("features" of "features.0")."""

    def forward(self, x):  # pragma: no cover - never called: the stack calls its layers
        raise RuntimeError("a container of layers is not called itself")


class StackModule(nn.Module):
    """The stack's layers, registered by name, called in stack order; the Flatten layers
    in ``fixed_views`` (layer index -> n) run as ``x.view(-1, n)``, as the code they came
    from did.  Its own attributes start with an underscore, so that no layer name (a
    "stack", a "step") collides with them."""

    def __init__(self, stack: Stack, plan: _Plan, fixed_views: Mapping[int, int]):
        super().__init__()
        self._paths = plan.paths
        self._views = dict(fixed_views)
        self._stack = stack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index in range(len(self._paths)):
            x = _step(self, index, x)
        return x


def _step(model: StackModule, index: int, x: torch.Tensor) -> torch.Tensor:
    """Layer ``index`` of the stack on ``x``."""
    if index in model._views:
        return x.view(-1, model._views[index])
    return model.get_submodule(model._paths[index])(x)


def _register(root: nn.Module, path: str, module: nn.Module) -> None:
    parts = path.split(".")
    if any(not part for part in parts):
        raise StackError(f"a layer cannot be called {path!r}: a name has no empty parts")
    parent = root
    try:
        for part in parts[:-1]:
            child = parent._modules.get(part)
            if child is None:
                child = _Container()
                parent.add_module(part, child)
            parent = child
        last = parts[-1]
        existing = parent._modules.get(last)
        if existing is not None:
            # A container made for "features.0" before "features" itself came: the layer
            # takes its place and holds its children, as a torch module with submodules does.
            for name, child in existing.named_children():
                module.add_module(name, child)
        parent.add_module(last, module)
    except (KeyError, TypeError, AttributeError) as exc:
        reason = str(exc).strip("'\"")
        raise StackError(f"a layer cannot be called {path!r} ({reason})") from None


def _construct(stack: Stack, fixed_views: bool, meta: bool) -> StackModule:
    plan = _plan(stack)
    views = dict(stack.fixed_views) if fixed_views else {}
    root = StackModule(stack, plan, views)
    for path, layer in plan.modules.items():
        if meta:
            with torch.device("meta"):
                module = _layer_module(layer)
        else:
            module = _layer_module(layer)
        _register(root, path, module)
    return root.eval()


@contextmanager
def _private_rng(seed: int | None = None):
    """PyTorch's global generator, seeded for this block and given back as it was.  One
    block at a time: two threads forking it at once would restore each other's state (and
    one's seed would land in the middle of the other's initialisation)."""
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        yield


_RNG_LOCK = threading.RLock()


def _meta_model(stack: Stack, fixed_views: bool = False) -> StackModule:
    with _private_rng():
        return _construct(stack, fixed_views, meta=True)


def state_shapes(stack: Stack) -> dict[str, tuple[int, ...]]:
    """Every state_dict key the stack's module has, with its shape (nothing allocated)."""
    return {k: tuple(v.shape) for k, v in _meta_model(stack).state_dict().items()}


def build_model(
    stack: Stack,
    weights: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
    device: str = "cpu",
    dtype: torch.dtype = torch.float32,
    fixed_views: bool = False,
) -> StackModule:
    """The stack as a torch module in eval mode.  Tensors named in ``weights`` take those
    values (a shape that differs is a StackError); the others are PyTorch's own
    initialisation, drawn from ``seed`` on a forked generator, so the global RNG is not
    touched and the same seed gives the same weights.  ``fixed_views``: run the Flatten
    layers that the code wrote as ``x.view(-1, n)`` as that view (default: as a flatten,
    as the trace does; its note says the view's batch trap).  StackError for a stack over
    the parameter limit, before anything is allocated."""
    problem = _too_many_parameters(stack)
    if problem:
        raise StackError(problem)
    weights = dict(weights or {})
    shapes = state_shapes(stack)
    for name, shape in shapes.items():
        if name in weights and tuple(np.shape(weights[name])) != shape:
            wanted, got = _shape_text(shape), _shape_text(np.shape(weights[name]))
            raise StackError(f"{name} is {got} in the weights given, the stack wants {wanted}")
    # Initialised even where every tensor is given: a module made on the meta device and
    # moved with to_empty ran its convolutions a hundred times slower on the CPU (torch 2.13).
    with _private_rng(seed):
        model = _construct(stack, fixed_views, meta=False)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name in weights:
                tensor.copy_(torch.from_numpy(np.array(weights[name], dtype=np.float64, copy=True)))
    return model.to(device=device, dtype=dtype).eval()


def initial_weights(stack: Stack, seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch's initialisation of the stack for ``seed``: the state_dict, buffers included
    (BatchNorm's running statistics), as float32 arrays."""
    model = build_model(stack, seed=seed)
    return {k: v.detach().to(torch.float32).numpy().copy() for k, v in model.state_dict().items()}


# -- shapes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShapeCheck:
    """Each layer's output shape without the batch ((C, H, W) or (F,)), None from the first
    layer that fails; ``failed`` its index and ``error`` torch's own words for it."""

    input_shape: tuple[int, ...]
    shapes: tuple[tuple[int, ...] | None, ...]
    failed: int | None = None
    error: str = ""
    by: str = ""  # how torch ran the layers, for people: "a batch of one on the CPU", "the meta device", or both

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.error

    @property
    def output_shape(self) -> tuple[int, ...] | None:
        return self.shapes[-1] if self.shapes and self.ok else None


def _torch_words(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _strip_batch(shape) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    return shape[1:] if len(shape) >= 2 else shape


class _CpuLayers:
    """The stack's layers on the CPU, made when first tried (on a forked RNG), to run a
    layer on a real batch of one of zeros: the meta device lets some refusals through
    (a ConvTranspose2d given the wrong number of channels) and words others its own way."""

    def __init__(self, model: StackModule):
        self.model = model
        self.modules: dict[str, nn.Module] = {}

    def small(self, index: int, *shapes: tuple[int, ...]) -> bool:
        layer = self.model._stack.layers[index]
        return all(math.prod(s) <= _MAX_TRY_VALUES for s in shapes) and layer.params <= _MAX_TRY_VALUES

    def run(self, index: int, shape: tuple[int, ...]) -> tuple[tuple[int, ...] | None, str]:
        """Layer ``index``'s output shape for an input of ``shape``, or torch's words for its refusal."""
        model = self.model
        path = model._paths[index]
        if path not in self.modules:
            with _private_rng():
                self.modules[path] = _layer_module(model._stack.layers[index]).eval()
        try:
            with torch.no_grad():
                x = torch.zeros(shape)
                out = x.view(-1, model._views[index]) if index in model._views else self.modules[path](x)
            return tuple(out.shape), ""
        except Exception as exc:  # noqa: BLE001 - torch refuses with many types; its words are the point
            return None, _torch_words(exc)


def _input_problem(input_shape) -> str:
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        return f"the input shape must be (C, H, W), got {input_shape!r}"
    if len(shape) != 3 or min(shape) < 1:
        return f"the input shape must be three sizes of at least 1 (C, H, W), got {shape}"
    return ""


_SAME_SIZE_KINDS = (*ACTIVATION_KINDS, "BatchNorm2d", "Dropout", "Flatten")


def _expected_values(traced, index: int, shape: tuple[int, ...]) -> int | None:
    """How many values layer ``index`` will make from an input of ``shape`` (with the
    batch), from the core's trace, so that a small layer can go straight to the CPU (the
    meta device's first use costs a second); None when the trace cannot say."""
    row = traced.rows[index]
    if row.input_shape is None or tuple(row.input_shape) != tuple(shape[1:]):
        return None
    if row.output_shape is not None and not row.error:
        return math.prod(row.output_shape)
    if row.layer.kind in _SAME_SIZE_KINDS:
        return math.prod(shape)
    if row.layer.kind == "Linear" and shape[-1]:
        return math.prod(shape) // shape[-1] * row.layer["out_features"]
    if len(shape) == 4:
        return _bound(row.layer, shape)
    return None


def _bound(layer: Layer, shape: tuple[int, ...]) -> int | None:
    """At most how many values a window layer the trace refuses could make from a 4-D
    ``shape``, should torch take it after all (for the memory gate alone)."""
    n, c, h, w = shape
    if layer.kind in ("AdaptiveMaxPool2d", "AdaptiveAvgPool2d"):
        oh, ow = pair(layer["output_size"])
        return n * c * (oh or h) * (ow or w)
    if layer.kind in ("MaxPool2d", "AvgPool2d", "Conv2d"):
        padding = layer["padding"]
        ph, pw = (0, 0) if isinstance(padding, str) else pair(padding)
        channels = layer["out_channels"] if layer.kind == "Conv2d" else c
        return n * channels * (h + 2 * ph) * (w + 2 * pw)
    if layer.kind == "ConvTranspose2d":
        (sh, sw), (dh, dw), (kh, kw) = pair(layer["stride"]), pair(layer["dilation"]), pair(layer["kernel_size"])
        oph, opw = pair(layer["output_padding"])
        return n * layer["out_channels"] * (h * sh + dh * kh + oph) * (w * sw + dw * kw + opw)
    return None


def check_shapes(stack: Stack, input_shape, fixed_views: bool = False) -> ShapeCheck:
    """Every layer's output shape for an input of ``input_shape`` (C, H, W), found by
    running the stack in torch with a batch of one: a layer small enough on the CPU on
    zeros, a larger one on the ``meta`` device (nothing allocated); at the first layer torch
    refuses, its index and torch's error text (the CPU's wherever the layer is small
    enough to try there).  Never raises."""
    problem = _input_problem(input_shape)
    if problem:
        return ShapeCheck(tuple(input_shape) if isinstance(input_shape, tuple) else (), (), None, problem)
    input_shape = tuple(int(v) for v in input_shape)
    try:
        model = _meta_model(stack, fixed_views)
    except StackError as exc:
        return ShapeCheck(input_shape, (None,) * len(stack), None, str(exc))
    shapes: list[tuple[int, ...] | None] = []
    cpu = _CpuLayers(model)
    used: set[str] = set()
    traced = trace(stack, input_shape)
    shape = (1, *input_shape)
    for index in range(len(stack)):
        expected = _expected_values(traced, index, shape)
        if expected is not None and cpu.small(index, shape, (expected,)):
            out, words = cpu.run(index, shape)
            used.add(_ON_CPU)
        else:
            used.add(_ON_META)
            try:
                with torch.no_grad():
                    out, words = tuple(_step(model, index, torch.empty(shape, device="meta")).shape), ""
            except Exception as exc:  # noqa: BLE001 - torch refuses with many types; its words are the point
                out, words = None, _torch_words(exc)
            if cpu.small(index, shape, out or ()):
                # the CPU has the last word where the layer is small enough to run there
                out, cpu_words = cpu.run(index, shape)
                words = cpu_words or words
                used.add(_ON_CPU)
        if out is None:
            shapes.extend([None] * (len(stack) - index))
            return ShapeCheck(input_shape, tuple(shapes), index, words, _by(used))
        shapes.append(_strip_batch(out))
        shape = out
    return ShapeCheck(input_shape, tuple(shapes), by=_by(used))


_ON_CPU, _ON_META = "a batch of one on the CPU", "the meta device"


def _by(used: set[str]) -> str:
    return " and ".join(sorted(used, key=(_ON_META, _ON_CPU).index))


def activation_bytes(check: ShapeCheck, itemsize: int = 4) -> int:
    """The memory of the input and of every layer's output a run keeps, up to a failure."""
    sizes = [check.input_shape] + [s for s in check.shapes if s is not None]
    return itemsize * sum(math.prod(s) for s in sizes)


def _planned_shapes(stack: Stack, input_shape: tuple[int, ...], fixed_views: bool) -> ShapeCheck:
    """The shapes a run will make: the core's trace where it reaches the end (no torch at
    all), check_shapes otherwise."""
    traced = trace(stack, input_shape)
    if traced.failed is None and not fixed_views:
        return ShapeCheck(tuple(input_shape), tuple(row.output_shape for row in traced.rows))
    return check_shapes(stack, input_shape, fixed_views)


def _too_much_memory(check: ShapeCheck, itemsize: int = 4) -> str:
    n = activation_bytes(check, itemsize)
    if n > MAX_ACTIVATION_BYTES:
        return (f"the layers' outputs for this input would take {n / 2**20:,.0f} MiB, more than the "
                f"{MAX_ACTIVATION_BYTES // 2**20} MiB convplay keeps: use a smaller input or fewer channels")
    return ""


# -- running ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StackRun:
    """``outputs``: each layer's output (float32, without the batch) up to the first that
    failed; ``failed`` its index and ``error`` torch's words (or why the run was refused
    before it started, with ``failed`` None); ``seconds``: the forward pass."""

    outputs: list[np.ndarray] = field(default_factory=list)
    error: str = ""
    failed: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


def _input_array(x) -> tuple[np.ndarray | None, str]:
    array = np.asarray(x)
    if array.ndim != 3:
        return None, f"the input must be (C, H, W), got an array of shape {array.shape}"
    if array.dtype.kind not in "fiub":
        return None, f"the input must hold real numbers, not {array.dtype}"
    return np.array(array, dtype=np.float32, copy=True), ""


def _prepare(stack: Stack, weights, x, fixed_views: bool, dtype=torch.float32, device: str = "cpu"):
    """(model, input array) for a run, or the reason there is none, checked in the order
    that allocates nothing first."""
    array, problem = _input_array(x)
    if problem:
        return None, None, problem
    try:
        device = check_device(device)
    except ComputeError as exc:
        return None, None, str(exc)
    try:
        problem = _too_many_parameters(stack)
    except StackError as exc:  # two layers under one name
        problem = str(exc)
    if problem:
        return None, None, problem
    itemsize = torch.tensor([], dtype=dtype).element_size()
    problem = _too_much_memory(_planned_shapes(stack, array.shape, fixed_views), itemsize)
    if problem:
        return None, None, problem
    if weights is not None and not isinstance(weights, StackModule):
        cached = _cached_model(stack, weights, fixed_views, device, dtype)
        if cached is not None:
            return cached, array, ""
    if isinstance(weights, StackModule):
        first = next(iter(weights.state_dict().values()), None)
        if first is not None and (first.dtype != dtype or first.device != torch.device(device)):
            weights = copy.deepcopy(weights)  # the caller's module stays as it was
        model = weights.to(device=device, dtype=dtype).eval()
    else:
        try:
            model = build_model(stack, weights, device=device, dtype=dtype, fixed_views=fixed_views)
        except StackError as exc:
            return None, None, str(exc)
        if weights is not None:
            _remember_model(stack, weights, fixed_views, device, dtype, model)
    return model, array, ""


# The last few modules built for a run, so that a new input through the same stack and
# weights (a stroke on the canvas) does not build the module again.  Keyed by the weights
# dict's identity, held with it so the identity cannot be reused: a weights dict is a value,
# replaced, never changed in place.
_MODELS: OrderedDict = OrderedDict()
_MODELS_LOCK = threading.Lock()
_MODELS_KEPT = 4
_MAX_CACHED_PARAMETERS = 16_000_000  # a larger module is built again rather than kept


def _model_key(stack, weights, fixed_views, device, dtype):
    try:
        hash(stack)
    except TypeError:  # a layer argument that is not a value: never cached
        return None
    return (stack, id(weights), fixed_views, str(device), dtype)


def _cached_model(stack, weights, fixed_views, device, dtype) -> StackModule | None:
    key = _model_key(stack, weights, fixed_views, device, dtype)
    if key is None:
        return None
    with _MODELS_LOCK:
        entry = _MODELS.get(key)
        if entry is None or entry[0] is not weights:
            return None
        _MODELS.move_to_end(key)
        return entry[1]


def _remember_model(stack, weights, fixed_views, device, dtype, model) -> None:
    key = _model_key(stack, weights, fixed_views, device, dtype)
    if key is None or parameter_count(stack) > _MAX_CACHED_PARAMETERS:
        return
    with _MODELS_LOCK:
        _MODELS[key] = (weights, model)
        while len(_MODELS) > _MODELS_KEPT:
            _MODELS.popitem(last=False)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def run_stack(
    stack: Stack,
    weights: Mapping[str, np.ndarray] | StackModule | None,
    x: np.ndarray,
    device: str = "cpu",
    fixed_views: bool = False,
) -> StackRun:
    """The input ``x`` (C, H, W) through the stack in eval mode without gradients; every
    layer's output kept.  ``weights``: a state_dict as arrays (missing tensors take the
    seed-0 initialisation), or a module from ``build_model`` to reuse.  Never raises: a
    stack over the parameter limit, activations over the memory limit, or a bad input is
    an error before anything is allocated; a layer torch refuses ends the run there."""
    model, array, problem = _prepare(stack, weights, x, fixed_views, device=device)
    if problem:
        return StackRun(error=problem)
    outputs: list[np.ndarray] = []
    started = time.perf_counter()
    failed, error = None, ""
    with torch.no_grad():
        t = torch.from_numpy(array[None]).to(device)
        kept = []
        for index in range(len(stack)):
            try:
                t = _step(model, index, t)
            except Exception as exc:  # noqa: BLE001 - torch refuses with many types; its words are the point
                failed, error = index, _torch_words(exc)
                break
            kept.append(t)
        _sync(device)
        seconds = time.perf_counter() - started
        for t in kept:
            out = t.detach().to("cpu", torch.float32)
            outputs.append(out[0].numpy().copy() if out.ndim >= 2 else out.numpy().copy())
    return StackRun(outputs, error, failed, seconds)


def effective_receptive_field(
    stack: Stack,
    weights: Mapping[str, np.ndarray] | None,
    x: np.ndarray,
    layer_index: int,
    channel: int,
    oh: int = 0,
    ow: int = 0,
    fixed_views: bool = False,
) -> np.ndarray:
    """|∂ output[layer_index][channel, oh, ow] / ∂ input|, summed over the input's channels:
    an (H, W) float64 map of where that output pixel looks (for a vector output, the entry
    ``channel``; oh and ow are not used).  In float64 on the CPU, eval mode.  StackError
    with the reason when the pixel does not exist or the stack cannot run."""
    model, array, problem = _prepare(stack, weights, x, fixed_views, dtype=torch.float64)
    if problem:
        raise StackError(problem)
    if not 0 <= layer_index < len(stack):
        raise StackError(f"the stack has no layer {layer_index}: it has layers 0 to {len(stack) - 1}")
    t = torch.from_numpy(array.astype(np.float64)[None]).requires_grad_(True)
    out = t
    for index in range(layer_index + 1):
        try:
            out = _step(model, index, out)
        except Exception as exc:  # noqa: BLE001 - torch refuses with many types; its words are the point
            raise StackError(f"layer {index} ({stack.layers[index].label}) fails: {_torch_words(exc)}") from None
    value = out[0] if out.ndim >= 2 else out
    where = (channel,) if value.ndim == 1 else (channel, oh, ow)
    if len(where) != value.ndim or any(not 0 <= i < n for i, n in zip(where, value.shape)):
        raise StackError(f"layer {layer_index}'s output is {_shape_text(value.shape)}: it has no entry "
                         f"{', '.join(map(str, where))}")
    try:
        (grad,) = torch.autograd.grad(value[where], t, allow_unused=True)
    except RuntimeError as exc:  # a layer whose gradient torch cannot take
        raise StackError(f"the gradient of layer {layer_index}'s output: {_torch_words(exc)}") from None
    if grad is None:
        return np.zeros(array.shape[1:], dtype=np.float64)
    return grad[0].abs().sum(0).numpy().copy()


# -- weights from a file ------------------------------------------------------------------------


def _shape_text(shape) -> str:
    shape = tuple(int(s) for s in shape)
    return "×".join(map(str, shape)) if shape else "a single number"


def load_weights_file(path: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a state_dict or checkpoint (.pth/.pt/.ckpt/.bin, loaded weights-only),
    a .safetensors file or an .npz archive (never unpickled), named by its dotted path, as
    float32 arrays; optimiser state is skipped.  KernelFileError with the reason, as the
    kernel readers word it, for anything else: a pickle that would run code is refused and
    nothing in it runs."""
    path = Path(path)
    if not path.is_file():
        raise KernelFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    head = _head(path)
    if suffix == ".npy" or head.startswith(b"\x93NUMPY"):
        raise KernelFileError(
            f"{path.name} holds one array without a name, so it cannot say which layer it belongs to. "
            "Save the weights with their names: torch.save(model.state_dict(), 'weights.pth').")
    if suffix == ".safetensors" or (suffix not in (".npz", ".pth", ".pt") and _looks_like_safetensors(head)):
        infos, read = safetensors_tensors(path)
    elif suffix == ".npz":
        infos, read = npz_tensors(path)
    elif suffix in TORCH_FILE_SUFFIXES or head[:2] in (b"PK", b"\x80\x02"):
        infos, read = torch_file_tensors(path)
    else:
        raise KernelFileError(
            f"{path.name}: convplay reads weights from {', '.join(WEIGHT_FILE_SUFFIXES[:-1])} or "
            f"{WEIGHT_FILE_SUFFIXES[-1]} files")
    if not infos:
        raise KernelFileError(f"{path.name}: there are no tensors in this file")
    total = sum(math.prod(info.shape) for info in infos)
    if total > MAX_FILE_VALUES:
        raise KernelFileError(
            f"{path.name} was not loaded: its {total:,} values are more than the {MAX_FILE_VALUES:,} "
            "convplay reads for a stack")
    out = {}
    for info in infos:
        array = np.asarray(read(info.name))
        if array.dtype.kind not in "fiub":
            raise KernelFileError(f"{path.name}: {info.name} holds values of type {array.dtype}, not real numbers")
        out[info.name] = array.astype(np.float32)
    return out


@dataclass(frozen=True, eq=False)
class WeightMatch:
    """How a file's tensors fit a stack: ``weights`` the state_dict to use (the file's
    tensor where name and shape fit, the initialisation elsewhere), ``loaded`` and
    ``missing`` the stack's names, ``unexpected`` the file's names nothing took,
    ``mismatched`` (name, the stack's shape, the file's shape), ``prefix`` what was taken
    off the file's names ("module.")."""

    weights: dict[str, np.ndarray]
    loaded: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]
    prefix: str = ""
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.loaded) + len(self.missing) + len(self.mismatched)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.mismatched

    def summary(self) -> str:
        """One sentence: how many of the stack's tensors were loaded, and what was not."""
        if self.complete:
            text = f"loaded {len(self.loaded)} of {self.total} tensor{'s' if self.total != 1 else ''}"
        else:
            text = f"loaded {len(self.loaded)} of {self.total}"
        if self.missing:
            text += f"; missing {_names(self.missing)}"
        for name, wanted, got in self.mismatched[:3]:
            text += f"; {name} is {_shape_text(got)} in the file, the stack wants {_shape_text(wanted)}"
        if len(self.mismatched) > 3:
            text += f"; {len(self.mismatched) - 3} more of other shapes"
        if self.unexpected:
            n = len(self.unexpected)
            text += f"; the file's {_names(self.unexpected)} {'fits' if n == 1 else 'fit'} no layer"
        return text


def _names(names, shown: int = 4) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _prefix_candidates(keys, wanted) -> list[str]:
    """Prefixes made of the usual segments that turn some file key into a wanted one."""
    found = {""}
    for key in keys:
        for name in wanted:
            if key != name and key.endswith("." + name):
                prefix = key[: -len(name)]
                if all(part in _PREFIX_WORDS for part in prefix.rstrip(".").split(".")):
                    found.add(prefix)
    return sorted(found, key=len)


def match_weights(stack: Stack, state: Mapping[str, np.ndarray], seed: int = 0) -> WeightMatch:
    """``state`` (a file's tensors, from load_weights_file) matched to the stack by name and
    shape.  A prefix of the usual kind ("module.", "model.", a checkpoint's "state_dict."
    entry) is taken off when that makes more names fit.  StackError when the stack cannot
    be built."""
    problem = _too_many_parameters(stack)
    if problem:
        raise StackError(problem)
    shapes = state_shapes(stack)
    keys = list(state)
    best, best_hits = "", -1
    for prefix in _prefix_candidates(keys, shapes):
        hits = sum(1 for k in keys if k.startswith(prefix) and k[len(prefix):] in shapes)
        if hits > best_hits:
            best, best_hits = prefix, hits
    by_name = {k[len(best):]: k for k in keys if k.startswith(best) and k[len(best):] in shapes}
    loaded, missing, mismatched, notes = [], [], [], []
    chosen: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        key = by_name.get(name)
        if key is None:
            missing.append(name)
            continue
        array = np.asarray(state[key])
        if tuple(array.shape) != shape:
            mismatched.append((name, shape, tuple(array.shape)))
            continue
        chosen[name] = np.array(array, dtype=np.float32, copy=True)
        loaded.append(name)
        bad = int(np.size(array) - np.isfinite(array).sum())
        if bad:
            notes.append(f"{name}: {bad} of {array.size} values are NaN or infinite")
    used = {by_name[name] for name in loaded} | {by_name[m[0]] for m in mismatched}
    unexpected = tuple(k for k in keys if k not in used)
    weights = dict(chosen)
    if len(chosen) < len(shapes):
        initial = initial_weights(stack, seed)
        weights = {name: chosen.get(name, initial[name]) for name in shapes}
    return WeightMatch(weights, tuple(loaded), tuple(missing), unexpected, tuple(mismatched), best, tuple(notes))
