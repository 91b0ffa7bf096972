"""Live validation in the browser, and the service's own messages next to the right field.

The page's checks must agree with the service (the authority): the mirror test posts
what the page would send to the real service and compares verdicts and field names.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.conftest import LiveServer
from tests.web.conftest import Browsed, Tone, fill_form, open_page, wait_done

pytestmark = pytest.mark.browser

VALID = Tone(("440", "660"), (440, 660), duration="0.2")


def error_of(page: Any, element_id: str) -> str:
    return str(page.inner_text(f"#{element_id}-error"))


# -- nothing is sent for obviously invalid values ------------------------------------------

# (label of the input, value typed, id of the input whose message shows, part of the message)
INVALID = [
    ("Frequency 1", "", "freq-0", "enter a frequency"),
    ("Frequency 1", "loud", "freq-0", "'loud' is not a frequency"),
    ("Frequency 2", "-5", "freq-1", "must be greater than 0 Hz"),
    ("Frequency 2", "30000", "freq-1", "must be below the Nyquist frequency 22050 Hz"),
    ("Volume", "2", "volume", "must be between 0 and 1"),
    ("Volume", "+3dB", "volume", "above the limit of 0 dBFS"),
    ("Duration (seconds)", "0", "duration", "must be greater than 0 s"),
    ("Duration (seconds)", "61", "duration", "must be at most 60 s in the service"),
    ("Duration (seconds)", "0.004", "duration", "must be at least 0.01 s"),
    ("Sample rate (Hz)", "1000", "sample-rate", "must be between 8000 and 192000 Hz"),
    ("Sample rate (Hz)", "44100.5", "sample-rate", "must be a whole number"),
    ("Channels", "0", "channels", "must be between 1 and 8"),
    ("Channels", "9", "channels", "must be between 1 and 8"),
]


def test_obviously_invalid_values_are_caught_before_sending(
    browsed: Browsed, api: LiveServer
) -> None:
    page = open_page(browsed, api.url)
    for label, value, element_id, message in INVALID:
        fill_form(page, VALID)
        page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == "invalid"
        assert message in error_of(page, element_id), (label, value)
        assert page.get_attribute(f"#{element_id}", "aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == element_id  # focus goes there
        assert "nothing was sent" in page.inner_text("#status")
    assert browsed.wave_requests() == []
    # ...and the same form, corrected, is sent and accepted.
    fill_form(page, VALID)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "ready"
    assert [m for m, u in browsed.wave_requests() if u.endswith("/waves")] == ["POST"]


def test_live_validation_follows_the_sample_rate(browsed: Browsed, api: LiveServer) -> None:
    """Messages appear as the user leaves a field, before any submit, and clear when fixed."""
    page = open_page(browsed, api.url)
    frequency = page.get_by_label("Frequency 1", exact=True)
    frequency.fill("5000")
    frequency.press("Tab")
    assert error_of(page, "freq-0") == ""
    rate = page.get_by_label("Sample rate (Hz)")
    rate.fill("8000")
    rate.press("Tab")
    assert "5000 Hz must be below the Nyquist frequency 4000 Hz" in error_of(page, "freq-0")
    assert page.get_attribute("#freq-0", "aria-invalid") == "true"
    rate.fill("16000")
    assert error_of(page, "freq-0") == ""
    assert page.get_attribute("#freq-0", "aria-invalid") is None
    assert browsed.wave_requests() == []


def test_frequency_rows_stay_within_1_to_32(browsed: Browsed, api: LiveServer) -> None:
    page = open_page(browsed, api.url)
    add = page.get_by_role("button", name="Add frequency")
    while add.is_enabled():
        add.click()
    assert page.locator("#freq-list > li").count() == 32
    page.get_by_label("Frequency 32", exact=True).fill("999")
    page.get_by_role("button", name="Remove frequency 1", exact=True).click()
    assert add.is_enabled()
    # Rows are renumbered and focus moves to the row that took the removed one's place.
    assert page.evaluate("document.activeElement.id") == "freq-0"
    assert page.get_by_label("Frequency 31", exact=True).input_value() == "999"
    for n in range(31, 1, -1):
        page.get_by_role("button", name=f"Remove frequency {n}", exact=True).click()
    assert page.get_by_role("button", name="Remove frequency 1", exact=True).is_disabled()
    assert page.locator("#freq-list > li").count() == 1


# -- the service's messages, shown next to the field they name --------------------------------

# (values typed, with client checks off; the fields the service must name; where they show)
SERVER_REJECTS = {
    "above-nyquist": ({"Frequency 2": "30000"}, {"frequencies[1].freq": "freq-1"}),
    "not-a-note": ({"Frequency 1": "H4"}, {"frequencies[0]": "freq-0"}),
    "two-fields": (
        {"Volume": "2", "Channels": "9"},
        {"volume": "volume", "number_of_channels": "channels"},
    ),
    "service-duration-limit": ({"Duration (seconds)": "61"}, {"duration": "duration"}),
    "shorter-than-the-fades": ({"Duration (seconds)": "0.004"}, {"fade_in": "duration"}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(SERVER_REJECTS))
def test_service_messages_are_shown_next_to_the_field(
    case: str, browsed: Browsed, api: LiveServer
) -> None:
    typed, expected = SERVER_REJECTS[case]
    page = open_page(browsed, f"{api.url}/?validate=off")
    fill_form(page, VALID)
    for label, value in typed.items():
        page.get_by_label(label, exact=True).fill(value)
    with page.expect_response(lambda r: r.url.endswith("/waves")) as answer:
        page.get_by_role("button", name="Make WAV").click()
    assert answer.value.status == 422
    detail = answer.value.json()["detail"]
    assert {d["field"] for d in detail} == set(expected)
    assert wait_done(page) == "error"
    assert "The service rejected the tone (422)" in page.inner_text("#status")
    for problem in detail:
        element_id = expected[problem["field"]]
        assert problem["message"] in error_of(page, element_id)
        assert page.get_attribute(f"#{element_id}", "aria-invalid") == "true"
    # Editing the field clears its service message.
    element_id = next(iter(expected.values()))
    page.locator(f"#{element_id}").fill("1")
    assert error_of(page, element_id) == ""


# -- the page's checks agree with the service ----------------------------------------------

BASE = {
    "frequencies": ["440"],
    "volume": "0.5",
    "duration": "0.05",
    "sample_rate": "44100",
    "bits_per_sample": "16",
    "number_of_channels": "1",
}


def swept(freq: str, end: str, law: str = "log", waveform: str = "sine") -> dict[str, Any]:
    """A frequency row as the page reads it, with its sweep box ticked."""
    return {"freq": freq, "waveform": waveform, "sweep": True, "sweep_end": end, "sweep_law": law}


# (changes to BASE, the one field both must name; None = both accept)
MIRROR: list[tuple[dict[str, Any], str | None]] = [
    ({"frequencies": ["22049.9"]}, None),
    ({"frequencies": ["22050"]}, "frequencies[0].freq"),
    ({"frequencies": ["4001"], "sample_rate": "8000"}, "frequencies[0].freq"),
    ({"frequencies": ["440", "0"]}, "frequencies[1].freq"),
    ({"frequencies": ["-5"]}, "frequencies[0].freq"),
    ({"frequencies": ["C#5+15c", "Bb3-20cents", "midi:69", "1.5kHz", "1e3", "a4"]}, None),
    ({"frequencies": ["H4"]}, "frequencies[0]"),
    ({"frequencies": ["440", ""]}, "frequencies[1]"),
    ({"frequencies": ["20kHz"], "sample_rate": "32000"}, "frequencies[0].freq"),
    ({"frequencies": [str(100 + i) for i in range(32)]}, None),
    ({"frequencies": [str(100 + i) for i in range(33)]}, "frequencies"),
    ({"frequencies": []}, "frequencies"),
    ({"volume": "0"}, None),
    ({"volume": "1"}, None),
    ({"volume": "-20dB"}, None),
    ({"volume": "0 dBFS"}, None),
    ({"volume": "1.01"}, "volume"),
    ({"volume": "+1dB"}, "volume"),
    ({"volume": "loud"}, "volume"),
    ({"duration": "0.01"}, None),
    ({"duration": "60"}, None),
    ({"duration": "60.5"}, "duration"),
    ({"duration": "0"}, "duration"),
    ({"duration": "0.0099"}, "duration"),  # the service names fade_in: see below
    ({"sample_rate": "8000"}, None),
    ({"sample_rate": "192000"}, None),
    ({"sample_rate": "7999"}, "sample_rate"),
    ({"sample_rate": "192001"}, "sample_rate"),
    ({"sample_rate": "44100.5"}, "sample_rate"),
    ({"bits_per_sample": "8"}, None),
    ({"bits_per_sample": "24"}, None),
    ({"bits_per_sample": "32"}, None),
    ({"bits_per_sample": "float32"}, None),
    ({"bits_per_sample": "12"}, "bits_per_sample"),
    ({"number_of_channels": "8"}, None),
    ({"number_of_channels": "0"}, "number_of_channels"),
    ({"number_of_channels": "9"}, "number_of_channels"),
    ({"number_of_channels": "1.5"}, "number_of_channels"),
    # waveforms, sweeps and noise (rows as the page reads them)
    ({"frequencies": [{"freq": "440", "waveform": "square"}, "C#5"]}, None),
    ({"frequencies": [{"freq": "A2", "waveform": "sawtooth", "sweep": False}]}, None),
    ({"frequencies": [{"freq": "0.7", "waveform": "triangle"}]}, None),
    ({"frequencies": [{"freq": "0.5", "waveform": "square"}]}, "frequencies[0].freq"),
    ({"frequencies": [{"freq": "0.5", "waveform": "sine"}]}, None),
    ({"frequencies": [swept("20", "20000")]}, None),
    ({"frequencies": [swept("1k", "C8", "linear")]}, "frequencies[0]"),  # "1k" is no frequency
    ({"frequencies": [swept("1kHz", "C8", "linear")]}, None),
    ({"frequencies": [swept("20", "22050")]}, "frequencies[0].freq_end"),
    ({"frequencies": [swept("100", "4000")], "sample_rate": "8000"}, "frequencies[0].freq_end"),
    ({"frequencies": [swept("440", "A4")]}, "frequencies[0].freq_end"),
    ({"frequencies": [swept("440", "-5")]}, "frequencies[0].freq_end"),
    ({"frequencies": [swept("440", "")]}, "frequencies[0]"),
    ({"frequencies": [swept("440", "up")]}, "frequencies[0]"),
    ({"frequencies": [{"freq": "440", "sweep": False, "sweep_end": "up"}]}, None),  # not sweeping
    ({"frequencies": ["440", swept("440", "880", waveform="square")]}, "frequencies[1].waveform"),
    ({"frequencies": [], "noise_color": "pink", "noise_amplitude": "0.5"}, None),
    ({"frequencies": [], "noise_color": "none", "noise_amplitude": "0.5"}, "frequencies"),
    ({"noise_color": "brown", "noise_amplitude": "1"}, None),
    ({"noise_color": "white", "noise_amplitude": "0"}, None),
    ({"noise_color": "white", "noise_amplitude": "1.5"}, "noise.amplitude"),
    ({"noise_color": "white", "noise_amplitude": "-0.1"}, "noise.amplitude"),
    ({"noise_color": "white", "noise_amplitude": "loud"}, "noise.amplitude"),
    ({"noise_color": "pink", "noise_amplitude": ""}, "noise.amplitude"),
    ({"noise_color": "none", "noise_amplitude": "loud"}, None),  # no colour: no noise at all
]  # fmt: skip

CHECK_IN_PAGE = """async (values) => {
  const m = await import("/validate.js");
  return { problems: m.check(values, { maxDurationS: 60 }), spec: m.toSpec(values) };
}"""


def test_page_checks_agree_with_the_service(browsed: Browsed, api: LiveServer) -> None:
    page = open_page(browsed, api.url)
    with httpx.Client(base_url=api.url, headers={"X-Client-Id": "web-mirror-test"}) as client:
        for changes, field in MIRROR:
            values = {**BASE, **changes}
            result = page.evaluate(CHECK_IN_PAGE, values)
            client_fields = {p["field"] for p in result["problems"]}
            answer = client.post("/waves", json=result["spec"])
            assert answer.status_code == (202 if field is None else 422), (changes, answer.text)
            server_fields = {d["field"] for d in answer.json().get("detail", [])}
            # The fades limit the shortest tone; the page reports it on the duration input.
            server_fields = {"duration" if f == "fade_in" else f for f in server_fields}
            expected = set() if field is None else {field}
            assert (client_fields, server_fields) == (expected, expected), changes
