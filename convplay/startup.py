"""The session convplay opens on, made from the parsed command line, without Qt.

Every choice that cannot be honoured raises ``StartupError`` with a sentence for the
user; the caller prints it and exits.  ``load_kernel_file`` returns the notes a kernel
file's loading produced (which filter was used, NaN warnings) as values, for the caller
to print.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass


class StartupError(ValueError):
    """A command-line choice that cannot be honoured; the text is for the user.  ``field``
    names the option at fault where it is known ("kernel_size" for --kernel-size)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def working_size_from(args: argparse.Namespace) -> int:
    """``--size`` checked against the limits the input panel has, or the default."""
    from convplay.core.image_io import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE

    size = getattr(args, "size", None)
    if size is None:
        return DEFAULT_WORKING_SIZE
    if not MIN_WORKING_SIZE <= size <= MAX_WORKING_SIZE:
        raise StartupError(f"--size must be between {MIN_WORKING_SIZE} and {MAX_WORKING_SIZE} px, not {size}", "size")
    return int(size)


def compute_choice(args: argparse.Namespace) -> tuple[str, str]:
    """(device, dtype) from ``--device`` and ``--dtype``, refused with the reason where this
    machine cannot run them (``--device cuda`` without CUDA, float16 on the CPU): running
    somewhere else than asked, silently, would misreport every timing and precision."""
    from convplay.compute.devices import ComputeError, check_device, check_dtype

    device, dtype = getattr(args, "device", None) or "cpu", getattr(args, "dtype", None) or "float32"
    try:
        if device != "cpu":
            device = check_device(device)  # imports torch: only for a device other than the CPU
        return device, check_dtype(device, dtype)
    except ComputeError as exc:
        option = "--device" if exc.field == "device" else "--dtype"
        raise StartupError(f"{option}: {exc}", option[2:]) from None


