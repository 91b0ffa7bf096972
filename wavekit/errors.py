"""The one exception tree of wavekit.

Every error wavekit raises on purpose derives from :class:`WavekitError`, so callers
can catch the whole family in one place::

    WavekitError
    ├── InvalidSpecError (also ValueError)      a tone spec broke a field's limit
    ├── AudioFormatError (also ValueError)      a WAV/FLAC cannot be written or read as asked
    └── MissingExtraError (also ImportError)    an optional dependency is not installed

Adapters translate third-party errors (pydantic, soundfile, ...) into these; only the
CLI and, later, the HTTP layer turn them into exit codes or status codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class WavekitError(Exception):
    """Root of every error wavekit raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: where it is (``"frequencies[2].freq"``) and what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSpecError(WavekitError, ValueError):
    """A tone spec is invalid; ``problems`` names each field and the limit it broke."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid tone spec")

    @classmethod
    def single(cls, field: str, message: str) -> InvalidSpecError:
        return cls([FieldProblem(field, message)])

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


class AudioFormatError(WavekitError, ValueError):
    """An audio file cannot be written or read in the requested format."""


class MissingExtraError(WavekitError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module!r} is not installed; install it with: pip install 'wavekit[{extra}]'"
        )
        self.extra = extra
