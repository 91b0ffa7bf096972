"""The cleaner: expires old files, deletes blobs no live job needs, and (on AWS) fails
the jobs whose message was dead-lettered.

The rules are :meth:`JobService.clean`, :meth:`JobService.fail_dead_lettered` and
:meth:`JobService.requeue_lost`; this runs them on a schedule inside ``wavekit serve``
(``wavekit clean`` runs them once, and on AWS an EventBridge-scheduled Lambda does,
draining the dead-letter queue with :func:`drain_dead_letters` first).
"""

from __future__ import annotations

import logging
from typing import Protocol

from wavekit.ports import QueueMessage
from wavekit.service.jobs import CleanReport, JobService
from wavekit.service.periodic import PeriodicTask

log = logging.getLogger(__name__)

DEAD_LETTER_REASON = (
    "dead-lettered: the worker was given this job as many times as the queue allows and "
    "never finished it (killed by its time limit or out of memory, or crashed)"
)
MAX_DEAD_LETTER_BATCHES = 100
"""At most this many receives per run (1,000 messages); the next run drains the rest."""


class DeadLetters(Protocol):
    """Where the job messages no worker could finish end up (the SQS DLQ on AWS)."""

    def receive(self, max_messages: int = 10) -> list[QueueMessage]:
        """Dead letters (``request_id`` empty when the body could not be read)."""

    def ack(self, message: QueueMessage) -> None:
        """Delete a dead letter once its job has been dealt with."""


def drain_dead_letters(service: JobService, dead_letters: DeadLetters) -> list[str]:
    """Fail the job of every dead letter, then delete the letter; return the failed ids.

    A letter is deleted only after its job was marked failed (or was found finished), so
    a run that dies half-way leaves the rest for the next one; failing twice is a no-op.
    """
    failed: list[str] = []
    for _ in range(MAX_DEAD_LETTER_BATCHES):
        letters = dead_letters.receive(10)
        if not letters:
            break
        for letter in letters:
            if letter.request_id:
                if service.fail_dead_lettered(letter.request_id, DEAD_LETTER_REASON):
                    failed.append(letter.request_id)
            else:
                log.error("dropping a malformed dead letter")
            dead_letters.ack(letter)
    return failed


class CleanerThread(PeriodicTask[CleanReport]):
    """:meth:`JobService.clean` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, service: JobService, interval_s: float) -> None:
        super().__init__("wavekit-cleaner", interval_s, service.clean)
