"""The one clock: aware UTC datetimes everywhere (events, jobs, boards, reports).

Code that needs "now" takes a ``Clock`` argument defaulting to :func:`utc_now`, so tests
can pin time without patching.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)
