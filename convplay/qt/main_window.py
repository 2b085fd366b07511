"""The convplay window: the panels in docks, their layout, and the window's settings.

The window paints before torch is imported: the compute controller starts its workers
once the first paint is done (``first_painted``).  Every panel is a view of the session,
the compute settings or the results; the menus come from ``actions.ACTIONS``.
"""

from __future__ import annotations

import sys
from importlib import metadata

from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QTabBar,
    QWidget,
)

import convplay
from convplay.core.compute_settings import ComputeSettings
from convplay.core.history import History
from convplay.core.image_io import IMAGE_SUFFIXES
from convplay.core.network import Network
from convplay.core.pooling_model import PoolingModel
from convplay.core.results import Results
from convplay.core.session import Session
from convplay.qt import actions, presenter, session_commands, workspaces
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.compute_controller import ComputeController
from convplay.qt.lesson_model import LessonModel
from convplay.qt.network_controller import NetworkController
from convplay.qt.choices import WindowChoices
from convplay.qt.panels.analysis_panel import AnalysisPanel
from convplay.qt.panels.compare_panel import ComparePanel
from convplay.qt.panels.designer_panel import DesignerPanel
from convplay.qt.panels.device_panel import DevicePanel
from convplay.qt.panels.formula_panel import FormulaPanel
from convplay.qt.panels.input_panel import InputPanel
from convplay.qt.panels.kernel_panel import KernelPanel
from convplay.qt.panels.lesson_panel import LessonPanel
from convplay.qt.panels.output_panel import OutputPanel
from convplay.qt.panels.feature_maps_panel import FeatureMapsPanel
from convplay.qt.panels.params_panel import ParamsPanel
from convplay.qt.panels.matrix_panel import MatrixPanel
from convplay.qt.panels.pooling_panel import PoolingPanel
from convplay.qt.panels.receptive_panel import ReceptiveFieldPanel
from convplay.qt.panels.scores_panel import ScoresPanel
from convplay.qt.panels.transposed_panel import TransposedPanel
from convplay.qt.panels.stack_panel import StackPanel
from convplay.qt.panels.response_panel import ResponsePanel
from convplay.qt.output_first import OUTPUT_FIRST
from convplay.qt.status import ComputeStatus
from convplay.qt.undo import UndoKeysFromFields, undo_actions
from convplay.qt.widgets.view_link import ProportionalLink

SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_WORKSPACE = "window/workspace"  # the last one used, restored at the next start
SETTINGS_BEFORE_FOCUS = "window/workspace-before-focus"  # where leaving the focus view goes
SETTINGS_STATE = "window/workspace-state/"  # + a workspace's name: the user's arrangement of it
# The layout before workspaces, made for a window that could not fit 1280x720: not read.
OLD_SETTINGS_STATE = "window/state"
# The smallest window the layouts are made for.  Set explicitly, it also keeps Qt from
# raising the window's minimum to what its panels ask for: the window never grows by itself.
MIN_WINDOW_SIZE = (800, 480)
FIRST_SIZE = (1600, 1000)  # the most a first start takes of a large screen
FULL_SCREEN_BELOW = (1440, 820)  # a screen this small or smaller: the first start is maximised


def default_settings() -> QSettings:
    return QSettings("convplay", "convplay")


