"""run_conv runs PyTorch's real op exactly as nn.Conv2d / nn.ConvTranspose2d would.

The oracle is the nn module itself in float64, over random specs (hypothesis): every
padding mode, 'same'/'valid', transposed with output_padding, groups, dilation, stride,
non-square kernels.
"""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convplay.compute import ComputeError, ConvRun, run_conv
from convplay.compute.run import channels_last_copy, channels_last_wins, is_channels_last
from convplay.core.presets import get_preset
from convplay.core.reference import conv2d_reference
from convplay.core.spec import PADDING_MODES, ConvSpec, ConvSpecError
from oracles import torch_conv

# The oracle (nn.Conv2d itself) warns that 'same' with an even kernel copies the input;
# run_conv pads explicitly and must not warn (filterwarnings=error checks that elsewhere).
ORACLE_SAME_WARNING = "ignore:Using padding='same' with even kernel lengths:UserWarning"


def oracle(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """nn.Conv2d / nn.ConvTranspose2d itself, in float64, from the spec's own arguments."""
    return torch_conv(x, weight, bias if spec.bias else None, spec)


def value_scale(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> float:
    """A bound on every output's magnitude: what rounding errors grow with."""
    return float(max(1.0, np.abs(x).max() * np.abs(weight).sum() + np.abs(bias).max()))


pairs = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))


@st.composite
def cases(draw):
    groups = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    stride = draw(pairs)
    dilation = draw(pairs)
    if transposed:
        padding = draw(st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2))))
        mode = "zeros"
        s, d = ((v, v) if isinstance(v, int) else v for v in (stride, dilation))
        output_padding = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
    else:
        padding = draw(st.one_of(
            st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
            st.sampled_from(["same", "valid"])))
        mode = draw(st.sampled_from(PADDING_MODES))
        output_padding = 0
    spec = ConvSpec(
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        kernel_size=draw(pairs if draw(st.booleans()) else st.integers(1, 4)),
        stride=stride, padding=padding, dilation=dilation, groups=groups,
        bias=draw(st.booleans()), padding_mode=mode, transposed=transposed,
        output_padding=output_padding)
    shape = (spec.in_channels, draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    magnitude = draw(st.sampled_from([1e-3, 1.0, 255.0]))
    x = rng.standard_normal(shape) * magnitude
    weight = rng.standard_normal(spec.weight_shape)
    bias = rng.standard_normal(spec.out_channels)
    return spec, x, weight, bias


@pytest.mark.filterwarnings(ORACLE_SAME_WARNING)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases(), st.sampled_from(["float32", "float64"]))
def test_matches_nn_module_in_float64(case, dtype):
    spec, x, weight, bias = case
    assume(spec.is_valid(x.shape))
    run = run_conv(spec, x, weight, bias, dtype=dtype)
    expected = oracle(spec, x, weight, bias)
    assert run.output.shape == expected.shape == spec.output_shape(x.shape)
    assert run.output.dtype == (np.float64 if dtype == "float64" else np.float32)
    tolerance = (1e-12 if dtype == "float64" else 1e-5) * value_scale(x, weight, bias)
    np.testing.assert_allclose(run.output, expected, rtol=0, atol=tolerance)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cases())
def test_float64_agrees_with_the_numpy_reference(case):
    """The reference walk that the animation shows and the op PyTorch runs agree."""
    spec, x, weight, bias = case
    assume(spec.is_valid(x.shape))
    run = run_conv(spec, x, weight, bias, dtype="float64")
    expected = conv2d_reference(x, weight, bias if spec.bias else None, spec)
    tolerance = 1e-12 * value_scale(x, weight, bias)
    np.testing.assert_allclose(run.output, expected, rtol=0, atol=tolerance)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_invalid_settings_raise_conv_spec_error_only(case):
    """Whatever the spec, run_conv returns the right shape or raises ConvSpecError."""
    spec, x, weight, bias = case
    try:
        expected_shape = spec.output_shape(x.shape)
    except ConvSpecError:
        with pytest.raises(ConvSpecError):
            run_conv(spec, x, weight, bias)
    else:
        assert run_conv(spec, x, weight, bias).output.shape == expected_shape


