from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import soundfile as sf
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
