"""Row hashing of the audit chain (pure)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson


def row_hash(
    *,
    chain_id: str,
    seq: int,
    occurred_at: datetime,
    actor: str | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
    prev_hash: bytes | None,
) -> bytes:
    """SHA-256 over a canonical encoding of the row and its predecessor's hash."""
    canonical = orjson.dumps(
        [
            chain_id,
            seq,
            occurred_at.isoformat(timespec="microseconds"),
            actor,
            action,
            target_type,
            target_id,
            details,
            (prev_hash or b"").hex(),
        ],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).digest()
