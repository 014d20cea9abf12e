"""SQL of exports: the ``exports``/``export_chunks`` rows and the plaintext reads.

An export reads every table about one user. Encrypted rows (captures,
insights) are read and decrypted through their own domains' services; the
plaintext ones (streams, concepts, edges, grants, tokens, audit) are read
here as plain JSON-able dicts, keyset-paginated so memory stays bounded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.privacy.models import ExportRecord, ExportStatus

_EXPORT_COLUMNS = (
    "id, owner_id, status, created_at, ready_at, expires_at, size_bytes, chunk_count, error"
)


def _export(row: Any, now: datetime) -> ExportRecord:
    status = ExportStatus(row.status)
    if status is not ExportStatus.FAILED and row.expires_at <= now:
        status = ExportStatus.EXPIRED
    return ExportRecord(
        id=row.id,
        owner_id=row.owner_id,
        status=status,
        created_at=row.created_at,
        ready_at=row.ready_at,
        expires_at=row.expires_at,
        size_bytes=row.size_bytes,
        chunk_count=row.chunk_count,
        error=row.error,
    )


async def insert_export(
    uow: UnitOfWork, owner_id: uuid.UUID, *, now: datetime, expires_at: datetime
) -> ExportRecord:
    row = (
        await uow.execute(
            text(
                f"INSERT INTO exports (owner_id, created_at, expires_at)"
                f" VALUES (:owner, :now, :expires) RETURNING {_EXPORT_COLUMNS}"
            ),
            {"owner": owner_id, "now": now, "expires": expires_at},
        )
    ).one()
    return _export(row, now)


async def pending_export(
    uow: UnitOfWork, owner_id: uuid.UUID, *, now: datetime
) -> ExportRecord | None:
    """The owner's unexpired ``PENDING`` export, if any (newest)."""
    row = (
        await uow.execute(
            text(
                f"SELECT {_EXPORT_COLUMNS} FROM exports WHERE owner_id = :owner"
                " AND status = 'PENDING' AND expires_at > :now"
                " ORDER BY created_at DESC LIMIT 1"
            ),
            {"owner": owner_id, "now": now},
        )
    ).first()
    return _export(row, now) if row else None


async def get_export(
    uow: UnitOfWork, export_id: uuid.UUID, *, now: datetime
) -> ExportRecord | None:
    row = (
        await uow.execute(
            text(f"SELECT {_EXPORT_COLUMNS} FROM exports WHERE id = :id"), {"id": export_id}
        )
    ).first()
    return _export(row, now) if row else None


async def list_exports(
    uow: UnitOfWork, owner_ids: Sequence[uuid.UUID], *, now: datetime, limit: int
) -> dict[uuid.UUID, list[ExportRecord]]:
    """Each owner's newest exports (at most ``limit`` each), newest first."""
    if not owner_ids:
        return {}
    rows = await uow.execute(
        text(
            f"""
            SELECT {_EXPORT_COLUMNS} FROM (
                SELECT e.*, row_number() OVER (
                    PARTITION BY e.owner_id ORDER BY e.created_at DESC, e.id DESC) AS n
                FROM exports e WHERE e.owner_id = ANY(:owners)
            ) ranked WHERE n <= :limit ORDER BY owner_id, created_at DESC, id DESC
            """
        ),
        {"owners": list(owner_ids), "limit": limit},
    )
    out: dict[uuid.UUID, list[ExportRecord]] = {owner: [] for owner in owner_ids}
    for row in rows:
        out[row.owner_id].append(_export(row, now))
    return out


# ``:owner`` NULL: everyone's (the worker's sweep, on the privileged login).
_EXPIRED = (
    "SELECT id FROM exports WHERE expires_at <= :now"
    " AND (CAST(:owner AS uuid) IS NULL OR owner_id = CAST(:owner AS uuid))"
)


async def drop_expired(uow: UnitOfWork, owner_id: uuid.UUID | None, *, now: datetime) -> int:
    """Delete the archives of expired exports (the owner's, or with ``None``
    everyone's); the rows stay as ``EXPIRED``. Returns the exports newly expired."""
    params = {"owner": str(owner_id) if owner_id else None, "now": now}
    await uow.execute(text(f"DELETE FROM export_chunks WHERE export_id IN ({_EXPIRED})"), params)
    result = await uow.execute(
        text(
            f"UPDATE exports SET status = 'EXPIRED' WHERE id IN ({_EXPIRED})"
            " AND status IN ('PENDING', 'READY')"
        ),
        params,
    )
    return int(result.rowcount or 0)


async def lock_pending(uow: UnitOfWork, export_id: uuid.UUID) -> uuid.UUID | None:
    """Lock a ``PENDING`` export for building; returns its owner (None if not pending)."""
    row = (
        await uow.execute(
            text("SELECT owner_id FROM exports WHERE id = :id AND status = 'PENDING' FOR UPDATE"),
            {"id": export_id},
        )
    ).first()
    return row[0] if row else None


async def insert_chunk(
    uow: UnitOfWork, export_id: uuid.UUID, owner_id: uuid.UUID, seq: int, data: bytes
) -> None:
    await uow.execute(
        text(
            "INSERT INTO export_chunks (export_id, owner_id, seq, data_enc)"
            " VALUES (:id, :owner, :seq, :data)"
        ),
        {"id": export_id, "owner": owner_id, "seq": seq, "data": data},
    )


async def mark_ready(
    uow: UnitOfWork,
    export_id: uuid.UUID,
    *,
    now: datetime,
    size_bytes: int,
    chunk_count: int,
    sha256: bytes,
) -> None:
    await uow.execute(
        text(
            "UPDATE exports SET status = 'READY', ready_at = :now, size_bytes = :size,"
            " chunk_count = :chunks, sha256 = :sha WHERE id = :id AND status = 'PENDING'"
        ),
        {"id": export_id, "now": now, "size": size_bytes, "chunks": chunk_count, "sha": sha256},
    )


