"""An ImageView's axes and caption in a view of any shape: tick labels never overlap, even
where the view is much wider or taller than its map; with room, every cell 0..n-1 is ticked;
a long caption never makes the view wider than the widget."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QApplication

from convplay.qt.widgets import image_view
from convplay.qt.widgets.image_view import CellAxis, ImageView


def shown_view(qtbot, width: int, height: int, shape: tuple[int, int], zoom: float = 1.0) -> ImageView:
    view = ImageView(colorbar=True)
    qtbot.addWidget(view)
    if zoom != 1.0:
        # This view's fonts as the text zoom sets them, without telling every other widget.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(image_view, "scaled", lambda size: max(1, round(size * zoom)))
            view._apply_zoom()
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    view.set_image(np.random.default_rng(0).random(shape, dtype=np.float32), (0.0, 1.0))
    for _ in range(4):
        QApplication.processEvents()
    return view


def axis_labels(view: ImageView, name: str) -> list[tuple[float, str, QRectF]]:
    """(value, text, rect) of every labelled tick, placed at the axis's pixel scale and
    measured with the axis's font, as the axis would draw them (one axis coordinate each)."""
    axis = view.plot_item.getAxis(name)
    low, high = sorted(axis.range)
    length = axis.geometry().width() if name == "bottom" else axis.geometry().height()
    metrics = QFontMetricsF(axis.style["tickFont"])
    px = length / (high - low)
    labels = []
    for spacing, values in axis.tickValues(low, high, length):
        for value, text in zip(values, axis.tickStrings(values, 1.0, spacing), strict=True):
            if not text:
                continue  # an unlabelled mark
            centre = (value - low) * px
            if name == "bottom":
                width = metrics.horizontalAdvance(text)
                rect = QRectF(centre - width / 2, 0, width, metrics.height())
            else:
                rect = QRectF(0, centre - metrics.height() / 2, metrics.horizontalAdvance(text), metrics.height())
            labels.append((value, text, rect))
    return labels


def assert_apart(labels, name: str) -> None:
    ordered = sorted(labels, key=lambda label: label[0])
    for (_, t1, r1), (_, t2, r2) in pairwise(ordered):
        if name == "bottom":
            assert r1.right() <= r2.left(), f"{t1!r} at {r1} overlaps {t2!r} at {r2}"
        else:
            assert r1.bottom() <= r2.top(), f"{t1!r} at {r1} overlaps {t2!r} at {r2}"


def drawn_texts(view: ImageView, name: str) -> list[tuple[QRectF, str]]:
    """What pyqtgraph itself would paint: the text rects of its draw specs."""
    axis = view.plot_item.getAxis(name)
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in specs[2] if text]


def assert_drawn_apart(view: ImageView, name: str) -> None:
    texts = sorted(drawn_texts(view, name), key=lambda t: t[0].left() if name == "bottom" else t[0].top())
    assert len(texts) >= 2
    for (r1, t1), (r2, t2) in pairwise(texts):
        apart = r1.right() <= r2.left() if name == "bottom" else r1.bottom() <= r2.top()
        assert apart, f"{t1!r} at {r1} overlaps {t2!r} at {r2}"


@pytest.mark.parametrize("zoom", [1.0, 1.5])
def test_a_view_wider_than_its_map_labels_the_x_axis_without_overlap(qtbot, zoom):
    view = shown_view(qtbot, 900, 160, (254, 254), zoom)
    assert view.plot_item.getAxis("bottom").style["tickFont"].pointSize() == round(8 * zoom)
    labels = axis_labels(view, "bottom")
    values = [v for v, _, _ in labels]
    assert len(values) >= 2, labels  # not just "0": the map is still read off in cells
    assert all(v == int(v) and 0 <= v <= 253 for v in values)
    assert_apart(labels, "bottom")
    assert_drawn_apart(view, "bottom")
    # The finer levels still mark cells, unlabelled, under the map only.
    axis = view.plot_item.getAxis("bottom")
    low, high = sorted(axis.range)
    marks = [v for _, vs in axis.tickValues(low, high, axis.geometry().width()) for v in vs]
    assert len(marks) > len(values) and all(0 <= v <= 253 for v in marks)


@pytest.mark.parametrize("zoom", [1.0, 1.5])
def test_a_view_taller_than_its_map_labels_the_y_axis_without_overlap(qtbot, zoom):
    view = shown_view(qtbot, 200, 700, (254, 254), zoom)
    labels = axis_labels(view, "left")
    assert len(labels) >= 2, labels
    assert all(v == int(v) and 0 <= v <= 253 for v, _, _ in labels)
    assert_apart(labels, "left")
    assert_drawn_apart(view, "left")


def test_where_labels_have_room_the_axes_are_as_pyqtgraph_spaced_them(qtbot, monkeypatch):
    view = shown_view(qtbot, 900, 400, (60, 254))
    fitted = {name: [t for _, t in drawn_texts(view, name)] for name in ("bottom", "left")}
    assert_apart(axis_labels(view, "bottom"), "bottom")
    # The same axes with no fitting at all: pyqtgraph's levels cut to the map's cells.
    monkeypatch.setattr(CellAxis, "_fitted", lambda self, levels, *_: levels)
    for name in ("bottom", "left"):
        view.plot_item.getAxis(name).picture = None
        assert [t for _, t in drawn_texts(view, name)] == fitted[name]
    assert fitted["bottom"][:2] == ["0", "50"] and "250" in fitted["bottom"]


def test_with_room_every_cell_is_ticked_by_its_index(qtbot):
    view = shown_view(qtbot, 360, 360, (5, 7))
    for name, cells in (("bottom", 7), ("left", 5)):
        labels = axis_labels(view, name)
        assert sorted(v for v, _, _ in labels) == list(range(cells))
        assert all(t == str(int(v)) for v, t, _ in labels)
        assert_apart(labels, name)


def test_a_long_caption_never_widens_the_view(qtbot):
    view = shown_view(qtbot, 220, 220, (20, 20))
    long = "auto: diverging, 0 at the centre, symmetric about zero over every channel shown"
    view.set_caption(long)
    for width in (220, 180, 260):
        view.resize(width, 220)
        for _ in range(4):
            QApplication.processEvents()
        caption = view.caption
        for hint in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            assert caption.sizeHint(hint, QSizeF(-1, -1)).width() == 0
            assert caption.sizeHint(hint, QSizeF(-1, -1)).height() > 0  # the line keeps its height
        assert view.ci.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= width
        assert view.ci.geometry().width() <= width
        bar = view.colorbar.mapRectToScene(view.colorbar.boundingRect())
        assert bar.right() <= width + 1, (bar.right(), width)
        # Shortened at its end, not pushed off to the left: its start is inside the label.
        assert caption.text.endswith("\u2026") and long.startswith(caption.text[:-1])
        text = caption.item.mapRectToParent(caption.item.boundingRect())
        assert text.left() >= caption.rect().left() - 1e-6
    assert view.caption.toolTip() == long and view.caption_text == long
    view.resize(1400, 220)  # room again: the whole line
    for _ in range(4):
        QApplication.processEvents()
    assert view.caption.text == long
