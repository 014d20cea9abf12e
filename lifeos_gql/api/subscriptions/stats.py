"""``GET /healthz/subscriptions``: this process's live subscription counts (no ids)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def subscription_stats(request: Request) -> Response:
    dispatcher = request.app.state.runtime.subscriptions
    if dispatcher is None:
        return JSONResponse(
            {"subscriptions": 0, "slowConsumersClosed": 0, "revokedTokensClosed": 0}
        )
    return JSONResponse(
        {
            "subscriptions": dispatcher.count,
            "slowConsumersClosed": dispatcher.overflows,
            "revokedTokensClosed": dispatcher.revoked,
        }
    )
