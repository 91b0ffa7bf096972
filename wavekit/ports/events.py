"""The event port: where request-log events go (a Parquet lake locally, Firehose on AWS)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from wavekit.events import RequestEvent


@runtime_checkable
class EventSink(Protocol):
    """Request-log events. ``emit`` never blocks on I/O and never raises."""

    def emit(self, event: RequestEvent) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...
