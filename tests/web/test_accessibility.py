"""Accessibility basics: every control has a name, errors are tied to their inputs, the
whole job can be done from the keyboard, and axe-core finds no WCAG 2.1 A/AA violation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from tests.service.conftest import LiveServer
from tests.web.conftest import (
    VIEWPORT,
    Browsed,
    Tone,
    axe_violations,
    fill_form,
    open_page,
    screenshot,
    wait_done,
)
from wavekit import ToneSpec, to_bytes

pytestmark = pytest.mark.browser

CONTROLS = [
    ("textbox", "Frequency 1"),
    ("textbox", "Frequency 2"),
    ("combobox", "Waveform 1"),
    ("checkbox", "Sweep 2"),
    ("button", "Remove frequency 1"),
    ("button", "Add frequency"),
    ("combobox", "Noise colour"),
    ("textbox", "Volume"),
    ("spinbutton", "Duration (seconds)"),
    ("spinbutton", "Sample rate (Hz)"),
    ("combobox", "Bit depth"),
    ("spinbutton", "Channels"),
    ("checkbox", "Download in base64 chunks"),
    ("button", "Make WAV"),
]


def test_controls_have_names_and_errors_are_described(browsed: Browsed, api: LiveServer) -> None:
    page = open_page(browsed, api.url)
    for role, name in CONTROLS:
        assert page.get_by_role(role, name=name, exact=True).count() == 1, (role, name)
    assert page.get_by_role("status").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("group", name="Frequencies").count() == 1
    assert page.get_by_role("group", name="Noise").count() == 1
    # The sweep's and the noise's own controls appear, named, once asked for.
    page.get_by_role("checkbox", name="Sweep 1", exact=True).check()
    page.get_by_role("combobox", name="Noise colour").select_option("brown")
    for role, name in [
        ("textbox", "Sweep end 1 (Hz)"),
        ("combobox", "Sweep law 1"),
        ("textbox", "Noise amplitude"),
    ]:
        assert page.get_by_role(role, name=name, exact=True).is_visible(), (role, name)
    assert page.get_by_role("textbox", name="Sweep end 2 (Hz)", exact=True).count() == 0
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll("input, select, button")]
            .filter((el) => !el.labels?.length && !el.getAttribute("aria-label")
                            && !el.textContent.trim())
            .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []

    volume = page.get_by_role("textbox", name="Volume")
    volume.fill("3")
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "invalid"
    description = volume.evaluate(
        "(el) => el.getAttribute('aria-describedby').split(' ')"
        ".map((id) => document.getElementById(id).textContent).join(' ')"
    )
    assert "must be between 0 and 1 (got 3)" in description
    from playwright.sync_api import expect

    expect(volume).to_have_accessible_description(re.compile("must be between 0 and 1"))


def focused(page: Any) -> str:
    return str(
        page.evaluate(
            "document.activeElement.id || document.activeElement.getAttribute('aria-label')"
        )
    )


def test_keyboard_alone_designs_and_downloads_a_tone(
    browsed: Browsed, api: LiveServer, tmp_path: Path
) -> None:
    page = open_page(browsed, api.url)
    keys = page.keyboard
    order = []
    for _ in range(19):
        keys.press("Tab")
        order.append(focused(page))
    assert order == [
        "nav-builder", "nav-leaderboards",  # the links to the site's two pages
        "freq-0", "wave-0", "sweep-0", "Remove frequency 1",
        "freq-1", "wave-1", "sweep-1", "Remove frequency 2",
        "add-freq", "noise-color", "volume",  # the noise amplitude shows once a colour is chosen
        "duration", "sample-rate", "bits", "channels", "use-chunks", "submit",
    ]  # fmt: skip

    page.reload()  # start again from the top of the page
    page.wait_for_selector("body[data-state=idle]")
    for _ in range(3):  # past the two links to the site's pages, into the first frequency
        keys.press("Tab")
    keys.press("Control+A")
    keys.type("523.25")
    keys.press("Tab")
    keys.type("sq")  # type-ahead picks "square"
    for _ in range(3):  # past the sweep box and Remove
        keys.press("Tab")
    keys.press("Control+A")
    keys.type("659.25")
    keys.press("Tab")
    keys.press("Tab")
    assert focused(page) == "sweep-1"
    keys.press("Space")  # sweep this one: its end and law appear, next in the tab order
    keys.press("Tab")
    assert focused(page) == "sweep-end-1"
    keys.type("1320")
    keys.press("Tab")
    assert focused(page) == "sweep-law-1"  # log, the default
    keys.press("Tab")
    keys.press("Tab")
    assert focused(page) == "add-freq"
    keys.press("Space")  # a new row, with the focus in it
    assert focused(page) == "freq-2"
    keys.type("784")
    for _ in range(5):  # waveform, sweep, Remove, Add frequency, noise colour
        keys.press("Tab")
    assert focused(page) == "noise-color"
    keys.type("p")  # pink
    keys.press("Tab")
    assert focused(page) == "noise-amplitude"
    keys.press("Control+A")
    keys.type("0.2")
    for _ in range(2):
        keys.press("Tab")
    assert focused(page) == "duration"
    keys.press("Control+A")
    keys.type("0.5")
    keys.press("Tab")
    keys.press("Tab")
    keys.type("24")  # type-ahead picks "24-bit integer"
    keys.press("Tab")
    keys.press("ArrowUp")  # 2 channels
    keys.press("Tab")
    keys.press("Space")  # download in chunks
    keys.press("Tab")
    assert focused(page) == "submit"
    keys.press("Enter")
    assert wait_done(page) == "ready", page.inner_text("#status")

    for _ in range(10):  # past the player's own controls to the download link
        if focused(page) == "download":
            break
        keys.press("Tab")
    assert focused(page) == "download"
    with page.expect_download() as download:
        keys.press("Enter")
    wav = tmp_path / "keyboard.wav"
    download.value.save_as(wav)
    # Exactly the file of the tone designed above (the library makes the same bytes).
    designed = ToneSpec.parse(
        {
            "frequencies": [
                {"freq": 523.25, "waveform": "square"},
                {"freq": 659.25, "freq_end": 1320, "sweep": "log"},
                784,
            ],
            "noise": {"color": "pink", "amplitude": 0.2},
            "volume": 0.5,
            "duration": 0.5,
            "bits_per_sample": 24,
            "number_of_channels": 2,
        }
    )
    assert wav.read_bytes() == to_bytes(designed)
    info = sf.info(str(wav))
    assert (info.channels, info.subtype, info.frames) == (2, "PCM_24", 22_050)
    assert "in chunks" in page.inner_text("#status")


def test_axe_finds_no_violations(
    browser: Any, api: LiveServer, axe_script: Path, tmp_path: Path
) -> None:
    # axe is injected as an inline script, which the page's CSP rightly forbids.
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True, accept_downloads=True)
    try:
        browsed = Browsed(context.new_page())
        page = open_page(browsed, api.url)
        assert axe_violations(page, axe_script) == [], "idle form"

        page.get_by_label("Sweep 2", exact=True).check()
        page.get_by_label("Noise colour").select_option("pink")
        assert axe_violations(page, axe_script) == [], "sweep and noise controls shown"
        page.get_by_label("Sweep end 2 (Hz)", exact=True).fill("30000")
        page.get_by_label("Waveform 2", exact=True).select_option("square")
        page.get_by_label("Noise amplitude").fill("3")
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == "invalid"
        assert axe_violations(page, axe_script) == [], "sweep and noise errors"
        page.get_by_label("Sweep 2", exact=True).uncheck()
        page.get_by_label("Waveform 2", exact=True).select_option("sine")
        page.get_by_label("Noise colour").select_option("none")

        page.get_by_label("Channels").fill("12")
        page.get_by_label("Frequency 2", exact=True).fill("")
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == "invalid"
        assert axe_violations(page, axe_script) == [], "form with errors"

        fill_form(page, Tone(("440", "660"), (440, 660), duration="0.3"))
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == "ready"
        assert axe_violations(page, axe_script) == [], "result with player and preview"
        screenshot(page, "web_page_axe_checked.png")
    finally:
        context.close()
