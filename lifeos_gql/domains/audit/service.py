"""Append audit rows inside the use case's transaction.

Each owner has its own chain (``chain_id``); a transaction-scoped advisory
lock on the chain serialises appends so ``seq`` and ``prev_hash`` are exact.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from lifeos_gql.core.clock import utcnow
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit.chain import row_hash

_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:chain, 7))")
_LAST = text(
    "SELECT seq, row_hash FROM audit_log WHERE chain_id = :chain ORDER BY seq DESC LIMIT 1"
)
_INSERT = text(
    """
    INSERT INTO audit_log (chain_id, seq, occurred_at, actor, action, target_type,
                           target_id, details, prev_hash, row_hash)
    VALUES (:chain, :seq, :at, :actor, :action, :ttype, :tid, CAST(:details AS jsonb),
            :prev, :hash)
    """
)


def chain_for(owner_id: uuid.UUID | None) -> str:
    return f"user:{owner_id}" if owner_id else "system"


async def record(
    *,
    uow: UnitOfWork,
    owner_id: uuid.UUID | None,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one audit row to ``owner_id``'s chain in the current transaction."""
    import orjson

    chain = chain_for(owner_id)
    await uow.execute(_LOCK, {"chain": chain})
    last = (await uow.execute(_LAST, {"chain": chain})).first()
    seq = (last[0] + 1) if last else 1
    prev = bytes(last[1]) if last else None
    at = utcnow()
    actor = str(uow.actor_id) if uow.actor_id else None
    body = details or {}
    digest = row_hash(
        chain_id=chain,
        seq=seq,
        occurred_at=at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=body,
        prev_hash=prev,
    )
    await uow.execute(
        _INSERT,
        {
            "chain": chain,
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "ttype": target_type,
            "tid": target_id,
            "details": orjson.dumps(body).decode(),
            "prev": prev,
            "hash": digest,
        },
    )
