"""``wavekit synth`` and ``wavekit info``: write a tone to a file, and inspect one.

The sound comes either from options (``--freq`` with ``--wave``, ``--sweep``, ``--noise``)
or from a JSON tone spec (``--spec``), never from both, so no rule is needed for which
one wins. Format options (``--rate``, ``--bits`` ...) given explicitly override a spec
file's, so one spec can be rendered at several rates. Bad options raise
:class:`~wavekit.errors.InvalidSpecError` naming the option (``--sweep: ...``), so the
one error rule of :mod:`wavekit.cli.errors` prints one line and exits 2.

numpy and soundfile are imported inside the commands, so ``wavekit --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from wavekit.audio.spec import NOISE_COLORS, SWEEP_KINDS, WAVEFORMS, parse_frequency
from wavekit.cli.errors import EXIT_BAD_INPUT, fail
from wavekit.cli.values import number_or_text
from wavekit.errors import FieldProblem, InvalidSpecError

PROGRESS_FROM_FRAMES = 1 << 21
"""Show a progress bar for tones longer than this many frames (~48 s at 44.1 kHz)."""

FORMAT_FIELDS = {
    "duration": "duration",
    "rate": "sample_rate",
    "bits": "bits_per_sample",
    "channels": "number_of_channels",
    "volume": "volume",
    "fade_in": "fade_in",
    "fade_out": "fade_out",
    "dither": "dither",
}
"""Command-line parameter -> spec field, for the options that may override a spec file."""

SOUND_OPTIONS = {
    "freq": "--freq",
    "wave": "--wave",
    "sweep": "--sweep",
    "sweep_kind": "--sweep-kind",
    "noise": "--noise",
    "noise_amplitude": "--noise-amplitude",
}
"""Command-line parameter -> option name, for the options that describe the sound."""


def _bad(option: str, message: str) -> InvalidSpecError:
    """A bad option value, reported like a spec field: ``--sweep: <message>``, exit 2."""
    return InvalidSpecError([FieldProblem(option, message)])


def _choice(option: str, value: str, allowed: Sequence[str]) -> str:
    """``value`` (case-insensitive) if it is one of ``allowed``; else a one-line error."""
    chosen = value.strip().lower()
    if chosen not in allowed:
        raise _bad(option, f"{value!r} is not one of {', '.join(allowed)}")
    return chosen


def parse_sweep(text: str) -> tuple[float, float]:
    """Split ``"20:20000"``, ``"A2:A6"`` or ``"midi:40:midi:100"`` into (start, end) in Hz.

    A MIDI number holds a colon itself, so every colon is tried as the separator and
    exactly one split must give two frequencies.

    Raises
    ------
    InvalidSpecError
        Naming ``--sweep``, if no split (or more than one) gives two frequencies.
    """
    splits: list[tuple[float, float]] = []
    for at, char in enumerate(text):
        if char != ":":
            continue
        try:
            splits.append((parse_frequency(text[:at]), parse_frequency(text[at + 1 :])))
        except ValueError:
            continue
    if len(splits) != 1:
        raise _bad(
            "--sweep",
            f"{text!r} is not START:END with two frequencies in Hz, note names or "
            "midi:N (e.g. 20:20000, A2:A6)",
        )
    return splits[0]


def sound_fields(
    freq: Sequence[str],
    wave: str | None,
    sweeps: Sequence[str],
    sweep_kind: str | None,
    noise: str | None,
    noise_amplitude: float | None,
) -> dict[str, Any]:
    """The ``frequencies`` and ``noise`` spec fields described by the sound options.

    Partials come in the order ``--freq`` ... then ``--sweep`` ..., so a spec error such
    as ``frequencies[1].freq_end`` points at the second of them.
    """
    if not (freq or sweeps or noise):
        raise _bad("--freq", "give at least one --freq, --sweep or --noise (or a --spec file)")
    if wave is not None and not freq:
        raise _bad("--wave", "shapes the --freq partials; give --freq too (sweeps are sines)")
    if sweep_kind is not None and not sweeps:
        raise _bad("--sweep-kind", "needs --sweep START:END")
    if noise_amplitude is not None and noise is None:
        raise _bad("--noise-amplitude", "needs --noise white|pink|brown")
    waveform = None if wave is None else _choice("--wave", wave, WAVEFORMS)
    kind = "log" if sweep_kind is None else _choice("--sweep-kind", sweep_kind, SWEEP_KINDS)
    partials: list[Any] = [
        number_or_text(f) if waveform is None else {"freq": number_or_text(f), "waveform": waveform}
        for f in freq
    ]
    for text in sweeps:
        start, end = parse_sweep(text)
        partials.append({"freq": start, "freq_end": end, "sweep": kind})
    fields: dict[str, Any] = {"frequencies": partials}
    if noise is not None:
        fields["noise"] = {"color": _choice("--noise", noise, NOISE_COLORS)}
        if noise_amplitude is not None:
            fields["noise"]["amplitude"] = noise_amplitude
    return fields


def load_spec(source: str) -> dict[str, Any]:
    """The JSON object of ``--spec``: a file, ``-`` for stdin, or inline JSON text."""
    if source == "-":
        text = sys.stdin.read()
    elif source.lstrip()[:1] in {"{", "["}:  # inline JSON (an object, or a mistake to name)
        text = source
    else:
        path = Path(source)
        if not path.is_file():
            raise fail(f"--spec: {path}: no such file", EXIT_BAD_INPUT)
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad("--spec", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _bad("--spec", f"must be a JSON object (a tone spec), got {type(data).__name__}")
    return data


def _typed(ctx: typer.Context, name: str) -> bool:
    """Whether parameter ``name`` was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _describe_bits(bits: int | str) -> str:
    return "32-bit float" if bits == "float32" else f"{bits}-bit"


