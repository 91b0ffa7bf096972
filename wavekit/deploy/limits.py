"""Lambda's limits met by the deployment: the worker sized from the duration cap, and
reserved concurrency only where the account allows it.

Both are decided here, from numbers, and handed to the template as parameters (a
CloudFormation template cannot do arithmetic, nor read the account's quotas).

**Worker sizing.** The worst-case file is the longest tone (``max_duration_s``) at the
largest format the spec allows (192 kHz, 8 channels, 4-byte samples: 6.144 MB per
second of audio, 3.69 GB at 600 s). One job makes that file in ``/tmp`` and uploads it,
so its time budget is ``bytes / synthesis rate + bytes / upload rate + overhead``:

- synthesis: 22 MB/s, the lowest of several runs (23-31 MB/s) measured in process CPU
  time (other load on the machine does not count) for the slowest spec families at that
  format (32 one-per-channel sweeps, linear with pink noise or log; square waves ran at
  about 120 MB/s, sines at 600+ MB/s) on a 2-core x86-64 build machine
  (``python -m tests.aws.deploy.measure_worker``), divided by a safety factor of 2.5 for
  Lambda (a slower arm64 core, 1.16 vCPU at 2,048 MB) and the write to ``/tmp``:
  8.8 MB/s;
- upload: 37 MB/s, the rate this deployment was planned with (369 MB in about 10 s,
  boto3's multipart upload from Lambda to S3), halved: 18.5 MB/s. Not measured here
  (no AWS account in CI): to confirm on a real account;
- 10 s per job for the rest (DynamoDB and S3 calls, importing numpy and soundfile).

A batch of up to :data:`MAX_BATCH` messages runs one job after another, and the handler
starts no job with less than :data:`WORKER_RESERVE_S` left, so the timeout is
``batch * budget + reserve``: every job it starts has its whole budget. The batch
shrinks (down to 1) until that fits Lambda's 900 s; if one job does not fit, deploy
refuses the cap. ``/tmp`` holds two worst-case files (the one being made, and a partial
one an invocation killed at its timeout may leave behind) plus 512 MiB for the runtime.
The queue's visibility timeout is 6 x the function timeout (what Lambda's SQS trigger
asks for).

**Reserved concurrency.** AWS refuses any reservation that leaves less than 100
unreserved concurrent executions in the account ("You can reserve up to the Unreserved
account concurrency value that is shown, minus 100 for functions that don't have
reserved concurrency", https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html;
some accounts report a lower minimum, so 100 is the safe side). New accounts often have
a quota of 10, where any reservation fails and with it the first deploy. The deploy
reads ``GetAccountSettings``, adds back what this stack's functions already reserve (a
redeploy replaces them, so they are free to it), and reserves only if 100 stay free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wavekit.audio.spec import MAX_CHANNELS, MAX_SAMPLE_RATE
from wavekit.errors import DeployConfigError

if TYPE_CHECKING:
    from boto3.session import Session

    from wavekit.backends.aws.clients import AwsRetry

# -- Lambda's and SQS's own limits ------------------------------------------------------------
LAMBDA_MAX_TIMEOUT_S = 900
LAMBDA_EPHEMERAL_MB = (512, 10_240)
"""Smallest and largest ``/tmp`` a function may have (MB)."""
SQS_MAX_VISIBILITY_S = 43_200
VISIBILITY_PER_TIMEOUT = 6
"""Lambda's SQS trigger wants the queue's visibility timeout >= 6 x the function's."""
MIN_UNRESERVED_CONCURRENCY = 100
"""What AWS keeps unreserved in an account (see the module docstring)."""

# -- the worker's sizing figures (see the module docstring) --------------------------------------
WORST_CASE_BYTES_PER_AUDIO_S = MAX_SAMPLE_RATE * MAX_CHANNELS * 4
"""192 kHz x 8 channels x 4 bytes (float32 or 32-bit): 6.144 MB per second of audio."""
SYNTH_MEASURED_BYTES_PER_S = 22e6
SYNTH_SAFETY = 2.5
UPLOAD_PLANNED_BYTES_PER_S = 37e6
UPLOAD_SAFETY = 2.0
JOB_OVERHEAD_S = 10.0
WORKER_RESERVE_S = 30.0
"""The worker handler takes no new message with less than this left
(``wavekit.handlers.worker.WORKER_RESERVE_MS``; a test keeps them equal)."""
MAX_BATCH = 4
TMP_FILES = 2
TMP_HEADROOM_MIB = 512
MIB = 1024**2


