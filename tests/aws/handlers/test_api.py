"""The API function, called with realistic API Gateway v2 events against moto resources:
HTTP responses and their side effects in DynamoDB, SQS and the Firehose output."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest

from tests.aws.conftest import http_event
from tests.aws.handlers.support import SPEC, call_api, item
from tests.aws.resources import BackendResources, delivered_lines, new_session
from wavekit.backends.aws import event_from_json


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