def versions() -> list[tuple[str, str]]:
    """(package, version) for the About box; read from metadata, importing nothing."""
    from PySide6 import QtCore

    found = [("convplay", convplay.__version__), ("Python", sys.version.split()[0]), ("Qt", QtCore.qVersion())]
    for label, dist in (("PySide6", "PySide6-Essentials"), ("pyqtgraph", "pyqtgraph"), ("numpy", "numpy"), ("torch", "torch")):
        try:
            found.append((label, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            found.append((label, "not installed"))
    return found


class MainWindow(QMainWindow):
    """Signals: ``first_painted`` once; ``output_shown`` after each new PyTorch output is
    on screen; ``compute_failed(str)`` when the settings are invalid or PyTorch refused."""

    first_painted = Signal()
    output_shown = Signal()
    compute_failed = Signal(str)

    def __init__(
        self,
        session: Session,
        compute_settings: ComputeSettings | None = None,
        *,
        controller: ComputeController | None = None,
        settings: QSettings | None = None,
        remember_layout: bool = True,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("convplay \u2014 convolution playground")
        self.setObjectName("convplay-main-window")
        self.session = session
        self.compute_settings = compute_settings or ComputeSettings()
        self.settings = settings if settings is not None else default_settings()
        # The undo history (Qt-free, with a byte budget); the name stays for every caller.
        self.undo_stack = History()
        self.undo_stack.steps_dropped.connect(lambda message: self.statusBar().showMessage(message, 8000))
        if controller is None:  # tests pass one with a stand-in for PyTorch
            controller = ComputeController(session, self.compute_settings, Results(), parent=self)
        self.controller = controller
        self.results = controller.results
        self._remember_layout = remember_layout  # False: neither read nor write the layout
        self._painted = False
        self._workspace = workspaces.EXPLORE
        self._before_focus = workspaces.EXPLORE  # where leaving the focus view goes
        # The user's arrangement of each workspace left this session (or saved before):
        # coming back to a workspace brings back the panels as they were left.
        self._states: dict[str, QByteArray] = {}
        self._states_lesson: dict[str, bool] = {}  # whether each was left with a lesson open
        self._sizes_pending = False  # default sizes to apply once the window has its size
        # True while the rooms have the workspace's own shares (the user has dragged no
        # separator): a resize of the window, by the user or the window manager at start,
        # then gives the new size the same shares instead of stretching one panel.
        self._auto_sizes = False
        self._resize_sizer = QTimer(self)
        self._resize_sizer.setSingleShot(True)
        self._resize_sizer.setInterval(40)
        self._resize_sizer.timeout.connect(self._follow_resize)
        self.setMinimumSize(*MIN_WINDOW_SIZE)

        # It remembers its colours, except in a window that keeps no settings (a --screenshot).
        self.output_panel = OutputPanel(self.results, settings=self.settings if remember_layout else None)
        self.controller.set_preparer(self.output_panel.preparer)  # display arrays made off the UI thread
        self.device_panel = DevicePanel(self.compute_settings, self.results)
        self.kernel_panel = KernelPanel(session, self.undo_stack)
        self.input_panel = InputPanel(session, self.undo_stack, settings=self.settings)
        self.params_panel = ParamsPanel(session, self.undo_stack)
        self.formula_panel = FormulaPanel(session)
        self.animation_panel = AnimationDock(session, self.results)
        # The kernel workbench: parameters, numbers, frequency response, A/B comparison.
        self.designer_panel = DesignerPanel(session, self.undo_stack)
        self.analysis_panel = AnalysisPanel(session, self.results, self.compute_settings)
        # Their view choices are remembered, except in a window that keeps no settings.
        choices = self.settings if remember_layout else WindowChoices()
        self.response_panel = ResponsePanel(session, settings=choices)
        self.compare_panel = ComparePanel(session, self.results, self.compute_settings, settings=choices)
        # From one layer to a network: pooling on its own, and a layer stack traced, run
        # and opened layer by layer in the playground.
        self.pooling_model = PoolingModel()
        self.pooling_panel = PoolingPanel(self.pooling_model, session)
        self.network = Network()
        self.pooling_panel.set_network(self.network)  # a layer's input goes when its stack does
        self.network_controller = NetworkController(self.network, session, self.compute_settings, self)
        self.stack_panel = StackPanel(self.network, session, self.undo_stack, self.pooling_model,
                                      self.network_controller)
        self.maps_panel = FeatureMapsPanel(self.network, self.network_controller)
        self.scores_panel = ScoresPanel(self.network, session=session, history=self.undo_stack)
        self.receptive_panel = ReceptiveFieldPanel(self.network, self.network_controller)
        # The convolution as a matrix, stepping with the sliding window, and a transposed
        # convolution four ways, stepping on its own.
        self.matrix_panel = MatrixPanel(session, self.animation_panel)
        self.transposed_panel = TransposedPanel(session)
        self.lesson = LessonModel(self)  # the lesson open, if any (Lesson menu)
        self.lesson_panel = LessonPanel(self.lesson, self.results)
        self.devices_known = False  # until PyTorch has listed them
        self._view_link = ProportionalLink(
            self.input_panel.image_view.view_box,
            lambda: self.session.image.shape[1:],
            self.output_panel.view.view_box,
            self._output_hw,
        )
        self.docks: dict[str, QDockWidget] = {}
        self.setDockNestingEnabled(True)
        # Qt leaves the tab bar of a tab group that was taken apart on screen where it was
        # (over the panels arranged since); once the docks have moved, such bars are hidden.
        self._tab_bar_tidier = QTimer(self)
        self._tab_bar_tidier.setSingleShot(True)
        self._tab_bar_tidier.setInterval(0)
        self._tab_bar_tidier.timeout.connect(self.tidy_tab_bars)
        self._add_dock("input", "Input", self.input_panel)
        self._add_dock("output", "Output (PyTorch)", self.output_panel)
        self._add_dock("animation", "Sliding window", self.animation_panel)
        self._add_dock("kernel", "Kernel", self.kernel_panel)
        self._add_dock("params", "Parameters", self.params_panel)
        self._add_dock("formula", "Formula and code", self.formula_panel)
        self._add_dock("device", "Device", self.device_panel)
        self._add_dock("lesson", "Lesson", self.lesson_panel)
        self._add_dock("designer", "Kernel designer", self.designer_panel)
        self._add_dock("analysis", "Kernel numbers", self.analysis_panel)
        self._add_dock("response", "Frequency response", self.response_panel)
        self._add_dock("compare", "Compare kernels", self.compare_panel)
        self._add_dock("stack", "Layer stack", self.stack_panel)
        self._add_dock("maps", "Feature maps", self.maps_panel)
        self._add_dock("scores", "Class scores", self.scores_panel)
        self._add_dock("receptive", "Receptive field", self.receptive_panel)
        self._add_dock("pooling", "Pooling", self.pooling_panel)
        self._add_dock("matrix", "Convolution as a matrix", self.matrix_panel)
        self._add_dock("transposed", "Transposed convolution four ways", self.transposed_panel)
        self._arrange(workspaces.workspace(self._workspace))
        self.setAcceptDrops(True)  # kernel files dropped anywhere; images on the input panel

        self.hover_label = QLabel("")
        self.hover_label.setToolTip("The value under the mouse pointer")
        # A long read-out is cut at the window's edge; it never widens the window.
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.compute_label = ComputeStatus(self.results)
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.compute_label)

        self.actions_by_id = actions.build_menus(self)
        self.session_file = session_commands.SessionFileTracker(self)  # the title names the file
        session_commands.follow_lesson_actions(self)
        self.focus_action: QAction = self.actions_by_id["focus"]
        self.presenter = presenter.install(self)  # F5; the zoom and theme kept in the settings
        self.workspace_actions: dict[str, QAction] = {w.name: self.actions_by_id[w.action] for w in workspaces.WORKSPACES}
        # One checked at a time; unchecking the focus view (its shortcut again) is allowed
        # and means "leave it".
        self._workspace_group = QActionGroup(self)
        self._workspace_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for action in self.workspace_actions.values():
            self._workspace_group.addAction(action)
        if remember_layout:
            self._restore_window()
        self._check_workspace_action()

        for panel in (self.output_panel, self.input_panel, self.maps_panel, self.receptive_panel, self.scores_panel):
            panel.hovered.connect(self.hover_label.setText)
        # The sliding window's position, picked on the output (a click) or the input (Ctrl+click, a plain click draws).
        self.output_panel.cell_picked.connect(self.animation_panel.pick_output_cell)
        self.input_panel.canvas.picked.connect(self.animation_panel.pick_input_pixel)
        self.output_panel.displayed.connect(self.output_shown)
        # While the sliding window plays, PyTorch leaves a core to its frames.
        self.animation_panel.state.playing_changed.connect(self.controller.set_spare_core)
        # The panels held back for the output redraw once it has been painted (the paint
        # is posted; a zero timer comes after it).
        self.output_shown.connect(lambda: QTimer.singleShot(0, OUTPUT_FIRST.release))
        # The workbench's views read the (out, in) pair the kernel panel shows.
        for spin in (self.kernel_panel.out_spin, self.kernel_panel.in_spin):
            spin.valueChanged.connect(self._share_kernel_pair)
        self._share_kernel_pair()
        # A layer of the stack opened in the playground: its view comes to the front.
        self.stack_panel.open_requested.connect(self.show_layer_view)
        # The sliding window's overview colours the output as the output panel does.
        for changed in (self.output_panel.displayed, self.output_panel.mapping_combo.currentIndexChanged,
                        self.output_panel.mode_combo.currentIndexChanged):
            changed.connect(self._share_output_colours)
        self._share_output_colours()
        self.controller.devices_ready.connect(self._on_devices_ready)
        self.results.stale_changed.connect(self._on_stale)
        self._undo_keys = UndoKeysFromFields(self)
        for field in (*self.findChildren(QAbstractSpinBox), *self.findChildren(QComboBox)):
            field.installEventFilter(self._undo_keys)

    def show_layer_view(self, name: str) -> None:
        """Enter workspace ``name`` ("sliding", "pooling") with its main view in front."""
        try:
            self.set_workspace(name)
        except KeyError:
            return
        dock = {"sliding": "animation", "pooling": "pooling", "matrix": "matrix", "transposed": "transposed"}.get(name)
        if dock in self.docks:
            self.docks[dock].show()
            self.docks[dock].raise_()

    def checks_pending(self) -> bool:
        """True while a view on screen is still checking itself against PyTorch."""
        return any(panel.isVisible() and panel.worker.busy for panel in (self.matrix_panel, self.transposed_panel))

    def _share_kernel_pair(self) -> None:
        pair = self.kernel_panel.pair
        for panel in (self.analysis_panel, self.response_panel, self.compare_panel):
            panel.set_pair(*pair)

    # -- layout ----------------------------------------------------------------------
    def _add_dock(self, key: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")
        # The panel scrolls inside its dock when the room is smaller than it needs: what a
        # panel asks for never reaches the window, which keeps the size it was given.
        scroll = QScrollArea()
        scroll.setObjectName(f"scroll-{key}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the panel
        scroll.setWidget(widget)
        dock.setWidget(scroll)
        dock.setToolTip(title)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        dock.visibilityChanged.connect(self._tab_bar_tidier.start)
        self.docks[key] = dock
        return dock

    @property
    def workspace(self) -> str:
        """The name of the workspace on screen (workspaces.WORKSPACE_NAMES)."""
        return self._workspace

    @property
    def in_focus(self) -> bool:
        return self._workspace == workspaces.FOCUS

    def set_workspace(self, name: str) -> None:
        """Arrange the panels as workspace ``name``: as the user left it this session (or in
        the saved settings), else its default arrangement.  The focus view goes through
        ``set_focus_mode``, entering and leaving."""
        workspaces.workspace(name)  # a KeyError names the workspaces there are
        if self.in_focus and not self.focus_action.isEnabled():
            self._check_workspace_action()  # the presenter view holds the focus view until it ends
            return
        if name == workspaces.FOCUS:
            self.set_focus_mode(True)
        elif self.in_focus:
            self._before_focus = name
            self.set_focus_mode(False)
        else:
            self._switch_to(name)

    def set_focus_mode(self, on: bool) -> None:
        """Only the animation on screen (for a projector), or back to the workspace before."""
        on = bool(on)
        if on != self.in_focus:
            if on:
                self._before_focus = self._workspace
                self._switch_to(workspaces.FOCUS)
                self.docks["animation"].raise_()
                self.animation_panel.setFocus()
            else:
                self._switch_to(self._before_focus)
        self._check_workspace_action()

    def _switch_to(self, name: str) -> None:
        if name == self._workspace:  # chosen again: it stays as the user has it
            self._check_workspace_action()
            return
        if self.isVisible() and not self._sizes_pending:
            # Only an arrangement the user has seen is theirs to come back to: one saved
            # before the window was shown has the sizes of no real window.
            self._states[self._workspace] = self.saveState()
            self._states_lesson[self._workspace] = self.lesson.is_open
        self._workspace = name
        self._lay_out_workspace()

    def _lay_out_workspace(self) -> None:
        state = self._states.get(self._workspace)
        # An arrangement left without the lesson panel has no room for it: a lesson gets the
        # workspace's own layout, its panel in its place.
        if self.lesson.is_open and not self._states_lesson.get(self._workspace, False):
            state = None
        if state is not None and self.restoreState(state):
            self._sizes_pending = False  # the user's own sizes
            self._auto_sizes = False
            self._tab_bar_tidier.start()
        else:
            self._arrange(workspaces.workspace(self._workspace))
        self.lesson.place_dock()
        self._check_workspace_action()

    def _check_workspace_action(self) -> None:
        actions_ = getattr(self, "workspace_actions", None)
        if actions_:  # not yet while the menus are built
            for name, action in actions_.items():
                action.setChecked(name == self._workspace)

    def reset_layout(self) -> None:
        """The current workspace's default arrangement, every panel of it shown."""
        self._states.pop(self._workspace, None)
        self._arrange(workspaces.workspace(self._workspace))
        self.lesson.place_dock()

    def _arrange(self, ws: workspaces.Workspace) -> None:
        """Dock every panel where ``ws`` puts it, show the ones it shows, size the rooms."""
        docks = self.docks
        for dock in docks.values():  # out of every tab group first: the groups are made anew
            self.removeDockWidget(dock)
        for dock in docks.values():
            dock.setFloating(False)
            dock.show()
        for step, *names in workspaces.placement(ws.layout):
            if step == "add":
                self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks[names[0]])
            elif step == "split":
                a, b, orientation = names
                self.splitDockWidget(docks[a], docks[b], _ORIENTATION[orientation])
            else:
                self.tabifyDockWidget(docks[names[0]], docks[names[1]])
        for key, dock in docks.items():
            dock.setVisible(key in ws.shown)
        for node in _tab_groups(ws.layout):
            front = next((d for d in node.docks if d in ws.shown), None)
            if front is not None:
                docks[front].raise_()
        self._apply_default_sizes()
        if self.isVisible() and self.lesson.is_open:
            # The docks take their new places over the next layout passes while a lesson's
            # step changes the panels' contents: the shares are given again once they have,
            # or the sizes asked of the old arrangement stay.
            self._resize_sizer.start()
        self._tab_bar_tidier.start()

    def tab_groups(self) -> list[list[QDockWidget]]:
        """The docks shown together as tabs, each group in the window's dock order."""
        groups: list[list[QDockWidget]] = []
        for dock in self.docks.values():
            if not dock.isVisible() or dock.isFloating() or any(dock in g for g in groups):
                continue
            group = [dock, *(d for d in self.tabifiedDockWidgets(dock) if d.isVisible())]
            if len(group) > 1:
                groups.append(group)
        return groups

    def tidy_tab_bars(self) -> None:
        """Hide every tab bar but the one under each tab group (found by its tabs' titles and
        its place at the group's edge)."""
        bars = [bar for bar in self.findChildren(QTabBar) if bar.parentWidget() is self]
        keep = set()
        for group in self.tab_groups():
            titles = {dock.windowTitle() for dock in group}
            edge = group[0].geometry()
            candidates = [bar for bar in bars if {bar.tabText(i) for i in range(bar.count())} == titles]
            if candidates:
                keep.add(min(candidates, key=lambda bar: abs(bar.y() - edge.bottom()) + abs(bar.x() - edge.x())))
        for bar in bars:
            if bar not in keep and bar.isVisible():
                bar.hide()

    def _apply_default_sizes(self) -> None:
        """The workspace's shares of the room, in pixels of the window as it is now; before
        the window is shown its size is not final, so they are applied again then."""
        ws = workspaces.workspace(self._workspace)
        self._sizes_pending = not self.isVisible()
        self._auto_sizes = True
        area = self.size()
        for name in ("menuBar", "statusBar"):
            bar = getattr(self, name)()
            area.setHeight(area.height() - bar.sizeHint().height())
        for keys, pixels, orientation in workspaces.sizes(ws.layout, area.width(), area.height(), self._fit, ws.shown):
            self.resizeDocks([self.docks[k] for k in keys], list(pixels), _ORIENTATION[orientation])

    def _fit(self, key: str, orientation: str, across: int) -> int:
        """The pixels dock ``key`` needs along ``orientation``, ``across`` wide (or tall):
        its title bar and its panel, as tall as the panel is at that width."""
        dock = self.docks[key]
        scroll = dock.widget()
        panel = scroll.widget()
        if orientation == workspaces.HORIZONTAL:  # with room for a scroll bar, should the height run short
            bar = scroll.verticalScrollBar().sizeHint().width()
            return dock.sizeHint().width() - scroll.sizeHint().width() + panel.sizeHint().width() + bar + _FIT_SLACK
        title = dock.sizeHint().height() - scroll.sizeHint().height()  # the title bar and frame
        # Measured as if the scroll bar were there: were it to appear, the narrower panel
        # could wrap to more lines and need it after all.
        across -= scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth()
        height = panel.heightForWidth(across) if panel.hasHeightForWidth() else -1
        return title + max(height, panel.minimumSizeHint().height()) + _FIT_SLACK

    def show_animation_step(self, k: int) -> str:
        """Bring the sliding-window animation to the front at step ``k`` (0-based); in the
        matrix and transposed workspaces their own view stays in front (the matrix steps with
        the animation).

        Returns "" when done, else why not (there is no such step, or nothing to animate).
        """
        panel = self.animation_panel
        front = self._workspace if self._workspace in (workspaces.MATRIX, workspaces.TRANSPOSED) else "animation"
        self.docks[front].show()
        self.docks[front].raise_()
        n = panel.state.n_steps
        if n == 0:
            return f"these settings cannot be animated: {panel.problem}" if panel.problem else "there is nothing to animate"
        if not 0 <= k < n:
            return f"there are {n} steps (1 to {n})"
        panel.state.seek(k)
        return ""

    def _output_hw(self) -> tuple[int, int] | None:
        output = self.results.output
        return None if output is None else output.shape[1:]

    # -- menus -----------------------------------------------------------------------
    def make_undo_actions(self) -> tuple[QAction, QAction]:
        """Undo and redo for the Edit menu, following the history (made once)."""
        if not hasattr(self, "_undo_actions"):
            self._undo_actions = undo_actions(self.undo_stack, self, busy=lambda: self.input_panel.canvas.in_stroke or self.designer_panel.in_drag)
        return self._undo_actions

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(command, shortcuts) for every menu action with a shortcut, and the animation's keys."""
        return actions.shortcut_table(self)

    def show_shortcuts(self) -> None:
        from convplay.qt.dialogs.shortcuts_dialog import show_shortcuts

        show_shortcuts(self, self.shortcut_table())

    def about_text(self) -> str:
        rows = "".join(f"<tr><td>{name}</td><td>{version}</td></tr>" for name, version in versions())
        return (
            "<h3>convplay</h3><p>A convolution playground: everything on screen is what PyTorch computes.</p>"
            f"<table cellspacing='4'>{rows}</table>"
        )

    def show_about(self) -> None:
        QMessageBox.about(self, "About convplay", self.about_text())

    # -- files -----------------------------------------------------------------------
    def open_image(self, path: str) -> bool:
        """Load ``path`` as the input (undoable); False, with the reason shown, if it cannot."""
        return actions.open_image(self, path)

    def open_kernel(self, path: str) -> bool:
        """Pick a kernel from ``path`` (a dialog lists its 4-D weights); False if refused."""
        return actions.open_kernel(self, path)

    def save_output(self, path: str) -> str:
        """.npy: every channel; .png: the shown channel as coloured.  An error or ""."""
        return actions.save_output(self, path)

    def dragEnterEvent(self, event) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        path = paths[0]
        if path.lower().endswith((".convplay", ".json")):  # a session or a lesson (kernels are never .json)
            session_commands.open_path(self, path)
        elif path.lower().endswith(tuple(IMAGE_SUFFIXES)):
            self.open_image(path)
        else:
            self.open_kernel(path)

    # -- compute ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while PyTorch has work in hand for this window."""
        return self.results.busy

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # After this paint pass has finished (children included), not inside it.
            QTimer.singleShot(0, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.first_painted.emit()
        self.controller.start()

    def _on_stale(self, reason: str) -> None:
        if reason:
            self.compute_failed.emit(reason)

    def _share_output_colours(self, *_) -> None:
        panel = self.output_panel
        self.animation_panel.set_output_colours(panel.preparer.tables, panel.mapping, panel.mode)

    def _on_devices_ready(self, devices: list, error: str) -> None:
        wanted = self.compute_settings.device
        self.compute_settings.set_devices(devices)
        self.devices_known = True
        notes = [error] if error else []
        if self.compute_settings.device != wanted:
            notes.append(f"{wanted} is not available here; using the CPU")
            from convplay.compute.devices import CPU_DTYPES

            if self.compute_settings.dtype not in CPU_DTYPES:  # float16 asked of a CUDA device (a session file)
                notes.append(f"{self.compute_settings.dtype} runs on CUDA only; using float32")
                self.compute_settings.set_dtype("float32")
            self.statusBar().showMessage("; ".join(notes), 10_000)
        self.device_panel.set_status("\n".join(notes))

    # -- settings ----------------------------------------------------------------------
    def _restore_window(self) -> None:
        """The geometry, the last workspace and the user's arrangement of each workspace."""
        settings = self.settings
        geometry = settings.value(SETTINGS_GEOMETRY)
        if isinstance(geometry, QByteArray):
            self.has_remembered_geometry = self.restoreGeometry(geometry)
        for name in workspaces.WORKSPACE_NAMES:
            state = settings.value(SETTINGS_STATE + name)
            if isinstance(state, QByteArray):
                self._states[name] = state
        before = settings.value(SETTINGS_BEFORE_FOCUS)
        if before in workspaces.WORKSPACE_NAMES and before != workspaces.FOCUS:
            self._before_focus = before
        last = settings.value(SETTINGS_WORKSPACE)
        if last in workspaces.WORKSPACE_NAMES:
            self._workspace = last  # the focus view too: leaving it goes back to the one saved with it
        self._lay_out_workspace()

    def save_window_settings(self) -> None:
        self._states[self._workspace] = self.saveState()
        settings = self.settings
        settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        settings.setValue(SETTINGS_WORKSPACE, self._workspace)
        settings.setValue(SETTINGS_BEFORE_FOCUS, self._before_focus)
        for name, state in self._states.items():
            settings.setValue(SETTINGS_STATE + name, state)
        settings.remove(OLD_SETTINGS_STATE)
        settings.sync()

    has_remembered_geometry = False  # set by _restore_window

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._sizes_pending:  # the rooms' shares of the size the window was given
            self._apply_default_sizes()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_sizes and self.isVisible() and event.oldSize().isValid():
            self._resize_sizer.start()

    def _follow_resize(self) -> None:
        presenter = getattr(self, "presenter", None)
        # The presenter view puts back the layout exactly as it was: its own sizes stay.
        if self._auto_sizes and not (presenter is not None and presenter.active):
            self._apply_default_sizes()

    def event(self, event) -> bool:
        # A press on the main window itself, not on a panel, is on a separator between docks
        # (QMainWindow takes it in event(), before mousePressEvent): the user sizes the rooms.
        if event.type() == QEvent.Type.MouseButtonPress:
            self._auto_sizes = False
        return super().event(event)

    def fit_to_screen(self) -> None:
        """A first size for a window with none remembered: most of the screen, and the whole
        of a small one (a 1366×768 laptop, a 1280×720 projector)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        room = screen.availableGeometry()
        if room.width() <= FULL_SCREEN_BELOW[0] or room.height() <= FULL_SCREEN_BELOW[1]:
            self.resize(room.size())
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
            return
        size = QSize(min(int(room.width() * 0.9), FIRST_SIZE[0]), min(int(room.height() * 0.9), FIRST_SIZE[1]))
        self.resize(size)
        self.move(room.center() - self.rect().center())

    close_confirmed = False  # File > Quit has asked already

    def closeEvent(self, event) -> None:
        # The window manager's close button asks as File > Quit does; a close by the program
        # (a screenshot done, a test's end) does not.
        if event.spontaneous() and not self.close_confirmed and not session_commands.confirm_discard(self, "closing"):
            event.ignore()
            return
        if self._remember_layout:
            self.save_window_settings()
        self.controller.shutdown()
        self.network_controller.shutdown()
        self.animation_panel.shutdown()
        self.matrix_panel.shutdown()
        self.transposed_panel.shutdown()
        super().closeEvent(event)


_FIT_SLACK = 4  # the dock area rounds the rooms it shares out: a strip that fits, with a little to spare
_ORIENTATION = {workspaces.HORIZONTAL: Qt.Orientation.Horizontal, workspaces.VERTICAL: Qt.Orientation.Vertical}


def _tab_groups(node: workspaces.Node) -> list[workspaces.Tabs]:
    if isinstance(node, workspaces.Tabs):
        return [node]
    return [group for part, _ in node.parts for group in _tab_groups(part)]
