"""``/health``: liveness and the queue's depth (what a load balancer or a deploy polls)."""

from __future__ import annotations

from fastapi import APIRouter

from wavekit import __version__
from wavekit.service.api.deps import Api
from wavekit.service.api.schemas import Health, error_responses

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness and queue depth", responses=error_responses())
async def health(api: Api) -> Health:
    return Health(status="ok", version=__version__, queue_depth=api.context.service.queue.depth())
