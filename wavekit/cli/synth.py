"""``wavekit synth`` and ``wavekit info``: write a tone to a file, and inspect one.

numpy and soundfile are imported inside the commands, so ``wavekit --help`` stays fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from wavekit.cli.errors import EXIT_BAD_INPUT, fail
from wavekit.cli.values import number_or_text

PROGRESS_FROM_FRAMES = 1 << 21
"""Show a progress bar for tones longer than this many frames (~48 s at 44.1 kHz)."""


def _describe_bits(bits: int | str) -> str:
    return "32-bit float" if bits == "float32" else f"{bits}-bit"


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


def info(
    path: Annotated[Path, typer.Argument(help="Audio file to inspect.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    peaks: Annotated[int, typer.Option(help="How many strongest frequencies to list.")] = 5,
) -> None:
    """Print format, rate, depth, channels, duration, peak, strongest frequencies and the spec."""
    from wavekit.audio.measure import inspect_file, to_dbfs
    from wavekit.audio.wavfile import spec_json_from_comment

    if not path.is_file():
        raise fail(f"{path}: no such file", EXIT_BAD_INPUT)
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


def register(app: typer.Typer) -> None:
    """Add ``synth`` and ``info`` to the ``wavekit`` app."""
    app.command()(synth)
    app.command()(info)
