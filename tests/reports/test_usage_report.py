"""The usage report notebook on generated data: sections, images, CSVs, a real browser."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.analytics import reference
from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_MISSING, launch_chromium
from wavekit.backends.local.duckdb import DuckDBWarehouse
from wavekit.errors import ReportFailedError
from wavekit.reports import ReportRequest, render
from wavekit.reports import usage as usage_report

from .conftest import END

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = [
    "Requests per hour",
    "Latency per route",
    "Errors by code",
    "Leaderboards",
    "What the tones are made of",
    "Estimated cost per day",
    "The week's most popular chord",
]
START = END - dt.timedelta(days=7)
RAW_FLOAT = re.compile(r"\d\.\d{6}(?!\d)")
"""How pandas shows a float by default: ``523.251131``, ``5.742000``, ``5317.292660``."""
REPORT_TABLES = 7  # latency, errors, three boards, tone kinds, cost per day


def test_usage_report_numbers_match_pandas(report_lake: Path) -> None:
    events = reference.load_events(report_lake)
    window = reference.in_span(events, START, END)
    with DuckDBWarehouse(report_lake) as warehouse:
        board = usage_report.build(warehouse, START, END, n=5)
    assert board.summary["requests"] == len(window)
    assert board.summary["unique_clients"] == window["client_id"].nunique()
    assert board.summary["errors"] == int((~window["success"]).sum())
    assert board.summary["bytes_out"] == int(window["bytes_out"].sum())
    assert board.summary["estimated_cost_usd"] == pytest.approx(board.cost["total_usd"].sum())
    week = reference.in_span(events, END - dt.timedelta(days=7), END)
    sizes = week["chord"].map(lambda chord: 0 if chord is None else len(chord))
    tones = week[week["is_tone_request"] & (sizes >= 2)]
    most = tones["chord"].map(tuple).value_counts()
    assert board.top_chord in {c for c, n in most.items() if n == most.iloc[0]}
    expected = reference.usage(events, "tone_kinds", START, END, prices=None)
    got = board.tone_kinds
    assert {(r.dimension, r.value): (r.requests, r.audio_bytes) for r in got.itertuples()} == {
        (r.dimension, r.value): (r.requests, r.audio_bytes) for r in expected.itertuples()
    }
    assert {"square", "sine"} <= set(got.loc[got["dimension"] == "waveform", "value"])
    assert sorted(board.tables()) == sorted(
        ["summary", "requests_per_hour", "latency_by_route", "errors_by_code", "cost_per_day",
         "tone_kinds", "frequencies_by_requests", "chords_by_requests", "clients_by_requests"]
    )  # fmt: skip


def test_bad_window_and_engine_name_the_parameter(report_lake: Path) -> None:
    from wavekit.errors import InvalidSpecError
    from wavekit.runtime import open_warehouse

    with DuckDBWarehouse(report_lake) as warehouse, pytest.raises(InvalidSpecError, match="end"):
        usage_report.build(warehouse, END, START)
    with pytest.raises(InvalidSpecError, match="engine"):
        open_warehouse("bigquery")
    with pytest.raises(InvalidSpecError, match="start: 'last week' is not an ISO date"):
        usage_report.parse_day("last week", "start")


@pytest.fixture(scope="module")
def rendered(
    report_lake: Path,
    tmp_path_factory: pytest.TempPathFactory,
    python_kernel: str,
    without_ipywidgets: Path,
) -> Path:
    """The report rendered by a kernel without ipywidgets, as in a ``make demo`` venv."""
    out = tmp_path_factory.mktemp("rendered")
    request = ReportRequest(
        parameters={"lake": str(report_lake), "start": START.date().isoformat(),
                    "end": END.date().isoformat(), "title": "Test week"},
        out_dir=out,
    )  # fmt: skip
    path = os.pathsep.join(filter(None, [str(without_ipywidgets), os.environ.get("PYTHONPATH")]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", path)
        return render(request, kernel_name=python_kernel).html


def outputs(executed: Path) -> list[tuple[int, dict[str, Any]]]:
    """(cell index, output) for every output of an executed notebook."""
    notebook = json.loads(executed.read_text())
    return [(i, o) for i, cell in enumerate(notebook["cells"]) for o in cell.get("outputs", [])]


def shown_text(output: dict[str, Any]) -> str:
    """What an output shows as text (HTML, markdown, plain), images left out."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    data = output.get("data", {})
    return "".join("".join(data[kind]) for kind in ("text/html", "text/markdown") if kind in data)


@pytest.mark.slow
def test_report_kernel_writes_no_stderr_warnings_or_errors(rendered: Path) -> None:
    """Every cell of the executed report: nothing on stderr, no warning, no error, no widget
    (the kernel had no ipywidgets, like ``make demo``'s)."""
    executed = rendered.with_suffix(".ipynb")
    found = outputs(executed)
    assert found
    for index, output in found:
        assert output["output_type"] in {"display_data", "execute_result"}, (index, output)
        assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {}), index
        text = shown_text(output)
        assert "Warning" not in text, (index, text[:300])
        assert "IProgress" not in text, (index, text[:300])


