"""The AWS path end to end over real HTTP (issue 13, item 4): moto in server mode on
127.0.0.1 (a random port), every boto3 call of the handlers going over the wire to it.

A client POSTs through the API function (an API Gateway v2 event through Mangum); the
worker function is fed the messages received from the SQS queue; the client follows the
303 to the presigned S3 URL and fetches it with httpx, and soundfile decodes it; the
request-log events the API function flushed to Firehose (moto writes them to S3 at
once) are read back, written into the Parquet lake layout with wavekit's event writer,
and DuckDB computes a leaderboard from them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile

from tests.aws.conftest import LambdaContext, http_event, sqs_event
from tests.aws.handlers.support import SPEC, call_api
from tests.aws.resources import (
    DUMMY_ENV,
    BackendResources,
    create_backend_resources,
    delivered_lines,
    new_session,
)
from wavekit import handlers
from wavekit.handlers import worker


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a random local port; ``AWS_ENDPOINT_URL`` points boto3 at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {**DUMMY_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def served_stack(
    moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[BackendResources]:
    made = create_backend_resources(new_session(), prefix="wke")
    for name, value in {
        "WAVEKIT_BLOB_BUCKET": made.bucket,
        "WAVEKIT_JOBS_TABLE": made.table,
        "WAVEKIT_QUEUE_URL": made.queue_url,
        "WAVEKIT_EVENTS_STREAM": made.stream,
        "WAVEKIT_DATA_DIR": str(tmp_path / "lambda-tmp"),
        "WAVEKIT_REGION": DUMMY_ENV["AWS_REGION"],
    }.items():
        monkeypatch.setenv(name, value)
    handlers.reset()
    yield made
    handlers.reset()


def _peak_hz(samples: np.ndarray[Any, Any], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_post_work_download_and_leaderboard_over_http(
    served_stack: BackendResources, moto_server: str, tmp_path: Path
) -> None:
    from wavekit.analytics import compute_leaderboard
    from wavekit.backends.aws import event_from_json
    from wavekit.backends.local import DuckDBWarehouse, ParquetEventSink

    stack = served_stack
    session = new_session()
    # every client of the handlers talks to the server, not to an in-process mock
    assert session.client("sqs").meta.endpoint_url == moto_server

    specs = [{**SPEC, "frequencies": [440], "duration": 1.0}, SPEC, {**SPEC, "duration": 0.25}]
    ids = []
    for spec in specs:
        status, _, body = call_api(http_event("POST", "/waves", spec))
        assert status == 202, body
        ids.append(body["request_id"])
    status, _, body = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert (status, body["error"]) == (409, "not_ready")

    event = sqs_event(session, stack.queue_url)
    assert sorted(r["body"] for r in event["Records"]) == sorted(
        f'{{"request_id": "{i}"}}' for i in ids
    )
    assert worker.handler(event, LambdaContext()) == {"batchItemFailures": []}

    status, headers, _ = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert status == 303
    location = headers["location"]
    assert location.startswith(f"{moto_server}/{stack.bucket}/waves/")
    fetched = httpx.get(location, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["content-disposition"].startswith('attachment; filename="wavekit-')
    samples, rate = soundfile.read(io.BytesIO(fetched.content))
    assert rate == SPEC["sample_rate"]
    assert samples.shape[0] == rate * 1  # one second
    mono = samples if samples.ndim == 1 else samples[:, 0]
    assert abs(_peak_hz(mono, rate) - 440.0) <= 1.0
    # download-once: the URL was handed out once
    status, _, body = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert (status, body["error"]) == (410, "gone")

    # the lake: what Firehose delivered, in wavekit's Parquet layout, queried by DuckDB
    events = [event_from_json(line) for line in delivered_lines(session, stack.lake_bucket)]
    routes = sorted((e.route, e.status_code) for e in events)
    assert routes.count(("POST /waves", 202)) == 3
    assert ("GET /waves/{request_id}/download", 303) in routes
    lake = tmp_path / "lake"
    sink = ParquetEventSink(lake)
    for request_event in events:
        sink.emit(request_event)
    sink.close()
    day = events[0].ts.strftime("%Y-%m-%d")
    assert list((lake / f"dt={day}").glob("*.parquet"))
    board = compute_leaderboard(DuckDBWarehouse(lake), "chords_by_requests", "month", n=10)
    # a chord has two tones or more: the single 440 Hz tone is not one
    assert [(e["chord"], e["requests"], e["rank"]) for e in board.entries] == [
        ([440.0, 445.0], 2, 1)
    ]
    warehouse = DuckDBWarehouse(lake)
    board = compute_leaderboard(warehouse, "frequencies_by_requests", "month", n=10)
    assert {e["frequency"]: e["requests"] for e in board.entries} == {440.0: 3, 445.0: 2}
