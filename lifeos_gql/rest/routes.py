"""The REST surface, mounted by the app under ``/v1``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from lifeos_gql.rest.clerk_webhooks import WEBHOOK_ROUTE, post_clerk_webhook
from lifeos_gql.rest.errors import MethodNotAllowed, RouteNotFound, json_error
from lifeos_gql.rest.exports import EXPORT_ROUTE, get_export
from lifeos_gql.rest.ingest import post_captures
from lifeos_gql.rest.openapi import openapi_document
from lifeos_gql.rest.share_links import SHARE_ROUTE, get_share

Endpoint = Callable[[Request], Awaitable[Response]]
# Routes take every method so the wrong ones get our JSON 405, not Starlette's text.
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _only(method: str, endpoint: Endpoint) -> Endpoint:
    """Answer other methods with a JSON 405 (Starlette's own is plain text)."""

    async def guarded(request: Request) -> Response:
        if request.method != method and not (method == "GET" and request.method == "HEAD"):
            return json_error(
                request,
                MethodNotAllowed(f"Use {method} on this path", allowed=[method]),
            )
        return await endpoint(request)

    return guarded


async def get_openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    await json_error(request, RouteNotFound(f"No route {request.url.path}"))(scope, receive, send)


def rest_routes() -> list[BaseRoute]:
    """``/v1/...`` routes; JSON errors for unknown paths and wrong methods."""
    router = Router(
        routes=[
            Route(
                "/streams/{stream_id}/captures",
                _only("POST", post_captures),
                methods=_ANY_METHOD,
            ),
            Route("/openapi.json", _only("GET", get_openapi), methods=_ANY_METHOD),
            Route(EXPORT_ROUTE, _only("GET", get_export), methods=_ANY_METHOD),
            Route(WEBHOOK_ROUTE, _only("POST", post_clerk_webhook), methods=_ANY_METHOD),
            Route(SHARE_ROUTE, _only("GET", get_share), methods=_ANY_METHOD),
        ],
        default=_not_found,
        redirect_slashes=False,
    )
    return [Mount("/v1", app=router, name="rest")]
