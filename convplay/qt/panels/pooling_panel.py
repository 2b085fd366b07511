"""Shell: replaced by its owner."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PoolingPanel(QWidget):
    def __init__(self, model, session, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("PoolingPanel"))
