"""The convolution's settings, named as nn.Conv2d / nn.ConvTranspose2d name them.

This module holds the dataclass and the normalised accessors every other part reads.
Validation, output shapes and formula terms live beside it (see ``ConvSpec.output_shape``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Union

Pair = tuple[int, int]
IntOrPair = Union[int, tuple[int, int]]
PaddingArg = Union[int, tuple[int, int], str]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class ConvSpecError(ValueError):
    """An impossible combination of settings.

    ``field`` names the ConvSpec field at fault (or ``"input"`` for the input's shape),
    so a view can mark that control.
    """

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def _pair(value, field: str) -> Pair:
    """(h, w) from an int or a pair; ConvSpecError for anything else."""
    if isinstance(value, bool):
        raise ConvSpecError(f"{field} must be an int or a pair of ints, not {value!r}", field)
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        a, b = value
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b)):
            return (int(a), int(b))
    try:
        import numpy as np

        if isinstance(value, np.integer):
            return (int(value), int(value))
        if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, np.integer) for v in value
        ):
            return (int(value[0]), int(value[1]))
    except ImportError:  # pragma: no cover
        pass
    raise ConvSpecError(f"{field} must be an int or a pair of ints, not {value!r}", field)


@dataclass(frozen=True)
class ConvSpec:
    in_channels: int = 1
    out_channels: int = 1
    kernel_size: IntOrPair = 3
    stride: IntOrPair = 1
    padding: PaddingArg = 0
    dilation: IntOrPair = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: IntOrPair = 0

    # -- normalised views (raise ConvSpecError on malformed values) -----------------
    @property
    def kernel_hw(self) -> Pair:
        return _pair(self.kernel_size, "kernel_size")

    @property
    def stride_hw(self) -> Pair:
        return _pair(self.stride, "stride")

    @property
    def dilation_hw(self) -> Pair:
        return _pair(self.dilation, "dilation")

    @property
    def output_padding_hw(self) -> Pair:
        return _pair(self.output_padding, "output_padding")

    @property
    def dilated_kernel_hw(self) -> Pair:
        """The footprint of the kernel with dilation's gaps: d*(k-1)+1 per axis."""
        (kh, kw), (dh, dw) = self.kernel_hw, self.dilation_hw
        return (dh * (kh - 1) + 1, dw * (kw - 1) + 1)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """(out, in/groups, kh, kw); (in, out/groups, kh, kw) when transposed, as PyTorch stores it."""
        kh, kw = self.kernel_hw
        g = self.groups if isinstance(self.groups, int) and self.groups > 0 else 1
        if self.transposed:
            return (self.in_channels, self.out_channels // g, kh, kw)
        return (self.out_channels, self.in_channels // g, kh, kw)

    def pads(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) padding actually applied.

        'same' pads d*(k-1) in total per axis, the smaller half before (as PyTorch does:
        an even kernel pads 1 before and 2 after); 'valid' pads nothing.  For a transposed
        conv this is the padding argument itself (it trims the output instead).
        """
        if isinstance(self.padding, str):
            if self.padding == "valid":
                return (0, 0, 0, 0)
            if self.padding == "same":
                th, tw = (d * (k - 1) for d, k in zip(self.dilation_hw, self.kernel_hw))
                return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
            raise ConvSpecError(
                f"padding must be an int, a pair, 'same' or 'valid', not {self.padding!r}", "padding"
            )
        ph, pw = _pair(self.padding, "padding")
        return (ph, ph, pw, pw)

    def replace(self, **changes) -> "ConvSpec":
        return replace(self, **changes)
