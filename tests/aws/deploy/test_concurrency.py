"""Reserved concurrency only where the account allows it (issue 13).

AWS refuses a reservation that leaves fewer than 100 unreserved executions; new
accounts often have 10 in all, so a template that always reserves fails its first
deploy. The deploy reads ``GetAccountSettings`` and fills the template's
``ReserveConcurrency`` parameter. moto does not implement ``GetAccountSettings`` (it
answers 404), so the tests answer that one call, validated against the service model
as botocore's Stubber would, from the reservations moto really holds; every other call
goes to moto.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.aws.deploy.test_deploy import run_deploy, small_bundle
from tests.aws.resources import REGION, new_session
from wavekit import deploy as d
from wavekit.deploy.limits import MIN_UNRESERVED_CONCURRENCY
from wavekit.errors import DeployConfigError

WANTED = d.DeployConfig().wanted_concurrency  # api 20, worker 10, cleaner 1, refresh 1
TOTAL = sum(WANTED.values())


def reservations(session: Any) -> dict[str, int | None]:
    """Reserved concurrency of every function moto holds, by handler module."""
    lam = session.client("lambda")
    found = {}
    for function in lam.list_functions()["Functions"]:
        held = lam.get_function_concurrency(FunctionName=function["FunctionName"])
        module = function["Handler"].split(".")[-2]
        found[module] = held.get("ReservedConcurrentExecutions")
    return found


def account_with_quota(session: Any, quota: int) -> list[dict[str, Any]]:
    """Answer ``GetAccountSettings`` as an account with ``quota`` concurrent executions
    whose reservations are the ones moto holds; return the answers given."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders
    from botocore.validate import validate_parameters

    answers: list[dict[str, Any]] = []

    def get_account_settings(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        reserved = sum(n or 0 for n in reservations(session).values())
        response = {
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800,
                "CodeSizeUnzipped": 262_144_000,
                "CodeSizeZipped": 52_428_800,
                "ConcurrentExecutions": quota,
                "UnreservedConcurrentExecutions": quota - reserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
        }
        validate_parameters(response, model.output_shape)
        answers.append(response)
        return AWSResponse("https://lambda", 200, HTTPHeaders(), None), {
            **response,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    session.events.register("before-call.lambda.GetAccountSettings", get_account_settings)
    return answers


@pytest.fixture
def session(aws_env: None) -> Any:
    return new_session()


@pytest.fixture
def deploy_kit(session: Any, tmp_path: Path) -> tuple[str, dict[str, d.Bundle]]:
    """A stand-in pandas layer (moto checks layers exist) and two tiny bundles."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("python/awswrangler/__init__.py", "")
    layer = session.client("lambda").publish_layer_version(
        LayerName="AWSSDKPandas-Python312-Arm64", Content={"ZipFile": content.getvalue()}
    )["LayerVersionArn"]
    bundles = {"api": small_bundle(tmp_path, "api"), "refresh": small_bundle(tmp_path, "refresh")}
    return str(layer), bundles


def test_a_new_account_with_10_executions_gets_no_reservation(
    session: Any, deploy_kit: tuple[str, dict[str, d.Bundle]]
) -> None:
    layer, bundles = deploy_kit
    answers = account_with_quota(session, 10)
    config = d.DeployConfig(stage="fresh", region=REGION, sdk_pandas_layer_arn=layer)
    result, echo = run_deploy(session, config, bundles)
    assert result.status == "CREATE_COMPLETE"
    assert len(answers) == 1
    assert reservations(session) == {"api": None, "worker": None, "cleaner": None, "refresh": None}
    assert "reserved concurrency: off; account limit 10" in echo.text
    stack = session.client("cloudformation").describe_stacks(StackName="wavekit-fresh")["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack[0]["Parameters"]}
    assert parameters["ReserveConcurrency"] == "false"


def test_an_account_with_1000_executions_gets_the_reservations(
    session: Any, deploy_kit: tuple[str, dict[str, d.Bundle]]
) -> None:
    layer, bundles = deploy_kit
    answers = account_with_quota(session, 1000)
    config = d.DeployConfig(stage="big", region=REGION, sdk_pandas_layer_arn=layer)
    result, echo = run_deploy(session, config, bundles)
    assert result.status == "CREATE_COMPLETE"
    assert reservations(session) == {"api": 20, "worker": 10, "cleaner": 1, "refresh": 1}
    assert f"reserved concurrency: {TOTAL} (api 20, worker 10, cleaner 1, refresh 1)" in echo.text
    # a redeploy counts the stack's own reservations as free to it: same decision, no-op
    again, echo = run_deploy(session, config, bundles)
    assert again.no_op
    assert answers[-1]["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000 - TOTAL
    assert f"{1000:,} free to this stack" in echo.text


def test_a_tight_account_keeps_its_decision_on_redeploy(
    session: Any, deploy_kit: tuple[str, dict[str, d.Bundle]]
) -> None:
    """132 = 100 + 32: reserving leaves exactly the minimum; afterwards only 100 are
    unreserved, and the redeploy must not read that as "no room" and drop them."""
    layer, bundles = deploy_kit
    account_with_quota(session, MIN_UNRESERVED_CONCURRENCY + TOTAL)
    config = d.DeployConfig(stage="tight", region=REGION, sdk_pandas_layer_arn=layer)
    assert run_deploy(session, config, bundles)[0].status == "CREATE_COMPLETE"
    assert reservations(session)["api"] == 20
    again, _ = run_deploy(session, config, bundles)
    assert again.no_op
    assert reservations(session)["api"] == 20


def test_the_decision_at_its_boundary() -> None:
    at_minimum = d.AccountConcurrency(limit=1000, unreserved=MIN_UNRESERVED_CONCURRENCY + TOTAL)
    assert d.decide_concurrency(WANTED, at_minimum).reserve
    one_short = d.AccountConcurrency(limit=1000, unreserved=MIN_UNRESERVED_CONCURRENCY + TOTAL - 1)
    assert not d.decide_concurrency(WANTED, one_short).reserve
    # what the stack holds already is free to its redeploy
    held = d.AccountConcurrency(
        limit=1000, unreserved=MIN_UNRESERVED_CONCURRENCY, held_by_stack=TOTAL
    )
    assert d.decide_concurrency(WANTED, held).reserve
    # unreadable limits: nothing reserved (always deploys); forced choices win
    assert not d.decide_concurrency(WANTED, None).reserve
    assert d.decide_concurrency(WANTED, None, forced=True).reserve
    assert not d.decide_concurrency(WANTED, at_minimum, forced=False).reserve
    with pytest.raises(DeployConfigError, match=r"^reserve_concurrency: AWS would refuse"):
        d.decide_concurrency(WANTED, d.AccountConcurrency(limit=10, unreserved=10), forced=True)


def test_unreadable_limits_deploy_without_reservations(
    session: Any, deploy_kit: tuple[str, dict[str, d.Bundle]]
) -> None:
    """moto itself answers GetAccountSettings with an error: the deploy goes on, off."""
    layer, bundles = deploy_kit
    config = d.DeployConfig(stage="blind", region=REGION, sdk_pandas_layer_arn=layer)
    result, echo = run_deploy(session, config, bundles)
    assert result.status == "CREATE_COMPLETE"
    assert "reserved concurrency: off (the account's limits could not be read)" in echo.text
    assert set(reservations(session).values()) == {None}


def test_no_reservation_asked_makes_no_account_call(
    session: Any, deploy_kit: tuple[str, dict[str, d.Bundle]]
) -> None:
    layer, bundles = deploy_kit
    answers = account_with_quota(session, 1000)
    config = d.DeployConfig(
        stage="nores", region=REGION, sdk_pandas_layer_arn=layer, reserve_concurrency=False
    )
    result, echo = run_deploy(session, config, bundles)
    assert result.status == "CREATE_COMPLETE"
    assert answers == []
    assert set(reservations(session).values()) == {None}
    assert "reserved concurrency: off (reserve_concurrency=False)" in echo.text


def test_every_function_reserves_only_under_the_condition() -> None:
    template = d.load_template()
    assert template["Conditions"]["ReservesConcurrency"] == {
        "Fn::Equals": [{"Ref": "ReserveConcurrency"}, "true"]
    }
    expected = {
        "ApiFunction": {"Ref": "ApiConcurrency"},
        "WorkerFunction": {"Ref": "WorkerConcurrency"},
        "CleanerFunction": WANTED["cleaner"],
        "RefreshFunction": WANTED["refresh"],
    }
    for name, reserved in expected.items():
        value = template["Resources"][name]["Properties"]["ReservedConcurrentExecutions"]
        assert value == {"Fn::If": ["ReservesConcurrency", reserved, {"Ref": "AWS::NoValue"}]}


def test_the_dry_run_says_when_it_is_decided_and_calls_no_aws() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from wavekit.cli import app\n"
        "r = CliRunner().invoke(app, ['deploy', '--dry-run', '--stage', 'demo'])\n"
        "print(r.output)\n"
        "print('exit', r.exit_code)\n"
        "print('sdk', sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert "exit 0" in out
    assert "ReserveConcurrency = <decided at deploy time from the account's limits>" in out
    assert "reserved concurrency: decided at deploy time from the account's limits" in out
    assert "sdk []" in out
    forced = d.plan(d.DeployConfig(reserve_concurrency=True))
    assert forced.parameters["ReserveConcurrency"] == "true"
    assert any(line.startswith("reserved concurrency: 32") for line in forced.decisions)
