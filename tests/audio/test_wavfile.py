from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from wavekit import AudioFormatError, ToneSpec, read_spec, render, to_bytes, write
from wavekit.audio import wavfile
from wavekit.audio.spec import BitDepth
from wavekit.audio.wavfile import WAV_DATA_LIMIT, Quantizer, sound_format

SUBTYPE = {8: "PCM_U8", 16: "PCM_16", 24: "PCM_24", 32: "PCM_32", "float32": "FLOAT"}
SOX_ENCODING = {
    8: "Unsigned Integer PCM",
    16: "Signed Integer PCM",
    24: "Signed Integer PCM",
    32: "Signed Integer PCM",
    "float32": "Floating Point PCM",
}
FULL_SCALE = {8: 127, 16: 32767, 24: 2**23 - 1, 32: 2**31 - 1}
FORMATS: list[tuple[BitDepth, int, int]] = [
    (8, 8_000, 1),
    (16, 44_100, 2),
    (24, 48_000, 2),
    (32, 96_000, 1),
    ("float32", 22_050, 3),
    (16, 192_000, 8),
]


@pytest.mark.parametrize(("bits", "rate", "channels"), FORMATS)
def test_soundfile_decodes_what_we_write(
    tmp_path: Path, bits: BitDepth, rate: int, channels: int
) -> None:
    spec = ToneSpec(
        frequencies=[440, 1000],
        duration=0.37,
        sample_rate=rate,
        bits_per_sample=bits,
        number_of_channels=channels,
        volume=0.9,
    )
    path = write(spec, tmp_path / "t.wav")
    info = sf.info(str(path))
    assert (info.format, info.subtype) == ("WAV", SUBTYPE[bits])
    assert (info.samplerate, info.channels) == (rate, channels)
    assert info.frames == round(0.37 * rate)
    expected = render(spec)
    if bits == "float32":
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
        np.testing.assert_array_equal(data, expected)
        return
    data, _ = sf.read(str(path), dtype="int32", always_2d=True)
    stored = data >> (32 - int(bits))  # soundfile left-aligns every depth in int32
    np.testing.assert_array_equal(stored, np.rint(expected * FULL_SCALE[bits]))
    assert np.abs(stored).max() == round(0.9 * FULL_SCALE[bits])


