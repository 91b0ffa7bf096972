"""moto-backed AWS for the Lambda handler and deploy tests: dummy credentials, no network."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from tests.aws.resources import (
    ACCOUNT,
    DUMMY_ENV,
    REGION,
    BackendResources,
    create_backend_resources,
    new_session,
)
from wavekit import handlers


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context`` (the fields our handlers read)."""

    function_name: str = "wavekit-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 120_000
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:wavekit-test"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_ENV.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def stack(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[BackendResources]:
    """The backend's resources, named in the environment as the template names them."""
    made = create_backend_resources(new_session(), prefix="wkl")
    env = {
        "WAVEKIT_BLOB_BUCKET": made.bucket,
        "WAVEKIT_JOBS_TABLE": made.table,
        "WAVEKIT_QUEUE_URL": made.queue_url,
        "WAVEKIT_EVENTS_STREAM": made.stream,
        "WAVEKIT_DATA_DIR": str(tmp_path / "lambda-tmp"),
        "WAVEKIT_REGION": REGION,
        "WAVEKIT_CORS_ORIGINS": "https://app.example.com",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    handlers.reset()
    yield made
    handlers.reset()


def http_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the $default route delivers it."""
    api_id = "a1b2c3d4e5"
    now = time.time()
    text = None if body is None else (body if isinstance(body, str) else json.dumps(body))
    all_headers = {
        "accept": "application/json",
        "content-length": str(len(text or "")),
        "host": f"{api_id}.execute-api.{REGION}.amazonaws.com",
        "user-agent": "pytest",
        "x-amzn-trace-id": "Root=1-65f0-abc",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if text is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update(headers or {})
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": f"{api_id}.execute-api.{REGION}.amazonaws.com",
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:9]).decode(),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text,
        "isBase64Encoded": False,
    }


def sqs_event(session: Any, queue_url: str, extra: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """The SQS trigger's event for the messages waiting on ``queue_url`` (received from
    moto, so receipt handles are real), plus ``extra`` hand-made records."""
    sqs = session.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        }
        for m in messages
    ]
    return {"Records": [*records, *extra]}


def scheduled_event(rule: str = "wavekit-cleaner") -> dict[str, Any]:
    """An EventBridge scheduled event."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


@pytest.fixture(autouse=True)
def _moto_honours_tls_conditions(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto ignores policy conditions, so a 'deny unless TLS' statement denies every call.
    boto3 always talks TLS to S3, so such statements never match a real request: drop
    them before moto evaluates a bucket policy (every other statement still applies)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
        if bucket.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(bucket.policy)
        policy["Statement"] = [
            s
            for s in policy["Statement"]
            if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") != "false"
        ]
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    monkeypatch.setattr(FakeBucket, "get_permission", get_permission)


@pytest.fixture(autouse=True)
def _moto_change_sets_update_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto applies a change set's resources but keeps the stack's old parameters and
    outputs (a stack made by a change set has none); CloudFormation updates both."""
    from moto.cloudformation.models import ChangeSet
    from moto.cloudformation.parsing import OutputMap

    original = ChangeSet.apply

    def apply(change_set: ChangeSet) -> None:
        original(change_set)
        stack = change_set.stack
        stack.parameters = change_set.parameters
        stack.output_map = OutputMap(stack.resource_map, change_set.template_dict, stack.stack_id)

    monkeypatch.setattr(ChangeSet, "apply", apply)