def test_seed_001_x_shaped_kernel():
    x = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
        dtype=float)[None]
    run = run_conv(ConvSpec(bias=False), x, get_preset("x_shape").weights[None, None], None,
                   dtype="float64")
    np.testing.assert_array_equal(run.output[0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_seed_001_multi_channel_and_1x1_examples():
    x = np.array([
        [[1, 0, 1, 0, 2], [1, 1, 3, 2, 1], [1, 1, 0, 1, 1], [2, 3, 2, 1, 3], [0, 2, 0, 1, 0]],
        [[1, 0, 0, 1, 0], [2, 0, 1, 2, 0], [3, 1, 1, 3, 0], [0, 3, 0, 3, 2], [1, 0, 3, 2, 1]],
        [[2, 0, 1, 2, 1], [3, 3, 1, 3, 2], [2, 1, 1, 1, 0], [3, 1, 3, 2, 0], [1, 1, 2, 1, 1]],
    ], dtype=float)
    k = np.array([[[0, 1, 0], [0, 0, 2], [0, 1, 0]], [[2, 1, 0], [0, 0, 0], [0, 3, 0]],
                  [[1, 0, 0], [1, 0, 0], [0, 0, 2]]], dtype=float)
    spec = ConvSpec(in_channels=3, out_channels=1, bias=False)
    run = run_conv(spec, x, k[None], None, dtype="float64")
    # the tutorial's sum over channels of per-channel cross-correlations
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    np.testing.assert_array_equal(run.output[0], np.einsum("chwij,cij->hw", windows, k))

    x1 = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], np.ones((3, 3)), 2 * np.ones((3, 3))])
    k1 = np.array([[1, 2, 3], [4, 1, 1], [5, 3, 3]], dtype=float)[:, :, None, None]
    run1 = run_conv(ConvSpec(3, 3, 1, bias=False), x1, k1, None, dtype="float64")
    np.testing.assert_array_equal(run1.output, np.einsum("oc,chw->ohw", k1[:, :, 0, 0], x1))


@pytest.mark.filterwarnings(ORACLE_SAME_WARNING)
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_same_padding_with_even_kernel_pads_like_nn_conv2d(mode):
    """An even kernel pads 1 before and 2 after: nn.Conv2d's _reversed_padding_repeated_twice."""
    spec = ConvSpec(2, 3, (4, 2), padding="same", dilation=(1, 3), padding_mode=mode)
    rng = np.random.default_rng(1)
    x, w, b = rng.random((2, 7, 9)), rng.random(spec.weight_shape), rng.random(3)
    run = run_conv(spec, x, w, b, dtype="float64")
    assert run.output.shape == (3, 7, 9)
    np.testing.assert_allclose(run.output, oracle(spec, x, w, b), rtol=0, atol=1e-12)


def test_same_padding_with_even_kernel_runs_without_torch_warning():
    """Zero 'same' padding of an even kernel is padded explicitly: 1 before, 2 after."""
    rng = np.random.default_rng(4)
    x, w = rng.random((1, 6, 6)), rng.random((1, 1, 4, 4))
    same = run_conv(ConvSpec(kernel_size=4, padding="same", bias=False), x, w, None,
                    dtype="float64").output
    padded = np.pad(x, ((0, 0), (1, 2), (1, 2)))
    valid = run_conv(ConvSpec(kernel_size=4, bias=False), padded, w, None, dtype="float64").output
    np.testing.assert_allclose(same, valid, rtol=0, atol=1e-12)


def test_bias_is_used_only_when_the_spec_says_so():
    rng = np.random.default_rng(2)
    x, w, b = rng.random((1, 5, 5)), rng.random((2, 1, 3, 3)), np.array([10.0, -10.0])
    with_bias = run_conv(ConvSpec(1, 2, bias=True), x, w, b, dtype="float64").output
    without = run_conv(ConvSpec(1, 2, bias=False), x, w, b, dtype="float64").output
    none_given = run_conv(ConvSpec(1, 2, bias=True), x, w, None, dtype="float64").output
    np.testing.assert_allclose(with_bias - without, b[:, None, None] * np.ones((2, 3, 3)))
    np.testing.assert_array_equal(none_given, without)


def test_run_reports_device_dtype_and_times():
    run = run_conv(ConvSpec(), np.ones((1, 6, 6)), np.ones((1, 1, 3, 3)), np.zeros(1))
    assert isinstance(run, ConvRun)
    assert run.device == "cpu" and run.device_name.startswith("CPU (")
    assert run.dtype == "float32" and run.tf32 is False
    assert 0 < run.elapsed_s <= run.total_s
    np.testing.assert_array_equal(run.output, np.full((1, 4, 4), 9.0, dtype=np.float32))
    assert run.output.flags.c_contiguous


def test_tf32_request_is_reported_off_on_cpu():
    run = run_conv(ConvSpec(), np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), None, tf32=True)
    assert run.tf32 is False


def test_read_only_and_integer_inputs_work_without_warnings():
    x = np.arange(36, dtype=np.uint8).reshape(1, 6, 6)
    w = np.ones((1, 1, 3, 3))
    w.setflags(write=False)
    read_only = np.asarray(x, dtype=np.float32)
    read_only.setflags(write=False)
    a = run_conv(ConvSpec(bias=False), x, w, None).output
    b = run_conv(ConvSpec(bias=False), read_only, w, None).output
    np.testing.assert_array_equal(a, b)
    assert not read_only.flags.writeable  # left as it was


