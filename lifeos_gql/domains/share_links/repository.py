"""All SQL of the share-links domain (the ``share_links`` table only)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.share_links.models import SharedNodeType, ShareLink

_COLUMNS = (
    "l.id, l.owner_id, l.node_type, l.node_id, l.created_at, l.expires_at, l.revoked_at,"
    " l.last_used_at"
)


def _link(row: Any) -> ShareLink:
    fields = dict(row._mapping)
    fields["node_type"] = SharedNodeType(fields["node_type"])
    return ShareLink(**fields)


async def insert(
    uow: UnitOfWork,
    *,
    owner_id: uuid.UUID,
    node_type: SharedNodeType,
    node_id: uuid.UUID,
    token_hash: bytes,
    created_at: datetime,
    expires_at: datetime,
) -> ShareLink:
    row = (
        await uow.execute(
            text(
                f"""
                INSERT INTO share_links AS l (owner_id, node_type, node_id, token_hash,
                                              created_at, expires_at)
                VALUES (:owner, :type, :node, :hash, :created, :expires)
                RETURNING {_COLUMNS}
                """
            ),
            {
                "owner": owner_id,
                "type": node_type.value,
                "node": node_id,
                "hash": token_hash,
                "created": created_at,
                "expires": expires_at,
            },
        )
    ).one()
    return _link(row)


async def get_by_hash(uow: UnitOfWork, token_hash: bytes) -> tuple[ShareLink, bytes] | None:
    """The link with this hash and the stored hash (for a constant-time compare)."""
    row = (
        await uow.execute(
            text(f"SELECT {_COLUMNS}, l.token_hash FROM share_links l WHERE l.token_hash = :h"),
            {"h": token_hash},
        )
    ).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    stored = bytes(fields.pop("token_hash"))
    fields["node_type"] = SharedNodeType(fields["node_type"])
    return ShareLink(**fields), stored


async def get_owned(uow: UnitOfWork, link_id: uuid.UUID, owner_id: uuid.UUID) -> ShareLink | None:
    row = (
        await uow.execute(
            text(f"SELECT {_COLUMNS} FROM share_links l WHERE l.id = :id AND l.owner_id = :o"),
            {"id": link_id, "o": owner_id},
        )
    ).first()
    return _link(row) if row is not None else None


async def list_owned(uow: UnitOfWork, owner_id: uuid.UUID, limit: int) -> list[ShareLink]:
    """The owner's links, newest first (revoked and expired ones included)."""
    rows = await uow.execute(
        text(
            f"SELECT {_COLUMNS} FROM share_links l WHERE l.owner_id = :o"
            " ORDER BY l.created_at DESC, l.id DESC LIMIT :limit"
        ),
        {"o": owner_id, "limit": limit},
    )
    return [_link(row) for row in rows]


async def revoke(uow: UnitOfWork, link_id: uuid.UUID, at: datetime) -> bool:
    """Mark revoked; False when it already was."""
    result = await uow.execute(
        text(
            "UPDATE share_links SET revoked_at = :at"
            " WHERE id = :id AND revoked_at IS NULL RETURNING id"
        ),
        {"id": link_id, "at": at},
    )
    return result.first() is not None


async def touch(uow: UnitOfWork, link_id: uuid.UUID, at: datetime, every: timedelta) -> bool:
    """Record a use at most once per ``every``; True when this call recorded it."""
    result = await uow.execute(
        text(
            "UPDATE share_links SET last_used_at = :at WHERE id = :id"
            " AND (last_used_at IS NULL OR last_used_at <= :stale) RETURNING id"
        ),
        {"id": link_id, "at": at, "stale": at - every},
    )
    return result.first() is not None
