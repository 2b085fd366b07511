"""The output first: panels that follow an edit wait, at most a frame, for the output it makes.

Why: an edit's PyTorch call for a small input takes a fraction of a millisecond, but the
UI thread would first redraw the kernel, formula and designer panels (2-4 ms of Python)
before it could take the result, so the output reached the screen after them.  While an
edit's output is being computed, those panels' redraws are held; they run once the
output has been shown, or when a frame (``FRAME_MS``) has passed, whichever comes first,
each once however many times it was asked for.  Nothing is held unless a window holds it,
so a panel on its own (a test, a dialog) redraws at once.
"""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QTimer

FRAME_MS = 16  # the longest a held redraw waits: one frame at 60 Hz


class OutputFirst:
    """Holds redraws (``run``) between ``hold()`` and ``release()`` (or the frame's end)."""

    def __init__(self) -> None:
        self._until = 0.0  # perf_counter time the hold ends by itself
        self._waiting: dict[Callable[[], None], None] = {}  # in order, each once
        self._timer: QTimer | None = None

    @property
    def held(self) -> bool:
        return time.perf_counter() < self._until

    @property
    def pending(self) -> bool:
        """Redraws are waiting for the hold to end."""
        return bool(self._waiting)

    def hold(self, max_ms: float = FRAME_MS) -> None:
        """Hold redraws until ``release()``, at most ``max_ms``."""
        self._until = time.perf_counter() + max_ms / 1000
        if self._timer is None:
            self._timer = QTimer()
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self.release)
        self._timer.start(int(max_ms) + 1)

    def release(self) -> None:
        """Run every held redraw now, in the order first asked for."""
        self._until = 0.0
        if self._timer is not None:
            self._timer.stop()
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            for refresh in waiting:
                refresh()

    def run(self, refresh: Callable[[], None]) -> None:
        """``refresh()`` now, or once the hold ends."""
        if self.held:
            self._waiting[refresh] = None
        else:
            if self._waiting:  # a hold that ran out while no event loop ran: its redraws first
                self.release()
            refresh()

    def discard(self, refresh: Callable[[], None]) -> None:
        """Forget a held ``refresh`` (its widget is gone)."""
        self._waiting.pop(refresh, None)

    def follow(self, refresh: Callable[[], None]) -> Callable[..., None]:
        """A handler for an edit's signal that redraws through ``run`` (signal arguments dropped)."""

        def handler(*_args) -> None:
            self.run(refresh)

        handler.refresh = refresh  # for disconnecting and for tests
        return handler


OUTPUT_FIRST = OutputFirst()
