"""``wavekit serve`` stops cleanly (issue 13): within 5 s of SIGTERM or SIGINT, sent to
its main process or its whole process group, also when a non-interactive shell started it
with ``&`` (SIGINT ignored), after serving parallel downloads, with no process left
behind; jobs in flight finish after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from pathlib import Path

import httpx
import pytest

from tests.browser_support import free_port
from tests.service.conftest import wait_ready

# a few hundred ms of synthesis each, 35 MB: some are mid-write when the signal comes
LONG = {"duration": 60, "sample_rate": 96_000, "bits_per_sample": 24, "number_of_channels": 2}
SMALL = {"duration": 1.0, "sample_rate": 16_000}
MEDIUM = {"duration": 60, "sample_rate": 48_000, "number_of_channels": 2}  # 11.5 MB
STOP_WITHIN_S = 5.0


def ignore_sigint() -> None:
    """What ``cmd &`` in a non-interactive shell does to the child."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start(data: Path, port: int, sigint_ignored: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WAVEKIT_DATA_DIR": str(data), "WAVEKIT_WORKER_THREADS": "1",
           "WAVEKIT_CHUNK_BYTES": "4096", "WAVEKIT_RATE_LIMIT_BURST": "10000"}  # fmt: skip
    log = (data.parent / f"server-{port}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "wavekit", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a service manager starts it
        preexec_fn=ignore_sigint if sigint_ignored else None,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with {proc.returncode}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def group_members(pgid: int) -> list[str]:
    """Processes (zombies too) still in the process group ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:
            found.append(f"{entry.name} ({fields[0]}) {stat[: stat.rindex(')') + 1]}")
    return found


def load(url: str, stack: ExitStack) -> list[str]:
    """Parallel downloads (redirect and chunks), long jobs queued and in progress, a
    download a slow client has not finished reading, an idle keep-alive connection."""
    with httpx.Client(base_url=url, timeout=60) as http:
        medium = http.post("/waves", json={**MEDIUM, "frequencies": [100]}).json()["request_id"]
        ready = []
        for i in range(8):
            rid = http.post("/waves", json={**SMALL, "frequencies": [300 + i]}).json()
            ready.append(rid["request_id"])
        for rid in [*ready, medium]:
            wait_ready(http, rid)

        def download(i_rid: tuple[int, str]) -> int:
            i, rid = i_rid
            if i % 2:
                link = http.get(f"/waves/{rid}/download").headers["location"]
                return len(httpx.get(link, timeout=60).content)
            size, offset, token = 0, 0, {}
            while True:
                body = http.get(f"/waves/{rid}/chunks/{offset}", params=token).json()
                token = {"download_token": body.get("download_token", "")}
                size, offset = size + len(body["file"]), offset + 1
                if body["is_last"]:
                    return size

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(download, enumerate(ready)))
        accepted = [
            http.post("/waves", json={**LONG, "frequencies": [200 + i]}).json()["request_id"]
            for i in range(4)
        ]
        deadline = time.monotonic() + 30
        while http.get(f"/waves/{accepted[0]}").json()["status"] == "in_progress":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        link = http.get(f"/waves/{medium}/download").headers["location"]
    slow = stack.enter_context(httpx.Client(base_url=url, timeout=60))
    slow.get("/health")  # stays open, idle
    reading = stack.enter_context(slow.stream("GET", link))
    assert len(next(reading.iter_raw(4096))) > 0  # and reads no more
    return accepted


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "to_group", "sigint_ignored"),
    [
        (signal.SIGTERM, True, False),
        (signal.SIGINT, False, False),
        (signal.SIGTERM, True, True),
        (signal.SIGINT, False, True),
    ],
    ids=[
        "SIGTERM-group",
        "SIGINT-main",
        "SIGTERM-group-started-with-&",
        "SIGINT-main-started-with-&",
    ],
)
def test_serve_stops_within_5_s_and_finishes_every_job_after_a_restart(
    tmp_path: Path, sig: signal.Signals, to_group: bool, sigint_ignored: bool
) -> None:
    data = tmp_path / "data"
    proc = start(data, port := free_port(), sigint_ignored)
    stack = ExitStack()
    try:
        accepted = load(f"http://127.0.0.1:{port}", stack)
        sent = time.monotonic()
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_WITHIN_S + 5)
        took = time.monotonic() - sent
        left = group_members(proc.pid)
    finally:
        stack.close()
        if proc.poll() is None or group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert took < STOP_WITHIN_S, f"still running {took:.1f} s after {sig.name}"
    assert left == [], f"left behind: {left}"

    restarted = start(data, port := free_port(), sigint_ignored=False)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=60) as http:
            for request_id in accepted:
                assert wait_ready(http, request_id, timeout_s=120)["status"] == "ready"
                link = http.get(f"/waves/{request_id}/download").headers["location"]
                assert len(httpx.get(link, timeout=60).content) > 30_000_000
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(30)
