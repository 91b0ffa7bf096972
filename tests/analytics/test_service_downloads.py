"""End to end: every way the service hands out a file counts once on the downloaded-specs
boards, with the bytes the client received.

- ``/waves`` + a download by link: the 303 takes the claim (0 bytes), the file itself
  (``GET /files/{token}``) carries the WAV's bytes;
- the WaveBuilder routes: ``POST /wavebuilder/main`` is a tone request and its deliveries
  are downloads (the first chunk takes the claim).

The expected numbers come from what the HTTP client saw, not from the lake.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.service.conftest import wait_ready
from wavekit.server import LocalServer
from wavekit.settings import Settings

TOKEN = "downloads-admin-token"
BY_LINK = {"frequencies": [523.25], "duration": 0.4, "sample_rate": 8000}
BY_WAVEBUILDER = {
    "wav_data": {"volume": 0.5, "duration": 0.6, "frequencies": [392.0, 493.88]},
    "wav_spec": {"sample_rate": 8000, "number_of_channels": 2, "bits_per_sample": 16},
}


def _board(client: httpx.Client, name: str) -> list[dict[str, Any]]:
    answer = client.get(f"/leaderboards/{name}", params={"window": "month"})
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_link_and_wavebuilder_downloads_count_once_with_their_bytes(tmp_path: Path) -> None:
    with (
        LocalServer(Settings(data_dir=tmp_path, admin_token=TOKEN)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        accepted = client.post("/waves", json=BY_LINK, headers={"X-Client-Id": "linker"})
        assert accepted.status_code == 202, accepted.text
        link_id = accepted.json()["request_id"]
        assert wait_ready(client, link_id, timeout_s=30)["status"] == "ready"
        redirect = client.get(f"/waves/{link_id}/download")
        assert redirect.status_code == 303
        wav = client.get(redirect.headers["location"])
        assert wav.status_code == 200
        assert wav.content[:4] == b"RIFF"

        headers = {"X-Client-Id": "wavebuilder-page", "Content-Type": "text/plain"}
        made = client.post("/wavebuilder/main", content=json.dumps(BY_WAVEBUILDER), headers=headers)
        assert made.status_code == 200, made.text
        ids = made.json()
        delivered = 0
        offset, deadline = 0, time.monotonic() + 30
        while True:
            answer = client.get(
                "/wavebuilder/delivery",
                params={**ids, "offset_num": offset},
                headers={"X-Client-Id": "wavebuilder-page"},
            )
            assert answer.status_code == 200, answer.text
            delivered += len(answer.content)
            body = answer.json()
            if body["status"] == "in_progress":
                assert time.monotonic() < deadline, "the tone was not rendered in 30 s"
                time.sleep(0.05)
                continue
            if body["isLast"]:
                break
            offset += 1

        refreshed = client.post(
            "/leaderboards/refresh", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert refreshed.status_code == 200, refreshed.text
        by_requests = _board(client, "specs_by_requests")
        by_bytes = _board(client, "specs_by_bytes")
        frequencies = _board(client, "frequencies_by_requests")

    requests = {tuple(e["frequencies"]): e["requests"] for e in by_requests}
    assert requests == {(523.25,): 1, (392.0, 493.88): 1}
    received = {tuple(e["frequencies"]): e["bytes"] for e in by_bytes}
    assert received[(523.25,)] == len(wav.content)  # the file's bytes, once
    assert received[(392.0, 493.88)] == delivered  # every delivery answer, polls included
    pitches = {e["frequency"] for e in frequencies}
    assert {523.25, 392.0, 493.88} <= pitches  # the WaveBuilder POST is a tone request
