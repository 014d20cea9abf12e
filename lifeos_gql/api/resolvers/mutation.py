"""``Mutation`` root fields: each calls one service use case in one transaction."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.resolvers.ingest_tokens import IngestTokenMutations
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
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import IngestOutcome
from lifeos_gql.domains.streams import service as streams


def _idempotency_key(info: Info[Context, None]) -> str | None:
    return info.context.request.headers.get("idempotency-key")


async def _ingest(info: Info[Context, None], inputs: list[CaptureInput]) -> list[IngestOutcome]:
    ctx = info.context
    drafts = [item.to_draft() for item in inputs]
    async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
        return await captures.ingest(
            uow=uow,
            actor=ctx.actor,
            crypto=ctx.runtime.capture_crypto,
            limits=ctx.runtime.capture_limits,
            drafts=drafts,
            idempotency_key=_idempotency_key(info),
        )


_ITEM_ERRORS: dict[str, type[DomainError]] = {"NOT_FOUND": NotFound, "FORBIDDEN": Forbidden}


@strawberry.type
class Mutation(IngestTokenMutations):
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
        outcome = (await _ingest(info, [input]))[0]
        if outcome.status.value == CaptureStatus.INVALID.value:
            error_type = _ITEM_ERRORS.get(outcome.code or "", BadInput)
            raise error_type(
                outcome.message or "invalid capture", field=outcome.field, reason=outcome.code
            )
        return CaptureResult.from_outcome(outcome)

    @strawberry.mutation(
        description="Capture many items; bad items are reported per item, good ones stored."
    )
    async def capture_batch(
        self, info: Info[Context, None], inputs: list[CaptureInput]
    ) -> CaptureBatchPayload:
        outcomes = await _ingest(info, inputs)
        results = [CaptureResult.from_outcome(o) for o in outcomes]
        counts = {status: 0 for status in CaptureStatus}
        for result in results:
            counts[result.status] += 1
        return CaptureBatchPayload(
            results=results,
            created_count=counts[CaptureStatus.CREATED],
            duplicate_count=counts[CaptureStatus.DUPLICATE],
            invalid_count=counts[CaptureStatus.INVALID],
        )
