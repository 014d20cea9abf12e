"""Use cases of the graph domain: build the graph from an analysis, batch reads.

``apply_analysis`` is the one writer the analysis job calls, inside its
unit of work. It is idempotent (a retried job adds nothing) and
re-analysis supersedes the capture's previous AI insights and edges
(``superseded_at``), never edges a user made.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.graph import building, repository, traversal_repository
from lifeos_gql.domains.graph.concepts import ResolvedConcept, concept_lock, resolve_concepts
from lifeos_gql.domains.graph.models import (
    ConceptRecord,
    EdgeRecord,
    EventKind,
    GraphChange,
    GraphChangeKind,
    NewEdge,
    NodeType,
    Relation,
)
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.insights.models import NewInsight
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.infra.llm.types import AnalysisResult

__all__ = [
    "GraphChange",
    "apply_analysis",
    "concepts_by_capture_ids",
    "concepts_by_ids",
    "edges_by_node_ids",
    "record_analysis_ended",
    "resolve_capture_concepts",
]


def _uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


async def apply_analysis(
    *,
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    capture: CaptureRecord,
    result: AnalysisResult,
    related: Sequence[tuple[uuid.UUID, float]],
    crypto: CaptureCrypto,
    concepts: Sequence[ResolvedConcept] | None = None,
) -> GraphChange:
    """Store one capture's analysis as insights, concepts, edges and events.

    ``concepts``: the mentions already resolved by :func:`resolve_capture_concepts`
    in an earlier, short transaction (the analysis job does that, so name
    locks are held for milliseconds, not for the whole graph write); when
    omitted they are resolved here.

    ``related`` are (earlier capture id, cosine similarity) pairs from the
    vector index; analyser relations whose ``to_ref`` is a capture id are
    linked too. Captures of other owners are ignored. A failed ``result``
    (``error`` set) is a caller bug: record the failure on the capture instead.
    Concept resolution locks the names and nodes it touches until the
    caller commits (see :mod:`.concepts`): call it last.
    """
    if result.error is not None:
        raise ValueError("apply_analysis needs a successful result")
    if capture.owner_id != owner_id:
        raise ValueError("capture belongs to another owner")
    at = utcnow()
    change = GraphChange()

    # Insights belong to this capture alone (its analysis run holds the
    # capture's claim): no lock needed.
    stored = await insights.replace_capture_insights(
        uow=uow,
        crypto=crypto,
        owner_id=owner_id,
        capture_id=capture.id,
        producer=result.producer,
        insights=[NewInsight(i.kind, i.text, i.confidence) for i in result.insights],
        at=at,
    )
    change.insights_added = [insight_id for insight_id, _ in stored.added]
    change.insights_superseded = list(stored.superseded)

    if concepts is None:
        concepts = await resolve_concepts(uow, owner_id, result.concepts)
    else:
        # Keep the nodes from being merged away while edges point at them; one
        # merged since they were resolved means resolving again, here.
        await repository.lock_graph_keys(
            uow, owner_id, [concept_lock(c.id) for c in concepts], shared=True
        )
        ids = [c.id for c in concepts]
        if await repository.live_concept_ids(uow, ids) != set(ids):
            concepts = await resolve_concepts(uow, owner_id, result.concepts)
    change.concept_ids = [c.id for c in concepts]
    change.concepts_created = [c.id for c in concepts if c.created]

    analyser_links = [
        (target, rel.relation, rel.weight)
        for rel in result.relations
        if (target := _uuid(rel.to_ref)) is not None
    ]
    candidates = [cid for cid, _ in related] + [t for t, _, _ in analyser_links]
    owned = await repository.owned_captures(uow, owner_id, candidates)
    shared = await repository.rare_concept_neighbours(
        uow, owner_id, capture.id, change.concept_ids, building.RARE_CONCEPT_MAX_CAPTURES
    )
    wanted: list[NewEdge] = [
        NewEdge(
            NodeType.CAPTURE,
            capture.id,
            NodeType.CONCEPT,
            c.id,
            Relation.MENTIONS,
            round(c.salience, 4),
            {"producer": result.producer},
        )
        for c in concepts
    ]
    wanted += [
        NewEdge(
            NodeType.INSIGHT,
            insight_id,
            NodeType.CAPTURE,
            capture.id,
            Relation.DERIVED_FROM,
            round(item.confidence, 4),
            {"producer": result.producer},
        )
        for insight_id, item in stored.added
    ]
    wanted += building.related_edges(
        capture.id,
        [(cid, score) for cid, score in related if cid in owned],
        shared,
        [link for link in analyser_links if link[0] in owned],
    )
    change.related_capture_ids = [e.to_id for e in wanted if e.relation is Relation.RELATED_TO]
    keep = {
        building.edge_key(insight_id, capture.id, Relation.DERIVED_FROM.value)
        for insight_id in stored.kept
    }

    current = await repository.current_capture_edges(uow, owner_id, capture.id)
    old_concepts = [r.to_id for r in current if r.relation == Relation.MENTIONS.value]
    supersede, insert = building.diff_edges(current, wanted, keep)
    # Supersede first: the unique index only covers current edges.
    await repository.supersede_edges(uow, supersede, at)
    await repository.insert_edges(uow, owner_id, insert, at)
    superseded_ids = set(supersede)
    added = Counter(e.relation.value for e in insert)
    gone = Counter(r.relation for r in current if r.id in superseded_ids)

    old_pairs, new_pairs = building.pairs(old_concepts), building.pairs(change.concept_ids)
    made, _ = await repository.add_co_occurrences(
        uow, owner_id, sorted(new_pairs - old_pairs), +1, at
    )
    _, dropped = await repository.add_co_occurrences(
        uow, owner_id, sorted(old_pairs - new_pairs), -1, at
    )
    added[Relation.CO_OCCURS.value] += made
    gone[Relation.CO_OCCURS.value] += dropped
    change.edges_added = {k: v for k, v in added.items() if v}
    change.edges_superseded = {k: v for k, v in gone.items() if v}

    events = _events(owner_id, capture, stored.added, change)
    await repository.append_events(uow, events)
    change.events = len(events)
    return change


def _events(
    owner_id: uuid.UUID,
    capture: CaptureRecord,
    added: Sequence[tuple[uuid.UUID, NewInsight]],
    change: GraphChange,
) -> list[dict[str, Any]]:
    """One INSIGHT_ADDED per new insight, one GRAPH_CHANGED if anything changed.

    Payloads carry ids and counts only (the events table is not encrypted).
    """
    streams = [capture.stream_id]
    rows: list[dict[str, Any]] = [
        {
            "owner_id": owner_id,
            "stream_ids": streams,
            "kind": EventKind.INSIGHT_ADDED.value,
            "node_type": NodeType.INSIGHT.value,
            "node_id": insight_id,
            "payload": {"captureIds": [str(capture.id)], "kind": item.kind},
        }
        for insight_id, item in added
    ]
    if change.changed:
        rows.append(
            {
                "owner_id": owner_id,
                "stream_ids": streams,
                "kind": EventKind.GRAPH_CHANGED.value,
                "node_type": NodeType.CAPTURE.value,
                "node_id": capture.id,
                "payload": {
                    "change": GraphChangeKind.ANALYSED.value,
                    # Nodes the change touched, for graphChanged(nodeId) filters.
                    "nodes": [
                        *([NodeType.CONCEPT.value, str(i)] for i in change.concept_ids),
                        *([NodeType.INSIGHT.value, str(i)] for i in change.insights_added),
                        *([NodeType.CAPTURE.value, str(i)] for i in change.related_capture_ids),
                    ],
                    "added": change.edges_added,
                    "superseded": change.edges_superseded,
                    "insightsAdded": [str(i) for i in change.insights_added],
                    "insightsSuperseded": [str(i) for i in change.insights_superseded],
                    "conceptIds": [str(i) for i in change.concept_ids],
                    "conceptsCreated": [str(i) for i in change.concepts_created],
                    "relatedCaptureIds": [str(i) for i in change.related_capture_ids],
                },
            }
        )
    return rows


def analysis_ended_event(
    owner_id: uuid.UUID,
    capture_id: uuid.UUID,
    stream_id: uuid.UUID,
    status: str,
    error: str | None,
) -> dict[str, Any]:
    """The ``CAPTURE_ANALYZED`` event row of a capture whose analysis ended."""
    return {
        "owner_id": owner_id,
        "stream_ids": [stream_id],
        "kind": EventKind.CAPTURE_ANALYZED.value,
        "node_type": NodeType.CAPTURE.value,
        "node_id": capture_id,
        "payload": {"status": status, "error": error},
    }


async def resolve_capture_concepts(
    *, uow: UnitOfWork, owner_id: uuid.UUID, result: AnalysisResult
) -> list[ResolvedConcept]:
    """Find or create the concept nodes of ``result``'s mentions; commit before the graph write.

    Idempotent (a retry finds the nodes it made), so committing it on its
    own is safe: at worst a node waits for its first edge until the retry.
    """
    return await resolve_concepts(uow, owner_id, result.concepts)


async def record_analysis_ended(
    *,
    uow: UnitOfWork,
    ended: Sequence[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    status: str,
    error: str | None,
) -> None:
    """Append ``CAPTURE_ANALYZED`` events for (capture, owner, stream) triples whose
    analysis ended with ``status`` (in the transaction that ends it)."""
    await repository.append_events(
        uow, [analysis_ended_event(o, c, s, status, error) for c, o, s in ended]
    )


# ---- batch getters for loaders --------------------------------------------


_concept = ConceptRecord.from_row


async def _visible_nodes(
    uow: UnitOfWork, actor: Actor, nodes: Sequence[tuple[str, uuid.UUID]]
) -> set[uuid.UUID]:
    """Node ids the actor may see: captures by stream, concepts through a readable
    mention, insights when every lineage capture is readable.

    Checked with ``EXISTS`` against the actor's readable streams: a hub
    concept with thousands of mentions costs one index probe, not a scan.
    """
    if not nodes:
        return set()
    streams = await sharing.readable_streams(uow=uow, actor=actor)
    return await traversal_repository.visible_nodes(uow, nodes, streams)


async def concepts_by_ids(
    *, uow: UnitOfWork, actor: Actor, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ConceptRecord]:
    """Batch getter for loaders: concepts seen through a capture the actor can read."""
    visible = await _visible_nodes(uow, actor, [(NodeType.CONCEPT.value, i) for i in ids])
    rows = await repository.concepts_get_many(uow, [i for i in ids if i in visible])
    return {row.id: _concept(row) for row in rows}


async def concepts_by_capture_ids(
    *, uow: UnitOfWork, actor: Actor, capture_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[ConceptRecord, float]]]:
    """Batch getter: each readable capture's current concepts with salience, strongest first."""
    visible = await _visible_nodes(uow, actor, [(NodeType.CAPTURE.value, i) for i in capture_ids])
    out: dict[uuid.UUID, list[tuple[ConceptRecord, float]]] = {cid: [] for cid in capture_ids}
    for row in await repository.concepts_of_captures(uow, [i for i in capture_ids if i in visible]):
        out[row.capture_id].append((_concept(row), float(row.salience)))
    return out


async def edges_by_node_ids(
    *,
    uow: UnitOfWork,
    actor: Actor,
    node_ids: Sequence[uuid.UUID],
    relation: str | None = None,
) -> dict[uuid.UUID, list[EdgeRecord]]:
    """Batch getter: current edges touching each node whose both ends the actor can see."""
    rows = await repository.edges_touching(uow, node_ids, relation)
    ends = {(r.from_type, r.from_id) for r in rows} | {(r.to_type, r.to_id) for r in rows}
    visible = await _visible_nodes(uow, actor, sorted(ends))
    out: dict[uuid.UUID, list[EdgeRecord]] = {nid: [] for nid in node_ids}
    for row in rows:
        if row.from_id not in visible or row.to_id not in visible:
            continue
        record = EdgeRecord(**row._mapping)
        for end in {row.from_id, row.to_id}:
            if end in out:
                out[end].append(record)
    return out
