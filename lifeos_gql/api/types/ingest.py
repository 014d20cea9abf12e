"""Inputs and payloads of the capture mutations."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import Enum
from typing import overload

import strawberry
from strawberry.scalars import JSON

from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.common import ItemError, SourceKind
from lifeos_gql.core.ids import decode_global_id
from lifeos_gql.domains.captures.models import CaptureDraft, IngestOutcome, IngestStatus
from lifeos_gql.domains.captures.models import DuplicateReason as DomainDuplicateReason


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
        # Dict lookups, not Enum(value) calls: a batch converts 1,000 of these.
        return cls(
            index=outcome.index,
            status=RESULT_STATUS[outcome.status],
            capture=Capture.from_record(outcome.capture) if outcome.capture else None,
            duplicate_reason=(
                RESULT_REASON[outcome.duplicate_reason] if outcome.duplicate_reason else None
            ),
            error=(
                ItemError(code=outcome.code, message=outcome.message or "", field=outcome.field)
                if outcome.code
                else None
            ),
        )


RESULT_STATUS = {status: CaptureStatus(status.value) for status in IngestStatus}
RESULT_REASON = {reason: DuplicateReason(reason.value) for reason in DomainDuplicateReason}


class CaptureResults(Sequence[CaptureResult]):
    """A batch's results, made into ``CaptureResult`` objects only when read.

    ``captureBatch``'s direct results path (``api.bulk``) reads the outcomes
    themselves; any other reader gets the objects, each built once.
    """

    def __init__(self, outcomes: Sequence[IngestOutcome]) -> None:
        self.outcomes = outcomes
        self._results: list[CaptureResult] | None = None

    def _all(self) -> list[CaptureResult]:
        if self._results is None:
            self._results = [CaptureResult.from_outcome(o) for o in self.outcomes]
        return self._results

    @overload
    def __getitem__(self, index: int) -> CaptureResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[CaptureResult]: ...

    def __getitem__(self, index: int | slice) -> CaptureResult | list[CaptureResult]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[CaptureResult]:
        return iter(self._all())


@strawberry.type(description="Per-item results of a batch, in input order.")
class CaptureBatchPayload:
    results: list[CaptureResult]
    created_count: int
    duplicate_count: int
    invalid_count: int


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID
