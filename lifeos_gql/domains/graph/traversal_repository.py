"""SQL of graph traversal: one bounded statement per hop, visibility in one statement.

Every statement here is bounded by its arguments, never by the size of the
graph: a hop reads at most ``per_node`` index entries per frontier node
(``edges_*_weight_idx``, strongest first), so a hub with 50,000 edges costs
no more than a leaf.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import text

from lifeos_gql.db.uow import UnitOfWork

_COLS = (
    "id, owner_id, from_type, from_id, to_type, to_id, relation, weight, evidence, producer,"
    " valid_from, valid_to, recorded_at, superseded_at"
)
# System time: the current graph, or the graph as it was recorded at :as_of.
_CURRENT = "e.superseded_at IS NULL"
_AS_OF = "e.recorded_at <= :as_of AND (e.superseded_at IS NULL OR e.superseded_at > :as_of)"
_RELATIONS = "(CAST(:rels AS text[]) IS NULL OR e.relation = ANY(CAST(:rels AS text[])))"


class Direction(StrEnum):
    OUT = "OUT"
    IN = "IN"
    BOTH = "BOTH"


def _time(as_of: datetime | None) -> str:
    return _AS_OF if as_of is not None else _CURRENT


def _side(end: str, as_of: datetime | None) -> str:
    """Top edges of one frontier node on one side (``end`` = from_id | to_id)."""
    return f"""
        SELECT {_COLS} FROM edges e
        WHERE e.{end} = f.node AND {_time(as_of)} AND {_RELATIONS}
        ORDER BY e.weight DESC, e.id LIMIT :per_node
    """


async def hop_edges(
    uow: UnitOfWork,
    frontier: Sequence[uuid.UUID],
    *,
    direction: Direction,
    relations: Sequence[str] | None,
    as_of: datetime | None,
    per_node: int,
    limit: int,
) -> list[Any]:
    """Edges leaving ``frontier`` in ``direction``: at most ``per_node`` per node
    (strongest first) and ``limit`` in all, strongest first."""
    if not frontier:
        return []
    sides = {
        Direction.OUT: [_side("from_id", as_of)],
        Direction.IN: [_side("to_id", as_of)],
        Direction.BOTH: [_side("from_id", as_of), _side("to_id", as_of)],
    }[direction]
    inner = " UNION ALL ".join(f"({s})" for s in sides)
    rows = await uow.execute(
        text(
            f"""
            SELECT x.* FROM unnest(CAST(:frontier AS uuid[])) AS f(node)
            CROSS JOIN LATERAL ({inner}) AS x
            ORDER BY x.weight DESC, x.id LIMIT :limit
            """
        ),
        {
            "frontier": list(frontier),
            "rels": list(relations) if relations else None,
            "as_of": as_of,
            "per_node": per_node,
            "limit": limit,
        },
    )
    return list(rows)


# ---- neighbourhood: the whole walk in one statement -------------------------------
#
# ``lifeos_neighborhood`` (migration 0014, PL/pgSQL so that its plan is
# cached per connection) runs the hop-by-hop expansion of
# ``traversal.neighbors`` in Postgres, every hop and visibility check of it,
# so a 2-hop neighbourhood is one round trip and Python never sees the
# candidate edges that do not make it into the answer. Per hop k, with
# s{k-1} the nodes seen so far and the frontier the nodes hop k-1 added:
#
# * budget = first - |seen|, per_node = max(MIN_PER_NODE, ceil(2 budget /
#   |frontier|)), limit = 4 budget + |frontier|;
# * the candidates: ``per_node`` strongest edges per frontier node and side,
#   ``limit`` strongest in all, numbered strongest first, each with its far end;
# * added: the first ``budget`` distinct far ends not yet seen that are
#   visible, by first appearance (visibility probed lazily in that order);
# * kept: the candidate edges whose far end is seen after the hop.
#
# This is exactly the sequential rule "walk the candidates strongest first;
# take a far end when it is new, visible and the budget allows; keep an edge
# when its far end is (then) in the subgraph": a far end added by the hop is
# added at its first appearance, so every candidate edge reaching it comes
# at or after that point. tests/integration/test_graph_traversal_equivalence.py
# checks the function against that rule written hop by hop with
# :func:`hop_edges` and :func:`visible_nodes`.

_NEIGHBORHOOD = text(
    """
    SELECT * FROM lifeos_neighborhood(
        CAST(:start_type AS text), CAST(:start_id AS uuid), CAST(:streams AS uuid[]),
        :depth, :out, :in, CAST(:rels AS text[]), CAST(:as_of AS timestamptz),
        :first, :min_per_node)
    """
)


async def neighborhood(
    uow: UnitOfWork,
    start: tuple[str, uuid.UUID],
    streams: Sequence[uuid.UUID],
    *,
    depth: int,
    direction: Direction,
    relations: Sequence[str] | None,
    as_of: datetime | None,
    first: int,
    min_per_node: int,
) -> list[Any]:
    """The visible neighbourhood of ``start`` (see the comment above) in one statement.

    Rows ordered by (hop, pos): ``kind`` 'node' rows (node_type, node_id;
    the start first, then each hop's additions in order) and 'edge' rows
    (the edge columns, ``evidence`` as JSON text; each edge once, where the
    walk first kept it). No rows when the start is missing or not visible.
    """
    if not streams:
        return []
    rows = await uow.execute(
        _NEIGHBORHOOD,
        {
            "start_type": start[0],
            "start_id": start[1],
            "streams": list(streams),
            "depth": depth,
            "out": direction is not Direction.IN,
            "in": direction is not Direction.OUT,
            "rels": list(relations) if relations else None,
            "as_of": as_of,
            "first": first,
            "min_per_node": min_per_node,
        },
    )
    return list(rows)


async def connecting_edge(
    uow: UnitOfWork,
    left: Sequence[uuid.UUID],
    right: Sequence[uuid.UUID],
    *,
    relations: Sequence[str] | None,
    as_of: datetime | None,
) -> Any | None:
    """The strongest edge (either direction) with one end in ``left`` and the other in
    ``right``, or None. Finds links that a per-node fan-out cap would skip."""
    if not left or not right:
        return None
    rows = await uow.execute(
        text(
            f"""
            SELECT {_COLS} FROM edges e
            WHERE {_time(as_of)} AND {_RELATIONS}
              AND ((e.from_id = ANY(CAST(:l AS uuid[])) AND e.to_id = ANY(CAST(:r AS uuid[])))
                OR (e.from_id = ANY(CAST(:r AS uuid[])) AND e.to_id = ANY(CAST(:l AS uuid[]))))
            ORDER BY e.weight DESC, e.id LIMIT 1
            """
        ),
        {
            "l": list(left),
            "r": list(right),
            "rels": list(relations) if relations else None,
            "as_of": as_of,
        },
    )
    return rows.first()


async def visible_nodes(
    uow: UnitOfWork, nodes: Sequence[tuple[str, uuid.UUID]], streams: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Node ids readable through ``streams`` (the reader's readable streams).

    Same rule as the graph service: a capture by its stream, a concept through
    any current mention from a readable capture, an insight when every
    lineage capture is readable. "Every" is written as "no lineage capture
    that is not found in a readable stream": under row-level security a
    capture of a stream the reader cannot see is absent from ``captures``
    altogether, so a join would silently drop it and pass the insight. ``EXISTS`` stops at the first readable
    mention, so a hub concept costs one index probe for its owner.
    """
    if not nodes or not streams:
        return set()
    rows = await uow.execute(
        text(
            """
            SELECT n.id FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[])) AS n(id, type)
            WHERE (n.type = 'capture' AND EXISTS (
                      SELECT 1 FROM captures c
                      WHERE c.id = n.id AND c.stream_id = ANY(CAST(:streams AS uuid[]))))
               OR (n.type = 'concept' AND EXISTS (
                      SELECT 1 FROM edges e JOIN captures c ON c.id = e.from_id
                      WHERE e.to_id = n.id AND e.relation = 'MENTIONS'
                        AND e.superseded_at IS NULL
                        AND c.stream_id = ANY(CAST(:streams AS uuid[]))))
               OR (n.type = 'insight'
                   AND EXISTS (SELECT 1 FROM insight_sources s WHERE s.insight_id = n.id)
                   AND NOT EXISTS (
                      SELECT 1 FROM insight_sources s
                      WHERE s.insight_id = n.id AND NOT EXISTS (
                          SELECT 1 FROM captures c
                          WHERE c.id = s.capture_id
                            AND c.stream_id = ANY(CAST(:streams AS uuid[])))))
            """
        ),
        {
            "ids": [n[1] for n in nodes],
            "types": [n[0] for n in nodes],
            "streams": list(streams),
        },
    )
    return {r[0] for r in rows}


async def concepts_by_names(
    uow: UnitOfWork, keys: Sequence[str], user_id: uuid.UUID, limit: int
) -> list[Any]:
    """Live concepts whose normalised name or alias is one of ``keys``; the
    user's own first, exact names before aliases."""
    rows = await uow.execute(
        text(
            """
            SELECT c.id FROM concepts c
            WHERE c.merged_into IS NULL
              AND (c.normalized_name = ANY(CAST(:keys AS text[]))
                   OR c.normalized_aliases && CAST(:keys AS text[]))
            ORDER BY (c.owner_id = :user) DESC, (c.normalized_name = ANY(CAST(:keys AS text[])))
                     DESC, c.created_at, c.id
            LIMIT :limit
            """
        ),
        {"keys": list(keys), "user": user_id, "limit": limit},
    )
    return [r[0] for r in rows]
