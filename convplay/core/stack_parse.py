"""Pasted PyTorch model code as a ``Stack``, read with Python's ``ast`` and never run.

Three forms are read:

* an ``nn.Sequential(...)`` expression, bare or assigned (``model = nn.Sequential(...)``),
  with ``OrderedDict`` names and nested Sequentials flattened to PyTorch's dotted names;
* a module class: ``self.name = nn.X(...)`` lines in ``__init__``, in the order its
  ``forward`` applies them when it has one (a straight chain through one tensor);
* the text ``print(model)`` writes.

The text is data. Nothing in it is evaluated: layer arguments are literal numbers, pairs,
booleans, ``None``, the few strings PyTorch takes (``padding='same'``) and arithmetic on
them (``32 * 12 * 12``), folded here with every intermediate value bounded. Everything else
(calls of anything but nn layer constructors, attribute chains, dunder names, lambdas,
comprehensions, imports other than torch's own, huge numbers, deep nesting) is refused with
its line and the reason.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
import warnings
from dataclasses import dataclass, field

from convplay.core.layers import KINDS, MAX_LAYERS, Layer, LayerError, Stack, pair

MAX_TEXT_BYTES = 200 * 1024
MAX_DEPTH = 50  # expression nesting, counted from the statement that holds it
MAX_NUMBER = 10**7
MAX_STRING = 32
MAX_TUPLE = 4

# The only imports a paste may hold; they are skipped, nothing is imported.
SKIPPED_IMPORTS = (
    "import torch",
    "import torch.nn as nn",
    "from torch import nn",
    "import torch.nn.functional as F",
    "from torch.nn import functional as F",
    "from collections import OrderedDict",
)

# Names whose mention is refused anywhere, even in lines that are otherwise skipped: a
# paste that reaches for them is not a model description.
_DANGEROUS_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "breakpoint",
})
# refused as calls only: forward(self, input) is how PyTorch's own examples name the tensor
_DANGEROUS_CALLS = _DANGEROUS_NAMES | {"input", "exit", "quit", "memoryview", "help"}
_DANGEROUS_ROOTS = frozenset({
    "os", "sys", "subprocess", "shutil", "builtins", "importlib", "pickle", "socket", "ctypes",
    "pathlib", "io", "marshal", "shelve", "signal", "threading", "multiprocessing",
})

_STRING_ARG_KINDS = ("conv_padding", "choice")
_KNOWN = ", ".join(KINDS)
_CHAIN = "convplay traces a straight chain of layers"
_PRINTED_NOTE = ("print(model) lists modules in the order they were registered in __init__, "
                 "which need not be the order forward applies them")


class StackParseError(ValueError):
    """Text convplay will not read as a stack; ``line`` and ``column`` (1-based) say where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line
        self.column = column


def _fail(node, message: str):
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    raise StackParseError(message, line, None if col is None else col + 1)


def _snippet(node, limit: int = 40) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only for a message
        return type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dotted(node) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _is_dunder(name: str | None) -> bool:
    return bool(name) and len(name) > 4 and name.startswith("__") and name.endswith("__")


def _nn_name(node) -> str | None:
    """``X`` for ``nn.X`` or ``torch.nn.X``, else None."""
    dotted = _dotted(node)
    if dotted is None:
        return None
    for prefix in ("nn.", "torch.nn."):
        if dotted.startswith(prefix) and "." not in dotted[len(prefix):]:
            return dotted[len(prefix):]
    return None


# --------------------------------------------------------------------------- numbers


