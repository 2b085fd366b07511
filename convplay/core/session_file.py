"""Session and lesson files (``.convplay``): what they hold, how they are read and written.

A ``.convplay`` file is a zip holding ``session.json`` (UTF-8) and, for arrays of more
than 256 values, ``arrays/<name>.npy`` members; smaller arrays sit inline in the JSON as
nested lists, so that lessons diff well in git.  The same JSON document may also stand on
its own as a plain text file (the built-in lessons are such files).  The document is
versioned (``"format": "convplay", "version": 1``) and names the convolution's settings
as PyTorch does (``in_channels``, ``kernel_size``, ``padding`` ...).  A session holds one
state (the input, the settings, the weight and bias, true convolution, the view); a
lesson holds an ordered list of steps, each a state with a title, a caption, an optional
question for the class, the panels to hide and what the caption claims about the output.
A step may also carry a pooling layer's settings (``"pooling"``, PyTorch's argument names):
the pooling view shows them over the step's input, and the step's claims are then about
the pooling's output.

Why opening a file is safe: a file is data, never code.  No pickle is ever loaded (the
``.npy`` header is read and checked before numpy sees the data, and ``np.load`` runs with
``allow_pickle=False``); no ``eval``; nothing is extracted to disk, members are read into
memory through checked, size-bounded streams.  Member names that leave the archive
(``..``, absolute paths, drives, backslashes) refuse the file; sizes are checked from the
zip's directory and again while reading (a lying header gets no more bytes than it
declared, and the limits hold either way), as is the compression ratio (a zip bomb).
Every value is checked for its type and range and every array for its dtype (float or
int only), size, shape (what the settings need) and finite values before a session is
built from it.  Anything refused is a :class:`SessionFileError` whose text says why, for
the user; keys convplay does not know are ignored with a warning.
The container's checks (names, sizes, ratios, .npy headers) are
:mod:`convplay.core.session_archive`'s; this module is the document.

Settings PyTorch would refuse for this input (a kernel larger than the padded input,
groups that do not divide the channels) are kept: the app shows them as it shows any
impossible setting, and a lesson may show one on purpose.  Malformed values (a string
for the stride) are refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import secrets
import uuid
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from convplay.core.image_io import (
    DEFAULT_WORKING_SIZE,
    MAX_WORKING_SIZE,
    MIN_WORKING_SIZE,
    ImageLoadError,
    to_channels,
)
from convplay.core.input_source import InputSource, sealed
from convplay.core.kernel_edits import usable_weight_shape
from convplay.core.kernel_recipe import KernelRecipe
from convplay.core.kernel_recipe import from_dict as recipe_from_dict
from convplay.core.parametric_kernels import KernelParameterError
from convplay.core.pooling import KINDS as POOL_KINDS
from convplay.core.pooling import MAX_POOL_KERNEL, PoolSpec
from convplay.core.samples import SAMPLES
from convplay.core.samples import sample as find_sample
from convplay.core.session import Session, SessionSnapshot
from convplay.core.session_archive import (
    _ARRAY_MEMBER,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_TOTAL_BYTES,
    SESSION_MEMBER,
    MiB,
    SessionFileError,
    _Archive,
    _check_directory_size,
    _check_finite,
    _parse_npy,
    _reason,
)
from convplay.core.spec import PADDING_MODES, ConvSpec

FORMAT = "convplay"
VERSION = 1
SUFFIX = ".convplay"

MAX_JSON_BYTES = 8 * MiB
MAX_INPUT_VALUES = 3 * 2048 * 2048
MAX_WEIGHT_VALUES = 64 * 64 * 15 * 15
# Far beyond what a playground shows, far below what would exhaust memory: a transposed
# conv with stride 1000 on a large input would otherwise ask for a terapixel output.
MAX_OUTPUT_VALUES = 64 * 2048 * 2048
MAX_EXPECTED_VALUES = 1 << 20
MAX_DOCUMENT_VALUES = 8 * MAX_INPUT_VALUES  # every array of a file together (800 MB in float64)
MAX_STRING = 10_000
MAX_STEPS = 200
MAX_LIST = 200  # lines of a step's formula, panels it hides
INLINE_MAX = 256  # arrays with more values than this go to an .npy member
MAX_CHANNELS = 4096
MAX_SPATIAL_ARG = 1024  # stride, dilation, padding, output_padding on one axis
MAX_KERNEL = 255
MAX_ZOOM = 16.0

HIDE_KEYS = ("input", "output", "kernel", "params", "formula", "device", "animation")
COMPUTE_DTYPES = ("float32", "float64", "float16", "bfloat16")
KINDS = ("session", "lesson")

_INLINE_DTYPES = (
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
)
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # zip entries carry no time: the same state gives the same bytes

Source = str | os.PathLike | bytes | bytearray | memoryview


# -- the document --------------------------------------------------------------------------


@dataclass(frozen=True)
class ViewState:
    """How the window shows a state; every field optional (None: not given, the window keeps its own)."""

    animation_step: int | None = None  # 1-based, as on screen and in --step
    workspace: str | None = None
    zoom: float | None = None
    output_channel: int | None = None
    output_mode: str | None = None
    output_mapping: str | None = None
    device: str | None = None
    dtype: str | None = None
    tf32: bool | None = None


@dataclass(frozen=True, eq=False)
class SessionState:
    """One state: ``snapshot`` is ready for ``Session.restore``; ``view`` is for the window."""

    snapshot: SessionSnapshot
    view: ViewState = ViewState()


@dataclass(frozen=True, eq=False)
class LessonStep:
    title: str
    caption: str
    ask: str  # "" or the question shown while the output is hidden
    hide: tuple[str, ...]
    formula: tuple[str, ...]
    expected_output_shape: tuple[int, int, int] | None
    expected_output: np.ndarray | None  # (H, W) for channel 0, or (C, H, W)
    state: SessionState
    # A pooling step: the pooling view takes these settings over the step's input, and the
    # step's ``expect`` is then about the pooling's output, not the convolution's.
    pooling: PoolSpec | None = None


@dataclass(frozen=True, eq=False)
class SessionDocument:
    kind: str  # "session" or "lesson"
    title: str = ""
    description: str = ""
    state: SessionState | None = None  # a session's state; None for a lesson
    steps: tuple[LessonStep, ...] = ()


# -- sessions <-> states ------------------------------------------------------------------


def state_of(session: Session, view: ViewState = ViewState()) -> SessionState:
    """The session's whole state (arrays shared, they are read-only), with ``view``."""
    return SessionState(session.snapshot(), view)


