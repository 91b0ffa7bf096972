"""Every depth at its quantisation limit, measured independently of wavekit's own analysis.

A full-scale 997 Hz sine is written, read back with soundfile, and fitted by least
squares (numpy for the 3-parameter fit at the known frequency, then scipy for the
4-parameter fit that also finds the frequency, IEEE 1057 style); the SNR is the fit's
power over the residual's. The limit of an N-bit quantiser on a full-scale sine is
6.02·N + 1.76 dB.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import soundfile as sf
from scipy.optimize import least_squares

from wavekit import ToneSpec, to_bytes
from wavekit.audio.spec import BitDepth

LIMIT_DB = {bits: 6.02 * bits + 1.76 for bits in (8, 16, 24, 32)}


def sine_fit_snr(x: np.ndarray, freq: float, rate: int) -> float:
    """SNR (dB) of ``x`` against its least-squares sine fit (frequency refined too)."""
    n = np.arange(len(x), dtype=np.float64)

    def basis(f: float) -> np.ndarray:
        w = 2 * np.pi * f / rate
        return np.column_stack([np.sin(w * n), np.cos(w * n), np.ones_like(n)])

    coef, *_ = np.linalg.lstsq(basis(freq), x, rcond=None)

    def residual(p: np.ndarray) -> np.ndarray:
        return basis(p[3]) @ p[:3] - x

    fit = least_squares(residual, [*coef, freq], x_scale=[1, 1, 1, 1e-6], xtol=1e-15, ftol=1e-15)
    model = basis(fit.x[3]) @ fit.x[:3]
    return float(10 * np.log10(np.sum((model - fit.x[2]) ** 2) / np.sum((x - model) ** 2)))


def written(spec: ToneSpec) -> np.ndarray:
    data, rate = sf.read(io.BytesIO(to_bytes(spec)), dtype="float64", always_2d=True)
    assert rate == spec.sample_rate
    return np.asarray(data[:, 0])


FULL_SCALE_997 = {"volume": 1.0, "fade_in": 0, "fade_out": 0}


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
@pytest.mark.parametrize(
    ("rate", "duration"),
    [(44_100, 1.0), (48_000, 0.9)],
    ids=["periodic-path", "tiled-path"],  # 997 Hz repeats after 1 s at 44.1 kHz; 0.9 s is shorter
)
def test_integer_depths_reach_their_quantisation_limit(
    bits: BitDepth, rate: int, duration: float
) -> None:
    spec = ToneSpec(
        frequencies=[997.0],
        sample_rate=rate,
        duration=duration,
        bits_per_sample=bits,
        **FULL_SCALE_997,
    )
    snr = sine_fit_snr(written(spec), 997.0, rate)
    assert snr == pytest.approx(LIMIT_DB[int(bits)], abs=0.1)


def test_an_irrational_frequency_reaches_the_24_bit_limit_too() -> None:
    freq = 100 * math.pi  # never periodic: the tiled path with exact rational anchors
    spec = ToneSpec(frequencies=[freq], bits_per_sample=24, **FULL_SCALE_997)
    assert sine_fit_snr(written(spec), freq, 44_100) == pytest.approx(LIMIT_DB[24], abs=0.1)


def test_float32_files_are_at_least_as_clean_as_24_bit() -> None:
    spec = ToneSpec(frequencies=[997.0], bits_per_sample="float32", **FULL_SCALE_997)
    assert sine_fit_snr(written(spec), 997.0, 44_100) >= LIMIT_DB[24]
