"""Issue 14's analytics: waveforms, sweeps and noise in the events and the boards, and the
download claims the specs board counts. Hand-made lakes, numbers worked out by hand, and
the independent pandas reference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from wavekit.analytics import compute_leaderboard, period, usage
from wavekit.audio.spec import ToneSpec
from wavekit.backends.local import DuckDBWarehouse
from wavekit.events import (
    RequestEvent,
    download_claim_field,
    events_table,
    tone_fields,
    write_lake_partitions,
)

from . import reference

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
WINDOW = period("month", NOW)
DOWNLOAD = "GET /waves/{request_id}/download"
CHUNK = "GET /waves/{request_id}/chunks/{offset_num}"
SQUARE = ToneSpec.parse(
    {"frequencies": [{"freq": 440, "waveform": "square"}, 660], "noise": {"color": "pink"}}
)
SINE = ToneSpec.parse({"frequencies": [660, 440]})
SWEEP = ToneSpec.parse({"frequencies": [{"freq": 20, "freq_end": 20000}, 440]})
NOISE = ToneSpec.parse({"frequencies": [], "noise": "brown"})


def test_tone_fields_of_each_kind_of_spec() -> None:
    square = tone_fields(SQUARE)
    assert square["frequencies"] == [440.0, 660.0]
    assert square["waveforms"] == ["square", "sine"]  # parallel to the frequencies
    assert square["sweep_ends"] is None
    assert square["noise"] == "pink"
    assert square["spec_hash"] == SQUARE.spec_hash
    sine = tone_fields(SINE)
    assert (sine["waveforms"], sine["sweep_ends"], sine["noise"]) == (None, None, None)
    assert tone_fields(SWEEP)["sweep_ends"] == [20000.0, None]
    assert tone_fields(NOISE)["frequencies"] == []
    assert (
        tone_fields(ToneSpec.parse({"frequencies": [440], "bits_per_sample": "float32"}))[
            "bits_per_sample"
        ]
        == 32
    )
    assert tone_fields(None) == {}


def test_download_claim_is_null_only_where_the_board_must_look_it_up() -> None:
    assert download_claim_field("POST /waves", SINE, None) is False
    assert download_claim_field("GET /health", None, None) is False
    assert download_claim_field(DOWNLOAD, SINE, True) is True
    assert download_claim_field(CHUNK, SINE, False) is False
    assert download_claim_field(CHUNK, None, True) is None  # no spec: look it up by request
    assert download_claim_field(DOWNLOAD, SINE, None) is None  # the route did not say


def _post(ts: dt.datetime, request_id: str, spec: ToneSpec) -> RequestEvent:
    return RequestEvent("POST /waves", "POST", 202, 5.0, ts=ts, request_id=request_id,
                        client_id="c", download_claim=False, **tone_fields(spec))  # fmt: skip


def _download(
    ts: dt.datetime, request_id: str, spec: ToneSpec | None, claim: bool | None, size: int,
    route: str = CHUNK,
) -> RequestEvent:  # fmt: skip
    return RequestEvent(route, "GET", 200, 4.0, ts=ts, request_id=request_id, client_id="c",
                        bytes_out=size, download_claim=claim, **tone_fields(spec))  # fmt: skip


def _lake(root: Path, events: list[RequestEvent]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_lake_partitions(events_table(events), root)
    return root


def _rows(board: Any) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    return {
        (tuple(e["frequencies"]), None if e["waveforms"] is None else tuple(e["waveforms"]),
         e["noise"]): (e["requests"], e["bytes"], e["prev_value"])
        for e in board.entries
    }  # fmt: skip


def test_specs_board_counts_claims_once_per_request_and_keys_by_waveform(tmp_path: Path) -> None:
    before, after = WINDOW.start - dt.timedelta(minutes=1), WINDOW.start + dt.timedelta(minutes=1)
    later = WINDOW.start + dt.timedelta(days=3)
    events = [
        # chunked across the switch of periods: the claim is in the previous period, so the
        # request counts there; its bytes count where each chunk was served
        _post(before - dt.timedelta(minutes=1), "a", SQUARE),
        _download(before, "a", SQUARE, True, 100),
        _download(after, "a", SQUARE, False, 10),
        # downloaded at once in the window; a re-read chunk (claim false) adds bytes only
        _post(later, "b", SQUARE),
        _download(later, "b", SQUARE, True, 1000, route=DOWNLOAD),
        _post(later, "c", SQUARE),
        _download(later, "c", SQUARE, True, 200),
        _download(later + dt.timedelta(seconds=1), "c", SQUARE, False, 200),
        # the same frequencies as sines: another spec
        _post(later, "d", SINE),
        _download(later, "d", SINE, True, 7),
        # older events (no claim flag): counted by request id, once per period each
        _post(before - dt.timedelta(minutes=1), "e", SINE),
        _download(before, "e", None, None, 1),
        _download(after, "e", None, None, 2),
    ]
    lake = _lake(tmp_path / "lake", events)
    with DuckDBWarehouse(lake) as warehouse:
        by_requests = compute_leaderboard(warehouse, "specs_by_requests", "month", now=NOW)
    assert _rows(by_requests) == {
        ((440.0, 660.0), ("square", "sine"), "pink"): (2, 1410, 1),  # b, c; a before
        ((440.0, 660.0), None, None): (2, 9, 1),  # d and e; e before (sorted frequencies)
    }
    frame = reference.load_events(lake)
    for board in ("specs_by_requests", "specs_by_bytes"):
        with DuckDBWarehouse(lake) as warehouse:
            got = compute_leaderboard(warehouse, board, "month", now=NOW)
        metric = board.split("_by_")[1]
        assert list(got.entries) == reference.leaderboard(
            frame, "specs", metric, WINDOW.start, WINDOW.end, WINDOW.prev_start, 10
        )


def test_sweeps_are_not_fixed_pitches_and_every_kind_is_broken_down(tmp_path: Path) -> None:
    t = NOW - dt.timedelta(days=2)
    events = [_post(t, f"r{i}", spec) for i, spec in enumerate([SQUARE, SINE, SWEEP, NOISE])]
    lake = _lake(tmp_path / "lake", events)
    with DuckDBWarehouse(lake) as warehouse:
        frequencies = compute_leaderboard(warehouse, "frequencies_by_requests", "month", now=NOW)
        chords = compute_leaderboard(warehouse, "chords_by_requests", "month", now=NOW)
        kinds = usage(warehouse, "tone_kinds", "month", now=NOW).frame
    # 440 Hz: the square and the sine tone, not the sweep's fixed 440 partial
    assert {e["frequency"]: e["requests"] for e in frequencies.entries} == {440.0: 2, 660.0: 2}
    assert [(e["chord"], e["requests"]) for e in chords.entries] == [([440.0, 660.0], 2)]
    got = {(r.dimension, r.value): r.requests for r in kinds.itertuples()}
    assert got == {
        ("waveform", "sine"): 3,  # the square tone's 660 Hz, the sine tone, the sweep
        ("waveform", "square"): 1,
        ("noise", "none"): 2,
        ("noise", "pink"): 1,
        ("noise", "brown"): 1,
        ("sweep", "fixed"): 3,
        ("sweep", "sweep"): 1,
    }
