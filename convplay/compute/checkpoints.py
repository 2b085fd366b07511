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
    ArrayReader,
    KernelChoice,
    KernelFile,
    KernelFileError,
    LoadedKernel,
    TensorInfo,
    choose_kernel,
    DEFAULT_SAVE_DTYPE,
    exact_text,
    parse_kernel_file_arg,
    read_npy,
    read_npz,
    save_dtype,
    save_npy,
    save_npz,
)
from convplay.core.kernel_text import read_kernel_text
from convplay.core.resources import resource_path
from convplay.core.spec import ConvSpec

# A legacy (non-zip) .pth cannot be memory-mapped, so its size is the only check before loading.
MAX_LEGACY_PTH_BYTES = 256 * 2**20

# Parts of a checkpoint that hold no layers: optimiser moments are 4-D too but are not kernels.
_SKIPPED_KEYS = ("optim", "sched", "scaler", "grad")

# How to make a file convplay loads, said at the end of every refusal of a PyTorch file.
EXPORT_ADVICE = "Save the weights alone with torch.save(model.state_dict(), 'weights.pth') and open that file."
TORCHSCRIPT_REASON = (
    "is a TorchScript archive (a compiled model with its code), which convplay does not load: "
    "it loads only tensors, and nothing in the file was run. For a scripted model, "
    "torch.jit.load(path).state_dict() gives its weights. " + EXPORT_ADVICE
)

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
    return KernelFile(path, "PyTorch file", *torch_file_tensors(path))


def torch_file_tensors(path: Path) -> tuple[list[TensorInfo], ArrayReader]:
    """Every tensor of a state_dict or checkpoint dict, named by its dotted path, and a reader
    of one (float64), loaded weights-only; KernelFileError in convplay's words otherwise."""
    path = Path(path)
    is_zip = zipfile.is_zipfile(path)
    if is_zip:
        _refuse_torchscript(path)
    elif path.stat().st_size > MAX_LEGACY_PTH_BYTES:
        raise KernelFileError(
            f"{path.name} was not opened: at {path.stat().st_size / 2**20:.0f} MB in PyTorch's old (non-zip) format "
            "it is too large to inspect safely, and nothing in it was run. Save it again with a current torch.save: "
            "torch.save(torch.load(path, weights_only=True), 'weights.pth') in a recent PyTorch."
        )
    try:
        with warnings.catch_warnings():
            # torch warns about pickle protocols and the like; the refusal below says it better.
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except pickle.UnpicklingError as exc:
        if _is_damage(str(exc)):
            raise KernelFileError(_damaged(path, exc)) from None
        message = str(exc)
        if "GLOBAL" not in message and not is_zip:
            # torch stopped at an instruction it does not read (a protocol-4 pickle) before it
            # met the import: find what the pickle would import without running it.
            target = next((g for g in _globals_in_pickle(path) if not _allowed_global(g)), "")
            message = f"GLOBAL {target}" if target else message
        raise KernelFileError(f"{path.name} {_unpickling_reason(message)}") from None
    except Exception as exc:  # torch reports damage with many types (RuntimeError, EOFError, KeyError...)
        raise KernelFileError(_damaged(path, exc)) from None
    tensors = dict(_tensors_in(obj, ""))
    infos = [TensorInfo(name, tuple(t.shape), str(t.dtype).removeprefix("torch.")) for name, t in tensors.items()]

    def read(name: str) -> np.ndarray:
        return _to_numpy(tensors[name])

    return infos, read


