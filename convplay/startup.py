"""The session convplay opens on, made from the parsed command line, without Qt.

Every choice that cannot be honoured raises ``StartupError`` with a sentence for the
user; the caller prints it and exits.  ``load_kernel_file`` returns the notes a kernel
file's loading produced (which filter was used, NaN warnings) as values, for the caller
to print.
"""

from __future__ import annotations

import argparse
import os


class StartupError(ValueError):
    """A command-line choice that cannot be honoured; the text is for the user."""


def working_size_from(args: argparse.Namespace) -> int:
    """``--size`` checked against the limits the input panel has, or the default."""
    from convplay.core.image_io import DEFAULT_WORKING_SIZE, MAX_WORKING_SIZE, MIN_WORKING_SIZE

    size = getattr(args, "size", None)
    if size is None:
        return DEFAULT_WORKING_SIZE
    if not MIN_WORKING_SIZE <= size <= MAX_WORKING_SIZE:
        raise StartupError(f"--size must be between {MIN_WORKING_SIZE} and {MAX_WORKING_SIZE} px, not {size}")
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
        raise StartupError(f"{option}: {exc}") from None


def initial_session(args: argparse.Namespace, working_size: int | None = None):
    """The session the window opens on: the image (or the camera photo), the kernel preset
    on every channel pair, the settings given, and ``--kernel-file`` if any.

    Returns ``(session, notes)``: ``notes`` are lines for the user about the kernel file.
    """
    import numpy as np

    from convplay.core.image_io import MAX_WORKING_SIZE, ImageLoadError, load_image
    from convplay.core.kernel_edits import ALL, fill_note, usable_weight_shape, with_kernel
    from convplay.core.presets import DEFAULT_PRESET_KEY, UnknownPresetError, get_preset
    from convplay.core.samples import sample
    from convplay.core.input_source import InputSource
    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec

    if working_size is None:
        working_size = working_size_from(args)
    if args.image and args.sample:
        raise StartupError("give an image file or --sample, not both")
    try:
        if args.image:
            # The original at up to the largest working size, so that a later resize
            # starts from the file's own detail.
            source = InputSource.from_array(load_image(args.image, long_side=MAX_WORKING_SIZE), str(args.image))
        else:
            source = InputSource.from_sample(sample(args.sample or "camera"))
        image = source.own() if source.fixed_size else source.at(working_size)
    except KeyError as exc:
        raise StartupError(str(exc).strip("'\"")) from None
    except (ImageLoadError, OSError, ValueError) as exc:
        raise StartupError(str(exc)) from None
    try:
        preset = get_preset(args.kernel or DEFAULT_PRESET_KEY)
    except UnknownPresetError as exc:
        raise StartupError(str(exc)) from None
    kernel = np.asarray(preset.weights, dtype=np.float64)
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
    # The preset on every (out, in) pair; settings without a weight shape (groups that do
    # not divide the channels) keep one channel pair until they are fixed.
    shape = usable_weight_shape(spec, (1, 1, *kernel.shape))
    layout = {"transposed": bool(spec.transposed), "groups": spec.groups}
    weight = with_kernel(np.zeros(shape), kernel, ALL, (0, 0), **layout)
    note = fill_note(preset.name, kernel, shape, ALL, (0, 0), **layout)
    session = Session(
        image, spec, weight, working_size=working_size, source=source, kernel_name=preset.name, kernel_note=note
    )
    session.set_true_convolution(bool(getattr(args, "true_convolution", False)))
    notes: list[str] = []
    if getattr(args, "kernel_file", None):
        notes = load_kernel_file(session, args.kernel_file)
    return session, notes


def load_kernel_file(session, arg: str) -> list[str]:
    """Apply ``--kernel-file PATH[:NAME][:INDEX]`` to ``session``; a refused file is a
    StartupError.  Returns the notes for the user (which tensor was used, warnings)."""
    from convplay.compute.checkpoints import resolve_kernel_file_arg
    from convplay.core.kernel_io import KernelFileError

    try:
        choice = resolve_kernel_file_arg(arg, session.spec, session.image.shape[0])
    except KernelFileError as exc:
        raise StartupError(str(exc)) from None
    session.set_kernel(choice.spec, choice.weight, choice.bias, name=f"from {os.path.basename(str(arg))}")
    return list(choice.notes)
