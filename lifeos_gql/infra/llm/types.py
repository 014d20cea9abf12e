"""What goes into and comes out of an analyser, and the ``Analyser`` protocol.

Every model is strict and frozen: a result that reaches the job layer has
been validated as a whole (bounded scores, known kinds, relations that start
at the item itself, no content next to an error), so nothing half-valid is
ever stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

InsightKind = Literal["key_insight", "mental_model", "summary", "pattern", "question"]
ConceptKind = Literal["person", "place", "organisation", "topic", "work", "event", "date"]

Score = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# Relation labels are graph edge types, so they stay machine-friendly.
RelationLabel = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")


class AnalysisItem(_Strict):
    """One captured item to analyse; ``ref`` is the caller's id for it (e.g. a capture id)."""

    ref: Ref
    title: str | None = None
    content: str
    occurred_at: datetime | None = None
    source_kind: str = "other"


class ExtractedInsight(_Strict):
    """A statement derived from the item; ``confidence`` is the producer's own estimate."""

    kind: InsightKind
    text: LongText
    confidence: Score


class ExtractedConcept(_Strict):
    """A person, place, organisation, topic, work, event or date the item is about."""

    name: ShortText
    kind: ConceptKind
    salience: Score
    aliases: list[ShortText] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _aliases_distinct(self) -> Self:
        folded = [alias.casefold() for alias in self.aliases]
        if len(set(folded)) != len(folded) or self.name.casefold() in folded:
            raise ValueError("aliases must be distinct and differ from the name")
        return self


class ExtractedRelation(_Strict):
    """An associative link from one analysed item to another analysed in the same call."""

    from_ref: Ref
    to_ref: Ref
    relation: RelationLabel
    evidence: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
    weight: Score

    @model_validator(mode="after")
    def _not_a_loop(self) -> Self:
        if self.from_ref == self.to_ref:
            raise ValueError("a relation must link two different items")
        return self


class AnalysisFailure(_Strict):
    """Why one item could not be analysed; ``transient`` means retrying may help."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")]
    message: str
    transient: bool


class AnalysisResult(_Strict):
    """The analysis of one item.

    ``truncated`` says that only the first ``analysed_chars`` characters of
    the (sanitised) content were analysed. A failed result carries no
    insights, concepts or relations.
    """

    ref: Ref
    insights: list[ExtractedInsight] = Field(default_factory=list)
    concepts: list[ExtractedConcept] = Field(default_factory=list)
    relations: list[ExtractedRelation] = Field(default_factory=list)
    producer: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    error: AnalysisFailure | None = None
    analysed_chars: Annotated[int, Field(ge=0)] = 0
    truncated: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.error is not None and (self.insights or self.concepts or self.relations):
            raise ValueError("a failed result carries no insights, concepts or relations")
        if any(rel.from_ref != self.ref for rel in self.relations):
            raise ValueError("relations of a result must start at its own ref")
        return self

    @classmethod
    def failed(cls, ref: str, producer: str, code: str, message: str, *, transient: bool) -> Self:
        """A result that records a per-item failure."""
        failure = AnalysisFailure(code=code, message=message, transient=transient)
        return cls(ref=ref, producer=producer, error=failure)


class TransientAnalysisError(Exception):
    """The whole call failed for a reason that may pass (rate limit, 5xx, timeout).

    The job layer retries the call with backoff; ``retry_after`` is the
    server's hint in seconds when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Analyser(Protocol):
    """Turns captured items into insights, concepts and relations.

    ``analyse`` returns one result per item, in input order. A bad item gives
    a result with ``error`` set, never an exception; only a transient failure
    of the whole call raises :class:`TransientAnalysisError`. Relations only
    link items of the same call.
    """

    @property
    def producer(self) -> str: ...

    async def analyse(self, items: Sequence[AnalysisItem]) -> list[AnalysisResult]: ...
