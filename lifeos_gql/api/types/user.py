"""The ``User`` type."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.permissions import requires_role
from lifeos_gql.api.resolvers.audit import UserAuditLog
from lifeos_gql.api.types.api_token import ApiToken
from lifeos_gql.api.types.node import Node
from lifeos_gql.api.types.share_link import ShareLink
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.sharing.policy import Role as DomainRole
from lifeos_gql.domains.users.models import User as UserModel

if TYPE_CHECKING:
    from lifeos_gql.api.types.persona import Persona
    from lifeos_gql.api.types.privacy import Export
    from lifeos_gql.api.types.stream import StreamConnection


@strawberry.type(description="A person using LifeOS.")
class User(Node, UserAuditLog):
    email: str | None
    name: str | None
    created_at: datetime
    _model: strawberry.Private[UserModel]

    def acl_owner_id(self) -> uuid.UUID:
        """A user's private fields (``@requiresRole(role: OWNER)``) are theirs alone."""
        return self._model.id

    @strawberry.field(
        description="Streams you own or were granted (yours only).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def streams(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> Annotated[StreamConnection, strawberry.lazy("lifeos_gql.api.types.stream")] | None:
        from lifeos_gql.api.types.stream import StreamConnection
        from lifeos_gql.core.cursors import clamp_first
        from lifeos_gql.domains.streams import service as streams

        ctx = info.context
        page, has_next = await ctx.loaders.own.fetch(
            ("streams", self._model.id, first, after),
            lambda uow: streams.list_my_streams(
                uow=uow, actor=ctx.actor, first=clamp_first(first), after=after
            ),
        )
        return StreamConnection.build(page, has_next)

    @strawberry.field(
        description="Your API tokens, newest first (yours only).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def api_tokens(
        self, info: Info[Context, None], first: int | None = 50
    ) -> list[ApiToken] | None:
        from lifeos_gql.api.resolvers.api_tokens import my_api_tokens

        return await my_api_tokens(info.context, self._model.id, first)

    @strawberry.field(
        description="Your share links, newest first (yours only).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def share_links(
        self, info: Info[Context, None], first: int | None = 50
    ) -> list[ShareLink] | None:
        from lifeos_gql.api.resolvers.share_links import my_share_links

        return await my_share_links(info.context, self._model.id, first)

    @strawberry.field(
        description="Your personas, by name (yours only).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def personas(
        self, info: Info[Context, None]
    ) -> list[Annotated[Persona, strawberry.lazy("lifeos_gql.api.types.persona")]] | None:
        from lifeos_gql.api.types.persona import resolve_my_personas

        return await resolve_my_personas(self, info)

    @strawberry.field(
        description="Your data exports, newest first (yours only).",
        extensions=requires_role(DomainRole.OWNER),
    )
    async def exports(
        self, info: Info[Context, None], first: int | None = 20
    ) -> list[Annotated[Export, strawberry.lazy("lifeos_gql.api.types.privacy")]] | None:
        from lifeos_gql.api.resolvers.privacy import my_exports

        return await my_exports(info.context, self._model.id, first)

    @classmethod
    def from_model(cls, model: UserModel) -> User:
        return cls(
            id=strawberry.ID(encode_global_id("User", model.id)),
            email=model.email,
            name=model.name,
            created_at=model.created_at,
            _model=model,
        )
