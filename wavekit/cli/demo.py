"""``wavekit demo``: the main job on one machine (the story itself is :mod:`wavekit.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    out: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path("out"),
    small: Annotated[
        bool, typer.Option(help="A quick run (CI): less traffic and history.")
    ] = False,
) -> None:
    """Run the main job: service, traffic, history, leaderboards, usage report."""
    from wavekit.demo import run_demo

    result = (
        run_demo(out, requests=60, history_events=20_000, history_days=60)
        if small
        else run_demo(out)
    )
    typer.echo("")
    typer.echo(f"report:  {result.report}")
    typer.echo(f"index:   {result.index}")
    typer.echo(f"service: {result.service_url} (stopped; run `wavekit serve` to start it again)")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``wavekit`` app."""
    app.command()(demo)
