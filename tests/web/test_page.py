"""The page served by ``wavekit serve`` itself: form → job → download, both download paths."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile as sf

from tests.service.conftest import LiveServer
from tests.web.conftest import (
    Browsed,
    Tone,
    assert_wav_is,
    fill_form,
    open_page,
    save_download,
    screenshot,
    wait_done,
)

pytestmark = pytest.mark.browser

TONES = {
    "two-partials-24bit-stereo-by-url": Tone(
        ("440", "660"), (440, 660), duration="1.5", sample_rate=22_050, bits="24", channels=2
    ),
    "note-names-8bit-by-url": Tone(
        ("A4", "1.1kHz", "midi:81"),
        (440, 1100, 880),
        duration="0.5",
        sample_rate=8000,
        bits="8",
        volume="-6dB",
    ),
    "float32-three-channels-in-chunks": Tone(
        ("300", "2500"),
        (300, 2500),
        duration="0.75",
        sample_rate=48_000,
        bits="float32",
        channels=3,
        chunks=True,
    ),
    "int32-in-chunks": Tone(
        ("1000",), (1000,), duration="0.25", sample_rate=16_000, bits="32", volume="1", chunks=True
    ),
}


def is_post_waves(response: object) -> bool:
    return bool(response.url.endswith("/waves") and response.request.method == "POST")  # type: ignore[attr-defined]


def shown_peaks(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"([\d.]+) Hz", text)]


@pytest.mark.parametrize("name", list(TONES))
def test_form_makes_the_requested_wav(
    name: str, browsed: Browsed, api: LiveServer, tmp_path: Path
) -> None:
    tone = TONES[name]
    page = open_page(browsed, api.url)
    fill_form(page, tone)
    with page.expect_response(is_post_waves) as posted:
        page.get_by_role("button", name="Make WAV").click()
    assert posted.value.status == 202
    request_id = posted.value.json()["request_id"]
    assert wait_done(page) == "ready", page.inner_text("#status")

    status = page.inner_text("#status")
    assert ("in chunks" in status) == tone.chunks
    if tone.chunks:
        assert "Every chunk's SHA-256 matched" in status
    depth = "32-bit float" if tone.bits == "float32" else f"{tone.bits}-bit"
    assert page.inner_text("#file-info").startswith(f"{tone.sample_rate} Hz · {depth} · ")
    for hz in tone.hz:  # the browser's own FFT found every partial
        assert any(abs(hz - found) < 1 for found in shown_peaks(page.inner_text("#peaks")))
    if name == next(iter(TONES)):
        screenshot(page, "web_page.png")

    wav = save_download(page, tmp_path / "tone.wav")
    assert_wav_is(wav, tone)
    # One network download serves the player and the button; the service saw it.
    assert httpx.get(f"{api.url}/waves/{request_id}").json()["status"] == "downloaded"
    assert browsed.errors == []


RECORD_PROGRESS = """() => {
  window.progressSeen = [];
  const bar = document.getElementById("progress");
  new MutationObserver(() => {
    if (bar.hasAttribute("value")) window.progressSeen.push([bar.value, bar.max]);
  }).observe(bar, { attributes: true, attributeFilter: ["value", "max"] });
}"""


@pytest.mark.slow
def test_a_60_s_stereo_24_bit_tone_arrives_complete_in_chunks(
    browsed: Browsed, api: LiveServer, tmp_path: Path
) -> None:
    tone = Tone(("440", "445"), (440, 445), "60", 48_000, bits="24", channels=2, chunks=True)
    page = open_page(browsed, api.url)
    fill_form(page, tone)
    page.evaluate(RECORD_PROGRESS)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page, timeout_ms=120_000) == "ready", page.inner_text("#status")

    wav = save_download(page, tmp_path / "long.wav")
    size = wav.stat().st_size
    assert size > 17_280_000  # 60 s x 48000 x 2 channels x 3 bytes, plus the header
    chunks = [u for m, u in browsed.requests if "/chunks/" in u]
    offsets = [int(httpx.URL(u).path.rsplit("/", 1)[1]) for u in chunks]
    assert offsets == list(range(-(-size // (4 << 20))))
    tokens = [httpx.URL(u).params.get("download_token") for u in chunks]
    assert tokens[0] is None  # the first chunk claims the download (download-once)
    assert len(set(tokens[1:])) == 1
    assert tokens[1]
    assert len(chunks) == 5
    assert not any("/download" in u for _, u in browsed.requests)

    seen = page.evaluate("window.progressSeen")
    values = [v for v, _ in seen]
    assert values == sorted(values)
    assert values[-1] == size
    assert {m for _, m in seen} == {size}
    assert len({v for v in values if 0 < v < size}) >= 4  # it moved chunk by chunk
    assert page.inner_text("#file-info").endswith(f"60.000 s · {size:,} bytes")

    assert sf.info(str(wav)).frames == 60 * 48_000
    assert_wav_is(wav, tone)
    assert browsed.errors == []


def test_a_failed_or_gone_job_is_explained(browsed: Browsed, api: LiveServer) -> None:
    """A job already downloaded elsewhere (download once) gives the service's reason."""
    page = open_page(browsed, api.url)
    tone = Tone(("523.25",), (523.25,), duration="0.2")
    fill_form(page, tone)

    def steal(route: object) -> None:
        # Someone else downloads the file between "ready" and our download.
        request_id = route.request.url.rsplit("/", 2)[-2]  # type: ignore[attr-defined]
        httpx.get(f"{api.url}/waves/{request_id}/download")
        route.continue_()  # type: ignore[attr-defined]

    page.route("**/waves/*/download", steal)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "error"
    assert "the file was already downloaded (files download once)" in page.inner_text("#status")
    assert page.locator("#output").is_hidden()


def test_a_chunk_damaged_in_transit_is_refused(browsed: Browsed, api: LiveServer) -> None:
    """A proxy that alters a chunk's bytes: its SHA-256 no longer matches, nothing is saved."""
    page = open_page(browsed, api.url)
    fill_form(page, Tone(("700",), (700,), duration="0.3", chunks=True))

    def damage(route: Any) -> None:
        answer = route.fetch()  # the real service's answer...
        body = answer.json()
        raw = bytearray(base64.b64decode(body["file"]))
        raw[100] ^= 0xFF  # ...with one byte flipped on the way
        body["file"] = base64.b64encode(bytes(raw)).decode()
        route.fulfill(response=answer, json=body)

    page.route("**/waves/*/chunks/0", damage)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "error"
    assert "Chunk 0 is corrupt: its SHA-256 does not match." in page.inner_text("#status")
    assert page.locator("#output").is_hidden()
