"""Debounce timing: when an edit becomes a render.

A :class:`Debouncer` collapses a burst of edits into few runs that always read the
latest state. Time comes from a :class:`Scheduler`: in a kernel, timers go to the
asyncio loop of the thread that handled the widget message
(:class:`EventLoopScheduler`); in plain Python, to timer threads
(:class:`ThreadScheduler`); in tests and benchmarks, to a :class:`ManualScheduler`
whose clock moves only when told. Nothing here knows about widgets.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "DEBOUNCE_S",
    "MAX_WAIT_S",
    "PLOT_DELAY_S",
    "Cancellable",
    "Debouncer",
    "EventLoopScheduler",
    "ManualScheduler",
    "Scheduler",
    "ThreadScheduler",
    "default_scheduler",
]

DEBOUNCE_S = 0.08
"""Quiet period (s) that separates edits."""
MAX_WAIT_S = 0.3
"""Longest delay (s) of the audio during a continuous drag."""
PLOT_DELAY_S = 0.05
"""Delay (s) between a render and its plots (a newer edit cancels them)."""


class Cancellable(Protocol):
    """A scheduled call that can still be called off (a timer, an asyncio handle)."""

    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """A clock and delayed calls: where debounced work runs. Injected so tests own time."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


class ThreadScheduler:
    """Delayed calls on timer threads, for plain Python where no event loop runs."""

    def now(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        timer = threading.Timer(delay, callback)
        timer.daemon = True
        timer.start()
        return timer


class EventLoopScheduler(ThreadScheduler):
    """Delayed calls on the asyncio loop of the thread that asks; timer threads otherwise.

    In a Jupyter kernel, widget messages are handled on a running asyncio loop, but
    not always the main one: with JupyterLab 4 and ipykernel 7 they arrive on a
    *subshell* thread with its own loop. A timer must go to the loop of the thread that
    handled the edit: ``call_later`` on another thread's loop does not wake it, and the
    trailing render would wait for the next message. Callbacks then run on that same
    thread, between that thread's messages.
    """

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return super().call_later(delay, callback)
        # asyncio's clock is time.monotonic, like now(); the handle cancels from this thread.
        return loop.call_later(delay, callback)


class _ManualCall:
    def __init__(self, when: float, order: int, callback: Callable[[], None]) -> None:
        self.when = when
        self.order = order
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """A scheduler whose clock moves only in :meth:`advance`: deterministic tests.

    Examples
    --------
    >>> clock = ManualScheduler()
    >>> fired = []
    >>> _ = clock.call_later(0.1, lambda: fired.append(clock.now()))
    >>> clock.advance(0.05), fired
    (0, [])
    >>> clock.advance(0.05), fired
    (1, [0.1])
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._calls: list[_ManualCall] = []
        self._order = 0

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        self._order += 1
        call = _ManualCall(self._now + max(0.0, delay), self._order, callback)
        self._calls.append(call)
        return call

    @property
    def pending(self) -> int:
        """Calls scheduled and not yet run or cancelled."""
        return sum(not c.cancelled for c in self._calls)

    def advance(self, seconds: float = 0.0) -> int:
        """Move the clock forward, running every call that falls due, in time order.

        Calls scheduled by those calls run too if they fall due before the new time.
        Returns how many calls ran.
        """
        target = self._now + seconds
        ran = 0
        while True:
            self._calls = [c for c in self._calls if not c.cancelled]
            due = [c for c in self._calls if c.when <= target]
            if not due:
                break
            call = min(due, key=lambda c: (c.when, c.order))
            self._calls.remove(call)
            self._now = max(self._now, call.when)
            call.callback()
            ran += 1
        self._now = target
        return ran


def default_scheduler() -> Scheduler:
    """The scheduler a studio uses unless told otherwise: :class:`EventLoopScheduler`."""
    return EventLoopScheduler()


class Debouncer:
    """Collapse a burst of calls into few runs of ``callback``, always with the latest state.

    A call after ``wait`` seconds of quiet runs at once when ``leading`` (an isolated
    edit is heard immediately). Calls within ``wait`` of the previous one schedule a
    single trailing run ``wait`` after the last of them, or at most ``max_wait`` after
    the first unrendered call, so a long drag still updates now and then. The callback
    reads the current state when it runs, so it never renders a stale value.

    Parameters
    ----------
    callback
        The work; it takes no arguments.
    wait
        Quiet period in seconds.
    scheduler
        Clock and timer.
    leading
        Run the first call of a burst at once.
    max_wait
        Longest delay of a trailing run after the first call it covers (``None``: no cap).
    """

    def __init__(
        self,
        callback: Callable[[], None],
        *,
        wait: float,
        scheduler: Scheduler,
        leading: bool = True,
        max_wait: float | None = None,
    ) -> None:
        self.callback = callback
        self.wait = wait
        self.leading = leading
        self.max_wait = max_wait
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._handle: Cancellable | None = None
        self._last_call: float | None = None
        self._burst_start: float | None = None

    @property
    def pending(self) -> bool:
        """Whether a trailing run is scheduled."""
        return self._handle is not None

    def __call__(self) -> None:
        """Note that the state changed."""
        with self._lock:
            now = self.scheduler.now()
            quiet = self._last_call is None or now - self._last_call >= self.wait
            self._last_call = now
            run_now = self.leading and quiet and self._handle is None
            if not run_now:
                if self._burst_start is None:
                    self._burst_start = now
                deadline = now + self.wait
                if self.max_wait is not None:
                    deadline = min(deadline, self._burst_start + self.max_wait)
                if self._handle is not None:
                    self._handle.cancel()
                self._handle = self.scheduler.call_later(deadline - now, self._fire)
        if run_now:  # outside the lock: the callback may trigger other debouncers
            self.callback()

    def _fire(self) -> None:
        with self._lock:
            self._handle = None
            self._burst_start = None
        self.callback()

    def flush(self) -> bool:
        """Run a scheduled trailing call now; return whether there was one."""
        with self._lock:
            handle, self._handle = self._handle, None
            self._burst_start = None
        if handle is None:
            return False
        handle.cancel()
        self.callback()
        return True

    def cancel(self) -> None:
        """Drop a scheduled trailing call."""
        with self._lock:
            handle, self._handle = self._handle, None
            self._burst_start = None
        if handle is not None:
            handle.cancel()
