"""Kernel files that need torch or safetensors, the one entry point for every format, and the
learned kernels that ship with convplay.

Safety: a ``.pth`` is a pickle.  It is only ever read with ``torch.load(...,
weights_only=True)``, which refuses any global that is not a tensor or a plain container,
so a hostile ``__reduce__`` never runs.  TorchScript archives are recognised by their zip
entries and refused before torch sees them.  Sizes come from headers (safetensors) or from
a memory-mapped load (zip ``.pth``) and are checked before any tensor is copied.
"""

from __future__ import annotations

import json
import re
import pickle
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file as save_safetensors_numpy

from convplay.core.kernel_io import (
    KernelChoice,
    KernelFile,
    KernelFileError,
    LoadedKernel,
    TensorInfo,
    choose_kernel,
    parse_kernel_file_arg,
    read_npy,
    read_npz,
    save_npy,
)
from convplay.core.kernel_text import read_kernel_text, save_imagej
from convplay.core.resources import resource_path
from convplay.core.spec import ConvSpec

# A legacy (non-zip) .pth cannot be memory-mapped, so its size is the only check before loading.
MAX_LEGACY_PTH_BYTES = 256 * 2**20

# Parts of a checkpoint that hold no layers: optimiser moments are 4-D too but are not kernels.
_SKIPPED_KEYS = ("optim", "sched", "scaler", "grad")

TORCHSCRIPT_REASON = "a TorchScript archive: save model.state_dict() with torch.save instead"

KERNEL_FILE_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".safetensors", ".npy", ".npz", ".txt", ".csv", ".tsv")


def read_kernel_file(path: str | Path) -> KernelFile:
    """The listing of any kernel file convplay understands; KernelFileError with the reason otherwise."""
    path = Path(path)
    if not path.is_file():
        raise KernelFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    head = _head(path)
    if suffix == ".npy" or head.startswith(b"\x93NUMPY"):
        return read_npy(path)
    if suffix == ".safetensors" or (suffix not in (".npz", ".pth", ".pt") and _looks_like_safetensors(head)):
        return read_safetensors(path)
    if suffix == ".npz":
        return read_npz(path)
    if suffix in (".txt", ".csv", ".tsv"):
        return read_kernel_text(path)
    if suffix in (".pth", ".pt", ".ckpt", ".bin") or head[:2] in (b"PK", b"\x80\x02"):
        return read_torch_file(path)
    return read_kernel_text(path)


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(16)
    except OSError as exc:
        raise KernelFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None


def _looks_like_safetensors(head: bytes) -> bool:
    return len(head) >= 9 and head[8:9] == b"{"


# -- PyTorch .pth / .pt ----------------------------------------------------------------------


def read_torch_file(path: Path) -> KernelFile:
    """A state_dict or a checkpoint dict (state_dicts nested inside), loaded weights-only."""
    path = Path(path)
    is_zip = zipfile.is_zipfile(path)
    if is_zip:
        _refuse_torchscript(path)
    elif path.stat().st_size > MAX_LEGACY_PTH_BYTES:
        raise KernelFileError(
            f"{path.name}: {path.stat().st_size / 2**20:.0f} MB in the old (non-zip) format is too large to "
            "inspect safely; re-save it with a current torch.save"
        )
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols and the like; the refusal below says it better.
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as exc:
        raise KernelFileError(f"{path.name}: {_unpickling_reason(str(exc))}") from None
    except Exception as exc:  # torch reports damage with many types (RuntimeError, EOFError, KeyError...)
        raise KernelFileError(
            f"{path.name}: not a readable PyTorch file: it is truncated, damaged or not a checkpoint "
            f"({type(exc).__name__}: {_first_line(str(exc))})"
        ) from None
    tensors = dict(_tensors_in(obj, ""))
    infos = [TensorInfo(name, tuple(t.shape), str(t.dtype).removeprefix("torch.")) for name, t in tensors.items()]

    def read(name: str) -> np.ndarray:
        return _to_numpy(tensors[name])

    return KernelFile(path, "PyTorch file", infos, read)


