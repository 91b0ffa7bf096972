"""The job worker: takes request ids from the queue and makes their files.

Locally it runs as threads inside ``wavekit serve``; on AWS the SQS-triggered Lambda
calls :meth:`JobService.process` for each message of its batch instead.
"""

from __future__ import annotations

import logging
import threading
import time

from wavekit.service.jobs import JobService

log = logging.getLogger(__name__)


class Worker:
    """``threads`` daemon threads long-polling the queue until :meth:`stop`."""

    def __init__(self, service: JobService, threads: int = 2, poll_s: float = 1.0) -> None:
        self.service = service
        self.threads = threads
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def run_once(self, max_messages: int = 1, wait_s: float = 0.0) -> int:
        """Process what is available now; return how many messages were handled."""
        messages = self.service.queue.receive(max_messages, wait_s)
        for message in messages:
            self.service.process(message)
        return len(messages)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once(max_messages=10, wait_s=self.poll_s)
            except Exception:  # keep the thread alive; the message comes back later
                log.exception("worker loop error")
                self._stop.wait(self.poll_s)

    def start(self) -> None:
        for i in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"wavekit-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking messages; wait up to ``timeout`` in all for jobs in hand (a job
        cut short is re-delivered: its message was not acked)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
