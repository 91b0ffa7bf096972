"""Jobs in one on-demand DynamoDB table; every transition is a conditional write.

The table (keys, the sparse ``by_created`` index, TTL) is declared in
``deploy/template.yaml``; the leaderboard cache (:mod:`.leaderboard_cache`) keeps its
items in the same table and uses the attribute-value helpers here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import LazyClient, backend_error, error_code, translated
from wavekit.clock import utc_now
from wavekit.errors import BackendError
from wavekit.ports import Job, JobStatus, blob_key

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import AttributeValueTypeDef, PutTypeDef

log = logging.getLogger(__name__)

GSI_NAME = "by_created"
"""Sparse index of un-purged jobs, keyed by shard and creation time (the cleaner's)."""
GSI_SHARDS = 4
"""Index partitions; spreads the index's writes (one partition takes ~1000 writes/s)."""
DYNAMO_ITEM_LIMIT = 400 * 1024
"""The largest item DynamoDB stores (bytes)."""
_LIVE = (JobStatus.IN_PROGRESS.value, JobStatus.READY.value)
_UPDATABLE = frozenset(
    {
        "updated_at",
        "bytes",
        "error",
        "downloaded_at",
        "attempts",
        "purged",
        "download_token",
        "download_until",
    }
)
_HELD = (JobStatus.DOWNLOADED.value, JobStatus.DOWNLOADING.value)
"""Kept for the download-URL lifetime after ``downloaded_at`` (a claim lasts as long)."""


def _ts(value: dt.datetime) -> str:
    """UTC ISO-8601 with fixed width (as the SQLite table): text order is time order."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def attribute_value(value: Any) -> AttributeValueTypeDef:
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


def plain_value(av: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as a Python value (reverses :func:`attribute_value`)."""
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
    (:class:`~wavekit.backends.aws.leaderboard_cache.DynamoLeaderboardCache`). Each job
    carries ``expires_at`` (the table's TTL) and, until its blob is purged, ``gsi_shard``:
    the sparse index ``by_created`` (``gsi_shard``, ``created_at``) then holds exactly
    the jobs the cleaner must look at, sorted by creation time, so the cleaner never
    scans the table.

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
        dynamodb_client: DynamoDBClient | None = None,
        boto3_session: Session | None = None,
        boto_config: Config | None = None,
        region: str | None = None,
    ) -> None:
        self.table = table
        self.ttl_s = ttl_s
        self._client: LazyClient[DynamoDBClient] = LazyClient(
            "dynamodb", dynamodb_client, boto3_session, boto_config, region
        )

    @property
    def client(self) -> DynamoDBClient:
        return self._client.get()

    # -- items ---------------------------------------------------------------------------

    def _item(self, job: Job) -> dict[str, AttributeValueTypeDef]:
        item: dict[str, AttributeValueTypeDef] = {
            "pk": attribute_value(job.request_id),
            "kind": attribute_value("job"),
            "file_id": attribute_value(job.file_id),
            "status": attribute_value(job.status),
            "spec_json": attribute_value(job.spec_json),
            "client_id": attribute_value(job.client_id),
            "created_at": attribute_value(job.created_at),
            "updated_at": attribute_value(job.updated_at),
            "attempts": attribute_value(job.attempts),
            "purged": attribute_value(job.purged),
            "expires_at": attribute_value(int(job.created_at.timestamp()) + self.ttl_s),
        }
        optional = {
            "bytes": job.bytes,
            "error": job.error,
            "idempotency_key": job.idempotency_key,
            "downloaded_at": job.downloaded_at,
            "download_token": job.download_token,
            "download_until": job.download_until,
        }
        item.update({k: attribute_value(v) for k, v in optional.items() if v is not None})
        if not job.purged:
            item["gsi_shard"] = attribute_value(shard_of(job.request_id))
        return item

    @staticmethod
    def _job(item: Mapping[str, Any]) -> Job:
        v = {k: plain_value(a) for k, a in item.items()}

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
            download_token=v.get("download_token"),
            download_until=when("download_until"),
        )

    # -- port ------------------------------------------------------------------------------

    def create(self, job: Job) -> Job:
        from botocore.exceptions import ClientError

        new_item = {"pk": job.request_id}
        put_job: PutTypeDef = {
            "TableName": self.table,
            "Item": self._item(job),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if job.idempotency_key is None:
            with translated(f"dynamodb put {new_item['pk']}"):
                self.client.put_item(**put_job)
            return job
        idem_pk = _idempotency_pk(job.client_id, job.idempotency_key)
        put_key: PutTypeDef = {
            "TableName": self.table,
            "Item": {
                "pk": attribute_value(idem_pk),
                "kind": attribute_value("idempotency"),
                "request_id": attribute_value(job.request_id),
                "expires_at": attribute_value(int(job.created_at.timestamp()) + self.ttl_s),
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
                TableName=self.table, Key={"pk": attribute_value(idem_pk)}, ConsistentRead=True
            ).get("Item")
        earlier = None if found is None else self.get(plain_value(found["request_id"]))
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
                TableName=self.table, Key={"pk": attribute_value(request_id)}, ConsistentRead=True
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
        fields.setdefault("updated_at", utc_now())
        names = {"#s": "status"}
        values: dict[str, Any] = {":to": attribute_value(to)}
        sets, removes = ["#s = :to"], []
        for i, (name, value) in enumerate(fields.items()):
            if name not in _UPDATABLE:
                raise ValueError(f"transition cannot set {name!r}")
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                sets.append(f"#f{i} = :f{i}")
                values[f":f{i}"] = attribute_value(value)
        marks = []
        for i, status in enumerate(allowed_values):
            values[f":a{i}"] = attribute_value(status)
            marks.append(f":a{i}")
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return self._update(
            request_id,
            update,
            f"attribute_exists(pk) AND #s IN ({', '.join(marks)})",
            names,
            values,
        )

    def claim_download(
        self, request_id: str, token: str, until: dt.datetime, now: dt.datetime
    ) -> Job | None:
        """One ``UpdateItem`` with the condition ``status = ready``: DynamoDB serialises
        writes to an item, so of concurrent claims exactly one passes the condition."""
        return self.transition(
            request_id,
            [JobStatus.READY],
            JobStatus.DOWNLOADING,
            download_token=token,
            download_until=until,
            downloaded_at=now,
            updated_at=now,
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
            "Key": {"pk": attribute_value(request_id)},
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
            {":one": attribute_value(1), ":job": attribute_value("job")},
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
            attribute_values = {":shard": attribute_value(str(shard))}
            if created_before is not None:
                condition += " AND created_at < :before"
                attribute_values[":before"] = attribute_value(created_before)
            arguments: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": GSI_NAME,
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": attribute_values,
            }
            if where is not None:
                arguments["FilterExpression"] = where
                arguments["ExpressionAttributeNames"] = {"#s": "status"}
                attribute_values.update({k: attribute_value(v) for k, v in (values or {}).items()})
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
                    ":expired": attribute_value(JobStatus.EXPIRED),
                    ":now": attribute_value(now),
                    ":ready": attribute_value(JobStatus.READY),
                    ":cutoff": attribute_value(cutoff),
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
                status in _HELD and downloaded_at is not None and downloaded_at >= cutoff
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
                    ":true": attribute_value(True),
                    ":ip": attribute_value(JobStatus.IN_PROGRESS),
                    ":ready": attribute_value(JobStatus.READY),
                },
            )
            if done is not None:
                log.info("blob purged", extra={"request_id": request_id})
