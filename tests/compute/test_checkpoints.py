"""PyTorch and safetensors kernel files, the format dispatch, and the shipped learned kernels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from convplay.compute.checkpoints import (
    learned_kernels,
    read_kernel_file,
    read_safetensors,
    save_safetensors,
)
from convplay.core.kernel_io import KernelFileError, save_npy
from convplay.core.kernel_text import format_imagej, save_imagej
from convplay.core.resources import resource_path


def _nested_checkpoint() -> dict:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 5, bias=False),
        torch.nn.Flatten(), torch.nn.Linear(16, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 3, 7, 7)).sum().backward()
    optimizer.step()  # momentum buffers: 4-D tensors that are not layers
    return {"epoch": 3, "model": {"features." + k: v for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict()}


def test_nested_checkpoint_lists_the_right_layers(tmp_path):
    ckpt = _nested_checkpoint()
    torch.save(ckpt, tmp_path / "ckpt.pth")
    kf = read_kernel_file(tmp_path / "ckpt.pth")
    assert [(e.name, e.shape, e.dtype, e.has_bias) for e in kf.entries] == [
        ("model.features.0.weight", (8, 3, 3, 3), "float32", True),
        ("model.features.2.weight", (16, 8, 5, 5), "float32", False),
    ]
    loaded = kf.load(kf.find("features.0.weight"))
    np.testing.assert_array_equal(loaded.weight, ckpt["model"]["features.0.weight"].double().numpy())
    np.testing.assert_array_equal(loaded.bias, ckpt["model"]["features.0.bias"].double().numpy())
    assert loaded.source_dtype == "float32" and loaded.warnings == []


def test_plain_and_legacy_state_dicts(tmp_path):
    sd = {"conv.weight": torch.randn(4, 2, 3, 3, dtype=torch.float16), "conv.bias": torch.randn(4)}
    torch.save(sd, tmp_path / "new.pt")
    torch.save(sd, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    for name in ("new.pt", "old.pth"):
        loaded = read_kernel_file(tmp_path / name).load("conv.weight")
        np.testing.assert_array_equal(loaded.weight, sd["conv.weight"].double().numpy())
        assert loaded.source_dtype == "float16" and loaded.bias.shape == (4,)


def test_bfloat16_and_transposed_label(tmp_path):
    sd = {"up1.weight": torch.randn(4, 2, 2, 2, dtype=torch.bfloat16)}
    torch.save(sd, tmp_path / "u.pth")
    [entry] = read_kernel_file(tmp_path / "u.pth").entries
    assert entry.transposed and entry.dtype == "bfloat16"


def test_safetensors_lists_without_loading(tmp_path, monkeypatch):
    w = torch.randn(6, 3, 3, 3)
    save_file({"stem.conv.weight": w, "stem.conv.bias": torch.zeros(6), "head.weight": torch.randn(2, 6)},
              str(tmp_path / "m.safetensors"))
    import convplay.compute.checkpoints as ck

    calls = []
    monkeypatch.setattr(ck, "_to_numpy", lambda t: calls.append(t) or t.double().numpy())
    kf = read_safetensors(tmp_path / "m.safetensors")
    assert calls == []  # the listing came from the header
    assert [(e.name, e.shape, e.has_bias) for e in kf.entries] == [("stem.conv.weight", (6, 3, 3, 3), True)]
    np.testing.assert_array_equal(kf.load("stem.conv.weight").weight, w.double().numpy())


@pytest.mark.parametrize("fmt", ["npy", "safetensors", "imagej", "pth", "npz", "csv"])
def test_round_trip_every_format(tmp_path, fmt):
    rng = np.random.default_rng(7)
    weight = rng.normal(size=(1, 1, 3, 5)) if fmt in ("imagej", "csv") else rng.normal(size=(4, 2, 3, 5))
    bias = None if fmt in ("imagej", "csv", "npy") else rng.normal(size=4)
    path = tmp_path / f"k.{ {'imagej': 'txt'}.get(fmt, fmt) }"
    if fmt == "npy":
        save_npy(path, weight)
    elif fmt == "safetensors":
        save_safetensors(path, weight, bias)
    elif fmt == "imagej":
        save_imagej(path, weight[0, 0])
    elif fmt == "pth":
        torch.save({"weight": torch.from_numpy(weight), "bias": torch.from_numpy(bias)}, path)
    elif fmt == "npz":
        np.savez(path, weight=weight, bias=bias)
    else:
        path.write_text(format_imagej(weight[0, 0]).replace(" ", ","))
    kf = read_kernel_file(path)
    loaded = kf.load(kf.first_loadable())
    np.testing.assert_array_equal(loaded.weight, weight)
    if bias is not None:
        np.testing.assert_array_equal(loaded.bias, bias)


def test_unknown_suffix_is_sniffed(tmp_path):
    save_safetensors(tmp_path / "weights.dat", np.ones((2, 1, 3, 3)))
    assert read_kernel_file(tmp_path / "weights.dat").format_name == "safetensors file"
    torch.save({"w": torch.ones(1, 1, 2, 2)}, tmp_path / "weights.bin2")
    assert read_kernel_file(tmp_path / "weights.bin2").format_name == "PyTorch file"


def test_missing_file():
    with pytest.raises(KernelFileError, match="no such file"):
        read_kernel_file("/nonexistent/k.pth")


def test_shipped_learned_kernels_load():
    record = json.loads(resource_path("kernels", "digits_cnn.json").read_text())
    assert record["test_accuracy"] > 0.9
    kernels = learned_kernels()
    assert [k.name for k in kernels] == ["digits CNN conv1", "digits CNN conv2"]
    conv1, conv2 = (k.load() for k in kernels)
    assert conv1.weight.shape == (8, 1, 3, 3) and conv1.bias.shape == (8,)
    assert conv2.weight.shape == (16, 8, 3, 3) and conv2.bias.shape == (16,)
    assert f"{100 * record['test_accuracy']:.1f}%" in kernels[0].description
    assert np.isfinite(conv1.weight).all() and np.abs(conv1.weight).max() > 0.1
    assert resource_path("kernels", "digits_cnn.safetensors").stat().st_size < 32_000


def test_resolve_kernel_file_arg(tmp_path):
    from convplay.compute.checkpoints import resolve_kernel_file_arg
    from convplay.core.spec import ConvSpec

    ckpt = _nested_checkpoint()
    torch.save(ckpt, tmp_path / "ckpt.pth")
    base = ConvSpec(in_channels=3, stride=2)
    whole = resolve_kernel_file_arg(str(tmp_path / "ckpt.pth"), base, 3)
    assert whole.spec.out_channels == 8 and whole.spec.stride == 2 and "first of 2" in whole.notes[0]
    one = resolve_kernel_file_arg(f"{tmp_path / 'ckpt.pth'}:features.2.weight:4", base, 3)
    assert one.spec.weight_shape == (1, 8, 5, 5) and not one.spec.bias
    np.testing.assert_array_equal(one.weight[0], ckpt["model"]["features.2.weight"][4].double().numpy())
    with pytest.raises(KernelFileError, match="no 4-D tensor called 'nope'"):
        resolve_kernel_file_arg(f"{tmp_path / 'ckpt.pth'}:nope", base, 3)
    w = np.ones((1, 1, 3, 3))
    w[0, 0, 1, 1] = np.nan
    save_npy(tmp_path / "n.npy", w)
    assert "NaN" in resolve_kernel_file_arg(str(tmp_path / "n.npy"), base, 1).notes[0]


# -- saving: the twin of read_kernel_file ---------------------------------------------------
def _kernel(shape=(8, 3, 5, 5), seed=11):
    """A kernel as the session holds it: float64 values no float32 holds exactly, read-only."""
    rng = np.random.default_rng(seed)
    weight, bias = rng.normal(size=shape) / 3, rng.normal(size=shape[0]) / 7
    weight[0, 0, 0, :3] = [0.1, 1 / 9, -1.178e-09]
    for a in (weight, bias):
        a.setflags(write=False)
    return weight, bias


def _oracle(path):
    """What the file holds, read by the format's own library in its safe mode."""
    suffix = path.suffix
    if suffix == ".pth":
        return {k: v.numpy() for k, v in torch.load(path, weights_only=True).items()}
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    if suffix == ".npy":
        return {"weight": np.load(path, allow_pickle=False)}
    from safetensors.numpy import load_file

    return load_file(str(path))


