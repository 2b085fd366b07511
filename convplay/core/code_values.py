"""What every reader of pasted model code stands on: the error it raises, the limits, the
safety scan of the syntax tree, and literal argument values with their arithmetic folded.

The pasted text is data, and this module decides what it may hold. ``scan`` refuses,
anywhere in the text, what no model description needs (dunder names, other imports, lambdas,
the builtins and modules that reach outside, deep nesting); ``Values`` reads a layer argument
only as a number, a pair, a boolean, ``None``, one of the few strings PyTorch takes, or
arithmetic on them, every intermediate value bounded. It needs nothing but ``ast`` and the
layer kinds, so the readers built on it (``layer_builder``, ``module_reader``,
``printed_model``, ``stack_parse``) all refuse text by the same rules, and say where.
"""

from __future__ import annotations

import ast
import math
import warnings
from dataclasses import dataclass, field

from convplay.core.layers import KINDS

MAX_TEXT_BYTES = 200 * 1024
MAX_DEPTH = 50  # expression nesting, counted from the statement that holds it
MAX_NUMBER = 10**7
MAX_STRING = 32
MAX_TUPLE = 4
MAX_CLASS_NESTING = 8  # the text's own classes used as blocks, one inside another

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


# --------------------------------------------------------------------------- errors and names


