"""The ``Capture`` type and its connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.permissions import requires_role
from lifeos_gql.api.types.common import AnalysisStatus, PageInfo, keyset_edges
from lifeos_gql.api.types.node import Node
from lifeos_gql.api.types.similar import resolve_similar
from lifeos_gql.core.cursors import clamp_first, encode_cursor
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import AnalysisStatus as DomainAnalysisStatus
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.sharing.policy import Role as DomainRole

if TYPE_CHECKING:
    from lifeos_gql.api.types.concept import Concept
    from lifeos_gql.api.types.edge import Edge
    from lifeos_gql.api.types.insight import Insight
    from lifeos_gql.api.types.stream import Stream


# ``from_record`` runs once per capture of a 1,000-item batch: a dict lookup.
_ANALYSIS_STATUS = {status: AnalysisStatus.from_domain(status) for status in DomainAnalysisStatus}


@strawberry.type(description="One captured item of a stream (an email, a highlight, a note…).")
class Capture(Node):
    occurred_at: datetime
    captured_at: datetime
    title: str | None
    content: str | None
    data: JSON | None = strawberry.field(
        description="The raw payload as captured (owner and collaborators).",
        extensions=requires_role(DomainRole.COLLABORATOR),
    )
    external_id: str | None
    size_bytes: int
    analysis_status: AnalysisStatus
    analysis_error: str | None
    _record: strawberry.Private[CaptureRecord]

    @strawberry.field(description="The stream this capture belongs to.")
    async def stream(
        self, info: Info[Context, None]
    ) -> Annotated[Stream, strawberry.lazy("lifeos_gql.api.types.stream")] | None:
        from lifeos_gql.api.types.stream import Stream

        model = await info.context.loaders.stream.get(self._record.stream_id)
        return Stream.from_model(model) if model else None

    @strawberry.field(description="Current insights derived from this capture.")
    async def insights(
        self, info: Info[Context, None]
    ) -> list[Annotated[Insight, strawberry.lazy("lifeos_gql.api.types.insight")]]:
        from lifeos_gql.api.types.insight import Insight

        records = await info.context.loaders.capture_insights.get(self._record.id) or []
        return [Insight.from_record(r) for r in records]

    @strawberry.field(description="Concepts this capture mentions, most salient first.")
    async def concepts(
        self, info: Info[Context, None]
    ) -> list[Annotated[Concept, strawberry.lazy("lifeos_gql.api.types.concept")]]:
        from lifeos_gql.api.types.concept import Concept

        mentioned = await info.context.loaders.capture_concepts.get(self._record.id) or []
        return [Concept.from_record(concept) for concept, _salience in mentioned]

    @strawberry.field(description="Current links touching this capture, strongest first.")
    async def edges(
        self, info: Info[Context, None], relation: str | None = None, first: int | None = 20
    ) -> list[Annotated[Edge, strawberry.lazy("lifeos_gql.api.types.edge")]]:
        from lifeos_gql.api.types.edge import Edge

        records = await info.context.loaders.node_edges.get(self._record.id) or []
        chosen = [r for r in records if relation is None or r.relation == relation]
        chosen.sort(key=lambda r: (-r.weight, r.recorded_at))
        return [Edge.from_record(r) for r in chosen[: clamp_first(first)]]

    similar: list[Capture] = strawberry.field(
        resolver=resolve_similar,
        description="Captures you can see that are closest in meaning to this one.",
    )

    def acl_stream_id(self) -> uuid.UUID:
        """What ``@requiresRole`` judges this object's fields by: its stream."""
        return self._record.stream_id

    @classmethod
    def from_record(cls, record: CaptureRecord) -> Capture:
        return cls(
            id=strawberry.ID(encode_global_id("Capture", record.id)),
            occurred_at=record.occurred_at,
            captured_at=record.captured_at,
            title=record.title,
            content=record.content,
            data=record.data,
            external_id=record.external_id,
            size_bytes=record.size_bytes,
            analysis_status=_ANALYSIS_STATUS[record.analysis_status],
            analysis_error=record.analysis_error,
            _record=record,
        )


@strawberry.type
class CaptureEdge:
    cursor: str
    node: Capture


@strawberry.type(description="A keyset-paginated list of captures, newest first.")
class CaptureConnection:
    edges: list[CaptureEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Capture]:
        return [edge.node for edge in self.edges]

    @classmethod
    def build(cls, records: list[CaptureRecord], has_next: bool) -> CaptureConnection:
        edges, page_info = keyset_edges(
            records,
            has_next,
            cursor=lambda r: encode_cursor(r.occurred_at, r.id),
            edge=lambda c, r: CaptureEdge(cursor=c, node=Capture.from_record(r)),
        )
        return cls(edges=edges, page_info=page_info)


async def capture_page(
    ctx: Context,
    *,
    first: int | None,
    after: str | None,
    stream_ids: list[uuid.UUID] | None,
    since: datetime | None,
    until: datetime | None,
) -> CaptureConnection:
    """One keyset page of the captures ``ctx.actor`` can see."""
    async with ctx.reader.use() as uow:
        records, has_next = await captures.page_captures(
            uow=uow,
            actor=ctx.actor,
            crypto=ctx.runtime.capture_crypto,
            first=clamp_first(first),
            after=after,
            stream_ids=stream_ids,
            since=since,
            until=until,
        )
    return CaptureConnection.build(records, has_next)
