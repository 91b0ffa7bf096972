"""Analytics benchmark (DESIGN.md §6): one run, numbers printed as measured.

1. Generate 10 M synthetic events into a Parquet lake (events/s; goal ≥ 200 k/s).
2. A leaderboard over the lake on DuckDB (goal < 2 s), every board, and the same
   leaderboard computed in pandas for comparison.
3. Bytes read: Parquet with partition and column pruning vs a full scan of the same
   events as JSON lines (goal ≤ 1/10), and what Athena would charge for each.

Usage: ``python benchmarks/bench_analytics.py [--events N] [--days D] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
BOARD = "chords_by_requests"
WINDOW = "month"


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Median wall time of ``runs`` runs (after the first, which warms caches) and the result."""
    result = work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def pandas_board(lake: Path, start: dt.datetime, end: dt.datetime, prev: dt.datetime) -> Any:
    """The chords board in pandas: load only the needed columns and days, then group."""
    dataset = ds.dataset(lake, format="parquet", partitioning="hive")
    first, last = prev.date().isoformat(), (end - dt.timedelta(milliseconds=1)).date().isoformat()
    table = dataset.to_table(
        columns=["ts", "route", "status_code", "frequencies", "duration_s", "sample_rate",
                 "bits_per_sample", "channels"],
        filter=(ds.field("dt") >= first) & (ds.field("dt") <= last),
    )  # fmt: skip
    frame = table.to_pandas()
    frame = frame[(frame["route"] == "POST /waves") & frame["status_code"].between(200, 299)]
    frame = frame[(frame["ts"] >= pd.Timestamp(prev)) & (frame["ts"] < pd.Timestamp(end))]
    frame["chord"] = [tuple(sorted(set(f))) for f in frame["frequencies"]]
    frame = frame[frame["chord"].map(len) >= 2]
    frames = np.floor(frame["duration_s"] * frame["sample_rate"] + 0.5).astype("int64")
    frame["audio_bytes"] = frames * frame["channels"] * (frame["bits_per_sample"] // 8)
    frame["current"] = frame["ts"] >= pd.Timestamp(start)
    grouped = frame.groupby(["chord", "current"]).size().unstack(fill_value=0)
    grouped = grouped[grouped.get(True, 0) > 0]
    grouped["rank"] = grouped[True].rank(method="min", ascending=False)
    return grouped[grouped["rank"] <= 10].sort_values("rank")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--keep", type=Path, help="write the lake here and keep it")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wavekit-bench-"))
    lake = args.keep or work / "lake"
    try:
        print(f"DuckDB {duckdb.__version__}, pandas {pd.__version__}, {args.events:,} events")
        summary = generate_traffic(args.events, args.days, lake, seed=1, end=END)
        parquet_bytes = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
        print(
            f"generate: {summary.events:,} events over {args.days} days in {summary.seconds:.1f} s "
            f"= {summary.events_per_second:,.0f} events/s (goal >= 200,000); "
            f"Parquet lake {parquet_bytes / 1e6:,.0f} MB in {summary.files} files"
        )

        span = period(WINDOW, END)
        with DuckDBWarehouse(lake) as warehouse:
            seconds, board = best_of(
                3, lambda: compute_leaderboard(warehouse, BOARD, WINDOW, now=END)
            )
            print(
                f"duckdb {BOARD} ({WINDOW}): {seconds:.3f} s median of 3 (goal < 2 s), "
                f"{len(board.entries)} entries, {board.bytes_scanned / 1e6:,.1f} MB read"
            )
            started = time.perf_counter()
            for name in BOARDS:
                took, _ = best_of(1, lambda name=name: compute_leaderboard(
                    warehouse, name, WINDOW, now=END))  # fmt: skip
                print(f"  duckdb {name} ({WINDOW}): {took:.3f} s")
            print(
                f"duckdb all {len(BOARDS)} boards ({WINDOW}), run twice each: "
                f"{time.perf_counter() - started:.2f} s"
            )
            started = time.perf_counter()
            for name in BOARDS:
                compute_leaderboard(warehouse, name, "all", now=END)
            print(f"duckdb all {len(BOARDS)} boards (all): {time.perf_counter() - started:.2f} s")
            one_day = usage(
                warehouse,
                "latency_by_route",
                start=END - dt.timedelta(days=1),
                end=END,
            )

        p_seconds, p_board = best_of(
            1, lambda: pandas_board(lake, span.start, span.end, span.prev_start)
        )
        same = [list(k) for k in p_board.index] == [e["chord"] for e in board.entries]
        print(
            f"pandas {BOARD} ({WINDOW}): {p_seconds:.3f} s (pyarrow load of needed "
            f"columns/days + groupby); same top chords as DuckDB: {same}"
        )

        jsonl = work / "events.jsonl"
        con = duckdb.connect()
        started = time.perf_counter()
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{lake}/dt=*/*.parquet', hive_partitioning = true)) "
            f"TO '{jsonl}' (FORMAT json)"
        )
        json_bytes = jsonl.stat().st_size
        print(
            f"JSON lines copy: {json_bytes / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s"
        )
        con.execute("SET enable_profiling = 'no_output'")
        started = time.perf_counter()
        con.execute(
            f"SELECT count(*) FROM read_json('{jsonl}', format = 'newline_delimited') "
            "WHERE route = 'POST /waves'"
        ).fetchall()
        json_seconds = time.perf_counter() - started
        import json as _json

        read = _json.loads(con.get_profiling_information(format="json"))["io"]["total_bytes_read"]
        print(
            f"JSON full scan (DuckDB read_json): {read / 1e6:,.0f} MB read in {json_seconds:.1f} s"
        )
        month_ratio = board.bytes_scanned / json_bytes
        day_ratio = (one_day.bytes_scanned or 0) / json_bytes
        print(
            f"bytes, {BOARD} {WINDOW} on Parquet+pruning vs JSON full scan: "
            f"{board.bytes_scanned / 1e6:,.1f} MB / {json_bytes / 1e6:,.0f} MB = "
            f"1/{1 / month_ratio:,.0f} (goal <= 1/10)"
        )
        print(
            f"bytes, one-day latency report on Parquet+pruning vs JSON full scan: "
            f"{(one_day.bytes_scanned or 0) / 1e6:,.2f} MB = 1/{1 / day_ratio:,.0f}"
        )
        price = DEFAULT_PRICES
        print(
            "Athena cost at $5/TB: "
            f"board on Parquet ${price.athena_query_cost(board.bytes_scanned):.6f}, "
            f"JSON full scan ${price.athena_query_cost(json_bytes):.6f} per query"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
