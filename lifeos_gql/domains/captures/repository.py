"""All SQL of the captures domain (ciphertext in, ciphertext out)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

COLUMNS = (
    "c.id, c.owner_id, c.stream_id, c.author_id, c.occurred_at, c.captured_at, c.title_enc,"
    " c.content_enc, c.data_enc, c.external_id, c.size_bytes, c.analysis_status,"
    " c.analysis_error"
)


@dataclass(frozen=True, slots=True)
class NewCaptureRow:
    id: uuid.UUID
    owner_id: uuid.UUID
    stream_id: uuid.UUID
    author_id: uuid.UUID
    occurred_at: datetime
    title_enc: bytes | None
    content_enc: bytes | None
    data_enc: bytes | None
    content_hash: bytes
    size_bytes: int
    external_id: str | None


# A per-connection staging table filled by binary COPY: sending 1,000 rows
# as array parameters made psycopg text-escape every bytea (about 90 ms a
# batch); COPY in binary format ships them as they are.
_STAGING = text(
    """
    CREATE TEMP TABLE IF NOT EXISTS capture_staging (
        id uuid, owner_id uuid, stream_id uuid, author_id uuid, occurred_at timestamptz,
        title_enc bytea, content_enc bytea, data_enc bytea, content_hash bytea,
        size_bytes integer, external_id text
    ) ON COMMIT DELETE ROWS
    """
)
_COPY = (
    "COPY capture_staging (id, owner_id, stream_id, author_id, occurred_at, title_enc,"
    " content_enc, data_enc, content_hash, size_bytes, external_id) FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = [
    "uuid",
    "uuid",
    "uuid",
    "uuid",
    "timestamptz",
    "bytea",
    "bytea",
    "bytea",
    "bytea",
    "int4",
    "text",
]
_INSERT = text(
    """
    INSERT INTO captures (id, owner_id, stream_id, author_id, occurred_at, title_enc,
                          content_enc, data_enc, content_hash, size_bytes, external_id)
    SELECT id, owner_id, stream_id, author_id, occurred_at, title_enc, content_enc,
           data_enc, content_hash, size_bytes, external_id
    FROM capture_staging
    ON CONFLICT DO NOTHING
    RETURNING id
    """
)


async def insert_many(uow: UnitOfWork, rows: Sequence[NewCaptureRow]) -> set[uuid.UUID]:
    """Insert rows (binary COPY to staging, then one INSERT); return the ids inserted.

    Rows conflicting on (stream, external id) or (stream, content hash) are
    skipped, also when a concurrent transaction inserted them first.
    """
    if not rows:
        return set()
    await uow.execute(_STAGING)
    raw = await uow.conn.get_raw_connection()
    driver: Any = raw.driver_connection
    async with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for r in rows:
            await copy.write_row(
                (
                    r.id,
                    r.owner_id,
                    r.stream_id,
                    r.author_id,
                    r.occurred_at,
                    r.title_enc,
                    r.content_enc,
                    r.data_enc,
                    r.content_hash,
                    r.size_bytes,
                    r.external_id,
                )
            )
    result = await uow.execute(_INSERT)
    return {row[0] for row in result}


_FIND_EXISTING = text(
    f"""
    SELECT {COLUMNS}, c.content_hash FROM captures c
    JOIN unnest(CAST(:stream AS uuid[]), CAST(:ext AS text[]), CAST(:hash AS bytea[]))
         AS k(stream_id, external_id, content_hash)
      ON c.stream_id = k.stream_id
     AND (c.external_id = k.external_id OR c.content_hash = k.content_hash)
    """
)


async def find_existing(
    uow: UnitOfWork, keys: Sequence[tuple[uuid.UUID, str | None, bytes]]
) -> list[Any]:
    """Rows matching any (stream, external id) or (stream, content hash) key."""
    if not keys:
        return []
    params = {
        "stream": [k[0] for k in keys],
        "ext": [k[1] for k in keys],
        "hash": [k[2] for k in keys],
    }
    return list(await uow.execute(_FIND_EXISTING, params))


async def get_many(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> list[Any]:
    if not ids:
        return []
    rows = await uow.execute(
        text(f"SELECT {COLUMNS} FROM captures c WHERE c.id = ANY(:ids)"), {"ids": list(ids)}
    )
    return list(rows)


async def page(
    uow: UnitOfWork,
    *,
    user_id: uuid.UUID,
    stream_ids: Sequence[uuid.UUID] | None,
    after: tuple[datetime, uuid.UUID] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[Any]:
    """Newest first, keyset on (occurred_at, id), over streams the user can read."""
    rows = await uow.execute(
        text(
            f"""
            SELECT {COLUMNS} FROM captures c
            WHERE c.stream_id IN (
                    SELECT s.id FROM streams s WHERE s.owner_id = :user
                    UNION
                    SELECT g.stream_id FROM grants g WHERE g.grantee_id = :user)
              AND (CAST(:streams AS uuid[]) IS NULL OR c.stream_id = ANY(CAST(:streams AS uuid[])))
              AND (CAST(:since AS timestamptz) IS NULL OR c.occurred_at >= CAST(:since AS timestamptz))
              AND (CAST(:until AS timestamptz) IS NULL OR c.occurred_at < CAST(:until AS timestamptz))
              AND (CAST(:after_at AS timestamptz) IS NULL
                   OR (c.occurred_at, c.id) < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
            ORDER BY c.occurred_at DESC, c.id DESC
            LIMIT :limit
            """
        ),
        {
            "user": user_id,
            "streams": list(stream_ids) if stream_ids is not None else None,
            "since": since,
            "until": until,
            "after_at": after[0] if after else None,
            "after_id": str(after[1]) if after else None,
            "limit": limit,
        },
    )
    return list(rows)


async def page_per_stream(
    uow: UnitOfWork,
    *,
    user_id: uuid.UUID,
    stream_ids: Sequence[uuid.UUID],
    after: tuple[datetime, uuid.UUID] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[Any]:
    """The first ``limit`` captures of each readable stream, in one statement.

    A lateral join runs the keyset page per stream, so listing captures
    under many streams costs one query, not one per stream.
    """
    rows = await uow.execute(
        text(
            f"""
            SELECT p.* FROM unnest(CAST(:streams AS uuid[])) AS s(id)
            CROSS JOIN LATERAL (
                SELECT {COLUMNS} FROM captures c
                WHERE c.stream_id = s.id
                  AND (CAST(:since AS timestamptz) IS NULL
                       OR c.occurred_at >= CAST(:since AS timestamptz))
                  AND (CAST(:until AS timestamptz) IS NULL
                       OR c.occurred_at < CAST(:until AS timestamptz))
                  AND (CAST(:after_at AS timestamptz) IS NULL
                       OR (c.occurred_at, c.id)
                          < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
                ORDER BY c.occurred_at DESC, c.id DESC
                LIMIT :limit
            ) AS p
            WHERE s.id IN (
                SELECT st.id FROM streams st WHERE st.owner_id = :user
                UNION
                SELECT g.stream_id FROM grants g WHERE g.grantee_id = :user)
            """
        ),
        {
            "user": user_id,
            "streams": list(stream_ids),
            "since": since,
            "until": until,
            "after_at": after[0] if after else None,
            "after_id": str(after[1]) if after else None,
            "limit": limit,
        },
    )
    return list(rows)


_IDEM_GET = text(
    "SELECT request_hash, response FROM idempotency_keys"
    " WHERE owner_id = :owner AND scope = :scope AND key = :key"
)
_IDEM_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 11))")
_IDEM_PUT = text(
    "INSERT INTO idempotency_keys (owner_id, scope, key, request_hash, response)"
    " VALUES (:owner, :scope, :key, :hash, CAST(:response AS jsonb))"
)


async def lock_idempotency_key(uow: UnitOfWork, owner_id: uuid.UUID, scope: str, key: str) -> None:
    await uow.execute(_IDEM_LOCK, {"lock": f"{owner_id}:{scope}:{key}"})


async def get_idempotent(
    uow: UnitOfWork, owner_id: uuid.UUID, scope: str, key: str
) -> tuple[bytes, Any] | None:
    row = (await uow.execute(_IDEM_GET, {"owner": owner_id, "scope": scope, "key": key})).first()
    return (bytes(row[0]), row[1]) if row else None


async def put_idempotent(
    uow: UnitOfWork, owner_id: uuid.UUID, scope: str, key: str, request_hash: bytes, response: str
) -> None:
    await uow.execute(
        _IDEM_PUT,
        {"owner": owner_id, "scope": scope, "key": key, "hash": request_hash, "response": response},
    )
