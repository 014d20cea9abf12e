"""Inputs and payloads of the capture mutations."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.common import ItemError, SourceKind
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.captures.models import CaptureDraft, IngestOutcome


@strawberry.input(description="A new stream.")
class CreateStreamInput:
    name: str
    source: SourceKind


@strawberry.input(description="One item to capture.")
class CaptureInput:
    stream_id: strawberry.ID
    occurred_at: datetime | None = None
    title: str | None = None
    content: str | None = None
    data: JSON | None = None
    external_id: str | None = strawberry.field(
        default=None, description="Your id for the item; a retry with it never duplicates."
    )

    def to_draft(self) -> CaptureDraft:
        return CaptureDraft(
            stream_id=decode_global_id(str(self.stream_id), expected="Stream").id,
            occurred_at=self.occurred_at,
            title=self.title,
            content=self.content,
            data=self.data,
            external_id=self.external_id,
        )


@strawberry.enum
class CaptureStatus(Enum):
    CREATED = "CREATED"
    DUPLICATE = "DUPLICATE"
    INVALID = "INVALID"


@strawberry.enum
class DuplicateReason(Enum):
    EXTERNAL_ID = "EXTERNAL_ID"
    CONTENT_HASH = "CONTENT_HASH"


@strawberry.type(description="What happened to one item.")
class CaptureResult:
    index: int
    status: CaptureStatus
    capture: Capture | None
    duplicate_reason: DuplicateReason | None
    error: ItemError | None

    @classmethod
    def from_outcome(cls, outcome: IngestOutcome) -> CaptureResult:
        return cls(
            index=outcome.index,
            status=CaptureStatus(outcome.status.value),
            capture=Capture.from_record(outcome.capture) if outcome.capture else None,
            duplicate_reason=(
                DuplicateReason(outcome.duplicate_reason.value)
                if outcome.duplicate_reason
                else None
            ),
            error=(
                ItemError(code=outcome.code, message=outcome.message or "", field=outcome.field)
                if outcome.code
                else None
            ),
        )


@strawberry.type(description="Per-item results of a batch, in input order.")
class CaptureBatchPayload:
    results: list[CaptureResult]
    created_count: int
    duplicate_count: int
    invalid_count: int


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID
