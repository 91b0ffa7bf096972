"""Independent pandas computations of every leaderboard and usage query.

Written from the definitions in athena/*.sql headers, without sqlglot or DuckDB, so the
tests compare two implementations rather than one implementation with itself.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from wavekit.events import read_lake

DOWNLOAD = re.compile(
    r"^(\S+ /waves/.+/(download|chunks/.+)|GET /wavebuilder/delivery|GET /files/\{token\})$"
)
TONE_ROUTES = {"POST /waves", "POST /wavebuilder/main"}
SPEC_COLUMNS = ["duration_s", "sample_rate", "bits_per_sample", "channels", "volume"]
KIND_COLUMNS = ["waveforms", "sweep_ends", "noise"]


def load_events(lake: Any) -> pd.DataFrame:
    """The lake as pandas, with the dt partition recovered from each file's folder."""
    table = read_lake(lake)
    frame = table.to_pandas()
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["dt"] = frame["ts"].dt.strftime("%Y-%m-%d")
    return enrich(frame)


def enrich(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["success"] = frame["status_code"] < 400
    frame["is_tone_request"] = frame["route"].isin(TONE_ROUTES) & frame["status_code"].between(
        200, 299
    )
    frame["is_download"] = frame["route"].map(lambda r: bool(DOWNLOAD.match(r))) & (
        frame["status_code"] < 400
    )
    frame["chord"] = [
        None if f is None else tuple(sorted({float(x) for x in f})) for f in frame["frequencies"]
    ]
    frame["waveforms"] = [None if w is None else tuple(w) for w in frame["waveforms"]]
    frame["sweep_ends"] = [
        None if e is None else tuple(None if v is None or pd.isna(v) else float(v) for v in e)
        for e in frame["sweep_ends"]
    ]
    # A spec's frequencies are sorted unless waveforms or sweep ends run parallel to them.
    frame["spec_frequencies"] = [
        None if f is None else tuple(float(x) for x in (f if keep else sorted(f)))
        for f, keep in zip(
            frame["frequencies"],
            frame["waveforms"].notna() | frame["sweep_ends"].notna(),
            strict=True,
        )
    ]

    def audio(row: Any) -> float:
        if pd.isna(row.duration_s):
            return math.nan
        frames = math.floor(row.duration_s * row.sample_rate + 0.5)  # SQL round: half up
        return float(frames * int(row.channels) * (int(row.bits_per_sample) // 8))

    frame["audio_bytes"] = [audio(r) for r in frame.itertuples()]
    frame["hour"] = frame["ts"].dt.floor("h")
    return frame


def in_span(frame: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    return frame[(frame["ts"] >= pd.Timestamp(start)) & (frame["ts"] < pd.Timestamp(end))]


def _board_rows(
    frame: pd.DataFrame, kind: str, start: dt.datetime, end: dt.datetime, prev_start: dt.datetime
) -> tuple[pd.DataFrame, list[str]]:
    """Per key: current/previous requests and bytes."""
    scoped = in_span(frame, prev_start, end)
    current = scoped["ts"] >= pd.Timestamp(start)
    if kind == "specs":
        # A download's spec: the one its event carries; older events carry none, and take
        # the spec of the POST /waves that created the request.
        spec = ["spec_frequencies", *KIND_COLUMNS, *SPEC_COLUMNS]
        tones = frame[frame["is_tone_request"]][["request_id", *spec]].drop_duplicates(
            subset=["request_id"]
        )
        downloads = scoped[scoped["is_download"] & scoped["request_id"].notna()].copy()
        downloads["current"] = downloads["ts"] >= pd.Timestamp(start)
        carried = downloads["duration_s"].notna()
        # A claim (one flagged event per request) counts the request; an event without the
        # flag (older) or without a spec counts its request id, once per period.
        flagged = downloads["download_claim"].notna() & carried
        downloads["claim"] = flagged & downloads["download_claim"].fillna(False).astype(bool)
        downloads["older_request"] = downloads["request_id"].where(~flagged)
        measures = ["request_id", "older_request", "claim", "current", "bytes_out"]
        joined = pd.concat(
            [
                downloads.loc[carried, [*measures, *spec]],
                downloads.loc[~carried, measures].merge(tones, on="request_id"),
            ]
        )
        keys = spec
        rows = []
        # Group on plain tuples: pandas would turn null keys into NaN and ints into floats.
        joined["key"] = [
            tuple(None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in k)
            for k in zip(*(joined[c] for c in keys), strict=True)
        ]
        for key, group in joined.groupby("key", sort=False):
            cur, prev = group[group["current"]], group[~group["current"]]
            rows.append(
                (*key, int(cur["claim"].sum()) + cur["older_request"].nunique(),
                 int(cur["bytes_out"].sum()),
                 int(prev["claim"].sum()) + prev["older_request"].nunique(),
                 int(prev["bytes_out"].sum()))
            )  # fmt: skip
        columns = ["frequencies", *KIND_COLUMNS, *SPEC_COLUMNS]
        return pd.DataFrame(  # object: keep None and ints as they are
            rows,
            columns=[*columns, "requests", "bytes", "prev_requests", "prev_bytes"],
            dtype=object,
        ), columns
    tones = scoped[scoped["is_tone_request"]].assign(current=current)
    if kind in ("frequencies", "chords"):  # fixed pitches: a spec with a sweep has none
        tones = tones[tones["sweep_ends"].isna()]
    if kind == "frequencies":
        tones = tones.explode("chord").rename(columns={"chord": "frequency"})
        key = "frequency"
    elif kind == "chords":
        tones = tones[tones["chord"].map(len) >= 2]
        key = "chord"
    else:
        tones = tones[tones["client_id"].notna()]
        key = "client_id"
    rows = []
    for value, group in tones.groupby(key):
        cur, prev = group[group["current"]], group[~group["current"]]
        rows.append(
            (
                value,
                len(cur),
                int(cur["audio_bytes"].sum()),
                len(prev),
                int(prev["audio_bytes"].sum()),
            )
        )
    return pd.DataFrame(rows, columns=[key, "requests", "bytes", "prev_requests", "prev_bytes"]), [
        key
    ]


def leaderboard(
    frame: pd.DataFrame,
    kind: str,
    metric: str,
    start: dt.datetime,
    end: dt.datetime,
    prev_start: dt.datetime,
    n: int,
) -> list[dict[str, Any]]:
    """Expected entries: rank = 1 + number of keys with a strictly larger value."""
    rows, keys = _board_rows(frame, kind, start, end, prev_start)
    rows["value"] = rows["bytes"] if metric == "bytes" else rows["requests"]
    rows["prev_value"] = rows["prev_bytes"] if metric == "bytes" else rows["prev_requests"]
    current = rows[rows["value"] > 0].copy()
    values = current["value"].to_numpy()
    current["rank"] = [1 + int((values > v).sum()) for v in values]
    previous = rows[rows["prev_value"] > 0]
    prev_values = previous["prev_value"].to_numpy()
    prev_rank = {
        tuple(_key(r, keys)): 1 + int((prev_values > r["prev_value"]).sum())
        for _, r in previous.iterrows()
    }
    entries = []
    for _, r in current[current["rank"] <= n].iterrows():
        key = _key(r, keys)
        previous_rank = prev_rank.get(tuple(key))
        entry: dict[str, Any] = {"rank": int(r["rank"])}
        for name, value in zip(keys, key, strict=True):
            entry[name] = list(value) if isinstance(value, tuple) else value
        entry.update(
            value=int(r["value"]),
            requests=int(r["requests"]),
            bytes=int(r["bytes"]),
            prev_value=int(r["prev_value"]),
            prev_rank=previous_rank,
            rank_change=None if previous_rank is None else previous_rank - int(r["rank"]),
        )
        entries.append(entry)
    entries.sort(key=lambda e: (e["rank"], *[_sortable(e[k]) for k in keys]))
    return entries


def _key(row: Any, keys: list[str]) -> list[Any]:
    out = []
    for k in keys:
        value = row[k]
        if isinstance(value, np.generic):
            value = value.item()
        out.append(value)
    return out


def _sortable(value: Any) -> Any:
    """SQL's ascending order: nulls last (Athena and DuckDB alike)."""
    if value is None:
        return (1,)
    return (0, tuple(value) if isinstance(value, list) else value)


# --- usage ------------------------------------------------------------------------------


def usage(frame: pd.DataFrame, name: str, start: dt.datetime, end: dt.datetime,
          prices: Any) -> pd.DataFrame:  # fmt: skip
    s = in_span(frame, start, end)
    if name == "summary":
        errors = int((~s["success"]).sum())
        return pd.DataFrame(
            [{
                "requests": len(s),
                "unique_clients": s["client_id"].nunique(),
                "errors": errors,
                "error_rate": errors / len(s) if len(s) else 0.0,
                "bytes_out": int(s["bytes_out"].sum()),
                "tone_requests": int(s["is_tone_request"].sum()),
                "downloads": int(s["is_download"].sum()),
            }]
        )  # fmt: skip
    if name == "requests_per_hour":
        g = s.groupby("hour")
        out = pd.DataFrame(
            {
                "requests": g.size(),
                "errors": g["success"].apply(lambda x: int((~x).sum())),
                "bytes_out": g["bytes_out"].sum(),
            }
        ).reset_index()
        return out.sort_values("hour").reset_index(drop=True)
    if name == "requests_per_day":
        g = s.groupby("dt")
        out = pd.DataFrame(
            {
                "requests": g.size(),
                "errors": g["success"].apply(lambda x: int((~x).sum())),
                "tone_requests": g["is_tone_request"].sum(),
                "downloads": g["is_download"].sum(),
            }
        ).reset_index()
        return out.rename(columns={"dt": "day"}).sort_values("day").reset_index(drop=True)
    if name == "latency_by_route":
        g = s.groupby("route")["latency_ms"]
        out = pd.DataFrame(
            {
                "requests": g.size(),
                "p50_ms": g.quantile(0.5),
                "p95_ms": g.quantile(0.95),
                "p99_ms": g.quantile(0.99),
                "max_ms": g.max(),
            }
        ).reset_index()
        return out.sort_values(["requests", "route"], ascending=[False, True]).reset_index(
            drop=True
        )
    if name == "errors_by_code":
        failed = s[~s["success"]].assign(error_code=lambda d: d["error_code"].fillna("unknown"))
        out = failed.groupby(["status_code", "error_code"]).size().rename("requests").reset_index()
        out["error_rate"] = out["requests"] / len(s)
        return out.sort_values(
            ["requests", "status_code", "error_code"], ascending=[False, True, True]
        ).reset_index(drop=True)
    if name == "bytes_served":
        g = s.groupby(["dt", "route"])
        out = pd.DataFrame({"requests": g.size(), "bytes_out": g["bytes_out"].sum()}).reset_index()
        out = out.rename(columns={"dt": "day"})
        return out.sort_values(
            ["day", "bytes_out", "route"], ascending=[True, False, True]
        ).reset_index(drop=True)
    if name == "cold_starts":
        rows: list[tuple[Any, ...]] = []
        for day, g in s.groupby("dt"):
            cold, warm = g[g["cold_start"]], g[~g["cold_start"]]
            rows.append(
                (day, len(g), len(cold), len(cold) / len(g),
                 cold["latency_ms"].mean() if len(cold) else np.nan,
                 warm["latency_ms"].mean() if len(warm) else np.nan)
            )  # fmt: skip
        return pd.DataFrame(
            rows,
            columns=["day", "invocations", "cold_starts", "cold_start_rate",
                     "cold_latency_ms", "warm_latency_ms"],
        )  # fmt: skip
    if name == "unique_clients":
        g = s.groupby("dt")
        out = pd.DataFrame(
            {"unique_clients": g["client_id"].nunique(), "requests": g.size()}
        ).reset_index()
        return out.rename(columns={"dt": "day"})
    if name == "lambda_cost":
        rows = []
        for day, g in s.groupby("dt"):
            requests = len(g)
            gb_seconds = np.ceil(g["latency_ms"]).sum() / 1000.0 * prices.lambda_memory_gb
            lam = requests * prices.lambda_price_per_request
            compute = gb_seconds * prices.lambda_price_per_gb_second
            api = requests * prices.api_price_per_request
            rows.append((day, requests, gb_seconds, lam, compute, api, lam + compute + api))
        return pd.DataFrame(
            rows,
            columns=["day", "requests", "gb_seconds", "lambda_request_usd",
                     "lambda_compute_usd", "api_gateway_usd", "total_usd"],
        )  # fmt: skip
    if name == "tone_kinds":
        tones = s[s["is_tone_request"]]
        counts: dict[tuple[str, str], list[int]] = {}

        def add(dimension: str, value: str, audio: float) -> None:
            entry = counts.setdefault((dimension, value), [0, 0])
            entry[0] += 1
            entry[1] += int(audio)

        for row in tones.itertuples():
            if len(row.frequencies):
                for waveform in set(row.waveforms or ("sine",)):
                    add("waveform", waveform, row.audio_bytes)
            noise = row.noise if isinstance(row.noise, str) else "none"
            add("noise", noise, row.audio_bytes)
            add("sweep", "fixed" if row.sweep_ends is None else "sweep", row.audio_bytes)
        out = pd.DataFrame(
            [(d, v, r, b) for (d, v), (r, b) in counts.items()],
            columns=["dimension", "value", "requests", "audio_bytes"],
        )
        out["order"] = -out["requests"]
        return out.sort_values(["dimension", "order", "value"]).drop(columns="order")
    raise KeyError(name)
