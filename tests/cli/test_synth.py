from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from scipy import signal
from typer.testing import CliRunner

from wavekit import read_spec
from wavekit.cli import app

runner = CliRunner()


def test_synth_writes_the_requested_file(tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    result = runner.invoke(
        app,
        [
            "synth", "--freq", "440", "--freq", "445", "--duration", "2", "--rate", "48000",
            "--bits", "24", "--channels", "2", "--volume", "0.8", "-o", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert f"{out.stat().st_size:,} bytes" in result.output
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        48000,
        2,
        "PCM_24",
        96000,
    )
    spec = read_spec(out)
    assert spec is not None
    assert [p.freq for p in spec.frequencies] == [440.0, 445.0]


def test_synth_accepts_notes_float_and_db(tmp_path: Path) -> None:
    out = tmp_path / "notes.flac"
    result = runner.invoke(
        app, ["synth", "-f", "A4+15c", "-f", "midi:60", "--bits", "16", "--volume", "-20dB",
              "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sf.info(str(out)).format == "FLAC"
    spec = read_spec(out)
    assert spec is not None
    assert spec.volume == 0.1


def test_bad_input_exits_2_naming_the_field(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "-f", "30000", "-o", str(tmp_path / "x.wav")])
    assert result.exit_code == 2
    assert "frequencies[0].freq" in result.output
    assert "Nyquist frequency 22050" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.wav").exists()

    result = runner.invoke(
        app, ["synth", "-f", "440", "--bits", "12", "-o", str(tmp_path / "x.wav")]
    )
    assert result.exit_code == 2
    assert "bits_per_sample" in result.output


def test_info_prints_format_peak_frequencies_and_spec(tmp_path: Path) -> None:
    out = tmp_path / "chord.wav"
    assert runner.invoke(app, ["synth", "-f", "A4", "-f", "E5", "--volume", "0.5",
                               "-o", str(out)]).exit_code == 0  # fmt: skip
    result = runner.invoke(app, ["info", str(out)])
    assert result.exit_code == 0, result.output
    assert "WAV PCM_16" in result.output
    assert "440.00 Hz" in result.output
    assert "659.26 Hz" in result.output
    assert "-6.02 dBFS" in result.output
    assert '"freq":440.0' in result.output

    as_json = json.loads(runner.invoke(app, ["info", str(out), "--json"]).output)
    assert as_json["frames"] == 44100
    assert as_json["spec"]["volume"] == 0.5
    assert round(as_json["strongest"][0]["freq"]) in (440, 659)


def test_info_on_missing_or_foreign_files(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["info", str(tmp_path / "nope.wav")])
    assert missing.exit_code == 2
    assert "no such file" in missing.output
    junk = tmp_path / "junk.wav"
    junk.write_text("hello")
    result = runner.invoke(app, ["info", str(junk)])
    assert result.exit_code == 2
    assert "not a readable audio file" in result.output


def test_installed_entry_point_gives_clean_errors(tmp_path: Path) -> None:
    exe = shutil.which("wavekit", path=str(Path(sys.executable).parent))
    assert exe is not None, "the wavekit console script is installed with the package"
    done = subprocess.run(
        [exe, "synth", "-f", "440", "--rate", "1000", "-o", str(tmp_path / "x.wav")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "sample_rate" in done.stderr
    assert "8000" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


# --- issue 14: waveforms, sweeps and noise from the command line -------------------------
# Every signal check below decodes the written file with soundfile and measures it with
# scipy.signal (Kaiser-windowed spectrum, Hilbert phase, Welch PSD), not with wavekit's
# own analysis helpers.

RATE = 44_100


def _synth(tmp_path: Path, name: str, *args: str, stdin: str | None = None) -> Path:
    out = tmp_path / name
    result = runner.invoke(app, ["synth", *args, "-o", str(out)], input=stdin)
    assert result.exit_code == 0, result.output
    return out


def _samples(path: Path) -> tuple[np.ndarray, int]:
    data, rate = sf.read(str(path), dtype="float64")
    return np.asarray(data), int(rate)


def _harmonic_levels_db(x: np.ndarray, rate: int, fundamental: float, count: int) -> np.ndarray:
    """Levels of harmonics 1..count relative to the fundamental, from a Kaiser spectrum."""
    window = signal.get_window(("kaiser", 20.0), x.size)
    spectrum = np.abs(np.fft.rfft(x * window))
    bin_hz = rate / x.size
    levels = []
    for n in range(1, count + 1):
        centre = round(n * fundamental / bin_hz)
        levels.append(spectrum[centre - 4 : centre + 5].max())
    return 20 * np.log10(np.maximum(np.array(levels), 1e-300) / levels[0])


THEORY = {
    "square": lambda n: 1 / n if n % 2 else 0.0,
    "sawtooth": lambda n: 1 / n,
    "triangle": lambda n: 1 / n**2 if n % 2 else 0.0,
}


@pytest.mark.parametrize("wave", ["square", "sawtooth", "triangle"])
def test_wave_gives_the_harmonics_of_theory(tmp_path: Path, wave: str) -> None:
    out = _synth(
        tmp_path,
        f"{wave}.wav",
        "-f",
        "1000",
        "--wave",
        wave,
        "--bits",
        "24",
        "--fade-in",
        "0",
        "--fade-out",
        "0",
    )
    x, rate = _samples(out)
    levels = _harmonic_levels_db(x, rate, 1000.0, 9)
    for n, level in enumerate(levels, start=1):
        ideal = THEORY[wave](n)
        if ideal:
            assert abs(level - 20 * np.log10(ideal)) < 0.3, (n, level)
        else:  # the missing (even) harmonics really are missing
            assert level < -90, (n, level)


def test_wave_applies_to_every_freq_and_matches_the_json_spec(tmp_path: Path) -> None:
    by_options = _synth(tmp_path, "opts.wav", "-f", "440", "-f", "A5", "--wave", "square")
    spec = read_spec(by_options)
    assert spec is not None
    assert [(p.freq, p.waveform) for p in spec.frequencies] == [
        (440.0, "square"),
        (880.0, "square"),
    ]
    as_json = json.dumps(
        {"frequencies": [{"freq": 440, "waveform": "square"}, {"freq": "A5", "waveform": "square"}]}
    )
    spec_file = tmp_path / "square.json"
    spec_file.write_text(as_json)
    by_json = _synth(tmp_path, "json.wav", "--spec", str(spec_file))
    assert by_json.read_bytes() == by_options.read_bytes()


@pytest.mark.parametrize(
    ("kind", "law"),
    [
        ("log", lambda t, f0, f1, length: f0 * (f1 / f0) ** (t / length)),
        ("linear", lambda t, f0, f1, length: f0 + (f1 - f0) * t / length),
    ],
)
def test_sweep_follows_its_law(tmp_path: Path, kind: str, law: Any) -> None:
    out = _synth(
        tmp_path,
        "sweep.wav",
        "--sweep",
        "100:10000",
        "--sweep-kind",
        kind,
        "--duration",
        "2",
        "--bits",
        "24",
    )
    x, rate = _samples(out)
    phase = np.unwrap(np.angle(signal.hilbert(x)))
    instantaneous = np.diff(phase) * rate / (2 * np.pi)
    measured = []
    for t in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75):
        at = int(t * rate)
        measured.append(float(np.median(instantaneous[at - 200 : at + 200])))
        ideal = law(t, 100.0, 10000.0, 2.0)
        assert abs(measured[-1] / ideal - 1) < 0.01, (t, measured[-1], ideal)
    assert all(np.diff(measured) > 0), "a sweep from 100 Hz to 10 kHz rises"


def test_sweep_takes_notes_and_midi_and_is_the_json_sweep(tmp_path: Path) -> None:
    notes = read_spec(_synth(tmp_path, "notes.wav", "--sweep", "A2:A6"))
    assert notes is not None
    (partial,) = notes.frequencies
    assert (partial.freq, partial.freq_end, partial.sweep) == (110.0, 1760.0, "log")
    midi = read_spec(_synth(tmp_path, "midi.wav", "--sweep", "midi:45:midi:93"))
    assert midi is not None
    assert (midi.frequencies[0].freq, midi.frequencies[0].freq_end) == (110.0, 1760.0)

    by_options = _synth(tmp_path, "opts.wav", "--sweep", "20:20000")
    spec_json = '{"frequencies": [{"freq": 20, "freq_end": 20000, "sweep": "log"}]}'
    by_stdin = _synth(tmp_path, "stdin.wav", "--spec", "-", stdin=spec_json)
    by_inline = _synth(tmp_path, "inline.wav", "--spec", spec_json)
    assert by_stdin.read_bytes() == by_options.read_bytes() == by_inline.read_bytes()


def _psd_slope_db_per_octave(x: np.ndarray, rate: int) -> float:
    freqs, psd = signal.welch(x, fs=rate, window=("kaiser", 8.0), nperseg=8192)
    band = (freqs >= 100) & (freqs <= 10_000)
    # average into third-octave bands so every octave weighs the same in the fit
    edges = 100 * 2 ** (np.arange(0, 20) / 3)
    centres, levels = [], []
    for low, high in itertools.pairwise(edges):
        inside = band & (freqs >= low) & (freqs < high)
        centres.append(np.log2(np.sqrt(low * high)))
        levels.append(10 * np.log10(psd[inside].mean()))
    return float(np.polyfit(centres, levels, 1)[0])


@pytest.mark.parametrize(("color", "slope"), [("white", 0.0), ("pink", -3.01), ("brown", -6.02)])
def test_noise_alone_has_the_slope_of_its_colour(tmp_path: Path, color: str, slope: float) -> None:
    out = _synth(tmp_path, f"{color}.wav", "--noise", color, "--duration", "8", "--bits", "24")
    x, rate = _samples(out)
    assert abs(_psd_slope_db_per_octave(x, rate) - slope) < 0.5
    spec = read_spec(out)
    assert spec is not None
    assert spec.noise is not None
    assert (spec.frequencies, spec.noise.color) == ((), color)


def test_noise_amplitude_sets_its_level_against_a_partial(tmp_path: Path) -> None:
    # noise of amplitude 0.1 has the power of a sine of amplitude 0.1: 20 dB under the tone
    out = _synth(
        tmp_path,
        "mix.wav",
        "-f",
        "1000",
        "--noise",
        "white",
        "--noise-amplitude",
        "0.1",
        "--duration",
        "4",
        "--bits",
        "24",
        "--fade-in",
        "0",
        "--fade-out",
        "0",
    )
    x, rate = _samples(out)
    freqs, psd = signal.welch(x, fs=rate, window=("kaiser", 20.0), nperseg=16384)
    tone = (freqs > 950) & (freqs < 1050)
    noise_density = np.median(psd[~tone])
    tone_power = (psd[tone] - noise_density).sum() * (freqs[1] - freqs[0])
    noise_power = noise_density * rate / 2
    assert abs(10 * np.log10(tone_power / noise_power) - 20.0) < 0.5


def test_json_noise_alone_and_format_options_override_the_file(tmp_path: Path) -> None:
    spec_file = tmp_path / "pink.json"
    spec_file.write_text(
        json.dumps(
            {"frequencies": [], "noise": {"color": "pink"}, "duration": 0.5, "sample_rate": 22050}
        )
    )
    out = _synth(tmp_path, "pink.wav", "--spec", str(spec_file), "--rate", "48000")
    info = sf.info(str(out))
    assert (info.samplerate, info.frames) == (48000, 24000)  # rate from the option, 0.5 s kept
    spec = read_spec(out)
    assert spec is not None
    assert spec.noise is not None
    assert (spec.noise.color, spec.noise.amplitude) == ("pink", 1.0)


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        ([], "error: --freq: give at least one --freq, --sweep or --noise"),
        (["--sweep", "20-20000"], "error: --sweep: '20-20000' is not START:END"),
        (["--sweep", "20:banana"], "error: --sweep: '20:banana' is not START:END"),
        (
            ["--sweep", "20:30000"],
            "error: frequencies[0].freq_end: 30000 Hz must be below the Nyquist frequency 22050 Hz",
        ),
        (
            ["-f", "440", "--sweep", "20:20000", "--rate", "8000"],
            "error: frequencies[1].freq_end: 20000 Hz must be below the Nyquist",
        ),
        (["-f", "440", "--wave", "sine-ish"], "error: --wave: 'sine-ish' is not one of"),
        (["--wave", "square", "--sweep", "20:200"], "error: --wave: "),
        (["--sweep", "20:200", "--sweep-kind", "cubic"], "error: --sweep-kind: 'cubic'"),
        (["-f", "440", "--sweep-kind", "linear"], "error: --sweep-kind: needs --sweep"),
        (["--noise", "blue"], "error: --noise: 'blue' is not one of white, pink, brown"),
        (["-f", "440", "--noise-amplitude", "0.2"], "error: --noise-amplitude: needs --noise"),
        (["--noise", "pink", "--noise-amplitude", "2"], "error: noise.amplitude: "),
        (
            ["--spec", '{"frequencies": []}', "-f", "440"],
            "error: --spec: the spec gives the sound; leave out --freq",
        ),
        (["--spec", "{not json"], "error: --spec: not valid JSON"),
        (["--spec", "[440]"], "error: --spec: must be a JSON object"),
        (["--spec", "missing.json"], "error: --spec: missing.json: no such file"),
        (
            ["--spec", '{"frequencies": [{"freq": 20, "freq_end": 30000, "sweep": "log"}]}'],
            "error: frequencies[0].freq_end: 30000 Hz must be below the Nyquist",
        ),
        (
            ["--spec", '{"frequencies": [{"freq": 440, "waveform": "pulse"}]}'],
            "error: frequencies[0].waveform: ",
        ),
        (
            ["--spec", '{"frequencies": []}'],
            "error: frequencies: must hold at least 1 partial unless noise is given",
        ),
    ],
)
def test_bad_sound_input_exits_2_with_one_line(
    tmp_path: Path, args: list[str], starts: str
) -> None:
    out = tmp_path / "x.wav"
    result = runner.invoke(app, ["synth", *args, "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith(starts), result.output
    assert result.output.strip().count("\n") == 0, result.output
    assert not out.exists()


def test_info_shows_waveform_sweep_and_noise(tmp_path: Path) -> None:
    out = _synth(
        tmp_path,
        "all.wav",
        "-f",
        "440",
        "--wave",
        "triangle",
        "--sweep",
        "20:20000",
        "--sweep-kind",
        "linear",
        "--noise",
        "brown",
        "--noise-amplitude",
        "0.25",
    )
    expected = "440 Hz triangle, 20→20000 Hz linear sweep, brown noise (amplitude 0.25)"
    result = runner.invoke(app, ["info", str(out)])
    assert result.exit_code == 0, result.output
    assert f"sound:       {expected}\n" in result.output
    as_json = json.loads(runner.invoke(app, ["info", str(out), "--json"]).output)
    assert as_json["sound"] == expected
    assert as_json["spec"]["frequencies"][0]["waveform"] == "triangle"
    assert as_json["spec"]["frequencies"][1]["sweep"] == "linear"
    assert as_json["spec"]["noise"] == {"amplitude": 0.25, "color": "brown"}

    plain = _synth(tmp_path, "plain.wav", "-f", "440")
    assert "sound:       440 Hz sine\n" in runner.invoke(app, ["info", str(plain)]).output
