"""A seeded random user for the real ``MainWindow``: the harness behind test_random_actions.

Every action is a small named function that acts through the widgets a user touches:
spin boxes set as typing and Enter would (``setValue`` emits the same ``valueChanged``),
combo boxes chosen (``setCurrentIndex`` + ``activated``), buttons clicked, menu actions
triggered, real mouse events on the input canvas and on the sliding-window view, dock
tabs raised, the window resized.  A disabled or hidden control is left alone, as a user
could not reach it.

A run is a list of steps ``(name, args)``: ``Monkey.draw`` makes the next one from the
seeded generator, ``Monkey.perform`` applies it.  Arguments are fractions or choices that
``perform`` maps onto the window's state at that moment, so any sub-list of a run can be
replayed on a fresh window (``replay``) and ``shrink`` can cut a failing run down to the
few steps that still raise the same thing.

``Recorder`` installs a ``sys.excepthook`` and a Qt message handler for the run, each
chained to the one before it (pytest-qt's, so it still sees every exception), and keeps
every exception and every Qt warning with the step it happened in.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from convplay.qt.output_first import OUTPUT_FIRST
from convplay.qt.workspaces import WORKSPACES

# Qt messages allowed by name: the offscreen platform can neither size windows to their hints
# nor stack top-level windows (raising a floating dock asks it to).
BENIGN_QT_MESSAGES = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
)

WINDOW_SIZES = ((1024, 640), (1280, 720), (1200, 800), (800, 600), (1600, 1000), (640, 480), (1920, 1080))
WORKING_SIZES = (8, 9, 12, 16, 20, 24, 31, 32, 48, 64)
IDLE_TIMEOUT_MS = 20_000  # a worker busy longer than this is reported as a finding

CONVPLAY_DIR = os.sep + "convplay" + os.sep
CONVPLAY_QT_DIR = CONVPLAY_DIR + "qt" + os.sep


# -- what a run records ---------------------------------------------------------------------
@dataclass
class Finding:
    kind: str  # "exception", "qt-message", "lost-edit", "stale-view", "wrong-output", "stuck"
    step: int  # index of the step it happened in
    action: str
    text: str  # one line: the exception or the message
    where: str = ""  # file:line in convplay where it was raised
    detail: str = ""  # the traceback, or more words

    @property
    def signature(self) -> tuple[str, str, str]:
        """What makes two findings the same cause: an exception's type and place; a Qt
        message's text without numbers; for the rest, the kind and category."""
        if self.kind == "exception":  # its type and where it left convplay's Qt code
            return self.kind, self.where, self.text.split(":")[0]
        if self.kind == "qt-message":
            return self.kind, self.where, re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", self.text)[:120]
        return self.kind, self.where, ""


def _root_exception(exc: BaseException) -> BaseException:
    """The first cause: psygnal wraps a callback's exception in an EmitLoopError."""
    seen = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _raise_site(exc: BaseException) -> str:
    """file:line of the innermost frame of ``exc``'s traceback in convplay's Qt code, where
    a slot let it out (else the innermost convplay frame, else the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if CONVPLAY_QT_DIR in f.filename] or [f for f in frames if CONVPLAY_DIR in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return ""
    name = frame.filename
    cut = name.rfind(CONVPLAY_DIR)
    return f"{name[cut + 1:] if cut >= 0 else os.path.basename(name)}:{frame.lineno} in {frame.name}"


class Recorder:
    """``sys.excepthook`` and a Qt message handler for a run; use as a context manager."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.step = -1
        self.action = "(start)"
        self._old_hook = None
        self._old_handler = None

    def __enter__(self) -> "Recorder":
        self._old_hook = sys.excepthook
        sys.excepthook = self._hook
        self._old_handler = qInstallMessageHandler(self._on_message)
        return self

    def __exit__(self, *exc) -> None:
        sys.excepthook = self._old_hook
        qInstallMessageHandler(self._old_handler)

    def at(self, step: int, action: str) -> None:
        self.step, self.action = step, action

    def add(self, kind: str, text: str, where: str = "", detail: str = "") -> None:
        self.findings.append(Finding(kind, self.step, self.action, text, where, detail))

    def exception(self, exc: BaseException) -> None:
        root = _root_exception(exc)
        text = f"{type(root).__name__}: {root}".splitlines()[0][:300]
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.add("exception", text, _raise_site(root), detail)

    def _hook(self, type_, value, tb) -> None:
        if value is None:
            value = type_()
        if value.__traceback__ is None:
            value = value.with_traceback(tb)
        self.exception(value)
        if self._old_hook is not None:
            self._old_hook(type_, value, tb)  # pytest-qt keeps its own record

    def _on_message(self, mode, context, message) -> None:
        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            if not any(benign in message for benign in BENIGN_QT_MESSAGES):
                where = f"{context.file}:{context.line}" if context.file else ""
                self.add("qt-message", f"{mode.name}: {message}"[:300], where)
        if self._old_handler is not None:
            self._old_handler(mode, context, message)


# -- reading the window defensively (the refactor may rename things) -------------------------
def _attr(obj, *names, default=None):
    for name in names:
        value = obj
        for part in name.split("."):
            value = getattr(value, part, None)
            if value is None:
                break
        if value is not None:
            return value
    return default


def shown_output(window) -> np.ndarray | None:
    """The output array of record: the results model if there is one, else the output panel."""
    results = getattr(window, "results", None)
    if results is not None and hasattr(results, "output"):
        return results.output
    return window.output_panel.output


def is_busy(window) -> bool:
    if OUTPUT_FIRST.pending:  # panels wait (a frame at most) for the edit's output
        return True
    results = getattr(window, "results", None)
    if results is not None and isinstance(getattr(results, "busy", None), bool):
        if results.busy:
            return True
    worker = getattr(window, "worker", None)
    if getattr(worker, "busy", False):
        return True
    controller = getattr(window, "network_controller", None)  # the stack's setup, runs and fields
    if controller is not None and (controller.busy or controller._pending.isActive()):
        return True
    pooling = getattr(window, "pooling_panel", None)  # the pooling view's PyTorch check
    return bool(pooling is not None and pooling.worker.busy)


def stale_banner_shown(window) -> bool:
    banner = window.output_panel.stale_banner
    return not banner.isHidden()


# -- the random user -------------------------------------------------------------------------
Step = tuple  # (name, *args)


@dataclass
class Action:
    name: str
    weight: float
    draw: Callable  # (rng) -> args tuple
    perform: Callable  # (monkey, *args) -> None


