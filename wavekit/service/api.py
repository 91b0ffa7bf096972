"""The HTTP API of the WAV service (DESIGN.md §3), the same locally and behind API Gateway.

Only this module turns wavekit errors into HTTP responses: every 4xx names the field
or the reason, backend trouble is a 503 with ``Retry-After``, and nothing is a bare 500
traceback. Every request emits one request-log event (DESIGN.md §4).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wavekit import __version__
from wavekit.audio.spec import ToneSpec, describe_problems
from wavekit.errors import (
    AdminAuthError,
    BackendError,
    FieldProblem,
    InvalidSpecError,
    JobError,
    JobGoneError,
    MissingExtraError,
    WavekitError,
)
from wavekit.events import RequestEvent
from wavekit.ports import Job, JobStatus
from wavekit.runtime import Runtime
from wavekit.service.jobs import JobService
from wavekit.service.leaderboards import LeaderboardService
from wavekit.service.security import (
    DownloadGrant,
    RateLimiter,
    load_or_create_key,
    sign_download,
    verify_download,
)
from wavekit.settings import Settings
from wavekit.web import mount_web

log = logging.getLogger(__name__)
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
FILE_STREAM_BYTES = 1 << 20


# -- responses ----------------------------------------------------------------------------


def error_response(
    status: int, code: str, message: str, problems: list[FieldProblem] | None = None,
    retry_after: float | None = None,
) -> JSONResponse:  # fmt: skip
    body: dict[str, Any] = {"error": code, "message": message}
    if problems is not None:
        body["detail"] = [{"field": p.field, "message": p.message} for p in problems]
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return JSONResponse(body, status_code=status, headers=headers)


def _links(request_id: str) -> dict[str, str]:
    base = f"/waves/{request_id}"
    return {"self": base, "download": f"{base}/download", "chunks": f"{base}/chunks/0"}


def _job_body(job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": job.request_id,
        "file_id": job.file_id,
        "status": job.status.value,
        "spec": json.loads(job.spec_json),
        "created_at": job.created_at.isoformat(),
        "bytes": job.bytes,
        "links": _links(job.request_id),
    }
    if job.error:
        body["error"] = job.error
    return body


def _progress_headers(job: Job) -> dict[str, str]:
    headers = {"Location": f"/waves/{job.request_id}"}
    if job.status is JobStatus.IN_PROGRESS:
        headers["Retry-After"] = "1"
    return headers


# -- middleware -----------------------------------------------------------------------------


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_large = error_response(
            413, "payload_too_large", f"body: must be at most {self.max_bytes} bytes"
        )
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            scope.setdefault("state", {})["error_code"] = "payload_too_large"
            await too_large(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLargeError:
            scope.setdefault("state", {})["error_code"] = "payload_too_large"
            await too_large(scope, receive, send)


class _BodyTooLargeError(Exception):
    pass


class RequestLogMiddleware:
    """Emit one request-log event per HTTP request, after the response is sent.

    Endpoints add tone fields through ``request.state``; emitting only appends to the
    sink's buffer, and any failure here is logged, never raised.
    """

    def __init__(self, app: ASGIApp, runtime: Runtime, cold_start: list[bool]) -> None:
        self.app = app
        self.runtime = runtime
        self.cold_start = cold_start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def capturing_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capturing_send)
        finally:
            self._emit(scope, status, sent, (time.perf_counter() - started) * 1000)

    def _emit(self, scope: Scope, status: int, sent: int, latency_ms: float) -> None:
        try:
            state = scope.get("state") or {}
            route = scope.get("route")
            if route is not None and not getattr(route, "include_in_schema", True):
                return  # the web page's files and the API docs are not API requests
            path = getattr(route, "path", None) or "unmatched"
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            spec: ToneSpec | None = state.get("spec")
            event = RequestEvent(
                route=f"{scope['method']} {path}",
                method=scope["method"],
                status_code=status,
                latency_ms=latency_ms,
                request_id=state.get("request_id")
                or (scope.get("path_params") or {}).get("request_id"),
                client_id=client_id_of(headers, scope),
                origin=headers.get("origin"),
                frequencies=[p.freq for p in spec.frequencies] if spec else None,
                duration_s=spec.duration if spec else None,
                sample_rate=spec.sample_rate if spec else None,
                bits_per_sample=(32 if spec.bits_per_sample == "float32" else spec.bits_per_sample)
                if spec
                else None,
                channels=spec.number_of_channels if spec else None,
                volume=spec.volume if spec else None,
                bytes_out=sent,
                error_code=state.get("error_code") or (f"http_{status}" if status >= 400 else None),
                region=self.runtime.settings.region,
                cold_start=self.cold_start.pop() if self.cold_start else False,
            )
            self.runtime.backends.events.emit(event)
        except Exception:  # events never fail a request
            log.exception("could not emit the request-log event")


def _require_admin(settings: Settings, authorization: str | None) -> None:
    """``Authorization: Bearer <WAVEKIT_ADMIN_TOKEN>``; without a configured token the
    admin routes are off."""
    if not settings.admin_token:
        raise AdminAuthError(403, "admin_disabled", "admin routes are off: set WAVEKIT_ADMIN_TOKEN")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), settings.admin_token.encode()
    ):
        raise AdminAuthError(
            401, "unauthorized", "Authorization: a valid admin bearer token is required"
        )


def _leaderboards(runtime: Runtime) -> LeaderboardService:
    if runtime.leaderboards is None:
        raise MissingExtraError("duckdb", "analytics")
    return runtime.leaderboards


def client_id_of(headers: dict[str, str], scope: Scope) -> str:
    """``X-Client-Id`` when it is well-formed, else the caller's address."""
    claimed = headers.get("x-client-id", "")
    if CLIENT_ID_RE.match(claimed):
        return claimed
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


