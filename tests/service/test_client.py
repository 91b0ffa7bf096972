"""WaveClient against a real server in a background thread (LocalServer)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from wavekit import InvalidSpecError, ToneSpec, to_bytes
from wavekit.client import WaveClient
from wavekit.errors import JobGoneError, JobNotFoundError
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
