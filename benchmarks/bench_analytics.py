"""Analytics benchmark: every board against a plain scan of the same lake, and the scale curve.

For each lake size (default 1 M, 4 M, 10 M and 100 M events over 90 days):

1. Generate the lake on disk, a day (or a ``--batch`` of events) at a time: events/s.
2. In one interleaved loop (``--runs`` rounds, medians): a *plain scan* of the whole lake
   on DuckDB (count, sum of ``bytes_out``, distinct clients) and every board, all-time
   and month, end to end (``compute_leaderboard``: SQL translation, query, result). Each
   board's ratio to the plain scan is the median of its per-round ratios (goal ≤ 5).
3. History growth, at ``--growth-events``: the month boards on that lake and on one with
   4× the history (4× the events over 4× the days, same end), interleaved; the ratio
   history / base per board (goal ≤ 1.2: partition pruning keeps a month a month).
4. Once, on the smallest lake: the DESIGN §6 checks (pandas board, bytes read against
   JSON lines, Athena cost per query).

Numbers go to ``--results`` (``.json`` and ``.csv``) and a log-log plot of time against
events (``--plot``). The machine is shared and noisy: compare ratios, not seconds.

Usage::

    python benchmarks/bench_analytics.py [--sizes 1M,4M,10M,100M] [--days 90] [--runs 3]
        [--growth-events 4M] [--work DIR] [--keep] [--skip-extras]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from wavekit.analytics import (
    BOARDS,
    DEFAULT_PRICES,
    compute_leaderboard,
    generate_traffic,
    period,
    usage,
)
from wavekit.backends.local import DuckDBWarehouse

ROOT = Path(__file__).resolve().parents[1]
END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
WINDOWS = ("all", "month")
PLAIN_SCAN = (
    "SELECT count(*) AS events, sum(bytes_out) AS bytes_out, "
    "count(DISTINCT client_id) AS clients FROM events"
)
"""The yardstick: one pass over the whole lake reading two columns, with a distinct count."""
BYTES_PER_EVENT = 60
"""A generous estimate of the lake's size per event (measured: about 43 B) for the disk check."""


