"""Callers without ``X-Client-Id`` are counted by a keyed hash of their address, never
the address itself: client ids end up in the events lake and on the public Clients
board. The request-log events are read back from the lake the leaderboards read."""

from __future__ import annotations

import hashlib
import hmac
import re
import stat
import threading
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from wavekit.runtime import Runtime
from wavekit.service import api
from wavekit.service.security import (
    CLIENT_ID_SALT_FILE,
    load_or_create_key,
    pseudonymise_address,
)
from wavekit.settings import Settings

SPEC = {"frequencies": [440], "duration": 0.05, "sample_rate": 8000}
ALICE, BOB = "198.51.100.7", "198.51.100.8"
PSEUDONYM = re.compile(r"^ip-[0-9a-f]{12}$")


def _traffic(settings: Settings) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Client ids in the lake by route, and the job table's client id per request id,
    after a few requests from Alice (one with X-Client-Id) and one from Bob."""
    runtime = Runtime.local(settings)
    jobs: dict[str, str] = {}
    try:
        app = api.create_app(runtime)
        with TestClient(app, client=(ALICE, 40_000)) as alice:
            alice.get("/health")
            posted = alice.post("/waves", json=SPEC).json()["request_id"]
            alice.get(f"/waves/{posted}")
            alice.post("/wavebuilder/main", json=SPEC)
            alice.get("/health", headers={"x-client-id": "alice-app"})
        with TestClient(app, client=(BOB, 40_001)) as bob:
            bob.get("/health")
        jobs[posted] = runtime.service.get(posted).client_id
    finally:
        runtime.close()  # flushes the events into the lake
    rows = duckdb.sql(
        f"SELECT route, client_id FROM read_parquet('{settings.lake_dir}/**/*.parquet') ORDER BY ts"
    ).fetchall()
    by_route: dict[str, list[str]] = {}
    for route, client_id in rows:
        by_route.setdefault(route, []).append(client_id)
    return by_route, jobs


def test_the_address_is_replaced_by_one_stable_pseudonym(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, worker_threads=0)
    by_route, jobs = _traffic(settings)
    everyone = [c for ids in by_route.values() for c in ids]
    assert not [c for c in everyone if "198.51.100" in c]
    alice = by_route["POST /waves"][0]
    assert PSEUDONYM.match(alice)
    assert by_route["GET /waves/{request_id}"] == [alice]
    assert by_route["POST /wavebuilder/main"] == [alice]
    assert list(jobs.values()) == [alice]  # the job table keeps the pseudonym too
    bob = by_route["GET /health"][-1]
    assert PSEUDONYM.match(bob)
    assert bob != alice
    assert sorted(by_route["GET /health"]) == sorted([alice, "alice-app", bob])
    # what it is: HMAC-SHA256 of the address with the salt generated into the data dir
    salt = (tmp_path / CLIENT_ID_SALT_FILE).read_bytes()
    digest = hmac.new(salt, ALICE.encode(), hashlib.sha256).hexdigest()
    assert alice == f"ip-{digest[:12]}"
    assert stat.S_IMODE((tmp_path / CLIENT_ID_SALT_FILE).stat().st_mode) == 0o600


def test_a_restart_keeps_the_pseudonym_and_another_salt_changes_it(tmp_path: Path) -> None:
    first = _traffic(Settings(data_dir=tmp_path / "a", worker_threads=0))[0]["POST /waves"]
    restarted = _traffic(Settings(data_dir=tmp_path / "a", worker_threads=0))[0]["POST /waves"]
    elsewhere = _traffic(Settings(data_dir=tmp_path / "b", worker_threads=0))[0]["POST /waves"]
    configured = Settings(data_dir=tmp_path / "c", worker_threads=0, client_id_salt="s3cret")
    salted = _traffic(configured)[0]["POST /waves"]
    assert restarted == first * 2  # the lake keeps both runs: one caller, one id
    assert elsewhere != first
    assert salted != first
    assert salted == [pseudonymise_address(b"s3cret", ALICE)]
    assert not (tmp_path / "c" / CLIENT_ID_SALT_FILE).exists()  # the configured one is used


def test_processes_starting_together_agree_on_one_salt(tmp_path: Path) -> None:
    path = tmp_path / "data" / CLIENT_ID_SALT_FILE
    start = threading.Barrier(8)
    keys: list[bytes] = []

    def load() -> None:
        start.wait()
        keys.append(load_or_create_key(path))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert len(keys[0]) == 32
    assert [p.name for p in path.parent.iterdir()] == [CLIENT_ID_SALT_FILE]  # no drafts left
