"""The cleaner: expires old files and deletes blobs no live job needs.

The rules are :meth:`JobService.clean`; this runs them on a schedule inside
``wavekit serve`` (``wavekit clean`` runs them once, and on AWS an EventBridge-scheduled
Lambda does).
"""

from __future__ import annotations

from wavekit.service.jobs import CleanReport, JobService
from wavekit.service.periodic import PeriodicTask


class CleanerThread(PeriodicTask[CleanReport]):
    """:meth:`JobService.clean` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, service: JobService, interval_s: float) -> None:
        super().__init__("wavekit-cleaner", interval_s, service.clean)
