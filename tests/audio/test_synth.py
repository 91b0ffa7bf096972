from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from wavekit import ToneSpec, blocks, render
from wavekit.audio.measure import strongest_frequencies
from wavekit.audio.spec import Partial
from wavekit.audio.synth import TILE, mix, peak


def reference_sine(freq: float, phase: float, sample_rate: int, n: np.ndarray) -> np.ndarray:
    """Exact reference: the phase from rational arithmetic, the sine in float64."""
    f = Fraction(freq)
    cycles = [float((f * int(k) / sample_rate) % 1) for k in n]
    return np.sin(2 * math.pi * np.array(cycles) + phase)


def test_fft_peaks_at_requested_frequencies_and_amplitudes() -> None:
    spec = ToneSpec(
        frequencies=[{"freq": 440.0, "amplitude": 1.0}, {"freq": 1234.5, "amplitude": 0.5}],
        duration=2.0,
        sample_rate=48_000,
        bits_per_sample="float32",
        fade_in=0,
        fade_out=0,
    )
    x = render(spec)[:, 0]
    found = strongest_frequencies(x, spec.sample_rate, count=2)
    bin_hz = spec.sample_rate / len(x)
    assert [p.freq for p in found] == pytest.approx([440.0, 1234.5], abs=bin_hz)
    ratio_db = 20 * math.log10(found[1].amplitude / found[0].amplitude)
    assert ratio_db == pytest.approx(-6.02, abs=0.1)


@pytest.mark.parametrize("volume", [1.0, 0.8, 0.1])
def test_peak_equals_volume(volume: float) -> None:
    spec = ToneSpec(
        frequencies=[440, 445, 660, 1000],
        volume=volume,
        duration=0.5,
        bits_per_sample="float32",
    )
    x = render(spec)
    assert np.max(np.abs(x)) == pytest.approx(volume, rel=1e-6)


def test_matches_independent_reference_with_fades() -> None:
    """Synthesis, raised-cosine fades and normalisation against a float64 re-derivation."""
    spec = ToneSpec(
        frequencies=[{"freq": 997.0, "phase": 0.3}],
        duration=0.25,
        sample_rate=16_000,
        fade_in=0.02,
        fade_out=0.05,
        volume=0.7,
        bits_per_sample="float32",
    )
    n = np.arange(spec.frames)
    fade_in, fade_out = round(0.02 * 16_000), round(0.05 * 16_000)
    gain = np.ones(spec.frames)
    gain[:fade_in] = np.sin(0.5 * np.pi * n[:fade_in] / fade_in) ** 2
    tail = n[-fade_out:]
    gain[-fade_out:] = np.sin(0.5 * np.pi * (spec.frames - 1 - tail) / fade_out) ** 2
    expected = np.sin(2 * np.pi * 997.0 * n / 16_000 + 0.3) * gain
    expected *= 0.7 / np.max(np.abs(expected))
    got = render(spec)[:, 0]
    np.testing.assert_allclose(got, expected, atol=2e-6)
    assert got[0] == 0.0
    assert got[-1] == 0.0


def test_fades_are_click_free() -> None:
    spec = ToneSpec(frequencies=[5000], duration=0.2, fade_in=0.01, fade_out=0.01, volume=1.0)
    x = render(spec)[:, 0]
    max_step = 2 * math.pi * 5000 / spec.sample_rate  # steepest slope of a full-scale sine
    assert np.max(np.abs(np.diff(x[:500]))) <= max_step * 1.01
    assert abs(x[0]) < 1e-6
    assert abs(x[-1]) < 1e-6


def test_without_fade_the_tone_starts_at_its_phase() -> None:
    spec = ToneSpec(
        frequencies=[{"freq": 100, "phase": math.pi / 2}],
        duration=0.1,
        fade_in=0,
        fade_out=0,
        bits_per_sample="float32",
    )
    assert render(spec)[0, 0] == pytest.approx(spec.volume, rel=1e-5)


def test_phase_is_exact_after_an_hour() -> None:
    sample_rate = 48_000
    freq = 1234.5678
    partial = Partial(freq=freq, phase=0.25)
    start = 3600 * sample_rate - 777  # an hour in, not tile aligned
    got = mix([partial], sample_rate, start, 3000)
    n = np.arange(start, start + 3000)
    picks = np.arange(0, 3000, 61)
    expected = reference_sine(freq, 0.25, sample_rate, n[picks])
    np.testing.assert_allclose(got[picks], expected, atol=1e-6)


