"""What is known about the current session's output: PyTorch's result, the reference, the verdict.

Every view of an output reads this model and subscribes to it; none keeps "the" output
itself.  Workers compute off the UI thread and write here, on the UI thread, from their
returned signal; a result is taken only if it belongs to the current generation, so the
newest settings always win and a late result of older settings is dropped.

A generation begins with each request for new settings (``start``) or with settings
that cannot run (``invalidate``).  PyTorch's last output stays readable after that, so a
view can keep showing it, marked stale with the reason, until a new one arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from psygnal import Signal

from convplay.core.compute_settings import ComputeSettings
from convplay.core.display import finite_abs_max
from convplay.core.match import Match, compare_conv
from convplay.core.reference import conv2d_reference
from convplay.core.spec import ConvSpec, ConvSpecError

# The most output values one call may make: 64 channels of a 2048×2048 input, 1 GiB of
# float32.  A loaded kernel of 1024 channels, or a padding of hundreds, would otherwise ask
# for tens of GiB and take the machine down instead of saying so.
MAX_OUTPUT_VALUES = 64 * 2048 * 2048


def output_size_problem(shape: tuple[int, ...]) -> str:
    """Why an output of ``shape`` is too large to compute here, or "" when it is not."""
    values = int(np.prod(shape, dtype=np.int64))
    if values <= MAX_OUTPUT_VALUES:
        return ""
    dims = "×".join(str(n) for n in shape)
    return (f"the output would be {dims} = {values:,} values ({values * 4 / 2**30:.1f} GiB in float32); "
            f"convplay computes at most {MAX_OUTPUT_VALUES:,} (64×2048×2048): use a smaller input, "
            "fewer output channels or a larger stride")


@dataclass(frozen=True, eq=False)
class ComputeRequest:
    """Everything one PyTorch call needs; arrays are shared, never written to."""

    spec: ConvSpec
    image: np.ndarray  # (C, H, W)
    weight: np.ndarray  # spec.weight_shape, already flipped for true convolution
    bias: np.ndarray | None
    device: str = "cpu"
    dtype: str = "float32"
    tf32: bool = False
    exact_image: np.ndarray | None = None  # the float64 image ``image`` was rounded from

    @property
    def reference_image(self) -> np.ndarray:
        """What the float64 reference reads: the session's own image, not PyTorch's copy."""
        return self.image if self.exact_image is None else self.exact_image

    @property
    def compare_with_cpu64(self) -> bool:
        """On CUDA the result is checked against a CPU float64 run of the same conv."""
        return self.device.startswith("cuda")


@dataclass(frozen=True, eq=False)
class ComputeOutcome:
    """PyTorch's answer to one request.  ``display`` is what the output views draw, made
    off the UI thread by the worker's preparer (None without one)."""

    request: ComputeRequest
    output: np.ndarray  # (out_channels, H_out, W_out), in the dtype PyTorch returned
    elapsed_s: float
    device_name: str
    max_diff_cpu64: float | None = None
    generation: int = 0
    display: object | None = None


@dataclass(frozen=True, eq=False)
class ReferenceOutcome:
    """The float64 reference for one request, and its comparison with PyTorch's output.

    ``levels`` are the symmetric colour levels of the reference (±max|finite value|), so
    no view has to scan the whole output on the UI thread.
    """

    reference: np.ndarray  # float64, the same shape as PyTorch's output
    levels: tuple[float, float]
    match: Match | None


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    """±max|x| over the finite values; (-1, 1) when there are none or all are 0."""
    m = finite_abs_max(values)
    return (-m, m) if m > 0 else (-1.0, 1.0)


def reference_outcome(request: ComputeRequest, torch_output: np.ndarray | None) -> ReferenceOutcome:
    """Compute the reference of ``request`` and compare PyTorch's output with it (any thread)."""
    image = request.reference_image
    reference = conv2d_reference(image, request.weight, request.bias, request.spec)
    match = None
    if torch_output is not None and np.shape(torch_output) == reference.shape:
        match = compare_conv(
            reference, torch_output, image, request.weight, request.bias, request.spec,
            request.dtype, request.tf32,
        )
    return ReferenceOutcome(reference, symmetric_levels(reference), match)