@dataclass
class Monkey:
    window: object
    qtbot: object
    recorder: Recorder
    seed: int = 0
    log: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.actions = _actions()
        weights = np.array([a.weight for a in self.actions], dtype=float)
        self._p = weights / weights.sum()
        self._by_name = {a.name: a for a in self.actions}
        # Kernel > Random draws from its own generator: seed it so that a replay draws the same.
        panel = self.window.kernel_panel
        if hasattr(panel, "_rng"):
            panel._rng = np.random.default_rng(self.seed + 1)

    # -- running --
    def draw(self) -> Step:
        action = self.actions[self.rng.choice(len(self.actions), p=self._p)]
        return (action.name, *action.draw(self.rng))

    def perform(self, step: Step) -> None:
        name, *args = step
        index = len(self.log)
        self.log.append(step)
        self.recorder.at(index, describe(step))
        if os.environ.get("MONKEY_TRACE"):  # each step printed before it runs: a crash's last one shows
            print("STEP", index, step, flush=True)
        try:
            self._by_name[name].perform(self, *args)
        except Exception as exc:  # a direct call that raised: recorded like a slot's exception
            self.recorder.exception(exc)

    def run(self, n: int) -> None:
        for _ in range(n):
            self.perform(self.draw())

    def replay(self, steps) -> None:
        for step in steps:
            self.perform(tuple(step))

    # -- helpers the actions use --
    def wait_idle(self) -> bool:
        try:
            self.qtbot.waitUntil(lambda: not is_busy(self.window), timeout=IDLE_TIMEOUT_MS)
        except Exception:
            self.recorder.add("stuck", f"the worker was still busy after {IDLE_TIMEOUT_MS} ms", "worker busy")
            return False
        return True

    def check_kernel_size(self, wanted: tuple[int, int] | None, what: str) -> None:
        """No edit silently lost: the kernel has the size asked for, or the panel says why
        not, and its size boxes show the kernel's real size (once the redraws held for the
        edit's output have run: a frame at most, before a person could look)."""
        self.qtbot.waitUntil(lambda: not OUTPUT_FIRST.pending, timeout=1000)
        panel, session = self.window.kernel_panel, self.window.session
        actual = tuple(session.weight.shape[2:])
        shown = (panel.kh_spin.value(), panel.kw_spin.value())
        message = panel.message.text()
        if wanted is not None and actual != tuple(wanted) and not message:
            self.recorder.add("lost-edit", f"{what}: asked {wanted}, the kernel stays {actual}, no message",
                              "kernel panel: edit lost without a message")
        if shown != actual:
            self.recorder.add(
                "lost-edit",
                f"{what}: the size boxes say {shown[0]}x{shown[1]}, the kernel is {actual[0]}x{actual[1]}",
                "kernel panel: size boxes disagree with the kernel",
                detail=f"panel message: {message!r}",
            )
        if "does not match" in message:
            self.recorder.add("lost-edit", f"{what}: internal message shown: {message}"[:300],
                              "kernel panel: internal shape message")


def describe(step: Step) -> str:
    name, *args = step
    return f"{name}({', '.join(repr(a) for a in args)})"


# -- the actions ---------------------------------------------------------------------------------
def _pick(rng, values):
    return values[int(rng.integers(len(values)))]


def _frac(rng) -> float:
    return round(float(rng.random()), 3)


def reachable(widget) -> bool:
    """On screen and enabled: a dock's tab behind another is still "visible" to Qt, but its
    widgets have no visible region, and a user cannot click them."""
    return widget.isEnabled() and widget.isVisible() and not widget.visibleRegion().isEmpty()


def _set_spin(spin, value) -> bool:
    """A user typing ``value`` and pressing Enter: only into a control they can reach."""
    if not reachable(spin):
        return False
    spin.setValue(value)
    return True


def _choose(combo, index: int) -> bool:
    if not reachable(combo) or combo.count() == 0:
        return False
    index %= combo.count()
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    return True


def _click(button) -> None:
    if reachable(button):
        button.click()


def _pair(window, field_name: str):
    return getattr(window.params_panel, f"{field_name}_pair")


def _axis_spin(pair, axis: str):
    return pair.h_spin if axis == "h" else pair.w_spin


PAIR_VALUES = {
    "kernel_size": (1, 2, 3, 3, 4, 5, 7, 15),
    "stride": (1, 1, 2, 3, 16),
    "padding": (0, 1, 1, 2, 5, 32),
    "dilation": (1, 1, 2, 3, 16),
    "output_padding": (0, 1, 2, 16),
}


def p_pair(m: Monkey, field_name: str, axis: str, value: int) -> None:
    _set_spin(_axis_spin(_pair(m.window, field_name), axis), value)


def p_lock(m: Monkey, field_name: str) -> None:
    _click(_pair(m.window, field_name).lock)


def p_out_channels(m: Monkey, value: int) -> None:
    _set_spin(m.window.params_panel.out_channels_spin, value)


def p_groups(m: Monkey, value: int) -> None:
    _set_spin(m.window.params_panel.groups_spin, value)


def p_padding_choice(m: Monkey, index: int) -> None:
    _choose(m.window.params_panel.padding_combo, index)


def p_padding_mode(m: Monkey, index: int) -> None:
    _choose(m.window.params_panel.padding_mode_combo, index)


def p_check(m: Monkey, name: str) -> None:
    _click(getattr(m.window.params_panel, f"{name}_check"))


def k_size(m: Monkey, axis: str, value: int) -> None:
    panel = m.window.kernel_panel
    spin = panel.kh_spin if axis == "h" else panel.kw_spin
    if not reachable(spin):
        return
    other = (panel.kw_spin if axis == "h" else panel.kh_spin).value()
    value = max(spin.minimum(), min(spin.maximum(), value))
    wanted = (value, other) if axis == "h" else (other, value)
    before = tuple(m.window.session.weight.shape[2:])
    if _set_spin(spin, value):
        m.check_kernel_size(wanted if wanted != before else None, f"kernel size {wanted[0]}x{wanted[1]}")


def k_pair(m: Monkey, which: str, frac: float) -> None:
    panel = m.window.kernel_panel
    spin = panel.out_spin if which == "out" else panel.in_spin
    _set_spin(spin, int(round(frac * spin.maximum())))


def k_scope(m: Monkey, index: int) -> None:
    _choose(m.window.kernel_panel.scope_combo, index)


def k_preset(m: Monkey, frac: float) -> None:
    panel = m.window.kernel_panel
    combo = panel.preset_combo
    index = 1 + int(frac * (combo.count() - 1)) % (combo.count() - 1)
    from convplay.core.presets import PRESETS

    key = combo.itemData(index)
    preset = next((p for p in PRESETS if p.key == key), None)
    if _choose(combo, index) and preset is not None:  # only a preset the user could pick
        m.check_kernel_size(tuple(np.shape(preset.weights)), f"preset {preset.name} ({panel.scope})")


def k_button(m: Monkey, name: str) -> None:
    _click(getattr(m.window.kernel_panel, f"{name}_button"))


CELL_TEXTS = ("1", "-1", "0", "0.5", "1/9", "-2", "\u22120.25", "0,5", "3e2", "abc", "1/0", "nan", "inf", "1e400", "", " 2 ")


def _type_into(grid, fr: float, fc: float, text: str) -> None:
    """Type ``text`` into a cell and press Enter: the item's text changes, as the editor commits it."""
    if not reachable(grid) or grid.rowCount() == 0 or grid.columnCount() == 0:
        return
    r = min(int(fr * grid.rowCount()), grid.rowCount() - 1)
    c = min(int(fc * grid.columnCount()), grid.columnCount() - 1)
    item = grid.item(r, c)
    if item is not None:
        grid.setCurrentCell(r, c)
        item.setText(text)


