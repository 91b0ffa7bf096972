"""``/wavebuilder``: the protocol of the original WaveBuilder frontend (seed 000), on the
same job service as ``/waves``, so an existing WaveBuilder page works unchanged.

- ``POST /wavebuilder/main`` takes the spec as JSON, also when it arrives as
  ``text/plain`` (the frontend sent it as a string, which a browser can do without a
  CORS preflight), flat or nested as the original's record (``wav_data`` / ``wav_spec``),
  and answers ``{"request_id", "file_id"}``.
- ``GET /wavebuilder/delivery?request_id=&file_id=&offset_num=`` answers
  ``{"status": "in_progress"}`` until the file is made, then base64 chunks with
  ``isLast``.

The protocol has no download token, so the download claim is bound to the caller's
client id (``X-Client-Id``, else the pseudonym of its address): the first chunk claims
the file, the same caller reads the rest, everyone else gets 410 (download-once).
``request_id`` is the capability, as in ``/waves`` (128 random bits); ``file_id`` is the
job's file, the spec's hash (the original's file name in its bucket), and must match.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from wavekit.audio.spec import ToneSpec
from wavekit.errors import (
    FieldProblem,
    InvalidSpecError,
    JobGoneError,
    JobNotFoundError,
    JobNotReadyError,
)
from wavekit.ports import JobStatus
from wavekit.service.api.deps import Api
from wavekit.service.api.middleware import client_id_of
from wavekit.service.api.routes.waves import accept, log_download
from wavekit.service.api.schemas import RETRY_AFTER, error_responses

router = APIRouter(prefix="/wavebuilder", tags=["wavebuilder"])

NESTED_PARTS = {
    "wav_data": ("volume", "duration", "frequencies"),
    "wav_spec": ("sample_rate", "number_of_channels", "bits_per_sample"),
}
"""The original's record: the sound, and the WAV format."""
_FIELD_ROOT = re.compile(r"^[A-Za-z_]+")
_ID_PATTERN = r"^[A-Za-z0-9_-]+$"


class WaveBuilderAccepted(BaseModel):
    """``POST /wavebuilder/main``: what the frontend polls the delivery with."""

    request_id: str = Field(description="The job (a random id: whoever holds it may download).")
    file_id: str = Field(description="The job's file: the spec's hash (identical specs share it).")


class WaveBuilderDelivery(BaseModel):
    """``GET /wavebuilder/delivery``: ``{"status": "in_progress"}`` (with ``Retry-After``)
    while the file is made; then one base64 chunk, ``isLast`` on the final one."""

    model_config = ConfigDict(populate_by_name=True)

    status: Literal["in_progress", "ready"]
    file: str | None = Field(default=None, description="Base64 of at most chunk_bytes bytes.")
    is_last: bool | None = Field(
        default=None, alias="isLast", description="True on the file's last chunk."
    )
    offset_num: int | None = Field(default=None, description="The chunk's number (from 0).")


def _body_schema() -> dict[str, Any]:
    """The request body in ``/openapi.json``: a ToneSpec, flat or nested; as JSON or text.

    The nested fields point into the ``ToneSpec`` component (built for ``POST /waves``)
    rather than generating its schema here: that took ~11 ms of every cold start.
    """
    tone = "#/components/schemas/ToneSpec"
    nested = {
        "type": "object",
        "title": "WaveBuilderNested",
        "required": ["wav_data"],
        "properties": {
            part: {
                "type": "object",
                "properties": {name: {"$ref": f"{tone}/properties/{name}"} for name in names},
                **({"required": ["frequencies"]} if part == "wav_data" else {}),
            }
            for part, names in NESTED_PARTS.items()
        },
    }
    return {
        "requestBody": {
            "required": True,
            "description": "A tone spec, flat (as `POST /waves`) or nested as "
            '`{"wav_data": {volume, duration, frequencies}, "wav_spec": {sample_rate, '
            "number_of_channels, bits_per_sample}}`; as `application/json` or the same "
            "JSON as `text/plain`.",
            "content": {
                "application/json": {"schema": {"oneOf": [{"$ref": tone}, nested]}},
                "text/plain": {"schema": {"type": "string", "description": "The same JSON."}},
            },
        }
    }


def _malformed() -> RequestValidationError:
    """Handled like FastAPI's own JSON errors: 400 ``malformed_json`` naming the body."""
    return RequestValidationError(
        [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "input": {}}]
    )


def _read_json(raw: bytes) -> Any:
    """The body's JSON, whatever the content type; a JSON string holding the JSON (the
    spec sent "as a string") is read once more."""
    try:
        value = json.loads(raw)
        if isinstance(value, str):
            value = json.loads(value)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise _malformed() from exc
    except RecursionError:  # valid JSON, but deeper than the parser's stack ("[[[[...")
        raise InvalidSpecError.single("body", "nests too deeply to be a tone spec") from None
    return value


