"""The flows: the dry run (:func:`plan`, :func:`cost_lines`), :func:`deploy`, :func:`destroy`.

::

    build_bundles ──► upload_bundle (artefact bucket, key = content hash)
                          │
    DeployConfig ──► decide reserved concurrency (GetAccountSettings); worker sized
                          │  from the duration cap (both template parameters)
                          ▼
                     apply_stack: change set ─► show ─► confirm ─► execute ─► wait (events)
                          │
                          └─► build_web_site ─► publish_site (S3 sync, CloudFront)
    destroy: empty the stack's buckets, delete the stack (the artefact bucket stays, and
    so do the resources the template retains: the jobs table and the admin secret)

Each step lives in its own module; this one only strings them together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.backends.aws.clients import DEFAULT_RETRY, AwsRetry, error_code, is_aws_error
from wavekit.backends.aws.clients import session as aws_session
from wavekit.deploy.artefacts import ensure_artifact_bucket, upload_bundle
from wavekit.deploy.bundle import Bundle, build_bundles
from wavekit.deploy.config import SDK_PANDAS_RELEASE, DeployConfig, Echo
from wavekit.deploy.limits import (
    MIN_UNRESERVED_CONCURRENCY,
    ConcurrencyDecision,
    decide_concurrency,
    read_account_concurrency,
)
from wavekit.deploy.site import DELETE_BATCH, build_web_site, publish_site
from wavekit.deploy.stack import (
    Change,
    DeployResult,
    apply_stack,
    aws_errors,
    describe_stack,
    failure_reasons,
    wait_for_stack,
)
from wavekit.deploy.template import load_template, template_json
from wavekit.errors import DeployError

if TYPE_CHECKING:
    from boto3.session import Session


@dataclass(frozen=True)
class Plan:
    """What a deploy would do (the dry run): stack, parameters, decisions, resources."""

    config: DeployConfig
    resources: dict[str, int]
    parameters: dict[str, str]
    template_bytes: int
    decisions: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [
            f"stack {self.config.stack_name} in {self.config.region} "
            f"(template {self.template_bytes:,} bytes as JSON)",
            "parameters:",
            *(f"  {k} = {v}" for k, v in self.parameters.items()),
            "decisions:",
            *(f"  {line}" for line in self.decisions),
            f"resources ({sum(self.resources.values())}):",
            *(f"  {n:>2} x {t}" for t, n in sorted(self.resources.items())),
        ]


def decisions(config: DeployConfig, concurrency: ConcurrencyDecision | None = None) -> list[str]:
    """Why the parameters are what they are: worker sizing, reserved concurrency, the
    pandas layer, where alarms go. ``concurrency`` is None before the account is read."""
    wanted = config.wanted_concurrency
    listed = ", ".join(f"{name} {n}" for name, n in wanted.items())
    if concurrency is not None:
        reserved = concurrency.reason
    elif config.reserve_concurrency is None:
        reserved = (
            "reserved concurrency: decided at deploy time from the account's limits "
            f"(Lambda GetAccountSettings): {sum(wanted.values())} ({listed}) only if at "
            f"least {MIN_UNRESERVED_CONCURRENCY} executions stay unreserved, else none"
        )
    else:
        reserved = decide_concurrency(wanted, None, config.reserve_concurrency).reason
    layer = (
        f"AWS SDK for pandas layer: {config.layer_arn} (given)"
        if config.sdk_pandas_layer_arn
        else f"AWS SDK for pandas layer: {config.layer_arn} (release {SDK_PANDAS_RELEASE}'s "
        "table; --sdk-pandas-layer overrides)"
    )
    alarms = "alarms: dead-letter queue depth, errors and throttles of the 4 functions; " + (
        f"mailed to {config.alarm_email} through SNS (confirm the subscription mail)"
        if config.alarm_email
        else "no e-mail (--alarm-email ADDRESS adds an SNS topic)"
    )
    return [*config.worker.lines(), reserved, layer, alarms]


def plan(config: DeployConfig, bundles: Mapping[str, Bundle] | None = None) -> Plan:
    """The dry run: no AWS call. Bundle keys are placeholders unless ``bundles`` is given."""
    template = load_template()
    counts: dict[str, int] = {}
    for resource in template["Resources"].values():
        kind = resource["Type"]
        if "Condition" in resource:  # made only when the condition holds at deploy time
            kind = f"{kind} (if {resource['Condition']})"
        counts[kind] = counts.get(kind, 0) + 1
    api_key = bundles["api"].key if bundles else "bundles/api-<content hash>.zip"
    refresh_key = bundles["refresh"].key if bundles else "bundles/refresh-<content hash>.zip"
    parameters = config.parameters("wavekit-artifacts-<account>-<region>", api_key, refresh_key)
    return Plan(config, counts, parameters, len(template_json()), tuple(decisions(config)))


def decide_reserved_concurrency(
    session: Session, config: DeployConfig, retry: AwsRetry = DEFAULT_RETRY
) -> ConcurrencyDecision:
    """Reserve the functions' concurrency only where the account allows it.

    Reads the account's limits (no call if ``config.reserve_concurrency`` is False). If
    AWS will not say (no ``lambda:GetAccountSettings`` permission ...), nothing is
    reserved, which always deploys.
    """
    wanted = config.wanted_concurrency
    if config.reserve_concurrency is False:
        return decide_concurrency(wanted, None, False)
    try:
        account = read_account_concurrency(session, config.region, config.stack_name, retry)
    except Exception as exc:
        if not is_aws_error(exc):
            raise
        decided = decide_concurrency(wanted, None, config.reserve_concurrency)
        return ConcurrencyDecision(decided.reserve, f"{decided.reason}: {exc}")
    return decide_concurrency(wanted, account, config.reserve_concurrency)


def cost_lines(requests_per_month: int) -> list[str]:
    """The estimated monthly bill for ``requests_per_month`` API requests, as text."""
    from wavekit.analytics.costs import Workload, estimate_monthly_cost

    estimate = estimate_monthly_cost(Workload(requests_per_month))
    total = sum(line.usd for line in estimate)
    rows = [f"  {c.item:<24} {c.quantity:<40} ${c.usd:>10,.2f}" for c in estimate]
    return [
        f"estimated monthly cost for {requests_per_month:,} API requests "
        "(us-east-1 list prices, arm64, no free tier; wavekit/analytics/costs.py):",
        *rows,
        f"  {'total':<65} ${total:>10,.2f}",
    ]


@aws_errors()
def deploy(
    config: DeployConfig,
    *,
    session: Session | None = None,
    bundles: Mapping[str, Bundle] | None = None,
    build_dir: Path = Path("build/lambda"),
    site_dir: Path | None = None,
    publish_page: bool = True,
    template_body: str | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    confirm: Callable[[list[Change]], bool] | None = None,
    poll_s: float = 5.0,
) -> DeployResult:
    """Build (unless ``bundles``) and upload the bundles, apply the stack, publish the page.

    Parameters
    ----------
    config
        Names and limits of the deployment.
    session
        boto3 session (default: boto3's credentials chain, ``config.region``).
    bundles
        Prebuilt bundles (``api`` and ``refresh``); built with :func:`build_bundles` if None.
    site_dir
        Where the page is built before upload (``build/site-<stage>`` by default).
    publish_page
        Build the page with the API URL and sync it to its bucket.
    template_body
        Another template (JSON) taking the same parameters; ``deploy/template.yaml`` if None.
    retry, echo, confirm, poll_s
        Backoff policy, progress output, change-set approval, polling interval.

    Returns
    -------
    DeployResult
        Stack status, the change set's changes, outputs, whether it was a no-op
        (status ``NOT_APPLIED`` if ``confirm`` declined).

    Raises
    ------
    DeployError
        A step failed (AWS's own errors are wrapped as ``"AWS: ..."``).
    """
    session = aws_session(session, config.region)
    config.layer_arn  # noqa: B018 - a region without a known layer fails before any build
    concurrency = decide_reserved_concurrency(session, config, retry)
    for line in decisions(config, concurrency):
        echo(line)
    bundles = bundles or build_bundles(build_dir, echo)
    bucket = ensure_artifact_bucket(session, config.region, retry, echo)
    keys = {name: upload_bundle(session, bucket, b, retry, echo) for name, b in bundles.items()}
    parameters = config.parameters(
        bucket, keys["api"], keys["refresh"], reserve_concurrency=concurrency.reserve
    )
    result = apply_stack(
        session,
        config,
        parameters,
        body=template_body,
        retry=retry,
        echo=echo,
        confirm=confirm,
        poll_s=poll_s,
    )
    if result.status == "NOT_APPLIED":
        return result
    if publish_page and "WebBucketName" in result.outputs:
        out = site_dir or build_dir.parent / f"site-{config.stage}"
        page = build_web_site(
            out, result.outputs["ApiUrl"], config.region, result.outputs["WavesBucketName"], config
        )
        result.site_files_uploaded = publish_site(
            session,
            result.outputs["WebBucketName"],
            page,
            distribution_id=result.outputs.get("WebDistributionId"),
            retry=retry,
            echo=echo,
        )
    for key, value in sorted(result.outputs.items()):
        echo(f"{key:<22} {value}")
    return result


def empty_bucket(session: Session, bucket: str, retry: AwsRetry = DEFAULT_RETRY) -> int:
    """Delete every object version and delete marker; return how many were removed."""
    s3 = session.client("s3")
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(entries), DELETE_BATCH):
            chunk = entries[start : start + DELETE_BATCH]
            retry(s3.delete_objects, Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            removed += len(chunk)
    return removed


@aws_errors()
def destroy(
    config: DeployConfig,
    *,
    session: Session | None = None,
    retry: AwsRetry = DEFAULT_RETRY,
    echo: Echo = print,
    poll_s: float = 5.0,
) -> bool:
    """Empty the stack's buckets and delete the stack (the artefact bucket stays).

    Returns False if there was no such stack.

    Raises
    ------
    DeployError
        If the stack did not end ``DELETE_COMPLETE`` (with the failed resources' reasons),
        or AWS refused a call.
    """
    session = aws_session(session, config.region)
    cfn = session.client("cloudformation", region_name=config.region)
    name = config.stack_name
    if describe_stack(cfn, name, retry) is None:
        echo(f"{name}: no such stack")
        return False
    resources = retry(cfn.describe_stack_resources, StackName=name)["StackResources"]
    retained = retained_resources(resources)
    for resource in resources:
        is_bucket = resource.get("ResourceType") == "AWS::S3::Bucket"
        if is_bucket and resource.get("PhysicalResourceId"):
            bucket = resource["PhysicalResourceId"]
            try:
                removed = empty_bucket(session, bucket, retry)
            except Exception as exc:
                if error_code(exc) != "NoSuchBucket":
                    raise
                continue
            echo(f"emptied {bucket} ({removed} object(s))")
    retry(cfn.delete_stack, StackName=name)
    status = wait_for_stack(cfn, name, retry=retry, echo=echo, poll_s=poll_s)
    if status != "DELETE_COMPLETE":
        raise DeployError(f"{name} ended {status}: " + "; ".join(failure_reasons(cfn, name, retry)))
    echo(f"{name} deleted")
    if retained:
        echo(
            "kept (DeletionPolicy: Retain): " + ", ".join(retained)
            + "; delete them by hand once nothing needs them"
        )  # fmt: skip
    return True


def retained_resources(stack_resources: list[Any]) -> list[str]:
    """``"<logical id> <physical id>"`` of the stack's resources the template retains."""
    template = load_template()["Resources"]
    kept = {n for n, r in template.items() if r.get("DeletionPolicy") == "Retain"}
    return [
        f"{r['LogicalResourceId']} {r.get('PhysicalResourceId', '?')}"
        for r in stack_resources
        if r.get("LogicalResourceId") in kept
    ]
