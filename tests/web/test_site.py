"""The site files and their two ways out: mounted on the service, and built for a CDN."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from wavekit.server import LocalServer
from wavekit.settings import Settings
from wavekit.web import (
    SITE_DIR,
    build_site,
    media_type,
    mount_web,
    render_config,
    site_files,
)

CONFIG_RE = re.compile(r"export default Object\.freeze\((\{.*\})\);")


def config_of(text: str) -> dict[str, object]:
    match = CONFIG_RE.search(text)
    assert match, text
    loaded: dict[str, object] = json.loads(match[1])
    return loaded


def csp_of(page_html: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page_html)
    assert match, "no CSP meta tag"
    return match[1]


PAGES = ("index.html", "leaderboards.html")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    """The app over real HTTP (uvicorn in a thread), with non-default limits."""
    settings = Settings(
        data_dir=tmp_path, worker_threads=0, max_duration_s=42, leaderboard_refresh_s=900
    )
    with LocalServer(settings) as server, httpx.Client(base_url=server.url) as http:
        yield http


def test_the_service_serves_the_page_at_its_root(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "connect-src 'self';" in csp_of(page.text)
    assert client.get("/index.html").text == page.text
    # The page's limits come from the service's settings.
    config = client.get("/config.js")
    assert config.headers["content-type"] == "text/javascript; charset=utf-8"
    assert config_of(config.text) == {
        "apiBase": "",
        "download": "url",
        "maxDurationS": 42,
        "validate": True,
        "leaderboardRefreshS": 900,
    }
    # The leaderboards page: same headers, same policy, its CSP injected like the form's.
    boards = client.get("/leaderboards.html")
    assert boards.status_code == 200
    assert boards.headers["content-type"] == "text/html; charset=utf-8"
    assert boards.headers["x-frame-options"] == "DENY"
    assert csp_of(boards.text) == csp_of(page.text)
    assert "<!-- wavekit:csp -->" not in boards.text
    for path in site_files():
        if path.suffix != ".html":
            served = client.get(f"/{path.name}")
            assert served.content == path.read_bytes()
            assert served.headers["content-type"] == media_type(path)


def test_page_routes_leave_the_api_contract_alone(client: httpx.Client) -> None:
    missing = client.get("/nothing-here.js")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    paths = set(client.get("/openapi.json").json()["paths"])
    assert "/waves" in paths
    assert not {"/", "/index.html", "/leaderboards.html", "/config.js", "/app.js"} & paths


def test_a_public_url_may_be_fetched_by_the_page(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, worker_threads=0, public_url="https://files.example.org/"
    )
    with LocalServer(settings) as server:
        csp = csp_of(httpx.get(f"{server.url}/").text)
    assert "connect-src 'self' https://files.example.org;" in csp


def test_build_site_writes_every_file_with_the_api_injected(tmp_path: Path) -> None:
    api = "https://abc123.execute-api.eu-central-1.amazonaws.com/prod/"
    bucket = "https://wavekit-files.s3.eu-central-1.amazonaws.com"
    written = build_site(
        tmp_path / "site", api, "chunks", max_duration_s=30, connect=[bucket],
        leaderboard_refresh_s=7200,
    )  # fmt: skip
    names = sorted(p.name for p in written)
    assert names == sorted([p.name for p in site_files()] + ["config.js"])
    assert {"leaderboards.html", "leaderboards.js", "leaderboards.css"} <= set(names)
    assert all(p.parent == tmp_path / "site" and p.stat().st_size > 0 for p in written)
    config = config_of((tmp_path / "site" / "config.js").read_text())
    assert config == {
        "apiBase": api.rstrip("/"),
        "download": "chunks",
        "maxDurationS": 30,
        "validate": True,
        "leaderboardRefreshS": 7200,
    }
    for page in PAGES:  # every page gets the policy (the boards are read from the API too)
        csp = csp_of((tmp_path / "site" / page).read_text())
        assert (
            "connect-src 'self' https://abc123.execute-api.eu-central-1.amazonaws.com "
            "https://wavekit-files.s3.eu-central-1.amazonaws.com;"
        ) in csp
        assert "script-src 'self';" in csp
    # Unchanged files are byte-for-byte the sources; building again overwrites.
    assert (tmp_path / "site" / "app.js").read_bytes() == (SITE_DIR / "app.js").read_bytes()
    build_site(tmp_path / "site", "http://127.0.0.1:8000")
    assert config_of((tmp_path / "site" / "config.js").read_text())["apiBase"] == (
        "http://127.0.0.1:8000"
    )


@pytest.mark.parametrize(
    "api_base",
    [
        "javascript:alert(1)",
        "ftp://example.org",
        "https://user:secret@example.org",
        "https://example.org/?stage=prod",
        "https://example.org/#x",
        'https://example.org/"><script>',
        "https://exa mple.org",
        "example.org",
    ],
)
def test_build_site_refuses_an_api_base_that_is_not_a_plain_url(
    api_base: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="api_base"):
        build_site(tmp_path, api_base)
    assert list(tmp_path.iterdir()) == []


def test_config_rejects_unknown_download_modes_and_limits() -> None:
    with pytest.raises(ValueError, match="download"):
        render_config(download="zip")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_duration_s"):
        render_config(max_duration_s=0)
    with pytest.raises(ValueError, match="leaderboard_refresh_s"):
        render_config(leaderboard_refresh_s=0)
    assert config_of(render_config())["leaderboardRefreshS"] == 3600  # the service's default
    assert config_of(render_config(validate=False))["validate"] is False


def test_the_page_loads_nothing_from_elsewhere() -> None:
    """Offline and CDN-free: every reference in the pages is a file of the site."""
    assert sorted(p.name for p in site_files() if p.suffix == ".html") == sorted(PAGES)
    for page in PAGES:
        text = (SITE_DIR / page).read_text()
        references = re.findall(r'(?:src|href)="([^"]+)"', text)
        assert references, f"{page} references no files?"
        for ref in references:
            assert ref == "data:," or (SITE_DIR / ref).is_file() or ref == "config.js", ref
        # Each page links to the other (and marks itself as the current one).
        others = [p for p in PAGES if p != page]
        assert all(f'href="{other}"' in text for other in others), page
        assert f'href="{page}" aria-current="page"' in text, page
        # No inline script or style: the CSP (script-src/style-src 'self') would block it.
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), page
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), page
    for path in site_files():
        text = path.read_text()
        assert not re.search(r"""(?:import|from)\s*\(?\s*["']https?:""", text), path.name
        assert "//cdn" not in text, path.name


def test_on_aws_the_mounted_page_downloads_in_chunks_and_may_reach_s3() -> None:
    """Presigned S3 links need a bucket CORS rule; chunks work through the API alone."""
    app = FastAPI()
    mount_web(app, Settings(backend="aws", max_duration_s=60))

    async def get(path: str) -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            return (await http.get(path)).text

    def text(path: str) -> str:
        # Its own thread: playwright's sync API may be running a loop in this one.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, get(path)).result()

    assert config_of(text("/config.js"))["download"] == "chunks"
    assert "connect-src 'self' https://*.amazonaws.com;" in csp_of(text("/"))


@pytest.mark.parametrize("source", ["javascript:alert(1)", "https://a.test/x?y", "*", "'none'"])
def test_extra_connect_sources_must_be_origins(source: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="connect"):
        build_site(tmp_path, "", connect=[source])
