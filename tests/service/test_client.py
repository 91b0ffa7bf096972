"""WaveClient against a real server in a background thread (LocalServer)."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from wavekit import InvalidSpecError, ToneSpec, to_bytes
from wavekit.client import CHUNK_ATTEMPTS, WaveClient
from wavekit.errors import JobGoneError, JobNotFoundError, WavekitError
from wavekit.server import LocalServer
from wavekit.settings import Settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("client"), chunk_bytes=100_000)
    with LocalServer(settings) as running:
        yield running


@pytest.mark.parametrize("via", ["url", "chunks"])
def test_generate_returns_the_same_bytes_as_the_library(server: LocalServer, via: str) -> None:
    spec = ToneSpec(frequencies=["A4", 445], duration=3.0, number_of_channels=2, volume=0.3)
    with WaveClient(server.url, client_id="tests") as client:
        data = client.generate(spec, via=via, progress=False)  # type: ignore[arg-type]
    assert isinstance(data, bytes)
    assert len(data) > 5 * 100_000  # several chunks
    assert data == to_bytes(spec)  # what the service stores is exactly the library's output
    audio, _ = sf.read(io.BytesIO(data))
    assert np.max(np.abs(audio)) == pytest.approx(0.3, abs=1e-4)


def test_generate_to_a_path(server: LocalServer, tmp_path: Path) -> None:
    with WaveClient(server.url) as client:
        path = client.generate({"frequencies": [1000], "duration": 0.5}, tmp_path / "x.wav")
    assert path == tmp_path / "x.wav"
    assert sf.info(str(path)).frames == 22_050


def test_errors_come_back_typed(server: LocalServer) -> None:
    with WaveClient(server.url) as client:
        with pytest.raises(InvalidSpecError) as invalid:
            client.submit({"frequencies": [30_000], "sample_rate": 44_100})
        assert invalid.value.fields == ["frequencies[0].freq"]
        with pytest.raises(JobNotFoundError):
            client.status("nope")
        accepted = client.submit({"frequencies": [123], "duration": 0.1})
        client.wait(accepted["request_id"])
        client.download(accepted["request_id"])
        with pytest.raises(JobGoneError, match="already downloaded"):
            client.download(accepted["request_id"])
        with pytest.raises(JobGoneError, match="downloaded"):
            client.wait(accepted["request_id"])


class CorruptingTransport(httpx.BaseTransport):
    """The real connection to the server, flipping a byte of the first ``corrupt`` answers
    for each chunk (all of them with ``corrupt=None``), the last chunk only if ``last``;
    it records every chunk request."""

    def __init__(self, corrupt: int | None, last: bool = False) -> None:
        self.inner = httpx.HTTPTransport()
        self.corrupt = corrupt
        self.last = last
        self.seen: list[tuple[str, str | None]] = []  # (path, download_token)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if "/chunks/" not in request.url.path:
            return response
        path = request.url.path
        self.seen.append((path, request.url.params.get("download_token")))
        response.read()
        body = json.loads(response.content)
        times = sum(1 for p, _ in self.seen if p == path)
        wanted = self.corrupt is None or times <= self.corrupt
        if body.get("file") and wanted and (self.last or not body["is_last"]):
            data = bytearray(base64.b64decode(body["file"]))
            data[len(data) // 2] ^= 0xFF
            body["file"] = base64.b64encode(bytes(data)).decode()
        return httpx.Response(response.status_code, json=body, headers={"x-corrupted": "1"})


def corrupted_client(server: LocalServer, transport: CorruptingTransport) -> WaveClient:
    http = httpx.Client(base_url=server.url, transport=transport, timeout=30)
    return WaveClient(server.url, http=http)


def test_client_retries_a_corrupt_chunk_with_its_token(server: LocalServer) -> None:
    spec = ToneSpec(frequencies=[620], duration=3.0)
    transport = CorruptingTransport(corrupt=1)
    with corrupted_client(server, transport) as client:
        data = client.generate(spec, via="chunks", progress=False)
    assert data == to_bytes(spec)
    paths = [path for path, _ in transport.seen]
    offsets = sorted({int(p.rsplit("/", 1)[1]) for p in paths})
    assert offsets == [0, 1, 2]
    assert [paths.count(p) for p in sorted(set(paths))] == [2, 2, 1]  # corrupt, then good
    assert transport.seen[0][1] is None  # the claim
    assert all(token == transport.seen[1][1] is not None for _, token in transport.seen[1:])


def test_client_gives_up_on_a_chunk_that_stays_corrupt(server: LocalServer) -> None:
    transport = CorruptingTransport(corrupt=None)
    outcome: list[BaseException] = []

    def download() -> None:
        with corrupted_client(server, transport) as client:
            try:
                client.generate({"frequencies": [630], "duration": 3.0}, via="chunks")
            except BaseException as exc:  # the outcome is what the test checks
                outcome.append(exc)

    thread = threading.Thread(target=download, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "the client kept asking for a chunk that stays corrupt"
    assert len(outcome) == 1
    assert isinstance(outcome[0], WavekitError)
    assert "chunk 0" in str(outcome[0])
    assert f"gave up after {CHUNK_ATTEMPTS} attempts" in str(outcome[0])
    assert "SHA-256" in str(outcome[0])
    assert len(transport.seen) == CHUNK_ATTEMPTS


def test_client_reports_a_corrupt_last_chunk_at_once(server: LocalServer) -> None:
    transport = CorruptingTransport(corrupt=None, last=True)
    with (
        corrupted_client(server, transport) as client,
        pytest.raises(WavekitError, match="the last, arrived corrupt"),
    ):
        client.generate({"frequencies": [640], "duration": 0.5}, via="chunks")
    assert len(transport.seen) == 1  # one chunk, which was the last: not asked for again
