"""Download events carry their request and spec (issue 16): the downloaded-specs boards
read them without a join back to the POST, and a link download's bytes are on the event
of the file itself (``/files/{token}``), not only the 0-byte 303.

Real ``wavekit serve`` over HTTP; the events are read back from the Parquet lake it wrote.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from tests.service.conftest import LiveServer, wait_ready
from wavekit.audio.spec import ToneSpec
from wavekit.ports import blob_key
from wavekit.service.security import DownloadGrant, load_or_create_key, sign_download

LINK_SPEC = {
    "frequencies": [440, 660.5],
    "duration": 0.3,
    "sample_rate": 16_000,
    "bits_per_sample": 24,
    "number_of_channels": 2,
    "volume": 0.3,
}
CHUNKED_SPEC = {"frequencies": [523.25], "duration": 0.5, "sample_rate": 22_050, "volume": 0.7}
CLIENT = {"X-Client-Id": "download-events"}


def lake_rows(lake: Path) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    table = con.sql(
        f"SELECT * FROM read_parquet('{lake}/**/*.parquet', hive_partitioning=true, "
        "union_by_name=true)"
    ).to_arrow_table()
    return [row for row in table.to_pylist() if row["client_id"] == CLIENT["X-Client-Id"]]


def assert_carries(row: dict[str, Any], spec: ToneSpec, request_id: str) -> None:
    """The event names the request and every tone column of its spec."""
    assert row["request_id"] == request_id
    assert row["frequencies"] == [p.freq for p in spec.frequencies]
    assert row["duration_s"] == spec.duration
    assert row["sample_rate"] == spec.sample_rate
    assert row["bits_per_sample"] == spec.bits_per_sample
    assert row["channels"] == spec.number_of_channels
    assert row["volume"] == spec.volume


@pytest.fixture
def server(tmp_path: Path) -> LiveServer:
    return LiveServer(tmp_path / "data", env={"WAVEKIT_CHUNK_BYTES": str(16 * 1024)}).start()


def test_download_events_carry_the_request_the_spec_and_the_bytes(server: LiveServer) -> None:
    try:
        with httpx.Client(base_url=server.url, headers=CLIENT, timeout=30) as client:
            linked = client.post("/waves", json=LINK_SPEC).json()["request_id"]
            chunked = client.post("/waves", json=CHUNKED_SPEC).json()["request_id"]
            wait_ready(client, linked)
            wait_ready(client, chunked)
            redirect = client.get(f"/waves/{linked}/download")
            assert redirect.status_code == 303
            wav = client.get(redirect.headers["location"])
            assert wav.status_code == 200
            first = client.get(f"/waves/{chunked}/chunks/0").json()
            assert first["is_last"] is False
            token = {"download_token": first["download_token"]}
            second = client.get(f"/waves/{chunked}/chunks/1", params=token)
            assert second.status_code == 200
    finally:
        server.stop()  # graceful: the buffered events are written
    rows = lake_rows(server.data_dir / "lake")

    link_spec, chunk_spec = ToneSpec.parse(LINK_SPEC), ToneSpec.parse(CHUNKED_SPEC)
    (claim,) = [r for r in rows if r["route"] == "GET /waves/{request_id}/download"]
    assert claim["status_code"] == 303
    assert_carries(claim, link_spec, linked)
    assert claim["download_claim"] is True
    assert claim["bytes_out"] == 0  # a redirect: the bytes go out on the file's event

    (file,) = [r for r in rows if r["route"] == "GET /files/{token}"]
    assert file["status_code"] == 200
    assert_carries(file, link_spec, linked)
    assert file["bytes_out"] == len(wav.content) > 28_800  # the whole WAV: 0.3 s × 16 kHz × 6 B
    assert file["download_claim"] is False  # the claim was the 303's: one per request

    chunks = sorted(
        (r for r in rows if r["route"] == "GET /waves/{request_id}/chunks/{offset_num}"),
        key=lambda r: r["ts"],
    )
    assert [r["download_claim"] for r in chunks] == [True, False]
    for row in chunks:
        assert_carries(row, chunk_spec, chunked)
    assert chunks[0]["bytes_out"] > 16 * 1024 * 4 // 3  # base64 of a whole 16 KiB chunk


def test_a_link_signed_before_grants_named_their_request_still_downloads(
    tmp_path: Path,
) -> None:
    """Old tokens (no request id inside) keep working; their event just has no request."""
    server = LiveServer(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=server.url, headers=CLIENT, timeout=30) as client:
            rid = client.post("/waves", json=LINK_SPEC).json()["request_id"]
            job = wait_ready(client, rid)
            key = load_or_create_key(server.data_dir / ".signing-key")
            old = DownloadGrant(blob_key(str(job["file_id"])), "old.wav", time.time() + 60)
            answer = client.get(f"/files/{sign_download(key, old)}")
            assert answer.status_code == 200
            assert answer.content[:4] == b"RIFF"
    finally:
        server.stop()
    (file,) = [r for r in lake_rows(server.data_dir / "lake") if r["route"] == "GET /files/{token}"]
    assert file["request_id"] is None
    assert file["bytes_out"] == len(answer.content)
