"""Leaderboards through the service: cached, served with their time, refreshed by an admin."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wavekit.analytics import compute_leaderboard, generate_traffic
from wavekit.backends.local import DuckDBWarehouse
from wavekit.server import LocalServer
from wavekit.settings import Settings

TOKEN = "s3cret-admin-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data = tmp_path_factory.mktemp("boards")
    generate_traffic(20_000, 90, data / "lake", seed=3, end=dt.datetime.now(dt.UTC))
    with LocalServer(Settings(data_dir=data, admin_token=TOKEN)) as running:
        yield running


def test_board_is_not_served_before_a_refresh(tmp_path: Path) -> None:
    with LocalServer(Settings(data_dir=tmp_path)) as fresh:
        response = httpx.get(f"{fresh.url}/leaderboards/frequencies_by_requests")
        assert response.status_code == 404
        assert "POST /leaderboards/refresh" in response.json()["message"]
        disabled = httpx.post(f"{fresh.url}/leaderboards/refresh")
        assert disabled.status_code == 403
        assert "WAVEKIT_ADMIN_TOKEN" in disabled.json()["message"]


def test_refresh_needs_the_admin_token(server: LocalServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = httpx.post(f"{server.url}/leaderboards/refresh", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_refresh_then_serve_the_cached_board(server: LocalServer) -> None:
    before = dt.datetime.now(dt.UTC)
    refreshed = httpx.post(
        f"{server.url}/leaderboards/refresh",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=120,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["status"] == "done"
    assert refreshed.json()["refreshed"] >= 3 * 8  # every board × month/year/all

    served = httpx.get(f"{server.url}/leaderboards/chords_by_requests", params={"window": "year"})
    assert served.status_code == 200
    board = served.json()
    assert dt.datetime.fromisoformat(board["computed_at"]) >= before
    assert board["window"] == "year"
    assert served.headers["cache-control"] == "public, max-age=60"
    with DuckDBWarehouse(server.settings.lake_dir) as warehouse:
        expected = compute_leaderboard(
            warehouse, "chords_by_requests", "year", n=board["n"],
            now=dt.datetime.fromisoformat(board["end"]),
        )  # fmt: skip
    assert board["entries"] == [dict(e) for e in expected.entries]


def test_unknown_board_and_window_name_the_allowed_values(server: LocalServer) -> None:
    unknown = httpx.get(f"{server.url}/leaderboards/loudest")
    assert unknown.status_code == 404
    assert "frequencies_by_requests" in unknown.json()["message"]
    bad_window = httpx.get(f"{server.url}/leaderboards/frequencies_by_requests?window=decade")
    assert bad_window.status_code == 422
    assert bad_window.json()["detail"][0]["field"] == "window"
    assert "month" in bad_window.json()["message"]
