"""The AWS backend: S3, DynamoDB, SQS and Firehose behind the ports of :mod:`.ports`.

Each adapter takes an injected boto3 client, or a session (``boto3_session``) and a
botocore ``Config`` from which it builds its client on first use, so importing this
module costs nothing and tests pass moto-backed clients. botocore errors never leave an
adapter: :func:`backend_error` turns them into :class:`~wavekit.errors.BackendError`,
``transient`` for throttling and 5xx.

The resources themselves (bucket, table with its index and TTL, FIFO queue and DLQ,
delivery stream) are declared in ``deploy/template.yaml``; the design notes are in
``deploy/README.md``.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import logging
import math
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import LazyClient as _LazyClient
from wavekit.backends.aws.clients import backend_error, default_config, error_code, translated
from wavekit.errors import BackendError
from wavekit.events import EVENT_COLUMNS, RequestEvent
from wavekit.ports import Job, JobStatus, QueueMessage, blob_key

if TYPE_CHECKING:
    from wavekit.analytics.leaderboards import Leaderboard

log = logging.getLogger(__name__)

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
MAX_PRESIGN_S = 12 * 3600
"""Presigned URLs live at most this long (signatures made with Lambda's temporary
credentials die with them anyway)."""
FIREHOSE_MAX_RECORDS = 500
FIREHOSE_MAX_BATCH_BYTES = 4 * 1024 * 1024
FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024
SQS_MAX_LONG_POLL_S = 20
GSI_NAME = "by_created"
"""Sparse index of un-purged jobs, keyed by shard and creation time (the cleaner's)."""
GSI_SHARDS = 4
"""Index partitions; spreads the index's writes (one partition takes ~1000 writes/s)."""
DYNAMO_ITEM_LIMIT = 400 * 1024
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


# -- S3 ------------------------------------------------------------------------------------


class S3BlobStore:
    """WAV files in a private S3 bucket; clients download them with presigned GETs.

    Parameters
    ----------
    bucket
        The bucket (block public access on; see the template).
    s3_client, boto3_session, boto_config
        An injected client wins; otherwise one is built from the session on first use.
        Presigning needs SigV4 and the bucket's region, which the default config sets.
    max_url_ttl_s
        Cap on presigned URL lifetimes, whatever the caller asks.
    """

    def __init__(
        self,
        bucket: str,
        *,
        s3_client: Any = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        region: str | None = None,
        max_url_ttl_s: int = MAX_PRESIGN_S,
    ) -> None:
        self.bucket = bucket
        self.max_url_ttl_s = max_url_ttl_s
        config = boto_config
        if config is None and s3_client is None:
            config = default_config(signature_version="s3v4", s3={"addressing_style": "virtual"})
        self._client = _LazyClient("s3", s3_client, boto3_session, config, region)

    @property
    def client(self) -> Any:
        return self._client.get()

    def put_file(self, key: str, path: Path) -> int:
        size = Path(path).stat().st_size
        with translated(f"s3 upload {key}"):
            self.client.upload_file(
                str(path), self.bucket, key, ExtraArgs={"ContentType": "audio/wav"}
            )
        return size

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return None
            raise backend_error(exc, f"s3 head {key}") from exc
        except Exception as exc:
            raise backend_error(exc, f"s3 head {key}") from exc
        return int(head["ContentLength"])

    def read_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            body: bytes = response["Body"].read()
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                raise BackendError(f"blob {key} is gone", transient=False) from exc
            if error_code(exc) == "InvalidRange":  # past the end, like reading a short file
                return b""
            raise backend_error(exc, f"s3 get {key}") from exc
        except BotoCoreError as exc:
            raise backend_error(exc, f"s3 get {key}") from exc
        return body

    def delete(self, key: str) -> None:
        with translated(f"s3 delete {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def presigned_url(self, key: str, expires_s: int, filename: str) -> str | None:
        """A SigV4 GET URL valid ``min(expires_s, max_url_ttl_s)`` seconds that makes the
        browser save the file as ``filename``."""
        safe = _SAFE_FILENAME.sub("_", filename).strip("._") or "wavekit.wav"
        ttl = max(1, min(int(expires_s), self.max_url_ttl_s))
        with translated(f"s3 presign {key}"):
            url: str = self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{safe}"',
                    "ResponseContentType": "audio/wav",
                },
                ExpiresIn=ttl,
                HttpMethod="GET",
            )
        return url

    def temp_path(self, suffix: str = ".part") -> Path:
        """Where the worker writes a WAV before uploading it (Lambda's /tmp)."""
        return Path(tempfile.gettempdir()) / f"wavekit-{uuid.uuid4().hex}{suffix}"

    def recover(self) -> int:
        """Nothing to do: S3 puts are atomic, so a crash leaves no partial object."""
        return 0


