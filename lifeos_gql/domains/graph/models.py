"""Graph nodes and edges as the service hands them out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class NodeType(StrEnum):
    CAPTURE = "capture"
    INSIGHT = "insight"
    CONCEPT = "concept"


class Relation(StrEnum):
    """Relations the analysis writes; users may add edges with other labels."""

    MENTIONS = "MENTIONS"  # capture -> concept, weight = salience
    DERIVED_FROM = "DERIVED_FROM"  # insight -> capture, weight = confidence
    RELATED_TO = "RELATED_TO"  # capture -> earlier capture; symmetric in meaning
    CO_OCCURS = "CO_OCCURS"  # concept -> concept (smaller id first), weight = count


class Producer(StrEnum):
    AI = "AI"
    USER = "USER"


class EventKind(StrEnum):
    INSIGHT_ADDED = "INSIGHT_ADDED"
    GRAPH_CHANGED = "GRAPH_CHANGED"
    CAPTURE_ANALYZED = "CAPTURE_ANALYZED"


class GraphChangeKind(StrEnum):
    """What a ``GRAPH_CHANGED`` event records (payload ``change``)."""

    ANALYSED = "ANALYSED"
    LINKED = "LINKED"
    UNLINKED = "UNLINKED"
    MERGED = "MERGED"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row of the ``events`` log (payloads hold ids and codes only)."""

    id: int
    owner_id: uuid.UUID
    stream_ids: tuple[uuid.UUID, ...]
    kind: str
    node_type: str | None
    node_id: uuid.UUID | None
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConceptRecord:
    id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    name: str
    aliases: tuple[str, ...]
    merged_into: uuid.UUID | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ConceptRecord:
        return cls(
            id=row.id,
            owner_id=row.owner_id,
            kind=row.kind,
            name=row.name,
            aliases=tuple(row.aliases),
            merged_into=row.merged_into,
            created_at=row.created_at,
        )


@dataclass(frozen=True, slots=True)
class EdgeRecord:
    id: uuid.UUID
    owner_id: uuid.UUID
    from_type: str
    from_id: uuid.UUID
    to_type: str
    to_id: uuid.UUID
    relation: str
    weight: float
    evidence: Any
    producer: str
    valid_from: datetime | None
    valid_to: datetime | None
    recorded_at: datetime
    superseded_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewEdge:
    """An AI edge to make current (compared by ends and relation)."""

    from_type: NodeType
    from_id: uuid.UUID
    to_type: NodeType
    to_id: uuid.UUID
    relation: Relation
    weight: float
    evidence: dict[str, Any]


@dataclass(slots=True)
class GraphChange:
    """What one ``apply_analysis`` call changed (nothing when re-applied unchanged)."""

    insights_added: list[uuid.UUID] = field(default_factory=list)
    insights_superseded: list[uuid.UUID] = field(default_factory=list)
    concept_ids: list[uuid.UUID] = field(default_factory=list)
    concepts_created: list[uuid.UUID] = field(default_factory=list)
    related_capture_ids: list[uuid.UUID] = field(default_factory=list)
    edges_added: dict[str, int] = field(default_factory=dict)
    edges_superseded: dict[str, int] = field(default_factory=dict)
    events: int = 0

    @property
    def changed(self) -> bool:
        """True when the graph differs from before the call."""
        return bool(
            self.insights_added
            or self.insights_superseded
            or self.concepts_created
            or any(self.edges_added.values())
            or any(self.edges_superseded.values())
        )
