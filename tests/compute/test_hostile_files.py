"""Files that must be refused with a reason, run nothing, and never reach the kernel."""

from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest
import torch

from convplay.compute.checkpoints import TORCHSCRIPT_REASON, read_kernel_file
from convplay.core.kernel_io import KernelFileError


class _CreatesFile:
    """Unpickling this would create ``path`` (builtins.open in write mode)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class _RunsShell:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.path}",))


def assert_refusal_in_convplays_words(message: str, file_name: str) -> None:
    """A refusal as the user reads it: whole sentences that name the file and say what was
    refused, that nothing ran, and how to export a state_dict; never torch's own text, and
    never a way to turn the protection off."""
    assert message.startswith(file_name + " ")  # the file first, then a sentence about it
    assert "\n" not in message and "\x1b" not in message and len(message) < 600  # torch's text, with its colour codes
    assert message.endswith(".") and message.count("(") == message.count(")")  # not cut mid-sentence
    sentences = [x for x in message[len(file_name):].split(". ") if x]
    assert all(x[0].isupper() or x[0] == " " for x in sentences[1:]), sentences
    assert any(w in message for w in ("was refused", "refused it", "does not load", "could not be read"))
    assert "nothing in it was run" in message.lower() or "nothing in the file was run" in message.lower()
    assert "torch.save(model.state_dict(), 'weights.pth')" in message
    for never in ("weights_only", "False", "add_safe_globals", "safe_globals", "allowlist", "trust", "Weights only load"):
        assert never not in message, never


def _refusal(path) -> str:
    with pytest.raises(KernelFileError) as err:
        kf = read_kernel_file(path)
        kf.load(kf.first_loadable())
    return str(err.value)


@pytest.mark.parametrize("payload", [_CreatesFile, _RunsShell])
@pytest.mark.parametrize("how", ["torch.save", "legacy", "raw pickle"])
def test_hostile_reduce_runs_nothing(tmp_path, payload, how):
    marker = tmp_path / "pwned"
    evil = {"conv.weight": torch.ones(1, 1, 3, 3), "x": payload(marker)}
    path = tmp_path / "evil.pth"
    if how == "torch.save":
        torch.save(evil, path)
    elif how == "legacy":
        torch.save(evil, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(evil, protocol=4))
    assert not marker.exists()
    message = _refusal(path)
    assert not marker.exists()
    assert_refusal_in_convplays_words(message, "evil.pth")
    called = "open" if payload is _CreatesFile else "system"
    assert "loading it would call" in message and called in message  # what was refused


# Making the archive needs torch.jit, deprecated in favour of torch.export; reading it must still be refused.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_archive_is_refused(tmp_path, monkeypatch):
    torch.jit.script(torch.nn.Conv2d(1, 2, 3)).save(str(tmp_path / "ts.pt"))
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("a TorchScript archive reached torch.load"))
    message = _refusal(tmp_path / "ts.pt")
    assert message == f"ts.pt {TORCHSCRIPT_REASON}"
    assert_refusal_in_convplays_words(message, "ts.pt")
    assert "TorchScript archive" in message and "torch.jit.load(path).state_dict()" in message


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.parametrize("model", ["Conv2d", "Sequential"])
def test_whole_pickled_module_says_how_to_save_a_state_dict(tmp_path, zip_format, model):
    module = torch.nn.Conv2d(1, 2, 3) if model == "Conv2d" else torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))
    torch.save(module, tmp_path / "model.pth", _use_new_zipfile_serialization=zip_format)
    message = _refusal(tmp_path / "model.pth")
    assert_refusal_in_convplays_words(message, "model.pth")
    assert "holds a whole pickled model (torch.nn.modules." in message and model in message


class Net(torch.nn.Module):
    """A model of the user's own: its class lives in their code, not in torch."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3)


def test_a_pickled_object_of_the_users_own_class(tmp_path):
    torch.save({"model": Net()}, tmp_path / "net.pth")
    message = _refusal(tmp_path / "net.pth")
    assert_refusal_in_convplays_words(message, "net.pth")
    assert "class" in message and "Net" in message


