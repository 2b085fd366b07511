"""Zoom and pan shared between the input and the output view.

The output is smaller than the input when the stride or the kernel shrinks it, so a plain
pyqtgraph link (same coordinates in both) would show different parts of the picture.  This
link shares the visible region as a fraction of each image instead: zooming into the cat's
eye on the input zooms into the cat's eye on the output.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg

Shape = Callable[[], "tuple[int, int] | None"]


class ProportionalLink:
    """Keeps two aspect-locked ViewBoxes showing the same fraction of their images.

    ``shape_a`` / ``shape_b`` return the (rows, cols) of the image each view shows, or None
    while there is none.  Cells are centred on integer coordinates, so an image of ``n``
    columns spans [-0.5, n - 0.5].
    """

    def __init__(self, a: pg.ViewBox, shape_a: Shape, b: pg.ViewBox, shape_b: Shape):
        self._a, self._b = a, b
        self._shape_a, self._shape_b = shape_a, shape_b
        self._busy = False
        a.sigRangeChangedManually.connect(lambda *_: self._follow(a, shape_a, b, shape_b))
        b.sigRangeChangedManually.connect(lambda *_: self._follow(b, shape_b, a, shape_a))

    def _follow(self, src: pg.ViewBox, src_shape: Shape, dst: pg.ViewBox, dst_shape: Shape) -> None:
        if self._busy:
            return
        s, d = src_shape(), dst_shape()
        if not s or not d or min(*s, *d) <= 0:
            return
        (x0, x1), (y0, y1) = src.viewRange()
        (sh, sw), (dh, dw) = s, d

        def scale(v: float, n_src: int, n_dst: int) -> float:
            return (v + 0.5) * n_dst / n_src - 0.5

        self._busy = True
        try:
            dst.setRange(
                xRange=(scale(x0, sw, dw), scale(x1, sw, dw)),
                yRange=(scale(y0, sh, dh), scale(y1, sh, dh)),
                padding=0,
            )
        finally:
            self._busy = False
