"""The built site on other origins: works when allowlisted, fails clearly when not.

This is the S3/CloudFront + API Gateway set-up in miniature: :func:`wavekit.web.build_site`
output served by a plain static file server on its own port, the API on another.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.service.conftest import LiveServer, free_port
from tests.web.conftest import (
    Browsed,
    Sites,
    Tone,
    assert_wav_is,
    fill_form,
    open_page,
    save_download,
    wait_done,
)
from wavekit.server import LocalServer
from wavekit.settings import Settings

pytestmark = pytest.mark.browser

TONE = Tone(("392", "587.33"), (392, 587.33), duration="0.4", sample_rate=32_000, channels=2)


@pytest.mark.parametrize("chunks", [False, True], ids=["by-url", "in-chunks"])
def test_page_on_an_allowed_origin_works(
    chunks: bool, browsed: Browsed, sites: Sites, api: LiveServer, tmp_path: Path
) -> None:
    tone = Tone(**{**TONE.__dict__, "chunks": chunks})
    page = open_page(browsed, f"{sites.allowed.url}/index.html")
    fill_form(page, tone)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "ready", page.inner_text("#status")
    assert_wav_is(save_download(page, tmp_path / "tone.wav"), tone)
    # Every API call really crossed origins.
    api_calls = [u for _, u in browsed.requests if u.startswith(api.url)]
    assert any(u.endswith("/waves") for u in api_calls)
    assert any(("/chunks/" if chunks else "/download") in u for u in api_calls)
    assert browsed.errors == []


def test_page_on_an_origin_not_allowed_is_blocked_and_says_why(
    browsed: Browsed, sites: Sites, api: LiveServer
) -> None:
    failed: list[str] = []
    page = open_page(browsed, f"{sites.blocked.url}/index.html")
    page.on("requestfailed", lambda r: failed.append(f"{r.method} {r.url}"))
    fill_form(page, TONE)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "error"
    status = page.inner_text("#status")
    assert (
        f"The WAV service at {api.url} is up, but the browser blocked its answer (CORS)" in status
    )
    assert f"this page's origin {sites.blocked.url} is not on the service's allowlist" in status
    assert f"POST {api.url}/waves" in failed
    # The service itself refuses the preflight for this origin, and allows the other one.
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    refused = httpx.options(f"{api.url}/waves", headers={"Origin": sites.blocked.url, **preflight})
    allowed = httpx.options(f"{api.url}/waves", headers={"Origin": sites.allowed.url, **preflight})
    assert "access-control-allow-origin" not in refused.headers
    assert allowed.headers["access-control-allow-origin"] == sites.allowed.url


def test_page_says_when_the_service_is_down(browsed: Browsed, sites: Sites) -> None:
    page = open_page(browsed, f"{sites.unreachable.url}/index.html")
    fill_form(page, TONE)
    page.get_by_role("button", name="Make WAV").click()
    assert wait_done(page) == "error"
    assert "Cannot reach the WAV service at http://127.0.0.1:" in page.inner_text("#status")
    assert "is it running?" in page.inner_text("#status")


def test_a_file_link_whose_host_refuses_the_page_is_explained(
    browsed: Browsed, tmp_path: Path
) -> None:
    """Like a presigned S3 link without a bucket CORS rule: the page says what to do."""
    port = free_port()
    # The service sends file links to http://localhost:PORT, another origin for a page
    # on http://127.0.0.1:PORT, and does not allow that page's origin by CORS.
    settings = Settings(data_dir=tmp_path, public_url=f"http://localhost:{port}")
    with LocalServer(settings, port=port) as server:
        page = open_page(browsed, server.url)
        fill_form(page, TONE)
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == "error"
        status = page.inner_text("#status")
        assert "could not read the file link the service redirected to" in status
        assert "tick “Download in base64 chunks” and press Make WAV again" in status
        # ...which works: the chunks come from the API itself.
        page.get_by_label("Download in base64 chunks").check()
        page.get_by_role("button", name="Make WAV").click()
        assert wait_done(page) == "ready", page.inner_text("#status")
        assert_wav_is(save_download(page, tmp_path / "tone.wav"), TONE)
