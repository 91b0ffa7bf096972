"""Errors of the analytics layer, all under :class:`wavekit.WavekitError`.

::

    WavekitError
    └── AnalyticsError
        ├── UnknownNameError (also ValueError)      a board, window, query, metric... not offered
        │   ├── UnknownBoardError
        │   ├── InvalidWindowError
        │   └── UnknownQueryError
        ├── ParameterError (also ValueError)        a SQL parameter missing or of the wrong kind
        ├── UnsupportedSQLError (also ValueError)   a construct we refuse to translate silently
        ├── LakeNotFoundError (also FileNotFoundError)
        └── QueryError (also RuntimeError)          the engine (DuckDB, Athena) rejected a query

Engines' own exceptions (duckdb.Error, botocore ClientError, awswrangler's) are translated
into these at the adapter boundary, so callers catch one family.
"""

from __future__ import annotations

from collections.abc import Iterable

from wavekit.errors import WavekitError


class AnalyticsError(WavekitError):
    """Root of the analytics errors."""


class UnknownNameError(AnalyticsError, ValueError):
    """A name is not one of the allowed values; the message lists them."""

    kind = "name"

    def __init__(self, value: object, allowed: Iterable[str]) -> None:
        self.value = value
        self.allowed = tuple(allowed)
        super().__init__(
            f"unknown {self.kind} {value!r}; allowed: {', '.join(self.allowed) or '(none)'}"
        )


class UnknownBoardError(UnknownNameError):
    kind = "leaderboard"


class InvalidWindowError(UnknownNameError):
    kind = "window"


class UnknownQueryError(UnknownNameError):
    kind = "query"


class ParameterError(AnalyticsError, ValueError):
    """A query parameter is missing, or a value cannot be bound."""


class UnsupportedSQLError(AnalyticsError, ValueError):
    """The SQL uses a construct whose DuckDB translation would be silently wrong."""


class LakeNotFoundError(AnalyticsError, FileNotFoundError):
    """The event lake directory does not exist."""


class QueryError(AnalyticsError, RuntimeError):
    """The engine rejected or failed a query; names the engine and the query."""

    def __init__(self, engine: str, query: str, message: str) -> None:
        self.engine = engine
        self.query = query
        super().__init__(f"{engine} query {query!r} failed: {message}")
