"""Graph edit mutations: ``linkNodes``, ``unlinkNodes``, ``mergeConcepts``.

The lead merges ``GraphMutations`` into ``Mutation``. Each field is one use
case in one transaction (audit row and event commit with the change).
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.resolvers.graph_queries import graph_node_ref
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.edge import Edge
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.graph import editing


@strawberry.type
class GraphMutations:
    @strawberry.mutation(
        description="Link two nodes you can see with your own edge (collaborator or owner; "
        "relation is upper-cased, e.g. INSPIRED_BY; weight 0-1)."
    )
    async def link_nodes(
        self,
        info: Info[Context, None],
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        relation: str,
        weight: float = 1.0,
    ) -> Edge:
        ctx = info.context
        source, target = graph_node_ref(str(from_), "from"), graph_node_ref(str(to), "to")
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await editing.link_nodes(
                uow=uow,
                actor=ctx.actor,
                source=source,
                target=target,
                relation=relation,
                weight=weight,
            )
        return Edge.from_record(record)

    @strawberry.mutation(
        description="Remove an edge from the current graph: it is superseded, never deleted, "
        "so `neighbors(asOf:)` before now still shows it."
    )
    async def unlink_nodes(self, info: Info[Context, None], edge_id: strawberry.ID) -> Edge:
        ctx = info.context
        parsed = decode_global_id(str(edge_id), expected="Edge")
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await editing.unlink_nodes(uow=uow, actor=ctx.actor, edge_id=parsed.id)
        return Edge.from_record(record)

    @strawberry.mutation(
        description="Merge concepts into the first one (owner only): names become aliases, "
        "edges are re-pointed, later mentions of the others resolve to it."
    )
    async def merge_concepts(self, info: Info[Context, None], ids: list[strawberry.ID]) -> Concept:
        ctx = info.context
        concept_ids = [decode_global_id(str(i), expected="Concept").id for i in ids]
        async with ctx.runtime.db.transaction(ctx.require_user()) as uow:
            record = await editing.merge_concepts(uow=uow, actor=ctx.actor, ids=concept_ids)
        return Concept.from_record(record)
