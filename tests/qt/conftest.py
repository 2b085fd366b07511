"""Qt tests never touch the user's real settings: QSettings is redirected to tmp_path."""

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def temporary_settings(tmp_path):
    folder = str(tmp_path / "settings")
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    yield tmp_path / "settings"
