"""The window in front of a lecture hall: the presenter view (F5), the text zoom and the
high-contrast theme kept in the window's settings.

The presenter view builds on the focus view (only the sliding window): the window goes
full screen without its menus, status bar or the dock's title bar; a presentation
clicker's PgDn / PgUp step the animation as → / ← do (with a lesson open, they go through
its steps, PgDn revealing a step's question first); B or . blanks the screen and any
key brings it back; the mouse pointer hides while the mouse is still; Esc leaves and
puts the layout and the window back as they were.  A small note in a corner says how to
leave, the step and the zoom; it fades to faint a moment after the view starts (or the
zoom changes), so that it does not cover the badge.

The keys are read by an application event filter while the view is on, so that they
work wherever the keyboard focus is (a clicker cannot click into the animation first),
before any widget's shortcut could take them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEasingCurve, QEvent, QObject, QPropertyAnimation, Qt, QTimer
from PySide6.QtGui import QColor, QCursor, QKeyEvent, QKeySequence, QPainter, QWindow
from PySide6.QtWidgets import QApplication, QGraphicsOpacityEffect, QLabel, QWidget

from convplay.qt import style, theme, zoom
from convplay.qt.animation.player import SHORTCUTS

if TYPE_CHECKING:
    from convplay.core.animation import AnimationState
    from convplay.qt.main_window import MainWindow

ZOOM_NOTE_MS = 2000  # "Text 130 %" in the status bar
NOTE_FADE_DELAY_MS = 3000  # the presenter's note at full strength when shown, then faint
NOTE_FADE_MS = 700
NOTE_FAINT = 0.3
NOTE_MARGIN = 10
RESIZE_WAIT_MS = 1500  # how long a window manager may take to give the window its size back
CURSOR_IDLE_MS = 2500  # the mouse pointer hides after this long still, and shows when moved
# (key, AnimationState method) the presenter adds to the animation's own keys: what
# presentation clickers send.  While a lesson is open they go through its steps instead
# (LESSON_KEYS: the LessonModel's methods); → / ← still step the animation.
CLICKER_KEYS: tuple[tuple[str, str], ...] = (("PgDown", "step_forward"), ("PgUp", "step_back"))
LESSON_KEYS: tuple[tuple[str, str], ...] = (("PgDown", "advance"), ("PgUp", "previous"))
BLANK_KEYS = ("B", ".")
LEAVE_KEY = "Esc"
# For the F1 list: (what, keys).
KEY_HELP: tuple[tuple[str, str], ...] = (
    ("Presenter view: one step forward", "PgDown (without a lesson), Right"),
    ("Presenter view: one step back", "PgUp (without a lesson), Left"),
    ("Presenter view, a lesson open: reveal the question's answer, else the next step", "PgDown"),
    ("Presenter view, a lesson open: the previous step", "PgUp"),
    ("Presenter view: blank the screen", "B, . (any key: back)"),
    ("Presenter view: leave", "Esc"),
)
_MODIFIER_KEYS = {Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr}


def _plain_key(event: QKeyEvent) -> int | None:
    """The key pressed with no modifier but the keypad's, else None."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return None if modifiers != Qt.KeyboardModifier.NoModifier else event.key()


def _key(name: str) -> int:
    return QKeySequence(name)[0].key()


STEP_KEYS: dict[int, str] = {_key(k): m for k, m in (*CLICKER_KEYS, *((k, m) for k, m, _ in SHORTCUTS))}
LESSON_STEP_KEYS: dict[int, str] = {_key(k): m for k, m in LESSON_KEYS}


class BlankScreen(QWidget):
    """Black over the whole window; a click brings the view back as a key does."""

    def __init__(self, presenter: "Presenter", parent: QWidget):
        super().__init__(parent)
        self._presenter = presenter
        self.setObjectName("presenter-blank")
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.hide()

    def paintEvent(self, event) -> None:
        QPainter(self).fillRect(self.rect(), QColor(style.BLANK_SCREEN))

    def mousePressEvent(self, event) -> None:
        self._presenter.set_blank(False)


