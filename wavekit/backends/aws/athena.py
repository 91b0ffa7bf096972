"""The Athena warehouse: the catalog's SQL, sent as-is with server-side execution parameters.

``:name`` placeholders become ``?`` with the values as Athena literals (see
:func:`wavekit.sqlcatalog.to_qmark`); awswrangler's ``read_sql_query`` submits them in
the project's workgroup (``paramstyle="qmark"`` keeps the binding on the server, so
values are never pasted into the SQL text). ``ctas_approach=False`` reads the plain CSV
result: our results are small, and it needs no temporary tables. Every run reports the
bytes scanned and their cost (:class:`~wavekit.ports.analytics.Prices`).

boto3 sessions are injected (tests pass moto-backed ones); nothing is created at import.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wavekit import sqlcatalog as catalog
from wavekit.backends.aws.clients import session as _session
from wavekit.errors import MissingExtraError, ParameterError, QueryError
from wavekit.ports.analytics import DEFAULT_PRICES, Prices, QueryResult, normalise_frame
from wavekit.sqlcatalog import ParamValue

if TYPE_CHECKING:
    from boto3.session import Session


def _wrangler() -> Any:
    try:
        import awswrangler
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("awswrangler", "aws") from exc
    return awswrangler


def _aws_errors() -> tuple[type[BaseException], ...]:
    """botocore's and awswrangler's exception classes: what we translate at the boundary."""
    import botocore.exceptions

    wr = _wrangler()
    wrangler = tuple(
        value
        for value in vars(wr.exceptions).values()
        if isinstance(value, type) and issubclass(value, Exception)
    )
    return (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, *wrangler)


class AthenaWarehouse:
    """Run catalog queries on Athena (Glue database ``database``, workgroup ``workgroup``).

    Parameters
    ----------
    database
        Glue database holding the ``events`` table and the views.
    workgroup
        The project's workgroup (it carries the result location and the
        ``BytesScannedCutoffPerQuery`` guard).
    boto3_session
        Session to use; a default one is created lazily when omitted.
    s3_output
        Result location, if the workgroup does not enforce one.
    prices
        For the per-query cost estimate.
    """

    engine = "athena"

    def __init__(
        self,
        *,
        database: str,
        workgroup: str,
        boto3_session: Session | None = None,
        s3_output: str | None = None,
        prices: Prices = DEFAULT_PRICES,
    ) -> None:
        self.database = database
        self.workgroup = workgroup
        self.s3_output = s3_output
        self.prices = prices
        self._session = boto3_session

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = _session()
        return self._session

    def run(self, name: str, params: Mapping[str, ParamValue] | None = None) -> QueryResult:
        """Run ``athena/<name>.sql``; see :meth:`run_sql`."""
        return self.run_sql(catalog.load(name), params, name=name)

    def run_sql(
        self, sql: str, params: Mapping[str, ParamValue] | None = None, *, name: str = "adhoc"
    ) -> QueryResult:
        """Submit one statement with its parameters bound server-side; wait; read the rows.

        Returns
        -------
        QueryResult
            The frame, the query execution id, bytes scanned and the estimated cost.

        Raises
        ------
        ParameterError
            A placeholder has no value.
        QueryError
            Athena, S3 or awswrangler failed; the message keeps their reason.
        """
        wr = _wrangler()
        text, literals = catalog.to_qmark(sql, params)
        started = time.perf_counter()
        try:
            frame = wr.athena.read_sql_query(
                text,
                database=self.database,
                workgroup=self.workgroup,
                s3_output=self.s3_output,
                ctas_approach=False,
                params=literals or None,
                paramstyle="qmark",
                boto3_session=self.session,
            )
        except _aws_errors() as exc:
            raise QueryError(self.engine, name, str(exc)) from exc
        elapsed = time.perf_counter() - started
        metadata: Mapping[str, Any] = getattr(frame, "query_metadata", None) or {}
        statistics = metadata.get("Statistics", {})
        scanned = statistics.get("DataScannedInBytes")
        return QueryResult(
            name=name,
            engine=self.engine,
            frame=normalise_frame(frame),
            elapsed_s=elapsed,
            bytes_scanned=int(scanned) if scanned is not None else None,
            cost_usd=self.prices.athena_query_cost(int(scanned)) if scanned is not None else None,
            query_id=metadata.get("QueryExecutionId"),
            sql=text,
        )

    def setup_statements(self, lake_uri: str) -> list[tuple[str, str]]:
        """The DDL and views to run once, with ``{lake_uri}`` filled in (``s3://.../``)."""
        if not lake_uri.startswith("s3://"):
            raise ParameterError(f"lake_uri must be an s3:// URI, got {lake_uri!r}")
        lake_uri = lake_uri if lake_uri.endswith("/") else lake_uri + "/"
        names = catalog.ordered(catalog.names())
        return [(n, catalog.load(n).replace("{lake_uri}", lake_uri)) for n in names]

    def setup(self, lake_uri: str) -> list[str]:
        """Create the events table (partition projection) and the views; returns query ids."""
        wr = _wrangler()
        ids = []
        for name, statement in self.setup_statements(lake_uri):
            try:
                query_id = wr.athena.start_query_execution(
                    statement,
                    database=self.database,
                    workgroup=self.workgroup,
                    s3_output=self.s3_output,
                    wait=True,
                    boto3_session=self.session,
                )
            except _aws_errors() as exc:
                raise QueryError(self.engine, name, str(exc)) from exc
            ids.append(
                str(query_id["QueryExecutionId"] if isinstance(query_id, dict) else query_id)
            )
        return ids

    def close(self) -> None:
        """Nothing to release: each query is its own request."""
