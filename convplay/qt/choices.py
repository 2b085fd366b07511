"""Choices that last only as long as the window (a ``--screenshot`` or ``--export`` run
remembers nothing): the two calls of QSettings the panels use, over a dict."""

from __future__ import annotations


class WindowChoices:
    def __init__(self) -> None:
        self._values: dict[str, object] = {}

    def value(self, key: str, default=None):
        return self._values.get(key, default)

    def setValue(self, key: str, value) -> None:  # noqa: N802 - QSettings' name
        self._values[key] = value
