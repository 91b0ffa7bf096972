"""Impulse responses from sweeps: the inverse filter of a rendered sweep, and deconvolution.

Play the sweep through a room (or any linear system), record it, convolve the
recording with :func:`sweep_inverse` and the system's impulse response appears at
sample ``frames - 1`` of the full convolution (:func:`impulse_response` cuts it there,
with as much lead as you ask for).

For a log sweep the inverse is Farina's: the sweep reversed in time, its amplitude
proportional to the frequency it plays. The sweep spends equal time per octave, so its
power spectrum falls 3 dB per octave, and so does the reversed copy; the envelope adds
6 dB per octave, so the product of the two spectra is flat. For a linear sweep (flat
spectrum) the inverse is the sweep reversed. Either way the filter is scaled so that
sweep ⊛ inverse has unit gain over the swept band.

The inverse is built from the sweep exactly as :func:`~wavekit.audio.synth.render` makes
it (volume and fades included), so a recording of the written file deconvolves to the
system's response at unit gain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from wavekit.audio.spec import ToneSpec
from wavekit.audio.sweeps import SweepPhase
from wavekit.audio.synth import render
from wavekit.errors import InvalidSpecError


def _sweep_spec(spec: ToneSpec | Mapping[str, Any] | str | bytes) -> ToneSpec:
    spec = ToneSpec.parse(spec)
    if len(spec.frequencies) != 1 or not spec.frequencies[0].is_sweep or spec.noise is not None:
        raise InvalidSpecError.single(
            "frequencies",
            "an inverse filter needs a spec whose only content is one sweep "
            "(a partial with freq_end, no other partial, no noise)",
        )
    return spec


def fft_convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Full linear convolution of two 1-D signals by FFT (``len(a) + len(b) - 1`` samples)."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    length = x.shape[0] + y.shape[0] - 1
    size = 1 << (length - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(y, size), size)[:length]


def synthetic_room(
    sample_rate: int, rt60: float = 0.3, seed: int = 0, seconds: float | None = None
) -> np.ndarray:
    """A made-up room response to try the measurement chain on (notebook 06).

    Direct sound (1.0), two early reflections (0.5 after 3.1 ms, -0.3 after 7.1 ms)
    and a diffuse tail of Gaussian noise decaying by 60 dB in ``rt60`` seconds, from
    10 ms on. Lasts ``seconds`` (default ``rt60``).
    """
    length = max(1, round((rt60 if seconds is None else seconds) * sample_rate))
    t = np.arange(length) / sample_rate
    tail = np.random.default_rng(seed).standard_normal(length)
    response: np.ndarray = 0.05 * tail * np.exp(-t * (3 * math.log(10) / rt60)) * (t >= 0.010)
    for delay, gain in ((0.0, 1.0), (0.0031, 0.5), (0.0071, -0.3)):
        if (index := round(delay * sample_rate)) < length:
            response[index] += gain
    return response


def sweep_inverse(spec: ToneSpec | Mapping[str, Any] | str | bytes) -> np.ndarray:
    """The inverse filter of a sweep spec: convolve a recording with it to get an impulse response.

    Parameters
    ----------
    spec
        A spec (or its JSON / mapping) whose only partial is a sweep.

    Returns
    -------
    numpy.ndarray
        float64, ``spec.frames`` samples, scaled so ``sweep ⊛ inverse`` has unit gain
        over the swept band.

    Raises
    ------
    InvalidSpecError
        If the spec holds anything but one sweep.
    """
    spec = _sweep_spec(spec)
    partial = spec.frequencies[0]
    sweep = render(spec)[:, 0].astype(np.float64)
    inverse = sweep[::-1].copy()
    if partial.sweep == "log":
        law = SweepPhase(partial, spec.sample_rate, spec.frames)
        played = law.frequency(np.arange(spec.frames)[::-1])  # what the reversed sweep plays
        inverse *= played / max(partial.freq, partial.freq_end or partial.freq)
    size = 1 << (2 * spec.frames - 2).bit_length()
    gain = np.abs(np.fft.rfft(sweep, size) * np.fft.rfft(inverse, size))
    freqs = np.fft.rfftfreq(size, 1.0 / spec.sample_rate)
    low, high = sorted((partial.freq, partial.freq_end or partial.freq))
    band = (freqs >= low * 2.0) & (freqs <= high / 2.0)
    if not band.any():  # a sweep narrower than two octaves: its middle third
        third = (high - low) / 3.0
        band = (freqs >= low + third) & (freqs <= high - third)
    inverse /= float(np.median(gain[band]))
    return inverse


def impulse_response(
    recording: np.ndarray,
    spec: ToneSpec | Mapping[str, Any] | str | bytes,
    lead: int = 0,
) -> np.ndarray:
    """Deconvolve a recording of the sweep into the impulse response of what it went through.

    Parameters
    ----------
    recording
        1-D samples, starting where the sweep started, at least as long as the sweep
        (longer by the length of the response you want).
    spec
        The sweep's spec (see :func:`sweep_inverse`).
    lead
        Samples to keep before time zero. A measurement is band-limited (to the swept
        band and below Nyquist), so its impulse rings on both sides of zero; keep a
        few milliseconds of lead to see (and keep the energy of) that pre-ringing.
        For a log sweep the responses of harmonic distortion come earlier still.

    Returns
    -------
    numpy.ndarray
        float64, ``lead + len(recording) - spec.frames + 1`` samples; index ``lead`` is
        time zero.
    """
    spec = _sweep_spec(spec)
    recorded = np.asarray(recording, dtype=np.float64)
    if recorded.ndim != 1 or recorded.shape[0] < spec.frames:
        raise ValueError(
            f"recording must be 1-D and at least the sweep's {spec.frames} samples long"
        )
    if not 0 <= lead < spec.frames:
        raise ValueError(f"lead must be in 0..{spec.frames - 1} samples")
    full = fft_convolve(recorded, sweep_inverse(spec))
    return full[spec.frames - 1 - lead : recorded.shape[0]]
