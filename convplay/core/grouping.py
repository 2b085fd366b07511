"""Which input channels feed which output channels: the groups of a convolution, as boxes
and links to draw (``build_model``), with no Qt, so it is tested against PyTorch.

Many channels are capped at ``MAX_BOXES`` boxes per side: the current output channel, the
inputs it reads, the ends and the group boundaries keep a box of their own, and each run
of channels in between becomes one ellipsis box ("3–60") linked wherever any channel in it
is linked.  A transposed convolution has the same picture: input channel c feeds the
out/groups output channels of its group, so output channel o reads the in/groups inputs
of its group, as for a convolution.  ``qt/animation/group_diagram.py`` paints the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from convplay.core.spec import ConvSpec

MAX_BOXES = 16  # boxes per side, ellipsis boxes included


@dataclass(frozen=True)
class Slot:
    """One box: channels ``first``..``last`` (one channel, or an ellipsis of several)."""

    first: int
    last: int
    group: int | None  # None when the channels belong to several groups

    @property
    def is_ellipsis(self) -> bool:
        return self.last > self.first

    def label(self) -> str:
        return f"{self.first}\u2013{self.last}" if self.is_ellipsis else str(self.first)

    def holds(self, channel: int) -> bool:
        return self.first <= channel <= self.last


@dataclass(frozen=True)
class Link:
    """A line from input box ``source`` to output box ``target`` (indices into the model's slots)."""

    source: int
    target: int
    group: int | None
    highlighted: bool  # the current output channel reads this input now


@dataclass(frozen=True)
class GroupModel:
    in_channels: int
    out_channels: int
    groups: int
    transposed: bool
    current_out: int
    current_in: int | None  # a transposed conv's stamping input channel; None for a convolution
    inputs: tuple[Slot, ...]
    outputs: tuple[Slot, ...]
    links: tuple[Link, ...]
    caption: str

    @property
    def in_per_group(self) -> int:
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        return self.out_channels // self.groups

    def feeds(self, c_in: int, c_out: int) -> bool:
        """Whether input channel ``c_in`` takes part in output channel ``c_out``."""
        return c_in // self.in_per_group == c_out // self.out_per_group

    def read_by(self, c_out: int) -> range:
        """The input channels output channel ``c_out`` reads."""
        first = c_out // self.out_per_group * self.in_per_group
        return range(first, first + self.in_per_group)


def _channel_counts(spec: ConvSpec) -> tuple[int, int, int] | None:
    """(in, out, groups) when they make a valid grouping, else None."""
    counts = (spec.in_channels, spec.out_channels, spec.groups)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in counts):
        return None
    c_in, c_out, groups = counts
    return counts if c_in % groups == 0 and c_out % groups == 0 else None


def _from_ends(lo: int, hi: int) -> Iterable[int]:
    """lo, hi, lo+1, hi-1, ...: a range's ends first, its middle last."""
    while lo <= hi:
        yield lo
        if hi > lo:
            yield hi
        lo, hi = lo + 1, hi - 1


def _rows(chosen: Sequence[int], n: int) -> int:
    """Boxes needed for the sorted channels ``chosen``: one each, plus one per gap."""
    gaps = (chosen[0] > 0) + (chosen[-1] < n - 1) + sum(b - a > 1 for a, b in zip(chosen, chosen[1:]))
    return len(chosen) + gaps


def choose_slots(n: int, per_group: int, current: Sequence[int], near: Iterable[int],
                 cap: int = MAX_BOXES) -> tuple[Slot, ...]:
    """Boxes for ``n`` channels in groups of ``per_group``, at most ``cap`` of them.

    The ``current`` channels get a box of their own first, then the first and last channel
    of each group (when there are few groups, so that no ellipsis spans two groups), then
    channels ``near`` them (up to half the boxes), then the channels from both ends
    inwards; each run left out becomes one ellipsis box.
    """
    if n <= cap:
        chosen = list(range(n))
    else:
        groups = n // per_group
        candidates = list(current)
        if 2 * groups <= cap // 2:
            candidates += [c for g in range(groups) for c in (g * per_group, (g + 1) * per_group - 1)]
        candidates += list(near)[: cap // 2]
        candidates += _from_ends(0, n - 1)
        chosen: list[int] = []
        for c in dict.fromkeys(candidates):
            trial = sorted([*chosen, c])
            if _rows(trial, n) <= cap:
                chosen = trial
            if _rows(chosen, n) >= cap:
                break
    slots, previous = [], -1
    for c in [*chosen, n]:
        if c - previous > 1:
            first, last = previous + 1, c - 1
            same = first // per_group == last // per_group
            slots.append(Slot(first, last, first // per_group if same else None))
        if c < n:
            slots.append(Slot(c, c, c // per_group))
        previous = c
    return tuple(slots)


def _caption(c_in: int, c_out: int, groups: int, transposed: bool, current_out: int) -> str:
    ipg, opg = c_in // groups, c_out // groups
    kind = " (depthwise)" if groups == c_in and groups > 1 else ""
    if transposed:
        head = (f"groups={groups}{kind}, transposed: each input channel feeds "
                + (f"all {c_out} output channels" if groups == 1 else f"{opg} of the {c_out} output channels"))
    else:
        head = (f"groups={groups}{kind}: each output channel reads "
                + (f"all {c_in} input channels" if groups == 1 else f"{ipg} of the {c_in} input channels"))
    group = current_out // opg
    first = group * ipg
    reads = f"input {first}" if ipg == 1 else f"inputs {first}\u2013{first + ipg - 1}"
    return f"{head}. Output {current_out} reads {reads}" + (f" (group {group})." if groups > 1 else ".")


def _span_group(slot: Slot, per_group: int) -> tuple[int, int]:
    return slot.first // per_group, slot.last // per_group


def build_model(spec: ConvSpec, current_out: int = 0, current_in: int | None = None,
                cap: int = MAX_BOXES) -> GroupModel | None:
    """What to draw for ``spec`` while output channel ``current_out`` is computed; None when
    the channel counts and groups do not make a valid grouping (the dock says why)."""
    counts = _channel_counts(spec)
    if counts is None:
        return None
    c_in, c_out, groups = counts
    ipg, opg = c_in // groups, c_out // groups
    current_out = min(max(int(current_out), 0), c_out - 1)
    if current_in is not None and not 0 <= current_in < c_in:
        current_in = None
    group = current_out // opg
    read = range(group * ipg, (group + 1) * ipg)
    current_ins = [current_in] if current_in is not None else [read.start]
    inputs = choose_slots(c_in, ipg, current_ins, _from_ends(read.start, read.stop - 1), cap)
    outputs = choose_slots(c_out, opg, [current_out], _from_ends(group * opg, (group + 1) * opg - 1), cap)
    links = []
    for t, target in enumerate(outputs):
        lo_out, hi_out = _span_group(target, opg)
        for s, source in enumerate(inputs):
            lo_in, hi_in = _span_group(source, ipg)
            if hi_in < lo_out or hi_out < lo_in:
                continue
            shared = lo_in if (lo_in, hi_in) == (lo_out, hi_out) and lo_in == hi_in else None
            hot = target.holds(current_out) and source.first <= read.stop - 1 and source.last >= read.start
            links.append(Link(s, t, shared, hot))
    caption = _caption(c_in, c_out, groups, bool(spec.transposed), current_out)
    return GroupModel(c_in, c_out, groups, bool(spec.transposed), current_out, current_in,
                      inputs, outputs, tuple(links), caption)
