"""What the routes share: the app's state (context, rate limiter, signing key, client-id
salt) and the typed path parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from wavekit.service.api.context import ApiContext
from wavekit.service.security import RateLimiter


@dataclass(frozen=True)
class ApiState:
    """Built once per app by :func:`wavekit.service.api.create_app`."""

    context: ApiContext
    limiter: RateLimiter
    signing_key: bytes
    client_salt: bytes
    """Keys the pseudonyms of callers known by their address (``client_id_of``)."""


async def api_state(request: Request) -> ApiState:
    """``async``, so FastAPI calls it on the event loop (no hop to the thread pool)."""
    state: ApiState = request.app.state.api
    return state


Api = Annotated[ApiState, Depends(api_state)]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
