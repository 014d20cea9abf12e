"""All SQL of the tokens domain (rows of ``api_tokens`` bound to a stream)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.tokens.models import IngestToken
from lifeos_gql.domains.tokens.secret import INGEST_TOKEN_PREFIX

# Ingest tokens share the table with personal access tokens; they are the
# rows bound to a stream whose display prefix says so.
_IS_INGEST = "t.stream_id IS NOT NULL AND starts_with(t.prefix, :kind)"
_COLUMNS = (
    "t.id, t.owner_id, t.stream_id, t.name, t.prefix, t.created_at, t.expires_at,"
    " t.revoked_at, t.last_used_at"
)
_STORED_SCOPES = ["write"]


def _token(row: Any) -> IngestToken:
    return IngestToken(**row._mapping)


async def insert(
    uow: UnitOfWork,
    *,
    owner_id: uuid.UUID,
    stream_id: uuid.UUID,
    name: str,
    token_hash: bytes,
    prefix: str,
    expires_at: datetime | None,
) -> IngestToken:
    row = (
        await uow.execute(
            text(
                f"""
                INSERT INTO api_tokens AS t (owner_id, stream_id, name, token_hash, prefix,
                                             scopes, expires_at)
                VALUES (:owner, :stream, :name, :hash, :prefix, :scopes, :expires)
                RETURNING {_COLUMNS}
                """
            ),
            {
                "owner": owner_id,
                "stream": stream_id,
                "name": name,
                "hash": token_hash,
                "prefix": prefix,
                "scopes": _STORED_SCOPES,
                "expires": expires_at,
            },
        )
    ).one()
    return _token(row)


async def get_by_hash(uow: UnitOfWork, token_hash: bytes) -> tuple[IngestToken, bytes] | None:
    """The token with this hash and the stored hash (for a constant-time compare)."""
    row = (
        await uow.execute(
            text(
                f"SELECT {_COLUMNS}, t.token_hash FROM api_tokens t"
                f" WHERE t.token_hash = :hash AND {_IS_INGEST}"
            ),
            {"hash": token_hash, "kind": INGEST_TOKEN_PREFIX},
        )
    ).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    stored = bytes(fields.pop("token_hash"))
    return IngestToken(**fields), stored


async def get(uow: UnitOfWork, token_id: uuid.UUID) -> IngestToken | None:
    row = (
        await uow.execute(
            text(f"SELECT {_COLUMNS} FROM api_tokens t WHERE t.id = :id AND {_IS_INGEST}"),
            {"id": token_id, "kind": INGEST_TOKEN_PREFIX},
        )
    ).first()
    return _token(row) if row is not None else None


async def revoke(uow: UnitOfWork, token_id: uuid.UUID, at: datetime) -> bool:
    """Mark revoked; False when it already was."""
    result = await uow.execute(
        text(
            "UPDATE api_tokens SET revoked_at = :at"
            " WHERE id = :id AND revoked_at IS NULL RETURNING id"
        ),
        {"id": token_id, "at": at},
    )
    return result.first() is not None


async def live_ids(uow: UnitOfWork, ids: Sequence[uuid.UUID], at: datetime) -> set[uuid.UUID]:
    """Those of ``ids`` (tokens of either kind) that are neither revoked, expired nor gone."""
    rows = await uow.execute(
        text(
            "SELECT id FROM api_tokens WHERE id = ANY(CAST(:ids AS uuid[]))"
            " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :at)"
        ),
        {"ids": list(ids), "at": at},
    )
    return {r[0] for r in rows}


async def touch(uow: UnitOfWork, token_id: uuid.UUID, at: datetime, every: timedelta) -> None:
    """Record a use, at most once per ``every`` (the condition keeps races cheap)."""
    await uow.execute(
        text(
            "UPDATE api_tokens SET last_used_at = :at WHERE id = :id"
            " AND (last_used_at IS NULL OR last_used_at <= :stale)"
        ),
        {"id": token_id, "at": at, "stale": at - every},
    )
