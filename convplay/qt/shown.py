"""One pattern for every view that follows a model: redraw now if on screen, else when shown.

A tab behind another or a hidden dock costs nothing per edit: the model's events only
mark the view out of date, and it reads the model's current state once it comes back.

A dock tabbed behind another stays "visible" to Qt (it is moved out of the window's
area, its visible region empty); its ``QDockWidget.visibilityChanged`` is what says when
its tab comes to the front, so the helper listens to the dock that holds the view.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QWidget


def hear_while_alive(widget: QObject, *pairs) -> None:
    """Connect each (signal, handler) pair, and disconnect them once ``widget`` is gone:
    the models (session, results, settings) outlive the views that listen to them."""
    for signal, handler in pairs:
        signal.connect(handler)
    widget.destroyed.connect(lambda *_: [_disconnect_quietly(s, h) for s, h in pairs])


def _disconnect_quietly(signal, handler) -> None:
    try:
        signal.disconnect(handler)
    except (RuntimeError, TypeError, ValueError):  # already gone with its owner
        pass


def on_screen(widget: QWidget) -> bool:
    """True if ``widget`` can be seen, or will be once its window is shown (a window not
    shown yet counts: what it holds is drawn when it appears)."""
    window = widget.window()
    if window is widget:
        return not (widget.isHidden() and widget.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide))
    if not widget.isVisibleTo(window):
        return False
    return not window.isVisible() or not widget.visibleRegion().isEmpty()


def _dock_of(widget: QWidget) -> QDockWidget | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    return parent


class WhenShown(QObject):
    """Calls ``refresh()`` on ``request()`` while ``widget`` is on screen, or once it is shown.

    ``on_visibility(bool)``, when given, hears when the widget comes into sight or leaves
    it (a view that needs costly data asks for it only while it is seen).  The widget is
    seen when it and its parents are shown and, inside a dock, while the dock's tab is in
    front.
    """

    def __init__(
        self,
        widget: QWidget,
        refresh: Callable[[], None],
        on_visibility: Callable[[bool], None] | None = None,
    ):
        super().__init__(widget)
        self._widget = widget
        self._refresh = refresh
        self._on_visibility = on_visibility
        self._dock: QDockWidget | None = None
        self._dock_in_front = True  # what the dock last said (a dock starts in front)
        self._seen: bool | None = None  # what on_visibility was last told
        self.pending = False
        widget.installEventFilter(self)
        self._bind_dock()

    def seen(self) -> bool:
        """True if the widget can be seen now (or will be once its window is shown)."""
        widget = self._widget
        self._bind_dock()  # an ancestor may have been put into a dock since (no event says so)
        if self._dock is None:
            return on_screen(widget)
        window = widget.window()
        return self._dock_in_front and (window is widget or widget.isVisibleTo(window))

    def request(self, *_args) -> None:
        shown = self.seen()
        self._tell(shown)
        if shown:
            self.pending = False
            self._refresh()
        else:
            self.pending = True

    def _changed(self) -> None:
        shown = self.seen()
        self._tell(shown)
        if shown and self.pending:
            self.pending = False
            self._refresh()

    def _on_dock_visibility(self, in_front: bool) -> None:
        self._dock_in_front = bool(in_front)
        self._changed()

    def _tell(self, shown: bool) -> None:
        if self._on_visibility is not None and shown != self._seen:
            self._seen = shown
            self._on_visibility(shown)

    def _bind_dock(self) -> None:
        dock = _dock_of(self._widget)
        if dock is self._dock:
            return
        if self._dock is not None:
            try:
                self._dock.visibilityChanged.disconnect(self._on_dock_visibility)
            except (RuntimeError, TypeError):
                pass
        self._dock = dock
        # Bound late (an ancestor docked since): a tab behind another has no visible region.
        self._dock_in_front = dock is None or not dock.isVisible() or not dock.visibleRegion().isEmpty()
        if dock is not None:
            dock.visibilityChanged.connect(self._on_dock_visibility)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget:
            kind = event.type()
            if kind == QEvent.Type.ParentChange:
                self._bind_dock()
            elif kind in (QEvent.Type.Show, QEvent.Type.Hide):
                self._changed()
        return False
