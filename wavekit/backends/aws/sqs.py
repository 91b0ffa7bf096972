"""Request ids on an SQS queue: the job queue on AWS, and the worker Lambda's records.

The FIFO queue and its dead-letter queue (redrive policy) are declared in
``deploy/template.yaml``.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import LazyClient, backend_error, error_code, translated
from wavekit.ports import QueueMessage

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from types_boto3_sqs import SQSClient
    from types_boto3_sqs.literals import QueueAttributeNameType

log = logging.getLogger(__name__)

SQS_MAX_LONG_POLL_S = 20


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
        sqs_client: SQSClient | None = None,
        boto3_session: Session | None = None,
        boto_config: Config | None = None,
        region: str | None = None,
        poll_s: float = 0.1,
    ) -> None:
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")
        self.poll_s = poll_s
        self._client: LazyClient[SQSClient] = LazyClient(
            "sqs", sqs_client, boto3_session, boto_config, region
        )
        self._latest: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def client(self) -> SQSClient:
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
        names: list[QueueAttributeNameType] = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        with translated("sqs depth"):
            attributes = self.client.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=names
            )["Attributes"]
        return sum(int(attributes.get(name, "0")) for name in names)

    def recover(self) -> int:
        """Nothing to do: SQS makes a dead receiver's messages visible after their
        visibility timeout."""
        return 0
