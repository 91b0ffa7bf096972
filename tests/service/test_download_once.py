"""Download-once over real HTTP: many clients race for one ready file (issue 13).

Before the chunk path claimed downloads atomically, 16 clients fetching one job's chunks
got the complete file several times in 2 of 5 trials. The server here is wavekit's own
uvicorn server on localhost, in this process so that a gate can hold the reads of the
last chunk together (the schedule that exposed the race) instead of hoping for it."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.service.conftest import wait_ready
from wavekit import ToneSpec, to_bytes
from wavekit.backends.local import LocalBlobStore
from wavekit.server import LocalServer
from wavekit.settings import Settings

CLIENTS = 16
CHUNK_BYTES = 4096
SPEC = {"duration": 1.0, "sample_rate": 16_000}  # 32 kB: eight 4 KiB chunks


class LastChunkGate:
    """Holds each read of a file's last chunk until ``clients`` readers are in, or a
    second has passed: the widest window a scheduler can give concurrent requests. A
    service that lets only the claim's holder read never fills it."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.inside = 0
        self.arrived = threading.Condition()

    def wait(self) -> None:
        with self.arrived:
            self.inside += 1
            self.arrived.notify_all()
            self.arrived.wait_for(lambda: self.inside >= self.clients, timeout=1.0)

    def reset(self) -> None:
        with self.arrived:
            self.inside = 0


@pytest.fixture(scope="module")
def gate() -> LastChunkGate:
    return LastChunkGate(CLIENTS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gate: LastChunkGate) -> Iterator[LocalServer]:
    """``wavekit``'s uvicorn server on localhost (in this process, so the gate applies)."""
    read_range = LocalBlobStore.read_range

    def gated(self: LocalBlobStore, key: str, start: int, length: int) -> bytes:
        size = self.size(key) or 0
        if start > 0 and start + length >= size:
            gate.wait()
        return read_range(self, key, start, length)

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("once"),
        chunk_bytes=CHUNK_BYTES,
        rate_limit_burst=10_000,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalBlobStore, "read_range", gated)
        with LocalServer(settings) as running:
            yield running


Way = Callable[[str, str, threading.Barrier], "bytes | int"]


def by_chunks(base_url: str, request_id: str, at_last: threading.Barrier) -> bytes | int:
    """A client downloading by chunks: the file, or the status code that stopped it. Every
    client waits at ``at_last`` before its last request (a stopped one at once), so they
    all ask for the last chunk together: the schedule that once let many finish."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        parts: list[bytes] = []
        token: str | None = None
        count: int | None = None
        while True:
            if len(parts) + 1 == count:
                at_last.wait()
            params = {"download_token": token} if token else {}
            answer = http.get(f"/waves/{request_id}/chunks/{len(parts)}", params=params)
            if answer.status_code != 200:
                if len(parts) + 1 != count:
                    at_last.wait()
                return answer.status_code
            body = answer.json()
            token = body.get("download_token")  # (absent before issue 13)
            count = -(-body["total_bytes"] // body["chunk_bytes"])
            parts.append(base64.b64decode(body["file"]))
            if body["is_last"]:
                return b"".join(parts)


def by_redirect(base_url: str, request_id: str, at_last: threading.Barrier) -> bytes | int:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        at_last.wait()
        answer = http.get(f"/waves/{request_id}/download")
        if answer.status_code != 303:
            return answer.status_code
        return httpx.get(answer.headers["location"], timeout=30).content


def race(server: LocalServer, gate: LastChunkGate, freq: float, ways: list[Way]) -> None:
    gate.reset()
    spec = {**SPEC, "frequencies": [freq]}
    with httpx.Client(base_url=server.url) as http:
        request_id = http.post("/waves", json=spec).json()["request_id"]
        assert wait_ready(http, request_id)["status"] == "ready"
    start, at_last = threading.Barrier(len(ways)), threading.Barrier(len(ways), timeout=60)

    def one(way: Way) -> bytes | int:
        start.wait()
        return way(server.url, request_id, at_last)

    with ThreadPoolExecutor(len(ways)) as pool:
        results = list(pool.map(one, ways))
    files = [r for r in results if isinstance(r, bytes)]
    assert len(files) == 1, f"{len(files)} clients got the file"
    assert files[0] == to_bytes(ToneSpec.model_validate(spec))
    assert len(files[0]) > 2 * CHUNK_BYTES
    assert sorted(r for r in results if isinstance(r, int)) == [410] * (len(ways) - 1)


@pytest.mark.parametrize("trial", range(5))
def test_of_16_clients_fetching_chunks_exactly_one_gets_the_file(
    server: LocalServer, gate: LastChunkGate, trial: int
) -> None:
    race(server, gate, 300 + trial, [by_chunks] * CLIENTS)


@pytest.mark.parametrize("trial", range(3))
def test_download_redirect_and_chunks_exclude_each_other(
    server: LocalServer, gate: LastChunkGate, trial: int
) -> None:
    race(server, gate, 400 + trial, [by_chunks, by_redirect] * (CLIENTS // 2))


def test_the_holder_retries_chunks_others_get_410(server: LocalServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        rid = http.post("/waves", json={**SPEC, "frequencies": [500]}).json()["request_id"]
        wait_ready(http, rid)
        assert http.get(f"/waves/{rid}/chunks/-1").status_code == 422
        assert http.get(f"/waves/{rid}/chunks/8").status_code == 416  # refused, not claimed
        first = http.get(f"/waves/{rid}/chunks/0").json()
        token = {"download_token": first["download_token"]}
        assert http.get(f"/waves/{rid}").json()["status"] == "downloading"
        assert http.get(f"/waves/{rid}/chunks/1").status_code == 410
        assert http.get(f"/waves/{rid}/chunks/1", params={"download_token": "x"}).status_code == 410
        assert http.get(f"/waves/{rid}/download").status_code == 410
        assert http.get(f"/waves/{rid}/chunks/0", params=token).json()["file"] == first["file"]
        assert http.get(f"/waves/{rid}/chunks/8", params=token).status_code == 416
        for offset in range(1, 7):
            assert http.get(f"/waves/{rid}/chunks/{offset}", params=token).status_code == 200
        assert http.get(f"/waves/{rid}/chunks/7", params=token).json()["is_last"] is True
        assert http.get(f"/waves/{rid}/chunks/0", params=token).status_code == 410
        assert http.get(f"/waves/{rid}").json()["status"] == "downloaded"
