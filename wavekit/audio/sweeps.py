"""Sine sweeps with exact phase: exponential (Farina) and linear, over the whole tone.

With ``N`` frames, ``f0 = freq`` and ``f1 = freq_end``, the phase in cycles is

- log:    ``c(n) = K·(exp(L·n/N) - 1)``, ``L = ln(f1/f0)``, ``K = f0·N/(sample_rate·L)``,
  so the instantaneous frequency is ``f0·(f1/f0)^(n/N)`` (equal time per octave);
- linear: ``c(n) = (f0·n + (f1-f0)·n²/(2N)) / sample_rate``, frequency ``f0 + (f1-f0)·n/N``.

Like the constant partials (ADR 0001), time is cut into tiles of 4096 frames with an
anchor every 2^20 frames. The phase at each anchor is computed in exact rational
arithmetic (linear) or with 40 significant digits (log, :mod:`decimal`), and only the
advance from the anchor in float64; so an hour-long sweep keeps its phase to about
1e-10 cycles, and every sample depends only on its own index (any block size gives the
same bits). The inverse filter lives in :mod:`wavekit.audio.impulse`.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np

from wavekit.audio.spec import Partial

TILE = 4096
ANCHOR_FRAMES = 1 << 20
_TWO_PI = 2.0 * math.pi
_DIGITS = 40


class SweepPhase:
    """The phase law of one sweep partial over a tone of ``frames`` frames."""

    def __init__(self, partial: Partial, sample_rate: int, frames: int) -> None:
        if partial.freq_end is None:
            raise ValueError("not a sweep: freq_end is missing")
        self.kind = partial.sweep or "log"
        self.f0, self.f1 = partial.freq, partial.freq_end
        self.sample_rate, self.frames = sample_rate, frames
        self.offset = (partial.phase / _TWO_PI) % 1.0
        j = np.arange(TILE, dtype=np.float64)
        if self.kind == "log":
            self.rate = math.log(self.f1 / self.f0) / frames  # L/N, per frame
            self.scale = self.f0 / (sample_rate * self.rate)  # K
            with np.errstate(over="ignore"):  # a tone shorter than a tile: unused frames
                self._expm1_j = np.expm1(self.rate * j)
        else:
            self.slope = (self.f1 - self.f0) / (2.0 * frames * sample_rate)  # w
            self._quadratic_j = self.slope * j * j

    def frequency(self, n: np.ndarray) -> np.ndarray:
        """Ideal instantaneous frequency (Hz) at frame ``n``."""
        x = np.asarray(n, dtype=np.float64) / self.frames
        if self.kind == "log":
            return np.asarray(self.f0 * (self.f1 / self.f0) ** x)
        return np.asarray(self.f0 + (self.f1 - self.f0) * x)

    def _anchor(self, anchor: int) -> tuple[float, float]:
        """Phase (cycles mod 1, with the partial's phase) and local scale at an anchor.

        log: the scale is ``K·exp(L·A/N)``; linear: the frequency in cycles per frame.
        """
        start = anchor * ANCHOR_FRAMES
        if self.kind == "log":
            with localcontext() as ctx:
                ctx.prec = _DIGITS
                big_l = (Decimal(self.f1) / Decimal(self.f0)).ln()
                big_k = Decimal(self.f0) * self.frames / (self.sample_rate * big_l)
                growth = (big_l * start / self.frames).exp()
                cycles = big_k * (growth - 1)
                fraction = float(cycles - cycles.to_integral_value(rounding="ROUND_FLOOR"))
                return (fraction + self.offset) % 1.0, float(big_k * growth)
        f0, f1 = Fraction(self.f0), Fraction(self.f1)
        exact = (f0 * start + (f1 - f0) * start * start / (2 * self.frames)) / self.sample_rate
        velocity = (f0 + (f1 - f0) * Fraction(start, self.frames)) / self.sample_rate
        return (float(exact % 1) + self.offset) % 1.0, float(velocity)

    def cycles(self, first_tile: int, n_tiles: int) -> np.ndarray:
        """Phase in cycles (mod 1 up to a whole number), shape ``(n_tiles, TILE)``.

        Frames past the end of the tone (in its last tile) may overflow; nobody reads them.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            return self._cycles(first_tile, n_tiles)

    def _cycles(self, first_tile: int, n_tiles: int) -> np.ndarray:
        tiles = np.arange(first_tile, first_tile + n_tiles)
        starts = tiles * TILE
        anchors = starts // ANCHOR_FRAMES
        base = np.empty(n_tiles)
        local = np.empty(n_tiles)
        for anchor in np.unique(anchors):
            sel = anchors == anchor
            fraction, scale = self._anchor(int(anchor))
            i0 = (starts[sel] - int(anchor) * ANCHOR_FRAMES).astype(np.float64)
            if self.kind == "log":
                advance = scale * np.expm1(self.rate * i0)  # c(n0) - c(A)
                local[sel] = scale * np.exp(self.rate * i0)  # K·exp(L·n0/N)
            else:
                advance = scale * i0 + self.slope * i0 * i0
                local[sel] = scale + 2.0 * self.slope * i0  # cycles per frame at n0
            base[sel] = np.mod(fraction + advance, 1.0)
        if self.kind == "log":
            out = np.multiply.outer(local, self._expm1_j)
        else:
            out = np.multiply.outer(local, np.arange(TILE, dtype=np.float64))
            out += self._quadratic_j
        out += base[:, None]
        return out


def add_sweep(
    phase: SweepPhase, amplitude: float, out: np.ndarray, first_tile: int, offset: int
) -> None:
    """Add ``amplitude·sin(2π·c(n))`` to ``out`` (1-D), whose first frame is tile frame ``offset``.

    The sine runs in ``out``'s dtype on the phase reduced to [-1/2, 1/2] cycles, so
    float32 loses nothing that 16 bits could show, and float64 keeps 24 and 32 bits.
    """
    frames = out.shape[0]
    n_tiles = -(-(offset + frames) // TILE)
    cycles = phase.cycles(first_tile, n_tiles).reshape(-1)[offset : offset + frames]
    cycles -= np.rint(cycles)
    angle = np.multiply(cycles, _TWO_PI, out=cycles).astype(out.dtype, copy=False)
    np.sin(angle, out=angle)
    if amplitude != 1.0:
        angle *= out.dtype.type(amplitude)
    out += angle
