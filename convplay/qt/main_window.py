"""The convplay window: the panels in docks, their layout, and the window's settings.

The window paints before torch is imported: the compute controller starts its workers
once the first paint is done (``first_painted``).  Every panel is a view of the session,
the compute settings or the results; the menus come from ``actions.ACTIONS``.
"""

from __future__ import annotations

import sys
from importlib import metadata

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QPaintEvent
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QDockWidget, QLabel, QMainWindow, QMessageBox, QWidget

import convplay
from convplay.core.compute_settings import ComputeSettings
from convplay.core.history import History
from convplay.core.image_io import IMAGE_SUFFIXES
from convplay.core.results import Results
from convplay.core.session import Session
from convplay.qt import actions, presenter
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.compute_controller import ComputeController
from convplay.qt.panels.device_panel import DevicePanel
from convplay.qt.panels.formula_panel import FormulaPanel
from convplay.qt.panels.input_panel import InputPanel
from convplay.qt.panels.kernel_panel import KernelPanel
from convplay.qt.panels.output_panel import OutputPanel
from convplay.qt.panels.params_panel import ParamsPanel
from convplay.qt.status import ComputeStatus
from convplay.qt.undo import UndoKeysFromFields, undo_actions
from convplay.qt.widgets.view_link import ProportionalLink

SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_STATE = "window/state"


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
        self._focus_state: QByteArray | None = None  # the layout to go back to after focus mode

        self.output_panel = OutputPanel(self.results, settings=self.settings)  # remembers its colours
        self.controller.set_preparer(self.output_panel.preparer)  # display arrays made off the UI thread
        self.device_panel = DevicePanel(self.compute_settings, self.results)
        self.kernel_panel = KernelPanel(session, self.undo_stack)
        self.input_panel = InputPanel(session, self.undo_stack, settings=self.settings)
        self.params_panel = ParamsPanel(session, self.undo_stack)
        self.formula_panel = FormulaPanel(session)
        self.animation_panel = AnimationDock(session, self.results)
        self._view_link = ProportionalLink(
            self.input_panel.image_view.view_box,
            lambda: self.session.image.shape[1:],
            self.output_panel.view.view_box,
            self._output_hw,
        )
        self.docks: dict[str, QDockWidget] = {}
        self.setDockNestingEnabled(True)
        self._add_dock("input", "Input", self.input_panel)
        self._add_dock("output", "Output (PyTorch)", self.output_panel)
        self._add_dock("animation", "Sliding window", self.animation_panel)
        self._add_dock("kernel", "Kernel", self.kernel_panel)
        self._add_dock("params", "Parameters", self.params_panel)
        self._add_dock("formula", "Formula and code", self.formula_panel)
        self._add_dock("device", "Device", self.device_panel)
        self._arrange_default_layout()
        self.setAcceptDrops(True)  # kernel files dropped anywhere; images on the input panel
        self._default_state = self.saveState()

        self.hover_label = QLabel("")
        self.hover_label.setToolTip("The value under the mouse pointer")
        self.compute_label = ComputeStatus(self.results)
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.compute_label)

        self.actions_by_id = actions.build_menus(self)
        self.focus_action: QAction = self.actions_by_id["focus"]
        self.presenter = presenter.install(self)  # F5; the zoom and theme kept in the settings
        if remember_layout:
            self._restore_window()

        self.output_panel.hovered.connect(self.hover_label.setText)
        self.input_panel.hovered.connect(self.hover_label.setText)
        self.output_panel.displayed.connect(self.output_shown)
        self.controller.devices_ready.connect(self._on_devices_ready)
        self.results.stale_changed.connect(self._on_stale)
        self._undo_keys = UndoKeysFromFields(self)
        for field in (*self.findChildren(QAbstractSpinBox), *self.findChildren(QComboBox)):
            field.installEventFilter(self._undo_keys)

    # -- layout ----------------------------------------------------------------------
    def _add_dock(self, key: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")
        dock.setWidget(widget)
        dock.setToolTip(title)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.docks[key] = dock
        return dock

    def _arrange_default_layout(self) -> None:
        """Input over kernel on the left, the output in the middle, parameters over the
        formula and the device on the right."""
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        d = self.docks
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["input"])
        self.splitDockWidget(d["input"], d["output"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["output"], d["params"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(d["output"], d["animation"])
        d["output"].raise_()
        self.splitDockWidget(d["input"], d["kernel"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["params"], d["formula"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["formula"], d["device"])
        d["formula"].raise_()
        self.resizeDocks([d["input"], d["output"], d["params"]], [4, 6, 5], Qt.Orientation.Horizontal)
        self.resizeDocks([d["input"], d["kernel"]], [5, 4], Qt.Orientation.Vertical)
        self.resizeDocks([d["params"], d["formula"]], [3, 5], Qt.Orientation.Vertical)

    def show_animation_step(self, k: int) -> str:
        """Bring the sliding-window animation to the front at step ``k`` (0-based).

        Returns "" when done, else why not (there is no such step, or nothing to animate).
        """
        panel = self.animation_panel
        self.docks["animation"].show()
        self.docks["animation"].raise_()
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

    def set_focus_mode(self, on: bool) -> None:
        """Only the animation on screen (for a projector), or back to the layout before."""
        on = bool(on)
        self.focus_action.setChecked(on)
        if on == (self._focus_state is not None):
            return
        if on:
            self._focus_state = self.saveState()
            for key, dock in self.docks.items():
                dock.setVisible(key == "animation")
            self.docks["animation"].raise_()
            self.animation_panel.setFocus()
        else:
            state, self._focus_state = self._focus_state, None
            self.restoreState(state)
        # The window's minimum size follows the docks on screen only after this: without it
        # the lecture view could not be resized below the full layout's minimum.
        self.layout().activate()

    def reset_layout(self) -> None:
        self._focus_state = None
        self.focus_action.setChecked(False)
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.show()

    # -- menus -----------------------------------------------------------------------
    def make_undo_actions(self) -> tuple[QAction, QAction]:
        """Undo and redo for the Edit menu, following the history (made once)."""
        if not hasattr(self, "_undo_actions"):
            self._undo_actions = undo_actions(self.undo_stack, self, busy=lambda: self.input_panel.canvas.in_stroke)
        return self._undo_actions

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(command, shortcuts) for every menu action with a shortcut, and the animation's keys."""
        return actions.shortcut_table(self)

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>" for name, keys in self.shortcut_table())
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellspacing='6'>{rows}</table>")

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
        if path.lower().endswith(tuple(IMAGE_SUFFIXES)):
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

    def _on_devices_ready(self, devices: list, error: str) -> None:
        wanted = self.compute_settings.device
        self.compute_settings.set_devices(devices)
        notes = [error] if error else []
        if self.compute_settings.device != wanted:
            notes.append(f"{wanted} is not available here; using the CPU")
        self.device_panel.set_status("\n".join(notes))

    # -- settings ----------------------------------------------------------------------
    def _restore_window(self) -> None:
        geometry = self.settings.value(SETTINGS_GEOMETRY)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value(SETTINGS_STATE)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_window_settings(self) -> None:
        self.settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
        self.settings.setValue(SETTINGS_STATE, self.saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if self._remember_layout:
            self.save_window_settings()
        self.controller.shutdown()
        self.animation_panel.shutdown()
        super().closeEvent(event)
