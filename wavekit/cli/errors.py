"""The one rule that turns an exception into an exit code and one line on stderr.

Every ``wavekit`` command runs under :func:`exit_codes` (the app's group class,
:class:`ExitCodeGroup`, wraps each invocation), so no command carries its own mapping:

- **2, bad input**: our errors that are also ``ValueError`` (a field, a name, a
  parameter, a deploy option: :class:`~wavekit.errors.DeployConfigError`) or
  ``FileNotFoundError`` (a missing lake);
- **1, failure**: any other :class:`~wavekit.errors.WavekitError`, an ``OSError``, or an
  AWS SDK error (printed as ``error: AWS: ...``);
- anything else is a bug and keeps its traceback.

AWS errors are recognised by the module their class comes from, so neither botocore nor
boto3 is imported for the check (``wavekit --help`` and the dry run stay SDK-free).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from wavekit.backends.aws.clients import is_aws_error
from wavekit.errors import WavekitError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def fail(message: str, code: int) -> typer.Exit:
    """Print ``error: <message>`` on stderr; return the :class:`typer.Exit` to raise."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def classify(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit code for ``exc``, or ``None`` when it is not ours to report."""
    if isinstance(exc, WavekitError):
        bad_input = isinstance(exc, ValueError | FileNotFoundError)
        return str(exc), EXIT_BAD_INPUT if bad_input else EXIT_FAILURE
    if is_aws_error(exc):
        return f"AWS: {exc}", EXIT_FAILURE
    if isinstance(exc, OSError):
        return str(exc), EXIT_FAILURE
    return None


@contextmanager
def exit_codes() -> Iterator[None]:
    """Run a command body; report our errors as one line and the exit code of the rule."""
    try:
        yield
    except Exception as exc:
        reported = classify(exc)
        if reported is None:
            raise
        message, code = reported
        raise fail(message, code) from None


class ExitCodeGroup(TyperGroup):
    """A typer group whose every subcommand runs under :func:`exit_codes`."""

    def invoke(self, ctx: Any) -> Any:  # ctx: typer's (vendored) click Context
        with exit_codes():
            return super().invoke(ctx)
