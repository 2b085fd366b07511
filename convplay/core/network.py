"""The network the layer-stack view works on: a stack, its trace, its weights, the layer
and output pixel the user picked, and the last run of the input through it.

A model as the session is: setters never raise, events say what changed, views
subscribe.  Running belongs to compute (qt/network_controller.py submits the runs and
writes what comes back with ``set_run``); nothing here knows torch or Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from psygnal import Signal

from convplay.core.image_io import to_channels
from convplay.core.layer_trace import StackTrace, trace
from convplay.core.layers import Stack

DEFAULT_INPUT_SHAPE = (1, 8, 8)


@dataclass(frozen=True, eq=False)
class NetworkRun:
    """What one run of the input through the stack gave: ``input`` (C, H, W) as the network
    saw it, ``outputs`` one array per layer (without the batch) up to the first that failed,
    ``error`` torch's refusal and ``failed`` its layer index, ``seconds`` the forward's time,
    and ``generation``: the network's generation the run was made for."""

    input: np.ndarray
    outputs: tuple[np.ndarray, ...]
    error: str = ""
    failed: int | None = None
    seconds: float = 0.0
    generation: int = 0

    def output_of(self, index: int) -> np.ndarray | None:
        return self.outputs[index] if 0 <= index < len(self.outputs) else None

    def input_of(self, index: int) -> np.ndarray | None:
        """What layer ``index`` received: the previous layer's output, or the input."""
        if index == 0:
            return self.input
        return self.output_of(index - 1)


@dataclass(frozen=True)
class Probe:
    """An output pixel the user picked: layer, channel, row, column (row and column are 0
    for a vector output, whose entries are channels)."""

    layer: int
    channel: int
    row: int
    col: int


@dataclass(frozen=True, eq=False)
class NetworkSnapshot:
    """What an undo step of the network keeps: the stack, its input shape, its weights (the
    network's own read-only dict, shared, never copied), where they came from, the class
    labels and the built-in key."""

    stack: Stack
    input_shape: tuple[int, int, int]
    weights: dict
    weights_source: str
    weights_note: str
    labels: tuple[str, ...] | None
    key: str

    def arrays(self) -> list[np.ndarray]:
        return [value for value in self.weights.values() if isinstance(value, np.ndarray)]

    def same_as(self, other: NetworkSnapshot) -> bool:
        return (self.stack is other.stack and self.input_shape == other.input_shape
                and self.weights is other.weights and self.weights_source == other.weights_source
                and self.weights_note == other.weights_note and self.labels == other.labels
                and self.key == other.key)


class NetworkStep:
    """One undoable change of ``network``: the snapshots before and after.

    The weights of a new stack are made on a worker after the step is pushed, so undo
    first takes the network's state as the step's ``after`` (in a linear history it is that
    state, with the weights that arrived since), and redo does the same for ``before``: a
    redo brings the weights back instead of making them again.  ``arrays()`` are those of
    the snapshots pushed, so the history's count of them stays balanced.
    """

    def __init__(self, network: Network, text: str, before: NetworkSnapshot, after: NetworkSnapshot):
        self.text = text
        self._network = network
        self._before, self._after = before, after
        self._arrays = before.arrays() + after.arrays()

    def undo(self) -> None:
        now = self._network.snapshot()
        if now.stack is self._after.stack:
            self._after = now
        self._network.restore(self._before)

    def redo(self) -> None:
        now = self._network.snapshot()
        if now.stack is self._before.stack:
            self._before = now
        self._network.restore(self._after)

    def arrays(self) -> list[np.ndarray]:
        return self._arrays


