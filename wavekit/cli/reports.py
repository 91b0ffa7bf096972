"""``wavekit report run|schedule|backfill``: render notebooks to HTML, once, on a schedule,
or one per day over a range (the machinery is :mod:`wavekit.reports`)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wavekit.cli.errors import EXIT_FAILURE, ExitCodeGroup
from wavekit.errors import FieldProblem, InvalidSpecError, ReportError, ReportFailedError

if TYPE_CHECKING:
    from wavekit.reports import ReportRequest, ReportResult

report_app = typer.Typer(
    help="Render parameterised notebooks to HTML reports.", cls=ExitCodeGroup, no_args_is_help=True
)

NotebookOption = Annotated[Path | None, typer.Option(help="Notebook (default: the usage report).")]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="KEY=VALUE notebook parameter (JSON values); repeat."),
]
OutOption = Annotated[Path, typer.Option("--out", help="Reports directory.")]


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``["n=5", "lake=out/lake"]`` → ``{"n": 5, "lake": "out/lake"}`` (JSON if it parses)."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidSpecError([FieldProblem("--param", f"{pair!r} is not KEY=VALUE")])
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


def _request(notebook: Path | None, params: dict[str, Any], out: Path) -> ReportRequest:
    from wavekit.reports import DEFAULT_NOTEBOOK, ReportRequest

    return ReportRequest(notebook or DEFAULT_NOTEBOOK, params, out)


def _say(result: ReportResult | ReportError) -> None:
    if isinstance(result, ReportError):
        typer.secho(f"failed: {result}", err=True, fg=typer.colors.RED)
    elif result.skipped:
        typer.echo(f"exists, skipped (use --force): {result.html}")
    else:
        typer.echo(f"rendered {result.html} ({len(result.tables)} tables as CSV)")


@report_app.command("run")
def run(
    notebook: NotebookOption = None,
    param: ParamOption = None,
    out: OutOption = Path("reports"),
    force: Annotated[bool, typer.Option(help="Render even if it exists.")] = False,
    attempts: Annotated[int, typer.Option(min=1, help="Tries before giving up.")] = 3,
) -> None:
    """Execute a notebook with papermill and publish it as HTML (code hidden)."""
    from wavekit.reports import render

    try:
        _say(render(_request(notebook, parse_params(param), out), force=force,
                    attempts=attempts, progress=True))  # fmt: skip
    except ReportFailedError as exc:
        _say(exc)
        raise typer.Exit(EXIT_FAILURE) from None
    typer.echo(f"index: {out / 'index.html'}")


@report_app.command("schedule")
def schedule_command(
    every: Annotated[str, typer.Option(help="Interval like 1h, 30m, 1d, or a cron line.")],
    notebook: NotebookOption = None,
    param: ParamOption = None,
    out: OutOption = Path("reports"),
    window_days: Annotated[int, typer.Option(min=1, help="Days each report covers.")] = 7,
    runs: Annotated[int | None, typer.Option(help="Stop after this many runs.")] = None,
) -> None:
    """Render in the foreground at every fire time (Ctrl-C stops)."""
    from wavekit.reports import schedule

    params = parse_params(param)

    def make(fire: dt.datetime) -> ReportRequest:
        start = fire - dt.timedelta(days=window_days)
        return _request(
            notebook, {**params, "start": start.isoformat(), "end": fire.isoformat()}, out
        )

    typer.echo(f"scheduling {every}; reports in {out}")
    schedule(make, every, max_runs=runs, on_result=_say)


@report_app.command("backfill")
def backfill(
    first: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    last: Annotated[dt.datetime, typer.Option("--to", formats=["%Y-%m-%d"])],
    notebook: NotebookOption = None,
    param: ParamOption = None,
    out: OutOption = Path("reports"),
    force: Annotated[bool, typer.Option(help="Render even if it exists.")] = False,
) -> None:
    """One report per day from --from to --to (inclusive); existing ones are skipped."""
    from wavekit.reports import days, render

    params = parse_params(param)
    failed = 0
    for day in days(first.date(), last.date()):
        day_params = {**params, "start": day.isoformat(),
                      "end": (day + dt.timedelta(days=1)).isoformat()}  # fmt: skip
        try:
            _say(render(_request(notebook, day_params, out), force=force))
        except ReportFailedError as exc:
            _say(exc)
            failed += 1
    if failed:
        raise typer.Exit(EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    """Add the ``report`` group to the ``wavekit`` app."""
    app.add_typer(report_app, name="report")
