"""The ``wavekit`` typer app: ``--version`` and the registration of each command group.

Exit codes: 0 success, 1 runtime failure, 2 bad input (the message names the field and
the limit), decided in one place, :mod:`wavekit.cli.errors`. The module is ``main``,
not ``app``, so that ``wavekit.cli.app`` means one thing: the app.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wavekit import __version__
from wavekit.cli import analytics, demo, deploy, reports, service, synth
from wavekit.cli.errors import ExitCodeGroup

app = typer.Typer(
    name="wavekit",
    help="Design, serve and analyse synthesised tones.",
    cls=ExitCodeGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wavekit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Design, serve and analyse synthesised tones."""


for group in (synth, demo, service, analytics, reports, deploy):
    group.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