# -- app ------------------------------------------------------------------------------------


async def get_service(request: Request) -> JobService:
    service: JobService = request.app.state.runtime.service
    return service


Service = Annotated[JobService, Depends(get_service)]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, cold_start: bool = False
) -> FastAPI:
    """The ASGI app. Without ``runtime``, it builds the local one and runs its threads."""
    settings = settings or (runtime.settings if runtime else Settings())
    owns_runtime = runtime is None
    runtime = runtime or Runtime.local(settings)
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    signing_key = load_or_create_key(settings.data_dir / ".signing-key")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owns_runtime:
            runtime.start()
        yield
        if owns_runtime:
            runtime.close()

    app = FastAPI(
        title="wavekit WAV service",
        version=__version__,
        description="Job-style WAV generation: POST a tone spec, poll, download once.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime

    @app.exception_handler(JobError)
    async def job_error(request: Request, exc: JobError) -> JSONResponse:
        request.state.error_code = exc.code
        return error_response(exc.status_code, exc.code, str(exc), retry_after=exc.retry_after)

    @app.exception_handler(InvalidSpecError)
    async def invalid_spec(request: Request, exc: InvalidSpecError) -> JSONResponse:
        request.state.error_code = "invalid_spec"
        return error_response(422, "invalid_spec", str(exc), list(exc.problems))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            request.state.error_code = "malformed_json"
            problems = [FieldProblem("body", "is not valid JSON")]
            return error_response(400, "malformed_json", "body: is not valid JSON", problems)
        problems = describe_problems(errors)
        request.state.error_code = "invalid_spec"
        message = "; ".join(str(p) for p in problems)
        return error_response(422, "invalid_spec", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not even read the body
            request.state.error_code = "malformed_json"
            problems = [FieldProblem("body", str(exc.detail))]
            return error_response(400, "malformed_json", f"body: {exc.detail}", problems)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        request.state.error_code = code or f"http_{exc.status_code}"
        response = error_response(exc.status_code, request.state.error_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(WavekitError)
    async def other_error(request: Request, exc: WavekitError) -> JSONResponse:
        """Analytics errors: unknown names are the caller's; the rest are ours (503)."""
        from wavekit.errors import InvalidWindowError, UnknownBoardError

        if isinstance(exc, UnknownBoardError):
            request.state.error_code = "unknown_board"
            return error_response(404, "unknown_board", f"board: {exc}")
        if isinstance(exc, InvalidWindowError):
            request.state.error_code = "invalid_window"
            problems = [FieldProblem("window", str(exc))]
            return error_response(422, "invalid_window", f"window: {exc}", problems)
        if isinstance(exc, AdminAuthError):
            request.state.error_code = exc.code
            response = error_response(exc.status_code, exc.code, str(exc))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        request.state.error_code = "unavailable"
        return error_response(503, "unavailable", str(exc), retry_after=30)

    @app.exception_handler(BackendError)
    async def backend_error(request: Request, exc: BackendError) -> JSONResponse:
        log.error("backend error on %s: %s", request.url.path, exc)
        request.state.error_code = "backend_unavailable"
        return error_response(503, "backend_unavailable", "storage is busy; retry", retry_after=2)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        request.state.error_code = "internal"
        return error_response(500, "internal", "unexpected error; it has been logged")

    # The hot routes are `async`: their SQLite work is a few hundred microseconds, cheaper
    # on the event loop than a hop to the thread pool (which halved POST throughput).
    @app.post("/waves", status_code=202, summary="Request a WAV file")
    async def create_wave(
        spec: ToneSpec,
        request: Request,
        response: Response,
        service: Service,
        idempotency_key: Annotated[
            str | None, Header(max_length=128, description="Replays return the same job.")
        ] = None,
    ) -> dict[str, Any]:
        request.state.spec = spec
        client = client_id_of(dict(request.headers), request.scope)
        limiter.check(client)
        job = service.submit(spec, client, idempotency_key)
        request.state.request_id = job.request_id
        response.headers.update(_progress_headers(job))
        return {
            "request_id": job.request_id,
            "file_id": job.file_id,
            "status": job.status.value,
            "links": _links(job.request_id),
        }

    @app.get("/waves/{request_id}", summary="Status of a request")
    async def get_wave(
        request_id: RequestId, response: Response, service: Service
    ) -> dict[str, Any]:
        job = service.get(request_id)
        response.headers.update(_progress_headers(job))
        return _job_body(job)

    @app.get(
        "/waves/{request_id}/download",
        status_code=303,
        summary="Download once: redirect to a short-lived URL",
        response_class=RedirectResponse,
    )
    def download_wave(request_id: RequestId, request: Request, service: Service) -> Response:
        job = service.claim_download(request_id)
        filename = f"wavekit-{job.file_id[:12]}.wav"
        ttl = settings.download_url_ttl_s
        url = service.blobs.presigned_url(job.blob_key, ttl, filename)
        if url is None:
            grant = DownloadGrant(job.blob_key, filename, time.time() + ttl)
            token = sign_download(signing_key, grant)
            if settings.public_url:
                url = f"{settings.public_url.rstrip('/')}/files/{token}"
            else:
                url = str(request.url_for("download_file", token=token))
        return RedirectResponse(url, status_code=303)

    @app.get("/files/{token}", summary="A signed, expiring file link (local store)")
    def download_file(token: str, service: Service) -> StreamingResponse:
        grant = verify_download(signing_key, token)
        size = service.blobs.size(grant.key)
        if size is None:
            raise JobGoneError("the file is no longer stored")

        def stream() -> Iterator[bytes]:
            for start in range(0, size, FILE_STREAM_BYTES):
                yield service.blobs.read_range(grant.key, start, FILE_STREAM_BYTES)

        return StreamingResponse(
            stream(),
            media_type="audio/wav",
            headers={
                "Content-Length": str(size),
                "Content-Disposition": f'attachment; filename="{grant.filename}"',
            },
        )

    @app.get("/waves/{request_id}/chunks/{offset_num}", summary="Download in base64 chunks")
    def get_chunk(
        request_id: RequestId,
        offset_num: Annotated[int, Path(ge=0, le=1_000_000)],
        response: Response,
        service: Service,
    ) -> dict[str, Any]:
        job = service.get(request_id)
        if job.status is JobStatus.IN_PROGRESS:
            response.headers.update(_progress_headers(job))
            return {"status": job.status.value, "offset_num": offset_num, "is_last": False}
        chunk = service.read_chunk(request_id, offset_num)
        return {
            "status": JobStatus.READY.value,
            "file": base64.b64encode(chunk.data).decode(),
            "offset_num": chunk.offset_num,
            "is_last": chunk.is_last,
            "sha256": chunk.sha256,
            "total_bytes": chunk.total_bytes,
            "chunk_bytes": chunk.chunk_bytes,
        }

    @app.get("/leaderboards/{board}", summary="A cached leaderboard")
    def get_leaderboard(
        board: Annotated[str, Path(max_length=64)],
        response: Response,
        window: Annotated[str, Query(max_length=16, description="month, year or all")] = "month",
    ) -> dict[str, Any]:
        computed = _leaderboards(runtime).get(board, window)
        response.headers["Cache-Control"] = "public, max-age=60"
        return computed.to_dict()

    @app.post("/leaderboards/refresh", summary="Recompute every leaderboard now (admin)")
    def refresh_leaderboards(
        response: Response,
        authorization: Annotated[str | None, Header(max_length=512)] = None,
    ) -> dict[str, Any]:
        _require_admin(settings, authorization)
        leaderboards = _leaderboards(runtime)
        report = leaderboards.refresh()
        if leaderboards.runs_in_background:  # AWS: the refresh function was started
            response.status_code = 202
            return {"status": "started", "started_at": report.started_at.isoformat()}
        return {
            "status": "done",
            "refreshed": len(report.boards),
            "started_at": report.started_at.isoformat(),
            "finished_at": report.finished_at.isoformat(),
        }

    @app.get("/health", summary="Liveness and queue depth")
    async def health(service: Service) -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "queue_depth": service.queue.depth()}

    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Idempotency-Key", "X-Client-Id", "Authorization"],
        expose_headers=["Location", "Retry-After"],
        allow_credentials=False,
        max_age=600,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLogMiddleware, runtime=runtime, cold_start=[cold_start])
    mount_web(app, settings)
    return app
