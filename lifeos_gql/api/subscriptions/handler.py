"""The graphql-transport-ws handler: Strawberry's, plus what a long-lived connection needs.

- each operation gets its own copy of the connection's context, whose
  loaders the resolvers replace per event (operations on one socket run
  concurrently and must not share a per-event transaction);
- only subscriptions run here (queries and mutations go over HTTP);
- the server pings every ``LIFEOS_WS_PING_SECONDS`` (keep-alive through
  proxies; clients answer ``pong``);
- the connection closes (4403, "Token expired") when its credential expires;
- each operation's task is named (``delivery.OPERATION``) so identical
  subscriptions of one identity share one execution per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any, cast

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.graphql import OperationType

from lifeos_gql.api.context import Context
from lifeos_gql.api.subscriptions.delivery import OPERATION, RunningOperation, executed
from lifeos_gql.core.clock import utcnow

EXPIRED_CODE = 4403
EXPIRED_REASON = "Token expired"


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """Send JSON as text frames: graphql-transport-ws requires them (the view's
    orjson encoder returns bytes, which Strawberry would send as binary)."""

    async def send_json(self, message: Any) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class _PerOperationSchema:
    """Delegates to the schema; ``stream`` runs subscriptions only, each on its
    own context copy."""

    def __init__(self, schema: BaseSchema) -> None:
        self._schema = schema

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Any = None,
    ) -> Any:
        if isinstance(context_value, Context):
            context_value = dataclasses.replace(context_value)
        return await self._schema.stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
            allowed_operation_types=(OperationType.SUBSCRIPTION,),
        )


class LifeOSTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = cast(BaseSchema, _PerOperationSchema(self.schema))
        self._guards: list[asyncio.Task[None]] = []

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if not self.connection_acknowledged or self._guards:
            return
        expires_at = self.context.actor.expires_at
        if expires_at is not None:
            self._guards.append(asyncio.create_task(self._close_when_expired(expires_at)))
        every = self.context.runtime.settings.lifeos_ws_ping_seconds
        if every > 0:
            self._guards.append(asyncio.create_task(self._ping(every)))

    async def _close_when_expired(self, expires_at: Any) -> None:
        delay = (expires_at - utcnow()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)  # a timer to the credential's expiry, not a poll
        with contextlib.suppress(Exception):
            await self.websocket.close(code=EXPIRED_CODE, reason=EXPIRED_REASON)

    async def _ping(self, every: float) -> None:
        with contextlib.suppress(WebSocketDisconnected, RuntimeError, OSError):
            while True:
                await asyncio.sleep(every)  # keep-alive period
                await self.send_message({"type": "ping"})

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # Runs in the operation's own task: name it for shared deliveries.
        # Decoded: orjson's bytes keep a ~4 KB buffer, which 10,000 subscriptions
        # holding their key would turn into 40 MB.
        variables = orjson.dumps(operation.variables or {}, option=orjson.OPT_SORT_KEYS).decode()
        OPERATION.set(
            RunningOperation(
                operation.id,
                (operation.query, variables, operation.operation_name),
                self._send_dict,
            )
        )
        await super().run_operation(operation)

    async def _send_dict(self, message: dict[str, Any]) -> None:
        await self.send_message(cast(Any, message))

    async def send_message(self, message: Any) -> None:
        executed(message)
        await super().send_message(message)

    async def shutdown(self) -> None:
        for task in self._guards:
            task.cancel()
        for task in self._guards:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().shutdown()
