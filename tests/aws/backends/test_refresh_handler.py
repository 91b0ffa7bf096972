"""The scheduled refresh Lambda fills the DynamoDB leaderboard cache from Athena (moto,
seeded), and the API Lambda serves what it stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.athena.models import QueryResults, athena_backends

from tests.aws.conftest import LambdaContext, http_event, scheduled_event
from tests.aws.resources import ACCOUNT, REGION, BackendResources, new_session
from wavekit.backends.aws import AthenaWarehouse
from wavekit.handlers import api, refresh
from wavekit.ports.analytics import BOARDS, KINDS, WINDOWS, board_spec


def _seed_one_row_per_board(setup_statements: int) -> None:
    """One Athena result per (board, window), in refresh order, as Athena returns text;
    moto hands seeded results out in query order, so the DDL of the set-up gets blanks."""
    values = {
        "frequency": ("440.0", "double"),
        "chord": ("[440.0, 445.0]", "array"),
        "client_id": ("client-7", "varchar"),
        "frequencies": ("[440.0, 445.0]", "array"),
        "duration_s": ("1.0", "double"),
        "sample_rate": ("44100", "integer"),
        "bits_per_sample": ("16", "integer"),
        "channels": ("2", "integer"),
        "volume": ("0.5", "double"),
        "waveforms": ("", "array"),  # empty text: null, as Athena returns it for all-sine specs
        "sweep_ends": ("", "array"),
        "noise": ("", "varchar"),
    }
    backend = athena_backends[ACCOUNT][REGION]
    for _ in range(setup_statements):
        backend.query_results_queue.append(QueryResults(rows=[], column_info=[]))
    for board in BOARDS:
        keys = KINDS[board_spec(board).kind]
        for _ in WINDOWS:
            header = ["rank", *keys, "value", "requests", "bytes", "prev_value", "prev_rank"]
            header.append("rank_change")
            row = ["1", *(values[k][0] for k in keys), "12", "12", "3400", "", "", ""]
            types = ["bigint", *(values[k][1] for k in keys), *["bigint"] * 6]
            columns = [{"Name": n, "Type": t} for n, t in zip(header, types, strict=True)]
            rows = [{"Data": [{"VarCharValue": v} for v in r]} for r in (header, row)]
            backend.query_results_queue.append(QueryResults(rows=rows, column_info=columns))


def test_scheduled_refresh_fills_the_cache_the_api_serves(
    stack: BackendResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session()
    session.client("s3").create_bucket(Bucket="wkl-results")
    session.client("athena").create_work_group(
        Name="wavekit-test",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://wkl-results/results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    session.client("glue").create_database(DatabaseInput={"Name": "wavekit_test"})
    monkeypatch.setenv("WAVEKIT_GLUE_DATABASE", "wavekit_test")
    monkeypatch.setenv("WAVEKIT_ATHENA_WORKGROUP", "wavekit-test")
    monkeypatch.setenv("WAVEKIT_LAKE_URI", "s3://wkl-lake/events/")
    ddl = AthenaWarehouse(database="-", workgroup="-").setup_statements("s3://wkl-lake/events/")
    _seed_one_row_per_board(len(ddl))

    result = refresh.handler(scheduled_event("wavekit-refresh"), LambdaContext())
    assert result["refreshed"] == len(BOARDS) * len(WINDOWS)
    executions = list(athena_backends[ACCOUNT][REGION].executions.values())
    assert {e.workgroup.name for e in executions} == {"wavekit-test"}
    assert any("CREATE OR REPLACE VIEW requests_enriched" in e.query for e in executions)

    response = api.handler(
        http_event("GET", "/leaderboards/chords_by_requests", query="window=year"), LambdaContext()
    )
    assert response["statusCode"] == 200
    board: dict[str, Any] = json.loads(response["body"])
    assert board["window"] == "year"
    assert board["entries"][0]["chord"] == [440.0, 445.0]
    assert board["entries"][0]["requests"] == 12
