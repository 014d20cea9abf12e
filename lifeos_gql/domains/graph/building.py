"""Graph building: storing analyses as insights, concept edges and events.

:func:`write_analyses` then :func:`settle_analyses` are the one writer:
the analysis job calls them once for a whole batch of captures
(``service.apply_analysis`` for one), so a batch costs about a dozen
statements plus a few per capture for its insights, not a dozen per capture. The functions below it are pure: which
AI edges an analysis should have, and how to get there from the current ones.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifeos_gql.core.clock import utcnow
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.graph import repository
from lifeos_gql.domains.graph.concepts import ResolvedConcept, concept_lock, resolve_concepts
from lifeos_gql.domains.graph.models import (
    EventKind,
    GraphChange,
    GraphChangeKind,
    NewEdge,
    NodeType,
    Relation,
)
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.insights.models import NewInsight
from lifeos_gql.infra.llm.types import AnalysisResult

# A concept mentioned by more captures than this is too common to link them.
RARE_CONCEPT_MAX_CAPTURES = 5
MAX_RELATED = 20

EdgeKey = tuple[uuid.UUID, uuid.UUID, str]
Pair = tuple[uuid.UUID, uuid.UUID]

_CAPTURE_RELATIONS = (Relation.MENTIONS.value, Relation.DERIVED_FROM.value)


@dataclass(frozen=True, slots=True)
class CaptureAnalysis:
    """One capture's successful analysis, ready to store.

    ``related``: (capture id, cosine similarity) pairs from the vector index.
    ``concepts``: its mentions resolved in an earlier transaction
    (``concepts.resolve_batch``); None resolves them in the writer's.
    """

    capture: CaptureRecord
    result: AnalysisResult
    related: Sequence[tuple[uuid.UUID, float]] = ()
    concepts: Sequence[ResolvedConcept] | None = None


@dataclass(slots=True)
class Written:
    """Analyses stored by :func:`write_analyses`, their shared counts not yet added.

    Hand it to :func:`settle_analyses` in the same transaction; ``changes``
    is complete once that has run.
    """

    owner_id: uuid.UUID
    at: datetime
    changes: dict[uuid.UUID, GraphChange] = field(default_factory=dict)
    _batch: list[_Capture] = field(default_factory=list)
    settled: bool = False


@dataclass(slots=True)
class _Capture:
    analysis: CaptureAnalysis
    change: GraphChange
    stored: insights.InsightsChange
    concepts: Sequence[ResolvedConcept] = ()
    current: list[Any] = field(default_factory=list)
    old_pairs: set[Pair] = field(default_factory=set)


async def write_analyses(
    *,
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    analyses: Sequence[CaptureAnalysis],
    crypto: CaptureCrypto,
) -> Written:
    """Store analyses of distinct captures of one owner, but for what concurrent
    analyses share: call :func:`settle_analyses` last, in the same transaction.

    Idempotent (re-applying changes nothing) and re-analysis supersedes the
    captures' previous AI insights and edges, never edges a user made.
    Concept nodes stay share-locked until commit so no merge moves them
    under the new edges.
    """
    for a in analyses:
        if a.result.error is not None:
            raise ValueError("write_analyses needs successful results")
        if a.capture.owner_id != owner_id:
            raise ValueError("capture belongs to another owner")
    if len({a.capture.id for a in analyses}) != len(analyses):
        raise ValueError("one analysis per capture")
    at = utcnow()
    batch: list[_Capture] = []
    # Insights belong to their capture alone (its analysis run holds the
    # capture's claim): no lock needed.
    for a in analyses:
        stored = await insights.replace_capture_insights(
            uow=uow,
            crypto=crypto,
            owner_id=owner_id,
            capture_id=a.capture.id,
            producer=a.result.producer,
            insights=[NewInsight(i.kind, i.text, i.confidence) for i in a.result.insights],
            at=at,
        )
        change = GraphChange(
            insights_added=[insight_id for insight_id, _ in stored.added],
            insights_superseded=list(stored.superseded),
        )
        batch.append(_Capture(a, change, stored))
    await _concepts(uow, owner_id, batch)

    ids = [c.analysis.capture.id for c in batch]
    current = await repository.current_captures_edges(uow, owner_id, ids)
    by_id = {c.analysis.capture.id: c for c in batch}
    for row in current:
        by_id[row.capture_id].current.append(row)
    for c in batch:
        c.old_pairs = pairs(r.to_id for r in c.current if r.relation == Relation.MENTIONS.value)
    # MENTIONS first: the rare-concept links below then see every capture of
    # the batch, whichever order they come in.
    await _apply_diffs(uow, owner_id, batch, at, _CAPTURE_RELATIONS, _capture_edges)
    related = await _related(uow, owner_id, batch)
    await _apply_diffs(
        uow,
        owner_id,
        batch,
        at,
        (Relation.RELATED_TO.value,),
        lambda c: related[c.analysis.capture.id],
    )
    for c in batch:
        c.change.related_capture_ids = [e.to_id for e in related[c.analysis.capture.id]]
    return Written(owner_id, at, {c.analysis.capture.id: c.change for c in batch}, batch)


async def settle_analyses(
    uow: UnitOfWork, written: Written, also: Sequence[dict[str, Any]] = ()
) -> None:
    """Add the analyses' CO_OCCURS counts, then append their events and ``also``'s.

    The two steps shared with concurrent analyses, kept for last: the count
    rows and the event log stay locked until commit, so doing the rest of
    the transaction's work before this keeps that short.
    """
    if written.settled:
        raise ValueError("analyses already settled")
    written.settled = True
    await _co_occurrences(uow, written.owner_id, written._batch, written.at)
    events: list[dict[str, Any]] = []
    for c in written._batch:
        rows = analysis_events(written.owner_id, c.analysis.capture, c.stored.added, c.change)
        c.change.events = len(rows)
        events += rows
    await repository.append_events(uow, [*events, *also])


async def _concepts(uow: UnitOfWork, owner_id: uuid.UUID, batch: Sequence[_Capture]) -> None:
    """Each capture's concept nodes, share-locked until commit (merges lock them exclusively).

    A node merged away since it was resolved sends its capture's mentions
    through resolution again, here (the name and node locks then taken are
    also held until commit).
    """
    given = [c for c in batch if c.analysis.concepts is not None]
    ids = sorted({r.id for c in given for r in c.analysis.concepts or ()})
    await repository.lock_graph_keys(uow, owner_id, [concept_lock(i) for i in ids], shared=True)
    live = await repository.live_concept_ids(uow, ids)
    for c in batch:
        resolved = c.analysis.concepts
        if resolved is None or any(r.id not in live for r in resolved):
            resolved = await resolve_concepts(uow, owner_id, c.analysis.result.concepts)
        c.concepts = resolved
        c.change.concept_ids = [r.id for r in resolved]
        c.change.concepts_created = [r.id for r in resolved if r.created]


def _capture_edges(c: _Capture) -> list[NewEdge]:
    """A capture's MENTIONS and its new insights' DERIVED_FROM edges."""
    capture_id, producer = c.analysis.capture.id, c.analysis.result.producer
    wanted = [
        NewEdge(
            NodeType.CAPTURE,
            capture_id,
            NodeType.CONCEPT,
            r.id,
            Relation.MENTIONS,
            round(r.salience, 4),
            {"producer": producer},
        )
        for r in c.concepts
    ]
    wanted += [
        NewEdge(
            NodeType.INSIGHT,
            insight_id,
            NodeType.CAPTURE,
            capture_id,
            Relation.DERIVED_FROM,
            round(item.confidence, 4),
            {"producer": producer},
        )
        for insight_id, item in c.stored.added
    ]
    return wanted


async def _apply_diffs(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    batch: Sequence[_Capture],
    at: datetime,
    relations: Sequence[str],
    wanted_of: Callable[[_Capture], list[NewEdge]],
) -> None:
    """Make the batch's current edges of ``relations`` the wanted ones (two statements)."""
    supersede: list[uuid.UUID] = []
    insert: list[NewEdge] = []
    for c in batch:
        capture_id = c.analysis.capture.id
        keep = {
            edge_key(insight_id, capture_id, Relation.DERIVED_FROM.value)
            for insight_id in c.stored.kept
        }
        current = [r for r in c.current if r.relation in relations]
        gone, new = diff_edges(current, wanted_of(c), keep)
        supersede += gone
        insert += new
        gone_ids = set(gone)
        _count(c.change.edges_superseded, (r.relation for r in current if r.id in gone_ids))
        _count(c.change.edges_added, (e.relation.value for e in new))
    # Supersede first: the unique index only covers current edges.
    await repository.supersede_edges(uow, supersede, at)
    await repository.insert_edges(uow, owner_id, insert, at)


