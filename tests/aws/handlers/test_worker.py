"""The worker function, called with the SQS trigger's events (real receipt handles from
moto): partial batch failures, the time reserve, download-once after processing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.aws.conftest import LambdaContext, http_event, sqs_event
from tests.aws.handlers.support import SPEC, call_api, item, s3_keys
from tests.aws.resources import BackendResources, new_session
from wavekit.handlers import worker
from wavekit.ports import blob_key


def test_worker_batch_with_a_bad_message_then_download_once(stack: BackendResources) -> None:
    ids = [
        call_api(http_event("POST", "/waves", {**SPEC, "duration": d}))[2]["request_id"]
        for d in (0.25, 0.5)
    ]
    bad = {
        "messageId": "bad-1",
        "receiptHandle": "not-a-real-handle",
        "body": "this is not json",
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
    }
    session = new_session()
    event = sqs_event(session, stack.queue_url, [bad])
    assert len(event["Records"]) == 3
    result = worker.handler(event, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    for request_id in ids:
        stored = item(stack, request_id)
        assert stored["status"]["S"] == "ready"
        assert blob_key(stored["file_id"]["S"]) in s3_keys(stack)
        assert int(stored["bytes"]["N"]) > 0
    # the good messages were deleted by the worker itself
    assert session.client("sqs").receive_message(QueueUrl=stack.queue_url).get("Messages") is None

    # redelivery of an already processed message changes nothing and is not a failure
    again = worker.handler(event, LambdaContext())
    assert again == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}

    status, headers, _ = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert status == 303
    url = urlparse(headers["location"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"/{blob_key(item(stack, ids[0])['file_id']['S'])}")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="wavekit-')
    assert item(stack, ids[0])["status"]["S"] == "downloaded"
    status, _, body = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert (status, body["error"]) == (410, "gone")

    status, _, body = call_api(http_event("GET", f"/waves/{ids[1]}/chunks/0"))
    assert status == 200
    assert body["is_last"] is True
    assert body["total_bytes"] == int(item(stack, ids[1])["bytes"]["N"])


def test_worker_leaves_messages_it_has_no_time_for(stack: BackendResources) -> None:
    request_id = call_api(http_event("POST", "/waves", SPEC))[2]["request_id"]
    event = sqs_event(new_session(), stack.queue_url)
    (record,) = event["Records"]
    result = worker.handler(event, LambdaContext(remaining_ms=worker.WORKER_RESERVE_MS - 1))
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert item(stack, request_id)["status"]["S"] == "in_progress"
    assert s3_keys(stack) == []
