"""Preset tones and random chords, without widgets."""

from __future__ import annotations

import random

import pytest

from wavekit.studio.presets import PRESETS, random_partials


def test_preset_contents() -> None:
    assert [p.freq for p in PRESETS["beat 440/445"]] == [440.0, 445.0]
    assert [p.freq for p in PRESETS["A major chord"]] == pytest.approx(
        [440.0, 554.365, 659.255], abs=0.001
    )
    stack = PRESETS["octave stack"]
    assert [p.freq for p in stack] == [110.0, 220.0, 440.0, 880.0, 1760.0]
    assert [p.amplitude for p in stack] == [1.0, 0.5, 0.33, 0.25, 0.2]


def test_random_chords_fit_the_sample_rate() -> None:
    rng = random.Random(3)
    for _ in range(200):
        partials = random_partials(rng, max_freq=4_000.0)
        assert 2 <= len(partials) <= 4
        assert all(20.0 <= p.freq < 4_000.0 and 0.3 <= p.amplitude <= 1.0 for p in partials)
