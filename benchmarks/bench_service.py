"""Local service benchmark: wavekit's POST /waves against a bare FastAPI endpoint.

    python benchmarks/bench_service.py [--seconds 8] [--connections 32] [--rounds 3]
                                       [--jobs 1000000] [--tuned-bare] [--results PATH]

Three real servers on localhost, all under the same uvicorn settings (one process, no
access log, as ``wavekit serve`` runs): a *bare* FastAPI app whose ``POST /waves``
validates the same body with the same pydantic model and answers 202, and ``wavekit``
(worker in a niced child process) once over an empty jobs table and once over a table
that already holds ``--jobs`` jobs (inserted directly with SQLite). ``wrk`` (a C load
generator, ``apt-get install wrk``) loads them in turn, interleaved, for ``--rounds``
rounds; the medians and the ratios are printed, with p50/p99, the non-2xx answers and
the load on the machine. After every wavekit run each request id answered 202 is
looked up in the jobs table: an accepted job must never be lost.

Goals (issue 16): wavekit ≥ 0.5 of the bare rate; with 1 M jobs ≥ 0.8 of the empty rate.
The cleaner's pass over the 1 M jobs is timed too. Every run and the ratios also go to
``--results`` (JSON; ``benchmarks/results/service.json`` by default). ``wavekit serve``
tunes CPython's garbage collector (``wavekit.server.tune_gc_for_serving``);
``--tuned-bare`` adds the bare app with the same tuning, to show what that part alone is
worth.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from wavekit.audio.spec import ToneSpec

HERE = Path(__file__).resolve().parent

# Bodies cycle over 5000 specs, as a busy service sees repeats; ids of 202s go to a file
# (line-buffered, so none is lost when wrk exits) and every non-2xx answer is printed.
POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
ids = nil
request = function()
  counter = counter + 1
  local body = string.format('{"frequencies":[%d.25],"duration":0.05}', 100 + counter % 5000)
  return wrk.format(nil, "/waves", nil, body)
end
response = function(status, headers, body)
  if status < 200 or status > 299 then print("non-2xx status " .. status) return end
  if ids == nil then
    ids = io.open(os.getenv("WAVEKIT_BENCH_IDS"), "a")
    ids:setvbuf("line")
  end
  local id = string.match(body, '"request_id":"([%w_-]+)"')
  if id then ids:write(id, "\\n") end
end
"""


