"""File > Open session / Save session / Recent sessions, and the window title that names
the session file.

A file the reader refuses is a message box with the reason; the session on screen and
its undo history stay as they were.  A file with steps is a lesson: it opens in the
lesson panel (``window.lesson``).  The last ``RECENT_COUNT`` files opened or saved are
kept in the window's settings; a missing one is listed greyed out.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox

from convplay.qt import files, session_io

if TYPE_CHECKING:
    from convplay.qt.main_window import MainWindow

RECENT_COUNT = 8
SETTINGS_RECENT = "files/recent_sessions"
APP_TITLE = "convplay \u2014 convolution playground"
STATUS_MS = 6000


# -- the session file the window is showing ------------------------------------------------------
class SessionFileTracker(QObject):
    """The session file last opened or saved (``path``) and whether the session changed
    since (``modified``); the window title says both."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self.path: str = ""
        self.modified = False
        window.session.changed.connect(self._on_changed)
        self.destroyed.connect(lambda *_: _disconnect(window.session.changed, self._on_changed))
        self.update_title()

    def _on_changed(self) -> None:
        if self.path and not self.modified:
            self.modified = True
            self.update_title()

    def set_saved(self, path: str) -> None:
        """``path`` holds what is on screen now (just opened or saved)."""
        self.path, self.modified = str(path), False
        self.update_title()

    def forget(self) -> None:
        self.path, self.modified = "", False
        self.update_title()

    def update_title(self) -> None:
        window = self.window
        lesson = getattr(window, "lesson", None)
        if lesson is not None and lesson.is_open:
            name = Path(lesson.path).name if lesson.path else (lesson.title or "untitled lesson")
            window.setWindowTitle(f"{name} (lesson)[*] \u2014 convplay")
            window.setWindowModified(lesson.modified)
        elif self.path:
            window.setWindowTitle(f"{Path(self.path).name}[*] \u2014 convplay")
            window.setWindowModified(self.modified)
        else:
            window.setWindowTitle(APP_TITLE)
            window.setWindowModified(False)


def _disconnect(signal, slot) -> None:
    try:
        signal.disconnect(slot)
    except (RuntimeError, TypeError, ValueError):
        pass


# -- recent files ----------------------------------------------------------------------------------
def recent_paths(window: "MainWindow") -> list[str]:
    stored = window.settings.value(SETTINGS_RECENT, [])
    if isinstance(stored, str):  # an ini file gives one entry back as a string
        stored = [stored] if stored else []
    if not isinstance(stored, (list, tuple)):
        return []
    return [str(p) for p in stored if isinstance(p, str) and p][:RECENT_COUNT]


def remember_recent(window: "MainWindow", path: str) -> None:
    path = str(Path(path).resolve())
    paths = [path] + [p for p in recent_paths(window) if p != path]
    window.settings.setValue(SETTINGS_RECENT, paths[:RECENT_COUNT])


def clear_recent(window: "MainWindow") -> None:
    window.settings.setValue(SETTINGS_RECENT, [])


def fill_recent_menu(window: "MainWindow", menu: QMenu) -> None:
    """File > Recent sessions, listed anew each time it opens."""
    menu.aboutToShow.connect(lambda: _list_recent(window, menu))
    _list_recent(window, menu)


def _named_with_folder(path: str) -> str:
    """"x.convplay \u2014 ~/lectures": two files of one name in different folders told apart."""
    folder = Path(path).parent
    try:
        shown = "~/" + folder.relative_to(Path.home()).as_posix() if folder != Path.home() else "~"
    except ValueError:
        shown = str(folder)
    return f"{Path(path).name} \u2014 {shown.replace('&', '&&')}"


def _list_recent(window: "MainWindow", menu: QMenu) -> None:
    menu.clear()
    paths = recent_paths(window)
    for n, path in enumerate(paths, start=1):
        action = QAction(f"&{n} {_named_with_folder(path)}", menu)
        exists = Path(path).is_file()
        action.setEnabled(exists)
        action.setToolTip(path if exists else f"{path} (not found)")
        action.setStatusTip(action.toolTip())
        action.triggered.connect(lambda _=False, p=path: open_path(window, p))
        menu.addAction(action)
    if not paths:
        empty = QAction("No recent sessions", menu)
        empty.setEnabled(False)
        menu.addAction(empty)
    menu.addSeparator()
    clear = QAction("&Clear recent", menu)
    clear.setEnabled(bool(paths))
    clear.triggered.connect(lambda _=False: clear_recent(window))
    menu.addAction(clear)


# -- opening ---------------------------------------------------------------------------------------
def choose_session_file(window: "MainWindow") -> None:
    path = files.ask_open_path(window, "Open session", session_io.FILE_FILTER, window.settings)
    if path:
        open_path(window, path)


def refuse(window: "MainWindow", title: str, path: str, reason: str) -> None:
    QMessageBox.warning(window, title, f"{Path(path).name}: {reason}\n\nThe session on screen is kept.")


