"""Each function's role in ``deploy/template.yaml`` allows every AWS call its handler
makes, proven by moto's IAM enforcement (see :mod:`tests.aws.iam`): the handlers run with
their role's credentials through their realistic paths, and every call is recorded.

``WAVEKIT_IAM_TEMPLATE=path`` checks another template (e.g. an older revision's: the
cleaner role of commit 0687fd7, without ``sqs:GetQueueAttributes``, fails here).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws.backends.test_refresh_handler import _seed_one_row_per_board
from tests.aws.conftest import LambdaContext, http_event, scheduled_event, sqs_event
from tests.aws.handlers.support import SPEC
from tests.aws.iam import (
    CallLog,
    acting_as,
    admin_credentials,
    assume_template_roles,
    moto_enforces_iam,
    physical_names,
    record_calls,
)
from tests.aws.resources import ACCOUNT, REGION, BackendResources
from wavekit.backends.aws import AthenaWarehouse, DynamoJobTable
from wavekit.handlers import api, cleaner, refresh, worker
from wavekit.ports import Job, JobStatus, blob_key
from wavekit.ports.analytics import BOARDS, WINDOWS

TOKEN = "s3cret-token-for-tests"
TEMPLATE = (
    Path(os.environ["WAVEKIT_IAM_TEMPLATE"]) if "WAVEKIT_IAM_TEMPLATE" in os.environ else None
)


def _refresh_function(session: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A refresh function moto records invocations of (no Docker), as in test_api."""
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    role = session.client("iam").create_role(
        RoleName="wk-refresh-fn",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def refresh(event, context):\n    return {}\n")
    return str(
        session.client("lambda").create_function(
            FunctionName="wk-refresh",
            Runtime="python3.12",
            Role=role,
            Handler="handler.refresh",
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
    )


@pytest.fixture
def enforced(
    stack: BackendResources, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, CallLog, dict[str, dict[str, str]]]]:
    """The stack, the analytics resources, the four template roles; then moto enforces
    IAM. Returns an admin session (the test's own), the call log and the roles' keys."""
    setup = stack.session
    secret = setup.client("secretsmanager").create_secret(Name="wk-admin", SecretString=TOKEN)[
        "ARN"
    ]
    salt = setup.client("secretsmanager").create_secret(Name="wk-salt", SecretString="salt")["ARN"]
    function_arn = _refresh_function(setup, monkeypatch)
    setup.client("s3").create_bucket(Bucket="wkl-results")
    setup.client("athena").create_work_group(
        Name="wavekit-test",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://wkl-results/results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    setup.client("glue").create_database(DatabaseInput={"Name": "wavekit_test"})
    for name, value in {
        "WAVEKIT_ADMIN_TOKEN_SECRET": secret,
        "WAVEKIT_CLIENT_ID_SALT_SECRET": salt,
        "WAVEKIT_REFRESH_FUNCTION": "wk-refresh",
        "WAVEKIT_GLUE_DATABASE": "wavekit_test",
        "WAVEKIT_ATHENA_WORKGROUP": "wavekit-test",
        "WAVEKIT_LAKE_URI": f"s3://{stack.lake_bucket}/events/",
    }.items():
        monkeypatch.setenv(name, value)
    names = physical_names(
        stack,
        {
            "AdminTokenSecret": (secret, secret),
            "ClientIdSaltSecret": (salt, salt),
            "RefreshFunction": ("wk-refresh", function_arn),
            "ResultsBucket": ("wkl-results", "arn:aws:s3:::wkl-results"),
            "AthenaWorkGroup": (
                "wavekit-test",
                f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/wavekit-test",
            ),
            "GlueDatabase": ("wavekit_test", ""),
        },
    )
    roles = assume_template_roles(setup, names, TEMPLATE)
    admin = admin_credentials(setup)
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    for name, value in admin.items():
        monkeypatch.setenv(name, value)
    log = CallLog()
    record_calls(monkeypatch, log)
    with moto_enforces_iam(monkeypatch):
        yield boto3.Session(region_name=REGION), log, roles


def _api(log: CallLog, roles: dict[str, dict[str, str]], *args: Any, **kwargs: Any) -> Any:
    with acting_as(log, "api", roles):
        response = api.handler(http_event(*args, **kwargs), LambdaContext())
    body = response.get("body") or ""
    return response["statusCode"], json.loads(body) if body.startswith("{") else body


def test_every_call_of_every_handler_is_allowed_by_its_template_role(
    enforced: tuple[Any, CallLog, dict[str, dict[str, str]]], stack: BackendResources
) -> None:
    admin, log, roles = enforced
    # the test's own session is checked too: IAM is on
    assert admin.client("sts").get_caller_identity()["Arn"].endswith("user/wk-test-admin")

    # api: submit (plain and idempotent), inspect, leaderboards, admin refresh
    status, body = _api(log, roles, "POST", "/waves", SPEC)
    assert status == 202, body
    first = body["request_id"]
    status, body = _api(
        log, roles, "POST", "/waves", {**SPEC, "duration": 0.25}, headers={"idempotency-key": "k1"}
    )
    assert status == 202, body
    second = body["request_id"]
    assert _api(log, roles, "GET", f"/waves/{first}")[0] == 200
    assert _api(log, roles, "GET", "/leaderboards/chords_by_requests")[0] in {200, 404}
    status, body = _api(
        log, roles, "POST", "/leaderboards/refresh", headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert status == 202, body

    # worker: one batch of both jobs
    event = sqs_event(admin, stack.queue_url)
    assert len(event["Records"]) == 2
    with acting_as(log, "worker", roles):
        assert worker.handler(event, LambdaContext()) == {"batchItemFailures": []}

    # api: download one, read the other in chunks
    status, _ = _api(log, roles, "GET", f"/waves/{first}/download")
    assert status == 303
    status, body = _api(log, roles, "GET", f"/waves/{second}/chunks/0")
    assert status == 200, body

    # cleaner: expire, purge, re-queue a lost job, fail a dead-lettered one
    now = dt.datetime.now(dt.UTC)
    table = DynamoJobTable(stack.table, boto3_session=admin)
    for request_id, status_, age in [
        ("old", JobStatus.READY, dt.timedelta(days=3)),
        ("lost", JobStatus.IN_PROGRESS, dt.timedelta(hours=1)),
        ("poison", JobStatus.IN_PROGRESS, dt.timedelta(minutes=1)),
    ]:
        table.create(
            Job(request_id, f"f-{request_id}", status_, json.dumps(SPEC), "c", now - age, now - age)
        )
    admin.client("s3").put_object(Bucket=stack.bucket, Key=blob_key("f-old"), Body=b"RIFF")
    admin.client("sqs").send_message(
        QueueUrl=stack.dlq_url,
        MessageBody=json.dumps({"request_id": "poison"}),
        MessageGroupId="poison",
        MessageDeduplicationId="poison",
    )
    with acting_as(log, "cleaner", roles):
        result = cleaner.handler(scheduled_event(), LambdaContext())
    assert result == {"expired": 1, "deleted_blobs": 2, "requeued": 1, "dead_lettered": 1}

    # refresh: every board from (seeded) Athena into the cache
    ddl = AthenaWarehouse(database="-", workgroup="-").setup_statements(
        f"s3://{stack.lake_bucket}/events/"
    )
    _seed_one_row_per_board(len(ddl))
    with acting_as(log, "refresh", roles):
        result = refresh.handler(scheduled_event("wavekit-refresh"), LambdaContext())
    assert result["refreshed"] == len(BOARDS) * len(WINDOWS)

    assert log.refused() == []
    made = {role: log.by(role) for role in ("api", "worker", "cleaner", "refresh")}
    assert {
        ("dynamodb", "PutItem"),
        ("dynamodb", "TransactWriteItems"),
        ("dynamodb", "GetItem"),
        ("dynamodb", "UpdateItem"),
        ("sqs", "SendMessage"),
        ("s3", "HeadObject"),
        ("s3", "GetObject"),
        ("firehose", "PutRecordBatch"),
        ("secretsmanager", "GetSecretValue"),
        ("lambda", "Invoke"),
    } <= made["api"]
    assert {
        ("dynamodb", "GetItem"),
        ("dynamodb", "UpdateItem"),
        ("s3", "PutObject"),
        ("sqs", "DeleteMessage"),
    } <= made["worker"]
    assert {
        ("dynamodb", "Query"),
        ("dynamodb", "UpdateItem"),
        ("s3", "DeleteObject"),
        ("sqs", "SendMessage"),
        ("sqs", "GetQueueAttributes"),
        ("sqs", "GetQueueUrl"),
        ("sqs", "ReceiveMessage"),
        ("sqs", "DeleteMessage"),
    } <= made["cleaner"]
    assert {("athena", "StartQueryExecution"), ("dynamodb", "PutItem")} <= made["refresh"]


def test_moto_refuses_what_a_role_lacks(
    enforced: tuple[Any, CallLog, dict[str, dict[str, str]]], stack: BackendResources
) -> None:
    """The enforcement is real: the worker's role may not delete files nor send jobs."""
    from botocore.exceptions import ClientError

    _, _, roles = enforced
    keys = roles["worker"]
    session = boto3.Session(
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        session.client("s3").delete_object(Bucket=stack.bucket, Key=blob_key("x"))
    with pytest.raises(ClientError, match="AccessDenied"):
        session.client("sqs").send_message(
            QueueUrl=stack.queue_url,
            MessageBody="{}",
            MessageGroupId="g",
            MessageDeduplicationId="d",
        )
    with pytest.raises(ClientError, match="AccessDenied"):
        session.client("dynamodb").delete_item(TableName=stack.table, Key={"pk": {"S": "x"}})
    session.client("dynamodb").get_item(TableName=stack.table, Key={"pk": {"S": "x"}})
