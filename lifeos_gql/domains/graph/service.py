"""Use cases of the graph domain: build the graph from an analysis, batch reads.

``apply_analyses`` (a batch) and ``apply_analysis`` (one capture) are the
writers the analysis job uses, inside its unit of work. They are
idempotent (a retried job adds nothing) and re-analysis supersedes the
capture's previous AI insights and edges (``superseded_at``), never edges
a user made.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.graph import audience, building, repository, traversal_repository
from lifeos_gql.domains.graph.audience import NodeReach
from lifeos_gql.domains.graph.concepts import ResolvedConcept, resolve_batch, resolve_concepts
from lifeos_gql.domains.graph.models import (
    ConceptRecord,
    EdgeRecord,
    EventKind,
    GraphChange,
    NodeType,
)
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.infra.llm.types import AnalysisResult

__all__ = [
    "GraphChange",
    "apply_analyses",
    "apply_analysis",
    "concepts_by_capture_ids",
    "concepts_by_ids",
    "edges_by_node_ids",
    "record_analysis_ended",
    "resolve_batch_concepts",
    "resolve_capture_concepts",
    "settle_analyses",
]


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
    in an earlier, short transaction (so name locks are held for
    milliseconds, not for the whole graph write); when omitted they are
    resolved here.

    ``related`` are (earlier capture id, cosine similarity) pairs from the
    vector index; analyser relations whose ``to_ref`` is a capture id are
    linked too. Captures of other owners are ignored. A failed ``result``
    (``error`` set) is a caller bug: record the failure on the capture instead.
    The analysis job stores whole batches with :func:`apply_analyses`.
    """
    written = await apply_analyses(
        uow=uow,
        owner_id=owner_id,
        analyses=[building.CaptureAnalysis(capture, result, related, concepts)],
        crypto=crypto,
    )
    await building.settle_analyses(uow, written)
    return written.changes[capture.id]


async def apply_analyses(
    *,
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    analyses: Sequence[building.CaptureAnalysis],
    crypto: CaptureCrypto,
) -> building.Written:
    """Store several captures' analyses in the caller's transaction, but for their
    shared counts and events: call :func:`settle_analyses` last (see
    :mod:`.building`)."""
    return await building.write_analyses(
        uow=uow, owner_id=owner_id, analyses=analyses, crypto=crypto
    )


async def settle_analyses(
    *, uow: UnitOfWork, written: building.Written, also: Sequence[dict[str, Any]] = ()
) -> None:
    """Add what :func:`apply_analyses` wrote to the counts shared with other
    analyses, and append its events and ``also`` (rows locked until commit)."""
    await building.settle_analyses(uow, written, also)


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


async def resolve_batch_concepts(
    *, uow: UnitOfWork, owner_id: uuid.UUID, results: Sequence[AnalysisResult]
) -> list[list[ResolvedConcept]]:
    """Each result's concept nodes, found or created in one go (see
    :func:`.concepts.resolve_batch`); commit before the graph write, which
    checks the nodes are still live."""
    return await resolve_batch(uow, owner_id, [r.concepts for r in results])


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


async def node_reach(*, uow: UnitOfWork, node_type: str, node_id: uuid.UUID) -> NodeReach:
    """The streams deciding who may see a node, read once for any number of readers
    (live events); run it on a connection that sees every row."""
    return await audience.node_reach(uow, node_type, node_id)
