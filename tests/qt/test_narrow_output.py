"""The Output panel in the narrowest dock a workspace gives it (Explore at 1024×640 with the
5×5 fractions in the Kernel column): its controls, colour bar and caption stay inside it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from convplay.core.samples import sample
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.main_window import MainWindow


def test_the_output_panel_fits_its_dock_at_1024x640(qtbot, tmp_path):
    image = sample("chelsea").image(256)
    gaussian = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256 / 3
    session = Session(image, ConvSpec(in_channels=3, out_channels=8, kernel_size=5),
                      np.broadcast_to(gaussian, (8, 3, 5, 5)).copy())
    window = MainWindow(session, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                        remember_layout=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        window.resize(1024, 640)
        window.show()
    for _ in range(6):
        QApplication.processEvents()
        qtbot.wait(10)
    panel = window.output_panel
    dock = window.docks["output"]
    scroll = dock.widget()
    inner = scroll.viewport().width() if scroll is not panel else dock.width()
    assert panel.width() <= inner, (panel.width(), inner, panel.minimumSizeHint().width())
    view = panel.view
    # The colour bar lies wholly inside the view: nothing of its numbers is cut.
    bar = view.colorbar.mapRectToScene(view.colorbar.boundingRect())
    assert bar.right() <= view.width() + 1, (bar.right(), view.width())
    assert view.caption.toolTip() == view.caption_text
