"""The tone in the player and what it measures: pure data, no widgets.

The controller keeps the last valid :class:`Rendered` tone; the status line, the level
meter and :meth:`~wavekit.studio.ToneStudio.measure` all read from it, so what they
report is what the player holds, not what the controls say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wavekit.audio.measure import Peak, strongest_frequencies, to_dbfs
from wavekit.audio.spec import ToneSpec
from wavekit.studio.music import beat_rates, format_hz

__all__ = ["Rendered", "StudioReading", "measure_rendered", "summary_line"]


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
        rendered.signal[:, 0], spec.sample_rate, count=len(spec.frequencies)
    )
    return StudioReading(
        spec=spec,
        peak_dbfs=to_dbfs(rendered.peak),
        strongest=strongest,
        beats=beat_rates([p.freq for p in strongest]),
    )


def summary_line(rendered: Rendered) -> str:
    """The status line after a render: partials, beats, size and render time.

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
    freqs = [p.freq for p in spec.frequencies]
    parts = [
        f"{len(freqs)} partial{'s' * (len(freqs) != 1)}: "
        + ", ".join(format_hz(f) for f in freqs)
        + " Hz"
    ]
    if spec.volume == 0:
        parts.append("all muted (silence)")
    if beats := beat_rates(freqs):
        parts.append("beats " + ", ".join(f"{b:g}" for b in beats) + " Hz")
    parts.append(f"{len(rendered.wav):,} bytes")
    parts.append(f"rendered in {rendered.seconds * 1000:.1f} ms")
    return " · ".join(parts)
