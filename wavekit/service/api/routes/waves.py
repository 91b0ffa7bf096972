"""``/waves``: request a WAV file, poll it, download it once (redirect or base64 chunks),
and ``/files/{token}``, the signed link a local store redirects to."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.routing import Match, Route
from starlette.types import Scope

from wavekit.audio.spec import ToneSpec
from wavekit.errors import JobGoneError, JobNotFoundError
from wavekit.ports import Job, JobStatus
from wavekit.service.api.deps import Api, ApiState, RequestId
from wavekit.service.api.middleware import client_id_of
from wavekit.service.api.schemas import (
    LOCATION,
    RETRY_AFTER,
    WaveAccepted,
    WaveChunk,
    WaveStatus,
    error_responses,
)
from wavekit.service.api.spec_body import SPEC_BODY, idempotency_key, read_spec
from wavekit.service.security import DownloadGrant, sign_download, verify_download

FILE_STREAM_BYTES = 1 << 20
router = APIRouter(tags=["waves"])


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


def log_download(request: Request, job: Job, *, claimed: bool) -> None:
    """What a download's request-log event carries: its request and the spec downloaded
    (so the downloaded-specs boards need no join back to the POST), and whether this
    answer took the job's one download claim (``download_claim``, see
    :class:`wavekit.events.RequestEvent`)."""
    state = request.state
    state.request_id = job.request_id
    state.spec = ToneSpec.parse(job.spec_json)
    state.download_claim = claimed


def _progress_headers(job: Job) -> dict[str, str]:
    headers = {"Location": f"/waves/{job.request_id}"}
    if job.status is JobStatus.IN_PROGRESS:
        headers["Retry-After"] = "1"
    return headers


IN_PROGRESS_HEADERS = {**LOCATION, **RETRY_AFTER}
"""``Location`` always; ``Retry-After`` while the job is in progress."""


# The hot routes are `async`: their SQLite work is a few hundred microseconds, cheaper on
# the event loop than a hop to the thread pool (on a busy machine each hop waits for the
# scheduler; see ADR 0007). WAL checkpoints, the slow part of a COMMIT, run in their own
# thread, so a POST's COMMIT only appends to the WAL.
#
# POST /waves is the service's hot path and is kept lean (ADR 0007, profiled under wrk):
# the body is validated once, from its bytes, by the same pydantic model FastAPI would use
# (`validate_json` in pydantic's core: no json.loads, no dict walk); the answer is JSON
# bytes built here rather than a dict FastAPI validates against `WaveAccepted` again. The
# OpenAPI document still names `ToneSpec` as the body and `WaveAccepted` as the answer, and
# bad bodies take the same RequestValidationError handler as every other route.
@router.post(
    "/waves",
    status_code=202,
    summary="Request a WAV file",
    response_model=WaveAccepted,
    responses={
        202: {"description": "Accepted (or ready at once)", "headers": IN_PROGRESS_HEADERS},
        **error_responses(
            "malformed_json",
            "idempotency_conflict",
            "payload_too_large",
            "invalid_spec",
            "rate_limited",
        ),
    },
    openapi_extra=SPEC_BODY,
)
async def create_wave(request: Request) -> Response:
    key = idempotency_key(request)
    job = await accept(request, request.app.state.api, await read_spec(request), key)
    return Response(
        _accepted_body(job),
        status_code=202,
        media_type="application/json",
        headers=_progress_headers(job),
    )


async def accept(
    request: Request, api: ApiState, spec: ToneSpec, idempotency_key: str | None = None
) -> Job:
    """What both POST routes (``/waves``, ``/wavebuilder/main``) do with a valid spec:
    rate-limit the caller's client id, submit with the loop's shared COMMIT (returns once
    the job is durable), and leave the spec, client and request ids in ``request.state``
    for the request-log event."""
    state = request.state
    state.spec = spec
    client = state.client_id = client_id_of(request.scope)
    api.limiter.check(client)
    job = await api.context.service.submit_on_loop(spec, client, idempotency_key)
    state.request_id = job.request_id
    return job


class _ServedRoute(Route):
    """A Starlette route that names itself in the scope (``scope["route"]``), as FastAPI's
    routes do, so the request-log event records its path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def served_routes() -> list[Route]:
    """The routes that serve this module's hot path ahead of ``router``: ``POST /waves``
    as a Starlette route, on the app's own router (:func:`~wavekit.service.api.create_app`
    puts it first).

    It calls the same ``create_wave`` as the documented route above, which it shadows:
    that one gives the OpenAPI operation, this one skips what FastAPI adds to a route
    that takes only the ``Request`` (dependency solving, two exit stacks, the included
    router's second match): ~30 us of a POST, an eighth of its time in the app (ADR 0007,
    fourth round). Errors take the app's handlers either way, and the middleware sees
    the same route path.
    """
    return [_ServedRoute("/waves", create_wave, methods=["POST"])]


