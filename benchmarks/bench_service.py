"""Local service benchmark: accepted POST /waves per second, latency, end-to-end time.

    python benchmarks/bench_service.py [--seconds 10] [--connections 16]

A real server process (uvicorn, as ``wavekit serve`` runs it: worker threads in a child
process) on localhost. The load comes from ``wrk`` (``apt-get install wrk``), a C load
generator that leaves the CPU to the server; without it, a Python generator is used and
the numbers are bound by the client. Goal (docs/design.md §7): ≥ 500 accepted requests/s on
2 cores, with the load generator on the same 2 cores.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"frequencies":[%d.25],"duration":0.05}', 100 + counter % 5000)
  return wrk.format(nil, "/waves", nil, body)
end
response = function(status, headers, body)
  if status ~= 202 then print("unexpected status " .. status) end
end
"""


def start_server(data_dir: Path, port: int, mode: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WAVEKIT_DATA_DIR": str(data_dir),
        "WAVEKIT_WORKER_MODE": mode,
        "WAVEKIT_RATE_LIMIT_PER_S": "1000000",
        "WAVEKIT_RATE_LIMIT_BURST": "1000000",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "wavekit.server:create_app",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def load_with_wrk(url: str, seconds: int, connections: int, tmp: Path) -> str:
    script = tmp / "post.lua"
    script.write_text(POST_LUA)
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    bad = out.count("unexpected status")
    return f"{rate:7.0f} accepted/s  p50 {p50}  p99 {p99}  non-202: {bad}"


def load_with_python(url: str, seconds: int, connections: int) -> str:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def run() -> None:
        with httpx.Client(base_url=url) as client:
            while time.monotonic() < deadline:
                spec = {"frequencies": [random.uniform(100, 5000)], "duration": 0.05}
                started = time.perf_counter()
                assert client.post("/waves", json=spec).status_code == 202
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run) for _ in range(min(connections, 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    q = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / seconds
    return (
        f"{rate:7.0f} accepted/s  p50 {q[49] * 1e3:.1f}ms  p99 {q[98] * 1e3:.1f}ms (client-bound)"
    )


def end_to_end(url: str, repeat: int = 5) -> str:
    times, size = [], 0
    with httpx.Client(base_url=url, timeout=60) as client:
        for i in range(repeat):
            spec = {"frequencies": [440 + i, 445], "duration": 10, "number_of_channels": 2}
            started = time.perf_counter()
            rid = client.post("/waves", json=spec).json()["request_id"]
            delay = 0.005
            while client.get(f"/waves/{rid}").json()["status"] == "in_progress":
                time.sleep(delay)
                delay = min(delay * 1.5, 0.1)
            location = client.get(f"/waves/{rid}/download").headers["location"]
            size = len(httpx.get(location).content)
            times.append(time.perf_counter() - started)
    return f"median {statistics.median(times) * 1e3:.0f} ms for {size:,} bytes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    print(f"load generator: {'wrk' if wrk else 'python threads (install wrk for real numbers)'}")
    for mode in ("process", "thread"):
        with tempfile.TemporaryDirectory() as tmp:
            port = random.randint(20000, 40000)
            url = f"http://127.0.0.1:{port}"
            proc = start_server(Path(tmp), port, mode)
            try:
                if mode == "process":  # on an idle server, before the burst fills the queue
                    print(f"end-to-end 10 s stereo 16-bit WAV, idle server: {end_to_end(url)}")
                if wrk:
                    result = load_with_wrk(url, args.seconds, args.connections, Path(tmp))
                else:
                    result = load_with_python(url, args.seconds, args.connections)
                print(f"POST /waves, workers in a {mode:7s}: {result}   (goal ≥ 500/s)")
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(30)


if __name__ == "__main__":
    main()
