"""The usage report's charts: every one titled, every axis labelled with its unit.

Figures are built without ``pyplot`` (no global state, no GUI backend) and shown as PNG
images (:func:`show`), so the exported HTML report is one self-contained file.
Labels use :mod:`.formatting`, so a chart names an entry as its table does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wavekit.reports import formatting as fmt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from wavekit.ports.analytics import Leaderboard
    from wavekit.reports.usage import UsageReport

DPI = 100
REQUESTS = "#1f5fa8"
ERRORS = "#c0392b"
PERCENTILES = (("p50_ms", "p50", "#8fb3de"), ("p95_ms", "p95", "#1f5fa8"),
               ("p99_ms", "p99", "#0b2f5c"))  # fmt: skip
BOARD = "#2e8b57"
SPECTRUM_RATE = 48_000
"""Sample rate of the chord synthesised for the spectrum chart."""


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _tidy(ax: Axes, grid_axis: str = "y") -> None:
    """Light grid behind the data, no box: the data carries the ink."""
    ax.grid(True, axis=grid_axis, alpha=0.3)  # type: ignore[arg-type]
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _thousands(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def hourly_figure(report: UsageReport) -> Figure:
    """Requests and errors per hour over the window, and the average day (UTC)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.ticker import FuncFormatter

    fig = _figure(11, 3.8)
    series_ax, profile_ax = fig.subplots(1, 2, width_ratios=[3, 1])
    hourly = report.hourly
    if len(hourly):
        hours = hourly["hour"].dt.tz_convert("UTC").dt.tz_localize(None)
        series_ax.fill_between(hours, hourly["requests"], color=REQUESTS, alpha=0.12, lw=0)
        series_ax.plot(hours, hourly["requests"], lw=1.0, color=REQUESTS, label="requests")
        series_ax.plot(hours, hourly["errors"], lw=1.0, color=ERRORS, label="errors")
        series_ax.legend(loc="upper left", frameon=False)
        profile = hourly.groupby(hours.dt.hour)["requests"].mean()
        profile_ax.bar(profile.index, profile.values, color=REQUESTS, width=0.8)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        series_ax.xaxis.set_major_locator(locator)
        series_ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    series_ax.set_title("Requests per hour (UTC)", loc="left")
    series_ax.set_xlabel("time (UTC)")
    series_ax.set_ylabel("requests per hour")
    series_ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    profile_ax.set_title("Average day (UTC)", loc="left")
    profile_ax.set_xlabel("hour of day (UTC)")
    profile_ax.set_ylabel("requests per hour (mean)")
    profile_ax.set_xticks([0, 6, 12, 18, 23])
    for ax in (series_ax, profile_ax):
        _tidy(ax)
    return fig


def latency_figure(report: UsageReport) -> Figure:
    """p50 / p95 / p99 latency per route, in ms on a log scale (fast and slow routes fit)."""
    from matplotlib.ticker import FuncFormatter

    frame = report.latency.iloc[::-1]
    fig = _figure(11, 0.45 * max(4, len(frame)) + 1.2)
    ax = fig.subplots()
    rows = range(len(frame))
    for offset, (column, label, colour) in zip((0.25, 0.0, -0.25), PERCENTILES, strict=True):
        ax.barh([r + offset for r in rows], frame[column], height=0.25, label=label, color=colour)
    ax.set_yticks(list(rows), list(frame["route"]))
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_title("Latency per route: p50, p95 and p99 (ms)", loc="left")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3,
              frameon=False)  # fmt: skip
    _tidy(ax, "x")
    return fig


def errors_figure(report: UsageReport) -> Figure:
    """Failed requests by HTTP status and error code."""
    fig = _figure(8, 3.2)
    ax = fig.subplots()
    frame = report.errors
    if len(frame):
        labels = [f"{int(s)}\n{c}" for s, c in zip(frame["status_code"], frame["error_code"],
                                                    strict=True)]  # fmt: skip
        bars = ax.bar(labels, frame["requests"], color=ERRORS)
        ax.bar_label(bars, labels=[fmt.count(v) for v in frame["requests"]], padding=2)
    else:
        ax.text(0.5, 0.5, "no errors in this window", transform=ax.transAxes, ha="center")
    ax.set_title("Errors by code (requests)", loc="left")
    ax.set_ylabel("requests")
    ax.margins(y=0.15)
    _tidy(ax)
    return fig


def board_label(entry: dict[str, Any]) -> str:
    """How one leaderboard entry is named on a chart (as in its table, shorter)."""
    if "frequency" in entry:
        return fmt.frequency_label(entry["frequency"])
    if "chord" in entry:
        return fmt.chord_notes(entry["chord"])
    if "client_id" in entry:
        return str(entry["client_id"])
    return fmt.chord_notes(entry.get("frequencies", []))


def board_figure(board: Leaderboard) -> Figure:
    """The board's entries as horizontal bars, best at the top, each labelled with its value."""
    entries = list(board.entries)[::-1]
    from wavekit.reports.tables import board_metric, board_title

    by_bytes = board_metric(board) == "bytes"
    values = [e["value"] / 1e6 if by_bytes else e["value"] for e in entries]
    fig = _figure(8, 0.32 * max(4, len(entries)) + 1.1)
    ax = fig.subplots()
    bars = ax.barh([board_label(e) for e in entries], values, color=BOARD)
    texts = [fmt.megabytes_number(e["value"]) if by_bytes else fmt.count(e["value"])
             for e in entries]  # fmt: skip
    ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
    unit = "data (MB)" if by_bytes else "requests"
    ax.set_xlabel(unit)
    ax.set_title(board_title(board), loc="left")
    ax.margins(x=0.12)
    _tidy(ax, "x")
    return fig


def chord_spectrum_figure(report: UsageReport) -> Figure:
    """The magnitude spectrum (dBFS) of the most requested chord of the window's last week."""
    from wavekit import ToneSpec, render
    from wavekit.plots import spectrum_figure

    chord = report.top_chord or (440.0,)
    audible = [f for f in chord if f < SPECTRUM_RATE / 2] or [440.0]
    spec = ToneSpec(frequencies=audible, duration=1.0, sample_rate=SPECTRUM_RATE, volume=0.5)
    title = f"Spectrum of {fmt.chord_label(audible)}: level (dBFS) by frequency (Hz)"
    return spectrum_figure(render(spec), spec.sample_rate, peaks=len(audible), figsize=(10, 4),
                           dpi=DPI, title=title)  # fmt: skip


def show(fig: Figure) -> Any:
    """An IPython image of a figure (PNG), so reports embed it whatever the backend."""
    from IPython.display import Image

    from wavekit.plots import figure_png

    return Image(data=figure_png(fig))  # type: ignore[no-untyped-call]
