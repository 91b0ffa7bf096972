"""Small security pieces of the service: signed download tokens, a rate limiter, and
pseudonyms for callers known only by their address.

Tokens stand in for S3 presigned URLs when files are served locally: an HMAC-SHA256
over the blob key and an expiry, with a key kept in the data directory (mode 0600).

A caller without ``X-Client-Id`` is counted by its address, and client ids are published
(the Clients leaderboard), so the address is replaced by a keyed hash: the same address
gives the same pseudonym for as long as the deployment keeps its salt, and without the
salt a pseudonym cannot be turned back into an address by hashing the IPv4 space.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from wavekit.errors import JobGoneError, RateLimitedError
from wavekit.settings import Settings

CLIENT_ID_SALT_FILE = ".client-id-salt"
PSEUDONYM_PREFIX = "ip-"
PSEUDONYM_HEX_CHARS = 12
"""48 bits: distinct for the callers of one deployment (a collision merges two callers
on the Clients board only past ~16 million addresses), short enough to read."""


def load_or_create_key(path: Path) -> bytes:
    """The key stored at ``path``, created (random, 0600) on first use.

    The file is written under a temporary name and linked into place, so processes
    starting together on one data directory all end up with the one key that won.
    """
    try:
        key = path.read_bytes()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        draft.unlink()
    return path.read_bytes()


def client_id_salt(settings: Settings) -> bytes:
    """The deployment's secret salt for address pseudonyms.

    ``WAVEKIT_CLIENT_ID_SALT`` when set (on AWS the API function reads it from the
    Secrets Manager secret ``WAVEKIT_CLIENT_ID_SALT_SECRET`` names, so every container
    agrees); otherwise a random salt generated once and kept in the data directory.
    """
    if settings.client_id_salt:
        return settings.client_id_salt.encode()
    return load_or_create_key(settings.data_dir / CLIENT_ID_SALT_FILE)


@functools.lru_cache(maxsize=4096)
def pseudonymise_address(salt: bytes, address: str) -> str:
    """``ip-`` and 12 hex characters of HMAC-SHA256(salt, address): stable per address
    and salt, and not reversible without the salt.

    Cached: every request without ``X-Client-Id`` needs it (its request-log event, and
    the routes that rate-limit or hold a claim by client), and an HMAC costs ~4 us against
    ~0.2 us for a hit (measured, load average 10).
    """
    digest = hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_CHARS]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class DownloadGrant:
    key: str
    filename: str
    expires_at: float
    request_id: str | None = None
    """Whose download this is, for the file's request-log event (signed like the rest)."""


def sign_download(key: bytes, grant: DownloadGrant) -> str:
    payload = _b64(json.dumps(grant.__dict__, separators=(",", ":")).encode())
    signature = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def verify_download(key: bytes, token: str, now: float | None = None) -> DownloadGrant:
    """The grant inside a valid, unexpired token; :class:`JobGoneError` otherwise."""
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise JobGoneError("download link: invalid signature")
    try:
        grant = DownloadGrant(**json.loads(_unb64(payload)))
    except (ValueError, TypeError) as exc:
        raise JobGoneError("download link: malformed") from exc
    if (time.time() if now is None else now) > grant.expires_at:
        raise JobGoneError("download link: expired; ask /waves/{request_id}/download again")
    return grant


class RateLimiter:
    """Token bucket per client: ``rate`` requests per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, max_clients: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client_id: str, now: float | None = None) -> None:
        """Take one token or raise :class:`RateLimitedError` with the wait in ``retry_after``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[client_id] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimitedError(
                    f"rate limit: at most {self.rate:g} requests/s per client "
                    f"(burst {self.burst}); retry in {wait:.1f} s",
                    retry_after=wait,
                )
            if len(self._buckets) >= self.max_clients and client_id not in self._buckets:
                self._buckets.clear()  # bounded memory; forgetting only loosens the limit
            self._buckets[client_id] = (tokens - 1.0, now)
