"""Deploy, redeploy (no-op), update and destroy under moto; retries on throttling and IAM
eventual consistency; the page sync; logs of one request across functions; the dry run.

moto's CloudFormation does not model API Gateway v2, CloudFront, Firehose, Glue, Athena,
Secrets Manager, log streams or bucket policies, so the stack tests deploy the template
without those resources (:func:`moto_compatible_template`); cfn-lint and checkov check
the whole template (test_template.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.aws.resources import REGION, moto_compatible_template, new_session
from wavekit import deploy as d
from wavekit.deploy.bundle import zip_directory
from wavekit.handlers.common import logger as handler_logger

NO_WAIT = d.AwsRetry(attempts=5, initial_s=0, max_s=0, sleep=lambda s: None)


@pytest.fixture
def session(aws_env: None) -> Any:
    return new_session()


@pytest.fixture
def layer_arn(session: Any) -> str:
    """A stand-in for the AWS SDK for pandas layer (moto checks that layers exist)."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/awswrangler/__init__.py", "")
    published = session.client("lambda").publish_layer_version(
        LayerName="AWSSDKPandas-Python312-Arm64",
        Content={"ZipFile": content.getvalue()},
        CompatibleRuntimes=["python3.12"],
    )
    return str(published["LayerVersionArn"])


def small_bundle(tmp_path: Path, name: str, text: str = "") -> d.Bundle:
    """A tiny reproducible bundle (the real build is tested in test_bundle.py)."""
    site = tmp_path / f"site-{name}"
    (site / "wavekit" / "handlers").mkdir(parents=True, exist_ok=True)
    (site / "wavekit" / "handlers" / "api.py").write_text(f"# {name} {text}\n")
    target = tmp_path / f"{name}.zip"
    files, unzipped = zip_directory(site, target)
    data = target.read_bytes()
    import hashlib

    return d.Bundle(name, target, hashlib.sha256(data).hexdigest(), len(data), unzipped, files)


@pytest.fixture
def bundles(tmp_path: Path) -> dict[str, d.Bundle]:
    return {"api": small_bundle(tmp_path, "api"), "refresh": small_bundle(tmp_path, "refresh")}


class Echo:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def run_deploy(
    session: Any, config: d.DeployConfig, bundles: dict[str, d.Bundle], **kw: Any
) -> tuple[d.DeployResult, Echo]:
    echo = Echo()
    result = d.deploy(
        config,
        session=session,
        bundles=bundles,
        template_body=moto_compatible_template(),
        publish_page=False,
        retry=NO_WAIT,
        echo=echo,
        poll_s=0,
        **kw,
    )
    return result, echo


