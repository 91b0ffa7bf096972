from __future__ import annotations

import json
import math

import jsonschema
import pytest

from wavekit import InvalidSpecError, ToneSpec, midi_to_hz, parse_frequency, parse_volume


@pytest.mark.parametrize(
    ("text", "hz"),
    [
        ("A4", 440.0),
        ("a4", 440.0),
        ("A5", 880.0),
        ("C#5", 440.0 * 2 ** (4 / 12)),
        ("Db5", 440.0 * 2 ** (4 / 12)),
        ("C4", 440.0 * 2 ** (-9 / 12)),
        ("Bb3", 440.0 * 2 ** (-11 / 12)),
        ("C-1", 440.0 * 2 ** (-69 / 12)),
        ("A4+15c", 440.0 * 2 ** (15 / 1200)),
        ("A4-50cents", 440.0 * 2 ** (-50 / 1200)),
        ("midi:69", 440.0),
        ("MIDI 60", 440.0 * 2 ** (-9 / 12)),
        ("midi:69.5", 440.0 * 2 ** (0.5 / 12)),
        ("440", 440.0),
        ("440 Hz", 440.0),
        ("1.5kHz", 1500.0),
    ],
)
def test_frequency_texts_parse_to_hz(text: str, hz: float) -> None:
    assert parse_frequency(text) == pytest.approx(hz, rel=1e-12)


def test_midi_to_hz_octaves() -> None:
    assert midi_to_hz(57) == pytest.approx(220.0)
    assert midi_to_hz(81) == pytest.approx(880.0)


@pytest.mark.parametrize("text", ["H4", "A", "A4+15", "midi:", "loud", "4 40"])
def test_bad_frequency_text_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a frequency"):
        parse_frequency(text)


def test_volume_in_dbfs() -> None:
    assert parse_volume("-20dB") == pytest.approx(0.1)
    assert parse_volume("-6.0206 dBFS") == pytest.approx(0.5, rel=1e-4)
    assert ToneSpec(frequencies=[440], volume="0dB").volume == 1.0
    with pytest.raises(InvalidSpecError, match=r"volume: .*above the limit of 0 dBFS"):
        ToneSpec(frequencies=[440], volume="+3dB")


def test_same_sound_same_hash_whatever_the_notation() -> None:
    by_name = ToneSpec(frequencies=["A4", "midi:81"], volume="-20dB")
    by_hz = ToneSpec(frequencies=[440, {"freq": 880.0, "amp": 1}], volume=0.1)
    assert by_name.spec_hash == by_hz.spec_hash
    assert by_name.seed == by_hz.seed
    assert by_name.spec_hash != by_hz.with_changes(duration=2).spec_hash


def test_canonical_json_round_trips() -> None:
    spec = ToneSpec(
        frequencies=[{"freq": "E5", "amplitude": 0.25, "phase": 1.0, "channel": 1}, 440],
        number_of_channels=2,
        bits_per_sample="float32",
        dither=True,
    )
    again = ToneSpec.parse(spec.canonical_json())
    assert again == spec
    assert json.loads(spec.canonical_json())["frequencies"][0]["channel"] == 1
    assert ToneSpec.parse(json.loads(spec.canonical_json())) == spec


def test_frames_are_duration_times_rate_rounded() -> None:
    assert ToneSpec(frequencies=[440], duration=0.1, sample_rate=44_100).frames == 4410
    assert ToneSpec(frequencies=[440], duration=1 / 3, sample_rate=8000).frames == 2667


def test_text_bit_depths() -> None:
    assert ToneSpec(frequencies=[440], bits_per_sample="24").bits_per_sample == 24
    assert ToneSpec(frequencies=[440], bits_per_sample="float").bits_per_sample == "float32"


BASE = {"frequencies": [440.0], "sample_rate": 44_100, "duration": 1.0}


