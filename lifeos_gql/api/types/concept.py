"""The ``Concept`` type: a person, place, organisation, topic… in the graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.cursors import clamp_first
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.graph.models import ConceptRecord, Relation

if TYPE_CHECKING:
    from lifeos_gql.api.types.capture import Capture


@strawberry.type(description="An entity extracted from captures, one per owner, name and kind.")
class Concept(Node):
    name: str
    kind: str = strawberry.field(
        description="person, place, organisation, topic, work, event or date."
    )
    aliases: list[str]
    _record: strawberry.Private[ConceptRecord]

    @strawberry.field(description="Captures that mention this concept (those you can see).")
    async def mentions(
        self, info: Info[Context, None], first: int | None = 20
    ) -> list[Annotated[Capture, strawberry.lazy("lifeos_gql.api.types.capture")]]:
        from lifeos_gql.api.types.capture import Capture

        limit = clamp_first(first)
        edges = await info.context.loaders.node_edges.get(self._record.id) or []
        ids = [
            e.from_id
            for e in edges
            if e.relation == Relation.MENTIONS.value and e.to_id == self._record.id
        ][:limit]
        records = await info.context.loaders.capture.load_many(ids)
        return [Capture.from_record(r) for r in records if r is not None]

    @classmethod
    def from_record(cls, record: ConceptRecord) -> Concept:
        return cls(
            id=strawberry.ID(encode_global_id("Concept", record.id)),
            name=record.name,
            kind=record.kind,
            aliases=list(record.aliases),
            _record=record,
        )
