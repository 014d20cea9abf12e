"""All SQL of the captures domain (ciphertext in, ciphertext out)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

COLUMNS = (
    "c.id, c.owner_id, c.stream_id, c.author_id, c.occurred_at, c.captured_at, c.title_enc,"
    " c.content_enc, c.data_enc, c.external_id, c.size_bytes, c.analysis_status,"
    " c.analysis_error"
)


class NewCaptureRow(NamedTuple):
    """A capture to insert, its fields in the staging table's column order.

    A tuple, not a dataclass: a batch builds a thousand of them and COPY
    writes each one as it is.
    """

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
    # The analysis job that carries this capture, known before the insert
    # (see ``jobs.outbox.JobsAtInsert``); None leaves the link to later.
    analysis_job_id: int | None = None


# A per-connection staging table filled by binary COPY: sending 1,000 rows
# as array parameters made psycopg text-escape every bytea (about 90 ms a
# batch); COPY in binary format ships them as they are.
_STAGING = text(
    """
    CREATE TEMP TABLE IF NOT EXISTS capture_staging (
        id uuid, owner_id uuid, stream_id uuid, author_id uuid, occurred_at timestamptz,
        title_enc bytea, content_enc bytea, data_enc bytea, content_hash bytea,
        size_bytes integer, external_id text, analysis_job_id bigint
    ) ON COMMIT DELETE ROWS
    """
)
_COPY = (
    "COPY capture_staging (id, owner_id, stream_id, author_id, occurred_at, title_enc,"
    " content_enc, data_enc, content_hash, size_bytes, external_id, analysis_job_id)"
    " FROM STDIN (FORMAT BINARY)"
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
    "int8",
]
_INSERT_ALL = """
    INSERT INTO captures (id, owner_id, stream_id, author_id, occurred_at, title_enc,
                          content_enc, data_enc, content_hash, size_bytes, external_id,
                          analysis_job_id)
    SELECT id, owner_id, stream_id, author_id, occurred_at, title_enc, content_enc,
           data_enc, content_hash, size_bytes, external_id, analysis_job_id
    FROM capture_staging
"""
_INSERT_OPTIMISTIC = f"SAVEPOINT capture_insert; {_INSERT_ALL}; RELEASE SAVEPOINT capture_insert"
_ROLLBACK_OPTIMISTIC = "ROLLBACK TO SAVEPOINT capture_insert; RELEASE SAVEPOINT capture_insert"
_INSERT_NEW = text(_INSERT_ALL + " ON CONFLICT DO NOTHING RETURNING id")


async def insert_many(uow: UnitOfWork, rows: Sequence[NewCaptureRow]) -> set[uuid.UUID]:
    """Insert rows (binary COPY to staging, then one INSERT); return the ids inserted.

    Rows conflicting on (stream, external id) or (stream, content hash) are
    skipped, also when a concurrent transaction inserted them first.
    """
    if not rows:
        return set()
    await stage(uow, rows)
    return await insert_staged(uow, [r.id for r in rows])


async def insert_staged(uow: UnitOfWork, ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """The INSERT half of :func:`insert_many` (``ids``: the staged rows'); the ids inserted.

    New rows are the rule and duplicates the exception (retries), so the
    plain INSERT goes first, under a savepoint; only if a row is already
    there (unique violation: a retry, or a concurrent twin) does the batch
    go in again with ``ON CONFLICT DO NOTHING``. That clause costs about a
    sixth of the insert (a speculative insertion per row and unique index)
    on every batch otherwise.
    """
    driver = await _driver(uow)
    try:
        # One round trip (simple protocol, no parameters): the statement is on
        # its way as soon as this coroutine first waits, which lets the caller
        # overlap its own work with the insert.
        await driver.execute(_INSERT_OPTIMISTIC)
    except psycopg.errors.UniqueViolation:
        await driver.execute(_ROLLBACK_OPTIMISTIC)
    else:
        return set(ids)
    result = await uow.execute(_INSERT_NEW)
    return {row[0] for row in result}


async def _driver(uow: UnitOfWork) -> Any:
    raw = await uow.conn.get_raw_connection()
    return raw.driver_connection


async def stage(uow: UnitOfWork, rows: Sequence[NewCaptureRow]) -> None:
    """The COPY half of :func:`insert_many`: rows into this transaction's staging table."""
    await uow.execute(_STAGING)
    driver = await _driver(uow)
    async with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for row in rows:
            await copy.write_row(row)


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
