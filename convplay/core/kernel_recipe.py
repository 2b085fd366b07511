"""A kernel made from parameters: a family, its parameters' values and a normalisation.

The session keeps the recipe of the kernel it holds (``Session.kernel_recipe``) for as
long as the weights are what the recipe makes; any other edit detaches them (the recipe
becomes None, the name gains ", edited").  A recipe is a value: it is saved in session
files, typed on the command line (``--kernel gaussian:size=5,sigma=1.2``) and read back
the same.

Besides the single-kernel families of :mod:`parametric_kernels`, a *pair* makes two
kernels, x and y, for two output channels (``sobel_pair``, ``gaussian_pair``, ...): the
gradient pairs whose magnitude and orientation the output panel derives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from convplay.core import parametric_kernels as pk
from convplay.core.parametric_kernels import Family, KernelParameterError, Parameter
from convplay.core.presets import get_preset

NORMALISATION_LABELS = {"none": "as defined", "sum": "sum to 1", "zero_mean": "zero mean"}
MAX_TEXT = 400  # characters of a recipe's text (the command line, a session file)

_SOBEL_SIZE = Parameter("size", "Size", 3, 3, 7, 2, True, "3, 5 or 7: the binomial smoothing's length")


class Pair(Family):
    """A family of two kernels (x, y): ``function`` returns both; out channel 0 is x, 1 is y."""


def _turned_preset(key: str):
    """A preset x kernel and its y form (the x one transposed), new arrays each call."""
    x = np.asarray(get_preset(key).weights, dtype=np.float64)
    return x.copy(), x.T.copy()


def _sobel_pair(size=3):
    n = pk._number("sobel_pair", _SOBEL_SIZE, size)
    if n != int(n) or int(n) % 2 == 0:
        raise KernelParameterError(f"sobel_pair: size must be 3, 5 or 7, not {pk._fmt(n)}", "size")
    x = pk.sobel_x(int(n))
    return x, x.T.copy()


def _gaussian_pair(size=5, sigma=1.0):
    return pk.gaussian_dx(size, sigma), pk.gaussian_dy(size, sigma)


PAIRS: tuple[Pair, ...] = (
    Pair("sobel_pair", "Sobel pair (x, y)", "Sobel x and Sobel y as output channels 0 and 1: a gradient pair.",
         (_SOBEL_SIZE,), _sobel_pair),
    Pair("scharr_pair", "Scharr pair (x, y)", "Scharr x and y as output channels 0 and 1.",
         (), lambda: _turned_preset("scharr_x")),
    Pair("prewitt_pair", "Prewitt pair (x, y)", "Prewitt x and y as output channels 0 and 1.",
         (), lambda: _turned_preset("prewitt_x")),
    Pair("gaussian_pair", "Derivative of Gaussian pair (x, y)",
         "x·G and y·G as output channels 0 and 1: a smoothed gradient pair.",
         pk.get_family("gaussian_dx").parameters, _gaussian_pair),
)
_PAIRS = {p.key: p for p in PAIRS}


def kinds() -> tuple[str, ...]:
    """Every recipe family key: the single kernels, then the pairs."""
    return (*pk.family_keys(), *_PAIRS)


def family_of(key: str):
    """The Family or Pair called ``key``; KernelParameterError lists the ones there are."""
    if key in _PAIRS:
        return _PAIRS[key]
    try:
        return pk.get_family(key)
    except KernelParameterError:
        raise KernelParameterError(f"unknown kernel family {key!r}; choose one of: {', '.join(kinds())}", "family") from None


def is_pair(key: str) -> bool:
    return key in _PAIRS


Value = float | int | tuple[int, int]


@dataclass(frozen=True)
class KernelRecipe:
    """``family`` with every parameter's value (in the family's order) and a normalisation.

    Build one with :func:`recipe` (which checks it); ``kernels()`` makes the weights.
    """

    family: str
    params: tuple[tuple[str, Value], ...]
    normalisation: str = "none"

    def value(self, name: str) -> Value:
        return dict(self.params)[name]

    @property
    def pair(self) -> bool:
        return is_pair(self.family)

    @property
    def out_channels(self) -> int:
        return 2 if self.pair else 1

    def kernels(self) -> tuple[np.ndarray, ...]:
        """The kernel (or the x and y kernels of a pair), float64, normalised as asked."""
        fam = family_of(self.family)
        values = [self.value(p.name) for p in fam.parameters]
        made = fam.function(*values)
        made = made if isinstance(made, tuple) else (made,)
        return tuple(pk.normalised(k, self.normalisation) for k in made)

    @property
    def kernel_shape(self) -> tuple[int, int]:
        return tuple(self.kernels()[0].shape)

    @property
    def name(self) -> str:
        """What the kernel is, in words: "Gaussian 5×5, σ 1.2" ("…, zero mean")."""
        fam = family_of(self.family)
        kh, kw = self.kernel_shape
        base = fam.name if "×" in fam.name else f"{fam.name} {kh}×{kw}"
        shown = [f"{p.label} {_shown(self.value(p.name))}" for p in fam.parameters if p.name != "size"]
        if self.normalisation != "none":
            shown.append(NORMALISATION_LABELS[self.normalisation])
        return ", ".join([base, *shown])

    def text(self) -> str:
        """The command line's form: "gaussian:size=5,sigma=1.2" (every parameter given)."""
        parts = [f"{name}={_typed(value)}" for name, value in self.params]
        if self.normalisation != "none":
            parts.append(f"normalise={self.normalisation}")
        return self.family + (":" + ",".join(parts) if parts else "")

    def with_value(self, name: str, value) -> "KernelRecipe":
        return recipe(self.family, self.normalisation, **{**dict(self.params), name: value})

    def with_normalisation(self, normalisation: str) -> "KernelRecipe":
        return recipe(self.family, normalisation, **dict(self.params))

    def as_dict(self) -> dict:
        """The JSON form (session files): {"family", "parameters", "normalisation"}."""
        params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params}
        return {"family": self.family, "parameters": params, "normalisation": self.normalisation}