class Network:
    stack_changed = Signal()  # the layers, the title or the input shape: the trace is new
    weights_changed = Signal()
    selection_changed = Signal(int)  # the selected layer's index, -1 for none
    probe_changed = Signal()
    run_changed = Signal()  # a run arrived, or the last one went stale

    def __init__(self) -> None:
        self._stack = Stack()
        self._input_shape: tuple[int, int, int] = DEFAULT_INPUT_SHAPE
        self._trace = trace(self._stack, self._input_shape)
        self._weights: dict[str, np.ndarray] = {}
        self._weights_source = ""
        self._weights_note = ""
        self._seed = 0
        self._labels: tuple[str, ...] | None = None
        self._key = ""
        self._selected = -1
        self._probe: Probe | None = None
        self._run: NetworkRun | None = None
        self._generation = 0

    # -- reading -------------------------------------------------------------------
    @property
    def stack(self) -> Stack:
        return self._stack

    @property
    def trace(self) -> StackTrace:
        return self._trace

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self._input_shape

    @property
    def weights(self) -> dict[str, np.ndarray]:
        """The state_dict the runs use (read-only arrays); empty until they are made."""
        return self._weights

    @property
    def weights_source(self) -> str:
        """Where the weights came from: "initialised as PyTorch does, seed 0", a file name."""
        return self._weights_source

    @property
    def weights_note(self) -> str:
        """What loading said (what matched, what did not)."""
        return self._weights_note

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def labels(self) -> tuple[str, ...] | None:
        """Class names for the last layer's outputs (a classifier), or None."""
        return self._labels

    @property
    def key(self) -> str:
        """The built-in stack this is ("digits"), or "" for one pasted or built by hand."""
        return self._key

    @property
    def selected(self) -> int:
        return self._selected

    @property
    def probe(self) -> Probe | None:
        return self._probe

    @property
    def run(self) -> NetworkRun | None:
        """The last run, None before the first; stale when its generation is older."""
        return self._run

    @property
    def generation(self) -> int:
        """Counts changes that make a run stale (stack, input shape, weights)."""
        return self._generation

    @property
    def run_is_fresh(self) -> bool:
        return self._run is not None and self._run.generation == self._generation

    # -- changing --------------------------------------------------------------------
    def set_stack(self, stack: Stack, *, input_shape=None, weights: dict | None = None, weights_source: str = "",
                  weights_note: str = "", labels=None, key: str = "") -> None:
        """A new stack (the trace follows).  Without ``weights`` the weights are emptied and
        the controller initialises them."""
        self._stack = stack
        if input_shape is not None:
            self._input_shape = _checked_shape(input_shape, self._input_shape)
        elif stack.input_shape is not None:
            self._input_shape = _checked_shape(stack.input_shape, self._input_shape)
        self._labels = tuple(labels) if labels else None
        self._key = key
        self._retrace()
        self._weights = _frozen(weights or {})
        self._weights_source, self._weights_note = weights_source, weights_note
        # The first layer is picked for a new stack, so that its views show something.
        self._selected = min(max(self._selected, 0), len(stack.layers) - 1)
        self._probe = None
        self._generation += 1
        self.stack_changed.emit()
        self.weights_changed.emit()
        self.probe_changed.emit()
        self.selection_changed.emit(self._selected)
        self.run_changed.emit()

    def snapshot(self) -> NetworkSnapshot:
        return NetworkSnapshot(self._stack, self._input_shape, self._weights, self._weights_source,
                               self._weights_note, self._labels, self._key)

    def restore(self, snapshot: NetworkSnapshot) -> None:
        """Go back to ``snapshot`` (undo, redo, the own stack chosen again); its weights dict
        is taken as it is, so the controller keeps them instead of making new ones."""
        self._stack = snapshot.stack
        self._input_shape = _checked_shape(snapshot.input_shape, self._input_shape)
        self._labels = snapshot.labels
        self._key = snapshot.key
        self._retrace()
        self._weights = snapshot.weights
        self._weights_source, self._weights_note = snapshot.weights_source, snapshot.weights_note
        self._selected = min(max(self._selected, 0), len(self._stack.layers) - 1)
        self._probe = None
        self._generation += 1
        self.stack_changed.emit()
        self.weights_changed.emit()
        self.probe_changed.emit()
        self.selection_changed.emit(self._selected)
        self.run_changed.emit()

    def set_layers(self, layers) -> None:
        """An edit in the panel: the same stack with other layers; weights whose names and
        shapes still fit are kept, the controller initialises the rest."""
        self.set_stack(self._stack.with_layers(layers), input_shape=self._input_shape, weights=None,
                       labels=self._labels, key="")

    def set_input_shape(self, shape) -> None:
        new = _checked_shape(shape, self._input_shape)
        if new == self._input_shape:
            return
        self._input_shape = new
        self._retrace()
        self._probe = None
        self._generation += 1
        self.stack_changed.emit()
        self.probe_changed.emit()
        self.run_changed.emit()

    def set_weights(self, weights: dict, source: str, note: str = "") -> None:
        self._weights = _frozen(weights)
        self._weights_source, self._weights_note = source, note
        self._generation += 1
        self.weights_changed.emit()
        self.run_changed.emit()

    def set_seed(self, seed: int) -> None:
        """The seed PyTorch's initialisation uses (the controller makes the weights again)."""
        if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63:
            self._seed = seed

    def select(self, index: int) -> None:
        index = index if isinstance(index, int) and 0 <= index < len(self._stack.layers) else -1
        if index != self._selected:
            self._selected = index
            self.selection_changed.emit(index)

    def set_probe(self, probe: Probe | None) -> None:
        if probe is not None and not self._probe_fits(probe):
            return
        if probe != self._probe:
            self._probe = probe
            self.probe_changed.emit()

    def input_changed(self) -> None:
        """The input image changed: the last run is stale."""
        self._generation += 1
        self.run_changed.emit()

    def set_run(self, run: NetworkRun) -> None:
        """A run came back; one made for an older generation is kept only if there is none."""
        if run.generation != self._generation and self._run is not None and self._run.generation > run.generation:
            return
        self._run = run
        self.run_changed.emit()

    # -- helpers -----------------------------------------------------------------------
    def _retrace(self) -> None:
        self._trace = trace(self._stack, self._input_shape)

    def _probe_fits(self, probe: Probe) -> bool:
        rows = self._trace.rows
        if not 0 <= probe.layer < len(rows) or rows[probe.layer].output_shape is None or rows[probe.layer].error:
            return False
        shape = rows[probe.layer].output_shape
        if len(shape) == 3:
            return 0 <= probe.channel < shape[0] and 0 <= probe.row < shape[1] and 0 <= probe.col < shape[2]
        return 0 <= probe.channel < shape[-1] and probe.row == 0 and probe.col == 0


