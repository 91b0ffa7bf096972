"""The public leaderboards page in Chromium, against a real ``wavekit serve``.

The service gets a known history (:mod:`tests.web.boards_history`): events written into
its lake 40 and 400 days ago, real traffic through the API now, then an admin refresh.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import LiveServer
from tests.web.boards_history import (
    REFRESH_S,
    TOKEN,
    TRAFFIC,
    change_text,
    history_events,
    key_text,
    make_tone,
    megabytes,
    plain,
    refresh,
    when,
)
from tests.web.conftest import VIEWPORT, Browsed, Sites, axe_violations, screenshot
from wavekit.analytics import BOARDS
from wavekit.events import events_table, write_lake_partitions

pytestmark = pytest.mark.browser

PAGE = "/leaderboards.html"
WINDOWS = ("month", "year", "all")
TAB_NAMES = {"month": "Past month", "year": "Past year", "all": "All time"}


@pytest.fixture(scope="module")
def boards_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``wavekit serve`` with HISTORY in its lake, TRAFFIC made through it, then refreshed."""
    data = tmp_path_factory.mktemp("boards-service") / "data"
    write_lake_partitions(events_table(history_events(dt.datetime.now(dt.UTC))), data / "lake")
    server = LiveServer(
        data,
        env={"WAVEKIT_ADMIN_TOKEN": TOKEN, "WAVEKIT_LEADERBOARD_REFRESH_S": str(REFRESH_S)},
    ).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            made = 0
            for tone in TRAFFIC:
                for _ in range(tone.count):
                    make_tone(http, tone, chunks=made % 2 == 1)
                    made += 1
        refresh(server.url)
        yield server
    finally:
        server.stop()


def board_json(api: LiveServer, board: str, window: str) -> dict[str, Any]:
    answer = httpx.get(f"{api.url}/leaderboards/{board}", params={"window": window})
    assert answer.status_code == 200, answer.text
    loaded: dict[str, Any] = answer.json()
    return loaded


# -- the page ------------------------------------------------------------------------------------


@pytest.fixture
def boards_page(browser: Any) -> Iterator[Browsed]:
    """A fresh page in a fixed locale and time zone, so dates and numbers read one way."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(30_000)
    seen = Browsed(page)

    def console(message: Any) -> None:
        if message.type == "error":
            seen.errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    yield seen
    context.close()


def open_boards(page: Any, url: str, window: str = "month") -> Any:
    page.goto(url)
    page.wait_for_selector(f"#panel-{window}:not([data-state=loading])")
    return page


def rows_of(page: Any, window: str, board: str) -> list[dict[str, Any]]:
    """Each row's cells as text, no-break spaces read as spaces."""
    rows = page.eval_on_selector_all(
        f"#panel-{window} [data-board={board}] tbody tr",
        """(rows) => rows.map((row) => ({
                rank: row.querySelector(".rank").textContent,
                change: row.querySelector(".change > [aria-hidden=true], .change.new")
                    ?.textContent ?? null,
                spoken: row.querySelector(".change")?.textContent ?? null,
                key: row.querySelector("th").firstChild.textContent,
                detail: [...row.querySelectorAll("th .detail")].map((d) => d.textContent)
                    .join(" | "),
                requests: row.querySelectorAll("td.num")[0].textContent,
                data: row.querySelectorAll("td.num")[1].textContent,
                ranked: row.querySelector("td.ranked").textContent,
            }))""",
    )
    return [{k: v if v is None else plain(v) for k, v in row.items()} for row in rows]