@pytest.mark.slow
def test_report_text_is_for_people(rendered: Path) -> None:
    """Tables and words as shown: units, separators, notes, no NaN, no raw floats."""
    executed = rendered.with_suffix(".ipynb")
    text = "\n".join(shown_text(o) for _, o in outputs(executed))
    assert "NaN" not in text
    assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
    assert text.count("<table") == REPORT_TABLES
    assert "row_heading" not in text  # no index column
    for header in ("p95 (ms)", "Data (MB)", "Share of all requests (%)", "Total ($)", "Change",
                   "Made of", "Audio (MB)"):  # fmt: skip
        assert header in text, header
    assert re.search(r"\d,\d{3}", text)  # thousands separators
    assert re.search(r"\d+\.\d Hz \([A-G]#?-?\d", text)  # "440.0 Hz (A4)"
    assert re.search(r"[▲▼] \d|>new<", text)


@pytest.mark.slow
def test_report_has_every_section_images_and_csv_tables(rendered: Path, report_lake: Path) -> None:
    page = rendered.read_text()
    assert "Test week" in page
    for section in SECTIONS:
        assert section in page, section
    images = re.findall(r'src="data:image/png;base64,', page)
    assert len(images) >= 7  # hourly, latency, errors, three boards, spectrum
    assert "db.build(" not in page  # code hidden
    tables = rendered.with_name(rendered.stem + "_tables")
    with (tables / "summary.csv").open() as f:
        summary = next(csv.DictReader(f))
    events = reference.in_span(reference.load_events(report_lake), START, END)
    assert int(summary["requests"]) == len(events)
    assert (tables / "chords_by_requests.csv").read_text().startswith("rank,chord,")


@pytest.mark.slow
@pytest.mark.usefixtures("python_kernel")
def test_broken_parameter_gives_a_failure_page(report_lake: Path, tmp_path: Path) -> None:
    request = ReportRequest(parameters={"engine": "bigquery", "lake": str(report_lake)},
                            out_dir=tmp_path)  # fmt: skip
    with pytest.raises(ReportFailedError, match="engine: must be one of"):
        render(request, attempts=1)
    assert "engine: must be one of" in request.html_path.read_text()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=CHROMIUM_MISSING)
def test_report_sections_are_visible_in_chromium(rendered: Path) -> None:
    with launch_chromium(viewport={"width": 1200, "height": 900}) as page:
        page.goto(rendered.as_uri())
        assert page.title() == "Test week"
        for section in SECTIONS:
            heading = page.get_by_role("heading", name=section)
            assert heading.is_visible(), section
        images = page.locator("img")
        assert images.count() >= 7
        widths = images.evaluate_all("els => els.map(e => e.naturalWidth)")
        assert min(widths) > 100  # decoded, not broken images
        # nothing from stderr, no error or warning output area
        stderr = page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
        assert stderr.count() == 0
        assert page.locator(".jp-OutputArea-output.jp-mod-error, .output_error").count() == 0
        text = page.locator("body").inner_text()
        assert "Warning" not in text
        assert "NaN" not in text
        assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
        # the tables: present, visible, every header named, no index cells
        report_tables = page.locator("table")
        assert report_tables.count() == REPORT_TABLES
        assert all(report_tables.nth(i).is_visible() for i in range(REPORT_TABLES))
        headers = page.locator("table thead th").all_inner_texts()
        assert headers
        assert all(h.strip() for h in headers), headers
        assert page.locator("table tbody th").count() == 0
        # every table fits the page (no cut-off columns)
        overflow = page.evaluate(
            "() => [...document.querySelectorAll('table')].filter(t => "
            "t.getBoundingClientRect().right > document.documentElement.clientWidth).length"
        )
        assert overflow == 0
        new = page.locator("td.new")
        assert new.count() == 0 or new.first.inner_text() == "new"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "usage_report.png"), full_page=True)
        # the top down to the first table, as in docs/images/usage_report.png
        page.set_viewport_size({"width": 1200, "height": 1000})
        bottom = page.locator("table").first.evaluate(
            "t => t.getBoundingClientRect().bottom + window.scrollY"
        )
        clip = {"x": 0, "y": 0, "width": 1200, "height": bottom + 24}
        page.screenshot(path=str(ARTIFACTS / "usage_report_top.png"), clip=clip, full_page=True)


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wavekit", "demo", "--small", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = Path(re.search(r"report:\s+(\S+)", done.stdout).group(1))  # type: ignore[union-attr]
    assert report.is_file()
    page = report.read_text()
    for section in SECTIONS:
        assert section in page
    assert "wavekit demo: a week of usage" in page
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
    executed = report.with_suffix(".ipynb")
    shown = "\n".join(shown_text(o) for _, o in outputs(executed))
    assert all(o["output_type"] != "stream" for _, o in outputs(executed))
    assert "NaN" not in shown
    assert "Warning" not in shown
    assert not RAW_FLOAT.search(shown), RAW_FLOAT.search(shown)
    assert re.search(r"service: http://127\.0\.0\.1:\d+", done.stdout)
    assert re.search(r"\d+ accepted, \d+ downloaded, \d+ rejected with 422", done.stdout)
    assert (tmp_path / "reports" / "index.html").is_file()
    assert list((tmp_path / "service" / "lake").glob("dt=*/*.parquet"))
