"""``convplay [options] --describe``: the setup as JSON, without a window.

Everything comes from the core (shapes, the formula panel's lines, counts), so neither Qt
nor torch is imported.  One JSON object for the setup the options make or for a session
file; a JSON list, one object a step, for a lesson.

An impossible setup is still described as far as it is known, with ``"error"`` (the
reason) and ``"field"`` (the ConvSpec field at fault, or the option's name) added; the
reason also goes to stderr and the exit status is 2.

With ``--stack`` or ``--stack-file`` it describes the layer stack instead: the core's
trace (every layer's shapes, parameters, MACs, receptive field and jump, and ``"error"``
naming the first layer that does not fit), with ``"checked_by_torch"`` saying whether
running the stack in PyTorch on the meta device gave the same shapes and stopped at the
same layer; that check is the one place torch is imported here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys

import numpy as np

from convplay.core.formula import formula_lines, table_lines, weight_shape_of
from convplay.core.spec import ConvSpec, ConvSpecError

EXIT_REFUSED = 2

SPEC_FIELDS = (
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
    "padding_mode", "transposed", "output_padding",
)
# The command-line option that sets each ConvSpec field (in_channels follows the input).
OPTIONS = {
    "input": "--input-shape", "in_channels": "--input-shape", "out_channels": "--out-channels",
    "kernel_size": "--kernel-size", "stride": "--stride", "padding": "--padding",
    "padding_mode": "--padding-mode", "dilation": "--dilation", "groups": "--groups", "bias": "--no-bias",
    "transposed": "--transposed", "output_padding": "--output-padding",
}


def _plain(value):
    """A spec value as JSON holds it: a pair as [h, w], numpy ints as ints."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


# The fields that take an int or an (h, w) pair.
PAIR_FIELDS = ("kernel_size", "stride", "padding", "dilation", "output_padding")


def _one_rule(value):
    """A pair as one int when both axes agree, else [h, w]: the same spec prints the same
    whether the user typed 3 or a file holds [3, 3]."""
    if isinstance(value, list) and len(value) == 2 and value[0] == value[1] and isinstance(value[0], int):
        return value[0]
    return value


def spec_dict(spec: ConvSpec) -> dict:
    """The spec in PyTorch's argument names; kernel_size, stride, padding, dilation and
    output_padding as an int when h == w, else [h, w]; padding may also be 'same' or
    'valid'."""
    out = {name: _plain(getattr(spec, name)) for name in SPEC_FIELDS}
    for name in PAIR_FIELDS:
        out[name] = _one_rule(out[name])
    return out


def describe_session(session) -> dict:
    """The description of a Session (or a SessionSnapshot: anything with ``image``,
    ``spec``, ``weight``, ``true_convolution``, ``kernel_name``).

    Every key whose value is defined is present; when PyTorch would refuse the setup,
    ``error`` and ``field`` say why and which ConvSpec field (or ``"input"``) is at fault,
    and the keys that need a valid setup (``output_shape``, ``macs``, the fully connected
    comparison) are left out.
    """
    spec: ConvSpec = session.spec
    input_shape = tuple(int(v) for v in session.image.shape)
    out: dict = {
        "input_shape": list(input_shape),
        "module": "nn.ConvTranspose2d" if spec.transposed is True else "nn.Conv2d",
        "spec": spec_dict(spec),
        "true_convolution": bool(session.true_convolution),
    }
    name = getattr(session, "kernel_name", "")
    if name:
        out["kernel_name"] = name
    weight = weight_shape_of(spec)
    if weight.shape is not None:
        out["weight_shape"] = list(weight.shape)
    out["weight_layout"] = weight.layout
    out["formula"] = formula_lines(spec, input_shape)
    out["table"] = table_lines(spec, input_shape, bool(session.true_convolution))
    try:
        out_shape = spec.output_shape(input_shape)
    except ConvSpecError as refused:
        out_shape = None
        out["error"], out["field"] = str(refused), refused.field or "spec"
        if refused.field in OPTIONS:
            out["option"] = OPTIONS[refused.field]
    if out_shape is not None:
        out["output_shape"] = list(out_shape)
    if weight.shape is not None and isinstance(spec.bias, (bool, np.bool_)):
        out["params"] = _params(spec, weight.shape, input_shape, out_shape)
    # Only the kernel, stride and dilation decide it: a padding PyTorch refuses leaves it known.
    reach = ConvSpec(**{f: getattr(spec, f) for f in ("kernel_size", "stride", "dilation", "transposed")})
    try:
        out["receptive_field"] = list(reach.receptive_field)
    except ConvSpecError:
        pass
    described = kernel_dict(session)
    if described is not None:
        out["kernel"] = described
        out["weight"] = _exact(np.asarray(session.weight))
    if out_shape is not None:
        out["macs"] = spec.macs(input_shape)
        if not spec.transposed:
            out["pads"] = dict(zip(("top", "bottom", "left", "right"), spec.pads()))
    return _ordered(out)


