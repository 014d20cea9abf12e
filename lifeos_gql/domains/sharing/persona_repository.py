"""SQL of personas, their streams and their shares (bundles of grants)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.sharing.models import PersonaRecord, PersonaShareRecord
from lifeos_gql.domains.sharing.policy import Role

_PERSONA = "p.id, p.owner_id, p.name, p.created_at, p.updated_at"
_SHARE = "s.id, s.owner_id, s.persona_id, s.grantee_id, s.grantee_email, s.role, s.created_at"


def _persona(row: Any) -> PersonaRecord:
    return PersonaRecord(**row._mapping)


def _share(row: Any) -> PersonaShareRecord:
    m = dict(row._mapping)
    m["role"] = Role(m["role"])
    return PersonaShareRecord(**m)


async def insert(uow: UnitOfWork, owner_id: uuid.UUID, name: str) -> PersonaRecord | None:
    """The new persona, or None when the owner already has one of that name."""
    row = (
        await uow.execute(
            text(
                f"""
                INSERT INTO personas AS p (owner_id, name) VALUES (:owner, :name)
                ON CONFLICT DO NOTHING RETURNING {_PERSONA}
                """
            ),
            {"owner": owner_id, "name": name},
        )
    ).first()
    return _persona(row) if row else None


async def rename(uow: UnitOfWork, persona_id: uuid.UUID, name: str) -> PersonaRecord | None:
    """The renamed persona, or None when the name is taken by another of the owner's."""
    taken = (
        await uow.execute(
            text(
                """
                SELECT 1 FROM personas o JOIN personas p ON p.owner_id = o.owner_id
                WHERE p.id = :id AND o.id <> p.id AND lower(o.name) = lower(:name)
                """
            ),
            {"id": persona_id, "name": name},
        )
    ).first()
    if taken:
        return None
    row = (
        await uow.execute(
            text(
                f"""
                UPDATE personas AS p SET name = :name, updated_at = now()
                WHERE p.id = :id RETURNING {_PERSONA}
                """
            ),
            {"id": persona_id, "name": name},
        )
    ).one()
    return _persona(row)


async def get_for_update(uow: UnitOfWork, persona_id: uuid.UUID) -> PersonaRecord | None:
    """The persona, locked: serialises changes to its streams and shares."""
    row = (
        await uow.execute(
            text(f"SELECT {_PERSONA} FROM personas p WHERE p.id = :id FOR UPDATE"),
            {"id": persona_id},
        )
    ).first()
    return _persona(row) if row else None


async def delete(uow: UnitOfWork, persona_id: uuid.UUID) -> int:
    """Delete the persona; its links, shares and their grants cascade. Returns grants revoked."""
    revoked = await count_share_grants(uow, persona_id)
    await uow.execute(text("DELETE FROM personas WHERE id = :id"), {"id": persona_id})
    return revoked


async def count_share_grants(uow: UnitOfWork, persona_id: uuid.UUID) -> int:
    row = (
        await uow.execute(
            text(
                """
                SELECT count(*) FROM grants g JOIN persona_shares s ON s.id = g.persona_share_id
                WHERE s.persona_id = :id
                """
            ),
            {"id": persona_id},
        )
    ).one()
    return int(row[0])


async def owned_by(uow: UnitOfWork, owner_id: uuid.UUID) -> list[PersonaRecord]:
    rows = await uow.execute(
        text(
            f"SELECT {_PERSONA} FROM personas p WHERE p.owner_id = :owner"
            " ORDER BY lower(p.name), p.id"
        ),
        {"owner": owner_id},
    )
    return [_persona(r) for r in rows]


async def get_many(
    uow: UnitOfWork, owner_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, PersonaRecord]:
    """Personas among ``ids`` that ``owner_id`` owns."""
    if not ids:
        return {}
    rows = await uow.execute(
        text(f"SELECT {_PERSONA} FROM personas p WHERE p.id = ANY(:ids) AND p.owner_id = :owner"),
        {"ids": list(ids), "owner": owner_id},
    )
    return {row.id: _persona(row) for row in rows}


