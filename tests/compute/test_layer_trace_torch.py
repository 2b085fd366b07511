"""core.layer_trace against PyTorch on random stacks.

Each stack is drawn as PyTorch constructor calls (kind and keyword arguments) and built
twice from the same arguments: as torch modules with ``getattr(nn, kind)(**kwargs)``
(never with convplay's build_model) and as convplay Layers.  Torch runs a batch of one
through its modules; the trace must give every layer's output shape torch gives, fail at
exactly the first layer torch refuses, and count the parameters torch holds (a module used
twice counted once).  Some stacks are drawn wrong on purpose (channels, features, kernels
and paddings that do not fit).  The receptive field is checked by the gradient-support
method: for convolutions and average pools with positive weights on an all-ones input, the
input pixels an output pixel's gradient reaches are the receptive box, padding clipped.
"""

from __future__ import annotations

import math
import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from convplay.core.layer_trace import receptive_box, trace
from convplay.core.layers import Layer, LayerError, Stack

EXAMPLES = int(os.environ.get("TRACE_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])



@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Hundreds of tiny tensors: one thread is faster than waking a pool for each."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


MAPS_KINDS = ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool2d",
              "BatchNorm2d")
ANY_KINDS = ("ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Dropout", "Flatten", "Linear")


def int_or_pair(low: int, high: int):
    return st.one_of(st.integers(low, high), st.tuples(st.integers(low, high), st.integers(low, high)))


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def _run(module: nn.Module, shape):
    """The output shape (batch left out) of ``module`` on a batch of one, or None when torch refuses."""
    try:
        with torch.no_grad():
            return tuple(module.eval()(torch.zeros((1, *shape))).shape[1:])
    except Exception:  # noqa: BLE001 - any refusal of torch's
        return None


def _off(draw, wrong: bool, value: int) -> int:
    return value + draw(st.integers(1, 3)) if wrong else value


def _groups(draw, c_in: int) -> int:
    return draw(st.sampled_from([g for g in range(1, c_in + 1) if c_in % g == 0])) if draw(st.booleans()) else 1


def _layer_kwargs(draw, kind: str, shape, wrong: bool) -> dict:
    """Constructor arguments for ``kind`` fitting ``shape`` (C, H, W) or (F,) — or, when
    ``wrong``, most likely not."""
    c = shape[0] if shape is not None and len(shape) == 3 else draw(st.integers(1, 4))
    last = shape[-1] if shape is not None else draw(st.integers(1, 30))
    if kind == "Conv2d":
        c_in = _off(draw, wrong, c)
        groups = _groups(draw, c_in)
        kwargs = dict(in_channels=c_in, out_channels=groups * draw(st.integers(1, 3)),
                      kernel_size=draw(int_or_pair(1, 7 if wrong else 4)),
                      stride=draw(int_or_pair(1, 3)), dilation=draw(int_or_pair(1, 2)), groups=groups,
                      bias=draw(st.booleans()),
                      padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])))
        padding = draw(st.one_of(int_or_pair(0, 3), st.sampled_from(["same", "valid"])))
        if padding == "same" and _pair(kwargs["stride"]) != (1, 1) and not wrong:
            padding = 1
        kwargs["padding"] = padding
        return kwargs
    if kind == "ConvTranspose2d":
        c_in = _off(draw, wrong, c)
        groups = _groups(draw, c_in)
        stride, dilation = draw(int_or_pair(1, 3)), draw(int_or_pair(1, 2))
        top = 2 if wrong else max(min(_pair(stride)[0], _pair(dilation)[0]), max(_pair(stride)[0], _pair(dilation)[0])) - 1
        return dict(in_channels=c_in, out_channels=groups * draw(st.integers(1, 3)), kernel_size=draw(int_or_pair(1, 4)),
                    stride=stride, padding=draw(int_or_pair(0, 2)), output_padding=draw(st.integers(0, max(top, 0))),
                    groups=groups, bias=draw(st.booleans()), dilation=dilation)
    if kind in ("MaxPool2d", "AvgPool2d"):
        k = draw(int_or_pair(1, 6 if wrong else 4))
        half = min(_pair(k)) // 2
        kwargs = dict(kernel_size=k, stride=draw(st.one_of(st.none(), int_or_pair(1, 3))),
                      padding=draw(st.integers(0, half + 1 if wrong else half)), ceil_mode=draw(st.booleans()))
        if kind == "MaxPool2d":
            kwargs["dilation"] = draw(int_or_pair(1, 2))
        else:
            kwargs["count_include_pad"] = draw(st.booleans())
            kwargs["divisor_override"] = draw(st.one_of(st.none(), st.integers(1, 5)))
        return kwargs
    if kind in ("AdaptiveMaxPool2d", "AdaptiveAvgPool2d"):
        size = st.one_of(st.integers(1, 6), st.tuples(st.one_of(st.none(), st.integers(1, 6)),
                                                        st.one_of(st.none(), st.integers(1, 6))))
        return dict(output_size=draw(size))
    if kind == "BatchNorm2d":
        return dict(num_features=_off(draw, wrong, c), affine=draw(st.booleans()))
    if kind == "LeakyReLU":
        return dict(negative_slope=draw(st.floats(-1, 1, allow_nan=False)))
    if kind == "GELU":
        return dict(approximate=draw(st.sampled_from(["none", "tanh"])))
    if kind == "Dropout":
        return dict(p=draw(st.floats(0, 1)))
    if kind == "Flatten":
        # The forms that flatten every axis after the batch; Flatten(2) would leave a 3-D
        # tensor that torch's conv reads as an unbatched image, a different question.
        return draw(st.sampled_from([{}, {"start_dim": 1}, {"start_dim": 1, "end_dim": -1}, {"end_dim": 3}]))
    if kind == "Linear":
        return dict(in_features=_off(draw, wrong, last), out_features=draw(st.integers(1, 12)), bias=draw(st.booleans()))
    return {}


