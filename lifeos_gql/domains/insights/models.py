"""Insight records as the service hands them out (decrypted)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class InsightRecord:
    """One insight; ``text`` is None when the owner's data key was destroyed."""

    id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    text: str | None
    confidence: float
    producer: str
    generated_at: datetime
    superseded_at: datetime | None
    capture_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class NewInsight:
    """An insight to store for one capture (plaintext; sealed by the service)."""

    kind: str
    text: str
    confidence: float
