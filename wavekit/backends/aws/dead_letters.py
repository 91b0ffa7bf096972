"""The job queue's dead-letter queue, as the cleaner drains it.

The DLQ is found from the job queue's own redrive policy (``GetQueueAttributes`` then
``GetQueueUrl``), so the template's ``RedrivePolicy`` is the one place that names it and
no setting can point the cleaner at the wrong queue. A dead-lettered message may be
malformed (the worker could not parse it, so it went to the DLQ after its retries): it
comes back with an empty ``request_id`` rather than stopping the drain.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from wavekit.backends.aws.clients import LazyClient, translated
from wavekit.ports import QueueMessage

if TYPE_CHECKING:
    from boto3.session import Session
    from botocore.config import Config
    from types_boto3_sqs import SQSClient

log = logging.getLogger(__name__)


class SqsDeadLetterQueue:
    """Receive and delete the messages the job queue ``queue_url`` dead-lettered.

    Parameters
    ----------
    queue_url
        The job queue (not the DLQ): its ``RedrivePolicy`` names the DLQ.
    sqs_client, boto3_session, boto_config, region
        Injected client, or how to build one lazily.
    """

    def __init__(
        self,
        queue_url: str,
        *,
        sqs_client: SQSClient | None = None,
        boto3_session: Session | None = None,
        boto_config: Config | None = None,
        region: str | None = None,
    ) -> None:
        self.queue_url = queue_url
        self._client: LazyClient[SQSClient] = LazyClient(
            "sqs", sqs_client, boto3_session, boto_config, region
        )
        self._url: str | None = None
        self.max_receive_count: int | None = None

    @property
    def client(self) -> SQSClient:
        return self._client.get()

    @property
    def url(self) -> str | None:
        """The DLQ's URL, or ``None`` when the job queue has no redrive policy."""
        if self._url is None:
            with translated("sqs redrive policy"):
                attributes = self.client.get_queue_attributes(
                    QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
                )["Attributes"]
            if "RedrivePolicy" not in attributes:
                return None
            policy = json.loads(attributes["RedrivePolicy"])
            self.max_receive_count = int(policy["maxReceiveCount"])
            _, _, _, _, account, name = str(policy["deadLetterTargetArn"]).split(":", 5)
            with translated("sqs dead-letter queue url"):
                self._url = self.client.get_queue_url(
                    QueueName=name, QueueOwnerAWSAccountId=account
                )["QueueUrl"]
        return self._url

    def receive(self, max_messages: int = 10) -> list[QueueMessage]:
        """Up to ``max_messages`` dead letters (a short poll); empty when there are none."""
        url = self.url
        if url is None:
            return []
        with translated("sqs receive dead letters"):
            response = self.client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=max(1, min(10, max_messages)),
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        messages = []
        for raw in response.get("Messages", []):
            try:
                request_id = str(json.loads(raw["Body"])["request_id"])
            except (KeyError, TypeError, ValueError):
                log.error("malformed dead letter", extra={"message_id": raw.get("MessageId")})
                request_id = ""
            count = int((raw.get("Attributes") or {}).get("ApproximateReceiveCount", 1))
            messages.append(QueueMessage(request_id, raw["ReceiptHandle"], count))
        return messages

    def ack(self, message: QueueMessage) -> None:
        """Delete a dead letter once its job has been dealt with."""
        url = self.url
        if url is None:
            return
        with translated(f"sqs delete dead letter {message.request_id}"):
            self.client.delete_message(QueueUrl=url, ReceiptHandle=message.receipt)
