"""Numbers for people: counts, milliseconds, megabytes, money, shares, notes, rank changes.

One definition of each format for the usage report's headline, tables and charts. They
mirror the public leaderboards page (``wavekit/web/site/format.js``), so a board reads the
same in both places: ``440.0 Hz (A4)``, ``C5 · A#5``, ``▲ 2``, ``new``, ``308.7 MB``.

Pure functions of plain values (no pandas), each returning text. A missing value (None,
NaN, ``pd.NA``) never reaches the reader as ``NaN``: each function says what it shows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
A4_HZ = 440.0
A4_MIDI = 69
NONE = "–"
"""Shown for a value that does not exist (an en dash), e.g. no previous period."""
NEW = "new"
"""Shown for a leaderboard entry that was not on the board in the previous period."""
MAX_DECIMALS = 5
"""Money never shows more places than this; smaller non-zero amounts read ``< 0.00001``."""


def is_missing(value: Any) -> bool:
    """True for None, NaN, NaT and ``pd.NA`` (without importing pandas)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except TypeError:  # pd.NA: its comparisons are NA, whose truth value is ambiguous
        return True


def count(value: Any) -> str:
    """A whole number with thousands separators: ``12,345``; missing: ``–``."""
    return NONE if is_missing(value) else f"{round(float(value)):,}"


def decimal(value: Any, places: int = 1) -> str:
    """A number with ``places`` decimals and thousands separators: ``5,317.3``."""
    return NONE if is_missing(value) else f"{float(value):,.{places}f}"


def milliseconds(value: Any) -> str:
    """A latency in ms with one decimal: ``5,317.3 ms``."""
    return NONE if is_missing(value) else f"{decimal(value)} ms"


def fixed(value: Any, places: int) -> str:
    """``places`` decimals with thousands separators; a non-zero value that would read as
    zero reads ``< 0.01`` (the smallest step) instead."""
    if is_missing(value):
        return NONE
    number = float(value)
    if number != 0 and round(number, places) == 0:
        return f"< {10.0**-places:.{places}f}"
    return f"{number:,.{places}f}"


def megabyte_places(sizes_bytes: Iterable[Any]) -> int:
    """Decimals for megabytes: two while everything is under 10 MB, else one."""
    largest = max((float(b) for b in sizes_bytes if not is_missing(b)), default=0.0)
    return 2 if largest < 10e6 else 1


def megabytes_number(size_bytes: Any, places: int | None = None) -> str:
    """Bytes as decimal megabytes, the number only: ``308.7``, ``0.09``, ``< 0.01``, ``0``.

    ``places`` defaults to :func:`megabyte_places` of this one size; a table passes the
    places of its whole column, so the decimal points line up.
    """
    if is_missing(size_bytes):
        return NONE
    if float(size_bytes) == 0:
        return "0"
    places = megabyte_places([size_bytes]) if places is None else places
    return fixed(float(size_bytes) / 1e6, places)


def megabytes(size_bytes: Any) -> str:
    """Bytes as decimal megabytes with the unit: ``308.7 MB``."""
    number = megabytes_number(size_bytes)
    return number if number == NONE else f"{number} MB"


def percent(share: Any, places: int = 2) -> str:
    """A share (0..1) as a percentage: ``2.84 %``."""
    return NONE if is_missing(share) else f"{100 * float(share):,.{places}f} %"


def money_places(amounts: Iterable[Any]) -> int:
    """Decimals that show the smallest non-zero amount with two significant digits (2..5).

    One count of places for a whole column keeps its decimal points aligned; a cheap week
    then reads ``0.00054`` rather than ``0.00``.
    """
    smallest = min((abs(float(a)) for a in amounts if not is_missing(a) and float(a)), default=1.0)
    if smallest >= 1:
        return 2
    return min(MAX_DECIMALS, max(2, 1 - math.floor(math.log10(smallest))))


def money_number(amount: Any, places: int | None = None) -> str:
    """An amount in dollars, the number only: ``1,234.50``, ``0.0038``, ``< 0.00001``.

    ``places`` defaults to :func:`money_places` of this one amount.
    """
    if is_missing(amount):
        return NONE
    return fixed(amount, money_places([amount]) if places is None else places)


