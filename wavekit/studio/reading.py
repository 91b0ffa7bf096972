"""The tone in the player and what it measures: pure data, no widgets.

The controller keeps the last valid :class:`Rendered` tone; the status line, the level
meter and :meth:`~wavekit.studio.ToneStudio.measure` all read from it, so what they
report is what the player holds, not what the controls say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavekit.audio.measure import Peak, strongest_frequencies, to_dbfs
from wavekit.audio.spec import Partial, ToneSpec
from wavekit.studio.music import beat_rates, format_hz

__all__ = ["Rendered", "StudioReading", "describe_partial", "measure_rendered", "summary_line"]


@dataclass(frozen=True)
class Rendered:
    """What the player holds: the spec, its WAV bytes, and those bytes decoded."""

    spec: ToneSpec
    wav: bytes
    signal: np.ndarray
    seconds: float

    @property
    def peak(self) -> float:
        return float(np.max(np.abs(self.signal))) if self.signal.size else 0.0


@dataclass(frozen=True)
class StudioReading:
    """Measurements of the tone in the player, from its bytes rather than the settings.

    ``strongest`` are FFT peaks of channel 1; ``beats`` the differences between them
    that the ear hears as beating (:func:`~wavekit.studio.music.beat_rates`).
    """

    spec: ToneSpec
    peak_dbfs: float
    strongest: list[Peak]
    beats: list[float]

    def __str__(self) -> str:
        heard = ", ".join(f"{p.freq:.1f} Hz" for p in sorted(self.strongest, key=lambda p: p.freq))
        beats = ", ".join(f"{b:.1f} Hz" for b in self.beats) or "none"
        return f"partials: {heard}\nbeats: {beats}\npeak: {self.peak_dbfs:.1f} dBFS"


def measure_rendered(rendered: Rendered) -> StudioReading:
    """Measure a rendered tone from its decoded bytes: peak, strongest partials, beats.

    Parameters
    ----------
    rendered
        The tone in the player.

    Returns
    -------
    StudioReading
    """
    spec = rendered.spec
    strongest = strongest_frequencies(
        rendered.signal[:, 0], spec.sample_rate, count=max(1, len(spec.frequencies))
    )
    return StudioReading(
        spec=spec,
        peak_dbfs=to_dbfs(rendered.peak),
        strongest=strongest,
        beats=beat_rates([p.freq for p in strongest]),
    )


def describe_partial(partial: Partial) -> str:
    """``"440 Hz"``, ``"440 Hz square"``, ``"20 → 20000 Hz log sweep"``."""
    if partial.freq_end is not None:
        return f"{format_hz(partial.freq)} → {format_hz(partial.freq_end)} Hz {partial.sweep} sweep"
    wave = "" if partial.waveform == "sine" else f" {partial.waveform}"
    return f"{format_hz(partial.freq)} Hz{wave}"


def summary_line(rendered: Rendered) -> str:
    """The status line after a render: partials, noise, beats, size and render time.

    Parameters
    ----------
    rendered
        The tone just put in the player.

    Returns
    -------
    str
        Plain text, parts joined by ``" · "``.
    """
    spec = rendered.spec
    count = len(spec.frequencies)
    parts = []
    if count:
        plain = all(p.waveform == "sine" and not p.is_sweep for p in spec.frequencies)
        described = (
            ", ".join(format_hz(p.freq) for p in spec.frequencies) + " Hz"
            if plain
            else ", ".join(describe_partial(p) for p in spec.frequencies)
        )
        parts.append(f"{count} partial{'s' * (count != 1)}: {described}")
    if spec.noise is not None:
        parts.append(f"{spec.noise.color} noise at {spec.noise.amplitude:g}")
    if spec.volume == 0:
        parts.append("all muted (silence)")
    steady = [p.freq for p in spec.frequencies if not p.is_sweep]
    if beats := beat_rates(steady):
        parts.append("beats " + ", ".join(f"{b:g}" for b in beats) + " Hz")
    parts.append(f"{len(rendered.wav):,} bytes")
    parts.append(f"rendered in {rendered.seconds * 1000:.1f} ms")
    return " · ".join(parts)
