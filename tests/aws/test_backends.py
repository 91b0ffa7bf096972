"""The AWS adapters beyond the shared port contract: Firehose batching and partial
retries, error translation, presigned URL limits, the missing-extra error, wiring."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import ANY, Stubber

from tests.aws.resources import REGION, BackendResources, delivered_lines, new_session
from wavekit.backends import aws
from wavekit.errors import BackendError, MissingExtraError
from wavekit.events import RequestEvent
from wavekit.settings import Settings


def event(i: int, origin: str | None = None) -> RequestEvent:
    return RequestEvent("GET /health", "GET", 200, 1.0, bytes_out=i, origin=origin)


def firehose_client() -> Any:
    return boto3.client(
        "firehose", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_batches_respect_count_and_size_limits() -> None:
    records = [b"x" * 100] * 1200
    sizes = [len(b) for b in aws.batches(records)]
    assert sizes == [500, 500, 200]
    big = [b"y" * (900 * 1024)] * 10  # 10 x 900 KiB: 4 fit under 4 MiB
    assert [len(b) for b in aws.batches(big)] == [4, 4, 2]
    assert all(sum(map(len, b)) <= aws.FIREHOSE_MAX_BATCH_BYTES for b in aws.batches(big))


def test_only_the_failed_records_are_sent_again() -> None:
    client = firehose_client()
    waits: list[float] = []
    sink = aws.FirehoseEventSink("s", firehose_client=client, sleep=waits.append)
    events = [event(i) for i in range(4)]
    for e in events:
        sink.emit(e)
    records = [aws.event_to_json(e) for e in events]
    with Stubber(client) as stub:
        stub.add_response(
            "put_record_batch",
            {
                "FailedPutCount": 2,
                "RequestResponses": [
                    {"RecordId": "a"},
                    {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"},
                    {"RecordId": "c"},
                    {"ErrorCode": "InternalFailure", "ErrorMessage": "oops"},
                ],
            },
            {"DeliveryStreamName": "s", "Records": ANY},
        )
        stub.add_response(
            "put_record_batch",
            {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "b"}, {"RecordId": "d"}]},
            {
                "DeliveryStreamName": "s",
                "Records": [{"Data": records[1]}, {"Data": records[3]}],
            },
        )
        sink.flush()
        stub.assert_no_pending_responses()
    assert sink.pending() == 0
    assert len(waits) == 1


def test_emit_and_flush_never_raise_and_keep_what_failed() -> None:
    client = firehose_client()
    sink = aws.FirehoseEventSink("s", firehose_client=client, max_attempts=2, sleep=lambda s: None)
    for i in range(3):
        sink.emit(event(i))
    with Stubber(client) as stub:
        stub.add_client_error("put_record_batch", "AccessDeniedException", http_status_code=400)
        sink.flush()  # a permanent error: no retry, nothing raised
        stub.add_client_error(
            "put_record_batch", "ServiceUnavailableException", http_status_code=503
        )
        stub.add_client_error(
            "put_record_batch", "ServiceUnavailableException", http_status_code=503
        )
        sink.flush()  # transient, retried, still failing: kept for the next flush
        stub.assert_no_pending_responses()
    assert sink.pending() == 3
    sink.emit(event(9, origin="x" * (aws.FIREHOSE_MAX_RECORD_BYTES + 1)))  # too big: dropped
    assert (sink.pending(), sink.dropped) == (3, 1)


def test_a_thousand_events_reach_the_stream_in_three_calls(stack: BackendResources) -> None:
    session = new_session()
    calls: list[int] = []
    sink = aws.FirehoseEventSink(stack.stream, boto3_session=session)
    sink.client.meta.events.register(
        "provide-client-params.firehose.PutRecordBatch",
        lambda params, **_: calls.append(len(params["Records"])),
    )
    for i in range(1001):
        sink.emit(event(i))
    sink.flush()
    assert calls == [500, 500, 1]
    lines = delivered_lines(session, stack.lake_bucket)
    assert sorted(aws.event_from_json(line).bytes_out for line in lines) == list(range(1001))


def test_botocore_errors_become_backend_errors() -> None:
    throttled = ClientError(
        {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutItem",
    )
    denied = ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutItem",
    )
    assert aws.backend_error(throttled, "put").transient
    assert not aws.backend_error(denied, "put").transient
    assert "AccessDeniedException: no" in str(aws.backend_error(denied, "put"))
    assert aws.backend_error(EndpointConnectionError(endpoint_url="https://x"), "get").transient
    with pytest.raises(BackendError) as caught, aws.translated("dynamodb get"):
        raise throttled
    assert caught.value.transient


def test_presigned_urls_are_capped_and_name_the_file_safely(aws_env: None) -> None:
    blobs = aws.S3BlobStore("bucket", boto3_session=new_session(), max_url_ttl_s=3600)
    url = urlparse(blobs.presigned_url("waves/a.wav", 7 * 24 * 3600, 'evil"\r\nname.wav'))
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["3600"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    disposition = query["response-content-disposition"][0]
    assert disposition == 'attachment; filename="evil_name.wav"'
    assert query["response-content-type"] == ["audio/wav"]


def test_missing_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingExtraError, match=r"wavekit\[aws\]"):
        aws.S3BlobStore("bucket").client  # noqa: B018 - the lazy client is built here


def test_runtime_aws_wires_the_four_adapters(stack: BackendResources) -> None:
    from wavekit.runtime import Runtime

    settings = Settings(
        backend="aws",
        blob_bucket=stack.bucket,
        jobs_table=stack.table,
        queue_url=stack.queue_url,
        events_stream=stack.stream,
    )
    runtime = Runtime.aws(settings, boto3_session=new_session())
    backends = runtime.backends
    assert isinstance(backends.blobs, aws.S3BlobStore)
    assert isinstance(backends.jobs, aws.DynamoJobTable)
    assert isinstance(backends.queue, aws.SqsJobQueue)
    assert isinstance(backends.events, aws.FirehoseEventSink)
    assert backends.queue.fifo
    assert runtime.worker.threads == 0  # Lambdas do the work, not threads
    with pytest.raises(BackendError, match="WAVEKIT_QUEUE_URL"):
        Runtime.aws(settings.model_copy(update={"queue_url": None}))


def test_transitions_remove_fields_set_to_none(stack: BackendResources) -> None:
    from wavekit.ports import Job, JobStatus

    table = aws.DynamoJobTable(stack.table, boto3_session=new_session())
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    table.create(
        Job("r1", "f1", JobStatus.IN_PROGRESS, "{}", "c", now, now, error="first try failed")
    )
    done = table.transition("r1", [JobStatus.IN_PROGRESS], JobStatus.READY, bytes=10, error=None)
    assert done is not None
    assert (done.status, done.bytes, done.error) == (JobStatus.READY, 10, None)
    with pytest.raises(ValueError, match="spec_json"):
        table.transition("r1", [JobStatus.READY], JobStatus.FAILED, spec_json="{}")
    assert table.add_attempt("missing") == 0