def usd(amount: Any) -> str:
    """An amount with its currency: ``$1,234.50``, ``$0.0038``."""
    number = money_number(amount)
    if number == NONE:
        return number
    return f"< ${number[2:]}" if number.startswith("<") else f"${number}"


def note_name(hz: Any) -> str:
    """The nearest equal-tempered note (A4 = 440 Hz) and its offset in cents when not 0.

    ``440`` → ``A4``, ``523.25`` → ``C5``, ``445`` → ``A4+20c`` (the form a tone spec
    accepts); ``""`` when ``hz`` is not a positive number.
    """
    if is_missing(hz) or not math.isfinite(float(hz)) or float(hz) <= 0:
        return ""
    midi = A4_MIDI + 12 * math.log2(float(hz) / A4_HZ)
    nearest = round(midi)
    cents = round((midi - nearest) * 100)
    name = f"{NOTE_NAMES[nearest % 12]}{nearest // 12 - 1}"
    return name if cents == 0 else f"{name}{cents:+d}c"


def hertz(hz: Any) -> str:
    """A frequency with one decimal: ``440.0 Hz``, ``1,174.7 Hz``."""
    return NONE if is_missing(hz) else f"{decimal(hz)} Hz"


def frequency_label(hz: Any) -> str:
    """A frequency with its note: ``440.0 Hz (A4)``."""
    note = note_name(hz)
    return f"{hertz(hz)} ({note})" if note else hertz(hz)


def chord_notes(frequencies: Iterable[Any]) -> str:
    """The notes of a chord, lowest first: ``C5 · A#5``."""
    return " · ".join(note_name(f) or hertz(f) for f in sorted(map(float, frequencies)))


def chord_hertz(frequencies: Iterable[Any]) -> str:
    """The frequencies of a chord, lowest first: ``523.3 · 932.3 Hz``."""
    return " · ".join(decimal(f) for f in sorted(map(float, frequencies))) + " Hz"


def chord_label(frequencies: Iterable[Any]) -> str:
    """Notes and frequencies: ``C5 · A#5 (523.3 · 932.3 Hz)``."""
    chord = list(frequencies)
    return f"{chord_notes(chord)} ({chord_hertz(chord)})"


def rank(value: Any) -> str:
    """A rank as a whole number: ``1`` (never ``1.0``); missing: ``–``."""
    return NONE if is_missing(value) else f"{int(value)}"


def rank_change(change: Any) -> str:
    """How an entry moved since the previous period: ``▲ 2``, ``▼ 1``, ``–`` or ``new``.

    ``change`` is positive when the entry went up; missing when it was not ranked before.
    """
    if is_missing(change):
        return NEW
    places = int(change)
    if places > 0:
        return f"▲ {places}"
    if places < 0:
        return f"▼ {-places}"
    return NONE


def day(value: Any, *, year: bool = True) -> str:
    """A calendar day for a table: ``Thu 26 Nov 2026`` (``Thu 26 Nov`` without the year)."""
    if is_missing(value):
        return NONE
    date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{date:%a} {date.day} {date:%b}" + (f" {date:%Y}" if year else "")


def moment(value: dt.datetime) -> str:
    """An instant in UTC: ``26 Nov 2026 00:00 UTC``."""
    utc = value.astimezone(dt.UTC) if value.tzinfo else value
    return f"{utc.day} {utc:%b %Y %H:%M} UTC"


def window(start: dt.datetime, end: dt.datetime) -> str:
    """A half-open window ``[start, end)`` as people read it.

    Whole days show the last day included: ``26 Nov – 2 Dec 2026 (7 days, UTC)``;
    otherwise both instants.
    """
    length = end - start
    midnight = dt.time()
    if start.time() == midnight and end.time() == midnight:
        last = (end - dt.timedelta(days=1)).date()
        first = start.date()
        if first.year != last.year:
            head = f"{first.day} {first:%b %Y}"
        elif first.month != last.month:
            head = f"{first.day} {first:%b}"
        else:
            head = f"{first.day}"
        days = length.days
        span = f"{head} – {last.day} {last:%b %Y}" if first != last else f"{last.day} {last:%b %Y}"
        return f"{span} ({days} {'day' if days == 1 else 'days'}, UTC)"
    return f"{moment(start)} – {moment(end)}"
