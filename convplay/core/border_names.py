"""What each border (how a filter extends an image past its edge) is called in PyTorch,
OpenCV, NumPy, scipy.ndimage and MATLAB's imfilter.

The same names mean different borders in different tools: scipy's 'reflect' is NumPy's
'symmetric' (the edge pixel repeated), not PyTorch's or NumPy's 'reflect'.  Every name
here was checked by padding [1 2 3 4 5] by 2 in each library (tests/core/test_border_names.py
runs that check again).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Border:
    """One border under each tool's name; None where the tool has no such border."""

    key: str  # convplay's own key: the PyTorch padding_mode, or "symmetric"
    picture: str  # [1 2 3 4 5] padded by 2 in this border
    description: str
    pytorch: str | None  # nn.Conv2d's padding_mode
    opencv: str  # cv2.BORDER_* name
    numpy: str  # np.pad mode
    scipy: str  # scipy.ndimage mode
    matlab: str | None  # imfilter's boundary option
    # what a name needs beside it to mean this border ("value 0"), per tool
    opencv_extra: str = ""
    scipy_extra: str = ""
    matlab_extra: str = ""


BORDERS: tuple[Border, ...] = (
    Border(
        "zeros", "0 0 | 1 2 3 4 5 | 0 0", "zeros past the edge",
        pytorch="zeros", opencv="BORDER_CONSTANT", numpy="constant", scipy="constant",
        matlab="X = 0 (the default)", opencv_extra="value 0", scipy_extra="cval 0",
    ),
    Border(
        "reflect", "3 2 | 1 2 3 4 5 | 4 3", "mirrored at the edge pixel, which is not repeated",
        pytorch="reflect", opencv="BORDER_REFLECT_101", numpy="reflect", scipy="mirror",
        matlab=None, opencv_extra="OpenCV's default",
    ),
    Border(
        "replicate", "1 1 | 1 2 3 4 5 | 5 5", "the edge pixel repeated",
        pytorch="replicate", opencv="BORDER_REPLICATE", numpy="edge", scipy="nearest",
        matlab="'replicate'",
    ),
    Border(
        "circular", "4 5 | 1 2 3 4 5 | 1 2", "wrapped around from the opposite edge",
        pytorch="circular", opencv="BORDER_WRAP", numpy="wrap", scipy="wrap",
        matlab="'circular'",
    ),
    Border(
        "symmetric", "2 1 | 1 2 3 4 5 | 5 4", "mirrored beyond the edge pixel, which is repeated",
        pytorch=None, opencv="BORDER_REFLECT", numpy="symmetric", scipy="reflect",
        matlab="'symmetric'",
    ),
)

_BY_KEY = {border.key: border for border in BORDERS}
SYMMETRIC = _BY_KEY["symmetric"]


def border(key: str) -> Border:
    """The border for a PyTorch padding_mode (or "symmetric"); KeyError for any other."""
    return _BY_KEY[key]


def elsewhere_line(padding_mode: str) -> str:
    """One short line: the same border's names in OpenCV, NumPy and scipy ("" if unknown)."""
    b = _BY_KEY.get(padding_mode)
    if b is None:
        return ""
    opencv = b.opencv + (" (0)" if b.opencv == "BORDER_CONSTANT" else "")
    if b.numpy == b.scipy:
        return f"= OpenCV {opencv}, NumPy/scipy '{b.numpy}'"
    return f"= OpenCV {opencv}, NumPy '{b.numpy}', scipy '{b.scipy}'"


def names_text(b: Border) -> str:
    """The border's names, one tool a line, for a tooltip."""
    def with_extra(name: str, extra: str) -> str:
        return f"{name} ({extra})" if extra else name

    lines = [
        f"PyTorch padding_mode: {repr(b.pytorch) if b.pytorch else 'none'}",
        f"OpenCV: {with_extra('cv2.' + b.opencv, b.opencv_extra)}",
        f"NumPy np.pad mode: '{b.numpy}'",
        f"scipy.ndimage mode: {with_extra(repr(b.scipy), b.scipy_extra)}",
        f"MATLAB imfilter: {with_extra(b.matlab, b.matlab_extra) if b.matlab else 'no such option'}",
    ]
    return "\n".join(lines)


SCIPY_TRAP = (
    "Careful: scipy.ndimage's 'reflect' is NOT PyTorch's 'reflect' (it repeats the edge\n"
    "pixel, like NumPy's 'symmetric'); PyTorch's 'reflect' is scipy's 'mirror'."
)

SYMMETRIC_HOW = (
    "PyTorch has no padding_mode for MATLAB's 'symmetric' (OpenCV BORDER_REFLECT, NumPy\n"
    "'symmetric', scipy 'reflect'), and F.pad has no such mode either: pad by hand with\n"
    "np.pad(x, ((0, 0), (p, p), (p, p)), mode='symmetric') (or torch.cat of flipped edge\n"
    "slices), then convolve with padding=0."
)

SYMMETRIC_NOTE = "MATLAB's 'symmetric' has no padding_mode"


def tooltip(padding_mode: str) -> str:
    """What a padding_mode does, [1 2 3 4 5] padded in it, and its names in other tools."""
    b = _BY_KEY.get(padding_mode)
    if b is None:
        return ""
    lines = [f"{padding_mode}: {b.description}", f"[1 2 3 4 5] padded by 2: {b.picture}", "", names_text(b)]
    if padding_mode == "reflect":
        lines += ["", SCIPY_TRAP]
    return "\n".join(lines)


def symmetric_tooltip() -> str:
    b = SYMMETRIC
    return "\n".join([
        f"symmetric: {b.description}", f"[1 2 3 4 5] padded by 2: {b.picture}", "",
        names_text(b), "", SYMMETRIC_HOW,
    ])
