"""The ``Insight`` type: what analysis concluded, with its lineage."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.common import PageInfo, keyset_edges
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.cursors import encode_cursor
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.insights.models import InsightRecord

if TYPE_CHECKING:
    from lifeos_gql.api.types.capture import Capture


@strawberry.type(
    description="A key insight, mental model, summary… derived from one or more captures."
)
class Insight(Node):
    kind: str = strawberry.field(
        description="key_insight, mental_model, summary, pattern or question."
    )
    text: str | None = strawberry.field(description="Null once the owner's data key is erased.")
    confidence: float
    producer: str = strawberry.field(
        description="Which analyser made it: 'local-analyser/1' or 'openai:<model>'."
    )
    generated_at: datetime
    superseded_at: datetime | None
    _record: strawberry.Private[InsightRecord]

    @strawberry.field(description="The captures this insight was derived from (its lineage).")
    async def sources(
        self, info: Info[Context, None]
    ) -> list[Annotated[Capture, strawberry.lazy("lifeos_gql.api.types.capture")]]:
        from lifeos_gql.api.types.capture import Capture

        loader = info.context.loaders.capture
        records = await loader.load_many(list(self._record.capture_ids))
        return [Capture.from_record(r) for r in records if r is not None]

    @classmethod
    def from_record(cls, record: InsightRecord) -> Insight:
        return cls(
            id=strawberry.ID(encode_global_id("Insight", record.id)),
            kind=record.kind,
            text=record.text,
            confidence=record.confidence,
            producer=record.producer,
            generated_at=record.generated_at,
            superseded_at=record.superseded_at,
            _record=record,
        )


@strawberry.type
class InsightEdge:
    cursor: str
    node: Insight


@strawberry.type(description="A keyset-paginated list of insights, newest first.")
class InsightConnection:
    edges: list[InsightEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Insight]:
        return [edge.node for edge in self.edges]

    @classmethod
    def build(cls, records: list[InsightRecord], has_next: bool) -> InsightConnection:
        edges, page_info = keyset_edges(
            records,
            has_next,
            cursor=lambda r: encode_cursor(r.generated_at, r.id),
            edge=lambda c, r: InsightEdge(cursor=c, node=Insight.from_record(r)),
        )
        return cls(edges=edges, page_info=page_info)
