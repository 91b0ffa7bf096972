"""Ready-made tones for the studio: named sets of partials and random chords."""

from __future__ import annotations

import random

from wavekit.audio.spec import Partial, ToneSpec, midi_to_hz
from wavekit.studio.limits import DEFAULT_VOLUME_DB, MAX_FREQ, MIN_FREQ

__all__ = ["DEFAULT_SPEC", "PRESETS", "random_partials"]

PRESETS: dict[str, tuple[Partial, ...]] = {
    "beat 440/445": (Partial(freq=440.0), Partial(freq=445.0)),
    "A major chord": tuple(Partial(freq=round(midi_to_hz(n), 3)) for n in (69, 73, 76)),
    "octave stack": tuple(
        Partial(freq=110.0 * 2**k, amplitude=round(1 / (k + 1), 2)) for k in range(5)
    ),
}
"""Named sets of partials; loading one keeps level, duration and format."""

DEFAULT_SPEC = ToneSpec(
    frequencies=PRESETS["beat 440/445"], volume=10 ** (DEFAULT_VOLUME_DB / 20), duration=2.0
)
"""The studio's starting tone: 440 + 445 Hz, 2 s, 44.1 kHz, 16-bit mono at −20 dBFS."""


def random_partials(rng: random.Random, max_freq: float = MAX_FREQ) -> tuple[Partial, ...]:
    """A random chord: 2–4 notes a consonant interval from a random root, slightly detuned.

    Random but pleasant (and, with the detuning, often beating).

    Parameters
    ----------
    rng
        Source of randomness; seed it for a repeatable chord.
    max_freq
        Notes are kept below this (use the Nyquist frequency of a low sample rate).

    Returns
    -------
    tuple of Partial
    """
    count = rng.randint(2, 4)
    root = rng.randint(40, 72)  # E2 .. C5
    intervals = rng.sample([3, 4, 5, 7, 9, 12, 16, 19], count - 1)
    partials = []
    for note in [root, *(root + i for i in intervals)]:
        freq = midi_to_hz(note + rng.uniform(-0.1, 0.1))
        freq = round(min(max(freq, MIN_FREQ), max_freq * 0.95), 2)
        partials.append(Partial(freq=freq, amplitude=round(rng.uniform(0.3, 1.0), 2)))
    return tuple(partials)
