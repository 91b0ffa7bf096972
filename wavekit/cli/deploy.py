"""``wavekit deploy | status | outputs | destroy | logs``: the stack on AWS.

boto3 and the deploy machinery are imported inside the commands, so ``wavekit --help``
stays fast and works without the ``aws`` extra. A bad option exits 2; AWS errors (no
credentials, access denied, a failed stack) print one line and exit 1 (the rule of
:mod:`wavekit.cli.errors`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wavekit.cli.errors import EXIT_FAILURE

if TYPE_CHECKING:
    from wavekit.deploy import DeployConfig

StageOption = Annotated[str, typer.Option(help="Deployment name; the stack is wavekit-<stage>.")]
RegionOption = Annotated[
    str | None, typer.Option(help="AWS region (default: AWS_REGION or us-east-1).")
]


def _config(stage: str, region: str | None, **overrides: Any) -> DeployConfig:
    from wavekit.deploy import DeployConfig, default_region, with_overrides

    return with_overrides(DeployConfig(stage=stage, region=region or default_region()), **overrides)


def deploy_command(
    stage: StageOption = "dev",
    region: RegionOption = None,
    origin: Annotated[
        list[str] | None, typer.Option(help="Extra browser origin for CORS; repeat.")
    ] = None,
    max_duration: Annotated[
        float | None, typer.Option(help="Longest tone in seconds (default 60).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and the cost; touch nothing.")
    ] = False,
    requests_per_month: Annotated[
        int, typer.Option(help="API requests per month for the cost estimate.")
    ] = 1_000_000,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    build_dir: Annotated[Path, typer.Option(help="Bundles and page build.")] = Path("build/lambda"),
    page: Annotated[bool, typer.Option(help="Build and upload the web page.")] = True,
    sdk_pandas_layer: Annotated[
        str | None,
        typer.Option(
            metavar="ARN",
            help="AWS SDK for pandas layer (python3.12 arm64) of the region "
            "(default: the region's managed layer).",
        ),
    ] = None,
    alarm_email: Annotated[
        str | None,
        typer.Option(metavar="ADDRESS", help="Mail the CloudWatch alarms here (through SNS)."),
    ] = None,
    reserve_concurrency: Annotated[
        bool | None,
        typer.Option(
            "--reserve-concurrency/--no-reserve-concurrency",
            help="Reserve the functions' concurrency (default: only if the account's "
            "limits allow it, read at deploy time).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build the Lambda bundles, apply the CloudFormation stack, publish the page."""
    from wavekit import deploy as d

    config = _config(
        stage,
        region,
        allowed_origins=tuple(origin) if origin else None,
        max_duration_s=max_duration,
        sdk_pandas_layer_arn=sdk_pandas_layer,
        alarm_email=alarm_email,
        reserve_concurrency=reserve_concurrency,
    )
    if dry_run:
        for line in d.plan(config).lines():
            typer.echo(line)
        for line in d.cost_lines(requests_per_month):
            typer.echo(line)
        typer.echo("dry run: nothing was built or deployed")
        return

    def confirm(changes: list[Any]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            typer.echo("not applied: pass --yes to apply without a terminal")
            return False
        return typer.confirm("apply these changes?", default=False)

    result = d.deploy(config, build_dir=build_dir, publish_page=page, confirm=confirm,
                      echo=typer.echo)  # fmt: skip
    if result.status == "NOT_APPLIED":
        raise typer.Exit(EXIT_FAILURE)
    if result.outputs.get("ApiUrl"):
        typer.echo(f"API: {result.outputs['ApiUrl']}")


def status_command(region: RegionOption = None) -> None:
    """List this project's stacks (any stage)."""
    from wavekit import deploy as d

    stacks = d.project_stacks(region=region or d.default_region())
    if not stacks:
        typer.echo("no wavekit stacks")
    for stack in stacks:
        updated = f"{stack.updated:%Y-%m-%d %H:%M}" if stack.updated else "-"
        typer.echo(f"{stack.name:<24} {stack.stage:<12} {stack.status:<24} {updated}")


def outputs_command(
    stage: StageOption = "dev",
    region: RegionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the stack's outputs (API URL, bucket names, workgroup...)."""
    from wavekit import deploy as d
    from wavekit.backends.aws.clients import session as aws_session

    config = _config(stage, region)
    session = aws_session(None, config.region)
    outputs = d.stack_outputs(
        session.client("cloudformation", region_name=config.region), config.stack_name
    )
    if as_json:
        typer.echo(json.dumps(outputs, indent=2, sort_keys=True))
        return
    for key, value in sorted(outputs.items()):
        typer.echo(f"{key:<22} {value}")


def destroy_command(
    stage: StageOption = "dev",
    region: RegionOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Empty the stack's buckets and delete the stack (the artefact bucket stays)."""
    from wavekit import deploy as d

    config = _config(stage, region)
    if not yes and not typer.confirm(
        f"delete {config.stack_name} and every file in it?", default=False
    ):
        raise typer.Exit(EXIT_FAILURE)
    if not d.destroy(config, echo=typer.echo):
        raise typer.Exit(EXIT_FAILURE)


def logs_command(
    request_id: Annotated[str, typer.Argument(help="The request id (from POST /waves).")],
    stage: StageOption = "dev",
    region: RegionOption = None,
    since_hours: Annotated[float, typer.Option(help="How far back to look.")] = 72.0,
) -> None:
    """Gather one request's log lines from the API, worker and cleaner functions."""
    import datetime as dt

    from wavekit import deploy as d

    config = _config(stage, region)
    groups = d.stack_log_groups(config)
    lines = d.gather_logs(
        request_id, groups, region=config.region, since=dt.timedelta(hours=since_hours)
    )
    if not lines:
        typer.echo(f"no log lines mention {request_id} in the last {since_hours:g} h")
    for line in lines:
        typer.echo(str(line))


def register(app: typer.Typer) -> None:
    """Add ``deploy``, ``status``, ``outputs``, ``destroy`` and ``logs`` to the app."""
    app.command("deploy")(deploy_command)
    app.command("status")(status_command)
    app.command("outputs")(outputs_command)
    app.command("destroy")(destroy_command)
    app.command("logs")(logs_command)
