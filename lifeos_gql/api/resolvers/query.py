"""``Query`` root fields."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.node_registry import resolve_node
from lifeos_gql.api.types.node import Node
from lifeos_gql.api.types.user import User


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user, or null for anonymous callers.")
    async def me(self, info: Info[Context, None]) -> User | None:
        user_id = info.context.actor.user_id
        if user_id is None:
            return None
        model = await info.context.loaders.user.get(user_id)
        return User.from_model(model) if model else None

    @strawberry.field(description="Fetch any object by its global id; null if not visible.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context, str(id))
