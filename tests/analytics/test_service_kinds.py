"""End to end: a square wave with pink noise, POSTed to the real local service over HTTP and
downloaded, lands in the lake with its waveforms, noise and spec hash, and shows in the
specs board and the tone_kinds breakdown after a refresh."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.service.conftest import wait_ready
from wavekit.analytics import usage
from wavekit.audio.spec import ToneSpec
from wavekit.backends.local import DuckDBWarehouse
from wavekit.events import read_lake
from wavekit.server import LocalServer
from wavekit.settings import Settings

TOKEN = "kinds-admin-token"
SPEC = {
    "frequencies": [{"freq": 440, "waveform": "square"}, 660],
    "noise": {"color": "pink", "amplitude": 0.2},
    "duration": 0.5,
    "sample_rate": 8000,
}


def test_a_square_wave_with_noise_reaches_the_lake_and_the_boards(tmp_path: Path) -> None:
    with (
        LocalServer(Settings(data_dir=tmp_path, admin_token=TOKEN)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        accepted = client.post("/waves", json=SPEC, headers={"X-Client-Id": "kinds"})
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["request_id"]
        assert wait_ready(client, request_id, timeout_s=30)["status"] == "ready"
        assert client.get(f"/waves/{request_id}/download").status_code == 303
        refreshed = client.post(
            "/leaderboards/refresh", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert refreshed.status_code == 200, refreshed.text
        board = client.get("/leaderboards/specs_by_requests", params={"window": "month"})
        assert board.status_code == 200, board.text
        entries = board.json()["entries"]

    rows = [r for r in read_lake(tmp_path / "lake").to_pylist() if r["request_id"] == request_id]
    post = next(r for r in rows if r["route"] == "POST /waves")
    assert post["waveforms"] == ["square", "sine"]
    assert post["noise"] == "pink"
    assert post["sweep_ends"] is None
    assert post["spec_hash"] == ToneSpec.parse(SPEC).spec_hash
    assert post["download_claim"] is False
    download = next(r for r in rows if r["route"] == "GET /waves/{request_id}/download")
    assert download["download_claim"] is True  # the claim: what the specs board counts
    assert download["spec_hash"] == post["spec_hash"]
    assert download["waveforms"] == post["waveforms"]

    assert [(e["frequencies"], e["waveforms"], e["noise"], e["requests"]) for e in entries] == [
        ([440.0, 660.0], ["square", "sine"], "pink", 1)
    ]
    with DuckDBWarehouse(tmp_path / "lake") as warehouse:
        kinds = usage(warehouse, "tone_kinds", "month").frame
    got = {(r.dimension, r.value): r.requests for r in kinds.itertuples()}
    assert got[("waveform", "square")] == 1
    assert got[("noise", "pink")] == 1
