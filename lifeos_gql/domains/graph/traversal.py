"""Graph reads: neighbourhoods, shortest paths and concept lookup, visibility on every hop.

Strategy (bounded SQL, see :mod:`.traversal_repository`):

* the reader's readable streams are resolved once (2 statements);
* ``neighbors`` is one statement (``lifeos_neighborhood``): every hop takes
  the strongest ``per_node`` edges of every frontier node from the
  weight-ordered index and keeps the new nodes the reader may see, in
  Postgres. A hidden node is never expanded, so nothing reached only through
  hidden data shows up. The nodes' records are loaded only when the caller
  needs more than their ids;
* ``path`` is a bidirectional BFS: before each expansion one statement looks
  for an edge joining the two frontiers (so a link a fan-out cap skipped is
  still found), then the smaller frontier is expanded (one statement for the
  hop, one for visibility).

``as_of`` is system time: the edges recorded at or before it and not yet
superseded then. Visibility is always today's (nobody regains access to a
stream through time travel).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args

import orjson

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.errors import BadInput
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.captures import service as captures
from lifeos_gql.domains.captures.models import CaptureRecord
from lifeos_gql.domains.captures.service import CaptureCrypto
from lifeos_gql.domains.graph import repository
from lifeos_gql.domains.graph import traversal_repository as sql
from lifeos_gql.domains.graph.models import ConceptRecord, EdgeRecord, NodeType
from lifeos_gql.domains.graph.normalise import normalise_name
from lifeos_gql.domains.graph.traversal_repository import Direction
from lifeos_gql.domains.insights import service as insights
from lifeos_gql.domains.insights.models import InsightRecord
from lifeos_gql.domains.sharing import service as sharing
from lifeos_gql.infra.llm.types import ConceptKind

__all__ = [
    "Direction",
    "NodeRef",
    "Subgraph",
    "concept_by_name",
    "concepts_visible_through",
    "neighbors",
    "readable_streams",
    "shortest_path",
]

MAX_DEPTH = 3  # lifeos_neighborhood (migration 0014) unrolls this many hops
MAX_NODES = 200
MAX_PATH_DEPTH = 6
MIN_PER_NODE = 4  # a hop takes at least this many edges of every frontier node
PATH_PER_NODE = 32  # fan-out of one node during path search, strongest edges first
PATH_FRONTIER_CAP = 1000  # nodes added to one side's frontier per expansion
CONCEPT_KINDS: tuple[str, ...] = get_args(ConceptKind)


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A graph node by type (capture, insight, concept) and id."""

    type: str
    id: uuid.UUID


@dataclass(slots=True)
class Subgraph:
    """Visible nodes (start first, then by hop) and the edges between them."""

    nodes: list[NodeRef] = field(default_factory=list)
    edges: list[EdgeRecord] = field(default_factory=list)
    captures: dict[uuid.UUID, CaptureRecord] = field(default_factory=dict)
    insights: dict[uuid.UUID, InsightRecord] = field(default_factory=dict)
    concepts: dict[uuid.UUID, ConceptRecord] = field(default_factory=dict)


def _edge(row: Any) -> EdgeRecord:
    return EdgeRecord(**row._mapping)


def _ends(row: Any) -> tuple[NodeRef, NodeRef]:
    return NodeRef(row.from_type, row.from_id), NodeRef(row.to_type, row.to_id)


# Kept for callers of this module; the rule lives in the sharing service.
readable_streams = sharing.readable_streams