def k_cell(m: Monkey, fr: float, fc: float, text: str) -> None:
    _type_into(m.window.kernel_panel.grid, fr, fc, text)


def k_bias(m: Monkey, fc: float, text: str) -> None:
    _type_into(m.window.kernel_panel.bias_grid, 0.0, fc, text)


def i_sample_menu(m: Monkey, frac: float) -> None:
    menu = _samples_menu(m.window)
    actions = [a for a in menu.actions() if not a.isSeparator()] if menu else []
    if actions:
        actions[min(int(frac * len(actions)), len(actions) - 1)].trigger()


def _samples_menu(window):
    for top in window.menuBar().actions():
        menu = top.menu()
        for action in menu.actions() if menu else []:
            if action.menu() is not None and action.text().replace("&", "") == "Samples":
                return action.menu()
    return None


def i_sample_combo(m: Monkey, frac: float) -> None:
    combo = m.window.input_panel.sample_combo
    _choose(combo, 1 + int(frac * (combo.count() - 1)) % (combo.count() - 1))


def i_size(m: Monkey, value: int) -> None:
    _set_spin(m.window.input_panel.size_spin, value)


def i_channels(m: Monkey, index: int) -> None:
    _choose(m.window.input_panel.channels_combo, index)


def i_tool(m: Monkey, name: str) -> None:
    _click(getattr(m.window.input_panel, f"{name}_button"))


def i_spin(m: Monkey, name: str, value) -> None:
    _set_spin(getattr(m.window.input_panel, f"{name}_spin"), value)


def i_button(m: Monkey, name: str) -> None:
    _click(getattr(m.window.input_panel, f"{name}_button"))


def i_cell(m: Monkey, fr: float, fc: float, text: str) -> None:
    panel = m.window.input_panel
    if reachable(panel.values_box):
        _type_into(panel.values_grid, fr, fc, text)


def i_values_channel(m: Monkey, value: int) -> None:
    _set_spin(m.window.input_panel.values_channel, value)


def _canvas_point(canvas, fy: float, fx: float) -> QPoint:
    """The viewport pixel over the point (fy, fx) of the image, in fractions of its height and width."""
    _, h, w = canvas.image.shape
    scene = canvas.view_box.mapViewToScene(QPointF(fx * w - 0.5, fy * h - 0.5))
    return canvas.mapFromScene(scene)


def i_stroke(m: Monkey, points: tuple) -> None:
    """A left-button drag through ``points`` (fractions; a little outside the image too)."""
    canvas = m.window.input_panel.canvas
    if not reachable(canvas):
        return
    viewport = canvas.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    first = _canvas_point(canvas, *points[0])
    QTest.mousePress(viewport, left, none, first)
    for fy, fx in points[1:]:
        QTest.mouseMove(viewport, _canvas_point(canvas, fy, fx))
    QTest.mouseRelease(viewport, left, none, _canvas_point(canvas, *points[-1]))


def _undo_stack(window):
    return _attr(window, "undo_stack", "history.stack", "history")


def e_undo(m: Monkey) -> None:
    action = _attr(m.window, "undo_action") or _menu_action(m.window, "Undo")
    if action is not None and action.isEnabled():
        action.trigger()


def e_redo(m: Monkey) -> None:
    action = _attr(m.window, "redo_action") or _menu_action(m.window, "Redo")
    if action is not None and action.isEnabled():
        action.trigger()


def a_button(m: Monkey, name: str) -> None:
    _click(getattr(m.window.animation_panel.controls, f"{name}_button"))


def a_scrub(m: Monkey, frac: float) -> None:
    slider = m.window.animation_panel.controls.scrubber
    if reachable(slider):
        slider.setValue(int(round(frac * slider.maximum())))


def a_speed(m: Monkey, value: float) -> None:
    _set_spin(m.window.animation_panel.controls.speed, value)


def a_loop(m: Monkey) -> None:
    _click(m.window.animation_panel.controls.loop_box)


def a_scatter(m: Monkey, value: int) -> None:
    spin = m.window.animation_panel.scatter_channel
    if reachable(spin):
        spin.setValue(value)


def a_diagram(m: Monkey) -> None:
    _click(m.window.animation_panel.diagram_button)


def _output_cell_point(view, fi: float, fj: float) -> QPoint | None:
    panel = view.output
    if not panel.plot.isVisible():
        return None
    h, w = panel.shape
    if h == 0 or w == 0:
        return None
    scene = panel.view_box.mapViewToScene(QPointF(min(int(fj * w), w - 1), min(int(fi * h), h - 1)))
    return view.mapFromScene(scene)


def a_cell(m: Monkey, fi: float, fj: float, click: bool) -> None:
    """Hover an output cell of the sliding-window view, and click it."""
    view = m.window.animation_panel.view
    if not reachable(view):
        return
    point = _output_cell_point(view, fi, fj)
    if point is None:
        return
    QTest.mouseMove(view.viewport(), point)
    if click:
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


ANIMATION_KEYS = {"space": Qt.Key.Key_Space, "right": Qt.Key.Key_Right, "left": Qt.Key.Key_Left,
                  "down": Qt.Key.Key_Down, "up": Qt.Key.Key_Up, "home": Qt.Key.Key_Home, "end": Qt.Key.Key_End}


def a_key(m: Monkey, key: str) -> None:
    panel = m.window.animation_panel
    if reachable(panel):
        panel.setFocus()
        QTest.keyClick(panel, ANIMATION_KEYS[key])


def o_channel(m: Monkey, value: int) -> None:
    _set_spin(m.window.output_panel.channel_spin, value)


def o_mode(m: Monkey, index: int) -> None:
    _choose(m.window.output_panel.mode_combo, index)


def o_mapping(m: Monkey, index: int) -> None:
    _choose(m.window.output_panel.mapping_combo, index)


def d_dtype(m: Monkey, index: int) -> None:
    _choose(m.window.device_panel.dtype_combo, index)


# -- the kernel workbench ---------------------------------------------------------------------
def wb_family(m: Monkey, index: int) -> None:
    _choose(m.window.designer_panel.family_combo, index)


def wb_parameter(m: Monkey, fr: float, fv: float, drag: bool) -> None:
    """Move one of the shown family's parameters: a slider dragged (pressed, moved, released)
    or a value typed into its spin box."""
    rows = list(m.window.designer_panel.page.rows.values())
    if not rows:
        return
    row = rows[min(int(fr * len(rows)), len(rows) - 1)]
    if drag and reachable(row.slider):
        slider = row.slider
        slider.setSliderDown(True)
        for t in (0.3, 0.6, 1.0):
            slider.setValue(round(slider.minimum() + t * fv * (slider.maximum() - slider.minimum())))
        slider.setSliderDown(False)
    else:
        p = row.parameter
        _set_spin(row.spin, p.minimum + fv * (p.maximum - p.minimum))


