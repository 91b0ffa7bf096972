"""Property-based tests over the spec space (hypothesis)."""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wavekit import InvalidSpecError, ToneSpec, to_bytes
from wavekit.audio.spec import BIT_DEPTHS, MAX_HARMONICS

SUBTYPE = {8: "PCM_U8", 16: "PCM_16", 24: "PCM_24", 32: "PCM_32", "float32": "FLOAT"}


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    rate = draw(st.integers(8_000, 192_000))
    channels = draw(st.integers(1, 8))
    nyquist = rate / 2
    partial = st.fixed_dictionaries(
        {
            "freq": st.floats(1.0, nyquist, exclude_max=True),
            "amplitude": st.floats(0.0, 1.0),
            "phase": st.floats(-math.pi, math.pi),
            "channel": st.none() | st.integers(0, channels - 1),
        }
    )
    duration = draw(st.floats(1 / rate, 0.05))
    fade = st.floats(0.0, duration / 2)
    return {
        "frequencies": draw(st.lists(partial, min_size=1, max_size=32)),
        "volume": draw(st.floats(0.0, 1.0)),
        "duration": duration,
        "sample_rate": rate,
        "bits_per_sample": draw(st.sampled_from(BIT_DEPTHS)),
        "number_of_channels": channels,
        "fade_in": draw(fade),
        "fade_out": draw(fade),
        "dither": draw(st.booleans()),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs())
def test_valid_specs_encode_and_decode(fields: dict[str, Any]) -> None:
    spec = ToneSpec(**fields)
    data = to_bytes(spec)
    info = sf.info(io.BytesIO(data))
    assert info.samplerate == spec.sample_rate
    assert info.channels == spec.number_of_channels
    assert info.frames == round(spec.duration * spec.sample_rate)
    assert info.subtype == SUBTYPE[spec.bits_per_sample]
    samples, _ = sf.read(io.BytesIO(data), always_2d=True)
    assert np.all(np.isfinite(samples))
    lsb = 1 / 127 if spec.bits_per_sample == 8 else 1 / 32767
    rounding = 1.5 if spec.dither else 0.5  # TPDF dither adds up to ±1 LSB before rounding
    assert np.max(np.abs(samples)) <= spec.volume + rounding * lsb + 1e-12


BROKEN_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "frequencies": st.just([]) | st.lists(st.just(440.0), min_size=33, max_size=40),
    "volume": st.floats(1.0, exclude_min=True)
    | st.floats(max_value=0.0, exclude_max=True)
    | st.just(math.nan)
    | st.text(max_size=5),
    "duration": st.floats(max_value=0.0) | st.just(math.inf) | st.just(math.nan),
    "sample_rate": st.integers(max_value=7_999) | st.integers(min_value=192_001),
    "bits_per_sample": st.integers(0, 64).filter(lambda b: b not in (8, 16, 24, 32)),
    "number_of_channels": st.integers(max_value=0) | st.integers(min_value=9),
    "fade_in": st.floats(max_value=0.0, exclude_max=True),
    "fade_out": st.floats(max_value=0.0, exclude_max=True),
}


@settings(max_examples=150, deadline=None)
@given(valid_specs(), st.sampled_from(sorted(BROKEN_FIELDS)), st.data())
def test_invalid_field_always_raises_naming_it(
    fields: dict[str, Any], field: str, data: st.DataObject
) -> None:
    fields[field] = data.draw(BROKEN_FIELDS[field])
    with pytest.raises(InvalidSpecError) as caught:
        ToneSpec(**fields)
    named = caught.value.fields
    assert any(name == field or name.startswith(f"{field}[") for name in named), caught.value


@settings(max_examples=50, deadline=None)
@given(valid_specs(), st.floats(1.0, 1e6))
def test_frequency_at_or_above_nyquist_names_its_index(
    fields: dict[str, Any], extra: float
) -> None:
    fields["frequencies"] = [*fields["frequencies"][:3], fields["sample_rate"] / 2 + extra - 1.0]
    index = len(fields["frequencies"]) - 1
    with pytest.raises(InvalidSpecError, match="Nyquist") as caught:
        ToneSpec(**fields)
    assert f"frequencies[{index}].freq" in caught.value.fields


# --- waveforms, sweeps and noise (issue 14) ---


@st.composite
def rich_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Valid specs mixing sines, band-limited waves, sweeps and noise."""
    fields = draw(valid_specs())
    nyquist = fields["sample_rate"] / 2
    frequency = st.floats(1.0, nyquist, exclude_max=True)
    for partial in fields["frequencies"]:
        kind = draw(st.sampled_from(["sine", "square", "triangle", "sawtooth", "sweep"]))
        if kind == "sweep":
            partial["freq_end"] = draw(frequency.filter(lambda f, p=partial: f != p["freq"]))
            partial["sweep"] = draw(st.sampled_from(["log", "linear"]))
        else:
            partial["waveform"] = kind
            if kind != "sine":  # at most MAX_HARMONICS harmonics below Nyquist
                partial["freq"] = max(partial["freq"], nyquist / MAX_HARMONICS)
    if draw(st.booleans()):
        fields["noise"] = {
            "color": draw(st.sampled_from(["white", "pink", "brown"])),
            "amplitude": draw(st.floats(0.0, 1.0)),
        }
        fields["frequencies"] = fields["frequencies"][: draw(st.integers(0, 3))]
    return fields


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_specs())
def test_rich_specs_encode_decode_and_stay_within_volume(fields: dict[str, Any]) -> None:
    spec = ToneSpec(**fields)
    assert ToneSpec.parse(spec.canonical_json()) == spec
    data = to_bytes(spec)
    assert to_bytes(ToneSpec.parse(spec.canonical_json())) == data  # same spec, same bytes
    info = sf.info(io.BytesIO(data))
    assert info.frames == spec.frames
    samples, _ = sf.read(io.BytesIO(data), always_2d=True)
    assert np.all(np.isfinite(samples))
    lsb = 1 / 127 if spec.bits_per_sample == 8 else 1 / 32767
    rounding = 1.5 if spec.dither else 0.5
    assert np.max(np.abs(samples)) <= spec.volume + rounding * lsb + 1e-12


@settings(max_examples=80, deadline=None)
@given(valid_specs(), st.data())
def test_sweep_end_at_or_above_nyquist_names_its_index(
    fields: dict[str, Any], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(fields["frequencies"]) - 1))
    fields["frequencies"][index]["freq_end"] = data.draw(st.floats(fields["sample_rate"] / 2, 1e7))
    with pytest.raises(InvalidSpecError, match="Nyquist") as caught:
        ToneSpec(**fields)
    assert f"frequencies[{index}].freq_end" in caught.value.fields


@settings(max_examples=60, deadline=None)
@given(
    valid_specs(),
    st.text(max_size=8).filter(lambda t: t not in {"sine", "square", "triangle", "sawtooth"}),
)
def test_unknown_waveform_names_its_field(fields: dict[str, Any], waveform: str) -> None:
    fields["frequencies"][0]["waveform"] = waveform
    with pytest.raises(InvalidSpecError) as caught:
        ToneSpec(**fields)
    assert "frequencies[0].waveform" in caught.value.fields
