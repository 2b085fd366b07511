"""Every menu command of the window, as one table: the menus, the shortcuts and the F1 list.

An ``Action`` names its menu, title, shortcuts and tip, and the command it runs on the
window; the file commands themselves (open, save, learned kernels, copy) live here too,
so that ``MainWindow`` keeps only its layout and settings.  Errors are values: a command
that cannot do what was asked says why in a message box or the status bar, next to where
the user acted, and leaves the session as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from convplay.core.samples import SAMPLES
from convplay.qt import files, session_commands
from convplay.qt.theme import theme
from convplay.qt.undo import clear_history_action
from convplay.qt.widgets.lookup import argb_image
from convplay.qt.workspaces import FOCUS, WORKSPACES
from convplay.qt.zoom import text_zoom

if TYPE_CHECKING:
    from convplay.qt.main_window import MainWindow

Key = str | QKeySequence.StandardKey
MENUS = ("&File", "&Edit", "&Tools", "&View", "&Lesson", "&Help")
STATUS_MS = 5000


@dataclass(frozen=True)
class Action:
    """One menu command.  ``run(window)`` is called on trigger (with ``checked`` for a
    checkable action); ``make(window)``, when given, supplies a ready QAction instead (undo
    and redo come from the history)."""

    id: str
    menu: str
    title: str
    run: Callable[..., object] | None = None
    keys: tuple[Key, ...] = ()
    tip: str = ""
    checkable: bool = False
    separator_before: bool = False
    make: Callable[["MainWindow"], QAction] | None = None


@dataclass(frozen=True)
class Submenu:
    """A menu filled by ``fill(window, menu)``; ``lazy`` fills it when first opened."""

    id: str
    menu: str
    title: str
    fill: Callable[["MainWindow", QMenu], None]
    lazy: bool = False
    separator_before: bool = False


# -- file commands -----------------------------------------------------------------------
def choose_image(window: "MainWindow") -> None:
    path = files.ask_image_path(window, window.settings)
    if path:
        open_image(window, path)


def open_image(window: "MainWindow", path: str) -> bool:
    """Load ``path`` as the input (undoable); False, with the reason shown, if it cannot."""
    error = window.input_panel.open_image(path)
    if error:
        window.statusBar().showMessage(error, 2 * STATUS_MS)
        return False
    return True


def choose_kernel_file(window: "MainWindow") -> None:
    from convplay.qt.dialogs.kernel_picker import KERNEL_FILE_FILTER

    path = files.ask_open_path(window, "Open kernel", KERNEL_FILE_FILTER, window.settings)
    if path:
        open_kernel(window, path)


def open_kernel(window: "MainWindow", path: str) -> bool:
    """Pick a kernel from ``path`` (a dialog lists its 4-D weights); False if refused."""
    from convplay.qt.dialogs.kernel_picker import open_kernel_file

    return open_kernel_file(window, window.session, window.undo_stack, path)


def save_kernel(window: "MainWindow") -> None:
    from convplay.qt.dialogs.kernel_picker import save_kernel_file

    saved = save_kernel_file(window, window.session, settings=window.settings, dtype=window.compute_settings.dtype)
    if saved:
        window.statusBar().showMessage(saved.message, 2 * STATUS_MS)


def fill_learned_menu(window: "MainWindow", menu: QMenu) -> None:
    from convplay.compute.checkpoints import learned_kernels

    for learned in learned_kernels():
        action = QAction(learned.name, menu)
        action.setToolTip(learned.description)
        action.setStatusTip(learned.description)
        action.triggered.connect(lambda _=False, k=learned: apply_learned_kernel(window, k))
        menu.addAction(action)


def apply_learned_kernel(window: "MainWindow", learned) -> None:
    from convplay.core.kernel_io import KernelFileError, choose_kernel
    from convplay.qt.dialogs.kernel_picker import apply_kernel_choice

    try:
        choice = choose_kernel(learned.load(), window.session.spec, window.session.image.shape[0])
    except KernelFileError as exc:
        QMessageBox.warning(window, "Cannot load the learned kernel", str(exc))
        return
    apply_kernel_choice(window.session, window.undo_stack, choice, f"Load {learned.name}")
    window.statusBar().showMessage(f"Loaded {learned.name}", STATUS_MS)


def fill_samples_menu(window: "MainWindow", menu: QMenu) -> None:
    menu.setToolTipsVisible(True)
    group = ""
    for sample in SAMPLES:
        if sample.group != group:
            if group:
                menu.addSeparator()
            group = sample.group
        action = QAction(sample.name, menu)
        action.setToolTip(sample.description)
        action.setStatusTip(sample.description)
        action.triggered.connect(lambda _=False, s=sample: window.input_panel.load_sample(s))
        menu.addAction(action)


def copy_kernel(window: "MainWindow") -> None:
    from convplay.qt.dialogs.kernel_picker import copy_kernel_literal

    dtype = window.compute_settings.dtype
    copy_kernel_literal(window.session, dtype)
    window.statusBar().showMessage(f"Kernel copied as PyTorch code: torch.tensor literals ({dtype}) and its layer", STATUS_MS)


def choose_output_file(window: "MainWindow") -> None:
    if window.results.output is None:
        window.statusBar().showMessage("No output to save yet", STATUS_MS)
        return
    path, chosen = files.ask_save_path(
        window, "Save output", "PNG image (*.png);;NumPy array, all channels (*.npy)", window.settings,
        name=suggested_output_name(window),
    )
    if not path:
        return
    if not Path(path).suffix:
        path += ".npy" if "npy" in chosen else ".png"
    error = save_output(window, path)
    if error:
        QMessageBox.warning(window, "Cannot save output", error)


def suggested_output_name(window: "MainWindow") -> str:
    """What the PNG holds: the derived view drawn ("output-magnitude.png") or the channel."""
    derived = window.output_panel.derived_view
    if derived != "channel":
        return f"output-{derived}.png"
    return f"output-channel-{window.output_panel.channel}.png"


def save_output(window: "MainWindow", path: str) -> str:
    """.npy: every channel as float values; .png: the shown channel, coloured as on screen.

    Reads PyTorch's output from the results, never from a view.  Returns an error or "".
    """
    output = window.results.output
    if output is None:
        return "there is no output yet"
    try:
        if path.lower().endswith(".npy"):
            np.save(path, output, allow_pickle=False)
        else:
            view = window.output_panel.picture(output)  # the channel, values and colours on screen
            if not argb_image(np.ascontiguousarray(view.pixels, dtype=np.uint32)).save(path):
                return f"could not write {path}"
    except OSError as exc:
        return str(exc)
    window.statusBar().showMessage(f"Saved {path}", STATUS_MS)
    return ""


def choose_screenshot_file(window: "MainWindow") -> None:
    path, _ = files.ask_save_path(window, "Save screenshot", "PNG image (*.png)", window.settings,
                                  name="convplay-window.png")
    if path:
        if not window.grab().save(path):
            QMessageBox.warning(window, "Cannot save screenshot", f"could not write {path}")


def show_export_dialog(window: "MainWindow") -> None:
    from convplay.qt.dialogs.export_dialog import show_export_dialog as show

    show(window)


def choose_figure_file(window: "MainWindow") -> None:
    """The workspace (the panels on screen) as a PNG or SVG; the suffix chooses."""
    from convplay.qt.export.figure import FIGURE_FILTER, export_figure

    path, chosen = files.ask_save_path(window, "Export figure", FIGURE_FILTER, window.settings,
                                       name="convplay-figure.png")
    if not path:
        return
    if not Path(path).suffix:
        path += ".svg" if "svg" in chosen.lower() else ".png"
    error = export_figure(window, path)
    if error:
        QMessageBox.warning(window, "Cannot export the figure", error)
    else:
        window.statusBar().showMessage(f"Saved the workspace as {path}", 2 * STATUS_MS)


def show_learn_dialog(window: "MainWindow") -> None:
    from PySide6.QtCore import Qt

    from convplay.qt.dialogs.learn_dialog import LearnDialog

    dialog = LearnDialog(window.session, window.undo_stack, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()


def choose_workspace(window: "MainWindow", name: str, checked: bool) -> None:
    """A workspace row was triggered: the focus view toggles; any other is entered (chosen
    again, it stays as it is)."""
    if name == FOCUS:
        window.set_focus_mode(checked)
    else:
        window.set_workspace(name)


def fill_view_menu(window: "MainWindow", menu: QMenu) -> None:
    for dock in window.docks.values():
        toggle = dock.toggleViewAction()
        toggle.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
        menu.addAction(toggle)


# -- the table -----------------------------------------------------------------------------
ACTIONS: tuple[Action | Submenu, ...] = (
    Action("open_image", "&File", "&Open image\u2026", choose_image, (QKeySequence.StandardKey.Open,),
           "Open an image file as the input"),
    Submenu("samples", "&File", "&Samples", fill_samples_menu),
    # Sessions and lessons (qt/session_commands.py): the whole state in a .convplay file.
    Action("open_session", "&File", "Open sess&ion\u2026", session_commands.choose_session_file, ("Ctrl+Shift+O",),
           "Open a saved session (.convplay): its input, settings, kernel and view; a file with steps opens as a lesson",
           separator_before=True),
    Submenu("recent_sessions", "&File", "&Recent sessions", session_commands.fill_recent_menu),
    Action("save_session", "&File", "Sa&ve session", session_commands.save_session, (QKeySequence.StandardKey.Save,),
           "Save the input, settings, kernel and view to the session's file (.convplay)"),
    Action("save_session_as", "&File", "Save session &as\u2026", session_commands.save_session_as, (),
           "Save the input, settings, kernel and view to a new .convplay file"),
    Action("open_kernel", "&File", "Open &kernel\u2026", choose_kernel_file, ("Ctrl+K",),
           "Load a kernel from a .pth/.pt state_dict, .safetensors, .npy/.npz, ImageJ or CSV file",
           separator_before=True),
    # Filled when first opened: listing them imports torch, which must wait for the first paint.
    Submenu("learned", "&File", "&Learned kernels", fill_learned_menu, lazy=True),
    Action("save_kernel", "&File", "Save k&ernel as\u2026", save_kernel, ("Ctrl+Shift+K",),
           "Save the kernel as .npy, .safetensors or ImageJ text"),
    Action("save_output", "&File", "&Save output as PNG / NPY\u2026", choose_output_file, ("Ctrl+Alt+S",),
           "Save the shown output channel as a PNG, or every channel as a .npy array", separator_before=True),
    Action("screenshot", "&File", "Save screens&hot\u2026", choose_screenshot_file, ("Ctrl+Shift+S",),
           "Save the whole window as a PNG"),
    Action("export_animation", "&File", "E&xport animation\u2026", show_export_dialog, ("Ctrl+E",),
           "Save the sliding window's steps as a GIF, animated WebP or MP4 (for slides)", separator_before=True),
    Action("export_figure", "&File", "Export &figure\u2026", choose_figure_file, ("Ctrl+Shift+E",),
           "Save the panels on screen as a PNG picture or an SVG drawing (for slides and papers)"),
    Action("quit", "&File", "&Quit", session_commands.request_quit, ("Ctrl+Q",), "Close convplay", separator_before=True),
    Action("undo", "&Edit", "&Undo", make=lambda w: w.make_undo_actions()[0]),
    Action("redo", "&Edit", "&Redo", make=lambda w: w.make_undo_actions()[1]),
    Action("clear_history", "&Edit", "C&lear undo history", tip="Forget every undo step and give the memory they held back to the system",
           make=lambda w: clear_history_action(w.undo_stack, w)),
    Action("copy_kernel", "&Edit", "&Copy kernel as PyTorch", copy_kernel, ("Ctrl+Shift+C",),
           "Copy the weights (and bias) as a torch.tensor literal", separator_before=True),
    Action("learn", "&Tools", "&Learn a kernel\u2026", show_learn_dialog, ("Ctrl+L",),
           "Find a kernel by gradient descent from an input and a target output"),
    Submenu("panels", "&View", "&Panels", fill_view_menu),
    # One checkable row per workspace (qt/workspaces.py); the focus view's id stays "focus".
    *(Action(w.action, "&View", w.title, lambda win, on, name=w.name: choose_workspace(win, name, on), w.keys, w.tip,
             checkable=True, separator_before=n == 0) for n, w in enumerate(WORKSPACES)),
    Action("reset_layout", "&View", "&Reset layout", lambda w: w.reset_layout(), (),
           "Put the panels of this workspace back where it arranges them"),
    # Readable from the back row (qt/zoom, qt/theme, qt/presenter).
    Action("zoom_in", "&View", "Zoom &in", lambda w: text_zoom().zoom_in(), ("Ctrl+=", "Ctrl++"),
           "Larger text and cell labels everywhere", separator_before=True),
    Action("zoom_out", "&View", "Zoom &out", lambda w: text_zoom().zoom_out(), ("Ctrl+-",),
           "Smaller text and cell labels everywhere"),
    Action("reset_zoom", "&View", "Reset &zoom", lambda w: text_zoom().reset(), ("Ctrl+0",),
           "Text and cell labels at their normal size"),
    Action("high_contrast", "&View", "&High contrast", lambda w, on: theme().set_high_contrast(on), ("Ctrl+Shift+H",),
           "Black on white, dark greys and thicker lines, for a washed-out projector (again to leave)", checkable=True),
    # Clickers' start button sends F5 or Shift+F5 (PowerPoint's "from here").
    Action("presenter", "&View", "Pre&senter view", lambda w, on: w.presenter.set_active(on), ("F5", "Shift+F5"),
           "Full screen, only the sliding window; PgDn / PgUp step, B blanks the screen, Esc leaves",
           checkable=True, separator_before=True),
    # A lesson: a session file with steps (qt/lesson_model.py, the Lesson panel).
    Submenu("builtin_lessons", "&Lesson", "Open &lesson", session_commands.fill_lessons_menu, lazy=True),
    Action("open_lesson_file", "&Lesson", "Open lesson &file\u2026", session_commands.choose_lesson_file, (),
           "Open a lesson (or any session file) from a .convplay or .json file"),
    Action("lesson_next", "&Lesson", "&Next lesson step", lambda w: session_commands.lesson_command(w, "next"),
           ("Ctrl+PgDown",), "The lesson's next step (PgDown in the presenter view)", separator_before=True),
    Action("lesson_previous", "&Lesson", "&Previous lesson step", lambda w: session_commands.lesson_command(w, "previous"),
           ("Ctrl+PgUp",), "The lesson's previous step (PgUp in the presenter view)"),
    Action("lesson_reveal", "&Lesson", "&Reveal the answer", lambda w: session_commands.lesson_command(w, "reveal"),
           ("Ctrl+R",), "Show PyTorch's output, covered by the step's question"),
    Action("lesson_add", "&Lesson", "&Add the current state as a step",
           lambda w: session_commands.lesson_command(w, "add_current"), (),
           "A new step after this one, holding what the window shows now (a new lesson if none is open)",
           separator_before=True),
    Action("lesson_update", "&Lesson", "&Update this step from the current state",
           lambda w: session_commands.lesson_command(w, "update_current"), (),
           "The current step takes what the window shows now; its title and caption stay"),
    Action("lesson_remove", "&Lesson", "Re&move this step", lambda w: session_commands.lesson_command(w, "remove_current"),
           (), "Take the current step out of the lesson"),
    Action("lesson_up", "&Lesson", "Move step u&p", lambda w: session_commands.lesson_command(w, "move_up"), (),
           "Move the current step one place earlier"),
    Action("lesson_down", "&Lesson", "Move step &down", lambda w: session_commands.lesson_command(w, "move_down"), (),
           "Move the current step one place later"),
    Action("lesson_save", "&Lesson", "&Save lesson as\u2026", session_commands.save_lesson_as, (),
           "Write the lesson, its steps and their words to a .convplay file", separator_before=True),
    Action("lesson_close", "&Lesson", "&Close lesson", session_commands.close_lesson, (),
           "Close the lesson panel; the window keeps the current state"),
    Action("shortcuts", "&Help", "&Keyboard shortcuts", lambda w: w.show_shortcuts(), ("F1",), "List the keyboard shortcuts"),
    Action("about", "&Help", "&About convplay", lambda w: w.show_about(), (), "Versions of convplay and its libraries"),
)


def _qaction(window: "MainWindow", spec: Action) -> QAction:
    if spec.make is not None:
        action = spec.make(window)
    else:
        action = QAction(spec.title, window)
        if spec.checkable:
            action.setCheckable(True)
            action.triggered.connect(lambda checked, run=spec.run: run(window, checked))
        else:
            action.triggered.connect(lambda _=False, run=spec.run: run(window))
        if spec.keys:
            action.setShortcuts([QKeySequence(k) for k in spec.keys])
    tip = spec.tip or spec.title.replace("&", "").rstrip("\u2026")
    action.setStatusTip(spec.tip)
    action.setToolTip(tip)
    return action


def build_menus(window: "MainWindow") -> dict[str, QAction | QMenu]:
    """The window's menu bar from ``ACTIONS``; returns each entry by id."""
    bar = window.menuBar()
    menus = {title: bar.addMenu(title) for title in MENUS}
    built: dict[str, QAction | QMenu] = {}
    for entry in ACTIONS:
        menu = menus[entry.menu]
        if entry.separator_before:
            menu.addSeparator()
        if isinstance(entry, Submenu):
            sub = menu.addMenu(entry.title)
            sub.setToolTipsVisible(True)
            if entry.lazy:
                sub.aboutToShow.connect(lambda sub=sub, fill=entry.fill: sub.actions() or fill(window, sub))
            else:
                entry.fill(window, sub)
            built[entry.id] = sub
        else:
            action = _qaction(window, entry)
            menu.addAction(action)
            built[entry.id] = action
    return built


def shortcut_table(window: "MainWindow") -> list[tuple[str, str]]:
    """(command, keys) for every menu action with a shortcut, then the animation's keys."""
    from convplay.qt.animation.player import SHORTCUTS

    rows = []
    for entry in ACTIONS:
        action = window.actions_by_id.get(entry.id)
        if isinstance(action, QAction):
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            if keys:  # the table's title: an action's text may name its step ("Undo Draw")
                rows.append((entry.title.replace("&", "").rstrip("\u2026"), keys))
    from convplay.qt.presenter import KEY_HELP

    return rows + [(f"Sliding window: {what}", key) for key, _, what in SHORTCUTS] + list(KEY_HELP)
