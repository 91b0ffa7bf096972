"""The studio's waveform, sweep and noise controls, driven like a user (issue 14, item 6).

Each test moves widgets, then checks the WAV in the player with scipy (a Kaiser-windowed
FFT for harmonics, Hilbert for a sweep's instantaneous frequency, Welch for the noise
slope), and that the player holds exactly the bytes the library writes for the spec.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal as sps

from tests.studio.support import InlineExecutor, changes_of, decode, settle
from wavekit import InvalidSpecError, ToneSpec, to_bytes
from wavekit.studio import DEBOUNCE_S, ManualScheduler, ToneStudio

# Harmonic n's level relative to the fundamental, in theory (ADR 0006).
THEORY = {
    "sine": lambda n: 1.0 if n == 1 else 0.0,
    "square": lambda n: 1 / n if n % 2 else 0.0,
    "sawtooth": lambda n: 1 / n,
    "triangle": lambda n: 1 / n**2 if n % 2 else 0.0,
}


def harmonic_levels_db(x: np.ndarray, rate: int, freq: float, count: int) -> list[float]:
    """Levels of harmonics 1..count in dB re the fundamental (Kaiser β 20, bins on them)."""
    window = sps.get_window(("kaiser", 20.0), len(x))
    magnitude = np.abs(np.fft.rfft(x * window))
    bins = [round(n * freq * len(x) / rate) for n in range(1, count + 1)]
    return [float(20 * np.log10(magnitude[b] / magnitude[bins[0]] + 1e-300)) for b in bins]


def welch_slope(x: np.ndarray, rate: int) -> float:
    """Slope of the Welch PSD over 100 Hz - 10 kHz, dB per octave."""
    freqs, psd = sps.welch(x, rate, window=("kaiser", 8.0), nperseg=8192)
    band = (freqs >= 100) & (freqs <= 10_000)
    slope, _ = np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)
    return float(slope)


def player_signal(studio: ToneStudio) -> tuple[np.ndarray, int]:
    assert studio.audio.value == to_bytes(studio.spec)  # the player holds the spec's bytes
    signal, rate = decode(studio.audio.value)
    return signal[:, 0], rate


@pytest.mark.parametrize("wave", list(THEORY))
def test_each_waveform_in_a_row_gives_its_harmonics(
    wave: str, studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.bits.value = 24  # a floor far below the smallest harmonic checked
    studio.rows[1].mute.value = True
    studio.rows[0].waveform.value = wave
    settle(clock)
    assert studio.spec.frequencies == (studio.rows[0].partial(),)
    assert studio.spec.frequencies[0].waveform == wave
    x, rate = player_signal(studio)
    levels = harmonic_levels_db(x, rate, 440.0, 9)
    for n, level in enumerate(levels, start=1):
        expected = THEORY[wave](n)
        if expected:
            assert level == pytest.approx(20 * np.log10(expected), abs=0.3), (wave, n)
        else:
            assert level < -100, (wave, n)  # absent harmonics (odd-only waves, the sine)
    if wave != "sine":
        assert f"440 Hz {wave}" in studio.status.value


def test_a_sweep_row_follows_its_law_and_shows_its_end_slider(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    row = studio.rows[0]
    assert row.sweep_end.layout.display == "none"  # steady: no end slider
    studio.rows[1].mute.value = True
    row.sweep.value = "log"
    assert row.sweep_end.layout.display is None
    row.sweep_end.value = 5_000.0
    settle(clock)
    partial = studio.spec.frequencies[0]
    assert (partial.freq, partial.freq_end, partial.sweep) == (440.0, 5_000.0, "log")
    assert "440 → 5000 Hz log sweep" in studio.status.value
    x, rate = player_signal(studio)
    seconds = len(x) / rate
    phase = np.unwrap(np.angle(sps.hilbert(x)))
    smoothed = np.convolve(np.diff(phase) * rate / (2 * np.pi), np.ones(64) / 64, mode="same")
    t = (np.arange(len(smoothed)) + 0.5) / rate
    inner = slice(int(0.05 * rate), int((seconds - 0.05) * rate))
    log_law = 440.0 * (5_000.0 / 440.0) ** (t / seconds)
    assert np.max(np.abs(smoothed[inner] / log_law[inner] - 1)) < 0.01

    row.sweep.value = "linear"
    settle(clock)
    x, rate = player_signal(studio)
    phase = np.unwrap(np.angle(sps.hilbert(x)))
    smoothed = np.convolve(np.diff(phase) * rate / (2 * np.pi), np.ones(64) / 64, mode="same")
    linear_law = 440.0 + (5_000.0 - 440.0) * t / seconds
    assert np.max(np.abs(smoothed[inner] / linear_law[inner] - 1)) < 0.01

    row.sweep.value = "steady"  # back to a steady 440 Hz; the end is kept for next time
    settle(clock)
    assert studio.spec.frequencies[0].freq_end is None
    assert row.sweep_end.layout.display == "none"
    row.sweep.value = "log"
    settle(clock)
    assert studio.spec.frequencies[0].freq_end == 5_000.0


def test_a_square_sweep_is_reported_on_its_row_and_the_player_keeps_its_tone(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.rows[1].waveform.value = "square"
    settle(clock)
    before = studio.audio.value
    studio.rows[1].sweep.value = "log"
    settle(clock)
    assert "must be 'sine' for a sweep" in html.unescape(studio.rows[1].message.value)
    assert studio.rows[0].message.value == ""
    assert studio.audio.value == before
    with pytest.raises(InvalidSpecError) as raised:
        _ = studio.spec
    assert raised.value.fields == ["frequencies[1].waveform"]
    studio.rows[1].waveform.value = "sine"
    settle(clock)
    assert studio.rows[1].message.value == ""
    assert studio.spec.frequencies[1].sweep == "log"


def test_a_sweep_end_above_nyquist_is_reported_on_its_row(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.sample_rate.value = 16_000
    studio.rows[0].sweep.value = "log"
    studio.rows[0].sweep_end.value = 12_000.0
    settle(clock)
    assert "Nyquist frequency 8000 Hz" in studio.rows[0].message.value
    with pytest.raises(InvalidSpecError) as raised:
        _ = studio.spec
    assert raised.value.fields == ["frequencies[0].freq_end"]


@pytest.mark.parametrize(("color", "slope"), [("white", 0.0), ("pink", -3.01), ("brown", -6.02)])
def test_the_noise_control_mixes_noise_of_its_colour(
    color: str, slope: float, studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.duration.value = 6.0
    studio.noise_color.value = color
    for row in studio.rows:  # every partial muted: the noise alone
        row.mute.value = True
    settle(clock)
    spec = studio.spec
    assert spec.frequencies == ()
    assert spec.noise is not None
    assert (spec.noise.color, spec.noise.amplitude) == (color, 0.5)
    assert f"{color} noise at 0.5" in studio.status.value
    x, rate = player_signal(studio)
    assert welch_slope(x, rate) == pytest.approx(slope, abs=0.3)
    assert np.max(np.abs(x)) == pytest.approx(0.1, abs=0.001)  # peak at the -20 dBFS volume


def tone_to_noise_db(x: np.ndarray, rate: int) -> float:
    """The 1 kHz partial's PSD peak over the noise's PSD around 3 kHz, in dB."""
    freqs, psd = sps.welch(x, rate, window=("kaiser", 8.0), nperseg=8192)
    tone = psd[(freqs > 990) & (freqs < 1010)].max()
    noise = np.median(psd[(freqs > 2900) & (freqs < 3100)])
    return float(10 * np.log10(tone / noise))


def test_the_noise_amplitude_slider_sets_the_noise_against_the_partials(
    studio: ToneStudio, clock: ManualScheduler
) -> None:
    studio.rows[0].frequency.value = 1_000.0
    studio.rows[1].mute.value = True
    assert studio.noise_amplitude.disabled  # no noise, nothing to set
    studio.noise_color.value = "white"
    assert not studio.noise_amplitude.disabled
    studio.noise_amplitude.value = 0.1
    studio.duration.value = 4.0
    settle(clock)
    quiet = tone_to_noise_db(*player_signal(studio))
    studio.noise_amplitude.value = 0.5
    settle(clock)
    loud = tone_to_noise_db(*player_signal(studio))
    assert quiet - loud == pytest.approx(20 * np.log10(5), abs=1.0)  # 5x the amplitude
    studio.noise_color.value = "none"
    settle(clock)
    assert studio.spec.noise is None
    assert studio.noise_amplitude.disabled


def test_load_round_trips_waveforms_sweeps_and_noise(
    studio: ToneStudio, clock: ManualScheduler, tmp_path: Path
) -> None:
    spec = ToneSpec.parse(
        {
            "frequencies": [
                {"freq": 220, "waveform": "sawtooth", "amplitude": 0.5},
                {"freq": 100, "freq_end": 8000, "sweep": "linear"},
                {"freq": 330, "waveform": "triangle"},
            ],
            "noise": {"color": "brown", "amplitude": 0.25},
            "duration": 1.0,
            "volume": "-9dB",
        }
    )
    studio.load(spec)
    settle(clock)
    assert studio.spec == spec
    assert [row.waveform.value for row in studio.rows] == ["sawtooth", "sine", "triangle"]
    assert [row.sweep.value for row in studio.rows] == ["steady", "linear", "steady"]
    assert studio.noise_color.value == "brown"
    assert studio.noise_amplitude.value == 0.25
    assert json.loads(studio.spec_json()) == json.loads(spec.canonical_json())
    saved = studio.save(tmp_path / "mix.wav")
    assert saved.read_bytes() == to_bytes(spec) == studio.audio.value
    assert sf.info(str(saved)).frames == 44_100

    noise_alone = ToneSpec.parse({"frequencies": [], "noise": "pink", "volume": "-9dB"})
    studio.load(noise_alone)
    settle(clock)
    assert studio.spec == noise_alone  # shown as one muted row plus the noise
    assert [row.mute.value for row in studio.rows] == [True]
    studio.rows[0].mute.value = False  # the muted row joins the noise
    settle(clock)
    assert len(studio.spec.frequencies) == 1


def test_load_rejects_a_sweep_the_sliders_cannot_show(studio: ToneStudio) -> None:
    with pytest.raises(InvalidSpecError) as raised:
        studio.load(ToneSpec(frequencies=[{"freq": 100, "freq_end": 10}]))
    assert raised.value.fields == ["frequencies[0].freq_end"]


def test_dragging_the_new_sliders_collapses_into_one_trailing_render(tmp_path: Path) -> None:
    clock = ManualScheduler()
    studio = ToneStudio(
        scheduler=clock,
        save_dir=tmp_path,
        leading=False,
        max_wait=None,
        plot_executor=InlineExecutor(),
    )
    studio.rows[0].sweep.value = "log"
    studio.noise_color.value = "pink"
    settle(clock)
    rendered = changes_of(studio.audio)
    for step, end in enumerate(np.linspace(2_000.0, 6_000.0, 20)):
        studio.rows[0].sweep_end.value = float(end)
        studio.noise_amplitude.value = round(0.05 * (step % 10) + 0.1, 2)
        clock.advance(DEBOUNCE_S / 4)
    assert rendered == []  # nothing stale was rendered during the drag
    clock.advance(DEBOUNCE_S)
    assert len(rendered) == 1
    assert rendered[0] == to_bytes(studio.spec)
    assert studio.spec.frequencies[0].freq_end == 6_000.0
    assert studio.spec.noise is not None
    assert studio.spec.noise.amplitude == 0.55
