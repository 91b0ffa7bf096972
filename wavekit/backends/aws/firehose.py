"""Request-log events to a Firehose delivery stream, and the JSON lines it carries.

The stream (JSON → Parquet conversion, ``dt=`` partitions in the lake bucket) is
declared in ``deploy/template.yaml``; :func:`event_to_json` writes what its Hive JSON
SerDe reads, :func:`event_from_json` reads the stream's raw output back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from wavekit.backends.aws.clients import LazyClient, backend_error
from wavekit.events import EVENT_COLUMNS, RequestEvent
from wavekit.ports.events import BufferedEventSink

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from types_boto3_firehose import FirehoseClient

log = logging.getLogger(__name__)

FIREHOSE_MAX_RECORDS = 500
FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024
FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024


def event_to_json(event: RequestEvent) -> bytes:
    """One JSON line; ``ts`` in epoch milliseconds (the delivery stream's Hive JSON SerDe
    reads it with ``TimestampFormats: [millis]``)."""
    record = event.to_record()
    record["ts"] = round(event.ts.timestamp() * 1000)
    return (
        json.dumps({k: record[k] for k in EVENT_COLUMNS}, separators=(",", ":")) + "\n"
    ).encode()


def event_from_json(line: str | bytes) -> RequestEvent:
    """Reverse :func:`event_to_json` (reading the stream's raw output or error records)."""
    record = json.loads(line)
    record["ts"] = dt.datetime.fromtimestamp(record["ts"] / 1000, dt.UTC)
    return RequestEvent(**record)


def batches(
    records: Sequence[bytes],
    max_records: int = FIREHOSE_MAX_RECORDS,
    max_bytes: int = FIREHOSE_MAX_BATCH_BYTES,
) -> Iterator[list[bytes]]:
    """Consecutive batches within PutRecordBatch's limits (count and total size)."""
    batch: list[bytes] = []
    size = 0
    for record in records:
        if batch and (len(batch) >= max_records or size + len(record) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        yield batch


class FirehoseEventSink(BufferedEventSink[bytes]):
    """Request-log events to a Firehose delivery stream (Parquet in S3 by ``dt=``).

    Buffering, locking and never raising come from
    :class:`~wavekit.ports.events.BufferedEventSink`; events are buffered as JSON lines
    (one too large for Firehose is dropped at ``emit``). No timer thread: the Lambda
    handler calls :meth:`flush` at the end of each invocation, since a frozen Lambda runs
    no background thread. A flush sends PutRecordBatch calls of at most 500 records /
    4 MiB and retries only the records Firehose reports as failed; records still failing
    stay buffered for the next flush (up to ``max_buffered``, then the oldest are dropped).

    Parameters
    ----------
    stream
        Delivery stream name.
    firehose_client, boto3_session, boto_config
        Injected client, or how to build one lazily.
    max_buffered
        Bound of the buffer.
    max_attempts
        PutRecordBatch tries per flush for the records that keep failing.
    backoff_s
        First pause between tries; doubles each time.
    sleep
        How to pause (tests pass a recorder).
    """

    def __init__(
        self,
        stream: str,
        *,
        firehose_client: FirehoseClient | None = None,
        boto3_session: Session | None = None,
        boto_config: Config | None = None,
        region: str | None = None,
        max_buffered: int = 100_000,
        max_attempts: int = 4,
        backoff_s: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(max_buffered=max_buffered)
        self.stream = stream
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self._client: LazyClient[FirehoseClient] = LazyClient(
            "firehose", firehose_client, boto3_session, boto_config, region
        )

    @property
    def client(self) -> FirehoseClient:
        return self._client.get()

    def _encode(self, event: RequestEvent) -> bytes | None:
        record = event_to_json(event)
        if len(record) > FIREHOSE_MAX_RECORD_BYTES:
            log.warning("dropping a request-log event of %d bytes", len(record))
            return None
        return record

    def _write(self, batch: list[bytes]) -> list[bytes]:
        failed: list[bytes] = []
        for chunk in batches(batch):
            failed.extend(self._put(chunk))
        return failed

    def _put(self, batch: list[bytes]) -> list[bytes]:
        """Send one batch; retry what failed; return the records that still fail."""
        from botocore.exceptions import BotoCoreError, ClientError

        pending = batch
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self.client.put_record_batch(
                    DeliveryStreamName=self.stream, Records=[{"Data": r} for r in pending]
                )
            except (ClientError, BotoCoreError) as exc:
                error = backend_error(exc, "firehose put_record_batch")
                log.warning("%s", error)
                if not error.transient:
                    return pending
                continue
            if not response.get("FailedPutCount"):
                return []
            results = response.get("RequestResponses", [])
            pending = [
                r for r, result in zip(pending, results, strict=True) if "ErrorCode" in result
            ]
        return pending
