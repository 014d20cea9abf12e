"""SQL of grants: direct shares, pending invites, transfer and invite claims."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing.models import GrantRecord
from lifeos_gql.domains.sharing.policy import Role

_COLUMNS = """g.id, g.owner_id, g.stream_id, g.grantee_id, g.grantee_email, g.role,
              g.persona_share_id, ps.persona_id, g.created_at"""
_FROM = "grants g LEFT JOIN persona_shares ps ON ps.id = g.persona_share_id"
# After ``WITH g AS (INSERT/UPDATE ... RETURNING *)``: the statement's own
# snapshot of ``grants`` does not show the rows it just wrote.
_FROM_CHANGED = "g LEFT JOIN persona_shares ps ON ps.id = g.persona_share_id"


def _record(row: Any) -> GrantRecord:
    m = row._mapping
    return GrantRecord(
        id=m["id"],
        owner_id=m["owner_id"],
        stream_id=m["stream_id"],
        grantee_id=m["grantee_id"],
        grantee_email=m["grantee_email"],
        role=Role(m["role"]),
        persona_share_id=m["persona_share_id"],
        persona_id=m["persona_id"],
        created_at=m["created_at"],
    )


async def grants_for_streams(
    uow: UnitOfWork, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[GrantRecord]]:
    """Every grant and pending invite on each stream, oldest first (one statement)."""
    found: dict[uuid.UUID, list[GrantRecord]] = {sid: [] for sid in stream_ids}
    if not stream_ids:
        return found
    rows = await uow.execute(
        text(
            f"SELECT {_COLUMNS} FROM {_FROM} WHERE g.stream_id = ANY(:ids)"
            " ORDER BY g.created_at, g.id"
        ),
        {"ids": list(stream_ids)},
    )
    for row in rows:
        record = _record(row)
        found[record.stream_id].append(record)
    return found


async def get(uow: UnitOfWork, grant_id: uuid.UUID) -> GrantRecord | None:
    row = (
        await uow.execute(
            text(f"SELECT {_COLUMNS} FROM {_FROM} WHERE g.id = :id"), {"id": grant_id}
        )
    ).first()
    return _record(row) if row else None


async def lock_stream(uow: UnitOfWork, stream_id: uuid.UUID) -> uuid.UUID | None:
    """Lock the stream row (serialises changes to its grants); returns its owner."""
    row = (
        await uow.execute(
            text("SELECT owner_id FROM streams WHERE id = :id FOR UPDATE"), {"id": stream_id}
        )
    ).first()
    return row[0] if row else None


async def direct_grant(
    uow: UnitOfWork, stream_id: uuid.UUID, *, grantee_id: uuid.UUID | None, email: str | None
) -> GrantRecord | None:
    """The direct grant of a user, or the pending direct invite of an email."""
    params: dict[str, object]
    if grantee_id is not None:
        where, params = "g.grantee_id = :who", {"who": grantee_id}
    else:
        where, params = "g.grantee_id IS NULL AND lower(g.grantee_email) = :who", {"who": email}
    row = (
        await uow.execute(
            text(
                f"SELECT {_COLUMNS} FROM {_FROM} WHERE g.stream_id = :stream"
                f" AND g.persona_share_id IS NULL AND {where}"
            ),
            {"stream": stream_id, **params},
        )
    ).first()
    return _record(row) if row else None


async def insert_direct(
    uow: UnitOfWork,
    *,
    owner_id: uuid.UUID,
    stream_id: uuid.UUID,
    grantee_id: uuid.UUID | None,
    email: str | None,
    role: Role,
    created_by: uuid.UUID,
) -> GrantRecord:
    row = (
        await uow.execute(
            text(
                f"""
                WITH g AS (
                    INSERT INTO grants (owner_id, stream_id, grantee_id, grantee_email, role,
                                        created_by)
                    VALUES (:owner, :stream, :grantee, :email, :role, :by)
                    RETURNING *)
                SELECT {_COLUMNS} FROM {_FROM_CHANGED}
                """
            ),
            {
                "owner": owner_id,
                "stream": stream_id,
                "grantee": grantee_id,
                "email": email if grantee_id is None else None,
                "role": role.value,
                "by": created_by,
            },
        )
    ).one()
    return _record(row)


async def set_role(uow: UnitOfWork, grant_id: uuid.UUID, role: Role) -> GrantRecord:
    row = (
        await uow.execute(
            text(
                f"""
                WITH g AS (UPDATE grants SET role = :role WHERE id = :id RETURNING *)
                SELECT {_COLUMNS} FROM {_FROM_CHANGED}
                """
            ),
            {"id": grant_id, "role": role.value},
        )
    ).one()
    return _record(row)


async def delete(uow: UnitOfWork, grant_id: uuid.UUID) -> None:
    await uow.execute(text("DELETE FROM grants WHERE id = :id"), {"id": grant_id})


async def delete_user_grants(
    uow: UnitOfWork, stream_id: uuid.UUID, user_id: uuid.UUID
) -> list[uuid.UUID]:
    """Drop every grant (direct and persona) the user holds on the stream."""
    rows = await uow.execute(
        text("DELETE FROM grants WHERE stream_id = :s AND grantee_id = :u RETURNING id"),
        {"s": stream_id, "u": user_id},
    )
    return [r[0] for r in rows]


async def holds_grant(uow: UnitOfWork, stream_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    row = (
        await uow.execute(
            text("SELECT 1 FROM grants WHERE stream_id = :s AND grantee_id = :u LIMIT 1"),
            {"s": stream_id, "u": user_id},
        )
    ).first()
    return row is not None


async def transfer(
    uow: UnitOfWork, stream_id: uuid.UUID, *, old_owner: uuid.UUID, new_owner: uuid.UUID
) -> tuple[uuid.UUID, int]:
    """Make ``new_owner`` the owner; the old owner keeps a direct COLLABORATOR grant.

    The stream leaves the old owner's personas (a persona holds only streams
    its owner owns) and the grants those personas gave on it go with it; the
    new owner's own grants are dropped (owning outranks them). Returns the
    old owner's new grant id and how many persona grants were revoked.
    """
    persona_grants = await uow.execute(
        text("DELETE FROM grants WHERE stream_id = :s AND persona_share_id IS NOT NULL"),
        {"s": stream_id},
    )
    await uow.execute(text("DELETE FROM persona_streams WHERE stream_id = :s"), {"s": stream_id})
    await uow.execute(
        text("DELETE FROM grants WHERE stream_id = :s AND grantee_id = :new"),
        {"s": stream_id, "new": new_owner},
    )
    await uow.execute(
        text("UPDATE streams SET owner_id = :new, updated_at = now() WHERE id = :s"),
        {"s": stream_id, "new": new_owner},
    )
    await uow.execute(
        text("UPDATE grants SET owner_id = :new WHERE stream_id = :s"),
        {"s": stream_id, "new": new_owner},
    )
    kept = (
        await uow.execute(
            text(
                """
                INSERT INTO grants (owner_id, stream_id, grantee_id, role, created_by)
                VALUES (:new, :s, :old, 'COLLABORATOR', :old) RETURNING id
                """
            ),
            {"s": stream_id, "new": new_owner, "old": old_owner},
        )
    ).one()
    return kept[0], persona_grants.rowcount


_HAS_INVITES = text(
    """
    SELECT EXISTS (SELECT 1 FROM grants WHERE grantee_id IS NULL AND lower(grantee_email) = :email)
        OR EXISTS (SELECT 1 FROM persona_shares
                   WHERE grantee_id IS NULL AND lower(grantee_email) = :email)
    """
)
_STRONGER = "CASE WHEN 'COLLABORATOR' IN ({a}, {b}) THEN 'COLLABORATOR' ELSE 'VIEWER' END"


async def has_invites(uow: UnitOfWork, email: str) -> bool:
    """Whether any grant or persona share waits for ``email`` (the cheap common case)."""
    return bool((await uow.execute(_HAS_INVITES, {"email": email})).scalar_one())


async def claim_grant_invites(uow: UnitOfWork, user_id: uuid.UUID, email: str) -> list[GrantRecord]:
    """Hand the pending grants of ``email`` to ``user_id``; returns those claimed.

    An invite for a stream the user already holds the same kind of grant on
    (direct, or from the same persona share) merges into it with the stronger
    role; invites on the user's own streams are dropped.
    """
    params = {"user": user_id, "email": email}
    same = """g.grantee_id = :user AND g.stream_id = i.stream_id
              AND g.persona_share_id IS NOT DISTINCT FROM i.persona_share_id"""
    await uow.execute(
        text(
            f"""
            UPDATE grants g SET role = {_STRONGER.format(a="g.role", b="i.role")}
            FROM grants i
            WHERE i.grantee_id IS NULL AND lower(i.grantee_email) = :email AND {same}
            """
        ),
        params,
    )
    await uow.execute(
        text(
            f"""
            DELETE FROM grants i
            WHERE i.grantee_id IS NULL AND lower(i.grantee_email) = :email
              AND (EXISTS (SELECT 1 FROM grants g WHERE {same})
                   OR EXISTS (SELECT 1 FROM streams s
                              WHERE s.id = i.stream_id AND s.owner_id = :user))
            """
        ),
        params,
    )
    rows = await uow.execute(
        text(
            f"""
            WITH g AS (
                UPDATE grants SET grantee_id = :user, grantee_email = NULL
                WHERE grantee_id IS NULL AND lower(grantee_email) = :email
                RETURNING *)
            SELECT {_COLUMNS} FROM {_FROM_CHANGED}
            """
        ),
        params,
    )
    return [_record(r) for r in rows]


async def claim_persona_invites(
    uow: UnitOfWork, user_id: uuid.UUID, email: str
) -> list[tuple[uuid.UUID, uuid.UUID, Role]]:
    """Hand pending persona shares of ``email`` to ``user_id``: (share, owner, role) claimed.

    Runs before :func:`claim_grant_invites`: an invite share for a persona the
    user already holds a share of merges into it (its grants take the stronger
    role) and is deleted with the grants it produced.
    """
    params = {"user": user_id, "email": email}
    same = "h.grantee_id = :user AND h.persona_id = i.persona_id"
    merged = await uow.execute(
        text(
            f"""
            UPDATE persona_shares h SET role = {_STRONGER.format(a="h.role", b="i.role")}
            FROM persona_shares i
            WHERE i.grantee_id IS NULL AND lower(i.grantee_email) = :email AND {same}
            RETURNING h.id, h.role
            """
        ),
        params,
    )
    for share_id, role in list(merged):
        await uow.execute(
            text("UPDATE grants SET role = :role WHERE persona_share_id = :id"),
            {"id": share_id, "role": role},
        )
    await uow.execute(
        text(
            f"""
            DELETE FROM persona_shares i
            WHERE i.grantee_id IS NULL AND lower(i.grantee_email) = :email
              AND (EXISTS (SELECT 1 FROM persona_shares h WHERE {same})
                   OR i.owner_id = :user)
            """
        ),
        params,
    )
    rows = await uow.execute(
        text(
            """
            UPDATE persona_shares SET grantee_id = :user, grantee_email = NULL
            WHERE grantee_id IS NULL AND lower(grantee_email) = :email
            RETURNING id, owner_id, role
            """
        ),
        params,
    )
    return [(r[0], r[1], Role(r[2])) for r in rows]
