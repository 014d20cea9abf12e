"""All SQL of the insights domain (ciphertext in, ciphertext out)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

_COLUMNS = (
    "i.id, i.owner_id, i.kind, i.text_enc, i.confidence, i.producer, i.generated_at,"
    " i.superseded_at,"
    " ARRAY(SELECT s.capture_id FROM insight_sources s WHERE s.insight_id = i.id"
    " ORDER BY s.capture_id) AS capture_ids"
)


@dataclass(frozen=True, slots=True)
class InsightRow:
    id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    text_enc: bytes
    confidence: float
    producer: str
    generated_at: datetime
    fingerprint: bytes


async def current_for_capture(
    uow: UnitOfWork, owner_id: uuid.UUID, capture_id: uuid.UUID
) -> list[tuple[uuid.UUID, bytes | None]]:
    """(id, fingerprint) of the capture's current insights."""
    rows = await uow.execute(
        text(
            """
            SELECT i.id, i.fingerprint FROM insights i
            JOIN insight_sources s ON s.insight_id = i.id
            WHERE s.capture_id = :capture AND i.owner_id = :owner AND i.superseded_at IS NULL
            """
        ),
        {"capture": capture_id, "owner": owner_id},
    )
    return [(r[0], bytes(r[1]) if r[1] is not None else None) for r in rows]


async def supersede(uow: UnitOfWork, ids: Sequence[uuid.UUID], at: datetime) -> None:
    if ids:
        await uow.execute(
            text("UPDATE insights SET superseded_at = :at WHERE id = ANY(:ids)"),
            {"at": at, "ids": list(ids)},
        )


async def insert_for_capture(
    uow: UnitOfWork, rows: Sequence[InsightRow], capture_id: uuid.UUID
) -> None:
    """Insert insights and their lineage rows (one capture) in two statements."""
    if not rows:
        return
    await uow.execute(
        text(
            """
            INSERT INTO insights (id, owner_id, kind, text_enc, confidence, producer,
                                  generated_at, fingerprint)
            SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:owner AS uuid[]),
                                 CAST(:kind AS text[]), CAST(:enc AS bytea[]),
                                 CAST(:conf AS real[]), CAST(:producer AS text[]),
                                 CAST(:at AS timestamptz[]), CAST(:fp AS bytea[]))
            """
        ),
        {
            "id": [r.id for r in rows],
            "owner": [r.owner_id for r in rows],
            "kind": [r.kind for r in rows],
            "enc": [r.text_enc for r in rows],
            "conf": [r.confidence for r in rows],
            "producer": [r.producer for r in rows],
            "at": [r.generated_at for r in rows],
            "fp": [r.fingerprint for r in rows],
        },
    )
    await uow.execute(
        text(
            """
            INSERT INTO insight_sources (insight_id, capture_id, owner_id)
            SELECT unnest(CAST(:ids AS uuid[])), :capture, :owner
            """
        ),
        {"ids": [r.id for r in rows], "capture": capture_id, "owner": rows[0].owner_id},
    )


async def get_many(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> list[Any]:
    if not ids:
        return []
    rows = await uow.execute(
        text(f"SELECT {_COLUMNS} FROM insights i WHERE i.id = ANY(:ids)"), {"ids": list(ids)}
    )
    return list(rows)


async def current_for_captures(uow: UnitOfWork, capture_ids: Sequence[uuid.UUID]) -> list[Any]:
    """Current insights derived from any of the captures, newest first."""
    if not capture_ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT {_COLUMNS} FROM insights i
            WHERE i.superseded_at IS NULL
              AND i.id IN (SELECT s.insight_id FROM insight_sources s
                           WHERE s.capture_id = ANY(:ids))
            ORDER BY i.generated_at DESC, i.id DESC
            """
        ),
        {"ids": list(capture_ids)},
    )
    return list(rows)


async def streams_of_captures(
    uow: UnitOfWork, capture_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """capture id -> stream id, for lineage visibility checks."""
    if not capture_ids:
        return {}
    rows = await uow.execute(
        text("SELECT id, stream_id FROM captures WHERE id = ANY(:ids)"),
        {"ids": list(set(capture_ids))},
    )
    return {r[0]: r[1] for r in rows}


async def current_for_streams(
    uow: UnitOfWork,
    stream_ids: Sequence[uuid.UUID],
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """Per stream, its current insights with a source in it, newest first
    (keyset, at most ``limit`` each); rows carry ``stream_id``. One statement
    for any number of streams."""
    if not stream_ids:
        return []
    rows = await uow.execute(
        text(
            f"""
            SELECT k.stream_id, p.* FROM unnest(CAST(:streams AS uuid[])) AS k(stream_id)
            CROSS JOIN LATERAL (
                SELECT {_COLUMNS} FROM insights i
                WHERE i.superseded_at IS NULL
                  AND i.id IN (SELECT s.insight_id FROM insight_sources s
                               JOIN captures c ON c.id = s.capture_id
                               WHERE c.stream_id = k.stream_id)
                  AND (CAST(:after_at AS timestamptz) IS NULL
                       OR (i.generated_at, i.id)
                          < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
                ORDER BY i.generated_at DESC, i.id DESC
                LIMIT :limit
            ) AS p
            """
        ),
        {
            "streams": list(dict.fromkeys(stream_ids)),
            "after_at": after[0] if after else None,
            "after_id": str(after[1]) if after else None,
            "limit": limit,
        },
    )
    return list(rows)