def _count(into: dict[str, int], relations: Iterable[str]) -> None:
    for relation, n in Counter(relations).items():
        into[relation] = into.get(relation, 0) + n


async def _related(
    uow: UnitOfWork, owner_id: uuid.UUID, batch: Sequence[_Capture]
) -> dict[uuid.UUID, list[NewEdge]]:
    """Each capture's RELATED_TO edges; links go to the owner's captures only."""
    links = {
        c.analysis.capture.id: [
            (target, rel.relation, rel.weight)
            for rel in c.analysis.result.relations
            if (target := _uuid(rel.to_ref)) is not None
        ]
        for c in batch
    }
    candidates = [cid for c in batch for cid, _ in c.analysis.related]
    candidates += [t for found in links.values() for t, _, _ in found]
    owned = await repository.owned_captures(uow, owner_id, candidates)
    shared = await repository.rare_concept_neighbours(
        uow,
        owner_id,
        [(c.analysis.capture.id, r.id) for c in batch for r in c.concepts],
        RARE_CONCEPT_MAX_CAPTURES,
    )
    return {
        (capture_id := c.analysis.capture.id): related_edges(
            capture_id,
            [(cid, score) for cid, score in c.analysis.related if cid in owned],
            [(other, concept, n) for cap, other, concept, n in shared if cap == capture_id],
            [link for link in links[capture_id] if link[0] in owned],
        )
        for c in batch
    }