@st.composite
def random_stacks(draw):
    """(input_shape, specs): specs are (name, kind, kwargs); a name seen before is the
    same module used again."""
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 16)), draw(st.integers(1, 16)))
    input_shape = shape
    specs: list[tuple[str, str, dict]] = []
    for i in range(draw(st.integers(1, 7))):
        wrong = draw(st.integers(0, 7)) == 0
        if specs and draw(st.integers(0, 9)) == 0:
            spec = draw(st.sampled_from(specs))  # the same module again
        else:
            maps = shape is None or len(shape) == 3
            kind = draw(st.sampled_from(MAPS_KINDS + ANY_KINDS if maps or wrong else ANY_KINDS))
            spec = (f"layer{i}", kind, _layer_kwargs(draw, kind, shape, wrong))
        specs.append(spec)
        if shape is not None:
            try:
                shape = _run(getattr(nn, spec[1])(**spec[2]), shape)
            except Exception:  # noqa: BLE001 - the constructor refused: the stack ends here
                break
    return input_shape, specs


def _build(specs):
    """(torch modules, convplay layers), one module per name; stops at the first layer
    whose constructor torch refuses, after checking convplay's Layer refuses it too."""
    modules, layers, made = [], [], {}
    for name, kind, kwargs in specs:
        if name in made:
            module, layer = made[name]
        else:
            try:
                module = getattr(nn, kind)(**kwargs)
            except Exception as exc:  # noqa: BLE001
                with pytest.raises(LayerError):
                    Layer.make(kind, name=name, **kwargs)
                return modules, layers, str(exc)
            layer = Layer.make(kind, name=name, **kwargs)  # torch built it: so must convplay
            made[name] = module, layer
        modules.append(module.eval())
        layers.append(layer)
    return modules, layers, ""


