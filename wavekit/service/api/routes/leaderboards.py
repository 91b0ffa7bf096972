"""``/leaderboards``: the cached boards, and the admin's on-demand refresh."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from wavekit.errors import AdminAuthError, MissingExtraError
from wavekit.service.api.context import ApiContext
from wavekit.service.api.deps import Api
from wavekit.service.api.schemas import (
    LeaderboardBody,
    RefreshDone,
    RefreshStarted,
    error_responses,
)
from wavekit.service.leaderboards import LeaderboardService
from wavekit.settings import Settings

router = APIRouter(prefix="/leaderboards", tags=["leaderboards"])


def require_admin(settings: Settings, authorization: str | None) -> None:
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


def _leaderboards(context: ApiContext) -> LeaderboardService:
    if context.leaderboards is None:
        raise MissingExtraError("duckdb", "analytics")
    return context.leaderboards


@router.get(
    "/{board}",
    summary="A cached leaderboard",
    response_model=LeaderboardBody,
    responses={
        200: {
            "headers": {
                "Cache-Control": {"description": "public, max-age=60", "schema": {"type": "string"}}
            }
        },
        **error_responses("not_computed", "unknown_board", "invalid_window", "invalid_spec"),
    },
)
def get_leaderboard(
    board: Annotated[str, Path(max_length=64)],
    response: Response,
    api: Api,
    window: Annotated[str, Query(max_length=16, description="month, year or all")] = "month",
) -> dict[str, Any]:
    computed = _leaderboards(api.context).get(board, window)
    response.headers["Cache-Control"] = "public, max-age=60"
    return computed.to_dict()


@router.post(
    "/refresh",
    summary="Recompute every leaderboard now (admin)",
    response_model=RefreshDone,
    responses={
        202: {"model": RefreshStarted, "description": "Started in the background (AWS)"},
        **error_responses("unauthorized", "admin_disabled", "payload_too_large", "invalid_spec"),
    },
)
def refresh_leaderboards(
    api: Api, authorization: Annotated[str | None, Header(max_length=512)] = None
) -> Any:
    require_admin(api.context.settings, authorization)
    leaderboards = _leaderboards(api.context)
    report = leaderboards.refresh()
    if leaderboards.runs_in_background:  # AWS: the refresh function was started
        started = RefreshStarted(status="started", started_at=report.started_at.isoformat())
        return JSONResponse(started.model_dump(), status_code=202)
    return RefreshDone(
        status="done",
        refreshed=len(report.boards),
        started_at=report.started_at.isoformat(),
        finished_at=report.finished_at.isoformat(),
    )
