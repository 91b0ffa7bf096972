"""The API function's cold start stays free of numpy and soundfile: its init (the module
import) and its first request (app, Mangum, boto3 clients, a POST /waves against moto)
need neither, so a fresh container never pays for them. ``benchmarks/bench_coldstart.py``
measures the time; this keeps the property."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIRST_REQUEST = """
import json, os, sys
HEAVY = ("numpy", "soundfile")
from wavekit.handlers import api
loaded = {"import": sorted(m for m in HEAVY if m in sys.modules)}
from moto import mock_aws
from tests.aws.conftest import LambdaContext, http_event
from tests.aws.resources import DUMMY_ENV, create_backend_resources, new_session
os.environ.update(DUMMY_ENV)
with mock_aws():
    made = create_backend_resources(new_session(), prefix="wkcold")
    os.environ.update({
        "WAVEKIT_BLOB_BUCKET": made.bucket, "WAVEKIT_JOBS_TABLE": made.table,
        "WAVEKIT_QUEUE_URL": made.queue_url, "WAVEKIT_EVENTS_STREAM": made.stream,
        "WAVEKIT_DATA_DIR": sys.argv[1],
    })
    loaded["set-up"] = sorted(m for m in HEAVY if m in sys.modules)
    spec = {"frequencies": [440], "duration": 0.5, "sample_rate": 8000}
    response = api.handler(http_event("POST", "/waves", spec), LambdaContext())
    loaded["status"] = response["statusCode"]
    loaded["first request"] = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps(loaded))
"""


def test_the_first_api_request_loads_neither_numpy_nor_soundfile(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {"import": [], "set-up": [], "status": 202, "first request": []}
