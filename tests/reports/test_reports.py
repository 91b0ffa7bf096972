"""Rendering, retries, failure pages, idempotence, the index, schedule and backfill."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wavekit.cli import app
from wavekit.reports import (
    ReportError,
    ReportFailedError,
    ReportParameterError,
    ReportRequest,
    ReportResult,
    next_run,
    render,
    schedule,
)

pytestmark = pytest.mark.usefixtures("python_kernel")


def no_sleep(_: float) -> None:
    pass


def test_render_is_idempotent_and_indexed(tiny_notebook: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first = render(ReportRequest(tiny_notebook, {"start": "2026-11-01", "end": "2026-11-02"}, out))
    assert not first.skipped
    assert first.html.name.startswith("2026-11-01_2026-11-02_")
    page = first.html.read_text()
    assert "Tiny section" in page
    assert "window 2026-11-01 2026-11-02" in page
    assert "print(" not in page  # code cells are hidden
    mtime = first.html.stat().st_mtime_ns

    again = render(ReportRequest(tiny_notebook, {"start": "2026-11-01", "end": "2026-11-02"}, out))
    assert again.skipped
    assert again.html == first.html
    assert first.html.stat().st_mtime_ns == mtime
    forced = render(
        ReportRequest(tiny_notebook, {"start": "2026-11-01", "end": "2026-11-02"}, out), force=True
    )
    assert not forced.skipped

    clock = iter([dt.datetime(2030, 1, 1, tzinfo=dt.UTC)])
    newer = render(
        ReportRequest(tiny_notebook, {"start": "2026-11-02", "end": "2026-11-03"}, out),
        clock=lambda: next(clock),
    )
    index = (out / "index.html").read_text()
    assert index.index(newer.html.name) < index.index(first.html.name)  # newest first
    assert newer.html.name in (out / "latest.html").read_text()


def test_unknown_parameter_is_refused_before_running(tiny_notebook: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportParameterError) as caught:
        render(ReportRequest(tiny_notebook, {"colour": "red"}, tmp_path))
    assert caught.value.fields == ["colour"]
    assert "allowed: end, fail, start" in str(caught.value)
    assert not list(tmp_path.rglob("*.html"))


def test_failed_render_is_retried_then_publishes_a_failure_page(
    tiny_notebook: Path, tmp_path: Path
) -> None:
    waits: list[float] = []
    request = ReportRequest(tiny_notebook, {"fail": True}, tmp_path)
    with pytest.raises(ReportFailedError) as caught:
        render(request, attempts=3, backoff_s=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0]  # three attempts, exponential backoff between them
    page = caught.value.failure_page.read_text()
    assert caught.value.failure_page == request.html_path
    assert "3 attempt(s) failed" in page
    assert "cell 2" in page
    assert "engine: must be local or athena" in page
    assert "raise ValueError" in page  # the failing cell's source
    assert caught.value.executed.is_file()  # the executed notebook is kept
    assert "failed" in (tmp_path / "index.html").read_text()


@pytest.mark.parametrize(
    ("every", "after", "expected"),
    [
        ("1h", "2026-01-01T10:20:00", "2026-01-01T11:00:00"),
        ("1h", "2026-01-01T11:00:00", "2026-01-01T12:00:00"),
        ("30m", "2026-01-01T10:20:00", "2026-01-01T10:30:00"),
        ("1d", "2026-01-01T10:20:00", "2026-01-02T00:00:00"),
        ("15 6 * * *", "2026-01-01T10:20:00", "2026-01-02T06:15:00"),
        ("0 */6 * * *", "2026-01-01T10:20:00", "2026-01-01T12:00:00"),
    ],
)
def test_next_run(every: str, after: str, expected: str) -> None:
    start = dt.datetime.fromisoformat(after).replace(tzinfo=dt.UTC)
    assert next_run(every, start) == dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("every", ["sometimes", "0h", "61 * * * *"])
def test_bad_schedule_names_the_option(every: str) -> None:
    with pytest.raises(ReportError, match="every"):
        next_run(every, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


class FakeClock:
    """Time that only moves when the scheduler sleeps (plus a little per render)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)  # each look at the clock costs a second
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_schedule_runs_each_slot_once(tiny_notebook: Path, tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 1, 9, 40, tzinfo=dt.UTC))
    results: list[ReportResult | ReportError] = []

    def make(fire: dt.datetime) -> ReportRequest:
        return ReportRequest(tiny_notebook, {"start": (fire - dt.timedelta(hours=1)).isoformat(),
                                             "end": fire.isoformat()}, tmp_path)  # fmt: skip

    runs = schedule(make, "1h", clock=clock, sleep=clock.sleep, max_runs=3,
                    on_result=results.append)  # fmt: skip
    assert runs == 3
    fired = [json.loads(p.read_text())["parameters"]["end"] for p in tmp_path.glob("*/*.json")]
    assert sorted(fired) == [
        "2026-03-01T10:00:00+00:00",
        "2026-03-01T11:00:00+00:00",
        "2026-03-01T12:00:00+00:00",
    ]
    assert all(isinstance(r, ReportResult) and not r.skipped for r in results)

    # a restarted scheduler in the same hour finds the slot done: skipped, not rendered again
    clock.now = dt.datetime(2026, 3, 1, 10, 59, 50, tzinfo=dt.UTC)
    schedule(make, "1h", clock=clock, sleep=clock.sleep, max_runs=1, on_result=results.append)
    assert isinstance(results[-1], ReportResult)
    assert results[-1].skipped
    assert len(list(tmp_path.glob("*/*.json"))) == 3


def test_backfill_renders_one_report_per_day_once(tiny_notebook: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["report", "backfill", "--from", "2026-02-27", "--to", "2026-03-01",
            "--notebook", str(tiny_notebook), "--out", str(tmp_path)]  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert first.output.count("rendered") == 3
    names = sorted(p.name for p in tmp_path.glob("*/*.html"))
    assert [n[:21] for n in names] == [
        "2026-02-27_2026-02-28",
        "2026-02-28_2026-03-01",
        "2026-03-01_2026-03-02",
    ]
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert again.output.count("skipped") == 3


def test_cli_run_exits_non_zero_on_failure(tiny_notebook: Path, tmp_path: Path) -> None:
    base = ["report", "run", "--notebook", str(tiny_notebook), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*base, "-p", "fail=true", "--attempts", "1"])
    assert result.exit_code == 1
    assert "engine: must be local or athena" in result.output
    bad = CliRunner().invoke(app, [*base, "-p", "colour=red"])
    assert bad.exit_code == 2
    assert "colour" in bad.output
