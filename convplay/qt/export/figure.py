"""The workspace as a figure for slides and papers: PNG, or SVG through QSvgGenerator.

The figure is the window's dock area, the panels as they are on screen, without the menu
bar and the status bar.  SVG keeps text and lines as vectors; the images inside the
panels (the input, the output) go in as pictures.
"""

from __future__ import annotations

import math
import os
import re
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


_INNER_GROUP = re.compile(r"<g ([^>]*)>((?:[^<]|<(?!g[ >]|/g>))*)</g>")
_MATRIX = re.compile(r'transform="matrix\(([^)]*)\)"')
_STROKE_WIDTH = re.compile(r'stroke-width="([0-9.eE+-]+)"')
_UNSET_IMAGE = re.compile(r"<image (?![^>]*image-rendering)")
NON_SCALING = 'vector-effect="non-scaling-stroke"'
SCALING = 'vector-effect="none"'


def scaled_strokes(svg: str) -> str:
    """The SVG with its cosmetic pens written as ordinary strokes of the same width on screen.

    pyqtgraph draws with cosmetic pens (a width in pixels, whatever the zoom).
    QSvgGenerator writes them as ``stroke-width`` in the group's own units, inside the
    group's ``transform`` (a plot's cell is one unit, scaled 50 times), marked
    ``vector-effect="non-scaling-stroke"``: renderers that ignore the mark (librsvg,
    cairosvg, browsers' older engines) draw a 3-pixel line 150 pixels wide.  Each such
    stroke width is divided by its group's scale and the mark dropped, as pyqtgraph's own
    SVG exporter does, so every renderer draws what the window shows.
    """
    def fix(match: re.Match) -> str:
        attributes, body = match.group(1), match.group(2)
        if NON_SCALING not in body:
            return match.group(0)
        matrix, width = _MATRIX.search(attributes), _STROKE_WIDTH.search(attributes)
        if matrix is None or width is None:
            return match.group(0)
        try:
            a, b, c, d = (float(v) for v in matrix.group(1).split(",")[:4])
        except ValueError:
            return match.group(0)
        scale = math.sqrt(abs(a * d - b * c))
        if not scale:
            return match.group(0)
        stroke = float(width.group(1)) / scale
        attributes = attributes[: width.start()] + f'stroke-width="{stroke:.6g}"' + attributes[width.end():]
        body = body.replace(NON_SCALING, SCALING)
        return f"<g {attributes}>{body}</g>"

    # The pictures are arrays of cells (the input, the output, the kernel), drawn as cells
    # in the window: scaled up as cells, not blurred (librsvg smooths "optimizeQuality").
    svg = _INNER_GROUP.sub(fix, svg).replace('image-rendering="optimizeQuality"', 'image-rendering="optimizeSpeed"')
    return _UNSET_IMAGE.sub('<image image-rendering="optimizeSpeed" ', svg)


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
        text = partial.read_text(encoding="utf-8")
        partial.write_text(scaled_strokes(text), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        return f"could not write {path}: {exc.strerror or exc}"
    return ""
