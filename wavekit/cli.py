"""The ``wavekit`` command line (typer).

Exit codes: 0 success, 1 runtime failure, 2 bad input (the message names the field and
the limit). Our errors are printed as one line, never as a traceback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from wavekit import __version__
from wavekit.errors import WavekitError

app = typer.Typer(
    name="wavekit",
    help="Design, serve and analyse synthesised tones.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
PROGRESS_FROM_FRAMES = 1 << 21
"""Show a progress bar for tones longer than this many frames (~48 s at 44.1 kHz)."""

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def reports_errors(command: F) -> F:
    """Turn wavekit errors into one-line messages and exit codes.

    Bad input exits 2: our errors that are also ``ValueError`` (a field, a name, a
    parameter) or ``FileNotFoundError`` (a missing lake). Other failures exit 1.
    """

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except WavekitError as exc:
            bad_input = isinstance(exc, ValueError | FileNotFoundError)
            raise _fail(str(exc), EXIT_BAD_INPUT if bad_input else EXIT_FAILURE) from None
        except OSError as exc:
            raise _fail(str(exc), EXIT_FAILURE) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wavekit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Design, serve and analyse synthesised tones."""


def _describe_bits(bits: int | str) -> str:
    return "32-bit float" if bits == "float32" else f"{bits}-bit"


@app.command()
@reports_errors
def synth(
    freq: Annotated[
        list[str],
        typer.Option("--freq", "-f", help="Hz, note name (A4, C#5+15c) or midi:69; repeat."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output .wav or .flac.")],
    duration: Annotated[float, typer.Option(help="Seconds.")] = 1.0,
    rate: Annotated[int, typer.Option(help="Sample rate in Hz.")] = 44_100,
    bits: Annotated[str, typer.Option(help="8, 16, 24, 32 or float32.")] = "16",
    channels: Annotated[int, typer.Option(help="Number of channels.")] = 1,
    volume: Annotated[str, typer.Option(help="Peak, 0..1 or dBFS such as -20dB.")] = "0.5",
    fade_in: Annotated[float, typer.Option(help="Fade-in seconds.")] = 0.005,
    fade_out: Annotated[float, typer.Option(help="Fade-out seconds.")] = 0.005,
    dither: Annotated[bool, typer.Option(help="TPDF dither for 8/16-bit.")] = False,
) -> None:
    """Synthesise a tone to a WAV (or FLAC) file."""
    from wavekit import ToneSpec
    from wavekit.audio import wavfile
    from wavekit.audio.wavfile import Container

    spec = ToneSpec(
        frequencies=[number_or_text(f) for f in freq],
        duration=duration,
        sample_rate=rate,
        bits_per_sample=bits,
        number_of_channels=channels,
        volume=number_or_text(volume),
        fade_in=fade_in,
        fade_out=fade_out,
        dither=dither,
    )
    container: Container = "flac" if output.suffix.lower() == ".flac" else "wav"
    started = time.perf_counter()
    path = wavfile.write(spec, output, container, progress=spec.frames > PROGRESS_FROM_FRAMES)
    elapsed = time.perf_counter() - started
    typer.echo(
        f"wrote {path}: {path.stat().st_size:,} bytes, {spec.duration:g} s, "
        f"{spec.sample_rate} Hz, {_describe_bits(spec.bits_per_sample)}, "
        f"{spec.number_of_channels} ch in {elapsed:.2f} s"
    )


def number_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


@app.command()
@reports_errors
def info(
    path: Annotated[Path, typer.Argument(help="Audio file to inspect.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    peaks: Annotated[int, typer.Option(help="How many strongest frequencies to list.")] = 5,
) -> None:
    """Print format, rate, depth, channels, duration, peak, strongest frequencies and the spec."""
    from wavekit.audio.measure import inspect_file, to_dbfs
    from wavekit.audio.wavfile import spec_json_from_comment

    if not path.is_file():
        raise _fail(f"{path}: no such file", EXIT_BAD_INPUT)
    found = inspect_file(path, peaks)
    spec_json = spec_json_from_comment(found.comment)
    spec = None if spec_json is None else json.loads(spec_json)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "path": found.path,
                    "format": found.format,
                    "subtype": found.subtype,
                    "sample_rate": found.sample_rate,
                    "channels": found.channels,
                    "frames": found.frames,
                    "duration": found.duration,
                    "peak": found.peak,
                    "peak_dbfs": to_dbfs(found.peak),
                    "strongest": [
                        {"freq": p.freq, "amplitude": p.amplitude} for p in found.strongest
                    ],
                    "spec": spec,
                },
                indent=2,
            )
        )
        return
    typer.echo(f"file:        {found.path}")
    typer.echo(f"format:      {found.format} {found.subtype}")
    typer.echo(f"sample rate: {found.sample_rate} Hz")
    typer.echo(f"channels:    {found.channels}")
    typer.echo(f"duration:    {found.duration:.6g} s ({found.frames} frames)")
    typer.echo(f"peak:        {found.peak:.4f} ({to_dbfs(found.peak):.2f} dBFS)")
    listed = ", ".join(f"{p.freq:.2f} Hz ({p.dbfs:.1f} dBFS)" for p in found.strongest)
    typer.echo(f"strongest:   {listed or 'none (silence)'}")
    typer.echo(f"spec:        {spec_json or 'none (not written by wavekit)'}")


@app.command()
@reports_errors
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


from wavekit.service.commands import register as _register_service  # noqa: E402

_register_service(app)

from wavekit.analytics.commands import register as _register_analytics  # noqa: E402

_register_analytics(app)

from wavekit.report_commands import register as _register_reports  # noqa: E402

_register_reports(app)

from wavekit.deploy_commands import register as _register_deploy  # noqa: E402

_register_deploy(app)

if __name__ == "__main__":  # pragma: no cover
    app()
