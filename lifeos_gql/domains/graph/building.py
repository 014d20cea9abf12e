"""Which AI edges one capture's analysis should have (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from lifeos_gql.domains.graph.models import NewEdge, NodeType, Relation

# A concept mentioned by more captures than this is too common to link them.
RARE_CONCEPT_MAX_CAPTURES = 5
MAX_RELATED = 20

EdgeKey = tuple[uuid.UUID, uuid.UUID, str]


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
