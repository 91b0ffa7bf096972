"""Waveforms, sweeps and noise through the service over real HTTP (issue 14, item 6).

A real ``wavekit serve`` on localhost: bad values of the new fields are 422 answers that
name the field and its limit (a sweep end above Nyquist names
``frequencies[0].freq_end``); good ones go POST → job → download, and the file decodes
to the signal asked for, checked with scipy (Kaiser-windowed FFT, Hilbert, Welch), and
is byte for byte what the library makes for the same spec. ``/openapi.json`` documents
the new fields.
"""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from scipy import signal as sps

from tests.service.conftest import LiveServer, wait_ready
from wavekit import ToneSpec, to_bytes

# (spec sent, the one field the 422 must name, words its message must hold)
REJECTED: dict[str, tuple[dict[str, Any], str, str]] = {
    "sweep end above Nyquist": (
        {"frequencies": [{"freq": 20, "freq_end": 30_000}], "sample_rate": 44_100},
        "frequencies[0].freq_end",
        "30000 Hz must be below the Nyquist frequency 22050 Hz",
    ),
    "sweep end at Nyquist of 8 kHz": (
        {"frequencies": [440, {"freq": 100, "freq_end": 4000}], "sample_rate": 8000},
        "frequencies[1].freq_end",
        "Nyquist frequency 4000 Hz",
    ),
    "sweep end not positive": (
        {"frequencies": [{"freq": 100, "freq_end": -5}]},
        "frequencies[0].freq_end",
        "greater than 0",
    ),
    "sweep end equals start": (
        {"frequencies": [{"freq": 100, "freq_end": 100}]},
        "frequencies[0].freq_end",
        "must differ from freq",
    ),
    "sweep law without an end": (
        {"frequencies": [{"freq": 100, "sweep": "linear"}]},
        "frequencies[0].sweep",
        "needs freq_end",
    ),
    "unknown sweep law": (
        {"frequencies": [{"freq": 100, "freq_end": 200, "sweep": "cubic"}]},
        "frequencies[0].sweep",
        "'log' or 'linear'",
    ),
    "square sweep": (
        {"frequencies": [{"freq": 100, "freq_end": 200, "waveform": "square"}]},
        "frequencies[0].waveform",
        "must be 'sine' for a sweep",
    ),
    "unknown waveform": (
        {"frequencies": [{"freq": 100, "waveform": "saw"}]},
        "frequencies[0].waveform",
        "'sine', 'square', 'triangle' or 'sawtooth'",
    ),
    "square below its lowest frequency": (
        {"frequencies": [{"freq": 0.5, "waveform": "square"}]},
        "frequencies[0].freq",
        "at most 32768 harmonics",
    ),
    "unknown noise colour": (
        {"frequencies": [], "noise": {"color": "blue"}},
        "noise.color",
        "'white', 'pink' or 'brown'",
    ),
    "noise too loud": (
        {"frequencies": [440], "noise": {"color": "pink", "amplitude": 2}},
        "noise.amplitude",
        "less than or equal to 1",
    ),
    "no partials and no noise": ({"frequencies": []}, "frequencies", "unless noise is given"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_bad_synthesis_fields_are_422_naming_the_field(case: str, live_server: LiveServer) -> None:
    spec, field, words = REJECTED[case]
    answer = httpx.post(f"{live_server.url}/waves", json=spec)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "invalid_spec"
    assert [problem["field"] for problem in body["detail"]] == [field]
    assert words in body["detail"][0]["message"]


def fetch_wav(client: httpx.Client, spec: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """POST the spec, wait for the job, follow the download link: the file and final job."""
    accepted = client.post("/waves", json=spec)
    assert accepted.status_code == 202, accepted.text
    ready = wait_ready(client, accepted.json()["request_id"])
    assert ready["status"] == "ready", ready
    redirect = client.get(f"/waves/{ready['request_id']}/download")
    assert redirect.status_code == 303
    data = httpx.get(redirect.headers["location"]).content
    return data, ready


def decode(data: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    return samples, rate


def kaiser_db(x: np.ndarray) -> np.ndarray:
    """Magnitude spectrum in dB of the strongest bin, Kaiser window (β 20: -150 dB sidelobes)."""
    window = sps.get_window(("kaiser", 20.0), len(x))
    magnitude = np.abs(np.fft.rfft(x * window))
    return 20 * np.log10(magnitude / magnitude.max() + 1e-300)


def test_square_wave_comes_back_with_odd_harmonics(live_server: LiveServer) -> None:
    spec = {"frequencies": [{"freq": 500, "waveform": "square"}], "duration": 1.0,
            "sample_rate": 48_000, "bits_per_sample": 24, "fade_in": 0, "fade_out": 0}  # fmt: skip
    with httpx.Client(base_url=live_server.url) as client:
        data, ready = fetch_wav(client, spec)
    assert ready["spec"]["frequencies"][0]["waveform"] == "square"
    assert data == to_bytes(ToneSpec.parse(spec))  # the service adds nothing of its own
    samples, rate = decode(data)
    assert rate == 48_000
    db = kaiser_db(samples[:, 0])  # 1 s: bin k is k Hz
    for n in range(1, 10):
        level = db[500 * n]
        if n % 2:
            assert level == pytest.approx(20 * np.log10(1 / n), abs=0.3), n
        else:
            assert level < -100, n  # even harmonics absent (24-bit floor)
    bins = np.arange(len(db))
    between = np.minimum(bins % 500, 500 - bins % 500) > 20  # off every harmonic's main lobe
    assert db[between].max() < -100  # nothing between the harmonics: no aliases


def test_log_sweep_comes_back_following_its_law(live_server: LiveServer) -> None:
    f0, f1, seconds, rate = 100.0, 10_000.0, 2.0, 44_100
    spec = {"frequencies": [{"freq": f0, "freq_end": f1, "sweep": "log"}], "duration": seconds,
            "sample_rate": rate, "bits_per_sample": 16}  # fmt: skip
    with httpx.Client(base_url=live_server.url) as client:
        data, ready = fetch_wav(client, spec)
    assert ready["spec"]["frequencies"][0]["freq_end"] == f1
    assert data == to_bytes(ToneSpec.parse(spec))
    samples, _ = decode(data)
    phase = np.unwrap(np.angle(sps.hilbert(samples[:, 0])))
    instantaneous = np.diff(phase) * rate / (2 * np.pi)
    t = (np.arange(len(instantaneous)) + 0.5) / rate
    law = f0 * (f1 / f0) ** (t / seconds)
    inner = slice(int(0.05 * rate), int((seconds - 0.05) * rate))  # Hilbert edges ring
    smoothed = np.convolve(instantaneous, np.ones(64) / 64, mode="same")
    assert np.max(np.abs(smoothed[inner] / law[inner] - 1)) < 0.01
    assert np.all(np.diff(smoothed[inner][:: rate // 10]) > 0)  # rising all the way


def welch_slope_db_per_octave(x: np.ndarray, rate: int) -> float:
    freqs, psd = sps.welch(x, rate, window=("kaiser", 8.0), nperseg=8192)
    band = (freqs >= 100) & (freqs <= 10_000)
    slope, _ = np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)
    return float(slope)


def test_pink_noise_with_a_tone_comes_back_with_both(live_server: LiveServer) -> None:
    spec = {"frequencies": [], "noise": {"color": "pink", "amplitude": 1.0}, "duration": 8.0,
            "sample_rate": 44_100, "number_of_channels": 2}  # fmt: skip
    with httpx.Client(base_url=live_server.url) as client:
        data, ready = fetch_wav(client, spec)
        assert ready["spec"]["noise"] == {"color": "pink", "amplitude": 1.0}
        again, _ = fetch_wav(client, spec)
        with_tone = {**spec, "frequencies": [{"freq": 1000, "amplitude": 0.5}], "duration": 2.0}
        mixed, _ = fetch_wav(client, with_tone)
    assert data == again == to_bytes(ToneSpec.parse(spec))  # seeded from the spec: same bytes
    samples, rate = decode(data)
    for channel in range(2):
        assert welch_slope_db_per_octave(samples[:, channel], rate) == pytest.approx(-3.01, abs=0.3)
    # Two channels of independent noise, not one copied.
    assert abs(np.corrcoef(samples[:, 0], samples[:, 1])[0, 1]) < 0.05
    tone, _ = decode(mixed)
    freqs, psd = sps.welch(tone[:, 0], rate, window=("kaiser", 8.0), nperseg=8192)
    near = (freqs > 900) & (freqs < 1100)
    peak = freqs[near][np.argmax(psd[near])]
    assert peak == pytest.approx(1000, abs=rate / 8192)
    assert psd[near].max() > 20 * np.median(psd[near])  # the tone stands out of the noise


def test_openapi_documents_the_new_fields(live_server: LiveServer) -> None:
    document = httpx.get(f"{live_server.url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    partial = schemas["Partial"]["properties"]
    assert partial["waveform"]["enum"] == ["sine", "square", "triangle", "sawtooth"]
    assert partial["waveform"]["default"] == "sine"
    assert {"type": "number", "exclusiveMinimum": 0.0} in partial["freq_end"]["anyOf"]
    assert {"type": "string", "enum": ["log", "linear"]} in partial["sweep"]["anyOf"]
    noise_ref = schemas["ToneSpec"]["properties"]["noise"]["anyOf"]
    assert {"$ref": "#/components/schemas/Noise"} in noise_ref
    noise = schemas["Noise"]
    assert noise["required"] == ["color"]
    assert noise["properties"]["color"]["enum"] == ["white", "pink", "brown"]
    assert (
        noise["properties"]["amplitude"]["minimum"],
        noise["properties"]["amplitude"]["maximum"],
    ) == (0.0, 1.0)
    body = document["paths"]["/waves"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/ToneSpec"}
