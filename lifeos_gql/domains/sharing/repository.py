"""SQL of the sharing domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing.policy import Role

_ROLES = text(
    """
    SELECT s.id,
           CASE WHEN s.owner_id = :user THEN 'OWNER' ELSE g.role END AS role,
           s.owner_id
    FROM streams s
    LEFT JOIN grants g ON g.stream_id = s.id AND g.grantee_id = :user
    WHERE s.id = ANY(:ids) AND (s.owner_id = :user OR g.role IS NOT NULL)
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