def test_every_tab_shows_every_board_as_the_api_has_it(
    boards_page: Browsed, boards_api: LiveServer
) -> None:
    page = open_boards(boards_page.page, boards_api.url + PAGE)
    for window in WINDOWS:
        page.get_by_role("tab", name=TAB_NAMES[window]).click()
        page.wait_for_selector(f"#panel-{window}[data-state=ready]")
        assert page.evaluate("document.body.dataset.state") == "ready"
        panel = page.locator(f"#panel-{window}")
        shown = panel.locator("[data-board]")
        assert sorted(shown.evaluate_all("(els) => els.map((e) => e.dataset.board)")) == sorted(
            BOARDS
        )
        earliest = None
        for board in BOARDS:
            expected = board_json(boards_api, board, window)
            assert expected["entries"], f"{board} ({window}) is empty: the traffic missed it"
            rows = rows_of(page, window, board)
            assert len(rows) == len(expected["entries"]), (board, window)
            metric = board.split("_by_")[1]
            for row, entry in zip(rows, expected["entries"], strict=True):
                assert row["rank"] == str(entry["rank"])
                assert row["key"] == key_text(board, entry), (board, window)
                assert row["requests"] == f"{entry['requests']:,}"
                assert row["data"] == megabytes(entry["bytes"])
                value = f"{entry['value']:,}" if metric == "requests" else megabytes(entry["value"])
                assert row["ranked"] == value
                if window == "all":
                    assert row["change"] is None  # no previous period: no change column
                else:
                    assert row["change"] == change_text(entry["rank_change"]), (board, row)
            computed = dt.datetime.fromisoformat(expected["computed_at"])
            earliest = computed if earliest is None else min(earliest, computed)
            card = panel.locator(f"[data-board={board}] .board-time time")
            assert card.first.get_attribute("datetime") is not None
        assert earliest is not None
        # The panel says when the boards were computed and when the next refresh is due.
        head = plain(panel.locator(".panel-head .refresh").inner_text())
        next_due = earliest + dt.timedelta(seconds=REFRESH_S)
        assert f"Computed {when(earliest)}" in head
        assert f"next refresh due by {when(next_due)}" in head
        assert re.search(r"\(in (29|30) minutes\)", head), head
        times = panel.locator(".panel-head .refresh time")
        assert dt.datetime.fromisoformat(times.nth(1).get_attribute("datetime")) == (
            dt.datetime.fromisoformat(times.nth(0).get_attribute("datetime"))
            + dt.timedelta(seconds=REFRESH_S)
        )
    assert page.locator("#refresh-every").inner_text() == "every 30 minutes"
    assert boards_page.errors == []


def test_units_note_names_and_rank_changes_read_as_people_write_them(
    boards_page: Browsed, boards_api: LiveServer
) -> None:
    page = open_boards(boards_page.page, boards_api.url + PAGE)
    month = {r["key"]: r for r in rows_of(page, "month", "frequencies_by_requests")}
    # The history makes 329.63 Hz overtake 440 Hz this month; 1 kHz is new.
    assert month["329.63 Hz (E4)"]["change"] == "▲ 1"
    assert month["329.63 Hz (E4)"]["spoken"] == "▲ 1up 1 place"
    assert month["440 Hz (A4)"]["change"] == "▼ 1"
    assert month["440 Hz (A4)"]["spoken"] == "▼ 1down 1 place"
    assert month["1,000 Hz (B5+21c)"]["change"] == "new"
    assert [month[k]["rank"] for k in ("329.63 Hz (E4)", "440 Hz (A4)")] == ["1", "2"]
    chords = rows_of(page, "month", "chords_by_requests")
    assert [(r["key"], r["detail"], r["change"]) for r in chords] == [
        ("C5 · E5 · G5", "523.25 · 659.26 · 784 Hz", "–")
    ]
    specs = rows_of(page, "month", "specs_by_requests")
    details = {r["key"]: r["detail"] for r in specs}
    assert details["C5 · E5 · G5"] == (
        "523.25 · 659.26 · 784 Hz | 2 s · 44.1 kHz · 16-bit · mono · volume 0.5"
    )
    assert details["329.63 Hz (E4)"] == "2 s · 44.1 kHz · 16-bit · mono · volume 0.5"
    clients = {r["key"]: r["change"] for r in rows_of(page, "month", "clients_by_requests")}
    assert clients == {"studio-a": "▲ 1", "studio-b": "▼ 1", "studio-c": "–"}
    # The month's data: 2 s of 16-bit mono at 44.1 kHz is 176,400 bytes per request.
    data = {r["key"]: r["ranked"] for r in rows_of(page, "month", "frequencies_by_bytes")}
    assert data["329.63 Hz (E4)"] == "0.53 MB"

    page.get_by_role("tab", name="Past year").click()
    page.wait_for_selector("#panel-year[data-state=ready]")
    year = {r["key"]: r for r in rows_of(page, "year", "frequencies_by_requests")}
    assert year["1,000 Hz (B5+21c)"]["change"] == "▼ 5"  # first 400 days ago, one request now
    assert year["440 Hz (A4)"]["change"] == "new"

    page.get_by_role("tab", name="All time").click()
    page.wait_for_selector("#panel-all[data-state=ready]")
    everything = rows_of(page, "all", "frequencies_by_bytes")
    # 5 × 60 s of 8 × 32-bit channels at 192 kHz, plus one 2 s tone: thousands separators.
    assert (everything[0]["key"], everything[0]["ranked"]) == ("1,000 Hz (B5+21c)", "1,843.4 MB")
    tied = [r["key"] for r in rows_of(page, "all", "frequencies_by_requests") if r["rank"] == "1"]
    assert sorted(tied) == ["1,000 Hz (B5+21c)", "440 Hz (A4)"]  # 6 requests each: a shared rank
    note_text = page.locator("#panel-all .panel-head .period").inner_text()
    assert "no earlier period to compare with" in note_text
    assert page.locator("#panel-all th", has_text="Change").count() == 0
    assert boards_page.errors == []


