from __future__ import annotations

import threading
import time

from wavekit.service.periodic import PeriodicTask


def test_runs_repeatedly_survives_failures_and_stops() -> None:
    calls: list[int] = []
    third = threading.Event()

    def action() -> int:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("one bad run")
        if len(calls) >= 3:
            third.set()
        return len(calls)

    task = PeriodicTask("test-task", 0.01, action)
    task.start()
    assert third.wait(5), "the task stopped after a failing run"
    task.stop()
    stopped_at = len(calls)
    assert task.last_result is not None
    assert task.last_result >= 3
    quiet_from = time.monotonic()
    time.sleep(20 * task.interval_s)  # several intervals: a task still running would run again
    assert time.monotonic() - quiet_from >= 20 * task.interval_s
    assert len(calls) == stopped_at  # no run after stop