def test_deploy_redeploy_update_destroy(
    session: Any, layer_arn: str, bundles: dict[str, d.Bundle], tmp_path: Path
) -> None:
    config = d.DeployConfig(stage="ci", region=REGION, sdk_pandas_layer_arn=layer_arn)
    result, echo = run_deploy(session, config, bundles)
    assert (result.status, result.no_op) == ("CREATE_COMPLETE", False)
    added = {c.logical_id for c in result.changes if c.action == "Add"}
    assert {"ApiFunction", "WorkerFunction", "JobsTable", "JobsQueue", "WavesBucket"} <= added
    assert "change set" in echo.text
    assert result.outputs["WavesBucketName"].startswith("wavekit-ci-wavesbucket")

    # the bundles went to the artefact bucket under their content hash
    artefacts = d.artifact_bucket_name("123456789012", REGION)
    keys = [o["Key"] for o in session.client("s3").list_objects_v2(Bucket=artefacts)["Contents"]]
    assert sorted(keys) == sorted(b.key for b in bundles.values())

    # what CloudFormation made, as the template says
    functions = {f["Handler"]: f for f in session.client("lambda").list_functions()["Functions"]}
    worker = functions["wavekit.handlers.worker.handler"]
    # (moto's CloudFormation drops Architectures and EphemeralStorage; test_template.py
    # checks arm64, test_worker_sizing.py the sizing of the timeout and /tmp)
    sizing = config.worker
    assert (worker["Runtime"], worker["Timeout"], worker["MemorySize"]) == (
        "python3.12",
        sizing.timeout_s,
        2048,
    )
    assert set(functions) == {
        f"wavekit.handlers.{n}.handler" for n in ("api", "worker", "cleaner", "refresh")
    }
    assert all(f["Timeout"] > 3 for f in functions.values())  # never the 3 s default
    queue = session.client("sqs").get_queue_attributes(
        QueueUrl=result.outputs["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert int(queue["VisibilityTimeout"]) >= 6 * worker["Timeout"]
    assert queue["FifoQueue"] == "true"
    mappings = session.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert [m["FunctionResponseTypes"] for m in mappings] == [["ReportBatchItemFailures"]]
    assert [m["BatchSize"] for m in mappings] == [sizing.batch_size]

    # the same deploy again: nothing to do, no change set made
    again, echo = run_deploy(session, config, bundles)
    assert again.no_op
    assert "no changes" in echo.text
    assert again.outputs == result.outputs
    cfn = session.client("cloudformation")
    stack = cfn.describe_stacks(StackName="wavekit-ci")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"

    # a changed limit and new code: an update
    changed = {**bundles, "api": small_bundle(tmp_path, "api", "v2")}
    config2 = d.with_overrides(config, log_retention_days=14, api_concurrency=None)
    updated, echo = run_deploy(session, config2, changed)
    assert (updated.status, updated.no_op) == ("UPDATE_COMPLETE", False)
    stack = cfn.describe_stacks(StackName="wavekit-ci")["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["LogRetentionDays"] == "14"
    assert parameters["ApiCodeKey"] == changed["api"].key
    assert run_deploy(session, config2, changed)[0].no_op

    # destroy empties the buckets first, then deletes the stack; the artefacts stay
    s3 = session.client("s3")
    waves = updated.outputs["WavesBucketName"]
    s3.put_object(Bucket=waves, Key="waves/abc.wav", Body=b"RIFF")
    echo = Echo()
    assert d.destroy(config2, session=session, retry=NO_WAIT, echo=echo, poll_s=0)
    assert f"emptied {waves} (1 object(s))" in echo.text
    assert d.describe_stack(cfn, "wavekit-ci") is None
    # the jobs table outlives the stack (DeletionPolicy: Retain), and destroy says so
    table = updated.outputs["JobsTableName"]
    assert table in session.client("dynamodb").list_tables()["TableNames"]
    assert f"JobsTable {table}" in echo.text
    assert waves not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert artefacts in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert not d.destroy(config2, session=session, retry=NO_WAIT, echo=Echo(), poll_s=0)


def test_status_lists_only_this_projects_stacks(
    session: Any, layer_arn: str, bundles: dict[str, d.Bundle]
) -> None:
    for stage in ("dev", "prod"):
        config = d.DeployConfig(stage=stage, region=REGION, sdk_pandas_layer_arn=layer_arn)
        run_deploy(session, config, bundles)
    session.client("cloudformation").create_stack(
        StackName="someone-else",
        TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
    )
    stacks = d.project_stacks(session, REGION, NO_WAIT)
    assert [(s.name, s.stage, s.status) for s in stacks] == [
        ("wavekit-dev", "dev", "CREATE_COMPLETE"),
        ("wavekit-prod", "prod", "CREATE_COMPLETE"),
    ]


def test_a_declined_change_set_is_not_applied(
    session: Any, layer_arn: str, bundles: dict[str, d.Bundle]
) -> None:
    config = d.DeployConfig(stage="ask", region=REGION, sdk_pandas_layer_arn=layer_arn)
    result, _ = run_deploy(session, config, bundles, confirm=lambda changes: False)
    assert result.status == "NOT_APPLIED"
    assert result.changes
    stack = d.describe_stack(session.client("cloudformation"), "wavekit-ask")
    assert stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS"


def client_error(code: str, message: str = "", status: int = 400) -> dict[str, Any]:
    return {"service_error_code": code, "service_message": message, "http_status_code": status}


def test_throttling_and_iam_propagation_are_retried_other_errors_are_not() -> None:
    cfn = boto3.client(
        "cloudformation",
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    waits: list[float] = []
    retry = d.AwsRetry(attempts=4, initial_s=0.25, max_s=1, sleep=waits.append)
    stack = {
        "StackName": "wavekit-x",
        "StackStatus": "CREATE_COMPLETE",
        "CreationTime": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "Outputs": [{"OutputKey": "ApiUrl", "OutputValue": "https://x"}],
    }
    with Stubber(cfn) as stub:
        stub.add_client_error("describe_stacks", **client_error("Throttling", "Rate exceeded"))
        stub.add_client_error("describe_stacks", **client_error("ThrottlingException"))
        stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "wavekit-x"})
        assert d.stack_outputs(cfn, "wavekit-x", retry) == {"ApiUrl": "https://x"}
        stub.assert_no_pending_responses()
    assert len(waits) == 2
    assert all(0 <= w <= 1 for w in waits)

    lambda_client = boto3.client(
        "lambda", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(lambda_client) as stub:
        stub.add_client_error(
            "get_function",
            **client_error(
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
            ),
        )
        stub.add_response("get_function", {"Configuration": {"FunctionName": "f"}})
        assert retry(lambda_client.get_function, FunctionName="f")["Configuration"]
    with Stubber(cfn) as stub:
        stub.add_client_error("describe_stacks", **client_error("ValidationError", "bad"))
        with pytest.raises(ClientError, match="bad"):
            retry(cfn.describe_stacks, StackName="x")
        stub.assert_no_pending_responses()
    assert len(waits) == 3  # only the IAM retry waited; the validation error did not


def test_a_throttled_deploy_carries_on(
    session: Any, layer_arn: str, bundles: dict[str, d.Bundle]
) -> None:
    """Throttling injected into the real calls (botocore's before-call hook) mid-deploy."""
    throttled: list[str] = []

    def throttle(model: Any, **_: Any) -> None:
        if len(throttled) < 3:
            throttled.append(model.name)
            raise ClientError(
                {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, model.name
            )

    session.events.register("before-call.cloudformation.CreateChangeSet", throttle)
    session.events.register("before-call.cloudformation.ExecuteChangeSet", throttle)
    config = d.DeployConfig(stage="busy", region=REGION, sdk_pandas_layer_arn=layer_arn)
    result, _ = run_deploy(session, config, bundles)
    assert result.status == "CREATE_COMPLETE"
    assert throttled == ["CreateChangeSet"] * 3


def test_publish_site_syncs_changed_files_only(session: Any, tmp_path: Path) -> None:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="page")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>wavekit</title>")
    (site / "app.js").write_text("console.log(1)")
    (site / "old.css").write_text("body{}")
    assert d.publish_site(session, "page", site, retry=NO_WAIT, echo=Echo()) == 3
    assert d.publish_site(session, "page", site, retry=NO_WAIT, echo=Echo()) == 0
    (site / "app.js").write_text("console.log(2)")
    (site / "old.css").unlink()
    assert d.publish_site(session, "page", site, retry=NO_WAIT, echo=Echo()) == 1
    listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="page")["Contents"])
    assert listed == ["app.js", "index.html"]
    head = s3.head_object(Bucket="page", Key="index.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")


def test_the_page_is_built_with_the_api_url(tmp_path: Path) -> None:
    config = d.DeployConfig(stage="web", max_duration_s=30)
    out = d.build_web_site(
        tmp_path / "site", "https://abc.execute-api.us-east-1.amazonaws.com", REGION, "wb", config
    )
    config_js = (out / "config.js").read_text()
    assert "https://abc.execute-api.us-east-1.amazonaws.com" in config_js
    index = (out / "index.html").read_text()
    assert "https://wb.s3.us-east-1.amazonaws.com" in index  # presigned downloads allowed


def log_line(message: str, **fields: Any) -> str:
    """A line as the handlers' logger writes it (powertools' JSON formatter)."""
    import logging

    record = logging.LogRecord("wavekit", logging.INFO, __file__, 1, message, (), None)
    for name, value in fields.items():
        setattr(record, name, value)
    return str(handler_logger.registered_formatter.format(record))


def test_logs_of_one_request_across_functions(session: Any) -> None:
    logs = session.client("logs")
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    wanted, other = "5f2c1a9b7e3d4c21", "0a0b0c0d0e0f1011"
    written = {
        "/wk/api": [
            (now, log_line("request", request_id=wanted, route="POST /waves")),
            (now + 1, log_line("request", request_id=other, route="POST /waves")),
            (now + 90, log_line("request", request_id=wanted, route="GET /waves/{request_id}")),
        ],
        "/wk/worker": [
            (now + 10, log_line("processing", request_id=wanted)),
            (now + 40, log_line("processed", request_id=wanted, outcome="done")),
            (now + 41, log_line("processed", request_id=other, outcome="done")),
        ],
        "/wk/cleaner": [(now + 500, log_line("job expired", request_id=wanted))],
    }
    for group, events in written.items():
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": t, "message": m} for t, m in events],
        )
    groups = {"api": "/wk/api", "worker": "/wk/worker", "cleaner": "/wk/cleaner"}
    found = d.gather_logs(wanted, groups, session=session, region=REGION, retry=NO_WAIT)
    assert [(line.source, json.loads(line.message)["message"]) for line in found] == [
        ("api", "request"),
        ("worker", "processing"),
        ("worker", "processed"),
        ("api", "request"),
        ("cleaner", "job expired"),
    ]
    assert all(json.loads(line.message)["request_id"] == wanted for line in found)
    with pytest.raises(d.DeployError, match="request_id"):
        d.gather_logs('x" OR "', groups, session=session, region=REGION)


