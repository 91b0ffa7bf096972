"""Band-limited waveforms: exact harmonic series, summed below Nyquist, never aliased.

A square, triangle or sawtooth partial is the Fourier series of the ideal wave cut
just below the Nyquist frequency (square: odd harmonics 1/n, sawtooth: every
harmonic 1/n, triangle: odd harmonics 1/n² with alternating signs). Nothing above
Nyquist is ever computed, so nothing folds back. Two ways to sum the series:

- **One period, by inverse FFT** (:func:`periodic_table`). A frequency written as a
  decimal (440, 441.3) at an integer sample rate repeats after ``P`` frames, a whole
  number of cycles; every harmonic then sits exactly on a bin of a ``P``-point DFT, so
  one ``irfft`` gives one period of the whole mix in float64, whatever the number of
  harmonics. Tones longer than a period just repeat it (the encoder quantises it once).
  Sines use this too when their mix is periodic: an integer-Hz chord repeats within
  one second.
- **A Taylor table** (:class:`TaylorTable`) for the rest (note names are irrational):
  the band-limited wave and its first derivatives on a fine grid (at least 2^15 points,
  8 per cycle of the highest harmonic), all from the exact series by ``irfft``,
  evaluated at the exact phase by a Taylor step whose order keeps the remainder below
  -160 dB; the cost does not grow with the number of harmonics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

import numpy as np

from wavekit.audio.spec import Partial, Waveform

PERIOD_LIMIT_SAMPLES = 1 << 21
"""Largest period table (frames × distinct signals) kept in memory: 16 MiB of float64."""
TAYLOR_POINTS = 1 << 15
"""Least grid points per cycle of a Taylor table (at least 8 per highest harmonic)."""
TAYLOR_REMAINDER = 1e-8
"""Bound on the Taylor remainder relative to the fundamental (-160 dB): picks the order."""
MAX_ORDER = 8
_TWO_PI = 2.0 * math.pi


def harmonic_count(freq: Fraction, sample_rate: int) -> int:
    """How many harmonics ``k·freq`` lie strictly below the Nyquist frequency."""
    # k·freq < sample_rate/2  ⇔  2·k·num < sample_rate·den
    return max(0, (sample_rate * freq.denominator - 1) // (2 * freq.numerator))


def series(waveform: Waveform, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic numbers ``k`` and coefficients ``c_k`` with ``wave(θ) = Σ c_k sin(kθ)``.

    The ideal waves have peak 1 and start like a sine (rising through zero at θ=0):
    square ``4/(πk)`` for odd k; sawtooth ``(2/π)(-1)^(k+1)/k``; triangle
    ``(8/π²)(-1)^((k-1)/2)/k²`` for odd k.
    """
    if waveform == "sine":
        k = np.arange(1, min(count, 1) + 1)
        return k, np.ones(len(k))
    if waveform == "sawtooth":
        k = np.arange(1, count + 1)
        return k, (2.0 / math.pi) * np.where(k % 2 == 1, 1.0, -1.0) / k
    k = np.arange(1, count + 1, 2)
    if waveform == "square":
        return k, (4.0 / math.pi) / k
    return k, (8.0 / math.pi**2) * np.where(k % 4 == 1, 1.0, -1.0) / k**2.0


def decimal_fraction(freq: float) -> Fraction:
    """The frequency as the decimal it was written as (``441.3`` → 4413/10).

    The float nearest 441.3 is not 4413/10, but it is within half an ulp of it: far
    below what an hour of phase could show (≈1e-10 cycles), and it is what was meant.
    """
    return Fraction(repr(float(freq)))


def period_frames(freq: Fraction, sample_rate: int) -> int:
    """Frames after which ``sin(2π·freq·n/sample_rate)`` repeats exactly."""
    cycles_per_frame = freq / sample_rate
    return cycles_per_frame.denominator


def periodic_partials(
    partials: Sequence[Partial], sample_rate: int, frames: int, signals: int
) -> tuple[int, frozenset[int]]:
    """Which constant partials share a short exact period, and that period.

    Partials are taken in order while the common period (the lcm) stays within
    :data:`PERIOD_LIMIT_SAMPLES` (per signal) and the tone lasts at least one period;
    the rest are synthesised sample by sample. Returns ``(period, indices)``.
    """
    period, chosen = 1, set()
    for i, partial in enumerate(partials):
        if partial.is_sweep:
            continue
        candidate = math.lcm(period, period_frames(decimal_fraction(partial.freq), sample_rate))
        if candidate <= frames and candidate * signals <= PERIOD_LIMIT_SAMPLES:
            period = candidate
            chosen.add(i)
    return period, frozenset(chosen)


