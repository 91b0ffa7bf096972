"""The one place that turns wavekit errors into HTTP answers.

Every 4xx names the field or the reason in an :class:`~wavekit.service.api.schemas.ErrorBody`,
backend trouble is a 503 with ``Retry-After``, and nothing is a bare 500 traceback. Each
handler records the stable code on ``request.state`` for the request-log event.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wavekit.audio.spec import describe_problems
from wavekit.errors import (
    AdminAuthError,
    BackendError,
    FieldProblem,
    InvalidSpecError,
    InvalidWindowError,
    JobError,
    UnknownBoardError,
    WavekitError,
)
from wavekit.service.api.schemas import ErrorBody, Problem

log = logging.getLogger(__name__)


def error_response(
    status: int,
    code: str,
    message: str,
    problems: list[FieldProblem] | None = None,
    retry_after: float | None = None,
) -> JSONResponse:
    """An :class:`ErrorBody` answer; ``detail`` only when there are fields to name."""
    body = ErrorBody(
        error=code,
        message=message,
        detail=None
        if problems is None
        else [Problem(field=p.field, message=p.message) for p in problems],
    )
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the exception handlers, most specific first (Starlette walks the MRO)."""

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
