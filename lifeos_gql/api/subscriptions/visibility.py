"""Turn an event row into the typed event one subscriber may see, or ``None``.

Runs with loaders made for this event and this subscriber identity (DESIGN
rule 3), so the sharing policy of queries applies as of now: an insight
only when every capture of its lineage is readable, a capture through its
stream, a concept through a readable capture.
"""

from __future__ import annotations

import uuid
from typing import Any

from lifeos_gql.api.loaders import Loaders
from lifeos_gql.api.subscriptions.cursor import encode_event_cursor
from lifeos_gql.api.subscriptions.types import (
    CaptureAnalyzedEvent,
    EventPayload,
    GraphChangeKind,
    GraphEvent,
    InsightEvent,
)
from lifeos_gql.api.types.capture import Capture
from lifeos_gql.api.types.common import AnalysisStatus
from lifeos_gql.api.types.concept import Concept
from lifeos_gql.api.types.insight import Insight
from lifeos_gql.api.types.node import Node
from lifeos_gql.domains.graph.models import EventKind, EventRecord, NodeType


async def load_node(loaders: Loaders, node_type: str, node_id: uuid.UUID) -> Node | None:
    """A capture, insight or concept through the visibility-applying loaders."""
    if node_type == NodeType.CAPTURE.value:
        capture = await loaders.capture.get(node_id)
        return Capture.from_record(capture) if capture else None
    if node_type == NodeType.INSIGHT.value:
        insight = await loaders.insight.get(node_id)
        return Insight.from_record(insight) if insight else None
    if node_type == NodeType.CONCEPT.value:
        concept = await loaders.concept.get(node_id)
        return Concept.from_record(concept) if concept else None
    return None


def _uuids(values: Any) -> list[uuid.UUID]:
    out: list[uuid.UUID] = []
    for value in values if isinstance(values, list) else []:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return out


def touched_nodes(event: EventRecord) -> list[tuple[str, uuid.UUID]]:
    """(type, id) of every node a GRAPH_CHANGED event names besides its own."""
    pairs: list[tuple[str, uuid.UUID]] = []
    for item in event.payload.get("nodes") or []:
        if isinstance(item, list) and len(item) == 2:
            ids = _uuids([item[1]])
            if ids:
                pairs.append((str(item[0]), ids[0]))
    pairs += [(NodeType.CONCEPT.value, i) for i in _uuids(event.payload.get("mergedConcepts"))]
    return [p for p in dict.fromkeys(pairs) if p[1] != event.node_id]


def change_kind(payload: dict[str, Any]) -> GraphChangeKind:
    """The payload's ``change`` (derived for rows written before it was recorded)."""
    named = payload.get("change")
    if isinstance(named, str) and named in GraphChangeKind.__members__:
        return GraphChangeKind[named]
    if "mergedConcepts" in payload:
        return GraphChangeKind.MERGED
    if "edgeIds" in payload:
        return GraphChangeKind.UNLINKED if "superseded" in payload else GraphChangeKind.LINKED
    return GraphChangeKind.ANALYSED


async def visible_event(event: EventRecord, loaders: Loaders) -> EventPayload | None:
    """The typed event if the loaders' actor may see its node now, else ``None``."""
    if event.node_id is None or event.node_type is None:
        return None
    cursor = encode_event_cursor(event.id)
    if event.kind == EventKind.INSIGHT_ADDED.value:
        insight = await loaders.insight.get(event.node_id)
        if insight is None:
            return None
        return InsightEvent(
            cursor=cursor, occurred_at=event.created_at, insight=Insight.from_record(insight)
        )
    if event.kind == EventKind.CAPTURE_ANALYZED.value:
        capture = await loaders.capture.get(event.node_id)
        if capture is None:
            return None
        status = str(event.payload.get("status") or "DONE")
        error = event.payload.get("error")
        return CaptureAnalyzedEvent(
            cursor=cursor,
            occurred_at=event.created_at,
            capture=Capture.from_record(capture),
            status=AnalysisStatus(status)
            if status in AnalysisStatus.__members__
            else AnalysisStatus.DONE,
            error_code=str(error) if error else None,
            _capture_id=event.node_id,
        )
    if event.kind == EventKind.GRAPH_CHANGED.value:
        node = await load_node(loaders, event.node_type, event.node_id)
        if node is None:
            return None
        return GraphEvent(
            cursor=cursor,
            occurred_at=event.created_at,
            change=change_kind(event.payload),
            node=node,
            _node_id=event.node_id,
            _touched=tuple(touched_nodes(event)),
            _edge_ids=frozenset(_uuids(event.payload.get("edgeIds"))),
        )
    return None
