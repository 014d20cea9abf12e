"""What every resolver sees as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.websockets import WebSocket

from lifeos_gql.api.loaders import Loaders
from lifeos_gql.core.actor import Actor
from lifeos_gql.db.uow import RequestReader
from lifeos_gql.runtime import Runtime

if TYPE_CHECKING:
    import uuid


@dataclass
class Context:
    request: Request | WebSocket
    response: Any
    runtime: Runtime
    actor: Actor
    reader: RequestReader
    loaders: Loaders
    request_id: str
    # graphql-transport-ws ``connection_init`` payload (WebSockets only).
    connection_params: dict[str, Any] | None = None

    def require_user(self) -> uuid.UUID:
        """The acting user's id, or ``UNAUTHENTICATED``."""
        return self.actor.require_user_id()

    async def close(self) -> None:
        await self.reader.close()


def make_context(
    *, request: Request | WebSocket, response: Any, runtime: Runtime, actor: Actor, request_id: str
) -> Context:
    reader = RequestReader(runtime.db, actor.user_id)
    return Context(
        request=request,
        response=response,
        runtime=runtime,
        actor=actor,
        reader=reader,
        loaders=Loaders(
            reader,
            actor,
            runtime.capture_crypto,
            embedder=runtime.embedder,
            vectors=runtime.vectors,
        ),
        request_id=request_id,
    )
