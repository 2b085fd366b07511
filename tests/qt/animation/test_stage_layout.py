"""The sliding window's stage grid is never rearranged while it places its widgets.

The view's resize can move its tile and show the overview; moving widgets in a QGridLayout
from inside its own ``setGeometry`` crashed Qt (a segmentation fault found by the
random-action test), so a rearrangement asked for then waits until the pass is over.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.animation.dock import AnimationDock


def _grid_items(dock: AnimationDock) -> list:
    grid = dock._stage_layout
    return [(grid.itemAt(i).widget(), grid.getItemPosition(i)) for i in range(grid.count())]


def _photo_dock(qtbot) -> AnimationDock:
    rng = np.random.default_rng(3)
    session = Session(rng.random((3, 48, 48)), ConvSpec(in_channels=3, out_channels=8, kernel_size=5),
                      rng.standard_normal((8, 3, 5, 5)))
    dock = AnimationDock(session)
    qtbot.addWidget(dock)
    dock.resize(1280, 720)
    dock.show()
    qtbot.waitUntil(lambda: dock.walk is not None)
    return dock


def test_a_placement_asked_for_inside_the_grids_pass_waits_for_its_end(qtbot):
    dock = _photo_dock(qtbot)
    dock.diagram_button.setChecked(True)
    QApplication.processEvents()
    before = _grid_items(dock)
    dock._stage_place = None  # forget the placement, so that the next one moves widgets
    dock._stage_layout.arranging = True
    try:
        dock._place_diagram()
        assert _grid_items(dock) == before  # nothing moved inside the pass
    finally:
        dock._stage_layout.arranging = False
    qtbot.waitUntil(lambda: dock._stage_place is not None)
    assert dock.diagram.isVisible()
    dock.shutdown()


def test_resizing_across_whole_and_tiled_views_with_the_diagram_shown_survives(qtbot):
    dock = _photo_dock(qtbot)
    dock.diagram_button.setChecked(True)
    for width, height in ((1280, 720), (500, 900), (1600, 400), (700, 700), (300, 300), (1280, 720)):
        dock.resize(width, height)
        QApplication.processEvents()
        dock.state.seek((dock.state.n_steps * width) // 2000)
        QApplication.processEvents()
    assert dock._stage_place is not None
    assert {w for w, _ in _grid_items(dock)} >= {dock.view}
    dock.shutdown()
