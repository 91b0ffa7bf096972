"""Cold start of the API Lambda handler, before and after the redesign, in one run.

    python benchmarks/bench_coldstart.py [--runs 7] [--before-rev 0687fd7]
                                         [--before-tree /tmp/wk-before]

Two numbers per variant, each the median of ``--runs`` fresh interpreters (after one
discarded warm-up run that writes the bytecode caches, as a bundle's ``.pyc`` files do):

- **cold import**: ``import`` of the handler module, the first thing a new interpreter
  does (the Lambda init phase);
- **first request**: the handler's first invocation with a realistic API Gateway HTTP API
  (payload 2.0) ``POST /waves`` event: building the app, Mangum, the boto3 clients, then
  the request itself against AWS (a moto server on localhost: DynamoDB, S3, SQS and
  Firehose calls over HTTP, as in Lambda).

*before* is the pre-redesign commit (``--before-rev``, handler
``wavekit.service.lambdas.api``) checked out with ``git worktree add`` (made if missing);
*after* is this tree (``wavekit.handlers.api.handler``). Each child imports nothing of
wavekit before the timed import, and the moto server runs in this (parent) process, so
neither measurement carries the other's imports. The children also report whether numpy
and soundfile were loaded after the import and after the first request. Goal
(docs/design.md §7): the API handler imports without numpy or soundfile.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "before": ("wavekit.service.lambdas", "api"),
    "after": ("wavekit.handlers.api", "handler"),
}
SPEC = {"frequencies": [440, 445], "duration": 0.5, "sample_rate": 8000}
HEAVY = ("numpy", "soundfile")


# -- the child: one fresh interpreter, one cold start ---------------------------------------


def child(module_name: str, attribute: str) -> None:
    """Time the import, then the first and a second (warm) request; print one JSON line
    (``WAVEKIT_BENCH_PROFILE=1``: also the modules the first request imported)."""
    started = time.perf_counter()
    module = __import__(module_name, fromlist=[attribute])
    imported = time.perf_counter()
    after_import = sorted(m for m in HEAVY if m in sys.modules)
    handler = getattr(module, attribute)

    timings = []
    for _ in range(2):
        event = api_gateway_event("POST", "/waves", SPEC)
        begin = time.perf_counter()
        response = handler(event, LambdaContext())
        timings.append(time.perf_counter() - begin)
        assert response["statusCode"] == 202, response
        if os.environ.get("WAVEKIT_BENCH_PROFILE") and len(timings) == 1:
            print("\n".join(sorted(sys.modules)), file=sys.stderr)
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "first_request_s": timings[0],
                "warm_request_s": timings[1],
                "heavy_after_import": after_import,
                "heavy_after_first_request": sorted(m for m in HEAVY if m in sys.modules),
            }
        )
    )


class LambdaContext:
    """The fields of the Lambda context the handlers (and powertools) read."""

    function_name = "wavekit-bench-api"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:wavekit-bench-api"

    def __init__(self) -> None:
        import uuid

        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def api_gateway_event(method: str, path: str, body: Any) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the ``$default`` route delivers it."""
    import base64
    import uuid

    text = json.dumps(body)
    api_id = "a1b2c3d4e5"
    host = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "content-length": str(len(text)),
            "content-type": "application/json",
            "host": host,
            "user-agent": "bench",
            "x-forwarded-for": "203.0.113.9",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "bench",
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:9]).decode(),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text,
        "isBase64Encoded": False,
    }


# -- the parent: AWS on localhost, the trees, the runs ----------------------------------------


def ensure_before_tree(tree: Path, revision: str) -> None:
    if (tree / "wavekit").is_dir():
        return
    print(f"checking out {revision} into {tree} (git worktree add)")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision],
        check=True,
        capture_output=True,
    )


def start_aws() -> tuple[Any, dict[str, str]]:
    """A moto server on a free port, with the backend's resources; the children's env."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access line per AWS call

    sys.path.insert(0, str(ROOT))
    from tests.aws.resources import DUMMY_ENV, create_backend_resources
    from tests.browser_support import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {**DUMMY_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    os.environ.update(env)
    import boto3

    made = create_backend_resources(boto3.Session(), prefix="wkbench")
    env.update(
        {
            "WAVEKIT_BLOB_BUCKET": made.bucket,
            "WAVEKIT_JOBS_TABLE": made.table,
            "WAVEKIT_QUEUE_URL": made.queue_url,
            "WAVEKIT_EVENTS_STREAM": made.stream,
            "WAVEKIT_REGION": "us-east-1",
        }
    )
    return server, env


def run_child(tree: Path, variant: str, env: dict[str, str], data_dir: Path) -> dict[str, Any]:
    module, attribute = VARIANTS[variant]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WAVEKIT_", "PYTHON"))}
    child_env = {**clean, **env, "PYTHONPATH": str(tree), "WAVEKIT_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [sys.executable, __file__, "--child", module, attribute],
        cwd=data_dir,
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{variant} child failed:\n{result.stderr[-3000:]}")
    last: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per variant")
    parser.add_argument("--before-rev", default="0687fd7", help="the pre-redesign commit")
    parser.add_argument("--before-tree", type=Path, default=Path("/tmp/wk-before"))
    parser.add_argument("--child", nargs=2, metavar=("MODULE", "ATTRIBUTE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    import tempfile

    ensure_before_tree(args.before_tree, args.before_rev)
    trees = {"before": args.before_tree, "after": ROOT}
    server, env = start_aws()
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in VARIANTS}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data_dir = Path(scratch)
            for variant in VARIANTS:  # warm-up: bytecode caches, as a bundle's .pyc files
                run_child(trees[variant], variant, env, data_dir)
            for _ in range(args.runs):  # interleaved, so drift hits both alike
                for variant in VARIANTS:
                    results[variant].append(run_child(trees[variant], variant, env, data_dir))
    finally:
        server.stop()

    def median(variant: str, key: str) -> float:
        return statistics.median(r[key] for r in results[variant])

    print(f"API handler cold start, median of {args.runs} fresh interpreters (CPython "
          f"{sys.version.split()[0]}, moto server on localhost)")  # fmt: skip
    print(f"{'':<28}{'before':>10}{'after':>10}{'after/before':>15}")
    for key, label in (
        ("import_s", "cold import of the handler"),
        ("first_request_s", "first request (POST /waves)"),
        ("warm_request_s", "second request (warm)"),
    ):
        before, after = median("before", key), median("after", key)
        print(f"{label:<28}{before * 1000:>8.0f}ms{after * 1000:>8.0f}ms{after / before:>14.2f}x")
    total_before = median("before", "import_s") + median("before", "first_request_s")
    total_after = median("after", "import_s") + median("after", "first_request_s")
    print(f"{'import + first request':<28}{total_before * 1000:>8.0f}ms{total_after * 1000:>8.0f}ms"
          f"{total_after / total_before:>14.2f}x")  # fmt: skip
    for variant in VARIANTS:
        sample = results[variant][-1]
        print(f"{variant}: handler {'.'.join(VARIANTS[variant])}; numpy/soundfile loaded after "
              f"import: {sample['heavy_after_import'] or 'none'}, after the first request: "
              f"{sample['heavy_after_first_request'] or 'none'}")  # fmt: skip
    heavy = results["after"][-1]["heavy_after_import"]
    verdict = "MET" if not heavy else "MISSED"
    print(f"goal (the API handler imports without numpy or soundfile): {verdict}")


if __name__ == "__main__":
    main()
