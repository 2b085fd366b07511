"""Built-in input images: bundled CC0 photos, procedural patterns and the tutorial's matrices.

Every sample makes a (C, H, W) float64 array.  Photos and patterns are made at the
requested working size (the long side, in pixels); the tutorial matrices keep their exact
size and values, because the worked examples are about those numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from convplay.core.image_io import DEFAULT_WORKING_SIZE, load_image, resize_long_side
from convplay.core.resources import resource_path

PHOTOS = "Photos"
PATTERNS = "Patterns"
TUTORIAL = "Tutorial matrices"

NOISE_SEED = 20240601


@dataclass(frozen=True)
class Sample:
    key: str
    name: str
    description: str
    group: str
    make: Callable[[int], np.ndarray]
    fixed_size: bool = False  # True: the working size is ignored

    def image(self, long_side: int = DEFAULT_WORKING_SIZE) -> np.ndarray:
        """The sample as a new (C, H, W) float64 array; ``long_side`` is ignored for fixed sizes."""
        return self.make(long_side)


# -- photos ----------------------------------------------------------------------------


def _photo(filename: str) -> Callable[[int], np.ndarray]:
    def make(long_side: int) -> np.ndarray:
        image = load_image(resource_path("samples", filename))
        return resize_long_side(image, long_side)

    return make


# -- patterns ------------------------------------------------------------------------------


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of an n x n image."""
    return np.mgrid[0:n, 0:n]


