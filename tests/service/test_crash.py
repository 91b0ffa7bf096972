"""kill -9 the server with jobs queued and in progress; nothing accepted is lost."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from tests.service.conftest import LiveServer, wait_ready

# ~35 MB each, a few hundred ms of work: some finish, one is mid-write, the rest wait
BIG = {"duration": 60, "sample_rate": 96_000, "bits_per_sample": 24, "number_of_channels": 2}


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_jobs_accepted_before_kill_9_finish_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    blobs = data / "blobs"
    server = LiveServer(data, env={"WAVEKIT_WORKER_THREADS": "1"}).start()
    with httpx.Client(base_url=server.url) as client:
        accepted = [
            client.post("/waves", json={**BIG, "frequencies": [200 + i]}).json()["request_id"]
            for i in range(8)
        ]
        deadline = time.monotonic() + 30
        while client.get(f"/waves/{accepted[0]}").json()["status"] == "in_progress":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        partial = blobs / ".tmp"
        while not [p for p in partial.iterdir() if p.stat().st_size > 0]:  # mid-write
            assert time.monotonic() < deadline, "no job was ever caught mid-write"
            time.sleep(0.002)
    assert server.proc is not None
    worker = children(server.proc.pid)
    assert worker, "wavekit serve runs its worker in a child process"
    for pid in worker:  # the whole service at once, as a power cut or the OOM killer would
        os.kill(pid, signal.SIGKILL)
    server.kill()
    left_behind = [p for p in partial.iterdir() if p.stat().st_size > 0]
    assert left_behind, "the kill came after the partial file was finished"
    assert not (blobs / "waves" / left_behind[0].name).exists()

    with sqlite3.connect(data / "wavekit.sqlite3") as db:
        states = dict(db.execute("SELECT request_id, status FROM jobs").fetchall())
    assert set(states) == set(accepted)
    assert "in_progress" in states.values(), "the kill came after every job was done"

    restarted = LiveServer(data, env={"WAVEKIT_WORKER_THREADS": "2"}).start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=60) as client:
            for i, request_id in enumerate(accepted):
                assert wait_ready(client, request_id, timeout_s=120)["status"] == "ready"
                location = client.get(f"/waves/{request_id}/download").headers["location"]
                audio = httpx.get(location, timeout=60).content
                info = sf.info(io.BytesIO(audio))
                assert (info.frames, info.samplerate, info.channels) == (5_760_000, 96_000, 2)
                assert info.subtype == "PCM_24"
                assert sf.read(io.BytesIO(audio), frames=10, start=48_000)[0].any(), i
    finally:
        restarted.stop()

    assert not list((blobs / ".tmp").iterdir()), "a partial file was left behind"
    with sqlite3.connect(data / "wavekit.sqlite3") as db:
        rows = db.execute("SELECT file_id, status, bytes FROM jobs").fetchall()
        assert db.execute("SELECT COUNT(*) FROM queue").fetchone()[0] == 0
    for file_id, status, size in rows:
        assert status == "downloaded"
        assert (blobs / "waves" / f"{file_id}.wav").stat().st_size == size
