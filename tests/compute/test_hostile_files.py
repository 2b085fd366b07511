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
    with pytest.raises(KernelFileError) as err:
        read_kernel_file(path)
    assert not marker.exists()
    message = str(err.value)
    assert "evil.pth" in message and ("Nothing was run" in message or "nothing in it was run" in message)
    assert "\x1b" not in message  # torch's terminal colour codes do not leak into the UI
    assert "weights_only" not in message and "False" not in message  # never: turn the protection off
    assert "state_dict()" in message  # but: how to export what can be loaded


# Making the archive needs torch.jit, deprecated in favour of torch.export; reading it must still be refused.
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_archive_is_refused(tmp_path):
    torch.jit.script(torch.nn.Conv2d(1, 2, 3)).save(str(tmp_path / "ts.pt"))
    with pytest.raises(KernelFileError, match="TorchScript archive: save model.state_dict"):
        read_kernel_file(tmp_path / "ts.pt")
    assert TORCHSCRIPT_REASON.startswith("a TorchScript archive")


def test_whole_pickled_module_says_how_to_save_a_state_dict(tmp_path):
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)), tmp_path / "model.pth")
    with pytest.raises(KernelFileError, match=r"whole pickled model.*torch.save\(model.state_dict\(\)"):
        read_kernel_file(tmp_path / "model.pth")


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95])
def test_truncated_pth(tmp_path, keep):
    torch.save({"w": torch.randn(8, 3, 3, 3)}, tmp_path / "full.pth")
    data = (tmp_path / "full.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(KernelFileError, match="cut.pth"):
        kf = read_kernel_file(tmp_path / "cut.pth")
        kf.load(kf.first_loadable())


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
