"""What the studio's controls allow and offer: ranges, steps and choices.

Kept apart from the widgets so the presets, the music maths and the tests share the
same numbers without importing ipywidgets.
"""

from __future__ import annotations

from wavekit.audio import spec
from wavekit.audio.spec import BitDepth, NoiseColor, SweepKind, Waveform

__all__ = [
    "AMPLITUDE_STEP",
    "BIT_DEPTH_OPTIONS",
    "CHANNEL_OPTIONS",
    "DEFAULT_NOISE_AMPLITUDE",
    "DEFAULT_VOLUME_DB",
    "LOUD_DB",
    "MAX_FREQ",
    "MAX_PARTIALS",
    "MAX_STUDIO_BYTES",
    "MAX_STUDIO_SECONDS",
    "MIN_FREQ",
    "MIN_VOLUME_DB",
    "NOISE_COLORS",
    "NOISE_OFF",
    "NOISE_OPTIONS",
    "SAMPLE_RATES",
    "STEADY",
    "SWEEP_KINDS",
    "SWEEP_OPTIONS",
    "VOLUME_STEP_DB",
    "WAVEFORM_OPTIONS",
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
WAVEFORM_OPTIONS: tuple[tuple[str, Waveform], ...] = tuple((w, w) for w in spec.WAVEFORMS)
"""Each partial row's wave (band-limited: the exact harmonics below Nyquist)."""
STEADY = "steady"
"""The sweep choice of a partial that keeps its frequency (a dropdown cannot hold None)."""
SWEEP_OPTIONS: tuple[tuple[str, str], ...] = (
    ("steady", STEADY),
    ("log sweep", "log"),
    ("linear sweep", "linear"),
)
SWEEP_KINDS: dict[str, SweepKind] = {kind: kind for kind in spec.SWEEP_KINDS}
"""A sweep dropdown's value as the spec's sweep kind."""
NOISE_OFF = "none"
NOISE_OPTIONS: tuple[tuple[str, str], ...] = (
    ("no noise", NOISE_OFF),
    *((color, color) for color in spec.NOISE_COLORS),
)
NOISE_COLORS: dict[str, NoiseColor] = {color: color for color in spec.NOISE_COLORS}
"""A noise dropdown's value as the spec's colour."""
DEFAULT_NOISE_AMPLITUDE = 0.5
"""Where the noise slider starts: the power of a sine partial of amplitude 0.5."""