def _check_number(node, value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > MAX_NUMBER:
            _fail(node, f"{_show_big(value)} is too large: convplay reads numbers up to 10^7")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            _fail(node, f"{_snippet(node)} is not a finite number")
        if abs(value) > MAX_NUMBER:
            _fail(node, f"{value:g} is too large: convplay reads numbers up to 10^7")
        return value
    _fail(node, f"{_snippet(node)} is not a number")


def _show_big(value: int) -> str:
    digits = len(str(abs(value))) if abs(value) < 10**100 else 101
    return str(value) if digits <= 12 else f"a number of {digits if digits <= 100 else 'over 100'} digits"


def _is_num(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_OPS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**"}


def _arith(node: ast.BinOp, a, b):
    op = type(node.op)
    if op not in _OPS:
        _fail(node, f"{_snippet(node)} uses an operator convplay does not fold (it folds + − * / // % **)")
    if not (_is_num(a) and _is_num(b)):
        _fail(node, f"{_snippet(node)} is arithmetic on something that is not a number")
    if op in (ast.Div, ast.FloorDiv, ast.Mod) and b == 0:
        _fail(node, f"{_snippet(node)} divides by zero")
    if op is ast.Pow:
        if abs(a) > 1 and b > 0 and b * math.log2(abs(a)) > 24:  # 2^24 > 10^7: refused unbuilt
            _fail(node, f"{_snippet(node)} is too large: convplay reads numbers up to 10^7")
        if abs(b) > 64:
            _fail(node, f"{_snippet(node)}: exponents over 64 are not folded")
        if a == 0 and b < 0:
            _fail(node, f"{_snippet(node)} divides by zero")
    try:
        if op is ast.Add:
            result = a + b
        elif op is ast.Sub:
            result = a - b
        elif op is ast.Mult:
            result = a * b
        elif op is ast.Div:
            result = a / b
        elif op is ast.FloorDiv:
            result = a // b
        elif op is ast.Mod:
            result = a % b
        else:
            result = a ** b
    except (OverflowError, ZeroDivisionError, ValueError):
        _fail(node, f"{_snippet(node)} has no finite value")
    if isinstance(result, complex):
        _fail(node, f"{_snippet(node)} is not a real number")
    return _check_number(node, result)


@dataclass
class _Values:
    """Folds literal argument values. ``names``: numbers the code named (``__init__``'s
    defaults, ``n = 10`` lines, ``self.n = 10``); ``bare_strings``: names that stand for
    strings (print(model) writes ``padding=same``)."""

    names: dict = field(default_factory=dict)
    bare_strings: bool = False

    def value(self, node, allow_str: bool = False, choices: tuple = ()):
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, str):
                if not allow_str:
                    _fail(node, f"the string {_snippet(node, 20)} is not an argument convplay reads here "
                                "(strings are read only for padding, padding_mode and approximate)")
                if len(v) > MAX_STRING:
                    _fail(node, "a string over 32 characters is not an argument any layer takes")
                return v
            if v is None or isinstance(v, bool):
                return v
            if isinstance(v, (int, float)):
                return _check_number(node, v)
            _fail(node, f"{_snippet(node, 20)} is not a number, a pair, True, False or None")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                v = self.value(node.operand)
                if not _is_num(v):
                    _fail(node, f"{_snippet(node)}: a sign on something that is not a number")
                return _check_number(node, -v if isinstance(node.op, ast.USub) else v)
            _fail(node, f"{_snippet(node)} uses an operator convplay does not fold")
        if isinstance(node, ast.BinOp):
            return _arith(node, self.value(node.left), self.value(node.right))
        if isinstance(node, (ast.Tuple, ast.List)):
            if len(node.elts) > MAX_TUPLE:
                _fail(node, f"a tuple of {len(node.elts)} values is not an argument any layer takes")
            values = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    _fail(elt, "a starred argument (*...) is not read: write the values out")
                values.append(self.value(elt, allow_str))
            return tuple(values)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if self.bare_strings and allow_str and node.id in choices:
                return node.id
            _fail(node, f"{node.id} is a name convplay cannot see the value of: write the number itself")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            key = "self." + node.attr
            if key in self.names:
                return self.names[key]
            _fail(node, f"{key} is not a number set in __init__: write the number itself")
        _fail(node, _what_is_refused(node))


def _what_is_refused(node) -> str:
    if isinstance(node, ast.Call):
        return f"{_snippet(node)} calls something: layer arguments are numbers and simple arithmetic"
    if isinstance(node, ast.Lambda):
        return "a lambda is not read: convplay reads only nn layers with literal arguments"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "a comprehension is not read: write the layers out one by one"
    if isinstance(node, ast.JoinedStr):
        return "an f-string is not read: layer arguments are numbers"
    if isinstance(node, ast.Starred):
        return "a starred argument (*...) is not read: write the values out"
    if isinstance(node, ast.Attribute):
        return f"{_snippet(node)} is an attribute convplay does not read: write the number itself"
    if isinstance(node, ast.Subscript):
        return f"{_snippet(node)} indexes something: write the number itself"
    if isinstance(node, (ast.Compare, ast.BoolOp, ast.IfExp)):
        return f"{_snippet(node)} is a condition: write the value itself"
    return f"{_snippet(node)} is not a literal argument (numbers, pairs, True, False, None)"


# --------------------------------------------------------------------------- safety scan


def _parse(text: str, mode: str = "exec", line_offset: int = 0):
    try:
        with warnings.catch_warnings():
            # pasted text's "\d" or 1if is the paster's business, not a warning on our stderr
            warnings.simplefilter("ignore")
            return ast.parse(text, mode=mode)
    except SyntaxError as error:
        line = (error.lineno or 1) + line_offset if error.lineno else None
        reason = error.msg or "invalid syntax"
        if "nested" in reason or "too many" in reason:
            raise StackParseError(f"the text nests expressions too deeply ({reason})", line) from None
        if "Exceeds the limit" in reason:
            raise StackParseError("a number of over 4300 digits: convplay reads numbers up to 10^7", line) from None
        if "null bytes" in reason:
            raise StackParseError("the text holds a NUL character", _nul_line(text, line_offset)) from None
        raise StackParseError(f"this is not valid Python ({reason})", line, error.offset) from None
    except (RecursionError, MemoryError):
        line = line_offset + 1 if "\n" not in text.strip() else None
        raise StackParseError("the text nests expressions too deeply to read", line) from None
    except ValueError as error:  # a NUL byte (Python 3.11), an over-long integer literal
        if "\0" in text:
            raise StackParseError("the text holds a NUL character", _nul_line(text, line_offset)) from None
        raise StackParseError(f"the text cannot be read as Python ({error})") from None


def _nul_line(text: str, line_offset: int) -> int | None:
    at = text.find("\0")
    return None if at < 0 else text.count("\n", 0, at) + 1 + line_offset


def _main_guard(node) -> bool:
    """``if __name__ == "__main__":``, the one dunder a pasted script may hold (skipped)."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == "__main__")


def _import_text(node) -> str:
    if isinstance(node, ast.Import):
        return "import " + ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    return f"from {'.' * node.level}{node.module or ''} import {names}"


_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)  # nothing to check below


def _scan(tree: ast.Module) -> dict:
    """Refuses, anywhere in the text, what no model description holds: dunder names, other
    imports, lambdas, the builtins and modules that reach outside, and deep nesting.
    Returns, for each top-level statement that calls nn layer constructors, the first such
    call (by the statement's id)."""
    allowed = set()  # ids of dunder nodes that are plain Python structure
    top_level = {id(stmt) for stmt in tree.body}
    for top in tree.body:
        if _main_guard(top):
            allowed.add(id(top.test.left))
    layer_calls: dict[int, ast.Call] = {}
    # depth counts expression nesting from the statement that holds it (Python caps blocks)
    todo = [(stmt, 0, False, id(stmt)) for stmt in reversed(tree.body)]
    while todo:
        node, depth, in_class, top = todo.pop()
        if depth > MAX_DEPTH:
            _fail(node, f"expressions nest more than {MAX_DEPTH} deep: convplay does not read them")
        kind = type(node)
        if kind is ast.Name:
            if _is_dunder(node.id) and id(node) not in allowed:
                _fail(node, f"{node.id} is a dunder name: convplay never reads Python's internals")
            dangerous = node.id in _DANGEROUS_ROOTS or node.id in _DANGEROUS_NAMES
            if dangerous and not isinstance(node.ctx, ast.Store):
                _fail(node, f"{node.id} is not part of a model description: convplay reads only nn layers")
        elif kind is ast.Attribute:
            if _is_dunder(node.attr):
                is_super_init = (node.attr == "__init__" and isinstance(node.value, ast.Call)
                                 and isinstance(node.value.func, ast.Name) and node.value.func.id == "super")
                if not is_super_init:
                    _fail(node, f".{node.attr} is a dunder attribute: convplay never reads Python's internals")
            root = _dotted(node)
            if root and root.split(".")[0] in _DANGEROUS_ROOTS:
                _fail(node, f"{_snippet(node)} reaches the module {root.split('.')[0]}: "
                            "convplay reads only nn layers and never runs anything")
        elif kind is ast.Call:
            func = node.func
            if isinstance(func, ast.Name) and (func.id in _DANGEROUS_CALLS or func.id in _DANGEROUS_ROOTS):
                _fail(node, f"{func.id}(...) is a call convplay never runs: it reads only nn layer constructors")
            if top not in layer_calls and isinstance(func, ast.Attribute):
                name = _nn_name(func)
                if name in KINDS or name == "Sequential":
                    layer_calls[top] = node
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            if _is_dunder(node.name) and not (node.name == "__init__" and in_class):
                _fail(node, f"{node.name} is a dunder name: convplay never reads Python's internals")
        elif kind is ast.arg:
            if _is_dunder(node.arg):
                _fail(node, f"{node.arg} is a dunder name: convplay never reads Python's internals")
        elif kind is ast.keyword:
            if _is_dunder(node.arg):
                _fail(node.value, f"{node.arg}= is a dunder name: convplay never reads Python's internals")
        elif kind in (ast.Global, ast.Nonlocal):
            _fail(node, "global and nonlocal are not part of a model description")
        elif kind in (ast.Import, ast.ImportFrom):
            text = _import_text(node)
            if id(node) not in top_level or text not in SKIPPED_IMPORTS:
                _fail(node, f"{text}: convplay imports nothing and reads only the model; it skips torch's own "
                            "imports (import torch, torch.nn as nn, torch.nn.functional as F) and OrderedDict's")
        elif kind is ast.Lambda:
            _fail(node, "a lambda is not read: convplay reads only nn layers with literal arguments")
        child_in_class = kind is ast.ClassDef
        children = [(child, 0 if isinstance(child, ast.stmt) else depth + 1, child_in_class, top)
                    for child in ast.iter_child_nodes(node) if not isinstance(child, _LEAVES)]
        todo.extend(reversed(children))  # depth first in source order: the first fault is named
    return layer_calls


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class _Step:
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

    def renamed(self, prefix: str) -> _Step:
        name = f"{prefix}.{self.name}" if self.name else ""
        if self.layer is None:
            return _Step(None, self.node, None, self.tail, name)
        return _Step(Layer(self.layer.kind, self.layer.args, name), self.node, self.fixed)


_SOFTMAX_MODULES = ("Softmax", "LogSoftmax")
_SOFTMAX_FUNCTIONS = ("softmax", "log_softmax")


def _finish(steps: list, notes: list) -> list:
    """The steps without the softmax that ends them (noted); a softmax anywhere else is refused."""
    steps = list(steps)
    dropped = []
    while steps and steps[-1].layer is None:
        dropped.append(steps.pop().tail)
    for step in steps:
        if step.layer is None:
            _fail(step.node, f"{step.tail} comes before other layers: convplay reads a softmax only as "
                             "the last step, and leaves it out")
    if dropped:
        notes.append(f"the stack leaves out the final {dropped[-1]}: its outputs are the scores that go into it")
    return steps


MAX_CLASS_NESTING = 8


class _Builder:
    """Builds layers from calls; ``classes`` are the text's own nn.Module classes, which a
    model may use as blocks (``self.block1 = ConvBlock(1, 16)``)."""

    def __init__(self, classes: dict | None = None):
        self.count = 0
        self.notes: list[str] = []
        self.classes = classes or {}
        self.reading: list[str] = []

    def make(self, node, kind: str, args: list, kwargs: dict, name: str) -> Layer:
        try:
            layer = Layer.make(kind, *args, name=name, **kwargs)
        except LayerError as error:
            _fail(node, str(error))
        except (TypeError, ValueError) as error:  # a value make did not expect: still its line
            _fail(node, f"nn.{kind}: {error}")
        return layer

    def call_values(self, call: ast.Call, kind: str, values: _Values):
        """Positional and keyword values of a layer call, strings read only where the
        argument takes them."""
        signature = KINDS.get(kind, ())
        args = []
        for i, node in enumerate(call.args):
            if isinstance(node, ast.Starred):
                _fail(node, "a starred argument (*...) is not read: write the arguments out")
            arg = signature[i] if i < len(signature) else None
            args.append(values.value(node, *_string_rule(arg)))
        kwargs = {}
        by_name = {arg.name: arg for arg in signature}
        for kw in call.keywords:
            if kw.arg is None:
                _fail(kw.value, "a ** argument is not read: write the arguments out")
            kwargs[kw.arg] = values.value(kw.value, *_string_rule(by_name.get(kw.arg)))
        return args, kwargs

    def layer(self, call: ast.Call, name: str, values: _Values) -> Layer:
        kind = _nn_name(call.func)
        if kind is None:
            _fail(call, _not_a_layer(call))
        if kind not in KINDS:
            _fail(call, f"nn.{kind} is not a layer convplay knows; it knows {_KNOWN}")
        args, kwargs = self.call_values(call, kind, values)
        return self.make(call, kind, args, kwargs, name)

    def sequential(self, call: ast.Call, prefix: str, values: _Values) -> list:
        """The layers of ``nn.Sequential(...)``, named as PyTorch names them."""
        if call.keywords:
            _fail(call.keywords[0].value, "nn.Sequential takes no keyword arguments")
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
                    _fail(node, "a starred argument, nn.Sequential(*...), is not read: write the layers out")
                items[str(i)] = node
        result = []
        for key, node in items.items():
            name = f"{prefix}.{key}" if prefix else key
            result.extend(self.module(node, name, values))
        return result

    def module(self, node, name: str, values: _Values) -> list:
        """[_Step] for a layer, Sequential or block expression."""
        if not isinstance(node, ast.Call):
            _fail(node, f"{_snippet(node)} is not an nn layer: convplay reads nn.X(...) calls")
        kind = _nn_name(node.func)
        if kind == "Sequential":
            return self.sequential(node, name, values)
        if isinstance(node.func, ast.Name) and node.func.id in self.classes:
            return self.block(node, name, values)
        if kind in _SOFTMAX_MODULES:
            return [self.softmax(node, f"nn.{kind}", node.args, node.keywords, values, name)]
        layer = self.layer(node, name, values)
        self.count += 1
        if self.count > MAX_LAYERS:
            _fail(node, f"more than {MAX_LAYERS} layers: a stack holds at most {MAX_LAYERS}")
        return [_Step(layer, node)]

    def softmax(self, node, what: str, args, keywords, values: _Values, name: str = "") -> _Step:
        """A softmax step; its only argument, dim, is read to be sure it is a number."""
        if len(args) > 1:
            _fail(node, f"{what} takes dim only here")
        dims = [values.value(arg) for arg in args]
        for kw in keywords:
            if kw.arg != "dim":
                _fail(kw.value if kw.arg else node, f"{what} takes dim only here")
            dims.append(values.value(kw.value))
        if any(isinstance(dim, bool) or (dim is not None and not isinstance(dim, int)) for dim in dims):
            _fail(node, f"{what}: dim must be a whole number")
        shown = f"{what}(dim={dims[0]})" if dims else f"{what}()"
        return _Step(None, node, None, shown, name)

    def block(self, call: ast.Call, name: str, values: _Values) -> list:
        """The layers of ``ConvBlock(1, 16)``, a class of the text, in its forward's order,
        named under ``name`` as PyTorch names a submodule's modules."""
        cls = self.classes[call.func.id]
        if cls.name in self.reading:
            _fail(call, f"{cls.name} contains itself")
        if len(self.reading) >= MAX_CLASS_NESTING:
            _fail(call, f"classes nest more than {MAX_CLASS_NESTING} deep")
        self.reading.append(cls.name)
        try:
            reader = _ModuleReader(cls, self, (call, values))
            steps = reader.read()
        finally:
            self.reading.pop()
        if not steps:
            _fail(call, f"{cls.name} holds no layers")
        self.notes.extend(f"{name} ({cls.name}): {note}" for note in reader.notes)
        return [step.renamed(name) if name else step for step in steps]


def _string_rule(arg) -> tuple:
    if arg is not None and arg.kind in _STRING_ARG_KINDS:
        choices = arg.choices if arg.kind == "choice" else ("same", "valid")
        return True, choices
    return False, ()


def _is_ordered_dict(node) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func) in ("OrderedDict", "collections.OrderedDict")


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _ordered_items(call: ast.Call):
    """(key, layer node, key node) of ``OrderedDict([...])``, ``OrderedDict({...})`` or
    ``OrderedDict(key=...)``."""
    pairs = []
    if len(call.args) > 1:
        _fail(call, "OrderedDict takes one list of (name, layer) pairs")
    if call.args:
        arg = call.args[0]
        if isinstance(arg, (ast.List, ast.Tuple)):
            for elt in arg.elts:
                if not (isinstance(elt, ast.Tuple) and len(elt.elts) == 2):
                    _fail(elt, "an OrderedDict item must be a pair ('name', nn.X(...))")
                pairs.append((elt.elts[0], elt.elts[1]))
        elif isinstance(arg, ast.Dict):
            for key, value in zip(arg.keys, arg.values):
                if key is None:
                    _fail(value, "a ** item is not read: write the pairs out")
                pairs.append((key, value))
        else:
            _fail(arg, "OrderedDict takes a list of (name, layer) pairs")
    for kw in call.keywords:
        if kw.arg is None:
            _fail(kw.value, "a ** item is not read: write the pairs out")
        pairs.append((ast.Constant(kw.arg, lineno=kw.value.lineno, col_offset=kw.value.col_offset), kw.value))
    for key, value in pairs:
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            _fail(key, "an OrderedDict name must be a string such as 'conv1'")
        if not _NAME_RE.fullmatch(key.value) or _is_dunder(key.value):
            _fail(key, f"{key.value!r} is not a module name convplay reads (letters, digits and _, no dots)")
        yield key.value, value, key


def _not_a_layer(call: ast.Call) -> str:
    dotted = _dotted(call.func)
    if dotted in KINDS or dotted == "Sequential":
        return f"{dotted}(...) without nn.: write nn.{dotted}(...) (convplay reads no `from torch.nn import` lines)"
    if dotted is None:
        return f"{_snippet(call)} is not an nn layer constructor: convplay reads only nn.X(...) calls"
    return f"{dotted}(...) is not an nn layer: convplay reads only nn layer constructors, and never runs calls"


# --------------------------------------------------------------------------- modules


_FUNCTIONAL = {  # name after F. → (kind, the functional's arguments after the input)
    "relu": ("ReLU", ("inplace",)),
    "leaky_relu": ("LeakyReLU", ("negative_slope", "inplace")),
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "gelu": ("GELU", ("approximate",)),
    "max_pool2d": ("MaxPool2d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")),
    "avg_pool2d": ("AvgPool2d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                 "divisor_override")),
    "adaptive_max_pool2d": ("AdaptiveMaxPool2d", ("output_size", "return_indices")),
    "adaptive_avg_pool2d": ("AdaptiveAvgPool2d", ("output_size",)),
    "dropout": ("Dropout", ("p", "training", "inplace")),
}
_TORCH_FUNCTIONS = ("relu", "sigmoid", "tanh", "flatten")
_TENSOR_METHODS = ("relu", "sigmoid", "tanh", "flatten", "view", "reshape")
_BINOP_WORDS = {ast.Add: "adds", ast.Sub: "subtracts", ast.Mult: "multiplies", ast.Div: "divides",
                ast.MatMult: "matrix-multiplies"}


def _functional_name(func) -> str | None:
    dotted = _dotted(func)
    if dotted is None:
        return None
    for prefix in ("F.", "nn.functional.", "torch.nn.functional.", "functional."):
        if dotted.startswith(prefix) and dotted[len(prefix):] in _FUNCTIONAL:
            return dotted[len(prefix):]
    return None


class _ModuleReader:
    """One ``class X(nn.Module)``: its declared modules and, from forward, their order."""

    def __init__(self, cls: ast.ClassDef, builder: _Builder, bound=None):
        self.cls = cls
        self.builder = builder
        self.bound = bound  # (the call that builds it, the caller's values) for a block
        self.values = _Values()
        self.modules: dict[str, list] = {}  # attribute → [_Step]
        self.notes: list[str] = []
        self.steps: list[_Step] = []

    def read(self):
        init = forward = None
        for stmt in self.cls.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
                init = stmt
            elif isinstance(stmt, ast.FunctionDef) and stmt.name == "forward":
                forward = stmt
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.notes.append(f"{self.cls.name}.{stmt.name} (line {stmt.lineno}) is not read: "
                                  "convplay reads __init__ and forward")
            else:
                _fail(stmt, f"class {self.cls.name} holds {_snippet(stmt)}: convplay reads only its "
                            "__init__ and forward")
        if self.cls.decorator_list:
            _fail(self.cls.decorator_list[0], "a decorated class is not read")
        if init is not None:
            self.read_init(init)
        elif self.bound is not None and (self.bound[0].args or self.bound[0].keywords):
            _fail(self.bound[0], f"{self.cls.name} has no __init__ to take these arguments")
        if forward is not None and self.modules:
            self.read_forward(forward)
            used = {step.name for step in self.steps}
            unused = [name for name, steps in self.modules.items()
                      if not any(step.name in used for step in steps)]
            if unused:
                self.notes.append(f"declared in __init__ but not used in forward: {', '.join(unused)} "
                                  "(left out of the stack)")
            counts: dict[str, int] = {}
            for step in self.steps:
                # Only a module with weights is worth a word: its weights are shared.
                if step.name and step.layer is not None and step.layer.params:
                    counts[step.name] = counts.get(step.name, 0) + 1
            twice = [name for name, n in counts.items() if n > 1]
            if twice:
                self.notes.append(f"used more than once in forward: {', '.join(twice)} "
                                  "(one module each: every use shares its weights)")
        elif forward is not None and not self.modules:
            self.read_forward(forward)  # all functional
        else:
            self.steps = [step for steps in self.modules.values() for step in steps]
            if self.steps:
                self.notes.append(f"{self.cls.name} has no forward: the layers are in the order __init__ declares them")
        return self.steps

    # __init__ -------------------------------------------------------------

    def read_init(self, init: ast.FunctionDef):
        self._defaults(init.args)
        if self.bound is not None:
            self._bind(init.args, *self.bound)
        for stmt in init.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Pass) or self._is_super_init(stmt):
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if len(targets) != 1 or stmt.value is None:
                    _fail(stmt, "one name per assignment, please: convplay reads self.name = nn.X(...)")
                target, value = targets[0], stmt.value
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    self._assign(target.attr, value)
                    continue
                if isinstance(target, ast.Name) and not _mentions_call(value):
                    self.values.names[target.id] = self.values.value(value)
                    continue
                _fail(stmt, f"__init__ assigns {_snippet(target)}: convplay reads self.name = nn.X(...) lines")
            _fail(stmt, f"__init__ {_statement_words(stmt)}: convplay reads only self.name = nn.X(...) lines")

    def _defaults(self, args: ast.arguments):
        positional = args.posonlyargs + args.args
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            self.values.names[arg.arg] = self.values.value(default, allow_str=True, choices=())
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            if default is not None:
                self.values.names[arg.arg] = self.values.value(default, allow_str=True, choices=())

    def _bind(self, args: ast.arguments, call: ast.Call, outer: _Values):
        """``ConvBlock(1, 16, stride=2)``'s values for ``__init__(self, c_in, c_out, stride=1)``."""
        positional = [a.arg for a in args.posonlyargs + args.args][1:]
        keywords = positional + [a.arg for a in args.kwonlyargs]
        if len(call.args) > len(positional):
            _fail(call, f"{self.cls.name} takes {len(positional)} argument{'s' if len(positional) != 1 else ''}, "
                        f"got {len(call.args)}")
        for param, node in zip(positional, call.args):
            if isinstance(node, ast.Starred):
                _fail(node, "a starred argument (*...) is not read: write the arguments out")
            self.values.names[param] = outer.value(node, allow_str=True, choices=())
        for kw in call.keywords:
            if kw.arg is None:
                _fail(kw.value, "a ** argument is not read: write the arguments out")
            if kw.arg not in keywords:
                _fail(kw.value, f"{self.cls.name} has no argument {kw.arg!r}")
            self.values.names[kw.arg] = outer.value(kw.value, allow_str=True, choices=())
        defaults = len(args.defaults)
        required = positional[: len(positional) - defaults] if defaults else positional
        missing = [p for p in required if p not in self.values.names]
        missing += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None and a.arg not in self.values.names]
        if missing:
            _fail(call, f"{self.cls.name}(...) needs {', '.join(missing)}")

    def _is_super_init(self, stmt) -> bool:
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            return False
        call = stmt.value
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "__init__" and isinstance(func.value, ast.Call)):
            return False
        inner = func.value
        if not (isinstance(inner.func, ast.Name) and inner.func.id == "super") or call.args or call.keywords:
            _fail(stmt, "only super().__init__() is read here")
        names = [a.id if isinstance(a, ast.Name) else None for a in inner.args]
        if inner.keywords or names not in ([], [self.cls.name, "self"]):
            _fail(stmt, f"write super().__init__() or super({self.cls.name}, self).__init__()")
        return True

    def _assign(self, attr: str, value):
        if isinstance(value, ast.Call):
            known = _nn_name(value.func) is not None or (
                isinstance(value.func, ast.Name) and value.func.id in self.builder.classes)
            if not known:
                _fail(value, f"self.{attr} = {_snippet(value)}: " + _not_a_layer(value))
            steps = self.builder.module(value, attr, self.values)
            if attr in self.modules:
                self.notes.append(f"self.{attr} is assigned twice (line {value.lineno}): the later layer "
                                  "replaces the earlier, as in PyTorch")
            self.modules[attr] = steps
            return
        self.values.names["self." + attr] = self.values.value(value)

    # forward --------------------------------------------------------------

    def read_forward(self, forward: ast.FunctionDef):
        args = forward.args
        names = [a.arg for a in args.posonlyargs + args.args]
        if not names or names[0] != "self":
            _fail(forward, "forward must take self first")
        required = len(names) - len(args.defaults)
        if required != 2 or args.vararg or args.kwarg or [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]:
            _fail(forward, "forward takes more than one input: " + _CHAIN)
        self.current = names[1]
        self.earlier = {self.current}
        # forward sees the numbers __init__ stored on self, not __init__'s local names
        self.values = _Values({k: v for k, v in self.values.names.items() if k.startswith("self.")})
        for stmt in forward.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if len(targets) != 1 or not isinstance(targets[0], ast.Name) or stmt.value is None:
                    _fail(stmt, f"forward assigns {_snippet(stmt, 30)}: " + _CHAIN)
                self.chain(stmt.value)
                self.current = targets[0].id
                self.earlier.add(self.current)
                continue
            if isinstance(stmt, ast.AugAssign):
                verb = _BINOP_WORDS.get(type(stmt.op), "combines")
                if isinstance(stmt.op, ast.Add):
                    _fail(stmt, f"forward adds two tensors (a residual connection): {_CHAIN}")
                _fail(stmt, f"forward {verb} the tensor in place ({_snippet(stmt, 30)}): {_CHAIN}")
            if isinstance(stmt, ast.Return):
                if stmt.value is None:
                    _fail(stmt, "forward returns nothing")
                self.chain(stmt.value)
                return
            _fail(stmt, f"forward {_statement_words(stmt)}: {_CHAIN}")

    def _uses_tensor(self, node) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.earlier for n in ast.walk(node))

    def add(self, layer: Layer, node, fixed: int | None = None):
        self.add_step(_Step(layer, node, fixed))

    def add_step(self, step: _Step):
        self.steps.append(step)
        if len(self.steps) > MAX_LAYERS:
            _fail(step.node, f"more than {MAX_LAYERS} layers: a stack holds at most {MAX_LAYERS}")

    def chain(self, node):
        """Appends the layers ``node`` applies to the current tensor, innermost first."""
        if isinstance(node, ast.Name):
            if node.id == self.current:
                return
            if node.id in self.earlier:
                _fail(node, f"forward uses {node.id}, an earlier tensor, again (a skip connection): {_CHAIN}")
            _fail(node, f"forward uses {node.id}, which is not the tensor it passes along: {_CHAIN}")
        if isinstance(node, ast.BinOp):
            left, right = self._uses_tensor(node.left), self._uses_tensor(node.right)
            verb = _BINOP_WORDS.get(type(node.op), "combines")
            if left and right:
                if isinstance(node.op, ast.Add):
                    _fail(node, f"forward adds two tensors (a residual connection): {_CHAIN}")
                _fail(node, f"forward {verb} two tensors: {_CHAIN}")
            _fail(node, f"forward {verb} the tensor and a number ({_snippet(node, 30)}): "
                        "convplay traces only layers")
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.Tuple, ast.List)):
            _fail(node, f"forward gives {len(node.elts)} tensors ({_snippet(node, 30)}): {_CHAIN} to one output")
        _fail(node, f"forward computes {_snippet(node, 30)}: {_CHAIN}")

    def call(self, node: ast.Call):
        func = node.func
        # self.name(x)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            steps = self.modules.get(func.attr)
            if steps is None:
                if func.attr in self.cls_methods():
                    _fail(node, f"forward calls self.{func.attr}, a method: {_CHAIN} of nn modules")
                _fail(node, f"forward uses self.{func.attr}, which __init__ does not declare as a layer")
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                _fail(node, f"self.{func.attr} is called with {len(node.args) + len(node.keywords)} "
                            f"arguments: {_CHAIN} through one tensor")
            self.chain(node.args[0])
            for step in steps:
                self.add_step(_Step(step.layer, node, step.fixed, step.tail, step.tail_name))
            return
        name = _functional_name(func)
        dotted = _dotted(func)
        if dotted is not None and dotted.rsplit(".", 1)[-1] in _SOFTMAX_FUNCTIONS and dotted.split(".")[0] in (
                "F", "torch", "nn", "functional") and "." in dotted:
            if not node.args or isinstance(node.args[0], ast.Starred):
                _fail(node, f"{dotted} needs the tensor as its first argument")
            if any(self._uses_tensor(a) for a in node.args[1:]):
                _fail(node, f"{dotted} gets the tensor twice: {_CHAIN}")
            self.chain(node.args[0])
            self.add_step(self.builder.softmax(node, dotted, node.args[1:], node.keywords, self.values))
            return
        if name is not None:
            return self.functional(node, name)
        if dotted is not None and dotted.startswith("torch.") and dotted[6:] in _TORCH_FUNCTIONS:
            fname = dotted[6:]
            if fname == "flatten":
                return self.flatten(node, node.args[1:] if node.args else [], node.keywords, tensor=node.args[:1])
            return self.functional(node, fname)
        # x.relu(), x.view(...), self.conv(x).flatten(1)
        if isinstance(func, ast.Attribute) and self._uses_tensor(func.value):
            method = func.attr
            if method in _SOFTMAX_FUNCTIONS:
                self.chain(func.value)
                self.add_step(self.builder.softmax(node, f"x.{method}", node.args, node.keywords, self.values))
                return
            if method not in _TENSOR_METHODS:
                _fail(node, f"forward calls the tensor's .{method}(): {_CHAIN} "
                            "(it reads .relu(), .sigmoid(), .tanh(), .flatten(), .view() and .reshape())")
            if method in ("view", "reshape"):
                return self.view(node, func.value, method)
            if method == "flatten":
                return self.flatten(node, node.args, node.keywords, tensor=[func.value])
            if node.args or node.keywords:
                _fail(node, f".{method}() takes no arguments here")
            self.chain(func.value)
            kind = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}[method]
            self.add(self.builder.make(node, kind, [], {}, ""), node)
            return
        what = dotted or _snippet(func, 30)
        if dotted and dotted.split(".")[0] in ("torch", "F", "nn"):
            _fail(node, f"forward calls {what}, which convplay cannot trace: {_CHAIN} "
                        "(functions it reads: F.relu, F.leaky_relu, F.gelu, torch.sigmoid, torch.tanh, "
                        "F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.dropout, torch.flatten)")
        _fail(node, f"forward calls {what}: {_CHAIN} of nn layers")

    def cls_methods(self):
        return {s.name for s in self.cls.body if isinstance(s, ast.FunctionDef)}

    def functional(self, node: ast.Call, fname: str):
        kind, params = _FUNCTIONAL[fname]
        where = _dotted(node.func)
        if where.startswith("torch.") and not where.startswith("torch.nn."):
            params = ()  # torch.relu, torch.sigmoid, torch.tanh take the tensor only
        if not node.args or isinstance(node.args[0], ast.Starred):
            _fail(node, f"{where} needs the tensor as its first argument")
        tensor, rest = node.args[0], node.args[1:]
        if any(self._uses_tensor(a) for a in rest) or any(self._uses_tensor(k.value) for k in node.keywords):
            _fail(node, f"{where} gets the tensor twice: {_CHAIN}")
        if len(rest) > len(params):
            _fail(node, f"{where} takes at most {len(params) + 1} argument{'s' if params else ''} here")
        given = dict(zip(params, rest))
        for kw in node.keywords:
            if kw.arg is None:
                _fail(kw.value, "a ** argument is not read: write the arguments out")
            if kw.arg not in params:
                _fail(kw.value, f"{where} has no argument {kw.arg!r} convplay reads")
            if kw.arg in given:
                _fail(kw.value, f"{where} got {kw.arg} twice")
            given[kw.arg] = kw.value
        signature = {arg.name: arg for arg in KINDS[kind]}
        kwargs = {}
        training = True
        for param, value_node in given.items():
            if param == "training":
                training = "self" if _is_self_training(value_node) else self.values.value(value_node)
                if not isinstance(training, bool) and training != "self":
                    _fail(value_node, "training must be True, False or self.training")
                continue
            kwargs[param] = self.values.value(value_node, *_string_rule(signature.get(param)))
        self.chain(tensor)
        if kind == "Dropout" and training is True:
            self.notes.append(f"line {node.lineno}: F.dropout drops values even in eval mode unless given "
                              "training=self.training; convplay treats it as nn.Dropout, the identity in eval")
        self.add(self.builder.make(node, kind, [], kwargs, ""), node)

    def flatten(self, node: ast.Call, rest, keywords, tensor):
        if not tensor:
            _fail(node, "torch.flatten needs the tensor as its first argument")
        # torch.flatten and Tensor.flatten start at dimension 0 by default, nn.Flatten at 1
        params = ("start_dim", "end_dim")
        if len(rest) > 2:
            _fail(node, "flatten takes start_dim and end_dim")
        kwargs = {"start_dim": 0}
        for param, value in zip(params, rest):
            kwargs[param] = self.values.value(value)
        for kw in keywords:
            if kw.arg not in params:
                _fail(kw.value, f"flatten has no argument {kw.arg!r} convplay reads")
            kwargs[kw.arg] = self.values.value(kw.value)
        if kwargs["start_dim"] == 0:
            self.notes.append(f"line {node.lineno}: flatten from dimension 0 folds the batch into the features "
                              "(write flatten(1) to keep the batch)")
        self.chain(tensor[0])
        self.add(self.builder.make(node, "Flatten", [], kwargs, ""), node)

    def view(self, node: ast.Call, tensor, method: str):
        """``x.view(-1, n)`` (a fixed row length), ``x.view(x.size(0), -1)`` and the like."""
        args = node.args
        if node.keywords or len(args) != 2 or any(isinstance(a, ast.Starred) for a in args):
            _fail(node, f"x.{method}(...) in a form convplay does not read: it reads x.{method}(x.size(0), -1) "
                        f"and x.{method}(-1, n), a flatten")
        first, second = args
        self.chain(tensor)
        if self._is_batch(first):
            if self._is_minus_one(second):
                self.add(self.builder.make(node, "Flatten", [], {}, ""), node)
                return
            n = self.values.value(second)
            self.notes.append(f"line {node.lineno}: x.{method}(x.size(0), {n}) flattens; "
                              f"check that {n} is the C×H×W the stack gives")
            self.add(self.builder.make(node, "Flatten", [], {}, ""), node)
            return
        if self._is_minus_one(first):
            if _mentions_call(second):
                _fail(second, f"x.{method}(-1, {_snippet(second, 30)}) takes its row length from a call: "
                              "convplay reads a number there (such as 16 * 5 * 5)")
            n = self.values.value(second)
            if not isinstance(n, int) or n < 1:
                _fail(second, f"x.{method}(-1, n) needs a whole number n ≥ 1, got {n!r}")
            self.add(self.builder.make(node, "Flatten", [], {}, ""), node, n)
            return
        _fail(node, f"x.{method}(...) in a form convplay does not read: it reads x.{method}(x.size(0), -1) "
                    f"and x.{method}(-1, n), a flatten")

    def _is_minus_one(self, node) -> bool:
        if self._uses_tensor(node):
            return False
        try:
            return self.values.value(node) == -1
        except StackParseError:
            return False

    def _is_batch(self, node) -> bool:
        """``x.size(0)``, ``x.size()[0]``, ``x.shape[0]`` of the tensor being reshaped."""
        def is_x(n):
            return isinstance(n, ast.Name) and n.id == self.current

        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "size" \
                and is_x(node.func.value) and not node.keywords:
            return len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == 0:
            base = node.value
            if isinstance(base, ast.Attribute) and base.attr == "shape" and is_x(base.value):
                return True
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr == "size" \
                    and is_x(base.func.value) and not base.args and not base.keywords:
                return True
        return False


