"""The service over real HTTP: a uvicorn process on localhost, real files, real SQLite."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys

import duckdb
import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.service.conftest import LiveServer, wait_ready
from wavekit.audio.measure import strongest_frequencies
from wavekit.events import EVENT_COLUMNS

SPEC = {"frequencies": [440, "E5"], "duration": 2.0, "sample_rate": 48_000,
        "bits_per_sample": 24, "number_of_channels": 2}  # fmt: skip


def test_round_trip_url_and_chunks_are_byte_identical(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        accepted = client.post("/waves", json=SPEC)
        assert accepted.status_code == 202
        body = accepted.json()
        assert body["status"] == "in_progress"
        assert accepted.headers["location"] == f"/waves/{body['request_id']}"
        assert accepted.headers["retry-after"] == "1"
        ready = wait_ready(client, body["request_id"])
        assert ready["status"] == "ready"
        assert ready["spec"]["sample_rate"] == 48_000  # type: ignore[index]

        redirect = client.get(f"/waves/{body['request_id']}/download")
        assert redirect.status_code == 303
        by_url = httpx.get(redirect.headers["location"]).content
        assert client.get(f"/waves/{body['request_id']}/download").status_code == 410

        # the same spec again: the stored file is reused, ready at once
        again = client.post("/waves", json=SPEC).json()
        assert again["status"] == "ready"
        assert again["file_id"] == body["file_id"]
        parts, offset, token = [], 0, {}
        while True:
            chunk = client.get(f"/waves/{again['request_id']}/chunks/{offset}", params=token)
            assert chunk.status_code == 200
            payload = chunk.json()
            data = base64.b64decode(payload["file"])
            assert len(data) <= 64 * 1024
            assert hashlib.sha256(data).hexdigest() == payload["sha256"]
            parts.append(data)
            token = {"download_token": payload["download_token"]}  # download-once: the claim
            offset += 1
            if payload["is_last"]:
                break
        assert offset > 5  # really chunked
        by_chunks = b"".join(parts)
    assert by_chunks == by_url
    audio, rate = sf.read(io.BytesIO(by_url), always_2d=True)
    assert (rate, audio.shape) == (48_000, (96_000, 2))
    found = sorted(round(p.freq) for p in strongest_frequencies(audio[:, 0], rate, count=2))
    assert found == [440, 659]


def test_chunk_errors(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        rid = client.post("/waves", json={"frequencies": [300], "duration": 0.1}).json()[
            "request_id"
        ]
        wait_ready(client, rid)
        beyond = client.get(f"/waves/{rid}/chunks/7")
        assert beyond.status_code == 416
        assert "offset_num: must be between 0 and 0" in beyond.json()["message"]
        assert client.get(f"/waves/{rid}/chunks/0").json()["is_last"] is True
        gone = client.get(f"/waves/{rid}/chunks/0")
        assert gone.status_code == 410
        assert client.get("/waves/no-such-id/chunks/0").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        (b'{"frequencies": [440', 400, "body", "not valid JSON"),
        (b'{"frequencies": [30000]}', 422, "frequencies[0].freq", "Nyquist"),
        (b'{"frequencies": []}', 422, "frequencies", "at least 1"),
        (b'{"frequencies": [NaN]}', 422, "frequencies[0].freq", "finite"),
        (b'{"frequencies": [-5]}', 422, "frequencies[0].freq", "greater than 0"),
        (b'{"frequencies": ["loud"]}', 422, "frequencies[0]", "not a frequency"),
        (b'{"frequencies": [440], "duration": 61}', 422, "duration", "at most 60 s"),
        (b'{"frequencies": [440], "bits_per_sample": "x"}', 422, "bits_per_sample", "8, 16"),
        (b'{"frequencies": [440], "colour": "red"}', 422, "colour", "not a known field"),
        (b'{"frequencies": 440}', 422, "frequencies", "tuple"),
        (b"[]", 422, "spec", "object"),
    ],
)
def test_bad_bodies_get_4xx_naming_the_field(
    live_server: LiveServer, body: bytes, status: int, field: str, words: str
) -> None:
    response = httpx.post(
        f"{live_server.url}/waves", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    payload = response.json()
    assert field in [d["field"] for d in payload["detail"]], payload
    assert words in payload["message"]


def test_oversize_body_is_refused(live_server: LiveServer) -> None:
    huge = json.dumps({"frequencies": [440] * 20_000}).encode()
    response = httpx.post(
        f"{live_server.url}/waves", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "body: must be at most 65536 bytes" in response.json()["message"]


def test_cors_allowlist_and_preflight(live_server: LiveServer) -> None:
    preflight = httpx.options(
        f"{live_server.url}/waves",
        headers={
            "Origin": "http://allowed.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://allowed.test"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = httpx.get(f"{live_server.url}/health", headers={"Origin": "http://allowed.test"})
    assert allowed.headers["access-control-allow-origin"] == "http://allowed.test"
    other = httpx.get(f"{live_server.url}/health", headers={"Origin": "http://evil.test"})
    assert "access-control-allow-origin" not in other.headers
    denied = httpx.options(
        f"{live_server.url}/waves",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in denied.headers


def test_idempotency_key_replays_and_conflicts(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, headers={"Idempotency-Key": "k-1"}) as client:
        first = client.post("/waves", json={"frequencies": [500]}).json()
        again = client.post("/waves", json={"frequencies": [500]}).json()
        assert again["request_id"] == first["request_id"]
        conflict = client.post("/waves", json={"frequencies": [501]})
        assert conflict.status_code == 409
        assert "Idempotency-Key" in conflict.json()["message"]


def test_rate_limit_answers_429_with_retry_after(tmp_path: pytest.TempPathFactory) -> None:
    server = LiveServer(
        tmp_path / "data",  # type: ignore[operator]
        # 0.05/s refills a token every 20 s: the 4th request is limited however slowly the
        # machine answers the first three (at 1/s a loaded CI machine refilled in between)
        env={"WAVEKIT_RATE_LIMIT_PER_S": "0.05", "WAVEKIT_RATE_LIMIT_BURST": "3"},
    ).start()
    try:
        with httpx.Client(base_url=server.url, headers={"X-Client-Id": "greedy"}) as client:
            codes = [client.post("/waves", json={"frequencies": [440]}) for _ in range(5)]
            assert [r.status_code for r in codes[:3]] == [202, 202, 202]
            limited = codes[3]
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            assert "at most 0.05 requests/s" in limited.json()["message"]
            other = httpx.post(
                f"{server.url}/waves", json={"frequencies": [440]}, headers={"X-Client-Id": "calm"}
            )
            assert other.status_code == 202
    finally:
        server.stop()


def test_every_request_logs_exactly_one_event(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, headers={"X-Client-Id": "tester"}) as client:
        responses = [
            client.post("/waves", json=SPEC),
            client.post("/waves", json={"frequencies": [30000]}),
            client.get("/waves/nope"),
            client.get("/health"),
        ]
        assert client.get("/").status_code == 200  # the web page: not an API request
        rid = responses[0].json()["request_id"]
        polls = 0
        while client.get(f"/waves/{rid}").json()["status"] == "in_progress":
            polls += 1
        polls += 1
        responses.append(client.get(f"/waves/{rid}/download"))
    live_server.stop()  # graceful: flushes the buffered events
    expected = len(responses) + polls

    lake = live_server.data_dir / "lake"
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    table = con.sql(
        f"SELECT * FROM read_parquet('{lake}/**/*.parquet', hive_partitioning=true)"
    ).to_arrow_table()
    assert [c for c in table.column_names if c != "dt"] == list(EVENT_COLUMNS)
    rows = [r for r in table.to_pylist() if r["client_id"] == "tester"]  # not the health probes
    assert len(rows) == expected
    post = next(r for r in rows if r["route"] == "POST /waves" and r["status_code"] == 202)
    assert post["frequencies"] == [440.0, pytest.approx(659.2551138257398)]
    assert (post["sample_rate"], post["bits_per_sample"], post["channels"]) == (48_000, 24, 2)
    assert post["client_id"] == "tester"
    assert post["request_id"] == rid
    assert post["latency_ms"] > 0
    bad = next(r for r in rows if r["status_code"] == 422)
    assert bad["error_code"] == "invalid_spec"
    assert next(r for r in rows if r["status_code"] == 404)["error_code"] == "not_found"
    download = next(r for r in rows if r["route"] == "GET /waves/{request_id}/download")
    assert download["status_code"] == 303
    assert len({r["event_id"] for r in rows}) == expected


def test_serve_and_fetch_commands(
    live_server: LiveServer, tmp_path: pytest.TempPathFactory
) -> None:
    out = tmp_path / "fetched.wav"  # type: ignore[operator]
    done = subprocess.run(
        [sys.executable, "-m", "wavekit", "fetch", "--server", live_server.url, "-f", "A4",
         "-f", "880", "--duration", "1.5", "--bits", "16", "--chunks", "-o", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"saved {out}" in done.stdout
    audio, rate = sf.read(str(out))
    assert len(audio) == round(1.5 * rate)
    assert np.max(np.abs(audio)) == pytest.approx(0.5, abs=1e-3)
    bad = subprocess.run(
        [sys.executable, "-m", "wavekit", "fetch", "--server", live_server.url, "-f", "40000",
         "-o", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "frequencies[0].freq" in bad.stderr
    assert "Traceback" not in bad.stderr
