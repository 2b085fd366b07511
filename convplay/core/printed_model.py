"""The text ``print(model)`` writes, read as a stack: one ``(name): Layer(...)`` line per
module, nested modules indented between ``Name(`` and ``)``, ``(0-2): 3 x Layer(...)`` for
repeats.

It is its own form because it is not Python: the lines are matched here, and only each
layer's call is handed to ``ast`` (scanned and valued by ``code_values``, built by
``layer_builder``), so a printed model is refused by the same rules as pasted code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from convplay.core.code_values import MAX_CLASS_NESTING, StackParseError, Values, is_dunder, parse_python, scan
from convplay.core.layer_builder import KNOWN_KINDS, SOFTMAX_MODULES, LayerBuilder, Step, finish_steps
from convplay.core.layers import KINDS, MAX_LAYERS, Layer, Stack, pair

_PRINTED_NOTE = ("print(model) lists modules in the order they were registered in __init__, "
                 "which need not be the order forward applies them")

_CHILD = re.compile(r"\((?P<name>[A-Za-z0-9_]+(?:-[0-9]+)?)\):\s*(?P<rest>.*)")
_REPEAT = re.compile(r"(?P<count>[0-9]+) x (?P<rest>.*)")
_OPEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\(")


def _meaningful_lines(text: str, indents: bool = False):
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            yield (number, stripped, len(raw) - len(raw.lstrip())) if indents else (number, stripped)


def is_printed(text: str) -> bool:
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


def parse_printed(text: str, title: str) -> Stack:
    root: _Node | None = None
    open_nodes: list[_Node] = []
    builder = LayerBuilder()
    values = Values(bare_strings=True)
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
            if is_dunder(node.kind):
                raise StackParseError(f"{node.kind} is a dunder name", number)
        else:
            call = parse_python(rest, mode="eval", line_offset=number - 1).body
            _relocate(call, number, indent)
            _scan_line(call, number)
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                raise StackParseError(f"expected a layer such as Conv2d(...), got {rest[:40]!r}", number)
            kind = call.func.id
            if kind in SOFTMAX_MODULES:
                step = builder.softmax(call, kind, call.args, call.keywords, values)
                node = _Node(name, kind, number, tail=step.tail)
                if root is None:
                    root = node
                else:
                    open_nodes[-1].children.append(node)
                continue
            if kind not in KINDS:
                raise StackParseError(f"{kind} is not a layer convplay knows; it knows {KNOWN_KINDS}", number)
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
    steps: list[Step] = []
    _flatten_printed(root, "", steps)
    layers = [step.layer for step in finish_steps(steps, notes)]
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
            out.append(Step(None, ast.Constant(None, lineno=node.line, col_offset=0), None, node.tail, full))
        elif node.layer is not None:
            out.append(Step(Layer(node.layer.kind, node.layer.args, full), None))
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
        scan(ast.Module(body=[ast.Expr(expr)], type_ignores=[]))
    except StackParseError as error:
        raise StackParseError(error.message, line, error.column) from None


def _relocate(node, line: int, indent: int) -> None:
    """Positions in one line's call as positions in the whole text."""
    for n in ast.walk(node):
        if hasattr(n, "lineno"):
            n.lineno = line
            n.col_offset += indent

