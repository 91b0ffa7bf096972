"""The Firehose event sink beyond the shared port contract: batch limits, partial
retries (Stubber), never raising, delivery through moto."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from tests.aws.resources import REGION, BackendResources, delivered_lines, new_session
from wavekit.backends import aws
from wavekit.events import RequestEvent


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
