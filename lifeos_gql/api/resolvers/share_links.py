"""Mutations managing share links (merged into ``Mutation``) and the ``me.shareLinks`` list."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.share_link import SHAREABLE, NewShareLink, ShareLink, share_url
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.core.errors import BadInput
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.share_links import service as share_links
from lifeos_gql.domains.share_links.models import DEFAULT_EXPIRY

DEFAULT_EXPIRES_IN = int(DEFAULT_EXPIRY.total_seconds())


async def my_share_links(ctx: Context, user_id: uuid.UUID, first: int | None) -> list[ShareLink]:
    """``User.shareLinks``: the caller's own links (the field is theirs alone)."""
    limit = clamp_first(first, default=50)
    models = await ctx.loaders.own.fetch(
        ("shareLinks", user_id, limit),
        lambda uow: share_links.list_share_links(uow=uow, actor=ctx.actor, first=limit),
    )
    return [ShareLink.from_model(m) for m in models]


@strawberry.type
class ShareLinkMutations:
    @strawberry.mutation(
        description="Create a read-only URL to a Capture, Insight or Concept you can read, "
        "for people without an account. It shows what you can still see when it is opened. "
        "expiresIn: seconds, 60 to 7776000 (90 days); default (or null) 604800, 7 days."
    )
    async def create_share_link(
        self,
        info: Info[Context, None],
        node_id: strawberry.ID,
        expires_in: int | None = DEFAULT_EXPIRES_IN,
    ) -> NewShareLink:
        ctx = info.context
        parsed = decode_global_id(str(node_id))
        node_type = SHAREABLE.get(parsed.type_name)
        if node_type is None:
            raise BadInput("Only captures, insights and concepts can be shared", field="nodeId")
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            model, token = await share_links.create_share_link(
                uow=uow,
                actor=ctx.actor,
                crypto=ctx.runtime.capture_crypto,
                node_type=node_type,
                node_id=parsed.id,
                expires_in=DEFAULT_EXPIRES_IN if expires_in is None else expires_in,
            )
        return NewShareLink(
            url=share_url(ctx.runtime.settings.public_base_url, token),
            share_link=ShareLink.from_model(model),
        )

    @strawberry.mutation(
        description="Revoke one of your share links; it answers 404 from the next request. "
        "True if this call revoked it, false if it already was revoked."
    )
    async def revoke_share_link(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        ctx = info.context
        link_id = decode_global_id(str(id), expected="ShareLink").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            return await share_links.revoke_share_link(uow=uow, actor=ctx.actor, link_id=link_id)
