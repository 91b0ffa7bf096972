"""The main job (``wavekit demo``, ``make demo``): the whole story on one machine.

1. start the WAV service locally (files, SQLite, worker, Parquet request log);
2. send a burst of realistic traffic through its HTTP API with the Python client —
   popular chords more often than rare ones, a few heavy clients, some invalid specs,
   downloads by URL and by chunks;
3. add a longer synthetic history to the same event lake, for the leaderboards;
4. refresh the leaderboards through the admin API;
5. render the usage report (papermill → HTML) and print where it is.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from wavekit.clock import utc_now
from wavekit.errors import InvalidSpecError, JobError

CATALOGUE: list[list[Any]] = [
    ["A4"],
    ["A4", "C#5", "E5"],
    [440, 445],
    ["C4", "E4", "G4"],
    ["A2", "A3", "A4", "A5"],
    ["D4", "F#4", "A4"],
    [1000],
    ["E4", "G#4", "B4", "D5"],
    [261.63],
    ["G3", "D4"],
    [100, 150, 200, 250],
    ["F4", "A4", "C5"],
]
"""Tones people ask for, most popular first (picked with a Zipf-like weight)."""
CLIENTS = ["studio-anna", "lab-bob", "ci-bot", "wavebuilder-web", "notebook-carl", "dana"]
INVALID: list[dict[str, Any]] = [
    {"frequencies": [30_000], "sample_rate": 44_100},
    {"frequencies": []},
    {"frequencies": [440], "volume": 3},
    {"frequencies": [440], "duration": 120},
    {"frequencies": ["H9"]},
]


@dataclass(frozen=True)
class DemoResult:
    service_url: str
    report: Path
    index: Path
    accepted: int
    rejected: int
    downloaded: int
    history_events: int


def _weighted(rng: random.Random, items: list[Any], skew: float = 1.1) -> Any:
    weights = [1 / (rank + 1) ** skew for rank in range(len(items))]
    return rng.choices(items, weights)[0]


def _one_request(url: str, seed: int) -> str:
    """One user's visit: post a spec (sometimes an invalid one), wait, download."""
    from wavekit.client import WaveClient

    rng = random.Random(seed)
    client_id = _weighted(rng, CLIENTS, skew=1.4)
    with WaveClient(url, client_id=client_id, max_wait_s=120) as client:
        if rng.random() < 0.08:
            try:
                client.submit(rng.choice(INVALID))
            except InvalidSpecError:
                return "rejected"
            return "accepted"  # pragma: no cover - every INVALID spec is invalid
        spec = {
            "frequencies": _weighted(rng, CATALOGUE),
            "duration": rng.choice([0.5, 1.0, 2.0, 3.0]),
            "number_of_channels": rng.choice([1, 1, 2]),
            "bits_per_sample": rng.choice([16, 16, 24]),
            "volume": rng.choice(["-12dB", "-6dB", 0.3]),
        }
        accepted = client.submit(spec)
        try:
            client.wait(accepted["request_id"])
            if rng.random() < 0.75:
                client.download(accepted["request_id"], via=rng.choice(["url", "chunks"]))
                return "downloaded"
        except JobError:
            return "accepted"
        return "accepted"


def run_demo(
    out: Path = Path("out"),
    requests: int = 300,
    history_events: int = 200_000,
    history_days: int = 400,
    seed: int = 7,
    now: dt.datetime | None = None,
) -> DemoResult:
    """Run the whole story; returns where things went. ``out`` is reused (service data reset)."""
    from wavekit.analytics import generate_traffic
    from wavekit.reports import ReportRequest, render
    from wavekit.server import LocalServer
    from wavekit.settings import Settings

    now = now or utc_now()
    data_dir = out / "service"
    shutil.rmtree(data_dir, ignore_errors=True)
    admin = secrets.token_urlsafe(16)
    settings = Settings(
        data_dir=data_dir,
        admin_token=admin,
        rate_limit_per_s=1000,
        rate_limit_burst=1000,
        event_flush_s=1.0,
    )
    outcomes: dict[str, int] = {"accepted": 0, "rejected": 0, "downloaded": 0}
    with LocalServer(settings) as server:
        print(f"service running at {server.url} (data in {data_dir})")
        with (
            ThreadPoolExecutor(max_workers=8) as pool,
            tqdm(total=requests, desc="traffic through the API", unit="req") as bar,
        ):
            for outcome in pool.map(lambda i: _one_request(server.url, seed * 100_003 + i),
                                    range(requests)):  # fmt: skip
                outcomes[outcome] += 1
                bar.update()
        print(
            f"  {outcomes['accepted'] + outcomes['downloaded']} accepted, "
            f"{outcomes['downloaded']} downloaded, {outcomes['rejected']} rejected with 422"
        )
        print(f"adding {history_events:,} synthetic events over {history_days} days of history")
        generate_traffic(history_events, history_days, settings.lake_dir, seed=seed,
                         end=now - dt.timedelta(hours=1))  # fmt: skip
        import httpx

        refreshed = httpx.post(
            f"{server.url}/leaderboards/refresh",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=600,
        )
        refreshed.raise_for_status()
        print(f"refreshed {refreshed.json()['refreshed']} leaderboards")
        top = httpx.get(f"{server.url}/leaderboards/chords_by_requests?window=month").json()
        if top["entries"]:
            best = top["entries"][0]
            chord = " + ".join(f"{f:.1f} Hz" for f in best["chord"])
            print(f"  most requested chord this month: {chord} ({best['value']} requests)")
        service_url = server.url
    end = (now + dt.timedelta(days=1)).date()
    request = ReportRequest(
        parameters={
            "lake": str(settings.lake_dir),
            "start": (end - dt.timedelta(days=7)).isoformat(),
            "end": end.isoformat(),
            "title": "wavekit demo: a week of usage",
        },
        out_dir=out / "reports",
    )
    print("rendering the usage report")
    result = render(request, force=True, progress=True)
    return DemoResult(
        service_url=service_url,
        report=result.html.resolve(),
        index=(out / "reports" / "index.html").resolve(),
        accepted=outcomes["accepted"] + outcomes["downloaded"],
        rejected=outcomes["rejected"],
        downloaded=outcomes["downloaded"],
        history_events=history_events,
    )
