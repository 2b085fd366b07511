"""Colouring an index image with Qt (``display.Lookup`` done in C++), and coloured pixels as a QImage."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def qt_lookup(index: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[index]`` (``display.Lookup``) done by Qt: an indexed QImage converted
    to premultiplied ARGB32 in C++, 0.44 ms for 1024x1024 against numpy's 0.8 ms.  QImage
    is safe in any thread, so the compute worker can call this."""
    index = np.ascontiguousarray(index, dtype=np.uint8)
    h, w = index.shape
    if index.size == 0:
        return np.zeros((h, w), np.uint32)
    source = QImage(index.data, w, h, w, QImage.Format.Format_Indexed8)
    source.setColorTable(table.tolist())
    image = source.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    words = np.frombuffer(image.constBits(), np.uint32, count=h * image.bytesPerLine() // 4)
    return words.reshape(h, -1)[:, :w].copy()  # a copy: ``image`` goes away with this call


def argb_image(pixels: np.ndarray) -> QImage:
    """(H, W) premultiplied ARGB32 words (``display.coloured``) as a QImage that shares
    their memory: keep ``pixels`` alive while it is drawn, or ``.copy()`` it."""
    h, w = pixels.shape
    return QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