@dataclass(frozen=True)
class WorkerSizing:
    """The worker's timeout, ``/tmp``, batch size and the queue's visibility timeout."""

    max_duration_s: float
    file_bytes: int
    job_budget_s: float
    batch_size: int
    timeout_s: int
    ephemeral_mb: int
    visibility_timeout_s: int

    def lines(self) -> list[str]:
        """How the numbers were reached, for the deploy plan."""
        return [
            f"worker sized for {self.max_duration_s:g} s tones at 192 kHz x 8 ch x float32 "
            f"({self.file_bytes / 1e6:,.0f} MB): about {self.job_budget_s:,.0f} s per job, "
            f"batches of {self.batch_size}, timeout {self.timeout_s} s, "
            f"/tmp {self.ephemeral_mb:,} MB, queue visibility {self.visibility_timeout_s} s",
        ]


def job_budget_s(
    file_bytes: float,
    *,
    synth_bytes_per_s: float | None = None,
    upload_bytes_per_s: float | None = None,
) -> float:
    """Seconds one job may take to make and upload a file of ``file_bytes`` (the rates
    default to the module's figures, safety factors applied)."""
    synth = synth_bytes_per_s or SYNTH_MEASURED_BYTES_PER_S / SYNTH_SAFETY
    upload = upload_bytes_per_s or UPLOAD_PLANNED_BYTES_PER_S / UPLOAD_SAFETY
    return file_bytes / synth + file_bytes / upload + JOB_OVERHEAD_S


def size_worker(
    max_duration_s: float,
    *,
    synth_bytes_per_s: float | None = None,
    upload_bytes_per_s: float | None = None,
) -> WorkerSizing:
    """Size the worker for the longest tone at the largest format.

    Parameters
    ----------
    max_duration_s
        The service's duration cap (``DeployConfig.max_duration_s``).
    synth_bytes_per_s, upload_bytes_per_s
        The rates the budget assumes (safety factors applied); None for the measured
        and planned figures of the module docstring.

    Returns
    -------
    WorkerSizing
        Within Lambda's limits, with the queue's visibility timeout >= 6 x the timeout.

    Raises
    ------
    DeployConfigError
        ``max_duration_s: ...`` if one worst-case job does not fit Lambda's 900 s
        timeout or its 10,240 MB of ``/tmp`` (the message says the longest cap that does).
    """
    file_bytes = math.ceil(max_duration_s * WORST_CASE_BYTES_PER_AUDIO_S)
    rates = {"synth_bytes_per_s": synth_bytes_per_s, "upload_bytes_per_s": upload_bytes_per_s}
    budget = job_budget_s(file_bytes, **rates)
    batch = min(MAX_BATCH, math.floor((LAMBDA_MAX_TIMEOUT_S - WORKER_RESERVE_S) / budget))
    if batch < 1:
        per_audio_s = job_budget_s(WORST_CASE_BYTES_PER_AUDIO_S, **rates) - JOB_OVERHEAD_S
        longest = (LAMBDA_MAX_TIMEOUT_S - WORKER_RESERVE_S - JOB_OVERHEAD_S) / per_audio_s
        raise DeployConfigError(
            f"max_duration_s: a {max_duration_s:g} s tone at 192 kHz x 8 channels x float32 "
            f"({file_bytes / 1e6:,.0f} MB) needs about {budget:,.0f} s to make and upload, "
            f"more than Lambda's limit of {LAMBDA_MAX_TIMEOUT_S} s per invocation "
            f"(with {WORKER_RESERVE_S:g} s reserve); at most {math.floor(longest)} s fits"
        )
    ephemeral_mb = math.ceil(TMP_FILES * file_bytes / MIB) + TMP_HEADROOM_MIB
    low, high = LAMBDA_EPHEMERAL_MB
    if ephemeral_mb > high:
        longest = (high - TMP_HEADROOM_MIB) * MIB / TMP_FILES / WORST_CASE_BYTES_PER_AUDIO_S
        raise DeployConfigError(
            f"max_duration_s: a {max_duration_s:g} s tone needs {ephemeral_mb:,} MB of /tmp "
            f"({TMP_FILES} worst-case files and {TMP_HEADROOM_MIB} MiB), more than Lambda's "
            f"limit of {high:,} MB; at most {math.floor(longest)} s fits"
        )
    timeout = min(LAMBDA_MAX_TIMEOUT_S, 10 * math.ceil((batch * budget + WORKER_RESERVE_S) / 10))
    return WorkerSizing(
        max_duration_s=max_duration_s,
        file_bytes=file_bytes,
        job_budget_s=budget,
        batch_size=batch,
        timeout_s=timeout,
        ephemeral_mb=max(low, ephemeral_mb),
        visibility_timeout_s=min(SQS_MAX_VISIBILITY_S, VISIBILITY_PER_TIMEOUT * timeout),
    )