@pytest.mark.parametrize("suffix", [".pth", ".safetensors", ".npz"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saved_kernel_keeps_its_bias_and_dtype_and_loads_back_bit_for_bit(tmp_path, suffix, dtype):
    from convplay.compute.checkpoints import save_kernel

    weight, bias = _kernel()
    path = tmp_path / f"kernel{suffix}"
    said = save_kernel(path, weight, bias, dtype)
    held = _oracle(path)
    assert sorted(held) == ["bias", "weight"]  # PyTorch's names: nn.Conv2d.load_state_dict takes them
    assert held["weight"].dtype == np.dtype(dtype) and held["bias"].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(held["weight"], weight.astype(dtype))  # the dtype PyTorch receives
    np.testing.assert_array_equal(held["bias"], bias.astype(dtype))
    # File > Open kernel reads back exactly what the file holds, bias included.
    kf = read_kernel_file(path)
    [entry] = kf.entries
    assert entry.has_bias and entry.dtype == dtype
    loaded = kf.load(entry)
    np.testing.assert_array_equal(loaded.weight, held["weight"].astype(np.float64))
    np.testing.assert_array_equal(loaded.bias, held["bias"].astype(np.float64))
    if dtype == "float64":
        np.testing.assert_array_equal(loaded.weight, weight)
    assert said == f"Saved the 8×3×5×5 weight and its 8 bias values as {dtype} in kernel{suffix}"


def test_the_default_is_float32_and_a_state_dict_nn_conv2d_loads():
    import tempfile

    from convplay.compute.checkpoints import save_kernel

    weight, bias = _kernel((4, 2, 3, 3))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k.pth"
        assert "as float32" in save_kernel(path, weight, bias)
        conv = torch.nn.Conv2d(2, 4, 3)
        conv.load_state_dict(torch.load(path, weights_only=True))  # strict: exactly its keys
        assert conv.weight.dtype == torch.float32
        np.testing.assert_array_equal(conv.weight.detach().numpy(), weight.astype(np.float32))
        no_bias = Path(folder) / "nb.pth"
        assert "has no bias" in save_kernel(no_bias, weight, None)
        torch.nn.Conv2d(2, 4, 3, bias=False).load_state_dict(torch.load(no_bias, weights_only=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_npy_keeps_the_weight_alone_and_says_so(tmp_path, dtype):
    from convplay.compute.checkpoints import save_kernel

    weight, bias = _kernel()
    said = save_kernel(tmp_path / "k.npy", weight, bias, dtype)
    assert "weight alone" in said and "the bias was not saved" in said and ".pth" in said
    held = _oracle(tmp_path / "k.npy")["weight"]
    assert held.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(held, weight.astype(dtype))
    loaded = read_kernel_file(tmp_path / "k.npy").load("k")
    np.testing.assert_array_equal(loaded.weight, held.astype(np.float64))
    assert loaded.bias is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_imagej_text_reads_back_as_the_same_values(tmp_path, dtype):
    from convplay.compute.checkpoints import save_kernel

    weight = np.array([[[[0.1, -2.0, 1 / 3], [4.0, 1 / 9, -6.25], [7.0, -1.178e-09, 9.0]]]])
    save_kernel(tmp_path / "k.txt", weight, None, dtype)
    text = (tmp_path / "k.txt").read_text()
    if dtype == "float32":
        assert text.splitlines()[0] == "0.1 -2.0 0.33333334"  # float32's shortest decimals, not 17 digits
    loaded = read_kernel_file(tmp_path / "k.txt").load("k").weight
    np.testing.assert_array_equal(loaded.astype(dtype), weight.astype(dtype))


def test_save_kernel_refusals_say_what_to_do(tmp_path):
    from convplay.compute.checkpoints import save_kernel

    with pytest.raises(KernelFileError, match="one 2-D filter.*\\.pth, \\.safetensors or \\.npz"):
        save_kernel(tmp_path / "k.txt", np.zeros((2, 3, 3, 3)))
    with pytest.raises(KernelFileError, match="cannot save kernels as .png: use .pth, .safetensors, .npz, .npy or .txt"):
        save_kernel(tmp_path / "k.png", np.zeros((1, 1, 3, 3)))
    with pytest.raises(KernelFileError, match="float32 or float64, not float16"):
        save_kernel(tmp_path / "k.pth", np.zeros((1, 1, 3, 3)), None, "float16")
    assert not any(tmp_path.iterdir())


def test_a_saved_transposed_kernel_opens_as_transposed(tmp_path):
    from convplay.compute.checkpoints import save_kernel
    from convplay.core.kernel_io import choose_kernel
    from convplay.core.spec import ConvSpec

    layer = torch.nn.ConvTranspose2d(4, 2, 3, stride=2)
    weight, bias = layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()
    save_kernel(tmp_path / "up.pth", weight, bias)
    kf = read_kernel_file(tmp_path / "up.pth")
    [entry] = kf.entries
    assert entry.transposed and entry.has_bias
    choice = choose_kernel(kf.load(entry), ConvSpec(in_channels=4), 4)
    assert choice.spec.transposed and (choice.spec.in_channels, choice.spec.out_channels) == (4, 2)
    np.testing.assert_array_equal(choice.bias, bias.astype(np.float32))