MAX_DESCRIBED_PAIRS = 64  # (out, in) pairs listed one by one in ``kernel["pairs"]``


def kernel_dict(session) -> dict | None:
    """The kernel as a designer reads it: ``name``; ``family``, ``parameters`` and
    ``normalisation``, what it was made from (null when it was not made from parameters
    or was edited by hand since); for the (0, 0) pair its sum (the DC gain), zero mean,
    symmetry along x and y, rank, L1 and L2 norms, min and max, with ``factors`` (column,
    row) when the rank is 1.  A weight of several pairs also lists each pair's sum and
    rank (up to 64 pairs).
    """
    from convplay.core.kernel_analysis import kernel_properties, separability

    weight = np.asarray(session.weight, dtype=float)
    if weight.ndim != 4 or weight.size == 0 or not np.all(np.isfinite(weight)):
        return None
    recipe = getattr(session, "kernel_recipe", None)
    first = weight[0, 0]
    made = recipe.as_dict() if recipe is not None else {}
    out = {
        "name": getattr(session, "kernel_name", "") or "",
        "family": made.get("family"),
        "parameters": made.get("parameters"),
        "normalisation": made.get("normalisation"),
        "pair": [0, 0],
        **kernel_properties(first).as_dict(),
    }
    split = separability(first)
    if split.rank == 1:
        if split.integer_factors is not None:
            col, row = split.integer_factors
        else:
            col, row = split.col, split.row
        out["factors"] = {"column": _exact(np.asarray(col).ravel()), "row": _exact(np.asarray(row).ravel())}
    n_out, n_in = weight.shape[:2]
    if n_out * n_in > 1:
        out["pairs"] = [
            {"out": o, "in": i, "sum": float(weight[o, i].sum()), "rank": separability(weight[o, i]).rank}
            for o in range(n_out) for i in range(n_in)
        ][:MAX_DESCRIBED_PAIRS]
    return out


def _exact(values: np.ndarray):
    """Nested lists, whole numbers as ints (a Sobel reads [-1, 0, 1]), others as floats."""
    values = np.asarray(values)
    if values.dtype.kind in "iu" or np.all(values == np.round(values)):
        return np.round(values).astype(np.int64).tolist()
    return values.astype(float).tolist()


def _params(spec: ConvSpec, weight_shape, input_shape, out_shape) -> dict:
    """The layer's parameters (known whenever the weight's shape is), and beside them a
    fully connected layer's (when the output's shape is known)."""
    weights, biases = math.prod(weight_shape), int(spec.out_channels)
    params = {
        "total": weights + (biases if spec.bias else 0),
        "weights": weights,
        "biases": biases if spec.bias else 0,
        "with_bias": weights + biases,
        "without_bias": weights,
    }
    if out_shape is not None:
        # As the formula panel compares: a fully connected layer over the flattened input,
        # to out_channels neurons, and to as many outputs as the whole conv output has;
        # biases as the spec's bias says.
        n_in = math.prod(input_shape)
        params["fully_connected"] = {
            "in_features": n_in,
            "bias": bool(spec.bias),
            "to_out_channels": {
                "out_features": int(spec.out_channels),
                "params": spec.fc_param_count(input_shape, out_features=spec.out_channels),
            },
            "to_whole_output": {
                "out_features": math.prod(out_shape),
                "params": spec.fc_param_count(input_shape),
            },
        }
    return params


_ORDER = ("error", "field", "option", "title", "step", "input_shape", "output_shape", "expected_output_shape",
          "module", "spec",
          "weight_shape", "weight_layout", "formula", "table", "params", "macs", "receptive_field", "pads",
          "true_convolution", "kernel_name", "kernel", "weight")


def _ordered(out: dict) -> dict:
    rank = {key: i for i, key in enumerate(_ORDER)}
    return dict(sorted(out.items(), key=lambda item: rank.get(item[0], len(rank))))


