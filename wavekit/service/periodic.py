"""A daemon thread that runs one action every ``interval_s`` seconds until stopped.

The local stand-in for an EventBridge schedule (cleaner, leaderboard refresh): a failed
run is logged and the next interval tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class PeriodicTask(Generic[T]):
    """Call ``action`` every ``interval_s`` (first call after one interval)."""

    def __init__(self, name: str, interval_s: float, action: Callable[[], T]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.action = action
        self.last_result: T | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.last_result = self.action()
                log.info("%s: %s", self.name, self.last_result)
            except Exception:
                log.exception("%s failed; trying again next interval", self.name)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
