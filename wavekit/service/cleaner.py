"""The cleaner: expires old files and deletes blobs no live job needs.

Runs on a schedule inside ``wavekit serve`` (a thread), once with ``wavekit clean``,
and on AWS as an EventBridge-scheduled Lambda.
"""

from __future__ import annotations

import logging
import threading

from wavekit.service.jobs import CleanReport, JobService

log = logging.getLogger(__name__)


class CleanerThread:
    """Calls :meth:`JobService.clean` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, service: JobService, interval_s: float) -> None:
        self.service = service
        self.interval_s = interval_s
        self.last_report: CleanReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wavekit-cleaner", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.last_report = self.service.clean()
                log.info("cleaner: %s", self.last_report)
            except Exception:
                log.exception("cleaner run failed; trying again next interval")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
