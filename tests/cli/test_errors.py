"""The one error → exit-code rule: every command, every kind of error, one line on stderr."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wavekit.backends.aws.clients import is_aws_error
from wavekit.cli.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    ExitCodeGroup,
    classify,
)
from wavekit.errors import (
    BackendError,
    DeployConfigError,
    DeployError,
    InvalidSpecError,
    LakeNotFoundError,
    QueryError,
    ReportError,
    UnknownBoardError,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidSpecError.single("volume", "must be at most 1"), EXIT_BAD_INPUT),
        (UnknownBoardError("top", ("chords_by_requests",)), EXIT_BAD_INPUT),
        (LakeNotFoundError("lake: out/lake does not exist"), EXIT_BAD_INPUT),
        (DeployConfigError("stage: must match [a-z0-9-]+"), EXIT_BAD_INPUT),
        (DeployError("stack wavekit-dev does not exist"), EXIT_FAILURE),
        (QueryError("duckdb", "q.sql", "no such column"), EXIT_FAILURE),
        (ReportError("every: 'sometimes' is not an interval"), EXIT_FAILURE),
        (BackendError("queue unavailable"), EXIT_FAILURE),
        (PermissionError(13, "Permission denied"), EXIT_FAILURE),
    ],
)
def test_our_errors_and_os_errors_map_to_one_exit_code(error: Exception, code: int) -> None:
    assert classify(error) == (str(error), code)


def test_aws_sdk_errors_are_named_as_such_and_exit_1() -> None:
    from botocore.exceptions import ClientError, NoCredentialsError

    no_credentials = NoCredentialsError()
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListStacks")
    for error in (no_credentials, denied):
        assert is_aws_error(error)
        assert classify(error) == (f"AWS: {error}", EXIT_FAILURE)


def test_errors_from_service_specific_classes_botocore_makes_at_run_time() -> None:
    import boto3

    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    error = client.exceptions.NoSuchBucket(
        {"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "GetObject"
    )
    assert is_aws_error(error)


def test_a_bug_is_not_ours_to_report() -> None:
    assert classify(KeyError("x")) is None
    assert classify(ValueError("a plain ValueError is a bug, not bad input")) is None
    assert not is_aws_error(RuntimeError("botocore"))


def _app_raising(error: Exception) -> typer.Typer:
    app = typer.Typer(cls=ExitCodeGroup)

    @app.command()
    def boom() -> None:
        raise error

    @app.command()
    def fine() -> None:
        typer.echo("ok")

    return app


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (InvalidSpecError.single("duration", "must be > 0"), 2, "error: duration: must be > 0"),
        (
            FileNotFoundError(2, "No such file", "x.sql"),
            1,
            "error: [Errno 2] No such file: 'x.sql'",
        ),
        (DeployError("wavekit-nope does not exist"), 1, "error: wavekit-nope does not exist"),
    ],
)
def test_a_command_prints_one_line_and_exits_with_the_code(
    error: Exception, code: int, line: str
) -> None:
    result = CliRunner().invoke(_app_raising(error), ["boom"])
    assert result.exit_code == code
    assert result.output.strip() == line
    assert "Traceback" not in result.output
    assert CliRunner().invoke(_app_raising(error), ["fine"]).output == "ok\n"


def test_a_bug_keeps_its_traceback() -> None:
    result = CliRunner().invoke(_app_raising(KeyError("bug")), ["boom"])
    assert isinstance(result.exception, KeyError)


def test_the_report_group_follows_the_same_rule(tmp_path: Path) -> None:
    from wavekit.cli import app

    result = CliRunner().invoke(
        app, ["report", "schedule", "--every", "sometimes", "--out", str(tmp_path), "--runs", "1"]
    )
    assert result.exit_code == EXIT_FAILURE
    assert "every: 'sometimes' is neither an interval" in result.output
    assert "Traceback" not in result.output
