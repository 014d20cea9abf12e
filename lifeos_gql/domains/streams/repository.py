"""All SQL of the streams domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.streams.models import Stream

_COLUMNS = "s.id, s.owner_id, s.name, s.source, s.settings, s.created_at, s.updated_at"


def _row(row: Any) -> Stream:
    return Stream(**row._mapping)


async def insert(
    uow: UnitOfWork, *, owner_id: uuid.UUID, name: str, source: str, settings: dict[str, Any]
) -> Stream:
    row = (
        await uow.execute(
            text(
                f"""
                INSERT INTO streams AS s (owner_id, name, source, settings)
                VALUES (:owner, :name, :source, CAST(:settings AS jsonb))
                RETURNING {_COLUMNS}
                """
            ),
            {
                "owner": owner_id,
                "name": name,
                "source": source,
                "settings": orjson.dumps(settings).decode(),
            },
        )
    ).one()
    return _row(row)


async def rename(uow: UnitOfWork, stream_id: uuid.UUID, name: str) -> Stream:
    row = (
        await uow.execute(
            text(
                f"""
                UPDATE streams AS s SET name = :name, updated_at = now()
                WHERE s.id = :id RETURNING {_COLUMNS}
                """
            ),
            {"id": stream_id, "name": name},
        )
    ).one()
    return _row(row)


async def delete(uow: UnitOfWork, stream_id: uuid.UUID) -> None:
    await uow.execute(text("DELETE FROM streams WHERE id = :id"), {"id": stream_id})


async def get_many(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Stream]:
    if not ids:
        return {}
    rows = await uow.execute(
        text(f"SELECT {_COLUMNS} FROM streams s WHERE s.id = ANY(:ids)"), {"ids": list(ids)}
    )
    return {row.id: _row(row) for row in rows}


async def page_visible_to(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Stream]:
    """Streams the user owns or was granted, oldest first, keyset-paginated."""
    rows = await uow.execute(
        text(
            f"""
            SELECT {_COLUMNS} FROM streams s
            WHERE (s.owner_id = :user OR EXISTS (
                    SELECT 1 FROM grants g WHERE g.stream_id = s.id AND g.grantee_id = :user))
              AND (CAST(:after_at AS timestamptz) IS NULL
                   OR (s.created_at, s.id) > (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
            ORDER BY s.created_at, s.id
            LIMIT :limit
            """
        ),
        {
            "user": user_id,
            "after_at": after[0] if after else None,
            "after_id": str(after[1]) if after else None,
            "limit": limit,
        },
    )
    return [_row(row) for row in rows]