@pytest.mark.parametrize(("bits", "rate", "channels"), FORMATS)
def test_sox_decodes_what_we_write(
    sox: str, tmp_path: Path, bits: BitDepth, rate: int, channels: int
) -> None:
    spec = ToneSpec(
        frequencies=[440],
        duration=0.5,
        sample_rate=rate,
        bits_per_sample=bits,
        number_of_channels=channels,
        volume=0.5,
        fade_in=0,
        fade_out=0,
    )
    path = write(spec, tmp_path / "t.wav")
    header = subprocess.run([sox, "--i", str(path)], capture_output=True, text=True, check=True)
    assert re.search(rf"Channels\s*: {channels}\n", header.stdout)
    assert re.search(rf"Sample Rate\s*: {rate}\n", header.stdout)
    assert f"= {spec.frames} samples" in header.stdout
    assert SOX_ENCODING[bits] in header.stdout
    depth = 32 if bits == "float32" else bits
    assert f"{depth}-bit" in header.stdout
    stat = subprocess.run(
        [sox, str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    maximum = float(re.search(r"Maximum amplitude:\s*([-\d.]+)", stat).group(1))  # type: ignore[union-attr]
    assert maximum == pytest.approx(0.5, abs=0.01)


def test_bytes_and_streamed_file_are_identical(tmp_path: Path) -> None:
    spec = ToneSpec(
        frequencies=[{"freq": 440, "channel": 0}, {"freq": 445, "channel": 1}, 60],
        duration=1.1,
        number_of_channels=2,
        dither=True,
        volume=1.0,
    )
    streamed = write(spec, tmp_path / "s.wav", block_frames=4096 * 3)
    assert streamed.read_bytes() == to_bytes(spec)
    assert to_bytes(spec) == to_bytes(spec)


def test_float_files_are_reproducible_across_seconds() -> None:
    """libsndfile's PEAK chunk carries a timestamp; we turn it off for float WAVs."""
    spec = ToneSpec(frequencies=[440], duration=0.05, bits_per_sample="float32")
    first = to_bytes(spec)
    time.sleep(1.1)
    assert to_bytes(spec) == first
    assert b"PEAK" not in first
    assert sf.info(io.BytesIO(first)).subtype == "FLOAT"


def test_dither_is_seeded_by_the_spec() -> None:
    spec = ToneSpec(frequencies=[440], duration=0.2, dither=True)
    plain = sf.read(io.BytesIO(to_bytes(spec.with_changes(dither=False))), dtype="int16")[0]
    dithered = sf.read(io.BytesIO(to_bytes(spec)), dtype="int16")[0]
    other = sf.read(io.BytesIO(to_bytes(spec.with_changes(volume=0.5000001))), dtype="int16")[0]
    difference = dithered.astype(int) - plain
    assert set(np.unique(difference)) <= {-1, 0, 1}
    assert np.count_nonzero(difference) > len(plain) // 10
    assert not np.array_equal(dithered, other)


def test_tpdf_dither_is_triangular_and_unbiased() -> None:
    spec = ToneSpec(frequencies=[440], dither=True, bits_per_sample=16)
    quantize = Quantizer(spec)
    silence = np.zeros((200_000, 1), dtype=np.float32)
    noise = quantize(silence + np.float32(0.25 / 32767)).astype(float)[:, 0]
    assert set(np.unique(noise)) <= {-1.0, 0.0, 1.0}
    assert noise.mean() == pytest.approx(0.25, abs=0.01)  # dither keeps sub-LSB levels


def test_volume_one_with_dither_never_wraps() -> None:
    spec = ToneSpec(frequencies=[100, 200, 300], volume=1.0, dither=True, bits_per_sample=8)
    data, _ = sf.read(io.BytesIO(to_bytes(spec)), dtype="int16")
    assert data.max() <= 127 * 256
    assert data.min() >= -128 * 256
    assert np.abs(data).max() >= 126 * 256


def test_integer_peak_is_rounded_volume() -> None:
    for bits in (16, 24, 32):
        spec = ToneSpec(
            frequencies=[1000], duration=0.1, volume=0.75, bits_per_sample=bits, fade_in=0
        )
        data, _ = sf.read(io.BytesIO(to_bytes(spec)), dtype="int32")
        assert np.abs(data).max() >> (32 - bits) == round(0.75 * FULL_SCALE[bits])


def test_spec_travels_inside_the_file(tmp_path: Path) -> None:
    spec = ToneSpec(frequencies=["A4", "E5"], duration=0.05, number_of_channels=2)
    path = write(spec, tmp_path / "short.wav")
    assert read_spec(path) == spec
    assert sf.info(str(path)).extra_info.count("wavekit-spec:{") == 1  # readable by any tool


def test_largest_spec_still_travels_inside_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    spec = ToneSpec(
        frequencies=[
            {
                "freq": float(rng.uniform(20, 3000)),
                "amplitude": float(rng.random()),
                "phase": float(rng.uniform(-3, 3)),
                "channel": int(rng.integers(8)),
            }
            for _ in range(32)
        ],
        volume=float(rng.random()),
        duration=0.0123456789012345,
        number_of_channels=8,
        fade_in=0.001234567890123,
        fade_out=0.00123456789012345,
    )
    assert len(spec.canonical_json()) > 3000
    path = write(spec, tmp_path / "long_comment.wav")
    assert read_spec(path) == spec
    assert read_spec(io.BytesIO(to_bytes(spec))) == spec


def test_read_spec_of_a_foreign_file_is_none(tmp_path: Path) -> None:
    path = tmp_path / "foreign.wav"
    sf.write(str(path), np.zeros(100, dtype=np.int16), 8000)
    assert read_spec(path) is None
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    with pytest.raises(AudioFormatError, match="cannot read"):
        read_spec(tmp_path / "junk.wav")


def test_flac_round_trip(tmp_path: Path) -> None:
    spec = ToneSpec(frequencies=["A4"], duration=0.3, bits_per_sample=24, number_of_channels=2)
    path = write(spec, tmp_path / "t.flac", container="flac")
    assert sf.info(str(path)).format == "FLAC"
    data, _ = sf.read(str(path), always_2d=True)
    np.testing.assert_allclose(data, render(spec), atol=2.0**-23)
    assert read_spec(path) == spec


def test_flac_cannot_hold_float(tmp_path: Path) -> None:
    spec = ToneSpec(frequencies=[440], bits_per_sample="float32")
    with pytest.raises(AudioFormatError, match="bits_per_sample"):
        write(spec, tmp_path / "t.flac", container="flac")
    assert list(tmp_path.iterdir()) == []


def test_rf64_past_four_gibibytes() -> None:
    small = ToneSpec(frequencies=[440], duration=60)
    assert sound_format(small) == ("WAV", "PCM_16")
    seconds = (WAV_DATA_LIMIT + 1) / (192_000 * 8 * 4)
    huge = ToneSpec(
        frequencies=[440],
        duration=seconds + 0.01,
        sample_rate=192_000,
        number_of_channels=8,
        bits_per_sample=32,
    )
    assert sound_format(huge) == ("RF64", "PCM_32")


@pytest.mark.parametrize("bits", [16, 24])
def test_rf64_written_through_our_own_path(
    sox: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bits: BitDepth
) -> None:
    """``write`` switches to RF64 past the limit (lowered here: 4 GiB in a test is too
    slow); soundfile and SoX read back what it wrote, the spec still travels inside."""
    spec = ToneSpec(frequencies=[440], duration=0.2, bits_per_sample=bits, fade_in=0, fade_out=0)
    riff = write(spec, tmp_path / "riff.wav")
    assert riff.read_bytes()[:4] == b"RIFF"
    monkeypatch.setattr(wavfile, "WAV_DATA_LIMIT", wavfile.data_bytes(spec) - 1)
    path = write(spec, tmp_path / "rf64.wav")
    head = path.read_bytes()[:16]
    assert (head[:4], head[8:16]) == (b"RF64", b"WAVEds64")  # EBU Tech 3306 header
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.frames) == ("RF64", f"PCM_{bits}", spec.frames)
    audio, _ = sf.read(str(path))
    reference, _ = sf.read(str(riff))
    assert np.array_equal(audio, reference)
    assert read_spec(path) == spec
    header = subprocess.run([sox, "--i", str(path)], capture_output=True, text=True, check=True)
    assert f"= {spec.frames} samples" in header.stdout
    assert f"{bits}-bit" in header.stdout
    decoded = subprocess.run(
        [sox, str(path), "-t", "raw", "-e", "signed", "-b", "32", "-"],
        capture_output=True,
        check=True,
    ).stdout
    expected = subprocess.run(
        [sox, str(riff), "-t", "raw", "-e", "signed", "-b", "32", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert len(decoded) == 4 * spec.frames
    assert decoded == expected


def test_rf64_files_decode(tmp_path: Path) -> None:
    """libsndfile writes RF64 as we ask; the same decoder reads it back."""
    spec = ToneSpec(frequencies=[440], duration=0.1)
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", 44_100, 1, "PCM_16", format="RF64") as f:
        f.write(render(spec))
    buffer.seek(0)
    assert sf.info(buffer).format == "RF64"


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    spec = ToneSpec(frequencies=[440])
    with pytest.raises(AudioFormatError, match="container"):
        write(spec, tmp_path / "t.ogg", container="ogg")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


class _DiskFullAfter(io.FileIO):
    """A file that fails like a full disk once ``room`` bytes are written."""

    room = 60_000

    def write(self, data: object) -> int:
        if self.tell() + len(memoryview(data)) > self.room:  # type: ignore[arg-type]
            raise OSError(28, "No space left on device")
        return super().write(data)  # type: ignore[arg-type]


# soundfile's I/O callbacks print the OSError and report a short write to libsndfile
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("bits", [16, 24, "float32"])  # stored verbatim, converted, verbatim
def test_a_full_disk_is_an_error_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bits: BitDepth
) -> None:
    def disk_full_open(path: Path, mode: str, buffering: int = -1) -> io.BufferedWriter:
        return io.BufferedWriter(_DiskFullAfter(path, mode), buffer_size=8192)

    monkeypatch.setattr(wavfile, "open", disk_full_open, raising=False)
    spec = ToneSpec(frequencies=[], noise="pink", duration=2, bits_per_sample=bits)
    with pytest.raises(OSError, match=r"disk full|No space left"):
        write(spec, tmp_path / "t.wav")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("bits", [16, 24])
def test_written_files_honour_the_umask(
    tmp_path: Path, umask: int, mode: int, bits: BitDepth
) -> None:
    spec = ToneSpec(frequencies=[440], duration=0.05, bits_per_sample=bits)
    previous = os.umask(umask)
    try:
        path = write(spec, tmp_path / "t.wav")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["t.wav"]  # no temporary left over


@pytest.mark.parametrize(
    "fields",
    [
        {"frequencies": [440, 445], "number_of_channels": 2},
        {"frequencies": [{"freq": 440, "waveform": "square"}, 660], "fade_in": 0.3, "fade_out": 0},
        {
            "frequencies": [{"freq": 100, "channel": 0}, {"freq": 150.5, "channel": 2}],
            "number_of_channels": 3,
            "bits_per_sample": 24,
        },
        {"frequencies": [1000], "bits_per_sample": 8, "fade_out": 0.25},
    ],
    ids=["shared", "long-fade", "per-channel-24", "8-bit"],
)
def test_repeated_periods_are_the_quantised_frames(
    tmp_path: Path, fields: dict[str, object]
) -> None:
    """A periodic tone's file quantises one period and repeats it; it must equal
    quantising every rendered frame, whatever the block size."""
    spec = ToneSpec(**{"duration": 1.3, "volume": 0.9, **fields})  # type: ignore[arg-type]
    bits = int(spec.bits_per_sample)
    data, _ = sf.read(io.BytesIO(to_bytes(spec)), dtype="int32", always_2d=True)
    expected = np.rint(render(spec) * FULL_SCALE[bits])  # in the dtype the encoder uses
    np.testing.assert_array_equal(data >> (32 - bits), expected)
    streamed = write(spec, tmp_path / "s.wav", block_frames=4096)
    assert streamed.read_bytes() == to_bytes(spec)


def test_progress_bar_changes_nothing_but_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = ToneSpec(frequencies=[440, {"freq": "C#5", "waveform": "square"}], duration=0.3)
    path = write(spec, tmp_path / "p.wav", progress=True)
    assert path.read_bytes() == to_bytes(spec)
    assert "synthesising" in capsys.readouterr().err
