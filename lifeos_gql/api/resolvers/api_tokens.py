"""Mutations managing API tokens (merged into ``Mutation``) and the ``me.apiTokens`` list."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.api_token import ApiToken, NewApiToken, Scope
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.tokens import api_tokens


async def my_api_tokens(ctx: Context, user_id: uuid.UUID, first: int | None) -> list[ApiToken]:
    """``User.apiTokens``: the caller's own tokens (the field is theirs alone)."""
    limit = clamp_first(first, default=50)
    models = await ctx.loaders.own.fetch(
        ("apiTokens", user_id, limit),
        lambda uow: api_tokens.list_api_tokens(uow=uow, actor=ctx.actor, first=limit),
    )
    return [ApiToken.from_model(m) for m in models]


@strawberry.type
class ApiTokenMutations:
    @strawberry.mutation(
        description="Create a personal access token for a third-party tool, acting as you "
        "within its scopes. Only a signed-in session may (not another token)."
    )
    async def create_api_token(
        self,
        info: Info[Context, None],
        name: str,
        scopes: list[Scope],
        expires_at: datetime | None = None,
    ) -> NewApiToken:
        ctx = info.context
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            model, secret = await api_tokens.create_api_token(
                uow=uow,
                actor=ctx.actor,
                name=name,
                scopes=[s.to_domain() for s in scopes],
                expires_at=expires_at,
            )
        return NewApiToken(token=secret, api_token=ApiToken.from_model(model))

    @strawberry.mutation(
        description="Revoke one of your API tokens; it stops working on its next request. "
        "True if this call revoked it, false if it already was revoked."
    )
    async def revoke_api_token(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        ctx = info.context
        token_id = decode_global_id(str(id), expected="ApiToken").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            return await api_tokens.revoke_api_token(uow=uow, actor=ctx.actor, token_id=token_id)