def _is_self_training(node) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "training" and isinstance(node.value, ast.Name) \
        and node.value.id == "self"


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _mentions_call(node) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def _statement_words(stmt) -> str:
    if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
        return "loops"
    if isinstance(stmt, ast.If):
        return "branches (an if)"
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return "opens a with block"
    if isinstance(stmt, ast.Try):
        return "has a try block"
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return f"calls {_dotted(stmt.value.func) or _snippet(stmt.value.func, 30)}"
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return f"defines {stmt.name}"
    return f"holds {_snippet(stmt, 30)}"


def _is_module_class(cls: ast.ClassDef) -> bool:
    return any(_dotted(base) in ("nn.Module", "torch.nn.Module") for base in cls.bases)


# --------------------------------------------------------------------------- code


@dataclass
class _Model:
    title: str
    steps: list  # [_Step]
    notes: list
    line: int


def _sequential_target(stmt):
    """The call of a top-level ``nn.Sequential(...)`` / ``nn.X(...)`` statement, else None."""
    value = _statement_value(stmt)
    if isinstance(value, ast.Call) and (_nn_name(value.func) == "Sequential" or _nn_name(value.func) in KINDS):
        return value
    return None


def _statement_value(stmt):
    """The value of ``expr`` or ``name = expr`` at top level, else None."""
    plain = isinstance(stmt, ast.Expr)
    assigned = (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)) \
        or (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name))
    return stmt.value if plain or assigned else None


