"""Pasted PyTorch model code as a ``Stack``, read with Python's ``ast`` and never run.

Three forms are read:

* an ``nn.Sequential(...)`` expression, bare or assigned (``model = nn.Sequential(...)``),
  with ``OrderedDict`` names and nested Sequentials flattened to PyTorch's dotted names;
* a module class: ``self.name = nn.X(...)`` lines in ``__init__``, in the order its
  ``forward`` applies them when it has one (a straight chain through one tensor);
* the text ``print(model)`` writes.

The text is data. Nothing in it is evaluated: layer arguments are literal numbers, pairs,
booleans, ``None``, the few strings PyTorch takes (``padding='same'``) and arithmetic on
them (``32 * 12 * 12``), folded with every intermediate value bounded. Everything else
(calls of anything but nn layer constructors, attribute chains, dunder names, lambdas,
comprehensions, imports other than torch's own, huge numbers, deep nesting) is refused with
its line and the reason.

The entry points, ``parse_stack`` and ``looks_like``, and the code form's top level (which
statement is the model, which classes are blocks) are here; what they stand on is split by
what it holds: ``code_values`` (the error, the limits, the safety scan, literal values and
their arithmetic), ``layer_builder`` (nn layer calls and nn.Sequential), ``module_reader``
(a module class's ``__init__`` and ``forward``) and ``printed_model`` (the print(model) text).
The error and the limits are defined in ``code_values``, which every reader raises and
checks through, and are re-exported here: callers import them from ``stack_parse``.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass

from convplay.core.code_values import (
    MAX_CLASS_NESTING,
    MAX_DEPTH,
    MAX_NUMBER,
    MAX_STRING,
    MAX_TEXT_BYTES,
    MAX_TUPLE,
    SKIPPED_IMPORTS,
    StackParseError,
    Values,
    dotted_name,
    fail,
    nn_name,
    parse_python,
    scan,
    snippet,
)
from convplay.core.layer_builder import finish_steps, not_a_layer
from convplay.core.layers import KINDS, MAX_LAYERS, Stack
from convplay.core.module_reader import ClassBuilder, ModuleReader
from convplay.core.printed_model import is_printed, parse_printed

# The public names, the limits and the error re-exported from code_values among them.
__all__ = [
    "MAX_CLASS_NESTING",
    "MAX_DEPTH",
    "MAX_NUMBER",
    "MAX_STRING",
    "MAX_TEXT_BYTES",
    "MAX_TUPLE",
    "SKIPPED_IMPORTS",
    "StackParseError",
    "looks_like",
    "parse_stack",
]


# --------------------------------------------------------------------------- code


@dataclass
class _Model:
    title: str
    steps: list  # [Step]
    notes: list
    line: int


def _sequential_target(stmt):
    """The call of a top-level ``nn.Sequential(...)`` / ``nn.X(...)`` statement, else None."""
    value = _statement_value(stmt)
    if isinstance(value, ast.Call) and (nn_name(value.func) == "Sequential" or nn_name(value.func) in KINDS):
        return value
    return None


def _statement_value(stmt):
    """The value of ``expr`` or ``name = expr`` at top level, else None."""
    plain = isinstance(stmt, ast.Expr)
    assigned = (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)) \
        or (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name))
    return stmt.value if plain or assigned else None


def _is_module_class(cls: ast.ClassDef) -> bool:
    return any(dotted_name(base) in ("nn.Module", "torch.nn.Module") for base in cls.bases)


def _class_calls(node, classes) -> set:
    return {n.func.id for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in classes}


def _parse_code(text: str, title: str) -> Stack:
    tree = parse_python(text)
    layer_calls = scan(tree)
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
            builder = ClassBuilder(classes)
            call = instances.get(stmt.name)
            reader = ModuleReader(stmt, builder, None if call is None else (call, Values()))
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
            fail(bare, not_a_layer(bare))
        call = _sequential_target(stmt)
        if call is not None:
            builder = ClassBuilder(classes)
            if nn_name(call.func) == "Sequential":
                steps = builder.sequential(call, "", Values())
                label = "nn.Sequential"
            else:
                steps = builder.module(call, "", Values())
                label = f"nn.{nn_name(call.func)}"
            models.append(_Model(label, steps, builder.notes, stmt.lineno))  # nn.Sequential() is empty
            if len(models) > MAX_LAYERS:
                fail(stmt, f"the text holds more than {MAX_LAYERS} models: paste the one to read")
            continue
        found = layer_calls.get(id(stmt))
        if found is not None:
            how = ""
            if any(isinstance(n, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)) for n in ast.walk(stmt)):
                how = " in a comprehension"
            elif isinstance(stmt, (ast.For, ast.While)):
                how = " in a loop"
            fail(found, f"{snippet(found, 30)} is built{how} outside nn.Sequential(...) and a module's __init__: "
                        "convplay reads layers only there, written out one by one")
        skipped_lines += (stmt.end_lineno or stmt.lineno) - stmt.lineno + 1
    if not models:
        raise StackParseError("found no layers: paste an nn.Sequential(...), a class with self.name = nn.X(...) "
                              "lines, or the text print(model) writes")
    model = models[-1]
    notes = list(model.notes)
    model.steps = finish_steps(model.steps, notes)
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
        stack = parse_printed(readable, title) if is_printed(readable) else _parse_code(readable, title)
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
        if is_printed(head):
            return "printed"
        if re.search(r"^\s*class\s+\w+\s*\(", head, re.MULTILINE):
            return "module"
        if re.search(r"\bSequential\s*\(", head):
            return "sequential"
    except Exception:  # noqa: BLE001 - a hint never raises
        return ""
    return ""