def initial_session(args: argparse.Namespace, working_size: int | None = None):
    """The session the window opens on: the image (or the camera photo), the kernel preset
    on every channel pair, the settings given, and ``--kernel-file`` if any.

    Returns ``(session, notes)``: ``notes`` are lines for the user about the kernel file.
    """
    import numpy as np

    from convplay.core.image_io import MAX_WORKING_SIZE, MIN_WORKING_SIZE, ImageLoadError, load_image
    from convplay.core.kernel_edits import ALL, fill_note, usable_weight_shape, with_kernel
    from convplay.core.kernel_recipe import pair_layer
    from convplay.core.presets import DEFAULT_PRESET_KEY, UnknownPresetError, get_preset
    from convplay.core.samples import sample
    from convplay.core.input_source import InputSource
    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec

    if working_size is None:
        working_size = working_size_from(args)
    if args.image and args.sample:
        raise StartupError("give an image file or --sample, not both", "sample")
    blank_shape = getattr(args, "input_shape", None)
    if stack_given(args):
        blank_shape = None  # it is the stack's input shape: the playground keeps its image
    if blank_shape and (args.image or args.sample):
        raise StartupError("--input-shape makes a blank input: give it instead of an image file or --sample, not with one", "input_shape")
    if blank_shape and getattr(args, "size", None) is None:
        working_size = min(max(max(blank_shape[1:]), MIN_WORKING_SIZE), MAX_WORKING_SIZE)
    try:
        if blank_shape:
            source = blank_input(blank_shape)
        elif args.image:
            # The original at up to the largest working size, so that a later resize
            # starts from the file's own detail.
            source = InputSource.from_array(load_image(args.image, long_side=MAX_WORKING_SIZE), str(args.image))
        else:
            source = InputSource.from_sample(sample(args.sample or "camera"))
        image = source.own() if source.fixed_size or blank_shape else source.at(working_size)
    except StartupError:
        raise  # a blank input's own refusal, with its field
    except KeyError as exc:
        raise StartupError(str(exc).strip("'\""), "sample") from None
    except (ImageLoadError, OSError, ValueError) as exc:
        raise StartupError(str(exc), "image" if args.image else "sample") from None
    recipe = kernel_recipe_from(args.kernel)
    if recipe is None:
        try:
            preset = get_preset(args.kernel or DEFAULT_PRESET_KEY)
        except UnknownPresetError as exc:
            raise StartupError(str(exc), "kernel") from None
        kernel, kernel_name = np.asarray(preset.weights, dtype=np.float64), preset.name
    else:
        kernel, kernel_name = recipe.kernels()[0], recipe.name
    options = {
        "stride": args.stride,
        "padding": args.padding,
        "padding_mode": args.padding_mode,
        "dilation": args.dilation,
        "groups": args.groups,
        "out_channels": args.out_channels,
        "output_padding": args.output_padding,
        "bias": False if args.no_bias else None,
        "transposed": True if args.transposed else None,
    }
    spec = ConvSpec(in_channels=image.shape[0], kernel_size=kernel.shape).replace(
        **{k: v for k, v in options.items() if v is not None}
    )
    if recipe is not None and recipe.pair:
        for option, wanted in (("out_channels", 2), ("groups", 1)):
            given = options[option]
            if given is not None and given != wanted:
                raise StartupError(
                    f"--kernel {recipe.family} is a gradient pair: it has {option} {wanted}, not {given}", "kernel"
                )
        spec, weight = pair_layer(spec, recipe.kernels())
        note = f"{recipe.name}: x on output channel 0, y on 1, each on every input channel."
    else:
        # The kernel on every (out, in) pair; settings without a weight shape (groups that do
        # not divide the channels) keep one channel pair until they are fixed.
        shape = usable_weight_shape(spec, (1, 1, *kernel.shape))
        layout = {"transposed": bool(spec.transposed), "groups": spec.groups}
        weight = with_kernel(np.zeros(shape), kernel, ALL, (0, 0), **layout)
        note = fill_note(kernel_name, kernel, shape, ALL, (0, 0), **layout)
    session = Session(
        image, spec, weight, working_size=working_size, source=source, kernel_name=kernel_name, kernel_note=note,
        kernel_recipe=recipe,
    )
    session.set_true_convolution(bool(getattr(args, "true_convolution", False)))
    notes: list[str] = []
    if getattr(args, "kernel_file", None):
        notes = load_kernel_file(session, args.kernel_file)
    if getattr(args, "kernel_size", None) is not None:
        fit_kernel_size(session, args.kernel_size)
    return session, notes


# A blank input is at most what the app opens: channels up to the 64 the out_channels and
# groups fields allow, sides up to the largest working size, no more values than an RGB
# photo at that size.
MAX_BLANK_CHANNELS = 64
MAX_BLANK_VALUES = 3 * 2048 * 2048


def blank_input(shape):
    """``--input-shape C,H,W``: an input of zeros of that shape, its own original (the
    working size does not resample it until the user changes it)."""
    import numpy as np

    from convplay.core.image_io import MAX_WORKING_SIZE
    from convplay.core.input_source import InputSource

    c, h, w = (int(v) for v in shape)
    if not 1 <= c <= MAX_BLANK_CHANNELS:
        raise StartupError(f"--input-shape: 1 to {MAX_BLANK_CHANNELS} channels, not {c}", "input_shape")
    if not (1 <= h <= MAX_WORKING_SIZE and 1 <= w <= MAX_WORKING_SIZE):
        raise StartupError(f"--input-shape: height and width from 1 to {MAX_WORKING_SIZE} px, not {h}×{w}", "input_shape")
    if c * h * w > MAX_BLANK_VALUES:
        raise StartupError(
            f"--input-shape: at most {MAX_BLANK_VALUES:,} values (3×2048×2048), not {c}×{h}×{w} = {c * h * w:,}",
            "input_shape")
    return InputSource.from_array(np.zeros((c, h, w)), f"blank {c}×{h}×{w}")


