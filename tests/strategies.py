"""hypothesis strategies shared by the test modules: random convolutions PyTorch accepts."""

from __future__ import annotations

import numpy as np
from hypothesis import reject
from hypothesis import strategies as st

from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError


def _hw(value) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def _int_or_pair(draw, low: int, high: int):
    """An int, or a pair that may differ per axis: PyTorch takes both."""
    a, b = draw(st.integers(low, high)), draw(st.integers(low, high))
    return a if a == b and draw(st.booleans()) else (a, b)


@st.composite
def conv_cases(draw, transposed: bool | None = None, max_extra: int = 6):
    """(spec, x, weight, bias) that output_shape accepts: random channels, groups,
    non-square kernels, stride, dilation, padding (incl. 'same'/'valid') and every mode."""
    if transposed is None:
        transposed = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 3))
    kernel = _int_or_pair(draw, 1, 4)
    stride = 1 if draw(st.booleans()) else _int_or_pair(draw, 1, 3)  # stride 1 allows 'same'
    dilation = _int_or_pair(draw, 1, 3)
    if transposed:
        padding_mode = "zeros"
        padding = _int_or_pair(draw, 0, 3)
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(_hw(stride), _hw(dilation)))
    else:
        padding_mode = draw(st.sampled_from(PADDING_MODES))
        choices = [st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)), st.just("valid")]
        if _hw(stride) == (1, 1):
            choices.append(st.just("same"))
        padding = draw(st.one_of(choices))
        output_padding = 0
    spec = ConvSpec(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=padding_mode,
        transposed=transposed,
        output_padding=output_padding,
    )
    # Start at the smallest input that can fit the dilated kernel, so few draws are rejected.
    reach_h, reach_w = (1, 1) if transposed else spec.dilated_kernel_hw
    h = draw(st.integers(max(1, reach_h - 2), reach_h + max_extra))
    w = draw(st.integers(max(1, reach_w - 2), reach_w + max_extra))
    try:
        spec.output_shape((in_channels, h, w))
    except ConvSpecError:
        reject()
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(in_channels, h, w))
    weight = rng.normal(size=spec.weight_shape)
    bias = rng.normal(size=out_channels) if spec.bias else None
    return spec, x, weight, bias