@SETTINGS
@given(random_stacks())
def test_every_shape_the_failure_and_the_parameters_are_torch_s(case):
    input_shape, specs = case
    modules, layers, _ = _build(specs)
    traced = trace(Stack(tuple(layers)), input_shape)
    assert len(traced.rows) == len(modules)

    x, torch_shapes, torch_failed, torch_error = torch.zeros((1, *input_shape)), [], None, ""
    with torch.no_grad():
        for index, module in enumerate(modules):
            if isinstance(module, nn.AdaptiveAvgPool2d) and x.ndim == 2:
                # torch takes a (batch, features) tensor as one unbatched H×W map and pools
                # across the batch; convplay refuses it as the other pools are refused
                # (pooling after a Flatten is never what the code meant).
                torch_failed, torch_error = index, "adaptive average pooling of a vector"
                break
            try:
                x = module(x)
            except Exception as exc:  # noqa: BLE001 - torch refuses with many types
                torch_failed, torch_error = index, str(exc).splitlines()[0]
                break
            if x.numel() == 0:
                # A transposed convolution whose output is 0 pixels on an axis: torch
                # returns an empty tensor, convplay refuses it as its single-layer spec does
                # (an empty feature map is never what the code meant).
                torch_failed, torch_error = index, f"an empty output {tuple(x.shape)}"
                break
            torch_shapes.append(tuple(x.shape[1:]))

    rows = traced.rows
    assert traced.failed == torch_failed, (
        f"torch {'refused layer ' + str(torch_failed) + ': ' + torch_error if torch_failed is not None else 'ran it all'}"
        f"; the trace {'refused layer ' + str(traced.failed) + ': ' + traced.error if traced.failed is not None else 'did not'}"
    )
    assert [row.output_shape for row in rows[:len(torch_shapes)]] == torch_shapes
    if torch_failed is not None:
        failing = rows[torch_failed]
        assert failing.output_shape is None and failing.error and traced.error.startswith(failing.layer.label)
        assert failing.input_shape == (torch_shapes[-1] if torch_shapes else tuple(input_shape))
        assert all(row.output_shape is None and row.input_shape is None for row in rows[torch_failed + 1:])
        assert traced.output_shape is None
    else:
        assert traced.error == "" and traced.output_shape == (torch_shapes[-1] if torch_shapes else input_shape)

    # parameters: nn.ModuleList counts a module listed twice once, as the model would
    assert traced.total_params == sum(p.numel() for p in nn.ModuleList(modules).parameters())
    seen = set()
    for row, module in zip(rows, modules):
        first = id(module) not in seen
        seen.add(id(module))
        assert row.params == (sum(p.numel() for p in module.parameters()) if first else 0)


def test_a_module_used_again_after_its_failing_first_use_counts_once():
    """Found by the random stacks: the failing row used to forget the module's name."""
    module = nn.Conv2d(2, 1, 1, bias=False)
    layer = Layer.make("Conv2d", 2, 1, 1, bias=False, name="conv")
    traced = trace(Stack((layer, layer)), (1, 1, 1))  # 1 channel where the conv expects 2
    assert traced.failed == 0
    assert traced.total_params == sum(p.numel() for p in nn.ModuleList([module, module]).parameters()) == 2
    assert [row.params for row in traced.rows] == [2, 0]


# -- the receptive field, by the gradient's support ------------------------------------------