def _class_calls(node, classes) -> set:
    return {n.func.id for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in classes}


def _parse_code(text: str, title: str) -> Stack:
    tree = _parse(text)
    layer_calls = _scan(tree)
    classes = {stmt.name: stmt for stmt in tree.body if isinstance(stmt, ast.ClassDef) and _is_module_class(stmt)}
    # a class another model builds is read there, as a block; the others are models
    blocks = set()
    for cls in classes.values():
        blocks |= _class_calls(cls, classes) - {cls.name}
    instances = {}  # model = Net(10): the arguments a model class is built with
    for stmt in tree.body:
        if _sequential_target(stmt) is not None:
            blocks |= _class_calls(stmt, classes)
        value = _statement_value(stmt)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in classes:
            instances[value.func.id] = value
    if classes and blocks >= set(classes):
        blocks = set()  # every class builds another: read them all, and name the loop
    models: list[_Model] = []
    skipped_lines = 0
    imports = 0
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imports += 1
            continue
        if isinstance(stmt, ast.ClassDef) and stmt.name in classes:
            if stmt.name in blocks:
                continue
            builder = _Builder(classes)
            call = instances.get(stmt.name)
            reader = _ModuleReader(stmt, builder, None if call is None else (call, _Values()))
            builder.reading.append(stmt.name)
            steps = reader.read()
            if steps:
                models.append(_Model(stmt.name, steps, builder.notes + reader.notes, stmt.lineno))
            else:
                skipped_lines += (stmt.end_lineno or stmt.lineno) - stmt.lineno + 1
            continue
        bare = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign)) else None
        if isinstance(bare, ast.Call) and isinstance(bare.func, ast.Name) and (
                bare.func.id in KINDS or bare.func.id == "Sequential"):
            _fail(bare, _not_a_layer(bare))
        call = _sequential_target(stmt)
        if call is not None:
            builder = _Builder(classes)
            if _nn_name(call.func) == "Sequential":
                steps = builder.sequential(call, "", _Values())
                label = "nn.Sequential"
            else:
                steps = builder.module(call, "", _Values())
                label = f"nn.{_nn_name(call.func)}"
            models.append(_Model(label, steps, builder.notes, stmt.lineno))  # nn.Sequential() is empty
            if len(models) > MAX_LAYERS:
                _fail(stmt, f"the text holds more than {MAX_LAYERS} models: paste the one to read")
            continue
        found = layer_calls.get(id(stmt))
        if found is not None:
            how = ""
            if any(isinstance(n, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)) for n in ast.walk(stmt)):
                how = " in a comprehension"
            elif isinstance(stmt, (ast.For, ast.While)):
                how = " in a loop"
            _fail(found, f"{_snippet(found, 30)} is built{how} outside nn.Sequential(...) and a module's __init__: "
                         "convplay reads layers only there, written out one by one")
        skipped_lines += (stmt.end_lineno or stmt.lineno) - stmt.lineno + 1
    if not models:
        raise StackParseError("found no layers: paste an nn.Sequential(...), a class with self.name = nn.X(...) "
                              "lines, or the text print(model) writes")
    model = models[-1]
    notes = list(model.notes)
    model.steps = _finish(model.steps, notes)
    if len(models) > 1:
        shown = [f"{m.title} (line {m.line})" for m in models[:4]]
        if len(models) > 4:
            shown.append(f"{len(models) - 4} more")
        notes.append(f"the text holds {len(models)} models, {', '.join(shown)}: the stack is the last, "
                     f"{model.title} (line {model.line})")
    if imports:
        notes.append(f"skipped {imports} import line{'s' if imports != 1 else ''} (nothing is imported)")
    if skipped_lines:
        lines = "1 line that builds" if skipped_lines == 1 else f"{skipped_lines} lines that build"
        notes.append(f"skipped {lines} no layers (read, never run)")
    if len(model.steps) > MAX_LAYERS:
        raise StackParseError(f"more than {MAX_LAYERS} layers: a stack holds at most {MAX_LAYERS}")
    stack_title = title or ("" if model.title.startswith("nn.") else model.title)
    fixed = tuple((i, step.fixed) for i, step in enumerate(model.steps) if step.fixed is not None)
    return Stack(tuple(step.layer for step in model.steps), stack_title, None, text, tuple(notes), fixed)


