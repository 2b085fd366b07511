"""From the network and the session's input to torch jobs, and from their answers into ``Network``.

Three ``LatestWorker``s, so that no kind of job replaces another kind before it starts:

- *setup*: the weights a new stack needs (the built-in's shipped file, a file the user
  picked, or PyTorch's initialisation for the network's seed) and the shape check on the
  meta device, once per stack and input shape;
- *runs*: the input through the stack, every layer's output kept.  A pen stroke submits
  one per pushed image; newest wins, so fast strokes never queue;
- *effective*: the gradient of the probed output pixel with respect to the input, asked
  for by the receptive-field panel while it is on screen.

torch is first imported inside a worker, and not before the window's first paint.
Every answer is written into the ``Network`` on the UI thread; views follow its events.
"""

from __future__ import annotations

import threading
import weakref
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from convplay.core.layer_trace import shape_text
from convplay.core.network import Network, NetworkRun, Probe, network_input
from convplay.core.resources import resource_path
from convplay.qt.shown import hear_while_alive
from convplay.qt.workers import LatestWorker

START_WAIT_MS = 2.0  # a stroke's run starts before the UI thread goes on redrawing
SHAPES_OK = "\u2713 every shape checked by PyTorch"
DEFAULT_BUILTIN = "digits"

_thread_state = threading.local()
# The controller of each network (by id), for views made without one: they find it here.
_CONTROLLERS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def controller_for(network) -> NetworkController | None:
    """The live controller of ``network``, if one was made for it."""
    controller = _CONTROLLERS.get(id(network))
    return controller if controller is not None and controller.network is network else None


def _thread_policy() -> None:
    # OpenMP keeps the thread count a thread began its first parallel region with: the
    # policy is applied in each worker thread before its first torch call.
    if not getattr(_thread_state, "policy_applied", False):
        from convplay.compute.allocator import apply_thread_policy

        apply_thread_policy()
        _thread_state.policy_applied = True


def _initialised_text(seed: int) -> str:
    return f"initialised as PyTorch does (seed {seed})"


def _field(info, name: str, default=None):
    if isinstance(info, dict):
        return info.get(name, default)
    return getattr(info, name, default)


def weights_resource(name: str) -> Path:
    """The bundled weights file ``name`` ("digits_cnn.safetensors" or "kernels/...")."""
    parts = [p for p in str(name).replace("\\", "/").split("/") if p]
    if len(parts) > 1:
        return resource_path(*parts)
    for folder in ("kernels", "networks"):
        path = resource_path(folder, parts[0])
        if path.exists():
            return path
    return resource_path("kernels", parts[0])


# -- the jobs (worker threads; no Qt widgets) ----------------------------------------------------


def setup_job(job: dict) -> dict:
    """Weights for a stack (when ``job["weights"]`` says how) and its shape check."""
    _thread_policy()
    from convplay.compute.stack import (
        StackError,
        check_shapes,
        initial_weights,
        load_weights_file,
        match_weights,
    )
    from convplay.core.kernel_io import KernelFileError

    stack, seed = job["stack"], job["seed"]
    out: dict = {"stack": stack, "input_shape": job["input_shape"]}
    how = job.get("weights")
    if how is not None:
        kind, arg = how
        try:
            if kind in ("file", "resource"):
                path = Path(arg)
                try:
                    match = match_weights(stack, load_weights_file(path), seed)
                except (KernelFileError, StackError, OSError, ValueError) as exc:
                    if kind == "file":
                        raise
                    # A shipped file that cannot be read: the stack still runs, initialised.
                    out["weights"] = initial_weights(stack, seed)
                    out["source"] = _initialised_text(seed)
                    out["note"] = f"{path.name} could not be read ({exc})"
                else:
                    out["weights"] = match.weights
                    out["source"] = f"{path.name}: {match.summary()}"
                    out["note"] = "; ".join(match.notes)
                    out["complete"] = match.complete
            else:  # initialise, keeping what still fits of ``arg`` (the weights before an edit)
                weights = initial_weights(stack, seed)
                kept = [name for name, value in (arg or {}).items()
                        if name in weights and np.shape(value) == weights[name].shape]
                for name in kept:
                    weights[name] = np.array(arg[name], dtype=np.float32)
                out["weights"] = weights
                if not weights:
                    out["source"] = "none: no layer of this stack has parameters"
                elif kept and len(kept) < len(weights):
                    out["source"] = (f"{len(kept)} of {len(weights)} tensors kept, the others "
                                     f"{_initialised_text(seed)}")
                elif kept:
                    out["source"] = f"all {len(kept)} tensors kept from before the edit"
                else:
                    out["source"] = _initialised_text(seed)
        except (KernelFileError, StackError, OSError, ValueError) as exc:
            out["weights_error"] = str(exc)
    if job.get("check", True):
        out["check"] = check_shapes(stack, job["input_shape"])
    return out


