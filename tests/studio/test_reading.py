"""The rendered tone's summary and measurement, without widgets."""

from __future__ import annotations

import io

import pytest
import soundfile as sf

from wavekit import ToneSpec, to_bytes
from wavekit.studio.reading import Rendered, measure_rendered, summary_line


def rendered(spec: ToneSpec, seconds: float = 0.0123) -> Rendered:
    data = to_bytes(spec)
    signal, _ = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return Rendered(spec, data, signal, seconds)


def test_summary_names_partials_beats_size_and_time() -> None:
    tone = rendered(ToneSpec(frequencies=[440, 445, 554.365], volume="-20dB", duration=0.5))
    assert summary_line(tone) == (
        f"3 partials: 440, 445, 554.37 Hz · beats 5 Hz · {len(tone.wav):,} bytes"
        " · rendered in 12.3 ms"
    )


def test_summary_of_silence() -> None:
    tone = rendered(ToneSpec(frequencies=[440], volume=0.0, duration=0.1))
    assert tone.peak == 0.0
    assert summary_line(tone).startswith("1 partial: 440 Hz · all muted (silence) · ")


def test_measurement_comes_from_the_decoded_bytes() -> None:
    tone = rendered(ToneSpec(frequencies=[500, 507], volume="-20dB", duration=1.0))
    reading = measure_rendered(tone)
    assert [p.freq for p in reading.strongest] == pytest.approx([500.0, 507.0], abs=0.01)
    assert reading.beats == pytest.approx([7.0], abs=0.01)
    assert reading.peak_dbfs == pytest.approx(-20.0, abs=0.01)
    assert str(reading).splitlines() == [
        "partials: 500.0 Hz, 507.0 Hz",
        "beats: 7.0 Hz",
        "peak: -20.0 dBFS",
    ]