# -- the command line -----------------------------------------------------------------

def describe_stack(args: argparse.Namespace) -> dict:
    """What ``--describe`` prints for ``--stack`` or ``--stack-file``: the trace as one JSON
    object (``StackTrace.as_dict()``) with ``checked_by_torch``, and ``torch_error``
    (PyTorch's own words at the layer it refused) when torch refused one; text that does
    not parse, or a stack with no input shape, gives ``{"error": "--stack: line N: ...",
    "field": ..., "line": N}`` alone (``line`` only for text that does not parse)."""
    from convplay.core.layer_trace import trace
    from convplay.startup import StartupError, initial_session, stack_choice

    try:
        image_shape = None
        if getattr(args, "image", None) or getattr(args, "sample", None):
            image_shape = initial_session(args)[0].image.shape  # the playground's input, as the window has it
        choice = stack_choice(args, image_shape)
    except StartupError as exc:
        refusal = _startup_refusal(str(exc), getattr(exc, "field", "") or "stack")
        if getattr(exc, "line", None):
            refusal["line"] = exc.line  # where in the text, for an editor to jump to
        return refusal
    traced = trace(choice.stack, choice.input_shape)
    out = traced.as_dict()
    agrees, torch_error = _torch_agrees(choice.stack, choice.input_shape, traced)
    out["checked_by_torch"] = agrees
    if torch_error:
        out["torch_error"] = torch_error
    return out


def _torch_agrees(stack, input_shape, traced) -> tuple[bool, str]:
    """Whether PyTorch's shapes (compute.stack.check_shapes) are the trace's, layer by
    layer, and it refuses at the same layer; and torch's words for its refusal."""
    from convplay.compute.stack import check_shapes

    check = check_shapes(stack, input_shape)
    traced_shapes = [None if row.error else row.output_shape for row in traced.rows]
    if traced.failed is not None:
        traced_shapes[traced.failed:] = [None] * (len(traced_shapes) - traced.failed)
    torch_shapes = [None if shape is None else tuple(shape) for shape in check.shapes]
    agrees = check.failed == traced.failed and torch_shapes == traced_shapes and (
        check.failed is not None or not check.error)
    return agrees, check.error


def _stack_run(args: argparse.Namespace) -> int:
    result = describe_stack(args)
    _write(to_json(result) + "\n")
    error = result.get("error")
    if isinstance(error, dict):  # a layer that does not fit
        print(f"convplay: {error['message']}", file=sys.stderr)
        return EXIT_REFUSED
    if error:  # text that does not parse, a file refused, no input shape
        print(f"convplay: {error}", file=sys.stderr)
        return EXIT_REFUSED
    if result.get("checked_by_torch") is False:
        words = f": {result['torch_error']}" if result.get("torch_error") else ""
        print(f"convplay: warning: PyTorch's shapes differ from the trace's{words}", file=sys.stderr)
    return 0


def describe_args(args: argparse.Namespace):
    """What ``--describe`` prints for ``args``: a dict, or a list of dicts for a lesson.

    A setup that cannot even be made (a missing file, an unknown sample or preset, a
    size out of range) gives ``{"error": ..., "field": ...}`` alone; ``field`` is "file"
    for a session or lesson file that is refused.
    """
    from convplay.startup import StartupError, initial_session

    document = _document(args)
    if document is not None:
        return document
    try:
        session, _notes = initial_session(args)
    except StartupError as exc:
        return _startup_refusal(str(exc), getattr(exc, "field", ""))
    return describe_session(session)


def _document(args: argparse.Namespace):
    """The description of a lesson (``--lesson ID``) or a session file, or None."""
    lesson = getattr(args, "lesson", None)
    image = getattr(args, "image", None)
    if lesson:
        from convplay.core.lessons import load_lesson

        try:
            document = load_lesson(lesson)
        except (KeyError, ValueError, OSError) as exc:  # an unknown id, a damaged file
            return _startup_refusal(f"--lesson: {exc}", "lesson")
    elif image and _is_session_file(image):
        from convplay.core.session_file import read_document

        try:
            document, warnings = read_document(image)
        except (ValueError, OSError) as exc:
            return _startup_refusal(f"{os.path.basename(str(image))}: {exc}", "file")
        for warning in warnings:  # as opening it in the window says them
            print(f"convplay: {os.path.basename(str(image))}: {warning}", file=sys.stderr)
    else:
        if getattr(args, "lesson_step", None) is not None:
            return _startup_refusal("--lesson-step needs --lesson ID or a lesson file", "lesson_step")
        return None
    return _describe_document(document, getattr(args, "lesson_step", None))