def test_float64_path_for_32_bit_integers() -> None:
    partial = Partial(freq=1234.5678, phase=0.1)
    start = 10 * 3600 * 96_000 + 5
    got = mix([partial], 96_000, start, 500, dtype=np.dtype(np.float64))
    n = np.arange(start, start + 500)
    np.testing.assert_allclose(got, reference_sine(1234.5678, 0.1, 96_000, n), atol=1e-9)


@pytest.mark.parametrize(
    "spec",
    [
        ToneSpec(frequencies=[440, 445], duration=1.3, number_of_channels=2),
        ToneSpec(
            frequencies=[{"freq": 440, "channel": 0}, {"freq": 660, "channel": 1}, 100],
            duration=0.9,
            number_of_channels=3,
            fade_in=0.1,
            fade_out=0.2,
        ),
        ToneSpec(frequencies=[1000], duration=0.7, bits_per_sample=32),
    ],
    ids=["shared", "per-channel", "float64"],
)
def test_blocks_are_bit_identical_to_one_pass(spec: ToneSpec) -> None:
    whole = render(spec)
    for block_frames in (TILE, 3 * TILE):
        parts = list(blocks(spec, block_frames))
        assert all(p.shape[0] <= block_frames for p in parts)
        np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_block_size_must_be_tile_multiple() -> None:
    with pytest.raises(ValueError, match="multiple of 4096"):
        next(blocks(ToneSpec(frequencies=[440]), 1000))


def test_every_channel_identical_unless_per_channel_partials() -> None:
    shared = render(ToneSpec(frequencies=[440, 550], duration=0.2, number_of_channels=4))
    assert shared.shape == (8820, 4)
    for ch in range(1, 4):
        np.testing.assert_array_equal(shared[:, ch], shared[:, 0])

    spec = ToneSpec(
        frequencies=[{"freq": 440, "channel": 0}, {"freq": 660, "channel": 1}],
        duration=1.0,
        number_of_channels=2,
    )
    x = render(spec)
    left = strongest_frequencies(x[:, 0], spec.sample_rate, count=3)
    right = strongest_frequencies(x[:, 1], spec.sample_rate, count=3)
    assert [round(p.freq) for p in left] == [440]
    assert [round(p.freq) for p in right] == [660]


def test_peak_pass_matches_rendered_peak() -> None:
    spec = ToneSpec(frequencies=[440, 445], duration=1.0, volume=1.0)
    raw = peak(spec, TILE)
    assert raw == pytest.approx(2.0, abs=0.02)  # two unit partials beat up to 2


def test_silence_when_volume_zero() -> None:
    x = render(ToneSpec(frequencies=[440], volume=0, duration=0.1))
    assert not x.any()


@pytest.mark.parametrize("amplitude", [1.4e-45, 1e-30, 1e-3, 7.0, 1000.0])
def test_only_relative_amplitudes_matter(amplitude: float) -> None:
    """A tiny amplitude must not underflow in float32 (found by hypothesis)."""
    base = {"duration": 0.1, "sample_rate": 8000, "fade_in": 0, "fade_out": 0,
            "bits_per_sample": "float32", "volume": 0.5}  # fmt: skip
    reference = render(ToneSpec(frequencies=[{"freq": 100, "phase": 1.0}], **base))
    scaled = render(
        ToneSpec(frequencies=[{"freq": 100, "phase": 1.0, "amplitude": amplitude}], **base)
    )
    np.testing.assert_allclose(scaled, reference, atol=1e-6)
    partials = [{"freq": 100, "amplitude": amplitude}, {"freq": 300, "amplitude": amplitude / 2}]
    pair = render(ToneSpec(frequencies=partials, **base))
    found = strongest_frequencies(pair[:, 0], 8000, count=2)
    assert 20 * math.log10(found[1].amplitude / found[0].amplitude) == pytest.approx(-6.02, abs=0.3)


def test_a_subnormal_peak_is_still_normalised_to_volume() -> None:
    """One sample at a zero crossing: its peak is 2e-313 and the gain would overflow."""
    spec = ToneSpec(
        frequencies=[{"freq": 1.0, "phase": 2.2250738585e-313}],
        duration=1 / 8000, sample_rate=8000, bits_per_sample=32, fade_in=0, fade_out=0,
    )  # fmt: skip
    assert render(spec)[0, 0] == pytest.approx(spec.volume)
