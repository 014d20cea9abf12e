"""The typed events subscriptions deliver; each carries an opaque resume cursor."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.common import AnalysisStatus
from lifeos_gql.api.types.edge import Edge
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.node import Node

_CURSOR_DOC = "Pass as `after` when re-subscribing to resume right after this event."


@strawberry.type(
    description="A new insight you can see (every capture of its lineage is readable)."
)
class InsightEvent:
    cursor: str = strawberry.field(description=_CURSOR_DOC)
    occurred_at: datetime
    insight: Insight


@strawberry.enum(description="What kind of graph change an event records.")
class GraphChangeKind(Enum):
    ANALYSED = "ANALYSED"
    LINKED = "LINKED"
    UNLINKED = "UNLINKED"
    MERGED = "MERGED"


@strawberry.type(description="The knowledge graph changed around a node you can see.")
class GraphEvent:
    cursor: str = strawberry.field(description=_CURSOR_DOC)
    occurred_at: datetime
    change: GraphChangeKind
    node: Node = strawberry.field(description="The node the change is about.")
    _node_id: strawberry.Private[uuid.UUID]
    _touched: strawberry.Private[tuple[tuple[str, uuid.UUID], ...]]
    _edge_ids: strawberry.Private[frozenset[uuid.UUID]]

    @strawberry.field(description="Other nodes the change touched, those you can see.")
    async def nodes(self, info: Info[Context, None]) -> list[Node]:
        from lifeos_gql.api.subscriptions.visibility import load_node

        found = [await load_node(info.context.loaders, t, i) for t, i in self._touched]
        return [node for node in found if node is not None]

    @strawberry.field(
        description="Current links this change made, those you can see (both ends visible)."
    )
    async def edges(self, info: Info[Context, None]) -> list[Edge]:
        if not self._edge_ids:
            return []
        records = await info.context.loaders.node_edges.get(self._node_id) or []
        return [Edge.from_record(r) for r in records if r.id in self._edge_ids]


@strawberry.type(description="Analysis of a capture you can see ended (DONE, FAILED or SKIPPED).")
class CaptureAnalyzedEvent:
    cursor: str = strawberry.field(description=_CURSOR_DOC)
    occurred_at: datetime
    capture: Capture
    status: AnalysisStatus
    error_code: str | None = strawberry.field(description="Why it failed (FAILED only).")
    _capture_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The capture's current insights, those you can see.")
    async def insights(self, info: Info[Context, None]) -> list[Insight]:
        records = await info.context.loaders.capture_insights.get(self._capture_id) or []
        return [Insight.from_record(r) for r in records]


EventPayload = InsightEvent | GraphEvent | CaptureAnalyzedEvent