def open_path(window: "MainWindow", path: str) -> bool:
    """Open a session or lesson file; False (the reason in a message box, the session and
    its undo history kept) if it is refused."""
    try:
        document, warnings = session_io.read_document(path)
    except session_io.SessionFileError as exc:
        refuse(window, "Cannot open the session", path, str(exc))
        return False
    return open_document(window, document, path, warnings=warnings)


def open_document(window: "MainWindow", document, path: str = "", step: int = 0, *,
                  warnings: list[str] | tuple[str, ...] = ()) -> bool:
    """Show a document read already: a lesson in the lesson panel (at ``step``, 0-based), a
    session's state in the window.  The reading's ``warnings`` go to the status bar."""
    if not confirm_discard(window, "opening another file", session=False):
        return False
    if session_io.is_lesson(document):
        ok = window.lesson.open(document, path, step)
        if ok:  # the window shows the lesson now, not the session file opened before
            window.session_file.forget()
    else:
        state = getattr(document, "state", None)
        if state is None:
            refuse(window, "Cannot open the session", path or "the session", "it holds no state")
            return False
        name = Path(path).name if path else (getattr(document, "title", "") or "session")
        if window.lesson.is_open:
            window.lesson.close()
        session_io.apply_state(window, state, f"Open {name}")
        if path:
            window.session_file.set_saved(path)
        ok = True
    if ok and path:
        remember_recent(window, path)
    if warnings:
        more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
        window.statusBar().showMessage(f"{warnings[0]}{more}", 2 * STATUS_MS)
    elif ok and path:
        window.statusBar().showMessage(f"Opened {path}", STATUS_MS)
    return ok


# -- saving -----------------------------------------------------------------------------------------
def session_document(window: "MainWindow", title: str = ""):
    """What Save session writes: the session and its view, no steps."""
    from convplay.core.session_file import SessionDocument

    return SessionDocument(kind="session", title=title, state=session_io.current_state(window))


def save_session(window: "MainWindow") -> bool:
    """File > Save session: to the file it came from, else as a new file.  True if saved."""
    path = window.session_file.path
    if path and path.lower().endswith(session_io.SUFFIX):
        return save_session_to(window, path)
    return save_session_as(window)


def save_session_as(window: "MainWindow") -> bool:
    path = ask_save_path(window, "Save session", "session" + session_io.SUFFIX)
    return bool(path) and save_session_to(window, path)


def ask_save_path(window: "MainWindow", title: str, name: str, *, lesson: bool = False) -> str:
    kinds = session_io.LESSON_SAVE_FILTER if lesson else session_io.SAVE_FILTER
    path, _ = files.ask_save_path(window, title, kinds, window.settings, name=name)
    if path and not Path(path).suffix:
        path += session_io.SUFFIX
    return path


def save_session_to(window: "MainWindow", path: str) -> bool:
    """Write the session to ``path``; False, with the reason in a message box, if it cannot."""
    try:
        session_io.write_document(path, session_document(window))
    except session_io.SessionFileError as exc:
        QMessageBox.warning(window, "Cannot save the session", str(exc))
        return False
    window.session_file.set_saved(path)
    remember_recent(window, path)
    window.statusBar().showMessage(f"Saved {path}", STATUS_MS)
    return True


# -- lessons --------------------------------------------------------------------------------------------
def confirm_discard(window: "MainWindow", doing: str = "going on", *, session: bool = True) -> bool:
    """True if nothing unsaved would be lost by ``doing`` ("closing", "opening …"): the open
    lesson has no unsaved edits, or the session file on screen none; else the user chooses
    Save (True once saved), Discard (True) or Cancel (False).  ``session`` False: only the
    lesson counts (opening a file is an undo step: Edit > Undo brings the session back)."""
    lesson = window.lesson
    tracker = getattr(window, "session_file", None)
    if lesson.is_open and lesson.modified:
        what = f"The lesson \u201c{lesson.title or 'untitled'}\u201d has"
        save = lambda: save_lesson(window)
    elif session and not lesson.is_open and tracker is not None and tracker.path and tracker.modified:
        what = f"The session {Path(tracker.path).name} has"
        save = lambda: save_session(window)
    else:
        return True
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        window, "Unsaved changes", f"{what} changes that are not saved. Save them before {doing}?",
        buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
    if answer == buttons.Save:
        return bool(save())
    return answer == buttons.Discard


def request_quit(window: "MainWindow") -> None:
    """File > Quit: the window closes once nothing unsaved would be lost."""
    if confirm_discard(window, "quitting"):
        window.close_confirmed = True
        window.close()


