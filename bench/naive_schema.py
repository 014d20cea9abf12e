"""The baseline for ``bench/graph.py``: a resolver-per-row GraphQL schema.

It answers the benchmark's nested query with the same JSON as the real API
(same global ids, orderings and visibility rules) but the way a naive
server does: every field of every row runs its own SQL statement — one per
stream's captures, per capture's insights and edges, per insight's
sources, per edge end — on the same per-request connection
(:class:`~lifeos_gql.db.uow.RequestReader`) and driver as the real API.
Visibility is checked per row in SQL (owner or grantee of the stream; a
concept through a readable mention; an insight when every source is
readable). Only the fields the benchmark selects exist. Not for serving.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import text
from strawberry.types import Info

from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.db.uow import RequestReader

_READABLE = (
    "(s.owner_id = :me OR EXISTS (SELECT 1 FROM grants g"
    " WHERE g.stream_id = s.id AND g.grantee_id = :me))"
)
_CAPTURE_VISIBLE = text(
    f"SELECT c.* FROM captures c JOIN streams s ON s.id = c.stream_id"
    f" WHERE c.id = :id AND {_READABLE}"
)
_CONCEPT_VISIBLE = text(
    f"""
    SELECT k.* FROM concepts k WHERE k.id = :id AND EXISTS (
        SELECT 1 FROM edges e JOIN captures c ON c.id = e.from_id
        JOIN streams s ON s.id = c.stream_id
        WHERE e.to_id = k.id AND e.relation = 'MENTIONS' AND e.superseded_at IS NULL
          AND {_READABLE})
    """
)
_INSIGHT_VISIBLE = text(
    f"""
    SELECT i.* FROM insights i WHERE i.id = :id AND NOT EXISTS (
        SELECT 1 FROM insight_sources x JOIN captures c ON c.id = x.capture_id
        JOIN streams s ON s.id = c.stream_id
        WHERE x.insight_id = i.id AND NOT {_READABLE})
    """
)
_VISIBLE = {"capture": _CAPTURE_VISIBLE, "concept": _CONCEPT_VISIBLE, "insight": _INSIGHT_VISIBLE}
_TYPE_NAMES = {"capture": "Capture", "concept": "Concept", "insight": "Insight"}


@dataclass
class NaiveContext:
    """One request: the actor and its lazily opened read transaction."""

    me: uuid.UUID
    reader: RequestReader

    async def rows(self, statement: Any, **params: Any) -> list[Any]:
        """Run one statement (the naive way: every call is a round trip)."""
        async with self.reader.use() as uow:
            return list(await uow.execute(statement, {"me": self.me, **params}))

    async def visible(self, node_type: str, node_id: uuid.UUID) -> bool:
        """Whether the actor may see one node: one statement per call."""
        return bool(await self.rows(_VISIBLE[node_type], id=node_id))


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class Capture(Node):
    _row: strawberry.Private[Any]

    @strawberry.field
    async def insights(self, info: Info[NaiveContext, None]) -> list[Insight]:
        rows = await info.context.rows(
            text(
                """
                SELECT i.* FROM insights i JOIN insight_sources x ON x.insight_id = i.id
                WHERE x.capture_id = :id AND i.superseded_at IS NULL
                ORDER BY i.generated_at DESC, i.id DESC
                """
            ),
            id=self._row.id,
        )
        out = []
        for row in rows:
            if await info.context.visible("insight", row.id):
                out.append(Insight(id=strawberry.ID(encode_global_id("Insight", row.id)), _row=row))
        return out

    @strawberry.field
    async def edges(self, info: Info[NaiveContext, None], first: int = 20) -> list[Edge]:
        rows = await info.context.rows(
            text(
                """
                SELECT e.* FROM edges e
                WHERE e.superseded_at IS NULL AND (e.from_id = :id OR e.to_id = :id)
                ORDER BY e.weight DESC, e.recorded_at, e.id
                """
            ),
            id=self._row.id,
        )
        out: list[Edge] = []
        for row in rows:
            if len(out) >= first:
                break
            ends = ((row.from_type, row.from_id), (row.to_type, row.to_id))
            if all([await info.context.visible(t, i) for t, i in ends]):
                out.append(Edge(id=strawberry.ID(encode_global_id("Edge", row.id)), _row=row))
        return out


@strawberry.type
class Insight(Node):
    _row: strawberry.Private[Any]

    @strawberry.field
    async def sources(self, info: Info[NaiveContext, None]) -> list[Capture]:
        ids = await info.context.rows(
            text(
                "SELECT capture_id FROM insight_sources WHERE insight_id = :id ORDER BY capture_id"
            ),
            id=self._row.id,
        )
        out = []
        for (capture_id,) in ids:
            rows = await info.context.rows(_CAPTURE_VISIBLE, id=capture_id)
            if rows:
                out.append(_capture(rows[0]))
        return out


@strawberry.type
class Edge:
    id: strawberry.ID
    _row: strawberry.Private[Any]

    @strawberry.field
    async def to(self, info: Info[NaiveContext, None]) -> Node | None:
        node_type, node_id = self._row.to_type, self._row.to_id
        rows = await info.context.rows(_VISIBLE[node_type], id=node_id)
        if not rows:
            return None
        type_name = _TYPE_NAMES[node_type]
        gid = strawberry.ID(encode_global_id(type_name, node_id))
        if node_type == "capture":
            return Capture(id=gid, _row=rows[0])
        if node_type == "insight":
            return Insight(id=gid, _row=rows[0])
        return Concept(id=gid)


@strawberry.type
class Concept(Node):
    pass


@strawberry.type
class CaptureConnection:
    nodes: list[Capture]


@strawberry.type
class Stream(Node):
    _row: strawberry.Private[Any]

    @strawberry.field
    async def captures(self, info: Info[NaiveContext, None], first: int = 20) -> CaptureConnection:
        rows = await info.context.rows(
            text(
                """
                SELECT * FROM captures WHERE stream_id = :id
                ORDER BY occurred_at DESC, id DESC LIMIT :first
                """
            ),
            id=self._row.id,
            first=first,
        )
        return CaptureConnection(nodes=[_capture(row) for row in rows])


@strawberry.type
class StreamConnection:
    nodes: list[Stream]


@strawberry.type
class User(Node):
    @strawberry.field
    async def streams(self, info: Info[NaiveContext, None], first: int = 20) -> StreamConnection:
        rows = await info.context.rows(
            text(
                f"SELECT s.* FROM streams s WHERE {_READABLE} ORDER BY s.created_at, s.id LIMIT :first"
            ),
            first=first,
        )
        return StreamConnection(
            nodes=[Stream(id=strawberry.ID(encode_global_id("Stream", r.id)), _row=r) for r in rows]
        )


def _capture(row: Any) -> Capture:
    return Capture(id=strawberry.ID(encode_global_id("Capture", row.id)), _row=row)


@strawberry.type
class Query:
    @strawberry.field
    async def me(self, info: Info[NaiveContext, None]) -> User | None:
        rows = await info.context.rows(text("SELECT id FROM users WHERE id = :me"))
        return User(id=strawberry.ID(encode_global_id("User", rows[0].id))) if rows else None


naive_schema = strawberry.Schema(query=Query, types=[Capture, Concept, Insight])