async def _co_occurrences(
    uow: UnitOfWork, owner_id: uuid.UUID, batch: Sequence[_Capture], at: datetime
) -> None:
    """Add the batch's net change to each concept pair's CO_OCCURS count."""
    delta: Counter[Pair] = Counter()
    gained: dict[Pair, _Capture] = {}
    lost: dict[Pair, _Capture] = {}
    for c in batch:
        new_pairs = pairs(c.change.concept_ids)
        for pair in new_pairs - c.old_pairs:
            delta[pair] += 1
            gained.setdefault(pair, c)
        for pair in c.old_pairs - new_pairs:
            delta[pair] -= 1
            lost.setdefault(pair, c)
    made, dropped = await repository.add_co_occurrences(
        uow, owner_id, {p: d for p, d in delta.items() if d}, at
    )
    # Each edge made (or ended) is reported by the first capture that gained (lost) the pair.
    _count_pairs(made, gained, "edges_added")
    _count_pairs(dropped, lost, "edges_superseded")


def _count_pairs(found: Iterable[Pair], by: dict[Pair, _Capture], attr: str) -> None:
    for pair in found:
        c = by.get(pair)
        if c is not None:
            _count(getattr(c.change, attr), [Relation.CO_OCCURS.value])


def _uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def analysis_events(
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
                    "added": {k: v for k, v in change.edges_added.items() if v},
                    "superseded": {k: v for k, v in change.edges_superseded.items() if v},
                    "insightsAdded": [str(i) for i in change.insights_added],
                    "insightsSuperseded": [str(i) for i in change.insights_superseded],
                    "conceptIds": [str(i) for i in change.concept_ids],
                    "conceptsCreated": [str(i) for i in change.concepts_created],
                    "relatedCaptureIds": [str(i) for i in change.related_capture_ids],
                },
            }
        )
    return rows


