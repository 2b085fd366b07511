"""The Frequency response panel: the selected kernel's 2-D DFT, a cut along a direction the
user turns, and a line saying what the kernel passes.

What it shows is ``core.kernel_analysis``'s: the kernel as written (as the weights grid
shows it), zero-padded with its centre at the origin, centred, in cycles per pixel, with
fy down the rows and angles anticlockwise on screen from +fx.  The magnitude is the same
for PyTorch's cross-correlation; its phase is negated (the module explains why).

View choices (the DFT size, linear or dB, the phase, the cut's angle) live here and in
the settings; the kernel lives in the session.  Edits arrive in bursts (a slider drags
through many values): they are gathered into one redraw on the next turn of the event
loop, and a hidden panel draws nothing until it is shown.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from convplay.core.formatting import format_readout, format_tick
from convplay.core.kernel_analysis import (
    cut,
    describe_response,
    frequency_response,
    is_rounding_zero,
    strongest_direction,
)
from convplay.qt import style
from convplay.qt.shown import WhenShown, hear_while_alive
from convplay.qt.theme import theme
from convplay.qt.widgets.spectrum_view import SpectrumView, frequency_ticks
from convplay.qt.zoom import scaled, text_zoom

SIZES = (32, 64, 128)
DEFAULT_SIZE = 64
LINEAR, DECIBELS = "linear", "dB"
DB_FLOOR = -60.0  # dB below the peak: the bottom of the dB scale
PHASE_MAP = "CET-C2"  # cyclic: -pi and pi get the same colour
PHASE_BLANK = 1e-9  # where |H| <= this * its peak the phase is rounding noise: left blank
ZERO_MESSAGE = "the kernel is all zeros: no response"
NON_FINITE_MESSAGE = "the kernel has weights that are not finite numbers: no response"
SIDE_BY_SIDE_RATIO = 1.2  # plots side by side when the panel is at least this much wider than tall
AXIS_POINT_SIZE = 8
TITLE_POINT_SIZE = 9
SPECTRUM_FRAME = 56  # pixels of the spectrum view beside its square picture: the left axis, margins
QWIDGETSIZE_MAX = 16777215
SETTINGS_SIZE = "response/size"
SETTINGS_SCALE = "response/scale"
SETTINGS_PHASE = "response/phase"
SETTINGS_ANGLE = "response/angle"
SETTINGS_FOLLOW = "response/follow"
FOLLOW_TOOLTIP = (
    "Follow the strongest direction: when the kernel changes, the cut turns to the orientation "
    "the description names (a directional kernel only: a blur or a Laplacian leaves the cut where "
    "it is).\nYou can still turn the cut by hand; the next kernel change turns it again."
)
MAGNITUDE_IN_PHASE = "|H| (magnitude)"  # the cut shows the magnitude while the picture shows phase

PHASE_TOOLTIP = (
    "Show the phase of the response, np.angle(H), in radians from −π to π on a cyclic map "
    "(−π and π are the same colour).\nThe kernel's centre sits at the origin, so a kernel "
    "symmetric through its centre (box, Gaussian, Laplacian) has a real response: phase 0 or "
    "π.  An antisymmetric one (Sobel) is purely imaginary: ±π/2.\nThis is the phase of the "
    "kernel as written; PyTorch's cross-correlation has the same magnitude and the phase negated."
)


def _int_setting(settings: QSettings, key: str, default: int, allowed=None) -> int:
    try:
        value = int(float(settings.value(key, default)))
    except (TypeError, ValueError):
        return default
    if allowed is not None and value not in allowed:
        return default
    return value


def _decibels(magnitude: np.ndarray, peak: float) -> np.ndarray:
    """20 log10(|H| / peak), floored at DB_FLOOR."""
    floor = peak * 10 ** (DB_FLOOR / 20)
    return 20 * np.log10(np.maximum(magnitude, floor) / peak)


class _CutPlot(pg.PlotWidget):
    """The 1-D cut: the magnitude against f along the line, -0.5 to 0.5 cycles per pixel."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=False, y=True, alpha=0.25)  # a grid on x would hide the end ticks' numbers
        self.setMouseEnabled(False, False)
        item.getAxis("bottom").setTicks(frequency_ticks())
        self.curve = item.plot([], [])
        self._title = ""
        self._y_label = "|H|"
        self._apply_theme()
        self._apply_palette()
        self._apply_zoom()
        theme().theme_changed.connect(self._apply_theme)
        text_zoom().changed.connect(self._apply_zoom)

    @property
    def title(self) -> str:
        return self._title

    def set_cut(self, f: np.ndarray, values: np.ndarray, y_range: tuple[float, float], title: str, y_label: str) -> None:
        self.curve.setData(f, values)
        lo, hi = y_range
        margin = 0.03 * (hi - lo)
        # A little room beyond ±0.5 so that the end ticks keep their numbers.
        self.getPlotItem().setRange(xRange=(-0.55, 0.55), yRange=(lo - margin, hi + margin), padding=0)
        if title != self._title or y_label != self._y_label:
            self._title, self._y_label = title, y_label
            self._apply_zoom()

    def wheelEvent(self, event) -> None:
        event.ignore()  # the scroll area scrolls; the plot keeps its range

    def sizeHint(self) -> QSize:
        return QSize(200, 200)  # pyqtgraph's hint is large; in a scroll area it would be the height

    def _apply_theme(self, *_) -> None:
        pen = pg.mkPen(style.colour("PADDING"), width=style.line_width(2.0))
        pen.setCosmetic(True)
        self.curve.setPen(pen)

    def _apply_palette(self) -> None:
        self.setBackground(self.palette().color(QPalette.ColorRole.Window))
        text = self.palette().color(QPalette.ColorRole.WindowText)
        for name in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(name)
            axis.setPen(text)
            axis.setTextPen(text)
        self._apply_zoom()

    def _apply_zoom(self, *_) -> None:
        item = self.getPlotItem()
        font = QFont(self.font())
        font.setPointSize(scaled(AXIS_POINT_SIZE))
        colour = self.palette().color(QPalette.ColorRole.WindowText)
        label_style = {"font-size": f"{scaled(AXIS_POINT_SIZE)}pt"}
        for name, label in (("left", self._y_label), ("bottom", "f, cycles/pixel")):
            axis = item.getAxis(name)
            # pyqtgraph 0.14 scales a unitless axis below 1 by an SI prefix (0.15 drawn as 150)
            # and its enableAutoSIPrefix(False) computes that scale once more: no ranges, no scale.
            axis.setSIPrefixEnableRanges(())
            axis.enableAutoSIPrefix(False)
            axis.setStyle(tickFont=font, hideOverlappingLabels=scaled(30))  # end ticks may reach past the axis
            axis.setLabel(label, **label_style)
        item.setTitle(self._title, size=f"{scaled(TITLE_POINT_SIZE)}pt", color=colour)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "curve"):
            self._apply_palette()
        super().changeEvent(event)


