"""Cost estimates: the monthly bill of a deployment (us-east-1 list prices).

Two price lists, each in one place: :class:`Prices` (Lambda, API Gateway, Athena) lives
in :mod:`wavekit.ports.analytics` because the Athena warehouse adapter prices every query
with it; :class:`ServicePrices` (S3, DynamoDB, SQS, Firehose, logs, secrets) is here.
The SQL never hard-codes a price: ``athena/usage_lambda_cost.sql`` takes them as
parameters from :meth:`Prices.lambda_params`. Update the numbers when AWS changes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wavekit.ports.analytics import ARM64_PRICES, DEFAULT_PRICES, MIB, TIB, Prices

__all__ = [
    "ARM64_PRICES",
    "DEFAULT_PRICES",
    "DEFAULT_SERVICE_PRICES",
    "MIB",
    "TIB",
    "CostLine",
    "Prices",
    "ServicePrices",
    "Workload",
    "estimate_monthly_cost",
]


# -- monthly estimate of a deployment (``wavekit deploy --dry-run``) ------------------------


@dataclass(frozen=True)
class ServicePrices:
    """List prices (USD, us-east-1) of the other services a deployment uses.

    Lambda and API Gateway come from :class:`Prices` (use :data:`ARM64_PRICES`: the
    functions run on arm64), so each price lives in exactly one place.
    """

    s3_storage_per_gb_month: float = 0.023
    s3_put_per_1000: float = 0.005
    s3_get_per_1000: float = 0.0004
    dynamodb_per_million_writes: float = 0.625  # on-demand write request units
    dynamodb_per_million_reads: float = 0.125  # on-demand read request units
    dynamodb_storage_per_gb_month: float = 0.25
    sqs_fifo_per_million: float = 0.50
    firehose_per_gb: float = 0.029  # each record billed as a multiple of 5 KB
    firehose_record_unit_bytes: int = 5 * 1024
    firehose_conversion_per_gb: float = 0.018  # JSON -> Parquet
    logs_ingest_per_gb: float = 0.50
    secrets_per_month: float = 0.40


DEFAULT_SERVICE_PRICES = ServicePrices()
GIB = 1024**3


@dataclass(frozen=True)
class Workload:
    """What a month of traffic looks like; every number is an assumption to adjust.

    ``requests_per_month`` counts API requests; ``job_share`` of them are ``POST /waves``
    that make a file (the rest: polls, downloads, boards, health).
    """

    requests_per_month: int
    job_share: float = 0.2
    api_ms: float = 40.0
    api_memory_gb: float = 1.0
    worker_ms: float = 1500.0
    worker_memory_gb: float = 2.0
    file_mb: float = 2.0
    kept_days: float = 2.0
    cleaner_runs: int = 4 * 24 * 30
    cleaner_s: float = 2.0
    cleaner_memory_gb: float = 0.5
    refresh_runs: int = 24 * 30
    refresh_s: float = 60.0
    refresh_memory_gb: float = 1.0
    queries_per_refresh: int = 24
    event_bytes: int = 400  # one JSON request-log record
    parquet_bytes_per_event: int = 60
    columns_read_share: float = 0.5  # Parquet: a board reads only its columns
    log_bytes_per_request: int = 600


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: str
    usd: float


def estimate_monthly_cost(
    workload: Workload,
    prices: Prices = ARM64_PRICES,
    services: ServicePrices = DEFAULT_SERVICE_PRICES,
    *,
    free_tier: bool = False,
) -> list[CostLine]:
    """Monthly cost of a deployment, one line per service (list prices, no free tier
    unless ``free_tier``).

    Parameters
    ----------
    workload
        Requests per month and the assumptions that turn them into usage.
    prices, services
        The prices; Lambda's are arm64 by default.
    free_tier
        Subtract Lambda's monthly free requests and GB-seconds.

    Returns
    -------
    list of CostLine
        Per service: what is billed and its USD; sum the ``usd`` for the total.
    """
    w = workload
    jobs = w.requests_per_month * w.job_share
    invocations = w.requests_per_month + jobs + w.cleaner_runs + w.refresh_runs
    gb_seconds = (
        w.requests_per_month * w.api_ms / 1000 * w.api_memory_gb
        + jobs * w.worker_ms / 1000 * w.worker_memory_gb
        + w.cleaner_runs * w.cleaner_s * w.cleaner_memory_gb
        + w.refresh_runs * w.refresh_s * w.refresh_memory_gb
    )
    billed_invocations, billed_gb_s = invocations, gb_seconds
    if free_tier:
        billed_invocations = max(0.0, invocations - prices.lambda_free_requests_per_month)
        billed_gb_s = max(0.0, gb_seconds - prices.lambda_free_gb_seconds_per_month)
    stored_gb = jobs * w.file_mb / 1024 * w.kept_days / 30
    event_units = math.ceil(w.event_bytes / services.firehose_record_unit_bytes)
    firehose_gb = w.requests_per_month * event_units * services.firehose_record_unit_bytes / GIB
    lake_bytes_month = w.requests_per_month * w.parquet_bytes_per_event * w.columns_read_share
    # a board reads its window and the previous one: month 2, year 24, all up to 24 months
    months_read = (2 + 24 + 24) / 3
    scanned = w.queries_per_refresh * max(
        lake_bytes_month * months_read, prices.athena_minimum_bytes
    )
    return [
        CostLine(
            "Lambda requests",
            f"{invocations:,.0f} invocations",
            billed_invocations * prices.lambda_price_per_request,
        ),
        CostLine(
            "Lambda compute",
            f"{gb_seconds:,.0f} GB-s",
            billed_gb_s * prices.lambda_price_per_gb_second,
        ),
        CostLine(
            "API Gateway HTTP API",
            f"{w.requests_per_month:,} requests",
            w.requests_per_month * prices.api_price_per_request,
        ),
        CostLine(
            "S3 (files)",
            f"{stored_gb:,.1f} GB-month, {jobs:,.0f} PUT",
            stored_gb * services.s3_storage_per_gb_month
            + jobs / 1000 * services.s3_put_per_1000
            + jobs / 1000 * services.s3_get_per_1000,
        ),
        CostLine(
            "DynamoDB on-demand",
            f"{jobs * 8:,.0f} writes, {w.requests_per_month:,} reads",
            jobs * 8 / 1e6 * services.dynamodb_per_million_writes
            + w.requests_per_month / 1e6 * services.dynamodb_per_million_reads,
        ),
        CostLine(
            "SQS FIFO",
            f"{jobs * 3:,.0f} requests",
            jobs * 3 / 1e6 * services.sqs_fifo_per_million,
        ),
        CostLine(
            "Firehose -> Parquet",
            f"{firehose_gb:,.2f} GB billed",
            firehose_gb * (services.firehose_per_gb + services.firehose_conversion_per_gb),
        ),
        CostLine(
            "Athena (hourly boards)",
            f"{scanned * w.refresh_runs / TIB:,.4f} TB scanned",
            w.refresh_runs
            * w.queries_per_refresh
            * prices.athena_query_cost(int(scanned / w.queries_per_refresh)),
        ),
        CostLine(
            "CloudWatch Logs",
            f"{w.requests_per_month * w.log_bytes_per_request / GIB:,.2f} GB",
            w.requests_per_month * w.log_bytes_per_request / GIB * services.logs_ingest_per_gb,
        ),
        CostLine("Secrets Manager", "1 secret", services.secrets_per_month),
    ]
