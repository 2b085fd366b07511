"""Parametric kernel families, as MATLAB's fspecial defines them, as plain numpy arrays.

Every function returns a new float64 2-D array, written as PyTorch applies it (conv2d is
cross-correlation: weight[0, 0] multiplies the top-left pixel under the window, no flip).
x grows to the right along the columns, y downwards along the rows; the centre of an
n-pixel side is at (n - 1) / 2, so even sides put the coordinates at half-integers.

A parameter out of range is refused with :class:`KernelParameterError`, which names the
parameter and its allowed range.  :data:`FAMILIES` describes every family (its parameters
with default, range and step) and :func:`make` builds one by key, so a panel or a command
line option can be generated from the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

MAX_SIDE = 15  # convplay's kernel size limit, per side
NORMALISATIONS = ("sum", "zero_mean", "none")
_EPS = np.finfo(np.float64).eps
_SUPERSAMPLE = 16  # samples per pixel side for the disk (strips) and motion coverage


class KernelParameterError(ValueError):
    """A parametric kernel's parameter (or family name) that cannot be used.

    ``parameter`` names the parameter at fault ("family" for an unknown family key)."""

    def __init__(self, message: str, parameter: str | None):
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class Parameter:
    """One parameter of a family: the name :func:`make` (and the command line) use."""

    name: str
    label: str
    default: float
    minimum: float
    maximum: float
    step: float
    integer: bool = False
    description: str = ""

    def allowed(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {_fmt(self.minimum)} to {_fmt(self.maximum)}"


@dataclass(frozen=True)
class Family:
    """A kernel family: ``function`` takes the parameters' values in ``parameters``' order."""

    key: str
    name: str
    description: str
    parameters: tuple[Parameter, ...]
    function: Callable[..., np.ndarray]

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KernelParameterError(
            f"{self.key} has no parameter {name!r}; its parameters: {self._names()}", name
        )

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}

    def _names(self) -> str:
        return ", ".join(p.name for p in self.parameters) or "none"


def _fmt(value: float) -> str:
    return f"{value:g}"


# --- validation --------------------------------------------------------------------------


def _number(family: str, spec: Parameter, value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise KernelParameterError(
            f"{family}: {spec.name} must be {spec.allowed()}, got {value!r}", spec.name
        )
    v = float(value)
    if not math.isfinite(v) or not spec.minimum <= v <= spec.maximum:
        raise KernelParameterError(
            f"{family}: {spec.name} must be {spec.allowed()}, got {_fmt(v)}", spec.name
        )
    if spec.integer and not (isinstance(value, Integral) or v.is_integer()):
        raise KernelParameterError(
            f"{family}: {spec.name} must be {spec.allowed()}, got {_fmt(v)}", spec.name
        )
    return v


def _size(family: str, spec: Parameter, value) -> tuple[int, int]:
    """An int or an (h, w) pair, each side within the spec's range."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise KernelParameterError(
                f"{family}: {spec.name} must be one side or an (h, w) pair, got {value!r}",
                spec.name,
            )
        h, w = value
    else:
        h = w = value
    return int(_number(family, spec, h)), int(_number(family, spec, w))


