"""Row hashing and chain verification of the audit log (pure, no I/O).

Each chain (one per owner, plus ``system``) is a sequence ``seq = 1, 2, …``
where every row stores the hash of its predecessor (``prev_hash``) and its
own hash over a canonical encoding of its fields and ``prev_hash``. The
chain's head (last seq and hash, kept in ``audit_heads``) pins its end, so
removing the newest rows is as visible as removing one in the middle.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson


def _plain(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps_json(value: Any, *, sort_keys: bool = False) -> bytes:
    """JSON bytes of ``value`` (orjson; the stdlib for integers beyond 64 bits).

    jsonb hands numbers like 1e20 back as such integers, which orjson
    refuses; hashing them must neither crash ``verify`` nor differ between
    writing and verifying (which path is taken depends on the value only).
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    except TypeError:
        text = json.dumps(
            value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, default=_plain
        )
        return text.encode()


def canonical_details(value: Any) -> Any:
    """``value`` as jsonb will hand it back, so the hash written is the hash verified.

    A JSON round trip turns UUIDs and datetimes into strings; jsonb then
    stores numbers as decimals and prints a float like 1e20 as an integer,
    which Python reads back as an ``int``: such floats become ints here.
    """

    def walk(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer() and abs(item) >= 1e16:
            return int(item)
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(json.loads(dumps_json(value)))


def row_hash(
    *,
    chain_id: str,
    seq: int,
    occurred_at: datetime,
    actor: str | None,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: Any,
    prev_hash: bytes | None,
) -> bytes:
    """SHA-256 over a canonical encoding of the row and its predecessor's hash.

    The time is hashed in UTC: the database hands timestamps back in the
    session's time zone, which must not change the hash.
    """
    canonical = dumps_json(
        [
            chain_id,
            seq,
            occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor,
            action,
            target_type,
            target_id,
            details,
            (prev_hash or b"").hex(),
        ],
        sort_keys=True,
    )
    return hashlib.sha256(canonical).digest()


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One ``audit_log`` row as read back for verification."""

    chain_id: str
    seq: int
    occurred_at: datetime
    actor: str | None
    action: str
    target_type: str | None
    target_id: str | None
    details: Any
    prev_hash: bytes | None
    row_hash: bytes

    def recomputed_hash(self) -> bytes:
        return row_hash(
            chain_id=self.chain_id,
            seq=self.seq,
            occurred_at=self.occurred_at,
            actor=self.actor,
            action=self.action,
            target_type=self.target_type,
            target_id=self.target_id,
            details=self.details,
            prev_hash=self.prev_hash,
        )


@dataclass(frozen=True, slots=True)
class Head:
    """A chain's recorded end: the last seq and that row's hash."""

    last_seq: int
    last_hash: bytes


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on one chain; ``bad_seq`` is the first seq found wrong."""

    chain_id: str
    rows: int
    bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


class ChainVerifier:
    """Checks one chain's rows fed in ``seq`` order, in constant memory.

    It keeps only the previous row's seq and hash; after the first fault it
    only counts rows (the first bad seq is what an operator needs).
    """

    def __init__(self, chain_id: str, head: Head | None) -> None:
        self.chain_id = chain_id
        self._head = head
        self._rows = 0
        self._last_seq = 0
        self._last_hash: bytes | None = None
        self._bad_seq: int | None = None
        self._reason: str | None = None

    def _fail(self, seq: int, reason: str) -> None:
        if self._bad_seq is None:
            self._bad_seq, self._reason = seq, reason

    def feed(self, row: StoredRow) -> None:
        self._rows += 1
        if self._bad_seq is not None:
            return
        expected = self._last_seq + 1
        if row.seq > expected:
            self._fail(expected, f"row missing: seq {expected} absent, next is {row.seq}")
        elif row.seq < expected:
            self._fail(row.seq, f"seq {row.seq} out of order after {self._last_seq}")
        elif row.prev_hash != self._last_hash:
            self._fail(row.seq, "prev_hash does not match the previous row's hash")
        elif row.recomputed_hash() != row.row_hash:
            self._fail(row.seq, "row hash mismatch: the row was altered")
        self._last_seq, self._last_hash = row.seq, row.row_hash

    def finish(self) -> ChainReport:
        head = self._head
        if self._bad_seq is None:
            if head is None:
                self._fail(self._last_seq, "chain head missing from audit_heads")
            elif head.last_seq > self._last_seq:
                self._fail(
                    self._last_seq + 1,
                    f"rows missing at the end: head is at seq {head.last_seq}, "
                    f"last row at seq {self._last_seq}",
                )
            elif head.last_seq < self._last_seq:
                self._fail(head.last_seq + 1, f"rows beyond the head (seq {head.last_seq})")
            elif head.last_hash != self._last_hash:
                self._fail(head.last_seq, "head hash does not match the last row")
        return ChainReport(self.chain_id, self._rows, self._bad_seq, self._reason)
