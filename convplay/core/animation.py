"""The sliding-window animation as a state machine: position, play/pause, speed, loop.

No timer lives here: the Qt player owns a QTimer and calls ``advance(dt)``.  Steps are
numbered row-major over (out_channel, i, j), the order of the reference walk, so a step
index maps to an output cell with ``divmod`` alone.
"""

from __future__ import annotations

from psygnal import Signal

MIN_SPEED = 0.5
MAX_SPEED = 60.0


class AnimationState:
    """Where the animation is over an output of shape (channels, rows, cols)."""

    position_changed = Signal(int)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    loop_changed = Signal(bool)
    geometry_changed = Signal()

    def __init__(self, shape: tuple[int, int, int] = (0, 0, 0), *, speed: float = 4.0, loop: bool = False):
        self._shape = _checked_shape(shape)
        self._position = 0
        self._playing = False
        self._speed = _clamp_speed(speed)
        self._loop = bool(loop)
        self._debt = 0.0  # fraction of a step carried between advance() calls
        self._remembered: tuple[int, int, int] | None = None  # the cell before a shape with no steps

    # -- geometry ------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        return self._shape

    @property
    def n_steps(self) -> int:
        c, h, w = self._shape
        return c * h * w

    def cell(self, k: int | None = None) -> tuple[int, int, int]:
        """(out_channel, i, j) of step ``k`` (default: the current step)."""
        k = self._position if k is None else k
        _, h, w = self._shape
        oc, rest = divmod(k, h * w)
        i, j = divmod(rest, w)
        return oc, i, j

    def index_of(self, oc: int, i: int, j: int) -> int:
        _, h, w = self._shape
        return (oc * h + i) * w + j

    def set_shape(self, shape: tuple[int, int, int]) -> None:
        """A new output shape (the input, kernel or parameters changed).

        The same output cell is kept where it still exists; otherwise the animation
        restarts at step 0, paused.
        """
        shape = _checked_shape(shape)
        if shape == self._shape:
            return
        # Through settings that cannot be animated (no steps), the last cell is remembered:
        # groups 2 then back to 1 returns to the same step.
        old_cell = self.cell() if self.n_steps else self._remembered
        self._remembered = old_cell
        self._shape = shape
        self._debt = 0.0
        c, h, w = shape
        if old_cell is not None and old_cell[0] < c and old_cell[1] < h and old_cell[2] < w:
            new_position = self.index_of(*old_cell)
        else:
            new_position = 0
            self._set_playing(False)
        self.geometry_changed.emit()
        self._set_position(new_position, force=True)

    # -- position ------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self._position

    def seek(self, k: int) -> None:
        if self.n_steps == 0:
            return
        self._debt = 0.0
        self._set_position(min(max(int(k), 0), self.n_steps - 1))

    def seek_cell(self, oc: int, i: int, j: int) -> None:
        c, h, w = self._shape
        if 0 <= oc < c and 0 <= i < h and 0 <= j < w:
            self.seek(self.index_of(oc, i, j))

    def step_forward(self) -> None:
        self._move(1)

    def step_back(self) -> None:
        self._move(-1)

    def next_row(self) -> None:
        self._move(self._shape[2])

    def previous_row(self) -> None:
        self._move(-self._shape[2])

    def to_start(self) -> None:
        self.seek(0)

    def to_end(self) -> None:
        self.seek(self.n_steps - 1)

    def _move(self, delta: int) -> None:
        """Move by ``delta`` steps, wrapping when looping, else stopping at the ends."""
        n = self.n_steps
        if n == 0:
            return
        target = self._position + delta
        if self._loop:
            target %= n
        self.seek(target)

    # -- playing -------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    def play(self) -> None:
        if self.n_steps == 0:
            return
        if self._position >= self.n_steps - 1 and not self._loop:
            self._set_position(0)  # playing from the end starts over, as media players do
        self._debt = 0.0
        self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    @property
    def speed(self) -> float:
        """Steps per second."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        speed = _clamp_speed(speed)
        if speed != self._speed:
            self._speed = speed
            self.speed_changed.emit(speed)

    @property
    def loop(self) -> bool:
        return self._loop

    def set_loop(self, loop: bool) -> None:
        loop = bool(loop)
        if loop != self._loop:
            self._loop = loop
            self.loop_changed.emit(loop)

    def advance(self, dt: float) -> int:
        """Let ``dt`` seconds of playing pass; returns how many steps were taken.

        At the last step without looping, playback stops there.
        """
        if not self._playing or self.n_steps == 0:
            return 0
        self._debt += max(dt, 0.0) * self._speed
        steps = int(self._debt)
        if steps == 0:
            return 0
        self._debt -= steps
        n = self.n_steps
        target = self._position + steps
        if self._loop:
            self._set_position(target % n)
        elif target >= n - 1:
            self._set_position(n - 1)
            self._set_playing(False)
        else:
            self._set_position(target)
        return steps

    # -- internals -----------------------------------------------------------------
    def _set_position(self, k: int, *, force: bool = False) -> None:
        if k != self._position or force:
            self._position = k
            self.position_changed.emit(k)

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playing_changed.emit(playing)


def _checked_shape(shape) -> tuple[int, int, int]:
    c, h, w = (int(v) for v in shape)
    if min(c, h, w) <= 0:
        return (0, 0, 0)
    return (c, h, w)


def _clamp_speed(speed: float) -> float:
    return float(min(max(speed, MIN_SPEED), MAX_SPEED))
