"""wavekit: design, serve and analyse synthesised tones.

The public surface is re-exported here; submodules may change freely.
``wavekit.ToneStudio`` is imported on first use, so ``import wavekit`` stays light
(no ipywidgets or matplotlib); it needs the ``studio`` extra and is not in ``__all__``
(a star import must not require an optional extra).
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from wavekit.audio.spec import Partial, ToneSpec, midi_to_hz, parse_frequency, parse_volume
from wavekit.audio.synth import blocks, render
from wavekit.audio.wavfile import read_spec, to_bytes, write
from wavekit.errors import (
    AudioFormatError,
    FieldProblem,
    InvalidSpecError,
    MissingExtraError,
    WavekitError,
)

if TYPE_CHECKING:
    from wavekit.studio import ToneStudio as ToneStudio

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


def __getattr__(name: str) -> Any:
    """Import optional parts on first use (PEP 562)."""
    if name == "ToneStudio":
        from wavekit.studio import ToneStudio

        return ToneStudio
    raise AttributeError(f"module 'wavekit' has no attribute {name!r}")
