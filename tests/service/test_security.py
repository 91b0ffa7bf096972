from __future__ import annotations

import stat
from pathlib import Path

import pytest

from wavekit.errors import JobGoneError, RateLimitedError
from wavekit.service.security import (
    DownloadGrant,
    RateLimiter,
    load_or_create_key,
    sign_download,
    verify_download,
)


def test_signing_key_is_private_and_stable(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "k")
    assert len(key) == 32
    assert load_or_create_key(tmp_path / "k") == key
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


def test_download_tokens_expire_and_resist_tampering() -> None:
    key = b"k" * 32
    token = sign_download(key, DownloadGrant("waves/a.wav", "a.wav", expires_at=1000.0))
    assert verify_download(key, token, now=999.0).key == "waves/a.wav"
    with pytest.raises(JobGoneError, match="expired"):
        verify_download(key, token, now=1000.5)
    with pytest.raises(JobGoneError, match="signature"):
        verify_download(b"x" * 32, token, now=0)
    signature = token.split(".")[1]
    forged = sign_download(key, DownloadGrant("waves/b.wav", "b.wav", 1e12)).split(".")[0]
    with pytest.raises(JobGoneError, match="signature"):
        verify_download(key, f"{forged}.{signature}", now=0)


def test_rate_limiter_refills_per_client() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    limiter.check("a", now=0.0)
    limiter.check("a", now=0.0)
    with pytest.raises(RateLimitedError) as limited:
        limiter.check("a", now=0.1)
    assert limited.value.retry_after == pytest.approx(0.4)  # 0.2 tokens back, 0.8 to go at 2/s
    limiter.check("b", now=0.1)  # other clients are unaffected
    limiter.check("a", now=0.6)  # 1.2 tokens by now