def checkerboard(n: int, squares: int = 8) -> np.ndarray:
    rows, cols = _grid(n)
    cell = max(1, n // squares)
    return ((rows // cell + cols // cell) % 2).astype(np.float64)[None]


def vertical_edge(n: int) -> np.ndarray:
    """Dark left half, bright right half: a vertical step edge (Sobel-x lights it)."""
    _, cols = _grid(n)
    return (cols >= n // 2).astype(np.float64)[None]


def horizontal_edge(n: int) -> np.ndarray:
    """Dark top half, bright bottom half: a horizontal step edge (Sobel-y lights it)."""
    rows, _ = _grid(n)
    return (rows >= n // 2).astype(np.float64)[None]


def disk(n: int) -> np.ndarray:
    rows, cols = _grid(n)
    centre = (n - 1) / 2
    radius = n * 0.3
    return (((rows - centre) ** 2 + (cols - centre) ** 2) <= radius**2).astype(np.float64)[None]


def stripes(n: int, period: int | None = None) -> np.ndarray:
    """Diagonal stripes, so both horizontal and vertical edge kernels respond."""
    rows, cols = _grid(n)
    period = period or max(2, n // 8)
    return (((rows + cols) // max(1, period // 2)) % 2).astype(np.float64)[None]


def noise(n: int) -> np.ndarray:
    """Uniform noise in [0, 1), the same every time (fixed seed)."""
    return np.random.default_rng(NOISE_SEED).random((1, n, n))


# -- the tutorial's worked examples (its exact values) --------------------------------------

X_5X5 = np.array(
    [
        [1.0, 1.0, 1.0, 0.0, 0.0],
        [0.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0, 0.0],
    ]
)[None]

MULTI_IN_3X5X5 = np.array(
    [
        [[1, 0, 1, 0, 2], [1, 1, 3, 2, 1], [1, 1, 0, 1, 1], [2, 3, 2, 1, 3], [0, 2, 0, 1, 0]],
        [[1, 0, 0, 1, 0], [2, 0, 1, 2, 0], [3, 1, 1, 3, 0], [0, 3, 0, 3, 2], [1, 0, 3, 2, 1]],
        [[2, 0, 1, 2, 1], [3, 3, 1, 3, 2], [2, 1, 1, 1, 0], [3, 1, 3, 2, 0], [1, 1, 2, 1, 1]],
    ],
    dtype=np.float64,
)

ONE_BY_ONE_3X3X3 = np.array(
    [
        [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
        [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
        [[2, 2, 2], [2, 2, 2], [2, 2, 2]],
    ],
    dtype=np.float64,
)

TENS_6X6 = np.tile(np.array([10.0, 10.0, 10.0, 0.0, 0.0, 0.0]), (6, 1))[None]

POOL_4X4 = np.array([[7.0, 3.0, 5.0, 2.0], [8.0, 7.0, 1.0, 6.0], [4.0, 9.0, 3.0, 9.0], [0.0, 8.0, 4.0, 5.0]])[None]
# The first 25 digits of π: distinct enough that every adaptive window has its own maximum.
POOL_5X5 = np.array([[3.0, 1.0, 4.0, 1.0, 5.0], [9.0, 2.0, 6.0, 5.0, 3.0], [5.0, 8.0, 9.0, 7.0, 9.0],
                     [3.0, 2.0, 3.0, 8.0, 4.0], [6.0, 2.0, 6.0, 4.0, 3.0]])[None]

# A 4×4 input for the convolution as a matrix: with the 3×3 kernel MATRIX_KERNEL and no
# padding its 2×2 output is y = C·x with C of shape 4×16, [[12, 12], [10, 17]].
MATRIX_4X4 = np.array([[3.0, 3.0, 2.0, 1.0], [0.0, 0.0, 1.0, 3.0], [3.0, 1.0, 2.0, 2.0], [2.0, 0.0, 0.0, 2.0]])[None]


def _fixed(array: np.ndarray) -> Callable[[int], np.ndarray]:
    return lambda _long_side: array.copy()


def _pattern(fn: Callable[[int], np.ndarray]) -> Callable[[int], np.ndarray]:
    return lambda long_side: fn(max(1, long_side))


SAMPLES: tuple[Sample, ...] = (
    Sample("camera", "Camera (photo)", "A man with a camera on a tripod; grayscale, CC0 (scikit-image).", PHOTOS, _photo("camera.png")),
    Sample("chelsea", "Chelsea the cat (photo)", "A cat; RGB, with edges in many directions; CC0 (scikit-image).", PHOTOS, _photo("chelsea.png")),
    Sample("brick", "Brick wall (photo)", "A brick wall: strong horizontal and vertical edges; grayscale, CC0 (scikit-image).", PHOTOS, _photo("brick.png")),
    Sample("checkerboard", "Checkerboard", "8 x 8 squares of 0 and 1.", PATTERNS, _pattern(checkerboard)),
    Sample("vertical_edge", "Vertical step edge", "0 on the left, 1 on the right: Sobel-x responds.", PATTERNS, _pattern(vertical_edge)),
    Sample("horizontal_edge", "Horizontal step edge", "0 on top, 1 below: Sobel-y responds.", PATTERNS, _pattern(horizontal_edge)),
    Sample("disk", "Disk", "A filled disk of 1 on 0: edges in every direction.", PATTERNS, _pattern(disk)),
    Sample("stripes", "Diagonal stripes", "Stripes of 0 and 1 at 45 degrees.", PATTERNS, _pattern(stripes)),
    Sample("noise", "Noise", "Uniform random values in [0, 1), the same every time (fixed seed).", PATTERNS, _pattern(noise)),
    Sample("tutorial_x", "Tutorial: 5x5 X", "The tutorial's 5x5 input for the 3x3 X-shaped kernel [[1,0,1],[0,1,0],[1,0,1]].", TUTORIAL, _fixed(X_5X5), fixed_size=True),
    Sample("tutorial_multi_in", "Tutorial: 3x5x5 three channels", "The tutorial's three-channel 5x5 input: each channel has its own 3x3 kernel and the results add up.", TUTORIAL, _fixed(MULTI_IN_3X5X5), fixed_size=True),
    Sample("tutorial_1x1", "Tutorial: 3x3x3 for the 1x1 kernel", "The tutorial's 3-channel 3x3 input for the 1x1 convolution example (weight shape 3x3x1x1).", TUTORIAL, _fixed(ONE_BY_ONE_3X3X3), fixed_size=True),
    Sample("tutorial_tens", "Tutorial: 6x6 of 10s and 0s", "The tutorial's 6x6 input (10 on the left, 0 on the right) for learning an edge kernel by gradient descent.", TUTORIAL, _fixed(TENS_6X6), fixed_size=True),
    Sample("tutorial_pool", "4×4 for max pooling", "A 4×4 input whose 2×2 max pooling with stride 2 gives [[8, 6], [9, 9]].", TUTORIAL, _fixed(POOL_4X4), fixed_size=True),
    Sample("matrix_4x4", "4×4 for the convolution as a matrix", "A 4×4 input: with the 3×3 kernel [[0,1,2],[2,2,0],[0,1,2]] (the \"Matrix example\" kernel) its 2×2 output [[12, 12], [10, 17]] is y = C·x, C a 4×16 matrix.", TUTORIAL, _fixed(MATRIX_4X4), fixed_size=True),
    Sample("tutorial_pool5", "5×5 for adaptive pooling", "A 5×5 input (the digits of π): adaptive pooling to 3×3 reads windows of 2, 3 and 2 cells per side, and they overlap.", TUTORIAL, _fixed(POOL_5X5), fixed_size=True),
)


def sample(key: str) -> Sample:
    for s in SAMPLES:
        if s.key == key:
            return s
    raise KeyError(f"no sample named {key!r}; the samples are {', '.join(s.key for s in SAMPLES)}")