def test_strided_views_are_accepted():
    rng = np.random.default_rng(3)
    big = rng.random((2, 12, 12))
    x = big[:, ::2, 1::2]  # not contiguous
    w = rng.random((1, 2, 3, 3))
    spec = ConvSpec(2, 1, bias=False)
    np.testing.assert_allclose(
        run_conv(spec, x, w, None, dtype="float64").output,
        run_conv(spec, np.ascontiguousarray(x), w, None, dtype="float64").output)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_on_cpu_is_refused_clearly(dtype):
    with pytest.raises(ComputeError, match=f"{dtype} runs on CUDA only") as info:
        run_conv(ConvSpec(), np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), None, dtype=dtype)
    assert info.value.field == "dtype"


@pytest.mark.parametrize(
    "kwargs, error, field, message",
    [
        (dict(dtype="int8"), ComputeError, "dtype", "unknown dtype 'int8'"),
        (dict(device="tpu"), ComputeError, "device", "unknown device 'tpu'"),
        (dict(x=np.full((1, 4, 4), "a")), ComputeError, "input", "real numbers"),
        (dict(x=np.ones((4, 4))), ConvSpecError, "input", r"\(channels, height, width\)"),
        (dict(x=np.ones((1, 0, 4))), ConvSpecError, "input", "at least one"),
        (dict(weight=np.ones((1, 1, 2, 2))), ConvSpecError, "weight",
         r"shape \(1, 1, 2, 2\).*\(1, 1, 3, 3\)"),
        (dict(bias=np.ones(3)), ConvSpecError, "bias", r"shape \(3,\).*\(1,\)"),
    ],
)
def test_unusable_requests_raise_a_clear_error(kwargs, error, field, message):
    args = dict(spec=ConvSpec(), x=np.ones((1, 4, 4)), weight=np.ones((1, 1, 3, 3)), bias=np.ones(1))
    args.update(kwargs)
    with pytest.raises(error, match=message) as info:
        run_conv(**args)
    assert info.value.field == field


def test_wrong_channel_count_is_a_spec_error():
    with pytest.raises(ConvSpecError) as info:
        run_conv(ConvSpec(in_channels=3), np.ones((1, 4, 4)), np.ones((1, 3, 3, 3)), None)
    assert info.value.field == "input"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_cuda_says_why():
    with pytest.raises(ComputeError, match="cannot run on cuda:0: CUDA not available") as info:
        run_conv(ConvSpec(), np.ones((1, 4, 4)), np.ones((1, 1, 3, 3)), None, device="cuda:0")
    assert info.value.field == "device"


def test_channels_last_where_it_runs_faster_and_the_output_left_as_pytorch_wrote_it():
    rng = np.random.default_rng(3)
    spec = ConvSpec(3, 16, 3, padding=1)
    x = rng.standard_normal((3, 20, 24))
    weight, bias = rng.standard_normal(spec.weight_shape), rng.standard_normal(16)
    run = run_conv(spec, x, weight, bias)
    # a (C, H, W) view of (H, W, C) memory: no NCHW copy was made
    assert not run.output.flags.c_contiguous
    assert run.output.transpose(1, 2, 0).flags.c_contiguous
    expected = oracle(spec, x, weight, bias)
    np.testing.assert_allclose(run.output, expected, rtol=0, atol=1e-5 * value_scale(x, weight, bias))
    # an input already laid out channels_last gives the same numbers
    same = run_conv(spec, channels_last_copy(x), weight, bias)
    np.testing.assert_array_equal(same.output, run.output)


@pytest.mark.parametrize("spec, dtype", [
    (ConvSpec(3, 4, 3, padding=1, padding_mode="circular"), "float32"),
    (ConvSpec(3, 4, 3, stride=2, transposed=True), "float32"),
    (ConvSpec(3, 4, 3, padding=1), "float64"),
])
def test_nchw_kept_where_channels_last_does_not_win(spec, dtype):
    assert not channels_last_wins(spec, "cpu", dtype)
    x = np.random.default_rng(4).standard_normal((3, 9, 9))
    w = np.random.default_rng(5).standard_normal(spec.weight_shape)
    run = run_conv(spec, x, w, None, dtype=dtype)
    assert run.output.flags.c_contiguous
    np.testing.assert_allclose(run.output, oracle(spec, x, w, np.zeros(4)), rtol=0, atol=1e-4 * value_scale(x, w, np.zeros(1)))


def test_channels_last_copy_is_a_chw_view_of_hwc_memory():
    x = np.arange(24.0).reshape(2, 3, 4)
    laid = channels_last_copy(x)
    assert laid.dtype == np.float32 and is_channels_last(laid) and not laid.flags.c_contiguous
    np.testing.assert_array_equal(laid, x)
    assert not is_channels_last(x)