def test_tabs_follow_the_aria_pattern_from_the_keyboard(
    boards_page: Browsed, boards_api: LiveServer
) -> None:
    page = open_boards(boards_page.page, boards_api.url + PAGE)
    keys = page.keyboard
    tabs = page.get_by_role("tab")
    assert tabs.count() == 3
    assert page.get_by_role("tablist", name="Period").count() == 1

    def state() -> tuple[str, list[str], list[str], list[bool]]:
        return (
            str(page.evaluate("document.activeElement.id")),
            tabs.evaluate_all("(t) => t.map((x) => x.getAttribute('aria-selected'))"),
            tabs.evaluate_all("(t) => t.map((x) => String(x.tabIndex))"),
            [page.locator(f"#panel-{w}").is_visible() for w in WINDOWS],
        )

    order = []
    for _ in range(3):
        keys.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert order == ["nav-builder", "nav-leaderboards", "tab-month"]  # one stop for the tabs
    assert state() == (
        "tab-month",
        ["true", "false", "false"],
        ["0", "-1", "-1"],
        [True, False, False],
    )
    keys.press("ArrowRight")
    assert state() == (
        "tab-year",
        ["false", "true", "false"],
        ["-1", "0", "-1"],
        [False, True, False],
    )
    page.wait_for_selector("#panel-year[data-state=ready]")
    keys.press("ArrowRight")
    assert state()[0::3] == ("tab-all", [False, False, True])
    keys.press("ArrowRight")  # wraps round
    assert state()[0] == "tab-month"
    keys.press("ArrowLeft")  # and back
    assert state()[0] == "tab-all"
    keys.press("Home")
    assert state() == (
        "tab-month",
        ["true", "false", "false"],
        ["0", "-1", "-1"],
        [True, False, False],
    )
    keys.press("End")
    assert state() == (
        "tab-all",
        ["false", "false", "true"],
        ["-1", "-1", "0"],
        [False, False, True],
    )
    assert page.url.endswith("#all")  # a link to this tab
    keys.press("Tab")  # from the selected tab into its panel
    assert page.evaluate("document.activeElement.id") == "panel-all"
    keys.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "tab-all"

    page.goto(boards_api.url + PAGE + "#year")
    page.wait_for_selector("#panel-year[data-state=ready]")
    assert page.get_by_role("tab", name="Past year").get_attribute("aria-selected") == "true"
    assert boards_page.errors == []