def _refuse_torchscript(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise KernelFileError(f"{path.name}: a damaged zip archive ({exc})") from None
    if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
        raise KernelFileError(f"{path.name}: {TORCHSCRIPT_REASON}")


def _unpickling_reason(message: str) -> str:
    """torch's weights-only refusal, said in convplay's words for a person who only wanted to
    look at kernels: what was refused, that nothing ran, and how to export a state_dict.
    torch's own advice (load again with weights_only=False) is never passed on."""
    found = re.search(r"GLOBAL ([\w.]+)", message)  # torch 2.6+ words it in two ways
    target = found.group(1) if found else ""
    if target.startswith("torch.nn.") or target.startswith("__main__."):
        return (
            f"a whole pickled model ({target}), which would need its Python code to load. "
            "Save its weights instead: torch.save(model.state_dict(), 'weights.pth')"
        )
    if target:
        return (
            f"the file asks to run {target} while loading, which a weights file never needs. "
            "Nothing was run; convplay only loads tensors from PyTorch files. "
            "Export the weights with torch.save(model.state_dict(), 'weights.pth')"
        )
    return (
        "the pickle holds something other than tensors and plain containers, so it was not loaded "
        "and nothing in it was run. Export the weights with torch.save(model.state_dict(), 'weights.pth')"
    )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def _tensors_in(obj: object, prefix: str) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor in nested dicts / lists, named by its dotted path, optimiser state skipped."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            key = str(key)
            if any(word in key.lower() for word in _SKIPPED_KEYS) and not isinstance(value, torch.Tensor):
                continue
            yield from _tensors_in(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _tensors_in(value, f"{prefix}.{i}" if prefix else str(i))


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    if t.is_complex():
        raise KernelFileError(f"values of type {t.dtype} are not real numbers")
    return t.detach().to(torch.float64).contiguous().numpy().copy()


# -- safetensors -------------------------------------------------------------------------------


def read_safetensors(path: Path) -> KernelFile:
    """A .safetensors file, its shapes listed from the header without loading any tensor."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            infos = []
            for key in f.keys():
                sl = f.get_slice(key)
                infos.append(TensorInfo(key, tuple(sl.get_shape()), str(sl.get_dtype()).lower()))
    except (SafetensorError, OSError, ValueError) as exc:
        raise KernelFileError(f"{path.name}: not a readable safetensors file ({_first_line(str(exc))})") from None

    def read(name: str) -> np.ndarray:
        try:
            with safe_open(str(path), framework="pt") as f:
                return _to_numpy(f.get_tensor(name))
        except (SafetensorError, OSError, ValueError) as exc:
            raise KernelFileError(f"{path.name}: {name} cannot be read ({_first_line(str(exc))})") from None

    return KernelFile(path, "safetensors file", infos, read)


def save_safetensors(path: str | Path, weight: np.ndarray, bias: np.ndarray | None = None) -> None:
    """``weight`` (and ``bias``) as float64 tensors named 'weight' and 'bias'."""
    tensors = {"weight": np.ascontiguousarray(weight, dtype=np.float64)}
    if bias is not None:
        tensors["bias"] = np.ascontiguousarray(np.ravel(bias), dtype=np.float64)
    save_safetensors_numpy(tensors, str(path))


# -- saving: the twin of read_kernel_file ----------------------------------------------------------

KERNEL_SAVE_SUFFIXES = (".npy", ".safetensors", ".txt")


def save_kernel(path: str | Path, weight: np.ndarray, bias: np.ndarray | None = None) -> None:
    """``weight`` (and ``bias``) in the format ``path``'s suffix names: .npy (the weight),
    .safetensors ('weight' and 'bias'), or ImageJ kernel text (one 2-D filter).
    KernelFileError, with what to do instead, if it cannot be saved that way; OSError if
    the file cannot be written."""
    path = Path(path)
    suffix = path.suffix.lower()
    weight = np.asarray(weight, dtype=np.float64)
    if suffix == ".npy":
        save_npy(path, weight)
    elif suffix == ".safetensors":
        save_safetensors(path, weight, bias)
    elif suffix == ".txt":
        if weight.ndim != 4 or weight.shape[:2] != (1, 1):
            raise KernelFileError(
                f"ImageJ kernel text holds one 2-D filter; this kernel is {' x '.join(map(str, weight.shape))}. "
                "Save it as .npy or .safetensors"
            )
        save_imagej(path, weight[0, 0])
    else:
        raise KernelFileError(
            f"cannot save kernels as {suffix or 'a file without a suffix'}: use .npy, .safetensors or .txt"
        )


# -- learned kernels shipped in resources/kernels ------------------------------------------------


@dataclass(frozen=True)
class LearnedKernel:
    """A layer of the network trained by tools/train_digits.py, for the kernel menu."""

    name: str
    description: str
    load: Callable[[], LoadedKernel]


DIGITS_WEIGHTS = ("kernels", "digits_cnn.safetensors")
DIGITS_RECORD = ("kernels", "digits_cnn.json")


def learned_kernels() -> list[LearnedKernel]:
    """conv1 and conv2 of the digits CNN, each described with the accuracy it reached."""
    weights = resource_path(*DIGITS_WEIGHTS)
    record = json.loads(resource_path(*DIGITS_RECORD).read_text(encoding="utf-8"))
    accuracy = 100 * record["test_accuracy"]
    kernels = []
    for layer, what in (("conv1", "edges and strokes"), ("conv2", "combinations of strokes")):
        name = f"{layer}.weight"
        shape = "x".join(str(s) for s in record["layers"][name])

        def load(name: str = name) -> LoadedKernel:
            return read_safetensors(weights).load(name)

        kernels.append(
            LearnedKernel(
                f"digits CNN {layer}",
                f"{layer} ({shape}) of a small CNN trained on scikit-learn's 8x8 digits "
                f"({accuracy:.1f}% test accuracy): {what}",
                load,
            )
        )
    return kernels


# -- the --kernel-file command-line argument -------------------------------------------------------


def resolve_kernel_file_arg(arg: str, base: ConvSpec, image_channels: int) -> KernelChoice:
    """``PATH[:NAME][:INDEX]`` read, loaded and turned into a spec; KernelFileError with the reason.

    Without NAME the first tensor that can be loaded is used (and a note says which).
    Load warnings (NaN / Inf) are returned among the notes.
    """
    parsed = parse_kernel_file_arg(arg)
    kernel_file = read_kernel_file(parsed.path)
    entry = kernel_file.find(parsed.name) if parsed.name else kernel_file.first_loadable()
    loaded = kernel_file.load(entry)
    choice = choose_kernel(loaded, base, image_channels, index=parsed.index)
    notes = list(loaded.warnings) + list(choice.notes)
    if not parsed.name and len(kernel_file.entries) > 1:
        notes.insert(0, f"using {entry.name}, the first of {len(kernel_file.entries)} 4-D tensors")
    return KernelChoice(choice.spec, choice.weight, choice.bias, tuple(notes))
