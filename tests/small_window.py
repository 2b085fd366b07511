"""A small window for the zoom, theme and presenter tests, and the application-wide zoom
and theme put back around each test (they outlive any one window)."""

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.main_window import MainWindow
from convplay.qt.theme import theme
from convplay.qt.zoom import text_zoom

SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


def make_session() -> Session:
    rng = np.random.default_rng(5)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, padding=1)
    weight = np.stack([SOBEL_X, SOBEL_X.T])[:, None]
    return Session(rng.random((1, 9, 8)), spec, weight, np.array([0.5, -0.5]))


def settings_file(folder) -> QSettings:
    return QSettings(str(folder / "readable.ini"), QSettings.Format.IniFormat)


def open_window(qtbot, settings: QSettings, size=(1280, 720), *, closed_by_test: bool = False) -> MainWindow:
    """A window at ``size``, PyTorch's first output in; ``closed_by_test``: the test closes
    it with ``close_window`` (pytest-qt would close it again)."""
    window = MainWindow(make_session(), settings=settings)
    if not closed_by_test:
        qtbot.addWidget(window)
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        window.resize(*size)
        window.show()
    return window


def close_window(window: MainWindow) -> None:
    """Close and delete ``window`` now: what it follows (the zoom, the theme) lets go of it."""
    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


@pytest.fixture
def normal_look():
    """Each test starts and ends at 100 % in the normal theme."""
    text_zoom().reset()
    theme().set_high_contrast(False)
    yield
    text_zoom().reset()
    theme().set_high_contrast(False)
