"""All SQL of the audit log (appending, paging a trail, streaming for verify)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit.chain import Head, StoredRow, dumps_json

# Appends to one chain are serialised (a transaction-scoped advisory lock)
# so seq and prev_hash are exact; the BEFORE INSERT trigger would refuse a
# racing append anyway. The function reads the head once the lock is held,
# with the definer's rights: under row-level security a collaborator appends
# to the stream owner's chain without being able to read it.
_LOCK_AND_HEAD = text("SELECT last_seq, last_hash FROM audit_lock_chain(:chain)")
_INSERT = text(
    """
    INSERT INTO audit_log (chain_id, seq, occurred_at, actor, action, target_type,
                           target_id, details, prev_hash, row_hash)
    VALUES (:chain, :seq, :at, :actor, :action, :ttype, :tid, CAST(:details AS jsonb),
            :prev, :hash)
    """
)
_PAGE = text(
    """
    SELECT seq, occurred_at, actor, action, target_type, target_id, details
    FROM audit_log
    WHERE chain_id = :chain AND (CAST(:before AS bigint) IS NULL OR seq < :before)
    ORDER BY seq DESC
    LIMIT :limit
    """
)
_COLUMNS = (
    "l.chain_id, l.seq, l.occurred_at, l.actor, l.action, l.target_type, l.target_id,"
    " l.details, l.prev_hash, l.row_hash, h.last_seq, h.last_hash"
)
# Both sides are read in chain_id order (their primary/unique indexes), so
# Postgres can merge them without sorting the whole log.
_ALL_ROWS = text(
    f"SELECT {_COLUMNS} FROM audit_log l LEFT JOIN audit_heads h ON h.chain_id = l.chain_id"
    " ORDER BY l.chain_id, l.seq"
)
_CHAIN_ROWS = text(
    f"SELECT {_COLUMNS} FROM audit_log l LEFT JOIN audit_heads h ON h.chain_id = l.chain_id"
    " WHERE l.chain_id = :chain ORDER BY l.seq"
)
_EMPTY_HEADS = text(
    """
    SELECT h.chain_id, h.last_seq, h.last_hash FROM audit_heads h
    WHERE (CAST(:chain AS text) IS NULL OR h.chain_id = :chain)
      AND NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.chain_id = h.chain_id)
    ORDER BY h.chain_id
    """
)


@dataclass(frozen=True, slots=True)
class NewRow:
    chain_id: str
    seq: int
    occurred_at: datetime
    actor: str | None
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    prev_hash: bytes | None
    row_hash: bytes


@dataclass(frozen=True, slots=True)
class TrailRow:
    """One row of a trail as an owner reads it."""

    seq: int
    occurred_at: datetime
    actor: str | None
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]


async def lock_chain(uow: UnitOfWork, chain: str) -> tuple[int, bytes] | None:
    """Hold ``chain``'s append lock until commit; its head (last seq, hash) if any."""
    row = (await uow.execute(_LOCK_AND_HEAD, {"chain": chain})).first()
    return (int(row.last_seq), bytes(row.last_hash)) if row else None


async def insert(uow: UnitOfWork, row: NewRow) -> None:
    await uow.execute(
        _INSERT,
        {
            "chain": row.chain_id,
            "seq": row.seq,
            "at": row.occurred_at,
            "actor": row.actor,
            "action": row.action,
            "ttype": row.target_type,
            "tid": row.target_id,
            "details": dumps_json(row.details).decode(),
            "prev": row.prev_hash,
            "hash": row.row_hash,
        },
    )


async def page(uow: UnitOfWork, chain: str, *, limit: int, before: int | None) -> list[TrailRow]:
    rows = await uow.execute(_PAGE, {"chain": chain, "before": before, "limit": limit})
    return [
        TrailRow(
            seq=int(r.seq),
            occurred_at=r.occurred_at,
            actor=r.actor,
            action=r.action,
            target_type=r.target_type,
            target_id=r.target_id,
            details=dict(r.details),
        )
        for r in rows
    ]


async def stream_rows(
    conn: AsyncConnection, chain: str | None, *, batch: int = 1000
) -> AsyncIterator[tuple[StoredRow, Head | None]]:
    """Every row (of one chain, or all) in (chain, seq) order, with its chain's head.

    A server-side cursor fetches ``batch`` rows at a time: memory stays
    bounded whatever the log's size.
    """
    statement = _CHAIN_ROWS if chain is not None else _ALL_ROWS
    result = await conn.stream(
        statement.execution_options(yield_per=batch), {"chain": chain} if chain else {}
    )
    async for r in result:
        head = Head(int(r.last_seq), bytes(r.last_hash)) if r.last_seq is not None else None
        yield (
            StoredRow(
                chain_id=r.chain_id,
                seq=int(r.seq),
                occurred_at=r.occurred_at,
                actor=r.actor,
                action=r.action,
                target_type=r.target_type,
                target_id=r.target_id,
                # Whatever JSON is stored: a tampered value must fail the hash, not crash.
                details=r.details,
                prev_hash=bytes(r.prev_hash) if r.prev_hash is not None else None,
                row_hash=bytes(r.row_hash),
            ),
            head,
        )


async def stream_empty_heads(
    conn: AsyncConnection, chain: str | None
) -> AsyncIterator[tuple[str, Head]]:
    """Heads whose chain has no row left at all."""
    result = await conn.stream(_EMPTY_HEADS.execution_options(yield_per=1000), {"chain": chain})
    async for r in result:
        yield r.chain_id, Head(int(r.last_seq), bytes(r.last_hash))
