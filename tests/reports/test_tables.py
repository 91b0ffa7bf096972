"""The report's tables as people read them: the rendered HTML and text of each Styler."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from wavekit.backends.local.duckdb import DuckDBWarehouse
from wavekit.ports.analytics import Leaderboard
from wavekit.reports import tables
from wavekit.reports import usage as usage_report

from .conftest import END

RAW_FLOAT = re.compile(r"\d\.\d{6}(?!\d)")
"""How pandas shows a float by default: ``523.251131``, ``5.742000``."""
UTC = dt.UTC


class Cells(HTMLParser):
    """The text of every header and data cell of a table, by row."""

    def __init__(self) -> None:
        super().__init__()
        self.head: list[str] = []
        self.rows: list[list[str]] = []
        self.body_th = 0
        self._in: str | None = None
        self._section = ""
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"thead", "tbody"}:
            self._section = tag
        elif tag == "tr" and self._section == "tbody":
            self.rows.append([])
        elif tag in {"th", "td"}:
            self._in, self._text = tag, ""
            if tag == "th" and self._section == "tbody":
                self.body_th += 1

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag in {"th", "td"} and self._in:
            (self.head if self._section == "thead" else self.rows[-1]).append(self._text.strip())
            self._in = None


def cells(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def board(name: str, key: str, entries: list[dict[str, object]]) -> Leaderboard:
    start = dt.datetime(2026, 11, 16, tzinfo=UTC)
    return Leaderboard(board=name, window="month", n=10, start=start,
                       end=start + dt.timedelta(days=7), computed_at=start, entries=tuple(entries),
                       engine="duckdb", key_columns=(key,))  # fmt: skip


def entry(rank: int, key: object, requests: int, size: int, prev: int, prev_rank: int | None,
          change: int | None, key_name: str) -> dict[str, object]:  # fmt: skip
    return {"rank": rank, key_name: key, "value": requests, "requests": requests, "bytes": size,
            "prev_value": prev, "prev_rank": prev_rank, "rank_change": change}  # fmt: skip


CHORDS = board(
    "chords_by_requests",
    "chord",
    [
        entry(1, [523.251131, 932.327523], 1234, 19_756_800, 1000, 1, 0, "chord"),
        entry(2, [261.625565, 1174.659072], 99, 2_690_000, 113, 4, 2, "chord"),
        entry(3, [440.0, 445.0], 7, 1_500_000, 0, None, None, "chord"),
        entry(4, [392.0, 440.0], 6, 2_960_000, 16, 3, -1, "chord"),
    ],
)


def assert_for_people(html: str) -> Cells:
    """No NaN, no raw floats, no index column; every header named."""
    table = cells(html)
    text = " ".join([*table.head, *(c for row in table.rows for c in row)])
    assert "NaN" not in text
    assert "nan" not in text.split()
    assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
    assert ".000000" not in html
    assert table.body_th == 0  # no index cells in the body
    assert all(table.head), table.head  # no blank corner header over an index
    assert "row_heading" not in html
    assert "blank" not in html
    return table


def test_chord_board_reads_as_notes_whole_ranks_arrows_and_new() -> None:
    styler = tables.board_table(CHORDS)
    table = assert_for_people(styler.to_html())
    assert table.head == ["Rank", "Change", "Chord", "Requests", "Data (MB)",
                          "Previous period (requests)"]  # fmt: skip
    first, second, new, down = table.rows
    assert first == ["1", "–", "C5 · A#5 (523.3 · 932.3 Hz)", "1,234", "19.8", "1,000"]
    assert second[:3] == ["2", "▲ 2", "C4 · D6 (261.6 · 1,174.7 Hz)"]
    assert second[4] == "2.7"  # one count of places per column
    assert new[:3] == ["3", "new", "A4 · A4+20c (440.0 · 445.0 Hz)"]
    assert down[1] == "▼ 1"
    # the change marks are classed for colour
    html = styler.to_html()
    assert re.search(r'class="data row2 col1 new"', html)
    assert re.search(r'class="data row1 col1 up"', html)
    assert re.search(r'class="data row3 col1 down"', html)


def test_frequency_board_names_notes_and_bytes_board_ranks_by_megabytes() -> None:
    frequencies = board(
        "frequencies_by_requests",
        "frequency",
        [
            entry(1, 440.0, 301, 269_480_350, 314, 1, 0, "frequency"),
            entry(2, 523.251131, 239, 31_127_400, 0, None, None, "frequency"),
        ],
    )
    table = assert_for_people(tables.board_table(frequencies).to_html())
    assert [row[2] for row in table.rows] == ["440.0 Hz (A4)", "523.3 Hz (C5)"]
    assert table.rows[1][1] == "new"
    assert tables.board_title(frequencies) == "Top frequencies by requests"

    by_bytes = board(
        "clients_by_bytes",
        "client_id",
        [entry(1, "client-00001", 188, 114_338_950, 251_000_000, 1, 0, "client_id")],
    )
    table = assert_for_people(tables.board_table(by_bytes).to_html())
    assert table.head[-1] == "Previous period (MB)"
    assert table.rows[0][-1] == "251.0"
    assert tables.board_title(by_bytes) == "Top clients by data (MB)"


def test_text_from_clients_is_escaped() -> None:
    hostile = board(
        "clients_by_requests",
        "client_id",
        [entry(1, "<script>alert(1)</script>", 5, 10, 0, None, None, "client_id")],
    )
    html = tables.board_table(hostile).to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_latency_in_milliseconds_with_one_decimal() -> None:
    latency = pd.DataFrame({
        "route": ["POST /waves", "POST /leaderboards/refresh"], "requests": [1234, 1],
        "p50_ms": [5.742000, 5317.292660], "p95_ms": [16.388386, 5317.292660],
        "p99_ms": [88.229820, 5317.292660], "max_ms": [787.429, 5317.292660],
    }, index=[7, 8])  # fmt: skip
    table = assert_for_people(tables.latency_table(latency).to_html())
    assert table.head == ["Route", "Requests", "p50 (ms)", "p95 (ms)", "p99 (ms)", "Slowest (ms)"]
    assert table.rows[0] == ["POST /waves", "1,234", "5.7", "16.4", "88.2", "787.4"]
    assert table.rows[1][2:] == ["5,317.3"] * 4


def test_errors_show_their_share_in_percent() -> None:
    errors = pd.DataFrame({"status_code": [422, 500], "error_code": ["invalid_spec", "internal"],
                           "requests": [1038, 5], "error_rate": [0.014593, 0.001920]})  # fmt: skip
    table = assert_for_people(tables.errors_table(errors).to_html())
    assert table.head[-1] == "Share of all requests (%)"
    assert table.rows == [
        ["422", "invalid_spec", "1,038", "1.46"],
        ["500", "internal", "5", "0.19"],
    ]


def test_cost_per_day_has_aligned_dollars_and_a_total() -> None:
    cost = pd.DataFrame({
        "day": ["2026-11-26", "2026-11-27"], "requests": [417, 1403], "gb_seconds": [2.28, 3.01],
        "lambda_request_usd": [0.000083, 0.000281], "lambda_compute_usd": [0.000038, 0.000050],
        "api_gateway_usd": [0.000417, 0.001403], "total_usd": [0.000538, 0.001734],
    })  # fmt: skip
    table = assert_for_people(tables.cost_table(cost).to_html())
    assert table.head[0] == "Day (UTC)"
    assert table.head[-1] == "Total ($)"
    assert table.rows[0] == ["Thu 26 Nov 2026", "417", "2.28", "0.00008", "0.00004", "0.00042",
                             "0.00054"]  # fmt: skip
    assert table.rows[-1][:2] == ["Total", "1,820"]
    assert table.rows[-1][-1] == "0.00227"


def test_empty_tables_render() -> None:
    empty = pd.DataFrame(columns=["route", "requests", "p50_ms", "p95_ms", "p99_ms", "max_ms"])
    assert cells(tables.latency_table(empty).to_html()).rows == []
    cost = pd.DataFrame(columns=["day", "requests", "gb_seconds", "lambda_request_usd",
                                 "lambda_compute_usd", "api_gateway_usd", "total_usd"])  # fmt: skip
    assert cells(tables.cost_table(cost).to_html()).rows == []


@pytest.fixture(scope="module")
def week(report_lake: Path) -> usage_report.UsageReport:
    with DuckDBWarehouse(report_lake) as warehouse:
        return usage_report.build(warehouse, END - dt.timedelta(days=7), END, n=10)


def test_every_table_of_a_real_week_is_for_people(week: usage_report.UsageReport) -> None:
    shown = [
        tables.latency_table(week.latency),
        tables.errors_table(week.errors),
        tables.cost_table(week.cost),
        *map(tables.board_table, week.boards.values()),
    ]
    for styler in shown:
        assert_for_people(styler.to_html())
    changes = {row[1] for b in week.boards.values()
               for row in cells(tables.board_table(b).to_html()).rows}  # fmt: skip
    assert changes <= {"new", "–"} | {f"{a} {n}" for a in "▲▼" for n in range(1, 100)}


def test_headline_has_units(week: usage_report.UsageReport) -> None:
    cards = {label: value for label, value, _ in usage_report.headline_cards(week)}
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", cards["Requests"])
    assert cards["Error rate"].endswith(" %")
    assert cards["Data served"].endswith(" MB")
    assert cards["Estimated cost"].startswith("$")
    html = usage_report.headline_html(week)
    assert "16 – 22 Nov 2026 (7 days, UTC)" in html
    assert "DuckDB" in html
