"""PyTorch itself as the oracle, built from the user-level nn.Conv2d / nn.ConvTranspose2d
arguments that a ``ConvSpec`` carries, never from convplay's own helpers (``pads()``,
``stride_hw``, its padding-mode mapping): a bug there cannot pass these.

Every test that checks a value or a shape against PyTorch imports from here.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from convplay.core.spec import ConvSpec

# torch warns (once per process) that 'same' with an even kernel copies the input.
SAME_PADDING_WARNING = "ignore:Using padding='same' with even kernel lengths:UserWarning"


def torch_module(spec: ConvSpec, dtype: torch.dtype = torch.float64, *, bias: bool | None = None) -> torch.nn.Module:
    """``nn.Conv2d`` or ``nn.ConvTranspose2d`` with ``spec``'s arguments, as a user writes them."""
    common = dict(
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
        kernel_size=spec.kernel_size,
        stride=spec.stride,
        padding=spec.padding,
        dilation=spec.dilation,
        groups=spec.groups,
        bias=spec.bias if bias is None else bias,
        padding_mode=spec.padding_mode,
        dtype=dtype,
    )
    if spec.transposed:
        return torch.nn.ConvTranspose2d(output_padding=spec.output_padding, **common)
    return torch.nn.Conv2d(**common)


def torch_conv(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    spec: ConvSpec,
    *,
    flip: bool = False,
    dtype: torch.dtype = torch.float64,
) -> np.ndarray:
    """PyTorch's output (C_out, H_out, W_out) for one image ``x`` (C, H, W).

    ``bias`` None means bias=False, whatever the spec says.  ``flip`` turns the weight
    180° first: true convolution, as a user would do it with ``torch.flip``.
    """
    module = torch_module(spec, dtype, bias=bias is not None)
    w = _tensor(weight, dtype)
    if flip:
        w = torch.flip(w, dims=(2, 3))
    with torch.no_grad():
        module.weight.copy_(w)
        if bias is not None:
            module.bias.copy_(_tensor(bias, dtype))
        with warnings.catch_warnings():
            # torch's note that 'same' with an even kernel copies the input: not a finding.
            warnings.filterwarnings("ignore", "Using padding='same' with even kernel lengths", UserWarning)
            return module(_tensor(x, dtype)[None])[0].numpy()


def _tensor(array, dtype: torch.dtype) -> torch.Tensor:
    # A writeable float64 copy: convplay hands out read-only arrays, which from_numpy warns about.
    return torch.from_numpy(np.array(array, dtype=np.float64)).to(dtype)


def session_output(session, dtype: torch.dtype = torch.float64) -> np.ndarray:
    """PyTorch's output for what a ``Session`` holds (image, spec, weight, bias, flip)."""
    return torch_conv(
        session.image, session.weight, session.bias, session.spec, flip=session.true_convolution, dtype=dtype
    )


def torch_output_shape(spec: ConvSpec, input_shape) -> tuple[int, ...] | None:
    """The output shape PyTorch gives for one image, or None where it refuses."""
    try:
        with warnings.catch_warnings():
            # zero-size weights warn on initialisation; the run below decides.
            warnings.simplefilter("ignore")
            module = torch_module(spec)
            with torch.no_grad():
                out = module(torch.zeros((1, *input_shape), dtype=torch.float64))
    except Exception:  # any refusal by torch, whatever its type
        return None
    if out.numel() == 0:
        return None
    return tuple(out.shape[1:])
