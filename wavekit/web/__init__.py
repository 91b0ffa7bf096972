"""The WAV builder and leaderboards pages: a static site (HTML + JavaScript modules, no build).

The page talks to the service contract of docs/design.md §4 only, so one set of files works
in two places:

- :func:`mount_web` serves it from the service itself at ``/`` (same origin; what
  ``wavekit serve`` does), with a ``config.js`` generated from the settings;
- :func:`build_site` writes it to a directory with the API base injected, for hosting
  on another origin (S3 + CloudFront in front of API Gateway). That origin must be on
  the service's CORS allowlist (``WAVEKIT_CORS_ORIGINS``), unless a CDN routes the API
  paths to the same origin (``api_base=""``).

Only ``config.js`` and the Content-Security-Policy in each ``.html`` page differ between
deployments; everything else is copied verbatim from ``wavekit/web/site/``. The pages:
``index.html`` (the form) and ``leaderboards.html`` (the public boards, which read
``GET /leaderboards/{board}`` and say when the next refresh is due from the injected
refresh interval).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.responses import Response

    from wavekit.settings import Settings

__all__ = [
    "SITE_DIR",
    "DownloadMode",
    "build_site",
    "content_security_policy",
    "media_type",
    "mount_web",
    "render_config",
    "site_files",
]

DownloadMode = Literal["url", "chunks"]
"""How the page downloads a ready WAV: the 303 redirect URL, or base64 JSON chunks."""

SITE_DIR = Path(__file__).parent / "site"
"""The page's source files, shipped in the wheel as package data."""

CONFIG_NAME = "config.js"
CSP_MARKER = "<!-- wavekit:csp -->"
DEFAULT_MAX_DURATION_S = 60.0
DEFAULT_LEADERBOARD_REFRESH_S = 3600.0
"""The service's default ``leaderboard_refresh_s`` (and the hourly schedule on AWS)."""
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
"""Headers the local server adds to page files (CloudFront would add them on AWS)."""

_BASE_RE = re.compile(
    r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?(/[A-Za-z0-9._~!$&*+,;=:@%/-]*)?$"
)
"""An http(s) URL without credentials, query or fragment, nor quotes or brackets in it."""
_SOURCE_RE = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/-]*)?$")
"""An origin the page may fetch from; ``https://*.amazonaws.com`` style wildcards allowed."""
AWS_FILE_HOSTS = "https://*.amazonaws.com"
"""Where presigned S3 download links point, whatever the addressing style."""


def site_files() -> list[Path]:
    """The page's source files (without the generated ``config.js``), sorted."""
    return sorted(p for p in SITE_DIR.iterdir() if p.suffix in MEDIA_TYPES and p.is_file())


def _check_api_base(api_base: str) -> str:
    base = api_base.strip().rstrip("/")
    if base and not _BASE_RE.match(base):
        raise ValueError(
            f"api_base: must be '' (same origin) or an http(s) URL without credentials, "
            f"query or fragment, got {api_base!r}"
        )
    return base


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def render_config(
    api_base: str = "",
    download: DownloadMode = "url",
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    validate: bool = True,
    leaderboard_refresh_s: float = DEFAULT_LEADERBOARD_REFRESH_S,
) -> str:
    """The text of ``config.js``: an ES module the page imports before anything else.

    Parameters
    ----------
    api_base
        URL of the service (``https://abc.execute-api.eu-central-1.amazonaws.com``,
        maybe with a stage path) or ``""`` for the page's own origin.
    download
        ``"url"`` follows the 303 to the signed/presigned file; ``"chunks"`` fetches
        base64 chunks and checks each one's sha256. Users can switch on the page.
    max_duration_s
        The service's ``max_duration_s``, so the form rejects longer tones up front.
    validate
        ``False`` sends whatever is typed and leaves every check to the service.
    leaderboard_refresh_s
        How often the service recomputes the leaderboards (``leaderboard_refresh_s``),
        so the leaderboards page can say when the next refresh is due.
    """
    if download not in get_args(DownloadMode):
        raise ValueError(f"download: must be 'url' or 'chunks', got {download!r}")
    if not max_duration_s > 0:
        raise ValueError(f"max_duration_s: must be > 0, got {max_duration_s!r}")
    if not leaderboard_refresh_s > 0:
        raise ValueError(f"leaderboard_refresh_s: must be > 0, got {leaderboard_refresh_s!r}")
    config = {
        "apiBase": _check_api_base(api_base),
        "download": download,
        "maxDurationS": max_duration_s,
        "validate": validate,
        "leaderboardRefreshS": leaderboard_refresh_s,
    }
    return (
        "// Generated by wavekit.web (render_config); deployments differ only here.\n"
        f"export default Object.freeze({json.dumps(config)});\n"
    )


