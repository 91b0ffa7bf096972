"""Measure audio: peak level and the strongest frequencies (FFT). Pure numpy.

Used by ``wavekit info``, the tone studio's meters and plots, and the tests that
check what we write really contains the requested partials.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from wavekit.errors import AudioFormatError

ANALYSIS_FRAMES = 1 << 20
"""Frames analysed for the spectrum (~24 s at 44.1 kHz): enough resolution, bounded memory."""


@dataclass(frozen=True)
class Peak:
    """A spectral peak: frequency in Hz and sine amplitude (1.0 = full scale)."""

    freq: float
    amplitude: float

    @property
    def dbfs(self) -> float:
        return to_dbfs(self.amplitude)


def to_dbfs(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def blackman_harris(n: int) -> np.ndarray:
    """4-term Blackman-Harris window: sidelobes below -92 dB, so weak partials stand out."""
    a0, a1, a2, a3 = 0.35875, 0.48829, 0.14128, 0.01168
    k = 2.0 * np.pi * np.arange(n) / n
    return a0 - a1 * np.cos(k) + a2 * np.cos(2 * k) - a3 * np.cos(3 * k)


def spectrum(signal: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """One-sided amplitude spectrum of a 1-D signal: ``(freqs_hz, amplitude)``.

    Amplitudes are scaled so a full-scale sine reads 1.0 at its bin.
    """
    x = np.asarray(signal, dtype=np.float64)
    window = blackman_harris(len(x))
    magnitude = np.abs(np.fft.rfft(x * window)) * 2.0 / window.sum()
    return np.fft.rfftfreq(len(x), 1.0 / sample_rate), magnitude


def strongest_frequencies(
    signal: np.ndarray, sample_rate: int, count: int = 5, floor_db: float = -70.0
) -> list[Peak]:
    """The ``count`` strongest sinusoids, strongest first.

    Local maxima of the windowed spectrum above ``floor_db`` relative to the largest,
    refined by parabolic interpolation on the log magnitude (sub-bin accuracy).
    """
    if len(signal) < 8:
        return []
    freqs, mag = spectrum(signal, sample_rate)
    top = mag.max()
    if top <= 0:
        return []
    interior = mag[1:-1]
    is_peak = (
        (interior > mag[:-2]) & (interior >= mag[2:]) & (interior > top * 10 ** (floor_db / 20))
    )
    bins = np.flatnonzero(is_peak) + 1
    bins = bins[np.argsort(mag[bins])[::-1][:count]]
    bin_hz = freqs[1] - freqs[0]
    peaks = []
    for b in bins:
        left, centre, right = np.log(mag[b - 1 : b + 2] + 1e-300)
        denom = left - 2 * centre + right
        shift = 0.5 * (left - right) / denom if denom else 0.0
        amplitude = math.exp(centre - 0.25 * (left - right) * shift)
        peaks.append(Peak(float(freqs[b] + shift * bin_hz), amplitude))
    return peaks


@dataclass(frozen=True)
class AudioInfo:
    """What ``wavekit info`` reports about a file."""

    path: str
    format: str
    subtype: str
    sample_rate: int
    channels: int
    frames: int
    peak: float
    strongest: list[Peak]
    comment: str

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def inspect_file(path: str | os.PathLike[str], count: int = 5) -> AudioInfo:
    """Read a file in blocks: format, exact peak, and the strongest frequencies of channel 0."""
    try:
        with sf.SoundFile(path) as f:
            head = f.read(min(f.frames, ANALYSIS_FRAMES), dtype="float64", always_2d=True)
            peak = float(np.max(np.abs(head))) if head.size else 0.0
            for block in f.blocks(blocksize=ANALYSIS_FRAMES, dtype="float32", always_2d=True):
                peak = max(peak, float(np.max(np.abs(block))))
            return AudioInfo(
                path=os.fspath(path),
                format=f.format,
                subtype=f.subtype,
                sample_rate=f.samplerate,
                channels=f.channels,
                frames=f.frames,
                peak=peak,
                strongest=strongest_frequencies(head[:, 0], f.samplerate, count),
                comment=f.comment or "",
            )
    except sf.LibsndfileError as exc:
        raise AudioFormatError(f"{os.fspath(path)}: not a readable audio file ({exc})") from None
