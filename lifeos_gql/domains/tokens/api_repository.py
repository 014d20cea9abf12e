"""SQL of API tokens: the rows of ``api_tokens`` with no stream and the API prefix.

Ingest tokens live in the same table (``stream_id`` set); every statement
here is restricted to API tokens so one kind can never be read, listed or
revoked as the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text

from lifeos_gql.core.actor import Scope
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.tokens.models import ApiToken
from lifeos_gql.domains.tokens.secret import API_TOKEN_PREFIX

_IS_API = "t.stream_id IS NULL AND starts_with(t.prefix, :kind)"
_COLUMNS = (
    "t.id, t.owner_id, t.name, t.prefix, t.scopes, t.created_at, t.expires_at,"
    " t.revoked_at, t.last_used_at"
)


def _token(row: Any) -> ApiToken:
    fields = dict(row._mapping)
    fields["scopes"] = frozenset(Scope(s) for s in fields["scopes"])
    return ApiToken(**fields)


async def insert(
    uow: UnitOfWork,
    *,
    owner_id: uuid.UUID,
    name: str,
    token_hash: bytes,
    prefix: str,
    scopes: frozenset[Scope],
    expires_at: datetime | None,
) -> ApiToken:
    row = (
        await uow.execute(
            text(
                f"""
                INSERT INTO api_tokens AS t (owner_id, name, token_hash, prefix, scopes,
                                             expires_at)
                VALUES (:owner, :name, :hash, :prefix, :scopes, :expires)
                RETURNING {_COLUMNS}
                """
            ),
            {
                "owner": owner_id,
                "name": name,
                "hash": token_hash,
                "prefix": prefix,
                "scopes": sorted(s.value for s in scopes),
                "expires": expires_at,
            },
        )
    ).one()
    return _token(row)


async def get_by_hash(uow: UnitOfWork, token_hash: bytes) -> tuple[ApiToken, bytes] | None:
    """The token with this hash and the stored hash (for a constant-time compare)."""
    row = (
        await uow.execute(
            text(
                f"SELECT {_COLUMNS}, t.token_hash FROM api_tokens t"
                f" WHERE t.token_hash = :hash AND {_IS_API}"
            ),
            {"hash": token_hash, "kind": API_TOKEN_PREFIX},
        )
    ).first()
    if row is None:
        return None
    fields = dict(row._mapping)
    stored = bytes(fields.pop("token_hash"))
    fields["scopes"] = frozenset(Scope(s) for s in fields["scopes"])
    return ApiToken(**fields), stored


async def get_owned(uow: UnitOfWork, token_id: uuid.UUID, owner_id: uuid.UUID) -> ApiToken | None:
    row = (
        await uow.execute(
            text(
                f"SELECT {_COLUMNS} FROM api_tokens t"
                f" WHERE t.id = :id AND t.owner_id = :owner AND {_IS_API}"
            ),
            {"id": token_id, "owner": owner_id, "kind": API_TOKEN_PREFIX},
        )
    ).first()
    return _token(row) if row is not None else None


async def list_owned(uow: UnitOfWork, owner_id: uuid.UUID, limit: int) -> list[ApiToken]:
    """The owner's API tokens, newest first (revoked and expired ones included)."""
    rows = await uow.execute(
        text(
            f"SELECT {_COLUMNS} FROM api_tokens t WHERE t.owner_id = :owner AND {_IS_API}"
            " ORDER BY t.created_at DESC, t.id DESC LIMIT :limit"
        ),
        {"owner": owner_id, "kind": API_TOKEN_PREFIX, "limit": limit},
    )
    return [_token(row) for row in rows]
