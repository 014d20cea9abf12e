"""The Strawberry ASGI view: context per request, orjson, offline GraphiQL."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET, UnsetType

from lifeos_gql.api.context import Context, make_context
from lifeos_gql.api.graphiql import render_graphiql_html
from lifeos_gql.api.subscriptions.handler import LifeOSTransportWSHandler, TextWebSocketAdapter
from lifeos_gql.api.ws_auth import authenticate_connection
from lifeos_gql.core.actor import Actor

CONTEXT_KEY = "lifeos_context"


class LifeOSGraphQL(GraphQL[Context, None]):
    # WebSockets speak graphql-transport-ws only (see app.py): the handler adds
    # per-operation contexts, server pings and closing at credential expiry.
    graphql_transport_ws_handler_class = LifeOSTransportWSHandler
    websocket_adapter_class = TextWebSocketAdapter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            context = scope.get("state", {}).get(CONTEXT_KEY)
            if context is not None:
                await context.close()

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        state = request.scope.setdefault("state", {})
        actor = state.get("actor") or Actor.anonymous()
        context = make_context(
            request=request,
            response=response,
            runtime=request.app.state.runtime,
            actor=actor,
            request_id=state.get("request_id", "-"),
        )
        state[CONTEXT_KEY] = context
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate ``connection_init``; a refusal closes the socket with 4403."""
        context.actor = await authenticate_connection(context.runtime, context.connection_params)
        ack: UnsetType = UNSET  # no connection_ack payload
        return ack

    def decode_json(self, data: str | bytes) -> object:
        # orjson.JSONDecodeError subclasses json.JSONDecodeError: still a 400.
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(render_graphiql_html(graphql_path=request.url.path))
