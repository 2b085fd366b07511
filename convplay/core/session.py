"""What the user is working on: the input (its original and working size), the conv
settings, the kernel and bias.

The session owns the state and emits psygnal events; Qt views subscribe to them and call
the setters.  Nothing here knows about Qt or torch.

Every array the session hands out is read-only: snapshots (undo) share arrays with the
session instead of copying them, which is safe only because nobody can write into one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from convplay.core.image_io import MAX_WORKING_SIZE, MIN_WORKING_SIZE, to_channels
from convplay.core.kernel_recipe import KernelRecipe
from convplay.core.input_source import InputSource, as_image, frozen, sealed
from convplay.core.kernel_edits import fit_note, fit_rescales, fit_weight, turned_direction, usable_weight_shape
from convplay.core.spec import ConvSpec


def fit_bias(bias: np.ndarray | None, n: int) -> np.ndarray:
    out = np.zeros(max(0, n), dtype=np.float64)
    if bias is not None:
        m = min(len(bias), len(out))
        out[:m] = bias[:m]
    return out


@dataclass(frozen=True, eq=False)
class SessionSnapshot:
    image: np.ndarray
    source: InputSource | None  # None: the image is its own original (edited pixels)
    channels: int | None  # the channel count asked for, None: the source's own
    working_size: int
    spec: ConvSpec
    weight: np.ndarray
    bias: np.ndarray
    true_convolution: bool
    kernel_name: str = ""
    kernel_note: str = ""
    kernel_recipe: KernelRecipe | None = None  # the parameters the weights were made from

    def same_as(self, other: "SessionSnapshot") -> bool:
        """True when nothing changed (arrays compared by identity: setters replace them)."""
        return (
            self.image is other.image
            and self.source is other.source
            and self.channels == other.channels
            and self.working_size == other.working_size
            and self.spec == other.spec
            and self.weight is other.weight
            and self.bias is other.bias
            and self.true_convolution == other.true_convolution
            and self.kernel_name == other.kernel_name
            and self.kernel_note == other.kernel_note
            and self.kernel_recipe == other.kernel_recipe
        )


class Session:
    """The one model every panel reads.

    ``image`` is (C, H, W) float64, made from ``source`` at ``working_size`` (unless it
    keeps its own size, as the tutorial matrices do), then converted to the channel count
    asked for.  ``weight`` has ``usable_weight_shape(spec, ...)``: the spec's weight shape,
    except for the parts a refused spec does not define (groups that do not divide the
    channels), which keep the kernel's.  ``bias`` has one value per output channel and is
    used only when ``spec.bias`` is true.  ``true_convolution`` flips the kernel (PyTorch
    itself computes cross-correlation).  ``kernel_name`` says what the kernel is ("Sobel x",
    "Sobel x, edited", "model.pth conv1.weight", "" for none in particular) and
    ``kernel_note`` what the last fill or channel change put where; both follow undo.
    ``kernel_recipe`` is the family and parameters the weights were made from (the kernel
    workbench's), kept until anything else changes the weights: then they are detached
    from it and it is None.
    """

    # Every change emits ``edited`` first, once the whole new state is in place, then the
    # specific events, then ``changed``.  ``edited`` is for work that must start before any
    # view follows the edit: the window hands the new settings to PyTorch on it, so the
    # convolution runs while the panels redraw.  ``image_changed`` covers the whole input:
    # its pixels, its source, its channel count and the working size.
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
        *,
        working_size: int | None = None,
        source: InputSource | None = None,
        kernel_name: str = "",
        kernel_note: str = "",
        kernel_recipe: KernelRecipe | None = None,
    ):
        self._image = frozen(np.zeros((1, 8, 8)) if image is None else as_image(image))
        long_side = max(self._image.shape[1:])
        if working_size is None:
            working_size = min(max(long_side, MIN_WORKING_SIZE), MAX_WORKING_SIZE)
        self._working_size = _checked_working_size(working_size)
        self._source = source
        self._channels: int | None = None
        self._spec = spec or ConvSpec(in_channels=self._image.shape[0])
        given = None if weight is None else np.asarray(weight, dtype=np.float64)
        fallback = given.shape if given is not None else (1, 1, 1, 1)
        shape = usable_weight_shape(self._spec, fallback)
        if given is not None and given.shape != shape:
            raise ValueError(f"weight shape {given.shape} does not match the spec's {shape}")
        self._weight = frozen(given) if given is not None else sealed(fit_weight(None, shape))
        n_bias = self._bias_len(self._spec, 1)
        self._bias = sealed(fit_bias(None if bias is None else np.asarray(bias, float).ravel(), n_bias))
        self._true_convolution = False
        self._kernel_name = str(kernel_name)
        self._kernel_note = str(kernel_note)
        self._kernel_recipe = kernel_recipe

    @staticmethod
    def _bias_len(spec: ConvSpec, fallback: int) -> int:
        n = spec.out_channels
        return int(n) if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 else fallback

    # -- state ------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        return self._image

    @property
    def source(self) -> InputSource | None:
        """What the input is made from; None while the image is its own original (after
        drawing, typing a value, fill, invert: those pixels are what a resize starts from)."""
        return self._source

    @property
    def working_size(self) -> int:
        """The long side, in pixels, that opened images and samples are made at."""
        return self._working_size

    @property
    def keeps_own_size(self) -> bool:
        """True when the image is not at the working size: a tutorial matrix (or an image
        set as it is) keeps its own size until the working size is changed."""
        return max(self._image.shape[1:]) != self._working_size

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

    @property
    def kernel_name(self) -> str:
        """What the kernel is: a preset's name, ", edited" after a change, a file's tensor."""
        return self._kernel_name

    @property
    def kernel_note(self) -> str:
        """What the last preset, load or channel change put where, in words ("" if nothing to say)."""
        return self._kernel_note

    @property
    def kernel_recipe(self) -> KernelRecipe | None:
        """The parameters the weights were made from, None once they were edited otherwise."""
        return self._kernel_recipe

    # -- the input ----------------------------------------------------------------
    def set_image(self, image: np.ndarray, *, adapt_channels: bool = True) -> None:
        """New pixels (a drawing, a typed value, fill, invert): they become the original
        that later resizes start from.  An image of another channel count changes
        in_channels (unless ``adapt_channels`` is False)."""
        self._set_input(frozen(as_image(image)), None, None, self._working_size, adapt_channels)

    def set_source(self, source: InputSource) -> None:
        """Open a file or a sample: the image is made from it at the working size (a
        fixed-size sample at its own size), in the source's own channels."""
        image = source.own() if source.fixed_size else source.at(self._working_size)
        self._set_input(frozen(image), source, None, self._working_size)

    def set_working_size(self, long_side: int) -> None:
        """Resample the input from its original so that its long side is ``long_side``.

        ValueError outside MIN_WORKING_SIZE..MAX_WORKING_SIZE; ImageLoadError if a
        bundled photo can no longer be read.
        """
        long_side = _checked_working_size(long_side)
        if long_side == self._working_size and not self.keeps_own_size:
            return
        source = self._source or InputSource.from_array(self._image)
        image = _converted(source.at(long_side), self._channels)
        self._set_input(frozen(image), source, self._channels, long_side)

    def set_channels(self, channels: int) -> None:
        """The input as 1 (grayscale) or 3 (RGB) channels, converted from its original (a
        colour photo made gray and then RGB again has its colours back); in_channels follows."""
        if channels not in (1, 3):
            raise ValueError(f"the input has 1 (grayscale) or 3 (RGB) channels, not {channels}")
        if channels == self._image.shape[0]:
            return
        source = self._source or InputSource.from_array(self._image)
        base = source.own() if self.keeps_own_size else source.at(self._working_size)
        wanted = None if channels == base.shape[0] else channels
        self._set_input(frozen(_converted(base, wanted)), source, wanted, self._working_size)

    def _set_input(
        self,
        image: np.ndarray,
        source: InputSource | None,
        channels: int | None,
        working_size: int,
        adapt_channels: bool = True,
    ) -> None:
        self._image, self._source, self._channels = image, source, channels
        self._working_size = working_size
        adapt = adapt_channels and image.shape[0] != self._spec.in_channels
        reshaped = adapt and self._apply_spec(_with_in_channels(self._spec, image.shape[0]))
        self.edited.emit()
        self.image_changed.emit()
        if adapt:
            self.spec_changed.emit()
        if reshaped:
            self.kernel_changed.emit()
        self.changed.emit()

    # -- settings and kernel ------------------------------------------------------------
    def set_spec(self, spec: ConvSpec) -> None:
        """New settings; the kernel is fitted to them (resized around its centre, channels
        added as zeros or dropped), as far as they define its shape."""
        if spec == self._spec:
            return
        reshaped = self._apply_spec(spec)
        self.edited.emit()
        self.spec_changed.emit()
        if reshaped:
            self.kernel_changed.emit()
        self.changed.emit()

    def _apply_spec(self, spec: ConvSpec) -> bool:
        """Take ``spec``, fitting the weight and bias to it; True when the weight changed shape
        (a conv turned transposed, or back, keeps its filters between the same channels)."""
        turned = turned_direction(self._weight, self._spec, spec)
        if turned is not None:  # the same filters, between the same channels
            self._weight = sealed(turned)
        old_shape = self._weight.shape
        self._spec = spec
        shape = usable_weight_shape(spec, old_shape)
        if shape != old_shape:
            transposed = bool(spec.transposed)
            rescaled = fit_rescales(self._weight, shape, transposed)
            self._kernel_recipe = None  # the recipe made the old shape's weights
            if shape[2:] != old_shape[2:]:
                self._kernel_name = edited_name(self._kernel_name)
            if shape[:2] != old_shape[:2]:
                self._kernel_note = fit_note(old_shape, shape, transposed, rescaled)
            self._weight = sealed(fit_weight(self._weight, shape, transposed))
        n_bias = self._bias_len(spec, len(self._bias))
        if len(self._bias) != n_bias:
            self._bias = sealed(fit_bias(self._bias, n_bias))
        return turned is not None or shape != old_shape

    def set_weight(
        self, weight: np.ndarray, *, name: str | None = None, note: str = "", recipe: KernelRecipe | None = None
    ) -> None:
        """New weights of the same shape; the kernel's name gains ", edited" unless ``name``
        is given, and they are detached from any recipe unless ``recipe`` made them."""
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape != self._weight.shape:
            raise ValueError(f"weight shape {weight.shape} does not match {self._weight.shape}")
        self._weight = frozen(weight)
        self._kernel_name = edited_name(self._kernel_name) if name is None else str(name)
        self._kernel_note = str(note)
        self._kernel_recipe = recipe
        self.edited.emit()
        self.kernel_changed.emit()
        self.changed.emit()

    def set_bias(self, bias: np.ndarray) -> None:
        bias = np.asarray(bias, dtype=np.float64).ravel()
        if bias.shape != self._bias.shape:
            raise ValueError(f"bias length {bias.shape[0]} does not match {self._bias.shape[0]}")
        self._bias = frozen(bias)
        self.edited.emit()
        self.kernel_changed.emit()
        self.changed.emit()

    def set_kernel(
        self,
        spec: ConvSpec,
        weight: np.ndarray,
        bias: np.ndarray | None = None,
        *,
        name: str = "",
        note: str = "",
        recipe: KernelRecipe | None = None,
    ) -> None:
        """Replace spec, weight and bias together (a preset, a loaded layer, a random draw),
        named ``name`` ("Sobel x", "from model.pth"; "" for nothing in particular).

        ``weight`` must have the spec's weight shape; where a refused spec does not define
        a part of it (groups that do not divide the channels), the weight's own is taken.
        """
        weight = np.asarray(weight, dtype=np.float64)
        expected = usable_weight_shape(spec, weight.shape)
        if weight.shape != expected:
            raise ValueError(f"weight shape {weight.shape} does not match the spec's {expected}")
        n_bias = self._bias_len(spec, len(self._bias))
        self._spec = spec
        self._weight = frozen(weight)
        self._bias = sealed(fit_bias(None if bias is None else np.asarray(bias, float).ravel(), n_bias))
        self._kernel_name, self._kernel_note = str(name), str(note)
        self._kernel_recipe = recipe
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
    def snapshot(self) -> SessionSnapshot:
        """The whole state; arrays are shared, not copied (they are read-only)."""
        return SessionSnapshot(
            self._image, self._source, self._channels, self._working_size,
            self._spec, self._weight, self._bias, self._true_convolution,
            self._kernel_name, self._kernel_note, self._kernel_recipe,
        )

    def restore(self, snap: SessionSnapshot) -> None:
        image_changed = (
            snap.image is not self._image
            or snap.source is not self._source
            or snap.channels != self._channels
            or snap.working_size != self._working_size
        )
        spec_changed = snap.spec != self._spec
        kernel_changed = (
            snap.weight is not self._weight
            or snap.bias is not self._bias
            or snap.true_convolution != self._true_convolution
            or snap.kernel_name != self._kernel_name
            or snap.kernel_note != self._kernel_note
            or snap.kernel_recipe != self._kernel_recipe
        )
        self._image, self._source, self._channels = snap.image, snap.source, snap.channels
        self._working_size, self._spec, self._weight = snap.working_size, snap.spec, snap.weight
        self._bias, self._true_convolution = snap.bias, snap.true_convolution
        self._kernel_name, self._kernel_note = snap.kernel_name, snap.kernel_note
        self._kernel_recipe = snap.kernel_recipe
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


def edited_name(name: str) -> str:
    """The name of a kernel after a change by hand: "Sobel x" -> "Sobel x, edited"."""
    if not name or name.endswith(EDITED):
        return name
    return name + EDITED


EDITED = ", edited"


def _checked_working_size(long_side) -> int:
    if isinstance(long_side, bool) or not isinstance(long_side, (int, np.integer)):
        raise ValueError(f"the working size is a whole number of pixels, not {long_side!r}")
    if not MIN_WORKING_SIZE <= long_side <= MAX_WORKING_SIZE:
        raise ValueError(
            f"the working size must be between {MIN_WORKING_SIZE} and {MAX_WORKING_SIZE} px, not {long_side}"
        )
    return int(long_side)


def _converted(image: np.ndarray, channels: int | None) -> np.ndarray:
    if channels is None or channels == image.shape[0]:
        return image
    return sealed(np.ascontiguousarray(to_channels(image, channels)))


def _with_in_channels(spec: ConvSpec, c: int) -> ConvSpec:
    """The spec adapted to an input of ``c`` channels, keeping groups valid where it can."""
    groups = spec.groups
    if not (isinstance(groups, int) and groups >= 1 and c % groups == 0 and spec.out_channels % groups == 0):
        groups = 1
    return spec.replace(in_channels=c, groups=groups)
