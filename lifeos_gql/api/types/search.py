"""Types of ``search``: the filter input and a connection over the fused ranking."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.common import PageInfo
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.search import models


@strawberry.enum(description="Kinds of nodes search can return.")
class SearchNodeType(Enum):
    CAPTURE = "CAPTURE"
    INSIGHT = "INSIGHT"
    CONCEPT = "CONCEPT"

    def to_domain(self) -> models.SearchNodeType:
        return models.SearchNodeType(self.value.lower())


@strawberry.enum(description="Which ranking found a search hit.")
class SearchSignal(Enum):
    KEYWORD = "KEYWORD"
    NAME = "NAME"
    MEANING = "MEANING"


@strawberry.input(description="Restricts search hits; omitted fields do not restrict.")
class SearchFilter:
    stream_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only hits from these streams (insights and concepts via their sources).",
    )
    node_types: list[SearchNodeType] | None = None
    insight_kinds: list[str] | None = strawberry.field(
        default=None, description="Only insights of these kinds (other node types unaffected)."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Happened at or after (captures' occurredAt)."
    )
    to: datetime | None = strawberry.field(default=None, description="Happened before.")

    def to_domain(self) -> models.SearchFilter:
        return models.SearchFilter(
            stream_ids=(
                tuple(decode_global_id(str(s), expected="Stream").id for s in self.stream_ids)
                if self.stream_ids is not None
                else None
            ),
            node_types=(
                tuple(t.to_domain() for t in self.node_types)
                if self.node_types is not None
                else None
            ),
            insight_kinds=tuple(self.insight_kinds) if self.insight_kinds is not None else None,
            since=self.from_,
            until=self.to,
        )


@strawberry.type(description="One search hit.")
class SearchEdge:
    cursor: str
    score: float = strawberry.field(
        description="Reciprocal-rank-fusion score (higher is better; comparable within one query)."
    )
    snippet: str | None = strawberry.field(
        description="HTML-escaped excerpt with query terms in <mark>…</mark>."
    )
    matched_by: list[SearchSignal]
    node: Node

    @classmethod
    def from_hit(cls, hit: models.SearchHit) -> SearchEdge:
        node: Node
        if hit.capture is not None:
            node = Capture.from_record(hit.capture)
        elif hit.insight is not None:
            node = Insight.from_record(hit.insight)
        elif hit.concept is not None:
            node = Concept.from_record(hit.concept)
        else:  # pragma: no cover - the service never builds such a hit
            raise ValueError("search hit without a node")
        return cls(
            cursor=hit.cursor,
            score=hit.score,
            snippet=hit.snippet,
            matched_by=[SearchSignal(s.value) for s in hit.signals],
            node=node,
        )


@strawberry.type(description="Search hits, best first, paged by cursor.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: models.SearchPage) -> SearchConnection:
        edges = [SearchEdge.from_hit(hit) for hit in page.hits]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )
