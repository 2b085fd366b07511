"""The numpy-only kernel formats, the listing, the spec a choice makes, and --kernel-file parsing."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from convplay.core.kernel_io import (
    KernelFileArg,
    KernelFileError,
    LoadedKernel,
    TensorInfo,
    choose_kernel,
    list_kernel_entries,
    name_says_transposed,
    parse_kernel_file_arg,
    read_npy,
    read_npz,
    save_npy,
    size_problem,
)
from convplay.core.kernel_text import format_imagej, parse_kernel_text, read_kernel_text, save_imagej
from convplay.core.spec import ConvSpec

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def test_npy_round_trip(tmp_path):
    w = np.random.default_rng(0).normal(size=(4, 3, 5, 3))
    save_npy(tmp_path / "k.npy", w)
    kf = read_npy(tmp_path / "k.npy")
    [entry] = kf.entries
    assert entry.shape == (4, 3, 5, 3) and entry.dtype == "float64" and not entry.has_bias
    np.testing.assert_array_equal(kf.load(entry).weight, w)


def test_npy_2d_is_one_filter(tmp_path):
    np.save(tmp_path / "sobel.npy", np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.int16))
    loaded = read_npy(tmp_path / "sobel.npy").load("sobel")
    assert loaded.weight.shape == (1, 1, 3, 3) and loaded.weight.dtype == np.float64
    assert loaded.weight[0, 0, 1, 0] == 2


def test_npz_lists_4d_with_bias_and_transposed(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(
        tmp_path / "m.npz",
        **{
            "conv1.weight": rng.normal(size=(8, 3, 3, 3)).astype(np.float32),
            "conv1.bias": rng.normal(size=8),
            "fc.weight": rng.normal(size=(10, 20)),
            "deconv.weight": rng.normal(size=(8, 4, 2, 2)),
            "deconv.bias": rng.normal(size=4),
            "other.bias": rng.normal(size=3),
        },
    )
    kf = read_npz(tmp_path / "m.npz")
    by_name = {e.name: e for e in kf.entries}
    assert set(by_name) == {"conv1.weight", "deconv.weight"}
    assert by_name["conv1.weight"].bias_name == "conv1.bias" and by_name["conv1.weight"].dtype == "float32"
    assert by_name["deconv.weight"].transposed and by_name["deconv.weight"].bias_name == "deconv.bias"
    loaded = kf.load("conv1.weight")
    assert loaded.bias is not None and loaded.bias.shape == (8,) and loaded.warnings == []
    assert kf.find("conv1.weight") is by_name["conv1.weight"]


def test_npz_with_object_array_is_refused_without_unpickling(tmp_path):
    np.savez(tmp_path / "o.npz", w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(KernelFileError, match="unpickling"):
        read_npz(tmp_path / "o.npz")


def test_npy_truncated_and_garbage(tmp_path):
    save_npy(tmp_path / "k.npy", np.ones((2, 1, 3, 3)))
    data = (tmp_path / "k.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[:-20])
    with pytest.raises(KernelFileError, match="truncated"):
        read_npy(tmp_path / "t.npy").load("t")
    (tmp_path / "g.npy").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(KernelFileError, match="not a readable .npy"):
        read_npy(tmp_path / "g.npy")
    (tmp_path / "g.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(KernelFileError, match="npz"):
        read_npz(tmp_path / "g.npz")


def test_npy_without_4d_tensor(tmp_path):
    np.save(tmp_path / "v.npy", np.ones(5))
    with pytest.raises(KernelFileError, match="no 4-D tensor"):
        read_npy(tmp_path / "v.npy")


@pytest.mark.parametrize(
    "shape, words",
    [((1, 1, 17, 3), "larger than 15x15"), ((2000, 1, 3, 3), "channels"), ((1024, 1024, 15, 15), "too large")],
)
def test_size_limits_refuse_before_loading(tmp_path, shape, words):
    assert words in size_problem(shape)
    reads = []
    from convplay.core.kernel_io import KernelFile

    with pytest.raises(KernelFileError, match="no tensor small enough"):
        KernelFile(tmp_path / "x", "test", [TensorInfo("w", shape, "float32")], reads.append)
    assert reads == []  # nothing was read


def test_too_large_entry_listed_but_refused_on_load(tmp_path):
    from convplay.core.kernel_io import KernelFile

    infos = [TensorInfo("big.weight", (4, 4, 31, 31), "float32"), TensorInfo("ok.weight", (4, 4, 3, 3), "float32")]
    kf = KernelFile(tmp_path / "x", "test", infos, lambda name: np.zeros((4, 4, 3, 3)))
    assert kf.entries[0].problem and kf.first_loadable().name == "ok.weight"
    with pytest.raises(KernelFileError, match="31x31"):
        kf.load("big.weight")


def test_nan_and_inf_load_with_warnings(tmp_path):
    w = np.ones((2, 1, 3, 3))
    w[0, 0, 0, 0] = np.nan
    w[1, 0, 2, 2] = np.inf
    w[1, 0, 2, 1] = -np.inf
    save_npy(tmp_path / "n.npy", w)
    loaded = read_npy(tmp_path / "n.npy").load("n")
    assert len(loaded.warnings) == 2
    assert "1 of 18 values are NaN" in loaded.warnings[0] and "2 of 18 values are infinite" in loaded.warnings[1]
    assert np.isnan(loaded.weight[0, 0, 0, 0])


IMAGEJ_SHARPEN = """\
-1 -1 -1
-1 12 -1
-1 -1 -1
"""


def test_imagej_text_and_csv(tmp_path):
    (tmp_path / "sharpen.txt").write_text(IMAGEJ_SHARPEN)
    w = read_kernel_text(tmp_path / "sharpen.txt").load("sharpen").weight
    assert w.shape == (1, 1, 3, 3) and w[0, 0, 1, 1] == 12
    (tmp_path / "k.csv").write_text("# sobel x\n1,0,-1\n2,0,-2\n1,0,-1\n\n1;2;1\n0;0;0\n-1;-2;-1\n")
    w = read_kernel_text(tmp_path / "k.csv").load("k").weight
    assert w.shape == (2, 1, 3, 3) and w[1, 0, 0, 1] == 2


@pytest.mark.parametrize(
    "text, words",
    [("1 2\n3\n", "different lengths"), ("1 x 2\n", "'x' is not a number"), ("\n# only\n", "no numbers"),
     ("1 2\n3 4\n\n1 2 3\n4 5 6\n", "matrix 2 is 2x3")],
)
def test_bad_text_says_why(text, words):
    with pytest.raises(KernelFileError, match=words):
        parse_kernel_text(text)


def test_binary_named_txt_is_refused(tmp_path):
    (tmp_path / "b.txt").write_bytes(bytes(range(256)))
    with pytest.raises(KernelFileError):
        read_kernel_text(tmp_path / "b.txt")


@settings(max_examples=150, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 7), st.integers(1, 7)), elements=finite))
def test_imagej_round_trip_is_exact(kernel):
    back = parse_kernel_text(format_imagej(kernel))
    np.testing.assert_array_equal(back[0, 0], kernel)


def test_save_imagej_file(tmp_path):
    k = np.array([[0.1, 0.2], [1 / 3, -2.5e-8]])
    save_imagej(tmp_path / "k.txt", k)
    np.testing.assert_array_equal(read_kernel_text(tmp_path / "k.txt").load("k").weight[0, 0], k)


@pytest.mark.parametrize(
    "name, transposed",
    [("deconv1.weight", True), ("decoder.up2.weight", True), ("convtranspose.weight", True),
     ("features.0.weight", False), ("upper.weight", False), ("conv_transpose1.weight", True)],
)
def test_transposed_names(name, transposed):
    assert name_says_transposed(name) is transposed


def _loaded(shape, bias=True, transposed=False):
    w = np.arange(np.prod(shape), dtype=float).reshape(shape)
    n = shape[1] if transposed else shape[0]
    return LoadedKernel("w", w, np.arange(n, dtype=float) if bias else None, transposed, "float32")


def test_choose_whole_layer():
    base = ConvSpec(in_channels=3, stride=2, padding=1, padding_mode="reflect")
    c = choose_kernel(_loaded((16, 3, 5, 5)), base, image_channels=3)
    assert (c.spec.in_channels, c.spec.out_channels, c.spec.kernel_size, c.spec.groups) == (3, 16, 5, 1)
    assert c.spec.stride == 2 and c.spec.padding_mode == "reflect" and c.spec.bias
    assert c.weight.shape == c.spec.weight_shape and c.notes == ()


def test_choose_depthwise_infers_groups():
    c = choose_kernel(_loaded((6, 1, 3, 3), bias=False), ConvSpec(in_channels=3), image_channels=3)
    assert (c.spec.in_channels, c.spec.out_channels, c.spec.groups) == (3, 6, 3)
    assert not c.spec.bias and c.weight.shape == c.spec.weight_shape and "groups = 3" in c.notes[0]


def test_choose_one_filter():
    loaded = _loaded((8, 3, 3, 2))
    c = choose_kernel(loaded, ConvSpec(in_channels=3), image_channels=3, index=5)
    assert c.spec.out_channels == 1 and c.spec.kernel_size == (3, 2)
    np.testing.assert_array_equal(c.weight[0], loaded.weight[5])
    np.testing.assert_array_equal(c.bias, [5.0])
    with pytest.raises(KernelFileError, match="index 8 is out of range"):
        choose_kernel(loaded, ConvSpec(), 3, index=8)


def test_choose_channel_mismatch_is_noted():
    c = choose_kernel(_loaded((8, 1, 3, 3)), ConvSpec(in_channels=3), image_channels=3, index=0)
    assert c.spec.in_channels == 1 and "image has 3" in c.notes[-1]


def test_choose_transposed():
    c = choose_kernel(_loaded((4, 2, 3, 3), transposed=True), ConvSpec(in_channels=4), image_channels=4)
    assert c.spec.transposed and (c.spec.in_channels, c.spec.out_channels) == (4, 2)
    assert c.weight.shape == c.spec.weight_shape


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("k.pth", KernelFileArg("k.pth")),
        ("k.pth:conv1.weight", KernelFileArg("k.pth", "conv1.weight")),
        ("k.pth:conv1.weight:3", KernelFileArg("k.pth", "conv1.weight", 3)),
        ("k.pth:3", KernelFileArg("k.pth", None, 3)),
        ("k.pth::2", KernelFileArg("k.pth", None, 2)),
        ("C:\\nets\\k.pth", KernelFileArg("C:\\nets\\k.pth")),
        ("C:\\nets\\k.pth:features.0.weight:1", KernelFileArg("C:\\nets\\k.pth", "features.0.weight", 1)),
        ("C:\\nets\\k.pth:7", KernelFileArg("C:\\nets\\k.pth", None, 7)),
    ],
)
def test_parse_kernel_file_arg(arg, expected):
    assert parse_kernel_file_arg(arg, exists=lambda p: False) == expected


def test_parse_kernel_file_arg_prefers_existing_paths(tmp_path):
    odd = tmp_path / "run:3.npy"
    odd.write_bytes(b"")
    assert parse_kernel_file_arg(str(odd)) == KernelFileArg(str(odd))
    assert parse_kernel_file_arg(f"{odd}:2") == KernelFileArg(str(odd), None, 2)
    with pytest.raises(KernelFileError, match="0 or more"):
        parse_kernel_file_arg("k.pth:w:-1", exists=lambda p: False)
    with pytest.raises(KernelFileError):
        parse_kernel_file_arg("")


def test_listing_needs_matching_bias_length():
    entries = list_kernel_entries(
        [TensorInfo("a.weight", (4, 1, 3, 3), "float32"), TensorInfo("a.bias", (5,), "float32")]
    )
    assert entries[0].bias_name is None


# -- writing: .npz with the bias, float32 unless asked; the shortest exact number text ----------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_npz_keeps_weight_and_bias_under_pytorchs_names(tmp_path, dtype):
    from convplay.core.kernel_io import save_npz

    rng = np.random.default_rng(5)
    weight, bias = rng.normal(size=(8, 3, 5, 5)), rng.normal(size=8)
    save_npz(tmp_path / "k.npz", weight, bias, dtype)
    with np.load(tmp_path / "k.npz", allow_pickle=False) as npz:  # the oracle: numpy, no pickles
        assert sorted(npz.files) == ["bias", "weight"]
        held_w, held_b = npz["weight"], npz["bias"]
    assert held_w.dtype == np.dtype(dtype) and held_b.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(held_w, weight.astype(dtype))
    kf = read_npz(tmp_path / "k.npz")
    [entry] = kf.entries
    assert entry.bias_name == "bias" and entry.dtype == dtype
    loaded = kf.load(entry)
    np.testing.assert_array_equal(loaded.weight, held_w.astype(np.float64))
    np.testing.assert_array_equal(loaded.bias, held_b.astype(np.float64))
    save_npz(tmp_path / "nb.npz", weight, None, dtype)  # no bias: no 'bias' array
    assert not read_npz(tmp_path / "nb.npz").entries[0].has_bias


def test_npz_keeps_the_name_it_is_given(tmp_path):
    from convplay.core.kernel_io import save_npz

    save_npz(tmp_path / "kernel.weights", np.ones((1, 1, 3, 3)))
    assert (tmp_path / "kernel.weights").is_file() and not (tmp_path / "kernel.weights.npz").exists()


@settings(max_examples=300, deadline=None)
@given(st.floats(width=32), st.sampled_from(["float16", "float32", "float64"]))
def test_exact_text_reads_back_as_the_same_value_in_its_dtype(value, dtype):
    from convplay.core.kernel_io import exact_text

    text = exact_text(value, dtype)
    kind = np.dtype(dtype).type
    with np.errstate(over="ignore"):
        want = kind(value)
    got = kind(eval(text, {"__builtins__": {"float": float}}))  # as PyTorch reads a literal
    assert (np.isnan(got) and np.isnan(want)) or (got == want and np.signbit(got) == np.signbit(want))


def test_exact_text_is_the_shortest_decimal_of_the_dtype():
    from convplay.core.kernel_io import exact_text

    assert exact_text(0.1, "float32") == "0.1" and exact_text(0.1, "float64") == "0.1"
    assert exact_text(1 / 3, "float32") == "0.33333334"
    assert exact_text(1 / 3, "float64") == repr(1 / 3)
    assert exact_text(3.0, "float32") == "3.0" and exact_text(-0.0, "float32") == "-0.0"
    assert exact_text(1e40, "float32") == "float('inf')" and exact_text(float("-nan"), "float64") == "-float('nan')"


def test_a_bias_per_weight_column_means_a_transposed_layer():
    # nn.ConvTranspose2d(4, 2, 3).state_dict(): weight (4, 2, 3, 3), bias (2,)
    entries = list_kernel_entries([TensorInfo("weight", (4, 2, 3, 3), "float32"), TensorInfo("bias", (2,), "float32")])
    assert entries[0].transposed and entries[0].bias_name == "bias"
    # nn.Conv2d(2, 4, 3): bias (4,), not transposed; square channels stay a Conv2d
    for shape, bias in (((4, 2, 3, 3), 4), ((3, 3, 3, 3), 3)):
        [entry] = list_kernel_entries([TensorInfo("weight", shape, "float32"), TensorInfo("bias", (bias,), "float32")])
        assert not entry.transposed and entry.bias_name == "bias"
