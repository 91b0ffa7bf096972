"""The page's waveform, sweep and noise controls, in Chromium against a real service.

A person's steps through the labels (choose a wave, tick a sweep, type its end, pick a
noise colour), the file downloaded as a person would, then checked with scipy: the
square's odd harmonics, the sweep's frequency rising along its law (spectrogram ridge),
the pink noise's presence and slope where no partial plays. The file must also be byte
for byte what the library makes for the tone designed, so the form sent exactly that.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from scipy import signal as sps

from tests.service.conftest import LiveServer
from tests.web.conftest import Browsed, open_page, save_download, screenshot, wait_done
from wavekit import ToneSpec, to_bytes

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Row:
    freq: str
    wave: str = "sine"
    sweep_end: str | None = None
    law: str = "log"


def design(page: Any, rows: list[Row], noise: str = "none", amplitude: str = "0.5") -> None:
    """Fill the frequency rows and the noise through the labels a person reads."""
    add = page.get_by_role("button", name="Add frequency")
    while page.locator("#freq-list > li").count() < len(rows):
        add.click()
    page.get_by_label("Noise colour").select_option(noise)
    if noise != "none":
        page.get_by_label("Noise amplitude").fill(amplitude)
    while page.locator("#freq-list > li").count() > len(rows):
        count = page.locator("#freq-list > li").count()
        page.get_by_role("button", name=f"Remove frequency {count}", exact=True).click()
    for n, row in enumerate(rows, start=1):
        page.get_by_label(f"Frequency {n}", exact=True).fill(row.freq)
        page.get_by_label(f"Waveform {n}", exact=True).select_option(row.wave)
        page.get_by_label(f"Sweep {n}", exact=True).set_checked(row.sweep_end is not None)
        if row.sweep_end is not None:
            page.get_by_label(f"Sweep end {n} (Hz)", exact=True).fill(row.sweep_end)
            page.get_by_label(f"Sweep law {n}", exact=True).select_option(row.law)


def make_and_download(page: Any, path: Path, duration: str = "2") -> Path:
    page.get_by_label("Duration (seconds)").fill(duration)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "ready", page.inner_text("#status")
    return save_download(page, path)


def kaiser_db(x: np.ndarray) -> np.ndarray:
    window = sps.get_window(("kaiser", 20.0), len(x))
    magnitude = np.abs(np.fft.rfft(x * window))
    return 20 * np.log10(magnitude + 1e-300)


def test_square_sweep_and_pink_noise_come_back_in_the_file(
    browsed: Browsed, api: LiveServer, tmp_path: Path
) -> None:
    page = open_page(browsed, api.url)
    design(
        page,
        [Row("440", wave="square"), Row("4000", sweep_end="12kHz", law="log")],
        noise="pink",
        amplitude="0.3",
    )
    screenshot(page, "web_form_synthesis.png")
    with page.expect_request(lambda r: r.url.endswith("/waves") and r.method == "POST") as sent:
        wav = make_and_download(page, tmp_path / "mix.wav")
    body = sent.value.post_data_json
    assert body["frequencies"] == [
        {"freq": 440, "waveform": "square"},
        {"freq": 4000, "freq_end": "12kHz", "sweep": "log"},
    ]
    assert body["noise"] == {"color": "pink", "amplitude": 0.3}
    spec = ToneSpec.parse(body)
    assert wav.read_bytes() == to_bytes(spec)  # what the library makes of the tone sent

    x, rate = sf.read(str(wav), dtype="float64")
    assert rate == 44_100
    seconds = len(x) / rate

    # The square: odd harmonics at 1/n out of the noise (the sweep starts far above them).
    db = kaiser_db(x)
    bin_hz = rate / len(x)
    level = {n: db[round(440 * n / bin_hz)] for n in range(1, 10)}
    for n in (3, 5, 7, 9):
        assert level[n] - level[1] == pytest.approx(20 * np.log10(1 / n), abs=0.3), n
    for n in (2, 4, 6, 8):
        assert level[n] - level[1] < -40, n

    # The sweep: the strongest component away from the square's harmonics rises along
    # 4 kHz * 3^(t/T) (spectrogram ridge, 46 ms frames).
    freqs, times, power = sps.spectrogram(x, rate, window=("kaiser", 8.0), nperseg=2048)
    near_square = np.min(np.abs(freqs[:, None] - 440 * np.arange(1, 51)[None, :]), axis=1) < 60
    power[near_square, :] = 0
    ridge = freqs[np.argmax(power, axis=0)]
    law = 4_000 * 3 ** (times / seconds)
    masked = np.min(np.abs(law[:, None] - 440 * np.arange(1, 51)[None, :]), axis=1) < 120
    checked = (law > 4_100) & (law < 11_800) & ~masked  # frames where the sweep is not masked
    assert checked.sum() > 20
    assert np.all(np.abs(ridge[checked] / law[checked] - 1) < 0.06)
    assert np.all(np.diff(ridge[checked]) > 0)  # rising all the way

    # The noise: below the square's fundamental and above the sweep's end (between the
    # square's lines), -3.01 dB per octave from one band to the other.
    welch_f, psd = sps.welch(x, rate, window=("kaiser", 8.0), nperseg=8192)
    between = np.min(np.abs(welch_f[:, None] - 440 * np.arange(1, 51)[None, :]), axis=1) > 60

    def band_db(lo: float, hi: float) -> float:
        return float(10 * np.log10(np.median(psd[(welch_f > lo) & (welch_f < hi) & between])))

    octaves = np.log2(16_500 / 275)  # the bands' centres
    assert band_db(13_000, 20_000) - band_db(150, 400) == pytest.approx(-3.01 * octaves, abs=1.0)
    silent = to_bytes(spec.with_changes(noise=None))
    y, _ = sf.read(io.BytesIO(silent), dtype="float64")
    _, psd_without = sps.welch(y, rate, window=("kaiser", 8.0), nperseg=8192)
    band = (welch_f > 150) & (welch_f < 400)
    assert np.median(psd[band]) > 1e3 * np.median(psd_without[band])  # 30 dB: noise is there


def test_noise_alone_needs_no_frequency(browsed: Browsed, api: LiveServer, tmp_path: Path) -> None:
    page = open_page(browsed, api.url)
    remove_last = page.get_by_role("button", name="Remove frequency 1", exact=True)
    page.get_by_role("button", name="Remove frequency 2", exact=True).click()
    assert remove_last.is_disabled()  # a tone needs a partial...
    page.get_by_label("Noise colour").select_option("white")
    assert remove_last.is_enabled()  # ...unless it has noise
    remove_last.click()
    assert page.locator("#freq-list > li").count() == 0
    assert page.evaluate("document.activeElement.id") == "add-freq"
    with page.expect_request(lambda r: r.url.endswith("/waves") and r.method == "POST") as sent:
        wav = make_and_download(page, tmp_path / "white.wav", duration="4")
    body = sent.value.post_data_json
    assert (body["frequencies"], body["noise"]) == ([], {"color": "white", "amplitude": 0.5})
    assert wav.read_bytes() == to_bytes(ToneSpec.parse(body))
    x, rate = sf.read(str(wav), dtype="float64")
    freqs, psd = sps.welch(x, rate, window=("kaiser", 8.0), nperseg=8192)
    band = (freqs >= 100) & (freqs <= 10_000)
    slope, _ = np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)
    assert slope == pytest.approx(0.0, abs=0.3)  # white: flat
    assert np.max(np.abs(x)) == pytest.approx(0.5, abs=0.01)  # scaled to the volume

    # Back to no noise with no partial left: the page asks for one before sending.
    page.get_by_label("Noise colour").select_option("none")
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "invalid"
    assert "add at least one frequency" in page.inner_text("#frequencies-error")


# (the rows and noise designed, the input whose message shows, part of the message: the
# page's, or (the page's, the service's) where the service words it its own way)
INVALID: dict[str, tuple[list[Row], tuple[str, str], str, str | tuple[str, str]]] = {
    "sweep end above Nyquist": (
        [Row("440"), Row("100", sweep_end="30000")],
        ("none", "0.5"),
        "sweep-end-1",
        "30000 Hz must be below the Nyquist frequency 22050 Hz",
    ),
    "sweep end missing": (
        [Row("440", sweep_end="")],
        ("none", "0.5"),
        "sweep-end-0",
        ("enter the frequency the sweep ends at", "freq_end: '' is not a frequency"),
    ),
    "sweep end not a frequency": (
        [Row("440", sweep_end="high")],
        ("none", "0.5"),
        "sweep-end-0",
        "'high' is not a frequency",
    ),
    "sweep of a square": (
        [Row("440", wave="square", sweep_end="880")],
        ("none", "0.5"),
        "wave-0",
        "must be 'sine' for a sweep",
    ),
    "sweep to where it starts": (
        [Row("440", sweep_end="A4")],
        ("none", "0.5"),
        "sweep-end-0",
        "must differ from freq",
    ),
    "noise too loud": (
        [Row("440")],
        ("pink", "2"),
        "noise-amplitude",
        ("must be between 0 and 1 (got 2)", "less than or equal to 1 (got 2)"),
    ),
    "noise amplitude empty": (
        [Row("440")],
        ("brown", ""),
        "noise-amplitude",
        ("enter a noise amplitude", "should be a valid number"),
    ),
}


@pytest.mark.parametrize("validate", ["on", "off"])
def test_bad_sweeps_and_noise_are_shown_next_to_their_control(
    validate: str, browsed: Browsed, api: LiveServer
) -> None:
    """With the page's checks on nothing is sent; off, the service's 422 lands in the same place."""
    page = open_page(browsed, f"{api.url}/?validate={validate}")
    for case, (rows, (noise, amplitude), element_id, words) in INVALID.items():
        message = words if isinstance(words, str) else words[validate == "off"]
        design(page, rows, noise, amplitude)
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == ("invalid" if validate == "on" else "error"), case
        assert message in page.inner_text(f"#{element_id}-error"), case
        assert page.get_attribute(f"#{element_id}", "aria-invalid") == "true", case
        if validate == "on":
            assert page.evaluate("document.activeElement.id") == element_id, case
    if validate == "on":
        assert browsed.wave_requests() == []
    else:
        assert len(browsed.wave_requests()) == len(INVALID)  # every verdict is the service's