async def stream_ids_of(
    uow: UnitOfWork, owner_id: uuid.UUID, persona_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each owned persona's streams, in the order they were added."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {pid: [] for pid in persona_ids}
    if not persona_ids:
        return found
    rows = await uow.execute(
        text(
            """
            SELECT ps.persona_id, ps.stream_id FROM persona_streams ps
            WHERE ps.persona_id = ANY(:ids) AND ps.owner_id = :owner
            ORDER BY ps.added_at, ps.stream_id
            """
        ),
        {"ids": list(persona_ids), "owner": owner_id},
    )
    for persona_id, stream_id in rows:
        found[persona_id].append(stream_id)
    return found


async def personas_of_streams(
    uow: UnitOfWork, owner_id: uuid.UUID, stream_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PersonaRecord]]:
    """The owner's personas holding each stream."""
    found: dict[uuid.UUID, list[PersonaRecord]] = {sid: [] for sid in stream_ids}
    if not stream_ids:
        return found
    rows = await uow.execute(
        text(
            f"""
            SELECT ps.stream_id AS in_stream, {_PERSONA}
            FROM persona_streams ps JOIN personas p ON p.id = ps.persona_id
            WHERE ps.stream_id = ANY(:ids) AND p.owner_id = :owner
            ORDER BY lower(p.name), p.id
            """
        ),
        {"ids": list(stream_ids), "owner": owner_id},
    )
    for row in rows:
        m = dict(row._mapping)
        found[m.pop("in_stream")].append(PersonaRecord(**m))
    return found


async def shares_of(
    uow: UnitOfWork, owner_id: uuid.UUID, persona_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PersonaShareRecord]]:
    found: dict[uuid.UUID, list[PersonaShareRecord]] = {pid: [] for pid in persona_ids}
    if not persona_ids:
        return found
    rows = await uow.execute(
        text(
            f"""
            SELECT {_SHARE} FROM persona_shares s
            WHERE s.persona_id = ANY(:ids) AND s.owner_id = :owner
            ORDER BY s.created_at, s.id
            """
        ),
        {"ids": list(persona_ids), "owner": owner_id},
    )
    for row in rows:
        share = _share(row)
        found[share.persona_id].append(share)
    return found


async def get_share(uow: UnitOfWork, share_id: uuid.UUID) -> PersonaShareRecord | None:
    row = (
        await uow.execute(
            text(f"SELECT {_SHARE} FROM persona_shares s WHERE s.id = :id"), {"id": share_id}
        )
    ).first()
    return _share(row) if row else None


async def find_share(
    uow: UnitOfWork, persona_id: uuid.UUID, *, grantee_id: uuid.UUID | None, email: str | None
) -> PersonaShareRecord | None:
    params: dict[str, object]
    if grantee_id is not None:
        where, params = "s.grantee_id = :who", {"who": grantee_id}
    else:
        where, params = "s.grantee_id IS NULL AND lower(s.grantee_email) = :who", {"who": email}
    row = (
        await uow.execute(
            text(f"SELECT {_SHARE} FROM persona_shares s WHERE s.persona_id = :p AND {where}"),
            {"p": persona_id, **params},
        )
    ).first()
    return _share(row) if row else None


async def insert_share(
    uow: UnitOfWork,
    *,
    persona: PersonaRecord,
    grantee_id: uuid.UUID | None,
    email: str | None,
    role: Role,
    created_by: uuid.UUID,
) -> PersonaShareRecord:
    row = (
        await uow.execute(
            text(
                f"""
                INSERT INTO persona_shares AS s (owner_id, persona_id, grantee_id, grantee_email,
                                                 role, created_by)
                VALUES (:owner, :persona, :grantee, :email, :role, :by)
                RETURNING {_SHARE}
                """
            ),
            {
                "owner": persona.owner_id,
                "persona": persona.id,
                "grantee": grantee_id,
                "email": email if grantee_id is None else None,
                "role": role.value,
                "by": created_by,
            },
        )
    ).one()
    return _share(row)


