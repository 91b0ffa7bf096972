"""The usage report's content behind ``notebooks/05_usage_report.ipynb``: its data.

The notebook only lays the sections out; everything it shows is computed in this
package (and tested here): :func:`build` runs the queries (headline numbers, requests per
hour, latency per route, errors by code, cost per day, the leaderboards, the week's top
chord), :func:`headline_html` shows the headline, :mod:`.tables` the tables for people
and :mod:`.charts` the charts.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.errors import InvalidSpecError
from wavekit.reports import formatting as fmt

if TYPE_CHECKING:
    import pandas as pd

    from wavekit.ports.analytics import Leaderboard, Warehouse

REPORT_BOARDS = ("frequencies_by_requests", "chords_by_requests", "clients_by_requests")
TOP_CHORD_DAYS = 7


def parse_day(value: str | dt.date | dt.datetime, field: str) -> dt.datetime:
    """``2026-11-01`` (or a datetime) → aware UTC midnight/instant; errors name the field."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidSpecError.single(
            field, f"{value!r} is not an ISO date like 2026-11-01"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@dataclass
class UsageReport:
    """Everything one report shows, for the window ``[start, end)``."""

    title: str
    start: dt.datetime
    end: dt.datetime
    engine: str
    summary: dict[str, Any]
    hourly: pd.DataFrame
    latency: pd.DataFrame
    errors: pd.DataFrame
    cost: pd.DataFrame
    tone_kinds: pd.DataFrame
    boards: dict[str, Leaderboard]
    top_chord: tuple[float, ...] | None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the report by name (each is also written as CSV)."""
        import pandas as pd

        tables = {
            "summary": pd.DataFrame([self.summary]),
            "requests_per_hour": self.hourly,
            "latency_by_route": self.latency,
            "errors_by_code": self.errors,
            "cost_per_day": self.cost,
            "tone_kinds": self.tone_kinds,
        }
        tables.update({name: board.to_frame() for name, board in self.boards.items()})
        return tables

    def write_tables(self, directory: str | Path | None) -> list[Path]:
        """Write each table as ``<directory>/<name>.csv`` (nothing when ``directory`` is None).

        The CSVs are for programs: raw values, ISO times; a board's ranks stay whole
        numbers, its chords JSON arrays and a new entry's previous rank empty
        (:meth:`Leaderboard.to_csv`).
        """
        if directory is None:
            return []
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.tables().items():
            path = target / f"{name}.csv"
            if name in self.boards:
                path.write_text(self.boards[name].to_csv(), encoding="utf-8")
            else:
                frame.to_csv(path, index=False)
            written.append(path)
        return written


def build(
    warehouse: Warehouse, start: dt.datetime, end: dt.datetime, *, n: int = 10, title: str = ""
) -> UsageReport:
    """Run the usage queries and leaderboards over ``[start, end)``."""
    from wavekit.analytics.leaderboards import compute_leaderboard, usage
    from wavekit.analytics.windows import span

    if end <= start:
        raise InvalidSpecError.single(
            "end", f"must be after start ({start.date()}), got {end.date()}"
        )

    def usage_frame(name: str) -> pd.DataFrame:
        return usage(warehouse, name, start=start, end=end).frame

    summary_frame = usage_frame("summary")
    rows = summary_frame.to_dict(orient="records")  # per column, so counts stay integers
    summary = {k: _plain(v) for k, v in rows[0].items()} if rows else {}
    cost = usage_frame("lambda_cost")
    summary["estimated_cost_usd"] = float(cost["total_usd"].sum()) if len(cost) else 0.0
    boards = {
        name: compute_leaderboard(warehouse, name, n=n, span=span(start, end))
        for name in REPORT_BOARDS
    }
    week = span(max(start, end - dt.timedelta(days=TOP_CHORD_DAYS)), end)
    weekly = compute_leaderboard(warehouse, "chords_by_requests", n=1, span=week)
    top_chord = tuple(weekly.entries[0]["chord"]) if weekly.entries else None
    return UsageReport(
        title=title or f"wavekit usage {start.date()} – {end.date()}",
        start=start,
        end=end,
        engine=warehouse.engine,
        summary=summary,
        hourly=usage_frame("requests_per_hour"),
        latency=usage_frame("latency_by_route"),
        errors=usage_frame("errors_by_code"),
        cost=cost,
        tone_kinds=usage_frame("tone_kinds"),
        boards=boards,
        top_chord=top_chord,
    )


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# -- the headline -------------------------------------------------------------------------

ENGINE_NAMES = {"duckdb": "DuckDB over the local event lake", "athena": "Amazon Athena"}

_HEADLINE_STYLE = """<style>
.wk-window{color:#444;margin:0 0 .9rem}
.wk-cards{display:flex;gap:.9rem;flex-wrap:wrap;margin:0 0 .5rem}
.wk-card{border:1px solid #dde3ea;border-left:4px solid #1f5fa8;border-radius:.4rem;
  padding:.7rem 1.1rem;min-width:9.5rem;background:#fbfcfe}
.wk-card .value{font-size:1.7rem;font-weight:650;white-space:nowrap;
  font-variant-numeric:tabular-nums}
.wk-card .label{color:#333;font-weight:600;margin-top:.1rem}
.wk-card .detail{color:#666;font-size:.85rem;white-space:nowrap}
</style>"""


def headline_cards(report: UsageReport) -> list[tuple[str, str, str]]:
    """The headline numbers as (label, value with unit, detail) for people."""
    s = report.summary
    return [
        ("Requests", fmt.count(s.get("requests") or 0),
         f"{fmt.count(s.get('tone_requests') or 0)} tone requests"),
        ("Unique clients", fmt.count(s.get("unique_clients") or 0), "by client id or address"),
        ("Error rate", fmt.percent(s.get("error_rate") or 0),
         f"{fmt.count(s.get('errors') or 0)} failed requests"),
        ("Data served", fmt.megabytes(s.get("bytes_out") or 0),
         f"{fmt.count(s.get('downloads') or 0)} downloads"),
        ("Estimated cost", fmt.usd(s.get("estimated_cost_usd") or 0), "AWS list prices"),
    ]  # fmt: skip


def headline_html(report: UsageReport) -> str:
    """The window, where the numbers come from, and the headline numbers as cards."""
    computed = max((b.computed_at for b in report.boards.values()), default=None)
    facts = [fmt.window(report.start, report.end),
             f"queried with {ENGINE_NAMES.get(report.engine, report.engine)}"]  # fmt: skip
    if computed is not None:
        facts.append(f"computed {fmt.moment(computed)}")
    cards = "".join(
        f'<div class="wk-card"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div>'
        f'<div class="detail">{html.escape(detail)}</div></div>'
        for label, value, detail in headline_cards(report)
    )
    window = html.escape(" · ".join(facts))
    return f'{_HEADLINE_STYLE}<p class="wk-window">{window}</p><div class="wk-cards">{cards}</div>'


def top_chord_markdown(report: UsageReport) -> str:
    """One line naming the week's most requested chord by its notes and frequencies."""
    if not report.top_chord:
        return "No chord of two or more notes was requested in the window's last week."
    return (
        f"The most requested chord of the last {TOP_CHORD_DAYS} days: "
        f"**{fmt.chord_notes(report.top_chord)}** ({fmt.chord_hertz(report.top_chord)})."
    )
