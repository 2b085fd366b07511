"""The convplay window: the panels in docks, the menus, undo, and the compute path.

The window paints before torch is imported: the worker thread loads torch once the
first paint is done (``first_painted``), and only then is the first convolution run.
Every session change becomes one request to the worker; the newest result is shown.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPaintEvent, QUndoStack
from PySide6.QtWidgets import QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QWidget

import convplay
from convplay.core.compute_settings import ComputeSettings
from convplay.core.samples import SAMPLES
from convplay.core.session import Session
from convplay.core.spec import ConvSpecError
from convplay.qt.workers import ComputeOutcome, ComputeRequest, ComputeWorker
from convplay.core.image_io import IMAGE_SUFFIXES
from convplay.qt.animation.dock import AnimationDock
from convplay.core.formatting import format_seconds
from convplay.qt.panels.device_panel import DevicePanel
from convplay.qt.panels.formula_panel import FormulaPanel
from convplay.qt.panels.input_panel import InputPanel
from convplay.qt.panels.kernel_panel import KernelPanel
from convplay.qt.panels.output_panel import OutputPanel
from convplay.qt.panels.params_panel import ParamsPanel
from convplay.qt.widgets.view_link import ProportionalLink

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
DEFAULT_WORKING_SIZE = 256
SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_STATE = "window/state"
SETTINGS_LAST_FOLDER = "files/last_folder"
BUSY_NOTE_DELAY_MS = 150  # a PyTorch call still running after this is shown as "computing…"


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
        worker: ComputeWorker | None = None,
        settings: QSettings | None = None,
        working_size: int = DEFAULT_WORKING_SIZE,
        remember_layout: bool = True,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("convplay \u2014 convolution playground")
        self.setObjectName("convplay-main-window")
        self.session = session
        self.compute_settings = compute_settings or ComputeSettings()
        self.settings = settings if settings is not None else default_settings()
        self.undo_stack = QUndoStack(self)
        self.worker = worker or ComputeWorker(parent=self)
        self._remember_layout = remember_layout  # False: neither read nor write the layout
        self._painted = False
        self._focus_state: QByteArray | None = None  # the layout to go back to after focus mode
        self._backend_started = False
        self._host_image_cache: tuple[np.ndarray, np.dtype, np.ndarray] | None = None
        self._device_shown = True  # the Device dock on screen, not a tab behind another
        self._unshown_outcome: ComputeOutcome | None = None  # for the Device panel, once shown

        self.output_panel = OutputPanel()
        self.worker.set_preparer(self.output_panel.preparer)  # display arrays made off the UI thread
        self.device_panel = DevicePanel(self.compute_settings)
        self.kernel_panel = KernelPanel(session, self.undo_stack)
        self.input_panel = InputPanel(session, self.undo_stack)
        self.params_panel = ParamsPanel(session, self.undo_stack)
        self.formula_panel = FormulaPanel(session)
        self.animation_panel = AnimationDock(session)
        with QSignalBlocker(self.input_panel.size_spin):  # the session's image is already this size
            self.input_panel.size_spin.setValue(working_size)
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
        self.compute_label = QLabel("")
        self.compute_label.setToolTip("The last PyTorch call")
        self.compute_label.setFixedHeight(self.compute_label.sizeHint().height())
        self._show_compute_text("")
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.compute_label)

        self._build_menus()
        if remember_layout:
            self._restore_window()

        self.output_panel.hovered.connect(self.hover_label.setText)
        self.input_panel.hovered.connect(self.hover_label.setText)
        self.output_panel.displayed.connect(self.output_shown)
        self.worker.result_ready.connect(self._on_result)
        self.worker.result_ready.connect(self.animation_panel.set_outcome)
        self.docks["animation"].visibilityChanged.connect(self.animation_panel.set_active)
        self.docks["device"].visibilityChanged.connect(self._on_device_visibility)
        self.worker.failed.connect(self._on_failed)
        self.worker.devices_ready.connect(self._on_devices_ready)
        self._busy_note = QTimer(self)
        self._busy_note.setSingleShot(True)
        self._busy_note.setInterval(BUSY_NOTE_DELAY_MS)
        self._busy_note.timeout.connect(self._show_busy_note)
        self.worker.busy_changed.connect(self._on_busy)
        # ``edited`` comes before every other session event: PyTorch starts before any
        # panel follows the edit, and runs while they redraw.
        session.edited.connect(self.request_compute)
        self.compute_settings.changed.connect(self.request_compute)

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

    def show_animation_step(self, k: int) -> bool:
        """Bring the sliding-window animation to the front at step ``k`` (0-based).

        False, with the reason in the animation panel's message, if there is no such step.
        """
        panel = self.animation_panel
        self.docks["animation"].show()
        self.docks["animation"].raise_()
        n = panel.state.n_steps
        if not 0 <= k < n:
            if n:
                panel.message.setText(f"there are {n} steps (1 to {n})")
            return False
        panel.state.seek(k)
        return True

    def _output_hw(self) -> tuple[int, int] | None:
        output = self.output_panel.output
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
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setStatusTip(tip)
        action.setToolTip(tip or text.replace("&", ""))
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open image\u2026", self._choose_image, QKeySequence.StandardKey.Open, "Open an image file as the input"
        )
        file_menu.addAction(self.open_action)
        samples_menu = file_menu.addMenu("&Samples")
        samples_menu.setToolTipsVisible(True)
        group = ""
        for sample in SAMPLES:
            if sample.group != group:
                if group:
                    samples_menu.addSeparator()
                group = sample.group
            action = self._action(
                sample.name, lambda _=False, s=sample: self.input_panel.load_sample(s), tip=sample.description
            )
            samples_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(
            self._action(
                "Open &kernel…",
                self._choose_kernel_file,
                "Ctrl+K",
                "Load a kernel from a .pth/.pt state_dict, .safetensors, .npy/.npz, ImageJ or CSV file",
            )
        )
        self.learned_menu = file_menu.addMenu("&Learned kernels")
        self.learned_menu.setToolTipsVisible(True)
        # Filled when first opened: listing them imports torch, which must wait for the first paint.
        self.learned_menu.aboutToShow.connect(self._fill_learned_menu)
        file_menu.addAction(
            self._action(
                "Save k&ernel as…",
                self._save_kernel,
                "Ctrl+Shift+K",
                "Save the kernel as .npy, .safetensors or ImageJ text",
            )
        )
        file_menu.addSeparator()
        self.save_output_action = self._action(
            "&Save output as PNG / NPY\u2026",
            self._choose_output_file,
            QKeySequence.StandardKey.Save,
            "Save the shown output channel as a PNG, or every channel as a .npy array",
        )
        file_menu.addAction(self.save_output_action)
        file_menu.addAction(
            self._action("Save screens&hot\u2026", self._choose_screenshot_file, "Ctrl+Shift+S", "Save the whole window as a PNG")
        )
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, "Ctrl+Q", "Close convplay"))

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(
            self._action(
                "&Copy kernel as PyTorch",
                self._copy_kernel,
                "Ctrl+Shift+C",
                "Copy the weights (and bias) as a torch.tensor literal",
            )
        )

        tools_menu = bar.addMenu("&Tools")
        tools_menu.addAction(
            self._action(
                "&Learn a kernel…",
                self.show_learn_dialog,
                "Ctrl+L",
                "Find a kernel by gradient descent from an input and a target (seed 001's experiment)",
            )
        )

        self.view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            toggle = dock.toggleViewAction()
            toggle.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
            self.view_menu.addAction(toggle)
        self.view_menu.addSeparator()
        self.focus_action = self._action(
            "&Focus on the sliding window",
            self.set_focus_mode,
            "Ctrl+Shift+F",
            "Lecture view: only the sliding-window animation, as large as the window (again to leave)",
        )
        self.focus_action.setCheckable(True)
        self.view_menu.addAction(self.focus_action)
        self.view_menu.addAction(self._action("&Reset layout", self.reset_layout, tip="Put every panel back where it started"))

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&Keyboard shortcuts", self.show_shortcuts, "F1", "List the keyboard shortcuts"))
        help_menu.addAction(self._action("&About convplay", self.show_about, tip="Versions of convplay and its libraries"))

    def shortcut_table(self) -> list[tuple[str, str]]:
        """(action, shortcuts) for every menu action that has a shortcut."""
        rows = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            for action in menu.actions() if menu else []:
                keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
                if keys:
                    rows.append((action.text().replace("&", "").rstrip("\u2026"), keys))
        return rows

    def show_shortcuts(self) -> None:
        from convplay.qt.animation.player import SHORTCUTS

        table = self.shortcut_table() + [(f"Sliding window: {what}", key) for key, _, what in SHORTCUTS]
        rows = "".join(f"<tr><td>{name}</td><td><b>{keys}</b></td></tr>" for name, keys in table)
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
    def _last_folder(self) -> str:
        return str(self.settings.value(SETTINGS_LAST_FOLDER, str(Path.home())))

    def _remember_folder(self, path: str) -> None:
        self.settings.setValue(SETTINGS_LAST_FOLDER, str(Path(path).resolve().parent))

    def _choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._last_folder(), IMAGE_FILTER)
        if not path:
            return
        self._remember_folder(path)
        self.open_image(path)

    def open_image(self, path: str) -> bool:
        """Load ``path`` as the input (undoable); False, with the reason shown, if it cannot."""
        if self.input_panel.open_image(path):
            return True
        self.statusBar().showMessage(self.input_panel.message.text(), 8000)
        return False

    def _choose_kernel_file(self) -> None:
        from convplay.qt.dialogs.kernel_picker import KERNEL_FILE_FILTER

        path, _ = QFileDialog.getOpenFileName(self, "Open kernel", self._last_folder(), KERNEL_FILE_FILTER)
        if path:
            self._remember_folder(path)
            self.open_kernel(path)

    def open_kernel(self, path: str) -> bool:
        """Pick a kernel from ``path`` (a dialog lists its 4-D weights); False if refused."""
        from convplay.qt.dialogs.kernel_picker import open_kernel_file

        return open_kernel_file(self, self.session, self.undo_stack, path)

    def _save_kernel(self) -> None:
        from convplay.qt.dialogs.kernel_picker import save_kernel_file

        save_kernel_file(self, self.session, self._last_folder())

    def _fill_learned_menu(self) -> None:
        if self.learned_menu.actions():
            return
        from convplay.compute.checkpoints import learned_kernels

        for learned in learned_kernels():
            self.learned_menu.addAction(
                self._action(learned.name, lambda _=False, k=learned: self.apply_learned_kernel(k), tip=learned.description)
            )

    def apply_learned_kernel(self, learned) -> None:
        from convplay.core.kernel_io import KernelFileError, choose_kernel
        from convplay.qt.dialogs.kernel_picker import apply_kernel_choice

        try:
            choice = choose_kernel(learned.load(), self.session.spec, self.session.image.shape[0])
        except KernelFileError as exc:
            QMessageBox.warning(self, "Cannot load the learned kernel", str(exc))
            return
        apply_kernel_choice(self.session, self.undo_stack, choice, f"Load {learned.name}")
        self.statusBar().showMessage(f"Loaded {learned.name}", 5000)

    def _copy_kernel(self) -> None:
        from convplay.qt.dialogs.kernel_picker import copy_kernel_literal

        copy_kernel_literal(self.session)
        self.statusBar().showMessage("Kernel copied as a torch.tensor literal", 5000)

    def show_learn_dialog(self) -> None:
        from convplay.qt.dialogs.learn_dialog import LearnDialog

        dialog = LearnDialog(self.session, self.undo_stack, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    def dragEnterEvent(self, event) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        path = paths[0]
        if Path(path).suffix.lower() in IMAGE_SUFFIXES:
            self.open_image(path)
        else:
            self.open_kernel(path)

    def _choose_output_file(self) -> None:
        if self.output_panel.output is None:
            self.statusBar().showMessage("No output to save yet", 5000)
            return
        path, chosen = QFileDialog.getSaveFileName(
            self, "Save output", self._last_folder(), "PNG image (*.png);;NumPy array, all channels (*.npy)"
        )
        if path:
            self._remember_folder(path)
            if not Path(path).suffix:
                path += ".npy" if "npy" in chosen else ".png"
            error = self.save_output(path)
            if error:
                QMessageBox.warning(self, "Cannot save output", error)

    def save_output(self, path: str) -> str:
        """.npy: every channel as float values; .png: the shown channel as coloured.  Error or ""."""
        output = self.output_panel.output
        if output is None:
            return "there is no output yet"
        try:
            if path.lower().endswith(".npy"):
                np.save(path, output, allow_pickle=False)
            else:
                item = self.output_panel.view.image_item
                if item.qimage is None:
                    item.render()
                if not item.qimage.save(path):
                    return f"could not write {path}"
        except OSError as exc:
            return str(exc)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return ""

    def _choose_screenshot_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", self._last_folder(), "PNG image (*.png)")
        if path:
            self._remember_folder(path)
            if not self.grab().save(path):
                QMessageBox.warning(self, "Cannot save screenshot", f"could not write {path}")

    # -- compute path ------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # After this paint pass has finished (children included), not inside it.
            QTimer.singleShot(0, self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.first_painted.emit()
        self._backend_started = True
        self.worker.start_backend()
        self.request_compute()

    def _host_image(self, dtype: str) -> np.ndarray:
        """The session's image in the host dtype PyTorch will read, converted once per image."""
        image = self.session.image
        host = np.dtype(np.float64 if dtype == "float64" else np.float32)
        cache = self._host_image_cache
        if cache is None or cache[0] is not image or cache[1] != host:
            cache = (image, host, np.ascontiguousarray(image, dtype=host))
            self._host_image_cache = cache
        return cache[2]

    def request_compute(self) -> None:
        """Ask the worker for PyTorch's output of the current session, unless it is invalid."""
        if not self._backend_started:
            return  # the first paint starts the backend and computes
        session, cs = self.session, self.compute_settings
        try:
            session.spec.output_shape(session.image.shape)
        except ConvSpecError as exc:
            self.worker.cancel_pending()
            self._on_failed(str(exc))
            return
        self.worker.submit(
            ComputeRequest(
                session.spec,
                self._host_image(cs.dtype),
                session.effective_weight(),
                session.bias,
                cs.device,
                cs.dtype,
                cs.tf32_effective,
            )
        )

    def _on_result(self, outcome: ComputeOutcome) -> None:
        self.output_panel.show_output(outcome.output, outcome.display)
        if self._device_shown:
            self._show_device_outcome(outcome)
        else:
            # New label texts lay the window out again (0.5 ms before the output can be
            # painted): a Device tab out of sight catches up when it is brought up.
            self._unshown_outcome = outcome
        self._show_compute_text(f"PyTorch {format_seconds(outcome.elapsed_s)} on {outcome.device_name}")
        if self.worker.busy:
            self._busy_note.start()  # the next job: its own delay before the note

    def _on_failed(self, message: str) -> None:
        self.output_panel.set_stale(message)
        self._show_compute_text("settings invalid: output is stale")
        self.compute_failed.emit(message)

    def _on_busy(self, busy: bool) -> None:
        # Said only for a job that takes a while: most results come within a frame, and a
        # note shown and replaced at once is a repaint per edit while PyTorch runs.
        if busy:
            self._busy_note.start()
        else:
            self._busy_note.stop()

    def _show_busy_note(self) -> None:
        if self.worker.busy:
            self._show_compute_text("computing\u2026")

    def _show_device_outcome(self, outcome: ComputeOutcome) -> None:
        self._unshown_outcome = None
        self.device_panel.show_outcome(outcome.elapsed_s, outcome.device_name, outcome.max_diff_cpu64)

    def _on_device_visibility(self, visible: bool) -> None:
        self._device_shown = visible
        if visible and self._unshown_outcome is not None:
            self._show_device_outcome(self._unshown_outcome)

    def _show_compute_text(self, text: str) -> None:
        """Set the status bar's PyTorch text.  The label has a fixed size, grown only when a
        longer text needs the room: a label that changes size lays the whole window out
        again (0.5 ms here) on every result."""
        label = self.compute_label
        label.setText(text)
        needed = label.fontMetrics().horizontalAdvance(text or "PyTorch 99.9 ms on CPU") + 12
        if needed > label.minimumWidth():
            label.setFixedWidth(needed)

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
        self.session.edited.disconnect(self.request_compute)
        self.compute_settings.changed.disconnect(self.request_compute)
        self.worker.shutdown()
        self.animation_panel.shutdown()
        super().closeEvent(event)