def _coordinates(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """x (columns, rightwards) and y (rows, downwards) about the kernel's centre."""
    y = np.arange(h, dtype=np.float64) - (h - 1) / 2
    x = np.arange(w, dtype=np.float64) - (w - 1) / 2
    return np.meshgrid(x, y)


def _gaussian_unnormalised(
    h: int, w: int, sigma: float, threshold: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = _coordinates(h, w)
    g = np.exp(-(x * x + y * y) / (2.0 * sigma * sigma))
    if threshold:
        g[g < _EPS * g.max()] = 0.0  # as fspecial does
    return g, x, y


# --- parameter specs (shared by the functions and FAMILIES) -------------------------------

_SIZE = Parameter("size", "Size", 3, 1, MAX_SIDE, 1, True, "kernel side in pixels (or h, w)")
_SIZE5 = Parameter("size", "Size", 5, 1, MAX_SIDE, 1, True, "kernel side in pixels (or h, w)")
_SIZE_D = Parameter("size", "Size", 5, 2, MAX_SIDE, 1, True, "kernel side in pixels (or h, w)")
_SIZE_GABOR = Parameter("size", "Size", 9, 1, MAX_SIDE, 1, True, "kernel side in pixels (or h, w)")
_SIGMA = Parameter("sigma", "σ", 0.5, 0.1, 10.0, 0.1, False, "standard deviation in pixels")
_SIGMA_D = Parameter("sigma", "σ", 1.0, 0.2, 10.0, 0.1, False, "standard deviation in pixels")
_SIGMA1 = Parameter("sigma1", "σ1", 0.8, 0.1, 10.0, 0.1, False, "the positive Gaussian's σ")
_SIGMA2 = Parameter("sigma2", "σ2", 1.6, 0.1, 10.0, 0.1, False, "the subtracted Gaussian's σ")
_RADIUS = Parameter("radius", "Radius", 5.0, 0.5, (MAX_SIDE - 1) / 2 + 0.5, 0.5, False,
                    "disk radius in pixels")
_LENGTH = Parameter("length", "Length", 9.0, 1.0, float(MAX_SIDE), 1.0, False,
                    "line length in pixels")
_ANGLE = Parameter("angle", "Angle", 0.0, -180.0, 180.0, 1.0, False,
                   "degrees, anticlockwise on screen from the +x axis")
_ALPHA = Parameter("alpha", "α", 0.2, 0.0, 1.0, 0.05, False, "shape, 0 to 1")
_THETA = Parameter("theta", "θ", 0.0, -180.0, 180.0, 1.0, False,
                   "the wave's direction in degrees, anticlockwise on screen from the +x axis")
_LAMBDA = Parameter("lambda", "λ", 4.0, 2.0, 30.0, 0.5, False, "wavelength in pixels")
_SIGMA_GABOR = Parameter("sigma", "σ", 2.0, 0.5, 10.0, 0.1, False, "envelope σ in pixels")
_GAMMA = Parameter("gamma", "γ", 0.5, 0.05, 4.0, 0.05, False, "aspect ratio of the envelope")
_PSI = Parameter("psi", "ψ", 0.0, -180.0, 180.0, 1.0, False, "phase offset in degrees")
_SIZE_BOX = Parameter("size", "Size", 3, 1, MAX_SIDE, 1, True, "kernel side in pixels (or h, w)")


# --- the families ------------------------------------------------------------------------


def gaussian(size=3, sigma=0.5) -> np.ndarray:
    """fspecial('gaussian', size, sigma): exp(-(x² + y²) / 2σ²), normalised to sum 1
    (values below eps times the peak set to 0, as fspecial does)."""
    h, w = _size("gaussian", _SIZE, size)
    s = _number("gaussian", _SIGMA, sigma)
    g, _, _ = _gaussian_unnormalised(h, w, s)
    return g / g.sum()


def _gaussian_derivative(name: str, size, sigma, axis: str) -> np.ndarray:
    h, w = _size(name, _SIZE_D, size)
    s = _number(name, _SIGMA_D, sigma)
    g, x, y = _gaussian_unnormalised(h, w, s, threshold=False)  # keep the tails: x·G
    c = x if axis == "x" else y
    k = c * g  # ∝ -∂G/∂c: odd in c, so it sums to 0
    ramp = float((k * c).sum())  # the response to the unit ramp f = c
    if ramp <= 0.0:  # σ so small that only the centre row/column survives
        raise KernelParameterError(
            f"{name}: sigma {_fmt(s)} is too small for this size: the kernel vanishes", "sigma"
        )
    return k / ramp


def gaussian_dx(size=5, sigma=1.0) -> np.ndarray:
    """Derivative of a Gaussian in x: weights ∝ x·G(x, y) (= -σ² ∂G/∂x), zero mean (odd in
    x), scaled so that the unit ramp f = x gives exactly 1 under cross-correlation; so it
    is positive where the image gets brighter to the right, as the preset 'sobel_x'."""
    return _gaussian_derivative("gaussian_dx", size, sigma, "x")


def gaussian_dy(size=5, sigma=1.0) -> np.ndarray:
    """Derivative of a Gaussian in y (downwards): weights ∝ y·G(x, y), zero mean, scaled so
    that the unit ramp f = y gives 1; positive where the image gets brighter downwards."""
    return _gaussian_derivative("gaussian_dy", size, sigma, "y")


def log(size=5, sigma=0.5) -> np.ndarray:
    """fspecial('log', size, sigma), by its documented formula: with hg the unnormalised
    Gaussian, h = (x² + y² - 2σ²)·hg / (2πσ⁶ · Σhg), then h - mean(h) so it sums to 0.
    Negative centre (its minimum)."""
    h, w = _size("log", _SIZE5, size)
    s = _number("log", _SIGMA, sigma)
    g, x, y = _gaussian_unnormalised(h, w, s)
    k = (x * x + y * y - 2.0 * s * s) * g / (2.0 * math.pi * s**6 * g.sum())
    return k - k.mean()


def dog(size=5, sigma1=0.8, sigma2=1.6) -> np.ndarray:
    """Difference of Gaussians: gaussian(size, σ1) - gaussian(size, σ2); sums to 0."""
    h, w = _size("dog", _SIZE5, size)
    s1 = _number("dog", _SIGMA1, sigma1)
    s2 = _number("dog", _SIGMA2, sigma2)
    return gaussian((h, w), s1) - gaussian((h, w), s2)


def disk(radius=5.0) -> np.ndarray:
    """fspecial('disk', radius): each pixel's weight is the area of it covered by the disk
    of that radius centred on the kernel's centre, normalised to sum 1.  The side is
    2·ceil(radius - 0.5) + 1, as fspecial's (the smallest that holds the whole disk).

    The coverage is estimated, not fspecial's exact area: each pixel is cut into 16
    vertical strips, and the disk's chord through each strip's middle is clipped to the
    pixel exactly (16 samples across, exact down), averaged with the same cut the other
    way.  The weights agree with the exact area's to about 1e-3 (at most 2e-3, for radii
    below 1, where 16×16 point samples were off by up to 4e-3)."""
    r = _number("disk", _RADIUS, radius)
    half = math.ceil(r - 0.5)
    n = 2 * half + 1
    sub = (np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5
    x = (np.arange(n) - half)[:, None] + sub[None, :]  # (column, strip) middles
    chord = np.sqrt(np.maximum(r * r - x * x, 0.0))  # the disk spans -chord..chord in y
    y0 = (np.arange(n) - half - 0.5)[:, None, None]  # each row's top edge
    covered = np.clip(np.minimum(y0 + 1, chord) - np.maximum(y0, -chord), 0.0, None)
    k = covered.mean(axis=2)  # (row, column)
    k = (k + k.T) / 2  # strips across the rows too: the disk's symmetry, kept exactly
    return k / k.sum()


def motion(length=9.0, angle=0.0) -> np.ndarray:
    """fspecial('motion', length, angle): a line ``length`` pixels long through the centre,
    at ``angle`` degrees anticlockwise on screen from the +x axis, anti-aliased, sum 1.

    The kernel has fspecial's size (2·ceil(h·|sin|) + 1) × (2·ceil(h·|cos|) + 1) with
    h = (length - 1) / 2.  The weights approximate fspecial's: each pixel's is its
    coverage by a 1-pixel-wide segment of that length (16×16 samples per pixel), where
    fspecial uses a distance-to-line ramp; horizontal and vertical lines come out as
    fspecial's (e.g. length 4: [1 2 2 2 1] / 8)."""
    n = _number("motion", _LENGTH, length)
    a = math.radians(_number("motion", _ANGLE, angle))
    cos, sin = math.cos(a), math.sin(a)
    half = (n - 1) / 2
    sx = max(0, math.ceil(half * abs(cos) - 1e-9))
    sy = max(0, math.ceil(half * abs(sin) - 1e-9))
    sub = (np.arange(_SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - 0.5
    xs = ((np.arange(2 * sx + 1) - sx)[:, None] + sub[None, :]).ravel()
    ys = ((np.arange(2 * sy + 1) - sy)[:, None] + sub[None, :]).ravel()
    x, y = np.meshgrid(xs, ys)
    along = x * cos - y * sin  # screen-up is -y
    across = x * sin + y * cos
    inside = (np.abs(along) <= n / 2) & (np.abs(across) <= 0.5)
    k = inside.reshape(2 * sy + 1, _SUPERSAMPLE, 2 * sx + 1, _SUPERSAMPLE).mean(axis=(1, 3))
    return k / k.sum()


def laplacian(alpha=0.2) -> np.ndarray:
    """fspecial('laplacian', α): 4/(α+1)·[[α/4, (1-α)/4, α/4], [(1-α)/4, -1, (1-α)/4],
    [α/4, (1-α)/4, α/4]]; sums to 0, negative centre."""
    a = _number("laplacian", _ALPHA, alpha)
    d, e = a / 4, (1 - a) / 4
    return 4 / (a + 1) * np.array([[d, e, d], [e, -1.0, e], [d, e, d]])


def unsharp(alpha=0.2) -> np.ndarray:
    """fspecial('unsharp', α): 1/(α+1)·[[-α, α-1, -α], [α-1, α+5, α-1], [-α, α-1, -α]];
    identity minus the Laplacian, sums to 1."""
    a = _number("unsharp", _ALPHA, alpha)
    return np.array([[-a, a - 1, -a], [a - 1, a + 5, a - 1], [-a, a - 1, -a]]) / (a + 1)


def gabor(size=9, theta_degrees=0.0, lambda_=4.0, sigma=2.0, gamma=0.5, psi_degrees=0.0) -> np.ndarray:
    """A Gabor kernel: exp(-(x'² + γ²y'²) / 2σ²) · cos(2πx'/λ + ψ), with x' the distance
    along the wave's direction, θ degrees anticlockwise on screen from +x (as the motion
    angle and the frequency response's angles), and y' across it.  The rows run down, so
    x' = x cosθ - y sinθ and y' = x sinθ + y cosθ: θ = 0 gives vertical stripes varying
    along x, θ = 90 horizontal ones, θ = 45 a wave travelling to the top right (stripes
    from top-left to bottom-right).  The frequency response peaks at 1/λ cycles per
    pixel in the direction θ.  Not normalised (see :func:`normalised`)."""
    h, w = _size("gabor", _SIZE_GABOR, size)
    t = math.radians(_number("gabor", _THETA, theta_degrees))
    lam = _number("gabor", _LAMBDA, lambda_)
    s = _number("gabor", _SIGMA_GABOR, sigma)
    g = _number("gabor", _GAMMA, gamma)
    psi = math.radians(_number("gabor", _PSI, psi_degrees))
    x, y = _coordinates(h, w)
    xp = x * math.cos(t) - y * math.sin(t)
    yp = x * math.sin(t) + y * math.cos(t)
    return np.exp(-(xp * xp + g * g * yp * yp) / (2 * s * s)) * np.cos(2 * math.pi * xp / lam + psi)


def box(size=3) -> np.ndarray:
    """A box (mean) filter: ones / (h·w)."""
    h, w = _size("box", _SIZE_BOX, size)
    return np.full((h, w), 1.0 / (h * w))


def _binomial(n: int) -> np.ndarray:
    row = np.array([1.0])
    for _ in range(n - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row


def sobel_vectors(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(smoothing, derivative) of the size-n Sobel: the binomial of length n, and the
    binomial of length n - 2 convolved with [-1, 0, 1] (the same as the binomial of
    length n - 1 convolved with [-1, 1]); n = 3 gives [1 2 1] and [-1 0 1], n = 5
    [1 4 6 4 1] and [-1 -2 0 2 1], n = 7 [1 6 15 20 15 6 1] and [-1 -4 -5 0 5 4 1]."""
    if isinstance(size, bool) or not isinstance(size, Integral) or size < 3 or size % 2 == 0 \
            or size > MAX_SIDE:
        raise KernelParameterError(
            f"sobel: size must be an odd whole number from 3 to {MAX_SIDE}, got {size!r}", "size"
        )
    n = int(size)
    return _binomial(n), np.convolve(_binomial(n - 2), [-1.0, 0.0, 1.0])


def sobel_x(size: int = 5) -> np.ndarray:
    """Sobel x of odd size n: smoothing (column) ⊗ derivative (row), unnormalised whole
    numbers, positive where the image gets brighter to the right (as the preset 'sobel_x';
    n = 3 is that preset)."""
    smooth, deriv = sobel_vectors(size)
    return np.outer(smooth, deriv)


def sobel_y(size: int = 5) -> np.ndarray:
    """Sobel y of odd size n: sobel_x transposed, positive where it gets brighter downwards."""
    return sobel_x(size).T.copy()


# --- normalisation -----------------------------------------------------------------------


def normalised(kernel, mode: str) -> np.ndarray:
    """A new float64 copy of ``kernel``: "sum" divides by its sum (refused when the sum is
    0, e.g. for an edge detector), "zero_mean" subtracts its mean, "none" leaves it."""
    k = np.array(kernel, dtype=np.float64)
    if mode == "none":
        return k
    if mode == "zero_mean":
        return k - k.mean()
    if mode == "sum":
        total = float(k.sum())
        if k.size == 0 or abs(total) <= 1e-12 * max(float(np.abs(k).sum()), 1e-300):
            raise KernelParameterError(
                "cannot normalise to sum 1: the kernel's weights sum to 0", "normalisation"
            )
        return k / total
    raise KernelParameterError(
        f"unknown normalisation {mode!r}; choose one of: {', '.join(NORMALISATIONS)}",
        "normalisation",
    )


# --- the table ---------------------------------------------------------------------------

FAMILIES: tuple[Family, ...] = (
    Family("gaussian", "Gaussian", "fspecial 'gaussian': a blur, sums to 1.",
           (_SIZE, _SIGMA), gaussian),
    Family("gaussian_dx", "Derivative of Gaussian x",
           "x·G, zero mean; a unit ramp in x gives 1 (brighter to the right: positive).",
           (_SIZE_D, _SIGMA_D), gaussian_dx),
    Family("gaussian_dy", "Derivative of Gaussian y",
           "y·G, zero mean; a unit ramp in y gives 1 (brighter downwards: positive).",
           (_SIZE_D, _SIGMA_D), gaussian_dy),
    Family("log", "Laplacian of Gaussian", "fspecial 'log': negative centre, sums to 0.",
           (_SIZE5, _SIGMA), log),
    Family("dog", "Difference of Gaussians", "gaussian(σ1) - gaussian(σ2): sums to 0.",
           (_SIZE5, _SIGMA1, _SIGMA2), dog),
    Family("disk", "Disk", "fspecial 'disk': a round averaging filter, sums to 1.",
           (_RADIUS,), disk),
    Family("motion", "Motion", "fspecial 'motion': a line blur, sums to 1.",
           (_LENGTH, _ANGLE), motion),
    Family("laplacian", "Laplacian (α)", "fspecial 'laplacian': 3×3, sums to 0.",
           (_ALPHA,), laplacian),
    Family("unsharp", "Unsharp (α)", "fspecial 'unsharp': 3×3 sharpening, sums to 1.",
           (_ALPHA,), unsharp),
    Family("gabor", "Gabor", "An oriented wave under a Gaussian envelope.",
           (_SIZE_GABOR, _THETA, _LAMBDA, _SIGMA_GABOR, _GAMMA, _PSI), gabor),
    Family("box", "Box", "The mean of the window: ones / (h·w).", (_SIZE_BOX,), box),
    Family("sobel5_x", "Sobel 5×5 x", "[1 4 6 4 1]ᵀ·[-1 -2 0 2 1]: brighter to the right is "
           "positive.", (), lambda: sobel_x(5)),
    Family("sobel5_y", "Sobel 5×5 y", "[-1 -2 0 2 1]ᵀ·[1 4 6 4 1]: brighter downwards is "
           "positive.", (), lambda: sobel_y(5)),
    Family("sobel7_x", "Sobel 7×7 x", "[1 6 15 20 15 6 1]ᵀ·[-1 -4 -5 0 5 4 1]: brighter to "
           "the right is positive.", (), lambda: sobel_x(7)),
    Family("sobel7_y", "Sobel 7×7 y", "[-1 -4 -5 0 5 4 1]ᵀ·[1 6 15 20 15 6 1]: brighter "
           "downwards is positive.", (), lambda: sobel_y(7)),
)

_BY_KEY = {f.key: f for f in FAMILIES}


def family_keys() -> tuple[str, ...]:
    return tuple(_BY_KEY)


def get_family(key: str) -> Family:
    try:
        return _BY_KEY[key]
    except (KeyError, TypeError):
        raise KernelParameterError(
            f"unknown kernel family {key!r}; choose one of: {', '.join(_BY_KEY)}", "family"
        ) from None


def make(key: str, **params) -> np.ndarray:
    """The kernel of family ``key`` with ``params`` (by their FAMILIES names; the others at
    their defaults).  An unknown family or parameter is refused, listing the valid ones."""
    fam = get_family(key)
    for name in params:
        fam.parameter(name)
    return fam.function(*(params.get(p.name, p.default) for p in fam.parameters))
