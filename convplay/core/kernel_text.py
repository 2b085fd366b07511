"""Kernels as text: ImageJ kernel files and plain text / CSV matrices.

Text is parsed as numbers only (never evaluated); a file larger than MAX_TEXT_BYTES is
refused before it is read.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from convplay.core.kernel_io import KernelFile, KernelFileError, TensorInfo

MAX_TEXT_BYTES = 1 << 20  # a 15x15 kernel in text is a few KB; a megabyte is already generous


def parse_kernel_text(text: str, source: str = "text") -> np.ndarray:
    """Numbers in rows (spaces, tabs, commas or semicolons between them) as (n, 1, h, w).

    One matrix is one filter (the ImageJ kernel format); several matrices separated by
    blank lines are several filters of the same size.  '#' starts a comment.  ImageJ's
    'normalize' flag line, if present, is ignored.
    """
    blocks: list[list[list[float]]] = [[]]
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            if blocks[-1]:
                blocks.append([])
            continue
        if line.lower().startswith("normalize"):
            continue
        cells = [c for c in re.split(r"[\s,;]+", line) if c]
        try:
            blocks[-1].append([float(c) for c in cells])
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise KernelFileError(f"{source}, line {lineno}: {bad!r} is not a number") from None
    blocks = [b for b in blocks if b]
    if not blocks:
        raise KernelFileError(f"{source}: no numbers found")
    shape = (len(blocks[0]), len(blocks[0][0]))
    for k, block in enumerate(blocks):
        widths = {len(row) for row in block}
        if len(widths) != 1:
            raise KernelFileError(f"{source}: the rows of matrix {k + 1} have different lengths {sorted(widths)}")
        if (len(block), len(block[0])) != shape:
            raise KernelFileError(
                f"{source}: matrix {k + 1} is {len(block)}x{len(block[0])}, the first is {shape[0]}x{shape[1]}"
            )
    return np.array(blocks, dtype=np.float64)[:, None]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_kernel_text(path: Path) -> KernelFile:
    """An ImageJ kernel text file or a plain text / CSV matrix."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise KernelFileError(f"{path.name}: {size:,} bytes is too large for a kernel text file")
        raw = path.read_bytes()
    except OSError as exc:
        raise KernelFileError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KernelFileError(f"{path.name}: not a text file (it holds binary data)") from None
    weight = parse_kernel_text(text, path.name)
    name = path.stem
    return KernelFile(path, "text file", [TensorInfo(name, weight.shape, "float64")], lambda _: weight)


def format_imagej(kernel: np.ndarray) -> str:
    """One 2-D filter in ImageJ's kernel text: rows of numbers separated by spaces."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"ImageJ kernels are 2-D; got shape {kernel.shape}")
    return "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in kernel)


def save_imagej(path: Path, kernel: np.ndarray) -> None:
    Path(path).write_text(format_imagej(kernel), encoding="utf-8")
