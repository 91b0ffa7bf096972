"""IAM as the deployed functions get it, enforced by moto: each Lambda role is created
from ``deploy/template.yaml`` (its inline policies, references resolved to the test's
resources), assumed, and the handlers run with the role's credentials while moto
authorises every request (``INITIAL_NO_AUTH_ACTION_COUNT`` = 0). What a policy lacks,
moto refuses with AccessDenied, as AWS would.

Two gaps in moto's evaluation are filled here, neither of which decides anything:

- moto names the resource of S3, SQS (but GetQueueUrl), IAM and STS requests only; for
  the others it
  evaluates against ``*``, which no resource-scoped statement matches, so every DynamoDB
  or Firehose call of a least-privilege role would be refused. :func:`resource_checks`
  names the resource(s) of each such request (table, index, stream, secret, function,
  workgroup, Glue catalog/database/table), per AWS's service authorization reference.
- moto takes the API operation as the IAM action; for DynamoDB transactions AWS checks
  the action of each item instead (``Put`` → ``dynamodb:PutItem``, ...), and Lambda's
  ``Invoke`` is ``lambda:InvokeFunction``.

Each (action, resource) is then decided by moto's own policy engine
(:class:`moto.iam.access_control.IAMRequest`: signature, then the role's policies).
Every call the handlers make is recorded with botocore's ``after-call`` event, so a
test states what each function did and that none of it was refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.aws.resources import ACCOUNT, REGION, BackendResources
from wavekit.deploy import load_template

LAMBDA_ROLES = {
    "api": "ApiRole",
    "worker": "WorkerRole",
    "cleaner": "CleanerRole",
    "refresh": "RefreshRole",
}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


@dataclass(frozen=True)
class Call:
    """One AWS request a handler made, and the error code it got (``""``: none)."""

    role: str
    service: str
    operation: str
    error: str


@dataclass
class CallLog:
    """Every AWS call made while acting as a role (botocore ``after-call`` hooks)."""

    calls: list[Call] = field(default_factory=list)
    role: str | None = None

    def by(self, role: str) -> set[tuple[str, str]]:
        return {(c.service, c.operation) for c in self.calls if c.role == role}

    def refused(self) -> list[Call]:
        return [c for c in self.calls if c.error in DENIED]


# -- the template's roles, resolved against the test's resources --------------------------


def physical_names(
    stack: BackendResources, extra: dict[str, tuple[str, str]]
) -> dict[str, tuple[str, str]]:
    """Logical id → (``Ref`` value, ``Arn``) for the resources the roles name."""
    sqs = stack.session.client("sqs")

    def queue_arn(url: str) -> str:
        return str(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        )

    prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:"
    names = {
        "WavesBucket": (stack.bucket, f"arn:aws:s3:::{stack.bucket}"),
        "LakeBucket": (stack.lake_bucket, f"arn:aws:s3:::{stack.lake_bucket}"),
        "JobsTable": (stack.table, prefix.format("dynamodb") + f"table/{stack.table}"),
        "JobsQueue": (stack.queue_url, queue_arn(stack.queue_url)),
        "JobsDeadLetterQueue": (stack.dlq_url, queue_arn(stack.dlq_url)),
        "EventsStream": (
            stack.stream,
            prefix.format("firehose") + f"deliverystream/{stack.stream}",
        ),
    }
    names.update(extra)
    return names


def resolve(node: Any, names: dict[str, tuple[str, str]]) -> Any:
    """``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` and ``Fn::Join`` with the test's names (log
    groups and other resources no handler touches get a placeholder ARN)."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}

    def ref(name: str) -> str:
        return pseudo.get(name) or names.get(name, (f"unused-{name}", ""))[0]

    def att(name: str, attribute: str) -> str:
        if attribute == "Arn" and name in names:
            return names[name][1]
        return f"arn:aws:unused:{REGION}:{ACCOUNT}:{name}/{attribute}"

    if isinstance(node, list):
        return [resolve(v, names) for v in node]
    if not isinstance(node, dict):
        return node
    if "Ref" in node:
        return ref(node["Ref"])
    if "Fn::GetAtt" in node:
        target = node["Fn::GetAtt"]
        name, attribute = target.split(".", 1) if isinstance(target, str) else target
        return att(name, attribute)
    if "Fn::Sub" in node:
        text, variables = (
            (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        )
        variables = {k: resolve(v, names) for k, v in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in variables:
                return str(variables[key])
            if "." in key:
                return att(*key.split(".", 1))
            return ref(key)

        return re.sub(r"\$\{([^}]+)\}", substitute, text)
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(str(p) for p in resolve(parts, names))
    return {k: resolve(v, names) for k, v in node.items()}


def role_policies(
    role: str, names: dict[str, tuple[str, str]], template: Path | None = None
) -> dict[str, str]:
    """The inline policies of template role ``role`` (e.g. ``CleanerRole``), as JSON."""
    properties = load_template(template)["Resources"][role]["Properties"]
    assert not properties.get("ManagedPolicyArns"), "only inline policies are resolved here"
    return {
        p["PolicyName"]: json.dumps(resolve(p["PolicyDocument"], names))
        for p in properties["Policies"]
    }


def assume_template_roles(
    session: Any, names: dict[str, tuple[str, str]], template: Path | None = None
) -> dict[str, dict[str, str]]:
    """Create each Lambda role in moto with its template policies; the credentials of
    an assumed session of each, by handler name."""
    iam, sts = session.client("iam"), session.client("sts")
    credentials = {}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    for handler, logical in LAMBDA_ROLES.items():
        name = f"wk-{handler}-role"
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        for policy_name, document in role_policies(logical, names, template).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
        made = sts.assume_role(RoleArn=arn, RoleSessionName=handler)["Credentials"]
        credentials[handler] = {
            "AWS_ACCESS_KEY_ID": made["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": made["SecretAccessKey"],
            "AWS_SESSION_TOKEN": made["SessionToken"],
        }
    return credentials


def admin_credentials(session: Any) -> dict[str, str]:
    """An IAM user allowed everything: what the test itself uses to set up and look."""
    iam = session.client("iam")
    iam.create_user(UserName="wk-test-admin")
    iam.put_user_policy(
        UserName="wk-test-admin",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="wk-test-admin")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


# -- moto: resources of the requests it evaluates against "*" ------------------------------

DYNAMODB_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}

LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction"}
"""API operations whose IAM action has another name (service authorization reference)."""


def resource_checks(response: Any) -> list[tuple[str, str]] | None:
    """The (action, resource ARN) pairs AWS authorises for one request moto would check
    against ``*``; ``None`` leaves the request to moto as it is."""
    service = {"awslambda": "lambda"}.get(response.service_name, response.service_name)
    action = response._get_action()
    region, account = response.region, response.current_account
    arn = f"arn:aws:{service}:{region}:{account}:"
    body: dict[str, Any] = {}
    raw = getattr(response, "raw_body", None)
    if isinstance(raw, str | bytes) and raw:
        with contextlib.suppress(ValueError):
            body = json.loads(raw)
    if service == "dynamodb":

        def table(name: str, index: str | None = None) -> str:
            return arn + f"table/{name}" + (f"/index/{index}" if index else "")

        if action in {"TransactWriteItems", "TransactGetItems"}:
            return [
                (DYNAMODB_ITEM_ACTIONS[kind], table(detail["TableName"]))
                for entry in body["TransactItems"]
                for kind, detail in entry.items()
            ]
        if action in {"BatchGetItem", "BatchWriteItem"}:
            return [(action, table(name)) for name in body["RequestItems"]]
        if "TableName" in body:
            return [(action, table(body["TableName"], body.get("IndexName")))]
    if service == "sqs" and "QueueName" in body:  # GetQueueUrl: moto names no queue
        owner = body.get("QueueOwnerAWSAccountId", account)
        return [(action, f"arn:aws:sqs:{region}:{owner}:{body['QueueName']}")]
    if service == "firehose" and "DeliveryStreamName" in body:
        return [(action, arn + f"deliverystream/{body['DeliveryStreamName']}")]
    if service == "secretsmanager" and str(body.get("SecretId", "")).startswith("arn:"):
        return [(action, body["SecretId"])]
    if service == "lambda":
        found = re.search(r"/functions/([^/]+)/", response.path)
        if found:
            name = found.group(1)
            action = LAMBDA_ACTIONS.get(action, action)
            return [(action, name if name.startswith("arn:") else arn + f"function:{name}")]
    if service == "athena":
        workgroup = body.get("WorkGroup")
        if workgroup is None and "QueryExecutionId" in body:
            from moto.athena.models import athena_backends

            execution = athena_backends[account][region].executions[body["QueryExecutionId"]]
            workgroup = execution.workgroup.name if execution.workgroup else "primary"
        return [(action, arn + f"workgroup/{workgroup or 'primary'}")]
    if service == "glue":
        database = body.get("DatabaseName") or (
            body.get("Name") if action == "GetDatabase" else None
        )
        checks = [(action, arn + "catalog")]
        if database:
            checks.append((action, arn + f"database/{database}"))
            table_name = body.get("Name") or (body.get("TableInput") or {}).get("Name")
            if action != "GetDatabase":
                checks.append((action, arn + f"table/{database}/{table_name or '*'}"))
        return checks
    return None


@contextlib.contextmanager
def moto_enforces_iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """From here on moto authorises every request (``INITIAL_NO_AUTH_ACTION_COUNT`` = 0),
    with the resources of :func:`resource_checks`."""
    from moto.core.authorization import ActionAuthenticatorMixin, enable_iam_authentication

    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authorise(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        checks = resource_checks(self) if resource == "*" else None
        if not checks:
            original(self, iam_request_cls, resource)
            return
        for action, named in checks:
            self._get_action = lambda action=action: action  # what moto asks IAM about
            try:
                original(self, iam_request_cls, named)
            finally:
                del self._get_action

    monkeypatch.setattr(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorise)
    with enable_iam_authentication():
        yield


def record_calls(monkeypatch: pytest.MonkeyPatch, log: CallLog) -> None:
    """Every boto3 session made from now on reports each call's outcome to ``log``."""
    import boto3

    original = boto3.Session.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)

        def after_call(model: Any, parsed: dict[str, Any], **_: Any) -> None:
            if log.role is not None:
                error = (parsed.get("Error") or {}).get("Code", "")
                log.calls.append(
                    Call(log.role, model.service_model.service_name, model.name, error)
                )

        self.events.register("after-call.*.*", after_call)

    monkeypatch.setattr(boto3.Session, "__init__", init)


@contextlib.contextmanager
def acting_as(log: CallLog, role: str, credentials: dict[str, dict[str, str]]) -> Iterator[None]:
    """Run a handler invocation with the credentials of its function's role."""
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    os.environ.update(credentials[role])
    log.role = role
    try:
        yield
    finally:
        log.role = None
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
