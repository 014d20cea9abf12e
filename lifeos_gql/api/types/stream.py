"""The ``Stream`` type and its connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from lifeos_gql.api.context import Context
from lifeos_gql.api.permissions import requires_role
from lifeos_gql.api.types.capture import CaptureConnection
from lifeos_gql.api.types.common import PageInfo, Role, SourceKind, keyset_edges
from lifeos_gql.api.types.grant import Grant, resolve_stream_grants
from lifeos_gql.api.types.insight import InsightConnection
from lifeos_gql.api.types.node import Node
from lifeos_gql.api.types.persona import Persona, resolve_stream_personas
from lifeos_gql.api.types.user import User
from lifeos_gql.core.cursors import clamp_first, encode_cursor
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.captures.service import StreamPageKey
from lifeos_gql.domains.insights.service import StreamInsightsKey
from lifeos_gql.domains.sharing.policy import Role as DomainRole
from lifeos_gql.domains.streams.models import Stream as StreamModel


@strawberry.type(description="A source channel a user owns: 'Work email', 'Kindle highlights'…")
class Stream(Node):
    name: str
    source: SourceKind
    created_at: datetime
    _model: strawberry.Private[StreamModel]

    @strawberry.field(description="The stream's owner.")
    async def owner(self, info: Info[Context, None]) -> User | None:
        model = await info.context.loaders.user.get(self._model.owner_id)
        return User.from_model(model) if model else None

    @strawberry.field(description="The caller's role on this stream.")
    async def my_role(self, info: Info[Context, None]) -> Role | None:
        role = await info.context.loaders.stream_role.get(self._model.id)
        return Role.from_domain(role) if role else None

    @strawberry.field(description="Captures of this stream, newest first.")
    async def captures(
        self,
        info: Info[Context, None],
        first: int | None = 20,
        after: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> CaptureConnection:
        key = StreamPageKey(self._model.id, clamp_first(first), after, from_, to)
        page = await info.context.loaders.stream_captures.get(key)
        records, has_next = page if page is not None else ([], False)
        return CaptureConnection.build(records, has_next)

    @strawberry.field(description="Current insights drawn from this stream's captures.")
    async def insights(
        self, info: Info[Context, None], first: int | None = 20, after: str | None = None
    ) -> InsightConnection:
        key = StreamInsightsKey(self._model.id, clamp_first(first), after)
        page = await info.context.loaders.stream_insights.get(key)
        records, has_next = page if page is not None else ([], False)
        return InsightConnection.build(records, has_next)

    grants: list[Annotated[Grant, strawberry.lazy("lifeos_gql.api.types.grant")]] | None = (
        strawberry.field(
            resolver=resolve_stream_grants,
            description="Who has access, including pending invites (owner only).",
            extensions=requires_role(DomainRole.OWNER),
        )
    )
    personas: list[Annotated[Persona, strawberry.lazy("lifeos_gql.api.types.persona")]] | None = (
        strawberry.field(
            resolver=resolve_stream_personas,
            description="Your personas holding this stream (owner only).",
            extensions=requires_role(DomainRole.OWNER),
        )
    )

    def acl_stream_id(self) -> uuid.UUID:
        """What ``@requiresRole`` judges this object's fields by."""
        return self._model.id

    @classmethod
    def from_model(cls, model: StreamModel) -> Stream:
        return cls(
            id=strawberry.ID(encode_global_id("Stream", model.id)),
            name=model.name,
            source=SourceKind.from_domain(model.source),
            created_at=model.created_at,
            _model=model,
        )


@strawberry.type
class StreamEdge:
    cursor: str
    node: Stream


@strawberry.type(description="A keyset-paginated list of streams, oldest first.")
class StreamConnection:
    edges: list[StreamEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Stream]:
        return [edge.node for edge in self.edges]

    @classmethod
    def build(cls, models: list[StreamModel], has_next: bool) -> StreamConnection:
        edges, page_info = keyset_edges(
            models,
            has_next,
            cursor=lambda m: encode_cursor(m.created_at, m.id),
            edge=lambda c, m: StreamEdge(cursor=c, node=Stream.from_model(m)),
        )
        return cls(edges=edges, page_info=page_info)
