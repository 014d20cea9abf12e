"""Share links and the read-only views they grant (never the link token or its hash)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MIN_EXPIRY = timedelta(seconds=60)
MAX_EXPIRY = timedelta(days=90)
DEFAULT_EXPIRY = timedelta(days=7)


class SharedNodeType(StrEnum):
    CAPTURE = "capture"
    INSIGHT = "insight"
    CONCEPT = "concept"


@dataclass(frozen=True, slots=True)
class ShareLink:
    """A row of ``share_links``: ``owner_id`` created it and the link sees what they see."""

    id: uuid.UUID
    owner_id: uuid.UUID
    node_type: SharedNodeType
    node_id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    def is_live(self, at: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > at


@dataclass(frozen=True, slots=True)
class SharedCapture:
    """A capture as a link shows it; ``content`` may be an excerpt (``truncated``)."""

    title: str | None
    content: str | None
    truncated: bool
    occurred_at: datetime
    stream_name: str | None


@dataclass(frozen=True, slots=True)
class SharedInsight:
    kind: str
    text: str | None
    producer: str
    generated_at: datetime
    sources: tuple[SharedCapture, ...]


@dataclass(frozen=True, slots=True)
class SharedConcept:
    name: str
    kind: str
    mentions: tuple[SharedCapture, ...]


SharedNode = SharedCapture | SharedInsight | SharedConcept