def _is_session_file(path) -> bool:
    """What the window opens as a session or lesson rather than an image."""
    from convplay.core.session_file import is_session_file

    return is_session_file(path)


def _describe_document(document, only_step: int | None):
    def described(state, **extra) -> dict:
        return _ordered({**extra, **describe_session(state.snapshot)})

    steps = list(getattr(document, "steps", ()) or ())
    if getattr(document, "kind", "session") != "lesson" or not steps:
        if only_step is not None:
            return _startup_refusal(f"--lesson-step {only_step}: the file is a session, not a lesson", "lesson_step")
        if document.state is None:
            return _startup_refusal("the session file holds no state", "file")
        return described(document.state, title=document.title)
    if only_step is not None:
        if not 1 <= only_step <= len(steps):
            return _startup_refusal(
                f"--lesson-step: the lesson has {len(steps)} step{'s' if len(steps) != 1 else ''}, "
                f"not a step {only_step}", "lesson_step")
        chosen = [(only_step, steps[only_step - 1])]
    else:
        chosen = list(enumerate(steps, start=1))
    described_steps = []
    for i, step in chosen:
        extra = {"title": step.title, "step": i}
        claimed = getattr(step, "expected_output_shape", None)
        if claimed is not None:  # what the caption claims, beside what the setup gives
            extra["expected_output_shape"] = [int(v) for v in claimed]
        described_steps.append(described(step.state, **extra))
    return described_steps


def _startup_refusal(reason: str, field: str = "") -> dict:
    """A refusal before any setup exists; the field is the option the reason names."""
    if not field:
        named = re.match(r"--([a-z][a-z-]*)", reason)
        field = named.group(1).replace("-", "_") if named else "arguments"
    return {"error": reason, "field": field}


def to_json(value, indent: str = "") -> str:
    """JSON for people and programs: an object's keys one a line, a list of numbers
    (a shape) on one line."""
    inner = indent + "  "
    if isinstance(value, dict) and 0 < len(value) <= 4 and not any(isinstance(v, (dict, list)) for v in value.values()):
        return json.dumps(value, ensure_ascii=False)  # a few numbers (pads, one count) on one line
    if isinstance(value, dict) and value:
        items = (f"{inner}{json.dumps(k, ensure_ascii=False)}: {to_json(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list, str)) for v in value):
        return "[\n" + ",\n".join(f"{inner}{to_json(v, inner)}" for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def _refusals(result) -> list[str]:
    items = result if isinstance(result, list) else [result]
    return [f"{'step ' + str(item['step']) + ': ' if 'step' in item else ''}{item['error']}"
            for item in items if "error" in item]


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line parsed as ``convplay.cli.parse_args`` does, except that an error
    also prints ``{"error": argparse's message, "field": the option's name}`` on stdout
    before argparse's usage and message on stderr and exit status 2."""
    from convplay.cli import build_parser

    parser = build_parser()

    def refuse(message: str):
        named = re.match(r"argument (--[a-z][a-z-]*)", message)
        field = named.group(1)[2:].replace("-", "_") if named else "arguments"
        _write(to_json({"error": message, "field": field}) + "\n")
        parser.print_usage(sys.stderr)
        parser.exit(EXIT_REFUSED, f"{parser.prog}: error: {message}\n")

    parser.error = refuse
    return parser.parse_args(argv)


def _write(text: str) -> None:
    """``text`` on stdout as UTF-8, whatever the console's encoding."""
    out = getattr(sys.stdout, "buffer", None)
    if out is not None:
        sys.stdout.flush()
        out.write(text.encode("utf-8"))
        out.flush()
    else:
        sys.stdout.write(text)


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args`` on stdout as JSON (UTF-8); 0, or 2 with the
    reason on stderr when the setup is impossible."""
    from convplay.startup import stack_given

    if stack_given(args):
        return _stack_run(args)
    result = describe_args(args)
    _write(to_json(result) + "\n")
    refusals = _refusals(result)
    for reason in refusals:
        print(f"convplay: {reason}", file=sys.stderr)
    return EXIT_REFUSED if refusals else 0
