"""Panels that follow an edit redraw after its output, at most a frame later, each once."""

import time

import numpy as np

from convplay.qt.output_first import OUTPUT_FIRST, OutputFirst


def test_redraws_run_at_once_unless_held(qtbot):
    first, ran = OutputFirst(), []
    first.run(lambda: ran.append("now"))
    assert ran == ["now"] and not first.pending


def test_held_redraws_run_once_each_in_order_on_release(qtbot):
    first, ran = OutputFirst(), []

    def a():
        ran.append("a")

    def b():
        ran.append("b")

    first.hold()
    for refresh in (a, b, a, b, a):
        first.run(refresh)
    assert ran == [] and first.pending
    first.release()
    assert ran == ["a", "b"] and not first.pending and not first.held


def test_a_hold_ends_by_itself_after_a_frame(qtbot):
    first, ran = OutputFirst(), []
    first.hold(max_ms=10)
    first.run(lambda: ran.append(1))
    qtbot.waitUntil(lambda: ran == [1], timeout=1000)  # the frame's timer released it
    first.hold(max_ms=1)
    first.run(lambda: ran.append(2))
    time.sleep(0.005)  # no event loop ran: the next request finds the hold over
    first.run(lambda: ran.append(3))
    assert ran == [1, 2, 3]


def test_a_discarded_redraw_never_runs(qtbot):
    first, ran = OutputFirst(), []

    def gone():
        ran.append("gone")

    first.hold()
    first.run(gone)
    first.discard(gone)
    first.release()
    assert ran == []


def test_in_the_window_the_panels_held_for_an_edit_show_it_once_its_output_is_in(qtbot, temporary_settings):
    from PySide6.QtCore import QSettings

    from convplay.core.session import Session
    from convplay.core.spec import ConvSpec
    from convplay.qt.main_window import MainWindow

    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=1, out_channels=2, kernel_size=3, padding=1)
    session = Session(rng.random((1, 24, 20)), spec, rng.normal(size=spec.weight_shape))
    window = MainWindow(session, settings=QSettings(str(temporary_settings / "t.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        window.resize(1200, 800)
        window.show()
    panel = window.kernel_panel
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        session.set_spec(spec.replace(kernel_size=5, padding=2))
    qtbot.waitUntil(lambda: not OUTPUT_FIRST.pending, timeout=1000)
    assert (panel.kh_spin.value(), panel.kw_spin.value()) == (5, 5)
    before = window.formula_panel.formula_view.toPlainText()
    with qtbot.waitSignal(window.output_shown, timeout=60_000):
        session.set_spec(spec.replace(kernel_size=5, padding=0))  # 24x20 -> 20x16
    qtbot.waitUntil(lambda: not OUTPUT_FIRST.pending, timeout=1000)
    text = window.formula_panel.formula_view.toPlainText()
    assert text != before and "20" in text and "16" in text
