"""``wavekit traffic``, ``wavekit query``, ``wavekit leaderboard`` and ``wavekit usage``.

Engines are imported inside the commands, so ``wavekit --help`` stays fast. Bad input
(unknown board, window, query, missing lake or parameter) exits with 2 and a message
listing the allowed values; engine failures exit with 1 (the rule of
:mod:`wavekit.cli.errors`).
"""

from __future__ import annotations

import datetime as dt
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer

LakeOption = Annotated[Path, typer.Option("--lake", help="The Parquet event lake directory.")]
FormatOption = Annotated[
    str, typer.Option("--format", help="table, csv or json.", show_default=True)
]


def _parse_instant(text: str | None, what: str) -> dt.datetime | None:
    from wavekit.errors import ParameterError

    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"{what} {text!r} is not an ISO date or datetime (2026-03-01 or 2026-03-01T12:00Z)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _emit(frame: Any, fmt: str) -> None:
    from wavekit.analytics.leaderboards import frame_to_csv, frame_to_json
    from wavekit.errors import UnknownNameError

    if fmt == "json":
        typer.echo(frame_to_json(frame))
    elif fmt == "csv":
        typer.echo(frame_to_csv(frame), nl=False)
    elif fmt == "table":
        typer.echo(frame.to_string(index=False) if len(frame) else "(no rows)")
    else:
        raise UnknownNameError(fmt, ("table", "csv", "json"))


def traffic(
    out: Annotated[Path, typer.Option("--out", help="Lake directory to write into.")],
    events: Annotated[int, typer.Option("--events", help="How many events.")] = 100_000,
    days: Annotated[int, typer.Option("--days", help="Days of traffic, ending at --end.")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same events.")] = 0,
    end: Annotated[
        str | None, typer.Option("--end", help="Exclusive end (ISO, UTC); default today 00:00.")
    ] = None,
) -> None:
    """Generate realistic synthetic request-log events into a Parquet lake."""
    from wavekit.analytics.traffic import generate_traffic

    summary = generate_traffic(events, days, out, seed=seed, end=_parse_instant(end, "--end"))
    typer.echo(
        f"wrote {summary.events:,} events ({summary.start:%Y-%m-%d} .. {summary.end:%Y-%m-%d}) "
        f"in {summary.files} files under {out} in {summary.seconds:.2f} s "
        f"({summary.events_per_second:,.0f} events/s)"
    )


def query(
    file: Annotated[
        Path, typer.Argument(help="An Athena-dialect .sql file (e.g. athena/usage_*.sql).")
    ],
    lake: LakeOption,
    window: Annotated[
        str, typer.Option(help="month, year or all: fills the window parameters.")
    ] = "all",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="name=value for a :name placeholder; repeat."),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Run one Athena SQL file on the local lake (DuckDB) and print the rows."""
    from wavekit.analytics.costs import DEFAULT_PRICES
    from wavekit.analytics.windows import period
    from wavekit.clock import utc_now
    from wavekit.errors import ParameterError
    from wavekit.runtime import open_warehouse
    from wavekit.sqlcatalog import ParamValue

    if not file.is_file():
        raise ParameterError(f"{file}: no such SQL file")
    params: dict[str, ParamValue] = {
        **period(window, utc_now()).params(),
        **DEFAULT_PRICES.lambda_params(),
        "n": 10,
        "metric": "requests",
    }
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParameterError(f"--param {item!r} must look like name=value")
        params[name] = _number_or_text(value)
    with closing(open_warehouse("local", lake)) as warehouse:
        result = warehouse.run_sql(file.read_text(encoding="utf-8"), params, name=file.name)
    _emit(result.frame, fmt)
    if fmt == "table":
        typer.echo(
            f"-- {len(result.frame)} rows, {result.bytes_scanned or 0:,} bytes read from "
            f"{result.files_count or 0} files in {result.elapsed_s:.3f} s",
            err=True,
        )


def _number_or_text(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def leaderboard(
    board: Annotated[
        str,
        typer.Argument(
            help="<kind>_by_<metric>: kind frequencies|chords|clients|specs, metric requests|bytes."
        ),
    ],
    lake: LakeOption,
    window: Annotated[str, typer.Option(help="month, year or all.")] = "all",
    n: Annotated[int, typer.Option("-n", help="Top n ranks (ties kept).")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="The board as JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="The board as CSV.")] = False,
    now: Annotated[str | None, typer.Option(help="Window end (ISO); default now.")] = None,
) -> None:
    """Compute a leaderboard over the local lake and print it."""
    from wavekit.analytics.leaderboards import compute_leaderboard
    from wavekit.ports.analytics import board_spec, check_window
    from wavekit.runtime import open_warehouse

    board_spec(board)
    check_window(window)
    with closing(open_warehouse("local", lake)) as warehouse:
        result = compute_leaderboard(
            warehouse, board, window, n=n, now=_parse_instant(now, "--now")
        )
    if as_json:
        typer.echo(result.to_json())
    elif as_csv:
        typer.echo(result.to_csv(), nl=False)
    else:
        typer.echo(
            f"{board} · window {window} [{result.start:%Y-%m-%d %H:%M} .. "
            f"{result.end:%Y-%m-%d %H:%M} UTC) · computed {result.computed_at:%Y-%m-%d %H:%M:%S}"
        )
        frame = result.to_frame()
        typer.echo(frame.to_string(index=False) if len(frame) else "(no entries)")


def usage_command(
    name: Annotated[
        str, typer.Argument(help="requests_per_day, latency_by_route, lambda_cost, ...")
    ],
    lake: LakeOption,
    window: Annotated[str, typer.Option(help="month, year or all.")] = "month",
    now: Annotated[str | None, typer.Option(help="Window end (ISO); default now.")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Run a usage report (requests, latency, errors, bytes, cold starts, clients, cost)."""
    from wavekit.analytics.leaderboards import usage
    from wavekit.runtime import open_warehouse

    with closing(open_warehouse("local", lake)) as warehouse:
        result = usage(warehouse, name, window, now=_parse_instant(now, "--now"))
    _emit(result.frame, fmt)


def register(app: typer.Typer) -> None:
    """Add ``traffic``, ``query``, ``leaderboard`` and ``usage`` to the ``wavekit`` app."""
    app.command("traffic")(traffic)
    app.command("query")(query)
    app.command("leaderboard")(leaderboard)
    app.command("usage")(usage_command)
