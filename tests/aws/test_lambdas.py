"""The Lambda handlers, called with realistic events against moto resources: HTTP
responses and their side effects in S3, DynamoDB, SQS and the Firehose output."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.aws.conftest import LambdaContext, http_event, scheduled_event, sqs_event
from tests.aws.resources import BackendResources, delivered_lines, new_session
from wavekit.backends.aws import DynamoJobTable, event_from_json
from wavekit.ports import Job, JobStatus, blob_key
from wavekit.service import lambdas

SPEC = {"frequencies": [440, 445], "duration": 0.5, "sample_rate": 8000}


def call_api(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = lambdas.api(event, LambdaContext())
    body = response.get("body") or ""
    parsed = json.loads(body) if body and body.lstrip().startswith("{") else body
    return response["statusCode"], response.get("headers", {}), parsed


def item(stack: BackendResources, request_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        new_session()
        .client("dynamodb")
        .get_item(TableName=stack.table, Key={"pk": {"S": request_id}}, ConsistentRead=True)["Item"]
    )
    return found


def s3_keys(stack: BackendResources) -> list[str]:
    listed = new_session().client("s3").list_objects_v2(Bucket=stack.bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_post_then_get_through_api_gateway(stack: BackendResources) -> None:
    status, headers, body = call_api(
        http_event("POST", "/waves", SPEC, {"x-client-id": "tester", "origin": "https://x.org"})
    )
    assert status == 202, body
    assert body["status"] == "in_progress"
    request_id = body["request_id"]
    assert headers["location"] == f"/waves/{request_id}"

    stored = item(stack, request_id)
    assert stored["status"]["S"] == "in_progress"
    assert stored["client_id"]["S"] == "tester"
    assert int(stored["expires_at"]["N"]) > dt.datetime.now(dt.UTC).timestamp() + 86400
    waiting = new_session().client("sqs").receive_message(QueueUrl=stack.queue_url)["Messages"]
    assert [json.loads(m["Body"])["request_id"] for m in waiting] == [request_id]

    status, _, body = call_api(http_event("GET", f"/waves/{request_id}"))
    assert status == 200
    assert (body["status"], body["spec"]["frequencies"][0]["freq"]) == ("in_progress", 440.0)

    # one request-log event per request, flushed to Firehose before each handler returned
    lines = delivered_lines(new_session(), stack.lake_bucket)
    events = sorted((event_from_json(line) for line in lines), key=lambda e: e.ts)
    assert [(e.route, e.status_code, e.cold_start) for e in events] == [
        ("POST /waves", 202, True),
        ("GET /waves/{request_id}", 200, False),
    ]
    assert events[0].request_id == events[1].request_id == request_id
    assert events[0].frequencies == [440.0, 445.0]
    assert events[0].region == "us-east-1"


def test_api_answers_errors_and_cors_preflight(stack: BackendResources) -> None:
    status, _, body = call_api(http_event("POST", "/waves", {**SPEC, "sample_rate": 1}))
    assert status == 422
    assert body["detail"][0]["field"] == "sample_rate"
    status, _, body = call_api(http_event("GET", "/waves/nope"))
    assert (status, body["error"]) == (404, "not_found")
    preflight = http_event(
        "OPTIONS",
        "/waves",
        headers={
            "origin": "https://app.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    status, headers, _ = call_api(preflight)
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"


def test_worker_batch_with_a_bad_message_then_download_once(stack: BackendResources) -> None:
    ids = [
        call_api(http_event("POST", "/waves", {**SPEC, "duration": d}))[2]["request_id"]
        for d in (0.25, 0.5)
    ]
    bad = {
        "messageId": "bad-1",
        "receiptHandle": "not-a-real-handle",
        "body": "this is not json",
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
    }
    session = new_session()
    event = sqs_event(session, stack.queue_url, [bad])
    assert len(event["Records"]) == 3
    result = lambdas.worker(event, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    for request_id in ids:
        stored = item(stack, request_id)
        assert stored["status"]["S"] == "ready"
        assert blob_key(stored["file_id"]["S"]) in s3_keys(stack)
        assert int(stored["bytes"]["N"]) > 0
    # the good messages were deleted by the worker itself
    assert session.client("sqs").receive_message(QueueUrl=stack.queue_url).get("Messages") is None

    # redelivery of an already processed message changes nothing and is not a failure
    again = lambdas.worker(event, LambdaContext())
    assert again == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}

    status, headers, _ = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert status == 303
    url = urlparse(headers["location"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"/{blob_key(item(stack, ids[0])['file_id']['S'])}")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="wavekit-')
    assert item(stack, ids[0])["status"]["S"] == "downloaded"
    status, _, body = call_api(http_event("GET", f"/waves/{ids[0]}/download"))
    assert (status, body["error"]) == (410, "gone")

    status, _, body = call_api(http_event("GET", f"/waves/{ids[1]}/chunks/0"))
    assert status == 200
    assert body["is_last"] is True
    assert body["total_bytes"] == int(item(stack, ids[1])["bytes"]["N"])


def test_worker_leaves_messages_it_has_no_time_for(stack: BackendResources) -> None:
    request_id = call_api(http_event("POST", "/waves", SPEC))[2]["request_id"]
    event = sqs_event(new_session(), stack.queue_url)
    (record,) = event["Records"]
    result = lambdas.worker(event, LambdaContext(remaining_ms=lambdas.WORKER_RESERVE_MS - 1))
    assert result == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert item(stack, request_id)["status"]["S"] == "in_progress"
    assert s3_keys(stack) == []


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

    result = lambdas.cleaner(scheduled_event(), LambdaContext())
    assert result == {"expired": 1, "deleted_blobs": 2, "requeued": 1}
    assert sorted(s3_keys(stack)) == [blob_key("f-fresh")]
    assert item(stack, "old")["status"]["S"] == "expired"
    assert item(stack, "taken")["purged"]["BOOL"] is True
    assert "gsi_shard" not in item(stack, "taken")  # left the cleaner's index
    queued = session.client("sqs").receive_message(QueueUrl=stack.queue_url)["Messages"]
    assert [json.loads(m["Body"])["request_id"] for m in queued] == ["lost"]

    # a second run finds nothing more to do; a waiting message blocks re-queueing
    assert lambdas.cleaner(scheduled_event(), LambdaContext()) == {
        "expired": 0,
        "deleted_blobs": 0,
        "requeued": 0,
    }


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("wavekit.lambdas", logging.INFO, __file__, 1, "processed", (), None)
    record.request_id = "abc123"
    record.outcome = "done"
    line = json.loads(lambdas.JsonFormatter().format(record))
    assert line["request_id"] == "abc123"
    assert (line["level"], line["message"], line["outcome"]) == ("INFO", "processed", "done")
    assert dt.datetime.fromisoformat(line["time"]).tzinfo is not None


@pytest.fixture
def access_lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="wavekit")
    return caplog


def test_the_api_logs_one_access_line_per_request(
    stack: BackendResources, access_lines: pytest.LogCaptureFixture
) -> None:
    request_id = call_api(http_event("POST", "/waves", SPEC))[2]["request_id"]
    call_api(http_event("GET", f"/waves/{request_id}"))
    lines = [r for r in access_lines.records if r.getMessage() == "request"]
    assert [(getattr(r, "route", None), getattr(r, "request_id", None)) for r in lines] == [
        ("POST /waves", request_id),
        ("GET /waves/{request_id}", request_id),
    ]


def test_admin_refresh_starts_the_refresh_function(
    stack: BackendResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token comes from Secrets Manager; the refresh function is invoked
    asynchronously (moto's Lambda without Docker records the invocation)."""
    import io
    import zipfile

    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    invoked: list[tuple[str, str, str]] = []
    original = LambdaSimpleBackend.invoke

    def record(backend: Any, name: str, qualifier: Any, body: Any, headers: Any, out: Any) -> Any:
        source = json.loads(body)["source"]
        invoked.append((name, headers.get("X-Amz-Invocation-Type"), source))
        return original(backend, name, qualifier, body, headers, out)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", record)
    session = new_session()
    secret = session.client("secretsmanager").create_secret(
        Name="wk-admin", SecretString="s3cret-token-for-tests"
    )["ARN"]
    role = session.client("iam").create_role(
        RoleName="wk-refresh",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def refresh(event, context):\n    return {}\n")
    session.client("lambda").create_function(
        FunctionName="wk-refresh",
        Runtime="python3.12",
        Role=role,
        Handler="handler.refresh",
        Code={"ZipFile": code.getvalue()},
    )
    monkeypatch.setenv("WAVEKIT_ADMIN_TOKEN_SECRET", secret)
    monkeypatch.setenv("WAVEKIT_REFRESH_FUNCTION", "wk-refresh")

    status, _, body = call_api(http_event("POST", "/leaderboards/refresh"))
    assert status == 401
    status, _, body = call_api(
        http_event(
            "POST",
            "/leaderboards/refresh",
            headers={"authorization": "Bearer s3cret-token-for-tests"},
        )
    )
    assert status == 202, body
    assert body["status"] == "started"  # the boards come minutes later, from the function

    assert invoked == [("wk-refresh", "Event", "wavekit.api")]


def test_logging_becomes_json_lines_in_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    monkeypatch.setattr(root, "handlers", [handler])
    monkeypatch.setattr(root, "level", logging.WARNING)
    lambdas.setup_logging()  # not in Lambda: someone else's set-up stays
    assert not isinstance(handler.formatter, lambdas.JsonFormatter)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "wavekit-dev-worker")
    lambdas.setup_logging()
    logging.getLogger("wavekit.test").info("processed", extra={"request_id": "r1"})
    line = json.loads(stream.getvalue())
    assert (line["message"], line["request_id"]) == ("processed", "r1")
