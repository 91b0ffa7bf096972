"""Every name and limit of a deployment in one :class:`DeployConfig`.

The config is the only source of the template's parameters, so a deployment is fully
described by one value that can be printed (the dry run), compared and overridden from
the CLI. Limits the template declares (``MinValue``, ``AllowedValues`` ...) are checked
here too, before any AWS call, so a bad option fails at once with
:class:`~wavekit.errors.DeployConfigError` naming it (the CLI exits 2), not minutes
later as a failed change set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from wavekit.backends.aws import clients
from wavekit.deploy.limits import WorkerSizing, size_worker
from wavekit.errors import DeployConfigError

PROJECT_TAG = "wavekit:project"
STAGE_TAG = "wavekit:stage"
ARCHITECTURE = "arm64"
PYTHON_VERSION = "3.12"
SDK_PANDAS_RELEASE = "3.17.0"
SDK_PANDAS_LAYERS: dict[str, tuple[str, int]] = {
    # The AWS SDK for pandas (awswrangler) managed layer for Python 3.12 arm64, release
    # 3.17.0: region -> (publishing account, layer version). From the project's table,
    # https://aws-sdk-pandas.readthedocs.io/en/stable/layers.html (docs/source/layers.rst
    # in github.com/aws/aws-sdk-pandas). Most regions publish it from 336392948345; the
    # opt-in regions (ap-east-1, eu-south-1, me-central-1 ...) each from their own
    # account, and the China partition from 406640652441 (arn:aws-cn). GovCloud and the
    # newest regions (me-south-1, ap-southeast-5 ...) are not in the table: deploy there
    # with --sdk-pandas-layer ARN (a layer you publish, see the project's install docs).
    "af-south-1": ("336392948345", 28),
    "ap-northeast-1": ("336392948345", 29),
    "ap-northeast-2": ("336392948345", 29),
    "ap-northeast-3": ("336392948345", 29),
    "ap-south-1": ("336392948345", 29),
    "ap-southeast-1": ("336392948345", 29),
    "ap-southeast-2": ("336392948345", 29),
    "ca-central-1": ("336392948345", 29),
    "eu-central-1": ("336392948345", 29),
    "eu-north-1": ("336392948345", 29),
    "eu-west-1": ("336392948345", 29),
    "eu-west-2": ("336392948345", 29),
    "eu-west-3": ("336392948345", 29),
    "sa-east-1": ("336392948345", 29),
    "us-east-1": ("336392948345", 29),
    "us-east-2": ("336392948345", 29),
    "us-west-1": ("336392948345", 29),
    "us-west-2": ("336392948345", 29),
    "ap-east-1": ("839552336658", 26),
    "ap-south-2": ("246107603503", 26),
    "ap-southeast-3": ("258944054355", 26),
    "ap-southeast-4": ("945386623051", 26),
    "ca-west-1": ("941713567376", 3),
    "eu-central-2": ("956415814219", 26),
    "eu-south-1": ("774444163449", 26),
    "eu-south-2": ("982086096842", 26),
    "il-central-1": ("263840725265", 26),
    "me-central-1": ("593833071574", 26),
    "cn-north-1": ("406640652441", 10),
    "cn-northwest-1": ("406640652441", 10),
}
SDK_PANDAS_LAYER_NAME = "AWSSDKPandas-Python312-Arm64"
LAYER_ARN_RE = re.compile(
    r"^arn:(?P<partition>aws|aws-cn|aws-us-gov):lambda:(?P<region>[a-z]{2}(-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):layer:[A-Za-z0-9_-]{1,140}:(?P<version>\d+)$"
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UNDECIDED = "<decided at deploy time from the account's limits>"
"""The ``ReserveConcurrency`` parameter in a dry run (deciding needs an AWS call)."""

STAGE_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")
ORIGIN_RE = re.compile(r"^https?://[^/,\s]+$")
MAX_DURATION_RANGE_S = (1.0, 600.0)
"""The template's ``MaxDurationS`` bounds (the worker's timeout is sized from it)."""
LOG_RETENTION_DAYS = frozenset({1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365})
"""The retention periods CloudWatch accepts (the template's ``AllowedValues``)."""
MINIMUMS = {
    "api_concurrency": 1,
    "worker_concurrency": 2,
    "waves_expire_days": 3,
    "athena_bytes_cutoff": 10_000_000,
}
"""Smallest value of each numeric option: the template's ``MinValue`` (a test keeps them
equal)."""

Echo = Callable[[str], None]
"""Where progress lines go (``print``, ``typer.echo``, a test recorder)."""
ArchitectureName = Literal["arm64", "x86_64"]


@dataclass(frozen=True)
class DeployConfig:
    """Every name and limit of a deployment, in one place (the template's parameters).

    Parameters
    ----------
    stage
        Short lowercase name (``dev``, ``prod``); the stack is ``wavekit-<stage>``.
    region
        AWS region.
    allowed_origins
        Browser origins allowed by CORS besides the CloudFront page.
    max_duration_s
        Longest tone the service makes.
    api_throttle_rate, api_throttle_burst
        API Gateway stage throttling (requests per second, burst).
    api_concurrency, worker_concurrency
        Reserved concurrency of the API and worker functions.
    log_retention_days
        CloudWatch retention of every log group.
    waves_expire_days
        S3 lifecycle backstop for WAV files (the cleaner deletes them after 2 days).
    athena_bytes_cutoff
        Athena's per-query scan limit in the workgroup.
    sdk_pandas_layer_arn
        The awswrangler layer of the refresh function; the region's managed one
        (:data:`SDK_PANDAS_LAYERS`) if None. Must be in ``region``.
    alarm_email
        Where CloudWatch alarms (DLQ depth, function errors and throttles) are mailed,
        through an SNS topic; no topic if None (the alarms still show in the console).
    reserve_concurrency
        Reserve the functions' concurrency: None decides at deploy time from the
        account's limits (:func:`~wavekit.deploy.limits.decide_concurrency`).

    Raises
    ------
    DeployConfigError
        If an option is out of its limits; the message starts with the option's name.
    """

    stage: str = "dev"
    region: str = "us-east-1"
    allowed_origins: tuple[str, ...] = ()
    max_duration_s: float = 60.0
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    api_concurrency: int = 20
    worker_concurrency: int = 10
    log_retention_days: int = 30
    waves_expire_days: int = 7
    athena_bytes_cutoff: int = 10 * 1024**3
    sdk_pandas_layer_arn: str | None = None
    alarm_email: str | None = None
    reserve_concurrency: bool | None = None

    def __post_init__(self) -> None:
        if not STAGE_RE.match(self.stage):
            raise DeployConfigError(
                f"stage: must be 1-12 lowercase letters/digits starting with a letter, "
                f"got {self.stage!r}"
            )
        for origin in self.allowed_origins:
            if not ORIGIN_RE.match(origin):
                raise DeployConfigError(
                    f"allowed_origins: {origin!r} is not an origin (scheme://host)"
                )
        low, high = MAX_DURATION_RANGE_S
        if not low <= self.max_duration_s <= high:
            raise DeployConfigError(
                f"max_duration_s: must be {low:g} to {high:g} seconds, got {self.max_duration_s:g}"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise DeployConfigError(
                f"log_retention_days: must be one of {sorted(LOG_RETENTION_DAYS)}, "
                f"got {self.log_retention_days}"
            )
        for name, minimum in MINIMUMS.items():
            value = getattr(self, name)
            if value < minimum:
                raise DeployConfigError(f"{name}: must be at least {minimum:,}, got {value:,}")
        if self.alarm_email is not None and not EMAIL_RE.match(self.alarm_email):
            raise DeployConfigError(f"alarm_email: {self.alarm_email!r} is not an e-mail address")
        if self.sdk_pandas_layer_arn is not None:
            arn = LAYER_ARN_RE.match(self.sdk_pandas_layer_arn)
            if arn is None:
                raise DeployConfigError(
                    f"sdk_pandas_layer_arn: {self.sdk_pandas_layer_arn!r} is not a layer "
                    "version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)"
                )
            if arn["region"] != self.region:
                raise DeployConfigError(
                    f"sdk_pandas_layer_arn: the layer is in {arn['region']}, the stack in "
                    f"{self.region} (Lambda uses layers of its own region only)"
                )
        size_worker(self.max_duration_s)  # refuses a cap the worker cannot meet

    @property
    def stack_name(self) -> str:
        return f"wavekit-{self.stage}"

    @property
    def layer_arn(self) -> str:
        """The override, or the region's managed layer.

        Raises
        ------
        DeployConfigError
            ``sdk_pandas_layer_arn: ...`` for a region outside :data:`SDK_PANDAS_LAYERS`
            without an override (checked when the parameters are made, so commands that
            need no layer, such as ``destroy``, work in any region).
        """
        if self.sdk_pandas_layer_arn:
            return self.sdk_pandas_layer_arn
        return sdk_pandas_layer(self.region)

    @property
    def worker(self) -> WorkerSizing:
        """The worker's timeout, /tmp and batch size for ``max_duration_s``."""
        return size_worker(self.max_duration_s)

    @property
    def wanted_concurrency(self) -> dict[str, int]:
        """The reservations the template makes when ``ReserveConcurrency`` is true."""
        return {"api": self.api_concurrency, "worker": self.worker_concurrency,
                "cleaner": 1, "refresh": 1}  # fmt: skip

    def parameters(
        self,
        code_bucket: str,
        api_key: str,
        refresh_key: str,
        *,
        reserve_concurrency: bool | None = None,
    ) -> dict[str, str]:
        """The template's parameters (all of them, as CloudFormation strings).

        ``reserve_concurrency`` is the deploy's decision; without one (and without
        ``self.reserve_concurrency``) the parameter reads :data:`UNDECIDED` (dry run).
        """
        reserve = self.reserve_concurrency if reserve_concurrency is None else reserve_concurrency
        worker = self.worker
        return {
            "Stage": self.stage,
            "AllowedOrigins": ",".join(self.allowed_origins),
            "CodeBucket": code_bucket,
            "ApiCodeKey": api_key,
            "RefreshCodeKey": refresh_key,
            "SdkPandasLayerArn": self.layer_arn,
            "MaxDurationS": f"{self.max_duration_s:g}",
            "ApiThrottleRate": str(self.api_throttle_rate),
            "ApiThrottleBurst": str(self.api_throttle_burst),
            "ApiConcurrency": str(self.api_concurrency),
            "WorkerConcurrency": str(self.worker_concurrency),
            "LogRetentionDays": str(self.log_retention_days),
            "WavesExpireDays": str(self.waves_expire_days),
            "AthenaBytesCutoff": str(self.athena_bytes_cutoff),
            "ReserveConcurrency": UNDECIDED if reserve is None else str(reserve).lower(),
            "WorkerTimeoutS": str(worker.timeout_s),
            "WorkerEphemeralStorageMB": str(worker.ephemeral_mb),
            "WorkerBatchSize": str(worker.batch_size),
            "JobsVisibilityTimeoutS": str(worker.visibility_timeout_s),
            "AlarmEmail": self.alarm_email or "",
        }

    def tags(self) -> list[dict[str, str]]:
        """The stack's tags: how :func:`~wavekit.deploy.project_stacks` finds it."""
        return [{"Key": PROJECT_TAG, "Value": "wavekit"}, {"Key": STAGE_TAG, "Value": self.stage}]


def with_overrides(config: DeployConfig, **changes: Any) -> DeployConfig:
    """``config`` with the non-None ``changes`` applied (CLI options)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def sdk_pandas_layer(region: str) -> str:
    """The AWS SDK for pandas layer (Python 3.12, arm64) AWS publishes in ``region``.

    Raises
    ------
    DeployConfigError
        ``sdk_pandas_layer_arn: ...`` if the region is not in :data:`SDK_PANDAS_LAYERS`.
    """
    if region not in SDK_PANDAS_LAYERS:
        raise DeployConfigError(
            f"sdk_pandas_layer_arn: no AWS SDK for pandas layer is known for {region} "
            f"(release {SDK_PANDAS_RELEASE} publishes it in {len(SDK_PANDAS_LAYERS)} regions); "
            "pass --sdk-pandas-layer ARN with a Python 3.12 arm64 layer of that region"
        )
    account, version = SDK_PANDAS_LAYERS[region]
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    return f"arn:{partition}:lambda:{region}:{account}:layer:{SDK_PANDAS_LAYER_NAME}:{version}"


def default_region() -> str:
    """The region a deploy targets when none is given (the shared AWS fallback)."""
    return clients.region(None, fallback=clients.FALLBACK_REGION) or clients.FALLBACK_REGION
