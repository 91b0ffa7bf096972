"""What the studio's controls allow and offer: ranges, steps and choices.

Kept apart from the widgets so the presets, the music maths and the tests share the
same numbers without importing ipywidgets.
"""

from __future__ import annotations

from wavekit.audio.spec import BitDepth

__all__ = [
    "AMPLITUDE_STEP",
    "BIT_DEPTH_OPTIONS",
    "CHANNEL_OPTIONS",
    "DEFAULT_VOLUME_DB",
    "LOUD_DB",
    "MAX_FREQ",
    "MAX_PARTIALS",
    "MAX_STUDIO_BYTES",
    "MAX_STUDIO_SECONDS",
    "MIN_FREQ",
    "MIN_VOLUME_DB",
    "SAMPLE_RATES",
    "VOLUME_STEP_DB",
]

MIN_FREQ = 20.0
MAX_FREQ = 20_000.0
MAX_PARTIALS = 8
"""Partial rows the studio shows (the spec itself allows 32)."""
MIN_VOLUME_DB = -60.0
DEFAULT_VOLUME_DB = -20.0
"""A safe starting level: loud enough to hear, far from hurting on headphones."""
LOUD_DB = -3.0
"""Above this peak the studio warns before you listen."""
MAX_STUDIO_SECONDS = 30.0
MAX_STUDIO_BYTES = 64 << 20
"""The player sends the whole file to the browser; longer tones belong in ``wavekit synth``."""
AMPLITUDE_STEP = 0.01
VOLUME_STEP_DB = 0.1
SAMPLE_RATES = (8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 192_000)
BIT_DEPTH_OPTIONS: tuple[tuple[str, BitDepth], ...] = (
    ("8-bit", 8),
    ("16-bit", 16),
    ("24-bit", 24),
    ("32-bit int", 32),
    ("32-bit float", "float32"),
)
CHANNEL_OPTIONS = (("mono", 1), ("stereo", 2), *((str(n), n) for n in range(3, 9)))
