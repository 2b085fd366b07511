"""Named kernels a user can drop into the kernel editor, as plain numpy data.

Every kernel is written as PyTorch applies it: conv2d is cross-correlation, so the
weight at row 0, column 0 multiplies the top-left pixel under the window, with no flip.
The descriptions state signs in that convention (x grows to the right, y downwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Preset:
    """One named kernel.  ``weights`` is read-only: copy it before editing."""

    key: str
    name: str
    description: str
    weights: np.ndarray
    category: str = ""


class UnknownPresetError(ValueError):
    """A preset key that the registry does not hold."""


def _kernel(rows: list[list[float]], denominator: int = 1) -> np.ndarray:
    # Whole numbers over a whole denominator, divided once: each weight is the float64
    # nearest n/denominator, exactly what typing "n/denominator" stores, so the grid can
    # show 4/256 for it without hiding a rounding.
    weights = np.asarray(rows, dtype=np.float64) / denominator
    weights.setflags(write=False)
    return weights


_BINOMIAL_3 = np.array([1.0, 2.0, 1.0])
_BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])
_SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
_SCHARR_X = [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
_PREWITT_X = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]
# The tutorial's vertical-edge kernel: bright on the left, dark on the right gives a
# positive response (its 6x6 example of 10s then 0s yields the 30s of its target).
_EDGE_VERTICAL = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
# Laplacian of a Gaussian with the Laplacians' sign: negative centre, zero sum.
_LOG_5 = [
    [0, 0, 1, 0, 0],
    [0, 1, 2, 1, 0],
    [1, 2, -16, 2, 1],
    [0, 1, 2, 1, 0],
    [0, 0, 1, 0, 0],
]


def _transposed(rows: list[list[float]]) -> list[list[float]]:
    return [list(col) for col in zip(*rows)]


PRESETS: tuple[Preset, ...] = (
    Preset("identity", "Identity", "Copies the input: 1 at the centre, 0 elsewhere.",
           _kernel([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "Basic"),
    Preset("box3", "Box blur 3×3", "Mean of the 3×3 neighbourhood; weights sum to 1.",
           _kernel(np.ones((3, 3)).tolist(), 9), "Blur"),
    Preset("box5", "Box blur 5×5", "Mean of the 5×5 neighbourhood; weights sum to 1.",
           _kernel(np.ones((5, 5)).tolist(), 25), "Blur"),
    Preset("gaussian3", "Gaussian 3×3",
           "Binomial [1 2 1]ᵀ[1 2 1] / 16: a smooth blur; weights sum to 1.",
           _kernel(np.outer(_BINOMIAL_3, _BINOMIAL_3).tolist(), 16), "Blur"),
    Preset("gaussian5", "Gaussian 5×5",
           "Binomial [1 4 6 4 1]ᵀ[1 4 6 4 1] / 256: a wider smooth blur; weights sum to 1.",
           _kernel(np.outer(_BINOMIAL_5, _BINOMIAL_5).tolist(), 256), "Blur"),
    Preset("sharpen", "Sharpen",
           "Identity plus a 4-neighbour Laplacian boost: edges stand out; weights sum to 1.",
           _kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]), "Basic"),
    Preset("sobel_x", "Sobel x",
           "Horizontal gradient: positive where the image gets brighter to the right "
           "(PyTorch's cross-correlation, no flip).",
           _kernel(_SOBEL_X), "Edges"),
    Preset("sobel_y", "Sobel y",
           "Vertical gradient: positive where the image gets brighter downwards "
           "(PyTorch's cross-correlation, no flip).",
           _kernel(_transposed(_SOBEL_X)), "Edges"),
    Preset("scharr_x", "Scharr x",
           "Horizontal gradient with better rotational symmetry than Sobel: positive where "
           "the image gets brighter to the right.",
           _kernel(_SCHARR_X), "Edges"),
    Preset("scharr_y", "Scharr y",
           "Vertical gradient with better rotational symmetry than Sobel: positive where "
           "the image gets brighter downwards.",
           _kernel(_transposed(_SCHARR_X)), "Edges"),
    Preset("prewitt_x", "Prewitt x",
           "Horizontal gradient with equal row weights: positive where the image gets "
           "brighter to the right.",
           _kernel(_PREWITT_X), "Edges"),
    Preset("prewitt_y", "Prewitt y",
           "Vertical gradient with equal column weights: positive where the image gets "
           "brighter downwards.",
           _kernel(_transposed(_PREWITT_X)), "Edges"),
    Preset("laplacian4", "Laplacian (4-neighbour)",
           "Second derivative along rows and columns: negative centre, zero sum; "
           "flat areas give 0.",
           _kernel([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), "Second derivative"),
    Preset("laplacian8", "Laplacian (8-neighbour)",
           "Second derivative including diagonals: negative centre, zero sum; "
           "flat areas give 0.",
           _kernel([[1, 1, 1], [1, -8, 1], [1, 1, 1]]), "Second derivative"),
    Preset("log5", "Laplacian of Gaussian 5×5",
           "Smoothed Laplacian for blobs and edges: negative centre, zero sum "
           "(negate it for the 'Mexican hat').",
           _kernel(_LOG_5), "Second derivative"),
    Preset("emboss", "Emboss",
           "Relief: the input plus a diagonal gradient, positive where it brightens towards the "
           "bottom right; weights sum to 1.",
           _kernel([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]), "Stylise"),
    Preset("edge_vertical", "Vertical edges (tutorial)",
           "The tutorial's vertical-edge kernel: positive where bright on the left meets "
           "dark on the right.",
           _kernel(_EDGE_VERTICAL), "Tutorial"),
    Preset("edge_horizontal", "Horizontal edges (tutorial)",
           "The tutorial's horizontal-edge kernel: positive where bright above meets dark below.",
           _kernel(_transposed(_EDGE_VERTICAL)), "Tutorial"),
    Preset("x_shape", "X-shaped (tutorial)",
           "The tutorial's 3×3 X: sums the centre and the four corners; on its 5×5 example "
           "it gives [[4,3,4],[2,4,3],[2,3,4]].",
           _kernel([[1, 0, 1], [0, 1, 0], [1, 0, 1]]), "Tutorial"),
    Preset("matrix_example", "Matrix example (3×3)",
           "The 3×3 kernel [[0,1,2],[2,2,0],[0,1,2]]: on the 4×4 matrix sample it gives "
           "[[12,12],[10,17]], each output one row of the 4×16 matrix C times the input.",
           _kernel([[0, 1, 2], [2, 2, 0], [0, 1, 2]]), "Tutorial"),
)

DEFAULT_PRESET_KEY = "sobel_x"

_BY_KEY = {p.key: p for p in PRESETS}


def preset_keys() -> list[str]:
    """The keys in menu order."""
    return [p.key for p in PRESETS]


def get_preset(key: str) -> Preset:
    """The preset named ``key``; UnknownPresetError lists the valid keys otherwise."""
    try:
        return _BY_KEY[key]
    except (KeyError, TypeError):
        raise UnknownPresetError(
            f"unknown kernel preset {key!r}; choose one of: {', '.join(preset_keys())}"
        ) from None
