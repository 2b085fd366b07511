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


def _screenshot(app, window, path: str) -> None:
    """Save the window once PyTorch's output is in; exit 1 on an error or a timeout."""
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
        # A view on screen still checking itself against PyTorch (the matrix view, the four
        # transposed views) is waited for: the picture shows its verdict, not "checking".
        if window.checks_pending():
            QTimer.singleShot(20, save)
            return
        if window.grab().save(path):
            finish(0)
        else:
            finish(1, f"could not write the screenshot to {path}")

    # PyTorch's answer reaching the results is the moment, whichever tab is in front (the
    # output panel draws nothing while the sliding window hides it): the views that follow
    # the results were connected first, and the save waits for their layout passes.
    saved = []
    # The Network workspace on screen waits for the stack's weights, shape check and run
    # too: a picture of it shows feature maps and class scores, not "running...".
    network = window.network_controller if window.workspace == "network" else None

    def save_once(*_args) -> None:
        # A view on screen that shows the check against the float64 reference (the sliding
        # window's badge) waits for its verdict: a picture says "Matches PyTorch", not "waiting".
        if network is not None and not network.is_settled:
            return
        if not saved and window.results.current_output is not None and not window.results.needs_reference:
            saved.append(True)
            QTimer.singleShot(0, save)

    window.results.outcome_changed.connect(save_once)
    window.results.reference_changed.connect(save_once)
    if network is not None:
        network.settled.connect(save_once)
    window.compute_failed.connect(lambda message: finish(1, message))
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: finish(1, "timed out waiting for PyTorch's output"))


def _export(app, window, args) -> str:
    """--export: once PyTorch's output is in, render the animation to the file and exit 0
    (1 with the reason on an error).  Returns "" when it has begun, else why it cannot."""
    from convplay.qt.export.job import ExportJob, ExportOptions, check_options

    first, last = args.steps or (None, None)
    options = ExportOptions(args.export, size=args.export_size, first=first, last=last, fps=args.fps or 10,
                            frames_per_step=args.frames_per_step or 1, arithmetic=not args.no_arithmetic)
    problem = check_options(options)
    if problem:
        return problem
    job = ExportJob(window.session, window.results, options, parent=window)

    def finish(code: int, message: str = "") -> None:
        if message:
            print(f"convplay: {message}", file=sys.stderr)
        window.close()
        app.exit(code)

    def done(path: str, seconds: float) -> None:
        n = job.total_frames
        finish(0, f"wrote {path} ({n:,} frame{'' if n == 1 else 's'}) in {seconds:.1f} s")

    job.finished.connect(done)
    job.failed.connect(lambda reason: finish(1, f"--export {args.export}: {reason}"))
    problem = job.start()  # draws nothing until PyTorch's output is in
    if problem:
        job.deleteLater()
        return problem
    window.compute_failed.connect(lambda message: finish(1, message))
    return ""


def _start_document(args: argparse.Namespace):
    """(document, 0-based step) for ``FILE.convplay`` or ``--lesson ID``, else None;
    StartupError (or SessionFileError) says why a file is refused."""
    from convplay import startup

    for name in ("lesson_document", "opened_document"):
        get = getattr(startup, name, None)
        found = get(args) if get is not None else None
        if found is not None:
            return found
    return None


def _start_session(document, step):
    """The session the window is made with: the document's state (a lesson's step)."""
    from convplay.core.session_file import session_from_state

    steps = getattr(document, "steps", ())
    state = steps[int(step or 0)].state if steps else document.state
    return session_from_state(state)


def _open_start_document(window, args: argparse.Namespace, document, step) -> None:
    """The window on the document it was started with: a session's state and view, or a
    lesson at ``step``; the start is not an undo step.  --device and --dtype, when given,
    win over the file's."""
    from convplay.qt import session_commands

    settings = window.compute_settings
    chosen = settings.device, settings.dtype
    path = "" if getattr(args, "lesson", None) else str(args.image or "")
    session_commands.open_document(window, document, path, int(step or 0))
    if getattr(args, "device", None):
        settings.set_device(chosen[0])
    if getattr(args, "dtype", None):
        settings.set_dtype(chosen[1])
    window.undo_stack.clear()