# ---- pure: which edges an analysis should have ------------------------------


def edge_key(from_id: uuid.UUID, to_id: uuid.UUID, relation: str) -> EdgeKey:
    return (from_id, to_id, relation)


def related_edges(
    capture_id: uuid.UUID,
    similar: Iterable[tuple[uuid.UUID, float]],
    shared: Iterable[tuple[uuid.UUID, uuid.UUID, int]],
    analyser: Iterable[tuple[uuid.UUID, str, float]],
) -> list[NewEdge]:
    """RELATED_TO edges from similarity, shared rare concepts and analyser relations.

    One edge per related capture, whatever found it; weight is the strongest
    signal and evidence lists them all. A shared concept mentioned by ``n``
    captures contributes ``0.5 / (n - 1)`` (rarer counts more). Evidence
    holds ids and numbers only: it is stored unencrypted.
    """
    evidence: dict[uuid.UUID, dict[str, Any]] = {}
    weight: dict[uuid.UUID, float] = {}

    def bump(other: uuid.UUID, value: float) -> dict[str, Any]:
        weight[other] = max(weight.get(other, 0.0), min(1.0, value))
        return evidence.setdefault(other, {})

    for other, score in similar:
        if other != capture_id and score > 0:
            bump(other, score)["similarity"] = round(float(score), 4)
    concept_score: dict[uuid.UUID, float] = {}
    concepts: dict[uuid.UUID, set[str]] = {}
    for other, concept_id, n in shared:
        if other != capture_id and n >= 2:
            concept_score[other] = concept_score.get(other, 0.0) + 0.5 / (n - 1)
            concepts.setdefault(other, set()).add(str(concept_id))
    for other, score in concept_score.items():
        bump(other, score)["sharedConcepts"] = sorted(concepts[other])
    for other, label, score in analyser:
        if other != capture_id:
            labels = bump(other, score).setdefault("analyser", [])
            if label not in labels:
                labels.append(label)
                labels.sort()
    strongest = sorted(weight, key=lambda o: (-weight[o], str(o)))[:MAX_RELATED]
    return [
        NewEdge(
            NodeType.CAPTURE,
            capture_id,
            NodeType.CAPTURE,
            other,
            Relation.RELATED_TO,
            round(weight[other], 4),
            evidence[other],
        )
        for other in strongest
    ]


def pairs(concept_ids: Iterable[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Unordered concept pairs, smaller id first (CO_OCCURS is stored once per pair)."""
    ids = sorted(set(concept_ids))
    return {(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]}


def same_edge(row: Any, wanted: NewEdge) -> bool:
    """A current edge already says what ``wanted`` says (weight is a float4)."""
    return abs(float(row.weight) - wanted.weight) < 1e-4 and (row.evidence or {}) == wanted.evidence


def diff_edges(
    current: Sequence[Any], wanted: Sequence[NewEdge], keep: set[EdgeKey]
) -> tuple[list[uuid.UUID], list[NewEdge]]:
    """(ids to supersede, edges to insert) turning ``current`` into ``wanted``.

    Edges in ``keep`` stay as they are whatever their weight (DERIVED_FROM of
    an insight that is kept keeps the insight's original confidence).
    """
    by_key = {edge_key(w.from_id, w.to_id, w.relation.value): w for w in wanted}
    supersede: list[uuid.UUID] = []
    for row in current:
        key = edge_key(row.from_id, row.to_id, row.relation)
        if key in keep:
            continue
        match = by_key.get(key)
        if match is not None and same_edge(row, match):
            del by_key[key]
        else:
            supersede.append(row.id)
    return supersede, list(by_key.values())