def test_axe_finds_no_violations_on_any_tab(
    browser: Any, boards_api: LiveServer, axe_script: Path
) -> None:
    # axe is injected as an inline script, which the page's CSP rightly forbids.
    context = browser.new_context(
        viewport=VIEWPORT, bypass_csp=True, locale="en-US", timezone_id="UTC"
    )
    try:
        page = open_boards(context.new_page(), boards_api.url + PAGE)
        for window in WINDOWS:
            page.get_by_role("tab", name=TAB_NAMES[window]).click()
            page.wait_for_selector(f"#panel-{window}[data-state=ready]")
            assert axe_violations(page, axe_script) == [], window
            screenshot(page, f"leaderboards_{window}.png")
        page.get_by_role("tab", name="Past month").click()
        page.wait_for_selector("#panel-month[data-state=ready]")
        path = screenshot(page, "leaderboards_page.png")
        assert path.stat().st_size > 20_000
    finally:
        context.close()


def test_before_the_first_refresh_the_page_says_not_computed(
    boards_page: Browsed, api: LiveServer, sites: Sites
) -> None:
    """The package's service is never refreshed: every board answers 404 not_computed."""
    assert httpx.get(f"{api.url}/leaderboards/frequencies_by_requests").json()["error"] == (
        "not_computed"
    )
    page = boards_page.page
    # Served by the service itself, and built for a CDN on another (allowed) origin.
    for url in (api.url + PAGE, sites.allowed.url + PAGE):
        open_boards(page, url)
        for window in WINDOWS:
            page.get_by_role("tab", name=TAB_NAMES[window]).click()
            page.wait_for_selector(f"#panel-{window}[data-state=not_computed]")
            notice = page.locator(f"#panel-{window} .notice")
            assert notice.locator("h3").inner_text() == "Not computed yet"
            assert "every hour" in notice.inner_text()
            assert page.locator(f"#panel-{window} table").count() == 0
            assert page.evaluate("document.body.dataset.state") == "not_computed"
            assert "not computed yet" in page.locator("#status").inner_text()
    # The browser itself logs each 404; the page logs nothing.
    assert [e for e in boards_page.errors if "status of 404" not in e] == []


def test_axe_finds_no_violations_in_the_not_computed_and_error_states(
    browser: Any, api: LiveServer, sites: Sites, axe_script: Path
) -> None:
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True, locale="en-US")
    try:
        page = context.new_page()
        open_boards(page, api.url + PAGE)
        assert page.evaluate("document.body.dataset.state") == "not_computed"
        assert axe_violations(page, axe_script) == [], "not computed"
        screenshot(page, "leaderboards_not_computed.png")
        open_boards(page, sites.unreachable.url + PAGE)
        assert page.evaluate("document.body.dataset.state") == "error"
        assert axe_violations(page, axe_script) == [], "service unreachable"
        screenshot(page, "leaderboards_unreachable.png")
    finally:
        context.close()


def test_errors_are_explained_and_can_be_retried(
    boards_page: Browsed, boards_api: LiveServer, sites: Sites
) -> None:
    page = boards_page.page
    # A service nobody runs: one clear message and a way to try again.
    open_boards(page, sites.unreachable.url + PAGE)
    page.wait_for_selector("#panel-month[data-state=error]")
    notice = page.locator("#panel-month .notice")
    assert notice.locator("h3").inner_text() == "Could not load the leaderboards"
    assert "Cannot reach the WAV service" in notice.inner_text()
    assert page.get_by_role("button", name="Try again").is_visible()
    # An origin the service does not allow: the page says it is CORS, not a dead service.
    open_boards(page, sites.blocked.url + PAGE)
    page.wait_for_selector("#panel-month[data-state=error]")
    assert "CORS" in page.locator("#panel-month .notice").inner_text()

    # One board failing (a proxy's 500): the others still show; Try again recovers.
    def fail(route: Any) -> None:
        route.fulfill(status=500, content_type="text/html", body="<h1>Bad gateway</h1>")

    page.route("**/leaderboards/clients_by_bytes*", fail)
    open_boards(page, boards_api.url + PAGE)
    page.wait_for_selector("#panel-month[data-state=partial]")
    broken = page.locator("#panel-month [data-board=clients_by_bytes]")
    assert broken.get_attribute("data-state") == "error"
    assert "Could not load this board: 500" in broken.inner_text()
    assert page.locator("#panel-month [data-board][data-state=ready]").count() == len(BOARDS) - 1
    page.unroute("**/leaderboards/clients_by_bytes*")
    retry = page.get_by_role("button", name="Try again")
    retry.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel-month[data-state=ready]")
    assert page.locator("#panel-month [data-board][data-state=ready]").count() == len(BOARDS)
    assert page.evaluate("document.activeElement.id") == "panel-month"


