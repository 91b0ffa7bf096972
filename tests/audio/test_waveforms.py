"""Band-limited waveforms: harmonics as theory says, nothing else (scipy Kaiser analysis)."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import windows

from wavekit import ToneSpec, blocks, render, to_bytes
from wavekit.audio.spec import Waveform
from wavekit.audio.synth import TILE

KAISER_BETA = 20.0  # sidelobes far below -150 dB
THEORY = {  # relative amplitude of harmonic k
    "square": lambda k: 1.0 / k if k % 2 else 0.0,
    "sawtooth": lambda k: 1.0 / k,
    "triangle": lambda k: 1.0 / k**2 if k % 2 else 0.0,
}
FUNDAMENTALS = [
    440.0,  # repeats every 2205 frames at 44.1 kHz, but 44100/440 is not whole
    1234.5,  # repeats every 29400 frames
    554.3652619537442,  # C#5: irrational, never repeats (the Taylor-table path)
    97.0 * math.e,  # irrational and low: 83 harmonics below Nyquist
]


def kaiser_analysis(x: np.ndarray, rate: int, freq: float) -> tuple[np.ndarray, float]:
    """Harmonic amplitudes (exact DTFT at k·freq) and the strongest other component (dB re k=1)."""
    n = len(x)
    window = windows.kaiser(n, KAISER_BETA)
    weighted = x * window
    count = math.floor((rate / 2 - 1e-9) / freq)
    k = np.arange(1, count + 1)
    t = np.arange(n)
    harmonics = np.abs(np.exp(-2j * np.pi * np.outer(k * freq / rate, t)) @ weighted)
    size = 1 << math.ceil(math.log2(4 * n))
    spectrum = np.abs(np.fft.rfft(weighted, size))
    bins = np.fft.rfftfreq(size, 1 / rate)
    main_lobe = 8 * rate / n  # half-width of the Kaiser(20) main lobe, with margin
    elsewhere = bins > main_lobe
    for harmonic in k * freq:
        elsewhere &= np.abs(bins - harmonic) > main_lobe
    worst = 20 * np.log10(spectrum[elsewhere].max() / harmonics[0])
    return harmonics / harmonics[0], float(worst)


def one_wave(waveform: str, freq: float, **fields: Any) -> ToneSpec:
    base: dict[str, Any] = {
        "duration": 1.0,
        "sample_rate": 44_100,
        "bits_per_sample": "float32",
        "volume": 0.9,
        "fade_in": 0,
        "fade_out": 0,
    }
    return ToneSpec(frequencies=[{"freq": freq, "waveform": waveform}], **{**base, **fields})


@pytest.mark.parametrize("freq", FUNDAMENTALS, ids=lambda f: f"{f:.1f}Hz")
@pytest.mark.parametrize("waveform", sorted(THEORY))
def test_harmonics_follow_theory_and_nothing_aliases(waveform: str, freq: float) -> None:
    spec = one_wave(waveform, freq)
    relative, worst = kaiser_analysis(render(spec)[:, 0].astype(np.float64), 44_100, freq)
    for k in range(1, 10):
        expected = THEORY[waveform](k)
        if expected:
            assert 20 * np.log10(relative[k - 1] / expected) == pytest.approx(0, abs=0.3), k
        else:  # the missing even harmonics really are missing
            assert 20 * np.log10(relative[k - 1]) < -120, k
    # every harmonic below Nyquist is there (none dropped early)...
    last = len(relative)
    assert relative[last - 1] > 0.5 * THEORY[waveform](last) or not THEORY[waveform](last)
    # ...and nothing else: no alias, no spur
    assert worst < -90


@pytest.mark.parametrize("waveform", sorted(THEORY))
def test_16_bit_files_stay_alias_free(waveform: str) -> None:
    spec = one_wave(waveform, 554.3652619537442, bits_per_sample=16, volume=0.5)
    data, _ = sf.read(io.BytesIO(to_bytes(spec)), dtype="float64")
    _, worst = kaiser_analysis(data, 44_100, 554.3652619537442)
    assert worst < -90


def test_nothing_above_nyquist_even_near_it() -> None:
    """A 9 kHz square at 22.05 kHz has only harmonics 1 (9 kHz); the 3rd (27 kHz) is dropped."""
    spec = one_wave("square", 9000.0, sample_rate=22_050)
    x = render(spec)[:, 0].astype(np.float64)
    relative, worst = kaiser_analysis(x, 22_050, 9000.0)
    assert len(relative) == 1
    assert worst < -120  # a sine: the folded 27 kHz (at 4.95 kHz) is absent


def test_periodic_and_sample_by_sample_paths_agree() -> None:
    """440 Hz repeats (inverse-FFT path) when the tone lasts a period, not when it is shorter."""
    long = render(one_wave("sawtooth", 440.0, duration=0.06))
    short = render(one_wave("sawtooth", 440.0, duration=2204 / 44_100))
    scale = np.abs(long[:2204]).max() / np.abs(short).max()
    np.testing.assert_allclose(long[:2204], short * scale, atol=2e-6)


@pytest.mark.parametrize("waveform", ["square", "triangle", "sawtooth"])
def test_waveform_starts_at_its_phase(waveform: Waveform) -> None:
    """The ideal waves rise through zero at phase 0 (like a sine): square starts at +peak."""
    spec = ToneSpec(
        frequencies=[{"freq": 100, "waveform": waveform, "phase": math.pi / 2}],
        duration=0.1,
        fade_in=0,
        fade_out=0,
        bits_per_sample="float32",
    )
    x = render(spec)[:, 0]
    eighth = 441 // 8  # an eighth of a period later the sawtooth has risen further
    if waveform == "triangle":
        assert x[0] == pytest.approx(spec.volume, rel=1e-3)  # its peak
    elif waveform == "sawtooth":
        assert x[0] > 0.4 * spec.volume
        assert x[eighth] > x[0]
    else:
        assert 0.8 * spec.volume < x[0] <= spec.volume


@pytest.mark.parametrize(
    "partials",
    [
        [{"freq": 440, "waveform": "square"}, {"freq": 445, "waveform": "square"}],
        [{"freq": "C#5", "waveform": "triangle"}, {"freq": "E5", "waveform": "sawtooth"}],
        [{"freq": 440, "waveform": "square", "channel": 0}, {"freq": "A3", "channel": 1}],
    ],
    ids=["periodic", "taylor", "per-channel"],
)
def test_waveform_blocks_are_bit_identical(partials: list[dict[str, Any]]) -> None:
    spec = ToneSpec(frequencies=partials, duration=1.3, number_of_channels=2, fade_in=0.05)
    whole = render(spec)
    for block_frames in (TILE, 5 * TILE):
        np.testing.assert_array_equal(np.concatenate(list(blocks(spec, block_frames))), whole)
    assert to_bytes(spec) == to_bytes(ToneSpec.parse(spec.canonical_json()))
