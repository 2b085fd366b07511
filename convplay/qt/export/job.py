"""An export of the sliding-window animation to a GIF, WebP or MP4, step by step.

The frames are drawn on the UI thread (Qt draws widgets nowhere else), one per pass of
the event loop, so the window stays live and Cancel answers at once; each frame goes to
the encoder as it is drawn.  Writing the file at the end (Pillow's GIF and WebP writers,
ffmpeg's last frames) runs on a worker.

An export renders the state it started from: the panel draws a copy of the session and,
once PyTorch's output for it is in, a copy of the results, so the window can be edited
meanwhile without changing the frames (a change before that output arrives fails the
export, since there is nothing yet to draw it from).  Every frame is written as one
frame (a GIF or WebP holds steps × frames per step of them), each with a thin timeline
along its bottom edge that advances frame by frame.  A GIF's one palette is made first, from the
first, middle and last frames of the range: between them they hold the input, the
window and every output colour.

``ExportJob.start()`` returns "" or why the export cannot begin (an unknown suffix, a
missing extra, a step range outside the animation, a folder that cannot be written);
after that ``progress(done, total)``, ``encoding()``, then one of ``finished(path,
seconds)``, ``failed(reason)`` or ``cancelled()``.  A failed or cancelled export leaves
no file.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from convplay.core import encoders
from convplay.core.encoders import DEFAULT_FPS, MAX_FPS, Encoder, ExportError
from convplay.core.results import Results
from convplay.core.session import Session
from convplay.qt.export.frames import BACKGROUND, FrameRenderer
from convplay.qt.workers import LatestWorker, describe_error

DEFAULT_SIZE = (960, 540)
SIZE_PRESETS = ((640, 360), (960, 540), (1280, 720), (1920, 1080))
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_FRAMES_PER_STEP = 120
LARGE_EXPORT_FRAMES = 2000  # the dialog asks before rendering more frames than this
SETTLE_PASSES = 3  # passes of the event loop for the offscreen panel's first layout
TIMELINE_PX = 3  # the height of the line along a frame's bottom edge
TIMELINE_RGB = (120, 120, 120)
EXPORT_REFERENCE = "animation-export"  # the window's reference, wanted until the export has its copy
READY_TIMEOUT_S = 60.0  # a step (or PyTorch's output) that takes longer fails the export


@dataclass(frozen=True)
class ExportOptions:
    """What to export: ``first`` and ``last`` are 1-based and inclusive (None: the ends)."""

    path: str
    size: tuple[int, int] = DEFAULT_SIZE
    first: int | None = None
    last: int | None = None
    fps: int = DEFAULT_FPS
    frames_per_step: int = 1
    arithmetic: bool = True
    scatter_channel: int = 0
    mp4_quality: float = encoders.MP4_QUALITY  # imageio-ffmpeg's 1-10 scale


def step_range(first: int | None, last: int | None, n_steps: int) -> tuple[int, int]:
    """(first, last) as 0-based indices; ValueError when outside 1..n_steps."""
    if n_steps <= 0:
        raise ValueError("there is nothing to animate")
    a = 1 if first is None else first
    b = n_steps if last is None else last
    if not (1 <= a <= n_steps and 1 <= b <= n_steps):
        raise ValueError(f"steps {a}:{b} are outside the animation, which has {n_steps:,} steps (1 to {n_steps:,})")
    if b < a:
        raise ValueError(f"the range {a}:{b} ends before it starts")
    return a - 1, b - 1


def check_options(options: ExportOptions) -> str:
    """Why ``options`` cannot be exported, before any step is drawn ("" when they can)."""
    try:
        kind = encoders.export_format(options.path)
    except ExportError as exc:
        return str(exc)
    if kind == "MP4":
        problem = encoders.video_problem()
        if problem:
            return problem
    width, height = options.size
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return f"a frame from {MIN_SIDE}×{MIN_SIDE} to {MAX_SIDE}×{MAX_SIDE} pixels, not {width}×{height}"
    if not 1 <= options.fps <= MAX_FPS:
        return f"frames per second from 1 to {MAX_FPS}, not {options.fps}"
    if not 1 <= options.frames_per_step <= MAX_FRAMES_PER_STEP:
        return f"frames per step from 1 to {MAX_FRAMES_PER_STEP}, not {options.frames_per_step}"
    return ""


class ExportJob(QObject):
    progress = Signal(int, int)  # steps drawn, steps in all
    encoding = Signal()  # every frame is drawn; the file is being written
    finished = Signal(str, float)  # the file, seconds the export took
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, session: Session, results: Results, options: ExportOptions, *, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.results = results
        self.options = options
        self.renderer: FrameRenderer | None = None
        self.encoder: Encoder | None = None
        self.steps = (0, -1)  # 0-based, inclusive
        self.state = "new"  # new, rendering, encoding, done, failed, cancelled
        self._started_at = 0.0
        self._work = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        self._worker: LatestWorker | None = None
        self._cancel_asked = False
        # Set as the job is deleted (its window closed) while the file is written: the
        # worker then removes the partial file itself, since no one is left to.
        self._abandoned = threading.Event()
        self.destroyed.connect(lambda *_args, abandoned=self._abandoned: abandoned.set())

    # -- commands ----------------------------------------------------------------------------
    def start(self) -> str:
        """Check everything that can be checked at once and begin; "" or why not."""
        problem = check_options(self.options)
        if problem:
            return problem
        o = self.options
        owner = self.parent() if isinstance(self.parent(), QWidget) else None
        self._start_state = self.session.snapshot()
        self.frozen_session = Session()
        self.frozen_session.restore(self._start_state)
        self.frozen_results = Results()
        self.renderer = FrameRenderer(self.frozen_session, self.frozen_results, o.size, arithmetic=o.arithmetic,
                                      scatter_channel=o.scatter_channel, owner=owner)
        try:
            if self.renderer.problem:
                raise ValueError(self.renderer.problem)
            self.steps = step_range(o.first, o.last, self.renderer.n_steps)
            if encoders.export_format(o.path) != "GIF":  # a GIF's encoder waits for its palette
                quality = o.mp4_quality if encoders.export_format(o.path) == "MP4" else None
                self.encoder = encoders.open_encoder(o.path, o.size, o.fps, quality=quality, background=_background())
            else:
                encoders.GifEncoder(o.path, o.size, o.fps).abort()  # can the file be written there?
        except (ValueError, ExportError) as exc:
            self._release()
            return str(exc)
        self.state = "rendering"
        self._started_at = time.perf_counter()
        self.session.changed.connect(self._on_session_changed)
        self.results.want_reference(EXPORT_REFERENCE)
        self._work = self._frames()
        self._timer.start()
        return ""

    def cancel(self) -> None:
        """Stop; the partial file is removed (once the worker is done, while it writes)."""
        if self.state == "rendering":
            self._end("cancelled")
            self.cancelled.emit()
        elif self.state == "encoding":
            self._cancel_asked = True

    @property
    def total_steps(self) -> int:
        return self.steps[1] - self.steps[0] + 1

    @property
    def total_frames(self) -> int:
        return self.total_steps * self.options.frames_per_step

    # -- the frames -----------------------------------------------------------------------------
    def _tick(self) -> None:
        try:
            done = next(self._work)
            if done:  # outside the generator: a listener may cancel or fail the export
                self.progress.emit(done, self.total_steps)
        except StopIteration:
            self._encode()
        except (ValueError, OSError) as exc:  # ExportError is a ValueError
            self._fail(str(exc))
        except Exception as exc:  # a bug: its trace on stderr, the export failed with its text
            traceback.print_exc()
            self._fail(describe_error(exc))

    def _frames(self):
        """One frame per pass of the event loop (each ``yield`` hands the loop back; a
        number says how many steps are drawn)."""
        renderer, (first, last) = self.renderer, self.steps
        for _ in range(SETTLE_PASSES):
            yield
        yield from self._until(self._results_in, "PyTorch's output did not arrive")
        self._freeze_results()
        yield from self._until(lambda: self.renderer.n_steps > 0, "the animation could not be laid out")
        self._started_at = time.perf_counter()  # the export's time: from its first frame
        if self.encoder is None:  # a GIF: its palette from the range's first, middle and last frames
            samples = []
            for k in sorted({first, (first + last) // 2, last}):
                yield from self._draw(k)
                samples.append(with_timeline(renderer.frame(), 1, 2))
            o = self.options
            self.encoder = encoders.GifEncoder(o.path, o.size, o.fps, palette=encoders.palette_from(samples))
        per_step, total = self.options.frames_per_step, self.total_frames
        for n, k in enumerate(range(first, last + 1)):
            yield from self._draw(k)
            frame = renderer.frame()
            for j in range(per_step):
                self.encoder.add(with_timeline(frame, n * per_step + j, total, j, per_step))
            yield n + 1

    def _draw(self, k: int):
        self.renderer.seek(k)
        yield  # the panel's layout and titles settle in this pass
        yield from self._until(lambda: self.renderer.ready(k), f"step {k + 1} could not be drawn")

    def _until(self, condition, failure: str):
        deadline = time.perf_counter() + READY_TIMEOUT_S
        while not condition():
            if self.renderer.problem:
                raise ValueError(self.renderer.problem)
            if time.perf_counter() > deadline:
                raise ValueError(failure)
            yield

    def _results_in(self) -> bool:
        """PyTorch's output is in, and the reference the cells fill in from (or why not)."""
        r = self.results
        if r.stale:
            raise ValueError(f"there is no output to animate: {r.stale}")
        return r.current_output is not None and not r.needs_reference

    def _freeze_results(self) -> None:
        """The window's output and reference, for the state the export started from, copied
        into the export's own results; the window may change from here on."""
        if not self.session.snapshot().same_as(self._start_state):
            raise ValueError("the convolution changed before its output arrived; nothing was written")
        r, frozen = self.results, self.frozen_results
        frozen.start(r.request)
        frozen.set_outcome(frozen.generation, r.outcome)
        if r.reference is not None:
            frozen.set_reference(frozen.generation, r.reference)
        self._disconnect_session()
        self.results.want_reference(EXPORT_REFERENCE, False)

    # -- writing the file -----------------------------------------------------------------------
    def _encode(self) -> None:
        self._timer.stop()
        self.state = "encoding"
        self._disconnect_session()
        self.renderer.close()
        self.renderer = None
        self.encoding.emit()
        self._worker = LatestWorker(partial(_write, abandoned=self._abandoned), "convplay-export", parent=self)
        self._worker.returned.connect(self._on_written)
        self._worker.errored.connect(lambda _g, error: self._fail(error))
        self._worker.submit(self.encoder)

    def _on_written(self, _generation: int, _result) -> None:
        if self._cancel_asked:
            self._end("cancelled")
            self.cancelled.emit()
            return
        try:
            path = self.encoder.commit()
        except ExportError as exc:
            self._fail(str(exc))
            return
        seconds = time.perf_counter() - self._started_at
        self._end("done")
        self.finished.emit(str(path), seconds)

    # -- the end ----------------------------------------------------------------------------------
    def _on_session_changed(self, *_args) -> None:
        if self.state == "rendering":
            self._fail("the convolution changed during the export; nothing was written")

    def _fail(self, reason: str) -> None:
        if self.state in ("done", "failed", "cancelled"):
            return
        self._end("failed")
        self.failed.emit(reason)

    def _end(self, state: str) -> None:
        self.state = state
        self._timer.stop()
        work, self._work = self._work, None
        if work is not None and not work.gi_running:
            work.close()
        if state != "done" and self.encoder is not None:
            self.encoder.abort()
        self._release()
        if self._worker is not None:
            self._worker.shutdown()

    def _release(self) -> None:
        self._disconnect_session()
        self.results.want_reference(EXPORT_REFERENCE, False)
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None

    def _disconnect_session(self) -> None:
        try:
            self.session.changed.disconnect(self._on_session_changed)
        except (ValueError, RuntimeError, TypeError):
            pass


def with_timeline(frame, index: int, total: int, within: int = 0, per_step: int = 1):
    """``frame`` with a thin line along its bottom edge as long as the export so far
    (frame ``index`` of ``total``, 0-based), like a video's timeline: no two frames are
    alike, so GIF and WebP writers keep each one.  Where there are more frames than
    pixels across, the line is the step's own time (frame ``within`` of ``per_step``)."""
    out = frame.copy()
    width = out.shape[1]
    done, of = (index, total) if total <= width else (within, per_step)
    length = max(1, round(width * (done + 1) / max(of, 1)))
    out[-TIMELINE_PX:, :length] = TIMELINE_RGB
    return out


def _write(encoder: Encoder, abandoned: threading.Event) -> None:
    """The worker's job: the file written to its partial name (removed if the job is gone)."""
    encoder.finish()
    if abandoned.is_set():
        encoder.abort()


def _background() -> tuple[int, int, int]:
    return BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue()
