"""What the pooling view shows: the settings, the input, the channel and the window on screen.

A setter never raises.  Settings PyTorch would refuse are kept as the state (``spec``),
with the reason in ``error`` and the field at fault in ``error_field``, while ``shown``
keeps the last settings and input that worked, so the picture stays on the last good
state and the user sees both.  Values are computed for the shown channel only, and only
when asked for: a 3×512×512 input costs nothing until a view wants its cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from psygnal import Signal

from convplay.core.pooling import (
    PoolSpec,
    PoolSpecError,
    PoolWindow,
    axis_windows,
    pool_reference,
    pool_window,
)
from convplay.core.samples import sample

# Adaptive pooling's windows differ in size, so the reference walks them one by one in
# Python: past this many outputs a channel the view (and its check) would stall.
MAX_ADAPTIVE_OUTPUTS = 128 * 128
EXAMPLE_NAME = "the 4×4 max-pooling example"
ADAPTIVE_EXAMPLE_NAME = "the 5×5 adaptive-pooling example"
LESSON_INPUT_NAME = "the lesson step's input"
EXAMPLE = "example"  # the input's source: the example,
ADAPTIVE_EXAMPLE = "adaptive_example"  # the 5×5 whose adaptive windows are uneven,
SESSION = "session"  # the session's image (the panel follows it),
OTHER = "other"  # or what a layer stack or a lesson set
SOURCES = (EXAMPLE, ADAPTIVE_EXAMPLE, SESSION, OTHER)
# Each example comes with its own settings: the lesson's nn.MaxPool2d(2) for the 4×4, and
# 5 → 3, whose windows of 2, 3 and 2 cells overlap, for the 5×5.
EXAMPLE_SPECS = {EXAMPLE: ("max", {"kernel_size": 2}), ADAPTIVE_EXAMPLE: ("adaptive_max", {"output_size": 3})}
EXAMPLE_SAMPLES = {EXAMPLE: "tutorial_pool", ADAPTIVE_EXAMPLE: "tutorial_pool5"}
EXAMPLE_NAMES = {EXAMPLE: EXAMPLE_NAME, ADAPTIVE_EXAMPLE: ADAPTIVE_EXAMPLE_NAME}
MIN_SPEED, MAX_SPEED = 0.25, 30.0


def example_input(which: str = EXAMPLE) -> np.ndarray:
    return _sealed(sample(EXAMPLE_SAMPLES.get(which, "tutorial_pool")).image())


def example_spec(which: str = EXAMPLE) -> PoolSpec:
    kind, args = EXAMPLE_SPECS.get(which, EXAMPLE_SPECS[EXAMPLE])
    return PoolSpec(kind, **args)


def _sealed(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class ShownPooling:
    """Settings and an input that PyTorch accepts, with the channel shown."""

    spec: PoolSpec
    input: np.ndarray  # (C, H, W) float64, read-only
    channel: int
    output_shape: tuple[int, int, int]
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def out_hw(self) -> tuple[int, int]:
        return self.output_shape[1], self.output_shape[2]

    @property
    def n_steps(self) -> int:
        return self.output_shape[1] * self.output_shape[2]

    @property
    def plane(self) -> np.ndarray:
        """The shown channel (H, W)."""
        return self.input[self.channel]

    def values(self) -> np.ndarray:
        """The shown channel's output (H_out, W_out), computed once."""
        if "values" not in self._cache:
            values, indices = pool_reference(self.spec, self.input[self.channel:self.channel + 1])
            self._cache["values"] = values[0]
            self._cache["indices"] = None if indices is None else indices[0]
        return self._cache["values"]

    def indices(self) -> np.ndarray | None:
        self.values()
        return self._cache["indices"]

    def windows(self, axis: int) -> list[tuple[int, ...]]:
        key = ("windows", axis)
        if key not in self._cache:
            self._cache[key] = axis_windows(self.spec, axis, self.input.shape[1 + axis])
        return self._cache[key]

    def window(self, oh: int, ow: int) -> PoolWindow:
        return pool_window(self.spec, self.plane, oh, ow)

    def readers(self, h: int, w: int) -> list[tuple[int, int]]:
        """The output cells whose window reads input cell (h, w)."""
        rows = [o for o, taps in enumerate(self.windows(0)) if h in taps]
        cols = [o for o, taps in enumerate(self.windows(1)) if w in taps]
        return [(r, c) for r in rows for c in cols]


