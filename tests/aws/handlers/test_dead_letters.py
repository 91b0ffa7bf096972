"""Dead letters and lost jobs on AWS: a poison message goes round moto's FIFO queue past
``maxReceiveCount`` into the DLQ and the cleaner fails its job (the client gets 409
``job_failed``); a lost job is re-queued while other messages wait (steady load)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tests.aws.conftest import LambdaContext, http_event, scheduled_event, sqs_event
from tests.aws.handlers.support import SPEC, call_api, item
from tests.aws.resources import BackendResources, new_session
from wavekit.backends.aws import DynamoJobTable
from wavekit.deploy import load_template
from wavekit.handlers import cleaner, worker
from wavekit.ports import Job, JobStatus
from wavekit.service.cleaner import DEAD_LETTER_REASON


class InvocationKilled(BaseException):
    """What the Lambda runtime does to an invocation at its timeout or memory limit: it
    ends, nothing after it runs, and its messages stay in flight."""


def test_poison_message_is_dead_lettered_and_its_job_fails(
    stack: BackendResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wavekit.audio import wavfile

    def killed(*_: Any, **__: Any) -> None:
        raise InvocationKilled

    monkeypatch.setattr(wavfile, "write", killed)
    request_id = call_api(http_event("POST", "/waves", SPEC))[2]["request_id"]
    session = new_session()
    sqs = session.client("sqs")
    max_receives = load_template()["Resources"]["JobsQueue"]["Properties"]["RedrivePolicy"][
        "maxReceiveCount"
    ]
    deliveries = 0
    while (event := sqs_event(session, stack.queue_url))["Records"]:
        (record,) = event["Records"]
        assert json.loads(record["body"]) == {"request_id": request_id}
        deliveries += 1
        with pytest.raises(InvocationKilled):
            worker.handler(event, LambdaContext())
        # the visibility timeout elapses: the message is visible again
        sqs.change_message_visibility(
            QueueUrl=stack.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )
        assert deliveries <= max_receives
    assert deliveries == max_receives
    dead = sqs.get_queue_attributes(
        QueueUrl=stack.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert dead["ApproximateNumberOfMessages"] == "1"
    assert item(stack, request_id)["status"]["S"] == "in_progress"

    result = cleaner.handler(scheduled_event(), LambdaContext())
    assert result["dead_lettered"] == 1
    assert result["requeued"] == 0  # failed before the re-queue rule looks at it
    stored = item(stack, request_id)
    assert stored["status"]["S"] == "failed"
    assert stored["error"]["S"] == DEAD_LETTER_REASON
    status, _, body = call_api(http_event("GET", f"/waves/{request_id}/download"))
    assert (status, body["error"]) == (409, "job_failed")
    assert DEAD_LETTER_REASON in body["message"]
    status, _, body = call_api(http_event("GET", f"/waves/{request_id}"))
    assert (status, body["status"]) == (200, "failed")
    # the dead letter was deleted: the next run finds nothing
    assert sqs.receive_message(QueueUrl=stack.dlq_url).get("Messages") is None
    assert cleaner.handler(scheduled_event(), LambdaContext())["dead_lettered"] == 0


def test_malformed_dead_letter_does_not_stop_the_drain(stack: BackendResources) -> None:
    request_id = call_api(http_event("POST", "/waves", SPEC))[2]["request_id"]
    sqs = new_session().client("sqs")
    for n, body in enumerate(["this is not json", json.dumps({"request_id": request_id})]):
        sqs.send_message(
            QueueUrl=stack.dlq_url,
            MessageBody=body,
            MessageGroupId=f"g{n}",
            MessageDeduplicationId=f"d{n}",
        )
    assert cleaner.handler(scheduled_event(), LambdaContext())["dead_lettered"] == 1
    assert item(stack, request_id)["status"]["S"] == "failed"
    assert sqs.receive_message(QueueUrl=stack.dlq_url).get("Messages") is None


def test_lost_job_is_requeued_under_steady_load(stack: BackendResources) -> None:
    """Other jobs keep the queue non-empty; the lost one is sent again all the same."""
    session = new_session()
    waiting = [
        call_api(http_event("POST", "/waves", {**SPEC, "duration": d}))[2]["request_id"]
        for d in (0.25, 0.75)
    ]
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(hours=1)
    DynamoJobTable(stack.table, boto3_session=session).create(
        Job(
            request_id="lost",
            file_id="f-lost",
            status=JobStatus.IN_PROGRESS,
            spec_json=json.dumps(SPEC),
            client_id="c",
            created_at=old,
            updated_at=old,
        )
    )
    result = cleaner.handler(scheduled_event(), LambdaContext())
    assert result["requeued"] == 1
    received = sqs_event(session, stack.queue_url)["Records"]
    assert sorted(json.loads(r["body"])["request_id"] for r in received) == sorted(
        [*waiting, "lost"]
    )
    # the worker then makes all three
    worker_result = worker.handler({"Records": received}, LambdaContext())
    assert worker_result == {"batchItemFailures": []}
    assert {item(stack, r)["status"]["S"] for r in [*waiting, "lost"]} == {"ready"}