def kernel_recipe_from(arg: str | None):
    """``--kernel NAME[:p=v,...]`` as a recipe when it names a kernel family (None for a
    preset's key or no option); a bad family or value is a StartupError with the reason."""
    from convplay.core.kernel_recipe import kinds, parse
    from convplay.core.parametric_kernels import KernelParameterError
    from convplay.core.presets import PRESETS

    if not arg or (":" not in arg and arg in {p.key for p in PRESETS}):
        return None
    name = arg.partition(":")[0].strip()
    if name not in kinds():
        if name in {p.key for p in PRESETS}:
            raise StartupError(f"--kernel {name} is a preset: it takes no parameters", "kernel")
        import difflib

        keys = [p.key for p in PRESETS]
        close = difflib.get_close_matches(name, [*keys, *kinds()], n=2)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise StartupError(
            f"--kernel: no preset or kernel family {name!r}{hint}; presets: {', '.join(keys)}; "
            f"families: {', '.join(kinds())}",
            "kernel",
        )
    try:
        return parse(arg)
    except KernelParameterError as exc:
        reason = str(exc).removeprefix(f"{name}: ")
        raise StartupError(f"--kernel {arg}: {reason}", "kernel") from None


def fit_kernel_size(session, size) -> None:
    """``--kernel-size N|H,W``: the kernel fitted to that size as the kernel panel's size
    fields do (cropped or grown with zeros around its centre)."""
    from convplay.core.kernel_edits import kernel_size_arg
    from convplay.core.kernel_io import LIMITS

    kh, kw = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    top = LIMITS.max_spatial
    if not (1 <= kh <= top and 1 <= kw <= top):
        shown = str(kh) if kh == kw else f"{kh},{kw}"
        raise StartupError(f"--kernel-size: 1 to {top} on each axis, not {shown}", "kernel_size")
    session.set_spec(session.spec.replace(kernel_size=kernel_size_arg(kh, kw)))


def load_kernel_file(session, arg: str) -> list[str]:
    """Apply ``--kernel-file PATH[:NAME][:INDEX]`` to ``session``; a refused file is a
    StartupError.  Returns the notes for the user (which tensor was used, warnings)."""
    from convplay.compute.checkpoints import resolve_kernel_file_arg
    from convplay.core.kernel_io import KernelFileError

    try:
        choice = resolve_kernel_file_arg(arg, session.spec, session.image.shape[0])
    except KernelFileError as exc:
        raise StartupError(str(exc), "kernel_file") from None
    session.set_kernel(choice.spec, choice.weight, choice.bias, name=f"from {os.path.basename(str(arg))}")
    return list(choice.notes)


def lesson_document(args: argparse.Namespace):
    """``--lesson ID [--lesson-step N]``: ``(document, index)`` with ``index`` 0-based into
    ``document.steps``, or None without ``--lesson``.  An unknown id, a damaged lesson or a
    step out of range is a StartupError with the reason."""
    lesson_id = getattr(args, "lesson", None)
    step = getattr(args, "lesson_step", None)
    opened = getattr(args, "image", None)
    if lesson_id is None:
        if step is not None and not opened:  # with a FILE, opened_document takes the step
            raise StartupError("--lesson-step needs --lesson ID or a lesson file")
        return None
    if opened:
        raise StartupError(f"give a file to open or --lesson, not both ({os.path.basename(str(opened))} and --lesson {lesson_id})")
    from convplay.core.lessons import LessonNotFound, load_lesson
    from convplay.core.session_file import SessionFileError

    try:
        document = load_lesson(lesson_id)
    except LessonNotFound as exc:
        raise StartupError(f"--lesson: {exc}") from None
    except SessionFileError as exc:
        raise StartupError(f"--lesson {lesson_id}: {exc}") from None
    n = len(document.steps)
    number = 1 if step is None else step
    if not 1 <= number <= n:
        raise StartupError(
            f"--lesson-step {number}: there {'is 1 step (1)' if n == 1 else f'are {n} steps (1 to {n})'} "
            f"in the lesson {lesson_id!r}"
        )
    return document, number - 1


