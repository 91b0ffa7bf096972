"""The CloudFormation stack: describe it, apply a change set, wait with progress.

A deploy never calls ``create_stack``/``update_stack``: it makes a change set, prints it,
asks (``confirm``), and only then executes it, so what will change is seen before it
does. An unchanged template with unchanged parameters and tags is recognised before any
change set is made (a no-op). The change set's creation is awaited with boto3's waiter
(``change_set_create_complete``); the stack's own create/update/delete with a loop that
prints each stack event as it happens (waiters report nothing until the end, and a first
create with CloudFront takes minutes).

Every AWS call goes through an :class:`~wavekit.backends.aws.clients.AwsRetry`:
throttling and IAM's eventual consistency are retried with backoff, anything else fails
at once. :func:`aws_errors` turns botocore errors that leave a public entry point
into :class:`~wavekit.errors.DeployError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import (
    DEFAULT_RETRY,
    IAM_PROPAGATION,
    AwsRetry,
    is_aws_error,
)
from wavekit.backends.aws.clients import session as aws_session
from wavekit.deploy.config import PROJECT_TAG, STAGE_TAG, DeployConfig, Echo
from wavekit.deploy.template import template_json
from wavekit.errors import DeployError

if TYPE_CHECKING:
    from boto3.session import Session
    from types_boto3_cloudformation import CloudFormationClient

TERMINAL_OK = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
)
TERMINAL_FAILED = frozenset(
    {
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_FAILED",
        "DELETE_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
        "IMPORT_ROLLBACK_FAILED",
    }
)
NO_CHANGES = re.compile(r"didn't contain changes|No updates are to be performed", re.IGNORECASE)
CHANGE_SET_TIMEOUT_S = 900.0
"""How long a change set may take to be computed (seconds, usually a few)."""


# -- errors ------------------------------------------------------------------------------------


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """Let botocore errors (no credentials, access denied, a throttle that outlasted the
    retries) leave the block as :class:`DeployError` ``"AWS: <what botocore said>"``.

    Also a decorator (``@aws_errors()``) for the public entry points.
    """
    try:
        yield
    except Exception as exc:
        if is_aws_error(exc):
            raise DeployError(f"AWS: {exc}") from exc
        raise


# -- what a stack is -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One resource change of a change set, printed before it is applied."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""

    def __str__(self) -> str:
        replace_note = f" (replacement: {self.replacement})" if self.replacement else ""
        return f"{self.action:<7} {self.resource_type:<40} {self.logical_id}{replace_note}"


@dataclass
class DeployResult:
    """How a deploy ended: the stack's status, its changes and outputs."""

    stack_name: str
    status: str
    changes: list[Change] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    no_op: bool = False
    site_files_uploaded: int = 0


@dataclass(frozen=True)
class StackSummary:
    """One of this project's stacks (``wavekit status``)."""

    name: str
    stage: str
    status: str
    updated: dt.datetime | None


def describe_stack(
    cfn: CloudFormationClient, name: str, retry: AwsRetry = DEFAULT_RETRY
) -> dict[str, Any] | None:
    """The stack, or None if it does not exist (or only as an empty change-set shell)."""
    try:
        stacks = retry(cfn.describe_stacks, StackName=name)["Stacks"]
    except Exception as exc:
        if "does not exist" in str(exc):
            return None
        raise
    stack: dict[str, Any] = stacks[0]
    if stack["StackStatus"] in {"DELETE_COMPLETE"}:
        return None
    return stack


def stack_outputs(
    cfn: CloudFormationClient, name: str, retry: AwsRetry = DEFAULT_RETRY
) -> dict[str, str]:
    """The stack's outputs by key.

    Raises
    ------
    DeployError
        If there is no such stack, or AWS refused the call.
    """
    with aws_errors():
        stack = describe_stack(cfn, name, retry)
    if stack is None:
        raise DeployError(f"stack {name} does not exist; run wavekit deploy")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@aws_errors()
