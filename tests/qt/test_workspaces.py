"""Workspaces: the table, and windows that keep the size they were given at 1280x720 and
1024x640 whatever is loaded, with an input big enough to draw on and a formula read
whole; the View menu's rows, the focus view, and the last workspace restored."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from convplay.core.samples import SAMPLES, sample
from convplay.core.session import Session
from convplay.core.spec import ConvSpec
from convplay.qt import actions
from convplay.qt.main_window import MIN_WINDOW_SIZE, MainWindow
from convplay.qt.workspaces import (
    DOCKS,
    FIT,
    HORIZONTAL,
    VERTICAL,
    WORKSPACE_NAMES,
    WORKSPACES,
    Split,
    Tabs,
    docks_of,
    placement,
    sizes,
    workspace,
)

SIZES = ((1280, 720), (1024, 640))
SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])


# -- the table ---------------------------------------------------------------------------------
def test_every_workspace_gives_every_dock_one_place():
    for ws in WORKSPACES:
        placed = docks_of(ws.layout)
        assert sorted(placed) == sorted(DOCKS), ws.name
        assert set(ws.shown) <= set(DOCKS) and ws.shown, ws.name
    assert len(set(WORKSPACE_NAMES)) == len(WORKSPACES)
    assert workspace("focus").shown == ("animation",)


def test_workspace_shortcuts_are_their_own(qapp):  # standard keys need the application
    """No other menu command has a workspace's keys (the Ctrl+1..9 row)."""
    mine = [QKeySequence(k).toString() for ws in WORKSPACES for k in ws.keys]
    assert len(set(mine)) == len(mine)
    others = [QKeySequence(k).toString() for entry in actions.ACTIONS if isinstance(entry, actions.Action)
              and entry.id not in {ws.action for ws in WORKSPACES} for k in entry.keys]
    assert not set(mine) & set(others)
    assert [ws.keys[0] for ws in WORKSPACES] == [f"Ctrl+{n}" for n in range(1, 10)]


def test_placement_splits_siblings_before_dividing_them():
    tree = Split(VERTICAL,
                 (Split(HORIZONTAL, (Tabs("a"), 1), (Tabs("b", "c"), 1)), 3),
                 (Tabs("d"), 1))
    assert placement(tree) == [
        ("add", "a"),
        ("split", "a", "d", VERTICAL),  # d below the whole top row, before the row is split
        ("split", "a", "b", HORIZONTAL),
        ("tabify", "b", "c"),
    ]


def test_sizes_share_the_room_and_fit_what_asks_to_fit():
    tree = Split(VERTICAL,
                 (Split(HORIZONTAL, (Tabs("a"), 1.0), (Tabs("b"), 3.0)), 1.0),
                 (Tabs("d"), FIT))
    asked = []

    def fit(dock, orientation, across):
        asked.append((dock, orientation, across))
        return 150

    calls = sizes(tree, 1000, 600, fit)
    # the row's representative is a dock of it that no vertical split holds: d is sized, and a
    assert calls[0] == (("a", "d"), (450, 150), VERTICAL)
    assert calls[1] == (("a", "b"), (250, 750), HORIZONTAL)
    assert asked == [("d", VERTICAL, 1000)]
    # a panel asking for more than its share keeps the others two thirds of the room
    assert sizes(tree, 1000, 600, lambda *_: 5000)[0][1] == (200, 400)


def test_unknown_workspace_names_the_ones_there_are():
    with pytest.raises(KeyError) as info:
        workspace("lecture")
    assert "explore" in str(info.value) and "focus" in str(info.value)


# -- windows --------------------------------------------------------------------------------------
def _settings(folder, name="w.ini") -> QSettings:
    return QSettings(str(folder / name), QSettings.Format.IniFormat)


def _window(qtbot, settings, size=(1280, 720), session=None, *, remember=True) -> MainWindow:
    if session is None:
        session = Session(sample("camera").image(256), ConvSpec(in_channels=1, kernel_size=3), SOBEL_X[None, None])
    window = MainWindow(session, settings=settings, remember_layout=remember)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        window.resize(*size)
        window.show()
    _settle()
    return window


def _settle() -> None:
    for _ in range(4):  # layout requests post further ones
        QApplication.processEvents()


def _visible(window: MainWindow) -> set[str]:
    return {key for key, dock in window.docks.items() if dock.isVisible()}


