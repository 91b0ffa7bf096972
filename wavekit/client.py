"""Python client of the WAV service: post a spec, poll, download (URL or chunks).

Server errors come back as the same typed exceptions the service raises (an invalid
spec is an :class:`InvalidSpecError` naming the field, a second download a
:class:`JobGoneError`, ...), so callers handle them once, locally or remotely.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from wavekit.audio.spec import ToneSpec
from wavekit.errors import (
    ChunkOutOfRangeError,
    FieldProblem,
    IdempotencyConflictError,
    InvalidSpecError,
    JobError,
    JobFailedError,
    JobGoneError,
    JobNotFoundError,
    JobNotReadyError,
    MissingExtraError,
    RateLimitedError,
    ServiceError,
    WavekitError,
)

try:
    import httpx
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise MissingExtraError("httpx", "service") from exc

Via = Literal["url", "chunks"]
CHUNK_ATTEMPTS = 4
"""Tries per chunk (a corrupt chunk or a network error) before giving up."""
_ERRORS: dict[str, type[JobError]] = {
    cls.code: cls
    for cls in (
        JobNotFoundError,
        JobNotReadyError,
        JobFailedError,
        JobGoneError,
        ChunkOutOfRangeError,
        IdempotencyConflictError,
        RateLimitedError,
    )
}


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    message = str(body.get("message", response.reason_phrase))
    code = body.get("error", "")
    if code in ("invalid_spec", "malformed_json"):
        problems = [FieldProblem(d["field"], d["message"]) for d in body.get("detail", [])]
        raise InvalidSpecError(problems or [FieldProblem("spec", message)])
    retry_after = response.headers.get("retry-after")
    if code in _ERRORS:
        raise _ERRORS[code](message, retry_after=float(retry_after) if retry_after else None)
    raise ServiceError(response.status_code, message)


class WaveClient:
    """Talk to a wavekit service at ``base_url``.

    Parameters
    ----------
    base_url
        e.g. ``http://127.0.0.1:8000`` or the API Gateway URL.
    client_id
        Sent as ``X-Client-Id`` (rate limits and analytics group by it).
    max_wait_s
        Give up polling a job after this long.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str | None = None,
        timeout_s: float = 30.0,
        max_wait_s: float = 300.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"X-Client-Id": client_id} if client_id else {}
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout_s, headers=headers)
        self.max_wait_s = max_wait_s

    def __enter__(self) -> WaveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def submit(
        self, spec: ToneSpec | Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """POST the spec; return the 202 body (``request_id``, ``status``, ``links``)."""
        body = spec.model_dump(mode="json") if isinstance(spec, ToneSpec) else dict(spec)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = self.http.post("/waves", json=body, headers=headers)
        _raise_for(response)
        result: dict[str, Any] = response.json()
        return result

    def status(self, request_id: str) -> dict[str, Any]:
        response = self.http.get(f"/waves/{request_id}")
        _raise_for(response)
        result: dict[str, Any] = response.json()
        return result

    def wait(self, request_id: str, progress: bool = False) -> dict[str, Any]:
        """Poll with backoff (never slower than ``Retry-After``) until the job is done."""
        deadline = time.monotonic() + self.max_wait_s
        delay = 0.05
        with tqdm(desc="waiting", total=None, disable=not progress, leave=False) as bar:
            while True:
                status = self.status(request_id)
                if status["status"] != "in_progress":
                    break
                if time.monotonic() > deadline:
                    raise WavekitError(f"request {request_id} not ready after {self.max_wait_s} s")
                time.sleep(delay)
                delay = min(delay * 1.5, 1.0)
                bar.update()
        if status["status"] == "failed":
            raise JobFailedError(f"the job failed: {status.get('error')}")
        if status["status"] in ("downloaded", "downloading", "expired"):
            raise JobGoneError(f"the file is {status['status']}")
        return status

    def download(self, request_id: str, via: Via = "url", progress: bool = False) -> bytes:
        """Fetch a ready file once, by redirect to a short-lived URL or by base64 chunks."""
        if via == "chunks":
            return self._download_chunks(request_id, progress)
        response = self.http.get(f"/waves/{request_id}/download", follow_redirects=False)
        _raise_for(response)
        location = response.headers["location"]
        with httpx.stream("GET", location, timeout=self.http.timeout) as stream:
            _raise_for(stream)
            total = int(stream.headers.get("content-length", 0)) or None
            parts = []
            with tqdm(total=total, unit="B", unit_scale=True, disable=not progress) as bar:
                for part in stream.iter_bytes():
                    parts.append(part)
                    bar.update(len(part))
        return b"".join(parts)

    def _download_chunks(self, request_id: str, progress: bool) -> bytes:
        """Chunks 0, 1, ... until the last. The first claims the download; its token lets
        this client (only) fetch the rest, and fetch a chunk again when it arrived corrupt
        or the connection failed, up to :data:`CHUNK_ATTEMPTS` times."""
        parts: list[bytes] = []
        token: str | None = None
        with tqdm(unit="B", unit_scale=True, disable=not progress) as bar:
            while True:
                chunk = self._fetch_chunk(request_id, len(parts), token)
                token = chunk.get("download_token") or token
                data = chunk["data"]
                parts.append(data)
                bar.total = chunk["total_bytes"]
                bar.update(len(data))
                if chunk["is_last"]:
                    return b"".join(parts)

    def _fetch_chunk(self, request_id: str, offset: int, token: str | None) -> dict[str, Any]:
        """One chunk, checked against its SHA-256; waits while the job is in progress."""
        failures: list[str] = []
        while len(failures) < CHUNK_ATTEMPTS:
            params = {"download_token": token} if token else {}
            try:
                response = self.http.get(f"/waves/{request_id}/chunks/{offset}", params=params)
            except httpx.TransportError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            _raise_for(response)
            chunk: dict[str, Any] = response.json()
            if chunk["status"] == "in_progress":
                time.sleep(float(response.headers.get("retry-after", 1)))
                continue
            token = chunk.get("download_token") or token  # the claim, even if the data is bad
            data = base64.b64decode(chunk["file"])
            if hashlib.sha256(data).hexdigest() == chunk["sha256"]:
                return {**chunk, "data": data, "download_token": token}
            failures.append("its SHA-256 does not match (corrupted in transit)")
            if chunk["is_last"]:  # serving it ended the claim: it cannot be asked for again
                raise WavekitError(
                    f"chunk {offset} of {request_id}, the last, arrived corrupt; the service "
                    "sends the last chunk once (download-once), so request the file again"
                )
        raise WavekitError(
            f"chunk {offset} of {request_id}: gave up after {CHUNK_ATTEMPTS} attempts "
            f"({failures[-1]})"
        )

    def generate(
        self,
        spec: ToneSpec | Mapping[str, Any],
        path: str | os.PathLike[str] | None = None,
        via: Via = "url",
        progress: bool = True,
        idempotency_key: str | None = None,
    ) -> bytes | Path:
        """Submit, wait and download: the WAV bytes, or the path they were written to."""
        accepted = self.submit(spec, idempotency_key)
        self.wait(accepted["request_id"], progress=progress)
        data = self.download(accepted["request_id"], via=via, progress=progress)
        if path is None:
            return data
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target
