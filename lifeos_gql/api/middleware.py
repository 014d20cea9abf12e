"""ASGI middleware: request ids and bearer authentication.

Authentication runs before any route so GraphQL and REST share it: a
missing header is anonymous; a bad token is HTTP 401 with a JSON body and
never reaches a resolver. WebSockets authenticate in ``connection_init``.
"""

from __future__ import annotations

import logging
import re
import uuid

import orjson
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lifeos_gql.core.errors import DomainError, Unauthenticated
from lifeos_gql.rest.paths import accepts_ingest_token
from lifeos_gql.runtime import Runtime

log = logging.getLogger("lifeos_gql.auth")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def error_response(error: DomainError, *, request_id: str) -> Response:
    body = {
        "errors": [
            {
                "message": error.message,
                "extensions": {**error.as_extensions(), "requestId": request_id},
            }
        ]
    }
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return Response(
        orjson.dumps(body),
        status_code=error.http_status,
        media_type="application/json",
        headers=headers,
    )


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)  # type: ignore[arg-type]


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        authorization = Headers(scope=scope).get("authorization")
        try:
            runtime: Runtime = scope["app"].state.runtime
            client = scope.get("client")
            state["actor"] = await runtime.authenticator.authenticate(
                authorization,
                allow_ingest_token=accepts_ingest_token(scope),
                client_ip=client[0] if client else None,  # counted in the audit log on failure
            )
        except DomainError as error:
            if isinstance(error, Unauthenticated):
                log.info("auth failure: %s", error.extensions.get("reason", error.message))
            response = error_response(error, request_id=state.get("request_id", "-"))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
