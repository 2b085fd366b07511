"""Which input channels feed which output channels: the groups of a convolution, drawn.

``build_model`` decides what to draw (boxes, links, highlights, caption) without Qt, so it
can be tested against PyTorch; ``GroupDiagram`` paints it with one QPainter pass.  The
model changes only when the settings or the current channel do, never per animation step.

Many channels are capped at ``MAX_BOXES`` boxes per side: the current output channel, the
inputs it reads, the ends and the group boundaries keep a box of their own, and each run
of channels in between becomes one ellipsis box ("3–60") linked wherever any channel in it
is linked.  A transposed convolution has the same picture: input channel c feeds the
out/groups output channels of its group, so output channel o reads the in/groups inputs
of its group, as for a convolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QLineF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from convplay.core.spec import ConvSpec

MAX_BOXES = 16  # boxes per side, ellipsis boxes included
# Paul Tol's "bright" scheme, safe for colour-blind readers; orange is left out because
# the sliding window and its highlighted lines are orange.
GROUP_COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")
MIXED_COLOUR = "#9a9a9a"  # an ellipsis box that spans channels of several groups
HIGHLIGHT = "#ff8c00"  # the sliding window's orange: what the window reads now
COLUMN_WIDTH = 156  # pixels, inputs left and outputs right (beside the view)
ROW_HEIGHT = 118  # pixels, inputs above and outputs below (a strip above the view)


def _towards_white(colour: QColor, amount: float) -> QColor:
    """``colour`` mixed with white: ``amount`` 0 keeps it, 1 gives white."""
    return QColor.fromRgbF(*(c + (1.0 - c) * amount for c in colour.getRgbF()[:3]))


def group_colour(group: int | None) -> QColor:
    """The hue of ``group`` (grey for None: a box spanning several groups)."""
    return QColor(MIXED_COLOUR if group is None else GROUP_COLOURS[group % len(GROUP_COLOURS)])


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


class GroupDiagram(QWidget):
    """Input channels on one side, output channels on the other, a coloured band per group
    and a line wherever an input channel feeds an output channel; the current output
    channel's lines in the window's orange.  ``set_spec`` and ``set_current`` repaint only
    when something changed."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: GroupModel | None = None
        self._spec: ConvSpec | None = None
        self._current: tuple[int, int | None] = (0, None)
        self._font = QFont()
        self._font.setPixelSize(11)
        self._caption_font = QFont()
        self._caption_font.setPixelSize(11)
        self.orientation = Qt.Orientation.Horizontal
        self.set_orientation(Qt.Orientation.Horizontal)

    # -- state ------------------------------------------------------------------------------
    def set_spec(self, spec: ConvSpec | None) -> None:
        if spec == self._spec:
            return
        self._spec = spec
        self._rebuild()

    def set_current(self, out_channel: int, in_channel: int | None = None) -> None:
        """The output channel the window computes now (and, transposed, the stamping input channel)."""
        current = (int(out_channel), None if in_channel is None else int(in_channel))
        if current == self._current:
            return
        self._current = current
        self._rebuild()

    def _rebuild(self) -> None:
        self.model = None if self._spec is None else build_model(self._spec, *self._current)
        self.setToolTip(self.model.caption if self.model is not None else "")
        self.update()

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Horizontal: inputs in a left column, outputs in a right one (a panel beside the view).
        Vertical: inputs in a top row, outputs in a bottom one (a strip above the view)."""
        self.orientation = orientation
        if orientation == Qt.Orientation.Horizontal:
            self.setMinimumHeight(0)
            self.setMaximumHeight(16_777_215)
            self.setFixedWidth(COLUMN_WIDTH)
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        else:
            self.setMinimumWidth(0)
            self.setMaximumWidth(16_777_215)
            self.setFixedHeight(ROW_HEIGHT)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(COLUMN_WIDTH, 320) if self.orientation == Qt.Orientation.Horizontal else QSize(480, ROW_HEIGHT)

    def minimumSizeHint(self) -> QSize:
        return QSize(COLUMN_WIDTH, 120) if self.orientation == Qt.Orientation.Horizontal else QSize(240, ROW_HEIGHT)

    # -- geometry ---------------------------------------------------------------------------
    def box_rects(self) -> tuple[list[QRectF], list[QRectF], QRectF]:
        """Rectangles of the input boxes, the output boxes, and the caption's area."""
        model = self.model
        if model is None:
            return [], [], QRectF()
        w, h = float(self.width()), float(self.height())
        metrics = QFontMetricsF(self._caption_font)
        flags = int(Qt.TextFlag.TextWordWrap)
        if self.orientation == Qt.Orientation.Horizontal:
            caption_h = metrics.boundingRect(QRectF(0, 0, w - 8, 1000), flags, model.caption).height() + 6
            caption = QRectF(4, h - caption_h, w - 8, caption_h)
            top, bottom = 18.0, h - caption_h - 4
            box_w = 40.0
            xs = (10.0, w - 10.0 - box_w)
            rects = []
            for slots, x in zip((model.inputs, model.outputs), xs):
                pitch = (bottom - top) / max(len(slots), 1)
                box_h = min(max(pitch - 3, 4.0), 24.0)
                y0 = top + (bottom - top - pitch * len(slots)) / 2
                rects.append([QRectF(x, y0 + i * pitch + (pitch - box_h) / 2, box_w, box_h) for i in range(len(slots))])
            return rects[0], rects[1], caption
        caption_w = min(230.0, w * 0.4)
        caption = QRectF(w - caption_w, 4, caption_w - 4, h - 8)
        left, right = 52.0, w - caption_w - 8
        box_h = 22.0
        ys = (16.0, h - 8.0 - box_h)
        rects = []
        for slots, y in zip((model.inputs, model.outputs), ys):
            pitch = (right - left) / max(len(slots), 1)
            box_w = min(max(pitch - 3, 4.0), 48.0)
            x0 = left + (right - left - pitch * len(slots)) / 2
            rects.append([QRectF(x0 + i * pitch + (pitch - box_w) / 2, y, box_w, box_h) for i in range(len(slots))])
        return rects[0], rects[1], caption

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        model = self.model
        if model is None:
            return
        inputs, outputs, caption = self.box_rects()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        columns = self.orientation == Qt.Orientation.Horizontal
        self._paint_headings(painter, inputs, outputs, columns)
        for slots, rects in ((model.inputs, inputs), (model.outputs, outputs)):
            self._paint_bands(painter, slots, rects, columns)
        self._paint_links(painter, model, inputs, outputs, columns)
        read = model.read_by(model.current_out)
        for slot, rect in zip(model.inputs, inputs):
            hot = slot.first < read.stop and slot.last >= read.start
            stamping = model.current_in is not None and slot.holds(model.current_in)
            self._paint_box(painter, slot, rect, hot, stamping)
        for slot, rect in zip(model.outputs, outputs):
            current = slot.holds(model.current_out)
            self._paint_box(painter, slot, rect, current, current)
        painter.setFont(self._caption_font)
        painter.setPen(QColor("#202020"))
        align = Qt.AlignmentFlag.AlignLeft | (Qt.AlignmentFlag.AlignTop if columns else Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(caption, int(align) | int(Qt.TextFlag.TextWordWrap), model.caption)
        painter.end()

    def _paint_headings(self, painter: QPainter, inputs: list[QRectF], outputs: list[QRectF], columns: bool) -> None:
        painter.setFont(self._font)
        painter.setPen(QColor("#505050"))
        if columns:
            for rects, text in ((inputs, "in"), (outputs, "out")):
                if rects:
                    r = rects[0]
                    painter.drawText(QRectF(r.left() - 6, 0, r.width() + 12, 16), int(Qt.AlignmentFlag.AlignCenter), text)
        else:
            for rects, text in ((inputs, "in"), (outputs, "out")):
                if rects:
                    r = rects[0]
                    painter.drawText(QRectF(2, r.top(), 46, r.height()), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    @staticmethod
    def _paint_bands(painter: QPainter, slots: Sequence[Slot], rects: list[QRectF], columns: bool) -> None:
        """A pale band behind each run of boxes of one group."""
        i = 0
        while i < len(slots):
            j = i
            while j + 1 < len(slots) and slots[j + 1].group == slots[i].group and slots[i].group is not None:
                j += 1
            if slots[i].group is not None:
                band = rects[i].united(rects[j]).adjusted(-4, -2, 4, 2) if columns else rects[i].united(rects[j]).adjusted(-2, -4, 2, 4)
                colour = group_colour(slots[i].group)
                painter.setPen(QPen(colour, 1.5))
                painter.setBrush(_towards_white(colour, 0.72))  # opaque: cheaper than alpha on white
                painter.drawRoundedRect(band, 5, 5)
            i = j + 1

    @staticmethod
    def _paint_links(painter: QPainter, model: GroupModel, inputs: list[QRectF], outputs: list[QRectF], columns: bool) -> None:
        """Lines batched per pen; faint ones in opaque pale hues, since translucent
        antialiased lines cost ~7x more to draw (256 of them: 10 ms against 1.4 ms)."""
        painter.setBrush(Qt.BrushStyle.NoBrush)

        def line(link: Link) -> QLineF:
            a, b = inputs[link.source], outputs[link.target]
            if columns:
                return QLineF(a.right() + 4, a.center().y(), b.left() - 4, b.center().y())
            return QLineF(a.center().x(), a.bottom() + 4, b.center().x(), b.top() - 4)

        pale = 0.55 if len(model.links) <= 64 else 0.75  # many lines: paler, so the highlight stands out
        batches: dict[tuple[int | None, bool], list[QLineF]] = {}
        for link in model.links:
            if not link.highlighted:
                dashed = model.inputs[link.source].is_ellipsis or model.outputs[link.target].is_ellipsis
                batches.setdefault((link.group, dashed), []).append(line(link))
        for (group, dashed), lines in batches.items():
            style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
            painter.setPen(QPen(_towards_white(group_colour(group), pale), 1.2, style))
            painter.drawLines(lines)
        hot = [line(link) for link in model.links if link.highlighted]
        painter.setPen(QPen(QColor(HIGHLIGHT), 2.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLines(hot)

    def _paint_box(self, painter: QPainter, slot: Slot, rect: QRectF, hot: bool, current: bool) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 3, 3)
        painter.fillPath(path, QColor("#ffffff"))
        edge = QColor(HIGHLIGHT) if current or hot else group_colour(slot.group)
        painter.setPen(QPen(edge, 3.0 if current else 2.0 if hot else 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        font = QFont(self._font)
        font.setBold(current)
        text = slot.label()
        px = int(min(10 if slot.is_ellipsis else 11, max(rect.height() - 4, 6)))
        while True:  # shrink to fit the box, down to 7 px; narrower still, an ellipsis box shows "…"
            font.setPixelSize(px)
            if QFontMetricsF(font).horizontalAdvance(text) <= rect.width() - 2 or px <= 7:
                break
            px -= 1
        if QFontMetricsF(font).horizontalAdvance(text) > rect.width() - 2 and slot.is_ellipsis:
            text = "\u2026"
        painter.setFont(font)
        painter.setPen(QColor("#202020"))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