async def set_share_role(uow: UnitOfWork, share_id: uuid.UUID, role: Role) -> PersonaShareRecord:
    """Change a share's role and every grant it produced, together."""
    await uow.execute(
        text("UPDATE grants SET role = :role WHERE persona_share_id = :id"),
        {"id": share_id, "role": role.value},
    )
    row = (
        await uow.execute(
            text(f"UPDATE persona_shares s SET role = :role WHERE s.id = :id RETURNING {_SHARE}"),
            {"id": share_id, "role": role.value},
        )
    ).one()
    return _share(row)


async def delete_share(uow: UnitOfWork, share_id: uuid.UUID) -> int:
    """Delete the share; the grants it produced cascade. Returns how many."""
    revoked = (
        await uow.execute(
            text("SELECT count(*) FROM grants WHERE persona_share_id = :id"), {"id": share_id}
        )
    ).one()
    await uow.execute(text("DELETE FROM persona_shares WHERE id = :id"), {"id": share_id})
    return int(revoked[0])


async def grant_share_on_streams(uow: UnitOfWork, share: PersonaShareRecord) -> int:
    """Give the share's grantee its role on every stream of the persona."""
    result = await uow.execute(
        text(
            """
            INSERT INTO grants (owner_id, stream_id, grantee_id, grantee_email, role,
                                created_by, persona_share_id)
            SELECT ps.owner_id, ps.stream_id, :grantee, :email, :role, :owner, :share
            FROM persona_streams ps WHERE ps.persona_id = :persona
            """
        ),
        {
            "grantee": share.grantee_id,
            "email": share.grantee_email,
            "role": share.role.value,
            "owner": share.owner_id,
            "share": share.id,
            "persona": share.persona_id,
        },
    )
    return result.rowcount


async def add_stream(uow: UnitOfWork, persona: PersonaRecord, stream_id: uuid.UUID) -> int | None:
    """Put the stream in the persona and grant it to every share's grantee.

    Returns the grants added, or None when the stream was already there.
    """
    added = (
        await uow.execute(
            text(
                """
                INSERT INTO persona_streams (persona_id, stream_id, owner_id)
                VALUES (:persona, :stream, :owner)
                ON CONFLICT DO NOTHING RETURNING stream_id
                """
            ),
            {"persona": persona.id, "stream": stream_id, "owner": persona.owner_id},
        )
    ).first()
    if added is None:
        return None
    result = await uow.execute(
        text(
            """
            INSERT INTO grants (owner_id, stream_id, grantee_id, grantee_email, role,
                                created_by, persona_share_id)
            SELECT s.owner_id, :stream, s.grantee_id, s.grantee_email, s.role, s.owner_id, s.id
            FROM persona_shares s WHERE s.persona_id = :persona
            """
        ),
        {"persona": persona.id, "stream": stream_id},
    )
    return result.rowcount


async def remove_stream(uow: UnitOfWork, persona_id: uuid.UUID, stream_id: uuid.UUID) -> int | None:
    """Take the stream out and revoke the grants the persona gave on it.

    Direct grants and grants from other personas stay. Returns the grants
    revoked, or None when the stream was not in the persona.
    """
    removed = (
        await uow.execute(
            text(
                "DELETE FROM persona_streams WHERE persona_id = :p AND stream_id = :s"
                " RETURNING stream_id"
            ),
            {"p": persona_id, "s": stream_id},
        )
    ).first()
    if removed is None:
        return None
    result = await uow.execute(
        text(
            """
            DELETE FROM grants g USING persona_shares s
            WHERE g.persona_share_id = s.id AND s.persona_id = :p AND g.stream_id = :s
            """
        ),
        {"p": persona_id, "s": stream_id},
    )
    return result.rowcount
