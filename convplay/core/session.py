"""What the user is working on: the input image, the conv settings, the kernel and bias.

The session owns the state and emits psygnal events; Qt views subscribe to them and call
the setters.  Nothing here knows about Qt or torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from convplay.core.kernel_edits import fit_weight
from convplay.core.spec import ConvSpec


def fit_bias(bias: np.ndarray | None, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.float64)
    if bias is not None:
        m = min(len(bias), n)
        out[:m] = bias[:m]
    return out


@dataclass(frozen=True, eq=False)
class SessionSnapshot:
    image: np.ndarray
    spec: ConvSpec
    weight: np.ndarray
    bias: np.ndarray
    true_convolution: bool

    def same_as(self, other: "SessionSnapshot") -> bool:
        """True when nothing changed (arrays compared by identity: setters replace them)."""
        return (
            self.image is other.image
            and self.spec == other.spec
            and self.weight is other.weight
            and self.bias is other.bias
            and self.true_convolution == other.true_convolution
        )


def usable_weight_shape(spec: ConvSpec, fallback: tuple[int, ...]) -> tuple[int, ...]:
    """The spec's weight shape, or ``fallback`` while the spec is impossible.

    Groups that do not divide the channels give no real weight shape (in/groups rounds
    down, even to 0): the kernel keeps its shape until the settings are fixed.
    """
    try:
        spec.validate()
        return spec.weight_shape
    except ValueError:
        return tuple(fallback)


class Session:
    """The one model every panel reads.

    ``image`` is (C, H, W) float64; ``weight`` has ``spec.weight_shape``; ``bias`` has
    one value per output channel and is used only when ``spec.bias`` is true.
    ``true_convolution`` flips the kernel (PyTorch itself computes cross-correlation).
    """

    # Every change emits ``edited`` first, once the whole new state is in place, then the
    # specific events, then ``changed``.  ``edited`` is for work that must start before any
    # view follows the edit: the window hands the new settings to PyTorch on it, so the
    # convolution runs while the panels redraw.
    edited = Signal()
    image_changed = Signal()
    spec_changed = Signal()
    kernel_changed = Signal()
    changed = Signal()  # after any of the above

    def __init__(
        self,
        image: np.ndarray | None = None,
        spec: ConvSpec | None = None,
        weight: np.ndarray | None = None,
        bias: np.ndarray | None = None,
    ):
        self._image = np.zeros((1, 8, 8)) if image is None else _as_image(image)
        self._spec = spec or ConvSpec(in_channels=self._image.shape[0])
        fallback = np.shape(weight) if weight is not None else (1, 1, 1, 1)
        shape = usable_weight_shape(self._spec, fallback)
        self._weight = fit_weight(None if weight is None else np.asarray(weight, float), shape)
        if weight is not None and np.shape(weight) != shape:
            raise ValueError(f"weight shape {np.shape(weight)} does not match the spec's {shape}")
        n_bias = self._bias_len(self._spec)
        self._bias = fit_bias(None if bias is None else np.asarray(bias, float).ravel(), n_bias)
        self._true_convolution = False

    @staticmethod
    def _bias_len(spec: ConvSpec) -> int:
        return spec.out_channels

    # -- state ------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        return self._image

    @property
    def spec(self) -> ConvSpec:
        return self._spec

    @property
    def weight(self) -> np.ndarray:
        return self._weight

    @property
    def bias(self) -> np.ndarray | None:
        """The bias if the spec has one, else None (what conv2d receives)."""
        return self._bias if self._spec.bias else None

    @property
    def bias_values(self) -> np.ndarray:
        """The stored bias values, kept even while the spec's bias is off."""
        return self._bias

    @property
    def true_convolution(self) -> bool:
        return self._true_convolution

    # -- setters ----------------------------------------------------------------
    def set_image(self, image: np.ndarray, *, adapt_channels: bool = True) -> None:
        image = _as_image(image)
        self._image = image
        adapt = adapt_channels and image.shape[0] != self._spec.in_channels
        reshaped = adapt and self._apply_spec(_with_in_channels(self._spec, image.shape[0]))
        self.edited.emit()
        self.image_changed.emit()
        if adapt:
            self.spec_changed.emit()
        if reshaped:
            self.kernel_changed.emit()
        self.changed.emit()

    def set_spec(self, spec: ConvSpec) -> None:
        if spec == self._spec:
            return
        reshaped = self._apply_spec(spec)
        self.edited.emit()
        self.spec_changed.emit()
        if reshaped:
            self.kernel_changed.emit()
        self.changed.emit()

    def _apply_spec(self, spec: ConvSpec) -> bool:
        """Take ``spec``, fitting the weight and bias to it; True when the weight's shape changed."""
        old_shape = self._weight.shape
        self._spec = spec
        shape = usable_weight_shape(spec, old_shape)
        if shape != old_shape:
            self._weight = fit_weight(self._weight, shape)
        if len(self._bias) != self._bias_len(spec):
            self._bias = fit_bias(self._bias, self._bias_len(spec))
        return shape != old_shape

    def set_weight(self, weight: np.ndarray) -> None:
        weight = np.array(weight, dtype=np.float64)
        if weight.shape != self._weight.shape:
            raise ValueError(f"weight shape {weight.shape} does not match {self._weight.shape}")
        self._weight = weight
        self.edited.emit()
        self.kernel_changed.emit()
        self.changed.emit()

    def set_bias(self, bias: np.ndarray) -> None:
        bias = np.array(bias, dtype=np.float64).ravel()
        if bias.shape != self._bias.shape:
            raise ValueError(f"bias length {bias.shape[0]} does not match {self._bias.shape[0]}")
        self._bias = bias
        self.edited.emit()
        self.kernel_changed.emit()
        self.changed.emit()

    def set_kernel(self, spec: ConvSpec, weight: np.ndarray, bias: np.ndarray | None = None) -> None:
        """Replace spec, weight and bias together (a preset, a loaded layer)."""
        weight = np.array(weight, dtype=np.float64)
        if weight.shape != spec.weight_shape:
            raise ValueError(f"weight shape {weight.shape} does not match the spec's {spec.weight_shape}")
        self._spec = spec
        self._weight = weight
        self._bias = fit_bias(None if bias is None else np.asarray(bias, float).ravel(), self._bias_len(spec))
        self.edited.emit()
        self.spec_changed.emit()
        self.kernel_changed.emit()
        self.changed.emit()

    def set_true_convolution(self, on: bool) -> None:
        on = bool(on)
        if on == self._true_convolution:
            return
        self._true_convolution = on
        self.edited.emit()
        self.kernel_changed.emit()
        self.changed.emit()

    # -- snapshots for undo ----------------------------------------------------------
    def snapshot(self) -> "SessionSnapshot":
        """The whole state; arrays are shared, not copied (setters always replace them)."""
        return SessionSnapshot(self._image, self._spec, self._weight, self._bias, self._true_convolution)

    def restore(self, snap: "SessionSnapshot") -> None:
        image_changed = snap.image is not self._image
        spec_changed = snap.spec != self._spec
        kernel_changed = (
            snap.weight is not self._weight
            or snap.bias is not self._bias
            or snap.true_convolution != self._true_convolution
        )
        self._image, self._spec, self._weight = snap.image, snap.spec, snap.weight
        self._bias, self._true_convolution = snap.bias, snap.true_convolution
        if not (image_changed or spec_changed or kernel_changed):
            return
        self.edited.emit()
        if image_changed:
            self.image_changed.emit()
        if spec_changed:
            self.spec_changed.emit()
        if kernel_changed:
            self.kernel_changed.emit()
        self.changed.emit()

    def effective_weight(self) -> np.ndarray:
        """The weight PyTorch is given: flipped in both spatial axes for true convolution."""
        return self._weight[..., ::-1, ::-1].copy() if self._true_convolution else self._weight


def _as_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3:
        raise ValueError(f"an image must be (H, W) or (C, H, W), not {image.shape}")
    return np.ascontiguousarray(image)


def _with_in_channels(spec: ConvSpec, c: int) -> ConvSpec:
    """The spec adapted to an input of ``c`` channels, keeping groups valid where it can."""
    groups = spec.groups if c % spec.groups == 0 and spec.out_channels % spec.groups == 0 else 1
    return spec.replace(in_channels=c, groups=groups)
