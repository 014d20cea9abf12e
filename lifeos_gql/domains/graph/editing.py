"""User edits of the graph: link, unlink, merge concepts. History is never deleted.

Each use case runs in the caller's unit of work, takes the owner's graph lock
(the analysis writer takes it too), and commits its audit row and its
``GRAPH_CHANGED`` event with the change.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from typing import Any

from lifeos_gql.core.actor import Actor
from lifeos_gql.core.clock import utcnow
from lifeos_gql.core.errors import BadInput, Conflict, Forbidden, NotFound
from lifeos_gql.db.uow import UnitOfWork
from lifeos_gql.domains.audit import service as audit
from lifeos_gql.domains.graph import editing_repository as sql
from lifeos_gql.domains.graph import repository
from lifeos_gql.domains.graph import traversal_repository as reads
from lifeos_gql.domains.graph.concepts import MAX_ALIASES, concept_lock
from lifeos_gql.domains.graph.models import (
    ConceptRecord,
    EdgeRecord,
    EventKind,
    NodeType,
    Producer,
    Relation,
)
from lifeos_gql.domains.graph.normalise import fold, normalise_name
from lifeos_gql.domains.graph.traversal import NodeRef
from lifeos_gql.domains.sharing import policy
from lifeos_gql.domains.sharing import service as sharing

__all__ = ["link_nodes", "merge_concepts", "unlink_nodes"]

_RELATION = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
# Maintained by the analysis from its own evidence; a user edge would be overwritten.
_ANALYSIS_ONLY = frozenset({Relation.DERIVED_FROM.value, Relation.CO_OCCURS.value})
MAX_MERGE = 20


def _edge(row: Any) -> EdgeRecord:
    return EdgeRecord(**row._mapping)


def clean_relation(relation: str) -> str:
    """``"inspired by"`` -> ``"INSPIRED_BY"``; BadInput unless 1-64 letters, digits, ``_``."""
    label = re.sub(r"[\s-]+", "_", relation.strip()).upper()
    if not _RELATION.fullmatch(label):
        raise BadInput("relation must be 1-64 letters, digits or _", field="relation")
    if label in _ANALYSIS_ONLY:
        raise BadInput(f"{label} edges are made by analysis only", field="relation")
    return label


async def _require_editable(
    uow: UnitOfWork, actor: Actor, nodes: Sequence[NodeRef], action: str
) -> uuid.UUID:
    """The nodes' common owner, when the actor sees every node and may link each.

    NOT_FOUND when a node is not visible (like a missing one), FORBIDDEN when
    visible only through streams where the actor's role may not link.
    """
    actor.require_user_id()
    roles = await sharing.my_stream_roles(uow=uow, actor=actor)
    readable = [s for s, r in roles.items() if policy.can_read(r)]
    linkable = [s for s, r in roles.items() if policy.can_link(r)]
    pairs = [(n.type, n.id) for n in nodes]
    visible = await reads.visible_nodes(uow, pairs, readable)
    if any(n.id not in visible for n in nodes):
        raise NotFound("Node not found", field="id")
    editable = await reads.visible_nodes(uow, pairs, linkable)
    if any(n.id not in editable for n in nodes):
        raise Forbidden(f"Your role may not {action}")
    owners = await sql.node_owners(uow, pairs)
    distinct = {owners.get(n.id) for n in nodes}
    if len(distinct) != 1 or None in distinct:
        raise BadInput("Both nodes must belong to the same person's graph", field="to")
    owner = distinct.pop()
    assert owner is not None
    return owner


async def _event(
    uow: UnitOfWork,
    owner_id: uuid.UUID,
    node: NodeRef,
    ends: Sequence[NodeRef],
    payload: dict[str, Any],
) -> None:
    streams = await sql.node_stream_ids(
        uow,
        [n.id for n in ends if n.type == NodeType.CAPTURE.value],
        [n.id for n in ends if n.type == NodeType.INSIGHT.value],
    )
    await repository.append_events(
        uow,
        [
            {
                "owner_id": owner_id,
                "stream_ids": streams,
                "kind": EventKind.GRAPH_CHANGED.value,
                "node_type": node.type,
                "node_id": node.id,
                # Nodes the change touched, for graphChanged(nodeId) filters.
                "payload": {**payload, "nodes": [[n.type, str(n.id)] for n in ends]},
            }
        ],
    )


async def link_nodes(
    *,
    uow: UnitOfWork,
    actor: Actor,
    source: NodeRef,
    target: NodeRef,
    relation: str,
    weight: float = 1.0,
) -> EdgeRecord:
    """Add a USER edge ``source -relation-> target`` (collaborator or owner on both ends).

    Idempotent: an equal current user edge is returned as is; one with
    another weight is superseded by a new version (history kept).
    """
    label = clean_relation(relation)
    if not math.isfinite(weight) or not 0.0 <= weight <= 1.0:
        raise BadInput("weight must be between 0 and 1", field="weight")
    if source.id == target.id:
        raise BadInput("A node cannot be linked to itself", field="to")
    owner = await _require_editable(uow, actor, [source, target], "link nodes")
    await repository.lock_owner_graph(uow, owner)
    at = utcnow()
    existing = await sql.current_user_edge(uow, owner, source.id, target.id, label)
    if existing is not None and abs(float(existing.weight) - weight) < 1e-6:
        return _edge(existing)
    if existing is not None:
        await sql.supersede(uow, [existing.id], at)
    [row] = await sql.insert_edges(
        uow,
        owner,
        [
            {
                "from_type": source.type,
                "from_id": source.id,
                "to_type": target.type,
                "to_id": target.id,
                "relation": label,
                "weight": weight,
                "evidence": None,
                "producer": Producer.USER.value,
                "created_by": actor.user_id,
            }
        ],
        at,
    )
    edge = _edge(row)
    await audit.record(
        uow=uow,
        owner_id=owner,
        action="graph.link_nodes",
        target_type="Edge",
        target_id=str(edge.id),
        details={"relation": label, "from": str(source.id), "to": str(target.id)},
    )
    await _event(
        uow,
        owner,
        source,
        [source, target],
        {"change": "LINKED", "added": {label: 1}, "edgeIds": [str(edge.id)]},
    )
    return edge


async def unlink_nodes(*, uow: UnitOfWork, actor: Actor, edge_id: uuid.UUID) -> EdgeRecord:
    """Supersede a current edge (AI or user); the row stays for ``asOf`` queries.

    NOT_FOUND unless both ends are visible; CONFLICT when already superseded.
    """
    row = await sql.edge_for_update(uow, edge_id)
    if row is None:
        raise NotFound("Edge not found", field="edgeId")
    ends = [NodeRef(row.from_type, row.from_id), NodeRef(row.to_type, row.to_id)]
    owner = await _require_editable(uow, actor, ends, "unlink nodes")
    if row.superseded_at is not None:
        raise Conflict("Edge was already removed", field="edgeId")
    await repository.lock_owner_graph(uow, owner)
    [updated] = await sql.supersede(uow, [edge_id], utcnow())
    await audit.record(
        uow=uow,
        owner_id=owner,
        action="graph.unlink_nodes",
        target_type="Edge",
        target_id=str(edge_id),
        details={"relation": row.relation, "producer": row.producer},
    )
    await _event(
        uow,
        owner,
        ends[0],
        ends,
        {"change": "UNLINKED", "superseded": {row.relation: 1}, "edgeIds": [str(edge_id)]},
    )
    return _edge(updated)


def _merged_names(rows: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Survivor aliases: its own, then every other name and alias (case-insensitively once)."""
    survivor = rows[0]
    seen = {fold(survivor.name)}
    aliases: list[str] = []
    for name in [*survivor.aliases, *(n for r in rows[1:] for n in (r.name, *r.aliases))]:
        if fold(name) not in seen and len(aliases) < MAX_ALIASES:
            seen.add(fold(name))
            aliases.append(name)
    key = survivor.normalized_name
    norm = dict.fromkeys(
        k
        for k in (
            *survivor.normalized_aliases,
            *(n for r in rows[1:] for n in (r.normalized_name, *r.normalized_aliases)),
            *(normalise_name(a, survivor.kind) for a in aliases),
        )
        if k and k != key
    )
    return aliases, list(norm)


