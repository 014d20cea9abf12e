"""``Mutation`` root fields: each calls one service use case in one transaction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from lifeos_gql import ingest
from lifeos_gql.api.bulk import batch_payload, ingest_drafts
from lifeos_gql.api.context import Context
from lifeos_gql.api.resolvers.api_tokens import ApiTokenMutations
from lifeos_gql.api.resolvers.graph_mutations import GraphMutations
from lifeos_gql.api.resolvers.ingest_tokens import IngestTokenMutations
from lifeos_gql.api.resolvers.privacy import PrivacyMutations
from lifeos_gql.api.resolvers.share_links import ShareLinkMutations
from lifeos_gql.api.resolvers.sharing import SharingMutations
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.ingest import (
    CaptureBatchPayload,
    CaptureInput,
    CaptureResult,
    CaptureStatus,
    CreateStreamInput,
    DeletePayload,
)
from lifeos_gql.api.types.stream import Stream
from lifeos_gql.core.errors import BadInput, DomainError, Forbidden, NotFound
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.streams import service as streams

_ITEM_ERRORS: dict[str, type[DomainError]] = {"NOT_FOUND": NotFound, "FORBIDDEN": Forbidden}


@strawberry.type
class Mutation(
    IngestTokenMutations,
    GraphMutations,
    ApiTokenMutations,
    ShareLinkMutations,
    SharingMutations,
    PrivacyMutations,
):
    @strawberry.mutation(description="Create a stream you own.")
    async def create_stream(self, info: Info[Context, None], input: CreateStreamInput) -> Stream:
        ctx = info.context
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            model = await streams.create_stream(
                uow=uow, actor=ctx.actor, name=input.name, source=input.source.to_domain()
            )
        return Stream.from_model(model)

    @strawberry.mutation(description="Rename a stream (owner only).")
    async def rename_stream(
        self, info: Info[Context, None], id: strawberry.ID, name: str
    ) -> Stream:
        ctx = info.context
        stream_id = decode_global_id(str(id), expected="Stream").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            model = await streams.rename_stream(
                uow=uow, actor=ctx.actor, stream_id=stream_id, name=name
            )
        return Stream.from_model(model)

    @strawberry.mutation(description="Delete a stream and its captures (owner only).")
    async def delete_stream(self, info: Info[Context, None], id: strawberry.ID) -> DeletePayload:
        ctx = info.context
        stream_id = decode_global_id(str(id), expected="Stream").id
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            await streams.delete_stream(uow=uow, actor=ctx.actor, stream_id=stream_id)
        return DeletePayload(deleted_id=id)

    @strawberry.mutation(
        description="Capture one item. Idempotent on externalId, content and Idempotency-Key."
    )
    async def capture(self, info: Info[Context, None], input: CaptureInput) -> CaptureResult:
        outcome = (await ingest_drafts(info.context, [input.to_draft()]))[0]
        if outcome.status.value == CaptureStatus.INVALID.value:
            error_type = _ITEM_ERRORS.get(outcome.code or "", BadInput)
            raise error_type(
                outcome.message or "invalid capture", field=outcome.field, reason=outcome.code
            )
        return CaptureResult.from_outcome(outcome)

    @strawberry.mutation(
        description="Analyse captures again (owner or collaborator); they return as PENDING."
    )
    async def request_analysis(
        self, info: Info[Context, None], capture_ids: list[strawberry.ID]
    ) -> list[Capture]:
        ctx = info.context
        ids = [decode_global_id(str(i), expected="Capture").id for i in capture_ids]
        await ingest.request_analysis(ctx.runtime, ctx.actor, ids)
        records = await ctx.loaders.capture.load_many(ids)
        return [Capture.from_record(r) for r in records if r is not None]

    @strawberry.mutation(
        description="Capture many items; bad items are reported per item, good ones stored."
    )
    async def capture_batch(
        self, info: Info[Context, None], inputs: list[CaptureInput]
    ) -> CaptureBatchPayload:
        # Served by lifeos_gql.api.bulk (installed on the schema), which skips
        # Strawberry's per-field input conversion; this body keeps the SDL and
        # is the reference behaviour.
        return batch_payload(await ingest_drafts(info.context, [i.to_draft() for i in inputs]))
