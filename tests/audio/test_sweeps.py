"""Sweeps: the frequency law (scipy Hilbert), exact phase hours in, and impulse responses."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from scipy.signal import fftconvolve, filtfilt, firwin, hilbert

from wavekit import InvalidSpecError, ToneSpec, blocks, render, to_bytes
from wavekit.audio.impulse import impulse_response, sweep_inverse
from wavekit.audio.spec import Partial
from wavekit.audio.sweeps import SweepPhase, add_sweep
from wavekit.audio.synth import TILE


def ideal_frequency(kind: str, f0: float, f1: float, n: np.ndarray, frames: int) -> np.ndarray:
    x = n / frames
    return f0 * (f1 / f0) ** x if kind == "log" else f0 + (f1 - f0) * x


@pytest.mark.parametrize("kind", ["log", "linear"])
@pytest.mark.parametrize(("f0", "f1"), [(20.0, 20_000.0), (12_000.0, 300.0)], ids=["up", "down"])
def test_instantaneous_frequency_follows_the_law(kind: str, f0: float, f1: float) -> None:
    rate = 48_000
    spec = ToneSpec(
        frequencies=[{"freq": f0, "freq_end": f1, "sweep": kind}],
        duration=20,
        sample_rate=rate,
        bits_per_sample=24,
        volume=0.9,
    )
    x = render(spec)[:, 0]
    phase = np.unwrap(np.angle(hilbert(x)))
    measured = np.diff(phase) * rate / (2 * np.pi)
    n = np.arange(len(measured)) + 0.5
    ideal = ideal_frequency(kind, f0, f1, n, spec.frames)
    inner = slice(int(0.02 * spec.frames), int(0.98 * spec.frames))  # Hilbert edge effects
    assert np.max(np.abs(measured[inner] / ideal[inner] - 1)) < 0.01


def reference_cycles(kind: str, f0: float, f1: float, frames: int, rate: int, n: int) -> float:
    """Phase in cycles (mod 1) at frame ``n``, with 50 significant digits."""
    if kind == "linear":
        a, b = Fraction(f0), Fraction(f1)
        return float(((a * n + (b - a) * n * n / (2 * frames)) / rate) % 1)
    with localcontext() as ctx:
        ctx.prec = 50
        big_l = (Decimal(f1) / Decimal(f0)).ln()
        cycles = Decimal(f0) * frames / (rate * big_l) * ((big_l * n / frames).exp() - 1)
        return float(cycles % 1)


@pytest.mark.parametrize("kind", ["log", "linear"])
def test_phase_is_exact_two_hours_into_a_sweep(kind: str) -> None:
    rate, frames = 48_000, 3 * 3600 * 48_000
    partial = Partial(freq=20.0, freq_end=20_000.0, sweep=kind)  # type: ignore[arg-type]
    law = SweepPhase(partial, rate, frames)
    start = 2 * 3600 * rate + 12_345  # two hours in, not tile aligned
    out = np.zeros(3000)
    add_sweep(law, 1.0, out, start // TILE, start % TILE)
    picks = np.arange(0, 3000, 97)
    expected = [
        np.sin(2 * np.pi * reference_cycles(kind, 20.0, 20_000.0, frames, rate, start + int(i)))
        for i in picks
    ]
    np.testing.assert_allclose(out[picks], expected, atol=1e-7)


def test_sweep_blocks_are_bit_identical_and_reproducible() -> None:
    spec = ToneSpec(
        frequencies=[
            {"freq": 50, "freq_end": 5000},
            {"freq": 300, "freq_end": 200, "sweep": "linear"},
        ],
        duration=1.7,
        number_of_channels=2,
    )
    whole = render(spec)
    for block_frames in (TILE, 7 * TILE):
        np.testing.assert_array_equal(np.concatenate(list(blocks(spec, block_frames))), whole)
    assert to_bytes(spec) == to_bytes(ToneSpec.parse(spec.canonical_json()))


def room(rate: int) -> np.ndarray:
    """A known impulse response: direct sound, two reflections, a decaying diffuse tail."""
    rng = np.random.default_rng(3)
    length = int(0.3 * rate)
    h = np.zeros(length)
    h[[0, 149, 341]] = [1.0, 0.5, -0.3]
    t = np.arange(length) / rate
    h += 0.05 * rng.standard_normal(length) * np.exp(-t * 6.9 / 0.2) * (t > 0.01)
    return h


@pytest.mark.parametrize("kind", ["log", "linear"])
def test_a_room_response_comes_back(kind: str) -> None:
    rate = 48_000
    spec = ToneSpec(
        frequencies=[{"freq": 20, "freq_end": 20_000, "sweep": kind}],
        duration=10,
        sample_rate=rate,
        bits_per_sample=24,
        volume=0.9,
    )
    h = room(rate)
    recording = fftconvolve(render(spec)[:, 0], h)  # the sweep played in the room
    lead = rate // 5
    found = impulse_response(recording, spec, lead=lead)
    assert len(found) == lead + len(h)
    # in the band the sweep covers, the transfer function is the room's
    size = 1 << 17
    freqs = np.fft.rfftfreq(size, 1 / rate)
    band = (freqs >= 100) & (freqs <= 10_000)
    truth = np.fft.rfft(np.concatenate([np.zeros(lead), h]), size)[band]
    got = np.fft.rfft(found, size)[band]
    error_db = 10 * np.log10(np.sum(np.abs(got - truth) ** 2) / np.sum(np.abs(truth) ** 2))
    assert error_db < -40
    # and in time, both band-passed alike (zero phase), the reflections are where they were
    taps = firwin(4001, [100, 10_000], pass_zero=False, fs=rate, window=("kaiser", 10))
    pad = np.zeros(5000)
    want = filtfilt(taps, [1], np.concatenate([np.zeros(lead), h, pad]))[lead : lead + len(h)]
    have = filtfilt(taps, [1], np.concatenate([found, pad]))[lead : lead + len(h)]
    np.testing.assert_allclose(have[[0, 149, 341]], want[[0, 149, 341]], rtol=1e-3)
    assert np.max(np.abs(have - want)) < 1e-3 * np.max(np.abs(want))


def test_inverse_filter_gives_unit_gain_in_band() -> None:
    spec = ToneSpec(frequencies=[{"freq": 100, "freq_end": 8000}], duration=3, volume=0.3)
    sweep, inverse = render(spec)[:, 0].astype(np.float64), sweep_inverse(spec)
    assert inverse.shape == (spec.frames,)
    product = np.abs(np.fft.rfft(fftconvolve(sweep, inverse)))
    freqs = np.fft.rfftfreq(2 * spec.frames - 1, 1 / spec.sample_rate)
    band = (freqs >= 400) & (freqs <= 2000)
    assert 20 * np.log10(np.median(product[band])) == pytest.approx(0, abs=0.05)


@pytest.mark.parametrize(
    "fields",
    [
        {"frequencies": [440]},
        {"frequencies": [{"freq": 20, "freq_end": 200}, 440]},
        {"frequencies": [{"freq": 20, "freq_end": 200}], "noise": "pink"},
    ],
)
def test_inverse_needs_a_lone_sweep(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidSpecError, match="one sweep") as caught:
        sweep_inverse(fields)
    assert caught.value.fields == ["frequencies"]


def test_recording_shorter_than_the_sweep_is_refused() -> None:
    spec = ToneSpec(frequencies=[{"freq": 20, "freq_end": 200}], duration=0.1)
    with pytest.raises(ValueError, match="at least the sweep"):
        impulse_response(np.zeros(100), spec)