def wb_normalise(m: Monkey, index: int) -> None:
    _choose(m.window.designer_panel.normalisation_combo, index)


def wb_apply(m: Monkey) -> None:
    _click(m.window.designer_panel.apply_button)


def wb_response(m: Monkey, what: str, value) -> None:
    panel = m.window.response_panel
    if what == "size":
        _choose(panel.size_combo, value)
    elif what == "scale":
        _choose(panel.scale_combo, value)
    elif what == "angle":
        _set_spin(panel.angle_spin, value)
    else:
        _click(panel.phase_button if what == "phase" else panel.follow_button)


def wb_two_passes(m: Monkey) -> None:
    _click(m.window.analysis_panel.run_button)


def wb_compare(m: Monkey, what: str, value) -> None:
    panel = m.window.compare_panel
    if what == "pin":
        _click(panel.pin_button)
    elif what == "preset":
        _choose(panel.preset_combo, value)
    else:
        buttons = list(panel.view_buttons.values())
        _click(buttons[value % len(buttons)])


def o_gradient(m: Monkey, index: int, percent: int) -> None:
    panel = m.window.output_panel
    if _choose(panel.gradient_combo, index) and reachable(panel.edge_slider):
        panel.edge_slider.setValue(percent)


# -- the network: the layer stack, feature maps, class scores, receptive field ----------------
STACK_KEYS = {"alt_up": (Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier),
              "alt_down": (Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier),
              "delete": (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier),
              "enter": (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)}
SHAPE_VALUES = (1, 1, 2, 3, 8, 16, 28, 32, 64, 256, 1024, 4096)
LAYER_CODES = ("nn.Conv2d(1, 8, 3, padding=1)", "nn.Conv2d(1, 8, 64)", "nn.Conv2d(8, 8, 3, padding=40)",
               "nn.MaxPool2d(64)", "nn.MaxPool2d(2, padding=2)", "nn.AvgPool2d(3, stride=1, padding=1)",
               "nn.MaxPool2d(3, ceil_mode=True, dilation=2)", "nn.AdaptiveAvgPool2d(1)", "nn.AdaptiveMaxPool2d((4096, 1))",
               "nn.Linear(10, 10)", "nn.Linear(256, 1)", "nn.Flatten()", "nn.ReLU()", "nn.BatchNorm2d(8)",
               "nn.ConvTranspose2d(8, 8, 4, stride=2)", "nn.Conv2d(1, 8, 0)", "nn.Linear(1e12, 3)", "garbage(")
PASTE_CODES = (
    "nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 3 * 3, 10))",
    "nn.Sequential(nn.Conv2d(1, 4, 64))",
    "nn.Sequential(nn.MaxPool2d(2, padding=1), nn.AvgPool2d(1), nn.Flatten(), nn.Linear(1, 1))",
    "nn.Sequential(nn.Flatten())",
    "nn.Sequential(nn.Conv2d(3, 8, 3), nn.Linear(32 * 12 * 12, 10))",
    "import os",
    "",
)
FORM_INTS = (0, 1, 2, 3, 64, 4096, -1)


def _stack(m: Monkey):
    return m.window.stack_panel


def n_model(m: Monkey, frac: float) -> None:
    """The Model combo: a built-in network, or the empty stack (never the disabled "Your own")."""
    combo = _stack(m).model_combo
    enabled = [i for i in range(combo.count()) if combo.model().item(i) is None or combo.model().item(i).isEnabled()]
    if enabled:
        _choose(combo, enabled[min(int(frac * len(enabled)), len(enabled) - 1)])


def n_select(m: Monkey, frac: float) -> None:
    """Click a row of the stack's table."""
    table = _stack(m).table
    rows = table.model().rowCount()
    if not reachable(table) or rows == 0:
        return
    row = min(int(frac * rows), rows - 1)
    table.scrollTo(table.model().index(row, 0))
    rect = table.visualRect(table.model().index(row, 0))
    if rect.isValid() and table.viewport().rect().contains(rect.center()):
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())


def n_add(m: Monkey, frac: float) -> None:
    """Add layer > one kind (inserted after the selected layer)."""
    panel = _stack(m)
    if not reachable(panel.add_button):
        return
    actions = [a for a in panel.add_menu.actions() if not a.isSeparator() and a.isEnabled()]
    if actions:
        actions[min(int(frac * len(actions)), len(actions) - 1)].trigger()


def n_button(m: Monkey, name: str) -> None:
    """Remove, up, down, Apply the fix, Open, Copy code, Initialise."""
    _click(getattr(_stack(m), f"{name}_button"))


def n_remove_all(m: Monkey) -> None:
    """Select the first row and press Remove until the stack is empty."""
    panel = _stack(m)
    for _ in range(64):
        if not m.window.network.stack.layers or not reachable(panel.table):
            return
        n_select(m, 0.0)
        if not reachable(panel.remove_button):
            return
        panel.remove_button.click()


def n_key(m: Monkey, key: str) -> None:
    """Alt+Up / Alt+Down / Delete / Enter on the table (Alt+arrows past the ends too)."""
    table = _stack(m).table
    if reachable(table):
        table.setFocus()
        QTest.keyClick(table, *STACK_KEYS[key])


def n_shape(m: Monkey, index: int, value: int) -> None:
    _set_spin(_stack(m).shape_spins[index % 3], value)


def n_seed(m: Monkey, value: int) -> None:
    panel = _stack(m)
    if _set_spin(panel.seed_spin, value):
        _click(panel.init_button)


def _in_dialog(m: Monkey, get, act) -> None:
    """Run ``act(dialog)`` once the modal dialog is open, and make sure it closes."""
    from PySide6.QtCore import QTimer

    def later() -> None:
        dialog = get()
        if dialog is None:
            return
        try:
            act(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, later)


def n_edit(m: Monkey, how: str, frac: float, value, accept: bool) -> None:
    """Edit… the selected layer: a form field set, or code typed; OK (or Cancel)."""
    panel = _stack(m)
    if not reachable(panel.edit_button):
        return

    def act(dialog) -> None:
        if how == "code":
            dialog.code_edit.setText(str(value))
            dialog.code_edit.textEdited.emit(dialog.code_edit.text())
        else:
            fields = list(dialog._fields.values())
            if not fields:
                return
            f = fields[min(int(frac * len(fields)), len(fields) - 1)]
            if f._spin is not None:
                f._spin.setValue(int(value))
            elif f._pair is not None and f._pair[0].isEnabled():
                f._pair[0].setValue(int(value))
            elif f._check is not None:
                f._check.toggle()
            elif f._combo is not None:
                f._combo.setCurrentIndex(int(value) % max(f._combo.count(), 1))
        if accept:
            dialog.accept()
        else:
            dialog.reject()

    _in_dialog(m, lambda: panel._edit_dialog, act)
    panel.edit_button.click()


