"""AthenaWarehouse under moto: our plumbing (workgroup, database, server-side parameters,
result parsing, cost, error translation), never real AWS. moto does not run SQL: it
returns results we seed, as Athena would return them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends

from wavekit import sqlcatalog as catalog
from wavekit.analytics import (
    DEFAULT_PRICES,
    QueryError,
    Warehouse,
    compute_leaderboard,
    period,
)
from wavekit.backends.aws import AthenaWarehouse

from .conftest import END

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto AWS with the project's workgroup, result bucket and Glue database."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(Bucket="wavekit-athena-results")
        session.client("athena").create_work_group(
            Name="wavekit",
            Configuration={
                "ResultConfiguration": {"OutputLocation": "s3://wavekit-athena-results/q/"},
                "BytesScannedCutoffPerQuery": 10 * 1024**3,
            },
        )
        session.client("glue").create_database(DatabaseInput={"Name": "wavekit_logs"})
        yield session


def seed(rows: list[list[str]], types: list[str]) -> None:
    """Queue one Athena result (header row first, every value as text, as Athena sends it)."""
    backend = athena_backends[ACCOUNT][REGION]
    backend.query_results_queue.append(
        QueryResults(
            rows=[{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
            column_info=[{"Name": n, "Type": t} for n, t in zip(rows[0], types, strict=True)],
        )
    )


def executions() -> list[Any]:
    return list(athena_backends[ACCOUNT][REGION].executions.values())


def expected_literals(sql: str, params: dict[str, Any]) -> list[str]:
    """Each :name occurrence outside comments, in order, as the literal Athena should get."""
    code = re.sub(r"--[^\n]*", "", sql)
    values = {k: catalog.plain_value(k, v) for k, v in params.items()}
    out = []
    for name in re.findall(r"(?<![:\w]):([a-z_]+)", code):
        value = values[name]
        out.append(
            f"'{value}'" if isinstance(value, str) else repr(value)
        )  # our values have no quotes to escape
    return out


def test_a_board_is_queried_in_the_workgroup_with_server_side_parameters(aws: Any) -> None:
    seed(
        [
            [
                "rank",
                "chord",
                "value",
                "requests",
                "bytes",
                "prev_value",
                "prev_rank",
                "rank_change",
            ],
            ["1", "[440.0, 445.0]", "9000", "3", "9000", "100", "2", "1"],
            ["2", "[220.0, 330.0, 440.0]", "500", "1", "500", "0", "", ""],
        ],
        ["bigint", "array", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint"],
    )
    warehouse = AthenaWarehouse(database="wavekit_logs", workgroup="wavekit", boto3_session=aws)
    assert isinstance(warehouse, Warehouse)
    board = compute_leaderboard(warehouse, "chords_by_bytes", "month", n=5, now=END)

    (execution,) = executions()
    assert execution.workgroup.name == "wavekit"
    assert execution.context == {"Database": "wavekit_logs"}
    params = {**period("month", END).params(), "n": 5, "metric": "bytes"}
    literals = expected_literals(catalog.load("leaderboard_chords"), params)
    assert execution.execution_parameters == literals
    assert execution.query.count("?") == len(literals)
    assert not re.search(r"(?<![:\w]):[a-z_]+", re.sub(r"--[^\n]*", "", execution.query))

    assert [e["chord"] for e in board.entries] == [[440.0, 445.0], [220.0, 330.0, 440.0]]
    assert [(e["rank"], e["bytes"], e["prev_rank"], e["rank_change"]) for e in board.entries] == [
        (1, 9000, 2, 1),
        (2, 500, None, None),
    ]
    assert board.engine == "athena"


def test_every_run_reports_bytes_scanned_and_cost(aws: Any) -> None:
    seed([["day", "requests"], ["2026-02-01", "12"]], ["varchar", "bigint"])
    warehouse = AthenaWarehouse(database="wavekit_logs", workgroup="wavekit", boto3_session=aws)
    result = warehouse.run("usage_unique_clients", period("month", END).params())
    assert result.frame.to_dict(orient="records") == [{"day": "2026-02-01", "requests": 12}]
    assert result.query_id == executions()[0].id
    assert result.bytes_scanned == 0  # what moto reports
    assert result.cost_usd == DEFAULT_PRICES.athena_query_cost(0) > 0  # 10 MiB minimum


def test_setup_creates_the_projected_table_and_the_views(aws: Any) -> None:
    warehouse = AthenaWarehouse(database="wavekit_logs", workgroup="wavekit", boto3_session=aws)
    ids = warehouse.setup("s3://wavekit-lake/events")
    queries = [e.query for e in executions()]
    assert len(ids) == len(queries) == len(catalog.ordered(catalog.names()))
    assert "LOCATION 's3://wavekit-lake/events/'" in queries[0]
    assert "'s3://wavekit-lake/events/dt=${dt}/'" in queries[0]
    assert queries[1].lstrip("- \n").count("CREATE OR REPLACE VIEW requests_enriched") == 1


def test_aws_failures_become_query_errors(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreachable Athena endpoint (a closed port on loopback) fails in botocore."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_ATHENA", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    session = boto3.Session(region_name=REGION)
    warehouse = AthenaWarehouse(database="wavekit_logs", workgroup="wavekit", boto3_session=session)
    with pytest.raises(QueryError, match="athena query 'usage_cold_starts' failed"):
        warehouse.run("usage_cold_starts", period("month", END).params())
