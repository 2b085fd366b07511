"""Does the UI thread keep ticking while big convolutions are edited?  Gaps of a 16 ms timer.

Through the real window, a 1024x1024 RGB input convolved to 64 channels (3x3, padding 1:
a 256 MiB output per call) gets ``--edits`` kernel edits, one every 100 ms, with each
tab in front in turn: the Output, the Sliding window, the Device panel (behind Formula
by default), and the Sliding window with the Device panel.  A 16 ms QTimer runs in the app's own event loop throughout; every
interval between its ticks is recorded, from the first edit until PyTorch and the
reference (when the sliding window wants it) have both answered the last one.  A gap
over 50 ms is a stall the user would feel.

Printed per tab: the largest and the 99th-percentile tick interval, the ticks counted,
and how many PyTorch results and reference comparisons arrived.  The last line is one
JSON object with ``max_gap_ms_<tab>`` for each tab and ``max_gap_ms`` over all.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/timer_gaps.py [--size 1024 --out 64]
(the Session is built directly, so ``--size 2048 --out 16`` or ``--out 64`` runs whatever
the window's working-size cap; at 2048 x 64 pass ``--edits 2``: each edit takes seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from convplay.compute.allocator import apply_thread_policy, tune_allocator

tune_allocator()  # as the app does, before any large allocation
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from convplay.core.session import Session  # noqa: E402
from convplay.core.spec import ConvSpec  # noqa: E402
from convplay.qt.main_window import MainWindow  # noqa: E402
from convplay.qt.workers import apply_thread_switch_policy  # noqa: E402

apply_thread_switch_policy()

TICK_MS = 16
EDIT_EVERY_MS = 100
STALL_MS = 50
# The docks brought to the front for each round (the middle column, the right column).
TABS = {
    "output": ("output", "formula"),
    "sliding_window": ("animation", "formula"),
    "device": ("output", "device"),
    "sliding_window_and_device": ("animation", "device"),
}


def run_until(done, timeout_s: float) -> None:
    """The app's own event loop, until ``done()`` (checked every tick)."""
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(TICK_MS)
    check.timeout.connect(lambda: done() and loop.quit())
    check.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    check.stop()
    if not done():
        raise TimeoutError("the window did not finish the edits in time")


def gaps_with_tab(app: QApplication, window: MainWindow, session: Session, tab: str, edits: int) -> dict:
    for key in TABS[tab]:
        window.docks[key].raise_()
    app.processEvents()
    results = window.results
    run_until(lambda: not results.busy and (not results.reference_wanted or results.reference is not None), 600)
    outcomes, references = [0], [0]
    count_outcome = lambda _o: outcomes.__setitem__(0, outcomes[0] + 1)  # noqa: E731
    count_reference = lambda: references.__setitem__(0, references[0] + (results.reference is not None))  # noqa: E731
    results.outcome_changed.connect(count_outcome)
    results.reference_changed.connect(count_reference)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    sent = [0]

    def edit() -> None:
        if sent[0] < edits:
            sent[0] += 1
            session.set_weight(session.weight * (1.0 + 1e-3 * (-1) ** sent[0]))

    editor = QTimer()
    editor.setInterval(EDIT_EVERY_MS)
    editor.timeout.connect(edit)
    timer.start()
    editor.start()
    edit()

    def finished() -> bool:
        answered = not results.busy and results.fresh
        compared = not results.reference_wanted or results.reference is not None
        return sent[0] >= edits and answered and compared

    run_until(finished, 600)
    timer.stop()
    editor.stop()
    results.outcome_changed.disconnect(count_outcome)
    results.reference_changed.disconnect(count_reference)
    intervals = np.diff(ticks) * 1e3 if len(ticks) > 1 else np.zeros(1)
    return {
        "max_gap_ms": round(float(intervals.max()), 1),
        "p99_gap_ms": round(float(np.percentile(intervals, 99)), 1),
        "ticks": len(ticks),
        "results": outcomes[0],
        "references": references[0],
        "stalls": int(np.count_nonzero(intervals > STALL_MS)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="input side (default 1024)")
    parser.add_argument("--out", type=int, default=64, help="output channels (default 64)")
    parser.add_argument("--edits", type=int, default=10, help="edits per tab (default 10)")
    args = parser.parse_args()
    threads = apply_thread_policy()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    rng = np.random.default_rng(0)
    spec = ConvSpec(in_channels=3, out_channels=args.out, kernel_size=3, padding=1)
    session = Session(rng.random((3, args.size, args.size)), spec, rng.normal(size=spec.weight_shape))
    figures: dict[str, object] = {"size": args.size, "out_channels": args.out, "torch_threads": threads,
                                  "load_average_1min": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "gaps.ini"), QSettings.Format.IniFormat)
        window = MainWindow(session, settings=settings, remember_layout=False)
        window.resize(1280, 720)
        window.show()
        run_until(lambda: window.results.fresh, 600)
        worst = 0.0
        for tab in TABS:
            measured = gaps_with_tab(app, window, session, tab, args.edits)
            print(f"{tab:26s} max gap {measured['max_gap_ms']:7.1f} ms, p99 {measured['p99_gap_ms']:6.1f} ms, "
                  f"{measured['stalls']} gaps over {STALL_MS} ms in {measured['ticks']} ticks; "
                  f"{measured['results']} results, {measured['references']} reference comparisons")
            figures[f"max_gap_ms_{tab}"] = measured["max_gap_ms"]
            figures[f"p99_gap_ms_{tab}"] = measured["p99_gap_ms"]
            figures[f"references_{tab}"] = measured["references"]
            worst = max(worst, measured["max_gap_ms"])
        figures["max_gap_ms"] = worst
        window.close()
    figures["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