class PresenterNote(QLabel):
    """"Presenter · Esc to leave · step 5 of 64 · text 130 %": full strength when shown,
    faint a moment later; mouse clicks go through it."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("presenter-note")
        self.setStyleSheet(style.PRESENTER_NOTE_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.opacity = QGraphicsOpacityEffect(self)
        self.setGraphicsEffect(self.opacity)
        self._fade = QPropertyAnimation(self.opacity, QByteArray(b"opacity"), self)
        self._fade.setDuration(NOTE_FADE_MS)
        self._fade.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self._fade.setEndValue(NOTE_FAINT)
        self._fade_timer = QTimer(self)
        self._fade_timer.setSingleShot(True)
        self._fade_timer.setInterval(NOTE_FADE_DELAY_MS)
        self._fade_timer.timeout.connect(self._fade.start)
        self.hide()

    def say(self, text: str, *, brighten: bool = True) -> None:
        """Show ``text`` in the bottom-right corner; ``brighten``: at full strength, fading
        soon (a step only changes the text: the dock says the step where the eye is)."""
        self.setText(text)
        self.place()
        if brighten:
            self._fade.stop()
            self.opacity.setOpacity(1.0)
            self._fade_timer.start()

    def place(self) -> None:
        self.adjustSize()
        parent = self.parentWidget()
        self.move(parent.width() - self.width() - NOTE_MARGIN, parent.height() - self.height() - NOTE_MARGIN)
        self.raise_()

    def stop(self) -> None:
        self._fade_timer.stop()
        self._fade.stop()
        self.hide()


@dataclass
class _Before:
    """What the presenter view changes, to be put back exactly."""

    window_state: Qt.WindowState  # the size comes back with it: Qt keeps the normal geometry
    docks: QByteArray  # the main window's state: where each dock is and its size
    menu_bar_hidden: bool
    status_bar_hidden: bool
    title_bar: QWidget | None
    focus_view: bool
    focus_enabled: bool


class Presenter(QObject):
    """The presenter view of ``window``: ``set_active``, ``set_blank``; ``active``, ``blanked``."""

    def __init__(self, window: "MainWindow", preferences: QObject | None = None):
        super().__init__(window)
        self.window = window
        self.preferences = preferences  # kept with the presenter: it lives as long as the window
        self.blank = BlankScreen(self, window)
        self.note = PresenterNote(window)
        self._before: _Before | None = None
        self._state: AnimationState | None = None
        self._empty_title: QWidget | None = None
        self._docks_to_restore: QByteArray | None = None  # until the window has its size back
        # The pointer left in the middle of the animation hides while the mouse is still.
        self._cursor_hidden = False
        self._cursor_timer = QTimer(self)
        self._cursor_timer.setSingleShot(True)
        self._cursor_timer.timeout.connect(self._hide_cursor)
        # Leave before the window saves its layout on closing: the layout to remember is
        # the one the presenter view will give back, not the full-screen animation.
        window.installEventFilter(self)

    @property
    def active(self) -> bool:
        return self._before is not None

    @property
    def blanked(self) -> bool:
        return self.blank.isVisible()

    def set_active(self, on: bool) -> None:
        on = bool(on)
        action = self.window.actions_by_id.get("presenter")
        if action is not None:
            action.setChecked(on)
        if on == self.active:
            return
        if on:
            self._enter()
        else:
            self._leave()

    # -- entering and leaving ---------------------------------------------------------------
    def _enter(self) -> None:
        window = self.window
        dock = window.docks["animation"]
        focus_action = window.focus_action
        self._before = _Before(
            window_state=window.windowState(),
            docks=window.saveState(),
            menu_bar_hidden=window.menuBar().isHidden(),
            status_bar_hidden=window.statusBar().isHidden(),
            title_bar=dock.titleBarWidget(),
            focus_view=focus_action.isChecked(),
            focus_enabled=focus_action.isEnabled(),
        )
        if not self._before.focus_view:
            window.set_focus_mode(True)
        focus_action.setEnabled(False)  # the focus view is under the presenter's: left with it
        window.menuBar().hide()
        window.statusBar().hide()
        self._empty_title = QWidget(dock)
        dock.setTitleBarWidget(self._empty_title)
        window.setWindowState(window.windowState() | Qt.WindowState.WindowFullScreen)
        self._state = window.animation_panel.state
        self._state.position_changed.connect(self._on_step)
        self._state.geometry_changed.connect(self._on_geometry)
        zoom.text_zoom().changed.connect(self._on_zoom)
        lesson = getattr(window, "lesson", None)
        if lesson is not None:
            lesson.step_changed.connect(self._on_step)
            lesson.asking_changed.connect(self._on_step)
            lesson.opened.connect(self._on_geometry)
        QApplication.instance().installEventFilter(self)
        self._cursor_timer.start(CURSOR_IDLE_MS)
        window.animation_panel.setFocus()
        self.note.show()
        self._say()

    def _leave(self) -> None:
        window, before = self.window, self._before
        self.set_blank(False)
        QApplication.instance().removeEventFilter(self)
        self._cursor_timer.stop()
        self._show_cursor()
        self._disconnect()
        self.note.stop()
        dock = window.docks["animation"]
        dock.setTitleBarWidget(before.title_bar)
        if self._empty_title is not None:
            self._empty_title.deleteLater()
            self._empty_title = None
        window.menuBar().setHidden(before.menu_bar_hidden)
        window.statusBar().setHidden(before.status_bar_hidden)
        # The window's size first, then the docks: restoring the docks into the full-screen
        # size would share that size out among them.
        window.setWindowState(before.window_state)
        window.focus_action.setEnabled(before.focus_enabled)
        if not before.focus_view:
            window.set_focus_mode(False)
        window.restoreState(before.docks)
        sizer = getattr(window, "_resize_sizer", None)
        if sizer is not None:  # the layout is the one put back, not a workspace's shares given again
            sizer.stop()
        self._before = None
        # A window manager gives the size back later (X11): the docks are shared out again
        # as the window reaches it, as they were in that size, not as in the full screen.
        normal = not before.window_state & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen)
        if normal and window.size() != window.normalGeometry().size():
            self._docks_to_restore = before.docks
            QTimer.singleShot(RESIZE_WAIT_MS, self._forget_docks)

    def _restore_docks(self) -> None:
        if self._docks_to_restore is not None and not self.active:
            self.window.restoreState(self._docks_to_restore)
            if self.window.size() == self.window.normalGeometry().size():
                self._docks_to_restore = None

    def _forget_docks(self) -> None:
        self._docks_to_restore = None

    def _disconnect(self) -> None:
        if self._state is not None:
            for signal, slot in ((self._state.position_changed, self._on_step), (self._state.geometry_changed, self._on_geometry)):
                try:
                    signal.disconnect(slot)
                except (ValueError, RuntimeError):
                    pass
            self._state = None
        try:
            zoom.text_zoom().changed.disconnect(self._on_zoom)
        except (RuntimeError, TypeError):
            pass
        lesson = getattr(self.window, "lesson", None)
        if lesson is not None:
            for signal, slot in ((lesson.step_changed, self._on_step), (lesson.asking_changed, self._on_step),
                                 (lesson.opened, self._on_geometry)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass

    # -- blanking ----------------------------------------------------------------------------
    def set_blank(self, on: bool) -> None:
        """Black over the whole window (the animation pauses), or the view back."""
        on = bool(on) and self.active
        if on == self.blanked:
            return
        if on:
            if self._state is not None:
                self._state.pause()
            self.blank.setGeometry(self.window.rect())
            self.blank.show()
            self.blank.raise_()
        else:
            self.blank.hide()
            self._say()

    # -- the note ------------------------------------------------------------------------------
    def _lesson(self):
        """The window's lesson while one is open, else None."""
        lesson = getattr(self.window, "lesson", None)
        return lesson if lesson is not None and lesson.is_open else None

    def note_text(self) -> str:
        state = self._state
        if state is None or state.n_steps == 0:
            where = "nothing to animate"
        else:
            where = f"step {state.position + 1:,} of {state.n_steps:,}"
        lesson = self._lesson()
        extra = ""
        if lesson is not None and len(lesson) and lesson.current is not None:
            step = lesson.current
            title = str(getattr(step, "title", "") or "")
            head = f"Lesson {lesson.index + 1} / {len(lesson)}" + (f": {title}" if title else "")
            if lesson.asking:  # the question, and no count of the animation's steps (the answer's size)
                where = f"{head} \u00b7 {getattr(step, 'ask', '')}"
            else:
                where = f"{head} \u00b7 animation {where}"
                lines = [str(line) for line in (getattr(step, "formula", None) or ())]
                if lines:
                    extra = "\n" + "\n".join(lines)
        return f"Presenter \u00b7 Esc to leave \u00b7 {where} \u00b7 text {zoom.percent()}{extra}"

    def _say(self, brighten: bool = True) -> None:
        if self.active:
            self.note.say(self.note_text(), brighten=brighten)

    def _on_step(self, _k: int) -> None:
        self._say(brighten=False)

    def _on_geometry(self) -> None:
        self._say(brighten=False)

    def _on_zoom(self, _factor: float) -> None:
        self._say()

    # -- keys --------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.window:
            if kind == QEvent.Type.Close and self.active:
                self.set_active(False)
            elif kind == QEvent.Type.Resize and self.active:
                self.note.place()
                if self.blanked:
                    self.blank.setGeometry(self.window.rect())
            elif kind == QEvent.Type.Resize and self._docks_to_restore is not None:
                # After the resize is laid out, not inside it.
                QTimer.singleShot(0, self._restore_docks)
        if kind == QEvent.Type.MouseMove and self.active and self._is_ours(watched):
            self._show_cursor()
            self._cursor_timer.start(CURSOR_IDLE_MS)
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or not self.active:
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self.window:
            return False  # a dialog opened over the presenter view keeps its keys
        if not isinstance(event, QKeyEvent) or event.key() in _MODIFIER_KEYS:
            return False
        command = self._command(event)
        if command is None:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # ours: no shortcut may take it; the key press follows
            return True
        command()
        return True

    def _is_ours(self, watched: QObject) -> bool:
        if isinstance(watched, QWindow):  # a move over no tracking widget reaches the window only
            return watched is self.window.windowHandle()
        return isinstance(watched, QWidget) and watched.window() is self.window

    @property
    def cursor_hidden(self) -> bool:
        return self._cursor_hidden

    def _hide_cursor(self) -> None:
        if self.active and not self._cursor_hidden:
            QApplication.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
            self._cursor_hidden = True

    def _show_cursor(self) -> None:
        if self._cursor_hidden:
            QApplication.restoreOverrideCursor()
            self._cursor_hidden = False

    def _command(self, event: QKeyEvent):
        """What a key does in the presenter view (None: not one of its keys)."""
        if self.blanked:
            return lambda: self.set_blank(False)  # any key
        key = _plain_key(event)
        if key is None:
            return None
        if key == _key(LEAVE_KEY):
            return lambda: self.set_active(False)
        if key in {_key(k) for k in BLANK_KEYS}:
            return lambda: self.set_blank(True)
        lesson = self._lesson()
        if lesson is not None and key in LESSON_STEP_KEYS:
            return getattr(lesson, LESSON_STEP_KEYS[key])
        method = STEP_KEYS.get(key)
        if method is not None and self._state is not None:
            return getattr(self._state, method)
        return None


