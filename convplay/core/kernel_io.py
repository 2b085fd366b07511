"""Kernel files that numpy alone can read and write, and the listing every reader returns.

A kernel file may hold many tensors; the app only cares about the 4-D ones (conv weights,
``(out, in/groups, kh, kw)``).  Every reader, here and in ``convplay.compute.checkpoints``,
returns a :class:`KernelFile`: a listing of those tensors (name, shape, dtype, a bias
beside it, whether the name says transposed) made from headers only, and a loader for one
entry.  Sizes are checked against :data:`KernelLimits` before any tensor is read.

Formats here: ``.npy`` / ``.npz`` (never unpickled); ImageJ kernel text, plain text / CSV
and the clipboard's PyTorch literal are in ``kernel_text``.  Writers: ``.npy`` (the weight)
and ``.npz`` (weight and bias), in float32 unless float64 is asked for.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from convplay.core.spec import ConvSpec


class KernelFileError(ValueError):
    """A kernel file convplay refuses to use; the message says why, in words."""


@dataclass(frozen=True)
class KernelLimits:
    """Anything larger is not a kernel one would look at in a playground."""

    max_elements: int = 64 * 2**20
    max_spatial: int = 15
    max_channels: int = 1024


LIMITS = KernelLimits()

_TRANSPOSED_TOKEN = re.compile(r"^(up\d*|upconv\w*|upsampl\w*|deconv\w*|\w*transpose\w*|\w*transp\d*)$")


def size_problem(shape: tuple[int, ...], limits: KernelLimits = LIMITS) -> Optional[str]:
    """Why a 4-D tensor of ``shape`` is too large to be a kernel, or None if it is fine."""
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if n > limits.max_elements:
        return f"{n:,} values is too large to be a kernel (the limit is {limits.max_elements:,})"
    if len(shape) == 4:
        o, i, kh, kw = shape
        if kh > limits.max_spatial or kw > limits.max_spatial:
            return f"a {kh}x{kw} kernel is larger than {limits.max_spatial}x{limits.max_spatial}"
        if max(o, i) > limits.max_channels:
            return f"{max(o, i)} channels is more than {limits.max_channels}"
        if min(shape) == 0:
            return "the tensor is empty"
    return None


def name_says_transposed(name: str) -> bool:
    """True when a part of the name reads like a transposed conv ('deconv1', 'up2.conv', ...)."""
    return any(_TRANSPOSED_TOKEN.match(tok) for tok in re.split(r"[._/\-:\[\]]+", name.lower()) if tok)


@dataclass(frozen=True)
class TensorInfo:
    """What a file's header says about one tensor (nothing loaded)."""

    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class KernelEntry:
    """One 4-D tensor of a kernel file, as the picker lists it."""

    name: str
    shape: tuple[int, int, int, int]
    dtype: str
    bias_name: Optional[str] = None
    transposed: bool = False
    problem: Optional[str] = None  # set when the tensor cannot be loaded (too large)

    @property
    def has_bias(self) -> bool:
        return self.bias_name is not None


@dataclass
class LoadedKernel:
    """One loaded 4-D weight (float64) with its bias, and what the user should be told."""

    name: str
    weight: np.ndarray
    bias: Optional[np.ndarray]
    transposed: bool
    source_dtype: str
    warnings: list[str] = field(default_factory=list)


# Reads the named tensor as a numpy array (any real dtype); only called for listed names.
ArrayReader = Callable[[str], np.ndarray]


