"""The AWS adapters: a module per service behind the ports, sharing :mod:`.clients`.

- :mod:`.s3` blob store; :mod:`.dynamodb` job table; :mod:`.sqs` job queue (and the
  worker Lambda's records); :mod:`.firehose` event sink; :mod:`.athena` warehouse;
  :mod:`.leaderboard_cache` boards in the jobs table;
- :mod:`.clients` the boto3 guard, lazy clients, region, error translation and retries.

Each adapter takes an injected boto3 client, or a session (``boto3_session``) and a
botocore ``Config`` from which it builds its client on first use, so importing this
package loads neither boto3 nor awswrangler, and tests pass moto-backed clients.
botocore errors never leave an adapter: :func:`backend_error` turns them into
:class:`~wavekit.errors.BackendError`, ``transient`` for throttling and 5xx.

The resources themselves (bucket, table with its index and TTL, FIFO queue and DLQ,
delivery stream, workgroup) are declared in ``deploy/template.yaml``.
"""

from wavekit.backends.aws.athena import AthenaWarehouse
from wavekit.backends.aws.clients import backend_error, translated
from wavekit.backends.aws.dynamodb import GSI_NAME, GSI_SHARDS, DynamoJobTable
from wavekit.backends.aws.firehose import (
    FIREHOSE_MAX_BATCH_BYTES,
    FIREHOSE_MAX_RECORD_BYTES,
    FIREHOSE_MAX_RECORDS,
    FirehoseEventSink,
    batches,
    event_from_json,
    event_to_json,
)
from wavekit.backends.aws.leaderboard_cache import DynamoLeaderboardCache
from wavekit.backends.aws.s3 import MAX_PRESIGN_S, S3BlobStore
from wavekit.backends.aws.sqs import SqsJobQueue, message_from_record

__all__ = [
    "FIREHOSE_MAX_BATCH_BYTES",
    "FIREHOSE_MAX_RECORDS",
    "FIREHOSE_MAX_RECORD_BYTES",
    "GSI_NAME",
    "GSI_SHARDS",
    "MAX_PRESIGN_S",
    "AthenaWarehouse",
    "DynamoJobTable",
    "DynamoLeaderboardCache",
    "FirehoseEventSink",
    "S3BlobStore",
    "SqsJobQueue",
    "backend_error",
    "batches",
    "event_from_json",
    "event_to_json",
    "message_from_record",
    "translated",
]
