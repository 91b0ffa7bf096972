"""Debounce timing without widgets: the Debouncer and the schedulers it runs on."""

from __future__ import annotations

import asyncio
import threading

import pytest

from wavekit.studio.timing import Debouncer, EventLoopScheduler, ManualScheduler


def test_debouncer_leading_trailing_flush_and_cancel() -> None:
    clock = ManualScheduler()
    runs: list[float] = []
    debounce = Debouncer(lambda: runs.append(clock.now()), wait=0.1, scheduler=clock)
    debounce()
    assert runs == [0.0]
    clock.advance(0.05)
    debounce()
    clock.advance(0.05)
    debounce()
    assert debounce.pending
    clock.advance(0.09)
    assert runs == [0.0]
    clock.advance(0.01)
    assert runs == [0.0, pytest.approx(0.2)]
    assert not debounce.pending
    clock.advance(1.0)
    debounce()  # quiet again: leading
    assert len(runs) == 3
    debounce()
    assert debounce.flush()
    assert len(runs) == 4
    assert not debounce.flush()
    debounce()
    debounce.cancel()
    clock.advance(1.0)
    assert len(runs) == 4
    assert clock.pending == 0


def test_debouncer_max_wait_caps_the_delay() -> None:
    clock = ManualScheduler()
    runs: list[float] = []
    debounce = Debouncer(
        lambda: runs.append(clock.now()), wait=0.125, scheduler=clock, leading=False, max_wait=0.25
    )
    for _ in range(20):  # binary fractions: the clock adds up exactly
        debounce()
        clock.advance(0.0625)
    # Each run covers the calls since the previous one; the next burst starts right after.
    assert runs[:3] == pytest.approx([0.25, 0.5, 0.75])


def test_without_an_event_loop_timers_run_on_threads() -> None:
    done = threading.Event()
    debounce = Debouncer(done.set, wait=0.01, scheduler=EventLoopScheduler(), leading=False)
    debounce()
    assert done.wait(timeout=10)


def test_timers_run_on_the_loop_of_the_thread_that_handled_the_edit() -> None:
    # JupyterLab 4 + ipykernel 7 deliver widget messages on a subshell thread running
    # its own asyncio loop. The trailing render must be scheduled on that loop: a timer
    # put on another thread's loop does not wake it, and the render would wait for the
    # next message. Here nothing else ever wakes the thread's loop.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ran_on: list[threading.Thread] = []
    done = threading.Event()

    def render() -> None:
        ran_on.append(threading.current_thread())
        done.set()

    debounce = Debouncer(render, wait=0.01, scheduler=EventLoopScheduler(), leading=False)
    try:
        loop.call_soon_threadsafe(debounce)
        assert done.wait(timeout=10)
        assert ran_on == [thread]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_manual_scheduler_runs_calls_in_time_order() -> None:
    clock = ManualScheduler()
    order: list[str] = []
    clock.call_later(0.2, lambda: order.append("b"))

    def first() -> None:
        order.append("a")
        clock.call_later(0.05, lambda: order.append("a2"))  # scheduled by a call: runs too

    clock.call_later(0.1, first)
    cancelled = clock.call_later(0.12, lambda: order.append("never"))
    cancelled.cancel()
    assert clock.advance(0.3) == 3
    assert order == ["a", "a2", "b"]
    assert clock.now() == pytest.approx(0.3)