def _repointed(
    rows: Sequence[Any], survivor: uuid.UUID, absorbed: set[uuid.UUID]
) -> list[dict[str, Any]]:
    """Copies of ``rows`` with absorbed ends replaced; self-loops dropped."""
    out: list[dict[str, Any]] = []
    merged = (NodeType.CONCEPT.value, survivor)
    for row in rows:
        fe = merged if row.from_id in absorbed else (row.from_type, row.from_id)
        te = merged if row.to_id in absorbed else (row.to_type, row.to_id)
        if fe[1] == te[1]:
            continue
        if row.relation == Relation.CO_OCCURS.value and te[1] < fe[1]:
            fe, te = te, fe  # stored once per pair, smaller id first
        (ft, f), (tt, t) = fe, te
        out.append(
            {
                "from_type": ft,
                "from_id": f,
                "to_type": tt,
                "to_id": t,
                "relation": row.relation,
                "weight": float(row.weight),
                "evidence": row.evidence,
                "producer": row.producer,
                "valid_from": row.valid_from,
                "valid_to": row.valid_to,
            }
        )
    return out


def _combine(edges: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One current AI edge per (from, to, relation): counts add up, other weights keep the max."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    users: list[dict[str, Any]] = []
    for edge in edges:
        if edge["producer"] != Producer.AI.value:
            users.append(edge)
            continue
        key = (edge["from_id"], edge["to_id"], edge["relation"])
        kept = out.get(key)
        if kept is None:
            out[key] = dict(edge)
        elif edge["relation"] == Relation.CO_OCCURS.value:
            kept["weight"] += edge["weight"]
            kept["evidence"] = {"count": int(kept["weight"])}
        elif edge["weight"] > kept["weight"]:
            out[key] = dict(edge)
    return [*out.values(), *users]


async def merge_concepts(
    *, uow: UnitOfWork, actor: Actor, ids: Sequence[uuid.UUID]
) -> ConceptRecord:
    """Merge concepts into the first of ``ids`` (the owner only: a merge rewrites
    edges in streams collaborators may not see).

    The others keep their rows with ``merged_into`` set (so later analyses
    resolve their names to the survivor); their names become the survivor's
    aliases; every current edge touching them is superseded and re-added on
    the survivor (AI duplicates combined, self-loops dropped).
    """
    wanted = list(dict.fromkeys(ids))
    if not 2 <= len(wanted) <= MAX_MERGE:
        raise BadInput(f"Merge between 2 and {MAX_MERGE} distinct concepts", field="ids")
    refs = [NodeRef(NodeType.CONCEPT.value, i) for i in wanted]
    owner = await _require_editable(uow, actor, refs, "merge concepts")
    if owner != actor.user_id:
        raise Forbidden("Only the owner may merge concepts")
    await repository.lock_owner_graph(uow, owner)
    # Analyses lock the concept nodes they touch; so does a merge, in the same order.
    await repository.lock_graph_keys(uow, owner, [concept_lock(i) for i in wanted])
    found = {r.id: r for r in await sql.concepts_for_update(uow, wanted)}
    rows = [found[i] for i in wanted if i in found]
    if len(rows) != len(wanted):
        raise NotFound("Concept not found", field="ids")
    if any(r.merged_into is not None for r in rows):
        raise Conflict("A concept was already merged", field="ids")
    if len({r.kind for r in rows}) != 1:
        raise BadInput("Only concepts of one kind can be merged", field="ids")
    survivor, absorbed = wanted[0], set(wanted[1:])
    aliases, norm = _merged_names(rows)
    await sql.absorb_concepts(uow, survivor, sorted(absorbed), aliases, norm)

    at = utcnow()
    moved = await sql.current_edges_touching(uow, sorted(absorbed))
    copies = _repointed(moved, survivor, absorbed)
    keys = sorted({(e["from_id"], e["to_id"], e["relation"]) for e in copies})
    colliding = await sql.current_ai_edges(uow, owner, keys)
    await sql.supersede(uow, [r.id for r in [*moved, *colliding]], at)
    existing = _repointed(colliding, survivor, absorbed)
    await sql.insert_edges(uow, owner, _combine([*existing, *copies]), at)

    await audit.record(
        uow=uow,
        owner_id=owner,
        action="graph.merge_concepts",
        target_type="Concept",
        target_id=str(survivor),
        details={"absorbed": [str(i) for i in wanted[1:]], "edgesRepointed": len(moved)},
    )
    await _event(
        uow,
        owner,
        refs[0],
        [],
        {
            "change": "MERGED",
            "mergedConcepts": [str(i) for i in wanted[1:]],
            "edgesRepointed": len(moved),
        },
    )
    [row] = await repository.concepts_get_many(uow, [survivor])
    return ConceptRecord(
        id=row.id,
        owner_id=row.owner_id,
        kind=row.kind,
        name=row.name,
        aliases=tuple(row.aliases),
        merged_into=row.merged_into,
        created_at=row.created_at,
    )