class _Plots(QWidget):
    """The spectrum and the cut: side by side when there is width to spare, else stacked.

    The spectrum is square (aspect locked): it is given no more room than its square, its
    axes and its colour bar take, so the bar stays beside the picture and the cut has the rest.
    """

    def __init__(self, spectrum: SpectrumView, cut_plot: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self._spectrum = spectrum
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addWidget(spectrum, 3)
        self._layout.addWidget(cut_plot, 2)

    @property
    def side_by_side(self) -> bool:
        return self._layout.direction() == QBoxLayout.Direction.LeftToRight

    def arrange(self, side_by_side: bool) -> None:
        wanted = QBoxLayout.Direction.LeftToRight if side_by_side else QBoxLayout.Direction.TopToBottom
        if wanted != self._layout.direction():
            self._layout.setDirection(wanted)
        self._fit_spectrum(self.size())

    def _fit_spectrum(self, size: QSize) -> None:
        spectrum = self._spectrum
        around = spectrum.colorbar.maximumWidth() + SPECTRUM_FRAME  # what is not the square, across
        if self.side_by_side:
            spectrum.setMaximumSize(max(spectrum.minimumWidth(), size.height() + around - SPECTRUM_FRAME), QWIDGETSIZE_MAX)
        else:
            spectrum.setMaximumSize(QWIDGETSIZE_MAX, max(spectrum.minimumHeight(), size.width() - around + SPECTRUM_FRAME))

    def resizeEvent(self, event) -> None:
        self._fit_spectrum(event.size())
        super().resizeEvent(event)


class ResponsePanel(QWidget):
    """The frequency response of the session's kernel for the selected (out, in) pair."""

    def __init__(self, session, parent: QWidget | None = None, *, settings: QSettings | None = None):
        super().__init__(parent)
        self._session = session
        self._settings = settings if settings is not None else QSettings("convplay", "convplay")
        self._pair = (0, 0)
        self._response = None
        self._peak = 0.0
        self._description = ""
        self._dc_text = ""
        self._info = ""
        self._followed = None  # (pair, kernel bytes) the cut last turned for

        self.description_label = QLabel("")
        self.description_label.setWordWrap(True)
        self.description_label.setTextFormat(Qt.TextFormat.RichText)
        self.description_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description_label.setToolTip(
            "What the kernel is, read from its response: low-pass (a blur), high-pass, band-pass, "
            "directional (and at which angle: 0° is +fx, anticlockwise on screen)."
        )
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        self.info_label.setStyleSheet(style.muted_text_style())
        self.info_label.setToolTip(
            "What the colours show, and which kernel; hover the picture to read the response at a frequency."
        )

        self.size_combo = QComboBox()
        for n in SIZES:
            self.size_combo.addItem(f"{n}×{n}", n)
        self.size_combo.setToolTip(
            "The DFT size: the kernel is zero-padded to this many samples on each axis (finer "
            "frequency steps with more).  A kernel larger than the size is padded to the next power of two."
        )
        self.scale_combo = QComboBox()
        self.scale_combo.addItem("linear", LINEAR)
        self.scale_combo.addItem("dB", DECIBELS)
        self.scale_combo.setToolTip(
            f"Magnitude as is (linear), or in decibels below its peak, 20·log10(|H| / peak), down to {DB_FLOOR:g} dB: "
            "small side lobes and stop bands show in dB."
        )
        self.phase_button = QToolButton()
        self.phase_button.setText("Phase")
        self.phase_button.setCheckable(True)
        self.phase_button.setToolTip(PHASE_TOOLTIP)
        self.angle_spin = QSpinBox()
        self.angle_spin.setRange(0, 179)
        self.angle_spin.setWrapping(True)
        self.angle_spin.setPrefix("cut ")  # in the box, not a label beside it: the row fits 340 px
        self.angle_spin.setSuffix("°")
        self.angle_spin.setToolTip(
            "The cut's direction, degrees anticlockwise on screen from +fx (0° is horizontal, 90° "
            "vertical).  Or drag the line's handle on the picture; hold Shift to snap to 15° steps."
        )
        self.follow_button = QToolButton()  # as wide as its text: the row fits a 340 px panel
        self.follow_button.setText("Follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setToolTip(FOLLOW_TOOLTIP)

        self.spectrum = SpectrumView()
        self.spectrum.setToolTip(
            "The kernel's 2-D DFT, centred: the middle is frequency 0, the edges ±0.5 cycles per "
            "pixel; fy runs down the rows.\nDrag (or click) to turn the cut's line through the origin; "
            "hold Shift to snap to 15° steps."
        )
        self.spectrum.setMinimumSize(180, 170)
        self.cut_plot = _CutPlot()
        self.cut_plot.setToolTip(
            "The magnitude along the cut's line through the origin, from −0.5 to 0.5 cycles per "
            "pixel (a real kernel's magnitude is the same at f and −f)."
        )
        self.cut_plot.setMinimumSize(140, 150)
        self.plots = _Plots(self.spectrum, self.cut_plot)
        self.zero_label = QLabel(ZERO_MESSAGE)
        self.zero_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zero_label.setWordWrap(True)
        self.zero_label.setToolTip("A kernel of zeros multiplies every frequency by 0: there is nothing to draw.")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plots)
        self.stack.addWidget(self.zero_label)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(3)
        controls.addWidget(self.size_combo)
        controls.addWidget(self.scale_combo)
        controls.addWidget(self.phase_button)
        controls.addStretch(1)
        controls.addWidget(self.angle_spin)
        controls.addWidget(self.follow_button)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(3)
        column.addWidget(self.description_label)
        column.addLayout(controls)
        column.addWidget(self.stack, 1)
        column.addWidget(self.info_label)
        content.setMinimumSize(340, 280)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        self._restore_choices()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._when_shown = WhenShown(self, self._draw)
        self._timer.timeout.connect(self._when_shown.request)

        self.size_combo.currentIndexChanged.connect(self._on_choice)
        self.scale_combo.currentIndexChanged.connect(self._on_choice)
        self.phase_button.toggled.connect(self._on_choice)
        self.angle_spin.valueChanged.connect(self._on_angle_spin)
        self.follow_button.toggled.connect(self._on_follow)
        self.spectrum.angle_dragged.connect(self.set_angle)
        self.spectrum.hovered.connect(self._on_hover)
        hear_while_alive(self, (session.kernel_changed, self._schedule), (session.spec_changed, self._schedule))
        self.spectrum.set_angle(self.angle)
        self._draw()

    # -- public API ------------------------------------------------------------------
    @property
    def pair(self) -> tuple[int, int]:
        return self._pair

    @property
    def angle(self) -> float:
        return float(self.angle_spin.value())

    @property
    def dft_size(self) -> int:
        return int(self.size_combo.currentData())

    @property
    def scale(self) -> str:
        return self.scale_combo.currentData()

    @property
    def showing_phase(self) -> bool:
        return self.phase_button.isChecked()

    @property
    def response(self):
        """The FrequencyResponse drawn (None before the first draw)."""
        return self._response

    @property
    def description(self) -> str:
        return self._description

    @property
    def dc_text(self) -> str:
        """"DC gain (the sum) 1" as the panel prints it."""
        return self._dc_text

    @property
    def image_item(self) -> pg.ImageItem:
        return self.spectrum.image_item

    def set_pair(self, out_index: int, in_index: int) -> None:
        """Show the kernel of pair (out_index, in_index), clamped to the weight's shape."""
        try:
            pair = (int(out_index), int(in_index))
        except (TypeError, ValueError):
            return
        self._pair = pair
        self._schedule()

    def set_angle(self, angle_degrees: float) -> None:
        """Turn the cut to ``angle_degrees`` (taken modulo 180, to whole degrees)."""
        try:
            angle = round(float(angle_degrees)) % 180
        except (TypeError, ValueError, OverflowError):
            return
        self.angle_spin.setValue(angle)  # its valueChanged redraws the line and the cut

    def set_dft_size(self, size: int) -> None:
        index = self.size_combo.findData(int(size))
        if index >= 0:
            self.size_combo.setCurrentIndex(index)

    def set_scale(self, scale: str) -> None:
        index = self.scale_combo.findData(scale)
        if index >= 0:
            self.scale_combo.setCurrentIndex(index)

    def set_phase(self, on: bool) -> None:
        self.phase_button.setChecked(bool(on))

    def refresh_now(self) -> None:
        """Draw the session's current kernel now (tests, and a caller that cannot wait)."""
        self._timer.stop()
        self._draw()

    # -- internals -------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        # Decided on the panel's own size, not the plots': their minimum sizes differ by
        # direction, and a scroll area would keep whichever was chosen first.
        size = event.size()
        self.plots.arrange(size.width() >= SIDE_BY_SIDE_RATIO * size.height())
        super().resizeEvent(event)

    def _restore_choices(self) -> None:
        s = self._settings
        for widget, value in (
            (self.size_combo, _int_setting(s, SETTINGS_SIZE, DEFAULT_SIZE, SIZES)),
            (self.scale_combo, s.value(SETTINGS_SCALE, LINEAR)),
        ):
            index = widget.findData(value)
            widget.setCurrentIndex(max(0, index))
        self.phase_button.setChecked(str(s.value(SETTINGS_PHASE, "false")).lower() == "true")
        self.angle_spin.setValue(_int_setting(s, SETTINGS_ANGLE, 0) % 180)
        self.follow_button.setChecked(str(s.value(SETTINGS_FOLLOW, "true")).lower() == "true")

    def _clamped_pair(self) -> tuple[int, int]:
        o_count, i_count = self._session.weight.shape[:2]
        o, i = self._pair
        return min(max(o, 0), max(o_count - 1, 0)), min(max(i, 0), max(i_count - 1, 0))

    def _schedule(self, *_) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _on_choice(self, *_) -> None:
        self._settings.setValue(SETTINGS_SIZE, self.dft_size)
        self._settings.setValue(SETTINGS_SCALE, self.scale)
        self._settings.setValue(SETTINGS_PHASE, "true" if self.showing_phase else "false")
        self._when_shown.request()

    @property
    def following(self) -> bool:
        return self.follow_button.isChecked()

    def set_following(self, on: bool) -> None:
        self.follow_button.setChecked(bool(on))

    def _on_follow(self, on: bool) -> None:
        self._settings.setValue(SETTINGS_FOLLOW, "true" if on else "false")
        self._followed = None
        if on:
            self._follow()

    def _follow(self, kernel=None) -> None:
        """Turn the cut to the strongest direction once per kernel (and pair): a turn by hand
        stays until the kernel changes."""
        response = self._response
        if not self.following or response is None:
            return
        key = (self._pair, None if kernel is None else np.asarray(kernel).tobytes())
        if kernel is not None and key == self._followed:
            return
        self._followed = key
        angle = strongest_direction(response)
        if angle is not None:
            self.set_angle(angle)

    def _on_angle_spin(self, value: int) -> None:
        self._settings.setValue(SETTINGS_ANGLE, int(value))
        self.spectrum.set_angle(float(value))
        self._draw_cut()

    def _fft_size(self, shape: tuple[int, int]) -> int:
        size = self.dft_size
        largest = max(shape)
        while size < largest:
            size *= 2
        return size

    def _draw(self) -> None:
        weight = self._session.weight
        o, i = self._clamped_pair()
        self._pair = (o, i)
        if weight.ndim != 4 or weight.shape[0] == 0 or weight.shape[1] == 0:
            self._show_zero()
            return
        kernel = weight[o, i]
        if not np.all(np.isfinite(kernel)):  # the session keeps weights finite; a guard all the same
            self._show_zero(NON_FINITE_MESSAGE)
            return
        size = self._fft_size(kernel.shape)
        response = frequency_response(kernel, size)
        self._response = response
        self._peak = float(response.magnitude.max())
        kh, kw = kernel.shape
        pair_text = f"pair out {o}, in {i}, {kh}×{kw} kernel"
        padded = f"{size}×{size} DFT" + (f" (the kernel is larger than {self.dft_size})" if size != self.dft_size else "")
        if self._peak == 0.0:
            self._show_zero()
            self._set_info(f"{pair_text}: DC gain (the sum) 0")
            self._dc_text = "DC gain (the sum) 0"
            return
        self.stack.setCurrentWidget(self.plots)
        self._description = describe_response(response)
        dc = response.dc.real
        rounding = is_rounding_zero(dc, response.l1)
        self._dc_text = f"DC gain (the sum) {'0' if rounding else format_readout(dc)}"
        text = f"<b>{html.escape(self._description)}</b>"
        if "gain" not in self._description:  # low-pass and high-boost name their gain already
            text += f" · {self._dc_text}"
        self.description_label.setText(text)
        self.description_label.setToolTip(
            f"{self._description}\n\nRead from the response: low-pass (a blur), high-pass, band-pass, "
            "directional (and at which angle: 0° is +fx, anticlockwise on screen).\nThe DC gain is the "
            "response at frequency 0, the kernel's sum: 1 keeps brightness, 0 finds edges."
            + (f"\nDC gain 0 (to rounding): the float sum is {dc!r}." if rounding and dc != 0.0 else "")
        )
        if self.showing_phase:
            phase = np.array(response.phase, dtype=np.float32)
            phase[response.magnitude <= PHASE_BLANK * self._peak] = np.nan
            self.spectrum.set_colormap(PHASE_MAP)
            self.spectrum.set_image(phase, (-math.pi, math.pi))
            mapping = "phase of H, radians −π…π (blank where |H| ≈ 0)"
        elif self.scale == DECIBELS:
            self.spectrum.set_colormap(style.SEQUENTIAL)
            self.spectrum.set_image(_decibels(response.magnitude, self._peak), (DB_FLOOR, 0.0))
            mapping = f"|H| in dB below its peak {format_tick(self._peak)}"
        else:
            self.spectrum.set_colormap(style.SEQUENTIAL)
            self.spectrum.set_image(response.magnitude, (0.0, self._peak))
            mapping = f"|H|, the magnitude, 0…{format_tick(self._peak)}"
        self.spectrum.set_caption(mapping)
        self._set_info(f"{mapping} · {pair_text}, {padded}")
        self._draw_cut()
        self._follow(kernel)

    def _show_zero(self, message: str = ZERO_MESSAGE) -> None:
        self._peak = 0.0
        self._response = None
        self._description = message
        self.description_label.setText(html.escape(message))
        self.zero_label.setText(message)
        self.stack.setCurrentWidget(self.zero_label)

    def _draw_cut(self) -> None:
        response = self._response
        if response is None or self._peak == 0.0:
            return
        f, values = cut(response, self.angle)
        title = f"{'magnitude ' if self.showing_phase else ''}cut at {self.angle:g}°"
        if self.scale == DECIBELS:
            label = "|H| (magnitude), dB" if self.showing_phase else "|H|, dB"
            self.cut_plot.set_cut(f, _decibels(values, self._peak), (DB_FLOOR, 0.0), title, label)
        else:
            label = MAGNITUDE_IN_PHASE if self.showing_phase else "|H|"
            self.cut_plot.set_cut(f, values, (0.0, self._peak), title, label)

    def _set_info(self, text: str) -> None:
        self._info = text
        self.info_label.setText(text)

    def _on_hover(self, fx: float, fy: float) -> None:
        response = self._response
        if response is None or self._peak == 0.0 or math.isnan(fx):
            self.info_label.setText(self._info)
            return
        n = response.size
        col, row = round(fx * n + n // 2), round(fy * n + n // 2)
        if not (0 <= row < n and 0 <= col < n):
            self.info_label.setText(self._info)
            return
        gx, gy = float(response.fx[col]), float(response.fy[row])
        radius = math.hypot(gx, gy)
        where = f"fx {format_tick(gx)}, fy {format_tick(gy)}"
        if radius > 0:
            where += f" ({format_tick(radius)} cycles/pixel at {round(math.degrees(math.atan2(-gy, gx))) % 360}°)"
        value = f"|H| {format_readout(float(response.magnitude[row, col]))}"
        if self.showing_phase:
            value += f", phase {format_tick(float(response.phase[row, col]))} rad"
        self.info_label.setText(f"{where}: {value}")