def show_refused_start(window, reason: str) -> None:
    """The reason a file given at start was refused, in a message box once the window is up
    (not blocking the start: the event loop shows it)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    window.refused_start = reason

    def show() -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Cannot open the session",
                          f"{reason}\n\nconvplay started on the camera photo instead.", parent=window)
        box.setObjectName("refused-start")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    from PySide6.QtCore import Qt

    QTimer.singleShot(0, show)


def run(args: argparse.Namespace) -> int:
    """Build the window from ``args``, run the event loop, return the exit code."""
    built = build(args)
    if isinstance(built, int):
        return built
    app, window = built
    window.show()
    code = app.exec()
    _tear_down(app, window)
    return code


def build(args: argparse.Namespace):
    """The application and the window ``args`` ask for, not yet shown: ``(app, window)``,
    or the exit code when there is nothing to show (a refused choice: 1 or 2)."""
    # Before any large allocation and before torch: keep freed memory mapped (DESIGN.md).
    from convplay.compute.allocator import tune_allocator

    tune_allocator()
    if args.screenshot or args.export:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if "PySide6.QtWidgets" not in sys.modules:
        # Before Qt chooses its platform plugin: a missing display or missing X libraries
        # are a message and exit 1 here, where Qt itself would abort (exit 134) with a
        # misleading line.  A QApplication made earlier (tests) has chosen already.
        from convplay.platform_check import display_problem

        problem = display_problem()
        if problem:
            print(problem, file=sys.stderr)
            return 1

    from PySide6.QtWidgets import QApplication

    from convplay.qt.workers import apply_thread_switch_policy

    apply_thread_switch_policy()  # process policy: workers start their jobs at once

    from convplay.core.compute_settings import ComputeSettings
    from convplay.qt.main_window import MainWindow
    from convplay.startup import StartupError, compute_choice, initial_session, open_stack, stack_choice

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("convplay")
    app.setApplicationName("convplay")
    refused = ""  # a session file the window opens without: the reason in a message box
    try:
        try:
            opened = _start_document(args)  # a session or lesson to open on; refused: the reason, exit 2
        except (StartupError, ValueError) as exc:
            if args.screenshot or args.export:
                raise
            # Double-clicked, a damaged file is a window on the default start saying why.
            refused, opened = str(exc), None
            args = argparse.Namespace(**{**vars(args), "image": None, "lesson": None})
        session, notes = (_start_session(*opened), []) if opened is not None else initial_session(args)
        device, dtype = compute_choice(args)
        compute_settings = ComputeSettings(device=device, dtype=dtype)
        stack = stack_choice(args, session.image.shape)  # --stack, --stack-file: refused text exits 2
    except (StartupError, ValueError) as exc:
        print(f"convplay: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"convplay: {note}", file=sys.stderr)

    # A screenshot shows the default layout and leaves the user's saved layout alone.
    window = MainWindow(session, compute_settings, remember_layout=not (args.screenshot or args.export))
    if os.environ.get(FIRST_PAINT_ENV):
        window.first_painted.connect(lambda: print(f"convplay-first-paint {time.time():.6f}", file=sys.stderr, flush=True))
    if opened is not None:
        _open_start_document(window, args, *opened)
    if refused:
        show_refused_start(window, refused)
    if stack is not None:
        open_stack(window, stack, args)
    if getattr(args, "workspace", None):
        window.set_workspace(args.workspace)
    if getattr(args, "output_view", None):
        window.output_panel.set_gradient_view(args.output_view)
    if args.focus:
        window.set_focus_mode(True)
    if args.step:
        error = window.show_animation_step(args.step - 1)
        if error:
            print(f"convplay: --step {args.step}: {error}", file=sys.stderr)
            window.close()  # stops the compute thread before Qt tears it down
            return 2
    if args.export:
        problem = _export(app, window, args)
        if problem:
            print(f"convplay: --export {args.export}: {problem}", file=sys.stderr)
            window.close()
            return 2
        window.resize(*(args.window_size or SCREENSHOT_SIZE))
    elif args.screenshot:
        _screenshot(app, window, args.screenshot)
        window.resize(*(args.window_size or SCREENSHOT_SIZE))
    elif args.window_size:
        window.resize(*args.window_size)
    elif not window.has_remembered_geometry:
        window.fit_to_screen()
    return app, window


def _tear_down(app, window) -> None:
    """Delete the window while Python is still whole.

    Left to interpreter shutdown, Qt delivers layout events to pyqtgraph's Python
    overrides after their modules are gone, and shiboken crashes printing the error.
    """
    from PySide6.QtCore import QCoreApplication, QEvent

    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    app.processEvents()