class KernelFile:
    """The 4-D tensors of one file and a way to load each of them."""

    def __init__(self, path: Path, format_name: str, tensors: list[TensorInfo], read: ArrayReader):
        self.path = Path(path)
        self.format_name = format_name
        self._read = read
        self.entries = list_kernel_entries(tensors)
        if not self.entries:
            raise KernelFileError(f"{self.path.name}: no 4-D tensor (conv weight) in this {format_name}")
        if all(e.problem for e in self.entries):
            reasons = "; ".join(f"{e.name}: {e.problem}" for e in self.entries[:3])
            raise KernelFileError(f"{self.path.name}: no tensor small enough to be a kernel ({reasons})")

    def find(self, name: str) -> KernelEntry:
        """The entry called ``name``, or the only one whose name ends with '.' + ``name``."""
        for entry in self.entries:
            if entry.name == name:
                return entry
        matches = [e for e in self.entries if e.name.endswith("." + name) or e.name.endswith("/" + name)]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(e.name for e in self.entries[:12])
        if matches:
            raise KernelFileError(f"{name!r} matches several tensors: {', '.join(e.name for e in matches)}")
        raise KernelFileError(f"{self.path.name} has no 4-D tensor called {name!r} (it has: {known})")

    def first_loadable(self) -> KernelEntry:
        return next(e for e in self.entries if not e.problem)

    def load(self, entry: KernelEntry | str) -> LoadedKernel:
        """The weight and bias of ``entry`` as float64; KernelFileError if it cannot be used."""
        if isinstance(entry, str):
            entry = self.find(entry)
        if entry.problem:
            raise KernelFileError(f"{entry.name}: {entry.problem}")
        weight = _as_real_array(self._read(entry.name), entry.name)
        if weight.shape != entry.shape:
            raise KernelFileError(f"{entry.name}: the file says {entry.shape} but holds {weight.shape}")
        bias = None
        if entry.bias_name is not None:
            bias = _as_real_array(self._read(entry.bias_name), entry.bias_name).ravel()
        warnings = non_finite_warnings(entry.name, weight)
        if bias is not None:
            warnings += non_finite_warnings(entry.bias_name or "bias", bias)
        return LoadedKernel(entry.name, weight, bias, entry.transposed, entry.dtype, warnings)


def list_kernel_entries(tensors: list[TensorInfo], limits: KernelLimits = LIMITS) -> list[KernelEntry]:
    """The 4-D tensors among ``tensors``, each with the 1-D bias that sits beside it."""
    by_name = {t.name: t for t in tensors}
    entries = []
    for t in tensors:
        if len(t.shape) != 4:
            continue
        shape = tuple(int(s) for s in t.shape)
        transposed = name_says_transposed(t.name)
        bias_name = None
        for candidate in _bias_names(t.name):
            b = by_name.get(candidate)
            if b is None or len(b.shape) != 1:
                continue
            if b.shape[0] == (shape[1] if transposed else shape[0]):
                bias_name = candidate
                break
            if not transposed and b.shape[0] == shape[1]:
                # One bias per weight.shape[1]: only a ConvTranspose2d's (in, out, kh, kw) weight
                # has that, whatever it is called ("weight" in its state_dict).
                bias_name, transposed = candidate, True
                break
        entries.append(KernelEntry(t.name, shape, t.dtype, bias_name, transposed, size_problem(shape, limits)))
    return entries


def _bias_names(weight_name: str) -> list[str]:
    if weight_name.endswith("weight"):
        return [weight_name[: -len("weight")] + "bias"]
    if weight_name.endswith("kernel"):
        return [weight_name[: -len("kernel")] + "bias"]
    return [weight_name + "_bias", weight_name + ".bias"]