def _shown(value: Value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}×{value[1]}"
    return pk._fmt(value)


def _typed(value: Value) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    return pk._fmt(value)


def recipe(family: str, normalisation: str = "none", **params) -> KernelRecipe:
    """A checked recipe: ``family``'s parameters at ``params`` (the others at their
    defaults).  KernelParameterError names what is wrong, as the command line shows it."""
    fam = family_of(family)
    for name in params:
        fam.parameter(name)
    if normalisation not in pk.NORMALISATIONS:
        raise KernelParameterError(
            f"unknown normalisation {normalisation!r}; choose one of: {', '.join(pk.NORMALISATIONS)}", "normalisation"
        )
    values = []
    for p in fam.parameters:
        v = params.get(p.name, p.default)
        values.append((p.name, _canonical(p, v)))
    made = KernelRecipe(family, tuple(values), normalisation)
    kernels = made.kernels()  # refuses what the family refuses (a vanishing σ, sum 0 for "sum")
    for k in kernels:
        if not np.all(np.isfinite(k)):
            raise KernelParameterError(f"{family}: these parameters give non-finite weights", "family")
    return made


def _canonical(p: Parameter, v) -> Value:
    if isinstance(v, (tuple, list)) and p.name == "size" and len(v) == 2:
        return (int(v[0]), int(v[1])) if all(_whole(x) for x in v) else tuple(v)
    if p.integer and _whole(v):
        return int(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v  # the family refuses it with its own message


def _whole(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and float(v) == int(v)


# -- text ------------------------------------------------------------------------------------
def parse(text: str) -> KernelRecipe:
    """``NAME[:p=v,...]`` as the command line takes it: "gaussian:size=5,sigma=1.2",
    "gabor:theta=45,lambda=6", "box:size=5x3", "log:size=7,normalise=zero_mean"."""
    if not isinstance(text, str) or not text.strip():
        raise KernelParameterError("a kernel is NAME or NAME:p=v,...", "family")
    if len(text) > MAX_TEXT:
        raise KernelParameterError(f"a kernel's text is at most {MAX_TEXT} characters", "family")
    name, _, rest = text.strip().partition(":")
    name = name.strip()
    family = family_of(name)
    params: dict[str, Value] = {}
    normalisation = "none"
    for item in (s for s in rest.split(",") if s.strip()) if rest else ():
        key, eq, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not eq or not key or not raw:
            raise KernelParameterError(f"{name}: {item.strip()!r} is not p=v", key or "family")
        if key in ("normalise", "normalize", "norm"):
            normalisation = raw
            continue
        p = family.parameter(key)
        if key in params:
            raise KernelParameterError(f"{name}: {key} is given twice", key)
        params[key] = _parse_value(name, p, raw)
    return recipe(name, normalisation, **params)


def _parse_value(family: str, p: Parameter, raw: str) -> Value:
    if p.name == "size" and "x" in raw.lower():
        h, _, w = raw.lower().partition("x")
        try:
            return (int(h), int(w))
        except ValueError:
            raise KernelParameterError(f"{family}: size must be N or HxW, not {raw!r}", "size") from None
    try:
        v = float(raw)
    except ValueError:
        raise KernelParameterError(f"{family}: {p.name} must be {p.allowed()}, not {raw!r}", p.name) from None
    if not math.isfinite(v):
        raise KernelParameterError(f"{family}: {p.name} must be {p.allowed()}, not {raw!r}", p.name)
    return v


def from_dict(d) -> KernelRecipe:
    """The JSON form back (``as_dict``); KernelParameterError (a ValueError) if it is not one."""
    if not isinstance(d, dict):
        raise KernelParameterError("a kernel recipe is an object with family, parameters, normalisation", "family")
    family = d.get("family")
    params = d.get("parameters", {})
    normalisation = d.get("normalisation", "none")
    if not isinstance(family, str) or not isinstance(params, dict) or not isinstance(normalisation, str):
        raise KernelParameterError("a kernel recipe is an object with family, parameters, normalisation", "family")
    if len(params) > 16:
        raise KernelParameterError("a kernel recipe has at most 16 parameters", "family")
    clean = {}
    for k, v in params.items():
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            clean[k] = tuple(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            clean[k] = v
        else:
            raise KernelParameterError(f"{family}: parameter {k!r} must be a number", str(k))
    return recipe(family, normalisation, **clean)


def help_text() -> str:
    """The --help listing: every family with its parameters' defaults and ranges."""
    lines = []
    for key in kinds():
        fam = family_of(key)
        params = ", ".join(
            f"{p.name}={_shown(p.default)} ({pk._fmt(p.minimum)}..{pk._fmt(p.maximum)})" for p in fam.parameters
        )
        lines.append(f"{key}" + (f": {params}" if params else ""))
    return "; ".join(lines)


def pair_layer(spec, kernels: tuple[np.ndarray, np.ndarray]):
    """A gradient pair as a layer: ``spec`` with two output channels (groups 1) and its
    weight, x on every input channel of output 0 and y on every one of output 1 (for a
    transposed spec, weight[:, 0] and weight[:, 1])."""
    kx, ky = (np.asarray(k, dtype=np.float64) for k in kernels)
    kh, kw = kx.shape
    size = kh if kh == kw else (kh, kw)
    spec = spec.replace(out_channels=2, groups=1, kernel_size=size)
    c = int(spec.in_channels)
    if spec.transposed:
        weight = np.zeros((c, 2, kh, kw))
        weight[:, 0], weight[:, 1] = kx, ky
    else:
        weight = np.zeros((2, c, kh, kw))
        weight[0], weight[1] = kx, ky
    return spec, weight
