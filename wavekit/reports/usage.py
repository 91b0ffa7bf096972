"""The usage report's content behind ``notebooks/05_usage_report.ipynb``: data, tables, figures.

The notebook only lays the sections out; everything it shows is computed here (and
tested here): headline numbers, requests per hour with the diurnal profile, latency per
route, errors by code, the leaderboards, and the spectrum of the week's top chord.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.errors import FieldProblem, InvalidSpecError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from wavekit.ports.analytics import Leaderboard, Warehouse

REPORT_BOARDS = ("frequencies_by_requests", "chords_by_requests", "clients_by_requests")
ENGINES = ("local", "athena")
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


def open_warehouse(
    engine: str,
    lake: str | Path = "out/lake",
    athena_database: str = "wavekit_logs",
    athena_workgroup: str = "wavekit",
) -> Warehouse:
    """DuckDB over a local lake, or Athena in the project's workgroup."""
    if engine == "local":
        from wavekit.backends.local.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(lake)
    if engine == "athena":
        from wavekit.backends.aws.athena import AthenaWarehouse

        return AthenaWarehouse(database=athena_database, workgroup=athena_workgroup)
    raise InvalidSpecError([FieldProblem("engine", f"must be one of {ENGINES}, got {engine!r}")])


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
        }
        tables.update({name: board.to_frame() for name, board in self.boards.items()})
        return tables

    def write_tables(self, directory: str | Path | None) -> list[Path]:
        """Write each table as ``<directory>/<name>.csv`` (nothing when ``directory`` is None)."""
        if directory is None:
            return []
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.tables().items():
            path = target / f"{name}.csv"
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
        boards=boards,
        top_chord=top_chord,
    )


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# -- presentation -------------------------------------------------------------------------


def headline_html(report: UsageReport) -> str:
    """The headline numbers as a row of cards."""
    s = report.summary
    cards = [
        ("requests", f"{int(s.get('requests') or 0):,}"),
        ("unique clients", f"{int(s.get('unique_clients') or 0):,}"),
        ("error rate", f"{100 * float(s.get('error_rate') or 0):.2f} %"),
        ("bytes served", _human_bytes(int(s.get("bytes_out") or 0))),
        ("estimated cost", f"${float(s.get('estimated_cost_usd') or 0):,.2f}"),
    ]
    items = "".join(
        f'<div class="card"><div class="value">{html.escape(v)}</div>'
        f'<div class="label">{html.escape(k)}</div></div>'
        for k, v in cards
    )
    style = (
        "<style>.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;"
        "border-radius:.5rem;padding:.75rem 1.25rem;min-width:9rem}.card .value{font-size:1.6rem;"
        "font-weight:600}.card .label{color:#555}</style>"
    )
    window = f"{report.start:%Y-%m-%d %H:%M} – {report.end:%Y-%m-%d %H:%M} UTC"
    heading = f"<p>{html.escape(window)} · engine {html.escape(report.engine)}</p>"
    return f'{style}{heading}<div class="cards">{items}</div>'


def _human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1000
    return f"{size} TB"  # pragma: no cover


def _figure(width: float = 10, height: float = 3.6) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def hourly_figure(report: UsageReport) -> Figure:
    """Requests per hour over the window, and the average day (diurnal profile, UTC)."""
    fig = _figure(11, 3.8)
    series_ax, profile_ax = fig.subplots(1, 2, width_ratios=[3, 1])
    hourly = report.hourly
    if len(hourly):
        series_ax.plot(hourly["hour"], hourly["requests"], lw=0.8, label="requests")
        series_ax.plot(hourly["hour"], hourly["errors"], lw=0.8, color="tab:red", label="errors")
        series_ax.legend(loc="upper left")
        profile = hourly.groupby(hourly["hour"].dt.hour)["requests"].mean()
        profile_ax.bar(profile.index, profile.values, color="tab:blue")
    series_ax.set_title("requests per hour")
    profile_ax.set_title("average by hour of day (UTC)")
    profile_ax.set_xlabel("hour")
    series_ax.tick_params(axis="x", labelrotation=30)
    return fig


def latency_figure(report: UsageReport) -> Figure:
    """p50 / p95 / p99 latency per route (ms, log scale)."""
    fig = _figure(11, 0.45 * max(4, len(report.latency)) + 1)
    ax = fig.subplots()
    frame = report.latency.iloc[::-1]
    y = range(len(frame))
    for offset, column in zip((-0.25, 0, 0.25), ("p50_ms", "p95_ms", "p99_ms"), strict=True):
        ax.barh(
            [v + offset for v in y], frame[column], height=0.25, label=column.removesuffix("_ms")
        )
    ax.set_yticks(list(y), frame["route"])
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.legend(loc="lower right")
    ax.set_title("latency per route")
    return fig


def errors_figure(report: UsageReport) -> Figure:
    fig = _figure(8, 3)
    ax = fig.subplots()
    frame = report.errors
    if len(frame):
        ax.bar(frame["error_code"].astype(str), frame["requests"], color="tab:red")
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_title("errors by code")
    return fig


def board_label(entry: dict[str, Any]) -> str:
    """How one leaderboard entry is named on a chart."""
    if "frequency" in entry:
        return f"{entry['frequency']:.1f} Hz"
    if "chord" in entry:
        return " + ".join(f"{f:.0f}" for f in entry["chord"])
    if "client_id" in entry:
        return str(entry["client_id"])
    return " + ".join(f"{f:.0f}" for f in entry.get("frequencies", []))


def board_figure(board: Leaderboard) -> Figure:
    """Top entries as horizontal bars, best at the top."""
    entries = list(board.entries)[::-1]
    fig = _figure(8, 0.35 * max(4, len(entries)) + 1)
    ax = fig.subplots()
    ax.barh([board_label(e) for e in entries], [e["value"] for e in entries], color="tab:green")
    ax.set_title(board.board.replace("_", " "))
    return fig


def chord_spectrum_figure(report: UsageReport) -> Figure:
    """The spectrum of the most requested chord of the window's last week."""
    from wavekit import ToneSpec, render
    from wavekit.plots import spectrum_figure

    chord = report.top_chord or (440.0,)
    nyquist = 48_000 / 2
    spec = ToneSpec(frequencies=[f for f in chord if f < nyquist] or [440.0], duration=1.0,
                    sample_rate=48_000, volume=0.5)  # fmt: skip
    return spectrum_figure(render(spec), spec.sample_rate, peaks=len(chord), figsize=(10, 4))


def show(fig: Figure) -> Any:
    """An IPython image of a figure (PNG), so reports embed it whatever the backend."""
    from IPython.display import Image

    from wavekit.plots import figure_png

    return Image(data=figure_png(fig))  # type: ignore[no-untyped-call]
