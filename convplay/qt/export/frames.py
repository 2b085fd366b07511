"""Export frames drawn by the sliding-window panel itself, offscreen.

``FrameRenderer`` holds a second ``AnimationDock`` on the window's session and results,
never shown on screen (``WA_DontShowOnScreen``), laid out at the export's size: the
frames are the scene the window shows, with its own position, so the window's animation
is left where the user has it.  Above it a caption line says the step and the cell
("step 5 / 9 · output (row 2, column 2)"); the panels' titles say which side is the input
and which the output.  The transport row, the badge and the hints are left out; the
arithmetic is optional.

Frames larger than ``BASE_HEIGHT`` are drawn at that height and scaled up by the
painter: text and lines stay sharp, and a 1920×1080 export reads like the 960×540 one
instead of holding a small picture in a large frame.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QRegion
from PySide6.QtWidgets import QLabel, QLayout, QVBoxLayout, QWidget

from convplay.core.results import Results
from convplay.core.session import Session
from convplay.qt.animation.dock import AnimationDock
from convplay.qt.animation.player import SEPARATOR
from convplay.qt.zoom import scaled

BASE_HEIGHT = 540  # pixels: frames taller than this are drawn at this height and scaled up
CAPTION_PT = 13
BACKGROUND = QColor("#ffffff")


def caption_text(subject: str, cell: tuple[int, int, int], k: int, n: int, channels: int) -> str:
    """"step 5 / 9 · output (row 2, column 2)"; the channel too where there are several."""
    c, r, q = cell
    where = f"channel {c}, row {r}, column {q}" if channels > 1 else f"row {r}, column {q}"
    return f"step {k + 1:,} / {n:,}{SEPARATOR}{subject} ({where})"


def image_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an (H, W, 3) uint8 array (a copy)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes()).reshape(height, image.bytesPerLine())
    return rows[:, : width * 3].reshape(height, width, 3).copy()


class ExportDock(AnimationDock):
    """The sliding-window panel of an export: its want of the reference is its own."""

    reference_name = "animation-export"


class FrameRenderer:
    """``seek(k)``, then (once ``ready(k)``) ``frame()``: step ``k`` as an RGB array of ``size``."""

    def __init__(self, session: Session, results: Results, size: tuple[int, int], *, arithmetic: bool = True,
                 scatter_channel: int = 0, owner: QWidget | None = None):
        self.size = (int(size[0]), int(size[1]))
        self.scale = max(1.0, self.size[1] / BASE_HEIGHT)
        self.arithmetic = arithmetic
        # A window of its own, deleted with ``owner`` (the dialog, the main window) if ``close`` never runs.
        self.widget = QWidget(owner, Qt.WindowType.Window)
        self.widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self.widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        layout = QVBoxLayout(self.widget)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        # The frame's size is the export's, whatever the panel would like as its minimum.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.caption = QLabel()
        font = QFont(self.caption.font())
        font.setPointSize(scaled(CAPTION_PT))
        self.caption.setFont(font)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.caption)
        self.dock = ExportDock(session, results)
        self.dock.scatter_channel.setValue(scatter_channel)
        # The handle between the sliding window and the arithmetic is for dragging on screen;
        # its grip dots are no part of a frame.
        self.dock.splitter.setObjectName("export-splitter")
        self.dock.splitter.setStyleSheet("QSplitter#export-splitter::handle { image: none; background: transparent; }")
        layout.addWidget(self.dock, 1)
        self._logical = QSize(round(self.size[0] / self.scale), round(self.size[1] / self.scale))
        self.widget.resize(self._logical)
        self._trim()
        self.widget.show()

    # -- what is left out of a frame -----------------------------------------------------
    def _trim(self) -> None:
        dock = self.dock
        for widget in (dock.controls, dock.badge, dock.hover_label, dock.message, dock.scatter_channel, dock.diagram_button):
            if not widget.isHidden():
                widget.setVisible(False)
        if not self.arithmetic and not dock.arithmetic.isHidden():
            dock.arithmetic.setVisible(False)

    # -- steps -------------------------------------------------------------------------------
    @property
    def n_steps(self) -> int:
        return self.dock.state.n_steps

    @property
    def problem(self) -> str:
        """Why these settings give no animation ("" when they do)."""
        dock = self.dock
        if dock.state.n_steps:
            return ""
        return f"these settings cannot be animated: {dock.problem}" if dock.problem else "there is nothing to animate"

    def seek(self, k: int) -> None:
        """Draw step ``k`` (0-based) in the offscreen panel."""
        state = self.dock.state
        if state.position == k:
            self.dock.show_step(k)  # the same position emits nothing; its frame may be stale
        else:
            state.seek(k)
        self.caption.setText(caption_text(self.dock.controls.subject, state.cell(k), k, state.n_steps,
                                          state.shape[0]))

    def ready(self, k: int) -> bool:
        """True once step ``k`` is drawn: a transposed convolution's sum of stamps may come
        from a worker (a jump into a large one)."""
        dock = self.dock
        walk = dock.walk
        if walk is None or dock.state.position != k:
            return False
        if walk.spec.transposed:
            key = dock.stamps._key
            return dock.stamps.sum is not None and key is not None and key[0] is walk and key[1] == k
        return True

    def frame(self) -> np.ndarray:
        """The panel as it is drawn now, as an (H, W, 3) uint8 array of ``size``."""
        self._trim()
        width, height = self.size
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(BACKGROUND)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.scale(self.scale, self.scale)
            # On the frame's own background: the application's palette (the theme) gives
            # windows another colour, which would differ from an MP4's padding.
            self.widget.render(painter, QPoint(0, 0), QRegion(), QWidget.RenderFlag.DrawChildren)
        finally:
            painter.end()
        return image_to_rgb(image)

    def close(self) -> None:
        """Stop the panel's work (its want of the reference too) and delete it."""
        self.dock.shutdown()
        self.widget.hide()
        self.widget.deleteLater()
