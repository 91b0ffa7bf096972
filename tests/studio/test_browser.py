"""End to end: the tone studio notebook in JupyterLab, driven in Chromium with the mouse.

Starts JupyterLab on 127.0.0.1 in a temporary copy of the notebook, runs it, drags the
second partial's frequency slider and checks what the browser holds: the audio
element's source changes to a WAV whose FFT shows the new frequency (the one the typed
entry displays), and the plot images change; choosing "square" in the first row's wave
dropdown brings its odd harmonics; then play and stop drive the element.
Screenshots (``tone_studio_start.png`` is the README's picture) and the server log go to
``artifacts/``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import soundfile as sf

from tests.browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_MISSING,
    ROOT,
    launch_chromium,
    running_jupyterlab,
)
from wavekit.audio.measure import strongest_frequencies

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = ROOT / "notebooks" / "01_tone_studio.ipynb"
T = TypeVar("T")

# Reads an element's blob: source and its bytes in one go (the page revokes a blob URL
# as soon as the widget gets a new value, so src and bytes must come together).
FETCH_SOURCE = """async (el) => {
  const src = el.src;
  if (!src || !src.startsWith('blob:')) return null;
  try {
    const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return [src, btoa(text)];
  } catch (e) {
    return null;
  }
}"""
KERNEL_IDLE = """() => {
  const widget = window.jupyterapp?.shell?.currentWidget;
  return widget?.sessionContext?.session?.kernel?.status === 'idle';
}"""


def source(page: Any, selector: str) -> tuple[str, bytes] | None:
    found = page.locator(selector).first.evaluate(FETCH_SOURCE)
    return None if found is None else (found[0], base64.b64decode(found[1]))


def eventually(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll ``probe`` until it returns something truthy (bounded: a browser is involved)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def strongest(wav: bytes, count: int) -> list[float]:
    """The ``count`` strongest frequencies, strongest first."""
    signal, rate = sf.read(io.BytesIO(wav), always_2d=True)
    return [p.freq for p in strongest_frequencies(signal[:, 0], rate, count, floor_db=-50)]


def frequencies(wav: bytes) -> list[float]:
    signal, rate = sf.read(io.BytesIO(wav), always_2d=True)
    return sorted(p.freq for p in strongest_frequencies(signal[:, 0], rate, 2, floor_db=-50))


@pytest.mark.timeout(300)
def test_dragging_a_frequency_slider_updates_audio_and_plots(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root)
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        running_jupyterlab(root, tmp_path / "jupyter", ARTIFACTS / "jupyterlab.log") as lab,
        launch_chromium(viewport={"width": 1400, "height": 1600}) as page,
    ):
        page.set_default_timeout(60_000)
        try:
            drive_the_studio(page, lab.lab_url(NOTEBOOK.name))
        finally:
            with contextlib.suppress(Exception):  # keep the test's own error, if any
                page.screenshot(path=str(ARTIFACTS / "tone_studio_browser.png"), full_page=True)


def drive_the_studio(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(".wavekit-studio").wait_for(state="visible", timeout=120_000)

    audio_before = eventually(lambda: source(page, ".wavekit-audio"), 60, "the audio")
    spectrum_before = eventually(lambda: source(page, ".wavekit-spectrum"), 60, "the spectrum")
    waveform_before = eventually(lambda: source(page, ".wavekit-waveform"), 60, "the waveform")
    assert frequencies(audio_before[1]) == pytest.approx([440.0, 445.0], abs=0.05)
    entry = page.locator(".wavekit-frequency-entry input").nth(1)
    assert entry.input_value() == "445"
    page.locator(".wavekit-studio").screenshot(path=str(ARTIFACTS / "tone_studio_start.png"))

    # Drag the second partial's slider handle to the right with the mouse.
    handle = page.locator(".wavekit-frequency").nth(1).locator(".noUi-handle")
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 6 * step, y)
        time.sleep(0.03)
    page.mouse.up()

    # The kernel writes each new frequency into the typed entry; wait until it stops
    # moving (the drag's last value has arrived), then for the audio to match it.
    seen: list[str] = []

    def entry_settled() -> float | None:
        seen.append(entry.input_value())
        recent = seen[-10:]  # one second of polls
        if len(recent) == 10 and len(set(recent)) == 1 and recent[0] != "445":
            return float(recent[0])
        return None

    new_freq = eventually(entry_settled, 30, "the typed entry to settle")
    assert new_freq > 445.0

    def settled() -> tuple[str, bytes] | None:
        now = source(page, ".wavekit-audio")
        if now is None:
            return None
        return now if frequencies(now[1]) == pytest.approx([440.0, new_freq], abs=0.05) else None

    audio_after = eventually(settled, 30, f"audio with 440 Hz and {new_freq} Hz")
    assert audio_after[0] != audio_before[0]  # the element's source changed
    assert audio_after[1] != audio_before[1]
    assert f"{entry.input_value()} Hz" in page.locator(".wavekit-status").inner_text()

    # Plots follow the audio: both images get new sources with different pictures.
    for selector, before in (
        (".wavekit-spectrum", spectrum_before),
        (".wavekit-waveform", waveform_before),
    ):
        after = eventually(
            lambda s=selector, b=before: (n := source(page, s)) and n[1] != b[1] and n,
            30,
            f"{selector} to change",
        )
        assert after[0] != before[0]

    page.locator(".wavekit-studio").screenshot(path=str(ARTIFACTS / "tone_studio_moved.png"))

    # The first row's wave dropdown: a square brings odd harmonics (3 x 440, 5 x 440 Hz).
    before_square = source(page, ".wavekit-audio")
    assert before_square is not None
    page.locator(".wavekit-waveform-choice select").first.select_option("square")

    def square_arrived() -> bytes | None:
        now = source(page, ".wavekit-audio")
        return now[1] if now and now[1] != before_square[1] else None

    square = eventually(square_arrived, 30, "audio with a square first partial")
    found = strongest(square, 4)
    assert found[:2] == pytest.approx([440.0, new_freq], abs=0.05)
    assert found[2:] == pytest.approx([1320.0, 2200.0], abs=0.05)
    assert "440 Hz square" in page.locator(".wavekit-status").inner_text()

    # Play and stop drive the browser's audio element.
    audio = page.locator(".wavekit-audio")
    page.locator(".wavekit-studio button", has_text="play").click()
    page.wait_for_function(
        "() => { const a = document.querySelector('.wavekit-audio');"
        " return !a.paused && a.currentTime > 0; }",
        timeout=20_000,
    )
    page.locator(".wavekit-studio button", has_text="stop").click()
    page.wait_for_function("() => document.querySelector('.wavekit-audio').paused")
    assert audio.evaluate("a => a.currentTime") == 0
