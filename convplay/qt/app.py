"""Start the application from parsed command-line arguments: ``run(args) -> exit code``."""

from __future__ import annotations

import argparse
import os
import sys
import time

SCREENSHOT_SIZE = (1600, 1000)
SCREENSHOT_TIMEOUT_MS = 120_000
# Set to any value to print "convplay-first-paint <unix time>" on stderr at the first paint
# (benchmarks/live_update.py measures start-up with it).
FIRST_PAINT_ENV = "CONVPLAY_REPORT_FIRST_PAINT"


class StartupError(ValueError):
    """A command-line choice that cannot be honoured; the text is for the user."""


def initial_session(args: argparse.Namespace, working_size: int):
    """The session the window opens on: the image (or the camera photo) and the kernel preset."""
    import numpy as np

    from convplay.core.image_io import load_image
    from convplay.core.presets import DEFAULT_PRESET_KEY, UnknownPresetError, get_preset
    from convplay.core.samples import sample
    from convplay.core.session import Session, usable_weight_shape
    from convplay.core.spec import ConvSpec

    if args.image and args.sample:
        raise StartupError("give an image file or --sample, not both")
    if args.image:
        try:
            image = load_image(args.image, long_side=working_size)
        except (OSError, ValueError) as exc:
            raise StartupError(str(exc)) from None
    else:
        try:
            image = sample(args.sample or "camera").image(working_size)
        except KeyError as exc:
            raise StartupError(str(exc).strip("'\"")) from None
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
    # The preset on every (out, in) pair; an impossible spec keeps a 1x1-channel kernel.
    shape = usable_weight_shape(spec, (1, 1, *kernel.shape))
    weight = np.broadcast_to(kernel, shape).copy()
    session = Session(image, spec, weight)
    session.set_true_convolution(args.true_convolution)
    if args.kernel_file:
        _load_kernel_file(session, args.kernel_file)
    return session


def _load_kernel_file(session, arg: str) -> None:
    """Apply ``--kernel-file PATH[:NAME][:INDEX]``; a refused file is a StartupError."""
    from convplay.compute.checkpoints import resolve_kernel_file_arg
    from convplay.core.kernel_io import KernelFileError

    try:
        choice = resolve_kernel_file_arg(arg, session.spec, session.image.shape[0])
    except KernelFileError as exc:
        raise StartupError(str(exc)) from None
    for note in choice.notes:
        print(f"convplay: {note}", file=sys.stderr)
    session.set_kernel(choice.spec, choice.weight, choice.bias)


def _screenshot(app, window, path: str) -> None:
    """Save the window once PyTorch's output is on screen; exit 1 on an error or a timeout."""
    from PySide6.QtCore import QTimer

    def finish(code: int, message: str = "") -> None:
        if message:
            print(f"convplay: {message}", file=sys.stderr)
        window.close()
        app.exit(code)

    def save() -> None:
        # Let wrapped labels and docks finish their layout passes before the picture.
        for _ in range(3):
            app.processEvents()
        if window.grab().save(path):
            finish(0)
        else:
            finish(1, f"could not write the screenshot to {path}")

    window.output_shown.connect(lambda: QTimer.singleShot(0, save))
    window.compute_failed.connect(lambda message: finish(1, message))
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: finish(1, "timed out waiting for PyTorch's output"))


def run(args: argparse.Namespace) -> int:
    """Build the window from ``args``, run the event loop, return the exit code."""
    # Before any large allocation and before torch: keep freed memory mapped (DESIGN.md).
    from convplay.compute.allocator import tune_allocator

    tune_allocator()
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from convplay.core.compute_settings import ComputeSettings
    from convplay.qt.main_window import DEFAULT_WORKING_SIZE, MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("convplay")
    app.setApplicationName("convplay")
    working_size = args.size or DEFAULT_WORKING_SIZE
    try:
        if not 8 <= working_size <= 1024:
            raise StartupError(f"--size must be between 8 and 1024 px, not {working_size}")
        session = initial_session(args, working_size)
        device = args.device or "cpu"
        compute_settings = ComputeSettings(device="cuda:0" if device == "cuda" else device, dtype=args.dtype or "float32")
    except (StartupError, ValueError) as exc:
        print(f"convplay: {exc}", file=sys.stderr)
        return 2

    # A screenshot shows the default layout and leaves the user's saved layout alone.
    window = MainWindow(session, compute_settings, working_size=working_size, remember_layout=not args.screenshot)
    if os.environ.get(FIRST_PAINT_ENV):
        window.first_painted.connect(lambda: print(f"convplay-first-paint {time.time():.6f}", file=sys.stderr, flush=True))
    if args.focus:
        window.set_focus_mode(True)
    if args.step:
        if not window.show_animation_step(args.step - 1):
            print(f"convplay: --step {args.step}: {window.animation_panel.message.text()}", file=sys.stderr)
            window.close()  # stops the compute thread before Qt tears it down
            return 2
    if args.screenshot:
        _screenshot(app, window, args.screenshot)
        window.resize(*(args.window_size or SCREENSHOT_SIZE))
    elif args.window_size:
        window.resize(*args.window_size)
    window.show()
    code = app.exec()
    _tear_down(app, window)
    return code


def _tear_down(app, window) -> None:
    """Delete the window while Python is still whole.

    Left to interpreter shutdown, Qt delivers layout events to pyqtgraph's Python
    overrides after their modules are gone, and shiboken crashes printing the error.
    """
    from PySide6.QtCore import QCoreApplication, QEvent

    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    app.processEvents()
