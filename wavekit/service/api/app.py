"""The app factory: routers, error handlers, middleware and the web page, over an
:class:`~wavekit.service.api.context.ApiContext` that the composition root provides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from wavekit import __version__
from wavekit.service.api.context import ApiContext, Lifecycle
from wavekit.service.api.deps import ApiState
from wavekit.service.api.error_handlers import install_error_handlers
from wavekit.service.api.middleware import BodyLimitMiddleware, RequestLogMiddleware
from wavekit.service.api.routes import health, leaderboards, wavebuilder, waves
from wavekit.service.api.spec_body import spec_schemas
from wavekit.service.security import RateLimiter, client_id_salt, load_or_create_key
from wavekit.web import mount_web


def create_app(
    context: ApiContext, *, lifecycle: Lifecycle | None = None, cold_start: bool = False
) -> FastAPI:
    """The ASGI app of the WAV service.

    Parameters
    ----------
    context
        Settings, job service, event sink and leaderboards (a :class:`wavekit.runtime.Runtime`).
    lifecycle
        Started when the app starts and closed when it stops (``wavekit serve`` passes its
        runtime; a Lambda passes nothing: there the functions do the background work).
    cold_start
        Mark the first request's event as a cold start (the API Lambda).
    """
    settings = context.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if lifecycle is not None:
            lifecycle.start()
        yield
        if lifecycle is not None:
            lifecycle.close()

    app = FastAPI(
        title="wavekit WAV service",
        version=__version__,
        description="Job-style WAV generation: POST a tone spec, poll, download once.",
        lifespan=lifespan,
    )
    app.state.api = ApiState(
        context=context,
        limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
        signing_key=load_or_create_key(settings.data_dir / ".signing-key"),
        client_salt=client_id_salt(settings),
    )
    install_error_handlers(app)
    app.router.routes.extend(waves.served_routes())  # ahead of the documented routes
    for module in (waves, wavebuilder, leaderboards, health):
        app.include_router(module.router)
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
    app.add_middleware(RequestLogMiddleware, context=context, cold_start=[cold_start])
    mount_web(app, settings)
    _document_parsed_bodies(app)
    return app


def _document_parsed_bodies(app: FastAPI) -> None:
    """Add the models of bodies a route reads itself (``POST /waves``, see
    :mod:`~wavekit.service.api.spec_body`) to the OpenAPI components, where FastAPI puts
    the models it parses."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in spec_schemas().items():
                schemas.setdefault(name, schema)
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
