"""``node(id)``: decode the global id and fetch through the type's loader.

Every node type registers a fetcher that applies visibility; an id of a
node the caller may not see answers ``null``, exactly like a missing one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.node import Node
from lifeos_gql.api.types.stream import Stream
from lifeos_gql.api.types.user import User
from lifeos_gql.core.errors import BadInput
from lifeos_gql.core.ids import decode_global_id

NodeFetcher = Callable[[Context, uuid.UUID], Awaitable[Node | None]]


async def _fetch_user(ctx: Context, user_id: uuid.UUID) -> Node | None:
    # Users see themselves; seeing co-members comes with sharing.
    if ctx.actor.user_id != user_id:
        return None
    model = await ctx.loaders.user.get(user_id)
    return User.from_model(model) if model else None


async def _fetch_stream(ctx: Context, stream_id: uuid.UUID) -> Node | None:
    model = await ctx.loaders.stream.get(stream_id)
    return Stream.from_model(model) if model else None


async def _fetch_capture(ctx: Context, capture_id: uuid.UUID) -> Node | None:
    record = await ctx.loaders.capture.get(capture_id)
    return Capture.from_record(record) if record else None


async def _fetch_insight(ctx: Context, insight_id: uuid.UUID) -> Node | None:
    record = await ctx.loaders.insight.get(insight_id)
    return Insight.from_record(record) if record else None


async def _fetch_concept(ctx: Context, concept_id: uuid.UUID) -> Node | None:
    record = await ctx.loaders.concept.get(concept_id)
    return Concept.from_record(record) if record else None


FETCHERS: dict[str, NodeFetcher] = {
    "Insight": _fetch_insight,
    "Concept": _fetch_concept,
    "User": _fetch_user,
    "Stream": _fetch_stream,
    "Capture": _fetch_capture,
}


async def resolve_node(ctx: Context, global_id: str) -> Node | None:
    parsed = decode_global_id(global_id)
    fetcher = FETCHERS.get(parsed.type_name)
    if fetcher is None:
        raise BadInput("Malformed id", field="id")
    return await fetcher(ctx, parsed.id)
