"""``wavekit deploy | status | outputs | destroy | logs`` (registered on the main CLI).

boto3 and the deploy machinery are imported inside the commands, so ``wavekit --help``
stays fast and works without the ``aws`` extra. AWS errors (no credentials, access
denied, a failed stack) print one line and exit 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

StageOption = Annotated[str, typer.Option(help="Deployment name; the stack is wavekit-<stage>.")]
RegionOption = Annotated[
    str | None, typer.Option(help="AWS region (default: AWS_REGION or us-east-1).")
]


def _reports_aws_errors(command: F) -> F:
    """Our errors and botocore's → one line on stderr, exit 1 (bad input: 2)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from wavekit.errors import WavekitError

        try:
            return command(*args, **kwargs)
        except WavekitError as exc:
            from wavekit.errors import DeployError

            bad_input = isinstance(exc, DeployError) and str(exc).split(":")[0] in {
                "stage",
                "allowed_origins",
                "request_id",
            }
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(EXIT_BAD_INPUT if bad_input else EXIT_FAILURE) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("botocore", "boto3")):
                typer.secho(f"error: AWS: {exc}", err=True, fg=typer.colors.RED)
                raise typer.Exit(EXIT_FAILURE) from None
            raise

    return wrapper  # type: ignore[return-value]


def _config(stage: str, region: str | None, **overrides: Any) -> Any:
    from wavekit.deploy import DeployConfig, default_region, with_overrides

    return with_overrides(DeployConfig(stage=stage, region=region or default_region()), **overrides)


def register(app: typer.Typer) -> None:
    @app.command("deploy")
    @_reports_aws_errors
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
        build_dir: Annotated[Path, typer.Option(help="Bundles and page build.")] = Path(
            "build/lambda"
        ),
        page: Annotated[bool, typer.Option(help="Build and upload the web page.")] = True,
    ) -> None:
        """Build the Lambda bundles, apply the CloudFormation stack, publish the page."""
        from wavekit import deploy as d

        config = _config(
            stage,
            region,
            allowed_origins=tuple(origin) if origin else None,
            max_duration_s=max_duration,
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

    @app.command("status")
    @_reports_aws_errors
    def status_command(region: RegionOption = None) -> None:
        """List this project's stacks (any stage)."""
        from wavekit import deploy as d

        stacks = d.project_stacks(region=region or d.default_region())
        if not stacks:
            typer.echo("no wavekit stacks")
        for stack in stacks:
            updated = f"{stack.updated:%Y-%m-%d %H:%M}" if stack.updated else "-"
            typer.echo(f"{stack.name:<24} {stack.stage:<12} {stack.status:<24} {updated}")

    @app.command("outputs")
    @_reports_aws_errors
    def outputs_command(
        stage: StageOption = "dev",
        region: RegionOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Print the stack's outputs (API URL, bucket names, workgroup...)."""
        from wavekit import deploy as d

        config = _config(stage, region)
        session = d._session(None, config.region)
        outputs = d.stack_outputs(
            session.client("cloudformation", region_name=config.region), config.stack_name
        )
        if as_json:
            typer.echo(json.dumps(outputs, indent=2, sort_keys=True))
            return
        for key, value in sorted(outputs.items()):
            typer.echo(f"{key:<22} {value}")

    @app.command("destroy")
    @_reports_aws_errors
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

    @app.command("logs")
    @_reports_aws_errors
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