class StackParseError(ValueError):
    """Text convplay will not read as a stack; ``line`` and ``column`` (1-based) say where."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(f"line {line}: {message}" if line else message)
        self.message = message
        self.line = line
        self.column = column


def fail(node, message: str):
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    raise StackParseError(message, line, None if col is None else col + 1)


def snippet(node, limit: int = 40) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only for a message
        return type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dotted_name(node) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def is_dunder(name: str | None) -> bool:
    return bool(name) and len(name) > 4 and name.startswith("__") and name.endswith("__")


def nn_name(node) -> str | None:
    """``X`` for ``nn.X`` or ``torch.nn.X``, else None."""
    dotted = dotted_name(node)
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
            written, big = snippet(node), _show_big(value)
            said = f"{big} is too large" if written == str(value) else f"{written} makes {big}, too large"
            fail(node, f"{said}: convplay reads numbers up to 10^7")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            fail(node, f"{snippet(node)} is not a finite number")
        if abs(value) > MAX_NUMBER:
            fail(node, f"{value:g} is too large: convplay reads numbers up to 10^7")
        return value
    fail(node, f"{snippet(node)} is not a number")


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
        fail(node, f"{snippet(node)} uses an operator convplay does not fold (it folds + − * / // % **)")
    if not (_is_num(a) and _is_num(b)):
        fail(node, f"{snippet(node)} is arithmetic on something that is not a number")
    if op in (ast.Div, ast.FloorDiv, ast.Mod) and b == 0:
        fail(node, f"{snippet(node)} divides by zero")
    if op is ast.Pow:
        if abs(a) > 1 and b > 0 and b * math.log2(abs(a)) > 24:  # 2^24 > 10^7: refused unbuilt
            fail(node, f"{snippet(node)} is too large: convplay reads numbers up to 10^7")
        if abs(b) > 64:
            fail(node, f"{snippet(node)}: exponents over 64 are not folded")
        if a == 0 and b < 0:
            fail(node, f"{snippet(node)} divides by zero")
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
        fail(node, f"{snippet(node)} has no finite value")
    if isinstance(result, complex):
        fail(node, f"{snippet(node)} is not a real number")
    return _check_number(node, result)


@dataclass
class Values:
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
                    fail(node, f"the string {snippet(node, 20)} is not an argument convplay reads here "
                               "(strings are read only for padding, padding_mode and approximate)")
                if len(v) > MAX_STRING:
                    fail(node, "a string over 32 characters is not an argument any layer takes")
                return v
            if v is None or isinstance(v, bool):
                return v
            if isinstance(v, (int, float)):
                return _check_number(node, v)
            fail(node, f"{snippet(node, 20)} is not a number, a pair, True, False or None")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                v = self.value(node.operand)
                if not _is_num(v):
                    fail(node, f"{snippet(node)}: a sign on something that is not a number")
                return _check_number(node, -v if isinstance(node.op, ast.USub) else v)
            fail(node, f"{snippet(node)} uses an operator convplay does not fold")
        if isinstance(node, ast.BinOp):
            return _arith(node, self.value(node.left), self.value(node.right))
        if isinstance(node, (ast.Tuple, ast.List)):
            if len(node.elts) > MAX_TUPLE:
                fail(node, f"a tuple of {len(node.elts)} values is not an argument any layer takes")
            values = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    fail(elt, "a starred argument (*...) is not read: write the values out")
                values.append(self.value(elt, allow_str))
            return tuple(values)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if self.bare_strings and allow_str and node.id in choices:
                return node.id
            fail(node, f"{node.id} is a name convplay cannot see the value of: write the number itself")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            key = "self." + node.attr
            if key in self.names:
                return self.names[key]
            fail(node, f"{key} is not a number set in __init__: write the number itself")
        fail(node, _what_is_refused(node))


def _what_is_refused(node) -> str:
    if isinstance(node, ast.Call):
        return f"{snippet(node)} calls something: layer arguments are numbers and simple arithmetic"
    if isinstance(node, ast.Lambda):
        return "a lambda is not read: convplay reads only nn layers with literal arguments"
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "a comprehension is not read: write the layers out one by one"
    if isinstance(node, ast.JoinedStr):
        return "an f-string is not read: layer arguments are numbers"
    if isinstance(node, ast.Starred):
        return "a starred argument (*...) is not read: write the values out"
    if isinstance(node, ast.Attribute):
        return f"{snippet(node)} is an attribute convplay does not read: write the number itself"
    if isinstance(node, ast.Subscript):
        return f"{snippet(node)} indexes something: write the number itself"
    if isinstance(node, (ast.Compare, ast.BoolOp, ast.IfExp)):
        return f"{snippet(node)} is a condition: write the value itself"
    return f"{snippet(node)} is not a literal argument (numbers, pairs, True, False, None)"


# --------------------------------------------------------------------------- safety scan


def parse_python(text: str, mode: str = "exec", line_offset: int = 0):
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


def scan(tree: ast.Module) -> dict:
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
            fail(node, f"expressions nest more than {MAX_DEPTH} deep: convplay does not read them")
        kind = type(node)
        if kind is ast.Name:
            if is_dunder(node.id) and id(node) not in allowed:
                fail(node, f"{node.id} is a dunder name: convplay never reads Python's internals")
            dangerous = node.id in _DANGEROUS_ROOTS or node.id in _DANGEROUS_NAMES
            if dangerous and not isinstance(node.ctx, ast.Store):
                fail(node, f"{node.id} is not part of a model description: convplay reads only nn layers")
        elif kind is ast.Attribute:
            if is_dunder(node.attr):
                is_super_init = (node.attr == "__init__" and isinstance(node.value, ast.Call)
                                 and isinstance(node.value.func, ast.Name) and node.value.func.id == "super")
                if not is_super_init:
                    fail(node, f".{node.attr} is a dunder attribute: convplay never reads Python's internals")
            root = dotted_name(node)
            if root and root.split(".")[0] in _DANGEROUS_ROOTS:
                fail(node, f"{snippet(node)} reaches the module {root.split('.')[0]}: "
                           "convplay reads only nn layers and never runs anything")
        elif kind is ast.Call:
            func = node.func
            if isinstance(func, ast.Name) and (func.id in _DANGEROUS_CALLS or func.id in _DANGEROUS_ROOTS):
                fail(node, f"{func.id}(...) is a call convplay never runs: it reads only nn layer constructors")
            if top not in layer_calls and isinstance(func, ast.Attribute):
                name = nn_name(func)
                if name in KINDS or name == "Sequential":
                    layer_calls[top] = node
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            if is_dunder(node.name) and not (node.name == "__init__" and in_class):
                fail(node, f"{node.name} is a dunder name: convplay never reads Python's internals")
        elif kind is ast.arg:
            if is_dunder(node.arg):
                fail(node, f"{node.arg} is a dunder name: convplay never reads Python's internals")
        elif kind is ast.keyword:
            if is_dunder(node.arg):
                fail(node.value, f"{node.arg}= is a dunder name: convplay never reads Python's internals")
        elif kind in (ast.Global, ast.Nonlocal):
            fail(node, "global and nonlocal are not part of a model description")
        elif kind in (ast.Import, ast.ImportFrom):
            text = _import_text(node)
            if id(node) not in top_level or text not in SKIPPED_IMPORTS:
                fail(node, f"{text}: convplay imports nothing and reads only the model; it skips torch's own "
                           "imports (import torch, torch.nn as nn, torch.nn.functional as F) and OrderedDict's")
        elif kind is ast.Lambda:
            fail(node, "a lambda is not read: convplay reads only nn layers with literal arguments")
        child_in_class = kind is ast.ClassDef
        children = [(child, 0 if isinstance(child, ast.stmt) else depth + 1, child_in_class, top)
                    for child in ast.iter_child_nodes(node) if not isinstance(child, _LEAVES)]
        todo.extend(reversed(children))  # depth first in source order: the first fault is named
    return layer_calls

