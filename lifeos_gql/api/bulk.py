"""``captureBatch`` reads graphql-core's coerced inputs directly.

Strawberry turns every input object into its dataclass field by field
through its generic type machinery: about 0.1 ms per ``CaptureInput``, so
100 ms for a 1,000-item batch, as long as storing the batch. graphql-core
has already validated and coerced the variables against the very same
schema type (required fields present, scalars parsed: ``occurredAt`` is a
``datetime``, ``data`` is JSON), so the resolver of this one bulk field
takes those dicts as they are. The field's SDL is unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.ingest import (
    CaptureBatchPayload,
    CaptureResult,
    CaptureStatus,
)
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.captures.models import CaptureDraft, IngestOutcome
from lifeos_gql.ingest import capture_drafts


def drafts_from_inputs(inputs: Sequence[Mapping[str, Any]]) -> list[CaptureDraft]:
    """``CaptureInput``s as graphql-core coerced them (GraphQL field names).

    A batch usually names one stream a thousand times: its id is decoded once.
    """
    stream_ids: dict[str, uuid.UUID] = {}
    drafts = []
    for raw in inputs:
        global_id = raw["streamId"]
        stream_id = stream_ids.get(global_id)
        if stream_id is None:
            stream_id = stream_ids[global_id] = decode_global_id(global_id, expected="Stream").id
        drafts.append(
            CaptureDraft(
                stream_id=stream_id,
                occurred_at=raw.get("occurredAt"),
                title=raw.get("title"),
                content=raw.get("content"),
                data=raw.get("data"),
                external_id=raw.get("externalId"),
            )
        )
    return drafts


async def ingest_drafts(ctx: Context, drafts: Sequence[CaptureDraft]) -> list[IngestOutcome]:
    """Capture in one transaction (analysis queued with it), honouring Idempotency-Key."""
    return await capture_drafts(
        ctx.runtime,
        ctx.actor,
        drafts,
        idempotency_key=ctx.request.headers.get("idempotency-key"),
    )


def batch_payload(outcomes: Sequence[IngestOutcome]) -> CaptureBatchPayload:
    results = [CaptureResult.from_outcome(o) for o in outcomes]
    counts = dict.fromkeys(CaptureStatus, 0)
    for result in results:
        counts[result.status] += 1
    return CaptureBatchPayload(
        results=results,
        created_count=counts[CaptureStatus.CREATED],
        duplicate_count=counts[CaptureStatus.DUPLICATE],
        invalid_count=counts[CaptureStatus.INVALID],
    )


async def _resolve_capture_batch(
    root: object, info: GraphQLResolveInfo[Context], inputs: list[Mapping[str, Any]]
) -> CaptureBatchPayload:
    return batch_payload(await ingest_drafts(info.context, drafts_from_inputs(inputs)))


def install_bulk_resolvers(schema: strawberry.Schema) -> None:
    """Point ``Mutation.captureBatch`` at the dict-reading resolver."""
    mutation = schema._schema.mutation_type
    if mutation is None:
        raise RuntimeError("the schema has no Mutation type")
    mutation.fields["captureBatch"].resolve = _resolve_capture_batch