def _flatten(body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The flat spec, and where to name each field in errors: its part when it came
    nested, or (for a nested body) the part it belongs in when it is missing."""
    if not isinstance(body, dict):
        raise InvalidSpecError.single(
            "body", "must be a JSON object: the tone spec, flat or as wav_data / wav_spec"
        )
    flat = {key: value for key, value in body.items() if key not in NESTED_PARTS}
    origin: dict[str, str] = {}
    if any(part in body for part in NESTED_PARTS):
        origin = {
            name: part for part, names in NESTED_PARTS.items() for name in names if name not in flat
        }
    for part in NESTED_PARTS:
        if part not in body:
            continue
        nested = body[part]
        if not isinstance(nested, dict):
            raise InvalidSpecError.single(part, "must be an object")
        for key, value in nested.items():
            if key in flat:
                raise InvalidSpecError.single(f"{part}.{key}", "is given twice")
            flat[key] = value
            origin[key] = part
    return flat, origin


def _renamed(exc: InvalidSpecError, origin: dict[str, str]) -> InvalidSpecError:
    """Name nested fields where the client put them (``wav_data.duration``)."""
    problems = []
    for problem in exc.problems:
        root = _FIELD_ROOT.match(problem.field)
        part = origin.get(root.group()) if root else None
        field = f"{part}.{problem.field}" if part else problem.field
        problems.append(FieldProblem(field, problem.message))
    return InvalidSpecError(problems)


@router.post(
    "/main",
    summary="WaveBuilder: request a WAV file",
    response_model=WaveBuilderAccepted,
    openapi_extra=_body_schema(),
    responses={
        200: {"description": "Accepted: poll the delivery with both ids"},
        **error_responses("malformed_json", "payload_too_large", "invalid_spec", "rate_limited"),
    },
)
async def wavebuilder_main(request: Request, api: Api) -> dict[str, str]:
    """The original main function: validate, store the request, start the synthesis.

    ``async`` like ``POST /waves``, and submitted the same way (its COMMIT shared with the
    loop's other requests, the answer sent once it is durable).
    """
    flat, origin = _flatten(_read_json(await request.body()))
    try:
        job = await accept(request, api, ToneSpec.parse(flat))  # as POST /waves
    except InvalidSpecError as exc:
        raise _renamed(exc, origin) from None
    return {"request_id": job.request_id, "file_id": job.file_id}


@router.get(
    "/delivery",
    summary="WaveBuilder: poll, then download once in base64 chunks",
    description=(
        "Poll with `offset_num=0` until `status` is `ready`, then ask for `offset_num` "
        "1, 2, ... until `isLast`. The first chunk claims the download for the caller's "
        "client id (`X-Client-Id`, else its address); other callers get 410, and so does "
        "everyone once the last chunk was served (files download once)."
    ),
    response_model=WaveBuilderDelivery,
    response_model_exclude_unset=True,
    responses={
        200: {"headers": RETRY_AFTER},
        **error_responses("not_found", "job_failed", "gone", "chunk_out_of_range", "invalid_spec"),
    },
)
def wavebuilder_delivery(
    request: Request,
    response: Response,
    api: Api,
    request_id: Annotated[str, Query(min_length=1, max_length=64, pattern=_ID_PATTERN)],
    file_id: Annotated[str, Query(min_length=1, max_length=128, pattern=_ID_PATTERN)],
    offset_num: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The original wave delivery function, over the chunk download of ``/waves``."""
    service = api.context.service
    request.state.request_id = request_id
    job = service.get(request_id)
    if not secrets.compare_digest(job.file_id.encode(), file_id.encode()):
        raise JobNotFoundError(f"file_id: request {request_id!r} has no file {file_id!r}")
    in_progress = {"status": "in_progress"}
    if job.status is JobStatus.IN_PROGRESS:
        log_download(request, job, claimed=False)
        response.headers["Retry-After"] = "1"
        return in_progress
    holder = request.state.client_id = client_id_of(request.scope)
    try:
        chunk = service.read_chunk(request_id, offset_num, holder=holder)
    except JobNotReadyError:  # the shared file was cleaned and is being made again
        log_download(request, job, claimed=False)
        response.headers["Retry-After"] = "1"
        return in_progress
    except JobGoneError:
        if service.get(request_id).status is JobStatus.DOWNLOADING:  # in words of this API
            raise JobGoneError(
                "another client is downloading this file (files download once; the client "
                "that first asked for a chunk of the ready file reads the rest)"
            ) from None
        raise
    log_download(request, job, claimed=chunk.claimed)  # a download carries its spec
    return {
        "status": "ready",
        "file": base64.b64encode(chunk.data).decode(),
        "isLast": chunk.is_last,
        "offset_num": chunk.offset_num,
    }
