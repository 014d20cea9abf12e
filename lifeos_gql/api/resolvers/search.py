"""``search``: hybrid full-text, name and meaning search over what you can see."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.search import SearchConnection, SearchFilter
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.domains.search import service as search_service


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description=(
            "Hybrid search: full text over captures and insights, trigram similarity of "
            "concept names and similarity of meaning, fused by reciprocal rank fusion."
        )
    )
    async def search(
        self,
        info: Info[Context, None],
        query: str,
        first: int | None = 20,
        after: str | None = None,
        filter: SearchFilter | None = None,
    ) -> SearchConnection:
        ctx = info.context
        runtime = ctx.runtime
        async with ctx.reader.use() as uow:
            page = await search_service.search(
                uow=uow,
                actor=ctx.actor,
                crypto=runtime.capture_crypto,
                embedder=runtime.embedder,
                vectors=runtime.vectors,
                query=query,
                first=clamp_first(first, maximum=50),
                after=after,
                filter_=filter.to_domain() if filter is not None else None,
            )
        return SearchConnection.from_page(page)
