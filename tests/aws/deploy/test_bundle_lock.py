"""Two builds in one build directory take turns (two deploys, or parallel test workers,
would otherwise delete each other's half-made files); fast, no pip."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from wavekit.deploy.bundle import _exclusive


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / "build" / "api-arm64.lock"
    order: list[str] = []
    first_inside = threading.Event()

    def first() -> None:
        with _exclusive(lock):
            order.append("first in")
            first_inside.set()
            time.sleep(0.3)
            order.append("first out")

    def second() -> None:
        first_inside.wait(5)
        with _exclusive(lock):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first in", "first out", "second in"]
