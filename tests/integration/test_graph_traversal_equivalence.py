"""The one-statement neighbourhood walks the graph exactly like the hop-by-hop rule.

``traversal.neighbors`` runs the whole walk in one SQL statement (issue 5's
latency work). Its specification is the sequential rule it replaced, kept
here as the reference: per hop, fetch the ``per_node`` strongest edges of
each frontier node (``hop_edges``), check the new far ends' visibility
(``visible_nodes``), then walk the candidates strongest first, taking a far
end when it is new, visible and the budget allows, and keeping an edge when
its far end is in the subgraph.

Both run on a small graph from the benchmark's generator (hubs, a long
tail, superseded history rows), read by its owner and by a viewer of half
of its streams (so hidden nodes sit in the middle of the walk), over every
direction, several depths, budgets, relation filters and an ``asOf``.
Nodes, edges and their order must be identical.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from bench.graph_data import Counts, Generator, Shape, load, provision
from lifeos_gql.app import create_app
from lifeos_gql.core.actor import Actor
from lifeos_gql.domains.graph import traversal
from lifeos_gql.domains.graph import traversal_repository as sql
from lifeos_gql.domains.graph.models import EdgeRecord
from lifeos_gql.domains.graph.traversal import Direction, NodeRef
from lifeos_gql.domains.users import service as users

SHAPE = Shape(seed=11, streams=6, captures=500, concepts=60, insights=60, edges=6000, embedded=10)


def _edge(row: Any) -> EdgeRecord:
    return EdgeRecord(**{k: v for k, v in row._mapping.items() if k in EdgeRecord.__slots__})


async def reference_neighbors(
    uow: Any,
    streams: list[uuid.UUID],
    start: NodeRef,
    *,
    depth: int,
    relations: list[str] | None,
    direction: Direction,
    first: int,
    as_of: datetime | None,
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The sequential rule (the pre-issue-5 implementation), node ids and edge ids in order."""
    if start.id not in await sql.visible_nodes(uow, [(start.type, start.id)], streams):
        return [], []
    seen: dict[uuid.UUID, NodeRef] = {start.id: start}
    edges: dict[uuid.UUID, None] = {}
    frontier = [start.id]
    for _ in range(depth):
        budget = first - len(seen)
        if budget <= 0 or not frontier:
            break
        per_node = max(traversal.MIN_PER_NODE, math.ceil(2 * budget / len(frontier)))
        rows = await sql.hop_edges(
            uow,
            frontier,
            direction=direction,
            relations=relations,
            as_of=as_of,
            per_node=per_node,
            limit=4 * budget + len(frontier),
        )

        def ends(row: Any) -> tuple[NodeRef, NodeRef]:
            return NodeRef(row.from_type, row.from_id), NodeRef(row.to_type, row.to_id)

        new = {end for row in rows for end in ends(row) if end.id not in seen}
        visible = await sql.visible_nodes(uow, [(n.type, n.id) for n in new], streams)
        frontier = []
        for row in rows:
            others = [end for end in ends(row) if end.id not in seen]
            if others:
                other = others[0]
                if other.id not in visible or len(seen) >= first:
                    continue
                seen[other.id] = other
                frontier.append(other.id)
            edges.setdefault(row.id, None)
    return list(seen), list(edges)


@pytest.fixture
async def graph(settings: Any) -> dict[str, Any]:
    owner, key, db_url = await provision(settings)
    gen = Generator(SHAPE, owner)
    load(gen, key, db_url, Counts())
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        async with runtime.system_db.transaction() as uow:
            viewer, _ = await users.provision_user(
                uow=uow, subject="test|viewer", email="viewer@example.com", name="Viewer"
            )
            shared = gen.stream_ids[::2]
            await uow.execute(
                text(
                    "INSERT INTO grants (owner_id, stream_id, grantee_id, role)"
                    " SELECT :o, s, :v, 'VIEWER' FROM unnest(CAST(:s AS uuid[])) AS s"
                ),
                {"o": owner, "v": viewer.id, "s": shared},
            )
            middle = (
                await uow.execute(
                    text(
                        "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY recorded_at)"
                        " FROM edges WHERE superseded_at IS NOT NULL"
                    )
                )
            ).scalar_one()
        yield {
            "runtime": runtime,
            "owner": owner,
            "viewer": viewer.id,
            "gen": gen,
            "as_of": middle,
        }


CASES = [
    # depth, first, direction, relations, as_of
    (1, 50, Direction.BOTH, None, False),
    (2, 200, Direction.BOTH, None, False),
    (3, 200, Direction.BOTH, None, False),
    (2, 7, Direction.BOTH, None, False),
    (2, 40, Direction.OUT, None, False),
    (2, 40, Direction.IN, None, False),
    (3, 30, Direction.BOTH, ["MENTIONS", "CO_OCCURS"], False),
    (2, 100, Direction.BOTH, ["RELATED_TO"], False),
    (2, 100, Direction.BOTH, None, True),
    (3, 25, Direction.IN, ["DERIVED_FROM", "MENTIONS"], True),
]


async def test_one_statement_walk_equals_the_sequential_rule(graph: dict[str, Any]) -> None:
    runtime, gen = graph["runtime"], graph["gen"]
    starts = (
        [NodeRef("capture", c) for c in gen.capture_ids[::61]]
        + [NodeRef("concept", c) for c in gen.concept_ids[::9]]
        + [NodeRef("insight", i) for i in gen.insight_ids[::15]]
    )
    compared = nonempty = hidden_starts = 0
    for reader in (graph["owner"], graph["viewer"]):
        actor = Actor(user_id=reader, via="dev-jwt")
        async with runtime.db.transaction(reader) as uow:
            streams = await traversal.readable_streams(uow=uow, actor=actor)
            for depth, first, direction, relations, at in CASES:
                as_of = graph["as_of"] if at else None
                for start in starts:
                    want = await reference_neighbors(
                        uow,
                        streams,
                        start,
                        depth=depth,
                        relations=relations,
                        direction=direction,
                        first=first,
                        as_of=as_of,
                    )
                    for records in (False, True):
                        got = await traversal.neighbors(
                            uow=uow,
                            actor=actor,
                            crypto=runtime.capture_crypto,
                            start=start,
                            depth=depth,
                            relations=relations,
                            direction=direction,
                            first=first,
                            as_of=as_of,
                            records=records,
                        )
                        ids = ([n.id for n in got.nodes], [e.id for e in got.edges])
                        case = (reader, start, depth, first, direction, relations, at, records)
                        assert ids == want, case
                    compared += 1
                    nonempty += len(want[0]) > 1
                    hidden_starts += not want[0]
    # The comparison covered real walks, and the viewer met hidden starts.
    assert compared == 2 * len(CASES) * len(starts)
    assert nonempty > compared // 2, (nonempty, compared)
    assert hidden_starts > 0
