"""A 2-D kernel as an image-processing engineer reads it: its frequency response (the
2-D DFT, as MATLAB's freqz2 shows it), a one-line description of what it passes, and its
separability (the SVD rank, a rank-1 kernel as a column times a row, the cost of two 1-D
passes against one 2-D pass, and for rank > 1 the best rank-1 approximation).

numpy only: the core layer has no Qt and no torch.

Conventions
-----------
* **Placement.**  ``frequency_response`` zero-pads the kernel to size x size with its
  centre, element ``(kh // 2, kw // 2)``, at the origin (index (0, 0)) and the taps above
  and left of it wrapped to the far end.  So the response of a kernel that is symmetric
  through its centre (``k[-i, -j] == k[i, j]``: box, Gaussian, Laplacian) is real (phase 0
  or pi), and an antisymmetric one (Sobel) is purely imaginary.  For an even size the
  "centre" is the element just below and right of the middle.
* **Correlation.**  PyTorch's conv2d is a cross-correlation; the DFT here is that of the
  kernel as written.  The response of the correlation is its complex conjugate: the same
  magnitude, the phase negated.
* **Frequencies** are in cycles per pixel, ``np.fft.fftshift(np.fft.fftfreq(size))``:
  from -0.5 up to 0.5 - 1/size for an even size (the spectrum is periodic, +0.5 is -0.5).
  ``fy`` runs down the rows, like the kernel's rows.
* **Angles** are in degrees, counter-clockwise from +fx as seen on the screen (rows run
  down, so +90 degrees points to negative ``fy``).  The magnitude of a real kernel's
  response is symmetric through the origin, so an orientation is taken modulo 180.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = [
    "SUM_ROUNDING",
    "FrequencyResponse",
    "KernelProperties",
    "Separability",
    "cut",
    "describe_response",
    "frequency_response",
    "is_rounding_zero",
    "kernel_properties",
    "separability",
    "strongest_direction",
]

DEFAULT_SIZE = 64


def _kernel_2d(kernel) -> np.ndarray:
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.size == 0:
        raise ValueError(f"a kernel is a non-empty 2-D array, not shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError("a kernel's weights must be finite")
    return k


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # a copy of our own
    a.setflags(write=False)
    return a


# -- frequency response -----------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class FrequencyResponse:
    """The centred 2-D DFT of a kernel zero-padded to ``size`` x ``size``.

    ``values[i, j]`` is the response at ``(fy[i], fx[j])``; the origin (DC) is at
    ``(size // 2, size // 2)``, and ``values`` there equals the kernel's sum.
    """

    kernel_shape: tuple[int, int]
    size: int
    values: np.ndarray  # complex, (size, size), centred with fftshift
    magnitude: np.ndarray  # |values|
    phase: np.ndarray  # np.angle(values), radians in (-pi, pi]
    fy: np.ndarray  # (size,) cycles per pixel, down the rows
    fx: np.ndarray  # (size,) cycles per pixel, along the columns
    kernel: np.ndarray | None = None  # the kernel as given, for exact values off the grid
    l1: float = math.nan  # Σ|k|: the scale a sum's rounding is judged against

    @property
    def dc(self) -> complex:
        """The response at frequency 0: the kernel's sum (its DC gain)."""
        c = self.size // 2
        return complex(self.values[c, c])


def frequency_response(kernel, size: int = DEFAULT_SIZE) -> FrequencyResponse:
    """The kernel's 2-D DFT, zero-padded to size x size with its centre at the origin
    (see the module's conventions), centred with fftshift."""
    k = _kernel_2d(kernel)
    kh, kw = k.shape
    size = int(size)
    if size < max(kh, kw):
        raise ValueError(f"size {size} is smaller than the kernel ({kh}x{kw})")
    padded = np.zeros((size, size))
    padded[:kh, :kw] = k
    padded = np.roll(padded, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    values = np.fft.fftshift(np.fft.fft2(padded))
    freqs = np.fft.fftshift(np.fft.fftfreq(size))
    return FrequencyResponse(
        kernel_shape=(kh, kw),
        size=size,
        values=_frozen(values),
        magnitude=_frozen(np.abs(values)),
        phase=_frozen(np.angle(values)),
        fy=_frozen(freqs),
        fx=_frozen(freqs),
        kernel=_frozen(k),
        l1=float(np.abs(k).sum()),
    )


# A sum of float weights rounds: a Laplacian's 0 comes out as 1.7e-16.  Below this share of
# Σ|k| it is shown (and described) as 0, "0 (to rounding)".
SUM_ROUNDING = 1e-12


def is_rounding_zero(value: float, l1: float) -> bool:
    """Whether ``value`` (a sum, a mean, a DC gain) is 0 up to the rounding of a sum of
    weights whose absolute values add up to ``l1``: |value| <= SUM_ROUNDING * l1."""
    value, l1 = float(value), float(l1)
    if not math.isfinite(l1):
        return value == 0.0
    return abs(value) <= SUM_ROUNDING * l1


def _along(response: FrequencyResponse, f: np.ndarray, angle_degrees: float) -> np.ndarray | None:
    """The exact |H| at frequencies f along the angle (the DTFT of the kernel, not a
    bilinear sample of the grid), or None when the response carries no kernel."""
    k = response.kernel
    if k is None:
        return None
    kh, kw = k.shape
    dx, dy = _direction(angle_degrees)
    ys = np.arange(kh) - kh // 2
    xs = np.arange(kw) - kw // 2
    f = np.asarray(f, dtype=float)
    ey = np.exp(-2j * np.pi * np.outer(f * dy, ys))  # (n, kh)
    ex = np.exp(-2j * np.pi * np.outer(f * dx, xs))  # (n, kw)
    return np.abs(np.einsum("ny,yx,nx->n", ey, k, ex))


def _direction(angle_degrees: float) -> tuple[float, float]:
    """(dfx, dfy) of a unit step along the angle (screen convention: +fy is down)."""
    a = math.radians(angle_degrees)
    return math.cos(a), -math.sin(a)


def _sample(grid: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    """Bilinear samples of a centred spectrum at frequencies (fy, fx), periodic with
    period 1 cycle per pixel (the DFT's own periodicity)."""
    size = grid.shape[0]
    c = size // 2
    y = np.mod(np.asarray(fy) * size + c, size)
    x = np.mod(np.asarray(fx) * size + c, size)
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    ty, tx = y - y0, x - x0
    y0, x0 = y0 % size, x0 % size
    y1, x1 = (y0 + 1) % size, (x0 + 1) % size
    return (
        grid[y0, x0] * (1 - ty) * (1 - tx)
        + grid[y0, x1] * (1 - ty) * tx
        + grid[y1, x0] * ty * (1 - tx)
        + grid[y1, x1] * ty * tx
    )


def cut(response: FrequencyResponse, angle_degrees: float, n: int | None = None):
    """A 1-D cut of the magnitude through the origin along ``angle_degrees``.

    Returns (f, values): ``n`` frequencies from -0.5 to 0.5 cycles per pixel along the
    line (default ``size + 1``, so at 0 degrees the samples are the grid's own: the centre
    row, then its first value again at +0.5) and the bilinearly sampled magnitude there.
    """
    n = response.size + 1 if n is None else int(n)
    if n < 2:
        raise ValueError("a cut needs at least 2 samples")
    f = np.linspace(-0.5, 0.5, n)
    dx, dy = _direction(angle_degrees)
    return f, _sample(response.magnitude, f * dy, f * dx)


# -- what the response says -------------------------------------------------------------
# Thresholds of describe_response, all relative so that a kernel's scale does not matter.
FLAT_TOLERANCE = 1e-6  # all-pass: (max - min) of the magnitude <= this * max
DIRECTIONAL_MIN = 0.35  # orientation coherence of the energy (0 isotropic, 1 one line)
DC_ZERO = 0.1  # "DC ~ 0": the profile at 0 <= this * its peak
EDGE_PEAK = 0.4  # "rises to the edge": the profile's peak lies at f >= this
LOW_EDGE = 0.5  # low-pass: the profile at the edge (f = 0.5) <= this * DC
BAND_HALF = 0.5  # band-pass: the profile at 0 and at the edge <= this * peak ...
BAND_OCTAVES = 1.5  # ... and the half-magnitude band spans at most this many octaves
MILD_DROP = 0.05  # mild low-pass: falls from DC, never rising, by at least this share of DC


def _orientation(response: FrequencyResponse) -> tuple[float, float]:
    """(coherence, angle): the energy-weighted mean of exp(2i*phi) over the spectrum
    (phi the angle of each frequency, DC left out).  Its length is 0 for an isotropic or
    4-fold symmetric response and 1 when all energy lies on one line through the origin;
    half its argument is that line's angle in degrees, in [0, 180)."""
    fy, fx = np.meshgrid(response.fy, response.fx, indexing="ij")
    energy = response.magnitude**2
    energy = np.where((fx == 0) & (fy == 0), 0.0, energy)
    total = energy.sum()
    if total <= 0:
        return 0.0, 0.0
    phi = np.arctan2(-fy, fx)  # screen convention: up is +
    z = (energy * np.exp(2j * phi)).sum() / total
    angle = math.degrees(0.5 * math.atan2(z.imag, z.real)) % 180.0
    return float(abs(z)), angle


def _radial_profile(response: FrequencyResponse, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The magnitude averaged over circles of radius f, for f from 0 to 0.5."""
    f = np.linspace(0.0, 0.5, n)
    angles = np.linspace(0.0, math.pi, 64, endpoint=False)
    fy = -np.outer(f, np.sin(angles))
    fx = np.outer(f, np.cos(angles))
    return f, _sample(response.magnitude, fy, fx).mean(axis=1)


def _octaves(f: np.ndarray, profile: np.ndarray, i_peak: int) -> float:
    """The width in octaves of the band around the peak where the profile >= half of it."""
    half = profile[i_peak] / 2
    lo = i_peak
    while lo > 0 and profile[lo - 1] >= half:
        lo -= 1
    hi = i_peak
    while hi < len(profile) - 1 and profile[hi + 1] >= half:
        hi += 1
    if f[lo] <= 0:
        return math.inf
    return math.log2(f[hi] / f[lo])


def _edges(angle: float) -> str:
    a = round(angle) % 180
    if a == 0:
        return "vertical edges"
    if a == 90:
        return "horizontal edges"
    return f"edges running at {(a + 90) % 180}°"


def _frequencies(angle: float) -> str:
    a = round(angle) % 180
    return {0: "horizontal frequencies", 90: "vertical frequencies"}.get(
        a, f"frequencies along {a}°"
    )


def _number(value: float) -> str:
    """Three significant digits with a typographic minus: −4.72, 85.7, 0.167."""
    return f"{value:.3g}".replace("-", "−")


def _dc_number(response: FrequencyResponse) -> str:
    dc = response.dc.real
    return "0" if is_rounding_zero(dc, response.l1) else _number(dc)


def _monotone_falling(profile: np.ndarray) -> bool:
    """Never rising from DC (up to rounding) and ending lower than it started."""
    tol = 1e-9 * float(profile.max())
    return bool(np.all(np.diff(profile) <= tol)) and float(profile[-1]) < (1 - MILD_DROP) * float(profile[0])


def _refined_peak(response: FrequencyResponse, f: np.ndarray, i_peak: int, angle: float) -> float:
    """The peak's frequency between the grid's neighbours of ``f[i_peak]``, from the exact
    response along the line (the 64-grid steps by 1/64: a 6-pixel period would read 0.172)."""
    lo, hi = f[max(i_peak - 1, 0)], f[min(i_peak + 1, len(f) - 1)]
    fine = np.linspace(lo, hi, 201)
    values = _along(response, fine, angle)
    if values is None:
        return float(f[i_peak])
    return float(fine[int(np.argmax(values))])


def _period(frequency: float) -> str:
    return f"a {_number(1.0 / frequency)}-pixel period"


def strongest_direction(response: FrequencyResponse) -> float | None:
    """The orientation (degrees in [0, 180), whole degrees) along which a directional
    response keeps its energy, or None for one that is not directional (see
    ``describe_response``): where the cut shows the most."""
    mag = response.magnitude
    peak = float(mag.max())
    if peak == 0.0 or float(mag.max() - mag.min()) <= FLAT_TOLERANCE * peak:
        return None
    coherence, angle = _orientation(response)
    return float(round(angle) % 180) if coherence >= DIRECTIONAL_MIN else None


def describe_response(response: FrequencyResponse) -> str:
    """One line saying what the kernel is from its response.

    The decision, in order (thresholds are the module constants above):

    * zero everywhere: "zero kernel".
    * **all-pass**: the magnitude is flat, max - min <= FLAT_TOLERANCE * max (the
      identity, or a shifted delta: a pure shift).
    * **directional**: the energy |H|^2 is concentrated along one orientation, its
      orientation coherence (``_orientation``) >= DIRECTIONAL_MIN.  Box, Gaussian and
      Laplacian have 4-fold symmetry, so 0; Sobel x is 0.55, Scharr x 0.43, a Gabor near 1.  The
      profile below is then the cut along that orientation, else the radial mean.
    * From the profile p(f), f in [0, 0.5] (p(0) is |sum|, the DC gain):
      **high-pass** when p(0) <= DC_ZERO * peak and the peak lies at f >= EDGE_PEAK (a DC
      that is not 0 is said as small next to the peak, with both numbers);
      **high-boost** (sharpening) when the peak lies there but DC passes;
      **low-pass** when the peak is at DC and p(0.5) <= LOW_EDGE * p(0);
      **mild low-pass** when p falls from DC all the way without ever rising, but ends
      above LOW_EDGE * p(0) (a 3×3 Gaussian of σ 0.5: 0.57 of DC at 0.5 cycles/pixel
      along the axes, the value said);
      **band-pass** when p(0) and p(0.5) are both <= BAND_HALF * peak and the band where
      p >= peak / 2 spans <= BAND_OCTAVES octaves; a wider band is named "broad", with its
      width.  A DC above DC_ZERO * peak is named as a DC leak, with its share of the peak.
      A derivative (Sobel x) also has a peak inside (at 0.25) but rises from DC itself: its
      band spans log2(5) = 2.3 octaves (2.1 on the 64-grid), so a directional kernel with a
      broad band and no DC is named as directional only (it finds edges).
    * A directional kernel says which frequencies it keeps, which edges it finds when it
      stops DC (passing horizontal frequencies = finding vertical edges), and where its
      cut peaks, with the period (refined off the grid from the exact response).
    """
    mag = response.magnitude
    peak_all = float(mag.max())
    if peak_all == 0.0:
        return "zero kernel: passes nothing"
    if float(mag.max() - mag.min()) <= FLAT_TOLERANCE * peak_all:
        return f"all-pass: flat magnitude {peak_all:.3g} at every frequency (an identity or a shift)"

    coherence, angle = _orientation(response)
    directional = coherence >= DIRECTIONAL_MIN
    n = response.size // 2 + 1
    if directional:
        angle = float(round(angle) % 180)
        f = np.linspace(0.0, 0.5, n)
        dx, dy = _direction(angle)
        profile = _sample(mag, f * dy, f * dx)
    else:
        f, profile = _radial_profile(response, n)
    i_peak = int(np.argmax(profile))
    peak = float(profile[i_peak])
    dc, edge = float(profile[0]), float(profile[-1])
    dc_text = _dc_number(response)
    inside = 0 < i_peak < n - 1
    f_peak = _refined_peak(response, f, i_peak, angle) if directional and inside else float(f[i_peak])

    kind = None
    if dc <= DC_ZERO * peak and f[i_peak] >= EDGE_PEAK:
        if dc_text == "0":
            kind = "high-pass (DC gain 0, the response rises to the edge)"
        else:
            kind = (f"high-pass (DC small next to the peak: {dc_text} against {_number(peak)}; "
                    "the response rises to the edge)")
    elif f[i_peak] >= EDGE_PEAK and edge > dc:
        kind = f"high-boost (passes DC, gain {dc_text}, and amplifies high frequencies)"
    elif i_peak == 0 and edge <= LOW_EDGE * dc:
        kind = f"low-pass (DC gain {dc_text}, the sum)"
    elif i_peak == 0 and _monotone_falling(profile):
        axes = _along(response, np.array([0.0, 0.5]), 0.0) if not directional else None
        if axes is not None and axes[0] > 0:
            share, where = float(axes[1] / axes[0]), " along the axes"
        else:
            share, where = edge / dc, ""
        kind = f"low-pass, mild: |H| at 0.5 cycles/pixel{where} is {share:.2f} of DC (DC gain {dc_text}, the sum)"
    elif dc <= BAND_HALF * peak and edge <= BAND_HALF * peak and inside:
        octaves = _octaves(f, profile, i_peak)
        leak = dc > DC_ZERO * peak
        if octaves <= BAND_OCTAVES or leak or not directional:
            width = "" if octaves <= BAND_OCTAVES else f", broad ({octaves:.2g} octaves)"
            kind = f"band-pass{width} around {f_peak:.3g} cycles/pixel ({_period(f_peak)})"
            if leak:
                kind += f" with a DC leak (DC {dc / peak:.2f} of the peak)"

    if not directional:
        return kind or "mixed response: neither low-, high- nor band-pass"
    where = f"directional, strongest at {round(angle) % 180}°"
    band = kind is not None and kind.startswith("band-pass")
    if dc <= DC_ZERO * peak:
        where += f": passes {_frequencies(angle)}, so it finds {_edges(angle)}"
    elif not band:  # a band-pass has said where it is; "keeps" would repeat the angle
        where += f": keeps {_frequencies(angle)}"
    if not band:
        if inside:
            where += f"; peaks at {f_peak:.3g} cycles/pixel ({_period(f_peak)})"
        elif i_peak == 0:
            where += "; peaks at DC"
        else:
            where += "; peaks at 0.5 cycles/pixel (a 2-pixel period)"
    return f"{kind}, {where}" if kind else where


# -- separability -----------------------------------------------------------------------
RANK_TOLERANCE = 1e-10  # a singular value counts when > this * the largest
_MAX_DENOMINATOR = 1000  # ratios of the row's entries tried as fractions up to this
_INT_TOLERANCE = 1e-9  # relative closeness to an integer (or a fraction)


@dataclass(frozen=True, eq=False)
class Separability:
    """What the SVD says about running a kernel as two 1-D passes.

    ``col`` (kh, 1) and ``row`` (1, kw), for rank 1 only, satisfy ``col @ row == kernel``
    within float tolerance.  Rule: when the row's entries are in rational ratios (the
    denominators up to 1000) the row is scaled to integers with gcd 1, else it is the
    unit-norm right singular vector; its last nonzero entry is positive either way, and
    the column absorbs the rest (Sobel x = [1, 2, 1]^T @ [-1, 0, 1]; Sobel y =
    [-1, 0, 1]^T @ [1, 2, 1]).  ``integer_factors`` is (col, row) as int64 arrays when
    the column comes out integral too, else None (gaussian3's column is [1, 2, 1]/16).

    ``rank1`` = s0 u0 v0^T is the best rank-1 approximation (Eckart-Young; the kernel
    itself when rank is 1) and ``rank1_error`` its relative Frobenius error,
    sqrt(sum_{i>=1} s_i^2) / sqrt(sum_i s_i^2), in [0, 1].  A zero kernel has rank 0,
    no factors and error 0.
    """

    shape: tuple[int, int]
    rank: int
    singular_values: np.ndarray
    col: np.ndarray | None
    row: np.ndarray | None
    integer_factors: tuple[np.ndarray, np.ndarray] | None
    rank1: np.ndarray
    rank1_error: float

    @property
    def separable(self) -> bool:
        return self.rank <= 1

    @property
    def macs_2d(self) -> int:
        """Multiply-accumulates per output pixel of one 2-D pass: kh * kw."""
        return self.shape[0] * self.shape[1]

    @property
    def macs_two_passes(self) -> int:
        """Multiply-accumulates per output pixel of a column pass then a row pass: kh + kw."""
        return self.shape[0] + self.shape[1]


def _integer_row(v: np.ndarray) -> np.ndarray | None:
    """v scaled to integers with gcd 1 when its entries are in small rational ratios."""
    scale = np.abs(v).max()
    nonzero = np.abs(v) > _INT_TOLERANCE * scale
    smallest = np.abs(v[nonzero]).min()
    ratios = v / smallest
    fracs = []
    for r, nz in zip(ratios, nonzero):
        if not nz:
            fracs.append(Fraction(0))
            continue
        q = Fraction(float(r)).limit_denominator(_MAX_DENOMINATOR)
        if abs(float(q) - r) > _INT_TOLERANCE * max(1.0, abs(r)):
            return None
        fracs.append(q)
    lcm = 1
    for q in fracs:
        lcm = lcm * q.denominator // math.gcd(lcm, q.denominator)
    ints = [int(q * lcm) for q in fracs]
    g = 0
    for i in ints:
        g = math.gcd(g, i)
    return np.array([i // g for i in ints], dtype=np.int64)


def _last_nonzero_positive(v: np.ndarray, tol: float) -> int:
    nz = np.flatnonzero(np.abs(v) > tol)
    return -1 if nz.size and v[nz[-1]] < 0 else 1


def separability(kernel) -> Separability:
    """The rank of the kernel (singular values > RANK_TOLERANCE * the largest), its
    factors when it is rank 1, and its best rank-1 approximation (see Separability)."""
    k = _kernel_2d(kernel)
    kh, kw = k.shape
    u, s, vt = np.linalg.svd(k)
    s_max = float(s[0]) if s.size else 0.0
    rank = int(np.count_nonzero(s > RANK_TOLERANCE * s_max)) if s_max > 0 else 0
    total = float(np.sqrt(np.sum(s**2)))
    error = float(np.sqrt(np.sum(s[1:] ** 2)) / total) if total > 0 else 0.0
    rank1 = s_max * np.outer(u[:, 0], vt[0])

    col = row = None
    integer_factors = None
    if rank == 1:
        v = vt[0]
        ints = _integer_row(v)
        if ints is not None:
            ints = ints * _last_nonzero_positive(ints, 0.0)  # its zeros are exact
            r = ints.astype(float)
        else:
            r = v * _last_nonzero_positive(v, _INT_TOLERANCE * np.abs(v).max())
        c = k @ r / (r @ r)  # exact for a rank-1 kernel: k = c r^T
        col, row = c.reshape(kh, 1), r.reshape(1, kw)
        if ints is not None:
            c_int = np.round(c)
            if np.all(np.abs(c - c_int) <= _INT_TOLERANCE * max(1.0, np.abs(c).max())):
                integer_factors = (
                    _frozen(c_int.astype(np.int64).reshape(kh, 1)),
                    _frozen(ints.reshape(1, kw)),
                )
        col, row = _frozen(col), _frozen(row)

    return Separability(
        shape=(kh, kw),
        rank=rank,
        singular_values=_frozen(s),
        col=col,
        row=row,
        integer_factors=integer_factors,
        rank1=_frozen(rank1),
        rank1_error=error,
    )


# -- properties as numbers ---------------------------------------------------------------
SYMMETRY_TOLERANCE = 1e-12  # relative to max|k|: float rounding, not a broken symmetry


@dataclass(frozen=True)
class KernelProperties:
    """A kernel's numbers as a designer reads them.

    ``sum`` is the DC gain (a blur keeps brightness at 1, an edge detector gives 0);
    ``symmetry_x`` is how it mirrors left-right (the columns reversed), ``symmetry_y``
    top-bottom: "symmetric", "antisymmetric" (mirrored and negated, as Sobel x along x),
    or "neither" (a zero kernel is both; it is called symmetric).
    """

    shape: tuple[int, int]
    sum: float
    zero_mean: bool
    symmetry_x: str
    symmetry_y: str
    rank: int
    l1: float
    l2: float
    min: float
    max: float

    def as_dict(self) -> dict:
        return {
            "sum": self.sum, "zero_mean": self.zero_mean, "symmetry_x": self.symmetry_x,
            "symmetry_y": self.symmetry_y, "rank": self.rank, "l1": self.l1, "l2": self.l2,
            "min": self.min, "max": self.max,
        }


def _symmetry(k: np.ndarray, mirrored: np.ndarray, tol: float) -> str:
    if np.all(np.abs(k - mirrored) <= tol):
        return "symmetric"
    if np.all(np.abs(k + mirrored) <= tol):
        return "antisymmetric"
    return "neither"


def kernel_properties(kernel) -> KernelProperties:
    """Sum, zero mean, symmetry along each axis, rank, L1 and L2 norms, min and max."""
    k = _kernel_2d(kernel)
    scale = float(np.abs(k).max())
    tol = SYMMETRY_TOLERANCE * scale
    total = float(k.sum())
    return KernelProperties(
        shape=(int(k.shape[0]), int(k.shape[1])),
        sum=total,
        zero_mean=abs(total) <= SYMMETRY_TOLERANCE * max(float(np.abs(k).sum()), 1e-300),
        symmetry_x=_symmetry(k, k[:, ::-1], tol),
        symmetry_y=_symmetry(k, k[::-1, :], tol),
        rank=separability(k).rank,
        l1=float(np.abs(k).sum()),
        l2=float(np.sqrt((k * k).sum())),
        min=float(k.min()),
        max=float(k.max()),
    )