# --------------------------------------------------------------------------- print(model)


_CHILD = re.compile(r"\((?P<name>[A-Za-z0-9_]+(?:-[0-9]+)?)\):\s*(?P<rest>.*)")
_REPEAT = re.compile(r"(?P<count>[0-9]+) x (?P<rest>.*)")
_OPEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\(")


def _meaningful_lines(text: str, indents: bool = False):
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            yield (number, stripped, len(raw) - len(raw.lstrip())) if indents else (number, stripped)


def _is_printed(text: str) -> bool:
    lines = []
    for item in _meaningful_lines(text):
        lines.append(item[1])
        if len(lines) >= 2:
            break
    if not lines:
        return False
    first = lines[0]
    if first.startswith(("nn.", "torch.")):
        return False
    if _OPEN.fullmatch(first):
        return len(lines) > 1 and (lines[1] == ")" or bool(_CHILD.fullmatch(lines[1])))
    if len(lines) == 1:
        kind = first.split("(", 1)[0]
        return kind in KINDS and first.endswith(")")
    return False


@dataclass
class _Node:
    name: str  # "conv1", "0-2" (repeated), "" for the root
    kind: str
    line: int
    children: list = field(default_factory=list)
    layer: Layer | None = None
    tail: str = ""  # a softmax: how print(model) wrote it


def _parse_printed(text: str, title: str) -> Stack:
    root: _Node | None = None
    open_nodes: list[_Node] = []
    builder = _Builder()
    values = _Values(bare_strings=True)
    notes = [_PRINTED_NOTE]
    avg_note = False
    for number, line, indent in _meaningful_lines(text, indents=True):
        if line == ")":
            if not open_nodes:
                raise StackParseError("a ')' closes nothing", number)
            open_nodes.pop()
            continue
        if root is not None and not open_nodes:
            raise StackParseError(f"{line[:40]!r} after the model's closing ')'", number)
        match = _CHILD.fullmatch(line)
        if match:
            if not open_nodes:
                raise StackParseError("a (name): line outside a module", number)
            name, rest = match["name"], match["rest"]
            indent += match.start("rest")
        else:
            if open_nodes:
                raise StackParseError(f"expected '(name): Layer(...)' or ')', got {line[:40]!r}", number)
            name, rest = "", line
        repeat = _REPEAT.fullmatch(rest)
        if repeat:
            if "-" not in name:
                raise StackParseError("a repeated module 'N x' needs a range name such as (0-2)", number)
            rest = repeat["rest"]
            indent += repeat.start("rest")
            low, high = (int(v) for v in name.split("-"))
            if high < low or high - low + 1 != int(repeat["count"]):
                raise StackParseError(f"({name}): {repeat['count']} x does not match the range", number)
        elif "-" in name:
            raise StackParseError(f"({name}): a range name needs 'N x' after it", number)
        if _OPEN.fullmatch(rest):
            node = _Node(name, rest[:-1], number)
            if _is_dunder(node.kind):
                raise StackParseError(f"{node.kind} is a dunder name", number)
        else:
            call = _parse(rest, mode="eval", line_offset=number - 1).body
            _relocate(call, number, indent)
            _scan_line(call, number)
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                raise StackParseError(f"expected a layer such as Conv2d(...), got {rest[:40]!r}", number)
            kind = call.func.id
            if kind in _SOFTMAX_MODULES:
                step = builder.softmax(call, kind, call.args, call.keywords, values)
                node = _Node(name, kind, number, tail=step.tail)
                if root is None:
                    root = node
                else:
                    open_nodes[-1].children.append(node)
                continue
            if kind not in KINDS:
                raise StackParseError(f"{kind} is not a layer convplay knows; it knows {_KNOWN}", number)
            args, kwargs = builder.call_values(call, kind, values)
            if kind == "BatchNorm2d" and (kwargs.get("bias") is not False or not kwargs.get("affine", True)):
                kwargs.pop("bias", None)  # PyTorch prints bias=True, and bias says nothing without affine
            if kind == "AvgPool2d" and not avg_note:
                avg_note = True
                notes.append("print(model) leaves out AvgPool2d's ceil_mode, count_include_pad and "
                             "divisor_override: they are taken as PyTorch's defaults")
            kwargs = {k: _collapse(kind, k, v) for k, v in kwargs.items()}
            args = [_collapse(kind, KINDS[kind][i].name if i < len(KINDS[kind]) else "", v) for i, v in enumerate(args)]
            if kind in ("MaxPool2d", "AvgPool2d") and not args and "stride" in kwargs and kwargs.get(
                    "kernel_size") is not None and pair(kwargs["stride"]) == pair(kwargs["kernel_size"]):
                kwargs["stride"] = None  # PyTorch prints the stride it filled in from kernel_size
            node = _Node(name, kind, number, layer=builder.make(call, kind, args, kwargs, ""))
        if root is None:
            root = node
        else:
            open_nodes[-1].children.append(node)
        if node.layer is None:
            open_nodes.append(node)
            if len(open_nodes) > MAX_CLASS_NESTING * 4:
                raise StackParseError(f"modules nest more than {MAX_CLASS_NESTING * 4} deep", number)
    if root is None:
        raise StackParseError("found no layers: the text is empty")
    if open_nodes:
        raise StackParseError(f"{open_nodes[-1].kind}( on line {open_nodes[-1].line} is never closed")
    steps: list[_Step] = []
    _flatten_printed(root, "", steps)
    layers = [step.layer for step in _finish(steps, notes)]
    if not layers:
        raise StackParseError("found no layers in the printed model", root.line)
    if root.layer is not None or root.tail:
        notes = [n for n in notes if n != _PRINTED_NOTE]
    stack_title = title or ("" if root.layer is not None or root.kind in ("Sequential", "ModuleList") else root.kind)
    return Stack(tuple(layers), stack_title, None, text, tuple(notes), ())


def _flatten_printed(node: _Node, prefix: str, out: list) -> None:
    names = [node.name]
    if "-" in node.name:
        low, high = (int(v) for v in node.name.split("-"))
        names = [str(i) for i in range(low, high + 1)]
    for name in names:
        full = ".".join(p for p in (prefix, name) if p)
        if node.tail:
            out.append(_Step(None, ast.Constant(None, lineno=node.line, col_offset=0), None, node.tail, full))
        elif node.layer is not None:
            out.append(_Step(Layer(node.layer.kind, node.layer.args, full), None))
            if len(out) > MAX_LAYERS:
                raise StackParseError(f"more than {MAX_LAYERS} layers: a stack holds at most {MAX_LAYERS}", node.line)
        else:
            for child in node.children:
                _flatten_printed(child, full, out)


def _collapse(kind: str, name: str, value):
    """PyTorch prints (3, 3) for a kernel built from 3; read back, the pair is a number again,
    so the stack's code is the short call."""
    arg = next((a for a in KINDS[kind] if a.name == name), None)
    if arg is None or arg.kind not in ("size", "optional_size", "conv_padding", "output_size"):
        return value
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1] and value[0] is not None:
        return value[0]
    return value