def _hz(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def describe_sound(spec: Mapping[str, Any]) -> str:
    """One line for a stored spec's sound: ``440 Hz square, 20→20000 Hz log sweep, pink noise``.

    Read from the JSON rather than a parsed :class:`~wavekit.ToneSpec`, so a file written
    by a newer wavekit (with fields this one does not know) can still be described.
    """
    parts: list[str] = []
    for partial in spec.get("frequencies") or ():
        if not isinstance(partial, Mapping):
            parts.append(f"{_hz(partial)} Hz sine")
            continue
        freq, freq_end = partial.get("freq"), partial.get("freq_end")
        if freq_end is not None:
            text = f"{_hz(freq)}→{_hz(freq_end)} Hz {partial.get('sweep') or 'log'} sweep"
        else:
            text = f"{_hz(freq)} Hz {partial.get('waveform') or 'sine'}"
        if partial.get("channel") is not None:
            text += f" (channel {partial['channel']})"
        parts.append(text)
    noise = spec.get("noise")
    if isinstance(noise, Mapping):
        parts.append(f"{noise.get('color')} noise (amplitude {_hz(noise.get('amplitude', 1.0))})")
    return ", ".join(parts) or "silence"


def synth(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output .wav or .flac.")],
    freq: Annotated[
        list[str] | None,
        typer.Option(
            "--freq",
            "-f",
            help="Hz, note name (A4, C#5+15c) or midi:69; repeat. Optional with --sweep/--noise.",
        ),
    ] = None,
    wave: Annotated[
        str | None,
        typer.Option(help="Waveform of every --freq: sine (default), square, triangle, sawtooth."),
    ] = None,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            help="Sine sweep over the whole tone, START:END (20:20000, A2:A6); repeat.",
        ),
    ] = None,
    sweep_kind: Annotated[
        str | None, typer.Option(help="Sweep law: log (exponential, default) or linear.")
    ] = None,
    noise: Annotated[str | None, typer.Option(help="Mix in noise: white, pink or brown.")] = None,
    noise_amplitude: Annotated[
        float | None,
        typer.Option(
            help="Noise level relative to a sine partial of amplitude 1 (0..1, default 1)."
        ),
    ] = None,
    spec_source: Annotated[
        str | None,
        typer.Option(
            "--spec",
            help="JSON tone spec: a file, - for stdin, or inline {...}. Instead of the sound "
            "options; format options given explicitly override it.",
        ),
    ] = None,
    duration: Annotated[float, typer.Option(help="Seconds.")] = 1.0,
    rate: Annotated[int, typer.Option(help="Sample rate in Hz.")] = 44_100,
    bits: Annotated[str, typer.Option(help="8, 16, 24, 32 or float32.")] = "16",
    channels: Annotated[int, typer.Option(help="Number of channels.")] = 1,
    volume: Annotated[str, typer.Option(help="Peak, 0..1 or dBFS such as -20dB.")] = "0.5",
    fade_in: Annotated[float, typer.Option(help="Fade-in seconds.")] = 0.005,
    fade_out: Annotated[float, typer.Option(help="Fade-out seconds.")] = 0.005,
    dither: Annotated[bool, typer.Option(help="TPDF dither for 8/16-bit.")] = False,
) -> None:
    """Synthesise a tone (sines, band-limited waves, sweeps, noise) to a WAV or FLAC file."""
    from wavekit import ToneSpec
    from wavekit.audio import wavfile
    from wavekit.audio.wavfile import Container

    given = {
        "duration": duration,
        "rate": rate,
        "bits": bits,
        "channels": channels,
        "volume": number_or_text(volume),
        "fade_in": fade_in,
        "fade_out": fade_out,
        "dither": dither,
    }
    if spec_source is None:
        sound = sound_fields(freq or [], wave, sweep or [], sweep_kind, noise, noise_amplitude)
        spec = ToneSpec(**sound, **{FORMAT_FIELDS[name]: value for name, value in given.items()})
    else:
        sound_given = [option for name, option in SOUND_OPTIONS.items() if _typed(ctx, name)]
        if sound_given:
            raise _bad(
                "--spec",
                f"the spec gives the sound; leave out {', '.join(sound_given)} "
                "(format options such as --rate may override it)",
            )
        overrides = {
            FORMAT_FIELDS[name]: value for name, value in given.items() if _typed(ctx, name)
        }
        spec = ToneSpec.parse({**load_spec(spec_source), **overrides})
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
    sound = describe_sound(spec) if isinstance(spec, Mapping) else None
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
                    "sound": sound,
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
    typer.echo(f"sound:       {sound or 'unknown (not written by wavekit)'}")
    typer.echo(f"spec:        {spec_json or 'none (not written by wavekit)'}")


def register(app: typer.Typer) -> None:
    """Add ``synth`` and ``info`` to the ``wavekit`` app."""
    app.command()(synth)
    app.command()(info)