def opened_document(args: argparse.Namespace):
    """``convplay FILE`` where FILE is a session or lesson (.convplay or .json, or a zip or
    JSON document by its content): ``(document, index)``, ``index`` the step to open,
    0-based, from ``--lesson-step`` (0 for a session); None when FILE is not one (or absent).
    A refused file is a StartupError with the reason; the reading's warnings go to stderr."""
    import sys

    from convplay.core.session_file import SessionFileError, is_session_file, read_document

    path = getattr(args, "image", None)
    if not path or not is_session_file(path):
        return None
    name = os.path.basename(str(path))
    try:
        document, warnings = read_document(path)
    except SessionFileError as exc:
        raise StartupError(f"{name}: {exc}") from None
    for warning in warnings:
        print(f"convplay: {name}: {warning}", file=sys.stderr)
    step = getattr(args, "lesson_step", None)
    if document.kind != "lesson":
        if step is not None:
            raise StartupError(f"--lesson-step {step}: {name} is a session, not a lesson")
        return document, 0
    n = len(document.steps)
    number = 1 if step is None else step
    if not 1 <= number <= n:
        raise StartupError(f"--lesson-step {number}: the lesson in {name} has {n} step{'s' if n != 1 else ''} (1 to {n})")
    return document, number - 1


# -- a layer stack: --stack, --stack-file ----------------------------------------------

# The largest input a stack is traced on from the command line: the Network model holds no
# more (core.network), and a shape it would not hold must be refused, not replaced.
MAX_STACK_SIDE = 4096


@dataclass(frozen=True)
class StackChoice:
    """The stack ``--stack`` or ``--stack-file`` gives: the ``stack``, the ``input_shape``
    (C, H, W) it is traced on, the built-in model's ``key`` ("" for code), and where the
    shape came from (``shape_from``: "--input-shape", "the built-in model", "the image")."""

    stack: object
    input_shape: tuple[int, int, int]
    key: str = ""
    shape_from: str = ""


def stack_given(args: argparse.Namespace) -> bool:
    return getattr(args, "stack", None) is not None or getattr(args, "stack_file", None) is not None


