"""Numbers for people: each format on the values the report really meets."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from wavekit.audio.spec import parse_frequency
from wavekit.reports import formatting as fmt


@pytest.mark.parametrize(
    ("hz", "name"),
    [
        (440.0, "A4"),
        (523.251131, "C5"),
        (932.327523, "A#5"),
        (261.625565, "C4"),
        (27.5, "A0"),
        (8.1758, "C-1"),
        (445.0, "A4+20c"),
        (435.0, "A4-20c"),
        (4186.009, "C8"),
    ],
)
def test_note_name_is_the_nearest_note_with_cents(hz: float, name: str) -> None:
    assert fmt.note_name(hz) == name


@pytest.mark.parametrize("name", ["A4", "C#5", "B3", "F#2", "C5+15c", "G4-30c", "D#6"])
def test_note_name_reads_back_through_the_spec_parser(name: str) -> None:
    assert fmt.note_name(parse_frequency(name)) == name


@pytest.mark.parametrize("hz", [0, -440, math.nan, math.inf, None])
def test_note_name_of_no_pitch_is_empty(hz: float | None) -> None:
    assert fmt.note_name(hz) == ""


def test_frequencies_and_chords() -> None:
    assert fmt.frequency_label(440.0) == "440.0 Hz (A4)"
    assert fmt.frequency_label(1174.659072) == "1,174.7 Hz (D6)"
    assert fmt.chord_notes([932.327523, 523.251131]) == "C5 · A#5"  # lowest first
    assert fmt.chord_hertz([932.327523, 523.251131]) == "523.3 · 932.3 Hz"
    assert fmt.chord_label([523.251131, 932.327523]) == "C5 · A#5 (523.3 · 932.3 Hz)"


def test_counts_and_decimals_have_thousands_separators() -> None:
    assert fmt.count(1234) == "1,234"
    assert fmt.count(12345678.0) == "12,345,678"
    assert fmt.decimal(5317.292660) == "5,317.3"
    assert fmt.decimal(5.742) == "5.7"
    assert fmt.milliseconds(5317.292660) == "5,317.3 ms"
    assert fmt.percent(0.028417818740399385) == "2.84 %"


def test_megabytes() -> None:
    assert fmt.megabytes(308_653_941) == "308.7 MB"
    assert fmt.megabytes(2_690_000) == "2.69 MB"
    assert fmt.megabytes(1_234_567_890) == "1,234.6 MB"
    assert fmt.megabytes(0) == "0 MB"
    assert fmt.megabytes(2_000) == "< 0.01 MB"
    # one column, one count of places, so decimal points line up
    places = fmt.megabyte_places([2_690_000, 134_946_000])
    assert [fmt.megabytes_number(b, places) for b in (2_690_000, 134_946_000)] == ["2.7", "134.9"]


def test_money_keeps_two_significant_digits_of_the_cheapest_amount() -> None:
    assert fmt.usd(1234.5) == "$1,234.50"
    assert fmt.usd(0.0038267180705) == "$0.0038"
    assert fmt.usd(0) == "$0.00"
    assert fmt.usd(0.000000004) == "< $0.00001"
    daily = [0.000538, 0.000368, 0.000709]
    places = fmt.money_places(daily)
    assert places == 5
    assert [fmt.money_number(v, places) for v in daily] == ["0.00054", "0.00037", "0.00071"]
    assert fmt.money_places([12.0, 3.5]) == 2


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT, float("nan")])
def test_missing_values_never_read_nan(missing: object) -> None:
    assert fmt.is_missing(missing)
    assert fmt.rank_change(missing) == "new"
    for shown in (fmt.rank(missing), fmt.count(missing), fmt.decimal(missing),
                  fmt.megabytes(missing), fmt.usd(missing), fmt.percent(missing)):  # fmt: skip
        assert shown == "–"


def test_ranks_are_whole_and_changes_are_arrows() -> None:
    assert fmt.rank(1.0) == "1"
    assert fmt.rank(10) == "10"
    assert fmt.rank_change(2.0) == "▲ 2"
    assert fmt.rank_change(-1) == "▼ 1"
    assert fmt.rank_change(0.0) == "–"
    assert not fmt.is_missing(0)


def test_days_and_windows() -> None:
    assert fmt.day("2026-11-26") == "Thu 26 Nov 2026"
    assert fmt.day(dt.date(2026, 12, 1), year=False) == "Tue 1 Dec"
    utc = dt.UTC
    week = (dt.datetime(2026, 11, 26, tzinfo=utc), dt.datetime(2026, 12, 3, tzinfo=utc))
    assert fmt.window(*week) == "26 Nov – 2 Dec 2026 (7 days, UTC)"
    day = (dt.datetime(2026, 11, 26, tzinfo=utc), dt.datetime(2026, 11, 27, tzinfo=utc))
    assert fmt.window(*day) == "26 Nov 2026 (1 day, UTC)"
    new_year = (dt.datetime(2026, 12, 29, tzinfo=utc), dt.datetime(2027, 1, 5, tzinfo=utc))
    assert fmt.window(*new_year) == "29 Dec 2026 – 4 Jan 2027 (7 days, UTC)"
    hours = (dt.datetime(2026, 11, 26, 6, tzinfo=utc), dt.datetime(2026, 11, 26, 18, tzinfo=utc))
    assert fmt.window(*hours) == "26 Nov 2026 06:00 UTC – 26 Nov 2026 18:00 UTC"
