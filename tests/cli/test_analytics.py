"""`wavekit traffic | query | leaderboard | usage`, and import-time lightness."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from wavekit.analytics import compute_leaderboard, frame_to_json, usage
from wavekit.backends.local.duckdb import DuckDBWarehouse
from wavekit.cli import app

from .conftest import END

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_traffic_writes_a_lake_the_leaderboard_command_reads(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    done = runner.invoke(
        app, ["traffic", "--events", "3000", "--days", "5", "--out", str(lake), "--seed", "2",
              "--end", "2026-03-01"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "wrote 3,000 events" in done.output
    assert len(list(lake.glob("dt=*"))) == 5

    shown = runner.invoke(
        app, ["leaderboard", "clients_by_requests", "--window", "all", "--lake", str(lake),
              "--json", "--now", END.isoformat()],
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    with DuckDBWarehouse(lake) as warehouse:
        expected = compute_leaderboard(warehouse, "clients_by_requests", "all", now=END)
    assert json.loads(shown.output)["entries"] == json.loads(expected.to_json())["entries"]

    as_csv = runner.invoke(
        app, ["leaderboard", "chords_by_bytes", "--lake", str(lake), "--csv",
              "--now", END.isoformat()],
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    with DuckDBWarehouse(lake) as warehouse:
        board = compute_leaderboard(warehouse, "chords_by_bytes", "all", now=END)
    assert [json.loads(r["chord"]) for r in rows] == [e["chord"] for e in board.entries]
    assert [int(r["bytes"]) for r in rows] == [e["bytes"] for e in board.entries]


def test_query_runs_a_sql_file_with_window_and_params(lake: Path) -> None:
    sql = ROOT / "athena" / "usage_requests_per_day.sql"
    done = runner.invoke(app, ["query", str(sql), "--lake", str(lake), "--format", "json"])
    assert done.exit_code == 0, done.output
    with DuckDBWarehouse(lake) as warehouse:
        expected = usage(warehouse, "requests_per_day", "all", now=END).frame
    assert json.loads(done.output) == json.loads(frame_to_json(expected))

    custom = tmp_sql = lake.parent / "top.sql"
    tmp_sql.write_text(
        "SELECT route, count(*) AS n FROM events WHERE dt BETWEEN :a AND :b "
        "GROUP BY route ORDER BY n DESC LIMIT :k"
    )
    done = runner.invoke(
        app, ["query", str(custom), "--lake", str(lake), "-p", "a=2026-02-01", "-p", "b=2026-02-02",
              "-p", "k=2", "--format", "csv"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == "route,n"
    assert len(done.output.splitlines()) == 3


def test_usage_command_prints_tables(lake: Path) -> None:
    done = runner.invoke(
        app, ["usage", "lambda_cost", "--lake", str(lake), "--now", END.isoformat()]
    )
    assert done.exit_code == 0, done.output
    assert "total_usd" in done.output


def test_bad_input_exits_2_naming_the_allowed_values(tmp_path: Path, lake: Path) -> None:
    bad_board = runner.invoke(app, ["leaderboard", "top", "--lake", str(lake)])
    assert bad_board.exit_code == 2
    assert "chords_by_requests" in bad_board.output
    bad_window = runner.invoke(app, ["leaderboard", "chords_by_bytes", "--window", "week",
                                     "--lake", str(lake)])  # fmt: skip
    assert bad_window.exit_code == 2
    assert "month, year, all" in bad_window.output
    missing = runner.invoke(app, ["leaderboard", "chords_by_bytes", "--lake", str(tmp_path / "x")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    no_param = tmp_path / "p.sql"
    no_param.write_text("SELECT :mystery AS m")
    unbound = runner.invoke(app, ["query", str(no_param), "--lake", str(lake)])
    assert unbound.exit_code == 2
    assert "mystery" in unbound.output
    assert "Traceback" not in bad_board.output + missing.output + unbound.output


def test_sql_errors_exit_1_with_the_engines_reason(tmp_path: Path, lake: Path) -> None:
    broken = tmp_path / "broken.sql"
    broken.write_text("SELECT nope FROM events WHERE dt = '2026-01-01'")
    done = runner.invoke(app, ["query", str(broken), "--lake", str(lake)])
    assert done.exit_code == 1
    assert "broken.sql" in done.output
    assert "nope" in done.output


def _loaded_after(statement: str, modules: tuple[str, ...]) -> list[str]:
    code = f"import sys; {statement}; print([m for m in {modules!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().replace("'", '"')))


def test_importing_wavekit_loads_no_engine_and_the_cli_stays_light() -> None:
    heavy = ("duckdb", "pyarrow", "sqlglot", "pandas", "awswrangler", "boto3")
    assert _loaded_after("import wavekit, wavekit.analytics", heavy) == []
    assert _loaded_after("import wavekit.cli", ("duckdb", "sqlglot", "awswrangler")) == []