@st.composite
def conv_pool_stacks(draw):
    """Convolutions (zero padding) and average pools PyTorch runs on the drawn input."""
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 20)), draw(st.integers(1, 20)))
    input_shape, specs, current = shape, [], shape
    for i in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            groups = _groups(draw, current[0])
            kwargs = dict(in_channels=current[0], out_channels=groups * draw(st.integers(1, 2)),
                          kernel_size=draw(int_or_pair(1, 4)), stride=draw(int_or_pair(1, 3)),
                          padding=draw(int_or_pair(0, 3)), dilation=draw(int_or_pair(1, 2)), groups=groups)
            spec = (f"conv{i}", "Conv2d", kwargs)
        else:
            k = draw(int_or_pair(1, 3))
            kwargs = dict(kernel_size=k, stride=draw(st.one_of(st.none(), int_or_pair(1, 3))),
                          padding=draw(st.integers(0, min(_pair(k)) // 2)), ceil_mode=draw(st.booleans()),
                          count_include_pad=draw(st.booleans()))
            spec = (f"pool{i}", "AvgPool2d", kwargs)
        out = _run(getattr(nn, spec[1])(**spec[2]), current)
        if out is None:
            break
        specs.append(spec)
        current = out
    return input_shape, specs, current


def _contiguous(specs) -> bool:
    """Whether every layer's windows leave no gaps (dilation 1, kernel at least the stride)."""
    for _, _, kwargs in specs:
        k, s = _pair(kwargs["kernel_size"]), _pair(kwargs.get("stride") or kwargs["kernel_size"])
        if _pair(kwargs.get("dilation", 1)) != (1, 1) or k[0] < s[0] or k[1] < s[1]:
            return False
    return True


def _positive(specs):
    modules = []
    for _, kind, kwargs in specs:
        module = getattr(nn, kind)(**kwargs).double()
        if kind == "Conv2d":
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)  # positive: no two paths cancel
                module.bias.zero_()
        modules.append(module)
    return modules


def _gradient_support(modules, input_shape, c: int, oh: int, ow: int):
    """The input rows and columns the gradient of output pixel (c, oh, ow) reaches, and
    the map of the pixels it reaches."""
    x = torch.ones((1, *input_shape), dtype=torch.float64, requires_grad=True)
    nn.Sequential(*modules)(x)[0, c, oh, ow].backward()
    reached = (x.grad[0] != 0).any(dim=0)
    rows = torch.nonzero(reached.any(dim=1)).flatten().tolist()
    cols = torch.nonzero(reached.any(dim=0)).flatten().tolist()
    return rows, cols, reached


@SETTINGS
@given(conv_pool_stacks(), st.data())
def test_the_receptive_box_is_where_the_gradient_reaches(case, data):
    input_shape, specs, out_shape = case
    if not specs:
        return
    modules = _positive(specs)
    layers = [Layer.make(kind, name=name, **kwargs) for name, kind, kwargs in specs]
    traced = trace(Stack(tuple(layers)), input_shape)
    assert traced.failed is None and traced.rows[-1].output_shape == out_shape

    c, oh, ow = (data.draw(st.integers(0, n - 1)) for n in out_shape)
    rows, cols, reached = _gradient_support(modules, input_shape, c, oh, ow)
    box = receptive_box(traced, len(layers) - 1, oh, ow)
    if box is None:  # only later layers' padding: nothing is read
        assert not rows
        return
    top, left, bottom, right = box
    _, h, w = input_shape
    clipped = (max(top, 0), max(left, 0), min(bottom, h - 1), min(right, w - 1))
    if not rows:  # the pixel reads only padding
        return
    support = (rows[0], cols[0], rows[-1], cols[-1])
    # never outside the box; each of its edges, where it is a real pixel, is read
    assert clipped[0] <= support[0] and clipped[1] <= support[1]
    assert support[2] <= clipped[2] and support[3] <= clipped[3]
    if top >= 0:
        assert top in rows
    if left >= 0:
        assert left in cols
    if bottom <= h - 1:
        assert bottom in rows
    if right <= w - 1:
        assert right in cols
    if _contiguous(specs):
        # no gaps in any layer's windows: the box, clipped to the input, is exactly what is read
        assert support == clipped
        assert reached[support[0]:support[2] + 1, support[1]:support[3] + 1].all()


def test_a_later_layer_s_padding_reads_no_input_pixel():
    """AvgPool2d(2) leaves the third of 3 columns out; AvgPool2d(3, padding=1) after it
    reads its one real pixel and padding: the gradient reaches columns 0 and 1 only."""
    specs = [("pool0", "AvgPool2d", dict(kernel_size=2)), ("pool1", "AvgPool2d", dict(kernel_size=3, padding=1))]
    modules = _positive(specs)
    traced = trace(Stack(tuple(Layer.make(kind, name=name, **kw) for name, kind, kw in specs)), (1, 2, 3))
    rows, cols, _ = _gradient_support(modules, (1, 2, 3), 0, 0, 0)
    assert (rows, cols) == ([0, 1], [0, 1])
    top, left, bottom, right = receptive_box(traced, 1, 0, 0)
    assert (max(top, 0), max(left, 0), min(bottom, 1), min(right, 2)) == (0, 0, 1, 1)


def test_the_receptive_field_size_is_the_centre_pixel_s_box():
    """r_l on the MNIST CNN's first block, by the gradient: 3, then 4 after the 2×2 pool."""
    conv, pool = nn.Conv2d(1, 1, 3).double(), nn.AvgPool2d(2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    x = torch.ones((1, 1, 28, 28), dtype=torch.float64, requires_grad=True)
    pool(conv(x))[0, 0, 6, 6].backward()
    reached = torch.nonzero(x.grad[0, 0])
    size = tuple((reached.max(0).values - reached.min(0).values + 1).tolist())
    traced = trace(Stack((Layer.make("Conv2d", 1, 1, 3), Layer.make("AvgPool2d", 2))), (1, 28, 28))
    assert traced.rows[1].receptive_field == size == (4, 4)
    assert math.prod(size) == int(reached.shape[0])
