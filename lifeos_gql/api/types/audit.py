"""``AuditEntry`` and its connection: a user's own audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from lifeos_gql.api.types.common import PageInfo, keyset_edges
from lifeos_gql.core.ids import encode_global_id
from lifeos_gql.domains.audit.repository import TrailRow
from lifeos_gql.domains.audit.service import TrailPage, trail_cursor


def _target_ref(target_type: str | None, target_id: str | None) -> str | None:
    """A global id when the target is an object with a UUID, else the stored text.

    User targets are stored as pseudonyms (never user ids), so they stay as is.
    """
    if target_type is None or target_id is None or not target_type.isidentifier():
        return target_id
    try:
        return encode_global_id(target_type, uuid.UUID(target_id))
    except ValueError:
        return target_id


@strawberry.type(description="One recorded change, authentication event or export.")
class AuditEntry:
    seq: int = strawberry.field(description="Position in your trail (1 is the first entry).")
    occurred_at: datetime
    action: str = strawberry.field(description="What happened, e.g. stream.create.")
    target_type: str | None
    target_id: str | None = strawberry.field(
        description="The target's global id where it is an object; people appear by pseudonym."
    )
    details: JSON = strawberry.field(description="Ids, roles, counts and codes; never content.")
    actor_is_you: bool = strawberry.field(description="Whether you did it (else a collaborator).")

    @classmethod
    def from_row(cls, row: TrailRow, *, mine: bool) -> AuditEntry:
        return cls(
            seq=row.seq,
            occurred_at=row.occurred_at,
            action=row.action,
            target_type=row.target_type,
            target_id=_target_ref(row.target_type, row.target_id),
            details=JSON(row.details),
            actor_is_you=mine,
        )


@strawberry.type
class AuditEntryEdge:
    cursor: str
    node: AuditEntry


@strawberry.type(description="A keyset-paginated audit trail, newest first.")
class AuditLogConnection:
    edges: list[AuditEntryEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[AuditEntry]:
        return [edge.node for edge in self.edges]

    @classmethod
    def build(cls, page: TrailPage) -> AuditLogConnection:
        edges, page_info = keyset_edges(
            page.rows,
            page.has_next,
            cursor=lambda r: trail_cursor(r.seq),
            edge=lambda c, r: AuditEntryEdge(
                cursor=c, node=AuditEntry.from_row(r, mine=page.actor_is_viewer(r))
            ),
        )
        return cls(edges=edges, page_info=page_info)
