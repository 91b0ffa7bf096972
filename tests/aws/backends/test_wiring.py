"""The composition root builds the four AWS adapters from Settings."""

from __future__ import annotations

import pytest

from tests.aws.resources import BackendResources, new_session
from wavekit.backends import aws
from wavekit.errors import BackendError
from wavekit.settings import Settings


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
