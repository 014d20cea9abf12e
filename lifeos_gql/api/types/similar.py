"""``Capture.similar``: captures nearest in meaning, through the vector index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.domains.search.service import SimilarKey

if TYPE_CHECKING:
    from lifeos_gql.api.types.capture import Capture


async def resolve_similar(
    root: Capture, info: Info[Context, None], first: int | None = 10
) -> list[Annotated[Capture, strawberry.lazy("lifeos_gql.api.types.capture")]]:
    """Visible captures closest in meaning to this one (itself excluded), closest first.

    Through a loader: the captures of one response are embedded, searched and
    checked for visibility together, so the cost follows the query's shape.
    """
    from lifeos_gql.api.types.capture import Capture

    ctx = info.context
    limit = clamp_first(first, default=10, maximum=50)
    ids = await ctx.loaders.similar_captures.load(SimilarKey.of(root._record, limit))
    records = await ctx.loaders.capture.load_many(ids)
    return [Capture.from_record(r) for r in records if r is not None]
