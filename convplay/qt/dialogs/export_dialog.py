"""File > Export animation…: the sliding window as a GIF, WebP or MP4.

The user picks the format, the steps, the frames per step, the frame rate, the size,
whether the arithmetic is in the frames, and the file; then a progress bar with Cancel
while ``ExportJob`` draws the frames (the window stays live), and a status message with
the file and the time it took.  Whatever cannot be exported is said in the dialog, next
to the choices, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convplay.core.encoders import DEFAULT_FPS, FORMATS, MAX_FPS, MP4_QUALITY, video_problem
from convplay.core.results import Results
from convplay.core.session import Session
from convplay.qt import files, style
from convplay.qt.export.job import (
    DEFAULT_SIZE,
    LARGE_EXPORT_FRAMES,
    MAX_FRAMES_PER_STEP,
    MAX_SIDE,
    MIN_SIDE,
    SIZE_PRESETS,
    ExportJob,
    ExportOptions,
)

CUSTOM = "Custom"
FILE_FILTER = "GIF animation (*.gif);;Animated WebP (*.webp);;MP4 video (*.mp4)"
DEFAULT_NAME = "convplay-animation"
SETTINGS = "export/"  # + a choice's name: the last export's choices
SECONDS_PER_FRAME = 0.05
MEMORY_NOTE_BYTES = 512 * 2 ** 20  # frames held for a GIF or WebP beyond this are mentioned  # about what a 960×540 frame costs to draw here, for the warning


def size_text(width: int, height: int) -> str:
    return f"{width} \u00d7 {height}"


class ExportDialog(QDialog):
    """The export's options and its progress.  ``exported(path, message)`` once written."""

    exported = Signal(str, str)

    def __init__(self, session: Session, results: Results, panel, *, settings: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self.session, self.results, self.panel = session, results, panel
        self.settings = settings
        self.job: ExportJob | None = None
        n = max(panel.state.n_steps, 1)
        self.n_steps = panel.state.n_steps

        self.format_combo = QComboBox()
        for suffix, name in FORMATS.items():
            self.format_combo.addItem(name, suffix)
        self.video_problem = video_problem()
        if self.video_problem:  # MP4 shown, but disabled with the reason
            item = self.format_combo.model().item(list(FORMATS).index(".mp4"))
            item.setEnabled(False)
            item.setToolTip(self.video_problem)
        self.format_note = QLabel(self.video_problem)
        self.format_note.setWordWrap(True)
        self.format_note.setVisible(bool(self.video_problem))

        self.first_spin = QSpinBox()
        self.last_spin = QSpinBox()
        for spin in (self.first_spin, self.last_spin):
            spin.setRange(1, n)
            spin.setGroupSeparatorShown(True)
        self.first_spin.setValue(1)
        # A huge animation (a photo's every output cell) starts with its first steps chosen.
        self.last_spin.setValue(min(n, LARGE_EXPORT_FRAMES))
        self.range_note = QLabel(
            f"The animation has {n:,} steps: the first {LARGE_EXPORT_FRAMES:,} are chosen (All for every one)."
            if n > LARGE_EXPORT_FRAMES else "")
        self.range_note.setWordWrap(True)
        self.range_note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.range_note.setVisible(n > LARGE_EXPORT_FRAMES)
        self.first_spin.setToolTip("The first step of the export (1-based, as on screen)")
        self.last_spin.setToolTip("The last step of the export (inclusive)")
        self.all_button = QPushButton("All")
        self.all_button.setToolTip(f"Every step, 1 to {n:,}")
        self.all_button.clicked.connect(self._all_steps)

        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(1, MAX_FRAMES_PER_STEP)
        self.frames_spin.setToolTip("How many frames each step is shown for")
        self.fps_spin = QSpinBox()
        self.fps_spin.setRange(1, MAX_FPS)
        self.fps_spin.setValue(DEFAULT_FPS)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setToolTip("Frames per second")

        self.size_combo = QComboBox()
        for width, height in SIZE_PRESETS:
            self.size_combo.addItem(size_text(width, height), (width, height))
        self.size_combo.addItem(CUSTOM, None)
        self.size_combo.setCurrentIndex(SIZE_PRESETS.index(DEFAULT_SIZE))
        self.width_spin, self.height_spin = QSpinBox(), QSpinBox()
        for spin, value in ((self.width_spin, DEFAULT_SIZE[0]), (self.height_spin, DEFAULT_SIZE[1])):
            spin.setRange(MIN_SIDE, MAX_SIDE)
            spin.setValue(value)
            spin.setSuffix(" px")
        self.quality_spin = QSpinBox()
        self.quality_spin.setRange(1, 10)
        self.quality_spin.setValue(int(MP4_QUALITY))
        self.quality_spin.setToolTip("MP4 quality, 1 to 10 (10: the largest files, the sharpest text); "
                                     "GIF and WebP keep every pixel's colour")
        self.arithmetic_box = QCheckBox("Show the arithmetic")
        self.arithmetic_box.setChecked(True)
        self.arithmetic_box.setToolTip("The products and sums of each step beside the sliding window")

        self.path_edit = QLineEdit(files.suggested_path(DEFAULT_NAME + ".gif", settings))
        self.path_edit.setToolTip("The file to write; its suffix (.gif, .webp, .mp4) chooses the format")
        self.browse_button = QPushButton("Choose\u2026")
        self.browse_button.clicked.connect(self._browse)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {style.colour('ERROR')}")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress_label = QLabel()
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self._cancel_or_close)

        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("", self.format_note)
        form.addRow("MP4 quality", self.quality_spin)
        steps = QHBoxLayout()
        steps.addWidget(QLabel("from"))
        steps.addWidget(self.first_spin, 1)
        steps.addWidget(QLabel("to"))
        steps.addWidget(self.last_spin, 1)
        steps.addWidget(self.all_button)
        form.addRow("Steps", steps)
        form.addRow(self.range_note)  # a line of its own: beside an empty label it was squeezed
        form.addRow("Frames per step", self.frames_spin)
        form.addRow("Frame rate", self.fps_spin)
        size = QHBoxLayout()
        size.addWidget(self.size_combo, 1)
        size.addWidget(self.width_spin)
        size.addWidget(QLabel("\u00d7"))
        size.addWidget(self.height_spin)
        form.addRow("Size", size)
        form.addRow("", self.arithmetic_box)
        path = QHBoxLayout()
        path.addWidget(self.path_edit, 1)
        path.addWidget(self.browse_button)
        form.addRow("File", path)
        self._choices = [self.format_combo, self.first_spin, self.last_spin, self.all_button, self.frames_spin,
                         self.fps_spin, self.size_combo, self.width_spin, self.height_spin, self.quality_spin,
                         self.arithmetic_box,
                         self.path_edit, self.browse_button]
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(buttons)

        self.format_combo.currentIndexChanged.connect(self._on_format)
        self.path_edit.textChanged.connect(self._on_path)
        self.size_combo.currentIndexChanged.connect(self._on_size)
        self.format_combo.currentIndexChanged.connect(self._update_summary)
        for spin in (self.first_spin, self.last_spin, self.frames_spin, self.fps_spin, self.width_spin,
                     self.height_spin):
            spin.valueChanged.connect(self._update_summary)
        self._restore_choices()
        self.quality_spin.setEnabled(self.format_combo.currentData() == ".mp4")
        self._on_size()
        self._update_summary()
        if not self.n_steps:
            problem = panel.problem
            self.error.setText(f"These settings cannot be animated: {problem}" if problem else "There is nothing to animate.")
            self.export_button.setEnabled(False)

    # -- the choices ------------------------------------------------------------------------
    def _restore_choices(self) -> None:
        """The format, frame rate, frames per step, size and arithmetic of the last export."""
        settings = self.settings
        if settings is None:
            return
        fps = _int(settings.value(SETTINGS + "fps"))
        if fps is not None:
            self.fps_spin.setValue(fps)
        frames = _int(settings.value(SETTINGS + "frames_per_step"))
        if frames is not None:
            self.frames_spin.setValue(frames)
        width, height = _int(settings.value(SETTINGS + "width")), _int(settings.value(SETTINGS + "height"))
        if width is not None and height is not None:
            index = self.size_combo.findData((width, height))
            self.size_combo.setCurrentIndex(index if index >= 0 else self.size_combo.count() - 1)
            self._on_size()
            self.width_spin.setValue(width)
            self.height_spin.setValue(height)
        quality = _int(settings.value(SETTINGS + "mp4_quality"))
        if quality is not None:
            self.quality_spin.setValue(quality)
        arithmetic = settings.value(SETTINGS + "arithmetic")
        if arithmetic is not None:
            self.arithmetic_box.setChecked(str(arithmetic).lower() in ("true", "1"))
        suffix = settings.value(SETTINGS + "format")
        index = self.format_combo.findData(suffix)
        if index >= 0 and self.format_combo.model().item(index).isEnabled():
            self.format_combo.setCurrentIndex(index)

    def _remember_choices(self, options: ExportOptions) -> None:
        settings = self.settings
        if settings is None:
            return
        settings.setValue(SETTINGS + "fps", options.fps)
        settings.setValue(SETTINGS + "frames_per_step", options.frames_per_step)
        settings.setValue(SETTINGS + "width", options.size[0])
        settings.setValue(SETTINGS + "height", options.size[1])
        settings.setValue(SETTINGS + "arithmetic", options.arithmetic)
        settings.setValue(SETTINGS + "mp4_quality", options.mp4_quality)
        settings.setValue(SETTINGS + "format", Path(options.path).suffix.lower())
        files.remember_folder(options.path, settings)

    def _all_steps(self) -> None:
        self.first_spin.setValue(1)
        self.last_spin.setValue(self.last_spin.maximum())

    def _on_format(self) -> None:
        suffix = self.format_combo.currentData()
        self.quality_spin.setEnabled(suffix == ".mp4")
        text = self.path_edit.text().strip()
        if text and Path(text).suffix.lower() != suffix:
            self.path_edit.setText(str(Path(text).with_suffix(suffix)))

    def _on_path(self, text: str) -> None:
        suffix = Path(text.strip()).suffix.lower()
        index = self.format_combo.findData(suffix)
        if index >= 0 and index != self.format_combo.currentIndex():
            self.format_combo.blockSignals(True)
            self.format_combo.setCurrentIndex(index)
            self.format_combo.blockSignals(False)
            self.quality_spin.setEnabled(suffix == ".mp4")
            self._update_summary()
        self.error.clear()

    def _on_size(self) -> None:
        preset = self.size_combo.currentData()
        custom = preset is None
        for spin in (self.width_spin, self.height_spin):
            spin.setEnabled(custom)
        if preset is not None:
            self.width_spin.setValue(preset[0])
            self.height_spin.setValue(preset[1])

    def _browse(self) -> None:
        path, chosen = files.ask_save_path(self, "Export animation", FILE_FILTER, self.settings,
                                           name=Path(self.path_edit.text()).name or DEFAULT_NAME + ".gif")
        if path:
            if not Path(path).suffix:
                path += next((s for s in FORMATS if s[1:] in chosen.lower()), ".gif")
            self.path_edit.setText(path)

    def frame_count(self) -> int:
        steps = max(self.last_spin.value() - self.first_spin.value() + 1, 0)
        return steps * self.frames_spin.value()

    def _update_summary(self) -> None:
        frames, fps = self.frame_count(), self.fps_spin.value()
        steps = max(self.last_spin.value() - self.first_spin.value() + 1, 0)
        text = f"{steps:,} steps \u00d7 {self.frames_spin.value()} = {frames:,} frames, {frames / fps:.1f} s at {fps} fps"
        if frames > LARGE_EXPORT_FRAMES:
            text += f" \u2014 a long export: about {steps * SECONDS_PER_FRAME / 60:.0f} min to draw"
        # GIF and WebP are written at the end, from every step's picture (MP4 streams them).
        per_step = {".gif": 1, ".webp": 3}.get(self.format_combo.currentData(), 0)
        held = steps * self.width_spin.value() * self.height_spin.value() * per_step
        if held > MEMORY_NOTE_BYTES:
            text += f"; about {held / 2 ** 30:.1f} GB of memory until the file is written (MP4 needs none)"
        self.summary.setText(text)

    def options(self) -> ExportOptions:
        return ExportOptions(
            self.path_edit.text().strip(), size=(self.width_spin.value(), self.height_spin.value()),
            first=self.first_spin.value(), last=self.last_spin.value(), fps=self.fps_spin.value(),
            frames_per_step=self.frames_spin.value(), arithmetic=self.arithmetic_box.isChecked(),
            scatter_channel=self.panel.scatter_channel.value(), mp4_quality=self.quality_spin.value(),
        )

    # -- the export ---------------------------------------------------------------------------
    def start_export(self, *, confirm_large: bool = True) -> str:
        """Begin the export; "" or why not (said in the dialog too)."""
        if self.job is not None:
            return "an export is running"
        options = self.options()
        if not options.path:
            return self._refuse("Choose a file to write.")
        if self.last_spin.value() < self.first_spin.value():
            return self._refuse("The last step comes before the first.")
        if confirm_large and self.frame_count() > LARGE_EXPORT_FRAMES:
            answer = QMessageBox.question(
                self, "A long export", f"{self.summary.text()}.\n\nExport all {self.frame_count():,} frames?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return self._refuse(f"Not exported: choose fewer steps (at most {LARGE_EXPORT_FRAMES:,} frames "
                                    "export without asking).")
        job = ExportJob(self.session, self.results, options, parent=self)
        job.progress.connect(self._on_progress)
        job.encoding.connect(self._on_encoding)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        problem = job.start()
        if problem:
            job.deleteLater()
            return self._refuse(problem[:1].upper() + problem[1:])
        self.job = job
        self._remember_choices(options)
        self._running(True)
        self.progress.setRange(0, job.total_steps)
        self.progress.setValue(0)
        self.progress_label.setText(f"Drawing {job.total_steps:,} steps\u2026")
        return ""

    def _refuse(self, reason: str) -> str:
        self.error.setText(reason)
        return reason

    def _running(self, running: bool) -> None:
        for widget in self._choices:
            widget.setEnabled(not running)
        if not running:
            self._on_size()  # the custom size fields only for a custom size
            self.quality_spin.setEnabled(self.format_combo.currentData() == ".mp4")
        self.export_button.setEnabled(not running)
        self.cancel_button.setText("Cancel" if running else "Close")
        self.progress.setVisible(running)
        if running:
            self.error.clear()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setValue(done)
        self.progress_label.setText(f"Step {done:,} of {total:,}")

    def _on_encoding(self) -> None:
        self.progress.setRange(0, 0)  # busy: Pillow or ffmpeg writes the file
        self.progress_label.setText(f"Writing {Path(self.job.options.path).name}\u2026")

    def _on_finished(self, path: str, seconds: float) -> None:
        job, self.job = self.job, None
        o = job.options
        message = (f"Exported {path}: {job.total_frames:,} frames, {o.size[0]}\u00d7{o.size[1]}, "
                   f"in {seconds:.1f} s")
        self._running(False)
        self.progress_label.setText(message)
        self.exported.emit(path, message)
        self.accept()

    def _on_failed(self, reason: str) -> None:
        self.job = None
        self._running(False)
        self.progress_label.clear()
        self.error.setText(f"Not exported: {reason}")

    def _on_cancelled(self) -> None:
        self.job = None
        self._running(False)
        self.progress_label.setText("Cancelled; nothing was written.")

    def _cancel_or_close(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(self.job is None)  # while the file is being written, until it is gone
        else:
            self.reject()

    def reject(self) -> None:
        if self.job is not None:  # Esc or the title bar's close: cancel first
            self.job.cancel()
            if self.job is not None:
                return
        super().reject()

    def done(self, result: int) -> None:
        self.cancel_button.setEnabled(True)
        super().done(result)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def show_export_dialog(window) -> ExportDialog:
    """The dialog for ``window`` (a MainWindow), not modal: the window stays usable while an
    export runs (the export draws the state it started from); its status bar says the result."""
    dialog = ExportDialog(window.session, window.results, window.animation_panel, settings=window.settings,
                          parent=window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.exported.connect(lambda _path, message: window.statusBar().showMessage(message, 15000))
    dialog.show()  # not open(): that makes it window-modal
    return dialog
