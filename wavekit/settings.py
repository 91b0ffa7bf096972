"""One settings object for the service, read from ``WAVEKIT_*`` environment variables.

Explicit arguments win over the environment (``Settings(data_dir=...)``); the defaults
run everything locally with zero cloud: files under ``.wavekit/``, SQLite, threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TWO_DAYS_S = 2 * 24 * 3600


class Settings(BaseSettings):
    """Service configuration. Every field can be set as ``WAVEKIT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="WAVEKIT_", extra="ignore")

    backend: Literal["local", "aws"] = "local"
    data_dir: Path = Field(default=Path(".wavekit"), description="Local blobs, SQLite, lake.")
    max_duration_s: float = Field(default=60.0, gt=0, description="Longest tone the service makes.")
    max_body_bytes: int = Field(
        default=64 * 1024, gt=0, description="Largest accepted request body."
    )
    chunk_bytes: int = Field(
        default=4 * 1024 * 1024,
        gt=0,
        le=4 * 1024 * 1024,
        description="Raw bytes per base64 chunk; 4 MiB keeps a response under 6 MB.",
    )
    download_url_ttl_s: int = Field(default=300, gt=0, le=7 * 24 * 3600)
    retention_s: float = Field(default=TWO_DAYS_S, gt=0, description="Age at which files expire.")
    cleaner_interval_s: float = Field(default=3600.0, gt=0)
    worker_threads: int = Field(default=2, ge=0, description="0 = accept jobs but do not run them.")
    worker_mode: Literal["thread", "process"] = Field(
        default="thread",
        description="'process' runs the worker threads in a child process, so synthesis "
        "does not compete with the API for the GIL (what `wavekit serve` does).",
    )
    max_attempts: int = Field(default=3, ge=1, description="Tries per job before it fails.")
    visibility_timeout_s: float = Field(default=300.0, gt=0)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowed browser origins (comma-separated in env)."
    )
    rate_limit_per_s: float = Field(default=20.0, gt=0, description="POST /waves per client.")
    rate_limit_burst: int = Field(default=40, ge=1)
    admin_token: str | None = Field(default=None, description="Bearer token for admin routes.")
    leaderboard_refresh_s: float = Field(default=3600.0, gt=0, description="Hourly refresh.")
    event_flush_rows: int = Field(default=5000, ge=1)
    event_flush_s: float = Field(default=5.0, gt=0)
    region: str = "local"
    public_url: str | None = Field(
        default=None, description="Base URL clients use, if not the one they called."
    )

    # -- AWS (backend="aws"): names come from the CloudFormation stack (deploy/template.yaml)
    aws_region: str | None = Field(
        default=None, description="AWS region; None = boto3's default (AWS_REGION in Lambda)."
    )
    blob_bucket: str | None = Field(default=None, description="S3 bucket of the WAV files.")
    jobs_table: str | None = Field(
        default=None, description="DynamoDB table of jobs (and the leaderboard cache)."
    )
    queue_url: str | None = Field(default=None, description="SQS queue of request ids.")
    events_stream: str | None = Field(
        default=None, description="Firehose delivery stream of request-log events."
    )
    glue_database: str | None = Field(default=None, description="Glue database of the events.")
    athena_workgroup: str | None = Field(default=None, description="Athena workgroup.")
    lake_uri: str | None = Field(
        default=None, description="s3:// prefix the events table reads (for the views)."
    )
    job_ttl_s: int = Field(
        default=14 * 24 * 3600,
        gt=0,
        description="DynamoDB TTL of a job item; longer than retention_s, so 'expired' is seen.",
    )
    requeue_after_s: float = Field(
        default=900.0,
        gt=0,
        description="The AWS cleaner re-queues jobs in progress for longer than this.",
    )
    admin_token_secret: str | None = Field(
        default=None,
        description="Secrets Manager id of the admin token (AWS, instead of admin_token).",
    )
    client_id_salt: str | None = Field(
        default=None,
        description="Secret salt of the pseudonyms of callers without X-Client-Id "
        "(default: generated once into the data dir).",
    )
    client_id_salt_secret: str | None = Field(
        default=None,
        description="Secrets Manager id of client_id_salt (AWS, shared by every container).",
    )
    refresh_function: str | None = Field(
        default=None, description="Lambda that recomputes the leaderboards (AWS, invoked async)."
    )
    log_level: str = Field(default="INFO", description="Log level of the Lambda handlers.")

    # -- tools
    bundle_python: str | None = Field(
        default=None,
        description="CPython 3.12 that byte-compiles Lambda bundles (default: python3.12).",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "wavekit.sqlite3"

    @property
    def leaderboard_db_path(self) -> Path:
        return self.data_dir / "leaderboards.sqlite3"