def bare_app() -> FastAPI:
    """The yardstick: FastAPI validating the same body with the same pydantic model."""
    app = FastAPI()

    @app.post("/waves", status_code=202)
    async def create_wave(spec: ToneSpec) -> dict[str, Any]:
        return {"request_id": uuid.uuid4().hex, "file_id": spec.spec_hash, "status": "accepted"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bare_app_tuned_gc() -> FastAPI:
    """The yardstick with ``wavekit serve``'s garbage-collector tuning (``--tuned-bare``):
    shows how much of wavekit's rate is that tuning rather than its own work."""
    from wavekit.server import tune_gc_for_serving

    app = bare_app()
    tune_gc_for_serving()
    return app


@dataclass
class Server:
    name: str
    data_dir: Path
    factory: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_wavekit(self) -> bool:
        return self.factory.startswith("wavekit")

    def start(self) -> None:
        self.port = random.randint(20000, 40000)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
            "WAVEKIT_DATA_DIR": str(self.data_dir),
            "WAVEKIT_WORKER_MODE": "process",
            "WAVEKIT_RATE_LIMIT_PER_S": "1000000",
            "WAVEKIT_RATE_LIMIT_BURST": "1000000",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", self.factory, "--port", str(self.port),
             "--log-level", "warning", "--no-access-log"],
            env=env,
        )  # fmt: skip
        for _ in range(600):
            try:
                if httpx.get(f"{self.url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(60)

    def queue_depth(self) -> int:
        if not self.is_wavekit:
            return 0
        with sqlite3.connect(self.data_dir / "wavekit.sqlite3", timeout=30) as con:
            return int(con.execute("SELECT COUNT(*) FROM queue").fetchone()[0])

    def wait_idle(self, timeout_s: float = 300) -> None:
        """Until the worker drained the queue, so the next run measures the API alone."""
        deadline = time.monotonic() + timeout_s
        while self.queue_depth() and time.monotonic() < deadline:
            time.sleep(0.5)


@dataclass
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    accepted: int
    lost: int


def _ms(text: str) -> float:
    """wrk's latency (``812.00us``, ``3.21ms``, ``1.02s``, ``1.50m``) in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        return float("nan")
    return float(found.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[found.group(2)]


def load_with_wrk(server: Server, seconds: int, connections: int, tmp: Path) -> Run:
    script = tmp / "post.lua"
    script.write_text(POST_LUA)
    ids_file = tmp / f"ids-{server.name}-{time.monotonic_ns()}.txt"
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         server.url],
        capture_output=True, text=True, check=True,
        env={**os.environ, "WAVEKIT_BENCH_IDS": str(ids_file)},
    )  # fmt: skip
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # line starts: "+/- Stdev" columns such as "90.50%" must not match
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    if p50 != p50:
        print(f"unreadable wrk output:\n{out}")
    non_2xx = out.count("non-2xx status")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(g) for g in errors.groups()) if errors else 0
    ids = ids_file.read_text().split() if ids_file.exists() else []
    lost = missing_jobs(server, ids) if server.is_wavekit else 0
    return Run(rate, p50, p99, non_2xx, socket_errors, len(ids), lost)


def missing_jobs(server: Server, ids: list[str]) -> int:
    """How many request ids answered 202 are not in the jobs table (must be 0)."""
    with sqlite3.connect(server.data_dir / "wavekit.sqlite3", timeout=30) as con:
        con.execute("CREATE TEMP TABLE answered (request_id TEXT PRIMARY KEY)")
        con.executemany("INSERT OR IGNORE INTO answered VALUES (?)", ((i,) for i in ids))
        return int(
            con.execute(
                "SELECT COUNT(*) FROM answered a "
                "WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.request_id = a.request_id)"
            ).fetchone()[0]
        )


def prefill_jobs(data_dir: Path, count: int) -> float:
    """``count`` finished jobs of the last 30 days, inserted directly; returns seconds.

    Mostly downloaded and purged, some expired, a few ready, over 50 000 files: the
    history a long-running service keeps (the cleaner only marks rows, never deletes).
    """
    sys.path.insert(0, str(HERE.parent))
    from wavekit.backends.local.sqlite import SqliteDatabase

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "wavekit.sqlite3"
    SqliteDatabase(path)  # the schema, as the service creates it
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(16)
    files = [uuid.UUID(int=rng.getrandbits(128)).hex * 2 for _ in range(50_000)]

    request_ids = sorted(uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(count))

    def rows() -> Any:
        for i, request_id in enumerate(request_ids):  # key order: a fast bulk insert
            created = now - dt.timedelta(seconds=rng.uniform(3600 * 2, 30 * 86400))
            stamp = created.isoformat(timespec="microseconds")
            roll = i % 100
            status = "ready" if roll == 0 else "expired" if roll < 10 else "downloaded"
            yield (
                request_id,
                files[i % len(files)],
                status,
                '{"duration":0.05,"frequencies":[440.0]}',
                f"client-{i % 1000}",
                stamp,
                stamp,
                4454,
                None,
                f"key-{i}" if i % 3 == 0 else None,
                1,
                stamp if status == "downloaded" else None,
                int(status != "ready"),
            )

    started = time.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' "
        "AND sql IS NOT NULL"
    ).fetchall()
    con.execute("BEGIN")
    for name, _ in indexes:  # built once after the rows: much faster than row by row
        con.execute(f"DROP INDEX {name}")
    con.executemany(
        "INSERT INTO jobs (request_id, file_id, status, spec_json, client_id, created_at, "
        "updated_at, bytes, error, idempotency_key, attempts, downloaded_at, purged) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows(),
    )
    for _, sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.perf_counter() - started


def time_cleaner(data_dir: Path) -> list[float]:
    """Two passes of the cleaner (:meth:`JobService.clean`) over the prefilled table."""
    from wavekit.runtime import Runtime
    from wavekit.settings import Settings

    runtime = Runtime.local(Settings(data_dir=data_dir))
    times = []
    for _ in range(2):
        started = time.perf_counter()
        runtime.service.clean()
        times.append(time.perf_counter() - started)
    runtime.backends.events.close()
    return times


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


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def summary(name: str, runs: list[Run]) -> str:
    rates = [r.rate for r in runs]
    return (
        f"{name:16s} median {statistics.median(rates):7.0f}/s  "
        f"(runs {', '.join(f'{r:.0f}' for r in rates)})  "
        f"p50 {statistics.median(r.p50_ms for r in runs):.1f} ms  "
        f"p99 {statistics.median(r.p99_ms for r in runs):.1f} ms  "
        f"non-2xx {sum(r.non_2xx for r in runs)}  socket errors "
        f"{sum(r.socket_errors for r in runs)}  accepted {sum(r.accepted for r in runs)}  "
        f"lost {sum(r.lost for r in runs)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1_000_000, help="0 skips the big table")
    parser.add_argument(
        "--results", type=Path, default=HERE / "results" / "service.json", help="JSON output"
    )
    parser.add_argument(
        "--tuned-bare",
        action="store_true",
        help="also load the bare app with wavekit serve's GC tuning (a reference only)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench-service needs wrk (apt-get install wrk)")
    print(f"{os.cpu_count()} CPUs, {load()}")
    record: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "seconds": args.seconds,
        "connections": args.connections,
        "rounds": args.rounds,
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        servers = [
            Server("bare FastAPI", tmp / "bare", "bench_service:bare_app"),
            Server("wavekit", tmp / "empty", "wavekit.server:create_app"),
        ]
        if args.jobs:
            big = Server(f"wavekit {args.jobs / 1e6:g}M jobs", tmp / "big", servers[1].factory)
            took = prefill_jobs(big.data_dir, args.jobs)
            print(f"inserted {args.jobs:,} jobs in {took:.1f} s")
            first, steady = time_cleaner(big.data_dir)
            print(f"cleaner pass over {args.jobs:,} jobs: {first:.2f} s, again {steady:.2f} s")
            record["cleaner_s"] = {"jobs": args.jobs, "first": first, "again": steady}
            servers.append(big)
        if args.tuned_bare:
            servers.append(
                Server("bare, tuned GC", tmp / "bare-gc", "bench_service:bare_app_tuned_gc")
            )
        results: dict[str, list[Run]] = {s.name: [] for s in servers}
        try:
            for server in servers:
                server.start()
            print(f"end-to-end 10 s stereo 16-bit WAV, idle: {end_to_end(servers[1].url)}")
            for server in servers:  # warm up: the worker makes the 5000 files once
                load_with_wrk(server, 2, args.connections, tmp)
                server.wait_idle()
            for round_no in range(args.rounds):
                order = servers if round_no % 2 == 0 else servers[::-1]
                for server in order:
                    run = load_with_wrk(server, args.seconds, args.connections, tmp)
                    results[server.name].append(run)
                    print(f"  round {round_no + 1} {server.name:16s} {run.rate:7.0f}/s  "
                          f"p99 {run.p99_ms:.1f} ms  lost {run.lost}  {load()}")  # fmt: skip
                    server.wait_idle()
        finally:
            for server in servers:
                server.stop()
    print(f"POST /waves, wrk {args.connections} connections × {args.seconds} s, "
          f"{args.rounds} interleaved rounds; {load()}")  # fmt: skip
    for name, runs in results.items():
        print("  " + summary(name, runs))
    bare = statistics.median(r.rate for r in results["bare FastAPI"])
    empty = statistics.median(r.rate for r in results["wavekit"])
    print(f"wavekit / bare FastAPI: {empty / bare:.2f}   (goal ≥ 0.5)")
    record["runs"] = {name: [dataclasses.asdict(r) for r in runs] for name, runs in results.items()}
    record["ratios"] = {"wavekit / bare FastAPI": empty / bare}
    if args.jobs:
        full = statistics.median(r.rate for r in results[servers[2].name])
        print(f"wavekit with {args.jobs:,} jobs / empty: {full / empty:.2f}   (goal ≥ 0.8)")
        record["ratios"]["wavekit with big table / empty"] = full / empty
    if args.tuned_bare:
        tuned = statistics.median(r.rate for r in results["bare, tuned GC"])
        print(f"wavekit / bare FastAPI with the same GC tuning: {empty / tuned:.2f}   (reference)")
        record["ratios"]["wavekit / bare FastAPI with the same GC tuning"] = empty / tuned
    record["load_average_at_end"] = os.getloadavg()[0]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=2) + "\n")
    print(f"results: {args.results}")


if __name__ == "__main__":
    main()
