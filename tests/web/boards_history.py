"""A known history for the leaderboards page tests, and how people write what it shows.

- HISTORY: request events written straight into the service's lake with chosen
  timestamps (40 days ago: the month's previous period; 400 days ago: the year's);
- TRAFFIC: real requests through the API now (POST /waves, polls, downloads by link and
  by chunks, distinct frequencies and client ids);

so every board has entries and ranks move both ways (▲, ▼, "–" and "new" all appear).
The expected texts are written here independently of the page's JavaScript.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from wavekit.events import RequestEvent

TOKEN = "leaderboards-page-admin-token"
REFRESH_S = 1800
CHORD = (523.25, 659.26, 784.0)  # C5 E5 G5


@dataclass(frozen=True)
class Requests:
    """``count`` accepted POST /waves of one spec by one client, ``days_ago`` (0 = real)."""

    frequencies: tuple[float, ...]
    client: str
    count: int
    days_ago: int = 0
    duration: float = 2.0
    sample_rate: int = 44_100
    bits: int = 16
    channels: int = 1


HISTORY = (
    Requests((440.0,), "studio-b", 4, days_ago=40),
    Requests((329.63,), "studio-a", 1, days_ago=40),
    Requests(CHORD, "studio-c", 1, days_ago=40),
    # Big old files: the all-time data boards reach thousands of megabytes.
    Requests(
        (1000.0,),
        "archive-bot",
        5,
        days_ago=400,
        duration=60,
        sample_rate=192_000,
        bits=32,
        channels=8,
    ),
)
TRAFFIC = (
    Requests((329.63,), "studio-a", 3),
    Requests((440.0,), "studio-b", 2),
    Requests((1000.0,), "studio-c", 1),
    Requests(CHORD, "studio-c", 1),
)


def history_events(now: dt.datetime) -> list[RequestEvent]:
    """What the service would have logged for HISTORY (accepted POST /waves)."""
    events = []
    for past in HISTORY:
        for i in range(past.count):
            events.append(
                RequestEvent(
                    route="POST /waves",
                    method="POST",
                    status_code=202,
                    latency_ms=12.5,
                    ts=now - dt.timedelta(days=past.days_ago, minutes=i),
                    request_id=f"history-{past.client}-{past.days_ago}-{i}",
                    client_id=past.client,
                    frequencies=list(past.frequencies),
                    duration_s=past.duration,
                    sample_rate=past.sample_rate,
                    bits_per_sample=past.bits,
                    channels=past.channels,
                    volume=0.5,
                )
            )
    return events


def make_tone(http: httpx.Client, tone: Requests, chunks: bool) -> None:
    """One tone through the API as a client makes it: submit, poll, download once."""
    spec = {
        "frequencies": list(tone.frequencies),
        "duration": tone.duration,
        "sample_rate": tone.sample_rate,
        "bits_per_sample": tone.bits,
        "number_of_channels": tone.channels,
        "volume": 0.5,
    }
    headers = {"X-Client-Id": tone.client}
    submitted = http.post("/waves", json=spec, headers=headers)
    assert submitted.status_code == 202, submitted.text
    request_id = submitted.json()["request_id"]
    deadline = time.monotonic() + 60
    while http.get(f"/waves/{request_id}", headers=headers).json()["status"] == "in_progress":
        assert time.monotonic() < deadline, "the tone was not made in 60 s"
        time.sleep(0.05)
    if chunks:
        offset = 0
        while True:
            chunk = http.get(f"/waves/{request_id}/chunks/{offset}", headers=headers).json()
            assert chunk["status"] == "ready", chunk
            if chunk["is_last"]:
                break
            offset += 1
    else:
        file = http.get(f"/waves/{request_id}/download", headers=headers, follow_redirects=True)
        assert file.status_code == 200
        assert file.content[:4] == b"RIFF"


def refresh(url: str) -> None:
    answer = httpx.post(
        f"{url}/leaderboards/refresh", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "done"


# -- how the page should say it ------------------------------------------------------------

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note(hz: float) -> str:
    midi = 69 + 12 * math.log2(hz / 440)
    nearest = round(midi)
    cents = round((midi - nearest) * 100)
    name = f"{NOTE_NAMES[nearest % 12]}{nearest // 12 - 1}"
    return name if cents == 0 else f"{name}{cents:+d}c"


def hz(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") + " Hz"


def megabytes(count: int) -> str:
    mb = count / 1e6
    if mb == 0:
        return "0 MB"
    if mb < 0.005:
        return "< 0.01 MB"
    return f"{mb:,.2f} MB" if mb < 10 else f"{mb:,.1f} MB"


def key_text(board: str, entry: dict[str, Any]) -> str:
    kind = board.split("_by_")[0]
    if kind == "frequencies":
        return f"{hz(entry['frequency'])} ({note(entry['frequency'])})"
    if kind == "chords":
        return " · ".join(note(f) for f in sorted(entry["chord"]))
    if kind == "specs" and len(entry["frequencies"]) == 1:
        return f"{hz(entry['frequencies'][0])} ({note(entry['frequencies'][0])})"
    if kind == "specs":
        return " · ".join(note(f) for f in sorted(entry["frequencies"]))
    return str(entry["client_id"])


def change_text(change: int | None) -> str:
    if change is None:
        return "new"
    return f"▲ {change}" if change > 0 else f"▼ {-change}" if change < 0 else "–"


def plain(text: str) -> str:
    """Intl output uses narrow/no-break spaces (before AM/PM, in "< 0.01"): compare as spaces."""
    return re.sub(r"[\u202f\u00a0]", " ", text)


def when(moment: dt.datetime) -> str:
    """en-US, UTC, like the page's long date: "May 21, 2025, 2:03 PM UTC"."""
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M} {half} UTC"