class Results:
    """The latest PyTorch outcome, the stale reason, the reference and the verdict, busy.

    Events: ``outcome_changed(ComputeOutcome)``, ``stale_changed(str)`` (the reason, ""
    when fresh), ``reference_changed()`` (reference and match, also when they are
    forgotten), ``busy_changed(bool)``, ``reference_wanted_changed(bool)``.
    """

    outcome_changed = Signal(object)
    stale_changed = Signal(str)
    reference_changed = Signal()
    busy_changed = Signal(bool)
    reference_wanted_changed = Signal(bool)

    def __init__(self) -> None:
        self._generation = 0
        self._request: ComputeRequest | None = None
        self._outcome: ComputeOutcome | None = None
        self._stale = ""
        self._reference: ReferenceOutcome | None = None
        self._reference_error = ""
        self._busy = False
        self._wanted: set[str] = set()
        self.dropped = 0  # results that arrived after newer settings

    # -- reading -----------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation

    @property
    def request(self) -> ComputeRequest | None:
        """What the current generation asked PyTorch for (None while the settings are invalid)."""
        return self._request

    @property
    def outcome(self) -> ComputeOutcome | None:
        """PyTorch's latest outcome, possibly of an older generation (see ``fresh``)."""
        return self._outcome

    @property
    def output(self) -> np.ndarray | None:
        return None if self._outcome is None else self._outcome.output

    @property
    def fresh(self) -> bool:
        """True when the outcome is PyTorch's answer to the current settings."""
        return self._outcome is not None and self._outcome.generation == self._generation

    @property
    def current_output(self) -> np.ndarray | None:
        """PyTorch's output for the current settings, or None (not computed yet, invalid)."""
        return self._outcome.output if self.fresh else None

    @property
    def stale(self) -> str:
        """Why the shown output does not belong to the settings ("" when it does or may)."""
        return self._stale

    @property
    def reference(self) -> ReferenceOutcome | None:
        """The reference (and match) of the current generation, or None."""
        return self._reference

    @property
    def reference_error(self) -> str:
        """Why the reference of the current generation could not be computed ("" if it could)."""
        return self._reference_error

    @property
    def match(self) -> Match | None:
        return None if self._reference is None else self._reference.match

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def reference_wanted(self) -> bool:
        """True while some view on screen needs the reference (it costs a float64 conv)."""
        return bool(self._wanted)

    @property
    def needs_reference(self) -> bool:
        """A view wants the reference and PyTorch's current output is there to compare."""
        return self.reference_wanted and self.fresh and self._reference is None and not self._reference_error

    # -- writing (the UI thread, from the workers' signals) -----------------------------
    def begin(self, session, settings: ComputeSettings, image: np.ndarray | None = None) -> ComputeRequest | None:
        """Start a generation for what ``session`` holds now: the request to send PyTorch,
        or None (the results turn stale with the reason) when the settings cannot run.

        ``image``: the session's image already in the dtype PyTorch reads (a cached copy).
        """
        try:
            shape = session.spec.output_shape(session.image.shape)
        except ConvSpecError as exc:
            self.invalidate(str(exc))
            return None
        too_large = output_size_problem(shape)
        if too_large:
            self.invalidate(too_large)
            return None
        request = ComputeRequest(
            session.spec, session.image if image is None else image, session.effective_weight(), session.bias,
            settings.device, settings.dtype, settings.tf32_effective, exact_image=session.image,
        )
        self.start(request)
        return request

    def start(self, request: ComputeRequest) -> int:
        """New settings were sent to PyTorch; returns their generation."""
        self._generation += 1
        self._request = request
        self._forget_reference()
        return self._generation

    def invalidate(self, reason: str) -> int:
        """The settings cannot run: the output on screen is stale for ``reason``."""
        self._generation += 1
        self._request = None
        self._forget_reference()
        self._set_stale(reason or "the settings are invalid")
        return self._generation

    def set_outcome(self, generation: int, outcome: ComputeOutcome) -> bool:
        """PyTorch's result for ``generation``; False (dropped) if newer settings exist."""
        if generation != self._generation:
            self.dropped += 1
            return False
        self._outcome = outcome if outcome.generation == generation else replace(outcome, generation=generation)
        self._set_stale("")
        self.outcome_changed.emit(self._outcome)
        return True

    def set_failed(self, generation: int, message: str) -> bool:
        """PyTorch raised for ``generation``: the shown output is stale, with its words."""
        if generation != self._generation:
            self.dropped += 1
            return False
        self._set_stale(f"PyTorch refused these settings: {message}")
        return True

    def set_reference(self, generation: int, reference: ReferenceOutcome) -> bool:
        if generation != self._generation:
            self.dropped += 1
            return False
        self._reference = reference
        self.reference_changed.emit()
        return True

    def set_reference_error(self, generation: int, message: str) -> bool:
        """The reference raised for ``generation`` (a bug, or out of memory): said, not hidden."""
        if generation != self._generation:
            self.dropped += 1
            return False
        self._reference_error = message or "the reference failed"
        self.reference_changed.emit()
        return True

    def set_busy(self, busy: bool) -> None:
        busy = bool(busy)
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def want_reference(self, who: str, wanted: bool = True) -> None:
        """``who`` (a view's name) needs the reference while it is on screen."""
        before = self.reference_wanted
        if wanted:
            self._wanted.add(who)
        else:
            self._wanted.discard(who)
        if self.reference_wanted != before:
            self.reference_wanted_changed.emit(self.reference_wanted)

    # -- internals -----------------------------------------------------------------------
    def _set_stale(self, reason: str) -> None:
        if reason != self._stale:
            self._stale = reason
            self.stale_changed.emit(reason)

    def _forget_reference(self) -> None:
        if self._reference is not None or self._reference_error:
            self._reference = None
            self._reference_error = ""
            self.reference_changed.emit()