async def mark_failed(uow: UnitOfWork, export_id: uuid.UUID, code: str) -> None:
    await uow.execute(
        text("UPDATE exports SET status = 'FAILED', error = :code WHERE id = :id"),
        {"id": export_id, "code": code},
    )


async def get_chunk(uow: UnitOfWork, export_id: uuid.UUID, seq: int) -> bytes | None:
    row = (
        await uow.execute(
            text("SELECT data_enc FROM export_chunks WHERE export_id = :id AND seq = :seq"),
            {"id": export_id, "seq": seq},
        )
    ).first()
    return bytes(row[0]) if row else None


# ---- what an archive holds -------------------------------------------------------


async def profile(uow: UnitOfWork, user_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await uow.execute(
            text(
                "SELECT id, external_subject, email, name, created_at, updated_at"
                " FROM users WHERE id = :u"
            ),
            {"u": user_id},
        )
    ).first()
    return dict(row._mapping) if row else None


async def streams(uow: UnitOfWork, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Streams the user owns (role OWNER) or holds a grant on."""
    rows = await uow.execute(
        text(
            """
            SELECT s.id, s.name, s.source, s.settings, s.created_at, s.updated_at,
                   s.owner_id = :u AS owned,
                   CASE WHEN s.owner_id = :u THEN 'OWNER' ELSE g.role END AS role
            FROM streams s LEFT JOIN grants g ON g.stream_id = s.id AND g.grantee_id = :u
            WHERE s.owner_id = :u OR g.grantee_id = :u
            ORDER BY s.created_at, s.id
            """
        ),
        {"u": user_id},
    )
    return [dict(r._mapping) for r in rows]


async def capture_ids_page(
    uow: UnitOfWork, user_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    """Captures the user owns or wrote into someone else's stream, by id."""
    rows = await uow.execute(
        text(
            """
            SELECT id FROM captures
            WHERE (owner_id = :u OR author_id = :u)
              AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid))
            ORDER BY id LIMIT :limit
            """
        ),
        {"u": user_id, "after": str(after) if after else None, "limit": limit},
    )
    return [r[0] for r in rows]


async def insight_ids_page(
    uow: UnitOfWork, user_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    rows = await uow.execute(
        text(
            """
            SELECT id FROM insights
            WHERE owner_id = :u AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid))
            ORDER BY id LIMIT :limit
            """
        ),
        {"u": user_id, "after": str(after) if after else None, "limit": limit},
    )
    return [r[0] for r in rows]


_PAGED: dict[str, str] = {
    "concepts": (
        "SELECT id, kind, name, aliases, merged_into, created_at FROM concepts WHERE owner_id = :u"
    ),
    "edges": (
        "SELECT id, owner_id, from_type, from_id, to_type, to_id, relation, weight, evidence,"
        " producer, created_by, valid_from, valid_to, recorded_at, superseded_at FROM edges"
        " WHERE (owner_id = :u OR created_by = :u)"
    ),
    "grants_given": (
        "SELECT id, stream_id, grantee_id, grantee_email, role, created_at FROM grants"
        " WHERE owner_id = :u"
    ),
    "grants_received": (
        "SELECT id, stream_id, owner_id AS granted_by, role, created_at FROM grants"
        " WHERE grantee_id = :u AND owner_id <> :u"
    ),
    "api_tokens": (
        "SELECT id, name, prefix, scopes, stream_id, created_at, expires_at, revoked_at,"
        " last_used_at FROM api_tokens WHERE owner_id = :u"
    ),
    "personas": (
        "SELECT p.id, p.name, p.created_at,"
        " ARRAY(SELECT ps.stream_id FROM persona_streams ps WHERE ps.persona_id = p.id"
        " ORDER BY ps.stream_id) AS stream_ids,"
        " ARRAY(SELECT jsonb_build_object('granteeId', sh.grantee_id, 'invitedEmail',"
        " sh.grantee_email, 'role', sh.role) FROM persona_shares sh"
        " WHERE sh.persona_id = p.id ORDER BY sh.id) AS shares"
        " FROM personas p WHERE p.owner_id = :u"
    ),
    "share_links": (
        "SELECT id, node_type, node_id, created_at, expires_at, revoked_at, last_used_at"
        " FROM share_links WHERE owner_id = :u"
    ),
}


async def plain_page(
    uow: UnitOfWork, kind: str, user_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[dict[str, Any]]:
    """One keyset page (by id) of a plaintext table's rows about the user."""
    sql = (
        _PAGED[kind]
        + " AND (CAST(:after AS uuid) IS NULL OR id > CAST(:after AS uuid)) ORDER BY id LIMIT :limit"
    )
    rows = await uow.execute(
        text(sql), {"u": user_id, "after": str(after) if after else None, "limit": limit}
    )
    return [dict(r._mapping) for r in rows]


async def audit_page(
    uow: UnitOfWork, chain_id: str, *, after_seq: int, limit: int
) -> list[dict[str, Any]]:
    """One page of an audit chain in order (hashes as hex)."""
    rows = await uow.execute(
        text(
            """
            SELECT seq, occurred_at, actor, action, target_type, target_id, details,
                   encode(prev_hash, 'hex') AS prev_hash, encode(row_hash, 'hex') AS row_hash
            FROM audit_log WHERE chain_id = :chain AND seq > :after
            ORDER BY seq LIMIT :limit
            """
        ),
        {"chain": chain_id, "after": after_seq, "limit": limit},
    )
    return [dict(r._mapping) for r in rows]
