"""Shell: replaced by its owner."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ReceptiveFieldPanel(QWidget):
    def __init__(self, network, controller, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("ReceptiveFieldPanel"))
