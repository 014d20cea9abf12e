"""The analysis job's way of building the graph: concepts resolved for a whole
batch at once, then the batch written in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from lifeos_gql.db.engine import count_statements
from lifeos_gql.domains.graph import editing
from lifeos_gql.domains.graph import service as graph
from lifeos_gql.domains.graph.building import CaptureAnalysis
from lifeos_gql.domains.graph.concepts import ResolvedConcept
from lifeos_gql.infra.llm.types import AnalysisResult
from tests.conftest import make_settings
from tests.integration.test_graph_building import (
    World,
    apply,
    concept,
    current_edges,
    open_world,
    result,
    rows,
)


@pytest.fixture
async def w(db_url: str, data_dir: Path) -> AsyncIterator[World]:
    settings = make_settings(database_url=db_url, lifeos_data_dir=data_dir)
    async with open_world(settings, captures=4) as world:
        yield world


async def resolve(w: World, results: Sequence[AnalysisResult]) -> list[list[ResolvedConcept]]:
    assert w.owner.user_id is not None
    async with w.rt.db.transaction(w.owner.user_id) as uow:
        return await graph.resolve_batch_concepts(
            uow=uow, owner_id=w.owner.user_id, results=results
        )


async def write(
    w: World,
    results: Sequence[AnalysisResult],
    resolved: Sequence[Sequence[ResolvedConcept] | None] | None = None,
) -> dict[uuid.UUID, graph.GraphChange]:
    """Write ``results`` (in ``w.captures`` order by ref) in one transaction."""
    assert w.owner.user_id is not None
    by_id = {c.id: c for c in w.captures}
    concepts = resolved or [None] * len(results)
    async with w.rt.db.transaction(w.owner.user_id) as uow:
        written = await graph.apply_analyses(
            uow=uow,
            owner_id=w.owner.user_id,
            analyses=[
                CaptureAnalysis(by_id[uuid.UUID(r.ref)], r, (), c)
                for r, c in zip(results, concepts, strict=True)
            ],
            crypto=w.rt.capture_crypto,
        )
        await graph.settle_analyses(uow=uow, written=written)
    return written.changes


async def test_known_names_resolve_without_locks_and_new_names_are_kept(w: World) -> None:
    c1, c2, c3, _ = w.captures
    await apply(w, c1, result(c1, concept("Jane Smith"), concept("Kyoto", "place")))
    [jane] = await rows(w, "SELECT id FROM concepts WHERE kind = 'person'")

    with count_statements() as statements:
        known = await resolve(w, [result(c2, concept("Jane Smith"), concept("kyoto", "place"))])
    assert not [s for s in statements if "advisory" in s]
    assert jane.id in {r.id for r in known[0]} and not any(r.created for r in known[0])

    # A new spelling of a known node renames it: that takes the locks, and is kept.
    with count_statements() as statements:
        found = await resolve(
            w,
            [
                result(c2, concept("Jane Smith", aliases=["Janie"])),
                result(c3, concept("Dr. Jane Smith"), concept("Osaka", "place")),
            ],
        )
    assert [s for s in statements if "advisory" in s]
    assert [r.id for r in found[0]] == [jane.id]
    assert jane.id in {r.id for r in found[1]}
    assert [r.created for r in found[1] if r.id != jane.id] == [True]  # Osaka
    [person] = await rows(w, "SELECT aliases FROM concepts WHERE kind = 'person'")
    assert set(person.aliases) == {"Janie", "Dr. Jane Smith"}


async def test_a_batch_links_its_own_captures_and_counts_each_pair_once_per_capture(
    w: World,
) -> None:
    c1, c2, c3, _ = w.captures
    names = [concept("Jane Smith"), concept("Acme", "organisation"), concept("Kestrel", "topic")]
    first = [result(c, *names) for c in (c2, c3, c1)]  # batch order is not time order
    await write(w, first, await resolve(w, first))

    related = await current_edges(w, "RELATED_TO")
    # Each link made once, by the later capture, though all came in one batch.
    assert sorted((r.from_id, r.to_id) for r in related) == sorted(
        [(c2.id, c1.id), (c3.id, c1.id), (c3.id, c2.id)]
    )
    assert all(len(r.evidence["sharedConcepts"]) == 3 for r in related)
    co = await current_edges(w, "CO_OCCURS")
    assert sorted((r.weight, r.evidence["count"]) for r in co) == [(3.0, 3)] * 3

    # Re-analysis: two captures no longer mention Acme, in one batch.
    second = [result(c, names[0], names[2]) for c in (c1, c2)]
    changes = await write(w, second, await resolve(w, second))
    assert all(ch.edges_superseded["MENTIONS"] == 1 for ch in changes.values())
    co = await current_edges(w, "CO_OCCURS")
    assert sorted(r.weight for r in co) == [1.0, 1.0, 3.0]
    # The last one too: the pairs with Acme reach 0 and end (kept as history).
    changes = await write(w, [result(c3, names[0], names[2])])
    assert changes[c3.id].edges_superseded["CO_OCCURS"] == 2
    co = await current_edges(w, "CO_OCCURS")
    assert [r.weight for r in co] == [3.0]
    ended = await rows(
        w, "SELECT weight FROM edges WHERE relation = 'CO_OCCURS' AND superseded_at IS NOT NULL"
    )
    assert sorted(r.weight for r in ended) == [0.0, 0.0]


async def test_a_batch_costs_few_statements_more_than_one_capture(w: World) -> None:
    c1, c2, c3, c4 = w.captures
    names = [concept("Jane Smith"), concept("Acme", "organisation")]

    async def statements(captures: Sequence[object]) -> int:
        results = [result(c, *names, insights_=["An insight."]) for c in captures]  # type: ignore[arg-type]
        resolved = await resolve(w, results)
        with count_statements() as log:
            await write(w, results, resolved)
        return len(log)

    one = await statements([c1])
    three = await statements([c2, c3, c4])
    # Each further capture adds only its insights' few statements: the graph's
    # statements are shared by the batch (13 for one capture, 20 for three, when written).
    assert three <= one + 2 * 4, (one, three)


async def test_a_node_merged_after_resolution_is_resolved_again_by_the_write(w: World) -> None:
    c1, c2, c3, _ = w.captures
    await apply(w, c1, result(c1, concept("Jane Smith")))
    await apply(w, c2, result(c2, concept("Jane Smyth")))
    ids = {r.name: r.id for r in await rows(w, "SELECT id, name FROM concepts")}

    late = [result(c3, concept("Jane Smyth"), concept("Kyoto", "place"))]
    resolved = await resolve(w, late)
    assert ids["Jane Smyth"] in {r.id for r in resolved[0]}
    async with w.rt.db.transaction(w.owner.user_id) as uow:
        await editing.merge_concepts(
            uow=uow, actor=w.owner, ids=[ids["Jane Smith"], ids["Jane Smyth"]]
        )
    await write(w, late, resolved)

    mentions = await rows(
        w,
        "SELECT to_id FROM edges WHERE relation = 'MENTIONS' AND superseded_at IS NULL"
        " AND from_id = :c",
        c=c3.id,
    )
    to = {m.to_id for m in mentions}
    assert ids["Jane Smith"] in to and ids["Jane Smyth"] not in to
    dangling = await rows(
        w,
        "SELECT 1 FROM edges WHERE superseded_at IS NULL AND (from_id = :m OR to_id = :m)",
        m=ids["Jane Smyth"],
    )
    assert dangling == []
