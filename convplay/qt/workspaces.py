"""The workspaces of the View menu: which panels each one shows, and how they are arranged.

One table (``WORKSPACES``): a name (for ``--workspace`` and the settings), a title (the
menu), a shortcut, the docks on screen, and the arrangement as a tree of splits whose
leaves are tab groups.  The lesson panel is shown by none of them: it is shown in its
place while a lesson is open (qt/lesson_model.py).  Every dock has a place in
every arrangement, shown or not, so that a panel brought back through View > Panels
appears in a sensible spot (a tab beside its kin) instead of floating.

Nothing here imports Qt: the command line reads the names for ``--help``, and the tree
turns into plain steps (``placement``) and sizes (``sizes``) that the window carries out
with QMainWindow's docking calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

DOCKS = ("input", "output", "animation", "kernel", "params", "formula", "device", "lesson",
         "designer", "analysis", "response", "compare", "stack", "maps", "scores", "receptive", "pooling",
         "matrix", "transposed")
HORIZONTAL, VERTICAL = "h", "v"  # side by side; one above the other
# A part's share that says "as much as its panel needs across the room it gets" (a strip
# of fields as tall as they are at that width); the other parts share what is left.
FIT = "fit"
FIT_AT_MOST = 2 / 3  # of the room: the other parts keep at least a third


@dataclass(frozen=True)
class FitWithin:
    """A ``FIT`` part kept between ``least`` and ``most`` of the room: a column whose panels
    grow with their contents (a 15x15 grid, a long note) stays in a narrow band, its panels
    scrolling, and never takes the width from the part beside it."""

    least: float
    most: float


def _is_fit(share) -> bool:
    return share == FIT or isinstance(share, FitWithin)


@dataclass(frozen=True)
class Tabs:
    """Docks sharing one place as tabs; the first of those shown is in front."""

    docks: tuple[str, ...]

    def __init__(self, *docks: str):
        object.__setattr__(self, "docks", docks)


@dataclass(frozen=True)
class Split:
    """Parts side by side (``HORIZONTAL``) or one above the other (``VERTICAL``), each with
    its share of the room (shares are relative: they need not add up to 1), or ``FIT``."""

    orientation: str
    parts: tuple[tuple["Node", float | str], ...]

    def __init__(self, orientation: str, *parts: tuple["Node", float | str]):
        object.__setattr__(self, "orientation", orientation)
        object.__setattr__(self, "parts", parts)


Node = Union[Tabs, Split]


@dataclass(frozen=True)
class Workspace:
    name: str
    title: str  # the menu's text, with its & mnemonic
    keys: tuple[str, ...]  # the shortcuts
    tip: str
    shown: tuple[str, ...]  # the docks on screen; the others keep their place, hidden
    layout: Node
    action: str  # the id of its row in actions.ACTIONS

    @property
    def label(self) -> str:
        return self.title.replace("&", "")


FOCUS = "focus"
# The output's share of the workbench's middle column, the response's being 1: the output
# (a gradient pair's two channels under the picture) needs the height more than the
# response, which stays readable at about 300 px tall.
WORKBENCH_OUTPUT = 1.2
EXPLORE = "explore"
WORKBENCH = "workbench"
NETWORK = "network"
POOLING = "pooling"
MATRIX = "matrix"
TRANSPOSED = "transposed"

# The animation (its arithmetic beside it) takes all the width the kernel beside it
# does not need; the parameters are a tab behind the kernel.
_ANIMATION_LARGE = Split(
    HORIZONTAL,
    (Tabs("animation", "output", "input", "pooling", "maps", "receptive", "matrix", "transposed"), 1.0),
    # A lesson's panel under the kernel, beside the animation (hidden without a lesson).
    (Split(VERTICAL, (Tabs("kernel", "params", "formula", "device", "designer", "analysis", "stack"), 1.0),
           (Tabs("lesson", "response", "compare", "scores"), 1.0)), FIT),
)


def _matrix_views(editors: tuple[str, str], views: tuple[str, str]) -> Split:
    """The matrix and the four transposed views: the kernel and the parameters (``editors``,
    the first in front) at the left, as narrow as their fields; ``views`` (the first in front)
    take the rest of the width, as wide as a 4×16 C needs."""
    return Split(HORIZONTAL,
                 (Split(VERTICAL, (Tabs(*editors, "input", "designer", "stack"), 1.0),
                        (Tabs("lesson", "formula", "device", "scores"), 1.0)), FitWithin(0.22, 0.3)),
                 (Tabs(*views, "animation", "output", "pooling", "maps", "receptive", "analysis", "response",
                       "compare"), 1.0))


WORKSPACES: tuple[Workspace, ...] = (
    Workspace(
        EXPLORE, "&Explore", ("Ctrl+1",),
        "The input to draw on, the kernel, PyTorch's output large, and the parameters in a compact strip",
        ("input", "output", "animation", "kernel", "params"),
        # The input to draw on takes the whole height at the left; the parameters lie under
        # the output and the kernel in columns of fields, as tall as they need.
        # A lesson's panel under the input (hidden without a lesson).
        Split(HORIZONTAL,
              (Split(VERTICAL, (Tabs("input"), 1.0), (Tabs("lesson"), 1.0)), 0.3),
              (Split(VERTICAL,
                     (Split(HORIZONTAL, (Tabs("output", "animation", "response", "compare", "maps", "pooling",
                                                   "receptive", "matrix", "transposed"), 1.0),
                            (Tabs("kernel", "designer", "analysis", "stack", "scores"), FIT)), 1.0),
                     (Tabs("params", "formula", "device"), FIT)), 0.7)),
        "workspace_explore",
    ),
    Workspace(
        "sliding", "&Sliding window", ("Ctrl+2",),
        "The sliding-window animation large, with its arithmetic, beside the kernel (the parameters a tab behind it)",
        ("animation", "kernel", "params"),
        _ANIMATION_LARGE,
        "workspace_sliding",
    ),
    Workspace(
        "formula", "F&ormula and code", ("Ctrl+3",),
        "The output-size formula, the layer's counts and the PyTorch code, readable whole, beside the parameters",
        ("formula", "params", "device"),
        # The parameters as narrow and as tall as their one column of fields; the formula
        # and the code take the rest of the width.
        Split(HORIZONTAL,
              (Split(VERTICAL, (Tabs("params", "kernel", "input", "designer", "stack"), FIT),
                     (Tabs("device", "output", "animation", "lesson", "response", "compare", "analysis", "maps",
                           "scores", "receptive", "pooling", "matrix", "transposed"), 1.0)),
               FIT),
              (Tabs("formula"), 1.0)),
        "workspace_formula",
    ),
    Workspace(
        FOCUS, "&Focus on the sliding window", ("Ctrl+4", "Ctrl+Shift+F"),  # the second as before workspaces
        "Lecture view: only the sliding-window animation, as large as the window (again to leave)",
        ("animation",),
        _ANIMATION_LARGE,  # where a panel brought back appears: as in the sliding window
        "focus",
    ),
    Workspace(
        WORKBENCH, "Kernel &workbench", ("Ctrl+5",),
        "Design a kernel: its parameters, its weights and numbers, its frequency response and PyTorch's output",
        ("designer", "kernel", "response", "compare", "output", "analysis"),
        # The designer's sliders over the weights they make at the left, the response over
        # the output in the middle, the numbers (or the A/B comparison) at the right.  The
        # side columns fit their panels only within a narrow band: the panels grow with the
        # kernel (a 15x15 grid, a long note) and would take the width from the response, so
        # they scroll in their column instead, and the middle keeps at least 45 %.
        # The parameters, brought back through View > Panels, are a tab beside the numbers.
        Split(HORIZONTAL,
              (Split(VERTICAL, (Tabs("designer", "input"), FIT), (Tabs("kernel", "stack"), 1.0)), FitWithin(0.25, 0.3)),
              (Split(VERTICAL, (Tabs("response", "compare", "maps", "pooling"), 1.0),
                     (Tabs("output", "animation", "receptive", "matrix", "transposed"), WORKBENCH_OUTPUT)), 1.0),
              (Split(VERTICAL, (Tabs("analysis", "params", "formula", "device", "scores"), 1.0), (Tabs("lesson"), 1.0)),
               FitWithin(0.2, 0.25))),
        "workspace_workbench",
    ),
    Workspace(
        NETWORK, "&Network", ("Ctrl+6",),
        "A layer stack traced shape by shape, every layer's feature maps, the class scores and receptive fields",
        ("stack", "maps", "input", "scores", "receptive"),
        # The stack's table at the left (a layer picked there fills the maps in the
        # middle); the input to draw on over the scores it gives at the right.
        Split(HORIZONTAL,
              (Split(VERTICAL, (Tabs("stack", "params", "kernel", "designer"), 1.0), (Tabs("lesson"), 1.0)), 0.4),
              (Tabs("maps", "pooling", "output", "animation", "response", "compare", "formula", "matrix", "transposed"), 0.36),
              (Split(VERTICAL, (Tabs("input", "device", "analysis"), 1.0), (Tabs("scores", "receptive"), 1.0)), 0.24)),
        "workspace_network",
    ),
    Workspace(
        POOLING, "&Pooling", ("Ctrl+7",),
        "Max, average and adaptive pooling stepped window by window, with PyTorch's output-size rules",
        ("pooling", "input"),
        Split(HORIZONTAL,
              (Split(VERTICAL, (Tabs("input", "kernel", "params", "stack"), 1.0), (Tabs("lesson", "scores"), 1.0)),
               0.28),
              (Tabs("pooling", "animation", "output", "maps", "receptive", "formula", "device", "designer",
                    "analysis", "response", "compare", "matrix", "transposed"), 0.72)),
        "workspace_pooling",
    ),
    Workspace(
        MATRIX, "Convolution as a &matrix", ("Ctrl+8",),
        "The convolution as one matrix C with y = C·x + b (im2col for larger inputs), stepping with the sliding window",
        ("matrix", "kernel", "params"),
        _matrix_views(("kernel", "params"), ("matrix", "transposed")),
        "workspace_matrix",
    ),
    Workspace(
        TRANSPOSED, "&Transposed convolution four ways", ("Ctrl+9",),
        "A transposed convolution as a scatter, a gather, zero insertion and y = Cᵀx, stepping together",
        ("transposed", "kernel", "params"),
        _matrix_views(("params", "kernel"), ("transposed", "matrix")),
        "workspace_transposed",
    ),
)

WORKSPACE_NAMES = tuple(w.name for w in WORKSPACES)


def workspace(name: str) -> Workspace:
    """The workspace called ``name``; a KeyError names the ones there are."""
    for w in WORKSPACES:
        if w.name == name:
            return w
    raise KeyError(f"no workspace {name!r}; there are {', '.join(WORKSPACE_NAMES)}")


# -- the tree as steps -----------------------------------------------------------------------
def docks_of(node: Node) -> tuple[str, ...]:
    """Every dock in ``node``, in order."""
    if isinstance(node, Tabs):
        return node.docks
    return tuple(d for part, _ in node.parts for d in docks_of(part))


def _first(node: Node) -> str:
    return docks_of(node)[0]


def placement(node: Node) -> list[tuple[str, ...]]:
    """The docking calls that build ``node``: ("add", dock) once, then ("split", a, b,
    orientation) to give ``b`` part of ``a``'s room, and ("tabify", a, b) to put ``b`` in
    ``a``'s tab group.

    Siblings are split off first, each from the one before (still alone in its room), and
    only then is each sibling's own room divided: the calls never need to name a group.
    """
    steps: list[tuple[str, ...]] = [("add", _first(node))]

    def walk(n: Node) -> None:
        if isinstance(n, Tabs):
            steps.extend(("tabify", n.docks[0], other) for other in n.docks[1:])
            return
        firsts = [_first(part) for part, _ in n.parts]
        steps.extend(("split", a, b, n.orientation) for a, b in zip(firsts, firsts[1:]))
        for part, _ in n.parts:
            walk(part)

    walk(node)
    return steps


def _representative(node: Node, orientation: str) -> str | None:
    """A dock whose size along ``orientation`` is its whole part's: not inside a split of
    that orientation (QMainWindow.resizeDocks sizes the innermost such split)."""
    if isinstance(node, Tabs):
        return node.docks[0]
    if node.orientation == orientation:
        return None
    for part, _ in node.parts:
        found = _representative(part, orientation)
        if found is not None:
            return found
    return None


Fit = Callable[[str, str, int], int]  # (dock, orientation, the room across) -> pixels


def _fronts(node: Node, shown: tuple[str, ...]) -> list[str]:
    """The dock in front of each tab group in ``node`` that shows one of ``shown``."""
    if isinstance(node, Tabs):
        return [d for d in node.docks if d in shown][:1]
    return [d for part, _ in node.parts for d in _fronts(part, shown)]


def sizes(node: Node, width: int, height: int, fit: Fit | None = None, shown: tuple[str, ...] | None = None,
          ) -> list[tuple[tuple[str, ...], tuple[int, ...], str]]:
    """(docks, pixel sizes, orientation) for QMainWindow.resizeDocks, outer splits first, so
    that each split gets its shares of the room ``width`` x ``height`` its parent gave it.

    ``fit(dock, orientation, across)`` says how many pixels a ``FIT`` part's dock needs
    along ``orientation`` when it is ``across`` pixels the other way; it gets at most
    ``FIT_AT_MOST`` of the room, and without ``fit`` a FIT part takes a quarter.  With
    ``shown`` (the docks on screen), a FIT part made of several tab groups is as large as
    the largest need of their front docks on screen (a column of sliders over a grid is as
    wide as the wider of the two), else its first dock's.
    """
    calls: list[tuple[tuple[str, ...], tuple[int, ...], str]] = []

    def walk(n: Node, w: float, h: float) -> None:
        if isinstance(n, Tabs):
            return
        room, across = (w, h) if n.orientation == HORIZONTAL else (h, w)
        fitted = {}
        for i, (part, share) in enumerate(n.parts):
            if _is_fit(share):
                fronts = (_fronts(part, shown) if shown is not None else []) or [_first(part)]
                need = max(fit(d, n.orientation, int(across)) for d in fronts) if fit is not None else room / 4
                least, most = (share.least, share.most) if isinstance(share, FitWithin) else (0.0, FIT_AT_MOST)
                fitted[i] = min(max(float(need), room * least), room * most)
        left = room - sum(fitted.values())
        total = sum(share for _, share in n.parts if not _is_fit(share)) or 1.0
        picked = [(_representative(part, n.orientation) or _first(part),
                   fitted[i] if i in fitted else left * share / total)
                  for i, (part, share) in enumerate(n.parts)]
        calls.append((tuple(d for d, _ in picked), tuple(max(1, round(s)) for _, s in picked), n.orientation))
        for (part, share), (_, size) in zip(n.parts, picked):
            if n.orientation == HORIZONTAL:
                walk(part, size, h)
            else:
                walk(part, w, size)

    walk(node, width, height)
    return calls