def parse_count(text: str) -> int:
    """``1M`` / ``250k`` / ``1_000_000`` → an integer."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def label(events: int) -> str:
    return f"{events / 1e6:g}M" if events >= 1_000_000 else f"{events / 1e3:g}k"


class Timings:
    """Wall and CPU seconds (this process, every DuckDB thread) per item and round."""

    def __init__(self, names: list[str]) -> None:
        self.wall: dict[str, list[float]] = {name: [] for name in names}
        self.cpu: dict[str, list[float]] = {name: [] for name in names}

    def runs(self, clock: str) -> dict[str, list[float]]:
        return self.cpu if clock == "cpu" else self.wall

    def median(self, name: str, clock: str = "wall") -> float:
        return statistics.median(self.runs(clock)[name])

    def ratio(self, name: str, base: str, clock: str = "wall") -> float:
        """Median over rounds of ``name / base`` measured in the same round."""
        runs = self.runs(clock)
        return statistics.median(a / b for a, b in zip(runs[name], runs[base], strict=True))


def rounds(items: dict[str, Callable[[], object]], runs: int) -> Timings:
    """Warm every item once, then ``runs`` rounds, each running every item once in order.

    CPU time is the fair measure on a shared machine: a long query loses more wall time
    to other processes than a short one, which inflates wall-clock ratios.
    """
    for work in items.values():
        work()
    timings = Timings(list(items))
    for _ in range(runs):
        for name, work in items.items():
            wall, cpu = time.perf_counter(), time.process_time()
            work()
            timings.cpu[name].append(time.process_time() - cpu)
            timings.wall[name].append(time.perf_counter() - wall)
    return timings


def generate(lake: Path, events: int, days: int, batch: int) -> dict[str, Any]:
    """Generate the lake, or reuse one a previous run kept (``--keep``): then not timed."""
    if any(lake.glob("dt=*/*.parquet")):
        size = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
        print(f"  reusing {lake} ({size / 1e6:,.0f} MB): generation not timed")
        return {"generate_s": None, "events_per_s": None, "lake_bytes": size, "reused": True}
    summary = generate_traffic(events, days, lake, seed=1, end=END, batch_events=batch)
    size = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
    print(
        f"  generate {label(events)} over {days} days: {summary.seconds:.1f} s = "
        f"{summary.events_per_second:,.0f} events/s; {size / 1e6:,.0f} MB in {summary.files} files"
    )
    return {
        "generate_s": summary.seconds,
        "events_per_s": summary.events_per_second,
        "lake_bytes": size,
        "files": summary.files,
    }


def board_run(warehouse: DuckDBWarehouse, board: str, window: str) -> Callable[[], object]:
    return lambda: compute_leaderboard(warehouse, board, window, now=END)


def board_items(warehouse: DuckDBWarehouse) -> dict[str, Callable[[], object]]:
    return {
        f"{board}/{window}": board_run(warehouse, board, window)
        for window in WINDOWS
        for board in BOARDS
    }


def measure_boards(lake: Path, runs: int, threads: int | None) -> dict[str, Any]:
    """The plain scan and every board, interleaved; times and ratios to the plain scan."""
    with DuckDBWarehouse(lake, threads=threads) as warehouse:
        items: dict[str, Callable[[], object]] = {
            "plain": lambda: warehouse.run_sql(PLAIN_SCAN, name="plain_scan")
        }
        items.update(board_items(warehouse))
        timings = rounds(items, runs)
    plain, plain_cpu = timings.median("plain"), timings.median("plain", "cpu")
    print(
        f"  plain scan (count, sum bytes, distinct clients): {plain:.3f} s, cpu {plain_cpu:.3f} s"
    )
    print("  board                    window    wall s  x plain    cpu s  x plain")
    boards: dict[str, dict[str, float]] = {}
    for board in BOARDS:
        row: dict[str, float] = {}
        for window in WINDOWS:
            name = f"{board}/{window}"
            row[f"{window}_s"] = timings.median(name)
            row[f"{window}_ratio"] = timings.ratio(name, "plain")
            row[f"{window}_cpu_s"] = timings.median(name, "cpu")
            row[f"{window}_cpu_ratio"] = timings.ratio(name, "plain", "cpu")
            print(
                f"  {board:<24} {window:<6} {row[f'{window}_s']:9.3f} {row[f'{window}_ratio']:8.1f}"
                f" {row[f'{window}_cpu_s']:8.3f} {row[f'{window}_cpu_ratio']:8.1f}"
            )
        boards[board] = row
    for clock, key in (("wall", "all_ratio"), ("cpu", "all_cpu_ratio")):
        worst = max(boards, key=lambda b: boards[b][key])
        print(
            f"  slowest all-time board by {clock}: {worst} at {boards[worst][key]:.1f}x (goal <= 5)"
        )
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # a refresh computes every board for month, year and all; on a 90-day lake the year
    # window reads what all-time reads
    refresh = sum(2 * row["all_s"] + row["month_s"] for row in boards.values())
    print(
        f"  one refresh (every board x month, year, all) ~ {refresh:.1f} s; "
        f"peak memory of this process so far (DuckDB included): {peak_mb:,.0f} MB"
    )
    return {
        "peak_rss_mb": peak_mb,
        "refresh_s": refresh,
        "plain_s": plain,
        "plain_cpu_s": plain_cpu,
        "plain_runs": timings.wall["plain"],
        "boards": boards,
    }


def measure_growth(base: Path, history: Path, runs: int, threads: int | None) -> dict[str, Any]:
    """Month boards on ``history`` (4× the days) against ``base``, interleaved per round."""
    with (
        DuckDBWarehouse(base, threads=threads) as small,
        DuckDBWarehouse(history, threads=threads) as large,
    ):
        items = {
            f"{prefix}:{board}": board_run(warehouse, board, "month")
            for board in BOARDS
            for prefix, warehouse in (("base", small), ("history", large))
        }
        timings = rounds(items, runs)
        # The generator's traffic grows over its span, so the longer lake's last 60 days
        # hold more events (about 10 %): the per-event ratio is what history costs.
        span = period("month", END)
        count = (
            "SELECT count(*) AS n FROM events WHERE dt >= :prev_start_dt "
            "AND ts >= CAST(:prev_start_ts AS timestamp) AND ts < CAST(:end_ts AS timestamp)"
        )
        window_events = [
            int(w.run_sql(count, span.params()).frame["n"].iloc[0]) for w in (small, large)
        ]
    volume = window_events[1] / window_events[0]
    print(
        f"  the month's two periods hold {window_events[0]:,} and {window_events[1]:,} events "
        f"({volume:.3f}x)"
    )
    growth: dict[str, Any] = {"window_events": window_events}
    for board in BOARDS:
        base_s, history_s = timings.median(f"base:{board}"), timings.median(f"history:{board}")
        wall = timings.ratio(f"history:{board}", f"base:{board}")
        cpu = timings.ratio(f"history:{board}", f"base:{board}", "cpu")
        growth[board] = {
            "base_s": base_s,
            "history_s": history_s,
            "ratio": wall,
            "cpu_ratio": cpu,
            "per_event_ratio": wall / volume,
            "per_event_cpu_ratio": cpu / volume,
        }
        print(
            f"  {board:<24} month: {base_s:.3f} s -> {history_s:.3f} s with 4x the history = "
            f"{wall:.2f}x (cpu {cpu:.2f}x); per event {wall / volume:.2f}x "
            f"(cpu {cpu / volume:.2f}x)"
        )
    boards = [growth[b] for b in BOARDS]
    print(
        f"  largest month-board growth: {max(g['ratio'] for g in boards):.2f}x wall, "
        f"{max(g['cpu_ratio'] for g in boards):.2f}x cpu; per event "
        f"{max(g['per_event_ratio'] for g in boards):.2f}x wall, "
        f"{max(g['per_event_cpu_ratio'] for g in boards):.2f}x cpu (goal <= 1.2)"
    )
    return growth


def pandas_board(lake: Path, start: dt.datetime, end: dt.datetime, prev: dt.datetime) -> Any:
    """The chords board in pandas: load only the needed columns and days, then group."""
    dataset = ds.dataset(lake, format="parquet", partitioning="hive")
    first, last = prev.date().isoformat(), (end - dt.timedelta(milliseconds=1)).date().isoformat()
    table = dataset.to_table(
        columns=["ts", "route", "status_code", "frequencies"],
        filter=(ds.field("dt") >= first) & (ds.field("dt") <= last),
    )
    frame = table.to_pandas()
    frame = frame[(frame["route"] == "POST /waves") & frame["status_code"].between(200, 299)]
    frame = frame[(frame["ts"] >= pd.Timestamp(prev)) & (frame["ts"] < pd.Timestamp(end))]
    frame["chord"] = [tuple(sorted(set(f))) for f in frame["frequencies"]]
    frame = frame[frame["chord"].map(len) >= 2]
    frame["current"] = frame["ts"] >= pd.Timestamp(start)
    grouped = frame.groupby(["chord", "current"]).size().unstack(fill_value=0)
    grouped = grouped[grouped.get(True, 0) > 0]
    grouped["rank"] = grouped[True].rank(method="min", ascending=False)
    return grouped[grouped["rank"] <= 10].sort_values("rank")


def extras(lake: Path, work: Path) -> dict[str, float]:
    """DESIGN §6: DuckDB against pandas, and bytes read against a JSON-lines lake."""
    board_name, window = "chords_by_requests", "month"
    span = period(window, END)
    with DuckDBWarehouse(lake) as warehouse:
        board = compute_leaderboard(warehouse, board_name, window, now=END)
        one_day = usage(warehouse, "latency_by_route", start=END - dt.timedelta(days=1), end=END)
    started = time.perf_counter()
    frame = pandas_board(lake, span.start, span.end, span.prev_start)
    pandas_s = time.perf_counter() - started
    same = [list(k) for k in frame.index] == [e["chord"] for e in board.entries]
    board_bytes = board.bytes_scanned or 0
    print(f"  pandas {board_name} ({window}): {pandas_s:.3f} s; same top chords: {same}")

    jsonl = work / "events.jsonl"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{lake}/dt=*/*.parquet', hive_partitioning = true)) "
        f"TO '{jsonl}' (FORMAT json)"
    )
    json_bytes = jsonl.stat().st_size
    jsonl.unlink()
    month_ratio = board_bytes / json_bytes
    day_ratio = (one_day.bytes_scanned or 0) / json_bytes
    print(
        f"  bytes read, {board_name} {window} on Parquet+pruning vs the JSON-lines lake: "
        f"{board_bytes / 1e6:,.1f} MB / {json_bytes / 1e6:,.0f} MB = "
        f"1/{1 / month_ratio:,.0f} (goal <= 1/10); one-day latency report 1/{1 / day_ratio:,.0f}"
    )
    price = DEFAULT_PRICES
    print(
        f"  Athena at $5/TB: board ${price.athena_query_cost(board_bytes):.6f}, "
        f"JSON full scan ${price.athena_query_cost(json_bytes):.6f} per query"
    )
    return {
        "pandas_chords_month_s": pandas_s,
        "pandas_same_top": float(same),
        "board_bytes_read": float(board_bytes),
        "json_bytes": float(json_bytes),
    }


def fits_on_disk(work: Path, events: int, factor: int = 1) -> bool:
    free = shutil.disk_usage(work).free
    needed = events * factor * BYTES_PER_EVENT
    if needed > free - 5e9:
        print(
            f"  skipped: {label(events * factor)} events need about {needed / 1e9:.1f} GB, "
            f"{free / 1e9:.1f} GB free under {work}"
        )
        return False
    return True


def write_results(results: dict[str, Any], stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    with stem.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["events", "days", "query", "window", "seconds", "ratio_to_plain_scan",
                         "cpu_seconds", "cpu_ratio_to_plain_scan"])  # fmt: skip
        for size in results["sizes"]:
            events, days = size["events"], size["days"]
            if size["generate_s"] is not None:
                writer.writerow([events, days, "generate", "", f"{size['generate_s']:.3f}"])
            writer.writerow([events, days, "plain_scan", "all", f"{size['plain_s']:.4f}", "1",
                             f"{size['plain_cpu_s']:.4f}", "1"])  # fmt: skip
            for board, row in size["boards"].items():
                for window in WINDOWS:
                    writer.writerow([events, days, board, window, f"{row[f'{window}_s']:.4f}",
                                     f"{row[f'{window}_ratio']:.3f}",
                                     f"{row[f'{window}_cpu_s']:.4f}",
                                     f"{row[f'{window}_cpu_ratio']:.3f}"])  # fmt: skip
            # month boards with 4x the history: the ratio is history / this lake (goal <= 1.2)
            for board, row in size.get("month_growth", {}).items():
                if board == "window_events":
                    continue
                writer.writerow([events * 4, days * 4, board, "month_growth",
                                 f"{row['history_s']:.4f}", f"{row['ratio']:.3f}", "",
                                 f"{row['cpu_ratio']:.3f}"])  # fmt: skip
    print(f"results: {stem.with_suffix('.json')}, {stem.with_suffix('.csv')}")


def plot(results: dict[str, Any], path: Path) -> None:
    """Log-log: seconds against events, all-time boards (left) and month boards (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results["sizes"], key=lambda s: s["events"])
    if len(sizes) < 2:
        print("plot skipped: fewer than two lake sizes")
        return
    events = np.array([s["events"] for s in sizes], dtype=float)
    plain = np.array([s["plain_s"] for s in sizes])
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), sharey=True)
    colours = plt.get_cmap("tab10")
    for axis, window in zip(axes, WINDOWS, strict=True):
        for index, board in enumerate(BOARDS):
            seconds = [s["boards"][board][f"{window}_s"] for s in sizes]
            style = "-" if board.endswith("requests") else "--"
            axis.plot(events, seconds, style, marker="o", ms=3, color=colours(index // 2),
                      label=board, lw=1.2)  # fmt: skip
        axis.plot(events, plain, "-", color="black", lw=2.2, marker="s", label="plain scan")
        if window == "all":
            axis.plot(events, 5 * plain, ":", color="black", lw=1.2, label="5 × plain scan")
        else:
            made = [(e, s["generate_s"]) for e, s in zip(events, sizes, strict=True)
                    if s["generate_s"] is not None]  # fmt: skip
            if made:
                axis.plot(*zip(*made, strict=True), "-.", color="grey", marker="^",
                          label="generate lake")  # fmt: skip
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("events in the lake (90 days)")
        axis.set_title("all-time boards" if window == "all" else "month boards (last 30 days)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("seconds (median, DuckDB, end to end)")
    fig.suptitle(
        f"wavekit analytics on one machine ({results['machine']['cpus']} cores, "
        f"DuckDB {results['machine']['duckdb']}): time against events"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,4M,10M,100M", help="lake sizes, comma-separated")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds per lake")
    parser.add_argument("--growth-events", default="4M", help="base lake of the growth check")
    parser.add_argument("--batch", default="2M", help="most events generated in memory at once")
    parser.add_argument("--work", type=Path, help="where lakes go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the lakes (reused next run)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: every core)")
    parser.add_argument("--skip-extras", action="store_true", help="skip the DESIGN §6 checks")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks/results/analytics")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs/images/analytics_scale.png")
    args = parser.parse_args()

    sizes = sorted(parse_count(s) for s in args.sizes.split(","))
    growth_events = parse_count(args.growth_events) if args.growth_events else 0
    batch = parse_count(args.batch)
    work = args.work or Path(tempfile.mkdtemp(prefix="wavekit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    machine = {
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "duckdb": duckdb.__version__,
        "load_average_at_start": os.getloadavg()[0],
    }
    print(
        f"DuckDB {duckdb.__version__}, pandas {pd.__version__}, {machine['cpus']} cores, "
        f"load average {machine['load_average_at_start']:.1f}; lakes under {work}"
    )
    results: dict[str, Any] = {"machine": machine, "days": args.days, "runs": args.runs,
                               "sizes": []}  # fmt: skip
    try:
        for events in sizes:
            print(f"{label(events)} events over {args.days} days")
            if not fits_on_disk(work, events):
                continue
            lake = work / f"lake-{label(events)}"
            size: dict[str, Any] = {"events": events, "days": args.days}
            size.update(generate(lake, events, args.days, batch))
            size.update(measure_boards(lake, args.runs, args.threads))
            if events == growth_events and fits_on_disk(work, events, 4):
                history = work / f"lake-{label(events)}-history"
                print(f"  history growth: {label(4 * events)} events over {4 * args.days} days")
                size["history"] = generate(history, 4 * events, 4 * args.days, batch)
                size["month_growth"] = measure_growth(lake, history, args.runs, args.threads)
                if not args.keep:
                    shutil.rmtree(history)
            if not args.skip_extras and "extras" not in results and events <= 10_000_000:
                results["extras"] = {"events": events, **extras(lake, work)}
            results["sizes"].append(size)
            write_results(results, args.results)
            if not args.keep:
                shutil.rmtree(lake)
        plot(results, args.plot)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
