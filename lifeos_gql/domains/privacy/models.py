"""Exports and erasure receipts as the privacy services hand them out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ExportStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One ``exportMyData`` request; ``status`` is ``EXPIRED`` once past ``expires_at``."""

    id: uuid.UUID
    owner_id: uuid.UUID
    status: ExportStatus
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime
    size_bytes: int | None
    chunk_count: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class TableCount:
    """Rows of one table removed by an erasure."""

    table: str
    rows: int


@dataclass(frozen=True, slots=True)
class ErasureReceipt:
    """What an erasure removed: counts per table, sealed by a digest.

    ``digest`` is the hex SHA-256 of :func:`~.erasure_receipt.canonical_receipt`;
    the same digest is stored in the ``account.erased`` audit row, so a
    receipt can be checked against the audit trail later.
    """

    pseudonym: str
    erased_at: datetime
    counts: tuple[TableCount, ...]
    digest: str
    vector_index_purged: bool = True
