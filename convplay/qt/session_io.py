"""A saved session in the window: the view state read off the window, and a session state
put back into it.

``capture_view`` reads what a session file keeps of the window (the animation step on
screen, the workspace, the text zoom, the output panel's choices, the device, dtype and
TF32); ``apply_state`` puts a ``SessionState`` into the window: the session as one undoable
step (Edit > Undo brings back what was there), then its view.  What this machine cannot
honour (a CUDA device on a CPU-only machine, float16 on the CPU, a workspace or colour
mapping this version does not know) is a note for the status bar, never an error: the
rest of the state still opens.

Reading and writing files go through here (``read_document``, ``write_document``): an
unreadable or unwritable file is the same ``SessionFileError`` with the reason as a
refused one, for the one message box that says it.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from convplay.core import session_file
from convplay.core.history import push_change
from convplay.qt import workspaces
from convplay.qt.zoom import STEPS as ZOOM_STEPS
from convplay.qt.zoom import text_zoom

if TYPE_CHECKING:
    from convplay.core.session_file import SessionState, ViewState
    from convplay.qt.main_window import MainWindow

SessionFileError = session_file.SessionFileError
SUFFIX = ".convplay"
FILE_FILTER = "convplay sessions and lessons (*.convplay *.json);;All files (*)"
SAVE_FILTER = "convplay session (*.convplay)"
LESSON_SAVE_FILTER = "convplay lesson (*.convplay)"
NOTE_MS = 10_000


def read_document(path: str) -> tuple[object, list[str]]:
    """(the document in ``path``, the warnings its reading gave); SessionFileError with the
    reason if it is refused."""
    try:
        document, warnings = session_file.read_document(path)
    except OSError as exc:  # unreadable: the same refusal as a damaged file
        raise SessionFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return document, [str(w) for w in warnings]


def write_document(path: str, document) -> None:
    """Write ``document``; SessionFileError with the reason if it cannot be written."""
    try:
        session_file.write_document(path, document)
    except OSError as exc:
        raise SessionFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def steps_of(document) -> list:
    return list(getattr(document, "steps", None) or ())


def is_lesson(document) -> bool:
    """A session file with steps is a lesson, whatever its ``kind`` says."""
    return bool(steps_of(document))


# -- the view -------------------------------------------------------------------------------
def _view_fields() -> set[str]:
    return {f.name for f in fields(session_file.ViewState)}


def capture_view(window: "MainWindow") -> "ViewState":
    """What the window shows, as a file keeps it."""
    panel = window.animation_panel
    dock = window.docks["animation"]
    shown = dock.isVisible() and not dock.visibleRegion().isEmpty() if window.isVisible() else dock.isVisibleTo(window)
    step = panel.state.position + 1 if shown and panel.state.n_steps else None
    output = window.output_panel
    settings = window.compute_settings
    values = {
        "animation_step": step,
        "workspace": window.workspace,
        "zoom": float(text_zoom().factor),
        "output_channel": int(output.channel),
        "output_mode": output.mode,
        "output_mapping": output.mapping,
        "device": settings.device,
        "dtype": settings.dtype,
        "tf32": bool(settings.tf32),
    }
    known = _view_fields()
    return session_file.ViewState(**{k: v for k, v in values.items() if k in known})


def current_state(window: "MainWindow") -> "SessionState":
    """The session and its view, as a file would keep them."""
    return session_file.state_of(window.session, capture_view(window))


def apply_state(window: "MainWindow", state: "SessionState", text: str) -> list[str]:
    """Put ``state`` into the window: the session as one undo step called ``text``, then the
    view.  Returns the notes on what could not be applied (also shown in the status bar)."""
    snapshot = state.snapshot
    session = window.session
    if not snapshot.same_as(session.snapshot()):
        push_change(window.undo_stack, session, text, lambda: session.restore(snapshot))
    view = getattr(state, "view", None)
    notes = apply_view(window, view) if view is not None else []
    if notes:
        window.statusBar().showMessage("; ".join(notes), NOTE_MS)
    return notes


def _get(view, name: str):
    return getattr(view, name, None)


def apply_view(window: "MainWindow", view: "ViewState") -> list[str]:
    """The view part of a state; every field is optional.  Returns what could not be done."""
    notes: list[str] = []
    name = _get(view, "workspace")
    if name:
        if name in workspaces.WORKSPACE_NAMES:
            lesson = getattr(window, "lesson", None)
            before = window.workspace
            if not window.in_focus:  # the focus and presenter views stay as they are in a lecture
                window.set_workspace(name)
            if lesson is not None:  # a lesson that changes the layout keeps its panel in front
                lesson.place_dock(raise_it=window.workspace != before)
        else:
            notes.append(f"workspace {name!r} is not one of this version's ({', '.join(workspaces.WORKSPACE_NAMES)})")
    zoom = _get(view, "zoom")
    if zoom is not None:
        try:
            factor = float(zoom)
        except (TypeError, ValueError):
            factor = float("nan")
        if ZOOM_STEPS[0] <= factor <= ZOOM_STEPS[-1]:
            text_zoom().set_factor(factor)
        else:
            notes.append(f"text zoom {zoom!r} is outside {ZOOM_STEPS[0]:g} to {ZOOM_STEPS[-1]:g}")
    notes += _apply_output(window, view)
    notes += _apply_compute(window, view)
    notes += _apply_step(window, _get(view, "animation_step"))
    return notes


def _apply_output(window: "MainWindow", view) -> list[str]:
    from convplay.core.display import MAPPINGS, MODES

    notes = []
    panel = window.output_panel
    mode, mapping, channel = _get(view, "output_mode"), _get(view, "output_mapping"), _get(view, "output_channel")
    if mode:
        if mode in MODES:
            panel.set_mode(mode)
        else:
            notes.append(f"output mode {mode!r} is not one of {', '.join(MODES)}")
    if mapping:
        if mapping in MAPPINGS:
            panel.set_mapping(mapping)
        else:
            notes.append(f"colour mapping {mapping!r} is not one of {', '.join(MAPPINGS)}")
    if channel is not None:
        channel = int(channel)
        panel.set_channel(channel)
        if panel.channel != channel:
            # The spin box's range follows the output: the new session's output is not in
            # yet, so the channel is chosen once it has been drawn.
            def once() -> None:
                panel.displayed.disconnect(once)
                panel.set_channel(channel)

            panel.displayed.connect(once)
    return notes


def _apply_compute(window: "MainWindow", view) -> list[str]:
    from convplay.compute.devices import CPU_DTYPES

    notes = []
    settings = window.compute_settings
    device, dtype, tf32 = _get(view, "device"), _get(view, "dtype"), _get(view, "tf32")
    if device:
        listed = [d for d, _ in settings.devices]
        cuda = [d for d in listed if d.startswith("cuda")]
        if device in listed:
            settings.set_device(device)
        elif device == "cuda" and cuda:
            settings.set_device(cuda[0])
        elif device.startswith("cuda") and not getattr(window, "devices_known", True):
            # The device list comes once torch has started; the window says then, in the
            # status bar and the device panel, if the device is not on this machine.
            settings.set_device(device)
        else:
            notes.append(f"{device} is not available here; using {settings.device}")
    if dtype:
        if not settings.is_cuda and dtype not in CPU_DTYPES:
            notes.append(f"{dtype} runs on CUDA only; keeping {settings.dtype}")
        else:
            try:
                settings.set_dtype(dtype)
            except ValueError as exc:
                notes.append(str(exc))
    if tf32 is not None:
        settings.set_tf32(bool(tf32))
    return notes


def _apply_step(window: "MainWindow", step) -> list[str]:
    panel = window.animation_panel
    if step is None:
        output = window.docks["output"]
        if output.isVisibleTo(window):
            output.raise_()
        return []
    if panel.walk is None:
        panel.rebuild()  # the new session's walk, even while the dock was out of sight
    error = window.show_animation_step(int(step) - 1)
    return [f"animation step {step}: {error}"] if error else []