def session_from_state(state: SessionState) -> Session:
    """A new core Session holding ``state``."""
    session = Session()
    session.restore(state.snapshot)
    return session


# -- reading --------------------------------------------------------------------------------


def read_document(source: Source) -> tuple[SessionDocument, list[str]]:
    """The document in ``source`` (a path, or the file's bytes) and the warnings its
    reading produced (unknown keys ignored, ...).  SessionFileError says why a file is refused."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        head, size, name = raw[:4096], len(raw), None
    else:
        name = os.fspath(source)
        try:
            if os.path.isdir(name):
                raise SessionFileError(f"{os.path.basename(name)} is a folder, not a session file")
            size = os.path.getsize(name)
            with open(name, "rb") as f:
                head = f.read(4096)  # room for blank lines before the JSON's "{"
        except OSError as exc:
            raise SessionFileError(f"cannot read {os.path.basename(name)}: {exc.strerror or exc}") from None
    if size == 0:
        raise SessionFileError("the file is empty")
    if head.startswith(b"PK"):
        if size > MAX_TOTAL_BYTES:
            raise SessionFileError(f"the file is {size / MiB:.0f} MiB; a session file is at most {MAX_TOTAL_BYTES // MiB} MiB")
        return _read_zip(io.BytesIO(raw) if name is None else name)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        if size > MAX_JSON_BYTES:
            raise SessionFileError(_json_too_large(size))
        if name is None:
            text = raw
        else:
            try:
                with open(name, "rb") as f:
                    text = f.read(MAX_JSON_BYTES + 1)
            except OSError as exc:
                raise SessionFileError(f"cannot read {os.path.basename(name)}: {exc.strerror or exc}") from None
            if len(text) > MAX_JSON_BYTES:
                raise SessionFileError(_json_too_large(len(text)))
        reader = _Reader(None)
        return reader.document(_parse_json(text)), reader.warnings
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
        raise SessionFileError("not a convplay session: the JSON holds a list, not an object")
    raise SessionFileError("not a convplay session: neither a session zip nor a JSON document")


def _json_too_large(size: int) -> str:
    return f"session.json is {size / MiB:.1f} MiB; the limit is {MAX_JSON_BYTES // MiB} MiB"


def _parse_json(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SessionFileError(f"session.json is not UTF-8 text (byte {exc.start})") from None
    try:
        document = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise SessionFileError(f"session.json is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise SessionFileError("session.json is nested too deeply") from None
    except SessionFileError:
        raise
    except ValueError as exc:  # a number of more than 4300 digits
        raise SessionFileError(f"session.json is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise SessionFileError(f"not a convplay session: the JSON holds {_kind(document)}, not an object")
    return document


def _no_constant(word: str):
    raise SessionFileError(f"session.json holds {word}, which is not a number JSON allows; a session holds finite values only")


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise SessionFileError(f"the key {key!r} appears twice in one object of session.json")
        out[key] = value
    return out


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _read_zip(file) -> tuple[SessionDocument, list[str]]:
    warnings: list[str] = []
    _check_directory_size(file)
    try:
        zf = zipfile.ZipFile(file)
    except SessionFileError:
        raise
    except Exception as exc:  # BadZipFile, EOFError, OSError, ValueError...: damaged or truncated
        raise SessionFileError(f"the file is damaged or truncated: not a readable zip ({_reason(exc)})") from None
    with zf:
        archive = _Archive(zf, warnings)
        if not archive.has(SESSION_MEMBER):
            raise SessionFileError(f"not a convplay session: the zip holds no {SESSION_MEMBER}")
        text = archive.read(SESSION_MEMBER, MAX_JSON_BYTES)
        reader = _Reader(archive)
        reader.warnings = warnings
        return reader.document(_parse_json(text)), reader.warnings


_SPEC_FIELDS = tuple(f.name for f in fields(ConvSpec))
_POOL_FIELDS = tuple(f.name for f in fields(PoolSpec))
_POOL_KIND_FIELDS = {kind: tuple(PoolSpec(kind).layer_kwargs()) for kind in POOL_KINDS}
MAX_POOL_OUTPUT = 4096
MAX_DIVISOR = 1 << 20


class _Reader:
    """Turns the parsed JSON into a SessionDocument, checking every value on the way."""

    def __init__(self, archive: _Archive | None):
        self._archive = archive
        self.warnings: list[str] = []
        # Steps often share an input or a weight: each is made (and counted) once, and the
        # steps share the read-only array.
        self._made: dict[tuple, object] = {}
        self._values = 0

    def _spend(self, n: int) -> None:
        """Count ``n`` more float64 values held; the document's total is bounded."""
        self._values += n
        if self._values > MAX_DOCUMENT_VALUES:
            raise SessionFileError(
                f"the document's arrays hold more than {MAX_DOCUMENT_VALUES:,} values in all, "
                "more than convplay keeps in memory for one file"
            )

    # -- small checks --------------------------------------------------------------------
    def _unknown(self, d: dict, known, where: str) -> None:
        for key in d:
            if key not in known:
                self.warnings.append(f"unknown key {key!r} in {where} ignored")

    @staticmethod
    def _obj(value, what: str) -> dict:
        if not isinstance(value, dict):
            raise SessionFileError(f"{what} must be an object, not {_kind(value)}")
        return value

    @staticmethod
    def _get(d: dict, key: str, where: str):
        if key not in d:
            raise SessionFileError(f"the key {key!r} is missing in {where}")
        return d[key]

    @staticmethod
    def _str(value, what: str) -> str:
        if not isinstance(value, str):
            raise SessionFileError(f"{what} must be a string, not {_kind(value)}")
        if len(value) > MAX_STRING:
            raise SessionFileError(f"{what} is {len(value):,} characters long; the limit is {MAX_STRING:,}")
        return value

    @staticmethod
    def _bool(value, what: str) -> bool:
        if not isinstance(value, bool):
            raise SessionFileError(f"{what} must be true or false, not {_kind(value)}")
        return value

    @staticmethod
    def _int(value, what: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SessionFileError(f"{what} must be a whole number, not {_kind(value)}")
        if not low <= value <= high:
            raise SessionFileError(f"{what} must be between {low} and {high}, not {value}")
        return value

    def _int_or_pair(self, value, what: str, low: int, high: int):
        if isinstance(value, list):
            if len(value) != 2:
                raise SessionFileError(f"{what} must be a whole number or a pair [h, w], not a list of {len(value)}")
            return (self._int(value[0], what, low, high), self._int(value[1], what, low, high))
        if isinstance(value, bool) or not isinstance(value, int):
            raise SessionFileError(f"{what} must be a whole number or a pair [h, w], not {_kind(value)}")
        return self._int(value, what, low, high)

    def _strings(self, value, what: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise SessionFileError(f"{what} must be a list of strings, not {_kind(value)}")
        if len(value) > MAX_LIST:
            raise SessionFileError(f"{what} has {len(value)} entries; the limit is {MAX_LIST}")
        return tuple(self._str(v, f"each entry of {what}") for v in value)

    # -- the document ----------------------------------------------------------------------
    def document(self, d: dict) -> SessionDocument:
        fmt = d.get("format")
        if fmt != FORMAT:
            raise SessionFileError("not a convplay session: its 'format' is not \"convplay\"")
        version = self._get(d, "version", "the document")
        if isinstance(version, bool) or not isinstance(version, int):
            raise SessionFileError(f"the format version must be a whole number, not {_kind(version)}")
        if version > VERSION:
            raise SessionFileError(
                f"this file was made by a newer convplay (format version {version}); this one reads version {VERSION}"
            )
        if version < 1:
            raise SessionFileError(f"format version {version} is not one convplay has written")
        self._unknown(d, ("format", "version", "kind", "title", "description", "state", "steps"), "the document")
        kind = self._str(self._get(d, "kind", "the document"), "the document's kind")
        if kind not in KINDS:
            raise SessionFileError(f"the document's kind must be \"session\" or \"lesson\", not {kind!r}")
        title = self._str(d.get("title", ""), "the title")
        description = self._str(d.get("description", ""), "the description")
        if kind == "session":
            state = self.state(self._get(d, "state", "the session"), "the ")
            steps = d.get("steps", [])
            if not isinstance(steps, list):
                raise SessionFileError(f"the steps must be a list, not {_kind(steps)}")
            if steps:
                self.warnings.append("a session's steps are ignored (only a lesson has steps)")
            return SessionDocument("session", title, description, state, ())
        steps = self._get(d, "steps", "the lesson")
        if not isinstance(steps, list):
            raise SessionFileError(f"the steps must be a list, not {_kind(steps)}")
        if not steps:
            raise SessionFileError("a lesson needs at least one step")
        if len(steps) > MAX_STEPS:
            raise SessionFileError(f"the lesson has {len(steps)} steps; the limit is {MAX_STEPS}")
        return SessionDocument(
            "lesson", title, description, None, tuple(self.step(s, i + 1) for i, s in enumerate(steps))
        )

    def step(self, value, number: int) -> LessonStep:
        where = f"step {number}"
        d = self._obj(value, where)
        self._unknown(d, ("title", "caption", "ask", "hide", "formula", "expect", "pooling", "state"), where)
        hide = []
        for key in self._strings(d.get("hide", []), f"{where}'s hide"):
            if key in HIDE_KEYS:
                if key not in hide:
                    hide.append(key)
            else:
                self.warnings.append(f"unknown panel {key!r} in {where}'s hide ignored")
        shape, output = None, None
        if d.get("expect") is not None:
            shape, output = self.expect(d["expect"], f"{where}'s expect")
        return LessonStep(
            title=self._str(d.get("title", ""), f"{where}'s title"),
            caption=self._str(d.get("caption", ""), f"{where}'s caption"),
            ask=self._str(d.get("ask", ""), f"{where}'s question"),
            hide=tuple(hide),
            formula=self._strings(d.get("formula", []), f"{where}'s formula"),
            expected_output_shape=shape,
            expected_output=output,
            state=self.state(self._get(d, "state", where), f"{where}'s "),
            pooling=self.pooling(d["pooling"], f"{where}'s pooling") if d.get("pooling") is not None else None,
        )

    def pooling(self, value, where: str) -> PoolSpec:
        """A pooling layer's settings, by PyTorch's argument names.  Malformed values are
        refused; settings PyTorch would refuse for the input are kept, as for a convolution."""
        d = self._obj(value, where)
        self._unknown(d, _POOL_FIELDS, where)
        kind = self._str(self._get(d, "kind", where), f"{where}'s kind")
        if kind not in POOL_KINDS:
            raise SessionFileError(f"{where}'s kind must be one of {', '.join(POOL_KINDS)}, not {kind!r}")
        for name in d:
            if name in _POOL_FIELDS and name != "kind" and name not in _POOL_KIND_FIELDS[kind]:
                self.warnings.append(f"{where}: {name} is not an argument of {PoolSpec(kind).layer_kind}; ignored")
        if kind.startswith("adaptive"):
            size = self._get(d, "output_size", where)
            if isinstance(size, list) and len(size) == 2:
                size = tuple(None if v is None else self._int(v, f"{where}'s output_size", 1, MAX_POOL_OUTPUT)
                             for v in size)
            else:
                size = self._int_or_pair(size, f"{where}'s output_size", 1, MAX_POOL_OUTPUT)
            return PoolSpec(kind, output_size=size)
        v: dict = {"kernel_size": self._int_or_pair(self._get(d, "kernel_size", where), f"{where}'s kernel_size", 1,
                                                    MAX_POOL_KERNEL)}
        if d.get("stride") is not None:
            v["stride"] = self._int_or_pair(d["stride"], f"{where}'s stride", 1, MAX_SPATIAL_ARG)
        if "padding" in d:
            v["padding"] = self._int_or_pair(d["padding"], f"{where}'s padding", 0, MAX_SPATIAL_ARG)
        if "ceil_mode" in d:
            v["ceil_mode"] = self._bool(d["ceil_mode"], f"{where}'s ceil_mode")
        if kind == "max" and "dilation" in d:
            v["dilation"] = self._int_or_pair(d["dilation"], f"{where}'s dilation", 1, MAX_SPATIAL_ARG)
        if kind == "avg":
            if "count_include_pad" in d:
                v["count_include_pad"] = self._bool(d["count_include_pad"], f"{where}'s count_include_pad")
            if d.get("divisor_override") is not None:
                v["divisor_override"] = self._int(d["divisor_override"], f"{where}'s divisor_override",
                                                  -MAX_DIVISOR, MAX_DIVISOR)
        return PoolSpec(kind, **v)

    def expect(self, value, where: str):
        d = self._obj(value, where)
        self._unknown(d, ("output_shape", "output"), where)
        shape = None
        if d.get("output_shape") is not None:
            raw = d["output_shape"]
            if not (isinstance(raw, list) and len(raw) == 3):
                raise SessionFileError(f"{where}'s output_shape must be [C, H, W]")
            shape = tuple(self._int(v, f"{where}'s output_shape", 1, 1 << 30) for v in raw)
        output = None
        if d.get("output") is not None:
            data = d["output"]
            dims = _inferred_shape(data)
            if len(dims) not in (2, 3):
                raise SessionFileError(f"{where}'s output must be rows of numbers ([H][W]) or channels of them ([C][H][W])")
            output = self._nested(data, dims, f"{where}'s output", MAX_EXPECTED_VALUES)
        return shape, output

    # -- a state ------------------------------------------------------------------------------
    def state(self, value, ctx: str) -> SessionState:
        """``ctx`` is "the " or "step 3's ": it starts every sentence about this state."""
        d = self._obj(value, f"{ctx}state")
        self._unknown(d, ("input", "spec", "true_convolution", "weight", "bias", "kernel_name", "kernel_recipe", "view"), f"{ctx}state")
        raw_spec = self._get(d, "spec", f"{ctx}state")
        image, source, channels, working_size = self.input(self._get(d, "input", f"{ctx}state"), ctx)
        c = image.shape[0]
        spec = self.spec(raw_spec, ctx)
        if isinstance(raw_spec, dict) and "in_channels" not in raw_spec:
            spec = spec.replace(in_channels=c)  # it can only be the input's
        if spec.in_channels != c:
            raise SessionFileError(
                f"{ctx}spec's in_channels is {spec.in_channels} but the input has {c} channel{'s' if c != 1 else ''}"
            )
        if spec.is_valid(image.shape):
            n = math.prod(spec.output_shape(image.shape))
            if n > MAX_OUTPUT_VALUES:
                raise SessionFileError(f"{ctx}settings give an output of {n:,} values; the limit is {MAX_OUTPUT_VALUES:,}")
        weight = self.array(self._get(d, "weight", f"{ctx}state"), f"{ctx}weight", MAX_WEIGHT_VALUES)
        if weight.ndim != 4:
            raise SessionFileError(f"{ctx}weight must have 4 dimensions, not {weight.ndim}")
        needed = usable_weight_shape(spec, weight.shape)
        if weight.shape != needed:
            raise SessionFileError(
                f"{ctx}weight has the shape {list(weight.shape)}, but the spec needs {list(needed)}"
            )
        n_bias = int(spec.out_channels)
        if d.get("bias") is None:
            bias = sealed(np.zeros(n_bias))
        else:
            bias = self.array(d["bias"], f"{ctx}bias", MAX_CHANNELS)
            if bias.shape != (n_bias,):
                raise SessionFileError(
                    f"{ctx}bias must hold one value per output channel ({n_bias}), but its shape is {list(bias.shape)}"
                )
        true_convolution = self._bool(d.get("true_convolution", False), f"{ctx}true_convolution")
        kernel_name = self._str(d.get("kernel_name", ""), f"{ctx}kernel_name")
        recipe = self.recipe(d.get("kernel_recipe"), weight.shape, ctx)
        view = self.view(d["view"], ctx) if d.get("view") is not None else ViewState()
        snapshot = SessionSnapshot(
            image=image, source=source, channels=channels, working_size=working_size, spec=spec,
            weight=weight, bias=bias, true_convolution=true_convolution, kernel_name=kernel_name, kernel_note="",
            kernel_recipe=recipe,
        )
        return SessionState(snapshot, view)

    def recipe(self, value, weight_shape: tuple[int, ...], ctx: str) -> KernelRecipe | None:
        """The parameters the kernel was made from; one that cannot be used is dropped with
        a warning (the weights stay as saved, detached)."""
        if value is None:
            return None
        try:
            recipe = recipe_from_dict(value)
        except KernelParameterError as exc:
            self.warnings.append(f"{ctx}kernel_recipe ignored: {exc}")
            return None
        if recipe.kernel_shape != tuple(weight_shape[2:]):
            self.warnings.append(f"{ctx}kernel_recipe ignored: it makes a {recipe.kernel_shape[0]}×"
                                 f"{recipe.kernel_shape[1]} kernel, the weight's is {weight_shape[2]}×{weight_shape[3]}")
            return None
        return recipe

    def spec(self, value, ctx: str) -> ConvSpec:
        where = f"{ctx}spec"
        d = self._obj(value, where)
        self._unknown(d, _SPEC_FIELDS, where)
        v: dict = {}
        for name in ("in_channels", "out_channels", "groups"):
            if name in d:
                v[name] = self._int(d[name], f"{where}'s {name}", 1, MAX_CHANNELS)
        if "kernel_size" in d:
            v["kernel_size"] = self._int_or_pair(d["kernel_size"], f"{where}'s kernel_size", 1, MAX_KERNEL)
        for name in ("stride", "dilation"):
            if name in d:
                v[name] = self._int_or_pair(d[name], f"{where}'s {name}", 1, MAX_SPATIAL_ARG)
        if "output_padding" in d:
            v["output_padding"] = self._int_or_pair(d["output_padding"], f"{where}'s output_padding", 0, MAX_SPATIAL_ARG)
        if "padding" in d:
            padding = d["padding"]
            if isinstance(padding, str):
                if padding not in ("same", "valid"):
                    raise SessionFileError(f"{where}'s padding must be a number, a pair, \"same\" or \"valid\", not {padding!r}")
                v["padding"] = padding
            else:
                v["padding"] = self._int_or_pair(padding, f"{where}'s padding", 0, MAX_SPATIAL_ARG)
        if "padding_mode" in d:
            mode = self._str(d["padding_mode"], f"{where}'s padding_mode")
            if mode not in PADDING_MODES:
                raise SessionFileError(f"{where}'s padding_mode must be one of {', '.join(PADDING_MODES)}, not {mode!r}")
            v["padding_mode"] = mode
        for name in ("bias", "transposed"):
            if name in d:
                v[name] = self._bool(d[name], f"{where}'s {name}")
        return ConvSpec(**v)

    def input(self, value, ctx: str):
        """(image, source, channels, working_size) as the session keeps them."""
        where = f"{ctx}input"
        d = self._obj(value, where)
        given = [k for k in ("sample", "array", "blank") if k in d]
        if len(given) != 1:
            raise SessionFileError(f"{where} must have exactly one of \"sample\", \"array\" or \"blank\"")
        size = d.get("working_size")
        if size is not None:
            size = self._int(size, f"{where}'s working_size", MIN_WORKING_SIZE, MAX_WORKING_SIZE)
        if given[0] == "sample":
            self._unknown(d, ("sample", "working_size", "channels", "resized"), where)
            key = self._str(d["sample"], f"{where}'s sample")
            try:
                found = find_sample(key)
            except KeyError:
                raise SessionFileError(
                    f"{where} names the sample {key!r}, which convplay does not have "
                    f"(it has {', '.join(s.key for s in SAMPLES)})"
                ) from None
            channels = d.get("channels")
            if channels is not None and (isinstance(channels, bool) or channels not in (1, 3)):
                raise SessionFileError(f"{where}'s channels must be 1 or 3")
            resized = self._bool(d.get("resized", False), f"{where}'s resized")
            size = DEFAULT_WORKING_SIZE if size is None else size
            made = self._made.get(("sample", key, size, resized, channels))
            if made is not None:
                return made
            source = InputSource.from_sample(found)
            try:
                base = source.own() if source.fixed_size and not resized else source.at(size)
            except (ImageLoadError, OSError, ValueError) as exc:
                raise SessionFileError(f"the sample {key!r} cannot be made: {exc}") from None
            wanted = None if channels is None or channels == base.shape[0] else int(channels)
            image = base if wanted is None else sealed(np.ascontiguousarray(to_channels(base, wanted)))
            self._spend(image.size)
            made = self._made[("sample", key, size, resized, channels)] = (image, source, wanted, size)
            return made
        if given[0] == "array":
            self._unknown(d, ("array", "working_size"), where)
            image = self.array(d["array"], f"{ctx}input array", MAX_INPUT_VALUES)
            if image.ndim == 2:
                image = sealed(image[None].copy())
            if image.ndim != 3 or min(image.shape) < 1:
                raise SessionFileError(f"{ctx}input array must be (C, H, W) with at least one pixel, not {list(image.shape)}")
        else:
            self._unknown(d, ("blank", "working_size"), where)
            shape = d["blank"]
            if not (isinstance(shape, list) and len(shape) == 3):
                raise SessionFileError(f"{where}'s blank must be [C, H, W]")
            c, h, w = (self._int(n, f"{where}'s blank", 1, MAX_INPUT_VALUES) for n in shape)
            if c * h * w > MAX_INPUT_VALUES:
                raise SessionFileError(f"{where}'s blank has {c * h * w:,} values; the limit is {MAX_INPUT_VALUES:,}")
            image = self._made.get(("blank", c, h, w))
            if image is None:
                self._spend(c * h * w)
                image = self._made[("blank", c, h, w)] = sealed(np.zeros((c, h, w)))
        if size is None:
            size = min(max(max(image.shape[1:]), MIN_WORKING_SIZE), MAX_WORKING_SIZE)
        return image, None, None, size

    def view(self, value, ctx: str) -> ViewState:
        where = f"{ctx}view"
        d = self._obj(value, where)
        self._unknown(d, ("animation_step", "workspace", "zoom", "output", "device", "dtype", "tf32"), where)
        v: dict = {}
        if d.get("animation_step") is not None:
            v["animation_step"] = self._int(d["animation_step"], f"{where}'s animation_step", 1, 1 << 40)
        for name in ("workspace", "device"):
            if d.get(name) is not None:
                v[name] = self._str(d[name], f"{where}'s {name}")
        if d.get("zoom") is not None:
            zoom = d["zoom"]
            if isinstance(zoom, bool) or not isinstance(zoom, (int, float)) or not 0 < zoom <= MAX_ZOOM:
                raise SessionFileError(f"{where}'s zoom must be a number above 0 and at most {MAX_ZOOM:g}")
            v["zoom"] = float(zoom)
        if d.get("dtype") is not None:
            dtype = self._str(d["dtype"], f"{where}'s dtype")
            if dtype not in COMPUTE_DTYPES:
                raise SessionFileError(f"{where}'s dtype must be one of {', '.join(COMPUTE_DTYPES)}, not {dtype!r}")
            v["dtype"] = dtype
        if d.get("tf32") is not None:
            v["tf32"] = self._bool(d["tf32"], f"{where}'s tf32")
        if d.get("output") is not None:
            out = self._obj(d["output"], f"{where}'s output")
            self._unknown(out, ("channel", "mode", "mapping"), f"{where}'s output")
            if out.get("channel") is not None:
                v["output_channel"] = self._int(out["channel"], f"{where}'s output channel", 0, MAX_CHANNELS)
            for name in ("mode", "mapping"):
                if out.get(name) is not None:
                    v[f"output_{name}"] = self._str(out[name], f"{where}'s output {name}")
        return ViewState(**v)

    # -- arrays ---------------------------------------------------------------------------------
    def array(self, value, what: str, max_values: int) -> np.ndarray:
        """A read-only float64 array from an inline Array or an .npy member, checked."""
        d = self._obj(value, what)
        if "npy" in d:
            self._unknown(d, ("npy",), what)
            name = self._str(d["npy"], f"{what}'s npy")
            if self._archive is None:
                raise SessionFileError(f"{what} refers to {name!r}, but a plain JSON document has no arrays beside it")
            if not _ARRAY_MEMBER.fullmatch(name):
                raise SessionFileError(f"{what} refers to {name!r}; arrays are members named arrays/<name>.npy")
            if not self._archive.has(name):
                raise SessionFileError(f"{what} refers to {name!r}, which the zip does not hold")
            array = self._made.get(("npy", name, max_values))
            if array is None:
                array = _parse_npy(self._archive.read(name, MAX_MEMBER_BYTES), what, max_values)
                self._spend(array.size)
                self._made[("npy", name, max_values)] = array
            return array
        self._unknown(d, ("dtype", "shape", "data"), what)
        dtype = self._str(d.get("dtype", "float64"), f"{what}'s dtype")
        if dtype not in _INLINE_DTYPES:
            raise SessionFileError(f"{what} holds {dtype!r} values; convplay reads float or int arrays only")
        data = self._get(d, "data", what)
        if "shape" in d:
            shape = d["shape"]
            if not isinstance(shape, list) or len(shape) > 4:
                raise SessionFileError(f"{what}'s shape must be a list of at most 4 sizes")
            shape = tuple(self._int(n, f"{what}'s shape", 0, max_values) for n in shape)
        else:
            shape = _inferred_shape(data)
        array = self._nested(data, shape, what, max_values)
        self._spend(array.size)
        return array

    @staticmethod
    def _nested(data, shape: tuple[int, ...], what: str, max_values: int) -> np.ndarray:
        if len(shape) > 4:
            raise SessionFileError(f"{what} has more than 4 dimensions")
        n = math.prod(shape)
        if n > max_values:
            raise SessionFileError(f"{what} holds {n:,} values; the limit is {max_values:,}")
        level = [data]
        for size in shape:
            below = []
            for item in level:
                if not isinstance(item, list) or len(item) != size:
                    raise SessionFileError(f"{what}'s data does not have the shape {list(shape)}")
                below.extend(item)
            level = below
        if not all(type(x) is float or type(x) is int for x in level):
            raise SessionFileError(f"{what} holds a value that is not a number")
        try:
            array = np.array(level, dtype=np.float64).reshape(shape)
        except OverflowError:
            raise SessionFileError(f"{what} holds a number too large for a float") from None
        _check_finite(array, what)
        return sealed(array)


def _inferred_shape(data) -> tuple[int, ...]:
    shape = []
    while isinstance(data, list) and len(shape) <= 4:
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return tuple(shape)


# -- writing --------------------------------------------------------------------------------


def document_json(doc: SessionDocument) -> str:
    """The document as one plain JSON text, every array inline (the built-in lessons' form)."""
    return _Writer(None).text(doc)


def document_bytes(doc: SessionDocument) -> bytes:
    """The document as a .convplay zip: session.json, and arrays of more than 256 values as .npy members."""
    members: dict[str, bytes] = {}
    text = _Writer(members).text(doc)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in ((SESSION_MEMBER, text.encode("utf-8")), *members.items()):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def write_document(path: str | os.PathLike, doc: SessionDocument) -> None:
    """Write ``doc`` to ``path`` as a .convplay zip, atomically: the file is either the old
    one or the whole new one, never half written.  SessionFileError says why it could not be."""
    data = document_bytes(doc)
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    temp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        if path.is_dir():
            raise SessionFileError(f"cannot save {path}: it is a folder")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
    except FileNotFoundError:
        raise SessionFileError(f"cannot save {path}: the folder {folder} does not exist") from None
    except OSError as exc:
        raise SessionFileError(f"cannot save {path}: {exc.strerror or exc}") from None


class _Writer:
    """Builds the JSON tree; with ``members`` (a zip), large arrays go there as .npy."""

    def __init__(self, members: dict[str, bytes] | None):
        self._members = members
        self._by_content: dict[bytes, str] = {}
        self._rows: dict[str, list] = {}
        self._samples: dict[tuple, np.ndarray] = {}
        self._tag = uuid.uuid4().hex

    def text(self, doc: SessionDocument) -> str:
        if doc.kind not in KINDS:
            raise SessionFileError(f"the document's kind must be \"session\" or \"lesson\", not {doc.kind!r}")
        tree: dict = {"format": FORMAT, "version": VERSION, "kind": doc.kind, "title": _text(doc.title, "the title")}
        if doc.description:
            tree["description"] = _text(doc.description, "the description")
        if doc.kind == "session":
            if doc.state is None:
                raise SessionFileError("a session needs a state to save")
            tree["state"] = self.state(doc.state, "", "the ")
        else:
            if not doc.steps:
                raise SessionFileError("a lesson needs at least one step")
            if len(doc.steps) > MAX_STEPS:
                raise SessionFileError(f"the lesson has {len(doc.steps)} steps; the limit is {MAX_STEPS}")
            tree["steps"] = [self.step(s, i + 1) for i, s in enumerate(doc.steps)]
        text = json.dumps(self._compact(tree), indent=1, sort_keys=False, ensure_ascii=False, allow_nan=False)
        for marker, row in self._rows.items():
            text = text.replace(json.dumps(marker), json.dumps(row, allow_nan=False))
        if len(text.encode("utf-8")) > MAX_JSON_BYTES:
            raise SessionFileError(f"the session's JSON would be more than {MAX_JSON_BYTES // MiB} MiB")
        return text + "\n"

    def _compact(self, value):
        """Rows of numbers stay on one line: a 5×5 image reads as five lines, not 25."""
        if isinstance(value, dict):
            return {k: self._compact(v) for k, v in value.items()}
        if isinstance(value, list):
            if value and all(type(x) in (int, float) for x in value):
                marker = f"{self._tag}:{len(self._rows)}"
                self._rows[marker] = value
                return marker
            return [self._compact(v) for v in value]
        return value

    def step(self, step: LessonStep, number: int) -> dict:
        where = f"step {number}"
        out = {
            "title": _text(step.title, f"{where}'s title"),
            "caption": _text(step.caption, f"{where}'s caption"),
            "ask": _text(step.ask, f"{where}'s question"),
            "hide": [_text(h, f"{where}'s hide") for h in step.hide],
        }
        if step.formula:
            out["formula"] = [_text(line, f"{where}'s formula") for line in step.formula]
        expect = {}
        if step.expected_output_shape is not None:
            expect["output_shape"] = [int(v) for v in step.expected_output_shape]
        if step.expected_output is not None:
            values = np.asarray(step.expected_output, dtype=np.float64)
            _check_finite(values, f"{where}'s expected output")
            expect["output"] = _exact_numbers(values)
        if expect:
            out["expect"] = expect
        pooling = getattr(step, "pooling", None)
        if pooling is not None:
            out["pooling"] = {"kind": pooling.kind, **{k: _spec_value(v) for k, v in pooling.layer_kwargs().items()}}
        out["state"] = self.state(step.state, f"step{number}_", f"{where}'s ")
        return out

    def state(self, state: SessionState, prefix: str, ctx: str) -> dict:
        snap = state.snapshot
        spec = snap.spec
        out = {
            "input": self.input(snap, prefix, ctx),
            "spec": {name: _spec_value(getattr(spec, name)) for name in _SPEC_FIELDS},
            "true_convolution": bool(snap.true_convolution),
            "weight": self.array(snap.weight, f"{prefix}weight", f"{ctx}weight"),
            "bias": self.array(snap.bias, f"{prefix}bias", f"{ctx}bias"),
        }
        if snap.kernel_name:
            out["kernel_name"] = _text(snap.kernel_name, f"{ctx}kernel_name")
        if snap.kernel_recipe is not None:
            out["kernel_recipe"] = snap.kernel_recipe.as_dict()
        view = _view_json(state.view)
        if view:
            out["view"] = view
        return out

    def input(self, snap: SessionSnapshot, prefix: str, ctx: str) -> dict:
        image, source = snap.image, snap.source
        if source is not None and source.sample is not None:
            fixed = source.sample.fixed_size
            resized = fixed and max(image.shape[1:]) == snap.working_size
            key = (source.sample.key, snap.working_size, resized, snap.channels)
            made = self._samples.get(key)
            if made is None:  # a lesson's steps on the same photo load it once
                base = source.at(snap.working_size) if (resized or not fixed) else source.own()
                wanted = snap.channels
                made = base if wanted is None or wanted == base.shape[0] else to_channels(base, wanted)
                self._samples[key] = made
            # Only a reference that makes these very pixels again is written as one.
            if made.shape == image.shape and np.array_equal(made, image) and _same_bytes(made, image):
                out = {"sample": source.sample.key, "working_size": snap.working_size, "channels": int(image.shape[0])}
                if resized:
                    out["resized"] = True
                return out
        if not image.any() and not np.signbit(image).any():
            return {"blank": [int(n) for n in image.shape], "working_size": snap.working_size}
        return {"array": self.array(image, f"{prefix}input", f"{ctx}input array"), "working_size": snap.working_size}

    def array(self, array: np.ndarray, name: str, what: str) -> dict:
        array = np.ascontiguousarray(array, dtype=np.float64)
        _check_finite(array, what)
        if self._members is None or array.size <= INLINE_MAX or len(self._members) >= MAX_MEMBERS - 1:
            return {"dtype": "float64", "shape": [int(n) for n in array.shape], "data": array.tolist()}
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        data = buffer.getvalue()
        digest = hashlib.sha256(data).digest()
        member = self._by_content.get(digest)
        if member is None:
            member = f"arrays/{name}.npy"
            self._members[member] = data
            self._by_content[digest] = member
        return {"npy": member}


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return np.ascontiguousarray(a, dtype=np.float64).tobytes() == np.ascontiguousarray(b, dtype=np.float64).tobytes()


def _text(value: str, what: str) -> str:
    value = str(value)
    if len(value) > MAX_STRING:
        raise SessionFileError(f"{what} is {len(value):,} characters long; a session file holds at most {MAX_STRING:,}")
    return value


def _spec_value(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (tuple, list)):
        return [_spec_value(v) for v in value]
    return value


def _exact_numbers(values: np.ndarray):
    """Nested lists; whole numbers written as ints ("4", not "4.0"), as captions write them."""
    if values.ndim == 0:
        x = float(values)
        return int(x) if x.is_integer() and abs(x) < 2**53 else x
    return [_exact_numbers(v) for v in values]


def _view_json(view: ViewState) -> dict:
    out: dict = {}
    if view.animation_step is not None:
        out["animation_step"] = int(view.animation_step)
    if view.workspace is not None:
        out["workspace"] = str(view.workspace)
    if view.zoom is not None:
        out["zoom"] = float(view.zoom)
    output = {}
    for key, value in (("channel", view.output_channel), ("mode", view.output_mode), ("mapping", view.output_mapping)):
        if value is not None:
            output[key] = int(value) if key == "channel" else str(value)
    if output:
        out["output"] = output
    if view.device is not None:
        out["device"] = str(view.device)
    if view.dtype is not None:
        out["dtype"] = str(view.dtype)
    if view.tf32 is not None:
        out["tf32"] = bool(view.tf32)
    return out


def is_session_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is meant as a session or lesson rather than an image: its suffix
    is .convplay or .json, or it starts as a zip or a JSON object does."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in (SUFFIX, ".json"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(b"PK") or head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"
