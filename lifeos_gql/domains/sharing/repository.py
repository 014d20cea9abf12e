"""SQL of the sharing domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing.policy import Role

# A person may hold a direct grant and persona grants on one stream: their
# role is the strongest of them (grants never carry OWNER).
_ROLES = text(
    """
    SELECT id, role, owner_id FROM (
        SELECT s.id, s.owner_id,
               CASE WHEN s.owner_id = :user THEN 'OWNER' ELSE (
                   SELECT g.role FROM grants g
                   WHERE g.stream_id = s.id AND g.grantee_id = :user
                   ORDER BY g.role = 'COLLABORATOR' DESC LIMIT 1) END AS role
        FROM streams s
        WHERE s.id = ANY(:ids)
    ) AS r
    WHERE role IS NOT NULL
    """
)


@dataclass(frozen=True, slots=True)
class StreamAccess:
    role: Role
    owner_id: uuid.UUID


async def access_to_streams(
    uow: UnitOfWork, user_id: uuid.UUID, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, StreamAccess]:
    """The user's role on each stream and its owner; streams they can't see are absent."""
    if not stream_ids:
        return {}
    rows = await uow.execute(_ROLES, {"user": user_id, "ids": list(stream_ids)})
    return {row[0]: StreamAccess(Role(row[1]), row[2]) for row in rows}


async def candidate_streams(uow: UnitOfWork, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Streams the user owns or holds a grant on: candidates only; the
    policy decides what each role allows."""
    rows = await uow.execute(
        text(
            """
            SELECT id FROM streams WHERE owner_id = :user
            UNION SELECT stream_id FROM grants WHERE grantee_id = :user
            """
        ),
        {"user": user_id},
    )
    return [r[0] for r in rows]