# -- reserved concurrency ----------------------------------------------------------------------


@dataclass(frozen=True)
class AccountConcurrency:
    """An account's Lambda concurrency in a region, as ``GetAccountSettings`` tells it."""

    limit: int
    unreserved: int
    held_by_stack: int = 0
    """What this stack's functions reserve today (free to a redeploy)."""


@dataclass(frozen=True)
class ConcurrencyDecision:
    """Whether the functions get reserved concurrency, and why (for the plan)."""

    reserve: bool
    reason: str

    @property
    def parameter(self) -> str:
        return "true" if self.reserve else "false"


def decide_concurrency(
    wanted: Mapping[str, int],
    account: AccountConcurrency | None,
    forced: bool | None = None,
) -> ConcurrencyDecision:
    """Reserve ``wanted`` (function -> executions) only if the account keeps 100 unreserved.

    Parameters
    ----------
    wanted
        The reservations the template would make, by function.
    account
        The account's limits; None if they could not be read (then nothing is reserved).
    forced
        ``reserve_concurrency`` from the config: True or False overrides the decision
        (True is refused if the account cannot take it).

    Raises
    ------
    DeployConfigError
        ``reserve_concurrency: ...`` if forced on where AWS would refuse it.
    """
    total = sum(wanted.values())
    listed = ", ".join(f"{name} {n}" for name, n in wanted.items())
    if forced is False:
        return ConcurrencyDecision(False, "reserved concurrency: off (reserve_concurrency=False)")
    if account is None:
        if forced:
            return ConcurrencyDecision(True, f"reserved concurrency: {total} ({listed}), forced")
        return ConcurrencyDecision(
            False, "reserved concurrency: off (the account's limits could not be read)"
        )
    free = account.unreserved + account.held_by_stack
    left = free - total
    fits = left >= MIN_UNRESERVED_CONCURRENCY
    facts = (
        f"account limit {account.limit:,}, {free:,} free to this stack; reserving {total} "
        f"would leave {left:,} unreserved, AWS keeps at least {MIN_UNRESERVED_CONCURRENCY}"
    )
    if forced and not fits:
        raise DeployConfigError(
            f"reserve_concurrency: AWS would refuse it ({facts}); ask for a higher "
            "concurrency quota or deploy without reservations"
        )
    if fits:
        return ConcurrencyDecision(True, f"reserved concurrency: {total} ({listed}); {facts}")
    return ConcurrencyDecision(False, f"reserved concurrency: off; {facts}")


def read_account_concurrency(
    session: Session, region: str, stack_name: str, retry: AwsRetry
) -> AccountConcurrency:
    """The account's limits (``GetAccountSettings``) and what ``stack_name``'s functions
    reserve today (``GetFunctionConcurrency`` on each; nothing if there is no stack)."""
    from botocore.exceptions import ClientError

    lam = session.client("lambda", region_name=region)
    limits = retry(lam.get_account_settings)["AccountLimit"]
    held = 0
    cfn = session.client("cloudformation", region_name=region)
    try:
        resources = retry(cfn.describe_stack_resources, StackName=stack_name)["StackResources"]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        resources = []
    for resource in resources:
        name = resource.get("PhysicalResourceId")
        if resource.get("ResourceType") != "AWS::Lambda::Function" or not name:
            continue
        try:
            found = retry(lam.get_function_concurrency, FunctionName=name)
        except ClientError as exc:
            if "ResourceNotFound" not in str(exc):
                raise
            continue
        held += int(found.get("ReservedConcurrentExecutions") or 0)
    return AccountConcurrency(
        limit=int(limits["ConcurrentExecutions"]),
        unreserved=int(limits["UnreservedConcurrentExecutions"]),
        held_by_stack=held,
    )
