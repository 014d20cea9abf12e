"""The ``Capture`` type and its connection."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.types.common import AnalysisStatus, PageInfo
from lifeos_gql.api.types.node import Node
from lifeos_gql.core.cursors import encode_cursor
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.captures.models import CaptureRecord

if TYPE_CHECKING:
    from lifeos_gql.api.types.stream import Stream


@strawberry.type(description="One captured item of a stream (an email, a highlight, a note…).")
class Capture(Node):
    occurred_at: datetime
    captured_at: datetime
    title: str | None
    content: str | None
    data: JSON | None = strawberry.field(description="The raw payload as captured.")
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
            analysis_status=AnalysisStatus.from_domain(record.analysis_status),
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
        edges = [
            CaptureEdge(cursor=encode_cursor(r.occurred_at, r.id), node=Capture.from_record(r))
            for r in records
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None
            ),
        )
