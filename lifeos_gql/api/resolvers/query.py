"""``Query`` root fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.node_registry import resolve_node
from lifeos_gql.api.resolvers.graph_queries import GraphQueries
from lifeos_gql.api.resolvers.search import SearchQueries
from lifeos_gql.api.types.capture import CaptureConnection, capture_page
from lifeos_gql.api.types.node import Node
from lifeos_gql.api.types.stream import Stream
from lifeos_gql.api.types.user import User
from lifeos_gql.core.ids import decode_global_id


@strawberry.type
class Query(GraphQueries, SearchQueries):
    @strawberry.field(description="The signed-in user, or null for anonymous callers.")
    async def me(self, info: Info[Context, None]) -> User | None:
        user_id = info.context.actor.user_id
        if user_id is None:
            return None
        model = await info.context.loaders.user.get(user_id)
        return User.from_model(model) if model else None

    @strawberry.field(description="A stream you can see, or null.")
    async def stream(self, info: Info[Context, None], id: strawberry.ID) -> Stream | None:
        model = await info.context.loaders.stream.get(
            decode_global_id(str(id), expected="Stream").id
        )
        return Stream.from_model(model) if model else None

    @strawberry.field(description="Captures across every stream you can see, newest first.")
    async def timeline(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        stream_ids: list[strawberry.ID] | None = None,
    ) -> CaptureConnection:
        ids = (
            [decode_global_id(str(s), expected="Stream").id for s in stream_ids]
            if stream_ids is not None
            else None
        )
        return await capture_page(
            info.context, first=first, after=after, stream_ids=ids, since=from_, until=to
        )

    @strawberry.field(description="Fetch any object by its global id; null if not visible.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context, str(id))
