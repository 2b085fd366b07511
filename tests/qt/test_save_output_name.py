"""File > Save output proposes a name that says what the PNG holds: the channel shown, or the
derived view of a gradient pair drawn in its place."""

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt import files
from convplay.qt.main_window import MainWindow

SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


@pytest.fixture
def window(qtbot, temporary_settings):
    rng = np.random.default_rng(5)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, padding=1)
    session = Session(rng.random((1, 24, 20)), spec, np.stack([SOBEL_X, SOBEL_X.T])[:, None])
    window = MainWindow(session, settings=QSettings(str(temporary_settings / "t.ini"), QSettings.Format.IniFormat),
                        remember_layout=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        window.resize(1200, 800)
        window.show()
    return window


def proposed_name(window, monkeypatch, folder) -> str:
    files.remember_folder(folder / "x.png", window.settings)
    proposed = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _p, _t, start, _f: proposed.append(start) or ("", ""))
    window.actions_by_id["save_output"].trigger()
    assert len(proposed) == 1
    return proposed[0]


@pytest.mark.parametrize("view", ["magnitude", "l1", "orientation", "edges"])
def test_a_derived_view_is_saved_under_its_name(window, monkeypatch, tmp_path, view):
    window.output_panel.set_gradient_view(view)
    assert window.output_panel.derived_view == view
    assert proposed_name(window, monkeypatch, tmp_path) == str(tmp_path / f"output-{view}.png")


def test_a_channel_is_saved_under_its_index(window, monkeypatch, tmp_path):
    panel = window.output_panel
    panel.set_gradient_view("magnitude")
    panel.set_gradient_view("channel")
    panel.channel_spin.setValue(1)
    assert panel.derived_view == "channel" and panel.channel == 1
    assert proposed_name(window, monkeypatch, tmp_path) == str(tmp_path / "output-channel-1.png")
