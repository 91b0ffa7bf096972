"""A stack that operates itself (issue 13): alarms on the dead-letter queue and on every
function's errors and throttles, mailed through SNS with ``--alarm-email``; the jobs
table and the admin secret survive a stack delete or replacement; every bucket refuses
plain HTTP; the cleaner may read the queue's depth.

moto's CloudFormation does not model CloudWatch alarms, bucket policies or secrets, so
those are checked in the template (cfn-lint and checkov check it too); the SNS topic,
its subscription and the retained table are checked on a stack deployed to moto.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.aws.deploy.test_deploy import NO_WAIT, Echo, run_deploy, small_bundle
from tests.aws.resources import REGION, new_session
from wavekit import deploy as d
from wavekit.cli import app
from wavekit.errors import DeployConfigError

MAIL_IF_ASKED = {"Fn::If": ["MailsAlarms", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return d.load_template()


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template["Resources"].items() if r["Type"] == kind}


def fires_on_any(alarm: dict[str, Any]) -> bool:
    p = alarm["Properties"]
    return (
        p["Threshold"] == 0
        and p["ComparisonOperator"] == "GreaterThanThreshold"
        and p["EvaluationPeriods"] == 1
        and p["TreatMissingData"] == "notBreaching"
        and p["AlarmActions"] == MAIL_IF_ASKED
    )


def test_the_dead_letter_queue_depth_has_an_alarm(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    on_dlq = [
        a
        for a in alarms.values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
        and a["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobsDeadLetterQueue", "QueueName"]}}]
    ]
    (alarm,) = on_dlq
    assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Properties"]["Statistic"] == "Maximum"
    assert fires_on_any(alarm)


def test_every_function_has_error_and_throttle_alarms(template: dict[str, Any]) -> None:
    functions = of_type(template, "AWS::Lambda::Function")
    assert len(functions) == 4
    watched: dict[str, set[str]] = {name: set() for name in functions}
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        p = alarm["Properties"]
        if p["Namespace"] != "AWS/Lambda":
            continue
        (dimension,) = p["Dimensions"]
        assert dimension["Name"] == "FunctionName"
        watched[dimension["Value"]["Ref"]].add(p["MetricName"])
        assert p["Statistic"] == "Sum"
        assert fires_on_any(alarm)
    assert watched == {name: {"Errors", "Throttles"} for name in functions}


def test_alarm_mail_is_optional_through_one_topic(template: dict[str, Any]) -> None:
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Condition"] == "MailsAlarms"
    assert topic["Properties"]["Subscription"] == [
        {"Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    ]
    assert template["Conditions"]["MailsAlarms"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert d.DeployConfig().parameters("b", "a", "r")["AlarmEmail"] == ""
    mailed = d.DeployConfig(alarm_email="ops@example.com").parameters("b", "a", "r")
    assert mailed["AlarmEmail"] == "ops@example.com"


@pytest.mark.parametrize(
    ("address", "valid"),
    [("ops@example.com", True), ("a.b+wavekit@mail.example.org", True),
     ("ops", False), ("ops@example", False), ("two@@example.com", False),
     ("ops @example.com", False)],
)  # fmt: skip
def test_the_address_is_checked_before_aws_as_the_template_checks_it(
    template: dict[str, Any], address: str, valid: bool
) -> None:
    pattern = re.compile(template["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert bool(pattern.match(address)) is valid
    assert pattern.match("")  # no address: no topic
    if valid:
        assert d.DeployConfig(alarm_email=address).alarm_email == address
    else:
        with pytest.raises(DeployConfigError, match=r"^alarm_email: "):
            d.DeployConfig(alarm_email=address)


def test_the_jobs_table_and_the_admin_secret_are_retained(template: dict[str, Any]) -> None:
    retained = {
        name
        for name, r in template["Resources"].items()
        if r.get("DeletionPolicy") == "Retain" and r.get("UpdateReplacePolicy") == "Retain"
    }
    assert retained == {"JobsTable", "AdminTokenSecret"}


def test_every_bucket_refuses_plain_http(template: dict[str, Any]) -> None:
    buckets = of_type(template, "AWS::S3::Bucket")
    assert "ResultsBucket" in buckets  # Athena's results, which had no policy
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in of_type(template, "AWS::S3::BucketPolicy").values()
    }
    assert set(policies) == set(buckets)
    for bucket, statements in policies.items():
        deny = [s for s in statements if s.get("Sid") == "DenyInsecureTransport"]
        assert deny == [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [
                    {"Fn::GetAtt": [bucket, "Arn"]},
                    {"Fn::Sub": "${" + bucket + ".Arn}/*"},
                ],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ], bucket


def test_the_cleaner_may_read_the_queue_depth(template: dict[str, Any]) -> None:
    """The cleaner reads the job queue's attributes (its depth, its redrive policy); its
    role lacked sqs:GetQueueAttributes (AccessDenied every 15 minutes). Every call of
    every handler is checked against its role in tests/aws/handlers/test_iam.py."""
    statements = template["Resources"]["CleanerRole"]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    on_queue = [s for s in statements if s["Resource"] == {"Fn::GetAtt": ["JobsQueue", "Arn"]}]
    (statement,) = on_queue
    assert set(statement["Action"]) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}


def test_with_an_alarm_email_the_stack_subscribes_it(aws_env: None, tmp_path: Path) -> None:
    session = new_session()
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/awswrangler/__init__.py", "")
    layer = session.client("lambda").publish_layer_version(
        LayerName="pandas", Content={"ZipFile": content.getvalue()}
    )["LayerVersionArn"]
    bundles = {"api": small_bundle(tmp_path, "api"), "refresh": small_bundle(tmp_path, "refresh")}
    sns = session.client("sns")

    quiet = d.DeployConfig(stage="quiet", region=REGION, sdk_pandas_layer_arn=layer)
    assert run_deploy(session, quiet, bundles)[0].status == "CREATE_COMPLETE"
    assert sns.list_topics()["Topics"] == []

    loud = d.with_overrides(quiet, stage="loud", alarm_email="ops@example.com")
    result, echo = run_deploy(session, loud, bundles)
    assert result.status == "CREATE_COMPLETE"
    (topic,) = sns.list_topics()["Topics"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
    assert "mailed to ops@example.com through SNS" in echo.text

    # the jobs table outlives the stack, and destroy names it
    table = result.outputs["JobsTableName"]
    said = Echo()
    assert d.destroy(loud, session=session, retry=NO_WAIT, echo=said, poll_s=0)
    assert table in session.client("dynamodb").list_tables()["TableNames"]
    assert f"kept (DeletionPolicy: Retain): JobsTable {table}" in said.text


def test_the_cli_takes_an_alarm_email() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["deploy", "--dry-run", "--alarm-email", "ops@example.com"])
    assert result.exit_code == 0, result.output
    assert "AlarmEmail = ops@example.com" in result.output
    assert "1 x AWS::SNS::Topic (if MailsAlarms)" in result.output
    assert "9 x AWS::CloudWatch::Alarm" in result.output
    bad = runner.invoke(app, ["deploy", "--dry-run", "--alarm-email", "nobody"])
    assert bad.exit_code == 2
    assert "alarm_email" in bad.output