def _checked_shape(shape, fallback) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        return fallback
    if not (1 <= c <= 4096 and 1 <= h <= 4096 and 1 <= w <= 4096):
        return fallback
    return (c, h, w)


def _frozen(weights: dict) -> dict[str, np.ndarray]:
    out = {}
    for name, value in weights.items():
        array = np.array(value, copy=True)
        array.setflags(write=False)
        out[str(name)] = array
    return out


def network_input(image: np.ndarray, input_shape) -> np.ndarray:
    """The session's (C, H, W) image as the network's input: its channels made the
    network's (RGB to luma, gray repeated), resized to H×W by area averaging when it
    shrinks (a 32×32 drawing becomes 8×8 as the digits data were made, by 4×4 blocks) and
    by repeating pixels when it grows; float32."""
    c, h, w = (int(v) for v in input_shape)
    image = np.asarray(image, dtype=np.float64)
    if c in (1, 3):
        image = to_channels(image, c)
    elif image.shape[0] != c:
        gray = image.mean(axis=0, keepdims=True)
        image = np.repeat(gray, c, axis=0)
    if image.shape[1:] != (h, w):
        shrinking = h * w < image.shape[1] * image.shape[2]
        resample = Image.Resampling.BOX if shrinking else Image.Resampling.NEAREST
        image = np.stack([
            np.asarray(Image.fromarray(np.ascontiguousarray(ch, dtype=np.float32)).resize((w, h), resample))
            for ch in image
        ])
    return np.ascontiguousarray(image, dtype=np.float32)
