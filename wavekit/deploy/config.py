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
from wavekit.errors import DeployConfigError

PROJECT_TAG = "wavekit:project"
STAGE_TAG = "wavekit:stage"
ARCHITECTURE = "arm64"
PYTHON_VERSION = "3.12"
SDK_PANDAS_ACCOUNT = "336392948345"
SDK_PANDAS_LAYER_VERSION = 17
"""Version of the AWS SDK for pandas layer (awswrangler's managed layer); check the
awswrangler docs for the latest in your region."""

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
        The awswrangler layer of the refresh function; the region's managed one if None.

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

    @property
    def stack_name(self) -> str:
        return f"wavekit-{self.stage}"

    @property
    def layer_arn(self) -> str:
        return self.sdk_pandas_layer_arn or (
            f"arn:aws:lambda:{self.region}:{SDK_PANDAS_ACCOUNT}:layer:"
            f"AWSSDKPandas-Python312-Arm64:{SDK_PANDAS_LAYER_VERSION}"
        )

    def parameters(self, code_bucket: str, api_key: str, refresh_key: str) -> dict[str, str]:
        """The template's parameters (all of them, as CloudFormation strings)."""
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
        }

    def tags(self) -> list[dict[str, str]]:
        """The stack's tags: how :func:`~wavekit.deploy.project_stacks` finds it."""
        return [{"Key": PROJECT_TAG, "Value": "wavekit"}, {"Key": STAGE_TAG, "Value": self.stage}]


def with_overrides(config: DeployConfig, **changes: Any) -> DeployConfig:
    """``config`` with the non-None ``changes`` applied (CLI options)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def default_region() -> str:
    """The region a deploy targets when none is given (the shared AWS fallback)."""
    return clients.region(None, fallback=clients.FALLBACK_REGION) or clients.FALLBACK_REGION
