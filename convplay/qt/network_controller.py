"""Shell: replaced by its owner."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class NetworkController(QObject):
    busy_changed = Signal(bool)
    message = Signal(str)

    def __init__(self, network, session, compute_settings=None, parent=None):
        super().__init__(parent)
        self.network = network
        self.session = session

    def shutdown(self) -> None:
        pass
