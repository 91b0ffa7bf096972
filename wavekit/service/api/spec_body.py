"""The body of ``POST /waves``: a :class:`ToneSpec` validated once, from the request's bytes.

FastAPI's own body handling (``spec: ToneSpec`` in the signature) parses the content type
with ``email.message``, decodes the JSON into dicts with ``json.loads`` and then walks
them with the model: about a fifth of a POST's time in the service (ADR 0007). Here the
bytes go straight to pydantic's core (``model_validate_json``), the same model and rules.
Every failure is raised as the :class:`~fastapi.exceptions.RequestValidationError`
FastAPI would have raised, so the one handler answers it (400 ``malformed_json``, 422
``invalid_spec`` naming the fields) exactly as before.

The route declares no parameters (FastAPI's dependency solving was another ~10 % of a
POST), so FastAPI documents neither the body nor the ``Idempotency-Key`` header:
:data:`SPEC_BODY` puts both back in the operation as FastAPI wrote them, and
:func:`spec_schemas` gives the components they refer to
(:func:`wavekit.service.api.create_app` adds them).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import ValidationError
from pydantic_core import SchemaValidator

from wavekit.audio.spec import ToneSpec

IDEMPOTENCY_KEY_MAX = 128
SPEC_BODY: dict[str, Any] = {
    "parameters": [
        {
            "description": "Replays return the same job.",
            "in": "header",
            "name": "idempotency-key",
            "required": False,
            "schema": {
                "anyOf": [{"maxLength": IDEMPOTENCY_KEY_MAX, "type": "string"}, {"type": "null"}],
                "description": "Replays return the same job.",
                "title": "Idempotency-Key",
            },
        }
    ],
    "requestBody": {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ToneSpec"}}},
        "required": True,
    },
}
"""``openapi_extra`` of the route: the header and body FastAPI documented when it parsed
them (word for word)."""


def spec_schemas() -> dict[str, dict[str, Any]]:
    """``ToneSpec`` and the models it nests, as OpenAPI components: FastAPI's own
    rendering of a route that takes the spec as its body, so the document is the same
    as when the route did."""

    async def takes_a_spec(spec: ToneSpec) -> None: ...

    route = APIRoute("/", takes_a_spec, methods=["POST"])
    schemas: dict[str, dict[str, Any]] = get_openapi(title="", version="", routes=[route])[
        "components"
    ]["schemas"]
    return {
        name: schema
        for name, schema in schemas.items()
        if name not in {"HTTPValidationError", "ValidationError"}
    }


def _without_custom_init(node: Any) -> Any:
    """A copy of a core schema in which ``ToneSpec`` is built without calling its
    ``__init__``."""
    if isinstance(node, dict):
        copied = {key: _without_custom_init(value) for key, value in node.items()}
        if copied.get("type") == "model" and copied.get("cls") is ToneSpec:
            copied["custom_init"] = False
        return copied
    if isinstance(node, list):
        return [_without_custom_init(value) for value in node]
    return node


_VALIDATE_ONCE = SchemaValidator(_without_custom_init(ToneSpec.__pydantic_core_schema__))
"""``ToneSpec``'s own core schema and rules, minus one detail: ``ToneSpec`` overrides
``__init__`` (to raise :class:`~wavekit.errors.InvalidSpecError` when built in Python),
so ``model_validate_json`` decodes the JSON, calls that ``__init__``, and it validates
everything a second time (~25 us of a POST, ADR 0007). Here a good body is validated
once, into the same ``ToneSpec`` (equal fields, fields set, canonical JSON: a test holds
it); a bad one is validated again by ``model_validate_json`` so the 422 says exactly
what it said before."""


def _is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters ignored (the
    media types FastAPI decodes as JSON; without a content type it does not)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header, at most :data:`IDEMPOTENCY_KEY_MAX` characters."""
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise RequestValidationError(
            [
                {
                    "type": "string_too_long",
                    "loc": ("header", "idempotency-key"),
                    "msg": f"String should have at most {IDEMPOTENCY_KEY_MAX} characters",
                    "input": key,
                    "ctx": {"max_length": IDEMPOTENCY_KEY_MAX},
                }
            ]
        )
    return key


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
        return _VALIDATE_ONCE.validate_json(body)  # type: ignore[no-any-return]
    except ValidationError:
        pass  # the errors as the service always answered them, from the model itself
    try:
        return ToneSpec.model_validate_json(body)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors, body=body) from None
