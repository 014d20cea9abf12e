"""Capture inputs, decrypted records and ingest outcomes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class AnalysisStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True, slots=True)
class CaptureDraft:
    """One item to capture, as a client sent it (not yet validated)."""

    stream_id: uuid.UUID
    occurred_at: datetime | None = None
    title: str | None = None
    content: str | None = None
    data: Any = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """A capture as the service hands it out: decrypted, never raw ciphertext.

    ``title``/``content``/``data`` are None when the owner's data key was
    destroyed (erasure): the row is unreadable by design.
    """

    id: uuid.UUID
    owner_id: uuid.UUID
    stream_id: uuid.UUID
    author_id: uuid.UUID | None
    occurred_at: datetime
    captured_at: datetime
    title: str | None
    content: str | None
    data: Any
    external_id: str | None
    size_bytes: int
    analysis_status: AnalysisStatus
    analysis_error: str | None


class IngestStatus(StrEnum):
    CREATED = "CREATED"
    DUPLICATE = "DUPLICATE"
    INVALID = "INVALID"


class DuplicateReason(StrEnum):
    EXTERNAL_ID = "EXTERNAL_ID"
    CONTENT_HASH = "CONTENT_HASH"


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to item ``index`` of a capture request."""

    index: int
    status: IngestStatus
    capture: CaptureRecord | None = None
    duplicate_reason: DuplicateReason | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureLimits:
    max_content_bytes: int
    max_payload_bytes: int
    max_batch_items: int
