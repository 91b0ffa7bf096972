"""The body of ``POST /waves``: a :class:`ToneSpec` validated once, from the request's bytes.

FastAPI's own body handling (``spec: ToneSpec`` in the signature) parses the content type
with ``email.message``, decodes the JSON into dicts with ``json.loads`` and then walks
them with the model: about a fifth of a POST's time in the service (ADR 0007). Here the
bytes go straight to pydantic's core (``model_validate_json``), the same model and rules.
Every failure is raised as the :class:`~fastapi.exceptions.RequestValidationError`
FastAPI would have raised, so the one handler answers it (400 ``malformed_json``, 422
``invalid_spec`` naming the fields) exactly as before.

The route no longer declares the body as a parameter, so FastAPI does not document it:
:data:`SPEC_BODY` puts it back in the operation and :func:`spec_schemas` gives the
components it refers to (:func:`wavekit.service.api.create_app` adds them).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from wavekit.audio.spec import ToneSpec

SPEC_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ToneSpec"}}},
        "required": True,
    }
}
"""``openapi_extra`` of the route: the body FastAPI documented when it parsed it."""


def spec_schemas() -> dict[str, dict[str, Any]]:
    """``ToneSpec`` and the models it nests, as OpenAPI components (as FastAPI writes them)."""
    schema = ToneSpec.model_json_schema(ref_template="#/components/schemas/{model}")
    nested: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    return {**nested, "ToneSpec": schema}


def _is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters ignored (the
    media types FastAPI decodes as JSON; without a content type it does not)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_spec(request: Request) -> ToneSpec:
    """The request's spec, or the ``RequestValidationError`` that says what is wrong."""
    body = await request.body()
    if not body:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    if not _is_json(request.headers.get("content-type")):
        raise RequestValidationError(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ("body",),
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": body,
                }
            ],
            body=body,
        )
    try:
        return ToneSpec.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors, body=body) from None
