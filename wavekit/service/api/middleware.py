"""ASGI middleware of the API: the body-size limit and the request-log event.

Both wrap the whole app (the web page too), so they are plain ASGI callables rather
than FastAPI dependencies: the limit must act before the body is parsed, and the event
must see the final status and bytes sent, even of error answers.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wavekit.audio.spec import ToneSpec
from wavekit.errors import PayloadTooLargeError
from wavekit.events import RequestEvent, download_claim_field, tone_fields
from wavekit.service.api.context import ApiContext
from wavekit.service.api.error_handlers import error_response
from wavekit.service.security import pseudonymise_address

log = logging.getLogger(__name__)
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")


def client_id_of(scope: Scope) -> str:
    """``X-Client-Id`` when it is well-formed, else a pseudonym of the caller's address.

    Client ids are published (the Clients leaderboard), so an address never is: it is
    replaced by a keyed hash with the deployment's salt (the app's ``ApiState``), the
    same for every request from that address. Reads the one header from the raw scope
    (decoding every header cost ~3 % of a POST).
    """
    raw = next((v for k, v in scope["headers"] if k == b"x-client-id"), b"")
    claimed = raw.decode("latin-1")
    if CLIENT_ID_RE.match(claimed):
        return claimed
    client = scope.get("client")
    if not client:
        return "unknown"
    state = getattr(getattr(scope.get("app"), "state", None), "api", None)
    salt = state.client_salt if state is not None else _PROCESS_SALT
    return pseudonymise_address(salt, str(client[0]))


_PROCESS_SALT = secrets.token_bytes(32)
"""Outside an app (no deployment salt to hand) pseudonyms are stable per process only."""


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(self._too_large(), scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise self._too_large()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except PayloadTooLargeError as exc:
            await self._refuse(exc, scope, receive, send)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"body: must be at most {self.max_bytes} bytes")

    @staticmethod
    async def _refuse(
        exc: PayloadTooLargeError, scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope.setdefault("state", {})["error_code"] = exc.code
        await error_response(exc.status_code, exc.code, str(exc))(scope, receive, send)


class RequestLogMiddleware:
    """Emit one request-log event per HTTP request, after the response is sent.

    Endpoints add tone fields through ``request.state``; emitting only appends to the
    sink's buffer, and any failure here is logged, never raised.
    """

    def __init__(self, app: ASGIApp, context: ApiContext, cold_start: list[bool]) -> None:
        self.app = app
        self.context = context
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
            name = f"{scope['method']} {getattr(route, 'path', None) or 'unmatched'}"
            origin = next((v for k, v in scope["headers"] if k == b"origin"), None)
            spec: ToneSpec | None = state.get("spec")
            event = RequestEvent(
                route=name,
                method=scope["method"],
                status_code=status,
                latency_ms=latency_ms,
                request_id=state.get("request_id")
                or (scope.get("path_params") or {}).get("request_id"),
                client_id=state.get("client_id") or client_id_of(scope),
                origin=origin.decode("latin-1") if origin is not None else None,
                **tone_fields(spec),
                download_claim=download_claim_field(name, spec, state.get("download_claim")),
                bytes_out=sent,
                error_code=state.get("error_code") or (f"http_{status}" if status >= 400 else None),
                region=self.context.settings.region,
                cold_start=self.cold_start.pop() if self.cold_start else False,
            )
            self.context.events.emit(event)
        except Exception:  # events never fail a request
            log.exception("could not emit the request-log event")