def _assert_fits(window: MainWindow, size: tuple[int, int], what: str) -> None:
    """The window kept its size, and nothing inside needs more than it has."""
    assert window.size() == QSize(*size), what
    needed = window.layout().minimumSize()
    assert needed.width() <= size[0] and needed.height() <= size[1], (what, needed.toTuple())
    for key in window.docks:
        dock = window.docks[key]
        if dock.isVisible() and not dock.visibleRegion().isEmpty():  # shown, its tab in front
            assert dock.width() >= 150 and dock.height() >= 100, (what, key, dock.size().toTuple())


def _assert_one_tab_bar_per_tab_group(window: MainWindow, what: str) -> None:
    """No tab bar of an earlier arrangement left on screen over the panels."""
    from PySide6.QtWidgets import QTabBar

    shown = sorted(sorted(bar.tabText(i) for i in range(bar.count()))
                   for bar in window.findChildren(QTabBar)
                   if bar.parentWidget() is window and bar.isVisible() and bar.geometry().intersects(window.rect()))
    groups = sorted(sorted(dock.windowTitle() for dock in group) for group in window.tab_groups())
    assert shown == groups, what


def _rgb_with_eight_5x5_filters(window: MainWindow, qtbot) -> None:
    session = window.session
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        window.input_panel.load_sample(sample("chelsea"))
    spec = session.spec.replace(in_channels=3, out_channels=8, kernel_size=5)
    weight = np.random.default_rng(0).normal(size=(8, 3, 5, 5))
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        session.set_kernel(spec, weight, np.linspace(-1, 1, 8))
    _settle()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", WORKSPACE_NAMES)
def test_each_workspace_keeps_its_size_for_every_sample(qtbot, temporary_settings, name, size):
    window = _window(qtbot, _settings(temporary_settings), size, remember=False)
    window.set_workspace(name)
    _settle()
    assert window.workspace == name and _visible(window) == set(workspace(name).shown)
    _assert_fits(window, size, f"{name} on opening")
    for item in SAMPLES:
        with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
            assert window.input_panel.load_sample(item) == ""
        _settle()
        _assert_fits(window, size, f"{name}, {item.key}")
    _rgb_with_eight_5x5_filters(window, qtbot)
    assert window.results.output.shape[0] == 8
    _assert_fits(window, size, f"{name}, RGB with 8x3x5x5")
    window.close()


def test_switching_workspaces_and_zooming_the_text_never_resize_the_window(qtbot, temporary_settings):
    from convplay.qt.zoom import text_zoom

    window = _window(qtbot, _settings(temporary_settings), (1024, 640), remember=False)
    _rgb_with_eight_5x5_filters(window, qtbot)
    try:
        for name in (*WORKSPACE_NAMES, *reversed(WORKSPACE_NAMES)):
            window.set_workspace(name)
            _settle()
            _assert_fits(window, (1024, 640), name)
            _assert_one_tab_bar_per_tab_group(window, name)
        text_zoom().set_factor(1.5)
        _settle()
        assert window.size() == QSize(1024, 640)
    finally:
        text_zoom().reset()
    window.close()


def test_the_window_can_be_made_as_small_as_its_minimum(qtbot, temporary_settings):
    window = _window(qtbot, _settings(temporary_settings), (1280, 720), remember=False)
    window.resize(*MIN_WINDOW_SIZE)
    _settle()
    assert window.size() == QSize(*MIN_WINDOW_SIZE)
    window.close()


@pytest.mark.parametrize("size, least", [((1280, 720), 320), ((1024, 640), 250)], ids=["1280x720", "1024x640"])
def test_the_input_canvas_is_big_enough_to_draw_on_in_explore(qtbot, temporary_settings, size, least):
    window = _window(qtbot, _settings(temporary_settings), size, remember=False)
    canvas = window.input_panel.canvas
    assert window.workspace == "explore"
    assert canvas.width() >= least and canvas.height() >= least, canvas.size().toTuple()
    # a tutorial matrix shows its table of values too; the canvas stays a drawing surface
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        window.input_panel.load_sample(sample("tutorial_x"))
    _settle()
    assert window.input_panel.views.isTabVisible(1) and canvas.isVisible()  # its table a tab away
    assert min(canvas.width(), canvas.height()) >= least * 0.85, canvas.size().toTuple()
    window.close()