def test_the_form_and_the_leaderboards_link_to_each_other(
    boards_page: Browsed, boards_api: LiveServer
) -> None:
    page = boards_page.page
    page.goto(boards_api.url + "/")
    page.wait_for_selector("body[data-state=idle]")
    nav = page.get_by_role("navigation", name="wavekit pages")
    assert nav.get_by_role("link", name="WAV builder").get_attribute("aria-current") == "page"
    nav.get_by_role("link", name="Leaderboards").click()
    page.wait_for_selector("#panel-month[data-state=ready]")
    assert page.url == boards_api.url + PAGE + "#month"
    assert page.title() == "Leaderboards · wavekit"
    back = page.get_by_role("navigation", name="wavekit pages").get_by_role(
        "link", name="WAV builder"
    )
    back.click()
    page.wait_for_selector("body[data-state=idle]")
    assert page.get_by_role("button", name="Make WAV").is_visible()


def test_times_stay_true_while_the_page_stays_open(
    boards_page: Browsed, boards_api: LiveServer
) -> None:
    page = boards_page.page
    page.clock.install()
    open_boards(page, boards_api.url + PAGE)
    head = page.locator("#panel-month .panel-head .refresh")
    board = page.locator("#panel-month [data-board=chords_by_requests] .board-time")
    assert "next refresh due by" in head.inner_text()
    assert "next refresh by" in board.inner_text()
    page.clock.fast_forward((REFRESH_S + 150) * 1000)  # the page's timer runs on its own
    text = plain(head.inner_text())
    assert "the next refresh is late: it was due by" in text
    assert re.search(r"\(3[23] minutes ago\) · the next refresh is late", text), text
    assert re.search(r"\((2|3) minutes ago\)$", text), text
    assert "next refresh was due by" in board.inner_text()
    assert boards_page.errors == []


def test_an_empty_board_says_so(boards_page: Browsed, boards_api: LiveServer) -> None:
    """A board computed over a period without requests (the service's answer, emptied)."""
    page = boards_page.page

    def emptied(route: Any) -> None:
        board = route.fetch().json()
        route.fulfill(json={**board, "entries": []})

    page.route("**/leaderboards/chords_by_bytes*", emptied)
    open_boards(page, boards_api.url + PAGE)
    card = page.locator("#panel-month [data-board=chords_by_bytes]")
    assert card.get_attribute("data-state") == "empty"
    assert "Nothing in this period yet." in card.inner_text()
    assert "Computed" in card.inner_text()
    assert card.locator("table").count() == 0
    assert page.locator("#panel-month").get_attribute("data-state") == "ready"


def test_the_page_fits_a_phone_screen(browser: Any, boards_api: LiveServer) -> None:
    """One column of boards, nothing wider than the screen (no sideways scrolling)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-US", timezone_id="UTC"
    )
    try:
        page = open_boards(context.new_page(), boards_api.url + PAGE)
        page.wait_for_selector("#panel-month[data-state=ready]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        boxes = (
            page.locator("#panel-month .pair")
            .first.locator(".board")
            .evaluate_all("(cards) => cards.map((c) => c.getBoundingClientRect().left)")
        )
        assert boxes[0] == boxes[1]  # stacked, not side by side
        screenshot(page, "leaderboards_phone.png")
    finally:
        context.close()
