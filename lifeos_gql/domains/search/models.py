"""What a search asks for and what it answers (plain records, no GraphQL)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.graph.models import ConceptRecord
from lifeos_gql.domains.insights.models import InsightRecord


class SearchNodeType(StrEnum):
    CAPTURE = "capture"
    INSIGHT = "insight"
    CONCEPT = "concept"


class Signal(StrEnum):
    """Which ranking found a hit."""

    KEYWORD = "KEYWORD"  # full text over captures and insights
    NAME = "NAME"  # trigram similarity of concept names
    MEANING = "MEANING"  # vector similarity of the query's embedding


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Restrictions on hits; ``None`` means "any". Time applies to when things happened:
    a capture's ``occurred_at``, an insight's or concept's source captures."""

    stream_ids: tuple[uuid.UUID, ...] | None = None
    node_types: tuple[SearchNodeType, ...] | None = None
    insight_kinds: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def wants(self, node_type: SearchNodeType) -> bool:
        return self.node_types is None or node_type in self.node_types


@dataclass(frozen=True, slots=True, order=True)
class NodeKey:
    node_type: SearchNodeType
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class RankedKey:
    """A candidate's place in the fused ranking."""

    key: NodeKey
    score: float
    signals: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: exactly one of ``capture``/``insight``/``concept`` is set."""

    key: NodeKey
    score: float
    cursor: str
    signals: tuple[Signal, ...]
    snippet: str | None
    capture: CaptureRecord | None = None
    insight: InsightRecord | None = None
    concept: ConceptRecord | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[SearchHit] = field(default_factory=list)
    has_next: bool = False
