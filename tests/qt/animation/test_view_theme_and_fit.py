"""The view's pens follow the theme, its titles fit, the overview follows the output's colours."""

import numpy as np
from PySide6.QtCore import QRectF

from convplay.qt import style
from convplay.qt.animation.overview import Thumbnail
from convplay.qt.animation.view import AnimationView, fitted_title, short_text
from convplay.qt.theme import theme


def test_the_title_timer_belongs_to_the_view(qtbot):
    view = AnimationView()
    qtbot.addWidget(view)
    assert view._title_timer.parent() is view  # deleted with the view: no call after teardown


def test_pens_follow_the_high_contrast_theme(qtbot):
    view = AnimationView()
    qtbot.addWidget(view)
    normal = view.output.cells.pen
    assert normal.color().name() == style.GRID_LINE and normal.widthF() == 1
    theme().set_high_contrast(True)
    try:
        themed = view.output.cells.pen
        assert themed.color().name() == style.HIGH_CONTRAST["GRID_LINE"]
        assert themed.widthF() == 2
        assert view.inputs[0].pads.pen.widthF() == 3
        assert view.inputs[0].weights.border.color().name() == style.HIGH_CONTRAST["WINDOW"]
    finally:
        theme().set_high_contrast(False)
    assert view.output.cells.pen.color().name() == style.GRID_LINE


def test_titles_shorten_then_elide_never_cut_at_both_ends():
    titles = ("input channel 0 (group 0)", "input channel 0", "input 0", "in 0")
    assert fitted_title(titles, 1000) == titles[0]
    assert fitted_title(titles, 200) in titles[1:]
    tiny = fitted_title(titles, 20)
    assert tiny.startswith("i") or tiny == "\u2026"


def test_short_labels_drop_the_leading_zero():
    assert short_text(0.57312, 1.0) in (".573", ".57")
    assert short_text(-0.25, 1.0) == "-.25"


def test_the_window_mark_is_inside_the_picture_for_every_position():
    thumb = Thumbnail("x")
    thumb.set_pixels(np.zeros((100, 200), np.uint32), (100, 200))
    thumb.rect = QRectF(10, 20, 200, 100)
    for r in (-2, 0, 50, 97):
        for c in (-2, 0, 100, 197):
            rect = thumb.cell_rect((r, r + 5), (c, c + 5))
            assert thumb.rect.contains(rect)
            assert rect.width() >= 5 and rect.height() >= 5
            # Its centre maps to the window's cells clipped to the image.
            cell = thumb.cell_at(rect.center())
            assert max(r, 0) - 5 <= cell[0] <= min(r + 5, 99) + 5
            assert max(c, 0) - 5 <= cell[1] <= min(c + 5, 199) + 5
