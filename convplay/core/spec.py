"""The convolution's settings, named as nn.Conv2d / nn.ConvTranspose2d name them.

``ConvSpec`` holds the settings and everything that follows from them without running a
convolution: validation (the same refusals PyTorch makes, raised before anything runs),
output shapes, weight shape, parameter and multiply-accumulate counts, receptive field.
The output-size formula as renderable terms lives in ``convplay.core.formula``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Union

import numpy as np

Pair = tuple[int, int]
IntOrPair = Union[int, tuple[int, int]]
PaddingArg = Union[int, tuple[int, int], str]
Shape3 = tuple[int, int, int]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("same", "valid")
_AXES = ("height", "width")
_AXIS_SIZE = {"height": "high", "width": "wide"}


class ConvSpecError(ValueError):
    """An impossible combination of settings.

    ``field`` names the ConvSpec field at fault (or ``"input"`` for the input's shape),
    so a view can mark that control.
    """

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def _is_int(value) -> bool:
    # bool is an int subclass, but True as a kernel size is a mistake, not a 1.
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _pair(value, field: str) -> Pair:
    """(h, w) from an int or a pair; ConvSpecError for anything else."""
    if _is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise ConvSpecError(f"{field} must be an int or a pair of ints, not {value!r}", field)


def _positive_int(value, field: str) -> int:
    if not _is_int(value):
        raise ConvSpecError(f"{field} must be a whole number, not {value!r}", field)
    if value < 1:
        raise ConvSpecError(f"{field} must be at least 1, but got {value}", field)
    return int(value)


def _positive_pair(value, field: str) -> Pair:
    pair = _pair(value, field)
    if min(pair) < 1:
        raise ConvSpecError(f"{field} must be at least 1 on each axis, but got {_fmt(pair)}", field)
    return pair


def _non_negative_pair(value, field: str) -> Pair:
    pair = _pair(value, field)
    if min(pair) < 0:
        raise ConvSpecError(f"negative {field} is not supported, but got {_fmt(pair)}", field)
    return pair


def _fmt(pair: Pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def _input_shape(input_shape) -> Shape3:
    """(C, H, W) as ints; ConvSpecError(field='input') for anything else."""
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3
            and all(_is_int(v) for v in input_shape)):
        raise ConvSpecError(
            f"the input must have a shape (channels, height, width) of whole numbers, "
            f"not {input_shape!r}", "input")
    c, h, w = (int(v) for v in input_shape)
    if min(c, h, w) < 1:
        raise ConvSpecError(
            f"the input must have at least one channel, row and column, but its shape is "
            f"{c}×{h}×{w}", "input")
    return (c, h, w)


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
        """(out, in/groups, kh, kw); (in, out/groups, kh, kw) when transposed, as PyTorch stores it.

        ConvSpecError where there is none: channel counts or groups that are not positive
        whole numbers, or groups that do not divide both channel counts (in/groups would
        round down, even to 0, and PyTorch refuses to build such a layer).
        """
        kh, kw = self.kernel_hw
        c_in, c_out, g = self._channel_groups()
        if self.transposed:
            return (c_in, c_out // g, kh, kw)
        return (c_out, c_in // g, kh, kw)

    def _channel_groups(self) -> tuple[int, int, int]:
        """(in_channels, out_channels, groups), checked as PyTorch checks them."""
        c_in = _positive_int(self.in_channels, "in_channels")
        c_out = _positive_int(self.out_channels, "out_channels")
        groups = _positive_int(self.groups, "groups")
        if c_in % groups:
            fits = ", ".join(str(g) for g in range(1, c_in + 1) if c_in % g == 0)
            raise ConvSpecError(
                f"in_channels must be divisible by groups: {c_in} input channel{'s' if c_in != 1 else ''} "
                f"can't be split into {groups} groups (groups that fit: {fits})", "groups")
        if c_out % groups:
            raise ConvSpecError(
                f"out_channels must be divisible by groups: {c_out} output channel{'s' if c_out != 1 else ''} "
                f"can't be split into {groups} groups (out_channels {groups} gives one filter per group)", "groups")
        return c_in, c_out, groups

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

    # -- validation ------------------------------------------------------------------
    def validate(self, input_shape=None) -> None:
        """Raise ConvSpecError (with ``field`` set) if PyTorch would refuse these settings.

        Without ``input_shape`` only the checks that need no input run (what nn.Conv2d's
        constructor and the op's argument checks refuse); with it, also the checks against
        the input (channel count, kernel vs padded input, padding-mode limits, output size).
        """
        if input_shape is None:
            self._validate_settings()
        else:
            self.output_shape(input_shape)

    def is_valid(self, input_shape=None) -> bool:
        try:
            self.validate(input_shape)
        except ConvSpecError:
            return False
        return True

    def _validate_settings(self) -> None:
        if not isinstance(self.transposed, (bool, np.bool_)):
            raise ConvSpecError(f"transposed must be True or False, not {self.transposed!r}",
                                "transposed")
        if not isinstance(self.bias, (bool, np.bool_)):
            raise ConvSpecError(f"bias must be True or False, not {self.bias!r}", "bias")
        self._channel_groups()
        _positive_pair(self.kernel_size, "kernel_size")
        stride = _positive_pair(self.stride, "stride")
        dilation = _positive_pair(self.dilation, "dilation")
        if not isinstance(self.padding_mode, str) or self.padding_mode not in PADDING_MODES:
            raise ConvSpecError(
                f"padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                f"not {self.padding_mode!r}", "padding_mode")
        if isinstance(self.padding, str):
            if self.padding not in PADDING_STRINGS:
                raise ConvSpecError(
                    f"padding must be an int, a pair, 'same' or 'valid', not {self.padding!r}",
                    "padding")
            if self.padding == "same" and stride != (1, 1):
                raise ConvSpecError(
                    f"padding='same' is not supported for strided convolutions "
                    f"(stride is {_fmt(stride)}): use stride 1 or a number for padding",
                    "padding")
        else:
            pair = _pair(self.padding, "padding")
            if min(pair) < 0 and self.padding_mode != "zeros" and not self.transposed:
                # PyTorch takes this: F.pad crops by a negative pad.  A crop is not padding,
                # and every view (formula, window, pad cells) would show cells that are not
                # there, so convplay says what PyTorch would do and asks for a crop instead.
                crop = _fmt((max(-pair[0], 0), max(-pair[1], 0)))
                raise ConvSpecError(
                    f"negative padding is not supported, but got {_fmt(pair)}: with padding_mode="
                    f"'{self.padding_mode}' PyTorch would crop {crop} from each side of the input before "
                    "convolving; crop the image instead (a smaller working size) and use padding 0",
                    "padding")
            _non_negative_pair(self.padding, "padding")
        if self.transposed:
            self._validate_transposed_settings(stride, dilation)

    def _validate_transposed_settings(self, stride: Pair, dilation: Pair) -> None:
        if self.padding_mode != "zeros":
            raise ConvSpecError(
                f"only 'zeros' padding mode is supported for a transposed convolution, "
                f"not {self.padding_mode!r}", "padding_mode")
        if isinstance(self.padding, str):
            raise ConvSpecError(
                f"a transposed convolution takes a number for padding, not {self.padding!r}",
                "padding")
        out_pad = _non_negative_pair(self.output_padding, "output_padding")
        for axis, op, s, d in zip(_AXES, out_pad, stride, dilation):
            if op >= s and op >= d:
                raise ConvSpecError(
                    f"output_padding must be smaller than either stride or dilation, but on "
                    f"the {axis} axis output_padding is {op}, stride {s} and dilation {d}",
                    "output_padding")

    # -- shapes ------------------------------------------------------------------------
    def output_shape(self, input_shape) -> Shape3:
        """(C_out, H_out, W_out) for one (C, H, W) input, or ConvSpecError where PyTorch refuses."""
        self._validate_settings()
        c, h, w = _input_shape(input_shape)
        if c != self.in_channels:
            raise ConvSpecError(
                f"the input has {c} channel{'s' if c != 1 else ''} but in_channels is "
                f"{self.in_channels}", "input")
        return (int(self.out_channels), self._axis_size(0, h), self._axis_size(1, w))

    def axis_output_size(self, axis: int, size: int) -> int:
        """The output size on one axis (0 = height, 1 = width) for an input ``size`` long.

        Raises ConvSpecError for settings PyTorch refuses and for what is impossible on
        this axis alone (padding limits, kernel larger than the padded input, output
        size below 1); the channel count is not checked here.
        """
        self._validate_settings()
        if axis not in (0, 1):
            raise ConvSpecError(f"axis must be 0 (height) or 1 (width), not {axis!r}", "input")
        if not _is_int(size) or size < 1:
            raise ConvSpecError(
                f"the input must be at least 1 pixel {_AXIS_SIZE[_AXES[axis]]}, not {size!r}",
                "input")
        return self._axis_size(axis, int(size))

    def _axis_size(self, axis: int, n: int) -> int:
        name = _AXES[axis]
        k, s, d = self.kernel_hw[axis], self.stride_hw[axis], self.dilation_hw[axis]
        before, after = self.pads()[2 * axis: 2 * axis + 2]
        if self.transposed:
            out = (n - 1) * s - 2 * before + d * (k - 1) + self.output_padding_hw[axis] + 1
            if out < 1:
                raise ConvSpecError(
                    f"output size is too small: on the {name} axis this transposed "
                    f"convolution would give {out}; reduce the padding", "padding")
            return out
        pad = max(before, after)
        if self.padding_mode == "reflect" and pad >= n:
            raise ConvSpecError(
                f"reflect padding must be smaller than the input: padding {pad} on the "
                f"{name} axis, but the input is only {n} pixel{'s' if n != 1 else ''} "
                f"{_AXIS_SIZE[name]}", "padding")
        if self.padding_mode == "circular" and pad > n:
            raise ConvSpecError(
                f"circular padding may wrap around at most once: padding {pad} on the "
                f"{name} axis, but the input is only {n} pixel{'s' if n != 1 else ''} "
                f"{_AXIS_SIZE[name]}", "padding")
        padded, reach = n + before + after, d * (k - 1) + 1
        if padded < reach:
            if k <= padded:  # the kernel alone fits: the dilation the user set spreads it too far
                fits = (padded - 1) // (k - 1)
                raise ConvSpecError(
                    f"the dilated kernel can't be greater than the padded input: on the {name} axis "
                    f"the kernel dilated by {d} spans {reach} pixels but the padded input is only "
                    f"{padded}; a dilation of at most {fits} fits", "dilation")
            what = "kernel" if d == 1 else f"kernel dilated by {d}"
            raise ConvSpecError(
                f"kernel size can't be greater than the padded input: on the {name} axis "
                f"the {what} spans {reach} pixels but the padded input is only {padded}",
                "kernel_size")
        return (padded - reach) // s + 1

    # -- counts ------------------------------------------------------------------------
    def param_count(self, with_bias: bool | None = None) -> int:
        """Learnable parameters: the weight, plus one bias per output channel.

        ``with_bias=None`` counts the bias as ``spec.bias`` says.
        """
        self._validate_settings()
        bias = self.bias if with_bias is None else with_bias
        return math.prod(self.weight_shape) + (int(self.out_channels) if bias else 0)

    def macs(self, input_shape) -> int:
        """Multiply-accumulates for one image, counting taps that fall on padding too.

        Convolution: every output value takes (in/groups)·kh·kw products.  Transposed: every
        input value is stamped by (out/groups)·kh·kw products (taps cut off by padding
        included), the usual convention of FLOP counters.
        """
        c_out, h_out, w_out = self.output_shape(input_shape)
        kh, kw = self.kernel_hw
        if self.transposed:
            c, h, w = _input_shape(input_shape)
            return c * h * w * (c_out // self.groups) * kh * kw
        return c_out * h_out * w_out * (self.in_channels // self.groups) * kh * kw

    def fc_param_count(self, input_shape, out_features: int | None = None,
                       with_bias: bool | None = None) -> int:
        """Parameters of a fully connected layer over the flattened input.

        By default it maps the same input to the same number of outputs as this conv
        (C_out·H_out·W_out); ``out_features`` sets another output size (seed 000 compares
        224×224×3 inputs to 64 neurons).  ``with_bias=None`` follows ``spec.bias``.
        """
        out_shape = self.output_shape(input_shape)
        n_out = math.prod(out_shape) if out_features is None else _positive_int(
            out_features, "out_features")
        bias = self.bias if with_bias is None else with_bias
        return math.prod(_input_shape(input_shape)) * n_out + (n_out if bias else 0)

    @property
    def receptive_field(self) -> Pair:
        """(h, w): the span of input pixels one output pixel can depend on.

        Convolution: the dilated kernel, d·(k−1)+1 per axis (gaps included).  Transposed:
        an output pixel gathers from the input pixels whose stamps reach it, the taps k
        whose offsets k·d agree modulo the stride; the widest such set spans
        m·d/s + 1 pixels, m the largest multiple of s/gcd(s, d) not above k−1.  With
        stride 1 both agree.
        """
        self._validate_settings()
        if not self.transposed:
            return self.dilated_kernel_hw
        spans = []
        for k, s, d in zip(self.kernel_hw, self.stride_hw, self.dilation_hw):
            step = s // math.gcd(s, d)
            m = (k - 1) // step * step
            spans.append(m * d // s + 1)
        return (spans[0], spans[1])