class PoolingModel:
    """The pooling view's state.  ``changed`` after any change; the finer signals say what."""

    changed = Signal()
    spec_changed = Signal()
    input_changed = Signal()
    channel_changed = Signal(int)
    position_changed = Signal(int)
    error_changed = Signal(str)
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    answer_hidden_changed = Signal(bool)

    def __init__(self, spec: PoolSpec | None = None, image: np.ndarray | None = None, name: str = EXAMPLE_NAME,
                 source: str = EXAMPLE):
        self._spec = spec if isinstance(spec, PoolSpec) else PoolSpec("max", 2)
        self._input = example_input() if image is None else _sealed(image)
        self._name = str(name)
        self._source = source if source in SOURCES else OTHER
        self._channel = 0
        self._position = 0
        self._playing = False
        self._speed = 2.0
        self._error, self._error_field = "", ""
        self._answer_hidden = False
        self._shown: ShownPooling | None = None
        self._update(emit=False)

    # -- state ---------------------------------------------------------------------------
    @property
    def spec(self) -> PoolSpec:
        """The settings as set, refused or not."""
        return self._spec

    @property
    def input(self) -> np.ndarray:
        return self._input

    @property
    def input_name(self) -> str:
        return self._name

    @property
    def source(self) -> str:
        return self._source

    @property
    def channel(self) -> int:
        return self._channel

    @property
    def n_channels(self) -> int:
        return int(self._input.shape[0])

    @property
    def error(self) -> str:
        """Why PyTorch refuses the settings for this input ("" when it accepts them)."""
        return self._error

    @property
    def error_field(self) -> str:
        return self._error_field

    @property
    def shown(self) -> ShownPooling | None:
        """The last settings and input that worked (None until one has)."""
        return self._shown

    @property
    def position(self) -> int:
        """The output cell on screen, row-major over the shown output."""
        return self._position

    @property
    def n_steps(self) -> int:
        return self._shown.n_steps if self._shown is not None else 0

    @property
    def cell(self) -> tuple[int, int] | None:
        if self._shown is None or not self.n_steps:
            return None
        return divmod(self._position, self._shown.output_shape[2])

    def window(self) -> PoolWindow | None:
        cell = self.cell
        return None if cell is None else self._shown.window(*cell)

    @property
    def answer_hidden(self) -> bool:
        """True while a lesson's question asks for the output: the views show no output value."""
        return self._answer_hidden

    def set_answer_hidden(self, on: bool) -> None:
        on = bool(on)
        if on != self._answer_hidden:
            self._answer_hidden = on
            self.answer_hidden_changed.emit(on)
            self.changed.emit()

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        """Windows per second while playing."""
        return self._speed

    # -- setters -------------------------------------------------------------------------
    def set_spec(self, spec) -> None:
        if not isinstance(spec, PoolSpec):
            self._set_error(f"not pooling settings: {spec!r}", "kind")
            self.changed.emit()
            return
        if spec == self._spec and not self._error:
            return
        self._spec = spec
        self.spec_changed.emit()
        self._update()

    def update_spec(self, **changes) -> None:
        """The settings with ``changes``; an unknown field is an error, not an exception."""
        try:
            spec = self._spec.replace(**changes)
        except TypeError as exc:
            self._set_error(str(exc), "")
            self.changed.emit()
            return
        self.set_spec(spec)

    def set_input(self, image, name: str = "", source: str = OTHER) -> None:
        """A new input (C, H, W) or (H, W); one that is not an image keeps the old one and says why."""
        try:
            array = np.asarray(image, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.ndim == 2:
            array = array[None]
        if array is None or array.ndim != 3 or min(array.shape) < 1:
            shape = "nothing" if array is None else "×".join(map(str, array.shape)) or "a single number"
            self._set_error(f"the input must be channels × rows × columns, not {shape}", "input")
            self.changed.emit()
            return
        self._input = _sealed(array)
        self._name = str(name) or ("the input" if source == SESSION else self._name)
        self._source = source if source in SOURCES else OTHER
        if self._channel >= self.n_channels:
            self._channel = self.n_channels - 1
            self.channel_changed.emit(self._channel)
        self.input_changed.emit()
        self._update()

    def use_example(self, which: str = EXAMPLE) -> None:
        """An example with its own settings: what was set for another input does not carry
        over (padding 1 would turn the 4×4 → 2×2 example into a 3×3 in a ring of −∞)."""
        which = which if which in EXAMPLE_SPECS else EXAMPLE
        self.set_input(example_input(which), EXAMPLE_NAMES[which], which)
        self.set_spec(example_spec(which))
        self.first()

    def set_channel(self, channel) -> None:
        try:
            channel = int(channel)
        except (TypeError, ValueError, OverflowError):  # None, text, NaN, infinity: nowhere to go
            return
        channel = min(max(channel, 0), self.n_channels - 1)
        if channel == self._channel:
            return
        self._channel = channel
        self.channel_changed.emit(channel)
        self._update()

    def set_position(self, k) -> None:
        try:
            k = int(k)
        except (TypeError, ValueError, OverflowError):  # None, text, NaN, infinity: nowhere to go
            return
        k = min(max(k, 0), max(self.n_steps - 1, 0))
        if k != self._position:
            self._position = k
            self.position_changed.emit(k)
            self.changed.emit()

    def set_cell(self, oh: int, ow: int) -> None:
        if self._shown is None:
            return
        h, w = self._shown.out_hw
        if 0 <= oh < h and 0 <= ow < w:
            self.set_position(oh * w + ow)

    def step(self, delta: int = 1) -> bool:
        """Move ``delta`` windows on; False (and paused) at either end."""
        k = self._position + int(delta)
        if not 0 <= k < self.n_steps:
            self.set_playing(False)
            return False
        self.set_position(k)
        return True

    def first(self) -> None:
        self.set_position(0)

    def last(self) -> None:
        self.set_position(self.n_steps - 1)

    def set_playing(self, on: bool) -> None:
        on = bool(on) and self.n_steps > 1
        if on and self._position >= self.n_steps - 1:
            self.set_position(0)  # play from the end starts again
        if on != self._playing:
            self._playing = on
            self.playing_changed.emit(on)

    def set_speed(self, speed) -> None:
        try:
            speed = float(speed)
        except (TypeError, ValueError):
            return
        if np.isnan(speed):
            return
        speed = min(max(speed, MIN_SPEED), MAX_SPEED)
        if speed != self._speed:
            self._speed = speed
            self.speed_changed.emit(speed)

    # -- internals -----------------------------------------------------------------------
    def _set_error(self, message: str, field_name: str) -> None:
        changed = message != self._error
        self._error, self._error_field = message, field_name
        if changed:
            self.error_changed.emit(message)

    def _update(self, emit: bool = True) -> None:
        try:
            shape = self._spec.output_shape(self._input.shape)
            if self._spec.adaptive and shape[1] * shape[2] > MAX_ADAPTIVE_OUTPUTS:
                raise PoolSpecError(
                    f"the pooling view steps adaptive pooling to at most {MAX_ADAPTIVE_OUTPUTS:,} outputs a "
                    f"channel, and {shape[1]}×{shape[2]} is more: choose a smaller output_size "
                    "(PyTorch itself would take it)", "output_size")
        except PoolSpecError as exc:
            self._set_error(str(exc), exc.field)
        except Exception as exc:  # noqa: BLE001 - a value no check foresaw: said, never raised into the UI
            self._set_error(f"these settings cannot be used: {exc}", "")
        else:
            self._set_error("", "")
            old = self._shown
            self._shown = ShownPooling(self._spec, self._input, self._channel, shape)
            if old is None or old.out_hw != self._shown.out_hw:
                # the same output cell where it still exists, else the first
                cell = None if old is None else divmod(self._position, max(old.output_shape[2], 1))
                h, w = self._shown.out_hw
                k = cell[0] * w + cell[1] if cell is not None and cell[0] < h and cell[1] < w else 0
                if k != self._position:
                    self._position = k
                    if emit:
                        self.position_changed.emit(k)
            if self._playing and self.n_steps <= 1:
                self.set_playing(False)
        if emit:
            self.changed.emit()
