"""A real ``wavekit serve``, the page on two more origins, and one Chromium for the package.

Origins (all on 127.0.0.1, different ports, so the browser treats them as different sites):

- ``api.url``: the service, which also serves the page itself (same origin);
- ``sites.allowed``: :func:`wavekit.web.build_site` output, on the service's CORS allowlist;
- ``sites.blocked``: the same files, on an origin the service does not allow.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile as sf

from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CHROMIUM_MISSING
from tests.service.conftest import LiveServer, free_port
from wavekit import parse_volume
from wavekit.audio.measure import strongest_frequencies
from wavekit.web import MEDIA_TYPES, build_site

VIEWPORT = {"width": 1100, "height": 1000}
HERE = Path(__file__).parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        **MEDIA_TYPES,
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class StaticSite:
    """``python -m http.server`` in a thread: how S3/CloudFront serve the built files."""

    root: Path
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Sites:
    allowed: StaticSite
    blocked: StaticSite
    unreachable: StaticSite
    """Built for an API port nobody listens on."""


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the package (launching costs about a second)."""
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=60_000
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def site_ports() -> tuple[int, int]:
    """Ports of the allowed and the blocked origin, known before the service starts."""
    return free_port(), free_port()


@pytest.fixture(scope="package")
def api(
    tmp_path_factory: pytest.TempPathFactory, site_ports: tuple[int, int]
) -> Iterator[LiveServer]:
    """``wavekit serve`` as a user runs it; the first site's origin is on its CORS allowlist."""
    allowed, _ = site_ports
    server = LiveServer(
        tmp_path_factory.mktemp("web-service") / "data",
        env={"WAVEKIT_CORS_ORIGINS": f"http://127.0.0.1:{allowed}"},
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def sites(
    tmp_path_factory: pytest.TempPathFactory, api: LiveServer, site_ports: tuple[int, int]
) -> Iterator[Sites]:
    root = tmp_path_factory.mktemp("site")
    build_site(root, api.url)
    dead = tmp_path_factory.mktemp("dead-site")
    build_site(dead, f"http://127.0.0.1:{free_port()}")
    allowed, blocked = site_ports
    made = Sites(StaticSite(root, allowed), StaticSite(root, blocked), StaticSite(dead))
    yield made
    for site in (made.allowed, made.blocked, made.unreachable):
        site.close()


@dataclass
class Browsed:
    """A fresh page, with what it logged and which requests it sent."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def wave_requests(self) -> list[tuple[str, str]]:
        return [(m, u) for m, u in self.requests if "/waves" in u]


@pytest.fixture
def browsed(browser: Any) -> Iterator[Browsed]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    seen = Browsed(page)
    page.on("console", lambda m: m.type == "error" and seen.errors.append(m.text))
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.on("request", lambda r: seen.requests.append((r.method, r.url)))
    yield seen
    context.close()


# -- helpers used by the tests ----------------------------------------------------------------


@dataclass(frozen=True)
class Tone:
    frequencies: tuple[str, ...]
    hz: tuple[float, ...]
    duration: str = "1"
    sample_rate: int = 44_100
    bits: str = "16"
    channels: int = 1
    volume: str = "0.5"
    chunks: bool = False

    @property
    def subtype(self) -> str:
        return {"8": "PCM_U8", "16": "PCM_16", "24": "PCM_24", "32": "PCM_32"}.get(
            self.bits, "FLOAT"
        )


def open_page(browsed: Browsed, url: str) -> Any:
    page = browsed.page
    page.goto(url)
    page.wait_for_selector("body[data-state=idle]")
    return page


def fill_form(page: Any, tone: Tone) -> None:
    """Fill the form through the labels a person reads."""
    rows = page.locator("#freq-list > li")
    while rows.count() < len(tone.frequencies):
        page.get_by_role("button", name="Add frequency").click()
    while rows.count() > len(tone.frequencies):
        page.get_by_role("button", name=f"Remove frequency {rows.count()}", exact=True).click()
    for i, text in enumerate(tone.frequencies):
        page.get_by_label(f"Frequency {i + 1}", exact=True).fill(text)
    page.get_by_label("Volume").fill(tone.volume)
    page.get_by_label("Duration (seconds)").fill(tone.duration)
    page.get_by_label("Sample rate (Hz)").fill(str(tone.sample_rate))
    page.get_by_label("Bit depth").select_option(tone.bits)
    page.get_by_label("Channels").fill(str(tone.channels))
    page.get_by_label("Download in base64 chunks").set_checked(tone.chunks)


def wait_done(page: Any, timeout_ms: float = 60_000) -> str:
    """Wait until the page is ready or failed; its final state."""
    page.wait_for_selector(
        "body[data-state=ready], body[data-state=error], body[data-state=invalid]",
        timeout=timeout_ms,
    )
    return str(page.evaluate("document.body.dataset.state"))


def save_download(page: Any, path: Path) -> Path:
    with page.expect_download() as download:
        page.get_by_role("link", name="Download WAV").click()
    download.value.save_as(path)
    return path


def assert_wav_is(path: Path, tone: Tone) -> None:
    """The file decodes to the requested format, length and partials."""
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.format) == (
        tone.sample_rate,
        tone.channels,
        tone.subtype,
        "WAV",
    )
    assert info.frames == round(float(tone.duration) * tone.sample_rate)
    data, _ = sf.read(str(path), dtype="float64", always_2d=True)
    for channel in range(tone.channels):
        found = strongest_frequencies(data[:, channel], tone.sample_rate, count=len(tone.hz))
        np.testing.assert_allclose(sorted(p.freq for p in found), sorted(tone.hz), atol=0.5)
    volume = float(tone.volume) if tone.volume[-1].isdigit() else parse_volume(tone.volume)
    assert float(np.max(np.abs(data))) == pytest.approx(volume, abs=0.02)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


# -- axe-core, for the accessibility audits --------------------------------------------------


@pytest.fixture(scope="package")
def axe_script() -> Path:
    """axe-core from npm (tests/web/package-lock.json); installed here if npm is available."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed (apt-get install npm); .ci/run installs it")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)],
            check=True,
            capture_output=True,
        )
    return AXE


def axe_violations(page: Any, axe: Path) -> list[str]:
    if not page.evaluate("Boolean(window.axe)"):
        page.add_script_tag(path=str(axe))
    result = page.evaluate(
        """() => axe.run(document, { runOnly: { type: "tag", values: [
          "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } })"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {json.dumps([n['target'] for n in v['nodes']])}"
        for v in result["violations"]
    ]
