"""Change sets awaited with boto3's waiter (botocore's real waiter against a Stubber), and
AWS errors leaving the public entry points as DeployError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tests.aws.deploy.test_deploy import NO_WAIT, small_bundle
from tests.aws.resources import REGION, moto_compatible_template, new_session
from wavekit import deploy as d
from wavekit.deploy.stack import wait_for_change_set
from wavekit.errors import DeployError

ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/wavekit-1/abc"


def cloudformation() -> Any:
    return boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )


def change_set(status: str, **fields: Any) -> dict[str, Any]:
    return {"ChangeSetId": ARN, "StackName": "wavekit-x", "Status": status, **fields}


def test_the_change_set_is_awaited_until_computed_then_described() -> None:
    cfn = cloudformation()
    add = {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Add",
            "LogicalResourceId": "JobsQueue",
            "ResourceType": "AWS::SQS::Queue",
        },
    }
    with Stubber(cfn) as stub:
        expected = {"ChangeSetName": ARN}
        stub.add_response("describe_change_set", change_set("CREATE_PENDING"), expected)
        stub.add_response("describe_change_set", change_set("CREATE_IN_PROGRESS"))
        stub.add_response("describe_change_set", change_set("CREATE_COMPLETE"))
        stub.add_response("describe_change_set", change_set("CREATE_COMPLETE", Changes=[add]))
        described = wait_for_change_set(cfn, ARN, NO_WAIT, poll_s=0)
        stub.assert_no_pending_responses()
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["Changes"][0]["ResourceChange"]["LogicalResourceId"] == "JobsQueue"


def test_a_failed_change_set_comes_back_with_its_reason() -> None:
    cfn = cloudformation()
    reason = "The submitted information didn't contain changes."
    with Stubber(cfn) as stub:
        stub.add_response("describe_change_set", change_set("CREATE_IN_PROGRESS"))
        stub.add_response("describe_change_set", change_set("FAILED", StatusReason=reason))
        described = wait_for_change_set(cfn, ARN, NO_WAIT, poll_s=0)
        stub.assert_no_pending_responses()
    assert (described["Status"], described["StatusReason"]) == ("FAILED", reason)


def test_a_vanished_change_set_is_a_deploy_error() -> None:
    cfn = cloudformation()
    with Stubber(cfn) as stub:
        stub.add_client_error(
            "describe_change_set", "ValidationError", "ChangeSet [abc] does not exist"
        )
        with pytest.raises(DeployError, match="does not exist"):
            wait_for_change_set(cfn, ARN, NO_WAIT, poll_s=0)


def deny(model: Any, **_: Any) -> None:
    raise ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed here"}}, model.name
    )


def test_aws_errors_leave_the_entry_points_as_deploy_errors(aws_env: None, tmp_path: Path) -> None:
    session = new_session()
    session.events.register("before-call.cloudformation.*", deny)
    config = d.DeployConfig(stage="denied", region=REGION)
    with pytest.raises(DeployError, match=r"^AWS: .*AccessDenied.*not allowed here") as caught:
        d.project_stacks(session, REGION, NO_WAIT)
    assert isinstance(caught.value.__cause__, ClientError)
    with pytest.raises(DeployError, match="AccessDenied"):
        d.stack_log_groups(config, session)
    with pytest.raises(DeployError, match="AccessDenied"):
        d.destroy(config, session=session, retry=NO_WAIT, echo=lambda line: None, poll_s=0)
    bundles = {"api": small_bundle(tmp_path, "api"), "refresh": small_bundle(tmp_path, "refresh")}
    with pytest.raises(DeployError, match="AccessDenied"):
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


def test_our_own_errors_pass_through_untouched(aws_env: None) -> None:
    with pytest.raises(DeployError, match="wavekit-nope does not exist"):
        d.stack_log_groups(d.DeployConfig(stage="nope", region=REGION), new_session())
