"""Which input channels feed which output channels: the groups of a convolution, drawn.

``core.grouping.build_model`` decides what to draw (boxes, links, highlights, caption);
``GroupDiagram`` paints it with one QPainter pass.  The model changes only when the
settings or the current channel do, never per animation step.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QLineF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from convplay.core.grouping import GroupModel, Link, Slot, build_model
from convplay.core.spec import ConvSpec
from convplay.qt import style
from convplay.qt.theme import theme
from convplay.qt.zoom import scaled, text_zoom

COLUMN_WIDTH = 156  # pixels, inputs left and outputs right (beside the view)
ROW_HEIGHT = 118  # pixels, inputs above and outputs below (a strip above the view)
UNBOUNDED = 16_777_215  # Qt's QWIDGETSIZE_MAX: no limit on that side
TEXT_PX = 11  # the box labels, headings and caption
MIN_TEXT_PX = 7  # a box label shrinks to fit down to here; an ellipsis box then shows "…"
MARGIN = 4.0  # pixels around the caption
# Columns (beside the view): boxes in two columns under a heading line, caption below.
HEADING_H = 18.0
COLUMN_INSET = 10.0  # from each side to its column of boxes
COLUMN_BOX_W = 40.0
COLUMN_BOX_MAX_H = 24.0
# Rows (a strip above the view): headings at the left, boxes in two rows, caption right.
ROW_HEADING_W = 52.0
ROW_TOP = 16.0
ROW_BOX_H = 22.0
ROW_BOX_MAX_W = 48.0
CAPTION_MAX_W = 230.0
CAPTION_SHARE = 0.4  # of the strip's width the caption may take
BOX_GAP = 3.0  # pixels between neighbouring boxes
MIN_BOX = 4.0  # pixels: a box never gets thinner than this
LINK_GAP = 4.0  # pixels between a box and the lines that leave it
BAND_PAD = (4.0, 2.0)  # a group's band around its boxes: across, along the column (row)
BAND_PALE = 0.72  # how far a band's fill is mixed towards white
LINK_PALE, LINK_PALER = 0.55, 0.75  # faint lines; paler still when there are many
MANY_LINKS = 64
HOT_LINK_WIDTH, LINK_WIDTH = 2.6, 1.2


def _towards_white(colour: QColor, amount: float) -> QColor:
    """``colour`` mixed with white: ``amount`` 0 keeps it, 1 gives white."""
    return QColor.fromRgbF(*(c + (1.0 - c) * amount for c in colour.getRgbF()[:3]))


def group_colour(group: int | None) -> QColor:
    """The hue of ``group`` (grey for None: a box spanning several groups)."""
    colours = style.GROUP_COLOURS
    return QColor(style.colour("PENDING") if group is None else colours[group % len(colours)])


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
        self._caption_font = QFont()
        self._on_text_zoom()
        text_zoom().changed.connect(self._on_text_zoom)  # Qt disconnects it when the diagram goes
        theme().theme_changed.connect(self._on_theme)
        self.orientation = Qt.Orientation.Horizontal
        self.set_orientation(Qt.Orientation.Horizontal)

    def _on_text_zoom(self, *_) -> None:
        for font in (self._font, self._caption_font):
            font.setPixelSize(scaled(TEXT_PX))
        self.update()

    def _on_theme(self, _high_contrast: bool) -> None:
        self._rebuild()  # the tooltip's colours too
        self.update()

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
            self.setMaximumHeight(UNBOUNDED)
            self.setFixedWidth(COLUMN_WIDTH)
            self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        else:
            self.setMinimumWidth(0)
            self.setMaximumWidth(UNBOUNDED)
            self.setFixedHeight(ROW_HEIGHT)
            self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.update()

    def sizeHint(self) -> QSize:
        if self.orientation == Qt.Orientation.Horizontal:
            return QSize(COLUMN_WIDTH, 320)
        return QSize(480, ROW_HEIGHT)

    def minimumSizeHint(self) -> QSize:
        if self.orientation == Qt.Orientation.Horizontal:
            return QSize(COLUMN_WIDTH, 120)
        return QSize(240, ROW_HEIGHT)

    # -- geometry ---------------------------------------------------------------------------
    def box_rects(self) -> tuple[list[QRectF], list[QRectF], QRectF]:
        """Rectangles of the input boxes, the output boxes, and the caption's area."""
        model = self.model
        if model is None:
            return [], [], QRectF()
        w, h = float(self.width()), float(self.height())
        if self.orientation == Qt.Orientation.Horizontal:
            return self._column_rects(model, w, h)
        return self._row_rects(model, w, h)

    def _column_rects(self, model: GroupModel, w: float, h: float) -> tuple[list[QRectF], list[QRectF], QRectF]:
        """Inputs in a left column, outputs in a right one, the caption wrapped below."""
        metrics = QFontMetricsF(self._caption_font)
        room = QRectF(0, 0, w - 2 * MARGIN, 1000)
        caption_h = metrics.boundingRect(room, int(Qt.TextFlag.TextWordWrap), model.caption).height() + 6
        caption = QRectF(MARGIN, h - caption_h, w - 2 * MARGIN, caption_h)
        top, bottom = HEADING_H, h - caption_h - MARGIN
        rects = []
        for slots, x in zip((model.inputs, model.outputs), (COLUMN_INSET, w - COLUMN_INSET - COLUMN_BOX_W)):
            pitch = (bottom - top) / max(len(slots), 1)
            box_h = min(max(pitch - BOX_GAP, MIN_BOX), COLUMN_BOX_MAX_H)
            y0 = top + (bottom - top - pitch * len(slots)) / 2
            rects.append([QRectF(x, y0 + i * pitch + (pitch - box_h) / 2, COLUMN_BOX_W, box_h)
                          for i in range(len(slots))])
        return rects[0], rects[1], caption

    def _row_rects(self, model: GroupModel, w: float, h: float) -> tuple[list[QRectF], list[QRectF], QRectF]:
        """Inputs in a top row, outputs in a bottom one, the caption at the right."""
        caption_w = min(CAPTION_MAX_W, w * CAPTION_SHARE)
        caption = QRectF(w - caption_w, MARGIN, caption_w - MARGIN, h - 2 * MARGIN)
        left, right = ROW_HEADING_W, w - caption_w - 2 * MARGIN
        rects = []
        for slots, y in zip((model.inputs, model.outputs), (ROW_TOP, h - 2 * MARGIN - ROW_BOX_H)):
            pitch = (right - left) / max(len(slots), 1)
            box_w = min(max(pitch - BOX_GAP, MIN_BOX), ROW_BOX_MAX_W)
            x0 = left + (right - left - pitch * len(slots)) / 2
            rects.append([QRectF(x0 + i * pitch + (pitch - box_w) / 2, y, box_w, ROW_BOX_H)
                          for i in range(len(slots))])
        return rects[0], rects[1], caption

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        model = self.model
        if model is None:
            return
        inputs, outputs, caption = self.box_rects()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(style.CELL_BACKGROUND))
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
        painter.setPen(QColor(style.colour('DIAGRAM_TEXT')))
        align = Qt.AlignmentFlag.AlignLeft | (Qt.AlignmentFlag.AlignTop if columns else Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(caption, int(align) | int(Qt.TextFlag.TextWordWrap), model.caption)
        painter.end()

    def _paint_headings(self, painter: QPainter, inputs: list[QRectF], outputs: list[QRectF], columns: bool) -> None:
        painter.setFont(self._font)
        painter.setPen(QColor(style.colour('DIAGRAM_HEADING')))
        for rects, text in ((inputs, "in"), (outputs, "out")):
            if not rects:
                continue
            r = rects[0]
            if columns:  # above the column
                painter.drawText(QRectF(r.left() - 6, 0, r.width() + 12, HEADING_H - 2),
                                 int(Qt.AlignmentFlag.AlignCenter), text)
            else:  # left of the row
                painter.drawText(QRectF(2, r.top(), ROW_HEADING_W - 6, r.height()),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)

    @staticmethod
    def _paint_bands(painter: QPainter, slots: Sequence[Slot], rects: list[QRectF], columns: bool) -> None:
        """A pale band behind each run of boxes of one group."""
        across, along = BAND_PAD
        dx, dy = (across, along) if columns else (along, across)
        i = 0
        while i < len(slots):
            j = i
            while j + 1 < len(slots) and slots[j + 1].group == slots[i].group and slots[i].group is not None:
                j += 1
            if slots[i].group is not None:
                band = rects[i].united(rects[j]).adjusted(-dx, -dy, dx, dy)
                colour = group_colour(slots[i].group)
                painter.setPen(QPen(colour, style.line_width(1.5)))
                painter.setBrush(_towards_white(colour, BAND_PALE))  # opaque: cheaper than alpha on white
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
                return QLineF(a.right() + LINK_GAP, a.center().y(), b.left() - LINK_GAP, b.center().y())
            return QLineF(a.center().x(), a.bottom() + LINK_GAP, b.center().x(), b.top() - LINK_GAP)

        pale = LINK_PALE if len(model.links) <= MANY_LINKS else LINK_PALER  # the highlight stands out
        batches: dict[tuple[int | None, bool], list[QLineF]] = {}
        for link in model.links:
            if not link.highlighted:
                dashed = model.inputs[link.source].is_ellipsis or model.outputs[link.target].is_ellipsis
                batches.setdefault((link.group, dashed), []).append(line(link))
        for (group, dashed), lines in batches.items():
            pen_style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
            painter.setPen(QPen(_towards_white(group_colour(group), pale), style.line_width(LINK_WIDTH), pen_style))
            painter.drawLines(lines)
        hot = [line(link) for link in model.links if link.highlighted]
        painter.setPen(QPen(QColor(style.colour('WINDOW')), style.line_width(HOT_LINK_WIDTH), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLines(hot)

    def _paint_box(self, painter: QPainter, slot: Slot, rect: QRectF, hot: bool, current: bool) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 3, 3)
        painter.fillPath(path, QColor(style.CELL_BACKGROUND))
        edge = QColor(style.colour('WINDOW')) if current or hot else group_colour(slot.group)
        width = 3.0 if current else 2.0 if hot else 1.2
        painter.setPen(QPen(edge, style.line_width(width)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        font = QFont(self._font)
        font.setBold(current)
        text = slot.label()
        px = int(min(scaled(TEXT_PX - 1 if slot.is_ellipsis else TEXT_PX), max(rect.height() - 4, MIN_TEXT_PX - 1)))
        while True:  # shrink to fit the box, down to MIN_TEXT_PX; narrower still, an ellipsis box shows "…"
            font.setPixelSize(px)
            if QFontMetricsF(font).horizontalAdvance(text) <= rect.width() - 2 or px <= MIN_TEXT_PX:
                break
            px -= 1
        if QFontMetricsF(font).horizontalAdvance(text) > rect.width() - 2 and slot.is_ellipsis:
            text = "\u2026"
        painter.setFont(font)
        painter.setPen(QColor(style.colour('DIAGRAM_TEXT')))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
