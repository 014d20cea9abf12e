"""The ``Edge`` type: one link of the knowledge graph, with its history."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.graph.models import EdgeRecord

# Edge ends are stored by node type; GraphQL names the same types.
NODE_TYPE_NAMES = {"capture": "Capture", "insight": "Insight", "concept": "Concept"}


@strawberry.enum(description="Who made a link.")
class EdgeProducer(Enum):
    AI = "AI"
    USER = "USER"


@strawberry.type(description="A directed, weighted link between two nodes.")
class Edge:
    id: strawberry.ID
    relation: str
    weight: float
    evidence: JSON | None
    producer: EdgeProducer
    valid_from: datetime | None
    valid_to: datetime | None
    recorded_at: datetime
    superseded_at: datetime | None
    _record: strawberry.Private[EdgeRecord]

    @strawberry.field(name="from", description="Where the link starts (null if not visible).")
    async def from_(self, info: Info[Context, None]) -> Node | None:
        return await _end(info.context, self._record.from_type, self._record.from_id)

    @strawberry.field(description="Where the link ends (null if not visible).")
    async def to(self, info: Info[Context, None]) -> Node | None:
        return await _end(info.context, self._record.to_type, self._record.to_id)

    @classmethod
    def from_record(cls, record: EdgeRecord) -> Edge:
        return cls(
            id=strawberry.ID(encode_global_id("Edge", record.id)),
            relation=record.relation,
            weight=record.weight,
            evidence=record.evidence,
            producer=EdgeProducer(record.producer),
            valid_from=record.valid_from,
            valid_to=record.valid_to,
            recorded_at=record.recorded_at,
            superseded_at=record.superseded_at,
            _record=record,
        )


async def _end(ctx: Context, node_type: str, node_id: object) -> Node | None:
    from lifeos_gql.api.node_registry import FETCHERS

    fetcher = FETCHERS.get(NODE_TYPE_NAMES.get(node_type, ""))
    return await fetcher(ctx, node_id) if fetcher else None  # type: ignore[arg-type]
