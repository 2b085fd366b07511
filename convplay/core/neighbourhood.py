"""Which cells the sliding window shows on a large image: a readable neighbourhood.

A photo has far more cells than a screen can label (the 256² camera: 64,516 steps), so
past ``WHOLE_CELLS`` cells per axis the animation shows a *tile* of the output (about a
dozen cells) next to exactly the input cells those outputs read: the union of their
windows.  The tile stays put while the window walks across it and moves a whole tile at
a time, so the numbers on screen change only when the tile does (and a frame stays
cheap).

One ``AxisTiling`` per axis, written for the cells the animation steps over (the
*driver*: the output of a direct convolution, the input of a transposed one's scatter
view) and the cells they reach (the *reached*: the padded input, or the output):
driver cell ``i`` reaches ``[i*stride + offset, i*stride + offset + extent)``, where
``extent`` is the dilated kernel's size.  A direct convolution has offset 0 in padded
coordinates; a transposed one stamps from ``-padding`` (the output is cropped).

Numpy-free and Qt-free: plain integers, tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

WHOLE_CELLS = 16  # an input (padded) and output this small are drawn whole, every cell labelled
TARGET_CELLS = 12  # the neighbourhood's side, in reached cells, when the screen has room
MIN_TARGET_CELLS = 5  # the smallest neighbourhood a cramped view falls back to
MAX_TARGET_CELLS = 20  # a tall (or wide) panel shows up to this many cells along its long side


def shows_whole(reached_shape: tuple[int, int], driver_shape: tuple[int, int]) -> bool:
    """Whether a convolution is small enough to draw whole (the tutorial samples)."""
    return max(*reached_shape, *driver_shape) <= WHOLE_CELLS


@dataclass(frozen=True)
class AxisTiling:
    """Tiles of driver cells along one axis and the reached cells each tile covers."""

    driver_size: int  # output rows (direct) or input rows (transposed scatter)
    reached_size: int  # padded input rows (direct) or output rows (transposed)
    stride: int
    extent: int  # dilated kernel size: (k - 1) * dilation + 1
    offset: int = 0  # where driver cell 0's reach begins
    target: int = TARGET_CELLS

    @property
    def tile(self) -> int:
        """Driver cells per tile: as many as keep the reached span near ``target``."""
        per = (self.target - self.extent) // self.stride + 1 if self.target >= self.extent else 1
        return max(1, min(per, self.driver_size))

    def tile_of(self, i: int) -> tuple[int, int]:
        """[start, stop) of the tile holding driver cell ``i``; the last tile is full-sized
        (it ends at the edge), so every tile shows as many cells."""
        t = self.tile
        start = min((max(i, 0) // t) * t, max(self.driver_size - t, 0))
        return start, min(start + t, self.driver_size)

    def reach(self, start: int, stop: int) -> tuple[int, int]:
        """[first, last + 1) of the reached cells that driver cells start..stop-1 read
        (or stamp), clipped to the reached axis."""
        first = start * self.stride + self.offset
        last = (stop - 1) * self.stride + self.offset + self.extent
        return max(first, 0), max(min(last, self.reached_size), max(first, 0))

    @property
    def span(self) -> int:
        """Reached cells a full tile covers (before clipping at the edges): the panel's size."""
        return min((self.tile - 1) * self.stride + self.extent, self.reached_size) if self.driver_size else 0

    def driver_at(self, reached: float) -> int:
        """The driver cell whose reach is centred nearest reached cell ``reached``
        (a click on the input picks the window around it)."""
        if self.driver_size <= 0:
            return 0
        i = round((reached - self.offset - (self.extent - 1) / 2) / self.stride)
        return int(min(max(i, 0), self.driver_size - 1))


@dataclass(frozen=True)
class Neighbourhood:
    """One tile: the driver cells and the reached cells they cover, [start, stop) each."""

    driver_rows: tuple[int, int]
    driver_cols: tuple[int, int]
    reached_rows: tuple[int, int]
    reached_cols: tuple[int, int]


@dataclass(frozen=True)
class Tiling:
    """Both axes: ``at(i, j)`` is the tile around driver cell (i, j)."""

    rows: AxisTiling
    cols: AxisTiling

    def at(self, i: int, j: int) -> Neighbourhood:
        r0, r1 = self.rows.tile_of(i)
        c0, c1 = self.cols.tile_of(j)
        return Neighbourhood((r0, r1), (c0, c1), self.rows.reach(r0, r1), self.cols.reach(c0, c1))

    @property
    def driver_cells(self) -> tuple[int, int]:
        """(rows, cols) of driver cells a tile shows."""
        return self.rows.tile, self.cols.tile

    @property
    def reached_cells(self) -> tuple[int, int]:
        """(rows, cols) of reached cells a full tile covers."""
        return self.rows.span, self.cols.span

    def driver_at(self, r: float, c: float) -> tuple[int, int]:
        return self.rows.driver_at(r), self.cols.driver_at(c)


def tiling(
    driver_shape: tuple[int, int],
    reached_shape: tuple[int, int],
    stride: tuple[int, int],
    extent: tuple[int, int],
    offset: tuple[int, int] = (0, 0),
    target: int | tuple[int, int] = TARGET_CELLS,
) -> Tiling:
    """The tiling of a convolution: shapes (rows, cols) of the driver and reached cells,
    stride, dilated kernel size and offset per axis; ``target`` reached cells per side
    (one number for a square neighbourhood, or (rows, cols))."""
    targets = (target, target) if isinstance(target, int) else target
    axes = [AxisTiling(driver_shape[a], reached_shape[a], max(int(stride[a]), 1), max(int(extent[a]), 1),
                       int(offset[a]), max(int(targets[a]), 1)) for a in (0, 1)]
    return Tiling(*axes)