async def neighbors(
    *,
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    start: NodeRef,
    depth: int = 1,
    relations: Sequence[str] | None = None,
    direction: Direction = Direction.BOTH,
    first: int = 50,
    as_of: datetime | None = None,
    records: bool = True,
) -> Subgraph:
    """The visible neighbourhood of ``start`` up to ``depth`` hops and ``first`` nodes.

    Strongest edges first at every hop: a hop takes the ``per_node``
    strongest edges of every frontier node (enough to fill the budget even
    when many lead back into the subgraph or to hidden nodes, never a hub's
    whole edge list), walks them strongest first and keeps a far end when
    it is new, visible and the budget allows; an edge is kept when its far
    end is in the subgraph. A start the actor cannot see gives an empty
    subgraph, exactly like a missing one.

    ``records=False`` skips loading the nodes' records (``nodes`` then holds
    refs only): for callers that answer with ids, every node having passed
    the visibility rule in the traversal statement. Statements: 1 (actor) +
    2 (readable streams) + 1 (the traversal) + up to 6 for the records.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise BadInput(f"depth must be between 1 and {MAX_DEPTH}", field="depth")
    if not 1 <= first <= MAX_NODES:
        raise BadInput(f"first must be between 1 and {MAX_NODES}", field="first")
    streams = await readable_streams(uow=uow, actor=actor)
    rows = await sql.neighborhood(
        uow,
        (start.type, start.id),
        streams,
        depth=depth,
        direction=direction,
        relations=relations,
        as_of=as_of,
        first=first,
        min_per_node=MIN_PER_NODE,
    )
    nodes: list[NodeRef] = []
    edges: list[EdgeRecord] = []
    for row in rows:
        if row[0] == "node":  # kind, hop, pos, node_type, node_id, edge columns...
            nodes.append(NodeRef(row[3], row[4]))
        else:
            edges.append(_edge_of(row))
    if not records:
        return Subgraph(nodes=nodes, edges=edges)
    return await _load(uow, actor, crypto, nodes, edges)


def _edge_of(row: Any) -> EdgeRecord:
    """An 'edge' row of ``lifeos_neighborhood``: its columns from the sixth on, in
    :class:`EdgeRecord` order (unpacked by position: a few hundred rows per call)."""
    (
        edge_id,
        owner_id,
        from_type,
        from_id,
        to_type,
        to_id,
        relation,
        weight,
        evidence,
        producer,
        valid_from,
        valid_to,
        recorded_at,
        superseded_at,
    ) = row[5:]
    return EdgeRecord(
        edge_id,
        owner_id,
        from_type,
        from_id,
        to_type,
        to_id,
        relation,
        weight,
        orjson.loads(evidence) if evidence is not None else None,
        producer,
        valid_from,
        valid_to,
        recorded_at,
        superseded_at,
    )


async def _load(
    uow: UnitOfWork,
    actor: Actor,
    crypto: CaptureCrypto,
    nodes: list[NodeRef],
    edges: list[EdgeRecord],
) -> Subgraph:
    """Fetch the records of ``nodes``; a node gone meanwhile drops with its edges."""
    by_type: dict[str, list[uuid.UUID]] = {}
    for node in nodes:
        by_type.setdefault(node.type, []).append(node.id)
    out = Subgraph()
    if ids := by_type.get(NodeType.CAPTURE.value):
        out.captures = await captures.captures_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)
    if ids := by_type.get(NodeType.INSIGHT.value):
        out.insights = await insights.insights_by_ids(uow=uow, actor=actor, crypto=crypto, ids=ids)
    if ids := by_type.get(NodeType.CONCEPT.value):
        # Visibility was checked by the traversal, with the same rule.
        out.concepts = {r.id: _concept(r) for r in await repository.concepts_get_many(uow, ids)}
    present = set(out.captures) | set(out.insights) | set(out.concepts)
    out.nodes = [n for n in nodes if n.id in present]
    out.edges = [e for e in edges if e.from_id in present and e.to_id in present]
    return out


_concept = ConceptRecord.from_row


@dataclass(slots=True)
class _Side:
    """One end of the bidirectional search: parent links back to its root."""

    parents: dict[uuid.UUID, tuple[uuid.UUID, EdgeRecord] | None]
    frontier: list[uuid.UUID]
    depth: int = 0

    def chain(self, node: uuid.UUID) -> list[EdgeRecord]:
        """Edges from ``node`` back to this side's root."""
        out: list[EdgeRecord] = []
        link = self.parents[node]
        while link is not None:
            node, edge = link
            out.append(edge)
            link = self.parents[node]
        return out


def _join(
    source: _Side, target: _Side, a: uuid.UUID, b: uuid.UUID, edge: EdgeRecord | None
) -> list[EdgeRecord]:
    """Path source→a (+ edge a–b) →target, in walking order."""
    head = list(reversed(source.chain(a)))
    middle = [edge] if edge is not None else []
    return head + middle + target.chain(b)