# -- the window's zoom and theme ---------------------------------------------------------------
class _Preferences(QObject):
    """Keeps the zoom and the theme in the window's settings, the High contrast action's
    check mark in step, and says the zoom in the status bar."""

    def __init__(self, window: "MainWindow", remember: bool):
        super().__init__(window)
        self.window = window
        self.remember = remember
        if remember:
            zoom.restore(window.settings)
            theme.restore(window.settings)
        contrast = window.actions_by_id.get("high_contrast")
        if contrast is not None:
            contrast.setChecked(theme.theme().high_contrast)
        zoom.text_zoom().changed.connect(self._on_zoom)
        theme.theme().theme_changed.connect(self._on_theme)

    def _on_zoom(self, factor: float) -> None:
        if self.remember:
            zoom.remember(self.window.settings, factor)
        self.window.statusBar().showMessage(f"Text {zoom.percent(factor)}", ZOOM_NOTE_MS)

    def _on_theme(self, on: bool) -> None:
        if self.remember:
            theme.remember(self.window.settings, on)
        contrast = self.window.actions_by_id.get("high_contrast")
        if contrast is not None:
            contrast.setChecked(on)


WINDOW_WIDE_ACTIONS = ("zoom_in", "zoom_out", "reset_zoom", "high_contrast", "presenter",
                       "lesson_next", "lesson_previous", "lesson_reveal")


def install(window: "MainWindow") -> Presenter:
    """The presenter view of ``window``, and its zoom and theme taken from (and kept in) its
    settings; a window that does not remember its layout (a screenshot) leaves them alone."""
    # Read, not changed: the window's own switch for reading and writing its settings.
    preferences = _Preferences(window, remember=getattr(window, "_remember_layout", True))
    # The menu bar is hidden in the presenter view, and a hidden menu's shortcuts are off:
    # these must keep working there, so the window holds them too.
    for key in WINDOW_WIDE_ACTIONS:
        action = window.actions_by_id.get(key)
        if action is not None:
            window.addAction(action)
    return Presenter(window, preferences)
