"""Qt tests never touch the user's real settings (QSettings is redirected to tmp_path), and the
application-wide text zoom and theme are put back after each test, so none leaks into the next."""

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def temporary_settings(tmp_path):
    folder = str(tmp_path / "settings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    yield tmp_path / "settings"


@pytest.fixture(autouse=True)
def normal_zoom_and_theme():
    yield
    from convplay.qt.theme import theme
    from convplay.qt.zoom import text_zoom

    text_zoom().reset()
    theme().set_high_contrast(False)