@pytest.mark.parametrize("spec", [
    ConvSpec(in_channels=1, kernel_size=3),
    ConvSpec(in_channels=1, out_channels=4, kernel_size=5, stride=2, padding=1, dilation=2),  # floor notes
    ConvSpec(in_channels=1, kernel_size=3, stride=2, transposed=True, output_padding=1),
], ids=["plain", "strided", "transposed"])
def test_the_formula_is_read_whole_in_its_workspace_at_1280x720(qtbot, temporary_settings, spec):
    weight = np.ones(spec.weight_shape)
    session = Session(sample("camera").image(256), spec, weight)
    window = _window(qtbot, _settings(temporary_settings), (1280, 720), session, remember=False)
    window.set_workspace("formula")
    qtbot.waitUntil(lambda: window.formula_panel.formula_view.height() > 100, timeout=5_000)
    _settle()
    view = window.formula_panel.formula_view
    assert view.verticalScrollBar().maximum() == 0, (view.height(), window.formula_panel.formula_height())
    assert not view.horizontalScrollBar().isVisible()
    assert window.formula_panel.code_view.height() >= 120  # and the code beside it to read
    window.close()


def test_the_focus_view_goes_back_to_the_workspace_before_it(qtbot, temporary_settings):
    window = _window(qtbot, _settings(temporary_settings), remember=False)
    window.set_workspace("sliding")
    window.actions_by_id["focus"].trigger()
    assert window.in_focus and _visible(window) == {"animation"}
    assert window.focus_action.isChecked() and not window.workspace_actions["sliding"].isChecked()
    window.actions_by_id["focus"].trigger()  # again to leave
    assert window.workspace == "sliding" and window.workspace_actions["sliding"].isChecked()
    assert _visible(window) == set(workspace("sliding").shown)
    window.set_focus_mode(True)
    window.actions_by_id["workspace_formula"].trigger()  # another workspace leaves it too
    assert window.workspace == "formula" and not window.focus_action.isChecked()
    window.close()


def test_one_workspace_row_is_checked_and_choosing_it_again_keeps_it(qtbot, temporary_settings):
    window = _window(qtbot, _settings(temporary_settings), remember=False)
    checked = lambda: [name for name, a in window.workspace_actions.items() if a.isChecked()]  # noqa: E731
    assert checked() == ["explore"]
    window.docks["kernel"].hide()  # the user's own arrangement
    window.actions_by_id["workspace_explore"].trigger()
    assert checked() == ["explore"] and not window.docks["kernel"].isVisible()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    titles = [a.text() for a in view_menu.actions()]
    for ws in WORKSPACES:
        assert ws.title in titles
    keys = dict(window.shortcut_table())
    assert keys["Explore"] == "Ctrl+1" and keys["Formula and code"] == "Ctrl+3"
    assert keys["Focus on the sliding window"] == "Ctrl+4, Ctrl+Shift+F"
    window.close()


def test_each_workspace_comes_back_as_it_was_left_and_reset_restores_its_default(qtbot, temporary_settings):
    window = _window(qtbot, _settings(temporary_settings), remember=False)
    window.docks["kernel"].hide()
    window.set_workspace("formula")
    assert window.docks["formula"].isVisible()
    window.set_workspace("explore")
    assert not window.docks["kernel"].isVisible()  # as the user left it
    window.reset_layout()
    assert _visible(window) == set(workspace("explore").shown)
    window.close()


def test_the_last_workspace_and_its_arrangement_are_restored_at_the_next_start(qtbot, temporary_settings):
    first = _window(qtbot, _settings(temporary_settings))
    assert first.workspace == "explore"
    first.set_workspace("sliding")
    first.docks["kernel"].hide()
    first.close()

    second = _window(qtbot, _settings(temporary_settings))
    assert second.workspace == "sliding" and second.workspace_actions["sliding"].isChecked()
    assert _visible(second) == {"animation", "params"}  # the kernel stays hidden, as left
    second.set_workspace("explore")
    assert _visible(second) == set(workspace("explore").shown)
    second.set_focus_mode(True)
    second.close()

    third = _window(qtbot, _settings(temporary_settings))
    assert third.in_focus and _visible(third) == {"animation"}
    third.set_focus_mode(False)  # back to the workspace it was entered from
    assert third.workspace == "explore"
    third.close()


def test_nonsense_in_the_settings_opens_explore(qtbot, temporary_settings):
    settings = _settings(temporary_settings)
    settings.setValue("window/workspace", "lecture-hall")
    settings.setValue("window/workspace-state/explore", "not a state")
    settings.setValue("window/state", b"\x00\x01")  # the layout before workspaces: not read
    settings.sync()
    window = _window(qtbot, _settings(temporary_settings))
    assert window.workspace == "explore" and _visible(window) == set(workspace("explore").shown)
    window.close()


