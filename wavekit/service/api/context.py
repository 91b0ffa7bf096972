"""What the HTTP API needs from a running service, as protocols of the service layer.

The API never builds adapters: the composition root (:mod:`wavekit.runtime`) hands it an
:class:`ApiContext` (its ``Runtime`` satisfies this protocol), so the same app runs over
SQLite and files in ``wavekit serve`` and over DynamoDB, S3 and SQS behind API Gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from wavekit.ports import EventSink
    from wavekit.service.jobs import JobService
    from wavekit.service.leaderboards import LeaderboardService
    from wavekit.settings import Settings


class ApiContext(Protocol):
    """The service's settings, its job service, the request-log sink and the boards."""

    @property
    def settings(self) -> Settings: ...

    @property
    def service(self) -> JobService: ...

    @property
    def events(self) -> EventSink: ...

    @property
    def leaderboards(self) -> LeaderboardService | None:
        """None when the analytics extra is not installed (the routes answer 503)."""
        ...


class Lifecycle(Protocol):
    """Background work the app owns (worker and cleaner threads): started with the app's
    lifespan, stopped (and events flushed) when it ends."""

    def start(self) -> None: ...

    def close(self) -> None: ...
