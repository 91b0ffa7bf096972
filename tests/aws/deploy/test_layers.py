"""The AWS SDK for pandas layer per region, with an override (issue 13).

Before: one account and one version for every region, no override, so the refresh
function could not be created where AWS publishes the layer from another account (the
opt-in regions, the China partition) or not at all.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wavekit import deploy as d
from wavekit.cli import app
from wavekit.deploy.config import LAYER_ARN_RE, SDK_PANDAS_LAYER_NAME
from wavekit.errors import DeployConfigError

runner = CliRunner()


@pytest.mark.parametrize(
    ("region", "account_and_version"),
    [
        # values from aws-sdk-pandas' layers.rst, release 3.17.0 (cited in config.py)
        ("us-east-1", "aws:lambda:us-east-1:336392948345:layer:{}:29"),
        ("af-south-1", "aws:lambda:af-south-1:336392948345:layer:{}:28"),
        ("ap-east-1", "aws:lambda:ap-east-1:839552336658:layer:{}:26"),
        ("me-central-1", "aws:lambda:me-central-1:593833071574:layer:{}:26"),
        ("ca-west-1", "aws:lambda:ca-west-1:941713567376:layer:{}:3"),
        ("cn-north-1", "aws-cn:lambda:cn-north-1:406640652441:layer:{}:10"),
    ],
)
def test_each_region_gets_the_layer_published_there(region: str, account_and_version: str) -> None:
    arn = "arn:" + account_and_version.format("AWSSDKPandas-Python312-Arm64")
    config = d.DeployConfig(region=region)
    assert config.layer_arn == arn
    assert config.parameters("b", "a", "r")["SdkPandasLayerArn"] == arn


def test_every_layer_in_the_table_is_a_python312_arm64_layer_of_its_own_region() -> None:
    assert len(d.SDK_PANDAS_LAYERS) >= 30
    accounts = set()
    for region in d.SDK_PANDAS_LAYERS:
        arn = LAYER_ARN_RE.match(d.sdk_pandas_layer(region))
        assert arn is not None, region
        assert arn["region"] == region
        assert arn["partition"] == ("aws-cn" if region.startswith("cn-") else "aws")
        assert d.sdk_pandas_layer(region).split(":")[-2] == SDK_PANDAS_LAYER_NAME
        accounts.add(arn["account"])
    assert "336392948345" in accounts
    assert len(accounts) > 1  # not one account everywhere


@pytest.mark.parametrize("region", ["me-south-1", "us-gov-west-1", "ap-southeast-5"])
def test_a_region_without_a_known_layer_is_refused_unless_overridden(region: str) -> None:
    config = d.DeployConfig(region=region)  # commands without a layer still work there
    with pytest.raises(DeployConfigError, match=r"^sdk_pandas_layer_arn: .*--sdk-pandas-layer"):
        config.parameters("b", "a", "r")
    with pytest.raises(DeployConfigError, match=r"^sdk_pandas_layer_arn: "):
        d.plan(config)
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    own = f"arn:{partition}:lambda:{region}:123456789012:layer:my-pandas:4"
    overridden = d.DeployConfig(region=region, sdk_pandas_layer_arn=own)
    assert overridden.parameters("b", "a", "r")["SdkPandasLayerArn"] == own


def test_an_override_must_be_a_layer_of_the_stacks_region() -> None:
    with pytest.raises(DeployConfigError, match=r"^sdk_pandas_layer_arn: .*not a layer version"):
        d.DeployConfig(sdk_pandas_layer_arn="AWSSDKPandas-Python312-Arm64")
    elsewhere = "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312-Arm64:29"
    with pytest.raises(
        DeployConfigError, match=r"^sdk_pandas_layer_arn: the layer is in eu-west-1"
    ):
        d.DeployConfig(region="us-east-1", sdk_pandas_layer_arn=elsewhere)
    assert d.DeployConfig(region="eu-west-1", sdk_pandas_layer_arn=elsewhere).layer_arn == elsewhere


def test_the_cli_option_overrides_the_layer_and_the_plan_says_so() -> None:
    own = "arn:aws:lambda:me-south-1:123456789012:layer:my-pandas:4"
    refused = runner.invoke(app, ["deploy", "--dry-run", "--region", "me-south-1"])
    assert refused.exit_code == 2
    assert "sdk_pandas_layer_arn" in refused.output
    result = runner.invoke(
        app, ["deploy", "--dry-run", "--region", "me-south-1", "--sdk-pandas-layer", own]
    )
    assert result.exit_code == 0, result.output
    assert f"SdkPandasLayerArn = {own}" in result.output
    assert f"AWS SDK for pandas layer: {own} (given)" in result.output
    default = runner.invoke(app, ["deploy", "--dry-run", "--region", "eu-west-1"])
    assert "release 3.17.0's table; --sdk-pandas-layer overrides" in default.output
