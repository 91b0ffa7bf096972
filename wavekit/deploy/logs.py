"""One request's log lines across the deployed functions (``wavekit logs <request id>``).

The handlers log JSON lines with a ``request_id`` field (and the job service names the
id in its messages), so one quoted-term CloudWatch filter finds a request's lines in the
API, worker and cleaner functions alike; the stack's outputs name the log groups.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wavekit.backends.aws.clients import DEFAULT_RETRY, AwsRetry, error_code
from wavekit.backends.aws.clients import session as aws_session
from wavekit.deploy.config import DeployConfig
from wavekit.deploy.stack import aws_errors, stack_outputs
from wavekit.errors import DeployConfigError

if TYPE_CHECKING:
    from boto3.session import Session

LOG_GROUP_OUTPUTS = {
    "api": "ApiLogGroupName",
    "worker": "WorkerLogGroupName",
    "cleaner": "CleanerLogGroupName",
    "refresh": "RefreshLogGroupName",
    "access": "AccessLogGroupName",
}
"""Source name → the stack output naming its log group."""
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a request id looks like; anything else could change the filter's meaning."""


@dataclass(frozen=True)
class LogLine:
    """One log line: when, from which function, what it said."""

    timestamp: dt.datetime
    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f" {self.source:<8} {self.message}"


@aws_errors()
def gather_logs(
    request_id: str,
    log_groups: Mapping[str, str],
    *,
    session: Session | None = None,
    region: str | None = None,
    since: dt.timedelta = dt.timedelta(days=3),
    retry: AwsRetry = DEFAULT_RETRY,
) -> list[LogLine]:
    """Every log line that mentions ``request_id`` in the given groups, oldest first.

    Parameters
    ----------
    request_id
        The id ``POST /waves`` returned.
    log_groups
        Source name → log group (:func:`stack_log_groups`); a missing group is skipped.
    since
        How far back to look.

    Raises
    ------
    DeployConfigError
        If ``request_id`` is not a request id (it goes into a filter pattern).
    """
    if not REQUEST_ID.fullmatch(request_id):
        raise DeployConfigError(f"request_id: {request_id!r} is not a request id")
    logs = aws_session(session, region).client("logs", region_name=region)
    start = int((dt.datetime.now(dt.UTC) - since).timestamp() * 1000)
    found = []
    for source, group in log_groups.items():
        paginator = logs.get_paginator("filter_log_events")
        pages = paginator.paginate(
            logGroupName=group, filterPattern=f'"{request_id}"', startTime=start
        )
        try:
            for page in pages:
                for event in page.get("events", []):
                    when = dt.datetime.fromtimestamp(event["timestamp"] / 1000, dt.UTC)
                    found.append(LogLine(when, source, event["message"].rstrip("\n")))
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
    return sorted(found, key=lambda line: (line.timestamp, line.source))


@aws_errors()
def stack_log_groups(config: DeployConfig, session: Session | None = None) -> dict[str, str]:
    """The log groups of a deployed stack, by function (from its outputs)."""
    cfn = aws_session(session, config.region).client("cloudformation", region_name=config.region)
    outputs = stack_outputs(cfn, config.stack_name)
    return {src: outputs[key] for src, key in LOG_GROUP_OUTPUTS.items() if key in outputs}
