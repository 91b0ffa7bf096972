"""The tone spec: what to synthesise, validated against the limits of DESIGN.md §2.

A :class:`ToneSpec` is immutable and canonical: frequencies given as note names
(``"A4"``, ``"C#5-15c"``), MIDI numbers (``"midi:69"``) or plain Hz all become
:class:`Partial` objects in Hz, and a volume given in dBFS (``"-20dB"``) becomes a
linear peak. Two specs that describe the same sound therefore have the same
:attr:`ToneSpec.spec_hash`, which the service uses as a cache key.

A partial is a sine unless it says otherwise: ``waveform`` makes it a band-limited
square, triangle or sawtooth, and ``freq_end`` (with ``sweep``: ``log`` or ``linear``)
makes it a sweep over the whole tone. ``noise`` mixes white, pink or brown noise in.
Fields added after the first release are left out of the canonical JSON while they
hold their defaults, so every older spec keeps its hash (and its cached file).

Invalid input raises :class:`wavekit.errors.InvalidSpecError`, whose message names each
field and the limit it broke, e.g.
``frequencies[1].freq: 30000 Hz must be below the Nyquist frequency 22050 Hz``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Literal, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from wavekit.errors import FieldProblem, InvalidSpecError

BitDepth = Literal[8, 16, 24, 32, "float32"]
BIT_DEPTHS: tuple[BitDepth, ...] = (8, 16, 24, 32, "float32")
Waveform = Literal["sine", "square", "triangle", "sawtooth"]
WAVEFORMS: tuple[Waveform, ...] = ("sine", "square", "triangle", "sawtooth")
SweepKind = Literal["log", "linear"]
SWEEP_KINDS: tuple[SweepKind, ...] = ("log", "linear")
NoiseColor = Literal["white", "pink", "brown"]
NOISE_COLORS: tuple[NoiseColor, ...] = ("white", "pink", "brown")

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_PARTIALS = 32
MAX_CHANNELS = 8
MAX_DURATION_S = 1e7
"""Practically unlimited, but keeps frame counts finite (10^7 s ≈ 116 days)."""
MAX_HARMONICS = 1 << 15
"""Most harmonics of a band-limited wave: freq ≥ sample_rate/65536 (0.67 Hz at 44.1 kHz)."""
DEFAULT_FADE_S = 0.005
A4_HZ = 440.0
A4_MIDI = 69

_NOTE_RE = re.compile(
    r"^\s*(?P<letter>[A-Ga-g])(?P<accidental>#|♯|b|♭)?(?P<octave>-?\d+)"
    r"(?:\s*(?P<cents>[+-]\d+(?:\.\d+)?)\s*c(?:ents?)?)?\s*$"
)
_MIDI_RE = re.compile(r"^\s*midi\s*[: ]\s*(?P<number>\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
_HZ_RE = re.compile(r"^\s*(?P<value>\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(?P<unit>k?hz)?\s*$", re.I)
_DB_RE = re.compile(r"^\s*(?P<value>[+-]?\d+(?:\.\d+)?)\s*db(?:fs)?\s*$", re.IGNORECASE)
_SEMITONES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}


def midi_to_hz(number: float) -> float:
    """Equal-tempered frequency of a (possibly fractional) MIDI note number, A4 = 440 Hz."""
    return float(A4_HZ * 2.0 ** ((number - A4_MIDI) / 12.0))


def parse_frequency(value: str) -> float:
    """Parse ``"A4"``, ``"C#5+15c"``, ``"Bb3-20cents"``, ``"midi:60"``, ``"1.5kHz"`` to Hz.

    Raises
    ------
    ValueError
        If the text is none of those forms.
    """
    if match := _NOTE_RE.match(value):
        semitone = _SEMITONES[match["letter"].lower()]
        semitone += {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(match["accidental"] or "", 0)
        midi = 12 * (int(match["octave"]) + 1) + semitone
        cents = float(match["cents"] or 0.0)
        return midi_to_hz(midi + cents / 100.0)
    if match := _MIDI_RE.match(value):
        return midi_to_hz(float(match["number"]))
    if match := _HZ_RE.match(value):
        scale = 1000.0 if (match["unit"] or "").lower() == "khz" else 1.0
        return float(match["value"]) * scale
    raise ValueError(
        f"{value!r} is not a frequency: use Hz (440, '1.5kHz'), a note name ('A4', 'C#5+15c') "
        "or a MIDI number ('midi:69')"
    )


def parse_volume(value: str) -> float:
    """Parse a dBFS level such as ``"-20dB"`` or ``"-6 dBFS"`` to a linear peak in 0..1."""
    match = _DB_RE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a volume: use a number in 0..1 or dBFS like '-20dB'")
    db = float(match["value"])
    if db > 0:
        raise ValueError(f"{db:g} dBFS is above the limit of 0 dBFS")
    return float(10.0 ** (db / 20.0))


def _custom(message: str) -> PydanticCustomError:
    return PydanticCustomError("wavekit", message)


def _is_default(default: object) -> Any:
    """``exclude_if`` predicate: leave a newer field out of dumps while it holds its default."""
    return lambda value: value == default


_FREQUENCY_TEXT: dict[str, Any] = {
    "type": "string",
    "description": "Hz as text ('440', '1.5kHz'), a note name ('A4', 'C#5+15c') "
    "or a MIDI number ('midi:69').",
    "examples": ["A4", "C#5+15c", "midi:69", "1.5kHz"],
}
"""JSON schema of the frequency text that :func:`parse_frequency` reads."""


def _with_alternatives(schema: dict[str, Any], *alternatives: dict[str, Any]) -> None:
    """Widen a field's generated JSON schema to the shorthands its validator also takes.

    pydantic documents the type a field holds after validation (``freq`` a number, a
    ``frequencies`` item a ``Partial``), not what a "before" validator accepts (``"A4"``,
    ``440``): this adds those as ``anyOf`` branches, keeping the generated constraints,
    title, description and default. Validation itself is unchanged.
    """
    if "anyOf" in schema:  # optional: keep null last
        branches = schema["anyOf"]
        nulls = [b for b in branches if b == {"type": "null"}]
        schema["anyOf"] = [b for b in branches if b not in nulls] + list(alternatives) + nulls
        return
    kept = ("title", "description", "default", "examples")
    typed = {key: value for key, value in schema.items() if key not in kept}
    for key in typed:
        del schema[key]
    schema["anyOf"] = [typed, *alternatives]


def _frequency_schema(schema: dict[str, Any]) -> None:
    _with_alternatives(schema, _FREQUENCY_TEXT)


def _partials_schema(schema: dict[str, Any]) -> None:
    """Items of ``frequencies``: a partial object, or a sine given by its Hz or its text."""
    schema["items"] = {
        "anyOf": [
            schema["items"],
            {"type": "number", "exclusiveMinimum": 0, "description": "A sine, in Hz."},
            {**_FREQUENCY_TEXT, "description": "A sine: " + _FREQUENCY_TEXT["description"]},
        ]
    }


def _volume_schema(schema: dict[str, Any]) -> None:
    _with_alternatives(
        schema,
        {
            "type": "string",
            "description": "dBFS, at most 0: '-20dB', '-6 dBFS'.",
            "examples": ["-20dB"],
        },
    )


def _noise_schema(schema: dict[str, Any]) -> None:
    _with_alternatives(
        schema,
        {
            "type": "string",
            "enum": list(NOISE_COLORS),
            "description": "The colour alone, at amplitude 1.",
        },
    )


class Partial(BaseModel):
    """One partial: ``amplitude * wave(2π·freq·t + phase)``, a sine unless ``waveform`` says.

    ``amplitude`` is relative: the mix is normalised afterwards so its peak equals the
    spec's ``volume``. For a square, triangle or sawtooth it is the peak of the ideal
    (unlimited) wave, whose harmonics below Nyquist are then summed exactly. ``channel``
    (0-based) restricts the partial to one channel; by default it plays on every
    channel. With ``freq_end`` the partial is a sine sweep from ``freq`` to ``freq_end``
    over the whole tone: ``sweep="log"`` (exponential, the default) or ``"linear"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    freq: float = Field(
        gt=0,
        allow_inf_nan=False,
        description="Frequency in Hz (or a note name, 'midi:69', '1.5kHz').",
        json_schema_extra=_frequency_schema,
    )
    amplitude: float = Field(
        default=1.0,
        ge=0,
        le=1000,
        allow_inf_nan=False,
        validation_alias=AliasChoices("amplitude", "amp"),
        description="Relative amplitude (the mix is normalised to `volume`).",
    )
    phase: float = Field(
        default=0.0, ge=-1000, le=1000, allow_inf_nan=False, description="Phase in radians."
    )
    channel: int | None = Field(
        default=None, ge=0, description="Only on this channel (0-based); default all."
    )
    waveform: Waveform = Field(
        default="sine",
        exclude_if=_is_default("sine"),
        description="sine, or a band-limited square, triangle or sawtooth.",
    )
    freq_end: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        exclude_if=_is_default(None),
        description="Sweep from `freq` to this frequency (Hz or note) over the whole tone.",
        json_schema_extra=_frequency_schema,
    )
    sweep: SweepKind | None = Field(
        default=None,
        exclude_if=_is_default(None),
        description="Sweep law: 'log' (exponential, default with freq_end) or 'linear'.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, value: Any) -> Any:
        """Accept ``440``, ``"A4"`` and ``"midi:69"`` as well as a full mapping.

        In a mapping, ``freq`` and ``freq_end`` may be notes too, and a ``freq_end``
        without ``sweep`` means a log sweep (so both spellings hash the same).
        """
        if isinstance(value, bool):
            raise _custom("must be a frequency in Hz, a note name or a partial object")
        if isinstance(value, int | float):
            return {"freq": value}
        if isinstance(value, str):
            try:
                return {"freq": parse_frequency(value)}
            except ValueError as exc:
                raise _custom(str(exc)) from None
        if isinstance(value, Mapping):
            value = dict(value)
            for key in ("freq", "freq_end"):
                if isinstance(value.get(key), str):
                    try:
                        value[key] = parse_frequency(value[key])
                    except ValueError as exc:
                        prefix = "" if key == "freq" else f"{key}: "
                        raise _custom(prefix + str(exc)) from None
            if value.get("freq_end") is not None and value.get("sweep") is None:
                value["sweep"] = "log"
        return value

    @property
    def is_sweep(self) -> bool:
        return self.freq_end is not None


class Noise(BaseModel):
    """Noise mixed into the tone: ``white``, ``pink`` (-3 dB/octave) or ``brown`` (-6 dB/octave).

    ``amplitude`` is relative like a partial's: noise of amplitude ``a`` has the power of
    a sine partial of amplitude ``a`` (RMS ``a/√2``) before the mix is normalised to
    ``volume``. Each channel gets its own noise, seeded from the spec, so the same spec
    always gives the same samples.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    color: NoiseColor = Field(description="white, pink or brown.")
    amplitude: float = Field(
        default=1.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        validation_alias=AliasChoices("amplitude", "amp"),
        description="Relative level (the power of a sine partial of this amplitude).",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_color(cls, value: Any) -> Any:
        """Accept ``"pink"`` for ``{"color": "pink"}``."""
        return {"color": value} if isinstance(value, str) else value


class ToneSpec(BaseModel):
    """A tone: a sum of partials (and optional noise) at a peak volume, with its WAV format.

    Examples
    --------
    >>> spec = ToneSpec(frequencies=[440, "C#5"], volume="-20dB", duration=2.0)
    >>> spec.frames
    88200
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    frequencies: tuple[Partial, ...] = Field(
        max_length=MAX_PARTIALS,
        description="Partials: Hz, note names ('A4', 'C#5+15c'), 'midi:69', or objects; "
        "at least one unless `noise` is given.",
        json_schema_extra=_partials_schema,
    )
    volume: float = Field(
        default=0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Peak of the mix, linear 0..1 (or dBFS text such as '-20dB').",
        json_schema_extra=_volume_schema,
    )
    duration: float = Field(
        default=1.0,
        gt=0,
        le=MAX_DURATION_S,
        allow_inf_nan=False,
        description="Seconds (the library streams any length up to ~116 days).",
    )
    sample_rate: int = Field(default=44_100, ge=MIN_SAMPLE_RATE, le=MAX_SAMPLE_RATE)
    bits_per_sample: BitDepth = Field(default=16, description="8, 16, 24, 32 or 'float32'.")
    number_of_channels: int = Field(default=1, ge=1, le=MAX_CHANNELS)
    fade_in: float = Field(default=DEFAULT_FADE_S, ge=0, allow_inf_nan=False, description="s")
    fade_out: float = Field(default=DEFAULT_FADE_S, ge=0, allow_inf_nan=False, description="s")
    dither: bool = Field(default=False, description="TPDF dither (integer depths ≤ 16 bits).")
    noise: Noise | None = Field(
        default=None,
        exclude_if=_is_default(None),
        description="Noise mixed in: {'color': 'white'|'pink'|'brown', 'amplitude': 0..1}.",
        json_schema_extra=_noise_schema,
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise spec_error(exc) from None

    @classmethod
    def parse(cls, data: ToneSpec | Mapping[str, Any] | str | bytes) -> Self:
        """Build a spec from a mapping or JSON text; raise :class:`InvalidSpecError` if invalid."""
        if isinstance(data, cls):
            return data
        try:
            if isinstance(data, str | bytes):
                return cls.model_validate_json(data)
            return cls.model_validate(data)
        except ValidationError as exc:
            raise spec_error(exc) from None

    @field_validator("volume", mode="before")
    @classmethod
    def _volume_from_db(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_volume(value)
            except ValueError as exc:
                raise _custom(str(exc)) from None
        return value

    @field_validator("bits_per_sample", mode="before")
    @classmethod
    def _bits_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in {"float", "float32", "f32", "32f"}:
                return "float32"
            if text.isdigit():
                return int(text)
        return value

    @model_validator(mode="after")
    def _check_cross_field_limits(self) -> Self:
        problems: list[FieldProblem] = []
        nyquist = self.sample_rate / 2
        if not self.frequencies and self.noise is None:
            problems.append(
                FieldProblem("frequencies", "must hold at least 1 partial unless noise is given")
            )
        for i, partial in enumerate(self.frequencies):
            problems.extend(_partial_problems(i, partial, nyquist))
            if partial.channel is not None and partial.channel >= self.number_of_channels:
                problems.append(
                    FieldProblem(
                        f"frequencies[{i}].channel",
                        f"channel {partial.channel} must be below number_of_channels "
                        f"({self.number_of_channels})",
                    )
                )
        if self.frames < 1:
            problems.append(
                FieldProblem("duration", f"must last at least one sample (1/{self.sample_rate} s)")
            )
        if self.fade_in + self.fade_out > self.duration:
            problems.append(
                FieldProblem(
                    "fade_in",
                    f"fade_in + fade_out ({self.fade_in + self.fade_out:g} s) must not exceed "
                    f"duration ({self.duration:g} s)",
                )
            )
        if problems:
            raise InvalidSpecError(problems)
        return self

    @property
    def frames(self) -> int:
        """Number of sample frames: ``round(duration * sample_rate)``."""
        return round(self.duration * self.sample_rate)

    def canonical_json(self) -> str:
        """Compact JSON with sorted keys: the same sound always gives the same text."""
        return self.canonical_text

    @cached_property
    def canonical_text(self) -> str:
        """:meth:`canonical_json`, built once per (frozen) spec: the service needs it for
        the job, the file's hash and the request-log event of one request."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @cached_property
    def spec_hash(self) -> str:
        """sha256 of :meth:`canonical_json`: the cache key of the rendered file."""
        return hashlib.sha256(self.canonical_text.encode()).hexdigest()

    @property
    def seed(self) -> int:
        """Seed for anything random (dither), derived from the spec so output is reproducible."""
        return int(self.spec_hash[:16], 16)

    def with_changes(self, **changes: Any) -> ToneSpec:
        """A validated copy with some fields changed (``model_copy`` would skip validation)."""
        return type(self).parse({**self.model_dump(), **changes})


def _partial_problems(i: int, partial: Partial, nyquist: float) -> list[FieldProblem]:
    """Limits that involve the sample rate or several fields of one partial."""
    problems: list[FieldProblem] = []
    where = f"frequencies[{i}]"
    for name, value in (("freq", partial.freq), ("freq_end", partial.freq_end)):
        if value is not None and value >= nyquist:
            problems.append(
                FieldProblem(
                    f"{where}.{name}",
                    f"{value:g} Hz must be below the Nyquist frequency {nyquist:g} Hz "
                    "(sample_rate/2)",
                )
            )
    lowest = nyquist / MAX_HARMONICS
    if partial.waveform != "sine" and partial.freq < lowest:
        problems.append(
            FieldProblem(
                f"{where}.freq",
                f"a band-limited {partial.waveform} needs at least {lowest:.4g} Hz at this "
                f"sample rate (at most {MAX_HARMONICS} harmonics below Nyquist)",
            )
        )
    if partial.sweep is not None and partial.freq_end is None:
        problems.append(
            FieldProblem(f"{where}.sweep", "needs freq_end (the frequency the sweep ends at)")
        )
    if partial.freq_end is not None:
        if partial.freq_end == partial.freq:
            problems.append(
                FieldProblem(
                    f"{where}.freq_end",
                    f"must differ from freq ({partial.freq:g} Hz): a sweep needs two frequencies",
                )
            )
        if partial.waveform != "sine":
            problems.append(
                FieldProblem(
                    f"{where}.waveform",
                    f"must be 'sine' for a sweep (got {partial.waveform!r}): "
                    "sweeps are band-limited sines",
                )
            )
    return problems


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "spec"


def describe_problems(errors: list[Any]) -> list[FieldProblem]:
    """Turn pydantic error dicts into field problems, one message naming field and limit.

    Used by :class:`ToneSpec` and by the service's 422 handler, so the wording is
    the same everywhere.
    """
    problems: list[FieldProblem] = []
    item_locs = {tuple(e.get("loc", ()))[:-1] for e in errors if len(e.get("loc", ())) > 1}
    item_locs |= {loc[:i] for loc in item_locs for i in range(1, len(loc))}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "too_short" and loc in item_locs:
            continue  # "at least 1 item after validation": a consequence of an item's error
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidSpecError):
            problems.extend(cause.problems)
            continue
        loc = tuple(part for part in error.get("loc", ()) if part not in {"body"})
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "is not a known field"
        elif "input" in error and error.get("type") not in {"missing", "wavekit"}:
            shown = repr(error["input"])
            message += f" (got {shown[:60]})"
        problems.append(FieldProblem(_field_path(loc), message))
    return problems


def spec_error(exc: ValidationError) -> InvalidSpecError:
    """Translate a pydantic ``ValidationError`` into :class:`InvalidSpecError`."""
    return InvalidSpecError(describe_problems(list(exc.errors())))
