"""Synthetic traffic: exact counts, the contract schema, and realistic structure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from wavekit.analytics import ParameterError, generate_traffic
from wavekit.analytics.traffic import WAV_HEADER_BYTES, uuid4_array
from wavekit.events import arrow_schema, read_lake

from . import reference
from .conftest import DAYS, END, EVENTS, SPECS_SINCE


def test_exact_count_partitions_and_schema(lake: Path, events: pd.DataFrame) -> None:
    assert len(events) == EVENTS
    days = sorted(p.name for p in lake.glob("dt=*"))
    first = (END - dt.timedelta(days=DAYS)).date().isoformat()
    assert days[0] == f"dt={first}"
    assert days[-1] == f"dt={(END - dt.timedelta(days=1)).date().isoformat()}"
    assert events["ts"].max() < pd.Timestamp(END)
    for path in list(lake.glob("dt=*/*.parquet"))[:5]:
        assert pq.read_schema(path).equals(arrow_schema(), check_metadata=False)
    assert (events["ts"].dt.strftime("%Y-%m-%d") == events["dt"]).all()
    assert events["event_id"].is_unique


def test_same_seed_same_events(tmp_path: Path) -> None:
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    generate_traffic(2_000, 3, tmp_path / "a", seed=3, end=end)
    generate_traffic(2_000, 3, tmp_path / "b", seed=3, end=end)
    generate_traffic(2_000, 3, tmp_path / "c", seed=4, end=end)
    a, b, c = (read_lake(tmp_path / x).sort_by("event_id") for x in "abc")
    assert a.equals(b)
    assert not a.equals(c)


def test_popularity_is_heavy_tailed_and_traffic_is_diurnal(events: pd.DataFrame) -> None:
    tones = events[events["is_tone_request"]]
    clients = tones["client_id"].value_counts()
    top = clients.iloc[: max(1, len(clients) // 10)].sum()
    assert top > 0.5 * clients.sum(), "a tenth of the clients make most requests"
    chords = tones["chord"].value_counts()
    assert chords.iloc[0] > 10 * chords.median()
    per_hour = events["ts"].dt.hour.value_counts()
    assert per_hour.max() > 2 * per_hour.min()
    assert per_hour.idxmax() in range(12, 19)


def test_downloads_follow_their_requests_and_match_the_spec(events: pd.DataFrame) -> None:
    posts = events[events["is_tone_request"]].set_index("request_id")
    downloads = events[events["route"] == "GET /waves/{request_id}/download"]
    ok = downloads[downloads["status_code"] == 200]
    assert len(ok) > 100
    parent = posts.loc[ok["request_id"]]
    assert (ok["ts"].to_numpy() >= parent["ts"].to_numpy()).all()
    assert (ok["client_id"].to_numpy() == parent["client_id"].to_numpy()).all()
    np.testing.assert_array_equal(
        ok["bytes_out"].to_numpy(), parent["audio_bytes"].to_numpy() + WAV_HEADER_BYTES
    )
    assert (downloads.groupby("request_id").size() == 1).all()


def test_successful_downloads_carry_their_spec_since_the_switch(events: pd.DataFrame) -> None:
    posts = events[events["is_tone_request"]].set_index("request_id")
    downloads = events[events["route"].str.startswith("GET /waves/{request_id}/")]
    carried = downloads["frequencies"].notna()
    newer = (downloads["ts"] >= pd.Timestamp(SPECS_SINCE)) & (downloads["status_code"] == 200)
    assert newer.sum() > 100
    assert (~newer).sum() > 100
    assert (carried == newer).all(), "successful downloads since the switch, and only those"
    ok = downloads[newer]
    parent = posts.loc[ok["request_id"]]
    for column in ["duration_s", "sample_rate", "bits_per_sample", "channels", "volume"]:
        np.testing.assert_array_equal(ok[column].to_numpy(), parent[column].to_numpy())
    assert [list(f) for f in ok["frequencies"]] == [list(f) for f in parent["frequencies"]]


def test_errors_carry_codes_and_successes_do_not(events: pd.DataFrame) -> None:
    failed = events[events["status_code"] >= 400]
    assert len(failed) > 0
    assert failed["error_code"].notna().all()
    assert events.loc[events["status_code"] < 400, "error_code"].isna().all()
    assert set(failed["status_code"]) >= {404, 410, 422, 429}
    assert events["cold_start"].any()
    cold = events.groupby("cold_start")["latency_ms"].median()
    assert cold[True] > 10 * cold[False]


def test_uuids_are_version_4() -> None:
    import uuid

    values = uuid4_array(np.random.default_rng(0), 500).to_pylist()
    parsed = [uuid.UUID(v) for v in values]
    assert {u.version for u in parsed} == {4}
    assert len(set(values)) == 500


def test_small_and_bad_requests(tmp_path: Path) -> None:
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    summary = generate_traffic(7, 2, tmp_path / "tiny", end=end)
    assert summary.events == len(reference.load_events(tmp_path / "tiny")) == 7
    with pytest.raises(ParameterError, match="days >= 1"):
        generate_traffic(10, 0, tmp_path / "x")
    with pytest.raises(ParameterError, match="time zone"):
        generate_traffic(10, 1, tmp_path / "x", end=dt.datetime(2026, 1, 1))
