"""The ``User`` type."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.users.models import User as UserModel

if TYPE_CHECKING:
    from lifeos_gql.api.types.stream import StreamConnection


@strawberry.type(description="A person using LifeOS.")
class User(Node):
    email: str | None
    name: str | None
    created_at: datetime
    _model: strawberry.Private[UserModel]

    @strawberry.field(description="Streams this user owns or was granted (only on `me`).")
    async def streams(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Annotated[StreamConnection, strawberry.lazy("lifeos_gql.api.types.stream")]:
        from lifeos_gql.api.types.stream import StreamConnection
        from lifeos_gql.core.cursors import clamp_first
        from lifeos_gql.domains.streams import service as streams

        ctx = info.context
        if ctx.actor.user_id != self._model.id:
            return StreamConnection.build([], False)
        async with ctx.reader.use() as uow:
            page, has_next = await streams.list_my_streams(
                uow=uow, actor=ctx.actor, first=clamp_first(first), after=after
            )
        return StreamConnection.build(page, has_next)

    @classmethod
    def from_model(cls, model: UserModel) -> User:
        return cls(
            id=strawberry.ID(encode_global_id("User", model.id)),
            email=model.email,
            name=model.name,
            created_at=model.created_at,
            _model=model,
        )
