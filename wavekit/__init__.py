"""wavekit: design, serve and analyse synthesised tones.

The public surface is re-exported here; submodules may change freely. Every name is
imported on first use (PEP 562), so ``import wavekit`` loads neither numpy nor soundfile
nor pydantic: an API Lambda that never synthesises never pays for them.
``wavekit.ToneStudio`` needs the ``studio`` extra and is not in ``__all__`` (a star
import must not require an optional extra).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wavekit.audio.impulse import impulse_response, sweep_inverse
    from wavekit.audio.spec import (
        Noise,
        Partial,
        ToneSpec,
        midi_to_hz,
        parse_frequency,
        parse_volume,
    )
    from wavekit.audio.synth import blocks, render
    from wavekit.audio.wavfile import read_spec, to_bytes, write
    from wavekit.errors import (
        AudioFormatError,
        FieldProblem,
        InvalidSpecError,
        MissingExtraError,
        WavekitError,
    )
    from wavekit.studio import ToneStudio as ToneStudio

    __version__: str

__all__ = [
    "AudioFormatError",
    "FieldProblem",
    "InvalidSpecError",
    "MissingExtraError",
    "Noise",
    "Partial",
    "ToneSpec",
    "WavekitError",
    "__version__",
    "blocks",
    "impulse_response",
    "midi_to_hz",
    "parse_frequency",
    "parse_volume",
    "read_spec",
    "render",
    "sweep_inverse",
    "to_bytes",
    "write",
]

_HOMES = {
    "AudioFormatError": "wavekit.errors",
    "FieldProblem": "wavekit.errors",
    "InvalidSpecError": "wavekit.errors",
    "MissingExtraError": "wavekit.errors",
    "WavekitError": "wavekit.errors",
    "Noise": "wavekit.audio.spec",
    "Partial": "wavekit.audio.spec",
    "ToneSpec": "wavekit.audio.spec",
    "midi_to_hz": "wavekit.audio.spec",
    "parse_frequency": "wavekit.audio.spec",
    "parse_volume": "wavekit.audio.spec",
    "blocks": "wavekit.audio.synth",
    "render": "wavekit.audio.synth",
    "read_spec": "wavekit.audio.wavfile",
    "to_bytes": "wavekit.audio.wavfile",
    "write": "wavekit.audio.wavfile",
    "impulse_response": "wavekit.audio.impulse",
    "sweep_inverse": "wavekit.audio.impulse",
    "ToneStudio": "wavekit.studio",
}
"""Where each public name lives; imported on first access."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wavekit")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def __getattr__(name: str) -> Any:
    """Import a public name on first use and keep it (PEP 562)."""
    if name == "__version__":
        value: Any = _version()
    elif name in _HOMES:
        value = getattr(import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'wavekit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, "__version__"})
