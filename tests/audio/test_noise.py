"""Coloured noise: spectral slope (scipy Welch), level, seeding, streaming."""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import welch
from scipy.stats import kurtosis, skew

from wavekit import ToneSpec, blocks, render, to_bytes
from wavekit.audio.spec import NoiseColor
from wavekit.audio.synth import TILE

SLOPE_DB_PER_OCTAVE = {"white": 0.0, "pink": -10 * math.log10(2), "brown": -20 * math.log10(2)}


def octave_levels(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD (Kaiser window) averaged over octaves 100 Hz … 10 kHz: (log2 centre, dB).

    Octaves keep the estimate's own scatter (≈ 4.34 dB/√(bandwidth·duration)) well
    inside the ±0.3 dB tolerance: 0.07 dB for the lowest octave of 40 s.
    """
    freqs, psd = welch(x, fs=rate, window=("kaiser", 14), nperseg=1 << 14)
    edges = np.append(100.0 * 2.0 ** np.arange(7), 10_000.0)
    centres, levels = [], []
    for low, high in itertools.pairwise(edges):
        inside = (freqs >= low) & (freqs < high)
        centres.append(math.log2(math.sqrt(low * high)))
        levels.append(10 * math.log10(psd[inside].mean()))
    return np.array(centres), np.array(levels)


@pytest.mark.parametrize("rate", [44_100, 96_000])
@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_spectral_slope_over_100_hz_to_10_khz(color: NoiseColor, rate: int) -> None:
    spec = ToneSpec(frequencies=[], noise={"color": color}, duration=40, sample_rate=rate)
    data, _ = sf.read(io.BytesIO(to_bytes(spec)), dtype="float64")
    centres, levels = octave_levels(data, rate)
    slope, _ = np.polyfit(centres, levels, 1)
    assert slope == pytest.approx(SLOPE_DB_PER_OCTAVE[color], abs=0.3)
    # the ideal line (its level fitted) fits every band, not just on average
    ideal = SLOPE_DB_PER_OCTAVE[color] * centres
    ideal += np.mean(levels - ideal)
    assert np.max(np.abs(levels - ideal)) < 0.3


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_noise_is_gaussian_with_the_power_of_a_sine(color: NoiseColor) -> None:
    """Amplitude a: the RMS of a sine of amplitude a, so a 1:1 mix has equal powers."""
    base = {"duration": 10, "fade_in": 0, "fade_out": 0, "bits_per_sample": "float32"}
    mixed = ToneSpec(frequencies=[{"freq": 1000.5}], noise={"color": color}, **base)
    x = render(mixed)[:, 0].astype(np.float64)
    t = np.arange(len(x)) / mixed.sample_rate
    basis = np.column_stack([np.sin(2 * np.pi * 1000.5 * t), np.cos(2 * np.pi * 1000.5 * t)])
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    noise = x - basis @ coef
    # a 10 s estimate of the RMS scatters by 0.1 % (white), 0.8 % (pink), 3 % (brown,
    # whose power sits below 20 Hz): allow 4 of those
    tolerance = {"white": 0.01, "pink": 0.04, "brown": 0.12}[color]
    assert np.std(noise) == pytest.approx(math.hypot(*coef) / math.sqrt(2), rel=tolerance)
    alone = render(ToneSpec(frequencies=[], noise={"color": color}, **base))[:, 0]
    # no DC: the mean is only the fluctuation of a 10 s average, whose standard deviation
    # is 0.0015σ (white), 0.024σ (pink) and 0.05σ (brown, flat below 10 Hz): 4 of those
    assert abs(np.mean(alone)) < {"white": 0.01, "pink": 0.1, "brown": 0.2}[color] * np.std(alone)
    # filtering keeps a Gaussian Gaussian; the difference has many independent samples
    # even for brown noise, whose own samples change slowly
    steps = np.diff(alone.astype(np.float64))
    assert abs(skew(steps)) < 0.05
    assert abs(kurtosis(steps)) < 0.1  # excess kurtosis of a Gaussian: 0


def test_same_spec_same_noise_other_spec_other_noise() -> None:
    spec = ToneSpec(frequencies=[], noise="pink", duration=0.5)
    assert to_bytes(spec) == to_bytes(ToneSpec.parse(spec.canonical_json()))
    other = spec.with_changes(duration=0.5000001)  # another hash, so another seed
    first, second = (np.diff(render(s)[:, 0].astype(np.float64)) for s in (spec, other))
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.02  # unrelated (differences: many dof)


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_channels_carry_independent_noise(color: NoiseColor) -> None:
    spec = ToneSpec(frequencies=[], noise={"color": color}, duration=5, number_of_channels=3)
    x = render(spec).astype(np.float64)
    # differences: same dependence, but many independent samples even for brown noise
    correlation = np.corrcoef(np.diff(x, axis=0).T)
    assert np.all(np.abs(correlation[np.triu_indices(3, 1)]) < 0.02)


@pytest.mark.parametrize("alone", [False, True], ids=["with-a-partial", "alone"])
@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_noise_blocks_are_bit_identical(color: NoiseColor, alone: bool) -> None:
    """Alone, noise writes its blocks instead of adding to zeros: same bits either way."""
    spec = ToneSpec(
        frequencies=[] if alone else [{"freq": 440, "channel": 1}],
        noise={"color": color, "amplitude": 0.3},
        duration=3.3,
        number_of_channels=3 if alone else 2,
        bits_per_sample=24,
    )
    whole = render(spec)
    for block_frames in (TILE, 3 * TILE, 5 * TILE, 40 * TILE):
        parts = list(blocks(spec, block_frames))
        np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_noise_and_partials_mix_and_normalise_to_volume() -> None:
    spec = ToneSpec(frequencies=[440], noise={"color": "white", "amplitude": 0.1}, volume=0.7)
    x = render(spec)
    assert np.max(np.abs(x)) == pytest.approx(0.7, rel=1e-6)


def test_silent_noise_is_silence() -> None:
    x = render(ToneSpec(frequencies=[], noise={"color": "brown", "amplitude": 0}, duration=0.1))
    assert not x.any()