def project_stacks(
    session: Session | None = None, region: str | None = None, retry: AwsRetry = DEFAULT_RETRY
) -> list[StackSummary]:
    """Stacks tagged as this project's, any stage."""
    cfn = aws_session(session, region).client("cloudformation", region_name=region)
    found = []
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get(PROJECT_TAG) != "wavekit" or stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            found.append(
                StackSummary(
                    stack["StackName"],
                    tags.get(STAGE_TAG, "?"),
                    stack["StackStatus"],
                    stack.get("LastUpdatedTime") or stack.get("CreationTime"),
                )
            )
    return sorted(found, key=lambda s: s.name)


# -- is there anything to do -------------------------------------------------------------------


def _current_template(cfn: CloudFormationClient, name: str, retry: AwsRetry) -> Any:
    body = retry(cfn.get_template, StackName=name, TemplateStage="Original")["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else body


def is_current(
    cfn: CloudFormationClient,
    stack: Mapping[str, Any],
    body: str,
    parameters: Mapping[str, str],
    tags: Sequence[Mapping[str, str]],
    retry: AwsRetry = DEFAULT_RETRY,
) -> bool:
    """Whether the deployed stack already has this template, these parameters and tags."""
    if stack["StackStatus"] not in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}:
        return False
    deployed = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    deployed_tags = sorted((t["Key"], t["Value"]) for t in stack.get("Tags", []))
    if deployed != dict(parameters) or deployed_tags != sorted(
        (t["Key"], t["Value"]) for t in tags
    ):
        return False
    return bool(_current_template(cfn, stack["StackName"], retry) == json.loads(body))


# -- change sets -------------------------------------------------------------------------------


def wait_for_change_set(
    cfn: CloudFormationClient, arn: str, retry: AwsRetry = DEFAULT_RETRY, poll_s: float = 5.0
) -> dict[str, Any]:
    """The change set once CloudFormation has computed it (``Status`` ``CREATE_COMPLETE``
    or ``FAILED``, with its ``StatusReason``), awaited with boto3's waiter."""
    from botocore.exceptions import WaiterError

    attempts = max(1, math.ceil(CHANGE_SET_TIMEOUT_S / max(poll_s, 1.0)))
    waiter = cfn.get_waiter("change_set_create_complete")
    try:
        waiter.wait(
            ChangeSetName=arn, WaiterConfig={"Delay": math.ceil(poll_s), "MaxAttempts": attempts}
        )
    except WaiterError as exc:
        last: dict[str, Any] = dict(exc.last_response or {})
        if last.get("Status") == "FAILED":
            return last
        error = last.get("Error", {})
        said = f": {error.get('Code')}: {error.get('Message')}" if error else ""
        raise DeployError(f"change set {arn}: {exc}{said}") from exc
    described: dict[str, Any] = retry(cfn.describe_change_set, ChangeSetName=arn)
    return described


def _changes(described: Mapping[str, Any]) -> list[Change]:
    found = []
    for change in described.get("Changes", []):
        rc = change.get("ResourceChange", {})
        found.append(
            Change(
                rc.get("Action", "?"),
                rc.get("LogicalResourceId", "?"),
                rc.get("ResourceType", "?"),
                rc.get("Replacement", "") if rc.get("Action") == "Modify" else "",
            )
        )
    return found


# -- waiting with progress ---------------------------------------------------------------------


def _event_line(event: Mapping[str, Any]) -> str:
    when = event["Timestamp"]
    reason = f"  {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
    stamp = when.strftime("%H:%M:%S") if isinstance(when, dt.datetime) else str(when)
    return (
        f"{stamp} {event['ResourceStatus']:<28} {event['ResourceType']:<36} "
        f"{event['LogicalResourceId']}{reason}"
    )


def wait_for_stack(
    cfn: CloudFormationClient,
    name: str,
    *,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    poll_s: float = 5.0,
    since: dt.datetime | None = None,
) -> str:
    """Poll until the stack settles, echoing each new stack event; return its status.

    Hand-written rather than a boto3 waiter: the waiters only say "done" or "failed"
    at the end, while a first create runs for minutes and its events (and the failure
    reasons among them) are what the person deploying wants to see as they happen.
    """
    seen: set[str] = set()
    since = since or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    while True:
        stack = describe_stack(cfn, name, retry)
        status = "DELETE_COMPLETE" if stack is None else str(stack["StackStatus"])
        try:
            events = retry(cfn.describe_stack_events, StackName=name)["StackEvents"]
        except Exception:  # the stack is gone (delete finished)
            events = []
        for event in reversed(events):
            when = event["Timestamp"]
            if event["EventId"] in seen or (isinstance(when, dt.datetime) and when < since):
                continue
            seen.add(event["EventId"])
            echo(_event_line(event))
        if status in TERMINAL_OK or status in TERMINAL_FAILED:
            return status
        time.sleep(poll_s)