def test_numpy_arrays_inside_a_pickle(tmp_path):
    torch.save({"weight": np.ones((1, 1, 3, 3))}, tmp_path / "np.pth")
    message = _refusal(tmp_path / "np.pth")
    assert_refusal_in_convplays_words(message, "np.pth")
    assert "numpy arrays inside a pickle" in message and ".npz" in message


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.parametrize("keep", [0.02, 0.5, 0.95])
def test_truncated_pth(tmp_path, keep, zip_format):
    torch.save({"w": torch.randn(8, 3, 3, 3)}, tmp_path / "full.pth", _use_new_zipfile_serialization=zip_format)
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: max(1, int(len(data) * keep))])
    message = _refusal(tmp_path / "cut.pth")
    assert_refusal_in_convplays_words(message, "cut.pth")
    assert message.startswith("cut.pth could not be read as a PyTorch file: ")
    assert "RuntimeError" not in message and "miniz" not in message  # said in convplay's words


def test_pickled_python_objects_in_numpy_files(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "obj.npz", w=np.array([{"a": 1}], dtype=object))
    for name in ("obj.npy", "obj.npz"):
        message = _refusal(tmp_path / name)
        assert message.startswith(f"{name} was refused: it holds Python objects")
        assert "nothing in it was run" in message and "allow_pickle" not in message and message.endswith(".")


def test_every_form_of_torchs_refusal_is_said_whole():
    """Whatever global torch names (or none), the sentence is convplay's."""
    from convplay.compute.checkpoints import _unpickling_reason

    for target in ("builtins.eval", "torch.nn.modules.linear.Linear", "numpy.core.multiarray._reconstruct", ""):
        sentence = "f.pth " + _unpickling_reason(f"Unsupported global: GLOBAL {target} was not an allowed global" if target else "")
        assert_refusal_in_convplays_words(sentence, "f.pth")


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".safetensors", ".npy", ".npz", ".txt", ".csv", ".weird"])
def test_garbage_bytes(tmp_path, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(KernelFileError) as err:
        read_kernel_file(path)
    assert path.name in str(err.value)


def test_empty_file(tmp_path):
    (tmp_path / "e.pth").write_bytes(b"")
    with pytest.raises(KernelFileError, match="e.pth"):
        read_kernel_file(tmp_path / "e.pth")


def test_safetensors_truncated_and_lying_header(tmp_path):
    from convplay.compute.checkpoints import save_safetensors

    save_safetensors(tmp_path / "ok.safetensors", np.ones((4, 4, 3, 3)))
    data = (tmp_path / "ok.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:-50])
    with pytest.raises(KernelFileError, match="cut.safetensors"):
        read_kernel_file(tmp_path / "cut.safetensors")
    header = b'{"w":{"dtype":"F32","shape":[100000,100000,3,3],"data_offsets":[0,16]}}'
    (tmp_path / "lie.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)
    with pytest.raises(KernelFileError):
        read_kernel_file(tmp_path / "lie.safetensors")


def test_no_4d_tensor(tmp_path):
    torch.save({"fc.weight": torch.randn(10, 5), "fc.bias": torch.randn(10), "step": 3}, tmp_path / "fc.pth")
    with pytest.raises(KernelFileError, match="no 4-D tensor"):
        read_kernel_file(tmp_path / "fc.pth")


def test_too_large_tensor_refused_before_materialising(tmp_path, monkeypatch):
    # 64x64x31x31 is 4M elements: a legitimate tensor, but not a kernel convplay shows.
    torch.save({"big.weight": torch.zeros(64, 64, 31, 31)}, tmp_path / "big.pth")
    import convplay.compute.checkpoints as ck

    monkeypatch.setattr(ck, "_to_numpy", lambda t: pytest.fail("a too-large tensor was read"))
    with pytest.raises(KernelFileError, match="31x31 kernel is larger than 15x15"):
        read_kernel_file(tmp_path / "big.pth")


def test_zip_that_is_neither(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.pth", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(KernelFileError, match="z.pth"):
        read_kernel_file(tmp_path / "z.pth")