def fill_lessons_menu(window: "MainWindow", menu: QMenu) -> None:
    """Lesson > Open lesson: the built-in lessons by title, with their numbers of steps."""
    try:
        from convplay.core.lessons import builtin_lessons

        lessons = list(builtin_lessons())
    except Exception as exc:  # a broken resource must not break the menu
        broken = QAction(f"The built-in lessons cannot be listed: {exc}", menu)
        broken.setEnabled(False)
        menu.addAction(broken)
        return
    for info in lessons:
        n = _step_count(info)
        title = str(getattr(info, "title", "") or getattr(info, "id", "lesson"))
        action = QAction(f"{title} ({n} steps)" if n else title, menu)
        tip = str(getattr(info, "description", "") or title)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False, key=info.id: open_builtin_lesson(window, key))
        menu.addAction(action)
    if not lessons:
        none = QAction("No built-in lessons", menu)
        none.setEnabled(False)
        menu.addAction(none)


def _step_count(info) -> int:
    for name in ("n_steps", "step_count", "steps"):
        value = getattr(info, name, None)
        if isinstance(value, int):
            return value
        if isinstance(value, (list, tuple)):
            return len(value)
    return 0


def load_builtin_lesson(key: str):
    """A built-in lesson's document; SessionFileError with the reason if it cannot be read."""
    from convplay.core.lessons import load_lesson

    try:
        return load_lesson(key)
    except session_io.SessionFileError:
        raise
    except (KeyError, OSError, ValueError) as exc:
        raise session_io.SessionFileError(str(exc).strip("'\"")) from None


def open_builtin_lesson(window: "MainWindow", key: str, step: int = 0) -> bool:
    try:
        document = load_builtin_lesson(key)
    except session_io.SessionFileError as exc:
        refuse(window, "Cannot open the lesson", key, str(exc))
        return False
    return open_document(window, document, "", step)


def choose_lesson_file(window: "MainWindow") -> None:
    path = files.ask_open_path(window, "Open lesson", session_io.FILE_FILTER, window.settings)
    if path:
        open_path(window, path)


def save_lesson(window: "MainWindow") -> bool:
    """The lesson to the .convplay file it came from, else as a new file.  True if saved."""
    path = window.lesson.path
    if path and path.lower().endswith(session_io.SUFFIX):
        return save_lesson_to(window, path)
    return save_lesson_as(window)


def save_lesson_as(window: "MainWindow") -> bool:
    lesson = window.lesson
    if not lesson.is_open or not len(lesson):
        window.statusBar().showMessage("No lesson steps to save: Lesson > Add the current state as a step", STATUS_MS)
        return False
    if lesson.file_name:  # a .json lesson is saved as a .convplay next to it, not over it
        stem = Path(lesson.file_name).with_suffix(session_io.SUFFIX).name
    else:
        stem = (lesson.title or "lesson").strip().replace(" ", "-").replace("/", "-").lower() + session_io.SUFFIX
    path = ask_save_path(window, "Save lesson", stem, lesson=True)
    return bool(path) and save_lesson_to(window, path)


def save_lesson_to(window: "MainWindow", path: str) -> bool:
    try:
        window.lesson.save_to(path)
    except session_io.SessionFileError as exc:
        QMessageBox.warning(window, "Cannot save the lesson", str(exc))
        return False
    remember_recent(window, path)
    window.statusBar().showMessage(f"Saved the lesson to {path}", STATUS_MS)
    return True


def close_lesson(window: "MainWindow") -> None:
    if confirm_discard(window, "closing it"):
        window.lesson.close()


def lesson_command(window: "MainWindow", name: str) -> None:
    """A Lesson menu command on the open lesson; without one, the status bar says so."""
    lesson = window.lesson
    if not lesson.is_open and name != "add_current":
        window.statusBar().showMessage("No lesson open: Lesson > Open lesson", STATUS_MS)
        return
    if name == "move_up":
        lesson.move_current(-1)
    elif name == "move_down":
        lesson.move_current(1)
    else:
        getattr(lesson, name)()


def follow_lesson_actions(window: "MainWindow") -> None:
    """The Lesson menu's commands enabled only where they can act: the step commands with a
    lesson open, Previous / Next within its steps, Reveal while a question covers the output."""
    lesson = window.lesson
    by_id = window.actions_by_id

    def follow(*_args) -> None:
        open_, n, i = lesson.is_open, len(lesson), lesson.index
        wanted = {
            "lesson_next": open_ and i < n - 1,
            "lesson_previous": open_ and i > 0,
            "lesson_reveal": lesson.asking,
            "lesson_update": open_ and i >= 0,
            "lesson_remove": open_ and i >= 0,
            "lesson_up": open_ and i > 0,
            "lesson_down": open_ and 0 <= i < n - 1,
            "lesson_save": open_ and n > 0,
            "lesson_close": open_,
        }
        for key, on in wanted.items():
            action = by_id.get(key)
            if action is not None:
                action.setEnabled(bool(on))

    for signal in (lesson.opened, lesson.steps_changed, lesson.step_changed, lesson.asking_changed):
        signal.connect(follow)
    follow()