def read_stack_file(path) -> str:
    """``--stack-file FILE``: its text, at most the 200 KB the parser reads; the file is
    only read, never imported or run.  A refusal is a StartupError with the reason."""
    from convplay.core.stack_parse import MAX_TEXT_BYTES

    name = os.path.basename(str(path)) or str(path)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise StartupError(f"--stack-file {name}: {exc.strerror or exc}", "stack_file") from None
    if not os.path.isfile(path):  # a FIFO or a device would block or never end
        raise StartupError(f"--stack-file {name}: not a file", "stack_file")
    too_big = (f"--stack-file {name}: {size / 1024:,.0f} KB is over the {MAX_TEXT_BYTES // 1024} KB a model's "
               "code may be: give a file with only the model")
    if size > MAX_TEXT_BYTES:
        raise StartupError(too_big, "stack_file")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise StartupError(f"--stack-file {name}: {exc.strerror or exc}", "stack_file") from None
    if len(data) > MAX_TEXT_BYTES:  # it grew since
        raise StartupError(too_big, "stack_file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StartupError(f"--stack-file {name}: not UTF-8 text (byte {exc.start + 1})", "stack_file") from None


def _stack_from_text(text: str, option: str):
    """(stack, built-in key or "") for ``--stack TEXT`` or a file's text."""
    import dataclasses

    from convplay.core.builtin_stacks import BUILTIN_STACKS, builtin_stack
    from convplay.core.stack_parse import StackParseError, parse_stack

    key = text.strip().lower()
    if key in BUILTIN_STACKS:
        return builtin_stack(key)[0], key
    try:
        stack = parse_stack(text)
    except StackParseError as exc:
        refused = StartupError(f"{option}: {exc}", "stack_file" if option.startswith("--stack-file") else "stack")
        refused.line = exc.line  # for --describe's JSON
        raise refused from None
    if not stack.layers:
        raise StartupError(f"{option}: the stack has no layers", "stack")
    if not stack.title:
        stack = dataclasses.replace(stack, title="the stack from the command line")
    return stack, ""


def _stack_shape(shape, option: str) -> tuple[int, int, int]:
    from convplay.core.layers import MAX_CHANNELS

    c, h, w = (int(v) for v in shape)
    if not 1 <= c <= MAX_CHANNELS:
        raise StartupError(f"{option}: a stack's input has 1 to {MAX_CHANNELS} channels, not {c}", "input_shape")
    if not (1 <= h <= MAX_STACK_SIDE and 1 <= w <= MAX_STACK_SIDE):
        raise StartupError(f"{option}: a stack's input is 1 to {MAX_STACK_SIDE} px a side, not {h}×{w}",
                           "input_shape")
    return c, h, w


def stack_choice(args: argparse.Namespace, image_shape=None) -> StackChoice | None:
    """The stack of ``--stack`` or ``--stack-file`` (None without either) and the input
    shape it is traced on: ``--input-shape``; else a built-in model's own (the window
    resizes the image to it); else ``image_shape``, the (C, H, W) of the image or sample
    given on the command line; else the shape the stack itself says.  Text that does not
    parse, or a stack with no shape to trace it on, is a StartupError ("--stack: line 3:
    ..."); nothing in the text is run."""
    text, path = getattr(args, "stack", None), getattr(args, "stack_file", None)
    if text is None and path is None:
        return None
    if text is not None and path is not None:
        raise StartupError("give --stack or --stack-file, not both", "stack")
    if path is not None:
        option = f"--stack-file {os.path.basename(str(path))}"
        stack, key = _stack_from_text(read_stack_file(path), option)
    else:
        option = "--stack"
        stack, key = _stack_from_text(text, option)
    given = getattr(args, "input_shape", None)
    if given:
        return StackChoice(stack, _stack_shape(given, "--input-shape"), key, "--input-shape")
    if key and stack.input_shape is not None:
        return StackChoice(stack, tuple(stack.input_shape), key, "the built-in model")
    if image_shape is not None and (getattr(args, "image", None) or getattr(args, "sample", None)):
        return StackChoice(stack, _stack_shape(image_shape, option), key, "the image")
    if stack.input_shape is not None:
        return StackChoice(stack, _stack_shape(stack.input_shape, option), key, "the stack")
    raise StartupError(
        f"{option}: the stack does not say the size of its input: give --input-shape C,H,W "
        "(e.g. --input-shape 1,28,28 for a 28×28 gray image), or an image or --sample to take it from",
        "input_shape")


# The digit the digits CNN opens on when the command line gives no input of its own.
START_DIGIT = 3


def open_stack(window, choice: StackChoice, args: argparse.Namespace | None = None) -> None:
    """The window's network on ``choice``: a built-in model with its weights and labels
    (the network controller loads it), code as the stack alone; then the Network
    workspace, unless ``--workspace`` chose another.  The digits CNN with no image, sample
    or session given opens on one of its test digits (not an undo step)."""
    network = window.network
    load = getattr(getattr(window, "network_controller", None), "load_builtin", None)
    if choice.key and load is not None:
        load(choice.key)
        if tuple(network.input_shape) != tuple(choice.input_shape):
            network.set_input_shape(choice.input_shape)
    else:
        labels = None
        if choice.key:
            from convplay.core.builtin_stacks import builtin_info

            labels = builtin_info(choice.key).labels
        network.set_stack(choice.stack, input_shape=choice.input_shape, labels=labels, key=choice.key)
    given = args is not None and any(getattr(args, name, None) for name in ("image", "sample", "lesson"))
    put_example = getattr(getattr(window, "scores_panel", None), "put_example", None)
    if choice.key == "digits" and not given and put_example is not None:
        put_example(START_DIGIT)
        window.undo_stack.clear()  # where the window starts, not an edit to undo
    if not getattr(args, "workspace", None):
        from convplay.qt.workspaces import NETWORK

        window.set_workspace(NETWORK)
