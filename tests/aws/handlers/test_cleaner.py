"""The cleaner function, called with an EventBridge scheduled event: expiry, deletion of
files no live job needs, and re-queueing of jobs whose message was lost."""

from __future__ import annotations

import datetime as dt
import json

from tests.aws.conftest import LambdaContext, scheduled_event
from tests.aws.handlers.support import SPEC, item, s3_keys
from tests.aws.resources import BackendResources, new_session
from wavekit.backends.aws import DynamoJobTable
from wavekit.handlers import cleaner
from wavekit.ports import Job, JobStatus, blob_key


def test_scheduled_cleaner_expires_deletes_and_requeues(stack: BackendResources) -> None:
    session = new_session()
    table = DynamoJobTable(stack.table, boto3_session=session)
    now = dt.datetime.now(dt.UTC)
    s3 = session.client("s3")

    def job(request_id: str, file_id: str, status: JobStatus, age: dt.timedelta) -> Job:
        made = Job(
            request_id=request_id,
            file_id=file_id,
            status=status,
            spec_json=json.dumps(SPEC),
            client_id="c",
            created_at=now - age,
            updated_at=now - age,
            downloaded_at=now - age if status is JobStatus.DOWNLOADED else None,
        )
        if status is not JobStatus.IN_PROGRESS:
            s3.put_object(Bucket=stack.bucket, Key=blob_key(file_id), Body=b"RIFF")
        return table.create(made)

    job("old", "f-old", JobStatus.READY, dt.timedelta(days=3))
    job("fresh", "f-fresh", JobStatus.READY, dt.timedelta(hours=1))
    job("taken", "f-taken", JobStatus.DOWNLOADED, dt.timedelta(hours=1))
    job("lost", "f-lost", JobStatus.IN_PROGRESS, dt.timedelta(hours=1))

    result = cleaner.handler(scheduled_event(), LambdaContext())
    assert result == {"expired": 1, "deleted_blobs": 2, "requeued": 1, "dead_lettered": 0}
    assert sorted(s3_keys(stack)) == [blob_key("f-fresh")]
    assert item(stack, "old")["status"]["S"] == "expired"
    assert item(stack, "taken")["purged"]["BOOL"] is True
    assert "gsi_shard" not in item(stack, "taken")  # left the cleaner's index
    queued = session.client("sqs").receive_message(QueueUrl=stack.queue_url)["Messages"]
    assert [json.loads(m["Body"])["request_id"] for m in queued] == ["lost"]

    # a second run finds nothing more to do: the re-queue touched the job, so it is not
    # sent again before another requeue_after_s
    assert cleaner.handler(scheduled_event(), LambdaContext()) == {
        "expired": 0,
        "deleted_blobs": 0,
        "requeued": 0,
        "dead_lettered": 0,
    }