def periodic_table(
    columns: Sequence[Sequence[Partial]], sample_rate: int, period: int
) -> np.ndarray:
    """One period of each column's mix, shape ``(period, len(columns))``, in float64.

    Every harmonic lands on DFT bin ``k·m`` (``m`` cycles of the fundamental per
    period), so the spectrum holds the exact series and one ``irfft`` sums it.
    """
    spectrum = np.zeros((len(columns), period // 2 + 1), dtype=np.complex128)
    for column, partials in enumerate(columns):
        for partial in partials:
            freq = decimal_fraction(partial.freq)
            cycles = freq * period / sample_rate
            assert cycles.denominator == 1, "partial does not repeat within the period"
            k, coef = series(partial.waveform, harmonic_count(freq, sample_rate))
            bins = k * int(cycles)
            # sin(kθ + kφ) = Im(e^{i(kθ + kφ)}): the bin holds -i·P/2·c·e^{ikφ}
            angle = _TWO_PI * np.mod(k * (partial.phase / _TWO_PI), 1.0)
            np.add.at(
                spectrum[column],
                bins,
                (-0.5j * period * partial.amplitude) * coef * np.exp(1j * angle),
            )
    table: np.ndarray = np.fft.irfft(spectrum, n=period, axis=1).T
    return np.ascontiguousarray(table)


class TaylorTable:
    """A band-limited wave evaluated at any phase, in time independent of its harmonics.

    Rows ``D_m[i] = W^(m)(2πi/N)·(2π/N)^m/m!`` for ``m = 0..order``; for a phase of
    ``(i + d)/N`` cycles, ``|d| ≤ 1/2``, ``W = Σ_m D_m[i]·d^m`` (Horner). ``N`` holds
    at least 8 points per cycle of the highest harmonic, and the order is the smallest
    whose remainder bound ``Σ|c_k|·(πk/N)^(order+1)/(order+1)!`` is below
    :data:`TAYLOR_REMAINDER`: order 4 up to 1024 harmonics, 6 at most at the limit.
    """

    def __init__(self, waveform: Waveform, count: int, dtype: np.dtype[np.floating]) -> None:
        k, coef = series(waveform, count)
        n = max(TAYLOR_POINTS, 1 << math.ceil(math.log2(8 * max(count, 1))))
        order = next(
            m
            for m in range(1, MAX_ORDER + 1)
            if m == MAX_ORDER
            or np.sum(np.abs(coef) * (math.pi * k / n) ** (m + 1)) / math.factorial(m + 1)
            < TAYLOR_REMAINDER * abs(coef[0])
        )
        rows = np.empty((order + 1, n), dtype=np.float64)
        step = _TWO_PI / n
        for m in range(order + 1):
            spectrum = np.zeros(n // 2 + 1, dtype=np.complex128)
            # d^m/dθ^m of Im(c·e^{ikθ}) is Im(c·(ik)^m·e^{ikθ})
            scale = (-0.5j * n) * (1j**m) * (step**m / math.factorial(m))
            spectrum[k] = scale * coef * k.astype(np.float64) ** m
            rows[m] = np.fft.irfft(spectrum, n=n)
        self.rows = rows.astype(dtype)
        self.points, self.order, self.dtype = n, order, dtype

    def evaluate(self, cycles: np.ndarray, out: np.ndarray, amplitude: float) -> None:
        """Add ``amplitude·W(2π·cycles)`` to ``out`` (``cycles`` in float64, any range)."""
        position = cycles * self.points
        nearest = np.rint(position)
        d = (position - nearest).astype(self.dtype)
        index = nearest.astype(np.int64)
        np.bitwise_and(index, self.points - 1, out=index)
        acc = self.rows[self.order].take(index)
        for m in range(self.order - 1, -1, -1):
            acc *= d
            acc += self.rows[m].take(index)
        if amplitude != 1.0:
            acc *= self.dtype.type(amplitude)
        out += acc


@lru_cache(maxsize=4)
def taylor_table(waveform: Waveform, count: int, dtype: np.dtype[np.floating]) -> TaylorTable:
    """Shared tables: one per waveform, harmonic count and dtype.

    1.3 MiB in float64 up to 4096 harmonics; 14 MiB at the limit of
    :data:`~wavekit.audio.spec.MAX_HARMONICS`.
    """
    return TaylorTable(waveform, count, dtype)