def _as_real_array(array: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype.kind not in "fiub":
        raise KernelFileError(f"{name}: values of type {array.dtype} are not real numbers")
    return np.array(array, dtype=np.float64)


def non_finite_warnings(name: str, values: np.ndarray) -> list[str]:
    """A sentence per kind of non-finite value; empty when all values are finite."""
    n_nan = int(np.isnan(values).sum())
    n_inf = int(np.isinf(values).sum())
    out = []
    if n_nan:
        out.append(f"{name}: {n_nan} of {values.size} values are NaN (shown hatched in magenta)")
    if n_inf:
        out.append(f"{name}: {n_inf} of {values.size} values are infinite (shown hatched in magenta)")
    return out


# -- .npy / .npz -------------------------------------------------------------------------------


def _read_npy_header(f) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unknown .npy version {version}")
    return tuple(shape), dtype


def _npy_dtype_name(dtype: np.dtype, file_name: str) -> str:
    if dtype.hasobject:
        raise KernelFileError(
            f"{file_name} was refused: it holds Python objects, which only unpickling could read, and "
            "nothing in it was run. Save the kernel as numbers: np.save('kernel.npy', weight.astype(np.float32))."
        )
    return dtype.name


def read_npy(path: Path) -> KernelFile:
    """A .npy file: one array, which must be 4-D (or 2-D: one single-channel filter)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            shape, dtype = _read_npy_header(f)
    except (ValueError, OSError, EOFError) as exc:
        raise KernelFileError(f"{path.name}: not a readable .npy file ({exc})") from None
    dtype_name = _npy_dtype_name(dtype, path.name)
    name = path.stem
    if len(shape) == 2:
        shape = (1, 1, *shape)

    def read(_: str) -> np.ndarray:
        try:
            return np.load(path, allow_pickle=False).reshape(shape)
        except (ValueError, OSError, EOFError) as exc:
            raise KernelFileError(f"{path.name}: the file is truncated or damaged ({exc})") from None

    return KernelFile(path, ".npy file", [TensorInfo(name, shape, dtype_name)], read)


def read_npz(path: Path) -> KernelFile:
    """A .npz archive: every 4-D array in it, headers read without loading the arrays."""
    path = Path(path)
    return KernelFile(path, ".npz archive", *npz_tensors(path))


def npz_tensors(path: Path) -> tuple[list[TensorInfo], ArrayReader]:
    """Every array of a .npz archive, listed from the headers (never unpickled), and a reader of one."""
    path = Path(path)
    infos = []
    try:
        with zipfile.ZipFile(path) as zf:
            for member in zf.namelist():
                if not member.endswith(".npy"):
                    continue
                with zf.open(member) as f:
                    shape, dtype = _read_npy_header(f)
                infos.append(TensorInfo(member[: -len(".npy")], shape, _npy_dtype_name(dtype, path.name)))
    except KernelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise KernelFileError(f"{path.name}: not a readable .npz archive ({exc})") from None

    def read(name: str) -> np.ndarray:
        try:
            with np.load(path, allow_pickle=False) as npz:
                return npz[name]
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
            raise KernelFileError(f"{path.name}: the archive is truncated or damaged ({exc})") from None

    return infos, read


# The dtypes a kernel is saved in: float32 is what PyTorch receives by default (and what a
# checkpoint holds); float64 keeps every digit convplay computes with.
SAVE_DTYPES = ("float32", "float64")
DEFAULT_SAVE_DTYPE = "float32"


def save_dtype(dtype: str) -> np.dtype:
    if dtype not in SAVE_DTYPES:
        raise KernelFileError(f"kernels are saved as {' or '.join(SAVE_DTYPES)}, not {dtype}")
    return np.dtype(dtype)


def save_npy(path: Path, weight: np.ndarray, dtype: str = "float64") -> None:
    """The weight alone (a .npy file holds one array)."""
    np.save(Path(path), np.asarray(weight, dtype=save_dtype(dtype)), allow_pickle=False)


def save_npz(path: Path, weight: np.ndarray, bias: Optional[np.ndarray] = None, dtype: str = "float64") -> None:
    """'weight' and, when the kernel has one, 'bias', as PyTorch names them (no pickles)."""
    arrays = {"weight": np.ascontiguousarray(weight, dtype=save_dtype(dtype))}
    if bias is not None:
        arrays["bias"] = np.ascontiguousarray(np.ravel(bias), dtype=save_dtype(dtype))
    # np.savez appends .npz to a name without it; write to the file object so the name is kept.
    with open(Path(path), "wb") as f:
        np.savez(f, **arrays)


def exact_text(value: float, dtype: str = "float64") -> str:
    """The shortest Python literal that reads back, as ``dtype``, to exactly ``value`` in
    ``dtype`` ('0.1' for float32's 0.1, not 0.10000000149011612); non-finite values as
    float('nan') / float('inf') / -float('inf') (a negative NaN as -float('nan'))."""
    kind = np.dtype(dtype).type
    with np.errstate(over="ignore"):  # too large for the dtype: infinite there, said so
        narrow = kind(value)
    if narrow != narrow:  # a NaN keeps its sign bit, as the array held it
        return "-float('nan')" if np.signbit(narrow) else "float('nan')"
    if np.isinf(narrow):
        return "float('inf')" if narrow > 0 else "-float('inf')"
    if dtype == "float64":
        return repr(float(narrow))
    text = str(narrow)
    # PyTorch reads the literal as a Python float first and rounds that to the dtype; keep
    # the short text only if that double rounding lands on the same value.
    if kind(float(text)) == narrow:
        return text if any(c in text for c in ".e") else text + ".0"
    return repr(float(narrow))


# -- turning a loaded weight into a convolution --------------------------------------------------


@dataclass(frozen=True)
class KernelChoice:
    """What the user picked: a spec and the weight and bias that fit it."""

    spec: ConvSpec
    weight: np.ndarray
    bias: Optional[np.ndarray]
    notes: tuple[str, ...] = ()


def choose_kernel(
    loaded: LoadedKernel,
    base: ConvSpec,
    image_channels: int,
    index: Optional[int] = None,
    transposed: Optional[bool] = None,
) -> KernelChoice:
    """The spec for a whole layer (``index`` None) or one filter of it.

    The stride, padding, dilation and padding mode of ``base`` are kept.  A whole layer
    whose weight reads fewer channels than the image has becomes a grouped conv when the
    numbers allow it (a depthwise (C, 1, k, k) weight on a C-channel image: groups = C).
    ``index`` picks one output filter.  ``transposed`` overrides the name's guess.
    """
    weight, bias = loaded.weight, loaded.bias
    transposed = loaded.transposed if transposed is None else transposed
    kh, kw = weight.shape[2:]
    notes = []
    n_out = weight.shape[1] if transposed else weight.shape[0]
    if index is not None:
        if not 0 <= index < n_out:
            raise KernelFileError(f"{loaded.name} has {n_out} filters; index {index} is out of range")
        weight = weight[:, index : index + 1] if transposed else weight[index : index + 1]
        bias = None if bias is None else bias[index : index + 1]
    if transposed:
        in_ch, out_ch, groups = weight.shape[0], weight.shape[1], 1
    else:
        out_ch, per_group = weight.shape[0], weight.shape[1]
        groups = 1
        if per_group != image_channels and image_channels % per_group == 0:
            g = image_channels // per_group
            if out_ch % g == 0:
                groups = g
                notes.append(f"groups = {g}: each filter reads {per_group} of the image's {image_channels} channels")
        in_ch = per_group * groups
    if in_ch != image_channels:
        notes.append(f"this kernel reads {in_ch} channel(s) but the image has {image_channels}")
    spec = base.replace(
        in_channels=in_ch,
        out_channels=out_ch,
        kernel_size=(kh, kw) if kh != kw else kh,
        groups=groups,
        bias=bias is not None,
        transposed=transposed,
        output_padding=base.output_padding if transposed else 0,
    )
    return KernelChoice(spec, np.array(weight), None if bias is None else np.array(bias), tuple(notes))


# -- the --kernel-file argument -------------------------------------------------------------------


@dataclass(frozen=True)
class KernelFileArg:
    path: str
    name: Optional[str] = None
    index: Optional[int] = None


def parse_kernel_file_arg(arg: str, exists: Callable[[str], bool] = lambda p: Path(p).is_file()) -> KernelFileArg:
    """``PATH``, ``PATH:NAME``, ``PATH:INDEX`` or ``PATH:NAME:INDEX`` (NAME may be empty).

    A path that exists as given wins, so file names with colons still work; a Windows
    drive letter ('C:\\...') is never taken for a separator.
    """
    if not arg:
        raise KernelFileError("--kernel-file needs a path")
    if exists(arg):
        return KernelFileArg(arg)
    rest, index = arg, None
    head, sep, tail = arg.rpartition(":")
    if sep and _drive_safe(head) and re.fullmatch(r"-?\d+", tail.strip()):
        rest, index = head, int(tail)
        if index < 0:
            raise KernelFileError(f"filter index must be 0 or more, not {index}")
    if exists(rest) or not _drive_safe(rest.rpartition(":")[0]):
        return KernelFileArg(rest, None, index)
    path, sep, name = rest.rpartition(":")
    if not sep:
        return KernelFileArg(rest, None, index)
    return KernelFileArg(path, name or None, index)


def _drive_safe(head: str) -> bool:
    """False when ``head`` is empty or only a drive letter, so the colon belongs to the path."""
    return bool(head) and not re.fullmatch(r"[A-Za-z]", head)