# -- DynamoDB --------------------------------------------------------------------------------

_LIVE = (JobStatus.IN_PROGRESS.value, JobStatus.READY.value)
_UPDATABLE = frozenset({"updated_at", "bytes", "error", "downloaded_at", "attempts", "purged"})


def _ts(value: dt.datetime) -> str:
    """UTC ISO-8601 with fixed width (as the SQLite table): text order is time order."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _av(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if isinstance(value, dt.datetime):
        return {"S": _ts(value)}
    if isinstance(value, JobStatus):
        return {"S": value.value}
    if isinstance(value, str):
        return {"S": value}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def _plain(av: Mapping[str, Any]) -> Any:
    if "S" in av:
        return av["S"]
    if "N" in av:
        number = av["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in av:
        return bool(av["BOOL"])
    if "NULL" in av:
        return None
    raise TypeError(f"unexpected attribute value {av!r}")


def shard_of(request_id: str) -> str:
    """The index partition of a job: stable, spread evenly."""
    return str(int(hashlib.sha1(request_id.encode()).hexdigest()[:8], 16) % GSI_SHARDS)


def _idempotency_pk(client_id: str, key: str) -> str:
    return f"idem#{len(client_id)}:{client_id}#{key}"


class DynamoJobTable:
    """Jobs in one on-demand DynamoDB table; every transition is a conditional write.

    Items: ``pk`` = request id (jobs), ``idem#...`` (idempotency keys), ``leaderboard#...``
    (:class:`DynamoLeaderboardCache`). Each job carries ``expires_at`` (the table's TTL)
    and, until its blob is purged, ``gsi_shard``: the sparse index ``by_created``
    (``gsi_shard``, ``created_at``) then holds exactly the jobs the cleaner must look at,
    sorted by creation time, so the cleaner never scans the table.

    Parameters
    ----------
    table
        Table name.
    ttl_s
        Seconds after creation when DynamoDB may delete the item.
    dynamodb_client, boto3_session, boto_config
        Injected client, or how to build one lazily.
    """

    def __init__(
        self,
        table: str,
        *,
        ttl_s: int = 14 * 24 * 3600,
        dynamodb_client: Any = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        region: str | None = None,
    ) -> None:
        self.table = table
        self.ttl_s = ttl_s
        self._client = _LazyClient("dynamodb", dynamodb_client, boto3_session, boto_config, region)

    @property
    def client(self) -> Any:
        return self._client.get()

    # -- items ---------------------------------------------------------------------------

    def _item(self, job: Job) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _av(job.request_id),
            "kind": _av("job"),
            "file_id": _av(job.file_id),
            "status": _av(job.status),
            "spec_json": _av(job.spec_json),
            "client_id": _av(job.client_id),
            "created_at": _av(job.created_at),
            "updated_at": _av(job.updated_at),
            "attempts": _av(job.attempts),
            "purged": _av(job.purged),
            "expires_at": _av(int(job.created_at.timestamp()) + self.ttl_s),
        }
        optional = {
            "bytes": job.bytes,
            "error": job.error,
            "idempotency_key": job.idempotency_key,
            "downloaded_at": job.downloaded_at,
        }
        item.update({k: _av(v) for k, v in optional.items() if v is not None})
        if not job.purged:
            item["gsi_shard"] = _av(shard_of(job.request_id))
        return item

    @staticmethod
    def _job(item: Mapping[str, Any]) -> Job:
        v = {k: _plain(a) for k, a in item.items()}

        def when(name: str) -> dt.datetime | None:
            text = v.get(name)
            return None if text is None else dt.datetime.fromisoformat(text)

        return Job(
            request_id=v["pk"],
            file_id=v["file_id"],
            status=JobStatus(v["status"]),
            spec_json=v["spec_json"],
            client_id=v["client_id"],
            created_at=when("created_at"),  # type: ignore[arg-type]
            updated_at=when("updated_at"),  # type: ignore[arg-type]
            bytes=v.get("bytes"),
            error=v.get("error"),
            idempotency_key=v.get("idempotency_key"),
            attempts=int(v.get("attempts", 0)),
            downloaded_at=when("downloaded_at"),
            purged=bool(v.get("purged", False)),
        )

    # -- port ------------------------------------------------------------------------------

    def create(self, job: Job) -> Job:
        from botocore.exceptions import ClientError

        new_item = {"pk": job.request_id}
        put_job = {
            "TableName": self.table,
            "Item": self._item(job),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if job.idempotency_key is None:
            with translated(f"dynamodb put {new_item['pk']}"):
                self.client.put_item(**put_job)
            return job
        idem_pk = _idempotency_pk(job.client_id, job.idempotency_key)
        put_key = {
            "TableName": self.table,
            "Item": {
                "pk": _av(idem_pk),
                "kind": _av("idempotency"),
                "request_id": _av(job.request_id),
                "expires_at": _av(int(job.created_at.timestamp()) + self.ttl_s),
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self.client.transact_write_items(TransactItems=[{"Put": put_key}, {"Put": put_job}])
            return job
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException" or not self._key_taken(exc):
                raise backend_error(exc, f"dynamodb create {job.request_id}") from exc
        except Exception as exc:
            raise backend_error(exc, f"dynamodb create {job.request_id}") from exc
        with translated("dynamodb get idempotency key"):
            found = self.client.get_item(
                TableName=self.table, Key={"pk": _av(idem_pk)}, ConsistentRead=True
            ).get("Item")
        earlier = None if found is None else self.get(_plain(found["request_id"]))
        if earlier is None:  # the first job's item expired (TTL) between the two reads
            raise BackendError("idempotency key points at a vanished job; retry", transient=True)
        return earlier

    @staticmethod
    def _key_taken(exc: Exception) -> bool:
        """Whether a cancelled transaction failed on the idempotency item's condition."""
        reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
        if reasons:
            return bool(reasons[0].get("Code") == "ConditionalCheckFailed")
        return "ConditionalCheckFailed" in str(exc)

    def get(self, request_id: str) -> Job | None:
        with translated(f"dynamodb get {request_id}"):
            item = self.client.get_item(
                TableName=self.table, Key={"pk": _av(request_id)}, ConsistentRead=True
            ).get("Item")
        if item is None or item.get("kind", {}).get("S") != "job":
            return None
        return self._job(item)

    def transition(
        self, request_id: str, allowed: Iterable[JobStatus], to: JobStatus, **fields: Any
    ) -> Job | None:
        allowed_values = [JobStatus(s).value for s in allowed]
        if not allowed_values:
            return None
        fields.setdefault("updated_at", dt.datetime.now(dt.UTC))
        names = {"#s": "status"}
        values: dict[str, Any] = {":to": _av(to)}
        sets, removes = ["#s = :to"], []
        for i, (name, value) in enumerate(fields.items()):
            if name not in _UPDATABLE:
                raise ValueError(f"transition cannot set {name!r}")
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                sets.append(f"#f{i} = :f{i}")
                values[f":f{i}"] = _av(value)
        marks = []
        for i, status in enumerate(allowed_values):
            values[f":a{i}"] = _av(status)
            marks.append(f":a{i}")
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return self._update(
            request_id,
            update,
            f"attribute_exists(pk) AND #s IN ({', '.join(marks)})",
            names,
            values,
        )

    def _update(
        self,
        request_id: str,
        update: str,
        condition: str,
        names: Mapping[str, str],
        values: Mapping[str, Any],
    ) -> Job | None:
        from botocore.exceptions import ClientError

        arguments: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": _av(request_id)},
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": dict(names),
            "ReturnValues": "ALL_NEW",
        }
        if values:
            arguments["ExpressionAttributeValues"] = dict(values)
        try:
            response = self.client.update_item(**arguments)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise backend_error(exc, f"dynamodb update {request_id}") from exc
        except Exception as exc:
            raise backend_error(exc, f"dynamodb update {request_id}") from exc
        return self._job(response["Attributes"])

    def add_attempt(self, request_id: str) -> int:
        job = self._update(
            request_id,
            "ADD attempts :one",
            "attribute_exists(pk) AND #kind = :job",
            {"#kind": "kind"},
            {":one": _av(1), ":job": _av("job")},
        )
        return 0 if job is None else job.attempts

    def _indexed(
        self,
        created_before: dt.datetime | None = None,
        where: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Items of the sparse index (un-purged jobs), every shard, oldest first."""
        items: list[dict[str, Any]] = []
        for shard in range(GSI_SHARDS):
            condition = "gsi_shard = :shard"
            attribute_values = {":shard": _av(str(shard))}
            if created_before is not None:
                condition += " AND created_at < :before"
                attribute_values[":before"] = _av(created_before)
            arguments: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": GSI_NAME,
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": attribute_values,
            }
            if where is not None:
                arguments["FilterExpression"] = where
                arguments["ExpressionAttributeNames"] = {"#s": "status"}
                attribute_values.update({k: _av(v) for k, v in (values or {}).items()})
            with translated("dynamodb query index"):
                paginator = self.client.get_paginator("query")
                for page in paginator.paginate(**arguments):
                    items.extend(page.get("Items", []))
        return sorted(items, key=lambda item: item["created_at"]["S"])

    def in_progress(self) -> list[Job]:
        """Jobs in progress (from the index, which is eventually consistent on AWS)."""
        found = self._indexed(where="#s = :ip", values={":ip": JobStatus.IN_PROGRESS.value})
        jobs = [self.get(item["pk"]["S"]) for item in found]
        return [j for j in jobs if j is not None and j.status is JobStatus.IN_PROGRESS]

    def expire_older_than(self, cutoff: dt.datetime, now: dt.datetime) -> int:
        candidates = self._indexed(cutoff, "#s = :ready", {":ready": JobStatus.READY.value})
        expired = 0
        for item in candidates:
            request_id = item["pk"]["S"]
            done = self._update(
                request_id,
                "SET #s = :expired, updated_at = :now",
                "#s = :ready AND created_at < :cutoff",
                {"#s": "status"},
                {
                    ":expired": _av(JobStatus.EXPIRED),
                    ":now": _av(now),
                    ":ready": _av(JobStatus.READY),
                    ":cutoff": _av(cutoff),
                },
            )
            if done is not None:
                expired += 1
                log.info("job expired", extra={"request_id": request_id})
        return expired

    def purgeable_blobs(self, downloaded_before: dt.datetime) -> list[str]:
        cutoff = _ts(downloaded_before)
        blocked: dict[str, bool] = {}
        for item in self._indexed():
            file_id = item["file_id"]["S"]
            status = item["status"]["S"]
            downloaded_at = item.get("downloaded_at", {}).get("S")
            live = status in _LIVE or (
                status == JobStatus.DOWNLOADED.value
                and downloaded_at is not None
                and downloaded_at >= cutoff
            )
            blocked[file_id] = blocked.get(file_id, False) or live
        return sorted(blob_key(f) for f, is_blocked in blocked.items() if not is_blocked)

    def mark_purged(self, keys: Iterable[str]) -> None:
        file_ids = {Path(k).stem for k in keys}
        if not file_ids:
            return
        for item in self._indexed():
            if item["file_id"]["S"] not in file_ids:
                continue
            request_id = item["pk"]["S"]
            done = self._update(
                request_id,
                "SET purged = :true REMOVE gsi_shard",
                "NOT (#s IN (:ip, :ready))",
                {"#s": "status"},
                {
                    ":true": _av(True),
                    ":ip": _av(JobStatus.IN_PROGRESS),
                    ":ready": _av(JobStatus.READY),
                },
            )
            if done is not None:
                log.info("blob purged", extra={"request_id": request_id})


class DynamoLeaderboardCache:
    """:class:`wavekit.analytics.LeaderboardCache` in the jobs table (one item per board
    and window, ``pk = leaderboard#<board>#<window>``), as DESIGN.md §5 asks.

    Parameters
    ----------
    table
        The jobs table.
    dynamodb_client, boto3_session, boto_config
        Injected client, or how to build one lazily.
    """

    def __init__(
        self,
        table: str,
        *,
        dynamodb_client: Any = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        region: str | None = None,
    ) -> None:
        self.table = table
        self._client = _LazyClient("dynamodb", dynamodb_client, boto3_session, boto_config, region)

    @property
    def client(self) -> Any:
        return self._client.get()

    @staticmethod
    def _pk(board: str, window: str) -> str:
        return f"leaderboard#{board}#{window}"

    def put(self, board: Leaderboard) -> None:
        payload = board.to_json(None)
        if len(payload.encode()) > DYNAMO_ITEM_LIMIT - 4096:
            raise BackendError(
                f"leaderboard {board.board}/{board.window} is too large for one item "
                f"({len(payload)} bytes); lower n",
                transient=False,
            )
        with translated(f"dynamodb put leaderboard {board.board}"):
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": _av(self._pk(board.board, board.window)),
                    "kind": _av("leaderboard"),
                    "board": _av(board.board),
                    "time_window": _av(board.window),
                    "computed_at": _av(board.computed_at),
                    "payload": _av(payload),
                },
            )

    def get(self, board: str, window: str) -> Leaderboard | None:
        from wavekit.analytics.leaderboards import Leaderboard, board_spec
        from wavekit.analytics.windows import check_window

        board_spec(board)
        check_window(window)
        with translated(f"dynamodb get leaderboard {board}"):
            item = self.client.get_item(
                TableName=self.table, Key={"pk": _av(self._pk(board, window))}
            ).get("Item")
        return None if item is None else Leaderboard.from_dict(json.loads(item["payload"]["S"]))

    def computed_at(self) -> dict[tuple[str, str], dt.datetime]:
        from wavekit.analytics.leaderboards import BOARDS
        from wavekit.analytics.windows import WINDOWS

        keys = [{"pk": _av(self._pk(b, w))} for b in BOARDS for w in WINDOWS]
        found: dict[tuple[str, str], dt.datetime] = {}
        for start in range(0, len(keys), 100):
            request = {
                self.table: {
                    "Keys": keys[start : start + 100],
                    "ProjectionExpression": "#b, #w, #c",
                    "ExpressionAttributeNames": {
                        "#b": "board",
                        "#w": "time_window",
                        "#c": "computed_at",
                    },
                }
            }
            for _ in range(8):  # unprocessed keys come back under throttling
                with translated("dynamodb batch get leaderboards"):
                    response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table, []):
                    key = (item["board"]["S"], item["time_window"]["S"])
                    found[key] = dt.datetime.fromisoformat(item["computed_at"]["S"])
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05)
            else:
                raise BackendError("dynamodb batch get kept returning unprocessed keys")
        return found


# -- SQS -----------------------------------------------------------------------------------


def message_from_record(record: Mapping[str, Any]) -> QueueMessage:
    """A :class:`QueueMessage` from one record of an SQS-triggered Lambda event."""
    body = json.loads(record["body"])
    attributes = record.get("attributes") or {}
    return QueueMessage(
        request_id=str(body["request_id"]),
        receipt=str(record["receiptHandle"]),
        receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
    )


class SqsJobQueue:
    """Request ids on an SQS queue (FIFO: a re-sent waiting id is deduplicated).

    A FIFO queue (``.fifo`` URL) uses the request id as message group (no ordering
    between jobs) and as deduplication id. Receipt handles are remembered per request
    id, so an ack with a superseded receipt from this process is ignored; across
    processes SQS's own rule applies (an old receipt "might not" delete).

    Parameters
    ----------
    queue_url
        The queue; its redrive policy sends poison messages to the DLQ.
    sqs_client, boto3_session, boto_config
        Injected client, or how to build one lazily.
    poll_s
        Pause between short polls for waits under :data:`SQS_MAX_LONG_POLL_S` granularity.
    """

    def __init__(
        self,
        queue_url: str,
        *,
        sqs_client: Any = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        region: str | None = None,
        poll_s: float = 0.1,
    ) -> None:
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")
        self.poll_s = poll_s
        self._client = _LazyClient("sqs", sqs_client, boto3_session, boto_config, region)
        self._latest: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        return self._client.get()

    def send(self, request_id: str) -> None:
        arguments: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MessageBody": json.dumps({"request_id": request_id}),
        }
        if self.fifo:
            arguments["MessageGroupId"] = request_id
            arguments["MessageDeduplicationId"] = request_id
        with translated(f"sqs send {request_id}"):
            self.client.send_message(**arguments)

    def receive(self, max_messages: int = 1, wait_s: float = 0.0) -> list[QueueMessage]:
        """Long polls in whole seconds; the sub-second rest of a wait by short polls.

        SQS long polling has one-second granularity, so a 0.3 s wait is short polls
        ``poll_s`` apart rather than a 1 s long poll.
        """
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            remaining = deadline - time.monotonic()
            long_poll = min(SQS_MAX_LONG_POLL_S, math.floor(remaining)) if remaining >= 2 else 0
            messages = self._receive_once(max_messages, long_poll)
            remaining = deadline - time.monotonic()
            if messages or remaining <= 0:
                return messages
            if long_poll == 0:
                time.sleep(min(self.poll_s, remaining))

    def _receive_once(self, max_messages: int, wait_s: int) -> list[QueueMessage]:
        with translated("sqs receive"):
            response = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=max(1, min(10, max_messages)),
                WaitTimeSeconds=wait_s,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        messages = []
        for raw in response.get("Messages", []):
            message = message_from_record(
                {
                    "body": raw["Body"],
                    "receiptHandle": raw["ReceiptHandle"],
                    "attributes": raw.get("Attributes") or {},
                }
            )
            self._remember(message)
            messages.append(message)
        return messages

    def _remember(self, message: QueueMessage) -> None:
        with self._lock:
            self._latest[message.request_id] = message.receipt
            self._latest.move_to_end(message.request_id)
            while len(self._latest) > 10_000:
                self._latest.popitem(last=False)

    def _superseded(self, message: QueueMessage) -> bool:
        with self._lock:
            latest = self._latest.get(message.request_id)
            return latest is not None and latest != message.receipt

    def ack(self, message: QueueMessage) -> None:
        if self._superseded(message):
            log.info("ignoring an ack with a superseded receipt for %s", message.request_id)
            return
        from botocore.exceptions import ClientError

        try:
            self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt)
        except ClientError as exc:
            if error_code(exc) not in {"ReceiptHandleIsInvalid", "InvalidParameterValue"}:
                raise backend_error(exc, f"sqs delete {message.request_id}") from exc
            log.info("message of %s was already deleted", message.request_id)
        except Exception as exc:
            raise backend_error(exc, f"sqs delete {message.request_id}") from exc
        with self._lock:
            if self._latest.get(message.request_id) == message.receipt:
                del self._latest[message.request_id]

    def retry_later(self, message: QueueMessage, delay_s: float) -> None:
        from botocore.exceptions import ClientError

        timeout = max(0, min(43_200, math.ceil(delay_s)))
        try:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message.receipt, VisibilityTimeout=timeout
            )
        except ClientError as exc:
            codes = {"ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue"}
            if error_code(exc) not in codes:
                raise backend_error(exc, f"sqs retry {message.request_id}") from exc
            log.info("message of %s is no longer in flight", message.request_id)
        except Exception as exc:
            raise backend_error(exc, f"sqs retry {message.request_id}") from exc

    def depth(self) -> int:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        with translated("sqs depth"):
            attributes = self.client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=names
            )["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def recover(self) -> int:
        """Nothing to do: SQS makes a dead receiver's messages visible after their
        visibility timeout."""
        return 0


# -- Firehose ------------------------------------------------------------------------------


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


class FirehoseEventSink:
    """Request-log events to a Firehose delivery stream (Parquet in S3 by ``dt=``).

    ``emit`` only appends to an in-memory buffer; :meth:`flush` (called by the Lambda
    handler at the end of each invocation, since a frozen Lambda runs no background
    thread) sends PutRecordBatch calls of at most 500 records / 4 MiB and retries only
    the records Firehose reports as failed. Nothing here raises: records still failing
    stay buffered for the next flush (up to ``max_buffered``, then the oldest are dropped).

    Parameters
    ----------
    stream
        Delivery stream name.
    firehose_client, boto3_session, boto_config
        Injected client, or how to build one lazily.
    max_attempts
        PutRecordBatch tries per flush for the records that keep failing.
    backoff_s
        First pause between tries; doubles each time.
    """

    def __init__(
        self,
        stream: str,
        *,
        firehose_client: Any = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        region: str | None = None,
        max_buffered: int = 100_000,
        max_attempts: int = 4,
        backoff_s: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stream = stream
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.sleep = sleep
        self._client = _LazyClient("firehose", firehose_client, boto3_session, boto_config, region)
        self._buffer: collections.deque[bytes] = collections.deque(maxlen=max_buffered)
        self._lock = threading.Lock()
        self.dropped = 0

    @property
    def client(self) -> Any:
        return self._client.get()

    def emit(self, event: RequestEvent) -> None:
        try:
            record = event_to_json(event)
            if len(record) > FIREHOSE_MAX_RECORD_BYTES:
                self.dropped += 1
                log.warning("dropping a request-log event of %d bytes", len(record))
                return
            if len(self._buffer) == self._buffer.maxlen:
                self.dropped += 1
                log.warning("event buffer full: dropping the oldest event")
            self._buffer.append(record)
        except Exception:  # emit must never fail a request
            log.exception("could not buffer a request-log event")

    def pending(self) -> int:
        """Records waiting for the next flush."""
        return len(self._buffer)

    def flush(self) -> None:
        try:
            with self._lock:
                records = [self._buffer.popleft() for _ in range(len(self._buffer))]
                failed: list[bytes] = []
                for batch in batches(records):
                    failed.extend(self._put(batch))
                if failed:
                    log.warning("%d events not delivered; keeping them", len(failed))
                    self._buffer.extendleft(reversed(failed))
        except Exception:  # pragma: no cover - belt and braces: flush never raises
            log.exception("flushing request-log events failed")

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

    def close(self) -> None:
        self.flush()
