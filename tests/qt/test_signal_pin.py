"""PySide6 6.12.0 on CPython 3.11 corrupts reference counts on every Signal.emit and aborts
after a few hundred emits (DESIGN.md).  The pin in pyproject.toml keeps it away; this
test fails (the process dies) if a bad version slips in."""

from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    fired = Signal(bool)
    ping = Signal()


def test_100000_signals_survive():
    emitter = Emitter()
    seen = {"fired": 0, "ping": 0, "true": 0}

    def on_fired(value: bool) -> None:
        seen["fired"] += 1
        seen["true"] += value is True

    def on_ping() -> None:
        seen["ping"] += 1

    emitter.fired.connect(on_fired)
    emitter.ping.connect(on_ping)
    for i in range(50_000):
        emitter.fired.emit(i % 2 == 0)
        emitter.ping.emit()
    assert seen == {"fired": 50_000, "ping": 50_000, "true": 25_000}
