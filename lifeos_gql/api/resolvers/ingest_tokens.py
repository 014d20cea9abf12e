"""Mutations managing per-stream ingest tokens (merged into ``Mutation`` by the schema)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.core.ids import decode_global_id, encode_global_id
from lifeos_gql.domains.tokens import service as tokens
from lifeos_gql.domains.tokens.models import IngestToken


@strawberry.type(description="A new ingest token. `token` is shown this once: store it now.")
class NewIngestToken:
    token: str = strawberry.field(
        description="The secret, for 'Authorization: Bearer <token>' on "
        "POST /v1/streams/{streamId}/captures. It cannot be shown again."
    )
    id: strawberry.ID
    name: str
    stream_id: strawberry.ID
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def from_model(cls, model: IngestToken, secret: str) -> NewIngestToken:
        return cls(
            token=secret,
            id=strawberry.ID(encode_global_id("IngestToken", model.id)),
            name=model.name,
            stream_id=strawberry.ID(encode_global_id("Stream", model.stream_id)),
            created_at=model.created_at,
            expires_at=model.expires_at,
        )


@strawberry.type
class IngestTokenMutations:
    @strawberry.mutation(
        description="Create a write-only token for posting captures into one stream "
        "(owner or collaborator). It acts as you while you keep that role."
    )
    async def create_ingest_token(
        self,
        info: Info[Context, None],
        stream_id: strawberry.ID,
        name: str,
        expires_at: datetime | None = None,
    ) -> NewIngestToken:
        ctx = info.context
        stream = decode_global_id(str(stream_id), expected="Stream").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            model, secret = await tokens.create_ingest_token(
                uow=uow, actor=ctx.actor, stream_id=stream, name=name, expires_at=expires_at
            )
        return NewIngestToken.from_model(model, secret)

    @strawberry.mutation(
        description="Revoke an ingest token (its creator or the stream's owner). "
        "True if this call revoked it, false if it already was revoked."
    )
    async def revoke_ingest_token(self, info: Info[Context, None], id: strawberry.ID) -> bool:
        ctx = info.context
        token_id = decode_global_id(str(id), expected="IngestToken").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            return await tokens.revoke_token(uow=uow, actor=ctx.actor, token_id=token_id)
