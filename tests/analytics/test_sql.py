"""The SQL catalog: parses as Athena/Trino, runs on DuckDB, always prunes on dt; the
parameter convention; and our fixes where sqlglot's DuckDB output would be wrong."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from wavekit import sqlcatalog as catalog
from wavekit.analytics import DEFAULT_PRICES, ParameterError, period
from wavekit.backends.local import DuckDBWarehouse
from wavekit.errors import UnknownQueryError, UnsupportedSQLError
from wavekit.events import EVENT_COLUMNS, arrow_schema

from .conftest import END

ROOT = Path(__file__).resolve().parents[2]
SQL_FILES = sorted((ROOT / "athena").glob("*.sql"))
QUERIES = [p.stem for p in SQL_FILES if p.stem.startswith(("leaderboard_", "usage_"))]


def all_params() -> dict[str, catalog.ParamValue]:
    return {**period("month", END).params(), **DEFAULT_PRICES.lambda_params(), "n": 5,
            "metric": "bytes"}  # fmt: skip


def test_the_catalog_is_the_athena_folder() -> None:
    assert SQL_FILES, "athena/*.sql exist"
    assert catalog.names() == [p.stem for p in SQL_FILES]
    for path in SQL_FILES:
        assert catalog.load(path.stem) == path.read_text(encoding="utf-8")
    with pytest.raises(UnknownQueryError, match="usage_lambda_cost"):
        catalog.load("usage_nope")


def test_the_wheel_ships_the_sql_where_the_loader_looks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    force = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["athena"] == "wavekit/athena_sql"
    source = (ROOT / "wavekit" / "sqlcatalog.py").read_text()
    assert '"athena_sql"' in source


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("dialect", ["athena", "trino"])
def test_every_file_parses_as_athena_and_trino(path: Path, dialect: str) -> None:
    statements = [s for s in sqlglot.parse(path.read_text(), read=dialect) if s is not None]
    assert len(statements) == 1, "one object per file"


@pytest.mark.parametrize("name", QUERIES)
def test_every_query_runs_on_duckdb(warehouse: DuckDBWarehouse, name: str) -> None:
    result = warehouse.run(name, all_params())
    assert len(result.frame.columns) > 0
    assert result.engine == "duckdb"


def _reads(select: exp.Select) -> set[str]:
    own = [select.args.get("from_") or select.args.get("from"), *(select.args.get("joins") or [])]
    return {t.name for part in own if part is not None for t in part.find_all(exp.Table)}


@pytest.mark.parametrize("name", QUERIES)
def test_every_scan_of_the_events_filters_on_the_partition(name: str) -> None:
    tree = sqlglot.parse_one(catalog.load(name), read="athena")
    scans = [s for s in tree.find_all(exp.Select) if _reads(s) & {"events", "requests_enriched"}]
    assert scans
    for select in scans:
        where = select.args.get("where")
        assert where is not None, select.sql()
        partition = [c for c in where.find_all(exp.Column) if c.name == "dt"]
        assert partition, f"{name}: a scan without a dt filter: {select.sql()[:120]}"
        for column in partition:
            assert isinstance(column.parent, exp.Between | exp.EQ | exp.GTE | exp.LTE)


@pytest.mark.parametrize("name", catalog.names())
def test_placeholders_found_by_the_runner_are_those_sqlglot_sees(name: str) -> None:
    text = catalog.load(name)
    seen = {p.name for p in sqlglot.parse_one(text, read="athena").find_all(exp.Placeholder)}
    assert set(catalog.parameters(text)) == seen


def test_qmark_rewrite_binds_each_occurrence_in_order_and_skips_strings_and_comments() -> None:
    text = "-- uses :a\nSELECT ':b' AS s, x FROM t WHERE a = :a AND b = :b AND c = :a"
    sql, values = catalog.to_qmark(text, {"a": "it's", "b": 2.5})
    assert sql == "-- uses :a\nSELECT ':b' AS s, x FROM t WHERE a = ? AND b = ? AND c = ?"
    assert values == ["'it''s'", "2.5", "'it''s'"]
    with pytest.raises(ParameterError, match="missing query parameter"):
        catalog.to_qmark(text, {"a": 1})


def test_timestamps_bind_as_utc_text_and_naive_ones_are_refused() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    value = dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=tokyo)
    assert catalog.plain_value("t", value) == "2026-03-01 00:00:00.123"
    assert catalog.plain_value("d", dt.date(2026, 3, 1)) == "2026-03-01"
    with pytest.raises(ParameterError, match="time zone"):
        catalog.plain_value("t", dt.datetime(2026, 3, 1))


def _athena_type(arrow: pa.DataType) -> str:
    """How the Glue/Athena DDL spells each Arrow type of the event contract."""
    if pa.types.is_list(arrow):
        return f"ARRAY({_athena_type(arrow.value_type)})"
    return {
        pa.string(): "VARCHAR",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
    }.get(arrow, "TIMESTAMP" if pa.types.is_timestamp(arrow) else str(arrow))


def test_the_ddl_matches_the_event_contract_and_projects_dt() -> None:
    text = catalog.load("table_events")
    table = catalog.parse_table_ddl(text)
    assert [c for c, _ in table.columns] == list(EVENT_COLUMNS)
    assert dict(table.columns) == {f.name: _athena_type(f.type) for f in arrow_schema()}
    assert table.partitions == (("dt", "VARCHAR"),)
    properties = dict(re.findall(r"'([\w.]+)'\s*=\s*'([^']*)'", text))
    assert properties["projection.enabled"] == "true"
    assert properties["projection.dt.type"] == "date"
    assert properties["projection.dt.format"] == "yyyy-MM-dd"
    assert properties["storage.location.template"] == "{lake_uri}dt=${dt}/"


# --- where sqlglot alone would be wrong ---------------------------------------------------


def _duckdb_value(sql: str, schema: dict[str, dict[str, str]] | None = None) -> object:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, j INTEGER)")
    con.execute("INSERT INTO t VALUES (-7, 2)")
    return con.execute(catalog.to_duckdb(sql, schema)).fetchone()


def test_integer_division_truncates_like_athena() -> None:
    schema = {"t": {"i": "INTEGER", "j": "INTEGER"}}
    # Trino: integer / integer is an integer, truncated toward zero; -7 / 2 = -3.
    assert _duckdb_value("SELECT 7 / 2, i / j, 7.0 / 2 FROM t", schema) == (3, -3, 3.5)
    plain = sqlglot.transpile("SELECT i / j FROM t", read="athena", write="duckdb")[0]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT -7 AS i, 2 AS j")
    assert con.execute(plain).fetchone() == (-3.5,), "sqlglot alone would not truncate"


def test_view_columns_keep_athena_types(warehouse: DuckDBWarehouse) -> None:
    frame = warehouse.run_sql(
        "SELECT typeof(audio_bytes) AS a, typeof(count_if(success)) AS c FROM requests_enriched "
        "WHERE dt = '2026-02-01' GROUP BY 1"
    ).frame
    assert set(frame["a"]) == {"BIGINT"}
    assert set(frame["c"]) == {"BIGINT"}, "count_if is BIGINT in Athena, HUGEINT in raw DuckDB"


def test_percentiles_are_exact_locally() -> None:
    con = duckdb.connect()
    sql = catalog.to_duckdb(
        "SELECT approx_percentile(x, 0.5) FROM (VALUES (1.0), (2.0), (10.0), (11.0)) AS t (x)"
    )
    assert con.execute(sql).fetchone() == (6.0,)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT approx_percentile(latency_ms, bytes_out, 0.5) FROM events",
        "SELECT format_datetime(ts, 'yyyy-MM-dd') FROM events",
        "SELECT map_agg(route, latency_ms) FROM events",
    ],
)
def test_constructs_sqlglot_mistranslates_are_refused(text: str) -> None:
    with pytest.raises(UnsupportedSQLError):
        catalog.to_duckdb(text)


def test_sql_errors_are_translated(warehouse: DuckDBWarehouse) -> None:
    from wavekit.analytics import QueryError

    with pytest.raises(QueryError, match="duckdb query 'broken'"):
        warehouse.run_sql(
            "SELECT no_such_column FROM events WHERE dt = '2026-01-01'", name="broken"
        )
    with pytest.raises(UnsupportedSQLError, match="not valid Athena SQL"):
        warehouse.run_sql("SELEC 1")
