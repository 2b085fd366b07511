"""File dialogs' shared pieces: one image filter and one last-used folder.

The input panel's Open button, File > Open image, the kernel dialogs and the save
dialogs all start in the folder the user last opened or saved something in, kept in
QSettings under ``files/last_folder``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from convplay.core.image_io import IMAGE_SUFFIXES

SETTINGS_LAST_FOLDER = "files/last_folder"


def file_filter(label: str, suffixes: tuple[str, ...]) -> str:
    """"Label (*.a *.b);;All files (*)": a QFileDialog filter for these suffixes."""
    return f"{label} (" + " ".join(f"*{s}" for s in suffixes) + ");;All files (*)"


IMAGE_FILTER = file_filter("Images", IMAGE_SUFFIXES)


def _settings(settings: QSettings | None) -> QSettings:
    return settings if settings is not None else QSettings("convplay", "convplay")


def last_folder(settings: QSettings | None = None) -> str:
    """The folder of the last file opened or saved (the home folder at first)."""
    folder = _settings(settings).value(SETTINGS_LAST_FOLDER, "")
    if isinstance(folder, str) and folder and Path(folder).is_dir():
        return folder
    return str(Path.home())


def remember_folder(path: str | Path, settings: QSettings | None = None) -> None:
    """Remember the folder holding ``path`` for the next file dialog."""
    _settings(settings).setValue(SETTINGS_LAST_FOLDER, str(Path(path).resolve().parent))


def ask_open_path(
    parent: QWidget | None, title: str, file_filter_text: str, settings: QSettings | None = None
) -> str:
    """An open dialog in the last folder; the chosen path ("" if cancelled), remembered."""
    path, _ = QFileDialog.getOpenFileName(parent, title, last_folder(settings), file_filter_text)
    if path:
        remember_folder(path, settings)
    return path


def ask_image_path(parent: QWidget | None, settings: QSettings | None = None) -> str:
    """The image file the user picks ("" if cancelled)."""
    return ask_open_path(parent, "Open image", IMAGE_FILTER, settings)


def suggested_path(name: str, settings: QSettings | None = None) -> str:
    """``name`` in the last folder: what a save dialog proposes, so Enter saves at once."""
    return str(Path(last_folder(settings)) / name)


def ask_save_path(
    parent: QWidget | None, title: str, file_filter_text: str, settings: QSettings | None = None, *, name: str = ""
) -> tuple[str, str]:
    """A save dialog in the last folder, proposing ``name``: (path, chosen filter), ("", "")
    if cancelled; the folder chosen is remembered."""
    start = suggested_path(name, settings) if name else last_folder(settings)
    path, chosen = QFileDialog.getSaveFileName(parent, title, start, file_filter_text)
    if path:
        remember_folder(path, settings)
    return path, chosen