def _accepted_body(job: Job) -> bytes:
    """``WaveAccepted`` as compact JSON, byte for byte what JSONResponse would send. The
    ids are ours (hex) and the status an enum value: nothing in them needs escaping."""
    rid = job.request_id
    return (
        f'{{"request_id":"{rid}","file_id":"{job.file_id}","status":"{job.status.value}",'
        f'"links":{{"self":"/waves/{rid}","download":"/waves/{rid}/download",'
        f'"chunks":"/waves/{rid}/chunks/0"}}}}'
    ).encode()


@router.get(
    "/waves/{request_id}",
    summary="Status of a request",
    response_model=WaveStatus,
    response_model_exclude_unset=True,
    responses={
        200: {"headers": IN_PROGRESS_HEADERS},
        **error_responses("not_found", "invalid_spec"),
    },
)
async def get_wave(request_id: RequestId, response: Response, api: Api) -> dict[str, Any]:
    job = api.context.service.get(request_id)
    response.headers.update(_progress_headers(job))
    return _job_body(job)


@router.get(
    "/waves/{request_id}/download",
    status_code=303,
    summary="Download once: redirect to a short-lived URL",
    response_class=RedirectResponse,
    responses={
        303: {
            "description": "See Other: the file's short-lived URL (S3 presigned or signed link)",
            "headers": {
                "Location": {"description": "Where the file is", "schema": {"type": "string"}}
            },
        },
        **error_responses("not_found", "not_ready", "job_failed", "gone", "invalid_spec"),
    },
)
def download_wave(request_id: RequestId, request: Request, api: Api) -> Response:
    settings, service = api.context.settings, api.context.service
    job = service.claim_download(request_id)
    log_download(request, job, claimed=True)
    filename = f"wavekit-{job.file_id[:12]}.wav"
    ttl = settings.download_url_ttl_s
    url = service.blobs.presigned_url(job.blob_key, ttl, filename)
    if url is None:
        grant = DownloadGrant(job.blob_key, filename, time.time() + ttl, job.request_id)
        token = sign_download(api.signing_key, grant)
        if settings.public_url:
            url = f"{settings.public_url.rstrip('/')}/files/{token}"
        else:
            url = str(request.url_for("download_file", token=token))
    return RedirectResponse(url, status_code=303)


@router.get(
    "/files/{token}",
    summary="A signed, expiring file link (local store)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The WAV file",
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses("not_found", "gone", "invalid_spec"),
    },
)
def download_file(token: str, request: Request, api: Api) -> StreamingResponse:
    service = api.context.service
    grant = verify_download(api.signing_key, token)
    size = service.blobs.size(grant.key)
    if size is None:
        raise JobGoneError("the file is no longer stored")
    if grant.request_id is not None:  # links signed before grants named their request: none
        try:
            log_download(request, service.get(grant.request_id), claimed=False)
        except JobNotFoundError:
            request.state.request_id = grant.request_id

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


@router.get(
    "/waves/{request_id}/chunks/{offset_num}",
    summary="Download once in base64 chunks",
    description=(
        "The first chunk request claims the download (download-once) and its answer carries "
        "a `download_token`; later chunks need `?download_token=`. The holder may re-read any "
        "chunk until the last one has been served or the claim lapses (the download-URL "
        "lifetime); everyone else, and `/download`, gets 410."
    ),
    response_model=WaveChunk,
    response_model_exclude_unset=True,
    responses={
        200: {"headers": IN_PROGRESS_HEADERS},
        **error_responses(
            "not_found", "not_ready", "job_failed", "gone", "chunk_out_of_range", "invalid_spec"
        ),
    },
)
def get_chunk(
    request_id: RequestId,
    offset_num: Annotated[int, Path(ge=0, le=1_000_000)],
    request: Request,
    response: Response,
    api: Api,
    download_token: Annotated[
        str | None,
        Query(
            max_length=128,
            description="From the claiming chunk's answer; required after the first chunk.",
        ),
    ] = None,
) -> dict[str, Any]:
    service = api.context.service
    job = service.get(request_id)
    if job.status is JobStatus.IN_PROGRESS:
        log_download(request, job, claimed=False)
        response.headers.update(_progress_headers(job))
        return {"status": job.status.value, "offset_num": offset_num, "is_last": False}
    chunk = service.read_chunk(request_id, offset_num, download_token)
    log_download(request, job, claimed=chunk.claimed)
    return {
        "status": JobStatus.READY.value,
        "download_token": chunk.download_token,
        "file": base64.b64encode(chunk.data).decode(),
        "offset_num": chunk.offset_num,
        "is_last": chunk.is_last,
        "sha256": chunk.sha256,
        "total_bytes": chunk.total_bytes,
        "chunk_bytes": chunk.chunk_bytes,
    }