@pytest.mark.parametrize(
    ("changes", "field", "limit"),
    [
        ({"frequencies": []}, "frequencies", "at least 1"),
        ({"frequencies": [440.0] * 33}, "frequencies", "at most 32"),
        ({"frequencies": [0.0]}, "frequencies[0].freq", "greater than 0"),
        ({"frequencies": [-5.0]}, "frequencies[0].freq", "greater than 0"),
        ({"frequencies": [math.nan]}, "frequencies[0].freq", "finite"),
        ({"frequencies": [math.inf]}, "frequencies[0].freq", "finite"),
        ({"frequencies": [440.0, 22_050.0]}, "frequencies[1].freq", "Nyquist frequency 22050"),
        ({"frequencies": ["Q9"]}, "frequencies[0]", "not a frequency"),
        ({"frequencies": [True]}, "frequencies[0]", "frequency"),
        ({"frequencies": [{"freq": 440, "amplitude": -1}]}, "frequencies[0].amplitude", "0"),
        ({"frequencies": [{"freq": 440, "channel": 1}]}, "frequencies[0].channel", "below"),
        ({"frequencies": [{"freq": 440, "gain": 1}]}, "frequencies[0].gain", "not a known"),
        ({"volume": 1.5}, "volume", "less than or equal to 1"),
        ({"volume": -0.1}, "volume", "greater than or equal to 0"),
        ({"volume": "loud"}, "volume", "dBFS"),
        ({"duration": 0}, "duration", "greater than 0"),
        ({"duration": math.inf}, "duration", "finite"),
        ({"duration": 1.7e307}, "duration", "less than or equal to 10000000"),
        ({"duration": 1e-6}, "duration", "at least one sample"),
        ({"sample_rate": 7_999}, "sample_rate", "8000"),
        ({"sample_rate": 192_001}, "sample_rate", "192000"),
        ({"sample_rate": 44_100.5}, "sample_rate", "integer"),
        ({"bits_per_sample": 12}, "bits_per_sample", "8, 16, 24, 32 or 'float32'"),
        ({"number_of_channels": 0}, "number_of_channels", "greater than or equal to 1"),
        ({"number_of_channels": 9}, "number_of_channels", "less than or equal to 8"),
        ({"number_of_channels": "two"}, "number_of_channels", "integer"),
        ({"fade_in": -1}, "fade_in", "greater than or equal to 0"),
        ({"fade_in": 0.6, "fade_out": 0.6}, "fade_in", "must not exceed duration"),
        ({"tempo": 120}, "tempo", "not a known field"),
    ],
)
def test_invalid_field_names_field_and_limit(
    changes: dict[str, object], field: str, limit: str
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        ToneSpec(**{**BASE, **changes})
    assert field in caught.value.fields
    assert field in str(caught.value)
    assert limit in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_parse_reports_malformed_json() -> None:
    with pytest.raises(InvalidSpecError, match="JSON"):
        ToneSpec.parse("{not json")


def test_spec_is_immutable() -> None:
    spec = ToneSpec(frequencies=[440])
    with pytest.raises(Exception, match="frozen"):
        spec.volume = 1.0  # type: ignore[misc]


# --- waveforms, sweeps and noise (issue 14) ---

NEW_FIELD_CASES = [
    (
        {"frequencies": [{"freq": 20, "freq_end": 30_000}]},
        "frequencies[0].freq_end",
        "Nyquist frequency 22050",
    ),
    ({"frequencies": [{"freq": 20, "sweep": "log"}]}, "frequencies[0].sweep", "needs freq_end"),
    ({"frequencies": [{"freq": 20, "sweep": "cubic"}]}, "frequencies[0].sweep", "'log'"),
    ({"frequencies": [{"freq": 440, "waveform": "saw"}]}, "frequencies[0].waveform", "'sawtooth'"),
    (
        {"frequencies": [{"freq": 20, "freq_end": 200, "waveform": "square"}]},
        "frequencies[0].waveform",
        "must be 'sine' for a sweep",
    ),
    ({"frequencies": [{"freq": 20, "freq_end": 20}]}, "frequencies[0].freq_end", "must differ"),
    (
        {"frequencies": [{"freq": 0.5, "waveform": "square"}]},
        "frequencies[0].freq",
        "at least 0.6729 Hz",
    ),
    ({"frequencies": [{"freq": 20, "freq_end": 0}]}, "frequencies[0].freq_end", "greater than 0"),
    ({"frequencies": [{"freq": 20, "freq_end": "Z9"}]}, "frequencies[0]", "freq_end: 'Z9'"),
    ({"frequencies": [], "noise": {"color": "blue"}}, "noise.color", "'pink'"),
    ({"frequencies": [], "noise": {"color": "pink", "amplitude": 1.5}}, "noise.amplitude", "1"),
    ({"frequencies": [], "noise": {"color": "pink", "amplitude": -0.1}}, "noise.amplitude", "0"),
    ({"frequencies": [], "noise": {"amplitude": 0.5}}, "noise.color", "required"),
    ({"frequencies": [], "noise": {"color": "pink", "seed": 3}}, "noise.seed", "not a known"),
    ({"frequencies": []}, "frequencies", "at least 1 partial unless noise is given"),
]


@pytest.mark.parametrize(("changes", "field", "limit"), NEW_FIELD_CASES)
def test_new_fields_name_field_and_limit(
    changes: dict[str, object], field: str, limit: str
) -> None:
    with pytest.raises(InvalidSpecError) as caught:
        ToneSpec(**{**BASE, **changes})
    assert field in caught.value.fields
    assert limit in str(caught.value)


def test_specs_from_before_keep_their_json_and_hash() -> None:
    """New fields are left out at their defaults: cached files keep their keys."""
    spec = ToneSpec(frequencies=[440])
    assert spec.canonical_json() == (
        '{"bits_per_sample":16,"dither":false,"duration":1.0,"fade_in":0.005,'
        '"fade_out":0.005,"frequencies":[{"amplitude":1.0,"channel":null,"freq":440.0,'
        '"phase":0.0}],"number_of_channels":1,"sample_rate":44100,"volume":0.5}'
    )
    assert spec.spec_hash == "e04b86e51d1d2637e84c40548f7f4dc8e84ad9a4c5915d6764bd0c7ea2160779"
    assert spec == ToneSpec(frequencies=[{"freq": 440, "waveform": "sine"}], noise=None)


def test_new_fields_travel_in_the_canonical_json() -> None:
    spec = ToneSpec(
        frequencies=[
            {"freq": "A4", "waveform": "square"},
            {"freq": 20, "freq_end": "A9"},
            {"freq": 100, "freq_end": 50, "sweep": "linear"},
        ],
        noise="pink",
    )
    data = json.loads(spec.canonical_json())
    assert data["frequencies"][0] == {
        "amplitude": 1.0, "channel": None, "freq": 440.0, "phase": 0.0, "waveform": "square",
    }  # fmt: skip
    assert data["frequencies"][1]["sweep"] == "log"  # freq_end alone means a log sweep
    assert data["frequencies"][1]["freq_end"] == pytest.approx(midi_to_hz(129))
    assert data["noise"] == {"color": "pink", "amplitude": 1.0}
    assert ToneSpec.parse(spec.canonical_json()) == spec
    explicit = ToneSpec(
        frequencies=[
            {"freq": 440, "waveform": "square"},
            {"freq": 20, "freq_end": midi_to_hz(129), "sweep": "log"},
            {"freq": 100, "freq_end": 50, "sweep": "linear"},
        ],
        noise={"color": "pink", "amp": 1},
    )
    assert explicit.spec_hash == spec.spec_hash


def test_noise_alone_is_a_spec() -> None:
    spec = ToneSpec.parse('{"frequencies": [], "noise": {"color": "brown", "amplitude": 0.2}}')
    assert spec.frequencies == ()
    assert spec.noise is not None
    assert spec.noise.color == "brown"


# --- the JSON schema documents the shorthands validation accepts ---

SHORTHANDS = [
    {"frequencies": [440, "A4", "midi:69", "1.5kHz", {"freq": 220}]},
    {"frequencies": [{"freq": "C#5", "freq_end": "midi:100", "sweep": "linear"}]},
    {"frequencies": [440.5], "volume": "-20dB"},
    {"frequencies": [], "noise": "pink"},
    {"frequencies": [], "noise": {"color": "brown", "amplitude": 0.2}},
]


@pytest.mark.parametrize("document", SHORTHANDS)
def test_the_json_schema_accepts_every_shorthand_the_model_takes(
    document: dict[str, object],
) -> None:
    """pydantic documents the validated types (``freq`` a number, items objects); the
    schema (and so ``/openapi.json``) must also admit what the validators read."""
    ToneSpec.parse(document)  # valid...
    validator = jsonschema.Draft202012Validator(ToneSpec.model_json_schema())
    assert list(validator.iter_errors(document)) == []  # ...and documented as valid


@pytest.mark.parametrize(
    "document",
    [
        {"frequencies": [True]},
        {"frequencies": [-3]},
        {"frequencies": [{"freq": 0}]},
        {"frequencies": [440], "noise": "blue"},
        {"frequencies": [440], "volume": 2},
    ],
)
def test_the_json_schema_still_rejects_what_the_model_rejects(document: dict[str, object]) -> None:
    with pytest.raises(InvalidSpecError):
        ToneSpec.parse(document)
    validator = jsonschema.Draft202012Validator(ToneSpec.model_json_schema())
    assert list(validator.iter_errors(document)) != []