async def shortest_path(
    *,
    uow: UnitOfWork,
    actor: Actor,
    source: NodeRef,
    target: NodeRef,
    max_depth: int = 4,
    relations: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> list[EdgeRecord] | None:
    """A shortest chain of visible edges (either direction) from ``source`` to ``target``.

    None when there is none within ``max_depth`` edges or either end is not
    visible. Exact unless a node on every shortest path is beyond a hub's
    fan-out cap (``PATH_PER_NODE`` strongest edges per node, ``PATH_FRONTIER_CAP``
    nodes per expansion); direct links between the two frontiers are always found.
    """
    if not 1 <= max_depth <= MAX_PATH_DEPTH:
        raise BadInput(f"maxDepth must be between 1 and {MAX_PATH_DEPTH}", field="maxDepth")
    streams = await readable_streams(uow=uow, actor=actor)
    ends = await sql.visible_nodes(
        uow, [(source.type, source.id), (target.type, target.id)], streams
    )
    if source.id not in ends or target.id not in ends:
        return None
    if source.id == target.id:
        return []
    a = _Side({source.id: None}, [source.id])
    b = _Side({target.id: None}, [target.id])
    while a.depth + b.depth + 1 <= max_depth:
        row = await sql.connecting_edge(
            uow, a.frontier, b.frontier, relations=relations, as_of=as_of
        )
        if row is not None:
            edge = _edge(row)
            left, right = (
                (edge.from_id, edge.to_id)
                if edge.from_id in a.parents
                else (edge.to_id, edge.from_id)
            )
            return _join(a, b, left, right, edge)
        if a.depth + b.depth + 2 > max_depth:
            return None
        side, other = (a, b) if len(a.frontier) <= len(b.frontier) else (b, a)
        met = await _expand(uow, side, other, streams, relations, as_of)
        if met is not None:
            return _join(a, b, met, met, None)
        if not side.frontier:
            return None
    return None


async def _expand(
    uow: UnitOfWork,
    side: _Side,
    other: _Side,
    streams: Sequence[uuid.UUID],
    relations: Sequence[str] | None,
    as_of: datetime | None,
) -> uuid.UUID | None:
    """Advance ``side`` one hop through visible nodes; the meeting node if it reaches ``other``."""
    rows = await sql.hop_edges(
        uow,
        side.frontier,
        direction=Direction.BOTH,
        relations=relations,
        as_of=as_of,
        per_node=PATH_PER_NODE,
        limit=PATH_FRONTIER_CAP,
    )
    new = {end for row in rows for end in _ends(row) if end.id not in side.parents}
    visible = await sql.visible_nodes(uow, [(n.type, n.id) for n in new], streams)
    frontier: list[uuid.UUID] = []
    for row in rows:
        edge = _edge(row)
        here, there = (
            (edge.from_id, edge.to_id)
            if edge.from_id in side.parents
            else (edge.to_id, edge.from_id)
        )
        if there in side.parents or there not in visible:
            continue
        side.parents[there] = (here, edge)
        if there in other.parents:
            return there
        frontier.append(there)
    side.frontier = frontier
    side.depth += 1
    return None


async def concepts_visible_through(
    uow: UnitOfWork, ids: Sequence[uuid.UUID], streams: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ConceptRecord]:
    """The concepts among ``ids`` visible through ``streams``, the reader's readable
    streams the caller already has: the rule of the concept loader in two
    statements instead of four."""
    if not ids:
        return {}
    visible = await sql.visible_nodes(uow, [(NodeType.CONCEPT.value, i) for i in ids], streams)
    rows = await repository.concepts_get_many(uow, [i for i in ids if i in visible])
    return {row.id: _concept(row) for row in rows}


async def concept_by_name(*, uow: UnitOfWork, actor: Actor, name: str) -> ConceptRecord | None:
    """The visible concept named ``name`` (or with it as an alias), normalised as the
    analysis normalises names; the actor's own concepts win over shared ones."""
    if actor.user_id is None:
        return None
    keys = sorted({k for kind in CONCEPT_KINDS if (k := normalise_name(name, kind))})
    if not keys:
        return None
    ids = await sql.concepts_by_names(uow, keys, actor.user_id, limit=20)
    streams = await readable_streams(uow=uow, actor=actor)
    visible = await sql.visible_nodes(uow, [(NodeType.CONCEPT.value, i) for i in ids], streams)
    for concept_id in ids:
        if concept_id in visible:
            rows = await repository.concepts_get_many(uow, [concept_id])
            return _concept(rows[0]) if rows else None
    return None
