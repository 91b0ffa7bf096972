"""wavekit: design, serve and analyse synthesised tones.

The public surface is re-exported here; submodules may change freely.
"""

from importlib.metadata import PackageNotFoundError, version

from wavekit.errors import (
    AudioFormatError,
    FieldProblem,
    InvalidSpecError,
    MissingExtraError,
    WavekitError,
)
from wavekit.spec import Partial, ToneSpec, midi_to_hz, parse_frequency, parse_volume
from wavekit.synth import blocks, render
from wavekit.wavfile import read_spec, to_bytes, write

try:
    __version__ = version("wavekit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AudioFormatError",
    "FieldProblem",
    "InvalidSpecError",
    "MissingExtraError",
    "Partial",
    "ToneSpec",
    "WavekitError",
    "__version__",
    "blocks",
    "midi_to_hz",
    "parse_frequency",
    "parse_volume",
    "read_spec",
    "render",
    "to_bytes",
    "write",
]