def _refuse_torchscript(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise KernelFileError(_damaged(path, exc)) from None
    if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
        raise KernelFileError(f"{path.name} {TORCHSCRIPT_REASON}")


def _unpickling_reason(message: str) -> str:
    """torch's weights-only refusal, said in convplay's words for a person who only wanted to
    look at kernels, as the rest of a sentence that starts with the file's name: what was
    refused, that nothing ran, and how to export a state_dict.  torch's own advice (load
    again with weights_only=False, or allow-list the global) is never passed on."""
    found = re.search(r"GLOBAL ([\w.]+)", message)  # torch 2.6+ words it in two ways
    target = found.group(1) if found else ""
    name = target.rpartition(".")[2]
    if target.startswith("numpy."):
        return (
            "was refused: it holds numpy arrays inside a pickle, which only unpickling them with "
            "code could read, and nothing in it was run. Save them as torch tensors "
            "(torch.from_numpy) or as an .npz file instead. " + EXPORT_ADVICE
        )
    if target.startswith("torch.nn."):
        return (
            f"holds a whole pickled model ({target}) rather than its weights: loading it would run "
            "Python code, so convplay refused it and nothing in it was run. " + EXPORT_ADVICE
        )
    if name[:1].isupper():
        return (
            f"holds a pickled Python object of class {target} (a whole model, perhaps) rather than "
            "weights: loading it would run Python code, so convplay refused it and nothing in it was run. "
            + EXPORT_ADVICE
        )
    if target:
        return (
            f"was refused: loading it would call {target}, which a file of weights never needs. "
            "Nothing in it was run; convplay loads only tensors from PyTorch files. " + EXPORT_ADVICE
        )
    return (
        "was refused: its pickle holds something other than tensors and plain containers, so it "
        "was not loaded and nothing in it was run. " + EXPORT_ADVICE
    )


# What a weights-only load imports from a plain checkpoint (never named as the refused import).
_ALLOWED_GLOBAL = re.compile(
    r"^(torch\._utils\.\w+|torch\.storage\.\w+|torch\.\w*Storage|torch\.Size|torch\.device|torch\.[a-z]\w*|"
    r"collections\.OrderedDict|_codecs\.encode|builtins\.(set|frozenset|bytearray|complex|slice|range))$"
)


def _allowed_global(name: str) -> bool:
    return bool(_ALLOWED_GLOBAL.match(name))


def _globals_in_pickle(path: Path, limit: int = 16 * 2**20) -> list[str]:
    """The ``module.name`` each import instruction of the pickles at the start of ``path``
    names, read with pickletools, which parses the instructions and runs none of them."""
    import io
    import pickletools

    with open(path, "rb") as f:
        stream = io.BytesIO(f.read(limit))
    found: list[str] = []
    for _ in range(4):  # a legacy torch file is a few pickles in a row; the data comes after them
        strings: list[str] = []
        memo: dict[int, str] = {}
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name == "GLOBAL":
                    found.append(str(arg).replace(" ", "."))
                elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif op.name == "MEMOIZE" and strings:
                    memo[len(memo)] = strings[-1]
                elif op.name in ("PUT", "BINPUT", "LONG_BINPUT") and strings:
                    memo[int(arg)] = strings[-1]
                elif op.name in ("GET", "BINGET", "LONG_BINGET") and int(arg) in memo:
                    strings.append(memo[int(arg)])
                elif isinstance(arg, str):
                    strings.append(arg)
        except Exception:  # not a pickle (any more): what was found is all there is
            break
    return found


def _is_damage(message: str) -> bool:
    """An UnpicklingError that says the bytes end or make no sense, not that a global was refused."""
    return "GLOBAL" not in message and "Unsupported" not in message


def _damaged(path: Path, exc: BaseException) -> str:
    """A file torch cannot read, said whole (torch's texts run to several lines and advice)."""
    text = str(exc).lower()
    if "central directory" in text or isinstance(exc, zipfile.BadZipFile) or "zip archive" in text:
        why = "its zip archive is cut short or damaged, as when a download or a copy stopped early"
    elif isinstance(exc, EOFError) or "eof" in text or "ran out of input" in text or "truncated" in text:
        why = "it ends before its data does, as when a download or a copy stopped early"
    else:
        why = f"PyTorch could not read it ({type(exc).__name__}): it may be damaged, or not a PyTorch file"
    return (
        f"{path.name} could not be read as a PyTorch file: {why}. Nothing was loaded and nothing in it was run. "
        "Copy the file again, or save the weights again with torch.save(model.state_dict(), 'weights.pth')."
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
    return KernelFile(path, "safetensors file", *safetensors_tensors(path))


def safetensors_tensors(path: Path) -> tuple[list[TensorInfo], ArrayReader]:
    """Every tensor of a .safetensors file, listed from the header, and a reader of one (float64)."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            infos = []
            for key in f.keys():
                sl = f.get_slice(key)
                infos.append(TensorInfo(key, tuple(sl.get_shape()), _safetensors_dtype(str(sl.get_dtype()))))
    except (SafetensorError, OSError, ValueError) as exc:
        raise KernelFileError(f"{path.name}: not a readable safetensors file ({_first_line(str(exc))})") from None

    def read(name: str) -> np.ndarray:
        try:
            with safe_open(str(path), framework="pt") as f:
                return _to_numpy(f.get_tensor(name))
        except (SafetensorError, OSError, ValueError) as exc:
            raise KernelFileError(f"{path.name}: {name} cannot be read ({_first_line(str(exc))})") from None

    return infos, read


# safetensors' own dtype names ('F32') as PyTorch says them, as every other format is listed.
_SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2", "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8",
    "BOOL": "bool",
}


def _safetensors_dtype(name: str) -> str:
    return _SAFETENSORS_DTYPES.get(name.upper(), name.lower())


def save_safetensors(
    path: str | Path, weight: np.ndarray, bias: np.ndarray | None = None, dtype: str = "float64"
) -> None:
    """``weight`` (and ``bias``) as tensors named 'weight' and 'bias', in ``dtype``."""
    kind = save_dtype(dtype)
    tensors = {"weight": np.ascontiguousarray(weight, dtype=kind)}
    if bias is not None:
        tensors["bias"] = np.ascontiguousarray(np.ravel(bias), dtype=kind)
    save_safetensors_numpy(tensors, str(path))


def save_state_dict(path: str | Path, weight: np.ndarray, bias: np.ndarray | None = None, dtype: str = "float64") -> None:
    """An nn.Conv2d state_dict: ``conv.load_state_dict(torch.load(path, weights_only=True))``
    takes it as it is.  Plain tensors in a dict: nothing a weights-only load refuses."""
    kind = getattr(torch, save_dtype(dtype).name)
    state = {"weight": torch.from_numpy(np.array(weight, dtype=np.float64)).to(kind).contiguous()}
    if bias is not None:
        state["bias"] = torch.from_numpy(np.array(np.ravel(bias), dtype=np.float64)).to(kind).contiguous()
    torch.save(state, str(path))


# -- saving: the twin of read_kernel_file ----------------------------------------------------------


@dataclass(frozen=True)
class KernelSaveFormat:
    """A file type Save kernel offers: its suffix, what it is, whether it keeps the bias."""

    suffix: str
    label: str
    keeps_bias: bool


KERNEL_SAVE_FORMATS = (
    KernelSaveFormat(".pth", "PyTorch state_dict", True),
    KernelSaveFormat(".safetensors", "safetensors", True),
    KernelSaveFormat(".npz", "NumPy archive", True),
    KernelSaveFormat(".npy", "NumPy array", False),
    # Text holds the shortest decimals that read back as the dtype's values ('0.1' in float32).
    KernelSaveFormat(".txt", "ImageJ kernel text", False),
)
KERNEL_SAVE_SUFFIXES = tuple(f.suffix for f in KERNEL_SAVE_FORMATS)


def save_format(suffix: str) -> KernelSaveFormat:
    for f in KERNEL_SAVE_FORMATS:
        if f.suffix == suffix.lower():
            return f
    raise KernelFileError(
        f"convplay cannot save kernels as {suffix or 'a file without a suffix'}: "
        f"use {', '.join(KERNEL_SAVE_SUFFIXES[:-1])} or {KERNEL_SAVE_SUFFIXES[-1]}"
    )


def save_kernel(
    path: str | Path, weight: np.ndarray, bias: np.ndarray | None = None, dtype: str = DEFAULT_SAVE_DTYPE
) -> str:
    """``weight`` (and ``bias``) in the format ``path``'s suffix names, as ``dtype``:
    .pth / .safetensors / .npz ('weight' and 'bias', as PyTorch names them), .npy (the
    weight alone) or ImageJ kernel text (one 2-D filter).  Returns a sentence saying what
    was saved.  KernelFileError, with what to do instead, if it cannot be saved that way;
    OSError if the file cannot be written."""
    path = Path(path)
    fmt = save_format(path.suffix)
    weight = np.asarray(weight, dtype=np.float64)
    dtype = save_dtype(dtype).name
    if fmt.suffix == ".txt" and (weight.ndim != 4 or weight.shape[:2] != (1, 1)):
        raise KernelFileError(
            f"ImageJ kernel text holds one 2-D filter; this kernel is {' x '.join(map(str, weight.shape))}. "
            "Save it as .pth, .safetensors or .npz"
        )
    if fmt.suffix == ".pth":
        save_state_dict(path, weight, bias, dtype)
    elif fmt.suffix == ".safetensors":
        save_safetensors(path, weight, bias, dtype)
    elif fmt.suffix == ".npz":
        save_npz(path, weight, bias, dtype)
    elif fmt.suffix == ".npy":
        save_npy(path, weight, dtype)
    else:
        filt = weight[0, 0]
        path.write_text("".join(" ".join(exact_text(v, dtype) for v in row) + "\n" for row in filt), encoding="utf-8")
    return saved_sentence(path, fmt, weight.shape, bias, dtype)


def saved_sentence(path: Path, fmt: KernelSaveFormat, shape: tuple[int, ...], bias, dtype: str) -> str:
    what = f"the {'×'.join(map(str, shape))} weight"
    if bias is None:
        return f"Saved {what} (the kernel has no bias) as {dtype} in {path.name}"
    n = np.size(bias)
    if fmt.keeps_bias:
        return f"Saved {what} and its {n} bias value{'s' if n != 1 else ''} as {dtype} in {path.name}"
    return (
        f"Saved {what} alone as {dtype} in {path.name}: a {fmt.suffix} file holds one array, so the bias "
        "was not saved (.pth, .safetensors and .npz keep it)"
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