def n_paste(m: Monkey, index: int, accept: bool) -> None:
    """Paste code…: text typed into the dialog, then Use this stack (or Cancel)."""
    panel = _stack(m)
    if not reachable(panel.paste_button):
        return

    def act(dialog) -> None:
        dialog.editor.setPlainText(PASTE_CODES[index % len(PASTE_CODES)])
        if accept:
            dialog.accept()
        else:
            dialog.reject()

    _in_dialog(m, lambda: panel._code_dialog, act)
    panel.paste_button.click()


def mp_layer(m: Monkey, index: int) -> None:
    _choose(m.window.maps_panel.layer_combo, index)


def mp_shared(m: Monkey) -> None:
    _click(m.window.maps_panel.shared_check)


def mp_tile(m: Monkey, frac: float) -> None:
    """Click a feature map's tile in the grid."""
    grid = m.window.maps_panel.grid
    if not reachable(grid) or grid.count == 0:
        return
    channel = min(int(frac * grid.count), grid.count - 1)
    point = grid.tile_rect(channel).center().toPoint()
    if grid.visibleRegion().contains(point):
        QTest.mouseClick(grid, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def mp_pixel(m: Monkey, fy: float, fx: float) -> None:
    """Click a pixel of the large map."""
    view = m.window.maps_panel.large
    rect = view.image_rect()
    if not reachable(view) or rect.isEmpty():
        return
    point = QPointF(rect.x() + fx * rect.width() * 0.999, rect.y() + fy * rect.height() * 0.999).toPoint()
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def sc_button(m: Monkey, name: str) -> None:
    panel = m.window.scores_panel
    _click(panel.softmax_check if name == "softmax" else panel.draw_button)


def sc_example(m: Monkey, digit: int) -> None:
    button = m.window.scores_panel.examples_button
    if reachable(button):
        actions = button.menu().actions()
        actions[digit % len(actions)].trigger()


def rf_layer(m: Monkey, index: int) -> None:
    _choose(m.window.receptive_panel.layer_combo, index)


def rf_spin(m: Monkey, which: str, frac: float) -> None:
    """channel / row / col: a fraction of the range, or past it (-1, 10**6: the box clamps)."""
    spin = getattr(m.window.receptive_panel, f"{which}_spin")
    value = -1 if frac < 0 else 10**6 if frac > 1 else spin.minimum() + round(frac * (spin.maximum() - spin.minimum()))
    _set_spin(spin, value)


# -- pooling ---------------------------------------------------------------------------------
POOL_VALUES = {
    "kernel": (1, 2, 2, 3, 4, 5, 64),
    "stride": (1, 1, 2, 3, 64),
    "padding": (0, 0, 1, 2, 3, 32),
    "dilation": (1, 1, 2, 3, 64),
    "output_size": (0, 1, 1, 2, 3, 7, 4096),
}
POOL_KEYS = {"right": Qt.Key.Key_Right, "left": Qt.Key.Key_Left, "down": Qt.Key.Key_Down, "up": Qt.Key.Key_Up,
             "home": Qt.Key.Key_Home, "end": Qt.Key.Key_End, "space": Qt.Key.Key_Space}


def q_pair(m: Monkey, name: str, axis: str, value: int) -> None:
    field_ = getattr(m.window.pooling_panel, name)
    _set_spin(field_.h if axis == "h" else field_.w, value)


def q_kind(m: Monkey, index: int) -> None:
    _choose(m.window.pooling_panel.kind_combo, index)


def q_input(m: Monkey, index: int) -> None:
    _choose(m.window.pooling_panel.input_combo, index)


def q_check(m: Monkey, name: str) -> None:
    _click(getattr(m.window.pooling_panel, name))


def q_spin(m: Monkey, name: str, value) -> None:
    _set_spin(getattr(m.window.pooling_panel, f"{name}_spin"), value)


def q_step(m: Monkey, name: str) -> None:
    _click(getattr(m.window.pooling_panel, f"{name}_button"))


def q_cell(m: Monkey, fi: float, fj: float, click: bool) -> None:
    """Hover (and click) an output cell of the pooling picture."""
    grid = m.window.pooling_panel.grid
    if not reachable(grid):
        return
    g = grid.geometry_now()
    if g is None or not g.out_hw[0] or not g.out_hw[1]:
        return
    i, j = min(int(fi * g.out_hw[0]), g.out_hw[0] - 1), min(int(fj * g.out_hw[1]), g.out_hw[1] - 1)
    point = g.out_rect(i, j).center().toPoint()
    if not grid.rect().contains(point):
        return
    QTest.mouseMove(grid, point)
    if click:
        QTest.mouseClick(grid, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def _front(m: Monkey, key: str, widget) -> bool:
    """The dock brought forward first, as a user would: opened from the View menu when
    closed (most workspaces close it), its tab clicked when behind another."""
    dock = m.window.docks.get(key)
    if not reachable(widget) and dock is not None:
        if dock.isHidden():
            dock.toggleViewAction().trigger()
        dock.raise_()
        QApplication.processEvents()
    return reachable(widget)


def mx_cell(m: Monkey, fr: float, fc: float, block: int) -> None:
    """Click a cell of the matrix view (a row of C, an entry of x, b or y; a patch column)."""
    grid = m.window.matrix_panel.grid
    if not _front(m, "matrix", m.window.matrix_panel) or not reachable(grid) or not grid.blocks:
        return
    block %= len(grid.blocks)
    rows, cols = grid.blocks[block].shape
    rect = grid.cell_rect(block, min(int(fr * rows), rows - 1), min(int(fc * cols), cols - 1))
    point = rect.center().toPoint()
    if grid.visibleRegion().contains(point):
        QTest.mouseClick(grid, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def mx_button(m: Monkey, name: str) -> None:
    """The matrix view's Symbols, −, Fit and + buttons."""
    button = getattr(m.window.matrix_panel, f"{name}_button")
    if reachable(button):
        button.click()


def tr_cell(m: Monkey, frame: str, fr: float, fc: float) -> None:
    """Click a cell of one of the four transposed views (the gather output seeks it)."""
    picture = m.window.transposed_panel.frames[frame].picture
    if not _front(m, "transposed", m.window.transposed_panel) or not reachable(picture) or not picture.boards:
        return
    board = picture.boards[-1 if frame == "gather" else 0]
    index = picture.boards.index(board)
    r = board.origin[0] + min(int(fr * board.rows), board.rows - 1)
    c = board.origin[1] + min(int(fc * board.cols), board.cols - 1)
    QTest.mouseClick(picture, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     picture.centre_of(index, r, c))


def q_key(m: Monkey, key: str) -> None:
    grid = m.window.pooling_panel.grid
    if reachable(grid):
        grid.setFocus()
        QTest.keyClick(grid, POOL_KEYS[key])


def w_tab(m: Monkey, key: str) -> None:
    """Click a dock's tab: the dock comes to the front of its tab group."""
    dock = m.window.docks.get(key)
    if dock is not None and not dock.isHidden():
        dock.raise_()


def w_toggle_dock(m: Monkey, key: str) -> None:
    dock = m.window.docks.get(key)
    if dock is not None:
        dock.toggleViewAction().trigger()


def i_view_tab(m: Monkey, index: int) -> None:
    """Click the input's Picture or Values tab."""
    tabs = m.window.input_panel.views
    if reachable(tabs.tabBar()) and tabs.isTabEnabled(index % tabs.count()) and tabs.isTabVisible(index % tabs.count()):
        tabs.setCurrentIndex(index % tabs.count())


def w_workspace(m: Monkey, action_id: str) -> None:
    """A workspace chosen from the View menu (or its Ctrl+number)."""
    m.window.actions_by_id[action_id].trigger()


def w_zoom(m: Monkey, action_id: str) -> None:
    """View > Zoom in / out / reset, or High contrast."""
    m.window.actions_by_id[action_id].trigger()


def w_resize(m: Monkey, w: int, h: int) -> None:
    m.window.resize(w, h)


def w_focus(m: Monkey) -> None:
    m.window.focus_action.trigger()


def _menu_action(window, text: str):
    """The menu bar's action called ``text`` (in any menu): what a user clicks."""
    for top in window.menuBar().actions():
        menu = top.menu()
        for action in menu.actions() if menu else []:
            if action.text().replace("&", "").rstrip("\u2026") == text:
                return action
    return None


def w_reset(m: Monkey) -> None:
    action = _menu_action(m.window, "Reset layout")
    if action is not None:
        action.trigger()


def l_open(m: Monkey, frac: float) -> None:
    """Lesson > Open lesson > one of the built-in lessons (at its first step)."""
    menu = m.window.actions_by_id.get("builtin_lessons")
    if menu is None:
        return
    menu.aboutToShow.emit()  # filled when first opened, as a user's click fills it
    entries = [a for a in menu.actions() if not a.isSeparator() and a.isEnabled()]
    if entries:
        entries[min(int(frac * len(entries)), len(entries) - 1)].trigger()


def l_step(m: Monkey, action_id: str) -> None:
    """Lesson > Next step / Previous step / Reveal the answer (a no-op without a lesson)."""
    action = m.window.actions_by_id.get(action_id)
    if action is not None:
        action.trigger()


def s_process(m: Monkey) -> None:
    QApplication.processEvents()


def s_idle(m: Monkey) -> None:
    if m.wait_idle():
        QApplication.processEvents()
        check_views(m)


def s_wait(m: Monkey, ms: int) -> None:
    """Time passes: the animation's timer ticks, results arrive."""
    m.qtbot.wait(ms)


def _stroke_points(rng) -> tuple:
    n = int(rng.integers(1, 6))
    return tuple((round(float(rng.uniform(-0.2, 1.2)), 3), round(float(rng.uniform(-0.2, 1.2)), 3)) for _ in range(n))


def _draw_edit(rng) -> tuple:
    how = _pick(rng, ("code", "form"))
    value = _pick(rng, LAYER_CODES) if how == "code" else _pick(rng, FORM_INTS)
    return how, _frac(rng), value, bool(rng.random() < 0.8)


def _actions() -> list[Action]:
    pair_fields = tuple(PAIR_VALUES)
    A = Action
    return [
        # Parameters: every field, extreme values included
        A("p_pair", 14, lambda r: (f := _pick(r, pair_fields), _pick(r, "hw"), _pick(r, PAIR_VALUES[f])), p_pair),
        A("p_lock", 2, lambda r: (_pick(r, pair_fields),), p_lock),
        A("p_out_channels", 4, lambda r: (_pick(r, (1, 1, 2, 3, 4, 5, 6, 8, 64)),), p_out_channels),
        A("p_groups", 4, lambda r: (_pick(r, (1, 1, 2, 3, 4, 64)),), p_groups),
        A("p_padding_choice", 3, lambda r: (int(r.integers(3)),), p_padding_choice),
        A("p_padding_mode", 3, lambda r: (int(r.integers(4)),), p_padding_mode),
        A("p_check", 5, lambda r: (_pick(r, ("bias", "transposed", "transposed", "true_convolution")),), p_check),
        # Kernel
        A("k_size", 5, lambda r: (_pick(r, "hw"), _pick(r, (1, 2, 3, 4, 5, 7, 15))), k_size),
        A("k_pair", 2, lambda r: (_pick(r, ("out", "in")), _frac(r)), k_pair),
        A("k_scope", 2, lambda r: (int(r.integers(3)),), k_scope),
        A("k_preset", 4, lambda r: (_frac(r),), k_preset),
        A("k_button", 6, lambda r: (_pick(r, ("normalise", "flip_h", "flip_v", "transpose", "random", "clear")),), k_button),
        A("k_cell", 4, lambda r: (_frac(r), _frac(r), _pick(r, CELL_TEXTS)), k_cell),
        A("k_bias", 1, lambda r: (_frac(r), _pick(r, CELL_TEXTS)), k_bias),
        # Input
        A("i_sample_menu", 1.5, lambda r: (_frac(r),), i_sample_menu),
        A("i_sample_combo", 1.5, lambda r: (_frac(r),), i_sample_combo),
        A("i_size", 2, lambda r: (_pick(r, WORKING_SIZES),), i_size),
        A("i_channels", 3, lambda r: (int(r.integers(2)),), i_channels),
        A("i_stroke", 4, lambda r: (_stroke_points(r),), i_stroke),
        A("i_tool", 1, lambda r: (_pick(r, ("pen", "eraser")),), i_tool),
        A("i_spin", 1.5, lambda r: (("brush", _pick(r, (1, 3, 64))) if r.random() < 0.4 else ("value", _pick(r, (-1000.0, -1.0, 0.0, 0.5, 1.0, 255.0, 1000.0)))), i_spin),
        A("i_button", 1.5, lambda r: (_pick(r, ("clear", "fill", "invert")),), i_button),
        A("i_cell", 2, lambda r: (_frac(r), _frac(r), _pick(r, CELL_TEXTS)), i_cell),
        A("i_values_channel", 0.5, lambda r: (int(r.integers(3)),), i_values_channel),
        # Undo
        A("e_undo", 5, lambda r: (), e_undo),
        A("e_redo", 3, lambda r: (), e_redo),
        # Animation
        A("a_button", 6, lambda r: (_pick(r, ("start", "back", "play", "play", "forward", "end")),), a_button),
        A("a_scrub", 3, lambda r: (_frac(r),), a_scrub),
        A("a_speed", 1, lambda r: (_pick(r, (0.5, 4.0, 30.0, 60.0)),), a_speed),
        A("a_loop", 0.5, lambda r: (), a_loop),
        A("a_scatter", 4, lambda r: (_pick(r, (0, 1, 2, 5, 63)),), a_scatter),
        A("a_diagram", 0.5, lambda r: (), a_diagram),
        A("a_cell", 5, lambda r: (_frac(r), _frac(r), bool(r.random() < 0.6)), a_cell),
        A("a_key", 1.5, lambda r: (_pick(r, tuple(ANIMATION_KEYS)),), a_key),
        # Output and device
        A("o_channel", 1, lambda r: (int(r.integers(8)),), o_channel),
        A("o_mode", 1, lambda r: (int(r.integers(3)),), o_mode),
        A("o_mapping", 1, lambda r: (int(r.integers(6)),), o_mapping),
        A("d_dtype", 0.7, lambda r: (int(r.integers(2)),), d_dtype),
        # The window
        A("wb_family", 2, lambda r: (int(r.integers(40)),), wb_family),
        A("wb_parameter", 4, lambda r: (_frac(r), _frac(r), bool(r.random() < 0.5)), wb_parameter),
        A("wb_normalise", 1, lambda r: (int(r.integers(3)),), wb_normalise),
        A("wb_apply", 1.5, lambda r: (), wb_apply),
        A("wb_response", 1.5, lambda r: (lambda what: (what, int(r.integers(-30, 400)) if what == "angle"
                                                       else int(r.integers(3))))(
            _pick(r, ("size", "scale", "angle", "phase", "follow"))), wb_response),
        A("wb_two_passes", 1, lambda r: (), wb_two_passes),
        A("wb_compare", 1.5, lambda r: (_pick(r, ("pin", "pin", "preset", "view")), int(r.integers(20))), wb_compare),
        A("o_gradient", 1.5, lambda r: (int(r.integers(5)), int(r.integers(101))), o_gradient),
        # The network: the layer stack, its feature maps, class scores and receptive fields
        A("n_model", 1.5, lambda r: (_frac(r),), n_model),
        A("n_select", 4, lambda r: (_frac(r),), n_select),
        A("n_add", 3, lambda r: (_frac(r),), n_add),
        A("n_button", 5, lambda r: (_pick(r, ("remove", "up", "down", "fix", "fix", "open", "open", "copy")),), n_button),
        A("n_remove_all", 0.3, lambda r: (), n_remove_all),
        A("n_key", 2, lambda r: (_pick(r, tuple(STACK_KEYS)),), n_key),
        A("n_shape", 2.5, lambda r: (int(r.integers(3)), _pick(r, SHAPE_VALUES)), n_shape),
        A("n_seed", 0.7, lambda r: (_pick(r, (0, 1, 7, 2**31 - 1)),), n_seed),
        A("n_edit", 2, _draw_edit, n_edit),
        A("n_paste", 0.7, lambda r: (int(r.integers(len(PASTE_CODES))), bool(r.random() < 0.8)), n_paste),
        A("mp_layer", 2, lambda r: (int(r.integers(12)),), mp_layer),
        A("mp_shared", 0.7, lambda r: (), mp_shared),
        A("mp_tile", 2, lambda r: (_frac(r),), mp_tile),
        A("mp_pixel", 1.5, lambda r: (_frac(r), _frac(r)), mp_pixel),
        A("sc_button", 1.5, lambda r: (_pick(r, ("softmax", "draw")),), sc_button),
        A("sc_example", 1.5, lambda r: (int(r.integers(10)),), sc_example),
        A("rf_layer", 1.5, lambda r: (int(r.integers(12)),), rf_layer),
        A("rf_spin", 2, lambda r: (_pick(r, ("channel", "row", "col")), _pick(r, (-0.5, 0.0, 0.5, 1.0, 1.5, _frac(r)))),
          rf_spin),
        # Pooling: every field, extreme values included
        A("q_pair", 8, lambda r: (f := _pick(r, tuple(POOL_VALUES)), _pick(r, "hw"), _pick(r, POOL_VALUES[f])), q_pair),
        A("q_kind", 2, lambda r: (int(r.integers(4)),), q_kind),
        A("q_input", 1.5, lambda r: (int(r.integers(3)),), q_input),
        A("q_check", 3, lambda r: (_pick(r, ("stride_auto", "ceil_mode", "count_pad", "divisor_check")),), q_check),
        A("q_spin", 1.5, lambda r: (("divisor", _pick(r, (-3, 0, 1, 5, 1024))) if r.random() < 0.6
                                    else ("channel", int(r.integers(1, 5)))) if r.random() < 0.8
          else ("speed", _pick(r, (0.1, 4.0, 1000.0))), q_spin),
        A("q_step", 3, lambda r: (_pick(r, ("first", "back", "play", "next", "last")),), q_step),
        A("q_cell", 2.5, lambda r: (_frac(r), _frac(r), bool(r.random() < 0.6)), q_cell),
        A("q_key", 1, lambda r: (_pick(r, tuple(POOL_KEYS)),), q_key),
        # The matrix view and the four transposed views
        A("mx_cell", 2.5, lambda r: (_frac(r), _frac(r), int(r.integers(4))), mx_cell),
        A("mx_button", 1.5, lambda r: (_pick(r, ("symbols", "zoom_out", "fit", "zoom_in")),), mx_button),
        A("tr_cell", 2, lambda r: (_pick(r, ("gather", "gather", "scatter", "zero insertion", "matrix")), _frac(r),
                                   _frac(r)), tr_cell),
        A("w_tab", 10, lambda r: (_pick(r, ("output", "animation", "animation", "formula", "device", "designer",
                                            "analysis", "response", "compare", "stack", "stack", "maps", "maps", "scores",
                                            "receptive", "receptive", "pooling", "pooling", "matrix", "matrix",
                                            "transposed", "transposed")),), w_tab),
        A("w_toggle_dock", 1.2, lambda r: (_pick(r, ("animation", "output", "kernel", "device", "stack", "maps",
                                                     "scores", "receptive", "pooling", "matrix", "transposed")),),
          w_toggle_dock),
        A("i_view_tab", 1, lambda r: (int(r.integers(2)),), i_view_tab),
        A("w_workspace", 1.5, lambda r: (_pick(r, tuple(w.action for w in WORKSPACES)),), w_workspace),
        A("w_network_workspace", 5, lambda r: (_pick(r, ("workspace_network", "workspace_pooling", "workspace_matrix",
                                                         "workspace_transposed")),), w_workspace),
        A("w_zoom", 0.7, lambda r: (_pick(r, ("zoom_in", "zoom_out", "reset_zoom", "high_contrast")),), w_zoom),
        A("w_resize", 1.5, lambda r: _pick(r, WINDOW_SIZES), w_resize),
        A("w_focus", 1.5, lambda r: (), w_focus),
        A("w_reset", 0.7, lambda r: (), w_reset),
        # Lessons: a built-in one opened, its steps gone through
        A("l_open", 0.4, lambda r: (_frac(r),), l_open),
        A("l_step", 1.5, lambda r: (_pick(r, ("lesson_next", "lesson_next", "lesson_previous", "lesson_reveal")),), l_step),
        # Time: sometimes nothing at all between actions, sometimes the worker's result
        A("s_process", 10, lambda r: (), s_process),
        A("s_idle", 3, lambda r: (), s_idle),
        A("s_wait", 2, lambda r: (_pick(r, (17, 40, 80)),), s_wait),
    ]


# -- what the views say once the worker is idle ------------------------------------------------------
ZERO_WEIGHT_SHAPE = re.compile(r"\((?:\d+, )*0(?:, \d+)*\)")


def check_views(m: Monkey) -> None:
    """Views that must follow the settings: no weight shape with a 0 in the formula, no
    "equals the sum" left in the arithmetic while the animation cannot animate."""
    window = m.window
    formula = _attr(window, "formula_panel.formula_view")
    if formula is not None:
        match = ZERO_WEIGHT_SHAPE.search(formula.toPlainText())
        if match:
            m.recorder.add("stale-view", f"the formula shows weight shape {match.group(0)}", "formula: zero in the weight shape")
    panel = window.animation_panel
    message = _attr(panel, "message")
    check = _attr(panel, "arithmetic.check")
    if message is not None and check is not None and message.text().startswith("Cannot animate"):
        if "\u2713" in check.text() and check.isVisibleTo(panel):  # a hidden panel says nothing
            m.recorder.add("stale-view", f"'{message.text()[:60]}' while the arithmetic says: {check.text()[:60]}",
                           "arithmetic: last valid check kept while it cannot animate")
    stack = _attr(window, "stack_panel")
    network = _attr(window, "network")
    if stack is not None and network is not None:
        rows, layers = stack.table_model.rowCount(), len(network.stack.layers)
        if rows != layers:
            m.recorder.add("stale-view", f"the stack table has {rows} rows for {layers} layers",
                           "stack table: rows differ from the layers")
    pooling = _attr(window, "pooling_panel")
    if pooling is not None and reachable(pooling) and not pooling.worker.busy:
        badge = pooling.badge.text()
        if badge.startswith(("\u2717", "the PyTorch check failed")):
            m.recorder.add("wrong-output", f"the pooling view: {badge[:200]}", "pooling badge: differs from PyTorch",
                           detail=repr(pooling.model.spec))
    if stack is not None and network is not None and stack.check_badge.text().startswith("\u2717"):
        m.recorder.add("wrong-output", f"the stack's shape check: {stack.check_badge.text()[:200]}",
                       "stack shape check: differs from PyTorch", detail=network.stack.code()[:500])
    if (pooling is not None and reachable(pooling) and pooling.model.error and not pooling.worker.busy
            and "matches" in pooling.badge.text()):
        m.recorder.add("stale-view", f"the pooling badge says '{pooling.badge.text()[:60]}' while the settings "
                       f"are refused: {pooling.model.error[:80]}", "pooling badge: matches on refused settings")
    maps = _attr(window, "maps_panel")
    if (maps is not None and network is not None and reachable(maps) and network.run_is_fresh
            and maps.status.text().endswith("running\u2026")):
        m.recorder.add("stale-view", f"the feature maps still say '{maps.status.text()[:80]}' after the run",
                       "feature maps: running after the run")
    probe = getattr(network, "probe", None)
    if probe is not None and 0 <= probe.layer < len(network.trace.rows):
        shape = network.trace.rows[probe.layer].output_shape
        if shape is not None and len(shape) == 3 and not (
                0 <= probe.channel < shape[0] and 0 <= probe.row < shape[1] and 0 <= probe.col < shape[2]):
            m.recorder.add("stale-view", f"the probe {probe} lies outside layer {probe.layer}'s output {shape}",
                           "receptive field: probe outside the layer's output")


# -- the end-of-run check ------------------------------------------------------------------------
def check_output(m: Monkey) -> None:
    """Once the worker is idle: the output on screen is PyTorch's (nn.Conv2d from the user's
    arguments), or the settings are refused and the stale banner says so."""
    from oracles import session_output, torch_output_shape

    from convplay.core.spec import ConvSpecError

    window, session = m.window, m.window.session
    m.recorder.at(len(m.log), "(final check)")
    if not m.wait_idle():
        return
    QApplication.processEvents()
    check_views(m)
    spec, image = session.spec, session.image
    try:
        spec.output_shape(image.shape)
        refused = ""
    except ConvSpecError as exc:
        refused = str(exc)
    torch_shape = torch_output_shape(spec, image.shape)
    if refused or torch_shape is None:
        if not stale_banner_shown(window):
            m.recorder.add("wrong-output", f"settings refused ({refused or 'by PyTorch'}) but no stale banner", "no stale banner", detail=repr(spec))
        return
    if stale_banner_shown(window):
        m.recorder.add("wrong-output", f"valid settings but the stale banner shows: {window.output_panel.stale_message}", "stale banner on valid settings", detail=repr(spec))
        return
    out = shown_output(window)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'same' with an even kernel: torch's own note
        want = session_output(session)
        magnitude = _magnitude(session)
    if out is None or np.shape(out) != want.shape:
        m.recorder.add("wrong-output", f"shown output shape {np.shape(out)}, PyTorch's {want.shape}", "output shape", detail=repr(spec))
        return
    error = np.abs(np.asarray(out, dtype=np.float64) - want)
    allowed = 1e-4 * magnitude + 1e-9
    if not np.all(error <= allowed):
        worst = np.unravel_index(np.argmax(error - allowed), error.shape)
        m.recorder.add(
            "wrong-output",
            f"shown output differs from PyTorch's at {tuple(int(v) for v in worst)}: {float(np.asarray(out)[worst])!r} vs {float(want[worst])!r}",
            "output values",
            detail=repr(spec),
        )


def _magnitude(session) -> np.ndarray:
    """conv(|x|, |w|) + |b|: the scale of each output's rounding error."""
    from oracles import torch_conv

    bias = None if session.bias is None else np.abs(session.bias)
    return torch_conv(np.abs(session.image), np.abs(session.weight), bias, session.spec, flip=session.true_convolution)


# -- reports and shrinking -------------------------------------------------------------------------
def distinct(findings: list[Finding]) -> dict[tuple, list[Finding]]:
    causes: dict[tuple, list[Finding]] = {}
    for f in findings:
        causes.setdefault(f.signature, []).append(f)
    return causes


def report(seed: int, n_actions: int, log: list, findings: list[Finding], tail: int = 25) -> str:
    lines = [f"seed {seed}: {n_actions} actions, {len(findings)} findings, {len(distinct(findings))} distinct"]
    for (kind, where, _), group in distinct(findings).items():
        first = group[0]
        lines.append(f"\n== {kind} x{len(group)} at {where or '?'}\n   {first.text}\n   first at step {first.step}: {first.action}")
        start = max(0, first.step - tail)
        lines.append("   steps before it:")
        lines.extend(f"     {k}: {describe(log[k])}" for k in range(start, min(first.step + 1, len(log))))
    lines.append(f"\nreplay: Monkey(window, qtbot, Recorder(), seed={seed}).run({n_actions}), or replay(log) with the steps above")
    return "\n".join(lines)


def shrink(steps: list, fails: Callable[[list], bool]) -> list:
    """The shortest sub-list of ``steps`` found for which ``fails`` still holds (delta debugging)."""
    steps = list(steps)
    n = 2
    while len(steps) >= 2:
        size = max(1, len(steps) // n)
        reduced = False
        for start in range(0, len(steps), size):
            candidate = steps[:start] + steps[start + size:]
            if candidate and fails(candidate):
                steps, n, reduced = candidate, max(n - 1, 2), True
                break
        if not reduced:
            if size == 1:
                break
            n = min(len(steps), n * 2)
    return steps