def run_job(job: dict):
    """The input through the stack (``run_stack`` keeps the module it built for the same
    stack and weights, so a stroke builds nothing)."""
    _thread_policy()
    from convplay.compute.stack import run_stack

    return run_stack(job["stack"], job["weights"], job["input"], device=job["device"])


def effective_job(job: dict):
    _thread_policy()
    from convplay.compute.stack import StackError, effective_receptive_field

    probe: Probe = job["probe"]
    # A default probe comes with alternatives: the first whose gradient reaches the input is
    # shown, so the panel does not open on a pixel a ReLU cuts off.
    field = None
    for candidate in (probe, *job.get("alternatives", ())):
        try:
            found = effective_receptive_field(job["stack"], job["weights"], job["input"], candidate.layer,
                                              candidate.channel, candidate.row, candidate.col)
        except StackError as exc:
            if field is None:
                return probe, str(exc)
            break
        if field is None:
            field = found
        if np.any(found):
            return candidate, found
    return probe, field


def shape_check_text(trace, check) -> str:
    """What the shape check says beside the trace: agreement, or the first disagreement."""
    rows = trace.rows
    for index, (row, torch_shape) in enumerate(zip(rows, check.shapes)):
        mine = None if (row.output_shape is None or row.error) else tuple(row.output_shape)
        if mine != (None if torch_shape is None else tuple(torch_shape)):
            label = row.layer.label
            if torch_shape is None:
                return f"\u2717 PyTorch refuses {label} (layer {index}): {check.error}"
            if mine is None and index == trace.failed and row.input_shape is not None and len(row.input_shape) < 3:
                # maps layers after a Flatten: torch takes the batched tensor for one image
                # without a batch and runs it across the batch, where the trace refuses on purpose
                return (f"\u2713 PyTorch{_by(check)} agrees up to {label} (layer {index}), which it would run on "
                        f"the {shape_text(row.input_shape)} tensor as one image without a batch, across the "
                        "batch: convplay refuses it")
            return (f"\u2717 PyTorch gives {shape_text(torch_shape)} after {label} (layer {index}), "
                    f"the trace {shape_text(mine)}")
    if check.error and check.failed is None:
        return f"\u2717 PyTorch could not check the shapes: {check.error}"
    if trace.failed is not None:
        return f"\u2713 PyTorch{_by(check)} refuses {rows[trace.failed].layer.label} too: {check.error}"
    return SHAPES_OK + _by(check)


def _by(check) -> str:
    return f" ({check.by})" if check.by else ""


