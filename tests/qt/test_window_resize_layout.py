"""A window that grows after it is shown (the window manager's first size, the user dragging
its corner) gives the workspace's panels their shares of the new size, until the user sizes
the panels themselves; a first start with no remembered size takes most of the screen."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from convplay.core.samples import sample
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt.main_window import MainWindow

SOBEL_X = [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]


def _window(qtbot, tmp_path, size) -> MainWindow:
    import numpy as np

    session = Session(sample("camera").image(256), ConvSpec(in_channels=1, kernel_size=3), np.array(SOBEL_X)[None, None])
    window = MainWindow(session, settings=QSettings(str(tmp_path / f"{size}.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        window.resize(*size)
        window.show()
    _settle(qtbot)
    return window


def _settle(qtbot) -> None:
    for _ in range(4):
        QApplication.processEvents()
        qtbot.wait(60)


def _heights(window) -> dict[str, int]:
    return {key: dock.height() for key, dock in window.docks.items() if dock.isVisible()}


def test_a_window_that_grows_after_it_is_shown_keeps_the_workspaces_shares(qtbot, tmp_path):
    grown = _window(qtbot, tmp_path, (853, 480))
    grown.resize(1280, 690)
    _settle(qtbot)
    fresh = _window(qtbot, tmp_path, (1280, 690))
    for key, height in _heights(fresh).items():
        assert abs(grown.docks[key].height() - height) <= 12, (key, grown.docks[key].height(), height)
        assert abs(grown.docks[key].width() - fresh.docks[key].width()) <= 12, key
    # The output is the big view: not squeezed to a strip by the start's small size.
    assert grown.docks["output"].height() >= 250


def test_once_the_user_sizes_the_panels_a_window_resize_keeps_their_sizes(qtbot, tmp_path):
    window = _window(qtbot, tmp_path, (1280, 690))
    # A press between two docks (on the window itself, not on a panel) starts a separator drag.
    left, right = window.docks["input"], window.docks["output"]
    between = QPoint((left.geometry().right() + right.geometry().left()) // 2, left.geometry().center().y())
    assert window.childAt(between) is None or window.childAt(between) is window
    QTest.mousePress(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, between)
    QTest.mouseRelease(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, between)
    assert not window._auto_sizes
    calls = []
    window._apply_default_sizes = lambda: calls.append(True)
    window.resize(1366, 740)
    _settle(qtbot)
    assert calls == []


def test_a_first_start_takes_most_of_a_large_screen_and_all_of_a_small_one(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QRect

    window = _window(qtbot, tmp_path, (900, 500))

    class FakeScreen:
        def __init__(self, w, h):
            self._rect = QRect(0, 0, w, h)

        def availableGeometry(self):
            return self._rect

    monkeypatch.setattr(window, "screen", lambda: FakeScreen(2560, 1440))
    window.fit_to_screen()
    assert (window.width(), window.height()) == (1600, 1000)
    monkeypatch.setattr(window, "screen", lambda: FakeScreen(1366, 738))
    window.fit_to_screen()
    assert window.windowState() & Qt.WindowState.WindowMaximized
