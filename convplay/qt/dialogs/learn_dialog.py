"""Learn a kernel live: gradient descent on a worker while the kernel, the output and the
loss curve update; stop, resume, and keep the kernel.

The learner runs as a generator job on a ``LatestWorker``: each chunk of steps arrives as
``yielded``, a failure as ``errored`` (said in the dialog), the end as ``returned``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QFont, QTransform
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from convplay.compute.learn import KernelLearner, LearnStep, hidden_kernel_target, random_kernel, seed001_example
from convplay.core.history import History
from convplay.core.session import Session
from convplay.qt import style
from convplay.qt.undo import push_change
from convplay.qt.workers import LatestWorker

EXAMPLE_INPUT = "The 6×6 edge example (10s and 0s)"
SESSION_INPUT = "The session's image"
EXAMPLE_TARGET = "The edge example's target (4×4: 0, 30, 30, 0)"
HIDDEN_KERNELS: dict[str, np.ndarray] = {
    "Hidden kernel: vertical edge": np.array([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "Hidden kernel: Sobel x": np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]),
    "Hidden kernel: Sobel y": np.array([[1.0, 2, 1], [0, 0, 0], [-1, -2, -1]]),
    "Hidden kernel: Laplacian": np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "Hidden kernel: box blur": np.full((3, 3), 1 / 9),
    "Hidden kernel: sharpen": np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
}
# Learning reads every pixel on every step: a centre crop keeps a big photo interactive.
MAX_LEARN_SIZE = 96
CHUNK = 10


def _learn(job: tuple[KernelLearner, int]):
    """The worker's job: the learner's steps, a chunk at a time (a generator)."""
    learner, steps = job
    return learner.run(steps, chunk=CHUNK)


def _image_view(layout: pg.GraphicsLayoutWidget, title: str, col: int) -> pg.ImageItem:
    layout.addLabel(title, row=0, col=col)
    view = layout.addViewBox(row=1, col=col, lockAspect=True, invertY=True, enableMouse=False)
    item = pg.ImageItem(axisOrder="row-major")
    item.setTransform(QTransform().translate(-0.5, -0.5))
    item.setColorMap(pg.colormap.get(style.DIVERGING))
    view.addItem(item)
    return item


class LearnDialog(QDialog):
    """Pick input, target, optimiser, learning rate and steps; watch the kernel being learned."""

    finished_run = Signal()

    def __init__(self, session: Session, undo_stack: History | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Learn a kernel")
        self._session = session
        self._undo = undo_stack
        self._worker = LatestWorker(_learn, "convplay-learn", parent=self)
        self._worker.yielded.connect(lambda _g, step: self._on_progress(step))
        self._worker.returned.connect(lambda _g, _last: self._on_finished())
        self._worker.errored.connect(lambda _g, error: self._on_finished(f"learning stopped: {error}"))
        self.learner: KernelLearner | None = None
        self._target: np.ndarray | None = None
        self._losses: list[tuple[int, float]] = []
        self.last: LearnStep | None = None

        self.input = QComboBox()
        self.input.addItems([EXAMPLE_INPUT, SESSION_INPUT])
        self.input.setToolTip("What the kernel is applied to")
        self.target = QComboBox()
        self.target.addItems([EXAMPLE_TARGET, *HIDDEN_KERNELS])
        self.target.setToolTip("The output to reach: the edge example's target, or what a hidden kernel makes of the input")
        self.optimiser = QComboBox()
        self.optimiser.addItems(["sgd", "adam"])
        self.optimiser.setToolTip("Plain gradient descent (SGD) or Adam")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 10.0)
        self.lr.setSingleStep(0.001)
        self.lr.setValue(0.001)
        self.lr.setToolTip("Learning rate; 0.001 with SGD finds the edge example's kernel in 400 steps")
        self.steps = QSpinBox()
        self.steps.setRange(1, 1_000_000)
        self.steps.setValue(400)
        self.steps.setToolTip("Number of gradient steps per run")
        self.init = QComboBox()
        self.init.addItems(["zeros", "random (as nn.Conv2d)"])
        self.init.setToolTip("The kernel to start from")
        self.use_example_image = QCheckBox("Keeping also loads the example as the input image")
        self.use_example_image.setChecked(True)
        self.use_example_image.setToolTip("So the main window shows the example with its learned kernel")

        self.start = QPushButton("Start")
        self.start.setToolTip("Start learning from the initial kernel")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop after the current chunk of steps")
        self.resume = QPushButton("Resume")
        self.resume.setToolTip("Continue from where it stopped, for the chosen number of steps")
        self.keep = QPushButton("Keep kernel")
        self.keep.setToolTip("Use the learned kernel in the main window (undoable)")
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.values = QLabel()
        self.values.setFont(QFont("monospace"))
        self.values.setToolTip("The learned kernel's values")

        images = pg.GraphicsLayoutWidget()
        self.kernel_item = _image_view(images, "kernel", 0)
        self.output_item = _image_view(images, "output", 1)
        self.target_item = _image_view(images, "target", 2)
        self.loss_plot = pg.PlotWidget(title="loss (MSE)")
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.setLabel("bottom", "step")
        self.loss_curve = self.loss_plot.plot(pen="y")

        form = QFormLayout()
        form.addRow("Input", self.input)
        form.addRow("Target", self.target)
        form.addRow("Optimiser", self.optimiser)
        form.addRow("Learning rate", self.lr)
        form.addRow("Steps", self.steps)
        form.addRow("Initial kernel", self.init)
        form.addRow(self.use_example_image)
        buttons = QHBoxLayout()
        for b in (self.start, self.stop, self.resume, self.keep):
            buttons.addWidget(b)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.values)
        left.addWidget(self.status)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(images, 1)
        right.addWidget(self.loss_plot, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.resize(900, 520)

        self.start.clicked.connect(self.start_learning)
        self.stop.clicked.connect(self.stop_learning)
        self.resume.clicked.connect(self.resume_learning)
        self.keep.clicked.connect(self.keep_kernel)
        for choice in (self.input, self.target, self.init):
            choice.currentIndexChanged.connect(self.preview)
        self._update_buttons()
        self.preview()

    # -- running ---------------------------------------------------------------------------
    def running(self) -> bool:
        return self._worker.running

    def _problem(self) -> tuple[np.ndarray, np.ndarray]:
        """The input (C, H, W) and target (1, h, w) the current choices describe; ValueError if they do not fit."""
        if self.input.currentText() == EXAMPLE_INPUT:
            image, example_target = seed001_example()
        else:
            image, example_target = _centre_crop(self._session.image, MAX_LEARN_SIZE), None
        if self.target.currentText() == EXAMPLE_TARGET:
            if example_target is None:
                raise ValueError("the edge example's target belongs to its own 6×6 input: pick a hidden kernel as the target")
            return image, example_target
        hidden = HIDDEN_KERNELS[self.target.currentText()]
        if min(image.shape[1:]) < hidden.shape[0]:
            raise ValueError(f"the image is smaller than the {hidden.shape[0]}x{hidden.shape[1]} kernel")
        return image, hidden_kernel_target(image, hidden)

    def _initial_kernel(self, channels: int) -> np.ndarray:
        shape = (1, channels, 3, 3)
        return np.zeros(shape) if self.init.currentIndex() == 0 else random_kernel(shape, seed=0)

    def preview(self) -> None:
        """Show the chosen target and the starting kernel before learning starts."""
        if self.running():
            return
        try:
            image, target = self._problem()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self._show_image(self.target_item, target[0])
        self._show_kernel(self._initial_kernel(image.shape[0]))
        self.status.setText("Ready: press Start")

    def start_learning(self) -> None:
        if self.running():
            return
        try:
            image, target = self._problem()
            initial = self._initial_kernel(image.shape[0])
            self.learner = KernelLearner(image, target, initial, self.optimiser.currentText(), self.lr.value())
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self._target = target
        self._losses = []
        self.last = None
        self.loss_curve.setData([], [])
        self._show_image(self.target_item, target[0])
        self._show_kernel(self.learner.kernel)
        self._show_image(self.output_item, self.learner.output()[0])
        self._launch()

    def resume_learning(self) -> None:
        if self.learner is not None and not self.running():
            self._launch()

    def stop_learning(self) -> None:
        if self.learner is not None:
            self.learner.stop()

    def _launch(self) -> None:
        self._worker.submit((self.learner, self.steps.value()))
        self.status.setText("Learning\u2026")
        self._update_buttons()

    def _on_progress(self, step: LearnStep) -> None:
        self.last = step
        self._losses.append((step.step, step.loss))
        steps, losses = zip(*self._losses)
        # Log axis: an exact fit (loss 0) is drawn at the smallest positive double.
        self.loss_curve.setData(np.array(steps), np.maximum(np.array(losses), np.finfo(float).tiny))
        self._show_kernel(step.kernel)
        self._show_image(self.output_item, step.output[0])
        self.status.setText(f"step {step.step}: loss {step.loss:.3g}")

    def _on_finished(self, error: str = "") -> None:
        if error:
            self.status.setText(error)
        elif self.last is not None:
            self.status.setText(f"stopped at step {self.last.step}: loss {self.last.loss:.3g}")
        self._update_buttons()
        self.finished_run.emit()

    def _update_buttons(self) -> None:
        running = self.running()
        self.start.setEnabled(not running)
        self.stop.setEnabled(running)
        self.resume.setEnabled(not running and self.learner is not None)
        self.keep.setEnabled(not running and self.last is not None)

    # -- showing -------------------------------------------------------------------------------
    def _show_image(self, item: pg.ImageItem, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        m = float(np.abs(finite).max()) if finite.size else 1.0
        item.setImage(np.ascontiguousarray(values, dtype=np.float32), autoLevels=False, levels=(-m or -1, m or 1))

    def _show_kernel(self, kernel: np.ndarray) -> None:
        shown = kernel[0].sum(axis=0) if kernel.shape[1] > 1 else kernel[0, 0]
        self._show_image(self.kernel_item, shown)
        label = "kernel (summed over channels)" if kernel.shape[1] > 1 else "kernel"
        rows = "\n".join(" ".join(f"{v:8.4f}" for v in row) for row in shown)
        self.values.setText(f"{label}:\n{rows}")

    # -- keeping -------------------------------------------------------------------------------
    def keep_kernel(self) -> None:
        """The learned kernel into the session, one undoable step (with the example image if
        chosen), so that the main window computes the output the dialog showed: the layer it
        was learned as (stride 1, no padding, no bias), and flipped when true convolution is
        on, since PyTorch then receives the stored kernel flipped.  What changed is said."""
        if self.last is None or self.running():
            return
        learned = self.last.kernel
        session = self._session
        load_example = self.input.currentText() == EXAMPLE_INPUT and self.use_example_image.isChecked()
        flipped = session.true_convolution
        stored = np.ascontiguousarray(learned[..., ::-1, ::-1]) if flipped else learned
        before = session.spec
        spec = before.replace(
            in_channels=learned.shape[1], out_channels=1, kernel_size=tuple(learned.shape[2:]), stride=1, padding=0,
            dilation=1, padding_mode="zeros", groups=1, bias=False, transposed=False, output_padding=0,
        )

        def change() -> None:
            if load_example:
                session.set_image(seed001_example()[0])
            session.set_kernel(spec, stored, name="Learned kernel")

        push_change(self._undo, session, "Keep learned kernel", change)
        notes = []
        if (before.stride, before.padding, before.dilation) != (spec.stride, spec.padding, spec.dilation):
            notes.append("stride 1, padding 0 and dilation 1, as it was learned")
        if before.bias:
            notes.append("bias off: the learned kernel has none")
        if flipped:
            notes.append("stored flipped, since true convolution is on: PyTorch receives the learned kernel")
        said = f"; {'; '.join(notes)}" if notes else ""
        self.status.setText(f"kernel kept (step {self.last.step}, loss {self.last.loss:.3g}){said}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop a running learner and its worker (closing, tests)."""
        if self.learner is not None:
            self.learner.stop()
        self._worker.shutdown()


def _centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    _, h, w = image.shape
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[:, top : top + size, left : left + size]