def content_security_policy(api_base: str = "", connect: Sequence[str] = ()) -> str:
    """The page's CSP: its own scripts only; network access to itself, the API and ``connect``.

    ``connect`` adds origins the page may fetch from, e.g. the S3 endpoint a presigned
    download URL points to (``https://my-bucket.s3.eu-central-1.amazonaws.com``, or
    ``https://*.amazonaws.com``); a path is reduced to its origin.
    """
    sources = ["'self'"]
    base = _check_api_base(api_base)
    for url in connect:
        if not _SOURCE_RE.match(url.strip()):
            raise ValueError(f"connect: {url!r} is not an http(s) origin")
    for url in ([base] if base else []) + [u.strip() for u in connect]:
        origin = _origin(url)
        if origin not in sources:
            sources.append(origin)
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "media-src blob:",
            f"connect-src {' '.join(sources)}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _attribute(text: str) -> str:
    """Escape for a double-quoted HTML attribute (single quotes stay readable)."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def _page_html(path: Path, csp: str) -> str:
    """An ``.html`` page with its CSP ``<meta>`` in place of the marker (every page has one)."""
    template = path.read_text(encoding="utf-8")
    if CSP_MARKER not in template:
        raise RuntimeError(f"{path} lost its {CSP_MARKER} marker")
    meta = f'<meta http-equiv="Content-Security-Policy" content="{_attribute(csp)}">'
    return template.replace(CSP_MARKER, meta)


def _render_site(
    api_base: str, download: DownloadMode, max_duration_s: float, validate: bool,
    connect: Sequence[str], leaderboard_refresh_s: float,
) -> dict[str, bytes]:  # fmt: skip
    """File name → content of the whole site, with configuration injected."""
    csp = content_security_policy(api_base, connect)
    files = {
        p.name: _page_html(p, csp).encode() if p.suffix == ".html" else p.read_bytes()
        for p in site_files()
    }
    files[CONFIG_NAME] = render_config(
        api_base, download, max_duration_s, validate, leaderboard_refresh_s
    ).encode()
    return files


def build_site(
    out_dir: Path,
    api_base: str,
    download: DownloadMode = "url",
    *,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    validate: bool = True,
    connect: Sequence[str] = (),
    leaderboard_refresh_s: float = DEFAULT_LEADERBOARD_REFRESH_S,
) -> list[Path]:
    """Write the pages to ``out_dir`` with ``api_base`` injected; return the files written.

    Upload every returned file to the site bucket with :func:`media_type` as its
    ``Content-Type``. For ``download="url"`` on AWS, pass the bucket's origin in
    ``connect`` (the presigned redirect is fetched by the page) and give the bucket a
    CORS rule allowing ``GET`` from ``*`` (after a cross-origin redirect the browser
    sends ``Origin: null``); ``download="chunks"`` needs neither. ``leaderboard_refresh_s``
    is the interval of the deployment's leaderboard refresh schedule (hourly on AWS).

    Raises
    ------
    ValueError
        If ``api_base`` is not ``""`` or an http(s) URL, ``download`` is unknown, or a
        limit is not positive.
    """
    files = _render_site(
        api_base, download, max_duration_s, validate, connect, leaderboard_refresh_s
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in sorted(files.items()):
        path = out_dir / name
        path.write_bytes(content)
        written.append(path)
    return written


def media_type(path: Path | str) -> str:
    """The ``Content-Type`` to serve a site file with (``config.js`` included)."""
    return MEDIA_TYPES.get(Path(path).suffix, "application/octet-stream")


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the pages from the service: ``/`` (the form), ``/leaderboards.html`` and their
    files, same origin as the API.

    Explicit routes rather than a catch-all mount, so unknown paths still get the API's
    JSON 404; the routes are left out of the OpenAPI schema (they are not the contract).
    On AWS the page downloads in chunks by default: a presigned S3 link is only readable
    by the page if the bucket has a CORS rule for it.
    """
    from fastapi.responses import Response

    connect = [settings.public_url] if settings.public_url else []
    download: DownloadMode = "url"
    if settings.backend == "aws":
        connect.append(AWS_FILE_HOSTS)
        download = "chunks"
    files = _render_site(
        "", download, settings.max_duration_s, True, connect, settings.leaderboard_refresh_s
    )

    def route(content: bytes, content_type: str) -> Callable[[], Awaitable[Response]]:
        async def page_file() -> Response:
            return Response(content, media_type=content_type, headers=PAGE_HEADERS)

        return page_file

    for name, content in files.items():
        endpoint = route(content, media_type(name))
        paths = ["/", "/index.html"] if name == "index.html" else [f"/{name}"]
        for path in paths:
            app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
