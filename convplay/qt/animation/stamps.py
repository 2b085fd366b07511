"""A transposed convolution's scatter view: the sum of every stamp so far, for one channel.

Stepping forward adds one input pixel's stamp (O(taps)); any other move needs the sum of
all stamps up to there, a full reference of the masked input (O(macs)): small ones are
computed at once, larger ones on a worker, the newest jump winning, while the view shows
the cells not summed yet as empty.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject

from convplay.core.walk import ConvWalk, Stamp
from convplay.qt.workers import LatestWorker

SYNC_STAMP_MACS = 2_000_000  # about 2 ms of numpy: a jump this small is summed at once


def _summed(job: tuple[ConvWalk, int, int]) -> tuple[ConvWalk, int, int, np.ndarray]:
    walk, k, out_channel = job
    return walk, k, out_channel, walk.stamped_output(k, out_channel)


class StampSums(QObject):
    """``at(walk, k, out_channel, stamp)`` -> the channel after stamps 0..k, or None while a
    worker sums it; ``ready(k)`` is called when that sum arrives, ``failed(text)`` if it raised."""

    def __init__(self, ready: Callable[[int], None], failed: Callable[[str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.sum: np.ndarray | None = None
        self._key: tuple[ConvWalk, int, int] | None = None  # (walk, k, out channel) of ``sum``
        self._ready = ready
        self._worker = LatestWorker(_summed, "convplay-stamps", parent=self)
        self._worker.returned.connect(self._on_summed)
        self._worker.errored.connect(lambda _g, error: failed(error))

    def at(self, walk: ConvWalk, k: int, out_channel: int, stamp: Stamp) -> np.ndarray | None:
        if self._key == (walk, k - 1, out_channel) and self.sum is not None:
            mask = (stamp.out_channel == out_channel) & stamp.inside
            np.add.at(self.sum, (stamp.out_row[mask], stamp.out_col[mask]), stamp.product[mask])
            self._key = (walk, k, out_channel)
        elif self._key != (walk, k, out_channel):
            if walk.macs <= SYNC_STAMP_MACS:
                self.sum, self._key = walk.stamped_output(k, out_channel), (walk, k, out_channel)
            else:
                self.sum, self._key = None, None
                self._worker.submit((walk, k, out_channel))
        return self.sum

    def forget(self) -> None:
        """A new walk: nothing summed so far belongs to it."""
        self.sum, self._key = None, None
        self._worker.cancel()

    def shutdown(self) -> None:
        self._worker.shutdown()

    def _on_summed(self, _generation: int, answer: tuple[ConvWalk, int, int, np.ndarray]) -> None:
        walk, k, out_channel, summed = answer
        self.sum, self._key = summed, (walk, k, out_channel)
        self._ready(k)
