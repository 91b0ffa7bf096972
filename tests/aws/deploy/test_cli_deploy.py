"""``wavekit deploy | status | outputs | destroy | logs`` from the command line, under moto;
the dry run and ``wavekit --help`` import no AWS SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.aws.deploy.test_deploy import NO_WAIT, small_bundle
from tests.aws.resources import REGION, moto_compatible_template, new_session
from wavekit import deploy as d
from wavekit.cli import app

runner = CliRunner()


def test_dry_run_prints_the_plan_and_the_cost_without_aws() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from wavekit.cli import app\n"
        "r = CliRunner().invoke(app, ['deploy', '--dry-run', '--stage', 'demo',\n"
        "    '--origin', 'https://app.example.com', '--requests-per-month', '2000000'])\n"
        "print(r.output)\n"
        "print('exit', r.exit_code)\n"
        "print('sdk', sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    out = done.stdout
    assert "exit 0" in out
    assert "stack wavekit-demo in us-east-1" in out
    assert "4 x AWS::Lambda::Function" in out
    assert "AllowedOrigins = https://app.example.com" in out
    assert "estimated monthly cost for 2,000,000 API requests" in out
    assert "API Gateway HTTP API" in out
    assert "$      2.00" in out  # $1 per million HTTP API requests
    assert "dry run: nothing was built or deployed" in out
    assert "sdk []" in out


def test_help_does_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "import wavekit\n"
        "from typer.testing import CliRunner\n"
        "from wavekit.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'deploy' in r.output and 'destroy' in r.output and 'logs' in r.output\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'mangum') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_bad_input_exits_2() -> None:
    result = runner.invoke(app, ["deploy", "--dry-run", "--stage", "No_Good"])
    assert result.exit_code == 2
    assert "stage" in result.output


def test_aws_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    result = runner.invoke(app, ["status", "--region", REGION])
    assert result.exit_code == 1
    assert result.output.startswith("error: AWS: Unable to locate credentials")
    assert "Traceback" not in result.output


def test_status_outputs_logs_destroy(aws_env: None, tmp_path: Path) -> None:
    session = new_session()
    import io
    import zipfile

    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/x.py", "")
    layer = session.client("lambda").publish_layer_version(
        LayerName="pandas", Content={"ZipFile": content.getvalue()}
    )["LayerVersionArn"]
    config = d.DeployConfig(stage="cli", region=REGION, sdk_pandas_layer_arn=layer)
    bundles = {"api": small_bundle(tmp_path, "api"), "refresh": small_bundle(tmp_path, "refresh")}
    d.deploy(
        config,
        session=session,
        bundles=bundles,
        template_body=moto_compatible_template(),
        publish_page=False,
        retry=NO_WAIT,
        echo=lambda line: None,
        poll_s=0,
    )

    status = runner.invoke(app, ["status", "--region", REGION])
    assert status.exit_code == 0, status.output
    assert status.output.split()[:3] == ["wavekit-cli", "cli", "CREATE_COMPLETE"]

    outputs = runner.invoke(app, ["outputs", "--stage", "cli", "--region", REGION, "--json"])
    assert outputs.exit_code == 0, outputs.output
    parsed: dict[str, Any] = json.loads(outputs.output)
    assert parsed["WavesBucketName"].startswith("wavekit-cli-")

    group = parsed["WorkerLogGroupName"]
    logs = session.client("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    import time

    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now, "message": '{"message": "processed", "request_id": "r123abc"}'},
            {"timestamp": now + 1, "message": '{"message": "processed", "request_id": "zzz"}'},
        ],
    )
    found = runner.invoke(app, ["logs", "r123abc", "--stage", "cli", "--region", REGION])
    assert found.exit_code == 0, found.output
    lines = found.output.strip().splitlines()
    assert len(lines) == 1
    assert "worker" in lines[0]
    assert '"request_id": "r123abc"' in lines[0]

    missing = runner.invoke(app, ["outputs", "--stage", "nope", "--region", REGION])
    assert missing.exit_code == 1
    assert "wavekit-nope does not exist" in missing.output

    gone = runner.invoke(app, ["destroy", "--stage", "cli", "--region", REGION, "--yes"])
    assert gone.exit_code == 0, gone.output
    assert "wavekit-cli deleted" in gone.output
    assert runner.invoke(app, ["status", "--region", REGION]).output.strip() == "no wavekit stacks"