def _scan_line(expr, line: int) -> None:
    try:
        _scan(ast.Module(body=[ast.Expr(expr)], type_ignores=[]))
    except StackParseError as error:
        raise StackParseError(error.message, line, error.column) from None


def _relocate(node, line: int, indent: int) -> None:
    """Positions in one line's call as positions in the whole text."""
    for n in ast.walk(node):
        if hasattr(n, "lineno"):
            n.lineno = line
            n.col_offset += indent


# --------------------------------------------------------------------------- entry points


# What code copied from a web page or a word processor carries in place of plain spaces and
# quotes; Python refuses them, and they are one character each, so lines and columns hold.
_WEB_CHARACTERS = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2018": "'", "\u2019": "'",
                                 "\u201c": '"', "\u201d": '"', "\ufeff": " ", "\u200b": " "})


def parse_stack(text: str, title: str = "") -> Stack:
    """The layers ``text`` describes, or StackParseError naming the line and the reason.
    Nothing in the text is ever run."""
    if not isinstance(text, str):
        raise StackParseError("the model code must be text")
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise StackParseError(f"the text is over {MAX_TEXT_BYTES // 1024} KB: paste only the model")
    if not text.strip():
        raise StackParseError("the text is empty: paste an nn.Sequential(...), a module class or print(model)")
    stripped = text.removeprefix("\ufeff")  # a byte order mark an editor left
    readable = stripped.translate(_WEB_CHARACTERS)
    try:
        stack = _parse_printed(readable, title) if _is_printed(readable) else _parse_code(readable, title)
    except (RecursionError, MemoryError):
        raise StackParseError("the text nests too deeply to read") from None
    if readable != text:
        notes = stack.notes
        if readable != stripped:
            notes = (*notes, "non-breaking spaces and typographic quotes were read as plain ones")
        stack = dataclasses.replace(stack, source=text, notes=notes)
    return stack


def looks_like(text: str) -> str:
    """What the text seems to be, cheaply, for a hint before parsing: "sequential",
    "module", "printed" or ""."""
    if not isinstance(text, str):
        return ""
    head = text[:MAX_TEXT_BYTES]
    try:
        if _is_printed(head):
            return "printed"
        if re.search(r"^\s*class\s+\w+\s*\(", head, re.MULTILINE):
            return "module"
        if re.search(r"\bSequential\s*\(", head):
            return "sequential"
    except Exception:  # noqa: BLE001 - a hint never raises
        return ""
    return ""