# -- the kernel workbench -------------------------------------------------------------------------
def test_a_fit_within_a_band_keeps_between_its_least_and_its_most():
    from convplay.qt.workspaces import FitWithin

    tree = Split(HORIZONTAL, (Tabs("a"), FitWithin(0.25, 0.3)), (Tabs("b"), 1.0))
    assert sizes(tree, 1000, 600, lambda *_: 5000)[0][1] == (300, 700)  # a 15x15 grid asks much
    assert sizes(tree, 1000, 600, lambda *_: 100)[0][1] == (250, 750)
    assert sizes(tree, 1000, 600, lambda *_: 280)[0][1] == (280, 720)


def _clipped_buttons(panel) -> list[str]:
    """Buttons narrower than their text needs, or out of the dock's view sideways."""
    from PySide6.QtWidgets import QPushButton

    viewport = panel.parentWidget()
    cut = [b.text() for b in panel.findChildren(QPushButton) if b.isVisibleTo(panel) and b.width() < b.sizeHint().width()]
    if panel.width() > viewport.width():
        cut.append(f"the panel is {panel.width()} px in a {viewport.width()} px dock")
    return cut


def _kernel_of_size(window: MainWindow, qtbot, k: int) -> None:
    # A smooth pair's small weights print wide ("-0.00132"): the widest grid of a kernel.
    session = window.session
    weight = -np.random.default_rng(k).uniform(1e-4, 2e-3, size=(2, 1, k, k))
    with qtbot.waitSignal(window.results.outcome_changed, timeout=60_000):
        session.set_kernel(session.spec.replace(kernel_size=k, out_channels=2), weight, np.zeros(2))
    _settle()


@pytest.mark.parametrize("k", (3, 7, 15))
def test_the_workbenchs_columns_do_not_follow_the_kernel(qtbot, temporary_settings, k):
    window = _window(qtbot, _settings(temporary_settings), remember=False)
    _kernel_of_size(window, qtbot, k)
    window.set_workspace("workbench")  # laid out with the kernel there, as at start-up
    _settle()
    left = window.docks["kernel"].width()
    assert 300 <= left <= 400 and window.docks["designer"].width() == left, left
    response, output = window.docks["response"], window.docks["output"]
    assert response.width() >= 450 and response.height() >= 230, response.size().toTuple()
    # the output (a pair's two channels under the picture) has the height more than the response
    assert output.height() >= response.height() + 40, (output.height(), response.height())
    assert not _clipped_buttons(window.kernel_panel)
    _assert_fits(window, (1280, 720), f"workbench with a {k}x{k} kernel")


@pytest.mark.parametrize("name", ("explore", "sliding", "workbench"))
def test_the_kernel_panels_buttons_are_never_cut(qtbot, temporary_settings, name):
    # The small heat map beside a 3x3 grid once widened the panel past its dock: "Fli", "Cl".
    window = _window(qtbot, _settings(temporary_settings), remember=False)
    window.set_workspace(name)
    _settle()
    panel = window.kernel_panel
    qtbot.waitUntil(lambda: not _clipped_buttons(panel), timeout=2000)


@pytest.mark.parametrize("case", ("1024x640", "zoom 130 %", "1024x640 at 150 %"))
def test_the_workbench_in_a_small_window_or_at_a_large_zoom_cuts_no_button(qtbot, temporary_settings, case):
    from convplay.qt.zoom import text_zoom

    size = (1024, 640) if case.startswith("1024x640") else (1280, 720)
    window = _window(qtbot, _settings(temporary_settings), size, remember=False)
    _kernel_of_size(window, qtbot, 7)
    window.set_workspace("workbench")
    zoom = {"zoom 130 %": 1.3, "1024x640 at 150 %": 1.5}.get(case)
    if zoom:
        text_zoom().set_factor(zoom)
    _settle()
    panel = window.kernel_panel
    qtbot.waitUntil(lambda: not _clipped_buttons(panel), timeout=2000)
    if case != "1024x640 at 150 %":  # there the room is short for every panel: only no cut button
        response = window.docks["response"]
        assert response.width() >= 0.45 * size[0] and response.height() >= 200, response.size().toTuple()
        _assert_fits(window, size, case)


def test_parameters_brought_into_the_workbench_are_a_tab_beside_the_numbers(qtbot, temporary_settings):
    window = _window(qtbot, _settings(temporary_settings), remember=False)
    window.set_workspace("workbench")
    _settle()
    window.docks["params"].toggleViewAction().trigger()  # View > Panels > Parameters
    _settle()
    params = window.docks["params"]
    params.raise_()  # its tab in front
    _settle()
    assert params.isVisible() and not params.isFloating()
    assert params in window.tabifiedDockWidgets(window.docks["analysis"])
    assert params.width() >= 250 and params.height() >= 400, params.size().toTuple()