class NetworkController(QObject):
    """Owns the network's workers.  ``busy_changed(bool)``; ``message(str)`` (a weights file
    that could not be used, a built-in that does not exist); ``shape_check_changed(str)``;
    ``effective_ready(probe, array or reason)``: the effective receptive field of ``probe``
    as an (H, W) array, or a str saying why there is none."""

    busy_changed = Signal(bool)
    message = Signal(str)
    shape_check_changed = Signal(str)
    effective_ready = Signal(object, object)
    follows_changed = Signal(bool)  # False: the session holds a layer's input, the network keeps its own
    settled = Signal()  # every job is done: the network holds the weights, check and run of now

    def __init__(self, network: Network, session, compute_settings=None, parent=None):
        super().__init__(parent)
        self.network = network
        self.session = session
        self.compute_settings = compute_settings
        self.shape_check = ""
        self._setup = LatestWorker(setup_job, "network-setup", parent=self)
        self._runs = LatestWorker(run_job, "network-runs", start_wait_ms=START_WAIT_MS, parent=self)
        self._effective = LatestWorker(effective_job, "network-effective", parent=self)
        self._setup.returned.connect(self._on_setup)
        self._setup.errored.connect(lambda _g, text: self.message.emit(text))
        self._runs.returned.connect(self._on_run)
        self._runs.errored.connect(self._on_run_error)
        self._effective.returned.connect(self._on_effective)
        self._effective.errored.connect(lambda _g, text: self.effective_ready.emit(self._asked_probe, text))
        self._busy = False
        for worker in (self._setup, self._runs, self._effective):
            worker.busy_changed.connect(self._follow_busy)
        self._run_jobs: dict[int, tuple[int, np.ndarray]] = {}  # worker generation -> (network generation, input)
        self._asked_probe: Probe | None = None
        self._checked: tuple | None = None  # (stack, input shape) the shape check is for
        self._plan_in_flight: tuple | None = None  # (stack, weights plan) submitted, not back yet
        self._weights_for = None  # the stack whose weights are in the network
        self._previous_weights: dict = {}
        self._last_image = session.image
        self._source_image = session.image  # the session image the network's input is made from
        self._held_shape: tuple | None = None
        self._held_layer: int | None = None
        self._closed = False
        _CONTROLLERS[id(network)] = self
        # Stack and weights changes come in bursts (a new stack emits both): one look after them.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self._follow_network)
        first_painted = getattr(parent, "first_painted", None)
        self._started = first_painted is None
        if first_painted is not None:
            first_painted.connect(self._start)
        # The models outlive this controller in tests: it stops hearing them once it is gone.
        pairs = [(network.stack_changed, self._on_stack_changed), (network.weights_changed, self._schedule),
                 (session.edited, self._on_session_edited)]
        if compute_settings is not None:
            pairs.append((compute_settings.changed, self.run_now))
        hear_while_alive(self, *pairs)
        if not network.stack.layers:
            self.load_builtin(DEFAULT_BUILTIN)
        self._remember_weights()
        self._pending.start()

    # -- state -----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def device(self) -> str:
        return self.compute_settings.device if self.compute_settings is not None else "cpu"

    @property
    def is_settled(self) -> bool:
        """True once started with no job pending or running (a screenshot waits for it)."""
        return self._started and not self._busy and not self._pending.isActive()

    @property
    def runs_started(self) -> int:
        return self._runs.started_jobs

    # -- commands ----------------------------------------------------------------------
    def load_builtin(self, key: str) -> bool:
        """Put the built-in stack ``key`` ("digits", ...) in the network; its shipped weights
        (or PyTorch's initialisation) follow from the setup worker.  False, with a message,
        for a key that is not a built-in."""
        try:
            from convplay.core.builtin_stacks import builtin_stack

            stack, info = builtin_stack(key)
        except (KeyError, ValueError, ImportError) as exc:
            self.message.emit(f"there is no built-in network called {key!r} ({exc})")
            return False
        labels = _field(info, "labels")
        self._builtin_resource = _field(info, "weights")
        self._builtin_stack = stack
        self.network.set_stack(stack, input_shape=_field(info, "input_shape"), labels=labels, key=key)
        return True

    def load_weights_file(self, path) -> None:
        """Weights from a state_dict, checkpoint, safetensors or npz file, matched by name and
        shape; a tensor the file lacks or has in another shape keeps PyTorch's initialisation
        for the network's seed, and the weights' source lists what was not loaded."""
        self._submit_setup(("file", str(path)), check=False)

    def initialise(self, seed: int) -> None:
        """PyTorch's initialisation of every tensor for ``seed``."""
        self.network.set_seed(seed)
        self._submit_setup(("init", {}), check=False)

    def run_now(self, *_args) -> None:
        """Run the current input through the stack (the last run goes stale until it is in)."""
        if self._closed or not self._started or not self._weights_ready():
            return
        self._submit_run()

    def request_effective(self, probe: Probe | None = None, alternatives=()) -> bool:
        """Compute the effective receptive field of ``probe`` (default: the network's) for
        the current input; ``effective_ready`` answers.  With ``alternatives`` (probes), the
        answer is for the first of probe and alternatives whose gradient is not 0 everywhere
        (the probe's own field when none is).  False when there is nothing to ask."""
        probe = probe if probe is not None else self.network.probe
        if probe is None or self._closed or not self._started or not self._weights_ready():
            return False
        self._asked_probe = probe
        self._effective.submit({
            "stack": self.network.stack, "weights": self.network.weights, "input": self._input(),
            "probe": probe, "alternatives": tuple(alternatives),
        })
        return True

    def shutdown(self) -> None:
        self._closed = True
        if _CONTROLLERS.get(id(self.network)) is self:
            del _CONTROLLERS[id(self.network)]
        self._pending.stop()
        for worker in (self._runs, self._effective, self._setup):
            worker.shutdown()

    # -- internals -----------------------------------------------------------------------
    def _start(self) -> None:
        if not self._started:
            self._started = True
            self._follow_network()

    def _schedule(self, *_args) -> None:
        self._pending.start()

    def _weights_ready(self) -> bool:
        return bool(self.network.weights) or self._weights_for is self.network.stack

    def _input(self) -> np.ndarray:
        return network_input(self._source_image, self.network.input_shape)

    def _on_stack_changed(self) -> None:
        # A stack set again (a built-in chosen twice is the same object) with no weights has
        # lost them: they are made again.
        self._weights_for = self.network.stack if self.network.weights else None
        self._schedule()

    def _follow_network(self) -> None:
        """After a change of stack, input shape or weights: make the weights the stack lacks,
        check its shapes once, and run it."""
        if self._closed or not self._started:
            return
        network = self.network
        wanted = (network.stack, network.input_shape)
        check = self._checked is None or self._checked[0] is not wanted[0] or self._checked[1] != wanted[1]
        in_flight = self._plan_in_flight is not None and self._plan_in_flight[0] is network.stack
        needs_weights = not network.weights and self._weights_for is not network.stack and not in_flight
        if needs_weights:
            self._submit_setup(self._weights_plan(), check=check)
        elif check:
            self._submit_setup(None, check=True)
        if self._weights_ready():
            self._remember_weights()
            self.run_now()

    def _weights_plan(self):
        network = self.network
        resource = getattr(self, "_builtin_resource", None)
        if network.key and network.stack is getattr(self, "_builtin_stack", None) and resource:
            return ("resource", str(weights_resource(resource)))
        keep = {}
        if not network.key and not network.stack.source:
            keep = self._previous_weights  # an edit in the panel (no code behind it): what still fits stays
        return ("init", keep)

    def _remember_weights(self) -> None:
        if self.network.weights:
            self._previous_weights = self.network.weights

    def _submit_setup(self, weights, check: bool) -> None:
        network = self.network
        in_flight = self._plan_in_flight
        if weights is None and in_flight is not None and in_flight[0] is network.stack and self._setup.busy:
            weights = in_flight[1]  # a check must not replace the weights still being made
        self._plan_in_flight = (network.stack, weights) if weights is not None else None
        self._checked = (network.stack, network.input_shape) if check else self._checked
        self._setup.submit({
            "stack": network.stack, "input_shape": network.input_shape, "seed": network.seed,
            "weights": weights, "check": check,
        })

    def _on_setup(self, _generation: int, out: dict) -> None:
        network = self.network
        self._plan_in_flight = None
        if out["stack"] is not network.stack:
            return  # for a stack that has been replaced since
        if "weights_error" in out:
            self.message.emit(out["weights_error"])
        if "weights" in out:
            network.set_weights(out["weights"], out.get("source", ""), out.get("note", ""))
            self._weights_for = network.stack
            self._remember_weights()
        check = out.get("check")
        if check is not None and out["input_shape"] == network.input_shape:
            self.shape_check = shape_check_text(network.trace, check)
            self.shape_check_changed.emit(self.shape_check)

    def _on_session_edited(self) -> None:
        image = self.session.image
        if image is self._last_image:
            return  # the settings or the kernel: the network's input is the same
        self._last_image = image
        if self._holds_layer_input(image):
            return
        self._source_image = image
        self.run_now()

    def _holds_layer_input(self, image: np.ndarray) -> bool:
        """True while the session holds a layer's input rather than the network's: a layer
        opened in the playground puts the previous layer's output there (and drawing on it
        keeps its shape).  The network keeps the input it had; a new image of another shape
        (a sample, a file, "Draw a digit") is the network's input again."""
        if self._held_shape is not None:
            if image.shape == self._held_shape:
                return True
            self._held_shape = self._held_layer = None
            self.follows_changed.emit(True)
        run = self.network.run
        if run is None:
            return False
        for index, out in enumerate(run.outputs[:-1]):
            if out.ndim == 3 and out.shape == image.shape and np.array_equal(out, image):
                self._held_shape, self._held_layer = image.shape, index + 1
                self.follows_changed.emit(False)
                return True
        return False

    @property
    def follows_session(self) -> bool:
        """False while the session holds a layer's input (the network keeps its own)."""
        return self._held_shape is None

    @property
    def held_layer(self) -> int | None:
        """The layer whose input the session holds (None while the network follows it)."""
        return self._held_layer

    def held_text(self) -> str:
        """A line for the views that show the network's results while the session holds a
        layer's input ("" while the network follows the session)."""
        index = self._held_layer
        if self._held_shape is None or index is None:
            return ""
        layers = self.network.stack.layers
        name = layers[index].label if 0 <= index < len(layers) else f"layer {index}"
        return (f"The input panel holds {name}'s input (opened in the sliding window); the network keeps "
                "your drawing — Ctrl+Z, Draw a digit or a new image gives it the input again")

    def _submit_run(self) -> None:
        network = self.network
        x = self._input()
        generation = self._runs.submit({
            "stack": network.stack, "weights": network.weights, "input": x, "device": self.device,
            "seed": network.seed,
        })
        # Stale only once the job is on its way: the views that follow must not delay it.
        network.input_changed()
        self._run_jobs = {generation: (network.generation, x)}

    def _on_run(self, generation: int, result) -> None:
        made_for = self._run_jobs.pop(generation, None)
        if made_for is None:
            return
        network_generation, x = made_for
        self.network.set_run(NetworkRun(x, tuple(result.outputs), result.error, result.failed,
                                        float(result.seconds), network_generation))

    def _on_run_error(self, generation: int, text: str) -> None:
        made_for = self._run_jobs.pop(generation, None)
        if made_for is not None:
            self.network.set_run(NetworkRun(made_for[1], (), text, None, 0.0, made_for[0]))

    def _on_effective(self, _generation: int, answer) -> None:
        probe, field = answer
        self.effective_ready.emit(probe, field)

    def _follow_busy(self, *_args) -> None:
        busy = self._setup.busy or self._runs.busy or self._effective.busy
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
        if not busy:
            # After the answers' handlers: one may have submitted the next job (weights -> run).
            QTimer.singleShot(0, self._tell_settled)

    def _tell_settled(self) -> None:
        if not self._closed and self.is_settled:
            self.settled.emit()