def failure_reasons(cfn: CloudFormationClient, name: str, retry: AwsRetry) -> list[str]:
    """``"<resource>: <reason>"`` of every failed stack event, newest first."""
    try:
        events = retry(cfn.describe_stack_events, StackName=name)["StackEvents"]
    except Exception:
        return []
    return [
        f"{e['LogicalResourceId']}: {e['ResourceStatusReason']}"
        for e in events
        if e.get("ResourceStatus", "").endswith("FAILED") and e.get("ResourceStatusReason")
    ]


# -- apply -------------------------------------------------------------------------------------


def apply_stack(
    session: Session,
    config: DeployConfig,
    parameters: Mapping[str, str],
    *,
    body: str | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    confirm: Callable[[list[Change]], bool] | None = None,
    poll_s: float = 5.0,
) -> DeployResult:
    """Create or update the stack through a change set; a no-op when nothing changed.

    Shows the change set, asks ``confirm`` (if given), executes it and waits, echoing
    the stack events. A stack left in ``ROLLBACK_COMPLETE`` by a failed first create is
    deleted first (CloudFormation cannot update it).

    Raises
    ------
    DeployError
        If the change set cannot be made or the stack ends in a failed state (the
        message lists the failed resources' reasons).
    """
    cfn = session.client("cloudformation", region_name=config.region)
    body = body or template_json()
    name = config.stack_name
    stack = describe_stack(cfn, name, retry)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        echo(f"{name} is ROLLBACK_COMPLETE after a failed create; deleting it first")
        retry(cfn.delete_stack, StackName=name)
        wait_for_stack(cfn, name, retry=retry, echo=echo, poll_s=poll_s)
        stack = None
    if stack is not None and is_current(cfn, stack, body, parameters, config.tags(), retry):
        echo(f"{name}: no changes")
        outputs = stack_outputs(cfn, name, retry)
        return DeployResult(name, stack["StackStatus"], outputs=outputs, no_op=True)
    kind = "CREATE" if stack is None else "UPDATE"
    change_set_name = f"wavekit-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
    created = retry(
        cfn.create_change_set,
        StackName=name,
        ChangeSetName=change_set_name,
        ChangeSetType=kind,
        TemplateBody=body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
        Tags=config.tags(),
        Description=f"wavekit deploy of stage {config.stage}",
    )
    described = wait_for_change_set(cfn, created["Id"], retry, poll_s)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        retry(cfn.delete_change_set, ChangeSetName=created["Id"])
        if NO_CHANGES.search(reason):
            echo(f"{name}: no changes")
            return DeployResult(name, str(stack and stack["StackStatus"]), no_op=True,
                                outputs=stack_outputs(cfn, name, retry))  # fmt: skip
        raise DeployError(f"change set failed: {reason}")
    changes = _changes(described)
    echo(f"change set {change_set_name} ({kind.lower()} {name}): {len(changes)} change(s)")
    for change in changes:
        echo(f"  {change}")
    if confirm is not None and not confirm(changes):
        retry(cfn.delete_change_set, ChangeSetName=created["Id"])
        echo("not applied")
        return DeployResult(name, "NOT_APPLIED", changes=changes)
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    retry(cfn.execute_change_set, ChangeSetName=created["Id"])
    status = wait_for_stack(cfn, name, retry=retry, echo=echo, poll_s=poll_s, since=started)
    if status not in TERMINAL_OK:
        reasons = failure_reasons(cfn, name, retry)
        hint = (
            " (IAM had not caught up with a new role: deploy again)"
            if any(IAM_PROPAGATION.search(r) for r in reasons)
            else ""
        )
        raise DeployError(f"{name} ended {status}{hint}:\n  " + "\n  ".join(reasons[:10]))
    return DeployResult(name, status, changes=changes, outputs=stack_outputs(cfn, name, retry))