def test_the_dry_run_plan_fills_every_template_parameter() -> None:
    config = d.DeployConfig(stage="plan", allowed_origins=("https://app.example.com",))
    plan = d.plan(config)
    template = d.load_template()
    assert set(plan.parameters) == set(template["Parameters"])
    assert plan.resources["AWS::Lambda::Function"] == 4
    assert plan.template_bytes < 51_200  # CloudFormation's inline TemplateBody limit
    text = "\n".join(plan.lines())
    assert "AllowedOrigins = https://app.example.com" in text
    with pytest.raises(d.DeployError, match="stage"):
        d.DeployConfig(stage="Bad-Stage")
    with pytest.raises(d.DeployError, match="allowed_origins"):
        d.DeployConfig(allowed_origins=("app.example.com/path",))


def test_cost_estimate_grows_with_traffic() -> None:
    from wavekit.analytics.costs import Workload, estimate_monthly_cost

    small = estimate_monthly_cost(Workload(100_000))
    big = estimate_monthly_cost(Workload(10_000_000))
    assert {line.item for line in small} >= {
        "Lambda requests",
        "Lambda compute",
        "API Gateway HTTP API",
        "S3 (files)",
        "DynamoDB on-demand",
        "Firehose -> Parquet",
        "Athena (hourly boards)",
    }
    by_item = {line.item: line.usd for line in big}
    assert by_item["API Gateway HTTP API"] == pytest.approx(10.0)  # $1 per million
    assert sum(x.usd for x in big) > sum(x.usd for x in small) > 0
    # Athena bills at least 10 MiB per query: 24 boards hourly for a month
    athena_small = {line.item: line.usd for line in small}["Athena (hourly boards)"]
    assert athena_small >= 720 * 24 * 10 / 1024**2 * 5 - 1e-9
    lines = d.cost_lines(1_000_000)
    assert lines[-1].lstrip().startswith("total")


def test_the_published_site_carries_both_pages_uncached(session: Any, tmp_path: Path) -> None:
    """Both pages carry the CSP naming the API: a browser must not keep an old copy."""
    config = d.DeployConfig(stage="web", max_duration_s=30)
    api = "https://abc.execute-api.us-east-1.amazonaws.com"
    out = d.build_web_site(tmp_path / "site", api, REGION, "wb", config)
    session.client("s3").create_bucket(Bucket="page")
    d.publish_site(session, "page", out, retry=NO_WAIT, echo=Echo())
    s3 = session.client("s3")
    for page in ("index.html", "leaderboards.html", "config.js"):
        assert s3.head_object(Bucket="page", Key=page)["CacheControl"] == "no-cache", page
    assert api in (out / "leaderboards.html").read_text()  # its CSP lets it call the API
