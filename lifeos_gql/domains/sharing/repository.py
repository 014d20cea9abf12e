"""SQL of the sharing domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing.policy import Role

# A person may hold a direct grant and persona grants on one stream: their
# role is the strongest of them (grants never carry OWNER). One statement
# answers for many people at once (a live event's subscribers); a single
# reader is the one-element case, so the rule is written once.
_ROLES = text(
    """
    SELECT user_id, id, role, owner_id FROM (
        SELECT u.user_id, s.id, s.owner_id,
               CASE WHEN s.owner_id = u.user_id THEN 'OWNER' ELSE (
                   SELECT g.role FROM grants g
                   WHERE g.stream_id = s.id AND g.grantee_id = u.user_id
                   ORDER BY g.role = 'COLLABORATOR' DESC LIMIT 1) END AS role
        FROM unnest(CAST(:users AS uuid[])) AS u(user_id)
        CROSS JOIN streams s
        WHERE s.id = ANY(CAST(:ids AS uuid[]))
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
    access = await access_of_users(uow, [user_id], stream_ids)
    return {stream_id: a for (_, stream_id), a in access.items()}


async def access_of_users(
    uow: UnitOfWork, user_ids: Sequence[uuid.UUID], stream_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], StreamAccess]:
    """(user, stream) -> role and owner, for every pair where the user sees the stream."""
    if not stream_ids or not user_ids:
        return {}
    rows = await uow.execute(_ROLES, {"users": list(user_ids), "ids": list(stream_ids)})
    return {(row[0], row[1]): StreamAccess(Role(row[2]), row[3]) for row in rows}


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
