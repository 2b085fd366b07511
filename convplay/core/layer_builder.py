"""Layers from nn constructor calls: ``nn.Conv2d(1, 8, 3)`` read as a ``Layer``,
``nn.Sequential(...)`` (with ``OrderedDict`` names, nested Sequentials flattened to PyTorch's
dotted names) as the layers in it, and a softmax as the step a stack may end with.

Every form of pasted text builds its layers here: the code's nn.Sequential and module
classes (``stack_parse``, ``module_reader``) and the text ``print(model)`` writes
(``printed_model``), so a layer is built and checked the same way whichever form it came in.
The values in a call are read by ``code_values``; nothing here is run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from convplay.core.code_values import Values, dotted_name, fail, is_dunder, nn_name, snippet
from convplay.core.layers import KINDS, MAX_LAYERS, Layer, LayerError

_STRING_ARG_KINDS = ("conv_padding", "choice")
KNOWN_KINDS = ", ".join(KINDS)  # named in the message that refuses a layer convplay does not know


@dataclass(frozen=True)
class Step:
    """A layer in the order it is applied, the call it came from, and for a flatten written
    ``x.view(-1, n)`` its fixed row length n.  A softmax is a step without a layer
    (``tail``: how the code wrote it): the stack may end with one, which it leaves out."""

    layer: Layer | None
    node: ast.AST
    fixed: int | None = None
    tail: str = ""
    tail_name: str = ""

    @property
    def name(self) -> str:
        return self.layer.name if self.layer is not None else self.tail_name

    def renamed(self, prefix: str) -> Step:
        name = f"{prefix}.{self.name}" if self.name else ""
        if self.layer is None:
            return Step(None, self.node, None, self.tail, name)
        return Step(Layer(self.layer.kind, self.layer.args, name), self.node, self.fixed)


SOFTMAX_MODULES = ("Softmax", "LogSoftmax")


def finish_steps(steps: list, notes: list) -> list:
    """The steps without the softmax that ends them (noted); a softmax anywhere else is refused."""
    steps = list(steps)
    dropped = []
    while steps and steps[-1].layer is None:
        dropped.append(steps.pop().tail)
    for step in steps:
        if step.layer is None:
            fail(step.node, f"{step.tail} comes before other layers: convplay reads a softmax only as "
                            "the last step, and leaves it out")
    if dropped:
        notes.append(f"the stack leaves out the final {dropped[-1]}: its outputs are the scores that go into it")
    return steps


class LayerBuilder:
    """Builds layers from nn calls. Blocks, the text's own nn.Module classes used as
    layers (``self.block1 = ConvBlock(1, 16)``), are added by ``module_reader.ClassBuilder``:
    a block is read with a ``ModuleReader``, which builds its layers with this class, so
    this half stays free of the module reader and the imports hold no cycle."""

    def __init__(self):
        self.count = 0
        self.notes: list[str] = []

    def make(self, node, kind: str, args: list, kwargs: dict, name: str) -> Layer:
        try:
            layer = Layer.make(kind, *args, name=name, **kwargs)
        except LayerError as error:
            fail(node, str(error))
        except (TypeError, ValueError) as error:  # a value make did not expect: still its line
            fail(node, f"nn.{kind}: {error}")
        return layer

    def call_values(self, call: ast.Call, kind: str, values: Values):
        """Positional and keyword values of a layer call, strings read only where the
        argument takes them."""
        signature = KINDS.get(kind, ())
        args = []
        for i, node in enumerate(call.args):
            if isinstance(node, ast.Starred):
                fail(node, "a starred argument (*...) is not read: write the arguments out")
            arg = signature[i] if i < len(signature) else None
            args.append(values.value(node, *string_rule(arg)))
        kwargs = {}
        by_name = {arg.name: arg for arg in signature}
        for kw in call.keywords:
            if kw.arg is None:
                fail(kw.value, "a ** argument is not read: write the arguments out")
            kwargs[kw.arg] = values.value(kw.value, *string_rule(by_name.get(kw.arg)))
        return args, kwargs

    def layer(self, call: ast.Call, name: str, values: Values) -> Layer:
        kind = nn_name(call.func)
        if kind is None:
            fail(call, not_a_layer(call))
        if kind not in KINDS:
            fail(call, f"nn.{kind} is not a layer convplay knows; it knows {KNOWN_KINDS}")
        args, kwargs = self.call_values(call, kind, values)
        return self.make(call, kind, args, kwargs, name)

    def sequential(self, call: ast.Call, prefix: str, values: Values) -> list:
        """The layers of ``nn.Sequential(...)``, named as PyTorch names them."""
        if call.keywords:
            fail(call.keywords[0].value, "nn.Sequential takes no keyword arguments")
        items: dict[str, ast.AST] = {}
        if len(call.args) == 1 and _is_ordered_dict(call.args[0]):
            for key, value, where in _ordered_items(call.args[0]):
                if key not in items:  # a repeated key replaces the module, in its first place
                    items[key] = value
                else:
                    items[key] = value
                    self.notes.append(f"the name {key!r} appears twice in an OrderedDict (line {where.lineno}): "
                                      "the later layer replaces the earlier, as in PyTorch")
        else:
            for i, node in enumerate(call.args):
                if isinstance(node, ast.Starred):
                    fail(node, "a starred argument, nn.Sequential(*...), is not read: write the layers out")
                items[str(i)] = node
        result = []
        for key, node in items.items():
            name = f"{prefix}.{key}" if prefix else key
            result.extend(self.module(node, name, values))
        return result

    def module(self, node, name: str, values: Values) -> list:
        """[Step] for a layer or Sequential expression (``ClassBuilder`` adds blocks)."""
        if not isinstance(node, ast.Call):
            fail(node, f"{snippet(node)} is not an nn layer: convplay reads nn.X(...) calls")
        kind = nn_name(node.func)
        if kind == "Sequential":
            return self.sequential(node, name, values)
        if kind in SOFTMAX_MODULES:
            return [self.softmax(node, f"nn.{kind}", node.args, node.keywords, values, name)]
        layer = self.layer(node, name, values)
        self.count += 1
        if self.count > MAX_LAYERS:
            fail(node, f"more than {MAX_LAYERS} layers: a stack holds at most {MAX_LAYERS}")
        return [Step(layer, node)]

    def softmax(self, node, what: str, args, keywords, values: Values, name: str = "") -> Step:
        """A softmax step; its only argument, dim, is read to be sure it is a number."""
        if len(args) > 1:
            fail(node, f"{what} takes dim only here")
        dims = [values.value(arg) for arg in args]
        for kw in keywords:
            if kw.arg != "dim":
                fail(kw.value if kw.arg else node, f"{what} takes dim only here")
            dims.append(values.value(kw.value))
        if any(isinstance(dim, bool) or (dim is not None and not isinstance(dim, int)) for dim in dims):
            fail(node, f"{what}: dim must be a whole number")
        shown = f"{what}(dim={dims[0]})" if dims else f"{what}()"
        return Step(None, node, None, shown, name)


def string_rule(arg) -> tuple:
    if arg is not None and arg.kind in _STRING_ARG_KINDS:
        choices = arg.choices if arg.kind == "choice" else ("same", "valid")
        return True, choices
    return False, ()


def _is_ordered_dict(node) -> bool:
    return isinstance(node, ast.Call) and dotted_name(node.func) in ("OrderedDict", "collections.OrderedDict")


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _ordered_items(call: ast.Call):
    """(key, layer node, key node) of ``OrderedDict([...])``, ``OrderedDict({...})`` or
    ``OrderedDict(key=...)``."""
    pairs = []
    if len(call.args) > 1:
        fail(call, "OrderedDict takes one list of (name, layer) pairs")
    if call.args:
        arg = call.args[0]
        if isinstance(arg, (ast.List, ast.Tuple)):
            for elt in arg.elts:
                if not (isinstance(elt, ast.Tuple) and len(elt.elts) == 2):
                    fail(elt, "an OrderedDict item must be a pair ('name', nn.X(...))")
                pairs.append((elt.elts[0], elt.elts[1]))
        elif isinstance(arg, ast.Dict):
            for key, value in zip(arg.keys, arg.values):
                if key is None:
                    fail(value, "a ** item is not read: write the pairs out")
                pairs.append((key, value))
        else:
            fail(arg, "OrderedDict takes a list of (name, layer) pairs")
    for kw in call.keywords:
        if kw.arg is None:
            fail(kw.value, "a ** item is not read: write the pairs out")
        pairs.append((ast.Constant(kw.arg, lineno=kw.value.lineno, col_offset=kw.value.col_offset), kw.value))
    for key, value in pairs:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            fail(key, "an OrderedDict name must be a string such as 'conv1'")
        if not _NAME_RE.fullmatch(key.value) or is_dunder(key.value):
            fail(key, f"{key.value!r} is not a module name convplay reads (letters, digits and _, no dots)")
        yield key.value, value, key


def not_a_layer(call: ast.Call) -> str:
    dotted = dotted_name(call.func)
    if dotted in KINDS or dotted == "Sequential":
        return f"{dotted}(...) without nn.: write nn.{dotted}(...) (convplay reads no `from torch.nn import` lines)"
    if dotted is None:
        return f"{snippet(call)} is not an nn layer constructor: convplay reads only nn.X(...) calls"
    return f"{dotted}(...) is not an nn layer: convplay reads only nn layer constructors, and never runs calls"
