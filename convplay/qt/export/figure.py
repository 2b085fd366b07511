"""The workspace as a figure for slides and papers: PNG, or SVG through QSvgGenerator.

The figure is the window's dock area, the panels as they are on screen, without the menu
bar and the status bar.  SVG keeps text and lines as vectors; the images inside the
panels (the input, the output) go in as pictures.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QPainter, QRegion
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QMainWindow

FIGURE_SUFFIXES = (".png", ".svg")
FIGURE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"


def workspace_rect(window: QMainWindow) -> QRect:
    """The part of ``window`` that holds its panels: below the menu bar, above the status bar."""
    top, bottom = 0, window.height()
    menu = window.menuWidget()
    if menu is not None and menu.isVisible():
        top = menu.geometry().bottom() + 1
    status = window.statusBar()
    if status.isVisible():
        bottom = status.geometry().top()
    return QRect(0, top, window.width(), max(bottom - top, 1))


def export_figure(window: QMainWindow, path: str | os.PathLike) -> str:
    """Save the workspace to ``path`` (.png or .svg, by its suffix); "" or why it could not."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FIGURE_SUFFIXES:
        return f"{path.name}: a figure is saved as .png or .svg"
    if not path.parent.is_dir():
        return f"cannot write {path}: the folder {path.parent} does not exist"
    rect = workspace_rect(window)
    if suffix == ".png":
        return "" if window.grab(rect).save(str(path), "PNG") else f"could not write {path}"
    return _save_svg(window, rect, path)


def _save_svg(window: QMainWindow, rect: QRect, path: Path) -> str:
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    generator = QSvgGenerator()
    generator.setFileName(str(partial))
    generator.setSize(QSize(rect.width(), rect.height()))
    generator.setViewBox(QRect(0, 0, rect.width(), rect.height()))
    generator.setTitle(window.windowTitle())
    generator.setDescription("A convplay workspace")
    painter = QPainter()
    if not painter.begin(generator):
        partial.unlink(missing_ok=True)
        return f"could not write {path}"
    try:
        window.render(painter, QPoint(0, 0), QRegion(rect))
    finally:
        painter.end()
    try:
        if partial.stat().st_size == 0:
            raise OSError("nothing was written")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        return f"could not write {path}: {exc.strerror or exc}"
    return ""
